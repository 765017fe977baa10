//! # genauth-actix
//!
//! [actix-web](https://docs.rs/actix-web) integration for [`genauth`]: sign users in with GenAuth
//! (formerly Authing) or any OpenID Provider, keep them in a sealed cookie session, and protect API
//! routes with bearer tokens. A thin layer over the framework-agnostic core: the login state
//! machine, session sealing and refresh, return-to checks, RFC 6750 challenges, the extractors'
//! failures and every response's status, headers and body all live in `genauth`, shared with
//! `genauth-axum`, whose names and layout this crate mirrors.
//!
//! | piece | what it does |
//! | --- | --- |
//! | [`WebAuth::routes`] | `GET /login` (`?return_to=`), `GET /callback`, `GET`/`POST /logout`, for `App::configure` or `Scope::configure` |
//! | [`SessionLayer`] | middleware: opens the session cookie, refreshes tokens near expiry, makes the user available |
//! | [`WebAuth::require_login`] | the same middleware, but browsers without a session are sent to log in, API clients get 401 |
//! | [`BearerAuthLayer`] | middleware: `Authorization: Bearer` validated by any [`TokenValidator`]; RFC 6750 errors; optional mode; restyle hook |
//! | [`extract`] | [`AuthUser`], [`Claims<T>`](Claims), [`AccessToken`], [`LoginState`], each also as `Option<_>` |
//!
//! Failures become responses (302, 400, 401, 403, 503), never a 500 for a provider outage.
//!
//! # A web application
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use genauth::session::{SessionCodec, SessionManager};
//! use genauth_actix::{AuthUser, WebAuth};
//!
//! # async fn run(client: genauth::Client, secret: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = WebAuth::new(SessionManager::new(client, SessionCodec::new(&secret)?).revoke_on_logout(true));
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/", web::get().to(|user: Option<AuthUser>| async move {
//!             match user {
//!                 Some(user) => format!("Hello {}", user.display_name().unwrap_or(&user.sub)),
//!                 None => "Not signed in: /login".to_owned(),
//!             }
//!         }))
//!         .service(web::resource("/profile").wrap(auth.require_login())
//!             .route(web::get().to(|user: AuthUser| async move { web::Json(user.to_json()) })))
//!         .configure(auth.routes()) // /login, /callback, /logout
//!         .wrap(auth.session_layer())
//! })
//! .bind("127.0.0.1:3000")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! # An API
//! ```no_run
//! use actix_web::{web, App};
//! use genauth_actix::{BearerAuthLayer, Claims};
//!
//! # fn app(validator: genauth::validator::JwksValidator) {
//! async fn me(Claims(claims): Claims) -> web::Json<genauth::Claims> {
//!     web::Json(claims)
//! }
//! App::new()
//!     .route("/public", web::get().to(|| async { "hello" }))
//!     .service(web::resource("/me").wrap(BearerAuthLayer::new(validator.clone())).to(me))
//!     .service(web::resource("/scoped")
//!         .wrap(BearerAuthLayer::new(validator).required_scopes(["read:orders"]))
//!         .to(me));
//! # }
//! ```
//!
//! # Cookies
//! The middleware reads the `Cookie` header and writes `Set-Cookie` itself, as header text: the
//! core's cookies are `cookie` 0.18 values and actix-web 4 uses `cookie` 0.16, so actix-web's
//! `cookies` feature is not needed. Cookie attributes
//! ([`CookieSettings`]) come from the core, shared with the axum
//! adapter.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

#[macro_use]
mod middleware;
pub mod bearer;
pub mod extract;
pub mod rejection;
mod response;
pub mod routes;
pub mod session;

pub use bearer::{BearerAuth, BearerAuthLayer};
pub use extract::{AccessToken, AuthUser, Claims, LoginState, SharedClaims};
pub use routes::WebAuth;
pub use session::{SessionLayer, SessionService};

/// The core crate, re-exported.
pub use genauth;

// What an application needs from the core, so that one dependency on this crate suffices.
/// The actix-web crate this adapter is built for (4), so that an application needs no second
/// dependency.
pub use actix_web;
pub use genauth::session::{CookieSettings, SessionCodec, SessionManager};
pub use genauth::validator::{
    IntrospectionValidator, JwksValidator, TokenValidator, ValidationError,
};
pub use genauth::{Client, ClientConfig, ClientConfigBuilder, Protocol};
