//! The adapter's two conversions: an axum request head into the core's
//! [`RequestHead`](genauth::web::RequestHead), and the core's answers ([`Reply`]) into axum
//! responses ([`Axum`], the [`Framework`] marker).

use axum::body::Body;
use axum::extract::OriginalUri;
use axum::response::Response;
use genauth::adapter::Framework;
use genauth::cookie::Cookie;
use genauth::web::{Reply, RequestHead};
use http::header::{CACHE_CONTROL, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use std::fmt::Display;

/// axum, as the core's adapter seam names it.
#[derive(Debug)]
pub(crate) struct Axum;

impl Framework for Axum {
    type Response = Response;

    fn response(reply: Reply) -> Response {
        self::reply(reply)
    }

    fn add_cookies(response: &mut Response, cookies: &[Cookie<'_>]) {
        append_set_cookies(response.headers_mut(), cookies);
    }
}

/// The request's head for the core: its method, the original path and query (the full path under
/// `nest`), every header.
pub(crate) fn request_head<B>(request: &Request<B>) -> RequestHead {
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri(), |original| &original.0);
    RequestHead::new(
        request.method().as_str(),
        uri.path_and_query().map_or("/", |pq| pq.as_str()),
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    )
}

/// The status for a numeric code from the core; 500 for a code `http` does not accept.
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The response the core decided on. A header `http` refuses is dropped (and logged), never a panic.
pub(crate) fn reply(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = status(reply.status);
    let headers = response.headers_mut();
    headers.reserve(reply.headers.len());
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

/// Appends one `Set-Cookie` per cookie (a cookie's `Display` is its `Set-Cookie` value). A response
/// setting session cookies is never cached: `Cache-Control` becomes
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
