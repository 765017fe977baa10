//! [`SessionError`]: why a session could not be created, sealed or refreshed.

use super::MIN_KEY_LEN;
use crate::Error;

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
    /// A key ring was given no key.
    #[error("at least one session key is needed")]
    NoKey,
    /// An entry of a key list is not base64url.
    #[error("session key {position} of the list is not base64url")]
    KeyEncoding {
        /// The entry's position in the list, from 1.
        position: usize,
    },
    /// The key could not be derived or generated (OS random number generator failure).
    #[error("the session key could not be derived or generated")]
    Key,
    /// The sealed session does not fit in [`MAX_CHUNKS`](super::MAX_CHUNKS) cookies of [`CHUNK_SIZE`](super::CHUNK_SIZE) bytes.
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
    /// The revocation list is full ([`Revocations`](super::Revocations)): the sessions could not be
    /// ended before their cookies expire.
    #[error("the revocation list is full ({capacity} entries): sessions could not be ended")]
    RevocationsFull {
        /// The list's capacity.
        capacity: usize,
    },
    /// The session store could not answer ([`StoreError`](super::StoreError)): 503, the session is
    /// not ended.
    #[error("{0}")]
    Store(#[from] super::StoreError),
    /// The session was ended (logout, back-channel logout) while it was being refreshed.
    #[error("the session was ended while it was being refreshed")]
    Ended,
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
            Self::SubjectChanged | Self::Ended => 401,
            Self::Store(e) => e.status_code(),
            Self::RevocationsFull { .. } => 503,
            Self::KeyTooShort { .. }
            | Self::NoKey
            | Self::KeyEncoding { .. }
            | Self::Key
            | Self::TooLarge { .. }
            | Self::Serialize(_) => 500,
        }
    }
}
