//! [`SessionStore`]: where server-side sessions live, by a random session ID, when the sealed cookie
//! (the default) is not where they live.
//!
//! With a store ([`SessionManager::session_store`](super::SessionManager::session_store)) the
//! session cookie holds only the session's random ID ([`Session::id`], 128 bits), sealed and bound
//! like a cookie session; the session itself, its tokens included, is in the store. Ending a
//! session deletes its record, so every copy of its cookie, on every instance sharing the store,
//! reads as signed out at its next request.
//!
//! The rules every store follows:
//! - a record lives at most the TTL it was saved with (the session TTL, bounded by the absolute
//!   lifetime); after that it reads as absent;
//! - [`delete_provider_session`](SessionStore::delete_provider_session) and
//!   [`delete_subject`](SessionStore::delete_subject) end every record of an OIDC `sid` or a `sub`
//!   (back-channel logout, sign out everywhere);
//! - a store that cannot answer returns [`StoreError`]: the request gets 503, the session is not
//!   ended (never "signed out" because a store is down);
//! - [`lock_refresh`](SessionStore::lock_refresh) lets one instance at a time refresh a session's
//!   tokens; a store shared by several instances implements it (the default grants every lock,
//!   enough for one process, where refreshes are single-flight already).
//!
//! | store | where | logout ends copies |
//! | --- | --- | --- |
//! | sealed cookie (no store, the default) | the browser | on this instance ([`Revocations`](super::Revocations)) |
//! | sealed cookie + [`RevocationStore`] (`RedisStore`) | the browser | on every instance sharing the revocations |
//! | [`MemoryStore`] | this process, bounded | on this instance |
//! | `RedisStore` (feature `redis`) | Redis, shared | on every instance sharing it |

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod revocations;

#[cfg(feature = "redis")]
pub use self::redis::{
    DEFAULT_REDIS_CONNECT_TIMEOUT, DEFAULT_REDIS_RESPONSE_TIMEOUT, RedisStore, RedisStoreOptions,
};
pub use memory::{DEFAULT_MEMORY_STORE_CAPACITY, MemoryStore};
pub use revocations::RevocationStore;

use super::Session;
use std::fmt;
use std::time::Duration;

/// A failure of the session store: the request that needed it gets 503
/// ([`status_code`](Self::status_code)), and no session is ended because of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer, or answered with an error (connection refused, timeout, …).
    #[error("the session store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A session could not be written as JSON for the store.
    #[error("the session could not be serialized for the store: {0}")]
    Serialize(#[source] serde_json::Error),
    /// A session could not be sealed for the store ([`RedisStoreOptions::seal_with`]).
    #[cfg(feature = "redis")]
    #[error("the session could not be sealed for the store")]
    Seal,
    /// Another instance held the session's refresh lock for longer than the lock's lifetime.
    #[error("another instance is still refreshing this session")]
    RefreshBusy,
}

impl StoreError {
    /// The HTTP status of a request that failed because of the store: always 503 (Service
    /// Unavailable; try again).
    pub fn status_code(&self) -> u16 {
        503
    }
}

/// A refresh lock held by this instance ([`SessionStore::lock_refresh`]): the random value that
/// proves it is this holder's, so that releasing a lock that expired and was taken over releases
/// nothing. `Debug` does not show the value.
pub struct RefreshLock {
    /// The holder's random value (empty for stores that grant every lock).
    pub token: String,
}

impl fmt::Debug for RefreshLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshLock([redacted])")
    }
}

/// Server-side session storage by session ID, set with
/// [`SessionManager::session_store`](super::SessionManager::session_store): the session cookie
/// then holds only the session's sealed random ID ([`Session::id`]), and ending a session deletes
/// its record, so every copy of its cookie, on every instance sharing the store, reads as signed
/// out at its next request. Implementations must be cheap to share (`Arc<dyn SessionStore>`).
///
/// The rules every store follows:
/// - a record lives at most the TTL it was saved with (the session TTL, bounded by the absolute
///   lifetime); after that it reads as absent;
/// - [`delete_provider_session`](Self::delete_provider_session) and
///   [`delete_subject`](Self::delete_subject) end every record of an OIDC `sid` or a `sub`;
/// - a store that cannot answer returns [`StoreError`]: the request gets 503, the session is not
///   ended;
/// - [`lock_refresh`](Self::lock_refresh) lets one holder at a time refresh a session's tokens (a
///   store shared by several instances implements it).
///
/// | store | where | logout ends copies |
/// | --- | --- | --- |
/// | none (the default): the sealed cookie | the browser | on this instance ([`Revocations`](super::Revocations)) |
/// | sealed cookie + a [`RevocationStore`] | the browser | on every instance sharing the revocations |
/// | [`MemoryStore`] | this process, bounded | on this instance |
/// | `RedisStore` (feature `redis`) | Redis, shared | on every instance sharing it |
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug {
    /// The session saved under `id`, or `None` when there is none (never saved, deleted, expired).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn load(&self, id: &str) -> Result<Option<Session>, StoreError>;

    /// Saves `session` under `id` for `ttl`, replacing what was there.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer or the session does not serialize.
    async fn save(&self, id: &str, session: &Session, ttl: Duration) -> Result<(), StoreError>;

    /// Saves `session` under `id` for `ttl` only if a session is saved there now (a refresh's
    /// result): `false` when there is none, so that a refresh finishing after a logout does not
    /// bring the session back. The default loads, then saves (not atomic; a shared store overrides
    /// it).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer or the session does not serialize.
    async fn update(&self, id: &str, session: &Session, ttl: Duration) -> Result<bool, StoreError> {
        if self.load(id).await?.is_none() {
            return Ok(false);
        }
        self.save(id, session, ttl).await?;
        Ok(true)
    }

    /// Deletes the session saved under `id` (nothing when there is none).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn delete(&self, id: &str) -> Result<(), StoreError>;

    /// Deletes every session of the provider session `sid` ([`Session::provider_sid`]); returns
    /// how many were deleted.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn delete_provider_session(&self, sid: &str) -> Result<usize, StoreError>;

    /// Deletes every session of the user `sub`; returns how many were deleted.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn delete_subject(&self, sub: &str) -> Result<usize, StoreError>;

    /// Takes the lock on refreshing the session `id` for at most `ttl`: `Some` when this caller
    /// holds it now, `None` when another holder does. The default grants every lock (one
    /// process: refreshes are single-flight there already).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn lock_refresh(
        &self,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<RefreshLock>, StoreError> {
        let _ = (id, ttl);
        Ok(Some(RefreshLock {
            token: String::new(),
        }))
    }

    /// Releases a lock [`lock_refresh`](Self::lock_refresh) gave, if it is still this holder's.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer (the lock then expires by itself).
    async fn unlock_refresh(&self, id: &str, lock: RefreshLock) -> Result<(), StoreError> {
        let _ = (id, lock);
        Ok(())
    }
}
