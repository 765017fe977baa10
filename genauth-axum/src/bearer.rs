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
//! them.
//!
//! With [`dpop`](BearerAuthLayer::dpop), `Authorization: DPoP …` tokens with a `DPoP` proof are taken
//! too (RFC 9449; a bad, replayed or foreign proof is 401 `invalid_dpop_proof`);
//! [`protected_resource`](BearerAuthLayer::protected_resource) and [`protected_resource_routes`] make
//! the API an RFC 9728 protected resource; [`step_up`](BearerAuthLayer::step_up) asks for a stronger
//! sign-in (RFC 9470).
//!
//! ```
//! use axum::{body::Body, routing::get, Json, Router};
//! use genauth::validator::ValidationError;
//! use genauth_axum::{BearerAuthLayer, Claims};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
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
//! let app: Router = Router::new()
//!     .route("/me", get(|Claims(claims): Claims| async move { Json(claims.sub) }))
//!     .layer(BearerAuthLayer::new(validator).required_scopes(["read"]));
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let ok = app.clone()
//!     .oneshot(Request::get("/me").header("authorization", "Bearer let-me-in").body(Body::empty())?)
//!     .await?;
//! assert_eq!(ok.status(), StatusCode::OK);
//!
//! let denied = app.oneshot(Request::get("/me").body(Body::empty())?).await?;
//! assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(denied.headers()["www-authenticate"], r#"Bearer realm="api""#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::response::Axum;
use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Response};
use genauth::adapter::BearerGate;
use genauth::bearer::{Authenticated, BearerAuthenticator, BearerError, Credentials};
use genauth::dpop::ProofTarget;
use genauth::validator::TokenValidator;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderName, HeaderValue, Request};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

/// The `DPoP` proof header (RFC 9449 §4.1).
const DPOP: HeaderName = HeaderName::from_static("dpop");

type Validation = Pin<Box<dyn Future<Output = Result<Authenticated, BearerError>> + Send>>;

/// A [`Layer`] requiring a valid bearer token (see the [module docs](self)). Cheap to clone: the
/// validator, its caches and the configuration are shared. Its policy and failure answers are the
/// core's ([`BearerGate`]), shared with genauth-actix's `BearerAuthLayer`.
#[derive(Clone, Debug)]
#[must_use]
pub struct BearerAuthLayer {
    /// Shared: the middleware clones its layer for every request.
    gate: Arc<BearerGate<Axum>>,
}

impl BearerAuthLayer {
    /// Requires a token accepted by `validator`, with no scope, realm `api`.
    pub fn new(validator: impl TokenValidator) -> Self {
        Self::from_authenticator(BearerAuthenticator::new(validator))
    }

    /// As [`new`](Self::new), sharing one validator (and its caches) between several layers.
    pub fn from_arc(validator: Arc<dyn TokenValidator>) -> Self {
        Self::from_authenticator(BearerAuthenticator::from_arc(validator))
    }

    /// A layer applying a core [`BearerAuthenticator`] policy.
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
    /// use axum::response::IntoResponse;
    /// use genauth_axum::BearerAuthLayer;
    /// use http::StatusCode;
    ///
    /// # fn layer(validator: genauth::validator::JwksValidator) -> BearerAuthLayer {
    /// BearerAuthLayer::new(validator).on_error(|error| {
    ///     let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::UNAUTHORIZED);
    ///     let challenge = error.www_authenticate("my-api").unwrap_or_default();
    ///     (status, [("www-authenticate", challenge)], format!("<h1>{status}</h1>")).into_response()
    /// })
    /// # }
    /// ```
    pub fn on_error<F>(self, hook: F) -> Self
    where
        F: Fn(BearerError) -> Response + Send + Sync + 'static,
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

impl<S> Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`BearerAuthLayer`].
#[derive(Clone, Debug)]
pub struct BearerAuth<S> {
    inner: S,
    layer: BearerAuthLayer,
}

impl<S, B> Service<Request<B>> for BearerAuth<S>
where
    S: Service<Request<B>> + Clone,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let credentials = {
            let headers = request.headers();
            let authorization = headers.get_all(AUTHORIZATION).iter();
            let proofs = headers.get_all(DPOP).iter();
            // A nested router sees a shortened URI: the proof names the one the client sent.
            let uri = request
                .extensions()
                .get::<OriginalUri>()
                .map_or(request.uri(), |original| &original.0);
            let target = ProofTarget {
                method: request.method().as_str(),
                target: uri.path_and_query().map_or("/", |p| p.as_str()),
                host: uri
                    .authority()
                    .map(|a| a.as_str())
                    .or_else(|| headers.get(HOST).and_then(|h| h.to_str().ok())),
                scheme: uri.scheme_str(),
            };
            self.layer.gate.authenticator().credentials(
                authorization.map(HeaderValue::as_bytes),
                proofs.map(HeaderValue::as_bytes),
                &target,
            )
        };
        let state = match credentials {
            Err(error) => State::Respond {
                response: Some(self.layer.gate.error_response(error)),
            },
            Ok(None) => {
                request
                    .extensions_mut()
                    .insert(self.layer.gate.context(None));
                State::Inner {
                    future: self.inner.call(request),
                }
            }
            Ok(Some(credentials)) => match self
                .layer
                .gate
                .authenticator()
                .try_validate_now(credentials)
            {
                // The answer at hand (a token verified before, or garbage): no future, no clones.
                Ok(Ok(authenticated)) => {
                    request
                        .extensions_mut()
                        .insert(self.layer.gate.context(Some(authenticated)));
                    State::Inner {
                        future: self.inner.call(request),
                    }
                }
                Ok(Err(error)) => State::Respond {
                    response: Some(self.layer.gate.error_response(error)),
                },
                Err(credentials) => self.validating(credentials, request),
            },
        };
        ResponseFuture { state }
    }
}

impl<S> BearerAuth<S> {
    /// The asynchronous step: validation in a boxed future, then the inner service.
    fn validating<B>(&mut self, credentials: Credentials, request: Request<B>) -> State<S, B>
    where
        S: Service<Request<B>> + Clone,
    {
        let auth = self.layer.gate.authenticator().clone();
        // The ready service goes into the future; a fresh clone takes its place (tower's usual
        // pattern for calling the inner service after asynchronous work).
        let clone = self.inner.clone();
        State::Validating {
            validation: Box::pin(async move { auth.validate_credentials(credentials).await }),
            service: Some(std::mem::replace(&mut self.inner, clone)),
            request: Some(request),
            layer: self.layer.clone(),
        }
    }
}

pin_project! {
    /// The response future of [`BearerAuth`]: validation (boxed: the validator is a trait object),
    /// then the inner service's future (not boxed).
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Validating {
            validation: Validation,
            service: Option<S>,
            request: Option<Request<B>>,
            layer: BearerAuthLayer,
        },
        Inner {
            #[pin]
            future: S::Future,
        },
        Respond {
            response: Option<Response>,
        },
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
    S::Response: IntoResponse,
{
    type Output = Result<Response, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Validating {
                    validation,
                    service,
                    request,
                    layer,
                } => {
                    let result = ready!(validation.as_mut().poll(cx));
                    let next = match (result, service.take(), request.take()) {
                        (Ok(authenticated), Some(mut service), Some(mut request)) => {
                            request
                                .extensions_mut()
                                .insert(layer.gate.context(Some(authenticated)));
                            State::Inner {
                                future: service.call(request),
                            }
                        }
                        (Err(error), _, _) => State::Respond {
                            response: Some(layer.gate.error_response(error)),
                        },
                        _ => State::Respond { response: None },
                    };
                    this.state.set(next);
                }
                StateProj::Inner { future } => {
                    return future.poll(cx).map_ok(IntoResponse::into_response);
                }
                StateProj::Respond { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .unwrap_or_else(crate::response::polled_after_completion)));
                }
            }
        }
    }
}

/// The RFC 9728 metadata route: `GET` the document's well-known path (§3.1, path-aware) answers it
/// (§3.2). Merge it into the app's router, outside the bearer layer.
///
/// ```
/// use genauth::resource_metadata::ProtectedResourceMetadata;
/// let metadata = ProtectedResourceMetadata::new("https://api.example.com")?
///     .authorization_server("https://example.genauth.ai/oidc");
/// let app: axum::Router = axum::Router::new().merge(genauth_axum::bearer::protected_resource_routes(&metadata));
/// # Ok::<(), genauth::ConfigError>(())
/// ```
pub fn protected_resource_routes<S: Clone + Send + Sync + 'static>(
    metadata: &genauth::resource_metadata::ProtectedResourceMetadata,
) -> axum::Router<S> {
    let reply = metadata.reply();
    axum::Router::new().route(
        &metadata.well_known_path(),
        axum::routing::get(move || {
            let reply = reply.clone();
            async move { crate::response::reply(reply) }
        }),
    )
}
