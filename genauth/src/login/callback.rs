//! [`CallbackParams`]: what the provider sends back to the callback, read from its query string.

use super::{CAS_LOGIN_PARAM, LoginError};
use serde::Deserialize;
use std::fmt;

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
    /// service URL to one login ([`bind_cas_service`](super::bind_cas_service)).
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
/// `None` when absent or repeated. Check it with [`safe_return_to`](super::safe_return_to) before redirecting to it
/// ([`PendingLogin::new`](super::PendingLogin::new) does).
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
