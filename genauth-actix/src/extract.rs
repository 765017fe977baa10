//! Extractors for what the middleware verified.
//!
//! | extractor | from | needs |
//! | --- | --- | --- |
//! | [`Claims<T>`] | the bearer token's verified claims, `T` deserialized from them | [`BearerAuthLayer`](crate::BearerAuthLayer) |
//! | [`SharedClaims`] | the same claims, shared with the validator's cache (no copy per request) | [`BearerAuthLayer`](crate::BearerAuthLayer) |
//! | [`AuthUser`] | the signed-in user (`sub` + claims) | [`SessionLayer`](crate::SessionLayer) |
//! | [`AccessToken`] | the bearer token, else the session's access token | either middleware |
//! | [`LoginState`] | the session's tokens and their claims | [`SessionLayer`](crate::SessionLayer) |
//!
//! `Option<_>` of each is `None` when the request is anonymous. It goes through actix-web's blanket
//! `impl FromRequest for Option<T>`, which turns every failure into `None`: a route lacking the
//! middleware (a programming error, 500 for the plain extractor) or claims that do not fit the type
//! also read as `None` there; the misuse is logged at `error` level. To tell them apart, extract
//! `Result<Claims, ClaimsRejection>` (likewise for the others) and match.
//!
//! ```no_run
//! use genauth_actix::{AuthUser, Claims};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Tenant {
//!     tenant_id: String,
//! }
//!
//! // Bearer routes: typed custom claims.
//! async fn orders(Claims(claims): Claims<Tenant>) -> String {
//!     format!("orders of {} for {:?}", claims.extra.tenant_id, claims.sub)
//! }
//!
//! // Browser routes: the signed-in user, if any.
//! async fn home(user: Option<AuthUser>) -> String {
//!     user.map_or("anonymous".into(), |u| u.sub.clone())
//! }
//! ```

use crate::rejection::{
    AccessTokenRejection, AuthUserRejection, ClaimsRejection, LoginStateRejection,
};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use genauth::adapter::{
    extract_access_token, extract_claims, extract_login_state, extract_shared_claims, extract_user,
};
use serde::de::DeserializeOwned;
use std::future::{Ready, ready};

genauth::__extractor_types!();

/// Implements `FromRequest` with a core extraction over the request's extensions (synchronous:
/// the middleware did the work).
macro_rules! extractor {
    ($name:ident $(<$t:ident>)?, $rejection:ident, |$request:ident| $extract:expr) => {
        impl$(<$t: DeserializeOwned + 'static>)? FromRequest for $name$(<$t>)? {
            type Error = $rejection;
            type Future = Ready<Result<Self, Self::Error>>;

            fn from_request($request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
                ready($extract.map(Self).map_err($rejection::from))
            }
        }
    };
}

extractor!(Claims<T>, ClaimsRejection, |request| {
    extract_claims(request.extensions().get())
});
extractor!(SharedClaims, ClaimsRejection, |request| {
    extract_shared_claims(request.extensions().get())
});
extractor!(AuthUser, AuthUserRejection, |request| {
    extract_user(request.extensions().get())
});
extractor!(AccessToken, AccessTokenRejection, |request| {
    let extensions = request.extensions();
    extract_access_token(extensions.get(), extensions.get())
});
extractor!(LoginState, LoginStateRejection, |request| {
    extract_login_state(request.extensions().get())
});
