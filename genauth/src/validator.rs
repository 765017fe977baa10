//! Token validation for APIs: the [`TokenValidator`] trait the adapters' bearer layers call, its two
//! implementations ([`JwksValidator`] for JWT access tokens, [`IntrospectionValidator`] for opaque
//! tokens, RFC 7662), and [`ValidationError`].
//!
//! Both validators keep a bounded cache keyed by the SHA-256 of the token, so the per-request path
//! makes no network call and, for a token seen before, no signature check. A cached entry never
//! outlives the token's `exp`.
//!
//! Any closure `Fn(String) -> impl Future<Output = Result<Claims, ValidationError>>` is a validator
//! too:
//!
//! ```
//! use genauth::validator::{TokenValidator, ValidationError};
//! use genauth::Claims;
//!
//! let validator = |token: String| async move {
//!     if token == "let-me-in" {
//!         Ok(Claims { sub: Some("alice".into()), ..Default::default() })
//!     } else {
//!         Err(ValidationError::Rejected("unknown token".into()))
//!     }
//! };
//! # async fn check(v: impl TokenValidator) { let _ = v.validate("let-me-in").await; }
//! # let _ = check(validator);
//! ```

use crate::claims::{Claims, ExtraClaims};
// Also the path `testing.rs` imports the clock by (until it switches to `crate::clock`).
pub(crate) use crate::clock::now_secs;
pub use crate::error::ValidationError;
use crate::jwt::JwtVerifier;
use crate::types::sha256;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Default number of tokens a validator's cache holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Checks a bearer token and returns its claims: what the adapters' bearer layers call on every
/// request.
///
/// Implemented by [`JwksValidator`] (JWT access tokens, checked locally against the provider's keys),
/// [`IntrospectionValidator`] (opaque tokens, RFC 7662), and any closure
/// `Fn(String) -> impl Future<Output = Result<Claims, ValidationError>>`.
#[async_trait::async_trait]
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token` (the bare token, without `Bearer `).
    ///
    /// # Errors
    /// A [`ValidationError`]: [`status_code`](ValidationError::status_code) 401 when the token is
    /// bad, 503 when it could not be checked.
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError>;
}

#[async_trait::async_trait]
impl<F, Fut> TokenValidator for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Claims, ValidationError>> + Send,
{
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        (self)(token.to_owned()).await.map(Arc::new)
    }
}

type TokenCache<V> = quick_cache::sync::Cache<[u8; 32], V>;

/// Validates JWT access tokens locally with a [`JwtVerifier`] (signature against the provider's JWKS,
/// `iss`, `aud`, `exp`, `nbf`, `iat`; RFC 9068), remembering verified tokens.
///
/// A bounded cache (default [`DEFAULT_CACHE_CAPACITY`] tokens, keyed by the token's SHA-256) lets a
/// token seen before skip signature verification; an entry is checked against the token's `exp` on
/// every hit, so it never outlives the token. Tokens that fail are not cached. A key removed from the
/// JWKS does not evict tokens it verified before they expire.
///
/// `Clone` is cheap and clones share the cache.
#[derive(Clone)]
pub struct JwksValidator {
    verifier: JwtVerifier,
    cache: Option<Arc<TokenCache<Arc<Claims>>>>,
}

impl fmt::Debug for JwksValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksValidator")
            .field("verifier", &self.verifier)
            .field(
                "cache_capacity",
                &self.cache.as_ref().map_or(0, |c| c.capacity()),
            )
            .finish()
    }
}

impl JwksValidator {
    /// A validator that checks tokens with `verifier` and caches up to [`DEFAULT_CACHE_CAPACITY`]
    /// verified tokens.
    pub fn new(verifier: JwtVerifier) -> Self {
        Self {
            verifier,
            cache: Some(Arc::new(TokenCache::new(DEFAULT_CACHE_CAPACITY))),
        }
    }

    /// Sets how many verified tokens are remembered (`0` disables the cache: every request verifies
    /// the signature). Replaces the cache, dropping what it held.
    #[must_use]
    pub fn with_cache_capacity(mut self, entries: usize) -> Self {
        self.cache = (entries > 0).then(|| Arc::new(TokenCache::new(entries)));
        self
    }

    /// The verifier this validator uses.
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }
}

#[async_trait::async_trait]
impl TokenValidator for JwksValidator {
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        let Some(cache) = &self.cache else {
            return self
                .verifier
                .verify::<ExtraClaims>(token)
                .await
                .map(Arc::new);
        };
        let key = sha256(token.as_bytes());
        if let Some(claims) = cache.get(&key) {
            // The entry must not outlive the token (RFC 7519 §4.1.4): `exp` is checked on every hit.
            if claims.exp.is_some_and(|exp| now_secs() < exp) {
                tracing::trace!("token found in the verified-token cache");
                return Ok(claims);
            }
            cache.remove(&key);
        }
        let claims = Arc::new(self.verifier.verify::<ExtraClaims>(token).await?);
        cache.insert(key, Arc::clone(&claims));
        Ok(claims)
    }
}

/// An introspection result as cached: the claims of an active token, or "inactive", until `until`.
#[derive(Clone)]
enum Cached {
    Active(Arc<Claims>),
    Inactive,
}

#[derive(Clone)]
struct CacheEntry {
    result: Cached,
    until: Instant,
}

/// Validates opaque (or any) tokens by asking the provider (RFC 7662 token introspection, through
/// [`Client::introspect`](crate::Client::introspect)), caching answers.
///
/// A bounded cache keyed by the token's SHA-256 keeps an active token's claims for
/// min([`max_cache_ttl`](Self::max_cache_ttl), `exp` − now), and an inactive answer for
/// [`inactive_ttl`](Self::inactive_ttl). A failed call is not cached; it gives
/// [`ValidationError::ProviderUnavailable`] (503). Concurrent first requests with the same token may
/// each call the provider (a failure then never makes callers queue behind one another).
///
/// **Audience**: the provider only says whether the token is active, for *some* client of the tenant.
/// Unless [`audience`](Self::audience) is set, a token issued for another API of the same provider
/// is accepted too. Set it whenever the provider puts `aud` in its introspection answers (RFC 8707
/// resources do); GenAuth's answers carry `client_id` but no `aud`, which is why it is not required.
///
/// `Clone` is cheap and clones share the cache.
#[derive(Clone)]
pub struct IntrospectionValidator {
    client: crate::Client,
    audience: Option<String>,
    max_cache_ttl: Duration,
    inactive_ttl: Duration,
    cache: Option<Arc<TokenCache<CacheEntry>>>,
}

impl fmt::Debug for IntrospectionValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("client", &self.client)
            .field("audience", &self.audience)
            .field("max_cache_ttl", &self.max_cache_ttl)
            .field("inactive_ttl", &self.inactive_ttl)
            .field(
                "cache_capacity",
                &self.cache.as_ref().map_or(0, |c| c.capacity()),
            )
            .finish()
    }
}

impl IntrospectionValidator {
    /// A validator introspecting with `client` (its introspection endpoint and client
    /// authentication), caching up to [`DEFAULT_CACHE_CAPACITY`] answers, active ones for at most
    /// 5 minutes, inactive ones for 10 seconds, with no audience check.
    pub fn new(client: crate::Client) -> Self {
        Self {
            client,
            audience: None,
            max_cache_ttl: Duration::from_secs(300),
            inactive_ttl: Duration::from_secs(10),
            cache: Some(Arc::new(TokenCache::new(DEFAULT_CACHE_CAPACITY))),
        }
    }

    /// Also requires the introspected `aud` to contain this audience (RFC 7662 §2.2, RFC 7519 §4.1.3);
    /// otherwise [`ValidationError::InvalidAudience`].
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets how many answers are remembered (`0` disables the cache: every request calls the
    /// provider). Replaces the cache, dropping what it held.
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache = (entries > 0).then(|| Arc::new(TokenCache::new(entries)));
        self
    }

    /// Longest time an active answer is reused (default 5 minutes); never past the token's `exp`.
    /// A revoked token stays accepted by this instance for at most this long.
    #[must_use]
    pub fn max_cache_ttl(mut self, ttl: Duration) -> Self {
        self.max_cache_ttl = ttl;
        self
    }

    /// How long an inactive answer is reused (default 10 seconds), so a flood of bad tokens does not
    /// become a flood of provider calls.
    #[must_use]
    pub fn inactive_ttl(mut self, ttl: Duration) -> Self {
        self.inactive_ttl = ttl;
        self
    }

    /// The answer for a token, from the cache or the provider.
    async fn lookup(&self, token: &str) -> Result<Cached, ValidationError> {
        let key = self.cache.as_ref().map(|_| sha256(token.as_bytes()));
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            if let Some(entry) = cache.get(key) {
                if Instant::now() < entry.until {
                    return Ok(entry.result);
                }
                cache.remove(key);
            }
        }
        let introspection = self
            .client
            .introspect(token, None)
            .await
            .map_err(|e| ValidationError::ProviderUnavailable(Box::new(e)))?;
        // Time left until `exp`, to the sub-second, so the entry dies with the token. An `exp` beyond
        // what the clock represents (hostile or broken provider) counts as far away: the cache TTL caps it.
        let left = |exp: u64| match UNIX_EPOCH.checked_add(Duration::from_secs(exp)) {
            Some(at) => at
                .duration_since(SystemTime::now())
                .ok()
                .filter(|left| !left.is_zero()),
            None => Some(self.max_cache_ttl),
        };
        // RFC 7662 §2.2: `active` is the answer; an `exp` already past makes it inactive regardless.
        let (result, ttl) = match introspection.claims.exp.map(left) {
            _ if !introspection.active => (Cached::Inactive, self.inactive_ttl),
            Some(None) => (Cached::Inactive, self.inactive_ttl),
            Some(Some(left)) => (
                Cached::Active(Arc::new(introspection.claims)),
                self.max_cache_ttl.min(left),
            ),
            None => (
                Cached::Active(Arc::new(introspection.claims)),
                self.max_cache_ttl,
            ),
        };
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            if let Some(until) = Instant::now().checked_add(ttl).filter(|_| !ttl.is_zero()) {
                cache.insert(
                    key,
                    CacheEntry {
                        result: result.clone(),
                        until,
                    },
                );
            }
        }
        Ok(result)
    }
}

#[async_trait::async_trait]
impl TokenValidator for IntrospectionValidator {
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        let claims = match self.lookup(token).await? {
            Cached::Active(claims) => claims,
            Cached::Inactive => return Err(ValidationError::Inactive),
        };
        // The cached entry lives at most until `exp`; checked again so a clock jump cannot extend it.
        if claims.exp.is_some_and(|exp| exp <= now_secs()) {
            return Err(ValidationError::Inactive);
        }
        if let Some(audience) = &self.audience {
            if !claims.aud.iter().any(|a| a == audience) {
                return Err(ValidationError::InvalidAudience {
                    expected: vec![audience.clone()],
                });
            }
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closures_are_validators() {
        let validator = |token: String| async move {
            if token == "good" {
                Ok(Claims {
                    sub: Some("u1".into()),
                    ..Default::default()
                })
            } else {
                Err(ValidationError::Rejected("nope".into()))
            }
        };
        let v: Arc<dyn TokenValidator> = Arc::new(validator);
        assert_eq!(v.validate("good").await.unwrap().sub.as_deref(), Some("u1"));
        assert!(matches!(
            v.validate("bad").await,
            Err(ValidationError::Rejected(_))
        ));
    }
}

/// Cache behaviour of [`JwksValidator`], with keys rotated behind a mock `jwks_uri`.
#[cfg(all(test, feature = "testing"))]
mod jwks_validator_tests {
    use super::*;
    use crate::jwks::JwksCache;
    use crate::testing::TestIssuer;
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
        let uncached = JwksValidator::new(verifier.clone()).with_cache_capacity(0);
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
}

/// [`IntrospectionValidator`] against a mock introspection endpoint.
#[cfg(test)]
mod introspection_tests {
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
}
