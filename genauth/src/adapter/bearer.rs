//! [`BearerGate`]: the bearer middleware's policy and failure answers, once for every adapter; each
//! adapter's `BearerAuthLayer` holds one.

use super::{BearerContext, Framework};
use crate::bearer::{Authenticated, BearerAuthenticator, BearerError};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// The hook replacing the default bearer failure response.
type BearerErrorHook<R> = Arc<dyn Fn(BearerError) -> R + Send + Sync>;

/// A [`BearerAuthenticator`] (validator, scopes, optional mode, realm) plus an optional hook
/// restyling failure responses. Cheap to clone. `F` is the adapter's [`Framework`].
#[must_use]
pub struct BearerGate<F: Framework> {
    auth: BearerAuthenticator,
    on_error: Option<BearerErrorHook<F::Response>>,
    framework: PhantomData<fn() -> F>,
}

impl<F: Framework> Clone for BearerGate<F> {
    fn clone(&self) -> Self {
        Self {
            auth: self.auth.clone(),
            on_error: self.on_error.clone(),
            framework: PhantomData,
        }
    }
}

impl<F: Framework> fmt::Debug for BearerGate<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hook = self
            .on_error
            .as_ref()
            .map(|_| "Fn(BearerError) -> response");
        f.debug_struct("BearerGate")
            .field("auth", &self.auth)
            .field("on_error", &hook)
            .finish()
    }
}

impl<F: Framework> BearerGate<F> {
    /// A gate applying `auth`, answering failures with [`BearerError::reply`].
    pub fn new(auth: BearerAuthenticator) -> Self {
        Self {
            auth,
            on_error: None,
            framework: PhantomData,
        }
    }

    /// The policy.
    pub fn authenticator(&self) -> &BearerAuthenticator {
        &self.auth
    }

    /// The same gate with its policy changed by `change` (a builder step of the adapter's layer).
    pub fn map_authenticator(
        mut self,
        change: impl FnOnce(BearerAuthenticator) -> BearerAuthenticator,
    ) -> Self {
        self.auth = change(self.auth);
        self
    }

    /// Replaces the default failure response with the hook's.
    pub fn on_error<H>(mut self, hook: H) -> Self
    where
        H: Fn(BearerError) -> F::Response + Send + Sync + 'static,
    {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// The request-extension value for a request this gate let through (`None`: anonymous, in
    /// optional mode).
    pub fn context(&self, authenticated: Option<Authenticated>) -> BearerContext {
        BearerContext {
            authenticated,
            realm: Arc::clone(self.auth.shared_realm()),
        }
    }

    /// The answer to a failure: logged at `debug`, then the hook's response, else the core's
    /// ([`BearerAuthenticator::error_reply`]: RFC 6750 and, when configured, DPoP and
    /// `resource_metadata` challenges).
    pub fn error_response(&self, error: BearerError) -> F::Response {
        error.log();
        match &self.on_error {
            Some(hook) => hook(error),
            None => F::response(self.auth.error_reply(&error)),
        }
    }
}
