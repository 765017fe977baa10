//! [`SessionGate`]: the session middleware's decisions, before and after the handler, once for every
//! adapter.
//!
//! Before the handler ([`SessionGate::before`]):
//! 1. an outer middleware of the same [`SessionManager`] already loaded the session: reuse it;
//! 2. otherwise open the request's session: from its sealed cookie (synchronous, no I/O), or, with
//!    a server-side store, from the store by the ID sealed in the cookie ([`SessionStep::Load`], an
//!    asynchronous step; a request without a session cookie does not reach the store); when its
//!    access token is due, refresh it first ([`SessionStep::Refresh`], asynchronous too);
//! 3. in login-required mode, a request without a session is answered
//!    ([`login_required`](crate::login::login_required)) instead of reaching the handler;
//! 4. otherwise the handler runs with the [`SessionContext`] in the request's extensions.
//!
//! After it ([`Proceed::cookies_to_add`]): the refreshed (or removed) session cookies are added to
//! the response, unless the handler wrote the session itself (sign-in, logout), which has the last
//! word.

use super::SessionContext;
use crate::login::login_required;
use crate::session::{LoadedSession, Session, SessionManager};
use crate::web::{CookieNames, Reply, RequestHead};
use cookie::Cookie;
use std::fmt;
use std::sync::Arc;

/// The policy of one session middleware: which [`SessionManager`] loads the session, and whether a
/// session is required (and where browsers without one sign in). Cheap to clone; each adapter's
/// `SessionLayer` holds one.
#[derive(Clone, Debug)]
#[must_use]
pub struct SessionGate {
    manager: Arc<SessionManager>,
    login_path: Option<Arc<str>>,
}

/// What the session middleware does next with a request.
#[must_use]
pub enum SessionStep {
    /// Call the handler ([`Proceed`]).
    Proceed(Proceed),
    /// The session's access token is due: await [`Refresh::run`], then act on the step it returns.
    Refresh(Box<Refresh>),
    /// The session is in a server-side store, or its cookie session must be checked against the
    /// shared revocations: await [`Load::run`] (it loads or checks, refreshes when due, and decides
    /// like [`Refresh::run`]; a store failure answers 503).
    Load(Box<Load>),
    /// Answer without calling the handler (login required and no session): a redirect to sign in
    /// for a browser, 401 otherwise, with the session cookies to set.
    Respond(Reply),
}

impl fmt::Debug for SessionStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Proceed(proceed) => f.debug_tuple("Proceed").field(proceed).finish(),
            Self::Refresh(_) => f.write_str("Refresh"),
            Self::Load(_) => f.write_str("Load"),
            Self::Respond(reply) => f.debug_tuple("Respond").field(reply).finish(),
        }
    }
}

/// Call the handler: first insert [`context`](Self::context) into the request's extensions (when it
/// is `Some`; `None` when an outer middleware's context stays), then add
/// [`cookies_to_add`](Self::cookies_to_add) to its response. `Debug` shows cookie names only.
#[must_use]
pub struct Proceed {
    /// The context for the handler and the extractors; `None`: keep the one already there.
    pub context: Option<SessionContext>,
    set_cookies: Vec<Cookie<'static>>,
    manager: Arc<SessionManager>,
}

impl fmt::Debug for Proceed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proceed")
            .field("context", &self.context)
            .field("set_cookies", &CookieNames(&self.set_cookies))
            .finish()
    }
}

impl Proceed {
    /// Whether there are session cookies to add after the handler (a refresh rewrote or ended the
    /// session). Lets an adapter skip reading the response's cookies otherwise.
    pub fn has_cookies(&self) -> bool {
        !self.set_cookies.is_empty()
    }

    /// The session cookies to add to the handler's response, given the `Set-Cookie` values it
    /// already carries (raw bytes): none when the handler wrote the session itself (its cookie or a
    /// chunk, set or removed), which has the last word — appended after the handler's, a refresh's
    /// cookies would undo a logout.
    pub fn cookies_to_add<'a>(
        self,
        response_set_cookies: impl IntoIterator<Item = &'a [u8]>,
    ) -> Vec<Cookie<'static>> {
        if self.set_cookies.is_empty() || self.manager.writes_session(response_set_cookies) {
            return Vec::new();
        }
        self.set_cookies
    }

    /// The session cookies whatever the response, e.g. for an error response of an inner
    /// middleware that never reached a handler.
    pub fn into_cookies(self) -> Vec<Cookie<'static>> {
        self.set_cookies
    }
}

/// A refresh to run before the handler. [`run`](Self::run)'s future is `'static` and `Send`, so an
/// adapter can box it into its response future.
#[must_use]
pub struct Refresh {
    gate: SessionGate,
    session: Session,
    request: RequestHead,
}

impl Refresh {
    /// Refreshes the session ([`SessionManager::refresh_session`]: single flight, provider
    /// failures keep the session) and decides what follows: call the handler (`Ok`), or answer
    /// (`Err`: login required and the refresh ended the session) — what
    /// [`SessionStep::Proceed`] and [`SessionStep::Respond`] say.
    pub async fn run(self) -> Result<Proceed, Reply> {
        let Self {
            gate,
            session,
            request,
        } = self;
        let loaded = gate
            .manager
            .refresh_session(session, request.cookies())
            .await;
        gate.admit(loaded, &request)
    }
}

/// A session to load from the server-side store before the handler. [`run`](Self::run)'s future is
/// `'static` and `Send`, like [`Refresh::run`]'s.
#[must_use]
pub struct Load {
    gate: SessionGate,
    pending: Pending,
    request: RequestHead,
}

/// What a [`Load`] starts from.
// `Load` is boxed in its step: the size of the larger variant costs no copy.
#[allow(clippy::large_enum_variant)]
enum Pending {
    /// The session ID sealed in the cookie (a server-side store).
    Stored(String),
    /// The session opened from its cookie, to check against the shared revocations.
    Opened(Session),
}

impl Load {
    /// Loads the session ([`SessionManager::load_stored`]), refreshes it when due, and decides what
    /// follows: call the handler (`Ok`), or answer (`Err`: 503 when the store cannot answer — the
    /// session is not ended; login required and no session).
    pub async fn run(self) -> Result<Proceed, Reply> {
        let Self {
            gate,
            pending,
            request,
        } = self;
        let manager = &gate.manager;
        let session = match pending {
            Pending::Stored(id) => manager.load_stored(&id).await,
            Pending::Opened(session) => manager.check_revoked(session).await,
        };
        let loaded = match session {
            Err(e) => {
                tracing::warn!(error = %e, "session store unavailable; answering 503");
                return Err(store_unavailable());
            }
            Ok(Some(session)) if manager.needs_refresh(&session) => {
                manager.refresh_session(session, request.cookies()).await
            }
            Ok(Some(session)) => LoadedSession {
                session: Some(session),
                set_cookies: Vec::new(),
            },
            // Ended (logout elsewhere, expired): the cookie goes, so that the browser stops
            // sending a reference to nothing.
            Ok(None) => LoadedSession {
                session: None,
                set_cookies: manager.clear(request.cookies()),
            },
        };
        gate.admit(loaded, &request)
    }
}

/// The answer when the session store cannot answer: 503, retry in a second, never cached.
fn store_unavailable() -> Reply {
    Reply::text(
        503,
        "Sessions are unavailable right now; please try again in a moment.\n",
    )
    .header("retry-after", "1")
    .header("cache-control", "no-store")
}

impl SessionGate {
    /// A gate loading sessions with `manager`; requests without a session pass.
    pub fn new(manager: Arc<SessionManager>) -> Self {
        Self {
            manager,
            login_path: None,
        }
    }

    /// Login-required mode: requests without a session are answered
    /// ([`login_required`](crate::login::login_required)): browsers are sent to `login_path` (the
    /// login route's path as the browser sees it, e.g. `/login` or `/auth/login`), API clients get
    /// 401.
    pub fn require_login(mut self, login_path: impl Into<String>) -> Self {
        self.login_path = Some(Arc::from(login_path.into()));
        self
    }

    /// The session manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        &self.manager
    }

    /// The login path in login-required mode.
    pub fn get_login_path(&self) -> Option<&str> {
        self.login_path.as_deref()
    }

    /// What to do with `request` before the handler. `loaded` is the [`SessionContext`] already in
    /// the request's extensions, if any: one of this gate's manager is reused as it is (an outer
    /// middleware loaded and refreshed the session); another manager's is not, this gate loads its
    /// own session and the new context replaces it for the handler.
    pub fn before(&self, loaded: Option<&SessionContext>, request: RequestHead) -> SessionStep {
        if let Some(context) = loaded
            && context.is_loaded_by(&self.manager)
        {
            return self
                .decide(None, context.is_signed_in(), Vec::new(), &request)
                .into();
        }
        if self.manager.get_session_store().is_some() {
            return match self.manager.stored_id(&request) {
                Some(id) => SessionStep::Load(Box::new(Load {
                    gate: self.clone(),
                    pending: Pending::Stored(id),
                    request,
                })),
                None => self.admit(LoadedSession::default(), &request).into(),
            };
        }
        match self.manager.open(&request) {
            Some(session) if self.manager.get_shared_revocations().is_some() => {
                SessionStep::Load(Box::new(Load {
                    gate: self.clone(),
                    pending: Pending::Opened(session),
                    request,
                }))
            }
            Some(session) if self.manager.needs_refresh(&session) => {
                SessionStep::Refresh(Box::new(Refresh {
                    gate: self.clone(),
                    session,
                    request,
                }))
            }
            session => self
                .admit(
                    LoadedSession {
                        session,
                        set_cookies: Vec::new(),
                    },
                    &request,
                )
                .into(),
        }
    }

    /// The step for a session this gate loaded.
    fn admit(&self, loaded: LoadedSession, request: &RequestHead) -> Result<Proceed, Reply> {
        let signed_in = loaded.session.is_some();
        let context = SessionContext::new(loaded.session, &self.manager);
        self.decide(Some(context), signed_in, loaded.set_cookies, request)
    }

    fn decide(
        &self,
        context: Option<SessionContext>,
        signed_in: bool,
        set_cookies: Vec<Cookie<'static>>,
        request: &RequestHead,
    ) -> Result<Proceed, Reply> {
        match &self.login_path {
            Some(login_path) if !signed_in => {
                Err(login_required(request, login_path).with_cookies(&set_cookies))
            }
            _ => Ok(Proceed {
                context,
                set_cookies,
                manager: Arc::clone(&self.manager),
            }),
        }
    }
}

impl From<Result<Proceed, Reply>> for SessionStep {
    fn from(decision: Result<Proceed, Reply>) -> Self {
        match decision {
            Ok(proceed) => Self::Proceed(proceed),
            Err(reply) => Self::Respond(reply),
        }
    }
}
