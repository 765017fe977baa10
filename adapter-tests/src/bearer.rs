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
    // The shared claims: the same claims, the validator's own copy.
    let reply = send(&app, "/shared", Some(&bearer(&token))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sub"], "alice");
    assert_eq!(reply.json()["tenant"], "t1");
    let reply = send(&app, "/shared", None).await;
    assert_eq!(reply.status, 401, "no token: the layer answers");
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

/// Each token of `cases` (named) is answered 401 `invalid_token` on `/me`, or, for `statuses`
/// other than 401 (a malformed header), that status; never a 200 or a 500.
async fn refused(app: &impl App, cases: &[(&str, String)]) {
    for (name, token) in cases {
        let reply = send(app, "/me", Some(&bearer(token))).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_token", "{name}");
    }
}

/// A JWT from its header and claims as JSON, with a signature of `signature` (base64url).
fn jwt(header: serde_json::Value, claims: serde_json::Value, signature: &str) -> String {
    use base64::Engine as _;
    let encode = |value: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    format!("{}.{}.{signature}", encode(&header), encode(&claims))
}

/// The claims of a valid token of `issuer`, for hand-made tokens.
fn valid_claims(issuer: &TestIssuer) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({"iss": issuer.issuer(), "aud": issuer.audience(), "sub": "mallory",
           "scope": "read write", "iat": now, "exp": now + 600})
}

/// RFC 8725 §2.1, §3.1: `alg: none`, algorithm confusion (HS256 keyed with the public key, an
/// algorithm the key is not for) and unknown algorithms are refused.
pub async fn attack_alg_none_and_confusion_are_refused<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let claims = valid_claims(&issuer);
    let public_key_as_secret = serde_json::to_string(&issuer.jwks()).unwrap_or_default();
    let hs256 = {
        use base64::Engine as _;
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": issuer.kid()});
        let unsigned = jwt(header, claims.clone(), "");
        let input = unsigned.trim_end_matches('.');
        let key = aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            public_key_as_secret.as_bytes(),
        );
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    };
    refused(
        &app,
        &[
            (
                "alg none",
                jwt(json!({"alg": "none", "typ": "at+jwt"}), claims.clone(), ""),
            ),
            ("alg None", jwt(json!({"alg": "None"}), claims.clone(), "")),
            ("HS256 keyed with the public key", hs256),
            (
                "alg RS256 on an EC key",
                issuer.mint_with_header(json!({"alg": "RS256"}), json!({"scope": "read"})),
            ),
            (
                "alg ES384 on a P-256 key",
                issuer.mint_with_header(json!({"alg": "ES384"}), json!({"scope": "read"})),
            ),
            (
                "unknown alg",
                issuer.mint_with_header(json!({"alg": "XS256"}), json!({"scope": "read"})),
            ),
        ],
    )
    .await;
}

/// RFC 8725 §3.10, RFC 7515 §4.1.2–§4.1.6 and §4.1.11: `kid` tricks, keys named by the token
/// (`jku`, `x5u`, `x5c`, an embedded `jwk`: never fetched nor trusted) and `crit` are refused.
pub async fn attack_key_and_header_tricks_are_refused<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    // The attacker signs with its own key, claiming our issuer and kid, and says where its key is.
    let attacker = TestIssuer::new().with_issuer(issuer.issuer());
    let attacker_jwk = serde_json::to_value(attacker.jwks())
        .ok()
        .and_then(|set| set["keys"].get(0).cloned())
        .unwrap_or_default();
    let scope = || json!({"scope": "read"});
    refused(
        &app,
        &[
            (
                "unknown kid",
                issuer.mint_with_header(json!({"kid": "not-a-key"}), scope()),
            ),
            (
                "path kid",
                issuer.mint_with_header(json!({"kid": "../../../../dev/null"}), scope()),
            ),
            (
                "sql kid",
                issuer.mint_with_header(json!({"kid": "x' OR '1'='1"}), scope()),
            ),
            (
                "empty kid",
                issuer.mint_with_header(json!({"kid": ""}), scope()),
            ),
            (
                "kid of another key type",
                issuer.mint_with_header(json!({"kid": 42}), scope()),
            ),
            (
                "attacker key, our kid",
                attacker.mint_with_header(json!({"kid": issuer.kid()}), scope()),
            ),
            (
                "jku",
                attacker.mint_with_header(
                    json!({"kid": issuer.kid(), "jku": "https://evil.example/jwks"}),
                    scope(),
                ),
            ),
            (
                "x5u",
                attacker.mint_with_header(
                    json!({"kid": issuer.kid(), "x5u": "https://evil.example/cert"}),
                    scope(),
                ),
            ),
            (
                "x5c",
                attacker.mint_with_header(json!({"kid": issuer.kid(), "x5c": ["MIIB"]}), scope()),
            ),
            (
                "embedded jwk",
                attacker.mint_with_header(json!({"kid": null, "jwk": attacker_jwk}), scope()),
            ),
            (
                "crit",
                issuer.mint_with_header(json!({"crit": ["exp"]}), scope()),
            ),
        ],
    )
    .await;
}

/// RFC 7519 §4.1, RFC 9068 §4: `exp` past or missing, `nbf` and `iat` in the future, another
/// issuer, another audience.
pub async fn attack_claim_checks_are_enforced<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let far = 4_000_000_000u64;
    refused(
        &app,
        &[
            ("expired", issuer.expired_token()),
            ("no exp", issuer.mint(json!({"scope": "read", "exp": null}))),
            (
                "nbf in the future",
                issuer.mint(json!({"scope": "read", "nbf": far})),
            ),
            (
                "iat in the future",
                issuer.mint(json!({"scope": "read", "iat": far})),
            ),
            (
                "another issuer",
                issuer.mint(json!({"scope": "read", "iss": "https://evil.example"})),
            ),
            (
                "no issuer",
                issuer.mint(json!({"scope": "read", "iss": null})),
            ),
            (
                "another audience",
                issuer.mint(json!({"scope": "read", "aud": "another-api"})),
            ),
            (
                "no audience",
                issuer.mint(json!({"scope": "read", "aud": null})),
            ),
        ],
    )
    .await;
}

/// Garbage of every kind is a typed 401 (or 400 for what is not a `b64token`), never a 500:
/// malformed base64 and JSON, wrong part counts, duplicate JSON keys, a token past the size cap.
pub async fn attack_malformed_and_oversized_tokens_are_refused<R: BearerRoutes>() {
    use base64::Engine as _;
    let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let good = issuer.mint(json!({"scope": "read"}));
    let parts: Vec<&str> = good.split('.').collect();
    let header = parts.first().copied().unwrap_or_default();
    let payload = parts.get(1).copied().unwrap_or_default();
    let duplicate_iss = b64(&format!(
        r#"{{"iss":"{0}","iss":"{0}","aud":"{1}","scope":"read","exp":4000000000}}"#,
        issuer.issuer(),
        issuer.audience()
    ));
    refused(
        &app,
        &[
            ("two parts", format!("{header}.{payload}")),
            ("four parts", format!("{good}.x")),
            (
                "header not base64",
                format!("%%.{payload}.x").replace('%', "_"),
            ),
            (
                "header not JSON",
                format!("{}.{payload}.x", b64("not json")),
            ),
            ("payload not JSON", format!("{header}.{}.x", b64("[1,2"))),
            ("payload not an object", format!("{header}.{}.x", b64("42"))),
            ("duplicate iss", format!("{header}.{duplicate_iss}.x")),
            (
                "duplicate alg",
                format!("{}.{payload}.x", b64(r#"{"alg":"ES256","alg":"none"}"#)),
            ),
            (
                "signature not base64",
                format!("{header}.{payload}.!!!").replace('!', "~"),
            ),
            ("empty parts", "..".to_owned()),
        ],
    )
    .await;
    // Past the 32 KiB cap: refused before any parsing (a framework may refuse the header first).
    let huge = format!("{header}.{}.x", "A".repeat(33 * 1024));
    let reply = send(&app, "/me", Some(&bearer(&huge))).await;
    assert!(matches!(reply.status, 400 | 401 | 431), "{}", reply.status);
}

/// RFC 8725 §3.11, RFC 9068 §2.1: a token of the issuer for this audience that is not an access
/// token — an ID token (even refreshed: no `nonce`, no `at_hash`), a logout token, a token bound to
/// a key (RFC 9449 §7.1) — is 401 `invalid_token`.
pub async fn attack_other_jwt_kinds_are_not_access_tokens<R: BearerRoutes>() {
    let issuer = TestIssuer::new();
    let app = app::<R>(&issuer).await;
    let untyped = json!({"typ": "JWT"});
    refused(
        &app,
        &[
            ("ID token", issuer.mint_with_header(untyped.clone(), json!({"nonce": "n", "at_hash": "h", "name": "Ada"}))),
            ("refreshed ID token", issuer.mint_with_header(untyped.clone(), json!({"name": "Ada", "email": "ada@example.com", "sid": "s1"}))),
            ("ID token typed", issuer.mint_with_header(json!({"typ": "id_token+jwt"}), json!({"scope": "read"}))),
            ("logout token", issuer.mint_with_header(json!({"typ": "logout+jwt"}), json!({"sid": "s1", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}))),
            ("untyped logout token", issuer.mint_with_header(untyped.clone(), json!({"scope": "read", "events": {}}))),
            ("DPoP-bound token", issuer.mint(json!({"scope": "read", "cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}))),
        ],
    )
    .await;
    // GenAuth's untyped access tokens (`jti, sub, iat, exp, scope, iss, aud`) still pass.
    let genauth_style = issuer.mint_with_header(untyped, json!({"jti": "j1", "scope": "read"}));
    assert_eq!(
        send(&app, "/me", Some(&bearer(&genauth_style)))
            .await
            .status,
        200
    );
}
