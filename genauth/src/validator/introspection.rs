//! [`IntrospectionValidator`]: opaque (or any) tokens checked by asking the provider (RFC 7662), with
//! a cache of its answers.

use super::{DEFAULT_CACHE_CAPACITY, TokenCache, TokenValidator, token_cache};
use crate::claims::Claims;
use crate::clock::now_secs;
use crate::error::ValidationError;
use crate::telemetry::{self, Cache};
use crate::types::sha256;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
            cache: token_cache(DEFAULT_CACHE_CAPACITY),
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
        self.cache = token_cache(entries);
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
        if let (Some(cache), Some(key)) = (&self.cache, &key)
            && let Some(entry) = cache.get(key)
        {
            if Instant::now() < entry.until {
                telemetry::cache_lookup(Cache::Introspection, true);
                return Ok(entry.result);
            }
            cache.remove(key);
        }
        if self.cache.is_some() {
            telemetry::cache_lookup(Cache::Introspection, false);
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
        if let (Some(cache), Some(key)) = (&self.cache, key)
            && let Some(until) = Instant::now().checked_add(ttl).filter(|_| !ttl.is_zero())
        {
            cache.insert(
                key,
                CacheEntry {
                    result: result.clone(),
                    until,
                },
            );
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
        if let Some(audience) = &self.audience
            && !claims.aud.iter().any(|a| a == audience)
        {
            return Err(ValidationError::InvalidAudience {
                expected: vec![audience.clone()],
            });
        }
        Ok(claims)
    }
}

/// [`IntrospectionValidator`] against a mock introspection endpoint.
#[cfg(test)]
mod tests;
