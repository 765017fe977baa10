//! Rejections of the [`extract`](crate::extract) extractors, in axum-core's style: one type per
//! failure with its status and body, and one enum per extractor composing them. Match on them, or
//! just let axum turn them into responses. The catalog, statuses and bodies come from the core
//! ([`genauth::adapter::ExtractError`]), shared with the actix-web adapter.
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

/// Answers a rejection with the core's response for it.
macro_rules! into_response {
    ($name:ident) => {
        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                crate::response::reply(self.reply())
            }
        }
    };
}

genauth::__extractor_rejections!(http::StatusCode, into_response);
