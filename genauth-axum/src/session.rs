//! [`SessionLayer`]: loads the signed-in user's session from its sealed cookie for every request.
//!
//! The layer parses the `Cookie` header, opens the session
//! ([`SessionManager::open`](genauth::session::SessionManager::open)), refreshes its tokens when the
//! access token expires within the refresh skew (rewriting the cookie in the response, or removing
//! it when the provider rejects the refresh token), and makes it available to the
//! [`AuthUser`](crate::AuthUser), [`LoginState`](crate::LoginState) and
//! [`AccessToken`](crate::AccessToken) extractors. Requests without a session pass through.
//!
//! In login-required mode ([`WebAuth::require_login`](crate::WebAuth::require_login) or
//! [`SessionLayer::require_login`]) a request without a session is stopped: a browser (an `Accept`
//! naming `text/html`, or a `GET` without `Authorization` not asking for JSON;
//! [`genauth::login::wants_login_redirect`]) gets a 302 to `{login_path}?return_to=<path and query>`,
//! any other client a 401. A login-required layer on a route reuses the session an outer
//! `SessionLayer` of the same manager already loaded; a layer of another manager (say, staff pages
//! inside a customer site) loads its own session, and the extractors behind it read that one.
//!
//! Cookies are read and written directly from the headers: no `CookieManagerLayer` is needed.
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

use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Response};
use genauth::session::{LoadedSession, RequestCookies, SessionContext, SessionManager};
use http::header::{ACCEPT, AUTHORIZATION, COOKIE, SET_COOKIE};
use http::{HeaderValue, Request};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

type Loading = Pin<Box<dyn Future<Output = LoadedSession> + Send>>;

genauth::__session_layer! {
    /// A [`Layer`] that loads the session (see the [module docs](self)). Cheap to clone. Its fields
    /// and builder are defined in the core, shared with genauth-actix's `SessionLayer`.
    pub struct SessionLayer;
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

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // An outer SessionLayer of the same manager already loaded (and refreshed) the session.
        // Another manager's context is not reused: this layer loads its own and replaces it.
        if let Some(context) = request.extensions().get::<SessionContext>()
            && context.is_loaded_by(&self.layer.manager)
        {
            let signed_in = context.is_signed_in();
            return ResponseFuture::new(self.proceed(request, signed_in, Vec::new()));
        }
        let manager = &self.layer.manager;
        let cookies = RequestCookies::from_headers(
            request
                .headers()
                .get_all(COOKIE)
                .iter()
                .map(HeaderValue::as_bytes),
        );
        let state = match manager.open(&cookies) {
            Some(session) if manager.needs_refresh(&session) => {
                let manager = manager.clone();
                let clone = self.inner.clone();
                State::Loading {
                    loading: Box::pin(
                        async move { manager.refresh_session(session, &cookies).await },
                    ),
                    service: Some(std::mem::replace(&mut self.inner, clone)),
                    request: Some(request),
                    layer: self.layer.clone(),
                }
            }
            session => {
                let signed_in = session.is_some();
                request
                    .extensions_mut()
                    .insert(SessionContext::new(session, manager));
                self.proceed(request, signed_in, Vec::new())
            }
        };
        ResponseFuture::new(state)
    }
}

impl<S> SessionService<S> {
    fn proceed<B>(
        &mut self,
        request: Request<B>,
        signed_in: bool,
        set_cookies: Vec<HeaderValue>,
    ) -> State<S, B>
    where
        S: Service<Request<B>>,
    {
        proceed(
            &mut self.inner,
            &self.layer,
            request,
            signed_in,
            set_cookies,
        )
    }
}

/// Calls the inner service, or answers for it when login is required and there is no session.
fn proceed<S, B>(
    service: &mut S,
    layer: &SessionLayer,
    request: Request<B>,
    signed_in: bool,
    set_cookies: Vec<HeaderValue>,
) -> State<S, B>
where
    S: Service<Request<B>>,
{
    match &layer.login_path {
        Some(login_path) if !signed_in => {
            let mut response = login_required(&request, login_path);
            for value in set_cookies {
                response.headers_mut().append(SET_COOKIE, value);
            }
            State::Respond {
                response: Some(response),
            }
        }
        _ => State::Inner {
            future: service.call(request),
            manager: (!set_cookies.is_empty()).then(|| layer.manager.clone()),
            set_cookies,
        },
    }
}

/// 302 to login for a browser, 401 for an API client ([`genauth::login::login_required`]).
fn login_required<B>(request: &Request<B>, login_path: &str) -> Response {
    let headers = request.headers();
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri(), |original| &original.0);
    crate::response::reply(genauth::login::login_required(
        request.method().as_str(),
        headers.get(ACCEPT).and_then(|v| v.to_str().ok()),
        headers.contains_key(AUTHORIZATION),
        login_path,
        uri.path_and_query().map_or("/", |pq| pq.as_str()),
    ))
}

fn header_values<C: std::fmt::Display>(cookies: &[C]) -> Vec<HeaderValue> {
    let mut headers = http::HeaderMap::new();
    crate::response::append_set_cookies(&mut headers, cookies);
    headers.get_all(SET_COOKIE).iter().cloned().collect()
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

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn new(state: State<S, B>) -> Self {
        Self { state }
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Loading {
            loading: Loading,
            service: Option<S>,
            request: Option<Request<B>>,
            layer: SessionLayer,
        },
        Inner {
            #[pin]
            future: S::Future,
            // Present when there are cookies to set.
            manager: Option<Arc<SessionManager>>,
            set_cookies: Vec<HeaderValue>,
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
                StateProj::Loading {
                    loading,
                    service,
                    request,
                    layer,
                } => {
                    let loaded = ready!(loading.as_mut().poll(cx));
                    let set_cookies = header_values(&loaded.set_cookies);
                    let next = match (service.take(), request.take()) {
                        (Some(mut service), Some(mut request)) => {
                            let signed_in = loaded.session.is_some();
                            request
                                .extensions_mut()
                                .insert(SessionContext::new(loaded.session, &layer.manager));
                            proceed(&mut service, layer, request, signed_in, set_cookies)
                        }
                        _ => State::Respond { response: None },
                    };
                    this.state.set(next);
                }
                StateProj::Inner {
                    future,
                    manager,
                    set_cookies,
                } => {
                    let mut response = ready!(future.poll(cx))?.into_response();
                    let headers = response.headers_mut();
                    let written = headers
                        .get_all(SET_COOKIE)
                        .iter()
                        .map(HeaderValue::as_bytes);
                    // A handler that wrote the session (sign-in, logout) has the last word.
                    if !manager.as_ref().is_some_and(|m| m.writes_session(written)) {
                        for value in set_cookies.drain(..) {
                            headers.append(SET_COOKIE, value);
                        }
                    }
                    return Poll::Ready(Ok(response));
                }
                StateProj::Respond { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .unwrap_or_else(crate::response::polled_after_completion)));
                }
            }
        }
    }
}
