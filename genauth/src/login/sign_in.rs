//! The sign-in half of [`SessionManager`]: [`begin_login`](SessionManager::begin_login) seals the
//! pending login and redirects to the provider; [`complete_login`](SessionManager::complete_login)
//! checks the callback against it ([`finish`]) and stores the session. The login and callback routes
//! ([`start_login`](SessionManager::start_login), [`finish_login`](SessionManager::finish_login))
//! read them from the request.

use super::{
    CallbackParams, LoginError, bind_cas_service, finish, provider_error, return_to_from_query,
    start,
};
use crate::authorize::AuthorizeParams;
use crate::config::Protocol;
use crate::pkce::PkceMethod;
use crate::session::SessionManager;
use crate::telemetry;
use crate::web::{CookieNames, Redirect, RequestCookies, RequestHead};
use cookie::Cookie;
use std::fmt;

/// A failed callback: the error, and the cookies to set anyway (the login cookie is removed, unless
/// the callback did not belong to the login in progress). `Debug` shows the cookies' names, not
/// their values.
pub struct CallbackFailure {
    /// What went wrong; [`LoginError::status_code`] is the response status.
    pub error: LoginError,
    /// Cookies to set.
    pub set_cookies: Vec<Cookie<'static>>,
}

impl fmt::Debug for CallbackFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackFailure")
            .field("error", &self.error)
            .field("set_cookies", &CookieNames(&self.set_cookies))
            .finish()
    }
}

impl SessionManager {
    /// Starts a login: the provider's authorization URL, and the sealed login cookie holding
    /// `state`, `nonce`, PKCE verifier and the return-to path (`return_to` is checked with
    /// [`safe_return_to`](super::safe_return_to); `/` when absent or unsafe). `state` and `nonce` are always fresh
    /// and PKCE always `S256`, whatever [`authorize_params`](Self::authorize_params) says. For CAS
    /// the service is the callback URL bound to this login
    /// ([`cas_service_binding`](Self::cas_service_binding)).
    ///
    /// # Errors
    /// [`LoginError::Client`] when the authorization URL cannot be built (configuration), or the
    /// pending login cannot be sealed.
    pub fn begin_login(&self, return_to: Option<&str>) -> Result<Redirect, LoginError> {
        let params = self.login_params()?;
        let (request, pending) = start(&self.client, return_to, &params)?;
        let name = self.cookies.login_cookie_name();
        let sealed = self
            .codec
            .seal_pending(&pending, &name, self.cookies.get_login_ttl())
            .map_err(LoginError::Session)?;
        Ok(Redirect {
            location: request.url.into(),
            set_cookies: vec![
                self.cookies
                    .cookie(name, sealed, self.cookies.get_login_ttl()),
            ],
        })
    }

    /// The authorization options of one login: the configured ones with fresh `state` and `nonce`
    /// (left to [`Client::authorization_request`](crate::Client::authorization_request) to generate), PKCE `S256`, and for CAS the bound
    /// service URL.
    fn login_params(&self) -> Result<AuthorizeParams, LoginError> {
        let mut params = AuthorizeParams {
            state: None,
            nonce: None,
            pkce: true,
            pkce_method: PkceMethod::S256,
            ..self.authorize_params.clone()
        };
        if self.cas_service_binding && self.client.config().protocol() == Protocol::Cas {
            let service = self.client.redirect_uri(params.redirect_uri.as_deref())?;
            params.redirect_uri = Some(bind_cas_service(&service)?.into());
        }
        Ok(params)
    }

    /// The login route, `GET {login}?return_to=…`: [`begin_login`](Self::begin_login) with the
    /// request's `return_to` parameter ([`return_to_from_query`]).
    ///
    /// # Errors
    /// As [`begin_login`](Self::begin_login); logged here.
    pub fn start_login(&self, request: &RequestHead) -> Result<Redirect, LoginError> {
        self.begin_login(return_to_from_query(request.query()).as_deref())
            .inspect_err(|e| tracing::error!(error = %e, "cannot start a login"))
    }

    /// The callback route: [`complete_login`](Self::complete_login) with the request's cookies and
    /// the parameters of its query string ([`CallbackParams::from_query`]). A query repeating a
    /// parameter fails ([`LoginError::MalformedCallback`]) without removing the login cookie: like a
    /// callback of another login, it does not cancel the login in progress.
    ///
    /// # Errors
    /// As [`complete_login`](Self::complete_login).
    pub async fn finish_login(&self, request: &RequestHead) -> Result<Redirect, CallbackFailure> {
        match CallbackParams::from_query(request.query()) {
            Ok(params) => self.complete_login(request.cookies(), &params).await,
            Err(error) => {
                tracing::info!(error = %error, "login callback failed");
                // Anyone can send a malformed callback: it must not cancel the login in progress.
                Err(CallbackFailure {
                    error,
                    set_cookies: Vec::new(),
                })
            }
        }
    }

    /// [`start_login`](Self::start_login) from the query string alone (without `?`).
    ///
    /// # Errors
    /// As [`begin_login`](Self::begin_login).
    #[deprecated(
        since = "0.1.1",
        note = "use `start_login` with the request's `RequestHead`"
    )]
    pub fn begin_login_from_query(&self, query: &str) -> Result<Redirect, LoginError> {
        self.start_login(&RequestHead::get(&format!("/?{query}")))
    }

    /// [`finish_login`](Self::finish_login) from the request's cookies and query string (without
    /// `?`).
    ///
    /// # Errors
    /// As [`complete_login`](Self::complete_login).
    #[deprecated(
        since = "0.1.1",
        note = "use `finish_login` with the request's `RequestHead`"
    )]
    pub async fn complete_login_from_query(
        &self,
        cookies: &RequestCookies,
        query: &str,
    ) -> Result<Redirect, CallbackFailure> {
        match CallbackParams::from_query(query) {
            Ok(params) => self.complete_login(cookies, &params).await,
            Err(error) => Err(CallbackFailure {
                error,
                set_cookies: Vec::new(),
            }),
        }
    }

    /// Completes a login at the callback: opens the login cookie, runs [`finish`] (with the
    /// configured login TTL), stores the session, and redirects to the return-to path. The login
    /// cookie is removed, unless the callback does not belong to the login in progress (`state` or
    /// CAS service mismatch): a forged callback does not cancel it.
    ///
    /// # Errors
    /// [`CallbackFailure`] with the [`LoginError`] (its status is 4xx for anything the browser or
    /// the provider's answer caused, 502/503 for provider failures).
    pub async fn complete_login(
        &self,
        cookies: &RequestCookies,
        params: &CallbackParams,
    ) -> Result<Redirect, CallbackFailure> {
        let name = self.cookies.login_cookie_name();
        let mut set_cookies = vec![self.cookies.removal(name.clone())];
        let pending = cookies
            .get(&name)
            .and_then(|sealed| self.codec.open_pending(&name, sealed));
        let result = match pending {
            None => {
                // Without a login in progress nothing ties an `error` to this browser: anyone can
                // forge `?error=…&error_description=…`. Log it, show the generic page.
                if params.error.is_some() {
                    let error = provider_error(params);
                    tracing::info!(error = %error, "provider error at the callback without a login in progress");
                }
                Err(LoginError::NoPendingLogin)
            }
            Some(pending) => {
                let return_to = pending.return_to.clone();
                let ttl = self.cookies.get_login_ttl();
                let span = telemetry::callback_span(self.client.config().protocol());
                match telemetry::in_span(&span, finish(&self.client, pending, params, ttl)).await {
                    Ok(session) => self
                        .save_session(&session, cookies)
                        .await
                        .inspect(|_| {
                            telemetry::signed_in(&span, &session.user.sub, session.user.protocol)
                        })
                        .map(|stored| (return_to, stored))
                        .map_err(LoginError::Session),
                    Err(e) => Err(e),
                }
                .inspect_err(|_| telemetry::callback_failed(&span))
            }
        };
        match result {
            Ok((location, stored)) => {
                set_cookies.extend(stored);
                Ok(Redirect {
                    location,
                    set_cookies,
                })
            }
            Err(error) => {
                tracing::info!(error = %error, status = error.status_code(), "login callback failed");
                if error.is_foreign_callback() {
                    set_cookies.clear();
                }
                Err(CallbackFailure { error, set_cookies })
            }
        }
    }
}

#[cfg(test)]
mod tests;
