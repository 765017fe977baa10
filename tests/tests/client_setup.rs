//! Client setup beyond the defaults: an application's own `reqwest::Client` carries every provider
//! call, and an API is protected against a provider that publishes no discovery document, configured
//! endpoint by endpoint with public setters only.

use axum::body::Body;
use axum::http::{Request, StatusCode, header::AUTHORIZATION};
use axum::{Router, routing::get};
use genauth::introspection::TokenTypeHint;
use genauth::testing::TestIssuer;
use genauth::validator::TokenValidator;
use genauth::{Client, ClientConfig, ProviderMetadata, reqwest};
use genauth_axum::{BearerAuthLayer, Claims};
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt as _;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP_ID: &str = "app1";
const API: &str = "https://api.example.com";
/// The default header of the custom client, which every mock below requires.
const MARK: (&str, &str) = ("x-genauth-test-client", "custom");

fn custom_http_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(MARK.0, reqwest::header::HeaderValue::from_static(MARK.1));
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("custom client")
}

/// Answers `verb path` with `response`, exactly once, and only to requests carrying [`MARK`].
async fn mount_marked(server: &MockServer, verb: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .and(header(MARK.0, MARK.1))
        .respond_with(response)
        .expect(1)
        .named(format!("{verb} {at} with the custom client's header"))
        .mount(server)
        .await;
}

fn json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn a_custom_http_client_carries_every_provider_call() {
    let server = MockServer::start().await;
    let url = |at: &str| format!("{}{at}", server.uri());
    let issuer = TestIssuer::new()
        .with_issuer(server.uri())
        .with_audience(API);
    let discovery = json!({
        "issuer": server.uri(),
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "userinfo_endpoint": url("/userinfo"),
        "jwks_uri": url("/jwks"),
        "introspection_endpoint": url("/introspect"),
        "revocation_endpoint": url("/revoke"),
    });
    let token = json!({"access_token": "opaque-at-1", "token_type": "Bearer", "expires_in": 300});
    mount_marked(
        &server,
        "GET",
        "/.well-known/openid-configuration",
        json(discovery),
    )
    .await;
    mount_marked(
        &server,
        "GET",
        "/jwks",
        json(serde_json::to_value(issuer.jwks()).unwrap()),
    )
    .await;
    mount_marked(&server, "POST", "/token", json(token)).await;
    mount_marked(&server, "GET", "/userinfo", json(json!({"sub": "alice"}))).await;
    mount_marked(
        &server,
        "POST",
        "/introspect",
        json(json!({"active": true, "sub": "alice"})),
    )
    .await;
    mount_marked(&server, "POST", "/revoke", ResponseTemplate::new(200)).await;
    let config = |http: Option<reqwest::Client>| {
        let builder = ClientConfig::builder(APP_ID)
            .client_secret("app-secret")
            .issuer(server.uri())
            .redirect_uri("http://127.0.0.1:3000/callback");
        match http {
            Some(http) => builder.http_client(http),
            None => builder,
        }
        .build()
        .expect("config")
    };

    // The control: genauth's own client does not send the header, and the mock refuses it.
    assert!(Client::discover(config(None)).await.is_err());

    let client = Client::discover(config(Some(custom_http_client())))
        .await
        .expect("discovery");
    let validator = client.jwks_validator([API]).expect("validator");
    let claims = validator
        .validate(&issuer.mint(json!({"sub": "alice"})))
        .await
        .expect("a token verified with keys fetched through the custom client");
    assert_eq!(claims.sub.as_deref(), Some("alice"));
    let tokens = client
        .exchange_code("code-1", None, None)
        .await
        .expect("token");
    let userinfo = client
        .userinfo(&tokens.access_token)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.sub, "alice");
    let at = tokens.access_token.secret();
    let introspection = client
        .introspect(at, Some(TokenTypeHint::AccessToken))
        .await
        .expect("introspection");
    assert!(introspection.active);
    client.revoke(at, None).await.expect("revocation");

    // Every marked mock was hit exactly once.
    server.verify().await;
}

#[tokio::test]
async fn an_api_is_protected_against_a_provider_without_discovery() {
    let server = MockServer::start().await;
    let issuer = TestIssuer::new()
        .with_issuer(format!("{}/tenant", server.uri()))
        .with_audience(API);
    Mock::given(method("GET"))
        .and(path("/tenant/keys"))
        .respond_with(json(serde_json::to_value(issuer.jwks()).unwrap()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path_regex("well-known"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .named("discovery (the provider publishes none)")
        .mount(&server)
        .await;

    let metadata = ProviderMetadata::builder(issuer.issuer())
        .authorization_endpoint(format!("{}/tenant/authorize", server.uri()))
        .jwks_uri(format!("{}/tenant/keys", server.uri()))
        .build()
        .expect("metadata");
    let config = ClientConfig::builder(APP_ID)
        .client_secret("app-secret")
        .issuer(issuer.issuer())
        .build()
        .expect("config");
    let client = Client::with_metadata(config, metadata).expect("client");
    let api = Router::new()
        .route(
            "/me",
            get(|Claims(claims): Claims| async move { claims.sub.unwrap_or_default() }),
        )
        .layer(BearerAuthLayer::new(
            client.jwks_validator([API]).expect("validator"),
        ));
    let call = |token: String| {
        let request = Request::get("/me")
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        api.clone().oneshot(request)
    };

    let accepted = call(issuer.mint(json!({"sub": "alice"})))
        .await
        .expect("response");
    assert_eq!(accepted.status(), StatusCode::OK);
    let body = axum::body::to_bytes(accepted.into_body(), 1024)
        .await
        .expect("body");
    assert_eq!(&body[..], b"alice");

    let forged = call(issuer.forged_token()).await.expect("response");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    server.verify().await;
}
