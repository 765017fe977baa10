//! The bearer layer and extractors driven through an axum `Router`: the shared bearer scenarios of
//! `genauth-adapter-tests`, with real signed tokens from `genauth::testing::TestIssuer`.

mod support;

use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use genauth::dpop::DpopMode;
use genauth::validator::TokenValidator;
use genauth_adapter_tests::{BearerRoutes, resource};
use genauth_axum::{AccessToken, BearerAuthLayer, Claims, SharedClaims};
use http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;
use support::AxumApp;

#[derive(Deserialize)]
struct Tenant {
    tenant: String,
}

struct Routes;

impl BearerRoutes for Routes {
    type App = AxumApp;

    async fn app(validator: Arc<dyn TokenValidator>) -> AxumApp {
        let layer = || BearerAuthLayer::from_arc(validator.clone());
        let styled = layer().on_error(|e| {
            let status = StatusCode::from_u16(e.status_code()).unwrap();
            (
                status,
                [("x-error", e.error_code().unwrap_or("none"))],
                "custom",
            )
                .into_response()
        });
        let router = Router::new()
            .route(
                "/me",
                get(|Claims(claims): Claims| async move { Json(claims) }).layer(layer()),
            )
            .route(
                "/shared",
                get(|claims: SharedClaims| async move { Json((*claims).clone()) }).layer(layer()),
            )
            .route(
                "/scoped",
                get(|Claims(claims): Claims| async move { Json(claims.scope) })
                    .layer(layer().required_scopes(["read", "write"]).realm("orders")),
            )
            .route(
                "/tenant",
                get(|Claims(claims): Claims<Tenant>| async move { claims.extra.tenant })
                    .layer(layer()),
            )
            .route(
                "/token",
                get(|token: AccessToken| async move { token.secret().len().to_string() })
                    .layer(layer()),
            )
            .route(
                "/mixed",
                get(|claims: Option<Claims>| async move {
                    claims.map_or("anonymous".to_owned(), |c| c.0.sub.unwrap_or_default())
                })
                .layer(layer().optional()),
            )
            .route("/styled", get(|| async { "ok" }).layer(styled))
            .route(
                "/bare",
                get(|Claims(claims): Claims| async move { Json(claims) }),
            )
            .route(
                "/dpop",
                get(|Claims(claims): Claims| async move { Json(claims) })
                    .layer(layer().dpop(resource::dpop_verifier(DpopMode::Allowed))),
            )
            .route(
                "/dpop-required",
                get(|Claims(claims): Claims| async move { Json(claims) })
                    .layer(layer().dpop(resource::dpop_verifier(DpopMode::Required))),
            )
            .route(
                "/dpop-nonce",
                get(|Claims(claims): Claims| async move { Json(claims) })
                    .layer(layer().dpop(resource::dpop_verifier_with_nonce())),
            )
            .route(
                "/resource",
                get(|| async { "ok" }).layer(layer().protected_resource(&resource::metadata())),
            )
            .merge(genauth_axum::bearer::protected_resource_routes(
                &resource::metadata(),
            ))
            .route(
                "/step-up",
                get(|| async { "ok" }).layer(layer().step_up(resource::step_up())),
            );
        AxumApp(router)
    }
}

genauth_adapter_tests::bearer_tests!(
    #[tokio::test]
    Routes
);
