//! [`WebAuth`]: the browser sign-in routes (`/login`, `/callback`, `/logout`) and the session
//! middleware, configured once.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /login?return_to=/path` | seals a login cookie (state, nonce, PKCE verifier, return-to; relative paths only) and redirects to the provider |
//! | `GET /callback` | checks the provider's answer against the login cookie, signs the user in (OIDC, OAuth 2.0 or CAS), sets the session cookie, redirects to the return-to path; a failure (e.g. the user denied consent) is a 4xx text page, never a 500 |
//! | `GET` or `POST /logout` | removes the session cookies, revokes the refresh token when configured (the session as the [`SessionLayer`] loaded it, refreshed or not), redirects to the provider's logout URL; a request from another site (`Sec-Fetch-Site: cross-site`, or a `POST` from a foreign `Origin`) gets 403 and changes nothing |
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

use crate::response::{add_cookies, reply};
use crate::session::SessionLayer;
use actix_web::http::header::{COOKIE, HeaderValue};
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use genauth::session::{RequestCookies, SessionContext};

genauth::__web_auth! {
    /// Browser sign-in for an actix-web application: a
    /// [`SessionManager`](genauth::session::SessionManager) (client, sealing key, cookie settings)
    /// plus where the login route lives. Cheap to clone (also into the `HttpServer::new` factory:
    /// every worker shares the same manager and key); build it once and hand out its
    /// [`routes`](Self::routes), [`session_layer`](Self::session_layer) and
    /// [`require_login`](Self::require_login) middleware. Its fields, builder and what its routes
    /// answer are defined in the core, shared with genauth-axum's `WebAuth`.
    pub struct WebAuth => HttpResponse, reply, add_cookies, SessionLayer;
}

impl WebAuth {
    /// The routes `GET /login`, `GET /callback`, `GET`/`POST /logout`, for `App::configure` or
    /// `Scope::configure`.
    pub fn routes(&self) -> impl FnOnce(&mut ServiceConfig) + 'static {
        let auth = self.clone();
        move |config| {
            let login =
                auth.handler(|auth, request| async move { auth.login(request.query_string()) });
            let callback = auth.handler(|auth, request| async move {
                let cookies = request_cookies(&request);
                auth.callback(&cookies, request.query_string()).await
            });
            let logout = auth.handler(|auth, request| async move {
                let loaded = request.extensions().get::<SessionContext>().cloned();
                let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
                auth.logout(
                    request.method().as_str(),
                    header,
                    &request_cookies(&request),
                    loaded.as_ref(),
                )
                .await
            });
            config
                .route("/login", web::get().to(login))
                .route("/callback", web::get().to(callback))
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

fn request_cookies(request: &HttpRequest) -> RequestCookies {
    RequestCookies::from_headers(request.headers().get_all(COOKIE).map(HeaderValue::as_bytes))
}
