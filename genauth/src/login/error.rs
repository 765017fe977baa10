//! [`LoginError`]: why a callback did not sign the user in, with its status and page.

use crate::Error;
use crate::config::Protocol;
use crate::session::SessionError;
use crate::web::Reply;

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
    /// The login took longer than the login TTL ([`LOGIN_TIMEOUT`](super::LOGIN_TIMEOUT) by default).
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
    /// [CAS service binding](crate::login#cas-service-binding).
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
