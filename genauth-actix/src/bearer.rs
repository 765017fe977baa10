//! [`BearerAuthLayer`]: protects routes with `Authorization: Bearer` tokens (RFC 6750).
//!
//! The token is validated by any [`TokenValidator`](genauth::validator::TokenValidator) (a
//! `JwksValidator` for JWT access tokens, an `IntrospectionValidator` for opaque ones, or a
//! closure); its verified claims (`Arc<genauth::Claims>`)
//! and the token itself then reach handlers through the [`Claims`](crate::Claims) and
//! [`AccessToken`](crate::AccessToken) extractors. Failures are answered here, as
//! [`genauth::bearer`] maps them:
//!
//! | request | response |
//! | --- | --- |
//! | no `Authorization` | 401, `WWW-Authenticate: Bearer realm="api"` (passes through in [optional](BearerAuthLayer::optional) mode) |
//! | `Basic …`, malformed, repeated | 400 `invalid_request` |
//! | bad, expired, forged token | 401 `invalid_token` |
//! | missing [required scope](BearerAuthLayer::required_scopes) | 403 `insufficient_scope`, `scope="…"` |
//! | provider / JWKS unreachable | 503, `Retry-After`, no challenge |
//!
//! Bodies are JSON `{"error", "error_description"}`; [`on_error`](BearerAuthLayer::on_error) restyles
//! them. `wrap` it around an `App`, a `Scope` or a `Resource`.
//!
//! ```
//! use actix_web::{test, web, App};
//! use genauth::validator::ValidationError;
//! use genauth_actix::{BearerAuthLayer, Claims};
//!
//! // Any closure is a validator; real applications use a `JwksValidator`.
//! let validator = |token: String| async move {
//!     match token.as_str() {
//!         "let-me-in" => Ok(genauth::Claims {
//!             sub: Some("alice".into()),
//!             scope: Some("read".into()),
//!             ..Default::default()
//!         }),
//!         _ => Err(ValidationError::Rejected("unknown token".into())),
//!     }
//! };
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .route("/me", web::get().to(|Claims(claims): Claims| async move { web::Json(claims.sub) }))
//!         .wrap(BearerAuthLayer::new(validator).required_scopes(["read"])),
//! )
//! .await;
//!
//! let ok = test::TestRequest::get().uri("/me").insert_header(("authorization", "Bearer let-me-in"));
//! assert_eq!(test::call_service(&app, ok.to_request()).await.status(), 200);
//!
//! let denied = test::call_service(&app, test::TestRequest::get().uri("/me").to_request()).await;
//! assert_eq!(denied.status(), 401);
//! let challenge = denied.headers().get("www-authenticate").and_then(|v| v.to_str().ok());
//! assert_eq!(challenge, Some(r#"Bearer realm="api""#));
//! # });
//! ```

use crate::middleware::Inner;
use crate::response::reply;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::{Error, HttpMessage, HttpResponse};
use std::rc::Rc;

genauth::__bearer_layer! {
    /// Middleware requiring a valid bearer token (see the [module docs](self)): a
    /// [`Transform`](actix_web::dev::Transform) to `wrap` around routes. Cheap to clone: the
    /// validator, its caches and the configuration are shared, also across the server's workers.
    /// Its fields and builder are defined in the core, shared with genauth-axum's
    /// `BearerAuthLayer`.
    pub struct BearerAuthLayer => HttpResponse, reply;

    /// ```
    /// use actix_web::{http::StatusCode, HttpResponse};
    /// use genauth_actix::BearerAuthLayer;
    ///
    /// # fn layer(validator: genauth::validator::JwksValidator) -> BearerAuthLayer {
    /// BearerAuthLayer::new(validator).on_error(|error| {
    ///     let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::UNAUTHORIZED);
    ///     let challenge = error.www_authenticate("my-api").unwrap_or_default();
    ///     HttpResponse::build(status)
    ///         .insert_header(("www-authenticate", challenge))
    ///         .body(format!("<h1>{status}</h1>"))
    /// })
    /// # }
    /// ```
    pub fn on_error;
}

middleware! {
    /// The service of [`BearerAuthLayer`].
    BearerAuthLayer => BearerAuth
}

impl BearerAuthLayer {
    /// Authenticates the request, then calls the inner service with the verified token in the
    /// request's extensions, or answers the failure.
    async fn handle<S: Inner<B>, B>(
        self,
        request: ServiceRequest,
        service: Rc<S>,
    ) -> Result<ServiceResponse<EitherBody<B>>, Error> {
        let authorization = request
            .headers()
            .get_all(AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        match self.auth.authenticate(authorization).await {
            Ok(authenticated) => {
                let context = self.auth.context(authenticated);
                request.extensions_mut().insert(context);
                Ok(service.call(request).await?.map_into_left_body())
            }
            Err(error) => {
                let response = self.error_response(error);
                Ok(request.into_response(response).map_into_right_body())
            }
        }
    }
}
