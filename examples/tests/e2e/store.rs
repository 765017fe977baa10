//! The web examples with `GENAUTH_SESSION_STORE` against the real test provider and a real
//! `redis-server` of each test's own: logout kills a saved copy of the session cookie in every
//! store mode; two instances sharing Redis and the key share sessions and logouts; parallel
//! requests on both instances when the access token is due refresh it once (rotating refresh
//! tokens, the public PKCE client), and nobody is signed out.

use super::{APP_SECRET, App, as_refs, free_port, oidc_vars, spawn};
use genauth::testing::RedisServer;
use genauth_tests::op::{self, TestOp};
use serde_json::json;
use std::time::Duration;

/// base64url of 32 bytes: the key every instance shares.
fn shared_key() -> String {
    format!("{}A", "C".repeat(42))
}

/// A provider with one client `web` (`auth_method`) for apps on `ports`, access tokens valid
/// `access_token_secs`.
async fn provider(ports: &[u16], auth_method: &str, access_token_secs: u64) -> TestOp {
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let callbacks: Vec<String> = bases.iter().map(|b| format!("{b}/callback")).collect();
    let callbacks: Vec<&str> = callbacks.iter().map(String::as_str).collect();
    let mut client = op::client("web", APP_SECRET, auth_method, &callbacks);
    client["post_logout_redirect_uris"] =
        json!(bases.iter().map(|b| format!("{b}/")).collect::<Vec<_>>());
    let mut config = op::config_with_clients(vec![client]);
    config["ttl"] = json!({ "AccessToken": access_token_secs });
    TestOp::start(config).await
}

/// An instance of `bin` on `port` with the session store `store` and the shared key.
async fn instance(bin: &str, op: &TestOp, port: u16, auth_method: &str, store: &str) -> App {
    let mut vars = oidc_vars(op, port, "web", auth_method);
    vars.push(("GENAUTH_SESSION_KEY", shared_key()));
    vars.push(("GENAUTH_SESSION_STORE", store.to_owned()));
    vars.push((
        "GENAUTH_SCOPE",
        "openid profile email offline_access".into(),
    ));
    spawn(bin, port, &as_refs(&vars)).await
}

/// `GET url` with exactly `cookie`, redirects not followed: (status, body).
async fn get_with_cookie(url: &str, cookie: &str) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .get(url)
        .header("cookie", cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Signs `alice` in on `app`; returns the browser and the session cookie it holds.
async fn sign_in(op: &TestOp, app: &App) -> (genauth_tests::browser::Browser, String) {
    let browser = op.browser();
    let hop = browser
        .login_and_consent(&format!("{}/login?return_to=/profile", app.base), "alice")
        .await;
    let followed = browser.continue_hop(&hop).await;
    assert_eq!(followed.page.status, 200, "{}", followed.page.body);
    assert_eq!(followed.page.json()["sub"], "alice");
    let cookie = browser
        .cookies_for(&app.base)
        .filter(|c| c.contains("genauth_session"))
        .expect("a session cookie");
    (browser, cookie)
}

/// Logout through `app` (no redirect followed); the saved `cookie` then reads as signed out on
/// every app of `apps`.
async fn logout_kills_the_saved_copy(app: &App, cookie: &str, apps: &[&App]) {
    let (status, _) = get_with_cookie(&format!("{}/logout", app.base), cookie).await;
    assert_eq!(status, 302, "logout redirects to the provider");
    for other in apps {
        let (status, _) = get_with_cookie(&format!("{}/profile", other.base), cookie).await;
        assert_eq!(
            status, 302,
            "{}: the saved cookie is signed out",
            other.base
        );
        let (_, home) = get_with_cookie(&format!("{}/", other.base), cookie).await;
        assert!(home.contains("Not signed in"), "{home}");
    }
}

/// In every store mode (cookie, memory, Redis), a saved copy of the session cookie is signed out
/// after logout.
pub async fn web_logout_ends_the_session_in_every_store(bin: &str) {
    let redis = RedisServer::for_test();
    let mut stores = vec!["cookie".to_owned(), "memory".to_owned()];
    if let Some(redis) = &redis {
        stores.push(redis.url());
    }
    for store in stores {
        let port = free_port();
        let op = provider(&[port], "client_secret_post", 3600).await;
        let app = instance(bin, &op, port, "client_secret_post", &store).await;
        let (_browser, cookie) = sign_in(&op, &app).await;
        let (status, _) = get_with_cookie(&format!("{}/profile", app.base), &cookie).await;
        assert_eq!(status, 200, "{store}: the saved copy works before logout");
        logout_kills_the_saved_copy(&app, &cookie, &[&app]).await;
        app.stop().await;
    }
}

/// Two instances sharing Redis and the key: sign in on one, use on the other, log out on the
/// other; the cookie is dead on both. A bad `GENAUTH_SESSION_STORE` stops the example with one
/// line naming it.
pub async fn web_two_instances_share_sessions_through_redis(bin: &str) {
    let Some(redis) = RedisServer::for_test() else {
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    let op = provider(&[port_a, port_b], "client_secret_post", 3600).await;
    let a = instance(bin, &op, port_a, "client_secret_post", &redis.url()).await;
    let b = instance(bin, &op, port_b, "client_secret_post", &redis.url()).await;
    let (_browser, cookie) = sign_in(&op, &a).await;
    assert!(cookie.len() < 400, "only the sealed session ID: {cookie}");
    let (status, body) = get_with_cookie(&format!("{}/profile", b.base), &cookie).await;
    assert_eq!(status, 200, "signed in on the other instance: {body}");
    assert!(body.contains("alice"), "{body}");
    logout_kills_the_saved_copy(&b, &cookie, &[&a, &b]).await;
    a.stop().await;
    b.stop().await;

    let output = std::process::Command::new(super::binary(bin))
        .envs(as_refs(&oidc_vars(
            &op,
            port_a,
            "web",
            "client_secret_post",
        )))
        .env("GENAUTH_SESSION_STORE", "mysql://nope")
        .env("BIND", format!("127.0.0.1:{port_a}"))
        .output()
        .expect("run example");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: GENAUTH_SESSION_STORE"), "{stderr}");
}

/// Rotating refresh tokens (the public PKCE client: oidc-provider rotates its refresh tokens) and
/// two instances sharing Redis: once the access token is due, parallel requests on both instances
/// all succeed, and the provider saw one refresh (no reuse of a rotated refresh token, which its
/// reuse detection would punish by revoking the grant).
pub async fn web_one_refresh_across_instances(bin: &str) {
    let Some(redis) = RedisServer::for_test() else {
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    // 70 s access tokens with the 60 s refresh skew: due 10 s after each refresh.
    let op = provider(&[port_a, port_b], "none", 70).await;
    let a = instance(bin, &op, port_a, "none", &redis.url()).await;
    let b = instance(bin, &op, port_b, "none", &redis.url()).await;
    let (_browser, cookie) = sign_in(&op, &a).await;
    let token_calls = || op.logs().matches("POST /token").count();
    let before = token_calls();
    tokio::time::sleep(Duration::from_secs(11)).await;
    let requests: Vec<_> = (0..12)
        .map(|i| {
            let base = if i % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            };
            let cookie = cookie.clone();
            tokio::spawn(async move { get_with_cookie(&format!("{base}/profile"), &cookie).await })
        })
        .collect();
    for request in requests {
        let (status, body) = request.await.expect("request task");
        assert_eq!(status, 200, "no sign-out: {body}");
        assert!(body.contains("alice"), "{body}");
    }
    let refreshes = token_calls() - before;
    let logs = op.logs();
    assert_eq!(
        refreshes, 1,
        "one refresh across both instances; provider log:\n{logs}"
    );
    assert!(
        !logs.contains("grant.error"),
        "no refresh token reuse:\n{logs}"
    );
    a.stop().await;
    b.stop().await;
}

/// Back-channel logout with two instances sharing Redis: the provider POSTs the logout token to
/// one instance (the registered `backchannel_logout_uri`), and the session the user signed in to
/// on the other ends.
pub async fn web_backchannel_logout_reaches_both_instances(bin: &str) {
    let Some(redis) = RedisServer::for_test() else {
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    let (base_a, base_b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let mut client = op::client(
        "web",
        APP_SECRET,
        "client_secret_post",
        &[&format!("{base_a}/callback"), &format!("{base_b}/callback")],
    );
    client["post_logout_redirect_uris"] = json!([format!("{base_a}/"), format!("{base_b}/")]);
    client["backchannel_logout_uri"] = json!(format!("{base_b}/backchannel-logout"));
    client["backchannel_logout_session_required"] = json!(true);
    let op = TestOp::start(op::config_with_clients(vec![client])).await;
    let a = instance(bin, &op, port_a, "client_secret_post", &redis.url()).await;
    let b = instance(bin, &op, port_b, "client_secret_post", &redis.url()).await;
    let (browser, cookie) = sign_in(&op, &a).await;
    let discovery = browser
        .get(&format!("{}/.well-known/openid-configuration", op.issuer))
        .await
        .json();
    let end_session = discovery["end_session_endpoint"]
        .as_str()
        .expect("end_session_endpoint")
        .to_owned();
    browser.confirm_logout(&end_session).await;
    let (status, _) = get_with_cookie(&format!("{}/profile", a.base), &cookie).await;
    assert_eq!(
        status, 302,
        "the provider's logout, received by the other instance, ended it"
    );
    let logs = op.logs();
    assert!(!logs.contains("backchannel.error"), "{logs}");
    a.stop().await;
    b.stop().await;
}
