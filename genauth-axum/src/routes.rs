//! [`WebAuth`]: the browser sign-in routes (`/login`, `/callback`, `/logout`) and the session layers,
//! configured once.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /login?return_to=/path` | seals a login cookie (state, nonce, PKCE verifier, return-to; relative paths only) and redirects to the provider |
//! | `GET /callback` | checks the provider's answer against the login cookie, signs the user in (OIDC, OAuth 2.0 or CAS), sets the session cookie, redirects to the return-to path; a failure (e.g. the user denied consent) is a 4xx text page, never a 500 |
//! | `GET` or `POST /logout` | removes the session cookies, revokes the refresh token when configured (the session as the [`SessionLayer`] loaded it, refreshed or not), redirects to the provider's logout URL; a request from another site (`Sec-Fetch-Site: cross-site`, or a `POST` from a foreign `Origin`) gets 403 and changes nothing |
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
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use genauth::session::{RequestCookies, SessionContext};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, Method, Uri};

genauth::__web_auth! {
    /// Browser sign-in for an axum application: a [`SessionManager`](genauth::session::SessionManager)
    /// (client, sealing key, cookie settings) plus where the login route lives. Cheap to clone; build
    /// it once and hand out its [`routes`](Self::routes), [`session_layer`](Self::session_layer) and
    /// [`require_login`](Self::require_login) layer. Its fields, builder and what its routes answer
    /// are defined in the core, shared with genauth-actix's `WebAuth`.
    pub struct WebAuth => Response, response::reply, response::add_cookies, SessionLayer;
}

impl WebAuth {
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
    auth.login(uri.query().unwrap_or_default())
}

async fn callback(State(auth): State<WebAuth>, headers: HeaderMap, uri: Uri) -> Response {
    auth.callback(&request_cookies(&headers), uri.query().unwrap_or_default())
        .await
}

async fn logout(
    State(auth): State<WebAuth>,
    method: Method,
    headers: HeaderMap,
    loaded: Option<Extension<SessionContext>>,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    auth.logout(
        method.as_str(),
        header,
        &request_cookies(&headers),
        loaded.as_ref().map(|Extension(context)| context),
    )
    .await
}
