//! [`WebAuth`]: the browser sign-in routes (`/login`, `/callback`, `/logout`) and the session
//! middleware, configured once.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /login?return_to=/path` | seals a login cookie (state, nonce, PKCE verifier, return-to; relative paths only) and redirects to the provider |
//! | `GET /callback` | checks the provider's answer against the login cookie, signs the user in (OIDC, OAuth 2.0 or CAS), sets the session cookie, redirects to the return-to path; a failure (e.g. the user denied consent) is a 4xx text page, never a 500 |
//! | `GET` or `POST /logout` | removes the session cookies, revokes the refresh token when configured (the session as the [`SessionLayer`] loaded it, refreshed or not), redirects to the provider's logout URL; a request from another site (`Sec-Fetch-Site: cross-site` or `same-site`, or a `POST` from a foreign `Origin`) gets 403 and changes nothing |
//! | `POST /backchannel-logout` (form `logout_token`) | OpenID Connect Back-Channel Logout 1.0: verifies the logout token (§2.6: signature, `iss`, `aud`, `iat`, `exp`, `events`, `sid`/`sub`, no `nonce`, `jti` once) and ends its sessions; 200, or 400 with an OAuth error body (nothing ended), 503 when the keys are unavailable; `Cache-Control: no-store`. Register its URL as the client's `backchannel_logout_uri` |
//! | `GET /frontchannel-logout?iss=…&sid=…` | OpenID Connect Front-Channel Logout 1.0: ends every session of the provider session `sid` (a saved cookie then reads as signed out); `iss` must be the provider's; 200, or 400 for a bad request (nothing ended); never cached. Register its URL as the client's `frontchannel_logout_uri` (with `frontchannel_logout_session_required`) |
//!
//! Mount them at the root with `App::configure(auth.routes())` (the callback URL is then
//! `/callback`), or under a prefix with `web::scope("/auth").configure(auth.routes())` and
//! [`WebAuth::login_path`]`("/auth/login")`. The callback's path must be the path of the configured
//! redirect URI.
//!
//! ```no_run
//! use actix_web::{web, App};
//! use genauth::session::{SessionCodec, SessionManager};
//! use genauth_actix::WebAuth;
//!
//! # fn app(client: genauth::Client, secret: &[u8]) -> Result<(), genauth::session::SessionError> {
//! // Redirect URI configured as https://app.example.com/auth/callback
//! let auth = WebAuth::new(SessionManager::new(client, SessionCodec::new(secret)?)).login_path("/auth/login");
//! let app = App::new()
//!     .service(web::scope("/auth").configure(auth.routes()))
//!     .wrap(auth.session_layer());
//! # Ok(()) }
//! ```

use crate::response::{Actix, request_head};
use crate::session::SessionLayer;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use genauth::adapter::{SessionContext, SignInRoutes};
use genauth::login::LoginError;
use genauth::session::SessionManager;
use std::sync::Arc;

/// Browser sign-in for an actix-web application: a [`SessionManager`] (client, sealing key, cookie
/// settings) plus where the login route lives. Cheap to clone (also into the `HttpServer::new`
/// factory: every worker shares the same manager and key); build it once and hand out its
/// [`routes`](Self::routes), [`session_layer`](Self::session_layer) and
/// [`require_login`](Self::require_login) middleware. What its routes answer is the core's
/// ([`SignInRoutes`]), shared with genauth-axum's `WebAuth`.
#[derive(Clone, Debug)]
#[must_use]
pub struct WebAuth {
    routes: SignInRoutes<Actix>,
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
    /// are mounted in `web::scope("/auth")`): where [`require_login`](Self::require_login) sends
    /// browsers.
    pub fn login_path(self, path: impl Into<String>) -> Self {
        Self {
            routes: self.routes.login_path(path),
        }
    }

    /// Replaces the text page shown when the callback fails (its status is
    /// [`LoginError::status_code`]).
    pub fn on_login_error<F>(self, hook: F) -> Self
    where
        F: Fn(&LoginError) -> HttpResponse + Send + Sync + 'static,
    {
        Self {
            routes: self.routes.on_login_error(hook),
        }
    }

    /// The session manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        self.routes.manager()
    }

    /// A middleware that loads the session for every request and lets requests without one
    /// through.
    pub fn session_layer(&self) -> SessionLayer {
        self.routes.session_gate().into()
    }

    /// A middleware that requires a session: browsers without one are redirected to the login
    /// route (returning to the page afterwards), API clients get 401.
    pub fn require_login(&self) -> SessionLayer {
        self.routes.require_login_gate().into()
    }

    /// The routes `GET /login`, `GET /callback`, `GET`/`POST /logout`, `GET /frontchannel-logout`,
    /// `POST /backchannel-logout`, for `App::configure` or `Scope::configure`.
    pub fn routes(&self) -> impl FnOnce(&mut ServiceConfig) + 'static {
        let auth = self.clone();
        move |config| {
            let login = auth
                .handler(|auth, request| async move { auth.routes.login(&request_head(&request)) });
            let callback = auth.handler(|auth, request| async move {
                auth.routes.callback(&request_head(&request)).await
            });
            let backchannel = auth.clone();
            let backchannel_logout = move |body: web::Bytes| {
                let auth = backchannel.clone();
                async move { auth.routes.backchannel_logout(&body).await }
            };
            let frontchannel_logout = auth.handler(|auth, request| async move {
                auth.routes.frontchannel_logout(&request_head(&request))
            });
            let logout = auth.handler(|auth, request| async move {
                let loaded = request.extensions().get::<SessionContext>().cloned();
                auth.routes
                    .logout(&request_head(&request), loaded.as_ref())
                    .await
            });
            config
                .route("/login", web::get().to(login))
                .route("/callback", web::get().to(callback))
                .route("/frontchannel-logout", web::get().to(frontchannel_logout))
                .route("/backchannel-logout", web::post().to(backchannel_logout))
                .service(
                    web::resource("/logout")
                        .route(web::get().to(logout.clone()))
                        .route(web::post().to(logout)),
                );
        }
    }

    /// A route handler running `route` with this `WebAuth`.
    fn handler<F, R>(&self, route: F) -> impl Fn(HttpRequest) -> R + Clone + 'static
    where
        F: Fn(WebAuth, HttpRequest) -> R + Clone + 'static,
    {
        let auth = self.clone();
        move |request| route(auth.clone(), request)
    }
}
