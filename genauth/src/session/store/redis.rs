//! [`RedisStore`]: server-side sessions in Redis, shared by every instance of the application.

use super::{RefreshLock, RevocationStore, SessionStore, StoreError};
use crate::session::{Session, SessionCodec};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// Default time to wait for a connection to Redis: 1 second.
pub const DEFAULT_REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Default time to wait for one answer of Redis: 500 ms.
pub const DEFAULT_REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// Releases a refresh lock only if it still holds this holder's value (the usual safe release of
/// a `SET NX PX` lock).
const UNLOCK_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Settings of a [`RedisStore`].
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisStoreOptions {
    prefix: String,
    connect_timeout: Duration,
    response_timeout: Duration,
    seal: Option<SessionCodec>,
}

impl Default for RedisStoreOptions {
    fn default() -> Self {
        Self {
            prefix: "genauth:".to_owned(),
            connect_timeout: DEFAULT_REDIS_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_REDIS_RESPONSE_TIMEOUT,
            seal: None,
        }
    }
}

impl RedisStoreOptions {
    /// The prefix of every key (default `genauth:`): applications sharing one Redis database use
    /// different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long to wait for a connection (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Seals every stored session with `codec` (AES-256-GCM, bound to the record's key, with the
    /// record's expiry), so that whoever reads Redis (a backup, a shared server) reads no tokens
    /// and cannot move a record to another key. Use the application's session key ring: rotating
    /// keys works as for cookies (seal with the first, open with any); a record no key opens reads
    /// as signed out. Default: JSON in clear (protect the Redis then: ACLs, a private network).
    pub fn seal_with(mut self, codec: SessionCodec) -> Self {
        self.seal = Some(codec);
        self
    }

    /// How long to wait for each answer (default 500 ms); a request whose store call takes longer
    /// gets 503.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }
}

/// Sessions in Redis: every instance that shares the Redis database (and the session key) sees
/// the same sessions, so a logout or back-channel logout on one ends the session on all, and one
/// instance at a time refreshes a session's tokens ([`lock_refresh`](SessionStore::lock_refresh)).
///
/// One multiplexed connection (redis-rs `ConnectionManager`: pipelined, reconnects by itself)
/// serves every request; each call is bounded by the response timeout (plus the connect timeout
/// while reconnecting), so a Redis outage answers 503 quickly instead of hanging requests.
///
/// Keys, all with a TTL: `{prefix}session:{id}` (the session as JSON), `{prefix}sid:{sid}` and
/// `{prefix}sub:{sub}` (sets of session IDs, for back-channel logout and sign out everywhere),
/// `{prefix}lock:{id}` (the refresh lock, `SET NX PX`). Needs Redis 7.0 or later
/// (`PEXPIRE … NX|GT`). `Debug` shows the options, not the URL (it may hold a password).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    options: RedisStoreOptions,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

impl RedisStore {
    /// A store for the Redis at `url` (`redis://host:port[/db]`, `rediss://` for TLS when redis-rs
    /// is built with it). Connects lazily, on the first call: an unreachable Redis makes requests
    /// answer 503, not the start-up fail; call [`ping`](Self::ping) to check at start-up. Must be
    /// called within a Tokio runtime.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when `url` is not a Redis URL.
    pub fn open(url: &str, options: RedisStoreOptions) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(1);
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            connection,
            options,
        })
    }

    /// Checks that Redis answers (`PING`).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        self.bounded(async move {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
        })
        .await
        .map(|_| ())
    }

    /// The options.
    pub fn get_options(&self) -> &RedisStoreOptions {
        &self.options
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.options.prefix)
    }

    /// Runs one Redis call within the connect and response timeouts.
    async fn bounded<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let limit = self.options.connect_timeout + self.options.response_timeout;
        match tokio::time::timeout(limit, call).await {
            Ok(result) => result.map_err(unavailable),
            Err(elapsed) => Err(unavailable(elapsed)),
        }
    }

    /// The stored form of `session` under `key`: sealed ([`RedisStoreOptions::seal_with`]) or
    /// JSON.
    fn encode(&self, key: &str, session: &Session, ttl: Duration) -> Result<String, StoreError> {
        match &self.options.seal {
            Some(codec) => codec
                .seal_value(key, session, ttl)
                .map_err(|_| StoreError::Seal),
            None => serde_json::to_string(session).map_err(StoreError::Serialize),
        }
    }

    /// The session stored under `key`; `None` (logged) when it does not open or parse.
    fn decode(&self, key: &str, value: &str) -> Option<Session> {
        match &self.options.seal {
            Some(codec) => codec.open_value(key, value),
            None => serde_json::from_str(value)
                .inspect_err(|e| {
                    tracing::warn!(error = %e, "stored session has an unexpected shape; ignored");
                })
                .ok(),
        }
    }

    /// The index keys of `session` (by `sid`, by `sub`).
    fn index_keys(&self, session: &Session) -> Vec<String> {
        let mut keys = vec![self.key("sub", &session.user.sub)];
        if let Some(sid) = session.provider_sid() {
            keys.push(self.key("sid", sid));
        }
        keys
    }

    /// Deletes the sessions listed in the index set `index`, and the set.
    async fn delete_indexed(&self, index: String) -> Result<usize, StoreError> {
        let mut connection = self.connection.clone();
        let ids: Vec<String> = self
            .bounded(
                redis::cmd("SMEMBERS")
                    .arg(&index)
                    .query_async(&mut connection),
            )
            .await?;
        let mut delete = redis::cmd("DEL");
        delete.arg(&index);
        for id in &ids {
            delete.arg(self.key("session", id));
        }
        let deleted: usize = self.bounded(delete.query_async(&mut connection)).await?;
        // The set itself was one of the keys deleted.
        Ok(deleted.saturating_sub(1))
    }
}

/// Milliseconds for `PX`/`PEXPIRE`, at least 1 (0 is an error in Redis).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let mut connection = self.connection.clone();
        let key = self.key("session", id);
        let value: Option<String> = self
            .bounded(redis::cmd("GET").arg(&key).query_async(&mut connection))
            .await?;
        Ok(value.and_then(|value| self.decode(&key, &value)))
    }

    async fn save(&self, id: &str, session: &Session, ttl: Duration) -> Result<(), StoreError> {
        let key = self.key("session", id);
        let value = self.encode(&key, session, ttl)?;
        let ms = millis(ttl);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("PX")
            .arg(ms)
            .ignore();
        for index in self.index_keys(session) {
            // The index lives as long as its longest-lived session: NX sets a TTL on a new set,
            // GT only ever extends it.
            pipe.cmd("SADD").arg(&index).arg(id).ignore();
            pipe.cmd("PEXPIRE").arg(&index).arg(ms).arg("NX").ignore();
            pipe.cmd("PEXPIRE").arg(&index).arg(ms).arg("GT").ignore();
        }
        let mut connection = self.connection.clone();
        self.bounded(pipe.query_async::<()>(&mut connection)).await
    }

    async fn update(&self, id: &str, session: &Session, ttl: Duration) -> Result<bool, StoreError> {
        let key = self.key("session", id);
        let value = self.encode(&key, session, ttl)?;
        let ms = millis(ttl);
        let mut connection = self.connection.clone();
        // `XX`: only over a session still there (not one a logout deleted meanwhile).
        let set: Option<String> = self
            .bounded(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(value)
                    .arg("XX")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut connection),
            )
            .await?;
        if set.is_none() {
            return Ok(false);
        }
        let mut pipe = redis::pipe();
        for index in self.index_keys(session) {
            pipe.cmd("SADD").arg(&index).arg(id).ignore();
            pipe.cmd("PEXPIRE").arg(&index).arg(ms).arg("NX").ignore();
            pipe.cmd("PEXPIRE").arg(&index).arg(ms).arg("GT").ignore();
        }
        self.bounded(pipe.query_async::<()>(&mut connection))
            .await?;
        Ok(true)
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        self.bounded(
            redis::cmd("DEL")
                .arg(self.key("session", id))
                .query_async::<()>(&mut connection),
        )
        .await
    }

    async fn delete_provider_session(&self, sid: &str) -> Result<usize, StoreError> {
        self.delete_indexed(self.key("sid", sid)).await
    }

    async fn delete_subject(&self, sub: &str) -> Result<usize, StoreError> {
        self.delete_indexed(self.key("sub", sub)).await
    }

    async fn lock_refresh(
        &self,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<RefreshLock>, StoreError> {
        let token = crate::types::random_token(16).ok_or(StoreError::RefreshBusy)?;
        let mut connection = self.connection.clone();
        let set: Option<String> = self
            .bounded(
                redis::cmd("SET")
                    .arg(self.key("lock", id))
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut connection),
            )
            .await?;
        Ok(set.map(|_| RefreshLock { token }))
    }

    async fn unlock_refresh(&self, id: &str, lock: RefreshLock) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        self.bounded(
            redis::cmd("EVAL")
                .arg(UNLOCK_SCRIPT)
                .arg(1)
                .arg(self.key("lock", id))
                .arg(&lock.token)
                .query_async::<()>(&mut connection),
        )
        .await
    }
}

/// Revocations of cookie sessions: `{prefix}revoked:session:{id}`, `{prefix}revoked:sid:{sid}`
/// (`1`) and `{prefix}revoked:sub:{sub}` (the second up to which the user's sessions are ended),
/// each with its TTL; a check is one `MGET`.
#[async_trait::async_trait]
impl RevocationStore for RedisStore {
    async fn revoke_session(&self, id: &str, ttl: Duration) -> Result<(), StoreError> {
        self.set_with_ttl(self.key("revoked:session", id), "1".to_owned(), ttl)
            .await
    }

    async fn revoke_provider_session(&self, sid: &str, ttl: Duration) -> Result<(), StoreError> {
        self.set_with_ttl(self.key("revoked:sid", sid), "1".to_owned(), ttl)
            .await
    }

    async fn revoke_subject(
        &self,
        sub: &str,
        at_secs: u64,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.set_with_ttl(self.key("revoked:sub", sub), at_secs.to_string(), ttl)
            .await
    }

    async fn is_revoked(&self, session: &Session) -> Result<bool, StoreError> {
        let mut get = redis::cmd("MGET");
        get.arg(self.key("revoked:sub", &session.user.sub));
        get.arg(self.key("revoked:session", session.id().unwrap_or_default()));
        if let Some(sid) = session.provider_sid() {
            get.arg(self.key("revoked:sid", sid));
        }
        let mut connection = self.connection.clone();
        let values: Vec<Option<String>> = self.bounded(get.query_async(&mut connection)).await?;
        let mut values = values.into_iter();
        let by_sub = values
            .next()
            .flatten()
            .and_then(|at| at.parse::<u64>().ok())
            .is_some_and(|at| session.created_at_secs() <= at);
        Ok(by_sub || values.any(|v| v.is_some()))
    }
}

impl RedisStore {
    async fn set_with_ttl(
        &self,
        key: String,
        value: String,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        self.bounded(
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis(ttl))
                .query_async::<()>(&mut connection),
        )
        .await
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests;
