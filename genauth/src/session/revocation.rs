//! [`Revocations`]: sessions ended before their cookies expire — one session (logout), or every
//! session a user signed in to until a moment
//! ([`SessionManager::sign_out_everywhere`](super::SessionManager::sign_out_everywhere)) — so that
//! a saved copy of an ended session's cookie reads as signed out.

use super::Session;
use crate::clock::now_secs;
use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};

/// Default number of revocations kept at once.
pub const DEFAULT_REVOCATION_CAPACITY: usize = 100_000;

/// Ended sessions, by session ID, by provider session (`sid`) and by user (`sub` + time), in memory
/// and bounded.
///
/// The rules:
/// - an entry lives until the last moment a cookie it covers could still open (its sealed expiry,
///   bounded by the absolute lifetime), then it is pruned;
/// - at most [`capacity`](Revocations::new) entries are kept (pruning expired ones first); past that
///   a revocation is refused and reported (`false`, logged by the manager): the cookies are still
///   removed from the browser, and copies stay valid until they expire;
/// - a check is one read lock and at most three hash lookups.
///
/// The list is in this process's memory: with several instances, each has its own, and a logout
/// on one does not end the copies another instance sees (a shared store is not there yet).
/// `Debug` shows the capacity and the number of entries, not the entries.
pub struct Revocations {
    capacity: usize,
    state: RwLock<State>,
}

impl fmt::Debug for Revocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocations")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    /// [`Session::id`] → until (seconds since the epoch).
    sessions: HashMap<String, u64>,
    /// `sub` → (sessions created at or before this second are ended, until).
    subjects: HashMap<String, (u64, u64)>,
    /// The provider's session ID ([`Session::provider_sid`]) → until.
    sids: HashMap<String, u64>,
}

impl State {
    fn len(&self) -> usize {
        self.sessions.len() + self.subjects.len() + self.sids.len()
    }

    /// Room for one more entry: prunes the expired ones when full.
    fn has_room(&mut self, capacity: usize, now: u64) -> bool {
        if self.len() < capacity {
            return true;
        }
        self.sessions.retain(|_, until| *until > now);
        self.subjects.retain(|_, (_, until)| *until > now);
        self.sids.retain(|_, until| *until > now);
        self.len() < capacity
    }
}

impl Default for Revocations {
    fn default() -> Self {
        Self::new(DEFAULT_REVOCATION_CAPACITY)
    }
}

impl Revocations {
    /// An empty list keeping at most `capacity` revocations.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: RwLock::new(State::default()),
        }
    }

    /// Ends the session with this [`Session::id`] until `until_secs` (seconds since the epoch).
    /// `false` when the list is full.
    pub fn revoke_session(&self, session_id: &str, until_secs: u64) -> bool {
        self.record(|state| &mut state.sessions, session_id, until_secs)
    }

    /// Ends every session of the provider session `sid` ([`Session::provider_sid`]) until
    /// `until_secs` (seconds since the epoch). `false` when the list is full.
    pub fn revoke_provider_session(&self, sid: &str, until_secs: u64) -> bool {
        self.record(|state| &mut state.sids, sid, until_secs)
    }

    /// Ends every session of the user `sub` created at or before `at_secs`, until `until_secs`
    /// (seconds since the epoch). `false` when the list is full.
    pub fn revoke_subject(&self, sub: &str, at_secs: u64, until_secs: u64) -> bool {
        self.record(|state| &mut state.subjects, sub, (at_secs, until_secs))
    }

    /// Records `key` → `value` in the table `table` picks, keeping the later of the two values for
    /// a key already there (no room needed then); `false` when a new key finds the list full.
    fn record<V: Default + Ord>(
        &self,
        table: impl Fn(&mut State) -> &mut HashMap<String, V>,
        key: &str,
        value: V,
    ) -> bool {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if !table(&mut state).contains_key(key) && !state.has_room(self.capacity, now_secs()) {
            return false;
        }
        let entry = table(&mut state).entry(key.to_owned()).or_default();
        if value > *entry {
            *entry = value;
        }
        true
    }

    /// Whether `session` was ended: by its ID, its provider session (`sid`), or its user's sign-out
    /// everywhere.
    pub fn is_revoked(&self, session: &Session) -> bool {
        let now = now_secs();
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let by_id = session
            .id()
            .and_then(|id| state.sessions.get(id))
            .is_some_and(|until| *until > now);
        let by_sid = session
            .provider_sid()
            .and_then(|sid| state.sids.get(sid))
            .is_some_and(|until| *until > now);
        by_id
            || by_sid
            || state
                .subjects
                .get(&session.user.sub)
                .is_some_and(|(at, until)| *until > now && session.created_at_secs() <= *at)
    }

    /// The most revocations kept at once.
    pub fn get_capacity(&self) -> usize {
        self.capacity
    }

    /// The number of revocations kept (expired ones included until pruned).
    pub fn len(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no revocation is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
