//! `axum-api`: an API protected by bearer tokens.
//!
//! - `GET /public`: no token needed.
//! - `GET /me`: any valid bearer token → its verified claims as JSON (401 + `WWW-Authenticate` otherwise).
//! - `GET /scoped`: also needs the scope `GENAUTH_REQUIRED_SCOPE` (403 `insufficient_scope` without it).
//!
//! - `GET /.well-known/oauth-protected-resource…`: the RFC 9728 metadata, when `GENAUTH_RESOURCE` is a URL.
//!
//! `GENAUTH_DPOP=allowed|required` takes DPoP-bound tokens (RFC 9449); `GENAUTH_ISSUER` may list
//! several issuers, comma-separated. Tokens are verified locally against the provider's JWKS (`GENAUTH_VALIDATION=jwks`, the default),
//! or by RFC 7662 introspection (`GENAUTH_VALIDATION=introspection`). Environment: see `settings.rs`.
//!
//! ```sh
//! GENAUTH_ISSUER=https://example.genauth.ai/oidc GENAUTH_APP_ID=... GENAUTH_APP_SECRET=... \
//!   cargo run -p genauth-examples --bin axum-api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/me
//! ```

use axum::{Json, Router, routing::get};
use genauth_axum::{BearerAuthLayer, Claims};
use genauth_examples::{Settings, exit_with, pages};

#[tokio::main]
async fn main() {
    genauth_examples::install_tracing();
    let settings = Settings::from_env().unwrap_or_else(|e| exit_with(e));
    let client = settings.client().await.unwrap_or_else(|e| exit_with(e));
    let validator = settings
        .api_validator(&client)
        .await
        .unwrap_or_else(|e| exit_with(e));
    let bearer = settings.bearer(validator).unwrap_or_else(|e| exit_with(e));
    let metadata = settings
        .resource_metadata()
        .unwrap_or_else(|e| exit_with(e));

    let mut app = Router::new()
        .route("/public", get(|| async { Json(pages::public_json()) }))
        .route(
            "/me",
            get(|Claims(claims): Claims| async move { Json(claims) })
                .layer(BearerAuthLayer::from_authenticator(bearer.clone())),
        )
        .route(
            "/scoped",
            get(|Claims(claims): Claims| async move { Json(claims) }).layer(
                BearerAuthLayer::from_authenticator(bearer)
                    .required_scopes([settings.required_scope.clone()]),
            ),
        );
    if let Some(metadata) = &metadata {
        app = app.merge(genauth_axum::bearer::protected_resource_routes(metadata));
    }

    genauth_examples::serve_axum(settings.bind, app).await;
}
