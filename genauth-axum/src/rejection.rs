//! Rejections of the [`extract`](crate::extract) extractors, in axum-core's style: one type per
//! failure with its status and body, and one enum per extractor composing them. Match on them, or
//! just let axum turn them into responses.
//!
//! | failure | status |
//! | --- | --- |
//! | [`MissingBearerToken`] | 401 with `WWW-Authenticate: Bearer realm="…"` (optional bearer mode, no token) |
//! | [`InvalidClaims`] | 401 `invalid_token`: the verified claims do not fit the handler's claims type |
//! | [`NotSignedIn`] | 401: no session |
//! | [`NoAccessToken`] | 401: neither a bearer token nor a session with tokens |
//! | [`NoLoginState`] | 401: signed in without tokens (CAS) |
//! | [`MissingBearerLayer`], [`MissingSessionLayer`], [`MissingAuthLayer`] | 500: the route lacks the layer the extractor reads from (a programming error) |

use axum::response::{IntoResponse, Response};
use genauth::bearer::BearerError;
use genauth::validator::ValidationError;
use http::StatusCode;
use std::fmt;

/// Defines a rejection struct with a fixed status and body text.
macro_rules! rejection {
    ($(#[$doc:meta])* $name:ident, $status:expr, $body:expr) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name;

        impl $name {
            /// The response status.
            pub fn status(&self) -> StatusCode {
                $status
            }
            /// The response body.
            pub fn body_text(&self) -> String {
                $body.to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($body)
            }
        }

        impl std::error::Error for $name {}

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                crate::response::text(self.status(), self.body_text())
            }
        }
    };
}

rejection!(
    /// The route has no [`BearerAuthLayer`](crate::BearerAuthLayer): `Claims` cannot be extracted. 500.
    MissingBearerLayer,
    StatusCode::INTERNAL_SERVER_ERROR,
    "Claims extractor used on a route without BearerAuthLayer"
);
rejection!(
    /// The route has no [`SessionLayer`](crate::SessionLayer). 500.
    MissingSessionLayer,
    StatusCode::INTERNAL_SERVER_ERROR,
    "session extractor used on a route without SessionLayer"
);
rejection!(
    /// The route has neither a [`SessionLayer`](crate::SessionLayer) nor a
    /// [`BearerAuthLayer`](crate::BearerAuthLayer). 500.
    MissingAuthLayer,
    StatusCode::INTERNAL_SERVER_ERROR,
    "AccessToken extractor used on a route without SessionLayer or BearerAuthLayer"
);
rejection!(
    /// No session: the user is not signed in. 401.
    NotSignedIn,
    StatusCode::UNAUTHORIZED,
    "sign-in required"
);
rejection!(
    /// Neither a bearer token nor a session holding an access token. 401.
    NoAccessToken,
    StatusCode::UNAUTHORIZED,
    "no access token: send a bearer token or sign in"
);
rejection!(
    /// The user is signed in but the session holds no tokens (CAS sign-in). 401.
    NoLoginState,
    StatusCode::UNAUTHORIZED,
    "this session holds no tokens"
);

/// The request has no bearer token (the layer is in optional mode). 401 with a bare
/// `WWW-Authenticate: Bearer realm="…"` challenge (RFC 6750 §3.1) and the layer's JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingBearerToken {
    /// The layer's realm.
    pub realm: String,
}

impl MissingBearerToken {
    fn error(&self) -> BearerError {
        BearerError::MissingToken
    }
    /// The response status: 401.
    pub fn status(&self) -> StatusCode {
        crate::response::status(self.error().status_code())
    }
    /// The response body (JSON).
    pub fn body_text(&self) -> String {
        self.error().json_body().to_string()
    }
}

impl fmt::Display for MissingBearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error(), f)
    }
}

impl std::error::Error for MissingBearerToken {}

impl IntoResponse for MissingBearerToken {
    fn into_response(self) -> Response {
        crate::response::bearer_error(&self.error(), &self.realm)
    }
}

/// The token is valid but its claims do not deserialize into the handler's claims type (a required
/// claim is missing or has another type). 401 `invalid_token` (RFC 6750 §3.1), as the layer answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidClaims {
    /// What serde reported (claim names and types).
    pub reason: String,
    /// The layer's realm.
    pub realm: String,
}

impl InvalidClaims {
    fn error(&self) -> BearerError {
        BearerError::InvalidToken(ValidationError::InvalidClaims(self.reason.clone()))
    }
    /// The response status: 401.
    pub fn status(&self) -> StatusCode {
        crate::response::status(self.error().status_code())
    }
    /// The response body (JSON).
    pub fn body_text(&self) -> String {
        self.error().json_body().to_string()
    }
}

impl fmt::Display for InvalidClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error(), f)
    }
}

impl std::error::Error for InvalidClaims {}

impl IntoResponse for InvalidClaims {
    fn into_response(self) -> Response {
        crate::response::bearer_error(&self.error(), &self.realm)
    }
}

/// Defines an enum rejection composing struct rejections.
macro_rules! composite {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant($variant),)+
        }

        impl $name {
            /// The response status.
            pub fn status(&self) -> StatusCode {
                match self {
                    $(Self::$variant(inner) => inner.status(),)+
                }
            }
            /// The response body.
            pub fn body_text(&self) -> String {
                match self {
                    $(Self::$variant(inner) => inner.body_text(),)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant(inner) => fmt::Display::fmt(inner, f),)+
                }
            }
        }

        impl std::error::Error for $name {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    $(Self::$variant(inner) => Some(inner),)+
                }
            }
        }

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                match self {
                    $(Self::$variant(inner) => inner.into_response(),)+
                }
            }
        }

        $(
            impl From<$variant> for $name {
                fn from(inner: $variant) -> Self {
                    Self::$variant(inner)
                }
            }
        )+
    };
}

composite!(
    /// Rejection of [`Claims`](crate::Claims).
    ClaimsRejection {
        /// No bearer token (optional mode).
        MissingBearerToken,
        /// The claims do not fit the type.
        InvalidClaims,
        /// No bearer layer on the route.
        MissingBearerLayer,
    }
);

composite!(
    /// Rejection of [`AuthUser`](crate::AuthUser).
    AuthUserRejection {
        /// No session.
        NotSignedIn,
        /// No session layer on the route.
        MissingSessionLayer,
    }
);

composite!(
    /// Rejection of [`AccessToken`](crate::AccessToken).
    AccessTokenRejection {
        /// Neither a bearer token nor a session with tokens.
        NoAccessToken,
        /// Neither layer on the route.
        MissingAuthLayer,
    }
);

composite!(
    /// Rejection of [`LoginState`](crate::LoginState).
    LoginStateRejection {
        /// No session.
        NotSignedIn,
        /// A session without tokens.
        NoLoginState,
        /// No session layer on the route.
        MissingSessionLayer,
    }
);
