//! Fault injection: a provider that is down, slow past the timeout, answering 5xx, garbage, a body
//! over the cap, or a JWKS of unusable keys. Bearer validation answers 503 (as the adapters send it,
//! with `Retry-After`), never 500 or 401, never hangs, and keys already known keep serving.

use genauth::bearer::{BearerAuthenticator, BearerError};
use genauth::testing::TestIssuer;
use genauth::validator::IntrospectionValidator;
use genauth::{AccessToken, Client, ClientConfig, ProviderMetadata};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TIMEOUT: Duration = Duration::from_millis(400);

/// How the provider misbehaves: `mode` switches at run time.
#[derive(Clone)]
struct Faulty {
    mode: Arc<AtomicUsize>,
    jwks: serde_json::Value,
}

const GOOD: usize = 0;
const FAULTS: [(&str, usize); 6] = [
    ("5xx", 1),
    ("slow past the timeout", 2),
    ("garbage JSON", 3),
    ("body over the cap", 4),
    ("only unusable keys", 5),
    ("empty key set", 6),
];

impl Respond for Faulty {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match self.mode.load(Ordering::SeqCst) {
            GOOD => ResponseTemplate::new(200).set_body_json(self.jwks.clone()),
            1 => ResponseTemplate::new(503),
            2 => ResponseTemplate::new(200)
                .set_body_json(self.jwks.clone())
                .set_delay(TIMEOUT * 5),
            3 => ResponseTemplate::new(200).set_body_string("{\"keys\": [oops"),
            4 => ResponseTemplate::new(200).set_body_string(format!(
                "{{\"keys\": [], \"pad\": \"{}\"}}",
                "x".repeat(2 * 1024 * 1024)
            )),
            5 => ResponseTemplate::new(200).set_body_json(json!({"keys": [
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
                {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB", "kid": "enc"},
                {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA", "kid": "p521"},
            ]})),
            _ => ResponseTemplate::new(200).set_body_json(json!({"keys": []})),
        }
    }
}

/// A client for a provider whose JWKS is served by `faulty`, with a short HTTP timeout.
async fn client(server: &MockServer, issuer: &TestIssuer) -> Client {
    let metadata = ProviderMetadata::builder(issuer.issuer())
        .authorization_endpoint(format!("{}/auth", server.uri()))
        .jwks_uri(format!("{}/jwks", server.uri()))
        .introspection_endpoint(format!("{}/introspect", server.uri()))
        .build()
        .expect("metadata");
    let config = ClientConfig::builder(issuer.audience())
        .client_secret("secret")
        .issuer(issuer.issuer())
        .http_timeout(TIMEOUT)
        .build()
        .expect("config");
    Client::with_metadata(config, metadata).expect("client")
}

/// The status the bearer layer answers for `token`, and how long it took.
async fn status(auth: &BearerAuthenticator, token: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = match auth.validate(AccessToken::new(token)).await {
        Ok(_) => 200,
        Err(error) => {
            if matches!(error, BearerError::ProviderUnavailable(_)) {
                assert!(
                    error.reply("api").header_value("retry-after").is_some(),
                    "503 carries Retry-After"
                );
            }
            error.status_code()
        }
    };
    (status, started.elapsed())
}

#[tokio::test]
async fn jwks_faults_are_503_and_known_keys_keep_serving() {
    // Each fault against its own provider, all at once (each waits out a failure cooldown).
    let faults: Vec<_> = FAULTS
        .into_iter()
        .map(|(name, fault)| tokio::spawn(jwks_fault(name, fault)))
        .collect();
    for fault in faults {
        fault.await.expect("fault scenario");
    }
}

async fn jwks_fault(name: &'static str, fault: usize) {
    {
        let issuer = TestIssuer::new().with_issuer("http://127.0.0.1/faulty");
        let server = MockServer::start().await;
        let mode = Arc::new(AtomicUsize::new(fault));
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(Faulty {
                mode: Arc::clone(&mode),
                jwks: serde_json::to_value(issuer.jwks()).expect("jwks"),
            })
            .mount(&server)
            .await;
        let validator = client(&server, &issuer)
            .await
            .jwks_validator([issuer.audience()])
            .expect("validator")
            .cache_capacity(0);
        let auth = BearerAuthenticator::new(validator);
        let token = issuer.mint(json!({"scope": "read"}));
        // Keys never downloaded: 503, within the timeout.
        let (code, took) = status(&auth, &token).await;
        assert_eq!(code, 503, "{name}");
        assert!(took < TIMEOUT * 3, "{name}: {took:?}");
        // The provider recovers: the keys are downloaded (after the failure cooldown).
        mode.store(GOOD, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(5) + Duration::from_millis(100)).await;
        assert_eq!(status(&auth, &token).await.0, 200, "{name}: recovered");
        // It breaks again: the known key keeps serving, with no download needed.
        mode.store(fault, Ordering::SeqCst);
        let (code, took) = status(&auth, &token).await;
        assert_eq!(code, 200, "{name}: known keys while the provider is down");
        assert!(took < TIMEOUT, "{name}: no network on the hot path");
        // A token with an unknown kid meanwhile: refused or 503, never 500, never a hang.
        let other = issuer.mint_with_header(json!({"kid": "rotated"}), json!({"scope": "read"}));
        let (code, took) = status(&auth, &other).await;
        assert!(matches!(code, 401 | 503), "{name}: {code}");
        assert!(took < Duration::from_secs(8), "{name}: {took:?}");
    }
}

/// A counting responder for introspection that misbehaves as `mode` says.
struct Introspection {
    mode: usize,
    calls: Arc<AtomicUsize>,
}

impl Respond for Introspection {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.mode {
            1 => ResponseTemplate::new(500),
            2 => ResponseTemplate::new(200)
                .set_body_json(json!({"active": true}))
                .set_delay(TIMEOUT * 5),
            3 => ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
            _ => ResponseTemplate::new(200).set_body_string("x".repeat(2 * 1024 * 1024)),
        }
    }
}

#[tokio::test]
async fn introspection_faults_are_503_shared_and_bounded() {
    for (name, mode) in [("5xx", 1), ("slow", 2), ("garbage", 3), ("over the cap", 4)] {
        let issuer = TestIssuer::new().with_issuer("http://127.0.0.1/faulty");
        let server = MockServer::start().await;
        let calls = Arc::new(AtomicUsize::new(0));
        Mock::given(method("POST"))
            .and(path("/introspect"))
            .respond_with(Introspection {
                mode,
                calls: Arc::clone(&calls),
            })
            .mount(&server)
            .await;
        let validator = IntrospectionValidator::new(client(&server, &issuer).await);
        let auth = BearerAuthenticator::new(validator);
        // 20 concurrent requests with one token: one call, every answer 503, none slower than the
        // timeout (plus scheduling).
        let requests: Vec<_> = (0..20)
            .map(|_| {
                let auth = auth.clone();
                tokio::spawn(async move { status(&auth, "opaque-token").await })
            })
            .collect();
        for request in requests {
            let (code, took) = request.await.expect("request");
            assert_eq!(code, 503, "{name}");
            assert!(took < TIMEOUT * 3, "{name}: {took:?}");
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "{name}: one call for one token"
        );
    }
}
