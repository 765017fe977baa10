//! Extraction: what each extractor (`Claims<T>`, `AuthUser`, `AccessToken`, `LoginState`) gives for
//! a request, from the contexts the middlewares left, and why it gives nothing ([`ExtractError`]).

use super::{BearerContext, SessionContext};
use crate::bearer::BearerError;
use crate::claims::Claims;
use crate::session::AuthUser;
use crate::token::LoginState;
use crate::types::AccessToken;
use crate::validator::ValidationError;
use crate::web::Reply;
use serde::de::DeserializeOwned;

/// Why an adapter's extractor (`Claims<T>`, `AuthUser`, `AccessToken`, `LoginState`) has no value
/// for a request: the same failures, statuses and bodies in every adapter, whose rejection types
/// wrap these ([`__extractor_rejections!`](crate::__extractor_rejections)).
///
/// | failure | status | absence (`Option<_>` is `None`) |
/// | --- | --- | --- |
/// | `Missing*Layer` | 500: the route lacks the middleware the extractor reads (a programming error) | no |
/// | [`NotSignedIn`](Self::NotSignedIn), [`NoAccessToken`](Self::NoAccessToken), [`NoLoginState`](Self::NoLoginState) | 401 | yes |
/// | [`MissingBearerToken`](Self::MissingBearerToken) | 401, `WWW-Authenticate: Bearer realm="…"` | yes |
/// | [`InvalidClaims`](Self::InvalidClaims) | 401 `invalid_token` | no |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// `Claims` on a route without the bearer middleware.
    #[error("Claims extractor used on a route without BearerAuthLayer")]
    MissingBearerLayer,
    /// A session extractor on a route without the session middleware.
    #[error("session extractor used on a route without SessionLayer")]
    MissingSessionLayer,
    /// `AccessToken` on a route with neither middleware.
    #[error("AccessToken extractor used on a route without SessionLayer or BearerAuthLayer")]
    MissingAuthLayer,
    /// No session.
    #[error("sign-in required")]
    NotSignedIn,
    /// Neither a bearer token nor a session holding an access token.
    #[error("no access token: send a bearer token or sign in")]
    NoAccessToken,
    /// Signed in without tokens (CAS).
    #[error("this session holds no tokens")]
    NoLoginState,
    /// No bearer token (the bearer middleware is in optional mode).
    #[error("{}", BearerError::MissingToken)]
    MissingBearerToken {
        /// The middleware's realm.
        realm: String,
    },
    /// The token is valid but its claims do not deserialize into the handler's claims type.
    #[error("{}", invalid_claims(.reason))]
    InvalidClaims {
        /// What serde reported (claim names and types).
        reason: String,
        /// The middleware's realm.
        realm: String,
    },
}

fn invalid_claims(reason: &str) -> BearerError {
    BearerError::InvalidToken(ValidationError::InvalidClaims(reason.to_owned()))
}

impl ExtractError {
    /// The bearer failure behind [`MissingBearerToken`](Self::MissingBearerToken) and
    /// [`InvalidClaims`](Self::InvalidClaims), with its realm: answered as the bearer middleware
    /// answers.
    pub fn bearer_error(&self) -> Option<(BearerError, &str)> {
        match self {
            Self::MissingBearerToken { realm } => Some((BearerError::MissingToken, realm)),
            Self::InvalidClaims { reason, realm } => Some((invalid_claims(reason), realm)),
            _ => None,
        }
    }

    /// The HTTP status: 500 for a missing middleware, 401 otherwise.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::MissingBearerLayer | Self::MissingSessionLayer | Self::MissingAuthLayer => 500,
            Self::NotSignedIn | Self::NoAccessToken | Self::NoLoginState => 401,
            Self::MissingBearerToken { .. } | Self::InvalidClaims { .. } => self
                .bearer_error()
                .map_or(401, |(error, _)| error.status_code()),
        }
    }

    /// Whether this only says the value is absent (an anonymous request): `Option<_>` extractors
    /// give `None` for these and fail with the others.
    pub fn is_absence(&self) -> bool {
        matches!(
            self,
            Self::NotSignedIn
                | Self::NoAccessToken
                | Self::NoLoginState
                | Self::MissingBearerToken { .. }
        )
    }

    /// The response body: the bearer JSON body for bearer failures, the message otherwise.
    pub fn body_text(&self) -> String {
        match self.bearer_error() {
            Some((error, _)) => error.json_body().to_string(),
            None => self.to_string(),
        }
    }

    /// The response: the bearer middleware's ([`BearerError::reply`]) for bearer failures, plain
    /// text otherwise.
    pub fn reply(&self) -> Reply {
        match self.bearer_error() {
            Some((error, realm)) => error.reply(realm),
            None => Reply::text(self.status_code(), self.body_text()),
        }
    }
}

/// A missing middleware is a programming error: say so in the logs, also where `Option<_>` of an
/// extractor turns the failure into `None` (actix-web).
fn misuse(error: ExtractError) -> ExtractError {
    tracing::error!(error = %error, "extractor used on a route without its middleware");
    error
}

/// `Claims<T>`: the verified claims of the bearer token, the extra claims deserialized as `T`.
///
/// # Errors
/// [`ExtractError::MissingBearerLayer`], [`ExtractError::MissingBearerToken`] (optional mode,
/// anonymous), [`ExtractError::InvalidClaims`].
pub fn extract_claims<T: DeserializeOwned + 'static>(
    bearer: Option<&BearerContext>,
) -> Result<Claims<T>, ExtractError> {
    let bearer = bearer.ok_or_else(|| misuse(ExtractError::MissingBearerLayer))?;
    let Some(authenticated) = &bearer.authenticated else {
        return Err(ExtractError::MissingBearerToken {
            realm: bearer.realm.to_string(),
        });
    };
    authenticated
        .claims_as()
        .map_err(|e| ExtractError::InvalidClaims {
            reason: e.to_string(),
            realm: bearer.realm.to_string(),
        })
}

/// `SharedClaims`: the verified claims as the validator holds them, shared (no copy).
///
/// # Errors
/// [`ExtractError::MissingBearerLayer`] (no bearer middleware),
/// [`ExtractError::MissingBearerToken`] (anonymous, in optional mode).
pub fn extract_shared_claims(
    bearer: Option<&BearerContext>,
) -> Result<std::sync::Arc<crate::Claims>, ExtractError> {
    let bearer = bearer.ok_or_else(|| misuse(ExtractError::MissingBearerLayer))?;
    match &bearer.authenticated {
        Some(authenticated) => Ok(std::sync::Arc::clone(&authenticated.claims)),
        None => Err(ExtractError::MissingBearerToken {
            realm: bearer.realm.to_string(),
        }),
    }
}

/// `AuthUser`: the signed-in user.
///
/// # Errors
/// [`ExtractError::MissingSessionLayer`], [`ExtractError::NotSignedIn`].
pub fn extract_user(session: Option<&SessionContext>) -> Result<AuthUser, ExtractError> {
    let context = session.ok_or_else(|| misuse(ExtractError::MissingSessionLayer))?;
    let session = context.session.as_ref().ok_or(ExtractError::NotSignedIn)?;
    Ok(session.user.clone())
}

/// `AccessToken`: the request's bearer token, else the signed-in session's access token.
///
/// # Errors
/// [`ExtractError::MissingAuthLayer`] (neither middleware), [`ExtractError::NoAccessToken`].
pub fn extract_access_token(
    bearer: Option<&BearerContext>,
    session: Option<&SessionContext>,
) -> Result<AccessToken, ExtractError> {
    if bearer.is_none() && session.is_none() {
        return Err(misuse(ExtractError::MissingAuthLayer));
    }
    let from_bearer = bearer
        .and_then(|context| context.authenticated.as_ref())
        .map(|authenticated| authenticated.token.clone());
    let from_session = || {
        session
            .and_then(|context| context.session.as_ref())
            .and_then(|session| session.access_token().cloned())
    };
    from_bearer
        .or_else(from_session)
        .ok_or(ExtractError::NoAccessToken)
}

/// `LoginState`: the signed-in session's tokens and their verified claims.
///
/// # Errors
/// [`ExtractError::MissingSessionLayer`], [`ExtractError::NotSignedIn`],
/// [`ExtractError::NoLoginState`] (a session without tokens, as after a CAS sign-in).
pub fn extract_login_state(session: Option<&SessionContext>) -> Result<LoginState, ExtractError> {
    let context = session.ok_or_else(|| misuse(ExtractError::MissingSessionLayer))?;
    let session = context.session.as_ref().ok_or(ExtractError::NotSignedIn)?;
    session.tokens.clone().ok_or(ExtractError::NoLoginState)
}

/// The `Option<_>` form of an extraction: `None` for an [absence](ExtractError::is_absence), the
/// error otherwise.
///
/// # Errors
/// Every error that is not an absence.
pub fn optional<T>(extracted: Result<T, ExtractError>) -> Result<Option<T>, ExtractError> {
    match extracted {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_absence() => Ok(None),
        Err(error) => Err(error),
    }
}
