//! [`JwksValidator`]: JWT access tokens checked locally against the provider's keys, with a cache of
//! verified tokens.

use super::{DEFAULT_CACHE_CAPACITY, TokenCache, TokenValidator, token_cache};
use crate::claims::{Claims, ExtraClaims};
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
            cache: token_cache(DEFAULT_CACHE_CAPACITY),
        }
    }

    /// Sets how many verified tokens are remembered (`0` disables the cache: every request verifies
    /// the signature). Replaces the cache, dropping what it held.
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache = token_cache(entries);
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
        let key = sha256(token.as_bytes());
        if let Some(claims) = cache.get(&key) {
            // The entry must not outlive the token (RFC 7519 §4.1.4): `exp` is checked on every hit.
            if claims.exp.is_some_and(|exp| now_secs() < exp) {
                // A key-bound token verified with its proof is cached too; presented as a plain
                // bearer token it is still refused (RFC 9449 §7.1).
                if !key_bound && claims.extra.contains_key("cnf") {
                    return Err(ValidationError::KeyBound);
                }
                tracing::trace!("token found in the verified-token cache");
                telemetry::cache_lookup(Cache::VerifiedToken, true);
                return Ok(claims);
            }
            cache.remove(&key);
        }
        telemetry::cache_lookup(Cache::VerifiedToken, false);
        let claims = Arc::new(verify().await?);
        cache.insert(key, Arc::clone(&claims));
        Ok(claims)
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
}

/// Cache behaviour of [`JwksValidator`], with keys rotated behind a mock `jwks_uri`.
#[cfg(all(test, feature = "testing"))]
mod tests;
