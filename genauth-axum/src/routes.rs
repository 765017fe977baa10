//! [`WebAuth`]: the browser sign-in routes (`/login`, `/callback`, `/logout`) and the session layers,
//! configured once.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /login?return_to=/path` | seals a login cookie (state, nonce, PKCE verifier, return-to; relative paths only) and redirects to the provider |
//! | `GET /callback` | checks the provider's answer against the login cookie, signs the user in (OIDC, OAuth 2.0 or CAS), sets the session cookie, redirects to the return-to path; a failure (e.g. the user denied consent) is a 4xx text page, never a 500 |
//! | `GET` or `POST /logout` | removes the session cookies, revokes the refresh token when configured, redirects to the provider's logout URL |
//!
//! Mount them at the root with `merge` (the callback URL is then `/callback`), or under a prefix with
//! `nest("/auth", auth.routes())` and [`WebAuth::login_path`]`("/auth/login")`. The callback's path
//! must be the path of the configured redirect URI.
//!
//! ```no_run
//! use axum::Router;
//! use genauth::session::{SessionCodec, SessionManager};
//! use genauth_axum::WebAuth;
//!
//! # fn app(client: genauth::Client, secret: &[u8]) -> Result<Router, genauth::session::SessionError> {
//! // Redirect URI configured as https://app.example.com/auth/callback
//! let auth = WebAuth::new(SessionManager::new(client, SessionCodec::new(secret)?)).login_path("/auth/login");
//! Ok(Router::new().nest("/auth", auth.routes()).layer(auth.session_layer()))
//! # }
//! ```

use crate::response;
use crate::session::SessionLayer;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use genauth::cookie::Cookie;
use genauth::login::LoginError;
use genauth::session::{RequestCookies, SessionManager};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, Uri};
use std::fmt;
use std::sync::Arc;

type LoginErrorHook = Arc<dyn Fn(&LoginError) -> Response + Send + Sync>;

/// Browser sign-in for an axum application: a [`SessionManager`] (client, sealing key, cookie
/// settings) plus where the login route lives. Cheap to clone; build it once and hand out its
/// [`routes`](Self::routes), [`session_layer`](Self::session_layer) and
/// [`require_login`](Self::require_login) layer.
#[derive(Clone)]
#[must_use]
pub struct WebAuth {
    manager: Arc<SessionManager>,
    login_path: Arc<str>,
    on_login_error: Option<LoginErrorHook>,
}

impl fmt::Debug for WebAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebAuth")
            .field("manager", &self.manager)
            .field("login_path", &self.login_path)
            .finish_non_exhaustive()
    }
}

impl From<SessionManager> for WebAuth {
    fn from(manager: SessionManager) -> Self {
        Self::new(manager)
    }
}

impl WebAuth {
    /// Sign-in with this manager; the login route is at `/login`.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager: Arc::new(manager),
            login_path: Arc::from("/login"),
            on_login_error: None,
        }
    }

    /// The login route's path as browsers see it (default `/login`; `/auth/login` when the routes are
    /// nested under `/auth`): where [`require_login`](Self::require_login) sends browsers.
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.login_path = Arc::from(path.into());
        self
    }

    /// Replaces the text page shown when the callback fails (its status is
    /// [`LoginError::status_code`]).
    pub fn on_login_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&LoginError) -> Response + Send + Sync + 'static,
    {
        self.on_login_error = Some(Arc::new(hook));
        self
    }

    /// The session manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        &self.manager
    }

    /// The routes `GET /login`, `GET /callback`, `GET`/`POST /logout`, for `merge` or `nest`.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/login", get(login))
            .route("/callback", get(callback))
            .route("/logout", get(logout).post(logout))
            .with_state(self.clone())
    }

    /// A layer that loads the session for every request and lets requests without one through.
    pub fn session_layer(&self) -> SessionLayer {
        SessionLayer::new(self.manager.clone())
    }

    /// A layer that requires a session: browsers without one are redirected to the login route
    /// (returning to the page afterwards), API clients get 401.
    pub fn require_login(&self) -> SessionLayer {
        SessionLayer::new(self.manager.clone()).require_login(self.login_path.to_string())
    }
}

/// The routes of `auth` ([`WebAuth::routes`]).
pub fn auth_router<S>(auth: &WebAuth) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    auth.routes()
}

fn request_cookies(headers: &HeaderMap) -> RequestCookies {
    RequestCookies::from_headers(headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes))
}

async fn login(State(auth): State<WebAuth>, uri: Uri) -> Response {
    match auth
        .manager
        .begin_login_from_query(uri.query().unwrap_or_default())
    {
        Ok(redirect) => response::reply(redirect.into()),
        Err(error) => auth.login_error_page(&error, &[]),
    }
}

async fn callback(State(auth): State<WebAuth>, headers: HeaderMap, uri: Uri) -> Response {
    let completed = auth
        .manager
        .complete_login_from_query(&request_cookies(&headers), uri.query().unwrap_or_default())
        .await;
    match completed {
        Ok(redirect) => response::reply(redirect.into()),
        Err(failure) => auth.login_error_page(&failure.error, &failure.set_cookies),
    }
}

async fn logout(State(auth): State<WebAuth>, headers: HeaderMap) -> Response {
    let redirect = auth.manager.logout(&request_cookies(&headers)).await;
    response::reply(redirect.into())
}

impl WebAuth {
    /// The hook's page, else the core's ([`LoginError::page`]), with the cookies to set anyway.
    fn login_error_page(&self, error: &LoginError, set_cookies: &[Cookie<'static>]) -> Response {
        let mut page = match &self.on_login_error {
            Some(hook) => hook(error),
            None => response::reply(error.page(&self.login_path)),
        };
        response::append_set_cookies(page.headers_mut(), set_cookies);
        page
    }
}
