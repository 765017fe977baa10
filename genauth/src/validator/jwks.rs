//! [`JwksValidator`]: JWT access tokens checked locally against the provider's keys, with a cache of
//! verified tokens.

use super::{DEFAULT_CACHE_CAPACITY, TokenValidator};
use crate::claims::{Claims, ExtraClaims, estimated_bytes};
use crate::clock::now_secs;
use crate::error::ValidationError;
use crate::jwt::JwtVerifier;
use crate::telemetry::{self, Cache};
use crate::types::sha256;
use std::fmt;
use std::sync::Arc;

/// Validates JWT access tokens locally with a [`JwtVerifier`] (signature against the provider's JWKS,
/// `iss`, `aud`, `exp`, `nbf`, `iat`; RFC 9068), remembering verified tokens.
///
/// A bounded cache keyed by the token's SHA-256 lets a token seen before skip signature
/// verification: a hit is a hash, a lookup and an `exp` check, and hands out the cached `Arc` (the
/// claims are never copied). An entry is checked against the token's `exp` on every hit, so it
/// never outlives the token. Tokens that fail are not cached. A key removed from the JWKS does not
/// evict tokens it verified before they expire.
///
/// # Memory bound
/// The cache holds at most [`cache_capacity`](Self::cache_capacity) tokens (default
/// [`DEFAULT_CACHE_CAPACITY`]) and at most [`cache_memory`](Self::cache_memory) bytes of cached
/// claims (default [`DEFAULT_CACHE_BYTES`](Self::DEFAULT_CACHE_BYTES), 2 MiB), whichever is
/// reached first. An entry is weighed by an estimate of what it holds (the claims struct, each of
/// its strings and JSON values, rounded up as a heap allocator does, plus the key and the cache's
/// own bookkeeping): typical access tokens weigh 600–900 bytes, so the default keeps some 2 500
/// of them. Under a stream of new tokens the cache's memory stays at the bound.
///
/// `Clone` is cheap and clones share the cache.
#[derive(Clone)]
pub struct JwksValidator {
    verifier: JwtVerifier,
    entries: usize,
    bytes: usize,
    cache: Option<Arc<VerifiedCache>>,
}

/// A cached verification: the claims handed out on a hit, and the entry's weight (computed once).
#[derive(Clone)]
struct Verified {
    claims: Arc<Claims>,
    weight: u64,
    /// The token carries `cnf`: a hit on the plain-bearer path is refused.
    key_bound: bool,
}

/// Weighs an entry by its estimated memory (see [`JwksValidator`]'s memory bound).
#[derive(Clone)]
struct ByWeight;

impl quick_cache::Weighter<[u8; 32], Verified> for ByWeight {
    fn weight(&self, _: &[u8; 32], entry: &Verified) -> u64 {
        entry.weight
    }
}

type VerifiedCache = quick_cache::sync::Cache<[u8; 32], Verified, ByWeight>;

/// Bytes per entry besides the claims: the SHA-256 key, the `Arc` and weight, and the cache's slot.
const ENTRY_OVERHEAD_BYTES: usize = 32 + 16 + 32;

/// The cache for at most `entries` tokens and `bytes` of them, or none when either is `0`. Every
/// entry weighs at least `bytes / entries`, so the weight bound also bounds the count.
fn verified_cache(entries: usize, bytes: usize) -> Option<Arc<VerifiedCache>> {
    (entries > 0 && bytes > 0).then(|| {
        Arc::new(VerifiedCache::with_weighter(
            entries.min(bytes / 256).max(1),
            bytes as u64,
            ByWeight,
        ))
    })
}

impl fmt::Debug for JwksValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksValidator")
            .field("verifier", &self.verifier)
            .field(
                "cache_capacity",
                &self.cache.as_ref().map_or(0, |_| self.entries),
            )
            .field(
                "cache_memory",
                &self.cache.as_ref().map_or(0, |_| self.bytes),
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
            entries: DEFAULT_CACHE_CAPACITY,
            bytes: Self::DEFAULT_CACHE_BYTES,
            cache: verified_cache(DEFAULT_CACHE_CAPACITY, Self::DEFAULT_CACHE_BYTES),
        }
    }

    /// Default bound on the memory of the verified-token cache, in bytes: 2 MiB.
    pub const DEFAULT_CACHE_BYTES: usize = 2 * 1024 * 1024;

    /// Sets how many verified tokens are remembered at most (`0` disables the cache: every request
    /// verifies the signature). Replaces the cache, dropping what it held.
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.entries = entries;
        self.cache = verified_cache(entries, self.bytes);
        self
    }

    /// Sets the most memory the verified-token cache may hold, in bytes (estimated as the type docs
    /// say; `0` disables the cache). Replaces the cache, dropping what it held.
    #[must_use]
    pub fn cache_memory(mut self, bytes: usize) -> Self {
        self.bytes = bytes;
        self.cache = verified_cache(self.entries, bytes);
        self
    }

    /// Former name of [`cache_capacity`](Self::cache_capacity): setters are named after the
    /// setting, `with_` is for constructors.
    #[deprecated(since = "0.1.1", note = "renamed to `cache_capacity`")]
    #[must_use]
    pub fn with_cache_capacity(self, entries: usize) -> Self {
        self.cache_capacity(entries)
    }

    /// The verifier this validator uses.
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }
}

impl JwksValidator {
    /// The cached or freshly verified claims; `key_bound`: the token came with a proof of
    /// possession, so `cnf` is accepted (RFC 9449 §7.1).
    async fn validate_bound(
        &self,
        token: &str,
        key_bound: bool,
    ) -> Result<Arc<Claims>, ValidationError> {
        let verify = || async {
            if key_bound {
                self.verifier.verify_key_bound::<ExtraClaims>(token).await
            } else {
                self.verifier.verify::<ExtraClaims>(token).await
            }
        };
        let Some(cache) = &self.cache else {
            return verify().await.map(Arc::new);
        };
        // Not a compact JWS: refused before hashing it for the cache.
        self.verifier.check_compact_shape(token)?;
        let key = sha256(token.as_bytes());
        if let Some(answer) = Self::cached(cache, &key, key_bound) {
            return answer;
        }
        let claims = Arc::new(verify().await?);
        // At least `bytes / entries`, so that the weight bound also bounds the number of entries.
        let floor = self.bytes / self.entries.max(1);
        let weight = (estimated_bytes(&claims) + ENTRY_OVERHEAD_BYTES).max(floor);
        cache.insert(
            key,
            Verified {
                key_bound: claims.extra.contains_key("cnf"),
                claims: Arc::clone(&claims),
                weight: weight as u64,
            },
        );
        Ok(claims)
    }

    /// The cache's answer for the token hashed to `key`, if it has one: its claims while the token
    /// is unexpired (an expired entry is dropped and the lookup counted as a miss, `None`).
    fn cached(
        cache: &VerifiedCache,
        key: &[u8; 32],
        key_bound: bool,
    ) -> Option<Result<Arc<Claims>, ValidationError>> {
        if let Some(entry) = cache.get(key) {
            // The entry must not outlive the token (RFC 7519 §4.1.4): `exp` is checked on every hit.
            if entry.claims.exp.is_some_and(|exp| now_secs() < exp) {
                // A key-bound token verified with its proof is cached too; presented as a plain
                // bearer token it is still refused (RFC 9449 §7.1).
                if entry.key_bound && !key_bound {
                    return Some(Err(ValidationError::KeyBound));
                }
                tracing::trace!("token found in the verified-token cache");
                telemetry::cache_lookup(Cache::VerifiedToken, true);
                return Some(Ok(entry.claims));
            }
            cache.remove(key);
        }
        telemetry::cache_lookup(Cache::VerifiedToken, false);
        None
    }
}

#[async_trait::async_trait]
impl TokenValidator for JwksValidator {
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.validate_bound(token, false).await
    }

    async fn validate_key_bound(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.validate_bound(token, true).await
    }

    /// A cache hit, or a token that is not a compact JWS; `None` otherwise (and without a cache).
    /// A miss is counted by the `validate` that follows, not here.
    fn validate_now(&self, token: &str) -> Option<Result<Arc<Claims>, ValidationError>> {
        let cache = self.cache.as_ref()?;
        if let Err(error) = self.verifier.check_compact_shape(token) {
            return Some(Err(error));
        }
        let entry = cache.get(&sha256(token.as_bytes()))?;
        if entry.claims.exp.is_none_or(|exp| now_secs() >= exp) {
            return None;
        }
        if entry.key_bound {
            return Some(Err(ValidationError::KeyBound));
        }
        tracing::trace!("token found in the verified-token cache");
        telemetry::cache_lookup(Cache::VerifiedToken, true);
        Some(Ok(entry.claims))
    }
}

/// Cache behaviour of [`JwksValidator`], with keys rotated behind a mock `jwks_uri`.
#[cfg(all(test, feature = "testing"))]
mod tests;
