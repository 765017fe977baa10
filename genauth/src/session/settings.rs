//! [`CookieSettings`]: the names, attributes and lifetimes of the cookies genauth writes.

use crate::config::is_loopback;
use cookie::{Cookie, SameSite};
use std::time::Duration;
use url::Url;

/// Default lifetime of a session cookie: 24 hours from the last time it was written.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Default time a login may take from the redirect to the provider until the callback: 10 minutes
/// ([`CookieSettings::login_ttl`] sets another).
pub const DEFAULT_LOGIN_TTL: Duration = Duration::from_secs(10 * 60);

/// Attributes of the cookies genauth writes: session (`{prefix}_session` and its chunks) and login
/// transaction (`{prefix}_login`). `HttpOnly` and `SameSite=Lax` always (Lax lets the provider's
/// top-level redirect back to the callback carry the login cookie).
///
/// # `__Host-` names
/// When the cookies are `Secure`, host-only (no `Domain`) and at `Path=/`, their names start with
/// `__Host-` (`__Host-genauth_session`, `__Host-genauth_login`): browsers then refuse the cookie
/// from a sibling subdomain or a plain-`http` page, which could otherwise plant or overwrite it
/// (RFC 6265bis §4.1.3.2). Without `Secure` (loopback development over `http`) the names stay plain,
/// as browsers refuse `__Host-` cookies there. [`host_prefix(false)`](Self::host_prefix) keeps the
/// plain names everywhere.
///
/// ```
/// use genauth::session::CookieSettings;
///
/// assert_eq!(CookieSettings::default().session_cookie_name(), "__Host-genauth_session");
/// assert_eq!(CookieSettings::default().secure(false).session_cookie_name(), "genauth_session");
/// assert_eq!(CookieSettings::default().domain("example.com").session_cookie_name(), "genauth_session");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct CookieSettings {
    prefix: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    host_prefix: bool,
    session_ttl: Duration,
    login_ttl: Duration,
}

impl Default for CookieSettings {
    /// Prefix `genauth`, path `/`, `Secure` (so `__Host-` names), 24-hour sessions, 10-minute logins.
    fn default() -> Self {
        Self {
            prefix: "genauth".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            host_prefix: true,
            session_ttl: DEFAULT_SESSION_TTL,
            login_ttl: DEFAULT_LOGIN_TTL,
        }
    }
}

impl CookieSettings {
    /// The defaults, with `Secure` unless `redirect_uri`'s host is loopback (`localhost`,
    /// `*.localhost`, `127.0.0.0/8`, `::1`), where browsers serve plain `http` in development.
    pub fn for_redirect_uri(redirect_uri: Option<&Url>) -> Self {
        Self {
            secure: !redirect_uri.is_some_and(is_loopback),
            ..Self::default()
        }
    }

    /// The cookie name prefix (default `genauth`): cookies `{prefix}_session` and `{prefix}_login`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The cookies' `Path` (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The cookies' `Domain` (default none: host-only cookies).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Force `Secure` on or off.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Whether to name the cookies `__Host-…` when they qualify (`Secure`, no `Domain`, `Path=/`;
    /// default `true`). Turning it off keeps the plain names, e.g. to keep the sessions of an
    /// earlier version signed in; the cookies are less protected from sibling subdomains.
    pub fn host_prefix(mut self, enabled: bool) -> Self {
        self.host_prefix = enabled;
        self
    }

    /// How long a session lasts after it was last written (`Max-Age` and the sealed expiry; default
    /// 24 hours).
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// How long a login may take from redirect to callback (default 10 minutes): the login cookie's
    /// lifetime, and the longest time the callback accepts.
    pub fn login_ttl(mut self, ttl: Duration) -> Self {
        self.login_ttl = ttl;
        self
    }

    /// Whether cookies are `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The session lifetime ([`session_ttl`](Self::session_ttl)).
    pub fn get_session_ttl(&self) -> Duration {
        self.session_ttl
    }

    /// The login lifetime ([`login_ttl`](Self::login_ttl)).
    pub fn get_login_ttl(&self) -> Duration {
        self.login_ttl
    }

    /// The session lifetime.
    #[deprecated(since = "0.1.1", note = "renamed to `get_session_ttl`")]
    pub fn session_max_age(&self) -> Duration {
        self.session_ttl
    }

    /// The login lifetime.
    #[deprecated(since = "0.1.1", note = "renamed to `get_login_ttl`")]
    pub fn login_max_age(&self) -> Duration {
        self.login_ttl
    }

    /// Whether the cookie names carry `__Host-`: enabled, `Secure`, no `Domain`, `Path=/`.
    pub fn uses_host_prefix(&self) -> bool {
        self.host_prefix && self.secure && self.domain.is_none() && self.path == "/"
    }

    /// The session cookie's name: `__Host-{prefix}_session` ([`uses_host_prefix`](Self::uses_host_prefix)),
    /// else `{prefix}_session`.
    pub fn session_cookie_name(&self) -> String {
        self.cookie_name("session")
    }

    /// The login-transaction cookie's name: `__Host-{prefix}_login`
    /// ([`uses_host_prefix`](Self::uses_host_prefix)), else `{prefix}_login`.
    pub fn login_cookie_name(&self) -> String {
        self.cookie_name("login")
    }

    fn cookie_name(&self, kind: &str) -> String {
        let host = if self.uses_host_prefix() {
            "__Host-"
        } else {
            ""
        };
        format!("{host}{}_{kind}", self.prefix)
    }

    /// A cookie with these attributes and `Max-Age` = `max_age`. Its `to_string()` is the
    /// `Set-Cookie` header value, for frameworks on another version of the `cookie` crate.
    pub fn cookie(&self, name: String, value: String, max_age: Duration) -> Cookie<'static> {
        let max_age =
            cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
        let mut builder = Cookie::build((name, value))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(max_age);
        if let Some(domain) = &self.domain {
            builder = builder.domain(domain.clone());
        }
        builder.build()
    }

    /// A cookie that deletes `name` (empty value, `Max-Age=0`, same path and domain).
    pub fn removal(&self, name: String) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new(), Duration::ZERO);
        cookie.make_removal();
        cookie
    }
}
