//! [`WebAuth`]: the browser sign-in routes (`/login`, `/callback`, `/logout`) and the session layers,
//! configured once.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /login?return_to=/path` | seals a login cookie (state, nonce, PKCE verifier, return-to; relative paths only) and redirects to the provider |
//! | `GET /callback` | checks the provider's answer against the login cookie, signs the user in (OIDC, OAuth 2.0 or CAS), sets the session cookie, redirects to the return-to path; a failure (e.g. the user denied consent) is a 4xx text page, never a 500 |
//! | `GET` or `POST /logout` | removes the session cookies, revokes the refresh token when configured (the session as the [`SessionLayer`] loaded it, refreshed or not), redirects to the provider's logout URL; a request from another site (`Sec-Fetch-Site: cross-site` or `same-site`, or a `POST` from a foreign `Origin`) gets 403 and changes nothing |
//! | `POST /backchannel-logout` (form `logout_token`) | OpenID Connect Back-Channel Logout 1.0: verifies the logout token (§2.6: signature, `iss`, `aud`, `iat`, `exp`, `events`, `sid`/`sub`, no `nonce`, `jti` once) and ends its sessions; 200, or 400 with an OAuth error body (nothing ended), 503 when the keys are unavailable; `Cache-Control: no-store`. Register its URL as the client's `backchannel_logout_uri` |
//! | `GET /frontchannel-logout?iss=…&sid=…` | OpenID Connect Front-Channel Logout 1.0: ends every session of the provider session `sid` (a saved cookie then reads as signed out); `iss` must be the provider's; 200, or 400 for a bad request (nothing ended); never cached. Register its URL as the client's `frontchannel_logout_uri` (with `frontchannel_logout_session_required`) |
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

use crate::response::{Axum, request_head};
use crate::session::SessionLayer;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use genauth::adapter::{SessionContext, SignInRoutes};
use genauth::login::LoginError;
use genauth::session::SessionManager;
use std::sync::Arc;

/// Browser sign-in for an axum application: a [`SessionManager`] (client, sealing key, cookie
/// settings) plus where the login route lives. Cheap to clone; build it once and hand out its
/// [`routes`](Self::routes), [`session_layer`](Self::session_layer) and
/// [`require_login`](Self::require_login) layer. What its routes answer is the core's
/// ([`SignInRoutes`]), shared with genauth-actix's `WebAuth`.
#[derive(Clone, Debug)]
#[must_use]
pub struct WebAuth {
    routes: SignInRoutes<Axum>,
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
            routes: SignInRoutes::new(manager),
        }
    }

    /// The login route's path as browsers see it (default `/login`; `/auth/login` when the routes
    /// are mounted under `/auth`): where [`require_login`](Self::require_login) sends browsers.
    pub fn login_path(self, path: impl Into<String>) -> Self {
        Self {
            routes: self.routes.login_path(path),
        }
    }

    /// Replaces the text page shown when the callback fails (its status is
    /// [`LoginError::status_code`]).
    pub fn on_login_error<F>(self, hook: F) -> Self
    where
        F: Fn(&LoginError) -> Response + Send + Sync + 'static,
    {
        Self {
            routes: self.routes.on_login_error(hook),
        }
    }

    /// The session manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        self.routes.manager()
    }

    /// A layer that loads the session for every request and lets requests without one through.
    pub fn session_layer(&self) -> SessionLayer {
        self.routes.session_gate().into()
    }

    /// A layer that requires a session: browsers without one are redirected to the login route
    /// (returning to the page afterwards), API clients get 401.
    pub fn require_login(&self) -> SessionLayer {
        self.routes.require_login_gate().into()
    }

    /// The routes `GET /login`, `GET /callback`, `GET`/`POST /logout`, `GET /frontchannel-logout`,
    /// `POST /backchannel-logout`, for `merge` or `nest`.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/login", get(login))
            .route("/callback", get(callback))
            .route("/logout", get(logout).post(logout))
            .route("/frontchannel-logout", get(frontchannel_logout))
            .route("/backchannel-logout", post(backchannel_logout))
            .with_state(self.clone())
    }
}

/// The routes of `auth`.
#[deprecated(since = "0.1.1", note = "use `WebAuth::routes`")]
pub fn auth_router<S>(auth: &WebAuth) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    auth.routes()
}

async fn login(State(auth): State<WebAuth>, request: Request) -> Response {
    auth.routes.login(&request_head(&request))
}

async fn callback(State(auth): State<WebAuth>, request: Request) -> Response {
    auth.routes.callback(&request_head(&request)).await
}

async fn backchannel_logout(State(auth): State<WebAuth>, body: Bytes) -> Response {
    auth.routes.backchannel_logout(&body).await
}

async fn frontchannel_logout(State(auth): State<WebAuth>, request: Request) -> Response {
    auth.routes.frontchannel_logout(&request_head(&request))
}

async fn logout(State(auth): State<WebAuth>, request: Request) -> Response {
    let loaded = request.extensions().get::<SessionContext>();
    auth.routes.logout(&request_head(&request), loaded).await
}
