//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
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
    let hits = Arc::new(AtomicUsize::new(0));
    let endpoint = Endpoint {
        body,
        hits: Arc::clone(&hits),
    };
    let (server, validator) = validator_with(endpoint).await;
    (server, validator, hits)
}

/// A validator whose introspection endpoint is `responder`.
async fn validator_with(responder: impl Respond + 'static) -> (MockServer, IntrospectionValidator) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token/introspection"))
        .respond_with(responder)
        .mount(&server)
        .await;
    let config = crate::ClientConfig::builder("app")
        .client_secret("secret")
        .app_host(server.uri())
        .build()
        .unwrap();
    let client = crate::Client::new(config).unwrap();
    (server, IntrospectionValidator::new(client))
}

fn active(exp: u64) -> serde_json::Value {
    serde_json::json!({
        "active": true, "sub": "u1", "client_id": "app", "scope": "read", "exp": exp,
        "token_type": "Bearer"
    })
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
async fn provider_failure_is_503_and_remembered_for_a_second() {
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
    // The immediate retry shares the failure instead of calling (and waiting) again.
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    tokio::time::sleep(FAILURE_TTL + Duration::from_millis(100)).await;
    v.validate("opaque").await.unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn audience_is_checked_when_configured_and_cache_can_be_disabled() {
    let mut answer = active(now_secs() + 3600);
    answer["aud"] = serde_json::json!(["api", "other"]);
    let (_s, v, hits) = validator(Some(answer)).await;
    let v = v.cache_capacity(0);
    v.clone().audience("api").validate("t").await.unwrap();
    // With `aud` in the answer, the default audience is the app's client ID.
    assert!(matches!(
        v.validate("t").await,
        Err(ValidationError::InvalidAudience { .. })
    ));
    assert!(matches!(
        v.clone().audience("other-api").validate("t").await,
        Err(ValidationError::InvalidAudience { .. })
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

/// An answer like `active`, changed by `change`.
fn answer(
    change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> serde_json::Value {
    let mut answer = active(now_secs() + 3600);
    if let Some(map) = answer.as_object_mut() {
        change(map);
    }
    answer
}

#[tokio::test]
async fn answers_must_name_this_api_and_an_access_token() {
    let refused = |name: &'static str,
                   change: fn(&mut serde_json::Map<String, serde_json::Value>)| async move {
        let (_s, v, _) = validator(Some(answer(change))).await;
        v.validate("t").await.map(|_| ()).map_err(|e| (name, e))
    };
    // Another client's token (no `aud`): refused unless any client is accepted.
    let (_s, v, _) = validator(Some(answer(|a| {
        a.insert("client_id".into(), "other-app".into());
    })))
    .await;
    assert!(matches!(
        v.clone().validate("t").await,
        Err(ValidationError::ForeignClient)
    ));
    v.accept_any_client(true).validate("t").await.unwrap();
    // A refresh token: without `token_type` (oidc-provider), or with another one.
    for (name, change) in [
        (
            "no token_type",
            (|a| {
                a.remove("token_type");
            }) as fn(&mut serde_json::Map<String, serde_json::Value>),
        ),
        ("refresh_token", |a| {
            a.insert("token_type".into(), "refresh_token".into());
        }),
    ] {
        let result = refused(name, change).await;
        assert!(
            matches!(result, Err((_, ValidationError::InvalidTokenType { .. }))),
            "{name}"
        );
    }
    let (_s, v, _) = validator(Some(answer(|a| {
        a.remove("token_type");
    })))
    .await;
    v.require_token_type(false).validate("t").await.unwrap();
    // Bound to a key: not a plain bearer token.
    let result = refused("cnf", |a| {
        a.insert("cnf".into(), serde_json::json!({"jkt": "thumbprint"}));
    })
    .await;
    assert!(matches!(result, Err((_, ValidationError::KeyBound))));
}

#[tokio::test]
async fn malformed_and_oversized_tokens_cost_no_call() {
    let (_s, v, hits) = validator(Some(active(now_secs() + 3600))).await;
    for token in [
        String::new(),
        "has space".into(),
        "quote\"".into(),
        "x".repeat(MAX_INTROSPECTED_TOKEN_BYTES + 1),
    ] {
        assert!(matches!(
            v.validate(&token).await,
            Err(ValidationError::Malformed(_))
        ));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// A provider that answers `active` after `delay`, counting calls.
async fn slow_validator(delay: Duration) -> (MockServer, IntrospectionValidator, Arc<AtomicUsize>) {
    struct Slow {
        hits: Arc<AtomicUsize>,
        delay: Duration,
    }
    impl Respond for Slow {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            self.hits.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200)
                .set_body_json(active(now_secs() + 3600))
                .set_delay(self.delay)
        }
    }
    let hits = Arc::new(AtomicUsize::new(0));
    let slow = Slow {
        hits: Arc::clone(&hits),
        delay,
    };
    let (server, validator) = validator_with(slow).await;
    (server, validator, hits)
}

#[tokio::test]
async fn concurrent_requests_with_one_token_share_one_call() {
    let (_s, v, hits) = slow_validator(Duration::from_millis(300)).await;
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let v = v.clone();
            tokio::spawn(async move { v.validate("same-token").await.map(|_| ()) })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn calls_in_flight_are_bounded_and_the_excess_is_503() {
    let (_s, v, hits) = slow_validator(Duration::from_millis(300)).await;
    let v = v.max_concurrent_calls(2);
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let v = v.clone();
            tokio::spawn(async move { v.validate(&format!("token-{i}")).await.map(|_| ()) })
        })
        .collect();
    let mut overloaded = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(()) => {}
            Err(ValidationError::Overloaded) => overloaded += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((hits.load(Ordering::SeqCst), overloaded), (2, 4));
    assert_eq!(ValidationError::Overloaded.status_code(), 503);
}

/// RFC 9449 §6.2, §7.1: with a proof, a `cnf` answer with `token_type` `DPoP` is accepted (the
/// bearer layer then checks `cnf.jkt`); the same cached answer as a plain bearer token is not.
#[tokio::test]
async fn key_bound_answers_need_the_key_bound_path() {
    let mut body = active(now_secs() + 3600);
    body["token_type"] = "DPoP".into();
    body["cnf"] = serde_json::json!({"jkt": "thumbprint"});
    let (_s, v, hits) = validator(Some(body)).await;
    let claims = v.validate_key_bound("t").await.unwrap();
    assert_eq!(claims.extra["cnf"]["jkt"], "thumbprint");
    assert!(matches!(
        v.validate("t").await,
        Err(ValidationError::InvalidTokenType { .. })
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one call, then the cache");
}
