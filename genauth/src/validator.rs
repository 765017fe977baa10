//! Token validation: the [`TokenValidator`] trait the adapters' bearer layers call, and
//! [`ValidationError`].

/// Why a token was not accepted. (Initial version; owned by the token-verification work.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The token is not a well-formed JWT.
    #[error("malformed token: {0}")]
    Malformed(String),
}

impl ValidationError {
    /// HTTP status for this failure: 401, or 503 when keys or the provider are unavailable.
    pub fn status_code(&self) -> u16 {
        401
    }
}
