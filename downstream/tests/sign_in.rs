//! The user's app tested with the published crates' `testing` feature only: a user signs in
//! against `TestProvider` and calls the protected routes; a bearer token from `TestIssuer` calls
//! the API; signing out at the provider ends the session through back-channel logout.

use genauth::testing::{TestClient, TestIssuer, TestProvider};
use genauth_axum::axum::body::{Body, to_bytes};
use genauth_axum::axum::http::{Request, Response, StatusCode, header};
use genauth_axum::{BearerAuthLayer, Client, ClientConfig, SessionCodec, SessionManager, WebAuth};
use genauth_downstream::app;
use serde_json::json;
use tower::ServiceExt as _;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const REDIRECT_URI: &str = "http://app.test/callback";

/// A browser's GET: HTML wanted, with these cookies.
fn get_page(uri: &str, cookies: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .unwrap_or_default()
}

fn location<B>(response: &Response<B>) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `name=value` of every cookie a response sets (not the removals).
fn cookies<B>(response: &Response<B>) -> String {
    let set = response.headers().get_all(header::SET_COOKIE).iter();
    let pairs = set.filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned));
    let set_not_removed = |pair: &String| {
        pair.split_once('=')
            .is_some_and(|(_, value)| !value.is_empty())
    };
    pairs.filter(set_not_removed).collect::<Vec<_>>().join("; ")
}

async fn body_text(response: Response<Body>) -> Result<String, Box<dyn std::error::Error>> {
    let bytes = to_bytes(response.into_body(), 64 * 1024).await?;
    Ok(String::from_utf8(bytes.to_vec())?)
}

/// The web half: a `TestProvider` with the app registered, the app's `WebAuth`.
async fn web_auth() -> Result<(TestProvider, WebAuth), Box<dyn std::error::Error>> {
    let provider = TestProvider::builder()
        .client(TestClient::confidential("my-app", "my-secret").redirect_uri(REDIRECT_URI))
        .user("alice", json!({ "name": "Alice Example" }))
        .start()
        .await?;
    let config = ClientConfig::builder("my-app")
        .client_secret("my-secret")
        .issuer(provider.issuer())
        .redirect_uri(REDIRECT_URI)
        .build()?;
    let manager = SessionManager::new(Client::discover(config).await?, SessionCodec::generate()?);
    Ok((provider, WebAuth::new(manager)))
}

#[tokio::test]
async fn a_user_signs_in_and_sees_their_orders() -> TestResult {
    let (provider, auth) = web_auth().await?;
    let app = app(&auth, BearerAuthLayer::new(TestIssuer::new().validator()));

    // Signed out: the browser is sent to sign in.
    let response = app.clone().oneshot(get_page("/orders", "")).await?;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(
        location(&response).starts_with("/login"),
        "{}",
        location(&response)
    );

    // Sign in as alice: /login → the provider's login page → back at /callback with a code.
    let login = app
        .clone()
        .oneshot(get_page("/login?return_to=/orders", ""))
        .await?;
    let callback = provider.authorize_as(&location(&login), "alice").await?;
    let callback = format!("/callback?{}", callback.query().unwrap_or_default());
    let signed_in = app
        .clone()
        .oneshot(get_page(&callback, &cookies(&login)))
        .await?;
    assert_eq!(location(&signed_in), "/orders");

    let response = app
        .clone()
        .oneshot(get_page("/orders", &cookies(&signed_in)))
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await?, "orders of alice");

    // The provider saw one code exchange, authenticated with the app's secret.
    let token_requests = provider.requests_to("/token");
    assert_eq!(token_requests.len(), 1);
    assert_eq!(
        token_requests[0].form_value("grant_type").as_deref(),
        Some("authorization_code")
    );
    Ok(())
}

#[tokio::test]
async fn the_api_takes_bearer_tokens_with_the_scope() -> TestResult {
    let (_provider, auth) = web_auth().await?;
    let issuer = TestIssuer::new();
    let api = BearerAuthLayer::new(issuer.validator()).required_scopes(["orders:read"]);
    let app = app(&auth, api);
    let call = |token: String| {
        Request::get("/api/orders")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap_or_default()
    };

    let token = issuer.mint(json!({ "sub": "svc-1", "scope": "orders:read" }));
    let response = app.clone().oneshot(call(token)).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await?, "orders for svc-1");

    let narrow = issuer.mint(json!({ "sub": "svc-1", "scope": "profile" }));
    let response = app.clone().oneshot(call(narrow)).await?;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = app.oneshot(call(issuer.forged_token())).await?;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers().get(header::WWW_AUTHENTICATE);
    assert!(
        challenge.is_some_and(|c| c.as_bytes().starts_with(b"Bearer")),
        "RFC 6750 challenge: {challenge:?}"
    );
    Ok(())
}

/// Served on a loopback port so that the provider can POST to `/backchannel-logout`.
#[tokio::test]
async fn signing_out_at_the_provider_ends_the_session() -> TestResult {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let provider = TestProvider::builder()
        .client(
            TestClient::confidential("my-app", "my-secret")
                .redirect_uri(format!("{base}/callback"))
                .backchannel_logout_uri(format!("{base}/backchannel-logout")),
        )
        .start()
        .await?;
    let config = ClientConfig::builder("my-app")
        .client_secret("my-secret")
        .issuer(provider.issuer())
        .redirect_uri(format!("{base}/callback"))
        .build()?;
    let manager = SessionManager::new(Client::discover(config).await?, SessionCodec::generate()?);
    let auth = WebAuth::new(manager);
    let app = app(&auth, BearerAuthLayer::new(TestIssuer::new().validator()));
    tokio::spawn(async move { genauth_axum::axum::serve(listener, app).await });

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let get = async |url: &str, cookies: &str| {
        http.get(url)
            .header("accept", "text/html")
            .header("cookie", cookies)
            .send()
            .await
    };
    let set_cookies = |response: &reqwest::Response| {
        let set = response.headers().get_all("set-cookie").iter();
        let pairs = set.filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned));
        pairs
            .filter(|p| p.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let login = get(&format!("{base}/login?return_to=/orders"), "").await?;
    let authorize = login.headers()["location"].to_str()?.to_owned();
    let callback = provider.authorize_as(&authorize, "alice").await?;
    let signed_in = get(callback.as_str(), &set_cookies(&login)).await?;
    let session = set_cookies(&signed_in);
    let orders = get(&format!("{base}/orders"), &session).await?;
    assert_eq!(orders.status(), 200);
    assert_eq!(orders.text().await?, "orders of alice");

    let deliveries = provider.logout_user("alice").await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].status,
        Some(200),
        "the app accepted the logout token"
    );
    let after = get(&format!("{base}/orders"), &session).await?;
    assert_eq!(after.status(), 302, "the saved cookie reads as signed out");
    Ok(())
}
