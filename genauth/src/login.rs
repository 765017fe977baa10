//! The browser sign-in state machine shared by every web adapter.
//!
//! 1. [`start`]: builds the authorization request and the [`PendingLogin`] (state, nonce, PKCE
//!    verifier, return-to path) the application keeps until the callback, usually in a short-lived
//!    sealed cookie ([`SessionCodec::seal_pending`](crate::session::SessionCodec::seal_pending)).
//! 2. The provider sends the browser back to the callback with [`CallbackParams`].
//! 3. [`finish`]: checks the callback against the pending login and turns it into a
//!    [`Session`]: first that the callback belongs to this login (`state`; the CAS service binding),
//!    only then the provider's `error`, `iss` (RFC 9207), the login's age, then the code exchange
//!    with PKCE and ID-token verification (OIDC), the user from UserInfo (OAuth 2.0), or the CAS
//!    ticket validated at `serviceValidate` (CAS).
//!
//! # CAS service binding
//! CAS has no `state`: a ticket issued for the application's service URL signs in whoever presents
//! it, so an attacker could send a victim's browser, login in progress, to the callback with the
//! attacker's own ticket (login CSRF). [`bind_cas_service`] makes the service URL of each login
//! unique, the callback URL plus `genauth_login=<256 random bits>` ([`CAS_LOGIN_PARAM`]); the
//! pending login keeps it as its `redirect_uri`, [`finish`] requires the callback to carry the same
//! value (compared in constant time) and validates the ticket with exactly that service URL, which
//! the CAS server checks against the ticket's (CAS protocol 3.0 §2.5.1).
//!
//! [`safe_return_to`] keeps the post-login redirect on the application's own origin.
//!
//! ```
//! use genauth::login::safe_return_to;
//!
//! assert_eq!(safe_return_to("/orders?page=2").as_deref(), Some("/orders?page=2"));
//! assert_eq!(safe_return_to("//evil.example"), None);
//! assert_eq!(safe_return_to("https://evil.example/"), None);
//! ```

use crate::authorize::{AuthorizationRequest, AuthorizeParams};
use crate::config::Protocol;
use crate::session::{AuthUser, Reply, Session, SessionError};
use crate::token::LoginState;
use crate::types::{CodeVerifier, CsrfState, Nonce};
use crate::{Client, Error};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime};
use subtle::ConstantTimeEq;
use url::Url;

/// The default time a login may take from the redirect to the provider until the callback: 10
/// minutes ([`CookieSettings::login_ttl`](crate::session::CookieSettings::login_ttl) sets another).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The query parameter [`bind_cas_service`] adds to the CAS service URL of each login, and the
/// callback must carry back: `genauth_login`. Do not use it in the redirect URI yourself.
pub const CAS_LOGIN_PARAM: &str = "genauth_login";

/// Longest return-to path kept, in bytes; longer ones fall back to `/`.
pub const MAX_RETURN_TO_LEN: usize = 2048;

/// Longest provider `error` / `error_description` kept in a [`LoginError`], in characters.
const MAX_PROVIDER_TEXT_LEN: usize = 300;

/// Why a callback did not sign the user in. [`status_code`](Self::status_code) is the response status:
/// 4xx for what the browser or the provider's answer caused, 502/503 for provider failures, never 500
/// except for configuration errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The provider answered the authorization request with an error (RFC 6749 §4.1.2.1), e.g. the
    /// user denied consent (`access_denied`).
    #[error("the provider refused the sign-in: {error}{}", describe(.description))]
    Provider {
        /// The `error` code (printable ASCII, at most 300 characters).
        error: String,
        /// The `error_description`, if any (same bounds).
        description: Option<String>,
    },
    /// No login is in progress: the login cookie is missing, expired or does not open (a callback
    /// opened twice, in another browser, or after the login TTL, 10 minutes by default).
    #[error("no sign-in is in progress in this browser, or it expired; please sign in again")]
    NoPendingLogin,
    /// The login took longer than the login TTL ([`LOGIN_TIMEOUT`] by default).
    #[error("the sign-in took too long; please sign in again")]
    Expired,
    /// The callback of a code flow has no `state` (RFC 6749 §4.1.2). A provider `error` without
    /// `state` is a [`StateMismatch`](Self::StateMismatch).
    #[error("the callback has no `state` parameter")]
    MissingState,
    /// The callback's `state` differs from the login's, or an error callback has none (RFC 6749
    /// §10.12: possible CSRF, or a login started in another tab). The provider's `error` of such a
    /// callback is not shown: anyone can craft it.
    #[error("the callback's `state` does not match the sign-in in progress; please sign in again")]
    StateMismatch,
    /// A CAS callback without the `genauth_login` value of the login in progress, or with another
    /// one: a ticket issued for another sign-in (possible login CSRF). See
    /// [CAS service binding](self#cas-service-binding).
    #[error(
        "the callback's CAS service does not match the sign-in in progress; please sign in again"
    )]
    CasServiceMismatch,
    /// The callback's `iss` is not the provider's issuer, or is missing although the provider
    /// announces it (RFC 9207 §2.4: possible mix-up attack).
    #[error("the callback's `iss` does not identify the expected provider")]
    IssuerMismatch,
    /// The callback's query string repeats a parameter (RFC 6749 §3.1: parameters must not be
    /// included more than once).
    #[error("the callback's query string repeats the `{0}` parameter")]
    MalformedCallback(&'static str),
    /// The callback has no `code` (OIDC, OAuth 2.0).
    #[error("the callback has no authorization `code`")]
    MissingCode,
    /// The callback has no CAS `ticket`.
    #[error("the callback has no CAS `ticket`")]
    MissingTicket,
    /// The login was started for another protocol than the client's (configuration changed meanwhile).
    #[error("the sign-in was started with protocol {started:?} but the client uses {current:?}")]
    ProtocolMismatch {
        /// The protocol of the pending login.
        started: Protocol,
        /// The client's protocol.
        current: Protocol,
    },
    /// The provider's answer identifies no user (no `sub`).
    #[error("the provider's answer identifies no user (no `sub`)")]
    NoSubject,
    /// A provider call failed: code exchange, ID-token verification, UserInfo, CAS validation.
    #[error(transparent)]
    Client(#[from] Error),
    /// The session or login cookie could not be sealed.
    #[error(transparent)]
    Session(SessionError),
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

impl LoginError {
    /// The HTTP status:
    /// - provider `error`: 403 for `access_denied`, 503 for `temporarily_unavailable`, 502 for
    ///   `server_error`, 400 otherwise;
    /// - state, CAS service, issuer, repeated parameter, code, ticket, expiry, missing login: 400;
    /// - an ID token that fails verification (signature, nonce, audience, …): 400, a sign-in
    ///   response that could not be verified (no `WWW-Authenticate` challenge applies); 503 when
    ///   the provider's keys cannot be fetched;
    /// - other provider calls: [`Error::status_code`] (400 `invalid_grant` or rejected CAS ticket,
    ///   502 bad answer, 503 unreachable, 500 configuration);
    /// - no subject: 502; protocol mismatch and sealing: 500.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Provider { error, .. } => match error.as_str() {
                "access_denied" => 403,
                "temporarily_unavailable" => 503,
                "server_error" => 502,
                _ => 400,
            },
            Self::NoPendingLogin
            | Self::Expired
            | Self::MissingState
            | Self::StateMismatch
            | Self::CasServiceMismatch
            | Self::IssuerMismatch
            | Self::MalformedCallback(_)
            | Self::MissingCode
            | Self::MissingTicket => 400,
            Self::NoSubject => 502,
            Self::Client(e @ Error::Validation(_)) if e.status_code() < 500 => 400,
            Self::Client(e) => e.status_code(),
            Self::ProtocolMismatch { .. } => 500,
            Self::Session(e) => e.status_code(),
        }
    }

    /// Whether the callback does not belong to the login in progress (`state` or CAS service
    /// mismatch): that login is then kept, so that a forged callback cannot cancel it.
    pub(crate) fn is_foreign_callback(&self) -> bool {
        matches!(
            self,
            Self::MissingState | Self::StateMismatch | Self::CasServiceMismatch
        )
    }

    /// The default page of a failed sign-in: plain text with [`status_code`](Self::status_code),
    /// what went wrong, and where to start again.
    pub fn page(&self, login_path: &str) -> Reply {
        Reply::text(
            self.status_code(),
            format!("Sign-in failed.\n\n{self}\n\nTo try again, go to {login_path}\n"),
        )
    }
}

/// What the provider sends back to the callback, as query parameters (RFC 6749 §4.1.2, RFC 9207, CAS
/// protocol §2.2). Deserialize it from the query string; unknown parameters are ignored. `Debug`
/// redacts `code`, `state`, `ticket` and `cas_login`.
#[derive(Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct CallbackParams {
    /// The authorization code (OIDC, OAuth 2.0).
    pub code: Option<String>,
    /// The `state` echoed by the provider.
    pub state: Option<String>,
    /// The provider's error code, when the sign-in failed.
    pub error: Option<String>,
    /// The provider's error description.
    pub error_description: Option<String>,
    /// The issuer of the response (RFC 9207 §2).
    pub iss: Option<String>,
    /// The CAS service ticket (`ST-…`).
    pub ticket: Option<String>,
    /// The [`CAS_LOGIN_PARAM`] (`genauth_login`) of a CAS callback: the value binding the ticket's
    /// service URL to one login ([`bind_cas_service`]).
    #[serde(rename = "genauth_login")]
    pub cas_login: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("CallbackParams")
            .field("code", &redact(&self.code))
            .field("state", &redact(&self.state))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("iss", &self.iss)
            .field("ticket", &redact(&self.ticket))
            .field("cas_login", &redact(&self.cas_login))
            .finish()
    }
}

impl CallbackParams {
    /// Callback parameters carrying an authorization code and state.
    pub fn code(code: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            code: Some(code.into()),
            state: Some(state.into()),
            ..Self::default()
        }
    }

    /// Callback parameters carrying a CAS ticket.
    pub fn ticket(ticket: impl Into<String>) -> Self {
        Self {
            ticket: Some(ticket.into()),
            ..Self::default()
        }
    }

    /// Sets the CAS login binding ([`CAS_LOGIN_PARAM`]).
    #[must_use]
    pub fn with_cas_login(mut self, value: impl Into<String>) -> Self {
        self.cas_login = Some(value.into());
        self
    }

    /// Sets `state`.
    #[must_use]
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Callback parameters carrying a provider error.
    pub fn error(error: impl Into<String>, description: Option<String>) -> Self {
        Self {
            error: Some(error.into()),
            error_description: description,
            ..Self::default()
        }
    }

    /// Sets `iss`.
    #[must_use]
    pub fn with_iss(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some(iss.into());
        self
    }

    /// The parameters of a callback's query string (without `?`), percent-decoded; unknown
    /// parameters are ignored. What every adapter's callback route reads.
    ///
    /// # Errors
    /// [`LoginError::MalformedCallback`] when a parameter appears twice (RFC 6749 §3.1).
    pub fn from_query(query: &str) -> Result<Self, LoginError> {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let (field, name) = match &*name {
                "code" => (&mut params.code, "code"),
                "state" => (&mut params.state, "state"),
                "error" => (&mut params.error, "error"),
                "error_description" => (&mut params.error_description, "error_description"),
                "iss" => (&mut params.iss, "iss"),
                "ticket" => (&mut params.ticket, "ticket"),
                CAS_LOGIN_PARAM => (&mut params.cas_login, CAS_LOGIN_PARAM),
                _ => continue,
            };
            if field.replace(value.into_owned()).is_some() {
                return Err(LoginError::MalformedCallback(name));
            }
        }
        Ok(params)
    }
}

/// The `return_to` parameter of a login route's query string (without `?`), percent-decoded;
/// `None` when absent or repeated. Check it with [`safe_return_to`] before redirecting to it
/// ([`PendingLogin::new`] does).
pub fn return_to_from_query(query: &str) -> Option<String> {
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "return_to")
        .map(|(_, value)| value.into_owned());
    let first = values.next();
    if values.next().is_some() {
        return None;
    }
    first
}

/// A login in progress: what the callback must check, kept between [`start`] and [`finish`].
/// Serializable (seal it into a cookie); `Debug` redacts the secrets (also the CAS login binding of
/// `redirect_uri`).
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingLogin {
    /// The `state` sent to the provider (`None` for CAS and SAML).
    pub state: Option<CsrfState>,
    /// The `nonce` the ID token must carry (OIDC).
    pub nonce: Option<Nonce>,
    /// The PKCE verifier for the code exchange.
    pub code_verifier: Option<CodeVerifier>,
    /// Where to send the browser after sign-in: a path on this origin (checked by [`safe_return_to`]).
    pub return_to: String,
    /// The `redirect_uri` of the authorization request (CAS: the `service`, with its
    /// [`CAS_LOGIN_PARAM`] when bound).
    pub redirect_uri: Option<Url>,
    /// The protocol of the login.
    #[serde(with = "crate::session::protocol_serde")]
    pub protocol: Protocol,
    /// When the login started.
    pub created_at: SystemTime,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redirect_uri = self.redirect_uri.as_ref().map(|uri| {
            if cas_login_of(uri).is_some() {
                let mut shown = uri.clone();
                shown.set_query(Some(&format!("{CAS_LOGIN_PARAM}=[redacted]")));
                shown.to_string()
            } else {
                uri.to_string()
            }
        });
        f.debug_struct("PendingLogin")
            .field("state", &self.state)
            .field("nonce", &self.nonce)
            .field("code_verifier", &self.code_verifier)
            .field("return_to", &self.return_to)
            .field("redirect_uri", &redirect_uri)
            .field("protocol", &self.protocol)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl PendingLogin {
    /// The pending login of an authorization request, started now. `return_to` is checked with
    /// [`safe_return_to`]; `/` when absent or unsafe.
    pub fn new(
        request: &AuthorizationRequest,
        protocol: Protocol,
        return_to: Option<&str>,
    ) -> Self {
        let return_to = match return_to {
            Some(path) => safe_return_to(path).unwrap_or_else(|| {
                tracing::debug!("unsafe return_to replaced by `/`");
                "/".to_owned()
            }),
            None => "/".to_owned(),
        };
        Self {
            state: request.state.clone(),
            nonce: request.nonce.clone(),
            code_verifier: request.code_verifier.clone(),
            return_to,
            redirect_uri: request.redirect_uri.clone(),
            protocol,
            created_at: SystemTime::now(),
        }
    }

    /// Whether the login started more than `timeout` before `now`.
    pub fn is_expired(&self, now: SystemTime, timeout: Duration) -> bool {
        now.duration_since(self.created_at)
            .is_ok_and(|age| age > timeout)
    }
}

/// Starts a sign-in: the authorization request for the client's protocol (fresh `state`, `nonce` and
/// PKCE verifier unless `params` sets them) and the [`PendingLogin`] to keep until the callback.
/// For CAS, pass a service URL made unique with [`bind_cas_service`] as `params.redirect_uri`
/// ([`SessionManager::begin_login`](crate::session::SessionManager::begin_login) does, and always
/// generates `state`, `nonce` and an `S256` PKCE verifier).
///
/// # Errors
/// [`LoginError::Client`] when the request cannot be built (no redirect URI, SAML/CAS without a GenAuth
/// host, RNG failure).
pub fn start(
    client: &Client,
    return_to: Option<&str>,
    params: &AuthorizeParams,
) -> Result<(AuthorizationRequest, PendingLogin), LoginError> {
    let request = client.authorization_request(params)?;
    let pending = PendingLogin::new(&request, client.config().protocol(), return_to);
    Ok((request, pending))
}

/// Completes a sign-in at the callback, checking in this order:
/// 1. that the callback belongs to this login: OIDC / OAuth 2.0 `state` in constant time (RFC 6749
///    §10.12; an `error` without `state` is a mismatch too), CAS the service binding
///    ([`bind_cas_service`]) in constant time. Before anything the callback says is acted on: the
///    `error` of a forged callback is not shown;
/// 2. the provider's `error` (RFC 6749 §4.1.2.1) → [`LoginError::Provider`];
/// 3. the protocol, then the login's age against `login_ttl` (the login cookie's lifetime,
///    [`LOGIN_TIMEOUT`] by default);
/// 4. OIDC / OAuth 2.0: `iss` (RFC 9207 §2.4), then the code exchange with the PKCE verifier (RFC
///    7636 §4.5) and the `redirect_uri` of the request; OIDC verifies the ID token with the nonce
///    ([`Client::login_state_from_code`]) and takes the user from its claims; OAuth 2.0 (or an OIDC
///    answer without ID token) takes the user from UserInfo;
/// 5. CAS: the `ticket` validated at `serviceValidate` with exactly the login's service URL (CAS
///    protocol 3.0 §2.5); the CAS user and attributes become the user, and the session holds no
///    tokens.
///
/// # Errors
/// Each [`LoginError`] variant, as listed; SAML has no callback here ([`Error::Unsupported`]).
pub async fn finish(
    client: &Client,
    pending: PendingLogin,
    params: &CallbackParams,
    login_ttl: Duration,
) -> Result<Session, LoginError> {
    match pending.protocol {
        Protocol::Oidc | Protocol::OAuth2 => check_state(&pending, params)?,
        Protocol::Cas => check_cas_login(&pending, params)?,
        Protocol::Saml => {}
    }
    if params.error.is_some() {
        return Err(provider_error(params));
    }
    let protocol = client.config().protocol();
    if pending.protocol != protocol {
        return Err(LoginError::ProtocolMismatch {
            started: pending.protocol,
            current: protocol,
        });
    }
    match protocol {
        Protocol::Oidc | Protocol::OAuth2 => {
            check_issuer(client, params)?;
            check_age(&pending, login_ttl)?;
            let code = params.code.as_deref().ok_or(LoginError::MissingCode)?;
            // OIDC Core §3.1.2.1: the nonce binds the ID token to this login (none in OAuth 2.0).
            let nonce = pending
                .nonce
                .as_ref()
                .filter(|_| protocol == Protocol::Oidc);
            let tokens = client
                .login_state_from_code(
                    code,
                    pending.code_verifier.as_ref(),
                    pending.redirect_uri.as_ref(),
                    nonce,
                )
                .await?;
            let user = signed_in_user(client, protocol, &tokens).await?;
            Ok(Session::with_tokens(user, tokens))
        }
        Protocol::Cas => {
            check_age(&pending, login_ttl)?;
            let ticket = params.ticket.as_deref().ok_or(LoginError::MissingTicket)?;
            let service = pending.redirect_uri.as_ref().ok_or_else(|| {
                Error::Config(crate::ConfigError::Missing(
                    "redirect_uri (the CAS service)",
                ))
            })?;
            let cas = client
                .validate_cas_ticket_v2(service.as_str(), ticket)
                .await?;
            if cas.user.is_empty() {
                return Err(LoginError::NoSubject);
            }
            Ok(Session::new(AuthUser::with_claims(
                cas.user,
                cas.attributes,
                protocol,
            )))
        }
        Protocol::Saml => Err(LoginError::Client(Error::Unsupported(
            "SAML responses are not handled by this crate; only SAML login links are".into(),
        ))),
    }
}

/// The [`LoginError::Provider`] of a callback carrying `error`, with its texts made safe to show:
/// printable ASCII, at most 300 characters.
pub fn provider_error(params: &CallbackParams) -> LoginError {
    LoginError::Provider {
        error: printable(params.error.as_deref().unwrap_or("unknown_error")),
        description: params.error_description.as_deref().map(printable),
    }
}

fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(MAX_PROVIDER_TEXT_LEN)
        .collect()
}

/// RFC 6749 §10.12: the callback's `state` must equal the login's (compared in constant time). An
/// error callback without `state` is a mismatch: it cannot be tied to this login.
fn check_state(pending: &PendingLogin, params: &CallbackParams) -> Result<(), LoginError> {
    let expected = pending.state.as_ref().ok_or(LoginError::StateMismatch)?;
    let received = match (params.state.as_deref(), &params.error) {
        (Some(state), _) => state,
        (None, Some(_)) => return Err(LoginError::StateMismatch),
        (None, None) => return Err(LoginError::MissingState),
    };
    if *expected == CsrfState::new(received) {
        Ok(())
    } else {
        Err(LoginError::StateMismatch)
    }
}

/// Makes a CAS service URL unique to one login: `service` plus `genauth_login=<256 random bits,
/// base64url>` ([`CAS_LOGIN_PARAM`]) after any query it already has, e.g.
/// `https://app.example.com/callback?genauth_login=3q2-…` (43 characters). Use the result as the
/// authorization request's `redirect_uri`; [`finish`] then accepts only a callback carrying the same
/// value, and validates the ticket for exactly this URL. See
/// [CAS service binding](self#cas-service-binding).
///
/// # Errors
/// [`LoginError::Client`] ([`Error::Random`]) if the OS random number generator fails.
pub fn bind_cas_service(service: &Url) -> Result<Url, LoginError> {
    let value = crate::types::random_token(32)?;
    let mut bound = service.clone();
    let query = match service.query() {
        Some(query) if !query.is_empty() => format!("{query}&{CAS_LOGIN_PARAM}={value}"),
        _ => format!("{CAS_LOGIN_PARAM}={value}"),
    };
    bound.set_query(Some(&query));
    Ok(bound)
}

/// The [`CAS_LOGIN_PARAM`] value of a service URL, if bound.
fn cas_login_of(service: &Url) -> Option<String> {
    service
        .query_pairs()
        .find(|(name, _)| name == CAS_LOGIN_PARAM)
        .map(|(_, value)| value.into_owned())
}

/// A CAS login whose service URL was bound ([`bind_cas_service`]) accepts only the callback carrying
/// the same value (compared in constant time): the ticket of another login's service URL, such as
/// an attacker's, is refused before it is validated. An unbound login (binding turned off) has
/// nothing to check here; the ticket is still validated for its service URL.
fn check_cas_login(pending: &PendingLogin, params: &CallbackParams) -> Result<(), LoginError> {
    let Some(expected) = pending.redirect_uri.as_ref().and_then(cas_login_of) else {
        return Ok(());
    };
    match params.cas_login.as_deref() {
        Some(received) if bool::from(expected.as_bytes().ct_eq(received.as_bytes())) => Ok(()),
        _ => Err(LoginError::CasServiceMismatch),
    }
}

/// The signed-in user of an OIDC or OAuth 2.0 login.
///
/// - OIDC: the verified ID token's claims, completed by the UserInfo endpoint when the provider has
///   one (ID tokens from the code flow often carry no profile claims). The UserInfo claims are used only
///   when their `sub` equals the ID token's (OpenID Connect Core §5.3.2); a UserInfo failure keeps the
///   ID token's claims rather than failing the sign-in.
/// - OAuth 2.0 (or OIDC without an ID token): the UserInfo response (GenAuth `/oauth/me`), which must
///   carry a `sub`.
async fn signed_in_user(
    client: &Client,
    protocol: Protocol,
    tokens: &LoginState,
) -> Result<AuthUser, LoginError> {
    match (&tokens.id_token_claims, protocol) {
        (Some(claims), Protocol::Oidc) => {
            let mut user = AuthUser::from_claims(claims, protocol).ok_or(LoginError::NoSubject)?;
            if client.metadata().userinfo_endpoint.is_some() {
                match client.userinfo(&tokens.access_token).await {
                    Ok(info) if info.sub == user.sub => {
                        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(&info) {
                            for (name, value) in map {
                                if name != "sub" {
                                    user.claims.insert(name, value);
                                }
                            }
                        }
                    }
                    Ok(_) => tracing::warn!(
                        "userinfo `sub` differs from the ID token's; its claims are ignored"
                    ),
                    Err(error) => tracing::debug!(
                        %error,
                        "userinfo unavailable at sign-in; the ID token's claims are used"
                    ),
                }
            }
            Ok(user)
        }
        _ => {
            let info = client.userinfo(&tokens.access_token).await?;
            if info.sub.is_empty() {
                return Err(LoginError::NoSubject);
            }
            let claims = match serde_json::to_value(&info) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => crate::ExtraClaims::new(),
            };
            Ok(AuthUser::with_claims(info.sub, claims, protocol))
        }
    }
}

/// RFC 9207 §2.4: an `iss` present must equal the issuer; absent, it is required only when the
/// provider announces `authorization_response_iss_parameter_supported`.
fn check_issuer(client: &Client, params: &CallbackParams) -> Result<(), LoginError> {
    let metadata = client.metadata();
    match params.iss.as_deref() {
        Some(iss) if iss == metadata.issuer => Ok(()),
        Some(_) => Err(LoginError::IssuerMismatch),
        None if metadata.authorization_response_iss_parameter_supported => {
            Err(LoginError::IssuerMismatch)
        }
        None => Ok(()),
    }
}

/// The login must not be older than the login TTL.
fn check_age(pending: &PendingLogin, login_ttl: Duration) -> Result<(), LoginError> {
    if pending.is_expired(SystemTime::now(), login_ttl) {
        Err(LoginError::Expired)
    } else {
        Ok(())
    }
}

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
/// ([`wants_login_redirect`]) gets a 302 to [`login_redirect`]`(login_path, return_to)`, where
/// `return_to` is the request's path and query; an API client a 401 text.
pub fn login_required(
    method: &str,
    accept: Option<&str>,
    has_authorization: bool,
    login_path: &str,
    return_to: &str,
) -> Reply {
    if wants_login_redirect(method, accept, has_authorization) {
        Reply::redirect(login_redirect(login_path, return_to))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_accepts_local_paths() {
        for ok in [
            "/",
            "/a",
            "/a/b?c=d&e=%2F#frag",
            "/a//b",
            "/@evil.com",
            "/%2F%2Fevil.com",
            "/a:b",
        ] {
            assert_eq!(safe_return_to(ok).as_deref(), Some(ok), "{ok}");
        }
        assert_eq!(
            safe_return_to("/caf\u{e9} x").as_deref(),
            Some("/caf%C3%A9%20x")
        );
    }

    #[test]
    fn return_to_rejects_open_redirects() {
        for bad in [
            "",
            "a",
            "evil.com",
            "//evil.com",
            "///evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "/a\\b",
            "https://evil.com",
            "http:/evil.com",
            "javascript:alert(1)",
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r\n/evil.com",
            "/\u{0}",
            "\u{0}/",
            " /a",
            "./a",
            "?x=/",
            "#/",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(
            safe_return_to(&format!("/{}", "a".repeat(MAX_RETURN_TO_LEN))),
            None
        );
    }

    #[test]
    fn login_redirect_encodes_return_to() {
        assert_eq!(
            login_redirect("/login", "/a?b=c&d"),
            "/login?return_to=%2Fa%3Fb%3Dc%26d"
        );
        assert_eq!(
            login_redirect("/auth/login?x=1", "/"),
            "/auth/login?x=1&return_to=%2F"
        );
    }

    #[test]
    fn browsers_are_redirected_api_clients_are_not() {
        assert!(wants_login_redirect(
            "GET",
            Some("text/html,application/xhtml+xml"),
            false
        ));
        assert!(wants_login_redirect("POST", Some("text/html"), false));
        assert!(wants_login_redirect("GET", None, false));
        assert!(wants_login_redirect("GET", Some("*/*"), false));
        assert!(!wants_login_redirect(
            "GET",
            Some("application/json"),
            false
        ));
        assert!(!wants_login_redirect("GET", None, true));
        assert!(!wants_login_redirect("POST", None, false));
        assert!(!wants_login_redirect("DELETE", Some("*/*"), false));
    }

    #[test]
    fn login_required_redirects_browsers_and_refuses_api_clients() {
        let reply = login_required("GET", Some("text/html"), false, "/auth/login", "/a?b=1");
        assert_eq!(reply.status, 302);
        assert_eq!(
            reply.header_value("location"),
            Some("/auth/login?return_to=%2Fa%3Fb%3D1")
        );
        let reply = login_required("GET", Some("application/json"), false, "/login", "/");
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (401, "sign-in required\n")
        );
        assert_eq!(
            reply.header_value("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn callback_params_from_query() {
        let p =
            CallbackParams::from_query("code=a%2Bb&state=s&iss=https%3A%2F%2Fop&x=1&x=2").unwrap();
        assert_eq!(p.code.as_deref(), Some("a+b"));
        assert_eq!(p.state.as_deref(), Some("s"));
        assert_eq!(p.iss.as_deref(), Some("https://op"));
        let p =
            CallbackParams::from_query("error=access_denied&error_description=no%20way").unwrap();
        assert_eq!(p.error_description.as_deref(), Some("no way"));
        assert!(CallbackParams::from_query("").unwrap().code.is_none());
        let e = CallbackParams::from_query("code=a&state=s&code=b").unwrap_err();
        assert!(matches!(e, LoginError::MalformedCallback("code")));
        assert_eq!(e.status_code(), 400);
        let page = e.page("/login");
        assert_eq!(page.status, 400);
        assert!(page.body.starts_with("Sign-in failed.") && page.body.contains("/login"));
    }

    #[test]
    fn return_to_from_query_takes_one_value() {
        assert_eq!(
            return_to_from_query("return_to=%2Fa%3Fb%3Dc&x=1").as_deref(),
            Some("/a?b=c")
        );
        assert_eq!(return_to_from_query("x=1"), None);
        assert_eq!(return_to_from_query("return_to=/a&return_to=/b"), None);
    }

    #[test]
    fn provider_errors_are_4xx_and_sanitised() {
        let e = provider_error(&CallbackParams::error(
            "access_denied",
            Some("user said \"no\"\n".into()),
        ));
        assert_eq!(e.status_code(), 403);
        assert_eq!(
            e.to_string(),
            "the provider refused the sign-in: access_denied (user said \"no\"?)"
        );
        assert_eq!(
            provider_error(&CallbackParams::error("invalid_scope", None)).status_code(),
            400
        );
        assert_eq!(
            provider_error(&CallbackParams::error("login_required", None)).status_code(),
            400
        );
        assert_eq!(
            provider_error(&CallbackParams::error("server_error", None)).status_code(),
            502
        );
        let long = provider_error(&CallbackParams::error("x".repeat(1000), None));
        assert!(
            matches!(long, LoginError::Provider { ref error, .. } if error.len() == MAX_PROVIDER_TEXT_LEN)
        );
    }

    fn pending(state: Option<&str>) -> PendingLogin {
        PendingLogin {
            state: state.map(CsrfState::new),
            nonce: Some(Nonce::new("n")),
            code_verifier: Some(CodeVerifier::new("v")),
            return_to: "/".into(),
            redirect_uri: None,
            protocol: Protocol::Oidc,
            created_at: SystemTime::now(),
        }
    }

    #[test]
    fn state_checks() {
        let p = pending(Some("s1"));
        assert!(check_state(&p, &CallbackParams::code("c", "s1")).is_ok());
        assert!(matches!(
            check_state(&p, &CallbackParams::code("c", "s2")),
            Err(LoginError::StateMismatch)
        ));
        assert!(matches!(
            check_state(&p, &CallbackParams::code("c", "s1x")),
            Err(LoginError::StateMismatch)
        ));
        let mut no_state = CallbackParams::code("c", "s1");
        no_state.state = None;
        assert!(matches!(
            check_state(&p, &no_state),
            Err(LoginError::MissingState)
        ));
        assert!(matches!(
            check_state(&pending(None), &CallbackParams::code("c", "")),
            Err(LoginError::StateMismatch)
        ));
        assert_eq!(LoginError::StateMismatch.status_code(), 400);
    }

    #[test]
    fn pending_login_expiry_and_serde() {
        let mut p = pending(Some("s"));
        assert!(!p.is_expired(SystemTime::now(), LOGIN_TIMEOUT));
        p.created_at = SystemTime::now() - LOGIN_TIMEOUT - Duration::from_secs(1);
        assert!(p.is_expired(SystemTime::now(), LOGIN_TIMEOUT));
        assert!(matches!(
            check_age(&p, LOGIN_TIMEOUT),
            Err(LoginError::Expired)
        ));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["protocol"], "oidc");
        let back: PendingLogin = serde_json::from_value(json).unwrap();
        assert_eq!(back.state, p.state);
        assert!(!format!("{p:?}").contains("\"s\""));
    }

    #[test]
    fn error_callbacks_must_carry_the_logins_state() {
        let p = pending(Some("s1"));
        let forged = CallbackParams::error("access_denied", Some("attacker text".into()));
        assert!(matches!(
            check_state(&p, &forged),
            Err(LoginError::StateMismatch)
        ));
        assert!(matches!(
            check_state(&p, &forged.clone().with_state("s2")),
            Err(LoginError::StateMismatch)
        ));
        assert!(check_state(&p, &forged.with_state("s1")).is_ok());
        assert!(LoginError::StateMismatch.is_foreign_callback());
        assert!(LoginError::MissingState.is_foreign_callback());
        assert!(LoginError::CasServiceMismatch.is_foreign_callback());
        assert!(!LoginError::Expired.is_foreign_callback());
        assert!(!provider_error(&CallbackParams::error("x", None)).is_foreign_callback());
    }

    #[test]
    fn cas_service_binding() {
        let callback = Url::parse("https://app.example.com/callback").unwrap();
        let a = bind_cas_service(&callback).unwrap();
        let b = bind_cas_service(&callback).unwrap();
        assert_ne!(a, b, "unique per login");
        let value = cas_login_of(&a).unwrap();
        assert_eq!(value.len(), 43);
        assert_eq!(
            a.as_str(),
            format!("https://app.example.com/callback?genauth_login={value}")
        );
        // An existing query is kept as it is.
        let with_query = Url::parse("https://app.example.com/cb?tenant=a%20b").unwrap();
        let bound = bind_cas_service(&with_query).unwrap();
        assert!(
            bound
                .as_str()
                .starts_with("https://app.example.com/cb?tenant=a%20b&genauth_login="),
            "{bound}"
        );

        let mut p = pending(None);
        p.protocol = Protocol::Cas;
        p.redirect_uri = Some(a.clone());
        let ticket = CallbackParams::ticket("ST-1");
        assert!(check_cas_login(&p, &ticket.clone().with_cas_login(&value)).is_ok());
        let other = cas_login_of(&b).unwrap();
        for params in [ticket.clone(), ticket.clone().with_cas_login(other)] {
            assert!(matches!(
                check_cas_login(&p, &params),
                Err(LoginError::CasServiceMismatch)
            ));
        }
        assert_eq!(LoginError::CasServiceMismatch.status_code(), 400);
        // Binding off: nothing to compare.
        p.redirect_uri = Some(callback);
        assert!(check_cas_login(&p, &ticket).is_ok());

        let parsed =
            CallbackParams::from_query(&format!("{}&ticket=ST-1", a.query().unwrap())).unwrap();
        assert_eq!(parsed.cas_login.as_deref(), Some(value.as_str()));
        assert!(matches!(
            CallbackParams::from_query("genauth_login=a&genauth_login=b"),
            Err(LoginError::MalformedCallback("genauth_login"))
        ));
        // Debug shows neither the binding of the pending login nor the callback's.
        p.redirect_uri = Some(a);
        assert!(!format!("{p:?}").contains(&value), "{p:?}");
        assert!(!format!("{parsed:?}").contains(&value), "{parsed:?}");
    }

    #[test]
    fn login_age_is_checked_against_the_given_ttl() {
        let mut p = pending(Some("s"));
        p.created_at = SystemTime::now() - Duration::from_secs(120);
        assert!(check_age(&p, LOGIN_TIMEOUT).is_ok());
        assert!(matches!(
            check_age(&p, Duration::from_secs(60)),
            Err(LoginError::Expired)
        ));
        p.created_at = SystemTime::now() - Duration::from_secs(15 * 60);
        assert!(check_age(&p, Duration::from_secs(30 * 60)).is_ok());
    }

    #[test]
    fn unverifiable_id_tokens_are_400_unreachable_keys_503() {
        use crate::validator::ValidationError;
        for e in [
            ValidationError::InvalidSignature,
            ValidationError::Malformed("x".into()),
            ValidationError::InvalidClaims("nonce".into()),
        ] {
            assert_eq!(LoginError::Client(Error::Validation(e)).status_code(), 400);
        }
        assert_eq!(
            LoginError::Client(Error::Validation(ValidationError::NoUsableKeys)).status_code(),
            503
        );
    }

    #[test]
    fn callback_params_debug_redacts_code() {
        let p = CallbackParams::code("the-code", "the-state");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("the-code") && !debug.contains("the-state"),
            "{debug}"
        );
    }
}
