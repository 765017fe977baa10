//! `genauth::testing::TestProvider`'s own behaviour: the checks `oidc-provider` makes too but that the
//! parity suite does not reach (an error page instead of a redirect), and the test controls (claims,
//! lifetimes, key rotation, outage, request record, login page, back-channel logout delivery).

use genauth::authorize::AuthorizeParams;
use genauth::testing::{LoginMode, Outage, TestClient, TestProvider, TokenLifetimes};
use genauth::validator::TokenValidator;
use genauth::{Client, ClientConfig};
use genauth_tests::flows::{finish_sign_in, query_param};
use genauth_tests::op::decode_jwt;
use serde_json::json;
use std::time::Duration;

const REDIRECT_URI: &str = "http://app.test/callback";

async fn provider(mode: LoginMode) -> TestProvider {
    TestProvider::builder()
        .client(TestClient::confidential("app", "app-secret").redirect_uri(REDIRECT_URI))
        .client(TestClient::public("spa").redirect_uri(REDIRECT_URI))
        .login_mode(mode)
        .start()
        .await
        .unwrap()
}

async fn client(provider: &TestProvider) -> Client {
    let config = ClientConfig::builder("app")
        .client_secret("app-secret")
        .issuer(provider.issuer())
        .redirect_uri(REDIRECT_URI)
        .scope("openid profile email offline_access")
        .build()
        .unwrap();
    Client::discover(config).await.unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(
    provider: &TestProvider,
    client: &Client,
    user: &str,
) -> genauth::token::LoginState {
    let request = client
        .authorization_request(&AuthorizeParams::default())
        .unwrap();
    let callback = provider
        .authorize_as(request.url.as_str(), user)
        .await
        .unwrap();
    let code = query_param(&callback, "code").expect("code");
    finish_sign_in(client, &request, &code).await.unwrap()
}

#[tokio::test]
async fn login_page_signs_in_any_name_with_its_claims() {
    let provider = provider(LoginMode::Page).await;
    provider.set_user_claims("zoe", json!({"name": "Zoe Q", "role": "admin"}));
    let client = client(&provider).await;
    let request = client
        .authorization_request(&AuthorizeParams::default())
        .unwrap();
    let page = no_redirects()
        .get(request.url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"username\""), "{html}");

    let state = sign_in(&provider, &client, "zoe").await;
    let claims = state.id_token_claims.unwrap();
    assert_eq!(claims.sub.as_deref(), Some("zoe"));
    assert_eq!(claims.extra["name"], "Zoe Q");
    assert_eq!(claims.extra["role"], "admin");
    let user = client.userinfo(&state.access_token).await.unwrap();
    assert_eq!(user.sub, "zoe");
    assert_eq!(user.email.as_deref(), Some("zoe@example.test"));
}

#[tokio::test]
async fn auto_approve_uses_login_hint() {
    let provider = provider(LoginMode::AutoApprove).await;
    let client = client(&provider).await;
    let request = client
        .authorization_request(&AuthorizeParams {
            extra: vec![("login_hint".into(), "hinted".into())],
            ..Default::default()
        })
        .unwrap();
    let response = no_redirects()
        .get(request.url.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "no page in AutoApprove");
    let callback = provider.authorize(request.url.as_str()).await.unwrap();
    let state = client
        .login_state_from_code(
            &query_param(&callback, "code").unwrap(),
            request.code_verifier.as_ref(),
            None,
            request.nonce.as_ref(),
        )
        .await
        .unwrap();
    assert_eq!(
        state.id_token_claims.unwrap().sub.as_deref(),
        Some("hinted")
    );
    // Without a hint: the default user.
    let state = sign_in(&provider, &client, "ignored").await;
    assert_eq!(
        state.id_token_claims.unwrap().sub.as_deref(),
        Some(genauth::testing::DEFAULT_USERNAME)
    );
}

#[tokio::test]
async fn authorization_refuses_unregistered_redirects_and_weak_pkce() {
    let provider = provider(LoginMode::AutoApprove).await;
    let http = no_redirects();
    let authorize = |query: &str| format!("{}/authorize?{query}", provider.issuer());
    // Never redirected to an unregistered URI: an error page.
    let r = http
        .get(authorize(
            "client_id=app&response_type=code&scope=openid&redirect_uri=http://evil.test/cb",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .get(authorize("client_id=nobody&response_type=code&scope=openid&redirect_uri=http://app.test/callback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A registered URI gets the error as a redirect.
    let error_of = |r: reqwest::Response| {
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        query_param(&url::Url::parse(&location).unwrap(), "error")
    };
    let plain = "client_id=app&response_type=code&scope=openid&redirect_uri=http://app.test/callback\
                 &code_challenge=abc&code_challenge_method=plain";
    let r = http.get(authorize(plain)).send().await.unwrap();
    assert_eq!(error_of(r).as_deref(), Some("invalid_request"));
    let public_without_pkce =
        "client_id=spa&response_type=code&scope=openid&redirect_uri=http://app.test/callback";
    let r = http
        .get(authorize(public_without_pkce))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).as_deref(), Some("invalid_request"));
    let token =
        "client_id=app&response_type=token&scope=openid&redirect_uri=http://app.test/callback";
    let r = http.get(authorize(token)).send().await.unwrap();
    assert_eq!(error_of(r).as_deref(), Some("unsupported_response_type"));
}

#[tokio::test]
async fn a_replayed_code_revokes_what_it_issued() {
    let provider = provider(LoginMode::AutoApprove).await;
    let client = client(&provider).await;
    let request = client
        .authorization_request(&AuthorizeParams::default())
        .unwrap();
    let callback = provider.authorize(request.url.as_str()).await.unwrap();
    let code = query_param(&callback, "code").unwrap();
    let tokens = client
        .exchange_code(&code, request.code_verifier.as_ref(), None)
        .await
        .unwrap();
    assert!(
        client
            .introspect(tokens.access_token.secret(), None)
            .await
            .unwrap()
            .active
    );
    assert!(
        client
            .exchange_code(&code, request.code_verifier.as_ref(), None)
            .await
            .is_err()
    );
    assert!(
        !client
            .introspect(tokens.access_token.secret(), None)
            .await
            .unwrap()
            .active
    );
}

#[tokio::test]
async fn key_rotation_keeps_old_keys_published() {
    let provider = provider(LoginMode::AutoApprove).await;
    let client = client(&provider).await;
    let before = sign_in(&provider, &client, "amy").await;
    let old_kid = provider.signing_kid();
    let new_kid = provider.rotate_keys();
    assert_ne!(old_kid, new_kid);
    let after = sign_in(&provider, &client, "amy").await;
    let (header, _) = decode_jwt(after.id_token.as_ref().unwrap().secret());
    assert_eq!(header["kid"], json!(new_kid));
    // Both access tokens still verify against the published set.
    let validator = client.jwks_validator(["app"]).unwrap();
    validator
        .validate(before.access_token.secret())
        .await
        .unwrap();
    validator
        .validate(after.access_token.secret())
        .await
        .unwrap();
}

#[tokio::test]
async fn lifetimes_apply_to_new_tokens() {
    let provider = provider(LoginMode::AutoApprove).await;
    provider.set_lifetimes(TokenLifetimes::default().access_token(Duration::from_secs(90)));
    let client = client(&provider).await;
    let state = sign_in(&provider, &client, "ben").await;
    assert_eq!(state.expires_in_secs, Some(90));
    provider.set_lifetimes(TokenLifetimes::default().access_token(Duration::ZERO));
    let state = sign_in(&provider, &client, "ben").await;
    // Expired at once: introspection says inactive, userinfo refuses it.
    assert!(
        !client
            .introspect(state.access_token.secret(), None)
            .await
            .unwrap()
            .active
    );
    assert!(client.userinfo(&state.access_token).await.is_err());
}

#[tokio::test]
async fn outage_answers_503_or_hangs_and_requests_are_recorded() {
    let provider = provider(LoginMode::AutoApprove).await;
    let client = client(&provider).await;
    let discovery = provider.url("/.well-known/openid-configuration");
    provider.set_outage(Outage::Unavailable);
    let r = reqwest::get(&discovery).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let err = client.introspect("x", None).await.unwrap_err();
    assert!(
        matches!(
            err,
            genauth::Error::UnexpectedStatus { .. } | genauth::Error::OAuth { .. }
        ),
        "{err:?}"
    );

    provider.set_outage(Outage::Hang);
    let hung = tokio::time::timeout(Duration::from_millis(300), reqwest::get(&discovery)).await;
    assert!(hung.is_err(), "a hanging provider does not answer");
    let pending = tokio::spawn(reqwest::get(discovery.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    provider.set_outage(Outage::None);
    let answered = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(answered.status(), 200, "answered once the outage is over");

    let introspections = provider.requests_to("/introspect");
    assert_eq!(introspections.len(), 1);
    assert_eq!(introspections[0].method, "POST");
    assert_eq!(introspections[0].form_value("token").as_deref(), Some("x"));
    assert!(
        provider
            .requests_to("/.well-known/openid-configuration")
            .len()
            >= 3
    );
}

/// An axum app on a loopback port of its own: `/me` needs a signed-in user, next to the sign-in
/// routes (`/login`, `/callback`, `/logout`, `/backchannel-logout`). Registered at the provider as
/// confidential client `web`, with its back-channel logout URI. Returns its base URL.
async fn web_app(provider: &TestProvider) -> String {
    use genauth_axum::axum::{Router, routing::get};
    use genauth_axum::{AuthUser, SessionCodec, SessionManager, WebAuth};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    provider.register_client(
        TestClient::confidential("web", "web-secret")
            .redirect_uri(format!("{base}/callback"))
            .post_logout_redirect_uri(format!("{base}/"))
            .backchannel_logout_uri(format!("{base}/backchannel-logout")),
    );
    let config = ClientConfig::builder("web")
        .client_secret("web-secret")
        .issuer(provider.issuer())
        .redirect_uri(format!("{base}/callback"))
        .logout_redirect_uri(format!("{base}/"))
        .build()
        .unwrap();
    let manager = SessionManager::new(
        Client::discover(config).await.unwrap(),
        SessionCodec::generate().unwrap(),
    );
    let auth = WebAuth::new(manager);
    let app = Router::new()
        .route(
            "/me",
            get(|user: AuthUser| async move { user.sub.clone() }).layer(auth.require_login()),
        )
        .route("/", get(|| async { "home" }))
        .merge(auth.routes())
        .layer(auth.session_layer());
    tokio::spawn(async move { genauth_axum::axum::serve(listener, app).await });
    base
}

/// A browser: cookies kept, redirects not followed (each hop is checked).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `GET /me` as a browser: (status, body).
async fn me(browser: &reqwest::Client, base: &str) -> (u16, String) {
    let response = browser
        .get(format!("{base}/me"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn logout_at_the_provider_ends_the_apps_session_by_backchannel_logout() {
    let provider = TestProvider::start().await.unwrap();
    let base = web_app(&provider).await;
    let discovery: serde_json::Value =
        reqwest::get(provider.url("/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(discovery["backchannel_logout_supported"], true);
    assert_eq!(discovery["backchannel_logout_session_supported"], true);

    let browser = browser();
    browser_sign_in_as(&provider, &browser, &base, "alice").await;

    // Another application signs alice out at the provider.
    let deliveries = provider.logout_user("alice").await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let delivery = &deliveries[0];
    assert_eq!(delivery.client_id, "web");
    assert_eq!(delivery.uri, format!("{base}/backchannel-logout"));
    assert_eq!(delivery.sub, "alice");
    assert_eq!(
        delivery.status,
        Some(200),
        "the app verified the logout token"
    );
    let (header, claims) = decode_jwt(&delivery.logout_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["sid"], delivery.sid.as_str());
    assert_eq!(claims["aud"], "web");
    assert!(claims["events"][genauth::logout_token::BACKCHANNEL_LOGOUT_EVENT].is_object());
    assert!(claims.get("nonce").is_none());
    assert_eq!(me(&browser, &base).await.0, 302, "the app's session ended");
    assert!(
        provider.logout_user("alice").await.is_empty(),
        "her provider sessions ended"
    );
    assert_eq!(provider.backchannel_deliveries().len(), 1);
}

#[tokio::test]
async fn end_session_with_the_apps_hint_delivers_backchannel_logout() {
    let provider = TestProvider::start().await.unwrap();
    let base = web_app(&provider).await;
    let browser = browser();
    browser_sign_in_as(&provider, &browser, &base, "alice").await;

    // The app's logout (a POST from its own page) sends the browser to end-session with the ID
    // token as hint; the provider ends that session and tells the app before it redirects back.
    let logout = browser
        .post(format!("{base}/logout"))
        .header("origin", &base)
        .send()
        .await
        .unwrap();
    let end_session = logout.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        end_session.starts_with(&provider.url("/logout")),
        "{end_session}"
    );
    let landed = browser.get(&end_session).send().await.unwrap();
    assert_eq!(landed.status(), 302);
    assert_eq!(landed.headers()["location"], format!("{base}/").as_str());
    let deliveries = provider.backchannel_deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(
        (deliveries[0].sub.as_str(), deliveries[0].status),
        ("alice", Some(200))
    );
    assert_eq!(me(&browser, &base).await.0, 302);

    // A hint the provider never issued is refused with its error page, nothing delivered.
    let forged = reqwest::get(provider.url("/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30."))
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert_eq!(provider.backchannel_deliveries().len(), 1);
}

#[tokio::test]
async fn an_unreachable_backchannel_uri_is_recorded_as_failed() {
    let provider = TestProvider::builder()
        .client(
            TestClient::confidential("app", "app-secret")
                .redirect_uri(REDIRECT_URI)
                // Port 9 (discard) on loopback: nothing listens there.
                .backchannel_logout_uri("http://127.0.0.1:9/backchannel-logout"),
        )
        .start()
        .await
        .unwrap();
    let client = client(&provider).await;
    let state = sign_in(&provider, &client, "bob").await;
    let (_, id_token) = decode_jwt(state.id_token.as_ref().unwrap().secret());
    let sid = id_token["sid"].clone();
    assert!(sid.is_string(), "ID tokens carry the provider session");
    let deliveries = provider.logout_user("bob").await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].sid, sid.as_str().unwrap());
    assert_eq!(deliveries[0].status, None);
    assert!(deliveries[0].error.is_some());
}

/// Signs `username` in to the app at `base` on the provider's login page.
async fn browser_sign_in_as(
    provider: &TestProvider,
    browser: &reqwest::Client,
    base: &str,
    username: &str,
) {
    let login = browser
        .get(format!("{base}/login?return_to=/me"))
        .send()
        .await
        .unwrap();
    let authorize = login.headers()["location"].to_str().unwrap().to_owned();
    let callback = provider.authorize_as(&authorize, username).await.unwrap();
    let back = browser.get(callback.as_str()).send().await.unwrap();
    assert_eq!(back.status(), 302, "the callback signs in");
    assert_eq!(me(browser, base).await, (200, username.to_owned()));
}
