//! [`MemoryStore`]: server-side sessions in this process's memory, bounded.

use super::{RefreshLock, SessionStore, StoreError};
use crate::clock::now_secs;
use crate::session::Session;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use std::time::Instant;

/// Default number of sessions a [`MemoryStore`] keeps at once.
pub const DEFAULT_MEMORY_STORE_CAPACITY: usize = 100_000;

/// Sessions in this process's memory: one instance only (each process has its own; a restart
/// signs everyone out). Bounded: past its capacity the least recently used sessions are dropped
/// (those users sign in again), so a flood of sign-ins cannot exhaust memory. A load is one
/// hash lookup under a shard lock, no network. Ending by `sid` or `sub` scans every entry (rare:
/// back-channel logout, sign out everywhere). `Debug` shows the capacity and the number of
/// sessions, never their contents.
pub struct MemoryStore {
    sessions: quick_cache::sync::Cache<String, Entry>,
    /// Refresh locks: session ID → when the lock expires (managers sharing this store in one
    /// process refresh one at a time, like instances sharing Redis).
    locks: Mutex<HashMap<String, Instant>>,
}

#[derive(Clone)]
struct Entry {
    session: Arc<Session>,
    /// Seconds since the epoch after which the entry reads as absent.
    until: u64,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.sessions.capacity())
            .field("len", &self.sessions.len())
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(DEFAULT_MEMORY_STORE_CAPACITY)
    }
}

impl MemoryStore {
    /// A store keeping at most `capacity` sessions (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            sessions: quick_cache::sync::Cache::new(capacity.max(1)),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The number of sessions kept (expired ones included until they are read or evicted).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Removes the entries `matches` picks; how many.
    fn remove_where(&self, matches: impl Fn(&Session) -> bool) -> usize {
        let removed = AtomicUsize::new(0);
        self.sessions.retain(|_, entry| {
            let keep = !matches(&entry.session);
            if !keep {
                removed.fetch_add(1, Ordering::Relaxed);
            }
            keep
        });
        removed.into_inner()
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let Some(entry) = self.sessions.get(id) else {
            return Ok(None);
        };
        if entry.until <= now_secs() {
            self.sessions.remove(id);
            return Ok(None);
        }
        Ok(Some(Session::clone(&entry.session)))
    }

    async fn save(&self, id: &str, session: &Session, ttl: Duration) -> Result<(), StoreError> {
        let until = now_secs().saturating_add(ttl.as_secs());
        self.sessions.insert(
            id.to_owned(),
            Entry {
                session: Arc::new(session.clone()),
                until,
            },
        );
        Ok(())
    }

    async fn update(&self, id: &str, session: &Session, ttl: Duration) -> Result<bool, StoreError> {
        let entry = Entry {
            session: Arc::new(session.clone()),
            until: now_secs().saturating_add(ttl.as_secs()),
        };
        // Only over an entry still there (atomically, under the shard's lock).
        Ok(self.sessions.replace(id.to_owned(), entry, false).is_ok())
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.sessions.remove(id);
        Ok(())
    }

    async fn delete_provider_session(&self, sid: &str) -> Result<usize, StoreError> {
        Ok(self.remove_where(|session| session.provider_sid() == Some(sid)))
    }

    async fn delete_subject(&self, sub: &str) -> Result<usize, StoreError> {
        Ok(self.remove_where(|session| session.user.sub == sub))
    }

    async fn lock_refresh(
        &self,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<RefreshLock>, StoreError> {
        let now = Instant::now();
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if locks.get(id).is_some_and(|until| *until > now) {
            return Ok(None);
        }
        // Bounded by the sessions refreshing at once: expired locks go when another is taken.
        locks.retain(|_, until| *until > now);
        locks.insert(id.to_owned(), now + ttl);
        Ok(Some(RefreshLock {
            token: String::new(),
        }))
    }

    async fn unlock_refresh(&self, id: &str, _lock: RefreshLock) -> Result<(), StoreError> {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::{login_state, user};

    fn session(sub: &str, sid: Option<&str>) -> Session {
        let mut session = Session::with_tokens(user(), login_state(0));
        session.user.sub = sub.to_owned();
        if let Some(sid) = sid {
            session.user.claims.insert("sid".into(), sid.into());
            if let Some(claims) = session
                .tokens
                .as_mut()
                .and_then(|t| t.id_token_claims.as_mut())
            {
                claims.extra.insert("sid".into(), sid.into());
            }
        }
        session
    }

    #[tokio::test]
    async fn saves_loads_and_deletes_by_id() {
        let store = MemoryStore::new(10);
        let s = session("u-1", None);
        let id = s.id().unwrap();
        assert!(store.load(id).await.unwrap().is_none());
        store.save(id, &s, Duration::from_secs(60)).await.unwrap();
        let loaded = store.load(id).await.unwrap().unwrap();
        assert_eq!(loaded.id(), s.id());
        assert_eq!(loaded.user.sub, "u-1");
        let mut renewed = s.clone();
        renewed.user.sub = "u-renewed".into();
        assert!(
            store
                .update(id, &renewed, Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert_eq!(store.load(id).await.unwrap().unwrap().user.sub, "u-renewed");
        store.delete(id).await.unwrap();
        assert!(store.load(id).await.unwrap().is_none());
        assert!(
            !store.update(id, &s, Duration::from_secs(60)).await.unwrap(),
            "no update over a deleted session"
        );
        assert!(store.load(id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_expired_record_reads_as_absent() {
        let store = MemoryStore::new(10);
        let s = session("u-1", None);
        let id = s.id().unwrap();
        store.save(id, &s, Duration::ZERO).await.unwrap();
        assert!(store.load(id).await.unwrap().is_none());
        assert!(store.is_empty(), "dropped on read");
    }

    #[tokio::test]
    async fn deletes_by_provider_session_and_by_subject() {
        let store = MemoryStore::new(10);
        let a = session("u-1", Some("op-1"));
        let b = session("u-1", Some("op-2"));
        let c = session("u-2", Some("op-1"));
        let d = session("u-3", None);
        for s in [&a, &b, &c, &d] {
            store
                .save(s.id().unwrap(), s, Duration::from_secs(60))
                .await
                .unwrap();
        }
        assert_eq!(store.delete_provider_session("op-1").await.unwrap(), 2);
        assert!(store.load(a.id().unwrap()).await.unwrap().is_none());
        assert!(store.load(c.id().unwrap()).await.unwrap().is_none());
        assert!(store.load(b.id().unwrap()).await.unwrap().is_some());
        assert_eq!(store.delete_subject("u-1").await.unwrap(), 1);
        assert!(store.load(b.id().unwrap()).await.unwrap().is_none());
        assert!(
            store.load(d.id().unwrap()).await.unwrap().is_some(),
            "others stay"
        );
    }

    #[tokio::test]
    async fn stays_within_its_capacity() {
        let store = MemoryStore::new(50);
        for _ in 0..500 {
            let s = session("u-1", None);
            store
                .save(s.id().unwrap(), &s, Duration::from_secs(60))
                .await
                .unwrap();
        }
        assert!(store.len() <= 50, "{} sessions kept", store.len());
        assert!(
            !format!("{store:?}").contains("u-1"),
            "no contents in Debug"
        );
    }
}
