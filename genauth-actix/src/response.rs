//! The adapter's two conversions: an actix-web request head into the core's
//! [`RequestHead`](genauth::web::RequestHead), and the core's answers ([`Reply`]) into actix-web
//! responses ([`Actix`], the [`Framework`] marker).

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderMap, HeaderName, HeaderValue, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse};
use genauth::adapter::Framework;
use genauth::cookie::Cookie;
use genauth::web::{Reply, RequestHead};
use std::fmt::Display;

/// actix-web, as the core's adapter seam names it.
#[derive(Debug)]
pub(crate) struct Actix;

impl Framework for Actix {
    type Response = HttpResponse;

    fn response(reply: Reply) -> HttpResponse {
        self::reply(reply)
    }

    fn add_cookies(response: &mut HttpResponse, cookies: &[Cookie<'_>]) {
        append_set_cookies(response.headers_mut(), cookies);
    }
}

/// The request's head for the core: its method, path and query (the full path, also inside a
/// `Scope`), every header.
pub(crate) fn request_head(request: &HttpRequest) -> RequestHead {
    RequestHead::new(
        request.method().as_str(),
        request.uri().path_and_query().map_or("/", |pq| pq.as_str()),
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    )
}

/// The status for a numeric code from the core; 500 for a code actix-web does not accept.
fn status(code: u16) -> StatusCode {
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

/// Appends one `Set-Cookie` per cookie: the core's cookies are `cookie` 0.18 values, actix-web's own
/// jar is `cookie` 0.16, so they travel as header text (a cookie's `Display` is its `Set-Cookie`
/// value). A response setting session cookies is never cached: `Cache-Control` becomes
/// [`SESSION_CACHE_CONTROL`](genauth::adapter::SESSION_CACHE_CONTROL).
pub(crate) fn append_set_cookies<C: Display>(headers: &mut HeaderMap, cookies: &[C]) {
    if !cookies.is_empty() {
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static(genauth::adapter::SESSION_CACHE_CONTROL),
        );
    }
    for cookie in cookies {
        match HeaderValue::try_from(cookie.to_string()) {
            Ok(value) => headers.append(SET_COOKIE, value),
            Err(_) => tracing::error!("a cookie could not be encoded as a header value; dropped"),
        }
    }
}
