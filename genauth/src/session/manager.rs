//! [`SessionManager`]: one application's sessions — open, refresh, store, clear — and the settings
//! its sign-in ([`crate::login`]) and logout ([`logout`](super::logout)) answers use.

use super::refresh::{REFRESH_CACHE_CAPACITY, RefreshCache};
use super::{CookieSettings, Revocations, Session, SessionCodec, SessionError, chunk_names};
use crate::Client;
use crate::authorize::AuthorizeParams;
use crate::clock::now_secs;
use crate::pkce::PkceMethod;
use crate::web::{CookieNames, RequestCookies, RequestHead};
use cookie::Cookie;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Default lead time for refreshing the access token before it expires: 60 seconds.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);

/// Default absolute lifetime of a session: 24 hours from sign-in, however often it is refreshed.
pub const DEFAULT_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// Default time a session goes on with its old tokens after the provider failed to refresh them.
pub const DEFAULT_REFRESH_RETRY_DELAY: Duration = Duration::from_secs(30);

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
    pub(crate) client: Client,
    pub(crate) codec: SessionCodec,
    pub(crate) cookies: CookieSettings,
    refresh_skew: Duration,
    pub(crate) refresh_retry_delay: Duration,
    pub(crate) revoke_on_logout: bool,
    pub(crate) cas_service_binding: bool,
    pub(crate) authorize_params: AuthorizeParams,
    pub(crate) post_logout_redirect_uri: Option<String>,
    /// Shared refresh outcomes ([`refresh`](super::refresh)).
    pub(crate) refreshes: Arc<RefreshCache>,
    absolute_lifetime: Duration,
    revocations: Arc<Revocations>,
    /// Back-channel logout tokens ([`backchannel_logout`](Self::backchannel_logout)); `None`
    /// without provider keys.
    pub(super) logout_tokens: Option<Arc<crate::logout_token::LogoutTokenVerifier>>,
    /// The server-side store ([`session_store`](Self::session_store)); `None`: the sealed cookie.
    pub(super) store: Option<Arc<dyn super::SessionStore>>,
    /// Revocations of cookie sessions shared by every instance
    /// ([`shared_revocations`](Self::shared_revocations)).
    pub(super) shared_revocations: Option<Arc<dyn super::RevocationStore>>,
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
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("store", &self.store)
            .field("shared_revocations", &self.shared_revocations)
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// A manager with cookie settings derived from the client's redirect URI
    /// ([`CookieSettings::for_redirect_uri`]), refresh 60 s before expiry (retried 30 s after a
    /// provider failure), no revocation on logout, CAS service binding on. The codec is bound to the
    /// client's issuer and client ID ([`SessionCodec::bound_to`]): another application's sessions,
    /// sealed with the same secret, do not open here.
    pub fn new(client: Client, codec: SessionCodec) -> Self {
        let cookies = CookieSettings::for_redirect_uri(client.config().redirect_uri());
        let codec = codec.bound_to(
            &client.metadata().issuer,
            client.config().client_id().as_str(),
        );
        Self {
            codec,
            cookies,
            refresh_skew: DEFAULT_REFRESH_SKEW,
            refresh_retry_delay: DEFAULT_REFRESH_RETRY_DELAY,
            revoke_on_logout: false,
            cas_service_binding: true,
            authorize_params: AuthorizeParams::default(),
            post_logout_redirect_uri: None,
            refreshes: Arc::new(RefreshCache::new(REFRESH_CACHE_CAPACITY)),
            absolute_lifetime: DEFAULT_ABSOLUTE_LIFETIME,
            revocations: Arc::new(Revocations::default()),
            logout_tokens: Self::logout_token_verifier(&client).map(Arc::new),
            store: None,
            shared_revocations: None,
            client,
        }
    }

    /// How long a session lasts from sign-in at most (default 24 hours): refreshes never extend it,
    /// and no session cookie is written to outlive it.
    pub fn absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime;
        self
    }

    /// The list of ended sessions, to share between managers of the same sessions (default: one of
    /// [`DEFAULT_REVOCATION_CAPACITY`](super::DEFAULT_REVOCATION_CAPACITY) entries per manager,
    /// shared by its clones).
    pub fn revocations(mut self, revocations: Arc<Revocations>) -> Self {
        self.revocations = revocations;
        self
    }

    /// The absolute lifetime ([`absolute_lifetime`](Self::absolute_lifetime)).
    pub fn get_absolute_lifetime(&self) -> Duration {
        self.absolute_lifetime
    }

    /// The list of ended sessions ([`revocations`](Self::revocations)).
    pub fn get_revocations(&self) -> &Arc<Revocations> {
        &self.revocations
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
    /// `genauth_login=<random>` ([`bind_cas_service`](crate::login::bind_cas_service)), so that a ticket issued for another
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

    /// The codec, bound to the client's issuer and client ID.
    pub fn codec(&self) -> &SessionCodec {
        &self.codec
    }

    /// The cookie settings ([`cookie_settings`](Self::cookie_settings)).
    pub fn get_cookie_settings(&self) -> &CookieSettings {
        &self.cookies
    }

    /// The cookie settings.
    #[deprecated(since = "0.1.1", note = "renamed to `get_cookie_settings`")]
    pub fn settings(&self) -> &CookieSettings {
        &self.cookies
    }

    /// The request's session from its sealed cookie, without refreshing it; `None` when it has
    /// none, one that does not open ([`SessionCodec::open`]), one past its
    /// [absolute lifetime](Self::absolute_lifetime), or one that was ended
    /// ([`logout`](Self::logout), [`sign_out_everywhere`](Self::sign_out_everywhere)). With a
    /// server-side store the cookie holds only the session ID: use [`fetch`](Self::fetch).
    pub fn open(&self, request: &RequestHead) -> Option<Session> {
        let cookies = request.cookies();
        let session = self
            .codec
            .open(&self.cookies.session_cookie_name(), |name| {
                cookies.get(name)
            })?;
        self.still_valid(session)
    }

    /// `session` unless it is past its absolute lifetime or was ended on this manager's
    /// [`Revocations`].
    pub(super) fn still_valid(&self, session: Session) -> Option<Session> {
        if self.ends_at(&session) <= now_secs() {
            tracing::debug!("session past its absolute lifetime; signed out");
            return None;
        }
        if self.revocations.is_revoked(&session) {
            tracing::debug!("session was ended; signed out");
            return None;
        }
        Some(session)
    }

    /// The end of `session`'s absolute lifetime, in seconds since the epoch.
    pub(super) fn ends_at(&self, session: &Session) -> u64 {
        session
            .created_at_secs()
            .saturating_add(self.absolute_lifetime.as_secs())
    }

    /// The last moment a cookie of `session` written until now can open: its absolute end, or
    /// the session TTL from now, whichever comes first.
    pub(super) fn last_valid_secs(&self, session: &Session) -> u64 {
        let ttl_end = now_secs().saturating_add(self.cookies.get_session_ttl().as_secs());
        self.ends_at(session).min(ttl_end)
    }

    /// Ends `session` for every copy of its cookies (on this manager's [`Revocations`]).
    ///
    /// # Errors
    /// [`SessionError::RevocationsFull`].
    pub fn end_session(&self, session: &Session) -> Result<(), SessionError> {
        let Some(id) = session.id() else {
            return Ok(());
        };
        if self
            .revocations
            .revoke_session(id, self.last_valid_secs(session))
        {
            Ok(())
        } else {
            Err(self.revocations_full())
        }
    }

    /// Signs the user `sub` out of every session they signed in to until now (every copy of every
    /// cookie; sessions started later are not affected, except one started within the same second):
    /// for a disabled account, a password change, "sign out everywhere". On this manager's
    /// [`Revocations`]: in this process only.
    ///
    /// # Errors
    /// [`SessionError::RevocationsFull`].
    pub fn sign_out_everywhere(&self, sub: &str) -> Result<(), SessionError> {
        let now = now_secs();
        let lifetime = self.cookies.get_session_ttl().min(self.absolute_lifetime);
        if self
            .revocations
            .revoke_subject(sub, now, now.saturating_add(lifetime.as_secs()))
        {
            Ok(())
        } else {
            Err(self.revocations_full())
        }
    }

    pub(super) fn revocations_full(&self) -> SessionError {
        let capacity = self.revocations.get_capacity();
        tracing::error!(
            capacity,
            "revocation list full; sessions could not be ended"
        );
        SessionError::RevocationsFull { capacity }
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
    pub(crate) fn writes_session<'a>(
        &self,
        set_cookies: impl IntoIterator<Item = &'a [u8]>,
    ) -> bool {
        let name = self.cookies.session_cookie_name();
        set_cookies.into_iter().any(|value| {
            let written = value.split(|b| *b == b'=').next().unwrap_or_default();
            chunk_names(&name).any(|chunk| chunk.as_bytes() == written.trim_ascii())
        })
    }

    /// The request's session, refreshed first when its access token is about to expire
    /// ([`open`](Self::open), then [`refresh_session`](Self::refresh_session) when
    /// [`needs_refresh`](Self::needs_refresh)).
    /// With a server-side store a store failure reads as no session here (logged); the session
    /// middleware answers 503 instead.
    pub async fn load(&self, request: &RequestHead) -> LoadedSession {
        let session = self.fetch(request).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "session store unavailable");
            None
        });
        match session {
            Some(session) if self.needs_refresh(&session) => {
                self.refresh_session(session, request.cookies()).await
            }
            session => LoadedSession {
                session,
                set_cookies: Vec::new(),
            },
        }
    }

    /// Refreshes an opened session and says which cookies to write (`cookies`: the request's, for the
    /// chunks to remove). A refresh rejected by the
    /// provider (`invalid_grant`, changed subject) ends the session (cookies removed); a provider that
    /// cannot be reached leaves it as it is, to retry on a later request.
    pub async fn refresh_session(
        &self,
        session: Session,
        cookies: &RequestCookies,
    ) -> LoadedSession {
        match self.refresh_once(session).await {
            Ok(Some(session)) => {
                let set_cookies = self.session_cookies(&session, cookies).unwrap_or_else(|e| {
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

    /// The cookies that store `session`, plus removals of chunks the request carries that the new
    /// value no longer uses: the sealed-cookie store's writer. With a server-side
    /// [`session_store`](Self::session_store), use [`save_session`](Self::save_session) (a cookie
    /// session does not open there).
    ///
    /// # Errors
    /// [`SessionError::TooLarge`], [`SessionError::Serialize`].
    pub fn store(
        &self,
        session: &Session,
        cookies: &RequestCookies,
    ) -> Result<Vec<Cookie<'static>>, SessionError> {
        let name = self.cookies.session_cookie_name();
        // Never past the absolute lifetime.
        let remaining = Duration::from_secs(self.ends_at(session).saturating_sub(now_secs()));
        let ttl = self.cookies.get_session_ttl().min(remaining);
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
}
