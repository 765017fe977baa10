//! [`IntrospectionValidator`]: opaque (or any) tokens checked by asking the provider (RFC 7662), with
//! a cache of its answers, one call in flight per token and a bound on calls in flight overall.

use super::{DEFAULT_CACHE_CAPACITY, TokenCache, TokenValidator, token_cache};
use crate::claims::Claims;
use crate::clock::now_secs;
use crate::error::ValidationError;
use crate::introspection::{Introspection, TokenTypeHint};
use crate::telemetry::{self, Cache};
use crate::types::{is_b64token, sha256};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Default longest reuse of an active answer: 30 seconds, the default revocation latency (a token
/// revoked at the provider is refused by this validator at most this long after).
pub const DEFAULT_MAX_CACHE_TTL: Duration = Duration::from_secs(30);

/// Default reuse of an inactive answer: 10 seconds.
pub const DEFAULT_INACTIVE_TTL: Duration = Duration::from_secs(10);

/// Default bound on introspection calls in flight at once, per validator: 32.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 32;

/// Longest token sent to the provider, in bytes; longer ones are refused without a call.
pub const MAX_INTROSPECTED_TOKEN_BYTES: usize = 8 * 1024;

/// How long a failed call is remembered for the same token: its concurrent and immediate retries
/// get the failure (503) instead of queueing behind one another.
const FAILURE_TTL: Duration = Duration::from_secs(1);

/// An introspection result as cached, until its entry's `until`.
#[derive(Clone)]
enum Cached {
    Active(Arc<Claims>),
    Inactive,
    /// The call failed (unreachable, an unusable answer).
    Unavailable(Arc<crate::Error>),
}

#[derive(Clone)]
struct CacheEntry {
    result: Cached,
    until: Instant,
}

/// Validates opaque (or any) tokens by asking the provider (RFC 7662 token introspection, through
/// [`Client::introspect`](crate::Client::introspect)), caching answers.
///
/// # Bound to this API
/// The provider says whether a token is active for *some* client of the tenant; the validator then
/// requires the answer to name this API (RFC 7662 §4, RFC 8707):
/// - an answer with `aud` must contain the expected audience ([`audience`](Self::audience), else the
///   app's client ID), otherwise [`ValidationError::InvalidAudience`];
/// - an answer without `aud` (GenAuth's) must have the app's own `client_id`, otherwise
///   [`ValidationError::ForeignClient`], unless [`accept_any_client`](Self::accept_any_client);
/// - `token_type` must name an access token (`Bearer`; RFC 7662 §2.2, RFC 6750): a refresh token,
///   which providers introspect too, is refused ([`ValidationError::InvalidTokenType`]), as is an
///   answer without `token_type` unless [`require_token_type(false)`](Self::require_token_type);
/// - a token bound to a key (`cnf`, RFC 9449 §7.1) is refused as a plain bearer token
///   ([`ValidationError::KeyBound`]).
///
/// # Under load
/// - Answers are cached in a bounded cache keyed by the token's SHA-256: an active token's claims
///   for min([`max_cache_ttl`](Self::max_cache_ttl), `exp` − now) — the revocation latency, default
///   [`DEFAULT_MAX_CACHE_TTL`] — an inactive answer for [`inactive_ttl`](Self::inactive_ttl).
/// - Concurrent requests with the same token share one call (single flight); a failed call is
///   shared with them, and remembered for a second, as [`ValidationError::ProviderUnavailable`]
///   (503).
/// - At most [`max_concurrent_calls`](Self::max_concurrent_calls) calls are in flight; past that a
///   new token gets [`ValidationError::Overloaded`] (503 with `Retry-After`) at once, never a queue.
/// - A token longer than [`MAX_INTROSPECTED_TOKEN_BYTES`] or outside the RFC 6750 `b64token` syntax
///   is refused ([`ValidationError::Malformed`]) without a call.
///
/// `Clone` is cheap; clones share the cache and the bound.
#[derive(Clone)]
pub struct IntrospectionValidator {
    client: crate::Client,
    audience: Option<String>,
    any_client: bool,
    require_token_type: bool,
    max_cache_ttl: Duration,
    inactive_ttl: Duration,
    cache: Option<Arc<TokenCache<CacheEntry>>>,
    calls: Arc<Semaphore>,
}

impl fmt::Debug for IntrospectionValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("client", &self.client)
            .field("audience", &self.audience)
            .field("any_client", &self.any_client)
            .field("require_token_type", &self.require_token_type)
            .field("max_cache_ttl", &self.max_cache_ttl)
            .field("inactive_ttl", &self.inactive_ttl)
            .field(
                "cache_capacity",
                &self.cache.as_ref().map_or(0, |c| c.capacity()),
            )
            .finish_non_exhaustive()
    }
}

impl IntrospectionValidator {
    /// A validator introspecting with `client` (its introspection endpoint and client
    /// authentication), bound to the app's client ID, caching up to [`DEFAULT_CACHE_CAPACITY`]
    /// answers (active ones for at most [`DEFAULT_MAX_CACHE_TTL`], inactive ones for
    /// [`DEFAULT_INACTIVE_TTL`]), with at most [`DEFAULT_MAX_CONCURRENT_CALLS`] calls in flight.
    pub fn new(client: crate::Client) -> Self {
        Self {
            client,
            audience: None,
            any_client: false,
            require_token_type: true,
            max_cache_ttl: DEFAULT_MAX_CACHE_TTL,
            inactive_ttl: DEFAULT_INACTIVE_TTL,
            cache: token_cache(DEFAULT_CACHE_CAPACITY),
            calls: Arc::new(Semaphore::new(DEFAULT_MAX_CONCURRENT_CALLS)),
        }
    }

    /// The audience an answer's `aud` must contain (RFC 7662 §2.2, RFC 7519 §4.1.3; an RFC 8707
    /// resource identifier, say); default: the app's client ID.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Accept answers without `aud` whatever their `client_id` (default `false`: only the app's own
    /// tokens). For an API that serves tokens issued to other clients of the tenant and whose
    /// provider puts no `aud` in introspection answers; any active token of the tenant then passes.
    #[must_use]
    pub fn accept_any_client(mut self, accept: bool) -> Self {
        self.any_client = accept;
        self
    }

    /// Whether an answer must carry `token_type` (default `true`), so that a refresh token, which
    /// some providers introspect without one, is not taken for an access token.
    #[must_use]
    pub fn require_token_type(mut self, required: bool) -> Self {
        self.require_token_type = required;
        self
    }

    /// Sets how many answers are remembered (`0` disables the cache, and with it the sharing of
    /// calls: every request calls the provider). Replaces the cache, dropping what it held.
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache = token_cache(entries);
        self
    }

    /// Longest time an active answer is reused (default [`DEFAULT_MAX_CACHE_TTL`]); never past the
    /// token's `exp`. This is the revocation latency: a revoked token stays accepted by this
    /// instance for at most this long.
    #[must_use]
    pub fn max_cache_ttl(mut self, ttl: Duration) -> Self {
        self.max_cache_ttl = ttl;
        self
    }

    /// How long an inactive answer is reused (default [`DEFAULT_INACTIVE_TTL`]), so a flood of bad
    /// tokens does not become a flood of provider calls.
    #[must_use]
    pub fn inactive_ttl(mut self, ttl: Duration) -> Self {
        self.inactive_ttl = ttl;
        self
    }

    /// The most introspection calls in flight at once (default [`DEFAULT_MAX_CONCURRENT_CALLS`],
    /// at least 1); past it, new tokens get [`ValidationError::Overloaded`] (503).
    #[must_use]
    pub fn max_concurrent_calls(mut self, calls: usize) -> Self {
        self.calls = Arc::new(Semaphore::new(calls.max(1)));
        self
    }

    /// The answer for a token: from the cache, from a call already in flight for it, or from a new
    /// call.
    async fn lookup(&self, token: &str) -> Result<Cached, ValidationError> {
        let Some(cache) = &self.cache else {
            return Ok(self.call(token).await?.0);
        };
        let key = sha256(token.as_bytes());
        let guard = loop {
            match cache.get_value_or_guard_async(&key).await {
                Ok(entry) if Instant::now() < entry.until => {
                    telemetry::cache_lookup(Cache::Introspection, true);
                    return Ok(entry.result);
                }
                // Expired: drop it (unless another request already replaced it) and compete for
                // the guard again.
                Ok(stale) => {
                    cache.remove_if(&key, |current| current.until == stale.until);
                }
                Err(guard) => break guard,
            }
        };
        telemetry::cache_lookup(Cache::Introspection, false);
        // Overloaded: the guard goes unfilled, the next waiter tries for itself.
        let (result, ttl) = self.call(token).await?;
        if let Some(until) = Instant::now().checked_add(ttl).filter(|_| !ttl.is_zero()) {
            let _ = guard.insert(CacheEntry {
                result: result.clone(),
                until,
            });
        }
        Ok(result)
    }

    /// One call to the provider, within the bound on calls in flight, and how long its answer may
    /// be reused.
    async fn call(&self, token: &str) -> Result<(Cached, Duration), ValidationError> {
        let Ok(_permit) = self.calls.try_acquire() else {
            tracing::warn!("introspection refused: too many calls in flight");
            return Err(ValidationError::Overloaded);
        };
        match self
            .client
            .introspect(token, Some(TokenTypeHint::AccessToken))
            .await
        {
            Ok(introspection) => Ok(self.classify(introspection)),
            Err(e) => Ok((Cached::Unavailable(Arc::new(e)), FAILURE_TTL)),
        }
    }

    /// RFC 7662 §2.2: `active` is the answer; an `exp` already past makes it inactive regardless. An
    /// active answer lives until `exp` (to the sub-second) and at most `max_cache_ttl`.
    fn classify(&self, introspection: Introspection) -> (Cached, Duration) {
        // An `exp` beyond what the clock represents (hostile or broken provider) counts as far away.
        let left = |exp: u64| match UNIX_EPOCH.checked_add(Duration::from_secs(exp)) {
            Some(at) => at
                .duration_since(SystemTime::now())
                .ok()
                .filter(|left| !left.is_zero()),
            None => Some(self.max_cache_ttl),
        };
        match introspection.claims.exp.map(left) {
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
        }
    }

    /// That an active answer is for this API, as the type docs say.
    fn check_binding(&self, claims: &Claims, key_bound: bool) -> Result<(), ValidationError> {
        let app = self.client.config().client_id().as_str();
        if !claims.aud.is_empty() {
            let expected = self.audience.as_deref().unwrap_or(app);
            if !claims.aud.iter().any(|a| a == expected) {
                return Err(ValidationError::InvalidAudience {
                    expected: vec![expected.to_owned()],
                });
            }
        } else if !self.any_client && claims.client_id.as_deref() != Some(app) {
            return Err(ValidationError::ForeignClient);
        }
        match claims.extra.get("token_type").and_then(|t| t.as_str()) {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            // RFC 9449 §6.2: a DPoP-bound token is introspected with `token_type` `DPoP`.
            Some(t) if key_bound && t.eq_ignore_ascii_case("dpop") => {}
            None if !self.require_token_type => {}
            found => {
                return Err(ValidationError::InvalidTokenType {
                    expected: "access token (token_type Bearer)".into(),
                    found: found.map_or_else(|| "no token_type".into(), crate::error::excerpt),
                });
            }
        }
        if !key_bound && claims.extra.contains_key("cnf") {
            return Err(ValidationError::KeyBound);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl TokenValidator for IntrospectionValidator {
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.validate_bound(token, false).await
    }

    async fn validate_key_bound(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.validate_bound(token, true).await
    }

    /// A fresh cached answer for `token` (or its refusal by syntax); `None` when the provider must
    /// be asked (or a call for it is in flight).
    fn validate_now(&self, token: &str) -> Option<Result<Arc<Claims>, ValidationError>> {
        if let Err(error) = Self::check_syntax(token) {
            return Some(Err(error));
        }
        let entry = self.cache.as_ref()?.get(&sha256(token.as_bytes()))?;
        if Instant::now() >= entry.until {
            return None;
        }
        telemetry::cache_lookup(Cache::Introspection, true);
        Some(self.answer(entry.result, false))
    }
}

impl IntrospectionValidator {
    /// The active answer's claims, bound to this API; `key_bound`: the token came with a proof of
    /// possession, so `cnf` and `token_type` `DPoP` are accepted (RFC 9449 §6.2, §7.1).
    async fn validate_bound(
        &self,
        token: &str,
        key_bound: bool,
    ) -> Result<Arc<Claims>, ValidationError> {
        Self::check_syntax(token)?;
        let cached = self.lookup(token).await?;
        self.answer(cached, key_bound)
    }

    /// A token this validator never sends to the provider: too long, or not a b64token.
    fn check_syntax(token: &str) -> Result<(), ValidationError> {
        if token.len() > MAX_INTROSPECTED_TOKEN_BYTES || !is_b64token(token) {
            return Err(ValidationError::Malformed(
                "not an access token (too long, or outside the RFC 6750 b64token syntax)".into(),
            ));
        }
        Ok(())
    }

    /// The answer for a (cached or fresh) introspection result.
    fn answer(&self, cached: Cached, key_bound: bool) -> Result<Arc<Claims>, ValidationError> {
        let claims = match cached {
            Cached::Active(claims) => claims,
            Cached::Inactive => return Err(ValidationError::Inactive),
            Cached::Unavailable(e) => return Err(ValidationError::ProviderUnavailable(e)),
        };
        // The cached entry lives at most until `exp`; checked again so a clock jump cannot extend it.
        if claims.exp.is_some_and(|exp| exp <= now_secs()) {
            return Err(ValidationError::Inactive);
        }
        self.check_binding(&claims, key_bound)?;
        Ok(claims)
    }
}

/// [`IntrospectionValidator`] against a mock introspection endpoint.
#[cfg(test)]
mod tests;
