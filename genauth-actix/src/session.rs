//! [`SessionLayer`]: loads the signed-in user's session from its sealed cookie for every request.
//!
//! The middleware parses the `Cookie` header, loads the session
//! ([`SessionManager::load`](genauth::session::SessionManager::load): opens it, and refreshes its
//! tokens when the access token expires within the refresh skew, rewriting the cookie in the
//! response, or removing it when the provider rejects the refresh token), and makes it available to
//! the [`AuthUser`](crate::AuthUser), [`LoginState`](crate::LoginState) and
//! [`AccessToken`](crate::AccessToken) extractors. Requests without a session pass through.
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
//! needed.
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
use crate::response::{append_set_cookies, reply};
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{ACCEPT, AUTHORIZATION, COOKIE, HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpMessage, HttpResponse};
use genauth::cookie::Cookie;
use genauth::session::{RequestCookies, SessionContext};
use std::rc::Rc;

genauth::__session_layer! {
    /// Middleware that loads the session (see the [module docs](self)): a
    /// [`Transform`](actix_web::dev::Transform) to `wrap` around an `App`, a `Scope` or a
    /// `Resource`. Cheap to clone. Its fields and builder are defined in the core, shared with
    /// genauth-axum's `SessionLayer`.
    pub struct SessionLayer;
}

impl SessionLayer {
    /// Puts the request's session in its extensions, unless an outer `SessionLayer` of the same
    /// manager did (another manager's is replaced), and returns the cookies to set (a refreshed
    /// session, or removals).
    async fn load(&self, request: &ServiceRequest) -> Vec<Cookie<'static>> {
        let reuse = request
            .extensions()
            .get::<SessionContext>()
            .is_some_and(|context| context.is_loaded_by(&self.manager));
        if reuse {
            return Vec::new();
        }
        let cookies = RequestCookies::from_headers(
            request.headers().get_all(COOKIE).map(HeaderValue::as_bytes),
        );
        let loaded = self.manager.load(&cookies).await;
        request
            .extensions_mut()
            .insert(SessionContext::new(loaded.session, &self.manager));
        loaded.set_cookies
    }

    /// The answer to a request without a session in login-required mode, `None` otherwise.
    fn refusal(&self, request: &ServiceRequest) -> Option<HttpResponse> {
        let login_path = self.login_path.as_deref()?;
        let signed_in = request
            .extensions()
            .get::<SessionContext>()
            .is_some_and(SessionContext::is_signed_in);
        if signed_in {
            return None;
        }
        let headers = request.headers();
        Some(reply(genauth::login::login_required(
            request.method().as_str(),
            headers.get(ACCEPT).and_then(|v| v.to_str().ok()),
            headers.contains_key(AUTHORIZATION),
            login_path,
            request.uri().path_and_query().map_or("/", |pq| pq.as_str()),
        )))
    }

    /// Loads the session, then answers for the inner service (login required, no session) or calls
    /// it, adding the session cookies to its response.
    async fn handle<S: Inner<B>, B>(
        self,
        request: ServiceRequest,
        service: Rc<S>,
    ) -> Result<ServiceResponse<EitherBody<B>>, Error> {
        let set_cookies = self.load(&request).await;
        let mut response = match self.refusal(&request) {
            Some(refusal) => request.into_response(refusal).map_into_right_body(),
            None => match service.call(request).await {
                Ok(response) => response.map_into_left_body(),
                // An inner middleware's error: still an error for the outer ones, whose response
                // carries the refreshed (or removed) session cookies, or the browser would keep
                // the old cookie and its rotated-away refresh token.
                Err(error) if !set_cookies.is_empty() => {
                    let mut response = error.error_response();
                    append_set_cookies(response.headers_mut(), &set_cookies);
                    return Err(InternalError::from_response(error, response).into());
                }
                Err(error) => return Err(error),
            },
        };
        let headers = response.headers_mut();
        let written = headers.get_all(SET_COOKIE).map(HeaderValue::as_bytes);
        // A handler that wrote the session (sign-in, logout) has the last word.
        if !set_cookies.is_empty() && !self.manager.writes_session(written) {
            append_set_cookies(headers, &set_cookies);
        }
        Ok(response)
    }
}

middleware! {
    /// The service of [`SessionLayer`].
    SessionLayer => SessionService
}
