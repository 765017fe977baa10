//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::testing::TestIssuer;
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Serves whatever JWKS the test puts in `jwks`, or a 500 when `down`, counting requests.
#[derive(Clone, Default)]
struct Provider {
    jwks: Arc<Mutex<serde_json::Value>>,
    down: Arc<std::sync::atomic::AtomicBool>,
    hits: Arc<AtomicUsize>,
    delay: Duration,
    cache_control: Option<&'static str>,
}

impl Respond for Provider {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.hits.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return ResponseTemplate::new(500);
        }
        let mut response = ResponseTemplate::new(200)
            .set_body_json(self.jwks.lock().unwrap().clone())
            .set_delay(self.delay);
        if let Some(cc) = self.cache_control {
            response = response.insert_header("cache-control", cc);
        }
        response
    }
}

impl Provider {
    fn serve(&self, issuer: &TestIssuer) {
        *self.jwks.lock().unwrap() = serde_json::to_value(issuer.jwks()).unwrap();
    }
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn start(provider: &Provider) -> (MockServer, Url) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(provider.clone())
        .mount(&server)
        .await;
    let uri = Url::parse(&format!("{}/jwks", server.uri())).unwrap();
    (server, uri)
}

fn options() -> JwksOptions {
    JwksOptions {
        refetch_cooldown: Duration::from_secs(3600),
        failure_cooldown: Duration::ZERO,
        ..JwksOptions::default()
    }
}

#[tokio::test]
async fn first_use_fetches_once_and_hot_path_does_not_fetch() {
    let issuer = TestIssuer::new();
    let provider = Provider::default();
    provider.serve(&issuer);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(reqwest::Client::new(), uri, options());
    assert_eq!(provider.hits(), 0, "no fetch at construction");
    for _ in 0..5 {
        cache
            .key_for(Some(issuer.kid()), Algorithm::ES256)
            .await
            .unwrap();
    }
    assert_eq!(provider.hits(), 1);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let issuer = TestIssuer::new();
    let provider = Provider {
        delay: Duration::from_millis(200),
        ..Provider::default()
    };
    provider.serve(&issuer);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(reqwest::Client::new(), uri, options());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let cache = cache.clone();
        let kid = issuer.kid().to_owned();
        tasks.spawn(async move {
            cache
                .key_for(Some(&kid), Algorithm::ES256)
                .await
                .map(|_| ())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(provider.hits(), 1);
}

#[tokio::test]
async fn a_foreign_issuer_never_costs_a_download() {
    let ours = TestIssuer::new();
    let provider = Provider::default();
    provider.serve(&ours);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(reqwest::Client::new(), uri, options());
    let verifier = crate::JwtVerifier::builder(ours.issuer())
        .audience(ours.audience())
        .jwks(cache)
        .build()
        .unwrap();
    // Another issuer's token with an unknown kid: refused on its claimed `iss`, no download, so
    // the unknown-kid refetch stays available for a real rotation.
    let foreign = TestIssuer::new().with_issuer("https://elsewhere.example");
    for _ in 0..5 {
        let err = verifier
            .verify::<crate::ExtraClaims>(&foreign.mint(serde_json::json!({})))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ValidationError::InvalidIssuer { .. }),
            "{err:?}"
        );
    }
    assert_eq!(provider.hits(), 0);
    verifier
        .verify::<crate::ExtraClaims>(&ours.mint(serde_json::json!({})))
        .await
        .unwrap();
    assert_eq!(provider.hits(), 1);
}

#[tokio::test]
async fn unknown_kid_refetches_behind_the_cooldown() {
    let old = TestIssuer::new();
    let rotated = TestIssuer::new();
    let provider = Provider::default();
    provider.serve(&old);
    let (_server, uri) = start(&provider).await;

    // Long cooldown: the first unknown kid refetches once (the initial download does not count),
    // then a flood of made-up kids refetches nothing more, even when the keys really rotate.
    let cache = JwksCache::with_options(reqwest::Client::new(), uri.clone(), options());
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    for _ in 0..10 {
        assert!(matches!(
            cache.key_for(Some("made-up"), Algorithm::ES256).await,
            Err(ValidationError::UnknownKey { .. })
        ));
    }
    assert_eq!(provider.hits(), 2, "one refetch, then the cooldown holds");
    provider.serve(&rotated);
    assert!(matches!(
        cache.key_for(Some(rotated.kid()), Algorithm::ES256).await,
        Err(ValidationError::UnknownKey { .. })
    ));
    assert_eq!(provider.hits(), 2, "cooldown holds refetches back");

    // A rotation right after the first download is picked up at once.
    let fresh = JwksCache::with_options(reqwest::Client::new(), uri.clone(), options());
    provider.serve(&old);
    fresh
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    provider.serve(&rotated);
    fresh
        .key_for(Some(rotated.kid()), Algorithm::ES256)
        .await
        .unwrap();

    // Short cooldown: the rotated key is found by one refetch.
    provider.serve(&old);
    let hits = provider.hits();
    let cache = JwksCache::with_options(
        reqwest::Client::new(),
        uri,
        JwksOptions {
            refetch_cooldown: Duration::from_millis(50),
            ..options()
        },
    );
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    provider.serve(&rotated);
    tokio::time::sleep(Duration::from_millis(60)).await;
    cache
        .key_for(Some(rotated.kid()), Algorithm::ES256)
        .await
        .unwrap();
    assert_eq!(provider.hits() - hits, 2);
    // And the old key is gone after the rotation.
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(
        cache
            .key_for(Some(old.kid()), Algorithm::ES256)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_unknown_kid_requests_share_one_refetch() {
    let old = TestIssuer::new();
    let rotated = TestIssuer::new();
    let provider = Provider {
        delay: Duration::from_millis(200),
        ..Provider::default()
    };
    provider.serve(&old);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(
        reqwest::Client::new(),
        uri,
        JwksOptions {
            refetch_cooldown: Duration::ZERO,
            ..options()
        },
    );
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    provider.serve(&rotated);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let cache = cache.clone();
        let kid = rotated.kid().to_owned();
        tasks.spawn(async move {
            cache
                .key_for(Some(&kid), Algorithm::ES256)
                .await
                .map(|_| ())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    // Waiters found the new keys after the lock instead of downloading again.
    assert_eq!(provider.hits(), 2);
}

#[tokio::test]
async fn never_fetched_and_provider_down_is_503() {
    let provider = Provider::default();
    provider.down.store(true, Ordering::SeqCst);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(reqwest::Client::new(), uri, options());
    let err = cache
        .key_for(Some("any"), Algorithm::ES256)
        .await
        .unwrap_err();
    assert!(matches!(err, ValidationError::KeysUnavailable(_)), "{err}");
    assert_eq!(err.status_code(), 503);
    assert_eq!(err.bearer_error_code(), None);
}

#[tokio::test]
async fn failure_cooldown_stops_a_download_storm() {
    let provider = Provider::default();
    provider.down.store(true, Ordering::SeqCst);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(
        reqwest::Client::new(),
        uri,
        JwksOptions {
            failure_cooldown: Duration::from_secs(3600),
            ..options()
        },
    );
    for _ in 0..5 {
        assert!(cache.key_for(Some("any"), Algorithm::ES256).await.is_err());
    }
    assert_eq!(provider.hits(), 1);
}

#[tokio::test]
async fn refresh_ahead_picks_up_new_keys_and_stale_keys_survive_an_outage() {
    let old = TestIssuer::new();
    let rotated = TestIssuer::new();
    let provider = Provider {
        // Freshness clamped to zero: every request finds the set due for refresh.
        cache_control: Some("max-age=0"),
        ..Provider::default()
    };
    provider.serve(&old);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(
        reqwest::Client::new(),
        uri,
        JwksOptions {
            min_max_age: Duration::ZERO,
            ..options()
        },
    );
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    assert_eq!(provider.hits(), 1);

    // Provider down: the known key is still served at once, while a background refresh fails.
    provider.down.store(true, Ordering::SeqCst);
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    wait_for_hits(&provider, 2).await;

    // Provider back with rotated keys: a request for the *known* kid starts the background
    // refresh, which brings the rotated key in; it is then found without any unknown-kid refetch.
    provider.down.store(false, Ordering::SeqCst);
    provider.serve(&rotated);
    // The failed refresh may still be finishing (the provider counted it when it arrived): a
    // request while one is in flight starts none, so ask until one starts (up to 2 s).
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    for _ in 0..200 {
        if provider.hits() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Once the rotated set is in, the old kid is gone: only the refresh matters here.
        let _ = cache.key_for(Some(old.kid()), Algorithm::ES256).await;
    }
    wait_for_hits(&provider, 3).await;
    for _ in 0..100 {
        if cache.inner.keys.load().by_kid.contains_key(rotated.kid()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cache.inner.keys.load().by_kid.contains_key(rotated.kid()));
}

/// Waits (up to 2 s) until the provider has served `hits` requests: background refreshes.
async fn wait_for_hits(provider: &Provider, hits: usize) {
    for _ in 0..200 {
        if provider.hits() >= hits {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("expected {hits} downloads, saw {}", provider.hits());
}

#[tokio::test]
async fn refresh_forces_a_download_and_static_sets_never_fetch() {
    let issuer = TestIssuer::new();
    let provider = Provider::default();
    provider.serve(&issuer);
    let (_server, uri) = start(&provider).await;
    let cache = JwksCache::with_options(reqwest::Client::new(), uri, options());
    cache.refresh().await.unwrap();
    cache.refresh().await.unwrap();
    assert_eq!(provider.hits(), 2);
    provider.down.store(true, Ordering::SeqCst);
    assert!(cache.refresh().await.is_err());
    // Stale keys kept after the failed forced refresh.
    cache
        .key_for(Some(issuer.kid()), Algorithm::ES256)
        .await
        .unwrap();

    let fixed = JwksCache::from_jwk_set(&issuer.jwks()).unwrap();
    fixed.refresh().await.unwrap();
    fixed
        .key_for(Some(issuer.kid()), Algorithm::ES256)
        .await
        .unwrap();
    assert!(fixed.key_for(Some("nope"), Algorithm::ES256).await.is_err());
}

/// A key rotated in the middle of an unknown-`kid` flood fails no request: the tokens with the new
/// `kid` wait for the next download the cooldown allows, and the provider sees one download per
/// cooldown however many requests come.
#[tokio::test]
async fn rotation_during_an_unknown_kid_flood_fails_no_request() {
    let old = TestIssuer::new();
    let rotated = TestIssuer::new();
    let provider = Provider::default();
    provider.serve(&old);
    let (_server, uri) = start(&provider).await;
    let cooldown = Duration::from_millis(400);
    let cache = JwksCache::with_options(
        reqwest::Client::new(),
        uri,
        JwksOptions {
            refetch_cooldown: cooldown,
            unknown_kid_wait: cooldown,
            ..options()
        },
    );
    cache
        .key_for(Some(old.kid()), Algorithm::ES256)
        .await
        .unwrap();
    // The flood: made-up kids use up the refetch the cooldown allows, again and again.
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let cache = cache.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i * 10)).await;
                cache
                    .key_for(Some(&format!("made-up-{i}")), Algorithm::ES256)
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The rotation, then a concurrent burst with the new key.
    provider.serve(&rotated);
    let started = Instant::now();
    let burst: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            let kid = rotated.kid().to_owned();
            tokio::spawn(async move { cache.key_for(Some(&kid), Algorithm::ES256).await })
        })
        .collect();
    for request in burst {
        request.await.unwrap().unwrap();
    }
    assert!(
        started.elapsed() < cooldown * 2,
        "waited at most one cooldown"
    );
    for request in flood {
        assert!(matches!(
            request.await.unwrap(),
            Err(ValidationError::UnknownKey { .. })
        ));
    }
    // The initial download, then at most one per cooldown while the flood and burst ran.
    let elapsed = started.elapsed() + Duration::from_millis(50);
    let allowed = 1 + 1 + (elapsed.as_millis() / cooldown.as_millis()) as usize;
    assert!(provider.hits() <= allowed, "{} downloads", provider.hits());
}
