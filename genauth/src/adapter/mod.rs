//! The seam for adapter authors: everything a web-framework adapter (`genauth-axum`,
//! `genauth-actix`, or a new one) needs beyond [`web`](crate::web)'s request and response types,
//! so that an adapter only translates. Nothing else in the core imports this module; applications
//! do not need it.
//!
//! An adapter provides:
//! 1. a [`Framework`] marker type: how a [`Reply`] becomes its framework's response;
//! 2. one conversion of its framework's request head into a [`RequestHead`](crate::web::RequestHead)
//!    (method, the original path and query, every header);
//! 3. its public types as plain structs holding a core value and delegating to it:
//!    - `BearerAuthLayer` holds a [`BearerGate`]: [`BearerAuthenticator`](crate::bearer::BearerAuthenticator)
//!      reads and validates the token, [`BearerGate::context`] goes into the request's extensions,
//!      [`BearerGate::error_response`] answers failures;
//!    - `SessionLayer` holds a [`SessionGate`]: [`SessionGate::before`] says what to do before the
//!      handler ([`SessionStep`]: proceed, refresh first, or answer), [`Proceed::cookies_to_add`]
//!      what to add to the handler's response;
//!    - `WebAuth` holds [`SignInRoutes`], whose `login`, `callback` and `logout` are the route
//!      bodies;
//! 4. its extractors, from the contexts in the request's extensions ([`extract_claims`],
//!    [`extract_user`], [`extract_access_token`], [`extract_login_state`], [`optional`]), with the
//!    types and rejection catalog of [`__extractor_types!`](crate::__extractor_types) and
//!    [`__extractor_rejections!`](crate::__extractor_rejections) (mechanical macros: an adapter
//!    expanding them depends on this crate with an exact version, `=x.y.z`).
//!
//! The adapter scenario suite (`adapter-tests` in the repository) then proves that the new adapter
//! behaves like the others.

mod bearer;
mod context;
mod extract;
mod gate;
#[macro_use]
mod macros;
mod routes;

pub use bearer::BearerGate;
pub use context::{BearerContext, SessionContext};
pub use extract::{
    ExtractError, extract_access_token, extract_claims, extract_login_state, extract_shared_claims,
    extract_user, optional,
};
pub use gate::{Load, Proceed, Refresh, SessionGate, SessionStep};
pub use routes::SignInRoutes;

use crate::web::Reply;
pub use crate::web::SESSION_CACHE_CONTROL;
use cookie::Cookie;

/// A web framework, as an adapter names it with a marker type: how the core's answers become its
/// responses.
pub trait Framework: 'static {
    /// The framework's response type.
    type Response;

    /// The response for `reply`, as it is (status, headers in order, body). A header the framework
    /// refuses is dropped and logged, never a panic.
    fn response(reply: Reply) -> Self::Response;

    /// Appends one `Set-Cookie` per cookie to `response` (a cookie's `Display` is its `Set-Cookie`
    /// value, whatever version of the `cookie` crate the framework uses) and, when there is at least
    /// one, sets `Cache-Control` to [`SESSION_CACHE_CONTROL`] (replacing the handler's). A session
    /// middleware adds [`Proceed::cookies_to_add`] the same way.
    fn add_cookies(response: &mut Self::Response, cookies: &[Cookie<'_>]);
}

#[cfg(test)]
mod tests;
