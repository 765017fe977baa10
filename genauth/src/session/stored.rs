//! The manager's server-side half: with a [`SessionStore`] the session cookie holds only the
//! sealed session ID; sessions are loaded, saved, refreshed (one instance at a time) and ended in
//! the store.

use super::store::{RevocationStore, SessionStore, StoreError};
use super::{Session, SessionError, SessionManager, chunk_names, refresh};
use crate::clock::now_secs;
use crate::web::{RequestCookies, RequestHead};
use cookie::Cookie;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one instance may hold a session's refresh lock: longer than a token call takes (the
/// provider I/O timeouts), short enough that a crashed holder blocks refreshes only briefly.
pub(super) const REFRESH_LOCK_TTL: Duration = Duration::from_secs(15);

/// How often a request waiting for another instance's refresh re-reads the session.
const REFRESH_LOCK_POLL: Duration = Duration::from_millis(25);

/// What the session cookie holds with a server-side store: the session's ID. `deny_unknown_fields`,
/// so that a cookie session never reads as a reference, nor a reference as a cookie session.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRef {
    #[serde(rename = "ref")]
    id: String,
}

impl SessionManager {
    /// Keeps sessions in `store` (memory, Redis, …) instead of the sealed cookie: the cookie then
    /// holds only the sealed random session ID (same cookie name), and ending a session deletes
    /// its record, so every copy of its cookie reads as signed out on every instance sharing the
    /// store. Default: no store, the session lives in its sealed cookie.
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Records revocations of cookie sessions in `revocations` too (Redis: `RedisStore`), and
    /// checks every opened cookie session against it: a logout, back-channel or front-channel
    /// logout, or [`end_user_sessions`](Self::end_user_sessions) on one instance then signs out
    /// every copy of the cookie on every instance sharing it. Costs one round trip per request
    /// with a session cookie (an asynchronous step in the session middleware); a store that cannot
    /// answer is 503. Without a server-side [`session_store`](Self::session_store) only; a
    /// server-side store deletes records instead. Default: revocations in this process only.
    pub fn shared_revocations(mut self, revocations: Arc<dyn RevocationStore>) -> Self {
        self.shared_revocations = Some(revocations);
        self
    }

    /// The shared revocations, if any ([`shared_revocations`](Self::shared_revocations)).
    pub fn get_shared_revocations(&self) -> Option<&Arc<dyn RevocationStore>> {
        self.shared_revocations.as_ref()
    }

    /// `session` (opened from its cookie) unless the [shared
    /// revocations](Self::shared_revocations) say it was ended.
    ///
    /// # Errors
    /// [`StoreError`] when the revocation store cannot answer.
    pub async fn check_revoked(&self, session: Session) -> Result<Option<Session>, StoreError> {
        match &self.shared_revocations {
            Some(revocations) if revocations.is_revoked(&session).await? => {
                tracing::debug!("session was ended (shared revocations); signed out");
                Ok(None)
            }
            _ => Ok(Some(session)),
        }
    }

    /// Records the end of `session` in the shared revocations (nothing without them).
    pub(super) async fn revoke_shared(&self, session: &Session) -> Result<(), StoreError> {
        match (&self.shared_revocations, session.id()) {
            (Some(revocations), Some(id)) => {
                let ttl = self.last_valid_secs(session).saturating_sub(now_secs());
                revocations
                    .revoke_session(id, Duration::from_secs(ttl))
                    .await
            }
            _ => Ok(()),
        }
    }

    /// How long a revocation by `sid` or `sub` must live: as long as any cookie written until now.
    fn revocation_ttl(&self) -> Duration {
        self.cookies
            .get_session_ttl()
            .min(self.get_absolute_lifetime())
    }

    /// The server-side store, if any ([`session_store`](Self::session_store)).
    pub fn get_session_store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.store.as_ref()
    }

    /// With a server-side store: the session ID sealed in the request's session cookie, if it
    /// opens (no store call). `None` without a store.
    pub fn stored_id(&self, request: &RequestHead) -> Option<String> {
        self.store.as_ref()?;
        let name = self.cookies.session_cookie_name();
        let sealed = request.cookies().get(&name)?;
        self.codec
            .open_value::<SessionRef>(&name, sealed)
            .map(|r| r.id)
    }

    /// The session saved under `id` in the server-side store (`None` without a store), unless it
    /// is past its absolute lifetime or was ended on this instance's
    /// [`Revocations`](super::Revocations).
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer (the request then gets 503).
    pub async fn load_stored(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let Some(session) = store.load(id).await? else {
            return Ok(None);
        };
        Ok(self.still_valid(session).filter(|s| s.id() == Some(id)))
    }

    /// The request's session without refreshing it, in either mode: the cookie's
    /// ([`open`](Self::open)) or the store's ([`stored_id`](Self::stored_id),
    /// [`load_stored`](Self::load_stored)).
    ///
    /// # Errors
    /// [`StoreError`] when the server-side store cannot answer.
    pub async fn fetch(&self, request: &RequestHead) -> Result<Option<Session>, StoreError> {
        if self.store.is_none() {
            return match self.open(request) {
                Some(session) => self.check_revoked(session).await,
                None => Ok(None),
            };
        }
        match self.stored_id(request) {
            Some(id) => self.load_stored(&id).await,
            None => Ok(None),
        }
    }

    /// Stores `session` in either mode and returns the cookies to set: the sealed session
    /// ([`store`](Self::store)), or, with a server-side store, the record saved and the sealed ID.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot answer; [`SessionError::TooLarge`],
    /// [`SessionError::Serialize`].
    pub async fn save_session(
        &self,
        session: &Session,
        cookies: &RequestCookies,
    ) -> Result<Vec<Cookie<'static>>, SessionError> {
        let Some(store) = &self.store else {
            return self.store(session, cookies);
        };
        let id = session.id().ok_or(SessionError::Key)?;
        store.save(id, session, self.stored_ttl(session)).await?;
        self.session_cookies(session, cookies)
    }

    /// The cookies of an already stored `session`: the sealed session (cookie mode), or the sealed
    /// ID with removals of chunks the request carries (server-side store).
    pub(super) fn session_cookies(
        &self,
        session: &Session,
        cookies: &RequestCookies,
    ) -> Result<Vec<Cookie<'static>>, SessionError> {
        if self.store.is_none() {
            return self.store(session, cookies);
        }
        let id = session.id().ok_or(SessionError::Key)?;
        let name = self.cookies.session_cookie_name();
        let ttl = self.stored_ttl(session);
        let sealed = self
            .codec
            .seal_value(&name, &SessionRef { id: id.to_owned() }, ttl)?;
        let mut set = vec![self.cookies.cookie(name.clone(), sealed, ttl)];
        set.extend(
            chunk_names(&name)
                .skip(1)
                .filter(|n| cookies.contains(n))
                .map(|n| self.cookies.removal(n)),
        );
        Ok(set)
    }

    /// How long a session's record (and cookie) may live from now: the session TTL, bounded by
    /// the absolute lifetime.
    pub(super) fn stored_ttl(&self, session: &Session) -> Duration {
        let remaining = Duration::from_secs(self.ends_at(session).saturating_sub(now_secs()));
        self.cookies.get_session_ttl().min(remaining)
    }

    /// Deletes the session `id` from the server-side store (nothing without one).
    ///
    /// # Errors
    /// [`StoreError`].
    pub(super) async fn forget(&self, id: &str) -> Result<(), StoreError> {
        match &self.store {
            Some(store) => store.delete(id).await,
            None => Ok(()),
        }
    }

    /// [`sign_out_everywhere`](Self::sign_out_everywhere), and with a server-side store every
    /// session of `sub` deleted from it too: with a shared store (Redis), on every instance.
    ///
    /// # Errors
    /// [`SessionError::RevocationsFull`]; [`SessionError::Store`] when the store cannot answer.
    pub async fn end_user_sessions(&self, sub: &str) -> Result<(), SessionError> {
        self.sign_out_everywhere(sub)?;
        if let Some(store) = &self.store {
            store.delete_subject(sub).await?;
        }
        if let Some(revocations) = &self.shared_revocations {
            revocations
                .revoke_subject(sub, now_secs(), self.revocation_ttl())
                .await?;
        }
        Ok(())
    }

    /// [`end_provider_session`](Self::end_provider_session), and with a server-side store every
    /// session of `sid` deleted from it too.
    ///
    /// # Errors
    /// [`SessionError::RevocationsFull`]; [`SessionError::Store`] when the store cannot answer.
    pub async fn end_provider_sessions(&self, sid: &str) -> Result<(), SessionError> {
        self.end_provider_session(sid)?;
        if let Some(store) = &self.store {
            store.delete_provider_session(sid).await?;
        }
        if let Some(revocations) = &self.shared_revocations {
            revocations
                .revoke_provider_session(sid, self.revocation_ttl())
                .await?;
        }
        Ok(())
    }

    /// Renews `session`'s tokens. Cookie mode: [`refresh`]. With a server-side store, one
    /// instance at a time: the holder of the store's refresh lock re-reads the session (another
    /// instance may have refreshed it already), refreshes, and saves the result over the record;
    /// the others wait for that result and take it, never calling the token endpoint with a refresh
    /// token that was just rotated away.
    pub(super) async fn refresh_tokens(&self, session: &mut Session) -> Result<(), SessionError> {
        let (Some(store), Some(id)) = (&self.store, session.id().map(str::to_owned)) else {
            return refresh(&self.client, session).await;
        };
        let deadline = Instant::now() + REFRESH_LOCK_TTL;
        loop {
            if let Some(lock) = store.lock_refresh(&id, REFRESH_LOCK_TTL).await? {
                let result = self.refresh_locked(store.as_ref(), &id, session).await;
                if let Err(e) = store.unlock_refresh(&id, lock).await {
                    tracing::warn!(error = %e, "refresh lock not released; it expires by itself");
                }
                return result;
            }
            if Instant::now() >= deadline {
                return Err(StoreError::RefreshBusy.into());
            }
            tokio::time::sleep(REFRESH_LOCK_POLL).await;
            if self.take_refreshed(store.load(&id).await?, session)? {
                return Ok(());
            }
        }
    }

    /// Under the refresh lock: the stored session if another instance refreshed it meanwhile,
    /// else a refresh saved over the record (unless a logout deleted it).
    async fn refresh_locked(
        &self,
        store: &dyn SessionStore,
        id: &str,
        session: &mut Session,
    ) -> Result<(), SessionError> {
        if self.take_refreshed(store.load(id).await?, session)? {
            return Ok(());
        }
        match refresh(&self.client, session).await {
            Ok(()) => {
                match store.update(id, session, self.stored_ttl(session)).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(SessionError::Ended),
                    // This request has the new tokens; other instances will find the old
                    // refresh token rejected and sign the user out. Logged, not fatal here.
                    Err(e) => {
                        tracing::error!(error = %e, "refreshed session could not be saved to the store");
                        Ok(())
                    }
                }
            }
            Err(e) if e.status_code() < 500 => {
                // Rejected: the session is over on every instance.
                if let Err(e) = store.delete(id).await {
                    tracing::warn!(error = %e, "rejected session could not be deleted from the store");
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the stored session `current` holds tokens other than `session`'s (another
    /// instance refreshed it): then it replaces `session`. A session no longer stored was ended
    /// ([`SessionError::Ended`]).
    fn take_refreshed(
        &self,
        current: Option<Session>,
        session: &mut Session,
    ) -> Result<bool, SessionError> {
        let Some(current) = current else {
            return Err(SessionError::Ended);
        };
        let token = |s: &Session| s.access_token().map(|t| t.secret().to_owned());
        if token(&current) == token(session) {
            return Ok(false);
        }
        *session = current;
        Ok(true)
    }
}

#[cfg(test)]
pub(crate) mod tests;
