//! The example APIs as resource servers beyond RFC 6750, against the real test provider with its
//! DPoP feature on: DPoP-bound JWT access tokens (RFC 9449) from client credentials and the code
//! flow, the RFC 9728 metadata document and `resource_metadata` challenges, and one API trusting
//! two providers.

use super::{APP_SECRET, App, free_port, spawn};
use genauth::dpop::{DpopKey, access_token_hash};
use genauth::{ClientAuthMethod, ClientConfig};
use genauth_tests::op::{self, TestOp};
use serde_json::{Value, json};
use std::time::Duration;

/// A provider with DPoP on, `api-client`, and the API at `resource` (its own URL) as a JWT
/// resource server.
async fn provider(resource: &str) -> TestOp {
    let mut client = op::client(
        "api-client",
        APP_SECRET,
        "client_secret_basic",
        &["http://127.0.0.1:9/callback"],
    );
    client["post_logout_redirect_uris"] = json!([]);
    let mut config = op::config_with_clients(vec![client]);
    config["dpop"] = json!(true);
    config["resourceServers"] = json!({ resource: op::jwt_resource_server(resource) });
    TestOp::start(config).await
}

/// The example API trusting `issuers` (comma-separated), DPoP in `mode`, on `port`.
async fn api(bin: &str, port: u16, issuers: &str, resource: &str, mode: &str) -> App {
    spawn(
        bin,
        port,
        &[
            ("GENAUTH_ISSUER", issuers),
            ("GENAUTH_APP_ID", "api-client"),
            ("GENAUTH_APP_SECRET", APP_SECRET),
            ("GENAUTH_TOKEN_AUTH_METHOD", "client_secret_basic"),
            ("GENAUTH_RESOURCE", resource),
            ("GENAUTH_REQUIRED_SCOPE", "api:write"),
            ("GENAUTH_DPOP", mode),
        ],
    )
    .await
}

/// A token endpoint request (`form`), with a DPoP proof by `key` when given (RFC 9449 §5).
async fn token_request(op: &TestOp, key: Option<&DpopKey>, form: &[(&str, &str)]) -> Value {
    let endpoint = op.discovery().await["token_endpoint"]
        .as_str()
        .expect("token_endpoint")
        .to_owned();
    let mut request = reqwest::Client::new()
        .post(&endpoint)
        .basic_auth("api-client", Some(APP_SECRET))
        .form(form);
    if let Some(key) = key {
        request = request.header("dpop", key.proof("POST", &endpoint, None).expect("proof"));
    }
    let response = request.send().await.expect("token request");
    let status = response.status();
    let body: Value = response.json().await.expect("token JSON");
    assert!(status.is_success(), "token request: {status} {body}");
    body
}

/// A client-credentials token for `resource` (DPoP-bound when `key` is given).
async fn m2m(op: &TestOp, key: Option<&DpopKey>, resource: &str) -> String {
    let body = token_request(
        op,
        key,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api:read api:write"),
            ("resource", resource),
        ],
    )
    .await;
    let expected = if key.is_some() { "DPoP" } else { "Bearer" };
    assert_eq!(body["token_type"], expected, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// The answer to `GET url` with `authorization` and an optional `DPoP` header: status, every
/// `WWW-Authenticate`, body.
async fn get(
    url: &str,
    authorization: Option<String>,
    proof: Option<String>,
) -> (u16, Vec<String>, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let challenges = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    (status, challenges, response.text().await.expect("body"))
}

/// RFC 9449 end to end: a DPoP-bound token with a fresh proof → 200; as `Bearer`, without a
/// proof, with another key's, replayed, wrong `htm`/`htu`/`ath`, stale `iat` → 401 with the DPoP
/// challenge; a plain bearer token → 200 (allowed mode); the code flow's DPoP-bound token → 200;
/// the RFC 9728 document and `resource_metadata` in challenges.
pub async fn api_dpop_allowed(bin: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let op = provider(&base).await;
    let app = api(bin, port, &op.issuer, &base, "allowed").await;
    let me = format!("{base}/me");
    let key = DpopKey::generate().expect("key");

    let token = m2m(&op, Some(&key), &base).await;
    let (_, claims) = op::decode_jwt(&token);
    assert_eq!(
        claims["cnf"]["jkt"],
        key.thumbprint(),
        "the provider bound the token: {claims}"
    );
    let dpop = || Some(format!("DPoP {token}"));
    let proof = key.proof("GET", &me, Some(&token)).expect("proof");
    let (status, _, body) = get(&me, dpop(), Some(proof.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["cnf"]["jkt"],
        key.thumbprint()
    );
    // /scoped with a fresh proof for its URL.
    let scoped = format!("{base}/scoped");
    let (status, _, body) = get(
        &scoped,
        dpop(),
        key.proof("GET", &scoped, Some(&token)).ok(),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The same token as a plain bearer token.
    let (status, challenges, _) = get(&me, Some(format!("Bearer {token}")), None).await;
    assert_eq!(status, 401);
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with("DPoP ") && c.contains(r#"error="invalid_token""#)),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.starts_with("Bearer ")),
        "{challenges:?}"
    );

    let other = DpopKey::generate().expect("key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |over: Value| {
        let mut c = json!({"jti": format!("jti-{over}"), "htm": "GET", "htu": me, "iat": now, "ath": access_token_hash(&token)});
        for (k, v) in over.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    for (case, proof) in [
        ("no proof", None),
        ("another key", other.proof("GET", &me, Some(&token)).ok()),
        ("replayed", Some(proof)),
        ("wrong htm", key.sign(&claims(json!({"htm": "POST"}))).ok()),
        (
            "wrong htu",
            key.sign(&claims(json!({"htu": format!("{base}/scoped")})))
                .ok(),
        ),
        (
            "wrong ath",
            key.sign(&claims(json!({"ath": access_token_hash("another token")})))
                .ok(),
        ),
        (
            "stale iat",
            key.sign(&claims(json!({"iat": now - 3600}))).ok(),
        ),
    ] {
        let (status, challenges, body) = get(&me, dpop(), proof).await;
        assert_eq!(status, 401, "{case}: {body}");
        let dpop_challenge = challenges
            .iter()
            .find(|c| c.starts_with("DPoP "))
            .unwrap_or_else(|| panic!("{case}: {challenges:?}"));
        assert!(
            dpop_challenge.contains(r#"algs="ES256"#),
            "{case}: {dpop_challenge}"
        );
        assert!(
            dpop_challenge.contains(r#"error="invalid_dpop_proof""#),
            "{case}: {dpop_challenge}"
        );
    }

    // A plain bearer token passes in allowed mode.
    let plain = m2m(&op, None, &base).await;
    let (status, _, body) = get(&me, Some(format!("Bearer {plain}")), None).await;
    assert_eq!(status, 200, "{body}");

    // The code flow, with the code exchanged under a DPoP proof.
    let client = genauth::Client::discover(
        ClientConfig::builder("api-client")
            .issuer(&op.issuer)
            .client_secret(APP_SECRET)
            .redirect_uri("http://127.0.0.1:9/callback")
            .scope("openid api:read")
            .resource(&base)
            .auth_method(ClientAuthMethod::ClientSecretBasic)
            .build()
            .expect("config"),
    )
    .await
    .expect("discover");
    let request = client
        .authorization_request(&Default::default())
        .expect("authorization request");
    let hop = op
        .browser()
        .login_and_consent(request.url.as_str(), "alice")
        .await;
    let code = hop.code().expect("code");
    let verifier = request
        .code_verifier
        .as_ref()
        .expect("PKCE")
        .secret()
        .to_owned();
    let body = token_request(
        &op,
        Some(&key),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("code_verifier", &verifier),
            ("resource", &base),
        ],
    )
    .await;
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let user_token = body["access_token"].as_str().expect("access_token");
    let (status, _, body) = get(
        &me,
        Some(format!("DPoP {user_token}")),
        key.proof("GET", &me, Some(user_token)).ok(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["sub"],
        "alice"
    );

    // RFC 9728: the document, and `resource_metadata` in challenges.
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource");
    let doc: Value = reqwest::get(&metadata_url)
        .await
        .unwrap()
        .json()
        .await
        .expect("metadata JSON");
    assert_eq!(doc["resource"], base);
    assert_eq!(doc["authorization_servers"], json!([op.issuer]));
    assert_eq!(doc["scopes_supported"], json!(["api:write"]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert!(
        doc["dpop_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ES256"))),
        "{doc}"
    );
    let (status, challenges, _) = get(&me, None, None).await;
    assert_eq!(status, 401);
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    for challenge in &challenges {
        assert!(
            challenge.ends_with(&format!(r#"resource_metadata="{metadata_url}""#)),
            "{challenge}"
        );
    }
    // RFC 8707: a token for another resource (the provider's default test API) is refused.
    let elsewhere = m2m(&op, None, op::TEST_API).await;
    let (status, challenges, _) = get(&me, Some(format!("Bearer {elsewhere}")), None).await;
    assert_eq!(status, 401, "{challenges:?}");
    app.stop().await;
}

/// `GENAUTH_DPOP=required`: plain bearer tokens → 401 with only the DPoP challenge; DPoP → 200.
pub async fn api_dpop_required(bin: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let op = provider(&base).await;
    let app = api(bin, port, &op.issuer, &base, "required").await;
    let me = format!("{base}/me");
    let plain = m2m(&op, None, &base).await;
    let (status, challenges, _) = get(&me, Some(format!("Bearer {plain}")), None).await;
    assert_eq!(status, 401);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    assert!(
        challenges[0].starts_with(r#"DPoP realm="api", algs=""#),
        "{challenges:?}"
    );
    let key = DpopKey::generate().expect("key");
    let token = m2m(&op, Some(&key), &base).await;
    let (status, _, body) = get(
        &me,
        Some(format!("DPoP {token}")),
        key.proof("GET", &me, Some(&token)).ok(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

/// One API trusting two providers (`GENAUTH_ISSUER=a,b`): each one's tokens → 200; a third
/// provider's token → 401, and neither trusted provider's JWKS is downloaded for it.
pub async fn api_two_issuers(bin: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (a, b, third) = (
        provider(&base).await,
        provider(&base).await,
        provider(&base).await,
    );
    let app = api(
        bin,
        port,
        &format!("{},{}", a.issuer, b.issuer),
        &base,
        "off",
    )
    .await;
    let me = format!("{base}/me");
    for op in [&a, &b] {
        let token = m2m(op, None, &base).await;
        let (status, _, body) = get(&me, Some(format!("Bearer {token}")), None).await;
        assert_eq!(status, 200, "{}: {body}", op.issuer);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["iss"],
            op.issuer
        );
    }
    let downloads = |op: &TestOp| op.logs().matches("/jwks ").count();
    // The providers' request logs arrive through their stderr pipes: wait for the lines.
    let mut before = (downloads(&a), downloads(&b));
    for _ in 0..50 {
        if before.0 > 0 && before.1 > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        before = (downloads(&a), downloads(&b));
    }
    assert!(
        before.0 > 0 && before.1 > 0,
        "each trusted provider's keys were fetched once: {before:?}"
    );
    let foreign = m2m(&third, None, &base).await;
    for _ in 0..5 {
        let (status, challenges, _) = get(&me, Some(format!("Bearer {foreign}")), None).await;
        assert_eq!(status, 401);
        assert!(
            challenges[0].contains(r#"error="invalid_token""#),
            "{challenges:?}"
        );
    }
    // Late log lines would show here, not hide: give the pipes time before comparing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        (downloads(&a), downloads(&b)),
        before,
        "no JWKS download for an untrusted issuer"
    );
    assert_eq!(
        downloads(&third),
        0,
        "the untrusted issuer is never contacted"
    );
    let doc: Value = reqwest::get(format!("{base}/.well-known/oauth-protected-resource"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["authorization_servers"], json!([a.issuer, b.issuer]));
    app.stop().await;
}

/// RFC 9449 §6.2 with RFC 7662: an opaque DPoP-bound token checked by introspection (the answer
/// has `token_type` `DPoP` and `cnf.jkt`) → 200 with a proof; as `Bearer` → 401; with another
/// key's proof → 401 `invalid_dpop_proof`.
pub async fn api_dpop_introspection(bin: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut client = op::client(
        "api-client",
        APP_SECRET,
        "client_secret_basic",
        &["http://127.0.0.1:9/callback"],
    );
    client["post_logout_redirect_uris"] = json!([]);
    let mut config = op::config_with_clients(vec![client]);
    config["dpop"] = json!(true);
    let op = TestOp::start(config).await;
    let app = spawn(
        bin,
        port,
        &[
            ("GENAUTH_ISSUER", op.issuer.as_str()),
            ("GENAUTH_APP_ID", "api-client"),
            ("GENAUTH_APP_SECRET", APP_SECRET),
            ("GENAUTH_TOKEN_AUTH_METHOD", "client_secret_basic"),
            ("GENAUTH_VALIDATION", "introspection"),
            ("GENAUTH_DPOP", "allowed"),
        ],
    )
    .await;
    let me = format!("{base}/me");
    let key = DpopKey::generate().expect("key");
    let body = token_request(
        &op,
        Some(&key),
        &[("grant_type", "client_credentials"), ("scope", "api:read")],
    )
    .await;
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    assert_eq!(token.split('.').count(), 1, "an opaque token");
    let (status, _, body) = get(
        &me,
        Some(format!("DPoP {token}")),
        key.proof("GET", &me, Some(&token)).ok(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["cnf"]["jkt"],
        key.thumbprint()
    );
    let (status, _, body) = get(&me, Some(format!("Bearer {token}")), None).await;
    assert_eq!(status, 401, "{body}");
    let other = DpopKey::generate().expect("key");
    let (status, challenges, _) = get(
        &me,
        Some(format!("DPoP {token}")),
        other.proof("GET", &me, Some(&token)).ok(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        challenges
            .iter()
            .any(|c| c.contains(r#"error="invalid_dpop_proof""#)),
        "{challenges:?}"
    );
    app.stop().await;
}
