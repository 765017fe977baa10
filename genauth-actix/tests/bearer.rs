//! The bearer middleware and extractors driven through an actix-web `App`: the shared bearer
//! scenarios of `genauth-adapter-tests`, with real signed tokens from `genauth::testing::TestIssuer`,
//! plus what is particular to actix-web's `Option<T>` and `Result<T, E>` extraction.

mod support;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use genauth::dpop::DpopMode;
use genauth::testing::TestIssuer;
use genauth::validator::TokenValidator;
use genauth_actix::rejection::{ClaimsRejection, MissingBearerLayer};
use genauth_actix::{AccessToken, BearerAuthLayer, Claims, SharedClaims};
use genauth_adapter_tests::{BearerRoutes, resource};
use serde::Deserialize;
use std::sync::Arc;
use support::ActixApp;

#[derive(Deserialize)]
struct Tenant {
    tenant: String,
}

async fn claims_json(Claims(claims): Claims) -> web::Json<genauth::Claims> {
    web::Json(claims)
}

struct Routes;

impl BearerRoutes for Routes {
    type App = ActixApp;

    async fn app(validator: Arc<dyn TokenValidator>) -> Self::App {
        let layer = || BearerAuthLayer::from_arc(validator.clone());
        let styled = layer().on_error(|e| {
            HttpResponse::build(StatusCode::from_u16(e.status_code()).unwrap())
                .insert_header(("x-error", e.error_code().unwrap_or("none")))
                .body("custom")
        });
        let app = App::new()
            .service(web::resource("/me").wrap(layer()).to(claims_json))
            .service(
                web::resource("/scoped")
                    .wrap(layer().required_scopes(["read", "write"]).realm("orders"))
                    .to(|Claims(claims): Claims| async move { web::Json(claims.scope) }),
            )
            .service(
                web::resource("/tenant")
                    .wrap(layer())
                    .to(|Claims(claims): Claims<Tenant>| async move { claims.extra.tenant }),
            )
            .service(
                web::resource("/token")
                    .wrap(layer())
                    .to(|token: AccessToken| async move { token.secret().len().to_string() }),
            )
            .service(web::resource("/mixed").wrap(layer().optional()).to(
                |claims: Option<Claims>| async move {
                    claims.map_or("anonymous".to_owned(), |c| c.0.sub.unwrap_or_default())
                },
            ))
            .service(web::resource("/styled").wrap(styled).to(|| async { "ok" }))
            .route("/bare", web::get().to(claims_json))
            .service(
                web::resource("/shared")
                    .wrap(layer())
                    .to(|claims: SharedClaims| async move { web::Json((*claims).clone()) }),
            )
            .service(
                web::resource("/dpop")
                    .wrap(layer().dpop(resource::dpop_verifier(DpopMode::Allowed)))
                    .to(claims_json),
            )
            .service(
                web::resource("/dpop-required")
                    .wrap(layer().dpop(resource::dpop_verifier(DpopMode::Required)))
                    .to(claims_json),
            )
            .service(
                web::resource("/dpop-nonce")
                    .wrap(layer().dpop(resource::dpop_verifier_with_nonce()))
                    .to(claims_json),
            )
            .service(
                web::resource("/resource")
                    .wrap(layer().protected_resource(&resource::metadata()))
                    .to(|| async { "ok" }),
            )
            .configure(genauth_actix::bearer::protected_resource_config(
                &resource::metadata(),
            ))
            .service(
                web::resource("/step-up")
                    .wrap(layer().step_up(resource::step_up()))
                    .to(|| async { "ok" }),
            );
        ActixApp::new(test::init_service(app).await)
    }
}

genauth_adapter_tests::bearer_tests!(
    #[actix_web::test]
    Routes
);

/// actix-web's blanket `Option<T>` extraction turns every failure into `None`, also a missing
/// middleware; `Result<T, E>` keeps the rejection.
#[actix_web::test]
async fn option_is_none_and_result_tells_why_without_the_middleware() {
    let app = test::init_service(
        App::new()
            .route(
                "/option",
                web::get().to(|claims: Option<Claims>| async move {
                    claims.map_or("none".to_owned(), |c| c.0.sub.unwrap_or_default())
                }),
            )
            .route(
                "/result",
                web::get().to(|claims: Result<Claims, ClaimsRejection>| async move {
                    match claims {
                        Ok(_) => "claims".to_owned(),
                        Err(rejection) => format!("{} {rejection}", rejection.status().as_u16()),
                    }
                }),
            ),
    )
    .await;
    let body = |uri: &'static str| {
        let app = &app;
        async move {
            test::call_and_read_body(app, test::TestRequest::get().uri(uri).to_request()).await
        }
    };
    assert_eq!(body("/option").await, "none");
    assert_eq!(
        body("/result").await,
        format!("500 {}", MissingBearerLayer::default())
    );
}

/// `Result<Claims, ClaimsRejection>` under an optional middleware: anonymous is the
/// `MissingBearerToken` rejection, a token gives the claims.
#[actix_web::test]
async fn result_extraction_under_optional_mode() {
    let issuer = TestIssuer::new();
    let app = test::init_service(
        App::new().service(
            web::resource("/")
                .wrap(BearerAuthLayer::new(issuer.validator()).optional())
                .to(|claims: Result<Claims, ClaimsRejection>| async move {
                    match claims {
                        Ok(Claims(claims)) => claims.sub.unwrap_or_default(),
                        Err(ClaimsRejection::MissingBearerToken(_)) => "anonymous".to_owned(),
                        Err(other) => format!("unexpected: {other}"),
                    }
                }),
        ),
    )
    .await;
    let anonymous = test::TestRequest::get().uri("/").to_request();
    assert_eq!(test::call_and_read_body(&app, anonymous).await, "anonymous");
    let token = issuer.mint(serde_json::json!({"sub": "carol"}));
    let signed = test::TestRequest::get()
        .uri("/")
        .insert_header(("authorization", format!("Bearer {token}")))
        .to_request();
    assert_eq!(test::call_and_read_body(&app, signed).await, "carol");
}
