//! [`Reply`] and [`Redirect`]: the core's answers, with `Debug` that never prints a credential.

use cookie::Cookie;
use std::fmt;

/// The `Cache-Control` of every response that sets session cookies (a refreshed or removed
/// session, a sign-in, a logout): no cache may store one user's session cookie and serve it to
/// another (RFC 9111 §5.2.2.5). [`Reply::with_cookies`] sets it; an adapter's
/// [`Framework::add_cookies`](crate::adapter::Framework::add_cookies) must too.
pub const SESSION_CACHE_CONTROL: &str = "no-store";

/// Where to send the browser and which cookies to set: the result of
/// [`SessionManager::begin_login`](crate::session::SessionManager::begin_login), [`complete_login`](crate::session::SessionManager::complete_login) and
/// [`logout`](crate::session::SessionManager::logout). `Debug` shows the cookies' names, not their values (a sealed
/// session is a credential), and the location without its query (login `state`, `nonce`, PKCE
/// challenge, CAS login binding).
pub struct Redirect {
    /// The `Location` of the 302 response.
    pub location: String,
    /// Cookies to set (`Set-Cookie`), removals included.
    pub set_cookies: Vec<Cookie<'static>>,
}

impl fmt::Debug for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redirect")
            .field("location", &WithoutQuery(&self.location))
            .field("set_cookies", &CookieNames(&self.set_cookies))
            .finish()
    }
}

/// `Debug` of a URL or `Location` without its query and fragment, which may carry `state`, `nonce`,
/// a PKCE challenge or a CAS login binding (as [`AuthorizationRequest`](crate::AuthorizationRequest)'s
/// `Debug` does).
struct WithoutQuery<'a>(&'a str);

impl fmt::Debug for WithoutQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once(['?', '#']) {
            Some((base, _)) => write!(f, "{base:?}?[redacted]"),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// `Debug` of cookies to set: their names only.
pub(crate) struct CookieNames<'a>(pub(crate) &'a [Cookie<'static>]);

impl fmt::Debug for CookieNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(Cookie::name))
            .finish()
    }
}

/// A framework-neutral HTTP response: what the core decided to answer (a redirect, an error page,
/// an RFC 6750 challenge), for an adapter to turn into its framework's response as it is. `Debug`
/// hides `Set-Cookie` values (a sealed session is a credential) and the query of `Location` (login
/// `state`, `nonce`, PKCE challenge).
#[derive(Clone, PartialEq, Eq)]
#[must_use]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order; `set-cookie` may repeat.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value: Box<dyn fmt::Debug + '_> = match *name {
                    "set-cookie" => Box::new("[redacted]"),
                    "location" => Box::new(WithoutQuery(value)),
                    _ => Box::new(value),
                };
                (*name, value)
            })
            .collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

impl Reply {
    /// A plain-text response, never cached or sniffed as HTML.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "text/plain; charset=utf-8".into()),
                ("cache-control", "no-store".into()),
                ("x-content-type-options", "nosniff".into()),
            ],
            body: body.into(),
        }
    }

    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
        }
    }

    /// A `302 Found` to `location`, never cached.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self {
            status: 302,
            headers: vec![
                ("location", location.into()),
                ("cache-control", "no-store".into()),
            ],
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds one `Set-Cookie` per cookie (a cookie's `Display` is its `Set-Cookie` value, whatever
    /// version of the `cookie` crate the framework uses); with at least one, the reply is never
    /// cached (`Cache-Control: no-store`, replacing another `Cache-Control`).
    pub fn with_cookies(mut self, cookies: &[Cookie<'_>]) -> Self {
        if !cookies.is_empty() {
            self.headers.retain(|(name, _)| *name != "cache-control");
            self.headers
                .push(("cache-control", SESSION_CACHE_CONTROL.into()));
        }
        self.headers.extend(
            cookies
                .iter()
                .map(|cookie| ("set-cookie", cookie.to_string())),
        );
        self
    }

    /// The first value of the header `name` (lowercase).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl From<Redirect> for Reply {
    fn from(redirect: Redirect) -> Self {
        Self::redirect(redirect.location).with_cookies(&redirect.set_cookies)
    }
}
