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
//! | file | concept |
//! | --- | --- |
//! | `login.rs` | [`PendingLogin`], [`start`], [`finish`]: the state machine and its checks |
//! | `error.rs` | [`LoginError`]: each failure with its status and page |
//! | `callback.rs` | [`CallbackParams`]: what the provider sends back |
//! | `cas.rs` | the CAS service binding |
//! | `return_to.rs` | [`safe_return_to`], [`login_required`]: where browsers go |
//! | `sign_in.rs` | [`SessionManager::begin_login`](crate::session::SessionManager::begin_login), [`complete_login`](crate::session::SessionManager::complete_login) and their routes |
//!
//! ```
//! use genauth::login::safe_return_to;
//!
//! assert_eq!(safe_return_to("/orders?page=2").as_deref(), Some("/orders?page=2"));
//! assert_eq!(safe_return_to("//evil.example"), None);
//! assert_eq!(safe_return_to("https://evil.example/"), None);
//! ```

mod callback;
mod cas;
mod error;
mod return_to;
mod sign_in;

pub use callback::{CallbackParams, return_to_from_query};
pub use cas::bind_cas_service;
pub use error::LoginError;
pub use return_to::{
    MAX_RETURN_TO_LEN, login_redirect, login_required, safe_return_to, wants_login_redirect,
};
pub use sign_in::CallbackFailure;

use crate::authorize::{AuthorizationRequest, AuthorizeParams};
use crate::config::Protocol;
use crate::session::{AuthUser, Session, SessionCodec, SessionError};
use crate::token::LoginState;
use crate::types::{CodeVerifier, CsrfState, Nonce};
use crate::{Client, Error};
use cas::{cas_login_of, check_cas_login};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime};
use url::Url;

/// The default time a login may take from the redirect to the provider until the callback: 10
/// minutes ([`CookieSettings::login_ttl`](crate::session::CookieSettings::login_ttl) sets another).
pub const LOGIN_TIMEOUT: Duration = crate::session::DEFAULT_LOGIN_TTL;

/// The query parameter [`bind_cas_service`] adds to the CAS service URL of each login, and the
/// callback must carry back: `genauth_login`. Do not use it in the redirect URI yourself.
pub const CAS_LOGIN_PARAM: &str = "genauth_login";

/// Longest provider `error` / `error_description` kept in a [`LoginError`], in characters.
const MAX_PROVIDER_TEXT_LEN: usize = 300;

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

/// Sealing of the pending login into the (short-lived) login cookie.
impl SessionCodec {
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

    /// Opens a pending login sealed for the cookie `name`; `None` as for
    /// [`open_value`](Self::open_value).
    pub fn open_pending(&self, name: &str, sealed: &str) -> Option<PendingLogin> {
        self.open_value(name, sealed)
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

/// RFC 9207 §2.4: an `iss` present must equal the issuer; absent, it is required only when the
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

#[cfg(test)]
mod tests;
