//! [`BearerAuthLayer`]: protects routes with `Authorization: Bearer` tokens (RFC 6750).
//!
//! The token is validated by any [`TokenValidator`] (a
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
//! With [`dpop`](BearerAuthLayer::dpop), `Authorization: DPoP …` tokens with a `DPoP` proof are taken
//! too (RFC 9449; a bad, replayed or foreign proof is 401 `invalid_dpop_proof`);
//! [`protected_resource`](BearerAuthLayer::protected_resource) and [`protected_resource_config`]
//! make the API an RFC 9728 protected resource; [`step_up`](BearerAuthLayer::step_up) asks for a
//! stronger sign-in (RFC 9470).
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
use crate::response::Actix;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HOST, HeaderValue};
use actix_web::{Error, HttpMessage, HttpResponse};
use genauth::adapter::BearerGate;
use genauth::bearer::{BearerAuthenticator, BearerError};
use genauth::dpop::ProofTarget;
use genauth::validator::TokenValidator;
use std::rc::Rc;
use std::sync::Arc;

/// Middleware requiring a valid bearer token (see the [module docs](self)): a
/// [`Transform`](actix_web::dev::Transform) to `wrap` around routes. Cheap to clone: the validator,
/// its caches and the configuration are shared, also across the server's workers. Its policy and
/// failure answers are the core's ([`BearerGate`]), shared with genauth-axum's `BearerAuthLayer`.
#[derive(Clone, Debug)]
#[must_use]
pub struct BearerAuthLayer {
    /// Shared: the middleware clones its layer for every request.
    gate: Arc<BearerGate<Actix>>,
}

impl BearerAuthLayer {
    /// Requires a token accepted by `validator`, with no scope, realm `api`.
    pub fn new(validator: impl TokenValidator) -> Self {
        Self::from_authenticator(BearerAuthenticator::new(validator))
    }

    /// As [`new`](Self::new), sharing one validator (and its caches) between several middlewares.
    pub fn from_arc(validator: Arc<dyn TokenValidator>) -> Self {
        Self::from_authenticator(BearerAuthenticator::from_arc(validator))
    }

    /// A middleware applying a core [`BearerAuthenticator`] policy.
    pub fn from_authenticator(auth: BearerAuthenticator) -> Self {
        Self {
            gate: Arc::new(BearerGate::new(auth)),
        }
    }

    /// Requires every one of these scopes (the token's `scope` claim); otherwise 403
    /// `insufficient_scope` listing them.
    pub fn required_scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.map(|auth| auth.required_scopes(scopes))
    }

    /// Optional mode for routes serving anonymous and authenticated clients: a request without
    /// `Authorization` passes through (`Option<Claims>` is `None`); a malformed, invalid or
    /// under-scoped token is still refused.
    pub fn optional(self) -> Self {
        self.map(BearerAuthenticator::optional)
    }

    /// The `realm` of the challenges (default `api`).
    pub fn realm(self, realm: impl Into<String>) -> Self {
        self.map(|auth| auth.realm(realm))
    }

    /// Replaces the default error response (status, `WWW-Authenticate`, JSON body) with your own.
    /// [`BearerError`] gives the status, error code, description and challenge to reuse.
    ///
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
    pub fn on_error<F>(self, hook: F) -> Self
    where
        F: Fn(BearerError) -> HttpResponse + Send + Sync + 'static,
    {
        Self {
            gate: Arc::new(Arc::unwrap_or_clone(self.gate).on_error(hook)),
        }
    }

    /// Takes DPoP-bound tokens (RFC 9449) as the verifier's mode says: `Authorization: DPoP …`
    /// with a `DPoP` proof, checked per §4.3 and bound to the token's `cnf.jkt`; challenges per
    /// §7.1 (`DPoP algs="…"`, and `Bearer` too in allowed mode). The proof key's thumbprint reaches
    /// handlers as [`genauth::bearer::Authenticated::dpop_jkt`] and in the claims' `cnf.jkt`.
    pub fn dpop(self, verifier: genauth::dpop::DpopVerifier) -> Self {
        self.map(|auth| auth.dpop(verifier))
    }

    /// Requires a strong or recent enough sign-in (RFC 9470): 401
    /// `insufficient_user_authentication` with `acr_values` / `max_age` otherwise.
    pub fn step_up(self, step_up: genauth::step_up::StepUp) -> Self {
        self.map(|auth| auth.step_up(step_up))
    }

    /// This API as an RFC 9728 protected resource: tokens must name its `resource` in `aud`
    /// (RFC 8707), and challenges carry `resource_metadata` (§5.1).
    pub fn protected_resource(
        self,
        metadata: &genauth::resource_metadata::ProtectedResourceMetadata,
    ) -> Self {
        self.map(|auth| auth.protected_resource(metadata))
    }

    fn map(self, change: impl FnOnce(BearerAuthenticator) -> BearerAuthenticator) -> Self {
        Self {
            gate: Arc::new(Arc::unwrap_or_clone(self.gate).map_authenticator(change)),
        }
    }
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
        let headers = request.headers();
        let authorization = headers.get_all(AUTHORIZATION).map(HeaderValue::as_bytes);
        let proofs = headers.get_all("dpop").map(HeaderValue::as_bytes);
        let uri = request.uri();
        let config = request.app_config();
        let target = ProofTarget {
            method: request.method().as_str(),
            target: uri.path_and_query().map_or("/", |p| p.as_str()),
            host: uri
                .authority()
                .map(|a| a.as_str())
                .or_else(|| headers.get(HOST).and_then(|h| h.to_str().ok()))
                .or(Some(config.host())),
            scheme: Some(if config.secure() { "https" } else { "http" }),
        };
        let auth = self.gate.authenticator();
        let result = match auth.credentials(authorization, proofs, &target) {
            // The answer at hand (a token verified before, or garbage) needs no await.
            Ok(Some(credentials)) => match auth.try_validate_now(credentials) {
                Ok(answer) => answer.map(Some),
                Err(credentials) => auth.validate_credentials(credentials).await.map(Some),
            },
            Ok(None) => Ok(None),
            Err(error) => Err(error),
        };
        match result {
            Ok(authenticated) => {
                let context = self.gate.context(authenticated);
                request.extensions_mut().insert(context);
                Ok(service.call(request).await?.map_into_left_body())
            }
            Err(error) => {
                let response = self.gate.error_response(error);
                Ok(request.into_response(response).map_into_right_body())
            }
        }
    }
}

/// The RFC 9728 metadata route, for `App::configure`: `GET` the document's well-known path (§3.1,
/// path-aware) answers it (§3.2). Register it outside the bearer middleware.
///
/// ```
/// use genauth::resource_metadata::ProtectedResourceMetadata;
/// let metadata = ProtectedResourceMetadata::new("https://api.example.com")?
///     .authorization_server("https://example.genauth.ai/oidc");
/// let app = actix_web::App::new().configure(genauth_actix::bearer::protected_resource_config(&metadata));
/// # Ok::<(), genauth::ConfigError>(())
/// ```
pub fn protected_resource_config(
    metadata: &genauth::resource_metadata::ProtectedResourceMetadata,
) -> impl Fn(&mut actix_web::web::ServiceConfig) + Clone + 'static {
    let reply = metadata.reply();
    let path = metadata.well_known_path();
    move |config| {
        let reply = reply.clone();
        config.route(
            &path,
            actix_web::web::get().to(move || {
                let reply = reply.clone();
                async move { crate::response::reply(reply) }
            }),
        );
    }
}
