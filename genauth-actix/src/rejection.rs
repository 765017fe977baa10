//! Rejections of the [`extract`](crate::extract) extractors, as in genauth-axum: one type per
//! failure with its status and body, and one enum per extractor composing them, each implementing
//! [`ResponseError`]. Match on them (extract `Result<Claims, ClaimsRejection>`), or let actix-web
//! turn them into responses. The catalog, statuses and bodies come from the core
//! ([`genauth::adapter::ExtractError`]), shared with the axum adapter.
//!
//! | failure | status |
//! | --- | --- |
//! | [`MissingBearerToken`] | 401 with `WWW-Authenticate: Bearer realm="…"` (optional bearer mode, no token) |
//! | [`InvalidClaims`] | 401 `invalid_token`: the verified claims do not fit the handler's claims type |
//! | [`NotSignedIn`] | 401: no session |
//! | [`NoAccessToken`] | 401: neither a bearer token nor a session with tokens |
//! | [`NoLoginState`] | 401: signed in without tokens (CAS) |
//! | [`MissingBearerLayer`], [`MissingSessionLayer`], [`MissingAuthLayer`] | 500: the route lacks the middleware the extractor reads from (a programming error) |

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Answers a rejection with the core's response for it.
macro_rules! response_error {
    ($name:ident) => {
        impl ResponseError for $name {
            fn status_code(&self) -> StatusCode {
                self.status()
            }

            fn error_response(&self) -> HttpResponse {
                crate::response::reply(self.reply())
            }
        }
    };
}

genauth::__extractor_rejections!(StatusCode, response_error);
