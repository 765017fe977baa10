use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers with `body` (or `status` 500 when `None`) and counts calls.
struct Endpoint {
    body: Option<serde_json::Value>,
    hits: Arc<AtomicUsize>,
}

impl Respond for Endpoint {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.hits.fetch_add(1, Ordering::SeqCst);
        match &self.body {
            Some(body) => ResponseTemplate::new(200).set_body_json(body.clone()),
            None => ResponseTemplate::new(500),
        }
    }
}

/// A validator whose provider answers every introspection with `body`; and the call counter.
async fn validator(
    body: Option<serde_json::Value>,
) -> (MockServer, IntrospectionValidator, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let hits = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/oidc/token/introspection"))
        .respond_with(Endpoint {
            body,
            hits: Arc::clone(&hits),
        })
        .mount(&server)
        .await;
    let config = crate::ClientConfig::builder("app")
        .client_secret("secret")
        .app_host(server.uri())
        .build()
        .unwrap();
    let client = crate::Client::new(config).unwrap();
    (server, IntrospectionValidator::new(client), hits)
}

fn active(exp: u64) -> serde_json::Value {
    serde_json::json!({"active": true, "sub": "u1", "aud": "api", "scope": "read", "exp": exp})
}

#[tokio::test]
async fn active_answers_are_cached_up_to_max_ttl() {
    let (_s, v, hits) = validator(Some(active(now_secs() + 3600))).await;
    let v = v.max_cache_ttl(Duration::from_millis(200));
    for _ in 0..3 {
        let claims = v.validate("opaque-1").await.unwrap();
        assert!(claims.has_scope("read"));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Another token is another entry.
    v.validate("opaque-2").await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // Past max_cache_ttl, the provider is asked again.
    tokio::time::sleep(Duration::from_millis(250)).await;
    v.validate("opaque-1").await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_active_entry_never_outlives_exp() {
    let exp = now_secs() + 2;
    let (_s, v, hits) = validator(Some(active(exp))).await;
    v.validate("opaque").await.unwrap();
    while now_secs() < exp {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The entry died with `exp`; the provider (still saying "active" with a past exp) is asked
    // again and the token is refused.
    assert!(matches!(
        v.validate("opaque").await,
        Err(ValidationError::Inactive)
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn inactive_answers_are_cached_for_inactive_ttl() {
    let (_s, v, hits) = validator(Some(serde_json::json!({"active": false}))).await;
    for _ in 0..3 {
        let err = v.validate("revoked").await.unwrap_err();
        assert!(matches!(err, ValidationError::Inactive));
        assert_eq!(err.status_code(), 401);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let v = v.inactive_ttl(Duration::ZERO);
    v.validate("revoked-2").await.unwrap_err();
    v.validate("revoked-2").await.unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn provider_failure_is_503_and_not_cached() {
    let (_s, v, hits) = validator(None).await;
    for _ in 0..2 {
        let err = v.validate("opaque").await.unwrap_err();
        assert!(
            matches!(err, ValidationError::ProviderUnavailable(_)),
            "{err}"
        );
        assert_eq!(err.status_code(), 503);
        assert_eq!(err.bearer_error_code(), None);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn audience_is_checked_when_configured_and_cache_can_be_disabled() {
    let (_s, v, hits) = validator(Some(active(now_secs() + 3600))).await;
    let v = v.cache_capacity(0);
    v.clone().audience("api").validate("t").await.unwrap();
    assert!(matches!(
        v.clone().audience("other-api").validate("t").await,
        Err(ValidationError::InvalidAudience { .. })
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}
