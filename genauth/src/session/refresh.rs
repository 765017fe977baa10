//! Single-flight refresh of a session's tokens: concurrent requests of one session share one call to
//! the token endpoint, and a provider outage is remembered for the retry delay.

use super::{Session, SessionManager};
use crate::telemetry::{self, Refresh};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the result of a refresh is reused for other requests carrying the same (old) session
/// cookie: a page loading many resources at once refreshes once, not once per request (which would
/// fail at providers that rotate refresh tokens).
pub(super) const REFRESH_REUSE: Duration = Duration::from_secs(60);

/// Refreshes remembered at once (per process).
pub(super) const REFRESH_CACHE_CAPACITY: usize = 1024;

/// A refresh outcome shared with concurrent requests of the same session.
#[derive(Clone)]
pub(crate) struct RefreshOutcome {
    at: Instant,
    /// The [`Session::id`] of the session refreshed: the outcome is handed to that session only.
    session_id: Option<String>,
    result: Refreshed,
}

#[derive(Clone)]
enum Refreshed {
    /// The new session, or `None` when the provider rejected the refresh token.
    Done(Option<Arc<Session>>),
    /// The provider failed (5xx, unreachable): no new attempt until the retry delay has passed.
    Unavailable,
}

/// Refresh outcomes, keyed by the SHA-256 of the session ID and the refresh token used
/// ([`refresh_key`]).
pub(crate) type RefreshCache = quick_cache::sync::Cache<[u8; 32], RefreshOutcome>;

/// The cache key of a refresh: SHA-256 of the session's ID, a separator and the refresh token, so
/// that a refresh result is shared only among requests of the same sign-in, never handed to another
/// session holding the same refresh token.
fn refresh_key(session_id: Option<&str>, refresh_token: &str) -> [u8; 32] {
    let id = session_id.unwrap_or_default();
    let mut input = Vec::with_capacity(id.len() + 1 + refresh_token.len());
    input.extend_from_slice(id.as_bytes());
    input.push(0);
    input.extend_from_slice(refresh_token.as_bytes());
    crate::types::sha256(&input)
}

impl SessionManager {
    /// Refreshes `session`, sharing the outcome with concurrent requests of the same session:
    /// `Ok(Some)` refreshed, `Ok(None)` rejected by the provider (signed out), `Err(session)` unchanged
    /// because the provider is unavailable. An unavailable provider is remembered too, for the retry
    /// delay: the requests waiting for this refresh, and those coming during that delay, go on with
    /// the old session instead of calling the token endpoint one after the other.
    pub(super) async fn refresh_once(
        &self,
        mut session: Session,
    ) -> Result<Option<Session>, Session> {
        let Some(refresh_token) = session.refresh_token() else {
            return Err(session);
        };
        let key = refresh_key(session.id(), refresh_token.secret());
        let guard = loop {
            match self.refreshes.get_value_or_guard_async(&key).await {
                // Another session's outcome (the key cannot collide; kept as a second check).
                Ok(shared) if shared.session_id.as_deref() != session.id() => {
                    self.refreshes
                        .remove_if(&key, |current| current.at == shared.at);
                }
                Ok(shared) => match shared.result {
                    Refreshed::Done(refreshed) if shared.at.elapsed() < REFRESH_REUSE => {
                        return Ok(refreshed.map(Arc::unwrap_or_clone));
                    }
                    Refreshed::Unavailable if shared.at.elapsed() < self.refresh_retry_delay => {
                        return Err(session);
                    }
                    // Stale (retry delay or reuse window over). Refreshing without the guard would
                    // let every concurrent request refresh, and with rotating refresh tokens all
                    // but one be signed out: drop the entry (unless another request already
                    // replaced it) and compete for the guard again.
                    _ => {
                        self.refreshes
                            .remove_if(&key, |current| current.at == shared.at);
                    }
                },
                Err(guard) => break guard,
            }
        };
        let session_id = session.id().map(str::to_owned);
        let (result, outcome) = match self.refresh_tokens(&mut session).await {
            Ok(()) => {
                telemetry::refresh(Refresh::Refreshed);
                let session = Arc::new(session);
                (
                    Ok(Some(Session::clone(&session))),
                    Refreshed::Done(Some(session)),
                )
            }
            Err(e) if e.status_code() >= 500 => {
                telemetry::refresh(Refresh::Unavailable);
                tracing::warn!(
                    sub = session.user.sub.as_str(),
                    protocol = session.user.protocol.as_str(),
                    error = %e,
                    retry_in_secs = self.refresh_retry_delay.as_secs(),
                    "session refresh failed, provider unavailable; going on with the old tokens"
                );
                (Err(session), Refreshed::Unavailable)
            }
            Err(e) => {
                telemetry::refresh_rejected(&session.user.sub, session.user.protocol, &e);
                (Ok(None), Refreshed::Done(None))
            }
        };
        let outcome = RefreshOutcome {
            at: Instant::now(),
            session_id,
            result: outcome,
        };
        let _ = guard.insert(outcome);
        result
    }
}

#[cfg(test)]
mod tests;
