//! Turns the core's framework-neutral answers ([`Reply`]) into axum responses.

use axum::body::Body;
use axum::response::Response;
use genauth::session::Reply;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::fmt::Display;

/// The status for a numeric code from the core; 500 for a code `http` does not accept.
pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The response the core decided on. A header `http` refuses is dropped (and logged), never a panic.
pub(crate) fn reply(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = status(reply.status);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => tracing::error!(header = name, "a header could not be encoded; dropped"),
        }
    }
    response
}

/// Adds one `Set-Cookie` per cookie to a response.
pub(crate) fn add_cookies<C: Display>(response: &mut Response, cookies: &[C]) {
    append_set_cookies(response.headers_mut(), cookies);
}

/// Appends one `Set-Cookie` per cookie (a cookie's `Display` is its `Set-Cookie` value).
pub(crate) fn append_set_cookies<C: Display>(headers: &mut HeaderMap, cookies: &[C]) {
    for cookie in cookies {
        match HeaderValue::try_from(cookie.to_string()) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
            }
            Err(_) => tracing::error!("a cookie could not be encoded as a header value; dropped"),
        }
    }
}

/// The answer of a response future polled again after it completed (a caller bug): 500, no panic.
pub(crate) fn polled_after_completion() -> Response {
    reply(Reply::text(
        500,
        "response future polled after completion\n",
    ))
}
