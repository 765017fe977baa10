//! Extractors for what the layers verified. Each also works as `Option<_>`: `None` when the request is
//! anonymous, a rejection only when the route lacks the layer (a programming error, 500) or the
//! claims do not fit the requested type.
//!
//! | extractor | from | needs |
//! | --- | --- | --- |
//! | [`Claims<T>`] | the bearer token's verified claims, `T` deserialized from them | [`BearerAuthLayer`](crate::BearerAuthLayer) |
//! | [`SharedClaims`] | the same claims, shared with the validator's cache (no copy per request) | [`BearerAuthLayer`](crate::BearerAuthLayer) |
//! | [`AuthUser`] | the signed-in user (`sub` + claims) | [`SessionLayer`](crate::SessionLayer) |
//! | [`AccessToken`] | the bearer token, else the session's access token | either layer |
//! | [`LoginState`] | the session's tokens and their claims | [`SessionLayer`](crate::SessionLayer) |
//!
//! ```no_run
//! use axum::Json;
//! use genauth_axum::{AuthUser, Claims};
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
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use genauth::adapter::{
    extract_access_token, extract_claims, extract_login_state, extract_shared_claims, extract_user,
    optional,
};
use http::request::Parts;
use serde::de::DeserializeOwned;

genauth::__extractor_types!();

/// Implements `FromRequestParts` and `OptionalFromRequestParts` with a core extraction over the
/// request's extensions.
macro_rules! extractor {
    ($name:ident $(<$t:ident>)?, $rejection:ident, |$parts:ident| $extract:expr) => {
        impl<S: Send + Sync $(, $t: DeserializeOwned + 'static)?> FromRequestParts<S> for $name$(<$t>)? {
            type Rejection = $rejection;

            async fn from_request_parts(
                $parts: &mut Parts,
                _state: &S,
            ) -> Result<Self, Self::Rejection> {
                Ok(Self($extract?))
            }
        }

        impl<S: Send + Sync $(, $t: DeserializeOwned + 'static)?> OptionalFromRequestParts<S>
            for $name$(<$t>)?
        {
            type Rejection = $rejection;

            async fn from_request_parts(
                $parts: &mut Parts,
                _state: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                Ok(optional($extract)?.map(Self))
            }
        }
    };
}

extractor!(Claims<T>, ClaimsRejection, |parts| extract_claims(
    parts.extensions.get()
));
extractor!(
    SharedClaims,
    ClaimsRejection,
    |parts| extract_shared_claims(parts.extensions.get())
);
extractor!(AuthUser, AuthUserRejection, |parts| extract_user(
    parts.extensions.get()
));
extractor!(AccessToken, AccessTokenRejection, |parts| {
    extract_access_token(parts.extensions.get(), parts.extensions.get())
});
extractor!(LoginState, LoginStateRejection, |parts| {
    extract_login_state(parts.extensions.get())
});
