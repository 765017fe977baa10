//! [`RevocationStore`]: revocations shared by every instance, for sessions that stay in their
//! sealed cookie.

use super::StoreError;
use crate::session::Session;
use std::fmt;
use std::time::Duration;

/// Ended cookie sessions, shared by every instance (`RedisStore` implements it): with
/// [`SessionManager::shared_revocations`](crate::session::SessionManager::shared_revocations), a
/// logout, back-channel logout or sign-out everywhere on one instance signs out every copy of the
/// cookie on all of them, like the in-memory [`Revocations`](crate::session::Revocations) do on
/// one. Each entry lives until the last cookie it covers expires (`ttl`).
#[async_trait::async_trait]
pub trait RevocationStore: Send + Sync + fmt::Debug {
    /// Ends the session with this [`Session::id`] for `ttl`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn revoke_session(&self, id: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Ends every session of the provider session `sid` ([`Session::provider_sid`]) for `ttl`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn revoke_provider_session(&self, sid: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Ends every session of the user `sub` created at or before `at_secs` (seconds since the
    /// epoch), for `ttl`.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer.
    async fn revoke_subject(
        &self,
        sub: &str,
        at_secs: u64,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Whether `session` was ended: by its ID, its provider session, or its user's sign-out
    /// everywhere.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer (the request then gets 503).
    async fn is_revoked(&self, session: &Session) -> Result<bool, StoreError>;
}
