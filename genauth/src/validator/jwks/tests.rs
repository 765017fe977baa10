//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
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

#[tokio::test]
async fn the_cache_stays_within_its_entry_and_memory_bounds() {
    let issuer = TestIssuer::new();
    let tokens: Vec<String> = (0..300)
        .map(|i| issuer.mint(serde_json::json!({"scope": "read", "jti": format!("t{i}")})))
        .collect();
    // The memory bound: 64 KiB of claims, far fewer than 300 entries.
    let by_memory = JwksValidator::new(issuer.verifier()).cache_memory(64 * 1024);
    for token in &tokens {
        by_memory.validate(token).await.unwrap();
    }
    let cache = by_memory.cache.as_ref().unwrap();
    assert!(cache.weight() <= 64 * 1024, "{}", cache.weight());
    assert!(cache.len() > 10 && cache.len() < 300, "{}", cache.len());
    // The entry bound, with the default memory bound.
    let by_count = JwksValidator::new(issuer.verifier()).cache_capacity(4);
    for token in &tokens {
        by_count.validate(token).await.unwrap();
    }
    let count = by_count.cache.as_ref().unwrap().len();
    assert!((1..=4).contains(&count), "{count}");
    // Still a cache: the last token is a hit (same claims, same `Arc`).
    let last = tokens.last().unwrap();
    let (a, b) = (
        by_count.validate(last).await.unwrap(),
        by_count.validate(last).await.unwrap(),
    );
    assert!(Arc::ptr_eq(&a, &b));
    // Either bound at 0 turns the cache off.
    assert!(
        JwksValidator::new(issuer.verifier())
            .cache_memory(0)
            .cache
            .is_none()
    );
}

/// `validate_now` answers what `validate` would, without a future: nothing for a token never
/// verified, the cached claims after, garbage refused by shape, a cached `cnf` token refused on
/// the plain-bearer path, an expired entry left to `validate`.
#[tokio::test]
async fn validate_now_answers_only_what_validate_would() {
    let issuer = TestIssuer::new();
    let validator = issuer.validator();
    let token = issuer.mint(serde_json::json!({ "scope": "read" }));
    assert!(validator.validate_now(&token).is_none(), "never verified");
    let verified = validator.validate(&token).await.unwrap();
    let now = validator.validate_now(&token).expect("a cache hit");
    assert!(
        Arc::ptr_eq(&now.unwrap(), &verified),
        "the cached claims, shared"
    );

    let garbage = "dGhpcyBpcyBub3QgYSBKV1Q";
    let sync_error = validator.validate_now(garbage).expect("refused by shape");
    let async_error = validator.validate(garbage).await.unwrap_err();
    assert_eq!(sync_error.unwrap_err().to_string(), async_error.to_string());

    let bound = issuer.mint(serde_json::json!({ "scope": "read", "cnf": { "jkt": "x" } }));
    validator.validate_key_bound(&bound).await.unwrap();
    assert!(matches!(
        validator.validate_now(&bound),
        Some(Err(ValidationError::KeyBound))
    ));

    // Past `exp` but within the verifier's leeway: `validate` accepts (and caches) it, the cache
    // never answers for it (no leeway there), so `validate_now` leaves it to `validate`.
    let late = issuer.mint(serde_json::json!({
        "scope": "read",
        "exp": crate::clock::now_secs().saturating_sub(1),
    }));
    validator.validate(&late).await.unwrap();
    assert!(
        validator.validate_now(&late).is_none(),
        "expired entry: left to validate"
    );
}
