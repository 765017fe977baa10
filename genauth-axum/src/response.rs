//! Small response builders shared by the layers and routes.

use axum::response::{IntoResponse, Response};
use genauth::bearer::BearerError;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use std::fmt::Display;

/// The status for a numeric code from the core; 500 for a code `http` does not accept.
pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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

/// A `302 Found` to `location`, with cookies, never cached.
pub(crate) fn redirect<C: Display>(location: &str, cookies: &[C]) -> Response {
    let Ok(location) = HeaderValue::try_from(location) else {
        tracing::error!("redirect target is not a valid header value");
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "invalid redirect target\n".into(),
        );
    };
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, location);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    append_set_cookies(headers, cookies);
    response
}

/// A plain-text response, never cached or sniffed as HTML.
pub(crate) fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The default RFC 6750 error response: status, `WWW-Authenticate` challenge (none for 503), JSON body
/// `{"error", "error_description"}`.
pub(crate) fn bearer_error(error: &BearerError, realm: &str) -> Response {
    let mut response = (status(error.status_code()), axum::Json(error.json_body())).into_response();
    if let Some(challenge) = error.www_authenticate(realm) {
        match HeaderValue::try_from(challenge) {
            Ok(value) => {
                response.headers_mut().insert(WWW_AUTHENTICATE, value);
            }
            Err(_) => tracing::error!("bearer challenge is not a valid header value"),
        }
    }
    if error.status_code() == 503 {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}
