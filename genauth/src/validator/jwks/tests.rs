use super::*;
use crate::jwks::JwksCache;
use crate::testing::TestIssuer;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serve(server: &MockServer, issuer: &TestIssuer) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(issuer.jwks()))
        .mount(server)
        .await;
}

/// A verifier for `issuer`'s tokens whose keys come from the mock server.
async fn remote_verifier(
    server: &MockServer,
    issuer: &TestIssuer,
    leeway: Duration,
) -> JwtVerifier {
    serve(server, issuer).await;
    let uri = url::Url::parse(&format!("{}/jwks", server.uri())).unwrap();
    JwtVerifier::builder(issuer.issuer())
        .audience(issuer.audience())
        .jwks(JwksCache::new(reqwest::Client::new(), uri))
        .leeway(leeway)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_cached_token_skips_signature_verification() {
    let server = MockServer::start().await;
    let issuer = TestIssuer::new();
    let verifier = remote_verifier(&server, &issuer, Duration::from_secs(60)).await;
    let cached = JwksValidator::new(verifier.clone());
    let uncached = JwksValidator::new(verifier.clone()).cache_capacity(0);
    let token = issuer.mint(serde_json::json!({"sub": "alice"}));
    assert_eq!(
        cached.validate(&token).await.unwrap().sub.as_deref(),
        Some("alice")
    );
    uncached.validate(&token).await.unwrap();

    // The provider rotates its key: the token's kid is gone from the JWKS.
    serve(&server, &TestIssuer::new()).await;
    verifier.jwks().unwrap().refresh().await.unwrap();

    // Only the cache still knows the token: proof that a hit does not verify again.
    assert_eq!(
        cached.validate(&token).await.unwrap().sub.as_deref(),
        Some("alice")
    );
    assert!(matches!(
        uncached.validate(&token).await,
        Err(ValidationError::UnknownKey { .. })
    ));
    // Failures are not cached.
    let forged = issuer.forged_token();
    assert!(cached.validate(&forged).await.is_err());
    assert!(cached.validate(&forged).await.is_err());
}

#[tokio::test]
async fn a_cached_token_never_outlives_its_exp() {
    let issuer = TestIssuer::new();
    let verifier = JwtVerifier::builder(issuer.issuer())
        .audience(issuer.audience())
        .jwks(issuer.jwks_cache())
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let validator = JwksValidator::new(verifier);
    let exp = now_secs() + 2;
    let token = issuer.mint(serde_json::json!({"exp": exp}));
    validator.validate(&token).await.unwrap();
    while now_secs() < exp {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(
        validator.validate(&token).await,
        Err(ValidationError::Expired { .. })
    ));
}
