//! [`SignInRoutes`]: what the sign-in routes (`/login`, `/callback`, `/logout`) answer, once for every
//! adapter; each adapter's `WebAuth` holds one and mounts the routes in its framework.

use super::{Framework, SessionContext, SessionGate};
use crate::login::{CallbackFailure, LoginError};
use crate::session::SessionManager;
use crate::web::RequestHead;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// The hook replacing the login error page.
type LoginErrorHook<R> = Arc<dyn Fn(&LoginError) -> R + Send + Sync>;

/// Browser sign-in for one application: the [`SessionManager`], where the login route lives (for
/// login-required redirects), and an optional hook restyling the login error page. Cheap to clone.
/// `F` is the adapter's [`Framework`].
#[must_use]
pub struct SignInRoutes<F: Framework> {
    manager: Arc<SessionManager>,
    login_path: Arc<str>,
    on_login_error: Option<LoginErrorHook<F::Response>>,
    framework: PhantomData<fn() -> F>,
}

impl<F: Framework> Clone for SignInRoutes<F> {
    fn clone(&self) -> Self {
        Self {
            manager: Arc::clone(&self.manager),
            login_path: Arc::clone(&self.login_path),
            on_login_error: self.on_login_error.clone(),
            framework: PhantomData,
        }
    }
}

impl<F: Framework> fmt::Debug for SignInRoutes<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInRoutes")
            .field("manager", &self.manager)
            .field("login_path", &self.login_path)
            .finish_non_exhaustive()
    }
}

impl<F: Framework> SignInRoutes<F> {
    /// Sign-in with `manager`; the login route is at `/login`.
    pub fn new(manager: SessionManager) -> Self {
        Self {
            manager: Arc::new(manager),
            login_path: Arc::from("/login"),
            on_login_error: None,
            framework: PhantomData,
        }
    }

    /// The login route's path as browsers see it (default `/login`).
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.login_path = Arc::from(path.into());
        self
    }

    /// Replaces the login error page with the hook's response (the failure's cookies are added to
    /// it).
    pub fn on_login_error<H>(mut self, hook: H) -> Self
    where
        H: Fn(&LoginError) -> F::Response + Send + Sync + 'static,
    {
        self.on_login_error = Some(Arc::new(hook));
        self
    }

    /// The session manager.
    pub fn manager(&self) -> &Arc<SessionManager> {
        &self.manager
    }

    /// The login route's path.
    pub fn get_login_path(&self) -> &str {
        &self.login_path
    }

    /// A session middleware's policy that lets requests without a session through.
    pub fn session_gate(&self) -> SessionGate {
        SessionGate::new(Arc::clone(&self.manager))
    }

    /// A session middleware's policy requiring a session: browsers without one go to the login
    /// route, returning to the page afterwards; API clients get 401.
    pub fn require_login_gate(&self) -> SessionGate {
        self.session_gate()
            .require_login(self.login_path.to_string())
    }

    /// `GET /login?return_to=…`: the redirect to the provider with the login cookie
    /// ([`SessionManager::start_login`]), or the error page.
    pub fn login(&self, request: &RequestHead) -> F::Response {
        match self.manager.start_login(request) {
            Ok(redirect) => F::response(redirect.into()),
            Err(error) => self.error_page(CallbackFailure {
                error,
                set_cookies: Vec::new(),
            }),
        }
    }

    /// `GET /callback`: the session cookie and the redirect to the return-to path
    /// ([`SessionManager::finish_login`]), or the error page.
    pub async fn callback(&self, request: &RequestHead) -> F::Response {
        match self.manager.finish_login(request).await {
            Ok(redirect) => F::response(redirect.into()),
            Err(failure) => self.error_page(failure),
        }
    }

    /// `GET`/`POST /logout`: refused (403) when another site sent it
    /// ([`SessionManager::logout_refusal`]); otherwise the session cookies are removed and the
    /// browser goes to the provider's logout ([`SessionManager::logout`]). `loaded` is the context
    /// the session middleware left in the request's extensions, if it ran: its session, when this
    /// manager loaded it, is the one ended.
    pub async fn logout(
        &self,
        request: &RequestHead,
        loaded: Option<&SessionContext>,
    ) -> F::Response {
        if let Some(refusal) = self.manager.logout_refusal(request) {
            return F::response(refusal);
        }
        let loaded = loaded
            .filter(|context| context.is_loaded_by(&self.manager))
            .map(|context| context.session.as_deref());
        F::response(self.manager.logout(request, loaded).await.into())
    }

    /// `POST /backchannel-logout` with the form body `logout_token=…` (OpenID Connect Back-Channel
    /// Logout 1.0): ends the sessions the verified token names
    /// ([`SessionManager::backchannel_logout`]). `body` is the request body, as it came.
    pub async fn backchannel_logout(&self, body: &[u8]) -> F::Response {
        F::response(self.manager.backchannel_logout(body).await)
    }

    /// `GET /frontchannel-logout?iss=…&sid=…` (OpenID Connect Front-Channel Logout 1.0): ends the
    /// provider session's sessions ([`SessionManager::frontchannel_logout`]).
    pub fn frontchannel_logout(&self, request: &RequestHead) -> F::Response {
        F::response(self.manager.frontchannel_logout(request))
    }

    /// The hook's page, else the core's ([`LoginError::page`]), with the failure's cookies.
    fn error_page(&self, failure: CallbackFailure) -> F::Response {
        let mut page = match &self.on_login_error {
            Some(hook) => hook(&failure.error),
            None => F::response(failure.error.page(&self.login_path)),
        };
        F::add_cookies(&mut page, &failure.set_cookies);
        page
    }
}
