//! [`Error`]: every way a call to the provider, or a check of what it sent, can fail, and the HTTP
//! status a web adapter answers with for each. Its token-checking layer, [`ValidationError`], is in
//! `error/validation.rs`.

mod validation;

use crate::config::ConfigError;
pub use validation::ValidationError;
pub(crate) use validation::excerpt;

/// A failure of a `genauth` operation.
///
/// Messages never contain secrets or token values. [`Error::status_code`] gives the HTTP status a web
/// adapter should answer with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work (caught at build time where possible).
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The provider could not be reached, or did not answer in time (DNS, connect, TLS, timeout).
    #[error("{endpoint}: provider unreachable: {source}")]
    Transport {
        /// Which endpoint was called (`token_endpoint`, `jwks_uri`, ...).
        endpoint: &'static str,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The provider answered with an OAuth 2.0 error response (RFC 6749 §5.2, RFC 6750 §3.1).
    #[error("{endpoint}: provider returned `{error}` (HTTP {status}){}", describe(.error_description))]
    OAuth {
        /// Which endpoint was called.
        endpoint: &'static str,
        /// HTTP status of the response.
        status: u16,
        /// The `error` code, e.g. `invalid_grant`.
        error: String,
        /// The `error_description`, if any.
        error_description: Option<String>,
    },

    /// The provider answered with a GenAuth error envelope `{code, message}`.
    #[error("{endpoint}: GenAuth error {code} (HTTP {status}): {message}")]
    GenAuth {
        /// Which endpoint was called.
        endpoint: &'static str,
        /// HTTP status of the response.
        status: u16,
        /// GenAuth's `code`.
        code: i64,
        /// GenAuth's `message`.
        message: String,
    },

    /// The provider answered with an unexpected HTTP status and no recognisable error body.
    #[error("{endpoint}: unexpected HTTP status {status}")]
    UnexpectedStatus {
        /// Which endpoint was called.
        endpoint: &'static str,
        /// HTTP status of the response.
        status: u16,
    },

    /// The provider's response could not be understood (not JSON, missing fields, bad XML, ...).
    #[error("{endpoint}: invalid response: {reason}")]
    InvalidResponse {
        /// Which endpoint was called.
        endpoint: &'static str,
        /// What was wrong with it.
        reason: String,
    },

    /// The provider's response was larger than this crate accepts.
    #[error("{endpoint}: response larger than {limit} bytes refused")]
    ResponseTooLarge {
        /// Which endpoint was called.
        endpoint: &'static str,
        /// The limit in bytes.
        limit: usize,
    },

    /// The operation is not available with this configuration (protocol or provider), e.g. CAS
    /// validation without a CAS server, or revocation at a provider without `revocation_endpoint`.
    #[error("not supported: {0}")]
    Unsupported(String),

    /// The CAS server rejected a ticket (`authenticationFailure`, CAS Protocol 3.0 §2.5.3).
    #[error("CAS ticket rejected: {code}: {description}")]
    Cas {
        /// The failure code, e.g. `INVALID_TICKET`, `INVALID_SERVICE`.
        code: String,
        /// The server's description.
        description: String,
    },

    /// A token or ID token failed verification.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

impl Error {
    /// The HTTP status a web adapter should answer with when this error ends a request:
    /// - 503 when the provider is unreachable (or keys are unavailable), never 500;
    /// - 502 when the provider answered something unusable;
    /// - 400 for an `invalid_grant` (an expired or reused code, a revoked refresh token);
    /// - 400 for a ticket the CAS server rejects;
    /// - 401 for a token that failed validation (403 for missing scope);
    /// - 500 for configuration problems.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Transport { .. } => 503,
            Self::OAuth { error, .. } if error == "invalid_grant" => 400,
            Self::OAuth { status, .. } | Self::GenAuth { status, .. } if *status >= 500 => 502,
            Self::OAuth { .. } | Self::GenAuth { .. } => 502,
            Self::UnexpectedStatus { .. }
            | Self::InvalidResponse { .. }
            | Self::ResponseTooLarge { .. } => 502,
            Self::Validation(e) => e.status_code(),
            // A bad ticket at the login callback: the request was bad, and a 401 would need a challenge.
            Self::Cas { .. } => 400,
            Self::Config(_) | Self::Unsupported(_) | Self::Random => 500,
        }
    }

    /// The provider's OAuth `error` code, when the provider answered with one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Self::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }
}
