//! Where browsers go: the post-login redirect target ([`safe_return_to`]) and the answer of a
//! login-required route to a request without a session ([`login_required`]).

use crate::web::{Reply, RequestHead};

/// Longest return-to path kept, in bytes; longer ones fall back to `/`.
pub const MAX_RETURN_TO_LEN: usize = 2048;

/// The post-login redirect target if it is safe: a path on this origin. Accepts a string starting
/// with a single `/`, not `//` or `/\` (which browsers read as another host), with no scheme, no `\`
/// anywhere and no control characters (browsers strip tabs and newlines, turning `/\t/evil` into
/// `//evil`), at most [`MAX_RETURN_TO_LEN`] bytes. Spaces and non-ASCII characters are
/// percent-encoded so the result is a valid `Location`. `None` otherwise: use `/`.
pub fn safe_return_to(target: &str) -> Option<String> {
    if target.len() > MAX_RETURN_TO_LEN || !target.starts_with('/') {
        return None;
    }
    if target.starts_with("//") || target.contains('\\') || target.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(target.len());
    for c in target.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    Some(out)
}

/// The login URL that returns to `return_to` afterwards: `{login_path}?return_to=<encoded>`. Used by
/// login-required middleware to send a browser without session to sign in.
pub fn login_redirect(login_path: &str, return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let separator = if login_path.contains('?') { '&' } else { '?' };
    format!("{login_path}{separator}return_to={encoded}")
}

/// What a login-required route answers a request without a session: a browser
/// ([`wants_login_redirect`]) gets a 302 to [`login_redirect`]`(login_path, target)`, where the
/// target is the request's path and query; an API client a 401 text.
pub fn login_required(request: &RequestHead, login_path: &str) -> Reply {
    let browser = wants_login_redirect(
        request.method(),
        request.header("accept"),
        request.has_header("authorization"),
    );
    if browser {
        Reply::redirect(login_redirect(login_path, request.target()))
    } else {
        Reply::text(401, "sign-in required\n")
    }
}

/// Whether a request without session should be redirected to sign in (a browser) rather than answered
/// 401 (an API client): `Accept` names `text/html`, or it is a `GET`/`HEAD` without `Authorization`
/// whose `Accept` does not ask for JSON.
pub fn wants_login_redirect(method: &str, accept: Option<&str>, has_authorization: bool) -> bool {
    let accept = accept.unwrap_or("").to_ascii_lowercase();
    if accept.contains("text/html") {
        return true;
    }
    matches!(method, "GET" | "HEAD") && !has_authorization && !accept.contains("json")
}
