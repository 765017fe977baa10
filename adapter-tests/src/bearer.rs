//! The bearer middleware and extractors, with real signed tokens from [`TestIssuer`], through the
//! routes of [`BearerRoutes`].

use crate::{App, BearerRoutes, Reply, Request};
use genauth::testing::TestIssuer;
use genauth::validator::{TokenValidator, ValidationError};
use serde_json::json;
use std::sync::Arc;

async fn app<R: BearerRoutes>(issuer: &TestIssuer) -> R::App {
    R::app(Arc::new(issuer.validator())).await
}

async fn send(app: &impl App, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    app.send(request).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The claims reach the handler, also typed; the token reaches `AccessToken`; the scheme is
/// case-insensitive.
pub async fn valid_token_reaches_the_handler_with_its_claims<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let token = issuer.mint(json!({"sub": "alice", "scope": "read write", "tenant": "t1"}));
    let reply = send(&app, "/me", Some(&bearer(&token))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sub"], "alice");
    assert_eq!(reply.json()["iss"], issuer.issuer());
    let reply = send(&app, "/tenant", Some(&bearer(&token))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "t1"));
    let reply = send(&app, "/token", Some(&bearer(&token))).await;
    assert_eq!(reply.body, token.len().to_string());
    // Case-insensitive scheme (RFC 9110 §11.1).
    let reply = send(&app, "/me", Some(&format!("bearer {token}"))).await;
    assert_eq!(reply.status, 200);
}

/// 401 `invalid_token`, a challenge that does not echo the token, a JSON body.
pub async fn expired_and_forged_tokens_are_invalid_token<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    for token in [
        issuer.expired_token(),
        issuer.forged_token(),
        "abc.def.ghi".to_owned(),
    ] {
        let reply = send(&app, "/me", Some(&bearer(&token))).await;
        assert_eq!(reply.status, 401);
        let challenge = reply.challenge().unwrap_or_default();
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

/// Another issuer's token is refused.
pub async fn token_from_another_issuer_is_rejected<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let other = TestIssuer::new().with_issuer("https://other.example");
    let app = app::<R>(&issuer).await;
    let reply = send(&app, "/me", Some(&bearer(&other.mint(json!({}))))).await;
    assert_eq!(reply.status, 401);
}

/// 403 `insufficient_scope` naming every required scope; any order of granted scopes passes.
pub async fn missing_scope_is_insufficient_scope<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let token = issuer.mint(json!({"scope": "read"}));
    let reply = send(&app, "/scoped", Some(&bearer(&token))).await;
    assert_eq!(reply.status, 403);
    let challenge = reply.challenge().unwrap_or_default();
    assert!(
        challenge.starts_with(r#"Bearer realm="orders", error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#"scope="read write""#), "{challenge}");
    let token = issuer.mint(json!({"scope": "write openid read"}));
    assert_eq!(
        send(&app, "/scoped", Some(&bearer(&token))).await.status,
        200
    );
}

/// 400 `invalid_request` for other schemes and malformed values.
pub async fn other_schemes_and_malformed_headers_are_invalid_request<R: BearerRoutes>() {
    let app = app::<R>(&TestIssuer::new()).await;
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc"] {
        let reply = send(&app, "/me", Some(header)).await;
        assert_eq!(reply.status, 400, "{header}");
        assert!(
            reply
                .challenge()
                .is_some_and(|c| c.contains(r#"error="invalid_request""#))
        );
    }
}

/// No `Authorization`: 401 with a bare challenge (RFC 6750 §3.1).
pub async fn no_header_is_401_without_error_code<R: BearerRoutes>() {
    let app = app::<R>(&TestIssuer::new()).await;
    let reply = send(&app, "/me", None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.challenge(), Some(r#"Bearer realm="api""#));
}

/// Optional mode: anonymous passes, a token is still checked.
pub async fn optional_mode_passes_anonymous_requests_but_not_bad_tokens<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    assert_eq!(send(&app, "/mixed", None).await.body, "anonymous");
    let token = issuer.mint(json!({"sub": "bob"}));
    assert_eq!(
        send(&app, "/mixed", Some(&bearer(&token))).await.body,
        "bob"
    );
    let reply = send(&app, "/mixed", Some(&bearer(&issuer.forged_token()))).await;
    assert_eq!(reply.status, 401);
    assert_eq!(send(&app, "/mixed", Some("Basic x")).await.status, 400);
}

/// The hook's response replaces the default one.
pub async fn restyle_hook_replaces_error_responses<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let reply = send(&app, "/styled", Some(&bearer(&issuer.expired_token()))).await;
    assert_eq!((reply.status, reply.body.as_str()), (401, "custom"));
    assert_eq!(reply.header("x-error"), Some("invalid_token"));
    let reply = send(&app, "/styled", None).await;
    assert_eq!(reply.status, 401);
    assert!(reply.challenge().is_none());
    assert_eq!(reply.header("x-error"), Some("none"));
    let token = issuer.mint(json!({}));
    assert_eq!(
        send(&app, "/styled", Some(&bearer(&token))).await.body,
        "ok"
    );
}

/// A validator that cannot reach the provider: 503, `Retry-After`, no challenge.
pub async fn unreachable_provider_is_503_never_500<R: BearerRoutes>() {
    let validator = |_token: String| async { Err(ValidationError::NoUsableKeys) };
    let validator: Arc<dyn TokenValidator> = Arc::new(validator);
    let app = R::app(validator).await;
    let reply = send(&app, "/me", Some("Bearer abc")).await;
    assert_eq!(reply.status, 503);
    assert!(reply.challenge().is_none());
    assert!(reply.header("retry-after").is_some());
    assert_eq!(reply.json()["error"], "temporarily_unavailable");
}

/// A valid token whose claims do not fit the handler's type: 401 `invalid_token`.
pub async fn claims_that_do_not_fit_the_type_are_invalid_token<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let reply = send(&app, "/tenant", Some(&bearer(&issuer.mint(json!({}))))).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .challenge()
            .is_some_and(|c| c.contains(r#"error="invalid_token""#))
    );
}

/// `Claims` on a route without the middleware is a programming error: 500.
pub async fn claims_extractor_without_the_layer_is_a_500<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let reply = send(&app, "/bare", Some(&bearer(&issuer.mint(json!({}))))).await;
    assert_eq!(reply.status, 500);
}
