//! Validation cost on the per-request path, timed with `std::time::Instant` (no bench framework):
//!
//! - cached hit: a token seen before (SHA-256 of the token + cache lookup + `exp` check);
//! - bearer cached hit: the bearer layers' whole step for such a token (`Authorization` parsed, the
//!   `bearer_validation` span, the validation counted, scopes checked);
//! - uncached ES256 / RS256 / EdDSA: full verification (header, key lookup, signature, claims) with
//!   the cache off, next to the floor: the bare aws-lc-rs signature check with a key parsed once;
//! - rejections before the signature: a garbage token, an expired token, a foreign issuer;
//! - bad signature: everything up to and including a failed signature check;
//! - session seal: a session sealed into its cookie(s) (serialized, AES-256-GCM, base64url);
//! - session open: a browser session cookie (tokens + claims) parsed from the `Cookie` header,
//!   decrypted (AES-256-GCM) and deserialized, as the session layers do on every request.
//!
//! - session gate: the request head built from a browser's headers, then the session middleware's
//!   decision (open, revocation check, no refresh due), as both adapters do per request;
//! - revocation check: the in-memory revocation list's lookup alone, with 10 000 ended sessions.
//!
//! Run: `cargo bench -p genauth --features testing --bench validate`.

use genauth::testing::TestIssuer;
use genauth::validator::TokenValidator;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot start a Tokio runtime: {e}"),
    };
    runtime.block_on(run());
}

async fn run() {
    let issuer = TestIssuer::new();
    let token = issuer.mint(serde_json::json!({
        "sub": "bench-user",
        "scope": "openid profile read:orders write:orders",
        "email": "bench@example.com",
    }));
    println!("token: ES256, {} bytes", token.len());

    let cached = issuer.validator();
    let uncached = issuer.validator().cache_capacity(0);

    time("cached hit", 200_000, &cached, &token).await;
    bearer_cached_hit(cached.clone(), &token).await;
    time("uncached ES256 verify", 5_000, &uncached, &token).await;
    floor("aws-lc-rs ES256 floor", 5_000, &issuer, &token);
    let rs256 = TestIssuer::rs256();
    let rs_token = rs256.mint(serde_json::json!({
        "sub": "bench-user", "scope": "openid profile", "jti": "j-1", "client_id": "bench-app",
    }));
    time(
        "uncached RS256 verify",
        5_000,
        &rs256.validator().cache_capacity(0),
        &rs_token,
    )
    .await;
    floor("aws-lc-rs RS256 floor", 5_000, &rs256, &rs_token);
    let ed = TestIssuer::with_algorithm(jsonwebtoken::Algorithm::EdDSA);
    let ed_token = ed.mint(serde_json::json!({"scope": "openid"}));
    time(
        "uncached EdDSA verify",
        5_000,
        &ed.validator().cache_capacity(0),
        &ed_token,
    )
    .await;
    let rs_uncached = rs256.validator().cache_capacity(0);
    rejected(
        "garbage token",
        200_000,
        &rs_uncached,
        "hR7u2Xq9ZkP4vB1sW8nL3mT6yC0dF5gJ",
    )
    .await;
    rejected(
        "expired token",
        200_000,
        &rs_uncached,
        &rs256.expired_token(),
    )
    .await;
    let foreign = rs256
        .clone()
        .with_issuer("https://elsewhere.test")
        .mint(serde_json::Value::Null);
    rejected("foreign issuer", 200_000, &rs_uncached, &foreign).await;
    rejected("bad signature", 5_000, &rs_uncached, &rs256.forged_token()).await;
    introspection_hit().await;
    session_open(&issuer, &token);
}

/// An introspection answer from the validator's cache (the provider, a local mock, called once).
async fn introspection_hit() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    Mock::given(method("POST"))
        .and(path("/oidc/token/introspection"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "active": true, "sub": "u1", "client_id": "bench-app", "scope": "read",
            "exp": exp, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let config = genauth::ClientConfig::builder("bench-app")
        .client_secret("bench-secret")
        .app_host(server.uri())
        .build();
    let client = match config.map(genauth::Client::new) {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("client: {e}"),
        Err(e) => panic!("config: {e}"),
    };
    let validator = genauth::validator::IntrospectionValidator::new(client);
    time(
        "introspection cache hit",
        200_000,
        &validator,
        "opaque-h3T9xLq2Zr7Wm4Kp8Vn1Bc6Ys5Dg0Fj",
    )
    .await;
}

/// A rejected token, timed like [`time`].
async fn rejected(name: &str, iterations: u32, validator: &impl TokenValidator, token: &str) {
    let started = Instant::now();
    for _ in 0..iterations {
        assert!(validator.validate(black_box(token)).await.is_err());
    }
    report(name, iterations, started.elapsed());
}

/// The signature check alone, with aws-lc-rs and a key parsed once: what no verifier can go under.
fn floor(name: &str, iterations: u32, issuer: &TestIssuer, token: &str) {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
        RsaPublicKeyComponents,
    };
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::jwk::AlgorithmParameters;
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap_or_default();
    let jwks = issuer.jwks();
    let key = match jwks.keys.first().map(|k| &k.algorithm) {
        Some(AlgorithmParameters::RSA(rsa)) => RsaPublicKeyComponents {
            n: b64(&rsa.n),
            e: b64(&rsa.e),
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256),
        Some(AlgorithmParameters::EllipticCurve(ec)) => {
            let mut point = vec![4];
            point.extend(b64(&ec.x));
            point.extend(b64(&ec.y));
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        }
        _ => panic!("{name}: unexpected key type"),
    };
    let Ok(key) = key else {
        panic!("{name}: the key does not parse");
    };
    let Some((message, signature)) = token.rsplit_once('.') else {
        panic!("{name}: not a JWS");
    };
    let signature = b64(signature);
    let started = Instant::now();
    for _ in 0..iterations {
        assert!(
            key.verify_sig(black_box(message.as_bytes()), &signature)
                .is_ok()
        );
    }
    report(name, iterations, started.elapsed());
}

/// A signed-in session as the web adapters keep it, opened from a `Cookie` header.
fn session_open(issuer: &TestIssuer, access_token: &str) {
    use genauth::session::{AuthUser, RequestCookies, Session, SessionCodec};
    use std::time::Duration;
    let id_token =
        issuer.mint(serde_json::json!({"sub": "bench-user", "nonce": "n", "name": "Bench"}));
    let tokens: genauth::token::LoginState = match serde_json::from_value(serde_json::json!({
        "access_token": access_token, "token_type": "Bearer", "id_token": id_token,
        "refresh_token": "r".repeat(43), "scope": "openid profile", "expires_in_secs": 3600,
        "expires_at": null, "id_token_claims": null, "access_token_claims": null
    })) {
        Ok(tokens) => tokens,
        Err(e) => panic!("login state: {e}"),
    };
    let mut claims = genauth::ExtraClaims::new();
    claims.insert("name".into(), "Bench User".into());
    claims.insert("email".into(), "bench@example.com".into());
    let session = Session::with_tokens(
        AuthUser::with_claims("bench-user", claims, genauth::Protocol::Oidc),
        tokens,
    );
    let codec = match SessionCodec::generate() {
        Ok(codec) => codec,
        Err(e) => panic!("codec: {e}"),
    };
    let sealed = match codec.seal(&session, "genauth_session", Duration::from_secs(3600)) {
        Ok(sealed) => sealed,
        Err(e) => panic!("seal: {e}"),
    };
    let header = sealed
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    println!(
        "session cookie: {} bytes in {} cookie(s)",
        header.len(),
        sealed.len()
    );
    let iterations = 50_000u32;
    let started = Instant::now();
    for _ in 0..iterations {
        let sealed = codec.seal(
            black_box(&session),
            "genauth_session",
            Duration::from_secs(3600),
        );
        assert!(black_box(sealed).is_ok());
    }
    report("session seal", iterations, started.elapsed());
    let started = Instant::now();
    for _ in 0..iterations {
        let cookies = RequestCookies::from_headers([black_box(header.as_bytes())]);
        let opened = codec.open("genauth_session", |name| cookies.get(name));
        assert!(black_box(opened).is_some());
    }
    report("session open", iterations, started.elapsed());
    session_gate(codec, &session);
}

/// What a session middleware does per request before the handler: the request head from a
/// browser's dozen headers (the session cookie among them), then the gate's decision.
fn session_gate(codec: genauth::session::SessionCodec, session: &genauth::session::Session) {
    use genauth::adapter::{SessionGate, SessionStep};
    use genauth::session::{RequestCookies, SessionManager};
    use genauth::web::RequestHead;
    use std::sync::Arc;

    let config = genauth::ClientConfig::builder("bench-app")
        .client_secret("bench-secret")
        .app_host("https://bench.genauth.ai")
        .redirect_uri("http://127.0.0.1:3000/callback")
        .build();
    let client = match config.map(genauth::Client::new) {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("client: {e}"),
        Err(e) => panic!("config: {e}"),
    };
    let manager = Arc::new(SessionManager::new(client, codec));
    // Sealed by the manager's codec (bound to its issuer and client ID).
    let cookie = match manager.store(session, &RequestCookies::default()) {
        Ok(cookies) => cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => panic!("store: {e}"),
    };
    let revocations = Arc::clone(manager.get_revocations());
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
        + 3600;
    for i in 0..10_000 {
        assert!(revocations.revoke_session(&format!("ended-session-{i}"), until));
    }
    for i in 0..100 {
        assert!(revocations.revoke_subject(&format!("user-{i}"), 0, until));
    }
    let gate = SessionGate::new(Arc::clone(&manager));
    let headers: Vec<(&str, &[u8])> = vec![
        ("host", b"127.0.0.1:3000"),
        (
            "user-agent",
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0",
        ),
        (
            "accept",
            b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("accept-language", b"en-US,en;q=0.9"),
        ("accept-encoding", b"gzip, deflate, br"),
        ("connection", b"keep-alive"),
        ("referer", b"http://127.0.0.1:3000/"),
        ("sec-fetch-dest", b"document"),
        ("sec-fetch-mode", b"navigate"),
        ("sec-fetch-site", b"same-origin"),
        ("upgrade-insecure-requests", b"1"),
        ("cookie", cookie.as_bytes()),
    ];
    let iterations = 50_000u32;
    let started = Instant::now();
    for _ in 0..iterations {
        let head = RequestHead::new("GET", "/profile", black_box(headers.iter().copied()));
        let step = gate.before(None, head);
        let SessionStep::Proceed(proceed) = black_box(step) else {
            panic!("the gate did not proceed");
        };
        assert!(proceed.context.is_some_and(|c| c.is_signed_in()));
    }
    report("session gate", iterations, started.elapsed());

    let iterations = 1_000_000u32;
    let started = Instant::now();
    for _ in 0..iterations {
        assert!(!revocations.is_revoked(black_box(session)));
    }
    report("revocation check", iterations, started.elapsed());
}

/// What both adapters' bearer layers do per request with a token seen before.
async fn bearer_cached_hit(validator: genauth::JwksValidator, token: &str) {
    let bearer = genauth::bearer::BearerAuthenticator::new(validator).required_scopes(["openid"]);
    let header = format!("Bearer {token}");
    let iterations = 200_000u32;
    let started = Instant::now();
    for _ in 0..iterations {
        let authenticated = bearer.authenticate([black_box(header.as_bytes())]).await;
        assert!(matches!(black_box(authenticated), Ok(Some(_))));
    }
    report("bearer cached hit", iterations, started.elapsed());
}

async fn time(name: &str, iterations: u32, validator: &impl TokenValidator, token: &str) {
    // Warm up (and fill the cache for the cached case).
    for _ in 0..(iterations / 10).max(1) {
        if let Err(e) = validator.validate(black_box(token)).await {
            panic!("{name}: the token did not validate: {e}");
        }
    }
    let started = Instant::now();
    for _ in 0..iterations {
        let claims = validator.validate(black_box(token)).await;
        black_box(claims.is_ok());
    }
    report(name, iterations, started.elapsed());
}

/// One result line: time per iteration, iterations, total.
fn report(name: &str, iterations: u32, elapsed: std::time::Duration) {
    println!(
        "{name:<24} {:>10.0} ns/iter  ({iterations} iterations, {:.3} s)",
        elapsed.as_nanos() as f64 / f64::from(iterations),
        elapsed.as_secs_f64()
    );
}
