//! The browser sign-in state machine shared by every web adapter.
//!
//! 1. [`start`]: builds the authorization request and the [`PendingLogin`] (state, nonce, PKCE
//!    verifier, return-to path) the application keeps until the callback, usually in a short-lived
//!    sealed cookie ([`SessionCodec::seal_pending`](crate::session::SessionCodec::seal_pending)).
//! 2. The provider sends the browser back to the callback with [`CallbackParams`].
//! 3. [`finish`]: checks the callback against the pending login and turns it into a
//!    [`Session`]: provider `error` first, then `state`, `iss` (RFC 9207), the login's age, then the
//!    code exchange with PKCE and ID-token verification (OIDC), the user from UserInfo (OAuth 2.0), or
//!    the CAS ticket validated at `serviceValidate` (CAS).
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
use crate::types::{CodeVerifier, CsrfState, Nonce};
use crate::{Client, Error};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime};
use url::Url;

/// How long a login may take from the redirect to the provider until the callback: 10 minutes.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

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
    /// opened twice, in another browser, or after more than 10 minutes).
    #[error("no sign-in is in progress in this browser, or it expired; please sign in again")]
    NoPendingLogin,
    /// The login took longer than [`LOGIN_TIMEOUT`].
    #[error("the sign-in took too long; please sign in again")]
    Expired,
    /// The callback has no `state` (RFC 6749 §4.1.2).
    #[error("the callback has no `state` parameter")]
    MissingState,
    /// The callback's `state` differs from the login's (RFC 6749 §10.12: possible CSRF, or a login
    /// started in another tab).
    #[error("the callback's `state` does not match the sign-in in progress; please sign in again")]
    StateMismatch,
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
    /// - state, issuer, repeated parameter, code, ticket, expiry, missing login: 400;
    /// - provider calls: [`Error::status_code`] (400 `invalid_grant`, 401 invalid token or CAS ticket,
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
            | Self::IssuerMismatch
            | Self::MalformedCallback(_)
            | Self::MissingCode
            | Self::MissingTicket => 400,
            Self::NoSubject => 502,
            Self::Client(e) => e.status_code(),
            Self::ProtocolMismatch { .. } => 500,
            Self::Session(e) => e.status_code(),
        }
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
/// redacts `code` and `ticket`.
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
/// Serializable (seal it into a cookie); `Debug` redacts the secrets.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    /// The `redirect_uri` of the authorization request (CAS: the `service`).
    pub redirect_uri: Option<Url>,
    /// The protocol of the login.
    #[serde(with = "crate::session::protocol_serde")]
    pub protocol: Protocol,
    /// When the login started.
    pub created_at: SystemTime,
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
/// 1. the provider's `error` (RFC 6749 §4.1.2.1) → [`LoginError::Provider`];
/// 2. the protocol and the login's age ([`LOGIN_TIMEOUT`]);
/// 3. OIDC / OAuth 2.0: `state` in constant time (RFC 6749 §10.12), `iss` (RFC 9207 §2.4), then the
///    code exchange with the PKCE verifier (RFC 7636 §4.5) and the `redirect_uri` of the request; OIDC
///    verifies the ID token with the nonce ([`Client::login_state_from_code`]) and takes the user from
///    its claims; OAuth 2.0 (or an OIDC answer without ID token) takes the user from UserInfo;
/// 4. CAS: the `ticket` validated at `serviceValidate` with `service` = the callback URL (CAS protocol
///    §2.5); the CAS user and attributes become the user, and the session holds no tokens.
///
/// # Errors
/// Each [`LoginError`] variant, as listed; SAML has no callback here ([`Error::Unsupported`]).
pub async fn finish(
    client: &Client,
    pending: PendingLogin,
    params: &CallbackParams,
) -> Result<Session, LoginError> {
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
            check_state(&pending, params)?;
            check_issuer(client, params)?;
            check_age(&pending)?;
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
            let user = match &tokens.id_token_claims {
                Some(claims) => {
                    AuthUser::from_claims(claims, protocol).ok_or(LoginError::NoSubject)?
                }
                None => {
                    let info = client.userinfo(&tokens.access_token).await?;
                    let claims = match serde_json::to_value(&info) {
                        Ok(serde_json::Value::Object(map)) => map,
                        _ => crate::ExtraClaims::new(),
                    };
                    if info.sub.is_empty() {
                        return Err(LoginError::NoSubject);
                    }
                    AuthUser::with_claims(info.sub, claims, protocol)
                }
            };
            Ok(Session::with_tokens(user, tokens))
        }
        Protocol::Cas => {
            check_age(&pending)?;
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

/// RFC 6749 §10.12: the callback's `state` must equal the login's (compared in constant time).
fn check_state(pending: &PendingLogin, params: &CallbackParams) -> Result<(), LoginError> {
    let expected = pending.state.as_ref().ok_or(LoginError::StateMismatch)?;
    let received = params.state.as_deref().ok_or(LoginError::MissingState)?;
    if *expected == CsrfState::new(received) {
        Ok(())
    } else {
        Err(LoginError::StateMismatch)
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

fn check_age(pending: &PendingLogin) -> Result<(), LoginError> {
    if pending.is_expired(SystemTime::now(), LOGIN_TIMEOUT) {
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
        assert!(matches!(check_age(&p), Err(LoginError::Expired)));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["protocol"], "oidc");
        let back: PendingLogin = serde_json::from_value(json).unwrap();
        assert_eq!(back.state, p.state);
        assert!(!format!("{p:?}").contains("\"s\""));
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
