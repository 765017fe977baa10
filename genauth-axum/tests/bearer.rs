//! The bearer layer and extractors driven through an axum `Router`, with real signed tokens from
//! `genauth::testing::TestIssuer`.

use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use genauth::testing::TestIssuer;
use genauth::validator::ValidationError;
use genauth_axum::{AccessToken, BearerAuthLayer, Claims};
use http::{Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn send(app: &Router, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        challenge,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

#[derive(Deserialize)]
struct Tenant {
    tenant: String,
}

fn app(issuer: &TestIssuer) -> Router {
    let validator = issuer.validator();
    Router::new()
        .route(
            "/me",
            get(|Claims(claims): Claims| async move { Json(claims) })
                .layer(BearerAuthLayer::new(validator.clone())),
        )
        .route(
            "/scoped",
            get(|Claims(claims): Claims| async move { Json(claims.scope) })
                .layer(BearerAuthLayer::new(validator.clone()).required_scopes(["read", "write"])),
        )
        .route(
            "/tenant",
            get(|Claims(claims): Claims<Tenant>| async move { claims.extra.tenant })
                .layer(BearerAuthLayer::new(validator.clone())),
        )
        .route(
            "/token",
            get(|token: AccessToken| async move { token.secret().len().to_string() })
                .layer(BearerAuthLayer::new(validator.clone())),
        )
        .route(
            "/mixed",
            get(|claims: Option<Claims>| async move {
                claims.map_or("anonymous".to_owned(), |c| c.0.sub.unwrap_or_default())
            })
            .layer(BearerAuthLayer::new(validator.clone()).optional()),
        )
        .route(
            "/styled",
            get(|| async { "ok" }).layer(BearerAuthLayer::new(validator).on_error(|e| {
                (
                    StatusCode::from_u16(e.status_code()).unwrap(),
                    [("x-error", e.error_code().unwrap_or("none"))],
                    "custom",
                )
                    .into_response()
            })),
        )
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_claims() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    let token = issuer.mint(json!({"sub": "alice", "scope": "read write", "tenant": "t1"}));
    let reply = send(&app, "/me", Some(&bearer(&token))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["sub"], "alice");
    assert_eq!(reply.json()["iss"], issuer.issuer());
    let reply = send(&app, "/tenant", Some(&bearer(&token))).await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "t1"));
    let reply = send(&app, "/token", Some(&bearer(&token))).await;
    assert_eq!(reply.body, token.len().to_string());
    // Case-insensitive scheme (RFC 9110 §11.1).
    let reply = send(&app, "/me", Some(&format!("bearer {token}"))).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn expired_and_forged_tokens_are_invalid_token() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    for token in [
        issuer.expired_token(),
        issuer.forged_token(),
        "abc.def.ghi".to_owned(),
    ] {
        let reply = send(&app, "/me", Some(&bearer(&token))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let challenge = reply.challenge.clone().unwrap();
        assert!(
            challenge
                .starts_with(r#"Bearer realm="api", error="invalid_token", error_description=""#),
            "{challenge}"
        );
        assert!(
            !challenge.contains(&token),
            "the challenge must not echo the token"
        );
        assert_eq!(reply.json()["error"], "invalid_token");
    }
}

#[tokio::test]
async fn token_from_another_issuer_is_rejected() {
    let issuer = TestIssuer::new();
    let other = TestIssuer::new().with_issuer("https://other.example");
    let reply = send(&app(&issuer), "/me", Some(&bearer(&other.mint(json!({}))))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_scope_is_insufficient_scope() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    let token = issuer.mint(json!({"scope": "read"}));
    let reply = send(&app, "/scoped", Some(&bearer(&token))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let challenge = reply.challenge.unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#"scope="read write""#), "{challenge}");
    let token = issuer.mint(json!({"scope": "write openid read"}));
    assert_eq!(
        send(&app, "/scoped", Some(&bearer(&token))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn other_schemes_and_malformed_headers_are_invalid_request() {
    let app = app(&TestIssuer::new());
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc"] {
        let reply = send(&app, "/me", Some(header)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{header}");
        assert!(
            reply
                .challenge
                .unwrap()
                .contains(r#"error="invalid_request""#)
        );
    }
}

#[tokio::test]
async fn no_header_is_401_without_error_code() {
    let app = app(&TestIssuer::new());
    let reply = send(&app, "/me", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.challenge.as_deref(), Some(r#"Bearer realm="api""#));
}

#[tokio::test]
async fn optional_mode_passes_anonymous_requests_but_not_bad_tokens() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    assert_eq!(send(&app, "/mixed", None).await.body, "anonymous");
    let token = issuer.mint(json!({"sub": "bob"}));
    assert_eq!(
        send(&app, "/mixed", Some(&bearer(&token))).await.body,
        "bob"
    );
    let reply = send(&app, "/mixed", Some(&bearer(&issuer.forged_token()))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&app, "/mixed", Some("Basic x")).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn restyle_hook_replaces_error_responses() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    let reply = send(&app, "/styled", Some(&bearer(&issuer.expired_token()))).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::UNAUTHORIZED, "custom")
    );
    let reply = send(&app, "/styled", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.challenge.is_none());
    let token = issuer.mint(json!({}));
    assert_eq!(
        send(&app, "/styled", Some(&bearer(&token))).await.body,
        "ok"
    );
}

#[tokio::test]
async fn unreachable_provider_is_503_never_500() {
    let validator = |_token: String| async { Err(ValidationError::NoUsableKeys) };
    let app = Router::new()
        .route("/me", get(|| async { "unreachable" }))
        .layer(BearerAuthLayer::new(validator));
    let reply = send(&app, "/me", Some("Bearer abc")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.challenge.is_none());
    assert_eq!(reply.json()["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn claims_that_do_not_fit_the_type_are_invalid_token() {
    let issuer = TestIssuer::new();
    let reply = send(
        &app(&issuer),
        "/tenant",
        Some(&bearer(&issuer.mint(json!({})))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(
        reply
            .challenge
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
}

#[tokio::test]
async fn claims_extractor_without_the_layer_is_a_500() {
    let app = Router::new().route("/", get(|Claims(c): Claims| async move { Json(c) }));
    assert_eq!(
        send(&app, "/", None).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}
