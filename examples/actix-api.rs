//! `actix-api`: an API protected by bearer tokens, with actix-web. The same routes, environment and
//! answers as `axum-api`.
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
//!   cargo run -p genauth-examples --bin actix-api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/me
//! ```

use actix_web::{App, HttpServer, web};
use genauth_actix::{BearerAuthLayer, Claims};
use genauth_examples::{Settings, exit_with, pages};

async fn claims(Claims(claims): Claims) -> web::Json<genauth::Claims> {
    web::Json(claims)
}

#[actix_web::main]
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
    let me = BearerAuthLayer::from_authenticator(bearer.clone());
    let scoped = BearerAuthLayer::from_authenticator(bearer)
        .required_scopes([settings.required_scope.clone()]);

    let app = move || {
        App::new()
            .route(
                "/public",
                web::get().to(|| async { web::Json(pages::public_json()) }),
            )
            .service(
                web::resource("/me")
                    .wrap(me.clone())
                    .route(web::get().to(claims)),
            )
            .service(
                web::resource("/scoped")
                    .wrap(scoped.clone())
                    .route(web::get().to(claims)),
            )
            .configure(|config| {
                if let Some(metadata) = &metadata {
                    genauth_actix::bearer::protected_resource_config(metadata)(config);
                }
            })
    };

    let server = HttpServer::new(app)
        .bind(settings.bind)
        .unwrap_or_else(|e| exit_with(format!("BIND={}: {e}", settings.bind)));
    println!("{}", pages::listening_line(settings.bind));
    server.run().await.unwrap_or_else(|e| exit_with(e));
}
