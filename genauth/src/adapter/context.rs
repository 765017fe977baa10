//! What the middlewares leave in a request's extensions for the extractors and routes behind them:
//! [`SessionContext`] (session middleware) and [`BearerContext`] (bearer middleware).

use crate::bearer::Authenticated;
use crate::session::{Session, SessionManager};
use std::fmt;
use std::sync::Arc;

/// What a session middleware found for a request: its session, if any, and which
/// [`SessionManager`] loaded it (a [`SessionGate`](super::SessionGate) of it). Adapters put it in the request's extensions; its presence tells the
/// extractors the middleware ran, and an inner middleware of the same manager reuses it instead of
/// opening the cookie again. An inner middleware of another manager (other cookie name or key) loads
/// its own session and replaces the context for the requests it passes on: a session is never taken
/// for another manager's, and the extractors read the innermost middleware's.
#[derive(Clone, Default)]
pub struct SessionContext {
    /// The request's session (`None`: not signed in).
    pub session: Option<Arc<Session>>,
    /// The manager that loaded it; `None` when built without one ([`From`]), which no middleware
    /// reuses.
    loader: Option<Arc<SessionManager>>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl From<Option<Session>> for SessionContext {
    /// A context of no known manager: middlewares load their own session rather than reuse it.
    fn from(session: Option<Session>) -> Self {
        Self {
            session: session.map(Arc::new),
            loader: None,
        }
    }
}

impl SessionContext {
    /// The session `manager` loaded for a request.
    pub fn new(session: Option<Session>, manager: &Arc<SessionManager>) -> Self {
        Self {
            session: session.map(Arc::new),
            loader: Some(Arc::clone(manager)),
        }
    }

    /// Whether the request is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.session.is_some()
    }

    /// Whether `manager` (this very instance, not an equal clone) loaded this context: only then
    /// may a middleware or route of `manager` take its session as the one its cookie holds.
    pub fn is_loaded_by(&self, manager: &SessionManager) -> bool {
        self.loader
            .as_deref()
            .is_some_and(|loader| std::ptr::eq(loader, manager))
    }
}

/// What a bearer middleware found for a request: the verified token (`None` for an anonymous
/// request in optional mode) and the realm for challenges. Adapters put it in the request's
/// extensions for the extractors ([`extract_claims`](super::extract_claims),
/// [`extract_access_token`](super::extract_access_token)).
#[derive(Clone, Debug)]
pub struct BearerContext {
    /// The verified token and claims.
    pub authenticated: Option<Authenticated>,
    /// The middleware's realm.
    pub realm: Arc<str>,
}
