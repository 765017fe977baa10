//! [`SessionLayer`]: loads the signed-in user's session from its sealed cookie for every request.
//!
//! The middleware opens the session from its cookie
//! ([`SessionManager::open`](genauth::session::SessionManager::open)), refreshes its tokens when the
//! access token expires within the refresh skew (rewriting the cookie in the response, or removing
//! it when the provider rejects the refresh token), and makes it available to
//! the [`AuthUser`](crate::AuthUser), [`LoginState`](crate::LoginState) and
//! [`AccessToken`](crate::AccessToken) extractors. Requests without a session pass through.
//!
//! With a server-side store
//! ([`SessionManager::session_store`](genauth::session::SessionManager::session_store): memory,
//! Redis) the cookie holds only the sealed session ID and the middleware loads the session from the
//! store first (an asynchronous step; a store that does not answer gets 503, and nobody is signed
//! out by it).
//!
//! In login-required mode ([`WebAuth::require_login`](crate::WebAuth::require_login) or
//! [`SessionLayer::require_login`]) a request without a session is stopped: a browser (an `Accept`
//! naming `text/html`, or a `GET` without `Authorization` not asking for JSON;
//! [`genauth::login::wants_login_redirect`]) gets a 302 to `{login_path}?return_to=<path and query>`,
//! any other client a 401. A login-required middleware on a resource reuses the session an outer
//! `SessionLayer` (on the `App` or a `Scope`) of the same manager already loaded; a middleware of
//! another manager (say, staff pages inside a customer site) loads its own session, and the
//! extractors behind it read that one.
//!
//! Cookies are read from and written to the headers directly: actix-web's `cookies` feature is not
//! needed. What the middleware decides, before and after the handler, is the core's
//! [`SessionGate`], shared with genauth-axum's `SessionLayer`.
//!
//! ```no_run
//! use actix_web::{web, App};
//! use genauth_actix::{AuthUser, WebAuth};
//!
//! # fn app(auth: WebAuth) {
//! App::new().service(
//!     web::resource("/profile")
//!         .wrap(auth.require_login())
//!         .route(web::get().to(|user: AuthUser| async move { web::Json(user.to_json()) })),
//! );
//! # }
//! ```

use crate::middleware::Inner;
use crate::response::{append_set_cookies, reply, request_head};
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpMessage};
use genauth::adapter::{SessionContext, SessionGate, SessionStep};
use genauth::session::SessionManager;
use std::rc::Rc;
use std::sync::Arc;

/// Middleware that loads the session (see the [module docs](self)): a
/// [`Transform`](actix_web::dev::Transform) to `wrap` around an `App`, a `Scope` or a `Resource`.
/// Cheap to clone.
#[derive(Clone, Debug)]
#[must_use]
pub struct SessionLayer {
    gate: SessionGate,
}

impl SessionLayer {
    /// A middleware loading sessions with `manager`; requests without a session pass through.
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

    /// Decides with the core's gate (refreshing first when due), then answers for the inner service
    /// (login required, no session) or calls it, adding the session cookies to its response.
    async fn handle<S: Inner<B>, B>(
        self,
        request: ServiceRequest,
        service: Rc<S>,
    ) -> Result<ServiceResponse<EitherBody<B>>, Error> {
        let head = request_head(request.request());
        let step = {
            let extensions = request.extensions();
            self.gate.before(extensions.get::<SessionContext>(), head)
        };
        let decision = match step {
            SessionStep::Proceed(proceed) => Ok(proceed),
            SessionStep::Refresh(refresh) => refresh.run().await,
            SessionStep::Load(load) => load.run().await,
            SessionStep::Respond(answer) => Err(answer),
        };
        let mut proceed = match decision {
            Ok(proceed) => proceed,
            Err(answer) => return Ok(request.into_response(reply(answer)).map_into_right_body()),
        };
        if let Some(context) = proceed.context.take() {
            request.extensions_mut().insert(context);
        }
        let mut response = match service.call(request).await {
            Ok(response) => response.map_into_left_body(),
            // An inner middleware's error: still an error for the outer ones, whose response
            // carries the refreshed (or removed) session cookies, or the browser would keep the
            // old cookie and its rotated-away refresh token.
            Err(error) if proceed.has_cookies() => {
                let mut response = error.error_response();
                append_set_cookies(response.headers_mut(), &proceed.into_cookies());
                return Err(InternalError::from_response(error, response).into());
            }
            Err(error) => return Err(error),
        };
        if proceed.has_cookies() {
            let headers = response.headers_mut();
            let written = headers.get_all(SET_COOKIE).map(HeaderValue::as_bytes);
            let add = proceed.cookies_to_add(written);
            append_set_cookies(headers, &add);
        }
        Ok(response)
    }
}

impl From<SessionGate> for SessionLayer {
    fn from(gate: SessionGate) -> Self {
        Self { gate }
    }
}

middleware! {
    /// The service of [`SessionLayer`].
    SessionLayer => SessionService
}
