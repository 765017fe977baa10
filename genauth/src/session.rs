//! Browser sessions, framework-agnostic: the signed-in [`Session`], its sealed-cookie codec, the cookie
//! attributes, and [`SessionManager`], which runs login, per-request loading (with refresh) and logout
//! in terms of request cookies in and `Set-Cookie` cookies out, so that each web adapter only
//! translates.
//!
//! # Sealing
//! A [`SessionCodec`] encrypts with AES-256-GCM (the `cookie` crate's private jar) under a key derived
//! with HKDF-SHA256 from a secret of at least 32 bytes. The cookie name is the AEAD associated data: a
//! value sealed for one cookie does not open under another name, so the login-transaction cookie
//! cannot be replayed as a session. Each sealed value carries its own expiry. A value that does not
//! open (tampered, truncated, another key, expired) reads as "no session" with a logged warning, never
//! as an error or a panic.
//!
//! # Chunking
//! Browsers keep at most about 4096 bytes per cookie. A sealed session longer than
//! [`CHUNK_SIZE`] bytes is split into `name`, `name.1`, `name.2`, … (at most [`MAX_CHUNKS`]); the first
//! cookie then starts with the chunk count (`3.…`).
//!
//! ```
//! use genauth::session::{AuthUser, Session, SessionCodec};
//! use std::time::Duration;
//!
//! let codec = SessionCodec::new(&[7u8; 32])?;
//! let session = Session::new(AuthUser::new("user-1", genauth::Protocol::Oidc));
//! let cookies = codec.seal(&session, "app_session", Duration::from_secs(3600))?;
//! assert_eq!(cookies.len(), 1);
//! let (name, value) = &cookies[0];
//! let opened = codec
//!     .open(name, |n| (n == name.as_str()).then_some(value.as_str()))
//!     .ok_or("the session did not open")?;
//! assert_eq!(opened.user.sub, "user-1");
//! // A value sealed for one cookie name does not open under another.
//! assert!(codec.open("other", |_| Some(value.as_str())).is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::authorize::AuthorizeParams;
use crate::bearer::{BearerContext, BearerError};
use crate::claims::{Claims, ExtraClaims};
use crate::config::Protocol;
use crate::introspection::TokenTypeHint;
use crate::login::{self, CallbackParams, LoginError, PendingLogin};
use crate::logout::LogoutParams;
use crate::pkce::PkceMethod;
use crate::token::LoginState;
use crate::types::{AccessToken, IdToken, RefreshToken};
use crate::validator::ValidationError;
use crate::{Client, Error};
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use url::Url;

/// Longest cookie value written, in bytes: with name and attributes, a cookie stays under the
/// 4096 bytes browsers keep (RFC 6265 §6.1).
pub const CHUNK_SIZE: usize = 3800;

/// Most cookies one sealed session may span (`name`, `name.1`, … `name.7`): about 30 KB.
pub const MAX_CHUNKS: usize = 8;

/// Shortest accepted secret, in bytes (256 bits).
pub const MIN_KEY_LEN: usize = 32;

/// Default lifetime of a session cookie: 24 hours from the last time it was written.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Default lead time for refreshing the access token before it expires: 60 seconds.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

/// A failure to create, seal or refresh a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session secret is shorter than [`MIN_KEY_LEN`] bytes.
    #[error("the session key must be at least {MIN_KEY_LEN} bytes of random data, got {len}")]
    KeyTooShort {
        /// Length of the given key in bytes.
        len: usize,
    },
    /// The key could not be derived or generated (OS random number generator failure).
    #[error("the session key could not be derived or generated")]
    Key,
    /// The sealed session does not fit in [`MAX_CHUNKS`] cookies of [`CHUNK_SIZE`] bytes.
    #[error("the sealed session is {size} bytes, more than the {limit} bytes the cookies can hold")]
    TooLarge {
        /// Size of the sealed value in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The session could not be serialized.
    #[error("the session could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// Refreshing the tokens failed (provider error, `invalid_grant`, or a token failing validation).
    #[error("refreshing the session failed: {0}")]
    Refresh(#[source] Error),
    /// The refreshed ID token names another user (OpenID Connect Core §12.2: `sub` must not change).
    #[error("the refreshed ID token's `sub` differs from the session's user")]
    SubjectChanged,
}

impl SessionError {
    /// The HTTP status when this error ends a request: the provider's status for a refresh failure
    /// (503 unreachable, 400 `invalid_grant`, …), 401 for a changed subject, 500 otherwise.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Refresh(e) => e.status_code(),
            Self::SubjectChanged => 401,
            Self::KeyTooShort { .. } | Self::Key | Self::TooLarge { .. } | Self::Serialize(_) => {
                500
            }
        }
    }
}

/// The signed-in user: the provider's subject, the claims it sent, and the protocol used.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct AuthUser {
    /// The user's ID at the provider (`sub`; the CAS `user`).
    pub sub: String,
    /// Every other claim: ID token claims (OIDC), UserInfo claims (OAuth 2.0), CAS attributes.
    /// `name`, `email`, `picture`, … when the provider sent them.
    #[serde(default)]
    pub claims: ExtraClaims,
    /// The protocol the user signed in with.
    #[serde(with = "protocol_serde")]
    pub protocol: Protocol,
}

impl AuthUser {
    /// A user with no claims.
    pub fn new(sub: impl Into<String>, protocol: Protocol) -> Self {
        Self {
            sub: sub.into(),
            claims: ExtraClaims::new(),
            protocol,
        }
    }

    /// A user with these claims (`sub` is kept out of `claims`).
    pub fn with_claims(
        sub: impl Into<String>,
        mut claims: ExtraClaims,
        protocol: Protocol,
    ) -> Self {
        claims.remove("sub");
        Self {
            sub: sub.into(),
            claims,
            protocol,
        }
    }

    /// The user of verified token claims; `None` when they carry no `sub`. The login-only claims
    /// `nonce` and `at_hash` are dropped.
    pub fn from_claims(claims: &Claims, protocol: Protocol) -> Option<Self> {
        let sub = claims.sub.clone()?;
        let serde_json::Value::Object(mut map) = serde_json::to_value(claims).ok()? else {
            return None;
        };
        map.remove("nonce");
        map.remove("at_hash");
        Some(Self::with_claims(sub, map, protocol))
    }

    /// A claim by name.
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.claims.get(name)
    }

    /// A string claim by name.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claim(name).and_then(serde_json::Value::as_str)
    }

    /// `name`, else `preferred_username`, `nickname`, `username`, `email`.
    pub fn display_name(&self) -> Option<&str> {
        [
            "name",
            "preferred_username",
            "nickname",
            "username",
            "email",
        ]
        .into_iter()
        .find_map(|claim| self.claim_str(claim))
    }

    /// `email`.
    pub fn email(&self) -> Option<&str> {
        self.claim_str("email")
    }

    /// All claims as one JSON object, `sub` included: what a profile page shows.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = self.claims.clone();
        map.insert("sub".into(), self.sub.clone().into());
        serde_json::Value::Object(map)
    }
}

/// A signed-in browser session: the user and, for OIDC and OAuth 2.0, the tokens (`None` for CAS).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// Who is signed in.
    pub user: AuthUser,
    /// The tokens of the sign-in, refreshed as they near expiry.
    pub tokens: Option<LoginState>,
}

impl Session {
    /// A session without tokens.
    pub fn new(user: AuthUser) -> Self {
        Self { user, tokens: None }
    }

    /// A session with the tokens of a sign-in.
    pub fn with_tokens(user: AuthUser, tokens: LoginState) -> Self {
        Self {
            user,
            tokens: Some(tokens),
        }
    }

    /// The access token, for calls to APIs on the user's behalf.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.tokens.as_ref().map(|t| &t.access_token)
    }

    /// The ID token (sent as `id_token_hint` at logout).
    pub fn id_token(&self) -> Option<&IdToken> {
        self.tokens.as_ref().and_then(|t| t.id_token.as_ref())
    }

    /// The refresh token.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.tokens.as_ref().and_then(|t| t.refresh_token.as_ref())
    }

    /// Whether the access token expires within `skew` of `now` and a refresh token can renew it.
    pub fn needs_refresh(&self, now: SystemTime, skew: Duration) -> bool {
        self.tokens
            .as_ref()
            .is_some_and(|t| t.refresh_token.is_some() && t.expires_within(now, skew))
    }
}

/// Renews the session's tokens with its refresh token (RFC 6749 §6). The new ID token must name the
/// same user (OpenID Connect Core §12.2); its claims replace the user's. What the provider does not
/// send again (refresh token, ID token) is kept. Does nothing without a refresh token.
///
/// # Errors
/// [`SessionError::Refresh`] with the provider's error (`invalid_grant`: the session is over; 503:
/// retry later); [`SessionError::SubjectChanged`].
pub async fn refresh(client: &Client, session: &mut Session) -> Result<(), SessionError> {
    let Some(old) = session.tokens.as_ref() else {
        return Ok(());
    };
    let Some(refresh_token) = old.refresh_token.as_ref() else {
        return Ok(());
    };
    let mut new = client
        .refresh_login_state(refresh_token)
        .await
        .map_err(SessionError::Refresh)?;
    if new.refresh_token.is_none() {
        new.refresh_token = old.refresh_token.clone();
    }
    if new.id_token.is_none() {
        new.id_token = old.id_token.clone();
        new.id_token_claims = old.id_token_claims.clone();
    } else if let Some(claims) = &new.id_token_claims {
        if claims.sub.as_deref() != Some(session.user.sub.as_str()) {
            return Err(SessionError::SubjectChanged);
        }
        // The new ID token's claims update the user's; claims it lacks (from UserInfo at sign-in)
        // are kept. In OAuth 2.0 mode the user came from UserInfo and an ID token does not change it.
        if session.user.protocol == Protocol::Oidc {
            if let Some(user) = AuthUser::from_claims(claims, Protocol::Oidc) {
                session.user.claims.extend(user.claims);
            }
        }
    }
    session.tokens = Some(new);
    Ok(())
}

/// The wrapper sealed into every cookie: the value and its expiry (seconds since the epoch).
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: u64,
    v: T,
}

/// Seals and opens sessions and pending logins into cookie values (AES-256-GCM, cookie name bound
/// as associated data). `Debug` does not print the key.
#[derive(Clone)]
pub struct SessionCodec {
    key: Key,
}

impl fmt::Debug for SessionCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionCodec([redacted])")
    }
}

impl SessionCodec {
    /// A codec keyed by `secret`: at least [`MIN_KEY_LEN`] bytes of random data (e.g. 32 random
    /// bytes, or a 64-character hex string from `openssl rand -hex 32`). The encryption key is
    /// derived from it with HKDF-SHA256 (RFC 5869), so the same secret may serve other purposes.
    /// Keep it stable across restarts and instances: sessions sealed with another key do not open.
    ///
    /// # Errors
    /// [`SessionError::KeyTooShort`]; [`SessionError::Key`] if derivation fails.
    pub fn new(secret: &[u8]) -> Result<Self, SessionError> {
        if secret.len() < MIN_KEY_LEN {
            return Err(SessionError::KeyTooShort { len: secret.len() });
        }
        struct Len64;
        impl aws_lc_rs::hkdf::KeyType for Len64 {
            fn len(&self) -> usize {
                64
            }
        }
        let mut material = [0u8; 64];
        aws_lc_rs::hkdf::Salt::new(aws_lc_rs::hkdf::HKDF_SHA256, b"genauth session codec")
            .extract(secret)
            .expand(&[b"cookie aes-256-gcm v1"], Len64)
            .and_then(|okm| okm.fill(&mut material))
            .map_err(|_| SessionError::Key)?;
        Key::try_from(material.as_slice())
            .map(Self::from_key)
            .map_err(|_| SessionError::Key)
    }

    /// A codec with a random key: sessions do not survive a restart and are not shared between
    /// instances. For development and tests.
    ///
    /// # Errors
    /// [`SessionError::Key`] if the OS random number generator fails.
    pub fn generate() -> Result<Self, SessionError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| SessionError::Key)?;
        Self::new(&secret)
    }

    /// A codec using this `cookie` key as it is (its encryption half).
    pub fn from_key(key: Key) -> Self {
        Self { key }
    }

    /// Seals any value for the cookie `name`, valid for `ttl`: one cookie value, no chunking.
    ///
    /// # Errors
    /// [`SessionError::Serialize`].
    pub fn seal_value<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<String, SessionError> {
        // A TTL past the end of `SystemTime` (say `Duration::MAX`) means: never expires.
        let exp = SystemTime::now()
            .checked_add(ttl)
            .map_or(u64::MAX, unix_secs);
        let plaintext = serde_json::to_string(&Envelope { exp, v: value })?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key)
            .add(Cookie::new(name.to_owned(), plaintext));
        jar.get(name)
            .map(|c| c.value().to_owned())
            .ok_or(SessionError::Key)
    }

    /// Opens a value sealed by [`seal_value`](Self::seal_value) for the cookie `name`. `None`, with a
    /// logged warning, when it was tampered with, sealed for another name or key, or does not parse;
    /// `None` (logged at debug) when it has expired.
    pub fn open_value<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Option<T> {
        let jar = CookieJar::new();
        let Some(cookie) = jar
            .private(&self.key)
            .decrypt(Cookie::new(name.to_owned(), sealed.to_owned()))
        else {
            tracing::warn!(
                cookie = name,
                "sealed cookie does not open (tampered, or another key); ignored"
            );
            return None;
        };
        let envelope: Envelope<T> = match serde_json::from_str(cookie.value()) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(cookie = name, error = %e, "sealed cookie has an unexpected shape; ignored");
                return None;
            }
        };
        if envelope.exp <= unix_secs(SystemTime::now()) {
            tracing::debug!(cookie = name, "sealed cookie expired; ignored");
            return None;
        }
        Some(envelope.v)
    }

    /// Seals a session for the cookie `name`, valid for `ttl`, as `(cookie name, value)` pairs:
    /// `name` alone, or `name`, `name.1`, … when longer than [`CHUNK_SIZE`].
    ///
    /// # Errors
    /// [`SessionError::TooLarge`] past [`MAX_CHUNKS`] chunks; [`SessionError::Serialize`].
    pub fn seal(
        &self,
        session: &Session,
        name: &str,
        ttl: Duration,
    ) -> Result<Vec<(String, String)>, SessionError> {
        let sealed = self.seal_value(name, session, ttl)?;
        chunk(name, &sealed)
    }

    /// Opens the session sealed into the cookie `name` (and its chunks), reading cookies through
    /// `lookup`. `None` when there is no such cookie, or when it does not open (see
    /// [`open_value`](Self::open_value)); never an error.
    pub fn open<'a>(
        &self,
        name: &str,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Option<Session> {
        let sealed = unchunk(name, lookup)?;
        self.open_value(name, &sealed)
    }

    /// Seals a pending login for the (short-lived) cookie `name`, valid for `ttl`.
    ///
    /// # Errors
    /// [`SessionError::Serialize`].
    pub fn seal_pending(
        &self,
        pending: &PendingLogin,
        name: &str,
        ttl: Duration,
    ) -> Result<String, SessionError> {
        self.seal_value(name, pending, ttl)
    }

    /// Opens a pending login sealed for the cookie `name`; `None` as for [`open_value`](Self::open_value).
    pub fn open_pending(&self, name: &str, sealed: &str) -> Option<PendingLogin> {
        self.open_value(name, sealed)
    }
}

/// The names a session sealed for `name` may occupy: `name`, `name.1`, … `name.7`.
pub fn chunk_names(name: &str) -> impl Iterator<Item = String> + '_ {
    (0..MAX_CHUNKS).map(move |i| chunk_name(name, i))
}

fn chunk_name(name: &str, index: usize) -> String {
    if index == 0 {
        name.to_owned()
    } else {
        format!("{name}.{index}")
    }
}

/// Splits a sealed value (base64: ASCII, no `.`) into cookies; the first carries the count when
/// there are several.
fn chunk(name: &str, sealed: &str) -> Result<Vec<(String, String)>, SessionError> {
    if sealed.len() <= CHUNK_SIZE {
        return Ok(vec![(name.to_owned(), sealed.to_owned())]);
    }
    let pieces: Vec<&str> = sealed
        .as_bytes()
        .chunks(CHUNK_SIZE)
        .map(|piece| std::str::from_utf8(piece).unwrap_or_default())
        .collect();
    if pieces.len() > MAX_CHUNKS {
        return Err(SessionError::TooLarge {
            size: sealed.len(),
            limit: CHUNK_SIZE * MAX_CHUNKS,
        });
    }
    let count = pieces.len();
    Ok(pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let value = if i == 0 {
                format!("{count}.{piece}")
            } else {
                piece.to_owned()
            };
            (chunk_name(name, i), value)
        })
        .collect())
}

/// Reassembles a chunked value; `None` (logged) when a chunk is missing or the count is garbled.
fn unchunk<'a>(name: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let first = lookup(name)?;
    let Some((count, head)) = first.split_once('.') else {
        return Some(first.to_owned());
    };
    let count = match count.parse::<usize>() {
        Ok(n) if (2..=MAX_CHUNKS).contains(&n) => n,
        _ => {
            tracing::warn!(
                cookie = name,
                "session cookie has a garbled chunk count; ignored"
            );
            return None;
        }
    };
    let mut sealed = String::with_capacity(count * CHUNK_SIZE);
    sealed.push_str(head);
    for i in 1..count {
        let Some(piece) = lookup(&chunk_name(name, i)) else {
            tracing::warn!(
                cookie = name,
                chunk = i,
                "session cookie chunk missing; ignored"
            );
            return None;
        };
        sealed.push_str(piece);
    }
    Some(sealed)
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The cookies a request carries, parsed once from its `Cookie` headers (RFC 6265 §5.4). Only
/// SP and HTAB around names and values are trimmed (RFC 6265 §5.2 step 4), and pairs whose name is
/// not an RFC 6265 §4.1.1 token are skipped: a `\u{A0}__Host-genauth_session` set by a sibling
/// subdomain does not pose as `__Host-genauth_session`. `Debug` shows names only.
///
/// A name sent more than once reads as absent ([`get`](Self::get) is `None`): browsers order
/// same-named cookies by path, not by origin, so the genuine one (say, `__Host-` protected) cannot
/// be told from one another site planted (RFC 6265bis §8.6). A session or login cookie sent twice
/// is therefore no session and no login in progress.
#[derive(Clone, Default)]
pub struct RequestCookies {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for RequestCookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.pairs.iter().map(|(name, _)| name))
            .finish()
    }
}

/// SP and HTAB, the whitespace RFC 6265 §5.2 trims (not Unicode whitespace such as NBSP).
fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Whether `name` is an RFC 6265 §4.1.1 cookie name: an RFC 2616 token (visible ASCII but
/// separators).
fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

impl RequestCookies {
    /// Parses every `Cookie` header value (raw bytes; values that are not UTF-8 are skipped, as
    /// are pairs whose name is not a token).
    pub fn from_headers<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut pairs = Vec::new();
        for value in values {
            let Ok(text) = std::str::from_utf8(value) else {
                continue;
            };
            for pair in text.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let name = trim_wsp(name);
                if !is_cookie_name(name) {
                    continue;
                }
                let value = trim_wsp(value);
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                pairs.push((name.to_owned(), value.to_owned()));
            }
        }
        Self { pairs }
    }

    /// The value of the cookie called `name`; `None` when it was not sent, or sent more than once.
    pub fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some((_, value)), None) => Some(value.as_str()),
            (Some(_), Some(_)) => {
                tracing::warn!(cookie = name, "cookie sent more than once; ignoring it");
                None
            }
            _ => None,
        }
    }

    /// Whether a cookie called `name` was sent (once or more).
    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }
}

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
            login_ttl: login::LOGIN_TIMEOUT,
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

    /// The session lifetime.
    pub fn session_max_age(&self) -> Duration {
        self.session_ttl
    }

    /// The login lifetime.
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

/// Whether the URL's host is a loopback host.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Where to send the browser and which cookies to set: the result of
/// [`SessionManager::begin_login`], [`complete_login`](SessionManager::complete_login) and
/// [`logout`](SessionManager::logout). `Debug` shows the cookies' names, not their values (a sealed
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
struct CookieNames<'a>(&'a [Cookie<'static>]);

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
    /// version of the `cookie` crate the framework uses).
    pub fn with_cookies(mut self, cookies: &[Cookie<'_>]) -> Self {
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

/// What a session middleware found for a request: its session, if any, and which
/// [`SessionManager`] loaded it. Adapters put it in the request's extensions; its presence tells the
/// extractors the middleware ran, and an inner middleware of the same manager reuses it instead of
/// opening the cookie again. An inner middleware of another manager (other cookie name or key) loads
/// its own session and replaces the context for the requests it passes on: a session is never taken
/// for another manager's, and the extractors read the innermost middleware's.
#[derive(Clone, Default)]
pub struct SessionContext {
    /// The request's session (`None`: not signed in).
    pub session: Option<Arc<Session>>,
    /// The manager that loaded it; `None` when built without one ([`From`]), which no middleware
    /// reuses.
    loader: Option<Arc<SessionManager>>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl From<Option<Session>> for SessionContext {
    /// A context of no known manager: middlewares load their own session rather than reuse it.
    fn from(session: Option<Session>) -> Self {
        Self {
            session: session.map(Arc::new),
            loader: None,
        }
    }
}

impl SessionContext {
    /// The session `manager` loaded for a request.
    pub fn new(session: Option<Session>, manager: &Arc<SessionManager>) -> Self {
        Self {
            session: session.map(Arc::new),
            loader: Some(Arc::clone(manager)),
        }
    }

    /// Whether the request is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.session.is_some()
    }

    /// Whether `manager` (this very instance, not an equal clone) loaded this context: only then
    /// may a middleware or route of `manager` take its session as the one its cookie holds.
    pub fn is_loaded_by(&self, manager: &SessionManager) -> bool {
        self.loader
            .as_deref()
            .is_some_and(|loader| std::ptr::eq(loader, manager))
    }
}

/// Why an adapter's extractor (`Claims<T>`, `AuthUser`, `AccessToken`, `LoginState`) has no value
/// for a request: the same failures, statuses and bodies in every adapter, whose rejection types
/// wrap these ([`__extractor_rejections!`](crate::__extractor_rejections)).
///
/// | failure | status | absence (`Option<_>` is `None`) |
/// | --- | --- | --- |
/// | `Missing*Layer` | 500: the route lacks the middleware the extractor reads (a programming error) | no |
/// | [`NotSignedIn`](Self::NotSignedIn), [`NoAccessToken`](Self::NoAccessToken), [`NoLoginState`](Self::NoLoginState) | 401 | yes |
/// | [`MissingBearerToken`](Self::MissingBearerToken) | 401, `WWW-Authenticate: Bearer realm="…"` | yes |
/// | [`InvalidClaims`](Self::InvalidClaims) | 401 `invalid_token` | no |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// `Claims` on a route without the bearer middleware.
    #[error("Claims extractor used on a route without BearerAuthLayer")]
    MissingBearerLayer,
    /// A session extractor on a route without the session middleware.
    #[error("session extractor used on a route without SessionLayer")]
    MissingSessionLayer,
    /// `AccessToken` on a route with neither middleware.
    #[error("AccessToken extractor used on a route without SessionLayer or BearerAuthLayer")]
    MissingAuthLayer,
    /// No session.
    #[error("sign-in required")]
    NotSignedIn,
    /// Neither a bearer token nor a session holding an access token.
    #[error("no access token: send a bearer token or sign in")]
    NoAccessToken,
    /// Signed in without tokens (CAS).
    #[error("this session holds no tokens")]
    NoLoginState,
    /// No bearer token (the bearer middleware is in optional mode).
    #[error("{}", BearerError::MissingToken)]
    MissingBearerToken {
        /// The middleware's realm.
        realm: String,
    },
    /// The token is valid but its claims do not deserialize into the handler's claims type.
    #[error("{}", invalid_claims(.reason))]
    InvalidClaims {
        /// What serde reported (claim names and types).
        reason: String,
        /// The middleware's realm.
        realm: String,
    },
}

fn invalid_claims(reason: &str) -> BearerError {
    BearerError::InvalidToken(ValidationError::InvalidClaims(reason.to_owned()))
}

impl ExtractError {
    /// The bearer failure behind [`MissingBearerToken`](Self::MissingBearerToken) and
    /// [`InvalidClaims`](Self::InvalidClaims), with its realm: answered as the bearer middleware
    /// answers.
    pub fn bearer_error(&self) -> Option<(BearerError, &str)> {
        match self {
            Self::MissingBearerToken { realm } => Some((BearerError::MissingToken, realm)),
            Self::InvalidClaims { reason, realm } => Some((invalid_claims(reason), realm)),
            _ => None,
        }
    }

    /// The HTTP status: 500 for a missing middleware, 401 otherwise.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::MissingBearerLayer | Self::MissingSessionLayer | Self::MissingAuthLayer => 500,
            Self::NotSignedIn | Self::NoAccessToken | Self::NoLoginState => 401,
            Self::MissingBearerToken { .. } | Self::InvalidClaims { .. } => self
                .bearer_error()
                .map_or(401, |(error, _)| error.status_code()),
        }
    }

    /// Whether this only says the value is absent (an anonymous request): `Option<_>` extractors
    /// give `None` for these and fail with the others.
    pub fn is_absence(&self) -> bool {
        matches!(
            self,
            Self::NotSignedIn
                | Self::NoAccessToken
                | Self::NoLoginState
                | Self::MissingBearerToken { .. }
        )
    }

    /// The response body: the bearer JSON body for bearer failures, the message otherwise.
    pub fn body_text(&self) -> String {
        match self.bearer_error() {
            Some((error, _)) => error.json_body().to_string(),
            None => self.to_string(),
        }
    }

    /// The response: the bearer middleware's ([`BearerError::reply`]) for bearer failures, plain
    /// text otherwise.
    pub fn reply(&self) -> Reply {
        match self.bearer_error() {
            Some((error, realm)) => error.reply(realm),
            None => Reply::text(self.status_code(), self.body_text()),
        }
    }
}

/// A missing middleware is a programming error: say so in the logs, also where `Option<_>` of an
/// extractor turns the failure into `None` (actix-web).
fn misuse(error: ExtractError) -> ExtractError {
    tracing::error!(error = %error, "extractor used on a route without its middleware");
    error
}

/// `Claims<T>`: the verified claims of the bearer token, the extra claims deserialized as `T`.
///
/// # Errors
/// [`ExtractError::MissingBearerLayer`], [`ExtractError::MissingBearerToken`] (optional mode,
/// anonymous), [`ExtractError::InvalidClaims`].
pub fn extract_claims<T: DeserializeOwned + 'static>(
    bearer: Option<&BearerContext>,
) -> Result<Claims<T>, ExtractError> {
    let bearer = bearer.ok_or_else(|| misuse(ExtractError::MissingBearerLayer))?;
    let Some(authenticated) = &bearer.authenticated else {
        return Err(ExtractError::MissingBearerToken {
            realm: bearer.realm.to_string(),
        });
    };
    authenticated
        .claims_as()
        .map_err(|e| ExtractError::InvalidClaims {
            reason: e.to_string(),
            realm: bearer.realm.to_string(),
        })
}

/// `AuthUser`: the signed-in user.
///
/// # Errors
/// [`ExtractError::MissingSessionLayer`], [`ExtractError::NotSignedIn`].
pub fn extract_user(session: Option<&SessionContext>) -> Result<AuthUser, ExtractError> {
    let context = session.ok_or_else(|| misuse(ExtractError::MissingSessionLayer))?;
    let session = context.session.as_ref().ok_or(ExtractError::NotSignedIn)?;
    Ok(session.user.clone())
}

/// `AccessToken`: the request's bearer token, else the signed-in session's access token.
///
/// # Errors
/// [`ExtractError::MissingAuthLayer`] (neither middleware), [`ExtractError::NoAccessToken`].
pub fn extract_access_token(
    bearer: Option<&BearerContext>,
    session: Option<&SessionContext>,
) -> Result<AccessToken, ExtractError> {
    if bearer.is_none() && session.is_none() {
        return Err(misuse(ExtractError::MissingAuthLayer));
    }
    let from_bearer = bearer
        .and_then(|context| context.authenticated.as_ref())
        .map(|authenticated| authenticated.token.clone());
    let from_session = || {
        session
            .and_then(|context| context.session.as_ref())
            .and_then(|session| session.access_token().cloned())
    };
    from_bearer
        .or_else(from_session)
        .ok_or(ExtractError::NoAccessToken)
}

/// `LoginState`: the signed-in session's tokens and their verified claims.
///
/// # Errors
/// [`ExtractError::MissingSessionLayer`], [`ExtractError::NotSignedIn`],
/// [`ExtractError::NoLoginState`] (a session without tokens, as after a CAS sign-in).
pub fn extract_login_state(session: Option<&SessionContext>) -> Result<LoginState, ExtractError> {
    let context = session.ok_or_else(|| misuse(ExtractError::MissingSessionLayer))?;
    let session = context.session.as_ref().ok_or(ExtractError::NotSignedIn)?;
    session.tokens.clone().ok_or(ExtractError::NoLoginState)
}

/// The `Option<_>` form of an extraction: `None` for an [absence](ExtractError::is_absence), the
/// error otherwise.
///
/// # Errors
/// Every error that is not an absence.
pub fn optional<T>(extracted: Result<T, ExtractError>) -> Result<Option<T>, ExtractError> {
    match extracted {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_absence() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Defines a web adapter's extractor types `Claims<T>`, `AuthUser`, `AccessToken` and `LoginState`
/// (newtypes over the core types, with `Deref`/`DerefMut`): the same types, docs and names in every
/// adapter, which then implements its framework's extractor trait for them with the `extract_*`
/// functions of [`session`](crate::session). Not for applications.
#[doc(hidden)]
#[macro_export]
macro_rules! __extractor_types {
    () => {
        /// The bearer token's verified claims ([`genauth::Claims<T>`]), with the extra claims
        /// deserialized as `T` (default: a JSON map). Needs [`BearerAuthLayer`](crate::BearerAuthLayer)
        /// on the route.
        ///
        /// Rejection: [`ClaimsRejection`](crate::rejection::ClaimsRejection). `Option<Claims<T>>` is
        /// `None` for an anonymous request in optional mode.
        #[derive(Clone, Debug)]
        pub struct Claims<T = $crate::ExtraClaims>(pub $crate::Claims<T>);
        $crate::__extractor_types!(@deref Claims<T>, $crate::Claims<T>);

        /// The signed-in user ([`genauth::session::AuthUser`]: `sub`, claims such as `name` and
        /// `email`, the protocol). Needs [`SessionLayer`](crate::SessionLayer) (or the login-required
        /// one) on the route.
        ///
        /// Rejection: [`AuthUserRejection`](crate::rejection::AuthUserRejection) (401 when not signed
        /// in; put the route behind [`WebAuth::require_login`](crate::WebAuth::require_login) to
        /// redirect browsers instead).
        #[derive(Clone, Debug)]
        pub struct AuthUser(pub $crate::session::AuthUser);
        $crate::__extractor_types!(@deref AuthUser, $crate::session::AuthUser);

        /// The access token: the request's bearer token under
        /// [`BearerAuthLayer`](crate::BearerAuthLayer), else the signed-in session's (to call APIs on
        /// the user's behalf). `Debug` is redacted.
        ///
        /// Rejection: [`AccessTokenRejection`](crate::rejection::AccessTokenRejection).
        #[derive(Clone, Debug)]
        pub struct AccessToken(pub $crate::AccessToken);
        $crate::__extractor_types!(@deref AccessToken, $crate::AccessToken);

        /// The signed-in session's tokens and their verified claims
        /// ([`genauth::token::LoginState`]). Needs [`SessionLayer`](crate::SessionLayer). `Debug`
        /// redacts the tokens.
        ///
        /// Rejection: [`LoginStateRejection`](crate::rejection::LoginStateRejection) (also when the
        /// session holds no tokens, as after a CAS sign-in).
        #[derive(Clone, Debug)]
        pub struct LoginState(pub $crate::token::LoginState);
        $crate::__extractor_types!(@deref LoginState, $crate::token::LoginState);
    };
    (@deref $name:ident $(<$t:ident>)?, $target:ty) => {
        impl$(<$t>)? ::core::ops::Deref for $name$(<$t>)? {
            type Target = $target;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
        impl$(<$t>)? ::core::ops::DerefMut for $name$(<$t>)? {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    };
}

/// Defines a web adapter's extractor rejection types, in axum-core's style: one type per failure
/// ([`ExtractError`] gives its status and body) and one enum per extractor composing them, with
/// `status()` (`$status`: the framework's `StatusCode` type), `body_text()`, `reply()`, `kind()`,
/// `Display`, `Error`, and the conversions from [`ExtractError`]. `$respond` is a macro of the
/// adapter implementing its framework's response trait for one of these types from its `status()`
/// and `reply()`. The same catalog in every adapter. Not for applications.
#[doc(hidden)]
#[macro_export]
macro_rules! __extractor_rejections {
    ($status:ty, $respond:ident) => {
        $crate::__extractor_rejections!(@unit $status, $respond, MissingBearerLayer,
            "The route has no [`BearerAuthLayer`](crate::BearerAuthLayer): `Claims` cannot be extracted. 500.");
        $crate::__extractor_rejections!(@unit $status, $respond, MissingSessionLayer,
            "The route has no [`SessionLayer`](crate::SessionLayer). 500.");
        $crate::__extractor_rejections!(@unit $status, $respond, MissingAuthLayer,
            "The route has neither a [`SessionLayer`](crate::SessionLayer) nor a [`BearerAuthLayer`](crate::BearerAuthLayer). 500.");
        $crate::__extractor_rejections!(@unit $status, $respond, NotSignedIn,
            "No session: the user is not signed in. 401.");
        $crate::__extractor_rejections!(@unit $status, $respond, NoAccessToken,
            "Neither a bearer token nor a session holding an access token. 401.");
        $crate::__extractor_rejections!(@unit $status, $respond, NoLoginState,
            "The user is signed in but the session holds no tokens (CAS sign-in). 401.");

        /// The request has no bearer token (the layer is in optional mode). 401 with a bare
        /// `WWW-Authenticate: Bearer realm="…"` challenge (RFC 6750 §3.1) and the layer's JSON body.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct MissingBearerToken {
            /// The layer's realm.
            pub realm: String,
        }

        impl MissingBearerToken {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::session::ExtractError {
                $crate::session::ExtractError::MissingBearerToken { realm: self.realm.clone() }
            }

            fn from_kind(kind: &$crate::session::ExtractError) -> Option<Self> {
                match kind {
                    $crate::session::ExtractError::MissingBearerToken { realm } => {
                        Some(Self { realm: realm.clone() })
                    }
                    _ => None,
                }
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, MissingBearerToken);
        impl ::std::error::Error for MissingBearerToken {}

        /// The token is valid but its claims do not deserialize into the handler's claims type (a
        /// required claim is missing or has another type). 401 `invalid_token` (RFC 6750 §3.1), as
        /// the layer answers.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct InvalidClaims {
            /// What serde reported (claim names and types).
            pub reason: String,
            /// The layer's realm.
            pub realm: String,
        }

        impl InvalidClaims {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::session::ExtractError {
                $crate::session::ExtractError::InvalidClaims {
                    reason: self.reason.clone(),
                    realm: self.realm.clone(),
                }
            }

            fn from_kind(kind: &$crate::session::ExtractError) -> Option<Self> {
                match kind {
                    $crate::session::ExtractError::InvalidClaims { reason, realm } => Some(Self {
                        reason: reason.clone(),
                        realm: realm.clone(),
                    }),
                    _ => None,
                }
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, InvalidClaims);
        impl ::std::error::Error for InvalidClaims {}

        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`Claims`](crate::Claims).",
            ClaimsRejection {
                "No bearer token (optional mode)." MissingBearerToken,
                "The claims do not fit the type." InvalidClaims,
                "No bearer layer on the route." MissingBearerLayer,
            } else MissingBearerLayer);
        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`AuthUser`](crate::AuthUser).",
            AuthUserRejection {
                "No session." NotSignedIn,
                "No session layer on the route." MissingSessionLayer,
            } else MissingSessionLayer);
        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`AccessToken`](crate::AccessToken).",
            AccessTokenRejection {
                "Neither a bearer token nor a session with tokens." NoAccessToken,
                "Neither layer on the route." MissingAuthLayer,
            } else MissingAuthLayer);
        $crate::__extractor_rejections!(@composite $status, $respond,
            "Rejection of [`LoginState`](crate::LoginState).",
            LoginStateRejection {
                "No session." NotSignedIn,
                "A session without tokens." NoLoginState,
                "No session layer on the route." MissingSessionLayer,
            } else MissingSessionLayer);
    };
    (@unit $status:ty, $respond:ident, $name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name;

        impl $name {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::session::ExtractError {
                $crate::session::ExtractError::$name
            }

            fn from_kind(kind: &$crate::session::ExtractError) -> Option<Self> {
                matches!(kind, $crate::session::ExtractError::$name).then_some(Self)
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, $name);
        impl ::std::error::Error for $name {}
    };
    (@composite $status:ty, $respond:ident, $doc:literal,
        $name:ident { $($vdoc:literal $variant:ident),+ $(,)? } else $fallback:ident) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $(#[doc = $vdoc] $variant($variant),)+
        }

        impl $name {
            /// The failure in the core's terms.
            pub fn kind(&self) -> $crate::session::ExtractError {
                match self {
                    $(Self::$variant(inner) => inner.kind(),)+
                }
            }
        }
        $crate::__extractor_rejections!(@common $status, $respond, $name);

        impl ::std::error::Error for $name {
            fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    $(Self::$variant(inner) => Some(inner),)+
                }
            }
        }

        $(
            impl From<$variant> for $name {
                fn from(inner: $variant) -> Self {
                    Self::$variant(inner)
                }
            }
        )+

        /// The extractor's failures only ever are its variants; anything else would be a bug,
        /// answered as a missing layer (500).
        impl From<$crate::session::ExtractError> for $name {
            fn from(kind: $crate::session::ExtractError) -> Self {
                $(if let Some(inner) = $variant::from_kind(&kind) {
                    return Self::$variant(inner);
                })+
                Self::$fallback($fallback)
            }
        }
    };
    (@common $status:ty, $respond:ident, $name:ident) => {
        impl $name {
            /// The response status.
            pub fn status(&self) -> $status {
                <$status>::from_u16(self.kind().status_code())
                    .unwrap_or(<$status>::INTERNAL_SERVER_ERROR)
            }

            /// The response body.
            pub fn body_text(&self) -> String {
                self.kind().body_text()
            }

            /// The response, framework-neutral.
            pub fn reply(&self) -> $crate::session::Reply {
                self.kind().reply()
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.kind(), f)
            }
        }

        $respond!($name);
    };
}

/// Defines a web adapter's `SessionLayer` (fields, `Debug`, `new`, `require_login`), the same in
/// every adapter, which then implements its framework's middleware traits for it. Not for
/// applications.
#[doc(hidden)]
#[macro_export]
macro_rules! __session_layer {
    ($(#[$doc:meta])* pub struct SessionLayer;) => {
        $(#[$doc])*
        #[derive(Clone)]
        #[must_use]
        pub struct SessionLayer {
            manager: ::std::sync::Arc<$crate::session::SessionManager>,
            login_path: Option<::std::sync::Arc<str>>,
        }

        impl ::core::fmt::Debug for SessionLayer {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct("SessionLayer")
                    .field("manager", &self.manager)
                    .field("login_path", &self.login_path)
                    .finish()
            }
        }

        impl SessionLayer {
            /// A layer loading sessions with `manager`; requests without a session pass through.
            pub fn new(manager: ::std::sync::Arc<$crate::session::SessionManager>) -> Self {
                Self {
                    manager,
                    login_path: None,
                }
            }

            /// Login-required mode: requests without a session are sent to `login_path`
            /// (browsers) or get 401 (API clients). `login_path` is the path of the login route as
            /// the browser sees it, e.g. `/login` or `/auth/login`.
            pub fn require_login(mut self, login_path: impl Into<String>) -> Self {
                self.login_path = Some(::std::sync::Arc::from(login_path.into()));
                self
            }
        }
    };
}

/// Defines a web adapter's `WebAuth`: fields, `Debug`, `From<SessionManager>`, the builder, the
/// session layers it hands out, and what its login, callback and logout routes answer given the
/// request's query string and cookies. The same in every adapter, which adds `routes()` mounting
/// them in its framework. `$response` is the framework's response type, `$reply` the adapter's
/// `fn(Reply) -> $response`, `$add_cookies` its `fn(&mut $response, &[Cookie])`, `$layer` its
/// `SessionLayer` ([`__session_layer!`](crate::__session_layer)). Not for applications.
#[doc(hidden)]
#[macro_export]
macro_rules! __web_auth {
    (
        $(#[$doc:meta])*
        pub struct WebAuth => $response:ty, $reply:path, $add_cookies:path, $layer:path;
    ) => {
        $(#[$doc])*
        #[derive(Clone)]
        #[must_use]
        pub struct WebAuth {
            manager: ::std::sync::Arc<$crate::session::SessionManager>,
            login_path: ::std::sync::Arc<str>,
            on_login_error: Option<
                ::std::sync::Arc<dyn Fn(&$crate::login::LoginError) -> $response + Send + Sync>,
            >,
        }

        impl ::core::fmt::Debug for WebAuth {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct("WebAuth")
                    .field("manager", &self.manager)
                    .field("login_path", &self.login_path)
                    .finish_non_exhaustive()
            }
        }

        impl From<$crate::session::SessionManager> for WebAuth {
            fn from(manager: $crate::session::SessionManager) -> Self {
                Self::new(manager)
            }
        }

        impl WebAuth {
            /// Sign-in with this manager; the login route is at `/login`.
            pub fn new(manager: $crate::session::SessionManager) -> Self {
                Self {
                    manager: ::std::sync::Arc::new(manager),
                    login_path: ::std::sync::Arc::from("/login"),
                    on_login_error: None,
                }
            }

            /// The login route's path as browsers see it (default `/login`; `/auth/login` when
            /// the routes are mounted under `/auth`): where [`require_login`](Self::require_login)
            /// sends browsers.
            pub fn login_path(mut self, path: impl Into<String>) -> Self {
                self.login_path = ::std::sync::Arc::from(path.into());
                self
            }

            /// Replaces the text page shown when the callback fails (its status is
            /// [`LoginError::status_code`](genauth::login::LoginError::status_code)).
            pub fn on_login_error<F>(mut self, hook: F) -> Self
            where
                F: Fn(&$crate::login::LoginError) -> $response + Send + Sync + 'static,
            {
                self.on_login_error = Some(::std::sync::Arc::new(hook));
                self
            }

            /// The session manager.
            pub fn manager(&self) -> &::std::sync::Arc<$crate::session::SessionManager> {
                &self.manager
            }

            /// A layer that loads the session for every request and lets requests without one
            /// through.
            pub fn session_layer(&self) -> $layer {
                <$layer>::new(self.manager.clone())
            }

            /// A layer that requires a session: browsers without one are redirected to the login
            /// route (returning to the page afterwards), API clients get 401.
            pub fn require_login(&self) -> $layer {
                <$layer>::new(self.manager.clone()).require_login(self.login_path.to_string())
            }

            /// `GET /login?return_to=…`: the redirect to the provider with the login cookie.
            fn login(&self, query: &str) -> $response {
                match self.manager.begin_login_from_query(query) {
                    Ok(redirect) => $reply(redirect.into()),
                    Err(error) => self.login_error_page(&error, &[]),
                }
            }

            /// `GET /callback`: the session cookie and the redirect to the return-to path, or the
            /// error page.
            async fn callback(
                &self,
                cookies: &$crate::session::RequestCookies,
                query: &str,
            ) -> $response {
                match self.manager.complete_login_from_query(cookies, query).await {
                    Ok(redirect) => $reply(redirect.into()),
                    Err(failure) => self.login_error_page(&failure.error, &failure.set_cookies),
                }
            }

            /// `GET`/`POST /logout`: session cookies removed, redirect to the provider's logout;
            /// a request from another site is refused
            /// ([`SessionManager::logout_refusal`](genauth::session::SessionManager::logout_refusal)).
            /// `header` looks a request header up by lowercase name; `loaded` is what the session
            /// middleware put in the request's extensions, if it ran.
            async fn logout<'h>(
                &self,
                method: &str,
                header: impl Fn(&str) -> Option<&'h str>,
                cookies: &$crate::session::RequestCookies,
                loaded: Option<&$crate::session::SessionContext>,
            ) -> $response {
                if let Some(refusal) = self.manager.logout_refusal(method, header) {
                    return $reply(refusal);
                }
                $reply(self.manager.logout(cookies, loaded).await.into())
            }

            /// The hook's page, else the core's
            /// ([`LoginError::page`](genauth::login::LoginError::page)), with the cookies to set
            /// anyway.
            fn login_error_page(
                &self,
                error: &$crate::login::LoginError,
                set_cookies: &[$crate::cookie::Cookie<'static>],
            ) -> $response {
                let mut page = match &self.on_login_error {
                    Some(hook) => hook(error),
                    None => $reply(error.page(&self.login_path)),
                };
                $add_cookies(&mut page, set_cookies);
                page
            }
        }
    };
}

/// The session of a request, as loaded by [`SessionManager::load`]. `Debug` shows the cookies'
/// names, not their values.
#[derive(Default)]
pub struct LoadedSession {
    /// The session, if the request has a valid one.
    pub session: Option<Session>,
    /// Cookies to add to the response: a rewritten session after refresh, or removals when the
    /// session ended (refresh token rejected).
    pub set_cookies: Vec<Cookie<'static>>,
}

impl fmt::Debug for LoadedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedSession")
            .field("session", &self.session)
            .field("set_cookies", &CookieNames(&self.set_cookies))
            .finish()
    }
}

/// A failed callback: the error, and the cookies to set anyway (the login cookie is removed, unless
/// the callback did not belong to the login in progress). `Debug` shows the cookies' names, not
/// their values.
pub struct CallbackFailure {
    /// What went wrong; [`LoginError::status_code`] is the response status.
    pub error: LoginError,
    /// Cookies to set.
    pub set_cookies: Vec<Cookie<'static>>,
}

impl fmt::Debug for CallbackFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackFailure")
            .field("error", &self.error)
            .field("set_cookies", &CookieNames(&self.set_cookies))
            .finish()
    }
}

/// How long the result of a refresh is reused for other requests carrying the same (old) session
/// cookie: a page loading many resources at once refreshes once, not once per request (which would
/// fail at providers that rotate refresh tokens).
const REFRESH_REUSE: Duration = Duration::from_secs(60);

/// Refreshes remembered at once (per process).
const REFRESH_CACHE_CAPACITY: usize = 1024;

/// Default time a session goes on with its old tokens after the provider failed to refresh them.
pub const DEFAULT_REFRESH_RETRY_DELAY: Duration = Duration::from_secs(30);

/// A refresh outcome shared with concurrent requests of the same session.
#[derive(Clone)]
struct RefreshOutcome {
    at: Instant,
    result: Refreshed,
}

#[derive(Clone)]
enum Refreshed {
    /// The new session, or `None` when the provider rejected the refresh token.
    Done(Option<Arc<Session>>),
    /// The provider failed (5xx, unreachable): no new attempt until the retry delay has passed.
    Unavailable,
}

/// Everything a web adapter needs for browser sign-in, in framework-neutral terms: give it the
/// request's cookies (and the callback query), send back its redirect and `Set-Cookie`s.
///
/// Build one per application and share it (`Arc`): it holds the [`Client`], the [`SessionCodec`] and
/// the [`CookieSettings`]. Concurrent requests of one session that all need a refresh share a single
/// call to the token endpoint; when that call fails because the provider is unavailable, the
/// session goes on with its old tokens for [`refresh_retry_delay`](Self::refresh_retry_delay)
/// before the next attempt.
#[derive(Clone)]
#[must_use]
pub struct SessionManager {
    client: Client,
    codec: SessionCodec,
    cookies: CookieSettings,
    refresh_skew: Duration,
    refresh_retry_delay: Duration,
    revoke_on_logout: bool,
    cas_service_binding: bool,
    authorize_params: AuthorizeParams,
    post_logout_redirect_uri: Option<String>,
    /// Keyed by the SHA-256 of the refresh token used.
    refreshes: Arc<quick_cache::sync::Cache<[u8; 32], RefreshOutcome>>,
}

impl fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("client", &self.client)
            .field("cookies", &self.cookies)
            .field("refresh_skew", &self.refresh_skew)
            .field("refresh_retry_delay", &self.refresh_retry_delay)
            .field("revoke_on_logout", &self.revoke_on_logout)
            .field("cas_service_binding", &self.cas_service_binding)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// A manager with cookie settings derived from the client's redirect URI
    /// ([`CookieSettings::for_redirect_uri`]), refresh 60 s before expiry (retried 30 s after a
    /// provider failure), no revocation on logout, CAS service binding on.
    pub fn new(client: Client, codec: SessionCodec) -> Self {
        let cookies = CookieSettings::for_redirect_uri(client.config().redirect_uri());
        Self {
            client,
            codec,
            cookies,
            refresh_skew: DEFAULT_REFRESH_SKEW,
            refresh_retry_delay: DEFAULT_REFRESH_RETRY_DELAY,
            revoke_on_logout: false,
            cas_service_binding: true,
            authorize_params: AuthorizeParams::default(),
            post_logout_redirect_uri: None,
            refreshes: Arc::new(quick_cache::sync::Cache::new(REFRESH_CACHE_CAPACITY)),
        }
    }

    /// Replaces the cookie settings.
    pub fn cookie_settings(mut self, cookies: CookieSettings) -> Self {
        self.cookies = cookies;
        self
    }

    /// Refresh the access token when it expires within `skew` (default 60 s).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// After the provider failed to refresh a session's tokens (5xx, unreachable), how long that
    /// session's requests go on with the old tokens before the next attempt (default 30 s): during
    /// an outage each session calls the token endpoint once per delay, not once per request.
    pub fn refresh_retry_delay(mut self, delay: Duration) -> Self {
        self.refresh_retry_delay = delay;
        self
    }

    /// Revoke the refresh token (else the access token) at logout (RFC 7009); default `false`.
    pub fn revoke_on_logout(mut self, revoke: bool) -> Self {
        self.revoke_on_logout = revoke;
        self
    }

    /// CAS: make the service URL unique to each login (default `true`): the callback URL plus
    /// `genauth_login=<random>` ([`login::bind_cas_service`]), so that a ticket issued for another
    /// login's service, such as an attacker's, does not sign this browser in (login CSRF). The
    /// callback checks the value and validates the ticket for exactly that service URL.
    ///
    /// Turn it off only for a CAS server that compares the service URL exactly with the one
    /// registered for the application (rather than by prefix or pattern) and so refuses the added
    /// parameter; the CAS service is then the bare callback URL, without that protection.
    pub fn cas_service_binding(mut self, enabled: bool) -> Self {
        self.cas_service_binding = enabled;
        self
    }

    /// Options of every authorization request (scope, prompt, extra parameters, a per-app
    /// `redirect_uri`, …). Whatever is set here, each login gets a fresh `state` and `nonce` from
    /// the OS CSPRNG and a PKCE `S256` challenge: `state`, `nonce`, `pkce` and `pkce_method` are
    /// ignored (a fixed `state` or `nonce` would let one login's callback be replayed into
    /// another, and PKCE protects the code in transit).
    pub fn authorize_params(mut self, params: AuthorizeParams) -> Self {
        if params.state.is_some()
            || params.nonce.is_some()
            || !params.pkce
            || params.pkce_method != PkceMethod::S256
        {
            tracing::warn!(
                "SessionManager ignores the configured state, nonce and PKCE options: every login gets fresh values and S256"
            );
        }
        self.authorize_params = params;
        self
    }

    /// Where the provider sends the browser after logout (default: the client's logout redirect URI).
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uri = Some(uri.into());
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The codec.
    pub fn codec(&self) -> &SessionCodec {
        &self.codec
    }

    /// The cookie settings.
    pub fn settings(&self) -> &CookieSettings {
        &self.cookies
    }

    /// The request's session without refreshing it.
    pub fn open(&self, cookies: &RequestCookies) -> Option<Session> {
        self.codec
            .open(&self.cookies.session_cookie_name(), |name| {
                cookies.get(name)
            })
    }

    /// Whether `session` is due for a refresh (access token expiring within the refresh skew, refresh
    /// token present). Lets an adapter take the synchronous path for most requests.
    pub fn needs_refresh(&self, session: &Session) -> bool {
        session.needs_refresh(SystemTime::now(), self.refresh_skew)
    }

    /// Whether a response's `Set-Cookie` values already write the session (its cookie or a chunk,
    /// set or removed). The handler then decided the session (sign-in, logout), and a session
    /// middleware must not add the cookies of a refresh it did on the way in: appended after the
    /// handler's, they would undo a logout.
    pub fn writes_session<'a>(&self, set_cookies: impl IntoIterator<Item = &'a [u8]>) -> bool {
        let name = self.cookies.session_cookie_name();
        set_cookies.into_iter().any(|value| {
            let written = value.split(|b| *b == b'=').next().unwrap_or_default();
            chunk_names(&name).any(|chunk| chunk.as_bytes() == written.trim_ascii())
        })
    }

    /// The request's session, refreshed first when its access token is about to expire
    /// ([`open`](Self::open), then [`refresh_session`](Self::refresh_session) when
    /// [`needs_refresh`](Self::needs_refresh)).
    pub async fn load(&self, cookies: &RequestCookies) -> LoadedSession {
        match self.open(cookies) {
            Some(session) if self.needs_refresh(&session) => {
                self.refresh_session(session, cookies).await
            }
            session => LoadedSession {
                session,
                set_cookies: Vec::new(),
            },
        }
    }

    /// Refreshes an opened session and says which cookies to write. A refresh rejected by the
    /// provider (`invalid_grant`, changed subject) ends the session (cookies removed); a provider that
    /// cannot be reached leaves it as it is, to retry on a later request.
    pub async fn refresh_session(
        &self,
        session: Session,
        cookies: &RequestCookies,
    ) -> LoadedSession {
        match self.refresh_once(session).await {
            Ok(Some(session)) => {
                let set_cookies = self.store(&session, cookies).unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "refreshed session could not be stored; keeping the old cookie");
                    Vec::new()
                });
                LoadedSession {
                    session: Some(session),
                    set_cookies,
                }
            }
            Ok(None) => LoadedSession {
                session: None,
                set_cookies: self.clear(cookies),
            },
            Err(session) => LoadedSession {
                session: Some(session),
                set_cookies: Vec::new(),
            },
        }
    }

    /// Refreshes `session`, sharing the outcome with concurrent requests of the same session:
    /// `Ok(Some)` refreshed, `Ok(None)` rejected by the provider (signed out), `Err(session)` unchanged
    /// because the provider is unavailable. An unavailable provider is remembered too, for the retry
    /// delay: the requests waiting for this refresh, and those coming during that delay, go on with
    /// the old session instead of calling the token endpoint one after the other.
    async fn refresh_once(&self, mut session: Session) -> Result<Option<Session>, Session> {
        let Some(refresh_token) = session.refresh_token() else {
            return Err(session);
        };
        let key = crate::types::sha256(refresh_token.secret().as_bytes());
        let guard = loop {
            match self.refreshes.get_value_or_guard_async(&key).await {
                Ok(shared) => match shared.result {
                    Refreshed::Done(refreshed) if shared.at.elapsed() < REFRESH_REUSE => {
                        return Ok(refreshed.map(Arc::unwrap_or_clone));
                    }
                    Refreshed::Unavailable if shared.at.elapsed() < self.refresh_retry_delay => {
                        return Err(session);
                    }
                    // Stale (retry delay or reuse window over). Refreshing without the guard would
                    // let every concurrent request refresh, and with rotating refresh tokens all
                    // but one be signed out: drop the entry (unless another request already
                    // replaced it) and compete for the guard again.
                    _ => {
                        self.refreshes
                            .remove_if(&key, |current| current.at == shared.at);
                    }
                },
                Err(guard) => break guard,
            }
        };
        let (result, outcome) = match refresh(&self.client, &mut session).await {
            Ok(()) => {
                let session = Arc::new(session);
                (
                    Ok(Some(Session::clone(&session))),
                    Refreshed::Done(Some(session)),
                )
            }
            Err(e) if e.status_code() >= 500 => {
                tracing::warn!(
                    error = %e,
                    retry_in_secs = self.refresh_retry_delay.as_secs(),
                    "session refresh failed, provider unavailable; going on with the old tokens"
                );
                (Err(session), Refreshed::Unavailable)
            }
            Err(e) => {
                tracing::info!(error = %e, "session refresh rejected; signing the user out");
                (Ok(None), Refreshed::Done(None))
            }
        };
        let outcome = RefreshOutcome {
            at: Instant::now(),
            result: outcome,
        };
        let _ = guard.insert(outcome);
        result
    }

    /// The cookies that store `session`, plus removals of chunks the request carries that the new
    /// value no longer uses.
    ///
    /// # Errors
    /// [`SessionError::TooLarge`], [`SessionError::Serialize`].
    pub fn store(
        &self,
        session: &Session,
        cookies: &RequestCookies,
    ) -> Result<Vec<Cookie<'static>>, SessionError> {
        let name = self.cookies.session_cookie_name();
        let ttl = self.cookies.session_ttl;
        let chunks = self.codec.seal(session, &name, ttl)?;
        let used = chunks.len();
        let mut set: Vec<Cookie<'static>> = chunks
            .into_iter()
            .map(|(name, value)| self.cookies.cookie(name, value, ttl))
            .collect();
        set.extend(
            chunk_names(&name)
                .skip(used)
                .filter(|n| cookies.contains(n))
                .map(|n| self.cookies.removal(n)),
        );
        Ok(set)
    }

    /// Removals of every session cookie (and chunk) the request carries.
    pub fn clear(&self, cookies: &RequestCookies) -> Vec<Cookie<'static>> {
        let name = self.cookies.session_cookie_name();
        let mut set: Vec<Cookie<'static>> = chunk_names(&name)
            .filter(|n| cookies.contains(n))
            .map(|n| self.cookies.removal(n))
            .collect();
        if set.is_empty() {
            set.push(self.cookies.removal(name));
        }
        set
    }

    /// Starts a login: the provider's authorization URL, and the sealed login cookie holding
    /// `state`, `nonce`, PKCE verifier and the return-to path (`return_to` is checked with
    /// [`login::safe_return_to`]; `/` when absent or unsafe). `state` and `nonce` are always fresh
    /// and PKCE always `S256`, whatever [`authorize_params`](Self::authorize_params) says. For CAS
    /// the service is the callback URL bound to this login
    /// ([`cas_service_binding`](Self::cas_service_binding)).
    ///
    /// # Errors
    /// [`LoginError::Client`] when the authorization URL cannot be built (configuration), or the
    /// pending login cannot be sealed.
    pub fn begin_login(&self, return_to: Option<&str>) -> Result<Redirect, LoginError> {
        let params = self.login_params()?;
        let (request, pending) = login::start(&self.client, return_to, &params)?;
        let name = self.cookies.login_cookie_name();
        let sealed = self
            .codec
            .seal_pending(&pending, &name, self.cookies.login_ttl)
            .map_err(LoginError::Session)?;
        Ok(Redirect {
            location: request.url.into(),
            set_cookies: vec![self.cookies.cookie(name, sealed, self.cookies.login_ttl)],
        })
    }

    /// The authorization options of one login: the configured ones with fresh `state` and `nonce`
    /// (left to [`Client::authorization_request`] to generate), PKCE `S256`, and for CAS the bound
    /// service URL.
    fn login_params(&self) -> Result<AuthorizeParams, LoginError> {
        let mut params = AuthorizeParams {
            state: None,
            nonce: None,
            pkce: true,
            pkce_method: PkceMethod::S256,
            ..self.authorize_params.clone()
        };
        if self.cas_service_binding && self.client.config().protocol() == Protocol::Cas {
            let service = self.client.redirect_uri(params.redirect_uri.as_deref())?;
            params.redirect_uri = Some(login::bind_cas_service(&service)?.into());
        }
        Ok(params)
    }

    /// The login route: [`begin_login`](Self::begin_login) with the `return_to` parameter of the
    /// request's query string (without `?`).
    ///
    /// # Errors
    /// As [`begin_login`](Self::begin_login); logged here.
    pub fn begin_login_from_query(&self, query: &str) -> Result<Redirect, LoginError> {
        self.begin_login(login::return_to_from_query(query).as_deref())
            .inspect_err(|e| tracing::error!(error = %e, "cannot start a login"))
    }

    /// The callback route: [`complete_login`](Self::complete_login) with the parameters of the
    /// request's query string (without `?`). A query repeating a parameter fails
    /// ([`LoginError::MalformedCallback`]) without removing the login cookie: like a callback of
    /// another login, it does not cancel the login in progress.
    ///
    /// # Errors
    /// As [`complete_login`](Self::complete_login).
    pub async fn complete_login_from_query(
        &self,
        cookies: &RequestCookies,
        query: &str,
    ) -> Result<Redirect, CallbackFailure> {
        match CallbackParams::from_query(query) {
            Ok(params) => self.complete_login(cookies, &params).await,
            Err(error) => {
                tracing::info!(error = %error, "login callback failed");
                // Anyone can send a malformed callback: it must not cancel the login in progress.
                Err(CallbackFailure {
                    error,
                    set_cookies: Vec::new(),
                })
            }
        }
    }

    /// Completes a login at the callback: opens the login cookie, runs [`login::finish`] (with the
    /// configured login TTL), stores the session, and redirects to the return-to path. The login
    /// cookie is removed, unless the callback does not belong to the login in progress (`state` or
    /// CAS service mismatch): a forged callback does not cancel it.
    ///
    /// # Errors
    /// [`CallbackFailure`] with the [`LoginError`] (its status is 4xx for anything the browser or
    /// the provider's answer caused, 502/503 for provider failures).
    pub async fn complete_login(
        &self,
        cookies: &RequestCookies,
        params: &CallbackParams,
    ) -> Result<Redirect, CallbackFailure> {
        let name = self.cookies.login_cookie_name();
        let mut set_cookies = vec![self.cookies.removal(name.clone())];
        let pending = cookies
            .get(&name)
            .and_then(|sealed| self.codec.open_pending(&name, sealed));
        let result = match pending {
            None => {
                // Without a login in progress nothing ties an `error` to this browser: anyone can
                // forge `?error=…&error_description=…`. Log it, show the generic page.
                if params.error.is_some() {
                    let error = login::provider_error(params);
                    tracing::info!(error = %error, "provider error at the callback without a login in progress");
                }
                Err(LoginError::NoPendingLogin)
            }
            Some(pending) => {
                let return_to = pending.return_to.clone();
                let ttl = self.cookies.login_ttl;
                match login::finish(&self.client, pending, params, ttl).await {
                    Ok(session) => self
                        .store(&session, cookies)
                        .map(|stored| (return_to, stored))
                        .map_err(LoginError::Session),
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok((location, stored)) => {
                set_cookies.extend(stored);
                Ok(Redirect {
                    location,
                    set_cookies,
                })
            }
            Err(error) => {
                tracing::info!(error = %error, status = error.status_code(), "login callback failed");
                if error.is_foreign_callback() {
                    set_cookies.clear();
                }
                Err(CallbackFailure { error, set_cookies })
            }
        }
    }

    /// Whether a request to the logout route must be refused because another site sent it, and
    /// the answer then (403, a short text page; nothing else happens: the session stays).
    /// `header` looks a request header up by lowercase name.
    ///
    /// `GET /logout` from this site's own links and typed URLs keeps working; refused are requests
    /// the browser marks `Sec-Fetch-Site: cross-site` (any method: with `SameSite=Lax` the session
    /// cookie goes along on another site's top-level link), and unsafe methods (`POST`, …) whose
    /// `Origin` is not this application's, the origin of its redirect URI (for browsers without
    /// Fetch Metadata). See [`is_cross_site_logout`].
    pub fn logout_refusal<'a>(
        &self,
        method: &str,
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Option<Reply> {
        let own_origin = self
            .client
            .redirect_uri(self.authorize_params.redirect_uri.as_deref())
            .ok()
            .map(|uri| uri.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization());
        if !is_cross_site_logout(
            method,
            header("sec-fetch-site"),
            header("origin"),
            own_origin.as_deref(),
        ) {
            return None;
        }
        tracing::warn!(method, "cross-site logout request refused");
        Some(Reply::text(
            403,
            "Sign-out refused: the request came from another site.\n\n\
             To sign out, use this site's own sign-out link.\n",
        ))
    }

    /// Signs out: removes the session cookies, revokes the refresh token when configured (failures
    /// are logged, not fatal), and redirects to the provider's logout URL ([`Client::logout_url`],
    /// with `id_token_hint` and the post-logout redirect), or to the post-logout redirect (else `/`)
    /// when the provider has none.
    ///
    /// `loaded` is what the session middleware found for this request, when it ran: its session,
    /// refreshed on the way in if that was due, is the one ended (its refresh token revoked, its ID
    /// token the hint), not the one the request's cookies held before that refresh. Without it
    /// (`None`: no middleware on the route), or when another manager loaded it
    /// ([`SessionContext::is_loaded_by`]), the session is opened from `cookies`.
    ///
    /// Check [`logout_refusal`](Self::logout_refusal) first.
    pub async fn logout(
        &self,
        cookies: &RequestCookies,
        loaded: Option<&SessionContext>,
    ) -> Redirect {
        let session = match loaded {
            Some(context) if context.is_loaded_by(self) => context.session.as_deref().cloned(),
            // Another manager's session (a nested middleware of another manager), or none loaded.
            _ => self.open(cookies),
        };
        if self.revoke_on_logout {
            if let Some(tokens) = session.as_ref().and_then(|s| s.tokens.as_ref()) {
                let (token, hint) = match &tokens.refresh_token {
                    Some(rt) => (rt.secret(), TokenTypeHint::RefreshToken),
                    None => (tokens.access_token.secret(), TokenTypeHint::AccessToken),
                };
                if let Err(e) = self.client.revoke(token, Some(hint)).await {
                    tracing::warn!(error = %e, "token revocation at logout failed");
                }
            }
        }
        let params = LogoutParams {
            id_token_hint: session.as_ref().and_then(|s| s.id_token().cloned()),
            post_logout_redirect_uri: self.post_logout_redirect_uri.clone(),
            ..LogoutParams::default()
        };
        let location = match self.client.logout_url(&params) {
            Ok(url) => url.into(),
            Err(e) => {
                tracing::warn!(error = %e, "no provider logout URL; redirecting locally");
                self.post_logout_redirect_uri
                    .clone()
                    .or_else(|| {
                        self.client
                            .config()
                            .logout_redirect_uri()
                            .map(|u| u.to_string())
                    })
                    .unwrap_or_else(|| "/".to_owned())
            }
        };
        Redirect {
            location,
            set_cookies: self.clear(cookies),
        }
    }
}

/// Whether a logout request comes from another site (logout CSRF), from its method and headers:
/// `Sec-Fetch-Site: cross-site` (any method), or an unsafe method (not `GET`/`HEAD`) with an `Origin`
/// other than `own_origin` (`scheme://host[:port]`, compared ASCII case-insensitively; `null`
/// included). `same-origin`, `same-site` and `none` (typed URL, bookmark) pass, as do requests
/// without these headers (older browsers, scripts).
///
/// ```
/// use genauth::session::is_cross_site_logout;
///
/// let own = Some("https://app.example.com");
/// assert!(!is_cross_site_logout("GET", Some("same-origin"), None, own));
/// assert!(!is_cross_site_logout("GET", None, None, own));
/// assert!(is_cross_site_logout("GET", Some("cross-site"), None, own));
/// assert!(is_cross_site_logout("POST", None, Some("https://evil.example"), own));
/// assert!(!is_cross_site_logout("POST", None, Some("https://app.example.com"), own));
/// ```
pub fn is_cross_site_logout(
    method: &str,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    own_origin: Option<&str>,
) -> bool {
    if sec_fetch_site.is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
        return false;
    }
    match (origin, own_origin) {
        (Some(origin), Some(own)) => !origin.trim().eq_ignore_ascii_case(own),
        _ => false,
    }
}

/// Serde for [`Protocol`] as its configuration name (`oidc`, `oauth`, `saml`, `cas`).
pub(crate) mod protocol_serde {
    use crate::config::Protocol;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(protocol: &Protocol, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match protocol {
            Protocol::Oidc => "oidc",
            Protocol::OAuth2 => "oauth",
            Protocol::Saml => "saml",
            Protocol::Cas => "cas",
        })
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Protocol, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> SessionCodec {
        SessionCodec::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn user() -> AuthUser {
        let mut claims = ExtraClaims::new();
        claims.insert("name".into(), "Ada".into());
        claims.insert("email".into(), "ada@example.com".into());
        AuthUser::with_claims("u-1", claims, Protocol::Oidc)
    }

    fn login_state(extra_claim_len: usize) -> LoginState {
        serde_json::from_value(serde_json::json!({
            "access_token": "at-secret",
            "token_type": "Bearer",
            "id_token": "id-secret",
            "refresh_token": "rt-secret",
            "scope": "openid profile",
            "expires_in_secs": 3600,
            "expires_at": null,
            "id_token_claims": {"sub": "u-1", "blob": "x".repeat(extra_claim_len)},
            "access_token_claims": null,
        }))
        .unwrap()
    }

    fn open_pairs(codec: &SessionCodec, name: &str, pairs: &[(String, String)]) -> Option<Session> {
        codec.open(name, |n| {
            pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())
        })
    }

    #[test]
    fn seal_open_round_trip() {
        let codec = codec();
        let session = Session::with_tokens(user(), login_state(10));
        let pairs = codec.seal(&session, "s", Duration::from_secs(60)).unwrap();
        assert_eq!(pairs.len(), 1);
        assert!(
            !pairs[0].1.contains("secret"),
            "sealed value must not show tokens"
        );
        let opened = open_pairs(&codec, "s", &pairs).unwrap();
        assert_eq!(opened.user, session.user);
        assert_eq!(opened.access_token().unwrap().secret(), "at-secret");
        assert_eq!(opened.refresh_token().unwrap().secret(), "rt-secret");
    }

    #[test]
    fn key_length_and_derivation() {
        assert!(matches!(
            SessionCodec::new(&[1; 31]),
            Err(SessionError::KeyTooShort { len: 31 })
        ));
        let a = SessionCodec::new(&[1; 32]).unwrap();
        let b = SessionCodec::new(&[2; 32]).unwrap();
        let pairs = a
            .seal(&Session::new(user()), "s", Duration::from_secs(60))
            .unwrap();
        assert!(
            open_pairs(&b, "s", &pairs).is_none(),
            "another key must not open it"
        );
        assert!(open_pairs(&SessionCodec::new(&[1; 32]).unwrap(), "s", &pairs).is_some());
        assert_eq!(format!("{a:?}"), "SessionCodec([redacted])");
        assert!(SessionCodec::generate().is_ok());
    }

    #[test]
    fn tampered_truncated_or_renamed_values_read_as_no_session() {
        let codec = codec();
        let pairs = codec
            .seal(&Session::new(user()), "s", Duration::from_secs(60))
            .unwrap();
        let value = &pairs[0].1;
        let mut bytes = value.clone().into_bytes();
        bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        for bad in [
            tampered.as_str(),
            &value[..value.len() - 4],
            "",
            "garbage",
            "%%%",
            "3.abc",
            "99.x",
            "é",
        ] {
            assert!(codec.open("s", |_| Some(bad)).is_none(), "{bad:?}");
        }
        assert!(
            codec
                .open("t", |n| (n == "t").then_some(value.as_str()))
                .is_none()
        );
        assert!(codec.open("s", |_| None).is_none());
    }

    #[test]
    fn expired_values_read_as_no_session() {
        let codec = codec();
        let pairs = codec
            .seal(&Session::new(user()), "s", Duration::ZERO)
            .unwrap();
        assert!(open_pairs(&codec, "s", &pairs).is_none());
    }

    #[test]
    fn large_sessions_are_chunked_past_4kb() {
        let codec = codec();
        let session = Session::with_tokens(user(), login_state(9000));
        let pairs = codec.seal(&session, "s", Duration::from_secs(60)).unwrap();
        assert!(pairs.len() >= 3, "{}", pairs.len());
        assert_eq!(pairs[0].0, "s");
        assert_eq!(pairs[1].0, "s.1");
        assert!(pairs[0].1.starts_with(&format!("{}.", pairs.len())));
        for (name, value) in &pairs {
            assert!(name.len() + value.len() <= CHUNK_SIZE + 8, "{name}");
        }
        let opened = open_pairs(&codec, "s", &pairs).unwrap();
        assert_eq!(
            opened.tokens.unwrap().id_token_claims.unwrap().extra["blob"]
                .as_str()
                .unwrap()
                .len(),
            9000
        );
        // A missing or swapped chunk fails closed.
        assert!(open_pairs(&codec, "s", &pairs[..pairs.len() - 1]).is_none());
        let mut swapped = pairs.clone();
        let (a, b) = (swapped[1].1.clone(), swapped[2].1.clone());
        swapped[1].1 = b;
        swapped[2].1 = a;
        assert!(open_pairs(&codec, "s", &swapped).is_none());
        // Too large for MAX_CHUNKS cookies.
        let huge = Session::with_tokens(user(), login_state(CHUNK_SIZE * MAX_CHUNKS));
        assert!(matches!(
            codec.seal(&huge, "s", Duration::from_secs(60)),
            Err(SessionError::TooLarge { .. })
        ));
    }

    #[test]
    fn pending_login_cookie_does_not_open_as_session() {
        let codec = codec();
        let sealed = codec
            .seal_value(
                "genauth_login",
                &Session::new(user()),
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(
            codec
                .open("genauth_session", |_| Some(sealed.as_str()))
                .is_none()
        );
    }

    #[test]
    fn secure_flag_follows_redirect_host() {
        let secure = |uri: &str| {
            CookieSettings::for_redirect_uri(Some(&Url::parse(uri).unwrap())).is_secure()
        };
        assert!(!secure("http://127.0.0.1:3000/callback"));
        assert!(!secure("http://127.8.0.1/callback"));
        assert!(!secure("http://localhost:3000/callback"));
        assert!(!secure("http://app.localhost/callback"));
        assert!(!secure("http://[::1]:3000/callback"));
        assert!(secure("https://app.example.com/callback"));
        assert!(secure("http://192.168.1.2/callback"));
        assert!(secure("http://localhost.example.com/callback"));
        assert!(CookieSettings::for_redirect_uri(None).is_secure());
    }

    #[test]
    fn cookie_attributes() {
        let settings = CookieSettings::default().secure(false).prefix("app");
        assert_eq!(settings.session_cookie_name(), "app_session");
        assert_eq!(settings.login_cookie_name(), "app_login");
        let c = settings
            .clone()
            .secure(true)
            .cookie("app_session".into(), "v".into(), Duration::from_secs(60))
            .to_string();
        for attr in [
            "app_session=v",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(c.contains(attr), "{c}");
        }
        let c = settings
            .cookie("x".into(), "v".into(), Duration::from_secs(60))
            .to_string();
        assert!(!c.contains("Secure"), "{c}");
        let removal = settings.removal("x".into()).to_string();
        assert!(removal.contains("Max-Age=0"), "{removal}");
    }

    #[test]
    fn request_cookies_parse() {
        let cookies = RequestCookies::from_headers([
            b"a=1; b=\"2\"; junk; =x".as_slice(),
            b"a=3;c=4".as_slice(),
            b"\xff=1".as_slice(),
        ]);
        // `a` is sent twice: which one is genuine cannot be told.
        assert_eq!(cookies.get("a"), None);
        assert!(cookies.contains("a"));
        assert_eq!(cookies.get("b"), Some("2"));
        assert_eq!(cookies.get("c"), Some("4"));
        assert!(!cookies.contains("junk"));
        assert_eq!(format!("{cookies:?}"), r#"["a", "b", "a", "c"]"#);
    }

    #[test]
    fn request_cookies_trim_only_sp_and_htab_and_skip_non_token_names() {
        let host = "__Host-genauth_session";
        // NBSP (and other Unicode whitespace) is part of the name, which is then no token: the
        // sibling subdomain's cookie does not pose as the `__Host-` one.
        let cookies = RequestCookies::from_headers([
            "\u{A0}__Host-genauth_session=ATTACKER; __Host-genauth_session=VICTIM".as_bytes(),
        ]);
        assert_eq!(cookies.get(host), Some("VICTIM"));
        for forged in [
            "\u{2003}__Host-genauth_session",
            "__Host-genauth_session\u{A0}",
            "a b",
            "a(b",
            "a\u{1}b",
        ] {
            let header = format!("{forged}=X; {host}=VICTIM");
            let cookies = RequestCookies::from_headers([header.as_bytes()]);
            assert_eq!(cookies.get(host), Some("VICTIM"), "{forged:?}");
            assert_eq!(format!("{cookies:?}"), format!("[{host:?}]"), "{forged:?}");
        }
        // SP and HTAB around names and values are trimmed.
        let cookies = RequestCookies::from_headers([b"\t a = 1 \t;b=2".as_slice()]);
        assert_eq!((cookies.get("a"), cookies.get("b")), (Some("1"), Some("2")));
    }

    #[test]
    fn a_session_or_login_cookie_sent_twice_is_none() {
        let manager = manager();
        let stored = manager
            .store(&Session::new(user()), &RequestCookies::default())
            .unwrap();
        let genuine = format!("{}={}", stored[0].name(), stored[0].value());
        assert!(
            manager
                .open(&RequestCookies::from_headers([genuine.as_bytes()]))
                .is_some()
        );
        // Whichever comes first, a second `genauth_session` makes the session unknowable.
        for header in [
            format!("genauth_session=planted; {genuine}"),
            format!("{genuine}; genauth_session=planted"),
            format!("{genuine}; {genuine}"),
        ] {
            let cookies = RequestCookies::from_headers([header.as_bytes()]);
            assert!(manager.open(&cookies).is_none(), "{header}");
        }
        // Same for the login cookie: no login in progress.
        let login = manager.begin_login(None).unwrap();
        let pending = format!("genauth_login={}", login.set_cookies[0].value());
        let twice = RequestCookies::from_headers([format!("{pending}; {pending}").as_bytes()]);
        assert!(twice.get("genauth_login").is_none());
    }

    #[test]
    fn needs_refresh_only_near_expiry_with_refresh_token() {
        let now = SystemTime::now();
        let mut tokens = login_state(0);
        tokens.expires_at = Some(now + Duration::from_secs(30));
        let mut session = Session::with_tokens(user(), tokens);
        assert!(session.needs_refresh(now, Duration::from_secs(60)));
        assert!(!session.needs_refresh(now, Duration::from_secs(10)));
        if let Some(t) = session.tokens.as_mut() {
            t.refresh_token = None;
        }
        assert!(!session.needs_refresh(now, Duration::from_secs(60)));
        assert!(!Session::new(user()).needs_refresh(now, Duration::from_secs(60)));
    }

    #[test]
    fn auth_user_from_claims_and_protocol_serde() {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "sub": "u-9", "iss": "https://i", "nonce": "n", "at_hash": "h", "name": "Bob"
        }))
        .unwrap();
        let user = AuthUser::from_claims(&claims, Protocol::OAuth2).unwrap();
        assert_eq!(user.sub, "u-9");
        assert_eq!(user.display_name(), Some("Bob"));
        assert!(user.claim("nonce").is_none() && user.claim("sub").is_none());
        assert_eq!(user.to_json()["sub"], "u-9");
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["protocol"], "oauth");
        let back: AuthUser = serde_json::from_value(json).unwrap();
        assert_eq!(back, user);
        let no_sub: Claims = serde_json::from_value(serde_json::json!({"iss": "x"})).unwrap();
        assert!(AuthUser::from_claims(&no_sub, Protocol::Oidc).is_none());
    }

    fn manager() -> SessionManager {
        let config = crate::ClientConfig::builder("app")
            .client_secret("secret")
            .app_host("https://example.genauth.ai")
            .redirect_uri("http://127.0.0.1:3000/callback")
            .build()
            .unwrap();
        SessionManager::new(Client::new(config).unwrap(), codec())
    }

    fn as_request(cookies: &[Cookie<'static>]) -> RequestCookies {
        let header: Vec<String> = cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
        RequestCookies::from_headers([header.join("; ").as_bytes()])
    }

    #[test]
    fn store_removes_stale_chunks_and_clear_removes_all() {
        let manager = manager();
        assert!(!manager.settings().is_secure(), "loopback redirect URI");
        let big = manager
            .store(
                &Session::with_tokens(user(), login_state(9000)),
                &RequestCookies::default(),
            )
            .unwrap();
        assert!(big.len() >= 3);
        let request = as_request(&big);
        assert_eq!(manager.open(&request).unwrap().user.sub, "u-1");
        let small = manager.store(&Session::new(user()), &request).unwrap();
        assert_eq!(small[0].name(), "genauth_session");
        let removed: Vec<&str> = small[1..].iter().map(|c| c.name()).collect();
        assert_eq!(removed.len(), big.len() - 1, "{removed:?}");
        assert!(small[1..].iter().all(|c| c.value().is_empty()));
        let cleared = manager.clear(&request);
        assert_eq!(cleared.len(), big.len());
        assert!(
            cleared
                .iter()
                .all(|c| c.max_age() == Some(cookie::time::Duration::ZERO))
        );
    }

    #[test]
    fn begin_login_seals_the_pending_login() {
        let manager = manager();
        let redirect = manager.begin_login(Some("//evil.example")).unwrap();
        assert!(
            redirect
                .location
                .starts_with("https://example.genauth.ai/oidc/auth?")
        );
        let cookie = &redirect.set_cookies[0];
        assert_eq!(cookie.name(), "genauth_login");
        let pending = manager
            .codec()
            .open_pending("genauth_login", cookie.value())
            .unwrap();
        assert_eq!(pending.return_to, "/");
        assert!(
            pending.state.is_some() && pending.nonce.is_some() && pending.code_verifier.is_some()
        );
        let state = pending.state.unwrap();
        assert!(redirect.location.contains(state.secret()));
        // The login cookie does not open as a session.
        assert!(manager.open(&as_request(&redirect.set_cookies)).is_none());
    }

    #[tokio::test]
    async fn callback_without_login_cookie_or_with_provider_error() {
        let manager = manager();
        let failure = manager
            .complete_login(&RequestCookies::default(), &CallbackParams::code("c", "s"))
            .await
            .unwrap_err();
        assert!(matches!(failure.error, LoginError::NoPendingLogin));
        assert_eq!(failure.error.status_code(), 400);
        assert_eq!(failure.set_cookies[0].name(), "genauth_login");
        // A provider error without a login in progress is anyone's forgery: neither its text nor
        // its status are shown.
        let forged = manager
            .complete_login_from_query(
                &RequestCookies::default(),
                "error=access_denied&error_description=Your%20account%20is%20locked.%20Call%20%2B1-800-555-0100",
            )
            .await
            .unwrap_err();
        assert!(matches!(forged.error, LoginError::NoPendingLogin));
        let page = forged.error.page("/login");
        assert_eq!(page.status, 400);
        assert!(
            !page.body.contains("800-555") && !page.body.contains("locked"),
            "{}",
            page.body
        );
        let login = manager.begin_login(None).unwrap();
        let state = pending_of(&manager, &login).state.unwrap();
        let denied = CallbackParams::error("access_denied", Some("Attacker text".into()));
        let request = as_request(&login.set_cookies);
        // Without the login's state the error is not acted on, nor shown, and the login goes on.
        for forged in [denied.clone(), denied.clone().with_state("forged")] {
            let failure = manager.complete_login(&request, &forged).await.unwrap_err();
            assert!(matches!(failure.error, LoginError::StateMismatch));
            assert!(!failure.error.page("/login").body.contains("Attacker"));
            assert!(failure.set_cookies.is_empty(), "login cookie kept");
        }
        let failure = manager
            .complete_login(&request, &denied.with_state(state.secret()))
            .await
            .unwrap_err();
        assert_eq!(failure.error.status_code(), 403);
        assert!(failure.error.page("/login").body.contains("Attacker text"));
        assert_eq!(failure.set_cookies[0].name(), "genauth_login");
        assert_eq!(
            failure.set_cookies[0].max_age(),
            Some(cookie::time::Duration::ZERO)
        );
    }

    fn pending_of(manager: &SessionManager, redirect: &Redirect) -> PendingLogin {
        let name = manager.settings().login_cookie_name();
        let cookie = redirect
            .set_cookies
            .iter()
            .find(|c| c.name() == name)
            .unwrap();
        manager.codec().open_pending(&name, cookie.value()).unwrap()
    }

    fn query_of(location: &str) -> std::collections::HashMap<String, String> {
        Url::parse(location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    #[test]
    fn begin_login_ignores_pinned_state_nonce_and_disabled_pkce() {
        let params = AuthorizeParams {
            state: Some(crate::CsrfState::new("pinned-state")),
            nonce: Some(crate::Nonce::new("pinned-nonce")),
            pkce: false,
            pkce_method: PkceMethod::Plain,
            scope: Some("openid email".into()),
            ..AuthorizeParams::default()
        };
        let manager = manager().authorize_params(params);
        let first = manager.begin_login(None).unwrap();
        let second = manager.begin_login(None).unwrap();
        let (q1, q2) = (query_of(&first.location), query_of(&second.location));
        assert_eq!(q1["scope"], "openid email", "other options are kept");
        assert_eq!(q1["code_challenge_method"], "S256");
        assert!(!q1["code_challenge"].is_empty());
        for name in ["state", "nonce"] {
            assert!(!q1[name].starts_with("pinned"), "{name}: {}", q1[name]);
            assert_eq!(q1[name].len(), 43, "{name}: 256 random bits");
            assert_ne!(q1[name], q2[name], "{name} is fresh per login");
        }
        let pending = pending_of(&manager, &first);
        assert_eq!(pending.state.unwrap().secret(), q1["state"]);
        assert_eq!(pending.nonce.unwrap().secret(), q1["nonce"]);
        let verifier = pending.code_verifier.unwrap();
        assert_eq!(q1["code_challenge"], verifier.challenge(PkceMethod::S256));
    }

    fn cas_manager() -> SessionManager {
        let config = crate::ClientConfig::builder("app")
            .client_secret("secret")
            .app_host("https://example.genauth.ai")
            .redirect_uri("https://app.example.com/callback?tenant=t1")
            .protocol(Protocol::Cas)
            .build()
            .unwrap();
        SessionManager::new(Client::new(config).unwrap(), codec())
    }

    #[test]
    fn cas_service_is_bound_to_each_login_unless_turned_off() {
        let manager = cas_manager();
        let login = manager.begin_login(None).unwrap();
        let service = query_of(&login.location)["service"].clone();
        let prefix = "https://app.example.com/callback?tenant=t1&genauth_login=";
        assert!(service.starts_with(prefix), "{service}");
        assert_eq!(service.len(), prefix.len() + 43);
        let pending = pending_of(&manager, &login);
        assert_eq!(pending.redirect_uri.as_ref().unwrap().as_str(), service);
        let other = query_of(&manager.begin_login(None).unwrap().location)["service"].clone();
        assert_ne!(service, other);

        let unbound = cas_manager().cas_service_binding(false);
        let login = unbound.begin_login(None).unwrap();
        assert_eq!(
            query_of(&login.location)["service"],
            "https://app.example.com/callback?tenant=t1"
        );
    }

    #[tokio::test]
    async fn cas_callback_without_the_logins_binding_is_refused_before_validation() {
        // The CAS server (example.genauth.ai) is never called: the binding is checked first.
        let manager = cas_manager();
        let login = manager.begin_login(None).unwrap();
        let request = as_request(&login.set_cookies);
        let other = query_of(&manager.begin_login(None).unwrap().location)["service"].clone();
        let other_binding = query_of(&other)["genauth_login"].clone();
        for params in [
            CallbackParams::ticket("ST-attacker"),
            CallbackParams::ticket("ST-attacker").with_cas_login(other_binding),
        ] {
            let failure = manager.complete_login(&request, &params).await.unwrap_err();
            assert!(matches!(failure.error, LoginError::CasServiceMismatch));
            assert_eq!(failure.error.status_code(), 400);
            assert!(failure.set_cookies.is_empty(), "login cookie kept");
        }
    }

    #[tokio::test]
    async fn callback_checks_the_configured_login_ttl() {
        let manager = manager().cookie_settings(
            CookieSettings::default()
                .secure(false)
                .login_ttl(Duration::from_secs(60)),
        );
        let login = manager.begin_login(None).unwrap();
        let mut pending = pending_of(&manager, &login);
        let state = pending.state.clone().unwrap();
        // Two minutes old: within the 10-minute default, past the configured minute.
        pending.created_at = SystemTime::now() - Duration::from_secs(120);
        let sealed = manager
            .codec()
            .seal_pending(&pending, "genauth_login", Duration::from_secs(600))
            .unwrap();
        let request = RequestCookies::from_headers([format!("genauth_login={sealed}").as_bytes()]);
        let failure = manager
            .complete_login(&request, &CallbackParams::code("c", state.secret()))
            .await
            .unwrap_err();
        assert!(
            matches!(failure.error, LoginError::Expired),
            "{:?}",
            failure.error
        );
    }

    #[test]
    fn host_prefixed_names_when_secure_host_only_and_root_path() {
        let secure = CookieSettings::default();
        assert!(secure.uses_host_prefix());
        assert_eq!(secure.session_cookie_name(), "__Host-genauth_session");
        assert_eq!(secure.login_cookie_name(), "__Host-genauth_login");
        let set = secure
            .cookie(
                secure.session_cookie_name(),
                "v".into(),
                Duration::from_secs(1),
            )
            .to_string();
        assert!(
            set.starts_with("__Host-genauth_session=v")
                && set.contains("Secure")
                && set.contains("Path=/")
                && !set.contains("Domain"),
            "{set}"
        );
        assert_eq!(
            CookieSettings::for_redirect_uri(Some(&Url::parse("https://app.example/cb").unwrap()))
                .login_cookie_name(),
            "__Host-genauth_login"
        );
        assert_eq!(
            secure.clone().prefix("app").session_cookie_name(),
            "__Host-app_session"
        );
        for plain in [
            CookieSettings::for_redirect_uri(Some(
                &Url::parse("http://127.0.0.1:3000/callback").unwrap(),
            )),
            secure.clone().secure(false),
            secure.clone().domain("example.com"),
            secure.clone().path("/app"),
            secure.clone().host_prefix(false),
        ] {
            assert!(!plain.uses_host_prefix(), "{plain:?}");
            assert_eq!(plain.session_cookie_name(), "genauth_session");
            assert_eq!(plain.login_cookie_name(), "genauth_login");
        }
        // The session manager reads and writes the prefixed name.
        let https = crate::ClientConfig::builder("app")
            .client_secret("secret")
            .app_host("https://example.genauth.ai")
            .redirect_uri("https://app.example.com/callback")
            .build()
            .unwrap();
        let m = SessionManager::new(Client::new(https).unwrap(), codec());
        let stored = m
            .store(&Session::new(user()), &RequestCookies::default())
            .unwrap();
        assert_eq!(stored[0].name(), "__Host-genauth_session");
        assert_eq!(m.open(&as_request(&stored)).unwrap().user.sub, "u-1");
        assert_eq!(
            m.begin_login(None).unwrap().set_cookies[0].name(),
            "__Host-genauth_login"
        );
        assert!(m.writes_session([b"__Host-genauth_session=; Max-Age=0".as_slice()]));
    }

    #[test]
    fn debug_shows_cookie_names_not_values() {
        let cookies = vec![
            Cookie::new("genauth_session", "sealed-session-value"),
            Cookie::new("genauth_login", "sealed-login-value"),
        ];
        let redirect = Redirect {
            location: "/next".into(),
            set_cookies: cookies.clone(),
        };
        let loaded = LoadedSession {
            session: None,
            set_cookies: cookies.clone(),
        };
        let failure = CallbackFailure {
            error: LoginError::NoPendingLogin,
            set_cookies: cookies,
        };
        for debug in [
            format!("{redirect:?}"),
            format!("{loaded:?}"),
            format!("{failure:?}"),
        ] {
            assert!(!debug.contains("sealed"), "{debug}");
            assert!(
                debug.contains(r#"["genauth_session", "genauth_login"]"#),
                "{debug}"
            );
        }
        assert!(format!("{redirect:?}").contains("/next"));
    }

    #[test]
    fn cross_site_logouts_are_refused() {
        let own = Some("http://127.0.0.1:3000");
        for (method, site, origin) in [
            ("GET", Some("cross-site"), None),
            ("GET", Some(" Cross-Site "), None),
            ("POST", Some("cross-site"), Some("http://127.0.0.1:3000")),
            ("POST", None, Some("https://evil.example")),
            ("POST", Some("same-site"), Some("http://sub.127.0.0.1:3000")),
            ("POST", None, Some("null")),
            ("POST", None, Some("http://127.0.0.1:3001")),
        ] {
            assert!(
                is_cross_site_logout(method, site, origin, own),
                "{method} {site:?} {origin:?}"
            );
        }
        for (method, site, origin) in [
            ("GET", None, None),
            ("GET", Some("same-origin"), None),
            ("GET", Some("same-site"), None),
            ("GET", Some("none"), None),
            ("GET", None, Some("https://evil.example")),
            ("POST", None, None),
            ("POST", Some("same-origin"), Some("HTTP://127.0.0.1:3000")),
        ] {
            assert!(
                !is_cross_site_logout(method, site, origin, own),
                "{method} {site:?} {origin:?}"
            );
        }
        let m = manager();
        let refusal = m
            .logout_refusal("POST", |name| {
                (name == "origin").then_some("https://evil.example")
            })
            .unwrap();
        assert_eq!(refusal.status, 403);
        assert!(
            refusal
                .headers
                .iter()
                .all(|(name, _)| *name != "set-cookie")
        );
        assert!(
            m.logout_refusal("POST", |name| {
                (name == "origin").then_some("http://127.0.0.1:3000")
            })
            .is_none()
        );
        assert!(m.logout_refusal("GET", |_| None).is_none());
    }

    /// A manager whose client's token endpoint is `server`'s `/token`.
    fn manager_at(server: &wiremock::MockServer) -> SessionManager {
        let uri = server.uri();
        let metadata: crate::ProviderMetadata = serde_json::from_value(serde_json::json!({
            "issuer": uri,
            "authorization_endpoint": format!("{uri}/auth"),
            "token_endpoint": format!("{uri}/token"),
        }))
        .unwrap();
        let config = crate::ClientConfig::builder("app")
            .client_secret("secret")
            .issuer(&uri)
            .redirect_uri("http://127.0.0.1:3000/callback")
            .build()
            .unwrap();
        SessionManager::new(Client::with_metadata(config, metadata).unwrap(), codec())
    }

    #[tokio::test]
    async fn refresh_after_the_retry_delay_is_single_flight() {
        use wiremock::matchers::{body_string_contains, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let manager = Arc::new(manager_at(&server).refresh_retry_delay(Duration::from_millis(100)));
        let mut tokens = login_state(0);
        tokens.id_token = None;
        tokens.expires_at = Some(SystemTime::now());
        let stored = manager
            .store(
                &Session::with_tokens(user(), tokens),
                &RequestCookies::default(),
            )
            .unwrap();
        let cookies = as_request(&stored);
        let outage = Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(503))
            .expect(1)
            .mount_as_scoped(&server)
            .await;
        assert!(manager.load(&cookies).await.session.is_some());
        drop(outage);
        tokio::time::sleep(Duration::from_millis(150)).await;
        // The provider is back and rotates refresh tokens: only the first use of rt-secret works.
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains("refresh_token=rt-secret"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_delay(Duration::from_millis(100))
                    .set_body_json(serde_json::json!({
                        "access_token": "at-2", "token_type": "Bearer", "expires_in": 3600,
                        "refresh_token": "rt-2"
                    })),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": "invalid_grant"})),
            )
            .with_priority(2)
            .mount(&server)
            .await;
        let loads: Vec<_> = (0..5)
            .map(|_| {
                let (manager, cookies) = (manager.clone(), cookies.clone());
                tokio::spawn(async move { manager.load(&cookies).await })
            })
            .collect();
        for load in loads {
            let loaded = load.await.unwrap();
            let session = loaded.session.expect("still signed in");
            assert_eq!(session.access_token().unwrap().secret(), "at-2");
        }
        // The call during the outage, then a single one after the retry delay.
        let calls = server.received_requests().await.unwrap().len();
        assert_eq!(calls, 2, "one refresh after the retry delay");
    }

    #[tokio::test]
    async fn logout_ends_the_session_the_middleware_loaded() {
        let m = Arc::new(manager());
        let stored = m
            .store(
                &Session::with_tokens(user(), login_state(0)),
                &RequestCookies::default(),
            )
            .unwrap();
        let request = as_request(&stored);
        let mut refreshed = login_state(0);
        refreshed.id_token = Some(IdToken::new("refreshed-id-token"));
        let refreshed = Some(Session::with_tokens(user(), refreshed));
        let loaded = SessionContext::new(refreshed.clone(), &m);
        let hint = |redirect: &Redirect| query_of(&redirect.location).get("id_token_hint").cloned();
        let out = m.logout(&request, Some(&loaded)).await;
        assert_eq!(hint(&out).as_deref(), Some("refreshed-id-token"));
        assert_eq!(out.set_cookies[0].name(), "genauth_session");
        // Without the middleware: the cookie's session.
        let out = m.logout(&request, None).await;
        assert_eq!(hint(&out).as_deref(), Some("id-secret"));
        // The middleware found no session (e.g. the refresh was rejected): none to end.
        let out = m
            .logout(&request, Some(&SessionContext::new(None, &m)))
            .await;
        assert_eq!(hint(&out), None);
        // Another manager's session (nested middleware of another manager), or a context of no
        // manager, is not this manager's: the cookie's session is ended.
        let other = Arc::new(manager());
        for foreign in [
            SessionContext::new(refreshed.clone(), &other),
            SessionContext::from(refreshed),
            SessionContext::default(),
        ] {
            assert!(!foreign.is_loaded_by(&m));
            let out = m.logout(&request, Some(&foreign)).await;
            assert_eq!(hint(&out).as_deref(), Some("id-secret"));
        }
    }

    #[tokio::test]
    async fn malformed_callback_keeps_the_login_in_progress() {
        let manager = manager();
        let login = manager.begin_login(None).unwrap();
        let request = as_request(&login.set_cookies);
        let failure = manager
            .complete_login_from_query(&request, "code=c&state=a&state=b")
            .await
            .unwrap_err();
        assert!(matches!(
            failure.error,
            LoginError::MalformedCallback("state")
        ));
        assert!(failure.set_cookies.is_empty(), "login cookie kept");
    }

    #[test]
    fn redirect_and_reply_debug_hide_the_location_query() {
        let manager = manager();
        let redirect = manager.begin_login(None).unwrap();
        let state = pending_of(&manager, &redirect).state.unwrap();
        assert!(redirect.location.contains(state.secret()));
        let debug = format!("{redirect:?}");
        assert!(!debug.contains(state.secret()), "{debug}");
        assert!(
            !debug.contains("nonce=") && !debug.contains("code_challenge"),
            "{debug}"
        );
        assert!(
            debug.contains(r#""https://example.genauth.ai/oidc/auth"?[redacted]"#),
            "{debug}"
        );
        let reply = Reply::from(redirect);
        let debug = format!("{reply:?}");
        assert!(
            !debug.contains(state.secret()) && !debug.contains("code_challenge"),
            "{debug}"
        );
        assert!(debug.contains("[redacted]"), "{debug}");
        let cas = Redirect {
            location:
                "https://cas.example/login?service=https%3A%2F%2Fapp%2Fcb%3Fgenauth_login%3Dsecret"
                    .into(),
            set_cookies: Vec::new(),
        };
        assert!(!format!("{cas:?}").contains("genauth_login"));
        assert!(!format!("{:?}", Reply::from(cas)).contains("genauth_login"));
        // Without a query the location shows as it is.
        let plain = format!("{:?}", Reply::redirect("/profile"));
        assert!(plain.contains(r#"("location", "/profile")"#), "{plain}");
    }

    #[test]
    fn huge_ttls_do_not_panic() {
        let codec = codec();
        let sealed = codec
            .seal_value("v", &"x", Duration::MAX)
            .expect("sealed, never expiring");
        assert_eq!(
            codec.open_value::<String>("v", &sealed).as_deref(),
            Some("x")
        );
        let manager = manager().cookie_settings(
            CookieSettings::default()
                .secure(false)
                .session_ttl(Duration::MAX)
                .login_ttl(Duration::MAX),
        );
        let stored = manager
            .store(&Session::new(user()), &RequestCookies::default())
            .unwrap();
        assert!(manager.open(&as_request(&stored)).is_some());
        let login = manager.begin_login(None).unwrap();
        assert!(
            manager
                .codec()
                .open_pending("genauth_login", login.set_cookies[0].value())
                .is_some()
        );
    }

    #[test]
    fn debug_never_shows_tokens() {
        let session = Session::with_tokens(user(), login_state(0));
        let debug = format!("{session:?}");
        assert!(
            !debug.contains("at-secret")
                && !debug.contains("rt-secret")
                && !debug.contains("id-secret")
        );
    }

    #[test]
    fn extractions_tell_misuse_from_absence() {
        use crate::bearer::Authenticated;

        // No middleware: an error also for `Option<_>`.
        let e = extract_claims::<ExtraClaims>(None).unwrap_err();
        assert_eq!(
            (e.clone(), e.status_code()),
            (ExtractError::MissingBearerLayer, 500)
        );
        assert!(optional(Err::<(), _>(e)).is_err());
        assert_eq!(
            extract_access_token(None, None).unwrap_err(),
            ExtractError::MissingAuthLayer
        );
        assert_eq!(
            extract_user(None).unwrap_err(),
            ExtractError::MissingSessionLayer
        );

        // Anonymous: absences, `None` for `Option<_>`.
        let anonymous = BearerContext {
            authenticated: None,
            realm: Arc::from("r"),
        };
        let e = extract_claims::<ExtraClaims>(Some(&anonymous)).unwrap_err();
        assert!(e.is_absence());
        let reply = e.reply();
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.header_value("www-authenticate"),
            Some(r#"Bearer realm="r""#)
        );
        assert_eq!(optional(Err::<(), _>(e)).unwrap(), None);
        let signed_out = SessionContext::default();
        assert_eq!(
            extract_user(Some(&signed_out)).unwrap_err(),
            ExtractError::NotSignedIn
        );
        assert_eq!(
            extract_access_token(Some(&anonymous), Some(&signed_out)).unwrap_err(),
            ExtractError::NoAccessToken
        );

        // Signed in: values; a CAS session has no tokens.
        let cas = SessionContext::from(Some(Session::new(user())));
        assert_eq!(extract_user(Some(&cas)).unwrap().sub, "u-1");
        assert_eq!(
            extract_login_state(Some(&cas)).unwrap_err(),
            ExtractError::NoLoginState
        );
        let oidc = SessionContext::from(Some(Session::with_tokens(user(), login_state(1))));
        assert_eq!(
            extract_access_token(None, Some(&oidc)).unwrap().secret(),
            "at-secret"
        );

        // A bearer token wins over the session; claims that do not fit the type are invalid.
        let claims: Claims = serde_json::from_value(serde_json::json!({"sub": "b"})).unwrap();
        let bearer = BearerContext {
            authenticated: Some(Authenticated {
                token: AccessToken::new("bt"),
                claims: Arc::new(claims),
            }),
            realm: Arc::from("api"),
        };
        assert_eq!(
            extract_access_token(Some(&bearer), Some(&oidc))
                .unwrap()
                .secret(),
            "bt"
        );
        #[derive(Debug, serde::Deserialize)]
        struct Tenant {
            #[allow(dead_code)]
            tenant: String,
        }
        let e = extract_claims::<Tenant>(Some(&bearer)).unwrap_err();
        assert!(matches!(e, ExtractError::InvalidClaims { .. }) && !e.is_absence());
        assert!(e.body_text().contains("invalid_token"));
        assert_eq!(
            extract_claims::<ExtraClaims>(Some(&bearer))
                .unwrap()
                .sub
                .as_deref(),
            Some("b")
        );
    }

    #[test]
    fn handler_cookies_decide_the_session() {
        let m = manager();
        let removal = m.settings().removal("genauth_session".into()).to_string();
        assert!(m.writes_session([removal.as_bytes()]));
        assert!(m.writes_session([b"genauth_session.2=x; Path=/".as_slice()]));
        assert!(!m.writes_session([b"genauth_login=x; Path=/".as_slice()]));
        assert!(!m.writes_session([b"genauth_sessionx=1".as_slice(), b"other=1".as_slice()]));
        assert!(!m.writes_session(std::iter::empty::<&[u8]>()));
    }

    #[test]
    fn replies() {
        let redirect = Redirect {
            location: "/next".into(),
            set_cookies: vec![Cookie::new("genauth_session", "sealed-value")],
        };
        let reply = Reply::from(redirect);
        assert_eq!(reply.status, 302);
        assert_eq!(reply.header_value("location"), Some("/next"));
        assert_eq!(reply.header_value("cache-control"), Some("no-store"));
        assert_eq!(
            reply.header_value("set-cookie"),
            Some("genauth_session=sealed-value")
        );
        assert!(!format!("{reply:?}").contains("sealed-value"));
        let text = Reply::text(401, "no");
        assert_eq!(text.header_value("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            ExtractError::NotSignedIn.reply(),
            Reply::text(401, "sign-in required")
        );
    }
}
