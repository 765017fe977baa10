//! `quickstart`: no account needed. A bearer-protected axum API whose tokens come from an in-process
//! test issuer (`genauth::testing::TestIssuer`). It prints a ready token and curl commands, shows what a
//! valid, an expired and a forged token get, then serves on `BIND` (default `127.0.0.1:3000`).
//!
//! ```sh
//! cargo run -p genauth-examples --bin quickstart
//! ```

use axum::body::Body;
use axum::http::{Request, header};
use axum::{Json, Router, routing::get};
use genauth::testing::TestIssuer;
use genauth_axum::{BearerAuthLayer, Claims};
use genauth_examples::{exit_with, pages};
use tower::ServiceExt as _;

/// The scope `/scoped` requires; the printed token does not have it.
const REQUIRED_SCOPE: &str = "api:write";

fn app(issuer: &TestIssuer) -> Router {
    let validator = issuer.validator();
    Router::new()
        .route("/public", get(|| async { Json(pages::public_json()) }))
        .route(
            "/me",
            get(|Claims(claims): Claims| async move { Json(claims) })
                .layer(BearerAuthLayer::new(validator.clone())),
        )
        .route(
            "/scoped",
            get(|Claims(claims): Claims| async move { Json(claims) })
                .layer(BearerAuthLayer::new(validator).required_scopes([REQUIRED_SCOPE])),
        )
}

/// Sends one request to the app in-process and describes the answer on one line.
async fn ask(app: &Router, path: &str, token: Option<&str>) -> String {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Body::empty()).unwrap_or_else(|e| exit_with(e));
    let response = app
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| exit_with(e));
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(|v| format!("  WWW-Authenticate: {v}"))
        .unwrap_or_default();
    format!("{status}{challenge}")
}

#[tokio::main]
async fn main() {
    genauth_examples::install_tracing();
    let bind = genauth_examples::bind_from_env();
    let issuer = TestIssuer::new();
    let valid = issuer.mint(serde_json::json!({
        "sub": "quickstart-user",
        "scope": "openid api:read",
        "name": "Quinn Start",
    }));
    let expired = issuer.expired_token();
    let forged = issuer.forged_token();
    let app = app(&issuer);

    let base = format!("http://{bind}");
    println!("genauth quickstart: a bearer-protected API at {base}");
    println!(
        "Tokens come from an in-process test issuer ({}), no account needed.\n",
        issuer.issuer()
    );
    println!(
        "A valid token (sub quickstart-user, scope \"openid api:read\", valid for 1 hour):\n{valid}\n"
    );
    println!("Try it:");
    println!("  curl -i {base}/public");
    println!("  curl -i -H \"Authorization: Bearer {valid}\" {base}/me");
    println!(
        "  curl -i -H \"Authorization: Bearer {valid}\" {base}/scoped   # needs {REQUIRED_SCOPE}"
    );
    println!("  curl -i -H \"Authorization: Bearer not-a-token\" {base}/me\n");
    println!("What the API answers:");
    for (label, path, token) in [
        ("valid token   GET /me    ", "/me", Some(valid.as_str())),
        ("valid token   GET /scoped", "/scoped", Some(valid.as_str())),
        ("expired token GET /me    ", "/me", Some(expired.as_str())),
        ("forged token  GET /me    ", "/me", Some(forged.as_str())),
        ("no token      GET /me    ", "/me", None),
    ] {
        println!("  {label} -> {}", ask(&app, path, token).await);
    }
    println!();

    genauth_examples::serve_axum(bind, app).await;
}
