//! The resource-server scenarios beyond RFC 6750, driven through each adapter's bearer middleware
//! with real signed tokens: DPoP (RFC 9449), protected resource metadata (RFC 9728) with the
//! resource as audience (RFC 8707), step-up (RFC 9470).
//!
//! The routes ([`BearerRoutes`](crate::BearerRoutes)): `/dpop` ([`dpop_verifier`] in allowed
//! mode), `/dpop-required` (required mode), `/dpop-nonce` ([`dpop_verifier_with_nonce`]), each
//! answering the claims as JSON; `/resource`
//! (`protected_resource(&`[`metadata`]`())`) and the metadata route; `/step-up` ([`step_up`]).
//! Requests carry `Host: api.test`.

use crate::{App, Reply, Request};
use genauth::dpop::{DpopConfig, DpopKey, DpopMode, DpopVerifier};
use genauth::resource_metadata::ProtectedResourceMetadata;
use genauth::step_up::StepUp;
use genauth::testing::TestIssuer;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The `Host` of every request here.
pub const HOST: &str = "api.test";
/// The resource identifier of `/resource`.
pub const RESOURCE: &str = "https://api.test/resource";
/// The authorization server its metadata names.
pub const AUTHORIZATION_SERVER: &str = "https://issuer.genauth.test";

/// The DPoP verifier of `/dpop` (allowed) and `/dpop-required` (required).
pub fn dpop_verifier(mode: DpopMode) -> DpopVerifier {
    DpopConfig::new(mode).build().expect("valid DPoP settings")
}

/// The DPoP verifier of `/dpop-nonce`: required mode with server nonces (RFC 9449 §8).
pub fn dpop_verifier_with_nonce() -> DpopVerifier {
    DpopConfig::new(DpopMode::Required)
        .require_nonce(Duration::from_secs(300))
        .build()
        .expect("valid DPoP settings")
}

/// The metadata of `/resource`.
pub fn metadata() -> ProtectedResourceMetadata {
    ProtectedResourceMetadata::new(RESOURCE)
        .expect("valid resource")
        .authorization_server(AUTHORIZATION_SERVER)
        .scopes_supported(["read"])
        .dpop(&dpop_verifier(DpopMode::Allowed))
}

/// The step-up policy of `/step-up`: `acr` `urn:mfa`, authenticated within five minutes.
pub fn step_up() -> StepUp {
    StepUp::new()
        .acr_values(["urn:mfa"])
        .max_age(Duration::from_secs(300))
}

async fn app<R: crate::BearerRoutes>(issuer: &TestIssuer) -> R::App {
    R::app(Arc::new(issuer.validator())).await
}

async fn send(
    app: &impl App,
    path: &str,
    authorization: Option<&str>,
    proof: Option<&str>,
) -> Reply {
    let mut request = Request::get(path).header("host", HOST);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    app.send(request).await
}

fn challenges(reply: &Reply) -> Vec<&str> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == "www-authenticate")
        .map(|(_, v)| v.as_str())
        .collect()
}

fn bound_token(issuer: &TestIssuer, key: &DpopKey) -> String {
    issuer.mint(json!({"sub": "alice", "scope": "read", "cnf": {"jkt": key.thumbprint()}}))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn url(path: &str) -> String {
    format!("http://{HOST}{path}")
}

/// RFC 9449 §7.1: a DPoP-bound token with a fresh proof reaches the handler, `cnf.jkt` in its
/// claims; in allowed and required mode; a proof for the URL with a query passes (§4.3 step 9).
pub async fn dpop_bound_token_with_a_fresh_proof_passes<R: crate::BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let key = DpopKey::generate().unwrap();
    let token = bound_token(&issuer, &key);
    for path in ["/dpop", "/dpop-required"] {
        let proof = key.proof("GET", &url(path), Some(&token)).unwrap();
        let reply = send(&app, path, Some(&format!("DPoP {token}")), Some(&proof)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.json()["cnf"]["jkt"], key.thumbprint());
        assert_eq!(reply.json()["sub"], "alice");
    }
    let proof = key.proof("GET", &url("/dpop"), Some(&token)).unwrap();
    let reply = send(
        &app,
        "/dpop?page=2",
        Some(&format!("dpop {token}")),
        Some(&proof),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// RFC 9449 §4.3, §7.1, §11.1: the bound token as `Bearer`, without a proof, with a proof of
/// another key, replayed, for another method, URL or token, or stale: 401 with the `DPoP`
/// challenge carrying the error (and the `Bearer` challenge offered in allowed mode).
pub async fn dpop_bound_token_without_a_valid_proof_is_refused<R: crate::BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let key = DpopKey::generate().unwrap();
    let other = DpopKey::generate().unwrap();
    let token = bound_token(&issuer, &key);
    let dpop = format!("DPoP {token}");
    let now = now_secs();
    let claims = |overrides: serde_json::Value| {
        let mut c = json!({"jti": format!("j-{overrides}"), "htm": "GET", "htu": url("/dpop"), "iat": now,
            "ath": genauth::dpop::access_token_hash(&token)});
        for (k, v) in overrides.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    // As a plain bearer token: the binding is refused (RFC 9449 §7.1; `invalid_token`).
    let reply = send(&app, "/dpop", Some(&format!("Bearer {token}")), None).await;
    assert_eq!(reply.status, 401);
    let all = challenges(&reply);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0], r#"Bearer realm="api""#);
    assert!(
        all[1].starts_with(
            r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="invalid_token""#
        ),
        "{}",
        all[1]
    );
    let replayed = key.proof("GET", &url("/dpop"), Some(&token)).unwrap();
    assert_eq!(
        send(&app, "/dpop", Some(&dpop), Some(&replayed))
            .await
            .status,
        200
    );
    let cases = [
        ("no proof", None),
        (
            "another key's proof",
            Some(other.proof("GET", &url("/dpop"), Some(&token)).unwrap()),
        ),
        ("replayed proof", Some(replayed)),
        (
            "wrong htm",
            Some(key.sign(&claims(json!({"htm": "POST"}))).unwrap()),
        ),
        (
            "wrong htu",
            Some(
                key.sign(&claims(json!({"htu": url("/elsewhere")})))
                    .unwrap(),
            ),
        ),
        (
            "wrong host",
            Some(
                key.sign(&claims(json!({"htu": "http://evil.test/dpop"})))
                    .unwrap(),
            ),
        ),
        (
            "wrong ath",
            Some(
                key.sign(&claims(
                    json!({"ath": genauth::dpop::access_token_hash("other")}),
                ))
                .unwrap(),
            ),
        ),
        (
            "stale iat",
            Some(key.sign(&claims(json!({"iat": now - 600}))).unwrap()),
        ),
        (
            "future iat",
            Some(key.sign(&claims(json!({"iat": now + 600}))).unwrap()),
        ),
        ("not a JWT", Some("not-a-jwt".to_owned())),
    ];
    for (case, proof) in cases {
        let reply = send(&app, "/dpop", Some(&dpop), proof.as_deref()).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_dpop_proof", "{case}");
        let all = challenges(&reply);
        assert!(
            all.iter()
                .any(|c| c.starts_with(r#"DPoP realm="api", algs=""#)
                    && c.contains(r#"error="invalid_dpop_proof""#)),
            "{case}: {all:?}"
        );
        if let Some(proof) = &proof {
            assert!(
                !all.concat().contains(proof.as_str()),
                "{case}: the proof is echoed"
            );
        }
        assert!(
            !all.concat().contains(&token),
            "{case}: the token is echoed"
        );
    }
    // A proof for a token without `cnf` does not bind it.
    let plain = issuer.mint(json!({"scope": "read"}));
    let proof = key.proof("GET", &url("/dpop"), Some(&plain)).unwrap();
    let reply = send(&app, "/dpop", Some(&format!("DPoP {plain}")), Some(&proof)).await;
    assert_eq!(
        (reply.status, reply.json()["error"].as_str()),
        (401, Some("invalid_dpop_proof"))
    );
}

/// RFC 9449 §7.1: plain bearer tokens pass in allowed mode and are refused in required mode,
/// whose only challenge is `DPoP`; without a token, allowed mode offers both schemes.
pub async fn plain_bearer_tokens_in_allowed_and_required_mode<R: crate::BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let plain = format!(
        "Bearer {}",
        issuer.mint(json!({"sub": "bob", "scope": "read"}))
    );
    assert_eq!(send(&app, "/dpop", Some(&plain), None).await.status, 200);
    let reply = send(&app, "/dpop-required", Some(&plain), None).await;
    assert_eq!(reply.status, 401);
    let all = challenges(&reply);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].starts_with(
            r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="invalid_token""#
        ),
        "{}",
        all[0]
    );
    let reply = send(&app, "/dpop", None, None).await;
    assert_eq!(
        challenges(&reply),
        [
            r#"Bearer realm="api""#,
            r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256""#
        ]
    );
    let reply = send(&app, "/dpop-required", None, None).await;
    assert_eq!(
        challenges(&reply),
        [r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256""#]
    );
    // Without DPoP configured the scheme is unknown (400), as before.
    let reply = send(&app, "/me", Some("DPoP abc"), None).await;
    assert_eq!(reply.status, 400);
}

/// RFC 9728 §3: the metadata document at the path-aware well-known URL; §5.1: challenges carry
/// `resource_metadata`; RFC 8707: a token whose `aud` lacks the resource is refused.
pub async fn protected_resource_metadata_and_audience<R: crate::BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let reply = send(
        &app,
        "/.well-known/oauth-protected-resource/resource",
        None,
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let doc = reply.json();
    assert_eq!(doc["resource"], RESOURCE);
    assert_eq!(doc["authorization_servers"], json!([AUTHORIZATION_SERVER]));
    assert_eq!(doc["scopes_supported"], json!(["read"]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"])
    );
    let meta =
        r#"resource_metadata="https://api.test/.well-known/oauth-protected-resource/resource""#;
    let reply = send(&app, "/resource", None, None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.challenge(),
        Some(format!(r#"Bearer realm="api", {meta}"#).as_str())
    );
    let other_api = issuer.mint(json!({"scope": "read"}));
    let reply = send(
        &app,
        "/resource",
        Some(&format!("Bearer {other_api}")),
        None,
    )
    .await;
    assert_eq!(reply.status, 401);
    let challenge = reply.challenge().unwrap_or_default();
    assert!(
        challenge.contains(r#"error="invalid_token""#) && challenge.ends_with(meta),
        "{challenge}"
    );
    let for_us = issuer.mint(json!({"scope": "read", "aud": [issuer.audience(), RESOURCE]}));
    let reply = send(&app, "/resource", Some(&format!("Bearer {for_us}")), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// RFC 9470 §3: a weak or old sign-in is 401 `insufficient_user_authentication` with
/// `acr_values` and `max_age`; a strong, recent one passes.
pub async fn step_up_asks_for_a_stronger_sign_in<R: crate::BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let now = now_secs();
    for (case, claims) in [
        (
            "password only",
            json!({"scope": "read", "acr": "urn:pwd", "auth_time": now}),
        ),
        (
            "too old",
            json!({"scope": "read", "acr": "urn:mfa", "auth_time": now - 3600}),
        ),
        ("no auth_time", json!({"scope": "read", "acr": "urn:mfa"})),
    ] {
        let reply = send(
            &app,
            "/step-up",
            Some(&format!("Bearer {}", issuer.mint(claims))),
            None,
        )
        .await;
        assert_eq!(reply.status, 401, "{case}");
        assert_eq!(
            reply.json()["error"],
            "insufficient_user_authentication",
            "{case}"
        );
        let challenge = reply.challenge().unwrap_or_default();
        assert!(
            challenge
                .starts_with(r#"Bearer realm="api", error="insufficient_user_authentication""#),
            "{case}: {challenge}"
        );
        assert!(
            challenge.ends_with(r#"acr_values="urn:mfa", max_age="300""#),
            "{case}: {challenge}"
        );
    }
    let strong = issuer.mint(json!({"scope": "read", "acr": "urn:mfa", "auth_time": now - 10}));
    assert_eq!(
        send(&app, "/step-up", Some(&format!("Bearer {strong}")), None)
            .await
            .status,
        200
    );
}

/// RFC 9449 §8, §9: where the server requires nonces, a proof without one is 401
/// `use_dpop_nonce` with a `DPoP-Nonce` header; a proof carrying that nonce passes; a made-up
/// nonce is refused the same way.
pub async fn dpop_server_nonce_is_required_and_provided<R: crate::BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let key = DpopKey::generate().unwrap();
    let token = bound_token(&issuer, &key);
    let dpop = format!("DPoP {token}");
    let path = "/dpop-nonce";
    let first = key.proof("GET", &url(path), Some(&token)).unwrap();
    let reply = send(&app, path, Some(&dpop), Some(&first)).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.json()["error"], "use_dpop_nonce");
    let challenge = challenges(&reply).concat();
    assert!(
        challenge.starts_with(r#"DPoP realm="api", algs=""#)
            && challenge.contains(r#"error="use_dpop_nonce""#),
        "{challenge}"
    );
    let nonce = reply
        .header("dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_owned();
    let made_up = key
        .proof_with_nonce("GET", &url(path), Some(&token), Some("bm90LW91cnM"))
        .unwrap();
    let reply = send(&app, path, Some(&dpop), Some(&made_up)).await;
    assert_eq!(
        (reply.status, reply.json()["error"].as_str()),
        (401, Some("use_dpop_nonce"))
    );
    let with_nonce = key
        .proof_with_nonce("GET", &url(path), Some(&token), Some(&nonce))
        .unwrap();
    let reply = send(&app, path, Some(&dpop), Some(&with_nonce)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}
