//! Extractors for what the layers verified. Each also works as `Option<_>`: `None` when the request is
//! anonymous, a rejection only when the route lacks the layer (a programming error, 500) or the
//! claims do not fit the requested type.
//!
//! | extractor | from | needs |
//! | --- | --- | --- |
//! | [`Claims<T>`] | the bearer token's verified claims, `T` deserialized from them | [`BearerAuthLayer`](crate::BearerAuthLayer) |
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
    AccessTokenRejection, AuthUserRejection, ClaimsRejection, InvalidClaims, LoginStateRejection,
    MissingAuthLayer, MissingBearerLayer, MissingBearerToken, MissingSessionLayer, NoAccessToken,
    NoLoginState, NotSignedIn,
};
use crate::{BearerSlot, SessionSlot};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use genauth::ExtraClaims;
use http::request::Parts;
use serde::de::DeserializeOwned;
use std::ops::{Deref, DerefMut};

/// Implements `Deref`/`DerefMut` to the wrapped core type.
macro_rules! deref {
    ($name:ident $(<$t:ident>)?, $target:ty) => {
        impl$(<$t>)? Deref for $name$(<$t>)? {
            type Target = $target;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
        impl$(<$t>)? DerefMut for $name$(<$t>)? {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    };
}

/// The bearer token's verified claims ([`genauth::Claims<T>`]), with the extra claims deserialized as
/// `T` (default: a JSON map). Needs [`BearerAuthLayer`](crate::BearerAuthLayer) on the route.
///
/// Rejection: [`ClaimsRejection`]. `Option<Claims<T>>` is `None` for an anonymous request in
/// optional mode.
#[derive(Clone, Debug)]
pub struct Claims<T = ExtraClaims>(pub genauth::Claims<T>);
deref!(Claims<T>, genauth::Claims<T>);

impl<T: DeserializeOwned> Claims<T> {
    fn from_slot(slot: &BearerSlot) -> Result<Option<Self>, ClaimsRejection> {
        let Some(authenticated) = &slot.authenticated else {
            return Ok(None);
        };
        let invalid = |reason: String| InvalidClaims {
            reason,
            realm: slot.realm.to_string(),
        };
        let value =
            serde_json::to_value(&*authenticated.claims).map_err(|e| invalid(e.to_string()))?;
        let claims = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        Ok(Some(Self(claims)))
    }
}

impl<S, T> FromRequestParts<S> for Claims<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<BearerSlot>()
            .ok_or(MissingBearerLayer)?;
        Self::from_slot(slot)?.ok_or_else(|| {
            MissingBearerToken {
                realm: slot.realm.to_string(),
            }
            .into()
        })
    }
}

impl<S, T> OptionalFromRequestParts<S> for Claims<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ClaimsRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<BearerSlot>()
            .ok_or(MissingBearerLayer)?;
        Self::from_slot(slot)
    }
}

/// The signed-in user ([`genauth::session::AuthUser`]: `sub`, claims such as `name` and `email`, the
/// protocol). Needs [`SessionLayer`](crate::SessionLayer) (or the login-required layer) on the route.
///
/// Rejection: [`AuthUserRejection`] (401 when not signed in; put the route behind
/// [`WebAuth::require_login`](crate::WebAuth::require_login) to redirect browsers instead).
#[derive(Clone, Debug)]
pub struct AuthUser(pub genauth::session::AuthUser);
deref!(AuthUser, genauth::session::AuthUser);

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = AuthUserRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <Self as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await?
            .ok_or_else(|| NotSignedIn.into())
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthUser {
    type Rejection = AuthUserRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .ok_or(MissingSessionLayer)?;
        Ok(slot.0.as_ref().map(|session| Self(session.user.clone())))
    }
}

/// The access token: the request's bearer token under [`BearerAuthLayer`](crate::BearerAuthLayer),
/// else the signed-in session's (to call APIs on the user's behalf). `Debug` is redacted.
///
/// Rejection: [`AccessTokenRejection`].
#[derive(Clone, Debug)]
pub struct AccessToken(pub genauth::AccessToken);
deref!(AccessToken, genauth::AccessToken);

impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = AccessTokenRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <Self as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await?
            .ok_or_else(|| NoAccessToken.into())
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AccessToken {
    type Rejection = AccessTokenRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let bearer = parts.extensions.get::<BearerSlot>();
        let session = parts.extensions.get::<SessionSlot>();
        if bearer.is_none() && session.is_none() {
            return Err(MissingAuthLayer.into());
        }
        let from_bearer = bearer
            .and_then(|slot| slot.authenticated.as_ref())
            .map(|a| a.token.clone());
        let from_session = || {
            session
                .and_then(|slot| slot.0.as_ref())
                .and_then(|s| s.access_token().cloned())
        };
        Ok(from_bearer.or_else(from_session).map(Self))
    }
}

/// The signed-in session's tokens and their verified claims ([`genauth::token::LoginState`]). Needs
/// [`SessionLayer`](crate::SessionLayer). `Debug` redacts the tokens.
///
/// Rejection: [`LoginStateRejection`] (also when the session holds no tokens, as after a CAS sign-in).
#[derive(Clone, Debug)]
pub struct LoginState(pub genauth::token::LoginState);
deref!(LoginState, genauth::token::LoginState);

impl<S: Send + Sync> FromRequestParts<S> for LoginState {
    type Rejection = LoginStateRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .ok_or(MissingSessionLayer)?;
        let session = slot.0.as_ref().ok_or(NotSignedIn)?;
        let tokens = session.tokens.clone().ok_or(NoLoginState)?;
        Ok(Self(tokens))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for LoginState {
    type Rejection = LoginStateRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .ok_or(MissingSessionLayer)?;
        Ok(slot
            .0
            .as_ref()
            .and_then(|session| session.tokens.clone())
            .map(Self))
    }
}
