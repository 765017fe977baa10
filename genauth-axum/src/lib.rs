//! # genauth-axum
//!
//! [axum](https://docs.rs/axum) integration for [`genauth`]: sign users in with GenAuth (formerly
//! Authing) or any OpenID Provider, keep them in a sealed cookie session, and protect API routes with
//! bearer tokens. A thin layer over the framework-agnostic core: the login state machine, session
//! sealing and refresh, return-to checks and RFC 6750 challenges all live in `genauth`.
//!
//! | piece | what it does |
//! | --- | --- |
//! | [`WebAuth::routes`] | `GET /login` (`?return_to=`), `GET /callback`, `GET`/`POST /logout` |
//! | [`SessionLayer`] | opens the session cookie, refreshes tokens near expiry, makes the user available |
//! | [`WebAuth::require_login`] | the same layer, but browsers without a session are sent to log in, API clients get 401 |
//! | [`BearerAuthLayer`] | `Authorization: Bearer` validated by any [`TokenValidator`]; RFC 6750 errors; optional mode; restyle hook |
//! | [`extract`] | [`AuthUser`], [`Claims<T>`](Claims), [`AccessToken`], [`LoginState`], each also as `Option<_>` |
//!
//! Every layer's service error is the inner service's (`Infallible` in a `Router`): failures become
//! responses (302, 400, 401, 403, 503), never a 500 for a provider outage.
//!
//! # A web application
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use genauth::session::{SessionCodec, SessionManager};
//! use genauth_axum::{AuthUser, WebAuth};
//!
//! # async fn run(client: genauth::Client, secret: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = WebAuth::new(SessionManager::new(client, SessionCodec::new(&secret)?).revoke_on_logout(true));
//! let app = Router::new()
//!     .route("/", get(|user: Option<AuthUser>| async move {
//!         match user {
//!             Some(user) => format!("Hello {}", user.display_name().unwrap_or(&user.sub)),
//!             None => "Not signed in: /login".to_owned(),
//!         }
//!     }))
//!     .route("/profile", get(|user: AuthUser| async move { Json(user.to_json()) }).layer(auth.require_login()))
//!     .merge(auth.routes()) // /login, /callback, /logout
//!     .layer(auth.session_layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! # An API
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use genauth_axum::{BearerAuthLayer, Claims};
//!
//! # fn app(validator: genauth::validator::JwksValidator) -> Router {
//! Router::new()
//!     .route("/public", get(|| async { "hello" }))
//!     .route("/me", get(|Claims(claims): Claims| async move { Json(claims) })
//!         .layer(BearerAuthLayer::new(validator.clone())))
//!     .route("/scoped", get(|Claims(claims): Claims| async move { Json(claims) })
//!         .layer(BearerAuthLayer::new(validator).required_scopes(["read:orders"])))
//! # }
//! ```
//!
//! # Cookies
//! The layers read the `Cookie` header and write `Set-Cookie` themselves: no `tower-cookies`
//! `CookieManagerLayer` is needed, and one elsewhere in the stack does not interfere. Cookie
//! attributes ([`CookieSettings`]) come from the core, shared with
//! the actix-web adapter.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

pub mod bearer;
pub mod extract;
pub mod rejection;
mod response;
pub mod routes;
pub mod session;

pub use bearer::{BearerAuth, BearerAuthLayer};
pub use extract::{AccessToken, AuthUser, Claims, LoginState, SharedClaims};
// The deprecated alias keeps its old root path.
pub use routes::WebAuth;
#[allow(deprecated)]
pub use routes::auth_router;
pub use session::{SessionLayer, SessionService};

/// The core crate, re-exported.
pub use genauth;

// What an application needs from the core, so that one dependency on this crate suffices.
/// The axum crate this adapter is built for (0.8), so that an application needs no second dependency.
pub use axum;
pub use genauth::session::{CookieSettings, SessionCodec, SessionManager};
pub use genauth::validator::{
    IntrospectionValidator, JwksValidator, TokenValidator, ValidationError,
};
pub use genauth::{Client, ClientConfig, ClientConfigBuilder, Protocol};
