//! The examples, run as a user would run them, against a real OpenID Provider (`oidc-provider`,
//! started on loopback by `genauth_tests::op`). One suite, parameterised by adapter: every scenario
//! runs against `axum-web`/`axum-api` and `actix-web`/`actix-api`, which must answer identically.
//!
//! Each test starts its own provider (with a client registered for the app's port) and spawns the
//! example binary with the `GENAUTH_*` environment variables, waiting for its `listening on` line.

use genauth::{Client, ClientAuthMethod, ClientConfig, ClientSecret};
use genauth_tests::browser::Browser;
use genauth_tests::op::{self, TEST_API, TestOp};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[path = "e2e/browser.rs"]
mod browser;
#[path = "e2e/resource.rs"]
mod resource;
#[path = "e2e/store.rs"]
mod store;

const APP_SECRET: &str = "example-app-secret";

/// A running example binary.
struct App {
    base: String,
    child: Child,
}

impl App {
    /// Stops the example and waits until it has exited (its port is free again).
    async fn stop(mut self) {
        self.child.kill().await.expect("kill example");
    }
}

/// A port nothing listens on right now (the app binds it a moment later).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The example binaries sit next to this test's `deps/` folder (cargo builds them for integration tests).
fn binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "example binary {} not built", path.display());
    path
}

/// Spawns an example with these variables (and no other `GENAUTH_*` from the outside).
async fn spawn(bin: &str, port: u16, vars: &[(&str, &str)]) -> App {
    let mut command = Command::new(binary(bin));
    for (key, _) in std::env::vars() {
        if key.starts_with("GENAUTH_") {
            command.env_remove(key);
        }
    }
    let bind = format!("127.0.0.1:{port}");
    command
        .env("BIND", &bind)
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("spawn example");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let wait = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if line == format!("listening on http://{bind}") {
                return true;
            }
        }
        false
    };
    let ready = tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or(false);
    assert!(ready, "{bin} did not print its listening line");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    App {
        base: format!("http://{bind}"),
        child,
    }
}

/// The provider with one client for an app on `port`.
async fn provider_for(port: u16, client_id: &str, auth_method: &str, ttl: Value) -> TestOp {
    let base = format!("http://127.0.0.1:{port}");
    let mut client = op::client(
        client_id,
        APP_SECRET,
        auth_method,
        &[&format!("{base}/callback")],
    );
    client["post_logout_redirect_uris"] = json!([format!("{base}/")]);
    let mut config = op::config_with_clients(vec![client]);
    config["ttl"] = ttl;
    TestOp::start(config).await
}

/// The variables of an OIDC example for the provider's client `client_id` and an app on `port`.
fn oidc_vars(
    op: &TestOp,
    port: u16,
    client_id: &str,
    auth_method: &str,
) -> Vec<(&'static str, String)> {
    let base = format!("http://127.0.0.1:{port}");
    let mut vars = vec![
        ("GENAUTH_ISSUER", op.issuer.clone()),
        ("GENAUTH_APP_ID", client_id.to_owned()),
        ("GENAUTH_TOKEN_AUTH_METHOD", auth_method.to_owned()),
        ("GENAUTH_REDIRECT_URI", format!("{base}/callback")),
        ("GENAUTH_LOGOUT_REDIRECT_URI", format!("{base}/")),
    ];
    if auth_method != "none" {
        vars.push(("GENAUTH_APP_SECRET", APP_SECRET.to_owned()));
    }
    vars
}

fn as_refs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Browser sign-in through the provider's real login and consent pages, session, refresh, logout.
async fn web_sign_in(bin: &str, auth_method: &str) {
    let port = free_port();
    // Access tokens shorter than the session's 60 s refresh skew: every request refreshes them.
    let op = provider_for(port, "web", auth_method, json!({"AccessToken": 30})).await;
    let mut vars = oidc_vars(&op, port, "web", auth_method);
    vars.push((
        "GENAUTH_SCOPE",
        "openid profile email offline_access".into(),
    ));
    let app = spawn(bin, port, &as_refs(&vars)).await;
    let browser = op.browser();

    // Signed out: `/` says so, `/profile` sends the browser to log in.
    let home = browser.get(&format!("{}/", app.base)).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Not signed in"), "{}", home.body);
    let profile = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(profile.status, 302);
    let location = profile.header("location").expect("location").to_owned();
    assert!(
        location.ends_with("/login?return_to=%2Fprofile"),
        "redirect to login, got {location}"
    );

    // Through the provider's login and consent pages, back to the callback, on to /profile.
    let login = if location.starts_with('/') {
        format!("{}{location}", app.base)
    } else {
        location
    };
    let hop = browser.login_and_consent(&login, "alice").await;
    assert!(
        hop.url
            .as_str()
            .starts_with(&format!("{}/callback", app.base)),
        "back at the callback, got {}",
        hop.url
    );
    let followed = browser.continue_hop(&hop).await;
    assert_eq!(followed.page.status, 200, "{}", followed.page.body);
    assert_eq!(followed.page.url.path(), "/profile");
    let claims = followed.page.json();
    assert_eq!(claims["sub"], "alice");
    // The ID token of a code flow carries no profile claims here: UserInfo completes them.
    assert!(
        claims["email"].is_string(),
        "UserInfo claims in the profile: {claims}"
    );

    let home = browser.get(&format!("{}/", app.base)).await;
    assert!(home.body.contains("Signed in as"), "{}", home.body);

    // The access token is within the refresh skew: the next request refreshes it and rewrites the
    // session cookie, and the user stays signed in.
    let again = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["sub"], "alice");
    assert!(
        again.json()["email"].is_string(),
        "claims survive the refresh"
    );
    assert!(
        again
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("genauth_session")),
        "a refreshed session cookie"
    );

    // Logout: RP-initiated logout at the provider, back to the app, signed out.
    let logout = browser.get(&format!("{}/logout", app.base)).await;
    assert_eq!(logout.status, 302);
    let end_session = logout.header("location").expect("location").to_owned();
    assert!(end_session.starts_with(&op.issuer), "{end_session}");
    assert!(end_session.contains("id_token_hint="));
    let back = browser.confirm_logout(&end_session).await;
    assert!(
        back.url.as_str().starts_with(&format!("{}/", app.base)),
        "back at the app, got {}",
        back.url
    );
    let profile = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(profile.status, 302, "signed out");

    // A provider error on the callback is a clear 4xx, not a 500.
    let denied = browser
        .get(&format!(
            "{}/callback?error=access_denied&state=x",
            app.base
        ))
        .await;
    assert!(denied.status.is_client_error(), "{}", denied.status);
}

/// Key rotation: a user signed in under `GENAUTH_SESSION_KEY=old` stays signed in after a restart
/// with `new,old`; a restart with `new` alone (the old key dropped) reads the session as signed out.
async fn web_session_key_rotation(bin: &str) {
    // base64url of 32 bytes each (the last character's spare bits zero).
    let old = "A".repeat(43);
    let new = format!("{}A", "B".repeat(42));
    let port = free_port();
    let op = provider_for(port, "web", "client_secret_post", json!({})).await;
    let vars = oidc_vars(&op, port, "web", "client_secret_post");
    let with_key = |keys: &str| {
        let mut vars = vars.clone();
        vars.push(("GENAUTH_SESSION_KEY", keys.to_owned()));
        vars
    };
    let app = spawn(bin, port, &as_refs(&with_key(&old))).await;
    let browser = op.browser();
    let hop = browser
        .login_and_consent(&format!("{}/login?return_to=/profile", app.base), "alice")
        .await;
    let followed = browser.continue_hop(&hop).await;
    assert_eq!(followed.page.status, 200, "{}", followed.page.body);
    app.stop().await;

    let app = spawn(bin, port, &as_refs(&with_key(&new))).await;
    let profile = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(
        profile.status, 302,
        "without the old key the session does not open"
    );
    app.stop().await;

    let app = spawn(bin, port, &as_refs(&with_key(&format!("{new},{old}")))).await;
    let profile = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(profile.status, 200, "signed in across the restart");
    assert_eq!(profile.json()["sub"], "alice");
    app.stop().await;

    // A malformed key list stops the example with one line naming the variable.
    let output = std::process::Command::new(binary(bin))
        .envs(as_refs(&with_key("not base64!")))
        .env("BIND", format!("127.0.0.1:{port}"))
        .output()
        .expect("run example");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: GENAUTH_SESSION_KEY:"),
        "{stderr}"
    );
}

/// Back-channel logout: the user signs out at the provider (not through the app); the provider
/// POSTs a logout token to the app's `/backchannel-logout`, and the app's session, whose cookie
/// the browser still holds, reads as signed out.
async fn web_backchannel_logout(bin: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut client = op::client(
        "web",
        APP_SECRET,
        "client_secret_post",
        &[&format!("{base}/callback")],
    );
    client["post_logout_redirect_uris"] = json!([format!("{base}/")]);
    client["backchannel_logout_uri"] = json!(format!("{base}/backchannel-logout"));
    client["backchannel_logout_session_required"] = json!(true);
    let op = TestOp::start(op::config_with_clients(vec![client])).await;
    let vars = oidc_vars(&op, port, "web", "client_secret_post");
    let app = spawn(bin, port, &as_refs(&vars)).await;
    let browser = op.browser();
    let hop = browser
        .login_and_consent(&format!("{}/login?return_to=/profile", app.base), "alice")
        .await;
    let followed = browser.continue_hop(&hop).await;
    assert_eq!(followed.page.status, 200, "{}", followed.page.body);

    let discovery = browser
        .get(&format!("{}/.well-known/openid-configuration", op.issuer))
        .await
        .json();
    let end_session = discovery["end_session_endpoint"]
        .as_str()
        .expect("end_session_endpoint")
        .to_owned();
    browser.confirm_logout(&end_session).await;
    assert!(
        browser
            .cookies_for(&app.base)
            .is_some_and(|c| c.contains("genauth_session")),
        "the browser still holds the app's session cookie"
    );
    let profile = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(
        profile.status, 302,
        "the provider's logout ended the app's session"
    );
}

/// OAuth 2.0 sign-in (`GENAUTH_PROTOCOL=oauth`): no nonce, the user comes from the userinfo endpoint.
async fn web_sign_in_oauth2(bin: &str) {
    let port = free_port();
    let op = provider_for(port, "oauth-web", "client_secret_post", json!({})).await;
    let mut vars = oidc_vars(&op, port, "oauth-web", "client_secret_post");
    vars.push(("GENAUTH_PROTOCOL", "oauth".into()));
    // userinfo at this provider needs `openid`; the OAuth 2.0 mode does not interpret it.
    vars.push(("GENAUTH_SCOPE", "openid profile email".into()));
    let app = spawn(bin, port, &as_refs(&vars)).await;
    let browser = op.browser();
    let login = format!("{}/login?return_to=/profile", app.base);
    let hop = browser.login_and_consent(&login, "olivia").await;
    let authorize = hop
        .visited
        .iter()
        .find(|u| u.as_str().starts_with(&op.issuer) && u.path().ends_with("/auth"))
        .expect("an authorization request");
    assert!(
        !authorize.query_pairs().any(|(k, _)| k == "nonce"),
        "OAuth 2.0 sends no nonce: {authorize}"
    );
    let followed = browser.continue_hop(&hop).await;
    assert_eq!(followed.page.status, 200, "{}", followed.page.body);
    let claims = followed.page.json();
    assert_eq!(claims["sub"], "olivia");
    assert!(claims["email"].is_string(), "userinfo claims: {claims}");
}

/// A genauth client of the provider's `api-client`, asking tokens for the test API.
async fn api_client(op: &TestOp, resource: bool) -> Client {
    let mut b = ClientConfig::builder("api-client")
        .issuer(&op.issuer)
        .client_secret(APP_SECRET)
        .redirect_uri("http://127.0.0.1:9/callback")
        .scope("openid api:read")
        .auth_method(ClientAuthMethod::ClientSecretBasic);
    if resource {
        b = b.resource(TEST_API);
    }
    Client::discover(b.build().expect("config"))
        .await
        .expect("discover")
}

async fn m2m_token(client: &Client, scope: &str) -> String {
    client
        .client_credentials("api-client", &ClientSecret::new(APP_SECRET), scope)
        .await
        .expect("client credentials")
        .access_token
        .into_secret()
}

async fn get_with(
    browser: &Browser,
    url: &str,
    token: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut request = browser.client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, challenge, response.text().await.expect("body"))
}

/// A provider with the API's client, the example API verifying its JWT access tokens (RFC 8707
/// resource), a browser and a client for tokens.
async fn jwt_api(bin: &str) -> (TestOp, App, Browser, Client) {
    let port = free_port();
    let mut client = op::client(
        "api-client",
        APP_SECRET,
        "client_secret_basic",
        &["http://127.0.0.1:9/callback"],
    );
    client["post_logout_redirect_uris"] = json!([]);
    let op = TestOp::start(op::config_with_clients(vec![client])).await;
    let app = spawn(
        bin,
        port,
        &[
            ("GENAUTH_ISSUER", op.issuer.as_str()),
            ("GENAUTH_APP_ID", "api-client"),
            ("GENAUTH_APP_SECRET", APP_SECRET),
            ("GENAUTH_TOKEN_AUTH_METHOD", "client_secret_basic"),
            ("GENAUTH_RESOURCE", TEST_API),
            ("GENAUTH_REQUIRED_SCOPE", "api:write"),
        ],
    )
    .await;
    let browser = op.browser();
    let client = api_client(&op, true).await;
    (op, app, browser, client)
}

/// The API with JWT access tokens verified against the provider's JWKS.
async fn api_jwks(bin: &str) {
    let (op, app, browser, client) = jwt_api(bin).await;

    let (status, _, body) = get_with(&browser, &format!("{}/public", app.base), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("public"));

    // A real JWT access token (client credentials, RFC 8707 resource).
    let read = m2m_token(&client, "api:read").await;
    let (status, _, body) = get_with(&browser, &format!("{}/me", app.base), Some(&read)).await;
    assert_eq!(status, 200, "{body}");
    let claims: Value = serde_json::from_str(&body).expect("claims JSON");
    assert_eq!(claims["client_id"], "api-client");
    assert_eq!(claims["aud"], json!([TEST_API]));

    // A signed-in user's JWT access token.
    let request = client
        .authorization_request(&Default::default())
        .expect("authorization request");
    let hop = browser
        .login_and_consent(request.url.as_str(), "alice")
        .await;
    let state = client
        .login_state_from_code(
            &hop.code().expect("code"),
            request.code_verifier.as_ref(),
            request.redirect_uri.as_ref(),
            request.nonce.as_ref(),
        )
        .await
        .expect("sign-in");
    let (status, _, body) = get_with(
        &browser,
        &format!("{}/me", app.base),
        Some(state.access_token.secret()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["sub"],
        "alice"
    );

    // Scope: api:read is not api:write.
    let (status, challenge, _) =
        get_with(&browser, &format!("{}/scoped", app.base), Some(&read)).await;
    assert_eq!(status, 403);
    assert!(
        challenge
            .unwrap_or_default()
            .contains("error=\"insufficient_scope\"")
    );
    let write = m2m_token(&client, "api:read api:write").await;
    let (status, _, _) = get_with(&browser, &format!("{}/scoped", app.base), Some(&write)).await;
    assert_eq!(status, 200);

    // A forged token (payload swapped, signature kept), a token from another issuer, none at all.
    let mut parts: Vec<String> = read.split('.').map(str::to_owned).collect();
    parts[1] = write.split('.').nth(1).unwrap().to_owned();
    let forged = parts.join(".");
    for token in [
        forged.as_str(),
        genauth::testing::TestIssuer::new().mint(json!({})).as_str(),
    ] {
        let (status, challenge, _) =
            get_with(&browser, &format!("{}/me", app.base), Some(token)).await;
        assert_eq!(status, 401);
        assert!(
            challenge
                .unwrap_or_default()
                .contains("error=\"invalid_token\"")
        );
    }
    let (status, challenge, _) = get_with(&browser, &format!("{}/me", app.base), None).await;
    assert_eq!(status, 401);
    let challenge = challenge.expect("challenge");
    assert!(challenge.starts_with("Bearer") && !challenge.contains("error="));
    let basic = browser
        .client()
        .get(format!("{}/me", app.base))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 400);

    // The provider rotates its key: tokens with the new kid work without a restart.
    let kid = op.rotate_keys().await;
    let rotated = m2m_token(&client, "api:read").await;
    let (header, _) = op::decode_jwt(&rotated);
    assert_eq!(header["kid"], json!(kid));
    let (status, _, body) = get_with(&browser, &format!("{}/me", app.base), Some(&rotated)).await;
    assert_eq!(status, 200, "{body}");
}

/// Key rotation during a flood of unknown-`kid` tokens (RFC 8725 §3.1 probing): every request with
/// the new key is answered 200, none 401, and the provider sees at most one JWKS download per
/// refetch cooldown (5 s by default) while the flood goes on.
async fn api_key_rotation_under_flood(bin: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (op, app, browser, client) = jwt_api(bin).await;
    let me = format!("{}/me", app.base);
    let read = m2m_token(&client, "api:read").await;
    assert_eq!(get_with(&browser, &me, Some(&read)).await.0, 200);
    let jwks_path = op.discovery().await["jwks_uri"]
        .as_str()
        .and_then(|uri| url::Url::parse(uri).ok())
        .map(|uri| uri.path().to_owned())
        .expect("jwks_uri");
    let downloads = |logs: &str| logs.matches(&format!("GET {jwks_path} ")).count();
    let before = downloads(&op.logs());

    // The flood: tokens of our issuer with made-up kids (the signature never gets looked at).
    let payload = read.split('.').nth(1).expect("a JWT").to_owned();
    let flooding = Arc::new(AtomicBool::new(true));
    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..8)
        .map(|worker| {
            let (browser, me, flooding) = (browser.clone(), me.clone(), Arc::clone(&flooding));
            let payload = payload.clone();
            tokio::spawn(async move {
                let mut n = 0;
                while flooding.load(Ordering::SeqCst) {
                    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("made-up-{worker}-{n}")});
                    let header = base64_url(&header.to_string());
                    let token = format!("{header}.{payload}.c2ln");
                    assert_eq!(get_with(&browser, &me, Some(&token)).await.0, 401);
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The rotation, then 200 requests (16 at a time) with one new-key token.
    let kid = op.rotate_keys().await;
    let rotated = m2m_token(&client, "api:read").await;
    assert_eq!(op::decode_jwt(&rotated).0["kid"], json!(kid));
    let burst: Vec<_> = (0..16)
        .map(|_| {
            let (browser, me, rotated) = (browser.clone(), me.clone(), rotated.clone());
            tokio::spawn(async move {
                for _ in 0..200 / 16 + 1 {
                    let (status, _, body) = get_with(&browser, &me, Some(&rotated)).await;
                    assert_eq!(status, 200, "{body}");
                }
            })
        })
        .collect();
    for requests in burst {
        requests.await.expect("burst");
    }
    flooding.store(false, Ordering::SeqCst);
    for worker in flood {
        worker.await.expect("flood");
    }
    let cooldowns = started.elapsed().as_secs() / 5 + 1;
    let during = downloads(&op.logs()) - before;
    println!(
        "JWKS downloads during the flood and burst: {during} in {:?}",
        started.elapsed()
    );
    assert!(
        during as u64 <= cooldowns,
        "{during} JWKS downloads in {:?}",
        started.elapsed()
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The API with opaque access tokens checked by RFC 7662 introspection.
async fn api_introspection(bin: &str) {
    let port = free_port();
    let client = op::client(
        "api-client",
        APP_SECRET,
        "client_secret_basic",
        &["http://127.0.0.1:9/callback"],
    );
    let op = TestOp::start(op::config_with_clients(vec![client])).await;
    let app = spawn(
        bin,
        port,
        &[
            ("GENAUTH_ISSUER", op.issuer.as_str()),
            ("GENAUTH_APP_ID", "api-client"),
            ("GENAUTH_APP_SECRET", APP_SECRET),
            ("GENAUTH_TOKEN_AUTH_METHOD", "client_secret_basic"),
            ("GENAUTH_VALIDATION", "introspection"),
            ("GENAUTH_REQUIRED_SCOPE", "api:write"),
        ],
    )
    .await;
    let browser = op.browser();
    let client = api_client(&op, false).await;
    let opaque = m2m_token(&client, "api:read").await;
    assert_eq!(opaque.split('.').count(), 1, "an opaque token");
    let (status, _, body) = get_with(&browser, &format!("{}/me", app.base), Some(&opaque)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["client_id"],
        "api-client"
    );
    let (status, challenge, _) =
        get_with(&browser, &format!("{}/scoped", app.base), Some(&opaque)).await;
    assert_eq!(status, 403);
    assert!(challenge.unwrap_or_default().contains("insufficient_scope"));
    let (status, challenge, _) = get_with(
        &browser,
        &format!("{}/me", app.base),
        Some("not-a-real-token"),
    )
    .await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap_or_default().contains("invalid_token"));
}

/// CAS sign-in: the login redirects to the CAS server with `service` = the callback, and the ticket
/// coming back is validated with `serviceValidate` (a mock CAS server here).
async fn web_cas(bin: &str) {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let cas = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
               <cas:authenticationFailure code="INVALID_TICKET">unknown</cas:authenticationFailure></cas:serviceResponse>"#,
        ))
        .mount(&cas)
        .await;
    let cas_url = format!("{}/cas", cas.uri());
    let callback = format!("{base}/callback");
    let _app = spawn(
        bin,
        port,
        &[
            ("GENAUTH_APP_HOST", cas.uri().as_str()),
            ("GENAUTH_APP_ID", "cas-app"),
            ("GENAUTH_APP_SECRET", APP_SECRET),
            ("GENAUTH_PROTOCOL", "cas"),
            ("GENAUTH_CAS_URL", cas_url.as_str()),
            ("GENAUTH_REDIRECT_URI", callback.as_str()),
        ],
    )
    .await;
    let browser = Browser::new(&cas.uri());
    let login = browser
        .get(&format!("{base}/login?return_to=/profile"))
        .await;
    assert_eq!(login.status, 302);
    let location = url::Url::parse(login.header("location").expect("location")).unwrap();
    assert_eq!(location.path(), "/cas/login");
    let service: Vec<_> = location
        .query_pairs()
        .filter(|(k, _)| k == "service")
        .collect();
    assert_eq!(service.len(), 1);
    // The service is the callback bound to this login: `{callback}?genauth_login=<43 base64url chars>`.
    let prefix = format!("{callback}?genauth_login=");
    let service = service[0].1.to_string();
    assert!(
        service.starts_with(&prefix) && service.len() == prefix.len() + 43,
        "{service}"
    );

    // A bad ticket is refused (4xx), a good one signs the user in and returns to /profile.
    let bad = browser.get(&format!("{service}&ticket=ST-bad")).await;
    assert!(bad.status.is_client_error(), "{}", bad.status);
    // A ticket without this login's binding is refused before any validation.
    let unbound = browser.get(&format!("{callback}?ticket=ST-good")).await;
    assert_eq!(unbound.status, 400);
    let browser = Browser::new(&cas.uri());
    let login = browser
        .get(&format!("{base}/login?return_to=/profile"))
        .await;
    let location = url::Url::parse(login.header("location").expect("location")).unwrap();
    let (_, service) = location
        .query_pairs()
        .find(|(k, _)| k == "service")
        .expect("service");
    // The CAS server issued ST-good for exactly this service URL.
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .and(query_param("ticket", "ST-good"))
        .and(query_param("service", service.as_ref()))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
               <cas:user>casuser</cas:user><cas:attributes><cas:email>cas@example.com</cas:email>
               </cas:attributes></cas:authenticationSuccess></cas:serviceResponse>"#,
        ))
        .with_priority(1)
        .expect(1)
        .mount(&cas)
        .await;
    let followed = browser
        .continue_to(&format!("{service}&ticket=ST-good"))
        .await;
    assert_eq!(followed.page.status, 200, "{}", followed.page.body);
    let claims = followed.page.json();
    assert_eq!(claims["sub"], "casuser");
    assert_eq!(claims["email"], "cas@example.com");
}

/// CAS sign-in against a real CAS server (`django-cas-server`): its login page, the ticket validated
/// with `serviceValidate` (CAS 3.0 attributes in the profile), and logout at the CAS server.
async fn web_cas_real(bin: &str) {
    let cas = genauth_tests::cas::TestCas::start().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let callback = format!("{base}/callback");
    let home = format!("{base}/");
    let app = spawn(
        bin,
        port,
        &[
            ("GENAUTH_APP_HOST", cas.origin.as_str()),
            ("GENAUTH_APP_ID", "cas-app"),
            ("GENAUTH_APP_SECRET", APP_SECRET),
            ("GENAUTH_PROTOCOL", "cas"),
            ("GENAUTH_CAS_URL", cas.url.as_str()),
            ("GENAUTH_REDIRECT_URI", callback.as_str()),
            ("GENAUTH_LOGOUT_REDIRECT_URI", home.as_str()),
        ],
    )
    .await;
    let browser = cas.browser();
    let signed_in = cas
        .sign_in(&browser, &format!("{base}/login?return_to=/profile"))
        .await;
    assert_eq!(signed_in.page.status, 200, "{}", signed_in.page.body);
    assert_eq!(signed_in.page.url.path(), "/profile");
    let claims = signed_in.page.json();
    assert_eq!(claims["sub"], genauth_tests::cas::USER);
    assert_eq!(
        claims["email"],
        genauth_tests::cas::EMAIL,
        "CAS 3.0 attributes: {claims}"
    );
    let ticket_hop = signed_in
        .visited
        .iter()
        .find(|u| u.query_pairs().any(|(k, _)| k == "ticket"))
        .expect("the callback with a ticket")
        .clone();

    // The same callback again (the ticket replayed): refused, and the session stays as it was.
    let replay = browser.get(ticket_hop.as_str()).await;
    assert!(replay.status.is_client_error(), "{}", replay.status);

    // Logout: to the CAS server's logout, and signed out here.
    let logout = browser.get(&format!("{}/logout", app.base)).await;
    assert_eq!(logout.status, 302);
    let to = logout.location().expect("location");
    assert_eq!(
        to.origin(),
        url::Url::parse(&cas.url).unwrap().origin(),
        "{to}"
    );
    assert!(to.path().ends_with("/logout"), "{to}");
    // The CAS server ends its session and sends the browser back to the app's page.
    let back = browser.follow(to.as_str()).await;
    assert_eq!(back.page.url.as_str(), home, "back at the app");
    assert!(
        back.page.body.contains("Not signed in"),
        "{}",
        back.page.body
    );
    let profile = browser.get(&format!("{}/profile", app.base)).await;
    assert_eq!(profile.status, 302, "signed out");
    // The CAS server's session is gone too: signing in asks for the password again.
    let again = browser
        .follow(&format!("{}/login?service={callback}", cas.url))
        .await;
    assert!(
        again.page.forms().iter().any(|f| f.field("lt").is_some()),
        "the CAS login form again"
    );
}

macro_rules! adapter_suite {
    ($adapter:ident, $web:literal, $api:literal) => {
        mod $adapter {
            #[tokio::test]
            async fn web_sign_in_confidential_basic() {
                super::web_sign_in($web, "client_secret_basic").await;
            }
            #[tokio::test]
            async fn web_sign_in_confidential_post() {
                super::web_sign_in($web, "client_secret_post").await;
            }
            #[tokio::test]
            async fn web_sign_in_public_client() {
                super::web_sign_in($web, "none").await;
            }
            #[tokio::test]
            async fn web_backchannel_logout() {
                super::web_backchannel_logout($web).await;
            }
            #[tokio::test]
            async fn web_session_key_rotation() {
                super::web_session_key_rotation($web).await;
            }
            #[tokio::test]
            async fn web_logout_ends_the_session_in_every_store() {
                super::store::web_logout_ends_the_session_in_every_store($web).await;
            }
            #[tokio::test]
            async fn web_two_instances_share_sessions_through_redis() {
                super::store::web_two_instances_share_sessions_through_redis($web).await;
            }
            #[tokio::test]
            async fn web_one_refresh_across_instances() {
                super::store::web_one_refresh_across_instances($web).await;
            }
            #[tokio::test]
            async fn web_backchannel_logout_reaches_both_instances() {
                super::store::web_backchannel_logout_reaches_both_instances($web).await;
            }
            #[tokio::test]
            async fn web_sign_in_oauth2() {
                super::web_sign_in_oauth2($web).await;
            }
            #[tokio::test]
            async fn web_cas_sign_in() {
                super::web_cas($web).await;
            }
            #[tokio::test]
            async fn web_cas_sign_in_real_server() {
                super::web_cas_real($web).await;
            }
            #[tokio::test]
            async fn api_jwt_access_tokens() {
                super::api_jwks($api).await;
            }
            #[tokio::test]
            async fn api_key_rotation_under_flood() {
                super::api_key_rotation_under_flood($api).await;
            }
            #[tokio::test]
            async fn api_introspection() {
                super::api_introspection($api).await;
            }
            #[tokio::test]
            async fn api_dpop_allowed() {
                super::resource::api_dpop_allowed($api).await;
            }
            #[tokio::test]
            async fn api_dpop_required() {
                super::resource::api_dpop_required($api).await;
            }
            #[tokio::test]
            async fn api_dpop_introspection() {
                super::resource::api_dpop_introspection($api).await;
            }
            #[tokio::test]
            async fn api_two_issuers() {
                super::resource::api_two_issuers($api).await;
            }
        }
    };
}

adapter_suite!(axum, "axum-web", "axum-api");
adapter_suite!(actix, "actix-web", "actix-api");

/// `quickstart-web`: its own in-process provider (TestProvider), a login page that signs in any
/// name, `/profile`, a refresh on every request (30 s access tokens), logout through end-session.
#[tokio::test]
async fn quickstart_web_signs_in_any_name() {
    let port = free_port();
    let app = spawn("quickstart-web", port, &[]).await;
    // A cookie-keeping client that follows redirects, as a browser does.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let get = |path: &str| browser.get(format!("{}{path}", app.base)).send();

    let home = get("/").await.expect("/").text().await.expect("body");
    assert!(home.contains("Not signed in"), "{home}");

    // /profile → /login → the provider's login page.
    let page = get("/profile").await.expect("/profile");
    let provider = page.url().clone();
    assert_ne!(provider.port(), Some(port), "at the provider: {provider}");
    let html = page.text().await.expect("login page");
    let interaction = html
        .split("name=\"interaction\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a login form: {html}"))
        .to_owned();
    let action = provider.join("/authorize").expect("form action");
    let profile = browser
        .post(action)
        .form(&[("interaction", interaction.as_str()), ("username", "Ada")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(profile.url().path(), "/profile", "back at /profile");
    let claims: Value = profile.json().await.expect("claims JSON");
    assert_eq!(claims["sub"], "Ada");
    assert_eq!(claims["email"], "Ada@example.test");

    // The access token is due: this request refreshes it, and the user stays signed in.
    let again = get("/profile").await.expect("/profile again");
    assert!(
        again.headers().get_all("set-cookie").iter().count() > 0,
        "a refreshed session cookie"
    );
    let claims: Value = again.json().await.expect("claims JSON");
    assert_eq!(claims["sub"], "Ada");
    let home = get("/").await.expect("/").text().await.expect("body");
    assert!(home.contains("Signed in as <b>Ada</b>"), "{home}");

    // Logout: end-session at the provider, back at `/`, signed out.
    let back = get("/logout").await.expect("/logout");
    assert_eq!(back.url().as_str(), format!("{}/", app.base));
    assert!(back.text().await.expect("body").contains("Not signed in"));
    let profile = get("/profile").await.expect("/profile");
    assert_eq!(
        profile.url().origin(),
        provider.origin(),
        "signed out: sent to log in again"
    );
}
