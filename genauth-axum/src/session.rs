//! [`SessionLayer`]: loads the signed-in user's session from its sealed cookie for every request.
//!
//! The layer opens the session from its cookie
//! ([`SessionManager::open`](genauth::session::SessionManager::open)), refreshes its tokens when the
//! access token expires within the refresh skew (rewriting the cookie in the response, or removing
//! it when the provider rejects the refresh token), and makes it available to the
//! [`AuthUser`](crate::AuthUser), [`LoginState`](crate::LoginState) and
//! [`AccessToken`](crate::AccessToken) extractors. Requests without a session pass through.
//!
//! With a server-side store
//! ([`SessionManager::session_store`](genauth::session::SessionManager::session_store): memory,
//! Redis) the cookie holds only the sealed session ID and the layer loads the session from the
//! store first (an asynchronous step; a store that does not answer gets 503, and nobody is signed
//! out by it).
//!
//! In login-required mode ([`WebAuth::require_login`](crate::WebAuth::require_login) or
//! [`SessionLayer::require_login`]) a request without a session is stopped: a browser (an `Accept`
//! naming `text/html`, or a `GET` without `Authorization` not asking for JSON;
//! [`genauth::login::wants_login_redirect`]) gets a 302 to `{login_path}?return_to=<path and query>`,
//! any other client a 401. A login-required layer on a route reuses the session an outer
//! `SessionLayer` of the same manager already loaded; a layer of another manager (say, staff pages
//! inside a customer site) loads its own session, and the extractors behind it read that one.
//!
//! Cookies are read and written directly from the headers: no `CookieManagerLayer` is needed. What
//! the layer decides, before and after the handler, is the core's
//! [`SessionGate`], shared with genauth-actix's `SessionLayer`.
//!
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use genauth_axum::{AuthUser, WebAuth};
//!
//! # fn app(auth: WebAuth) -> Router {
//! Router::new()
//!     .route("/profile", get(|user: AuthUser| async move { Json(user.to_json()) }))
//!     .layer(auth.require_login())
//! # }
//! ```

use crate::response::{append_set_cookies, polled_after_completion, request_head};
use axum::response::{IntoResponse, Response};
use genauth::adapter::{Proceed, SessionContext, SessionGate, SessionStep};
use genauth::session::SessionManager;
use genauth::web::Reply;
use http::header::SET_COOKIE;
use http::{HeaderValue, Request};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

type Refreshing = Pin<Box<dyn Future<Output = Result<Proceed, Reply>> + Send>>;

/// A [`Layer`] that loads the session (see the [module docs](self)). Cheap to clone.
#[derive(Clone, Debug)]
#[must_use]
pub struct SessionLayer {
    gate: SessionGate,
}

impl SessionLayer {
    /// A layer loading sessions with `manager`; requests without a session pass through.
    pub fn new(manager: Arc<SessionManager>) -> Self {
        Self {
            gate: SessionGate::new(manager),
        }
    }

    /// Login-required mode: requests without a session are sent to `login_path` (browsers) or get
    /// 401 (API clients). `login_path` is the path of the login route as the browser sees it, e.g.
    /// `/login` or `/auth/login`.
    pub fn require_login(self, login_path: impl Into<String>) -> Self {
        Self {
            gate: self.gate.require_login(login_path),
        }
    }
}

impl From<SessionGate> for SessionLayer {
    fn from(gate: SessionGate) -> Self {
        Self { gate }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`SessionLayer`].
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

impl<S, B> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>> + Clone,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let step = self.layer.gate.before(
            request.extensions().get::<SessionContext>(),
            request_head(&request),
        );
        let state = match step {
            SessionStep::Refresh(refresh) => {
                // The ready service goes into the future; a fresh clone takes its place (tower's
                // usual pattern for calling the inner service after asynchronous work).
                let clone = self.inner.clone();
                State::Refreshing {
                    refreshing: Box::pin(refresh.run()),
                    service: Some(std::mem::replace(&mut self.inner, clone)),
                    request: Some(request),
                }
            }
            SessionStep::Load(load) => {
                let clone = self.inner.clone();
                State::Refreshing {
                    refreshing: Box::pin(load.run()),
                    service: Some(std::mem::replace(&mut self.inner, clone)),
                    request: Some(request),
                }
            }
            SessionStep::Proceed(proceed) => next(&mut self.inner, request, Ok(proceed)),
            SessionStep::Respond(answer) => next(&mut self.inner, request, Err(answer)),
        };
        ResponseFuture { state }
    }
}

/// Calls the inner service, or answers for it.
fn next<S, B>(
    service: &mut S,
    mut request: Request<B>,
    decision: Result<Proceed, Reply>,
) -> State<S, B>
where
    S: Service<Request<B>>,
{
    match decision {
        Ok(mut proceed) => {
            if let Some(context) = proceed.context.take() {
                request.extensions_mut().insert(context);
            }
            State::Inner {
                future: service.call(request),
                proceed: Some(proceed),
            }
        }
        Err(answer) => State::Respond {
            response: Some(crate::response::reply(answer)),
        },
    }
}

pin_project! {
    /// The response future of [`SessionService`]: a refresh when one is due (boxed), then the inner
    /// service's future (not boxed), whose response gets the rewritten session cookies.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Refreshing {
            refreshing: Refreshing,
            service: Option<S>,
            request: Option<Request<B>>,
        },
        Inner {
            #[pin]
            future: S::Future,
            proceed: Option<Proceed>,
        },
        Respond {
            response: Option<Response>,
        },
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
    S::Response: IntoResponse,
{
    type Output = Result<Response, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Refreshing {
                    refreshing,
                    service,
                    request,
                } => {
                    let decision = ready!(refreshing.as_mut().poll(cx));
                    let next = match (service.take(), request.take()) {
                        (Some(mut service), Some(request)) => next(&mut service, request, decision),
                        _ => State::Respond { response: None },
                    };
                    this.state.set(next);
                }
                StateProj::Inner { future, proceed } => {
                    let mut response = ready!(future.poll(cx))?.into_response();
                    if let Some(proceed) = proceed.take().filter(Proceed::has_cookies) {
                        let headers = response.headers_mut();
                        let written = headers
                            .get_all(SET_COOKIE)
                            .iter()
                            .map(HeaderValue::as_bytes);
                        let add = proceed.cookies_to_add(written);
                        append_set_cookies(headers, &add);
                    }
                    return Poll::Ready(Ok(response));
                }
                StateProj::Respond { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .unwrap_or_else(polled_after_completion)));
                }
            }
        }
    }
}
