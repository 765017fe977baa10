//! Turns the core's framework-neutral answers ([`Reply`]) into actix-web responses.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, SET_COOKIE};
use genauth::session::Reply;
use std::fmt::Display;

/// The status for a numeric code from the core; 500 for a code actix-web does not accept.
pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The response the core decided on. A header actix-web refuses is dropped (and logged), never a
/// panic or a builder error.
pub(crate) fn reply(reply: Reply) -> HttpResponse {
    let mut response = HttpResponse::with_body(status(reply.status), reply.body);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(HeaderValue::try_from(value).ok());
        match header {
            Some((name, value)) => headers.append(name, value),
            None => tracing::error!(header = name, "a header could not be encoded; dropped"),
        }
    }
    response.map_into_boxed_body()
}

/// Adds one `Set-Cookie` per cookie to a response.
pub(crate) fn add_cookies<C: Display>(response: &mut HttpResponse, cookies: &[C]) {
    append_set_cookies(response.headers_mut(), cookies);
}

/// Appends one `Set-Cookie` per cookie: the core's cookies are `cookie` 0.18 values, actix-web's own
/// jar is `cookie` 0.16, so they travel as header text (a cookie's `Display` is its `Set-Cookie`
/// value).
pub(crate) fn append_set_cookies<C: Display>(headers: &mut HeaderMap, cookies: &[C]) {
    for cookie in cookies {
        match HeaderValue::try_from(cookie.to_string()) {
            Ok(value) => headers.append(SET_COOKIE, value),
            Err(_) => tracing::error!("a cookie could not be encoded as a header value; dropped"),
        }
    }
}
