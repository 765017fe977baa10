//! [`JwksCache`]: the provider's signing keys (a JSON Web Key Set, RFC 7517 §5), downloaded from its
//! `jwks_uri` and kept off the per-request path.
//!
//! - **Reads are lock-free**: the keys live in an immutable map `kid → parsed key` behind an
//!   [`ArcSwap`]; each key is parsed into ready-to-verify aws-lc-rs public keys once, when fetched,
//!   never per request (and verification never goes through `jsonwebtoken`'s process-global crypto
//!   provider, which other crates' features could make panic).
//! - **Unknown `kid`** (a rotated key): the set is downloaded again at once, then at most once per
//!   [`JwksOptions::refetch_cooldown`] for further unknown `kid`s, so a flood of tokens with made-up
//!   `kid`s cannot become a flood of downloads. Only such refetches count for the cooldown: a key
//!   rotated just after start-up or after a scheduled refresh is picked up immediately.
//! - **Rotation never fails a request**: a token whose `kid` is still unknown while the cooldown runs
//!   waits (at most [`JwksOptions::unknown_kid_wait`]) for the next download the cooldown allows,
//!   one download shared by every waiter; so a key rotated in the middle of an unknown-`kid` flood
//!   is picked up with no request refused, and the provider still sees one download per cooldown.
//!   At most [`MAX_UNKNOWN_KID_WAITERS`] requests wait at once; past that an unknown `kid` is
//!   refused at once.
//! - **One download at a time**: a Tokio mutex guards the fetch; requests that waited on it look at
//!   the new keys instead of downloading again.
//! - **Refresh ahead of expiry**: the set is kept for the response's `Cache-Control: max-age`
//!   (clamped to [[`min_max_age`](JwksOptions::min_max_age), [`max_max_age`](JwksOptions::max_max_age)],
//!   [`default_max_age`](JwksOptions::default_max_age) without one). Once three quarters of that time
//!   has passed, the next request starts one background download (a Tokio task; inline, by the first
//!   request to find the fetch lock free, when no Tokio runtime is running) and every request goes on
//!   with the current keys without waiting.
//! - **Stale keys are kept while the provider is down**: keys are never dropped for age, only replaced
//!   by a successful download. A failed download is retried no sooner than
//!   [`JwksOptions::failure_cooldown`].
//! - If keys were **never** downloaded and the provider is down, verification fails with
//!   [`ValidationError::KeysUnavailable`] (503), not a 401.
//! - Entries that do not parse, are not for signatures (`use` ≠ `sig`, `key_ops` without `verify`),
//!   are symmetric (`oct`: HMAC keys never come from a JWKS) or of an unsupported type or curve are
//!   skipped (logged at debug level) rather than failing the whole set.
//!
//! ```
//! use genauth::jwks::{JwksCache, JwksOptions};
//! use std::time::Duration;
//!
//! let jwks_uri = url::Url::parse("https://example.genauth.ai/oidc/.well-known/jwks.json")?;
//! let cache = JwksCache::with_options(
//!     reqwest::Client::new(),
//!     jwks_uri,
//!     JwksOptions { refetch_cooldown: Duration::from_secs(60), ..JwksOptions::default() },
//! );
//! # let _ = cache;
//! # Ok::<(), url::ParseError>(())
//! ```

mod keys;
mod signature;

use crate::error::{ValidationError, excerpt};
use crate::http;
use arc_swap::ArcSwap;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use keys::KeySet;
pub(crate) use keys::VerifyingKey;
pub(crate) use signature::verify_hmac;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// How a [`JwksCache`] refreshes its keys. Durations are wall-clock spans.
#[derive(Clone, Debug)]
pub struct JwksOptions {
    /// Tokens with unknown `kid`s trigger a new download at most this often (default 5 s); the initial
    /// and scheduled downloads do not count.
    pub refetch_cooldown: Duration,
    /// Longest time a token with an unknown `kid` waits for the next download the cooldown allows
    /// (default 5 s; zero: refused at once while the cooldown runs).
    pub unknown_kid_wait: Duration,
    /// After a failed download, no new attempt for this long (default 5 s). Requests meanwhile use
    /// the keys already known, or fail with 503 if there are none.
    pub failure_cooldown: Duration,
    /// How long a key set is fresh when the response has no `Cache-Control: max-age` (default 5 min).
    pub default_max_age: Duration,
    /// Lower bound on the freshness taken from `Cache-Control` (default 60 s): a provider sending
    /// `max-age=0` or `no-cache` does not make every request download the keys.
    pub min_max_age: Duration,
    /// Upper bound on the freshness taken from `Cache-Control` (default 24 h), so rotated keys are
    /// eventually picked up.
    pub max_max_age: Duration,
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            refetch_cooldown: Duration::from_secs(5),
            unknown_kid_wait: Duration::from_secs(5),
            failure_cooldown: Duration::from_secs(5),
            default_max_age: Duration::from_secs(5 * 60),
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Where keys come from, for a cache that downloads them.
struct Remote {
    http: reqwest::Client,
    uri: Url,
    options: JwksOptions,
}

/// The outcome of the last completed download.
#[derive(Default)]
struct LastAttempt {
    at: Option<Instant>,
    error: Option<Arc<crate::Error>>,
    /// The last download made because of an unknown `kid`: only these count for `refetch_cooldown`,
    /// so a rotation right after start-up or a scheduled refresh is picked up at once.
    unknown_kid_refetch_at: Option<Instant>,
}

impl LastAttempt {
    /// The last attempt failed less than `cooldown` ago.
    fn failed_within(&self, cooldown: Duration) -> bool {
        self.error.is_some() && self.at.is_some_and(|at| at.elapsed() < cooldown)
    }
}

struct Inner {
    /// `None`: static keys, never downloaded.
    remote: Option<Remote>,
    keys: ArcSwap<KeySet>,
    /// Held for the whole of a download: one in flight at a time.
    fetch: tokio::sync::Mutex<()>,
    last: Mutex<LastAttempt>,
    /// A background refresh-ahead task is running.
    refreshing: std::sync::atomic::AtomicBool,
    /// Requests waiting for the next unknown-`kid` download.
    waiters: tokio::sync::Semaphore,
}

/// Most requests that wait at once for the next unknown-`kid` download (per cache).
pub const MAX_UNKNOWN_KID_WAITERS: usize = 1024;

/// The provider's signing keys, downloaded from its `jwks_uri` and cached (see the [module
/// docs](self) for the refresh rules), or a fixed set ([`from_jwk_set`](Self::from_jwk_set)).
///
/// `Clone` is an `Arc` clone: clones share the keys.
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.inner.keys.load();
        let kids: Vec<&str> = keys.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        f.debug_struct("JwksCache")
            .field(
                "jwks_uri",
                &self.inner.remote.as_ref().map(|r| r.uri.as_str()),
            )
            .field("keys", &keys.keys.len())
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache downloading keys from `jwks_uri` with `http`, on first use, with
    /// [`JwksOptions::default`]. Makes no network call here.
    pub fn new(http: reqwest::Client, jwks_uri: Url) -> Self {
        Self::with_options(http, jwks_uri, JwksOptions::default())
    }

    /// A cache downloading keys from `jwks_uri` with `http`, on first use, refreshing as `options`
    /// say. Makes no network call here.
    pub fn with_options(http: reqwest::Client, jwks_uri: Url, options: JwksOptions) -> Self {
        Self::assemble(
            Some(Remote {
                http,
                uri: jwks_uri,
                options,
            }),
            KeySet::empty(),
        )
    }

    /// A cache holding exactly these keys, never downloaded (the GenAuth SDKs' `serverJWKS` option).
    /// Unusable entries are skipped as in a download.
    ///
    /// # Errors
    /// [`ValidationError::NoUsableKeys`] when no entry is a usable signing key.
    pub fn from_jwk_set(jwks: &JwkSet) -> Result<Self, ValidationError> {
        let set = KeySet::parse(jwks.keys.iter().cloned().map(Ok), 1, None, "static JWKS");
        if set.keys.is_empty() {
            return Err(ValidationError::NoUsableKeys);
        }
        Ok(Self::assemble(None, set))
    }

    fn assemble(remote: Option<Remote>, keys: KeySet) -> Self {
        Self {
            inner: Arc::new(Inner {
                remote,
                keys: ArcSwap::from_pointee(keys),
                fetch: tokio::sync::Mutex::new(()),
                last: Mutex::new(LastAttempt::default()),
                refreshing: std::sync::atomic::AtomicBool::new(false),
                waiters: tokio::sync::Semaphore::new(MAX_UNKNOWN_KID_WAITERS),
            }),
        }
    }

    /// The `jwks_uri` keys are downloaded from (`None` for a static set).
    pub fn jwks_uri(&self) -> Option<&Url> {
        self.inner.remote.as_ref().map(|r| &r.uri)
    }

    /// Downloads the key set now, whatever the cooldowns, waiting for a download already in flight
    /// first. A static set is left as it is (`Ok`). On failure the keys already known are kept.
    ///
    /// # Errors
    /// [`Error::Validation`](crate::Error::Validation)([`ValidationError::KeysUnavailable`]), status
    /// 503, whose source is the download's error: [`Error::Transport`](crate::Error::Transport) when
    /// unreachable, [`Error::UnexpectedStatus`](crate::Error::UnexpectedStatus) (or an OAuth/GenAuth
    /// error) for a non-2xx answer, [`Error::InvalidResponse`](crate::Error::InvalidResponse) when the
    /// body is not a JWKS or holds no usable signing key,
    /// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge).
    pub async fn refresh(&self) -> Result<(), crate::Error> {
        let Some(remote) = &self.inner.remote else {
            return Ok(());
        };
        let _guard = self.inner.fetch.lock().await;
        self.download(remote)
            .await
            .map_err(|e| ValidationError::KeysUnavailable(e).into())
    }

    /// The key to verify a token whose header has this `kid` and `alg`: by `kid`, or, without one,
    /// the single key that fits `alg`. Downloads keys when none are known yet, when the `kid` is
    /// unknown (behind the cooldown), or when the set is due for refresh.
    ///
    /// # Errors
    /// [`ValidationError::UnknownKey`], [`AmbiguousKey`](ValidationError::AmbiguousKey),
    /// [`KeyMismatch`](ValidationError::KeyMismatch) (401); [`KeysUnavailable`](ValidationError::KeysUnavailable)
    /// (503) when no keys were ever downloaded and the download fails.
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerifyingKey>, ValidationError> {
        let unknown = || ValidationError::UnknownKey {
            kid: kid.map(excerpt),
        };
        // Hot path: one atomic load, a hash lookup, no lock, no await.
        let (generation, refresh_due) = {
            let keys = self.inner.keys.load();
            let refresh_due = keys.refresh_at.is_some_and(|at| Instant::now() >= at);
            if !refresh_due
                && keys.generation > 0
                && let Some(key) = keys.find(kid, alg)?
            {
                return Ok(key);
            }
            (keys.generation, refresh_due)
        };
        let Some(remote) = &self.inner.remote else {
            return Err(unknown());
        };
        if generation == 0 {
            // Never downloaded: wait for (or make) the first download.
            self.fetch_gated(remote, generation, Gate::Wait, None).await;
            if self.inner.keys.load().generation == 0 {
                return Err(ValidationError::KeysUnavailable(self.last_error()));
            }
        } else if refresh_due {
            // Near expiry: refreshed in the background (or inline without a Tokio runtime); this
            // request goes on with the current keys.
            self.refresh_ahead(generation).await;
        }
        let generation = {
            let keys = self.inner.keys.load();
            if let Some(key) = keys.find(kid, alg)? {
                return Ok(key);
            }
            keys.generation
        };
        // Unknown `kid` (or no fitting key): maybe a rotation; download again, behind the cooldown.
        let cooldown = Some(remote.options.refetch_cooldown);
        let fetched = self
            .fetch_gated(remote, generation, Gate::Wait, cooldown)
            .await;
        let keys = self.inner.keys.load();
        if let Some(key) = keys.find(kid, alg)? {
            return Ok(key);
        }
        // The cooldown held the download back: wait for the next one it allows, shared by every
        // waiter, so a key rotated in the middle of an unknown-`kid` flood is still picked up.
        let Fetched::CoolingDown(left) = fetched else {
            return Err(unknown());
        };
        if left > remote.options.unknown_kid_wait {
            return Err(unknown());
        }
        let Ok(_waiting) = self.inner.waiters.try_acquire() else {
            return Err(unknown());
        };
        tokio::time::sleep(left).await;
        self.fetch_gated(remote, keys.generation, Gate::Wait, cooldown)
            .await;
        self.inner.keys.load().find(kid, alg)?.ok_or_else(unknown)
    }

    /// Refreshes the keys ahead of expiry without making the request wait: in a background task when a
    /// Tokio runtime is running (one task at a time), inline otherwise. The request goes on with the
    /// current keys either way; while downloads fail, `failure_cooldown` spaces the attempts.
    async fn refresh_ahead(&self, generation: u64) {
        use std::sync::atomic::Ordering;
        let Some(remote) = &self.inner.remote else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.fetch_gated(remote, generation, Gate::IfFree, None)
                .await;
            return;
        };
        // While the provider is down, not even a task per request: wait out the failure cooldown.
        let failed_recently = self
            .inner
            .last
            .lock()
            .is_ok_and(|last| last.failed_within(remote.options.failure_cooldown));
        if failed_recently || self.inner.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        runtime.spawn(async move {
            if let Some(remote) = &cache.inner.remote {
                cache
                    .fetch_gated(remote, generation, Gate::IfFree, None)
                    .await;
            }
            cache.inner.refreshing.store(false, Ordering::Release);
        });
    }

    /// Downloads the keys unless someone else did while we waited for the lock, or a cooldown says
    /// not yet. `unknown_kid_cooldown` is set for refetches caused by an unknown `kid`: the least time
    /// since the last such refetch. A failed attempt of any kind holds off for `failure_cooldown`.
    async fn fetch_gated(
        &self,
        remote: &Remote,
        seen: u64,
        gate: Gate,
        unknown_kid_cooldown: Option<Duration>,
    ) -> Fetched {
        let _guard = match gate {
            Gate::Wait => self.inner.fetch.lock().await,
            Gate::IfFree => match self.inner.fetch.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Fetched::NotNow,
            },
        };
        // Keys changed while we waited for the lock: use them.
        let current = self.inner.keys.load();
        if current.generation != seen {
            return Fetched::Changed;
        }
        if let Ok(mut last) = self.inner.last.lock() {
            if last.failed_within(remote.options.failure_cooldown) {
                return Fetched::NotNow;
            }
            if let Some(cooldown) = unknown_kid_cooldown {
                let since = last.unknown_kid_refetch_at.map(|at| at.elapsed());
                if let Some(since) = since.filter(|since| *since < cooldown) {
                    // A hair past the cooldown's end, so the waiter's retry is allowed.
                    return Fetched::CoolingDown(cooldown - since + Duration::from_millis(5));
                }
                last.unknown_kid_refetch_at = Some(Instant::now());
            }
        }
        // The error is recorded in `last` and logged by `http::send`.
        let _ = self.download(remote).await;
        Fetched::Changed
    }

    /// One download; the caller holds the fetch lock. Replaces the keys on success, records the
    /// attempt either way.
    async fn download(&self, remote: &Remote) -> Result<(), Arc<crate::Error>> {
        const ENDPOINT: &str = "jwks_uri";
        let result = async {
            let body = http::send(ENDPOINT, remote.http.get(remote.uri.clone()))
                .await?
                .success(ENDPOINT)?;
            let raw: RawJwkSet = body.json(ENDPOINT)?;
            let max_age = max_age(&body.headers, &remote.options);
            let entries = raw.keys.into_iter().map(|value| {
                serde_json::from_value::<Jwk>(value).map_err(|e| format!("not a JWK: {e}"))
            });
            // Refresh once three quarters of the freshness lifetime have passed.
            let refresh_at = Instant::now().checked_add(max_age.mul_f64(0.75));
            let generation = self.inner.keys.load().generation + 1;
            let set = KeySet::parse(entries, generation, refresh_at, ENDPOINT);
            if set.keys.is_empty() {
                // Keep the keys we have rather than swap in an empty set.
                return Err(crate::Error::InvalidResponse {
                    endpoint: ENDPOINT,
                    reason: "the JWKS holds no usable signing key".into(),
                });
            }
            tracing::debug!(
                keys = set.keys.len(),
                max_age_secs = max_age.as_secs(),
                "JWKS downloaded"
            );
            Ok(set)
        }
        .await;
        let outcome = match result {
            Ok(set) => {
                self.inner.keys.store(Arc::new(set));
                Ok(())
            }
            Err(e) => Err(Arc::new(e)),
        };
        crate::telemetry::jwks_download(outcome.is_ok());
        if let Ok(mut last) = self.inner.last.lock() {
            last.at = Some(Instant::now());
            last.error = outcome.as_ref().err().cloned();
        }
        outcome
    }

    fn last_error(&self) -> Arc<crate::Error> {
        self.inner
            .last
            .lock()
            .ok()
            .and_then(|last| last.error.clone())
            .unwrap_or_else(|| {
                Arc::new(crate::Error::InvalidResponse {
                    endpoint: "jwks_uri",
                    reason: "no key set has been downloaded yet".into(),
                })
            })
    }
}

/// What [`JwksCache::fetch_gated`] did.
enum Fetched {
    /// Downloaded (or tried to), or found keys another request downloaded meanwhile.
    Changed,
    /// The unknown-`kid` cooldown held the download back for this much longer.
    CoolingDown(Duration),
    /// Nothing: a recent failure, or a download already in flight (`Gate::IfFree`).
    NotNow,
}

#[derive(Clone, Copy)]
enum Gate {
    /// Wait for a download in flight, then decide.
    Wait,
    /// Give up at once if a download is in flight.
    IfFree,
}

/// A JWKS whose entries are parsed one by one, so one bad entry does not spoil the set.
#[derive(serde::Deserialize)]
struct RawJwkSet {
    keys: Vec<serde_json::Value>,
}

/// Freshness of a downloaded set: `Cache-Control: max-age` (RFC 9111 §5.2.2.1; `no-cache` and
/// `no-store` count as 0), else the default, clamped to `[min_max_age, max_max_age]`.
fn max_age(headers: &reqwest::header::HeaderMap, options: &JwksOptions) -> Duration {
    let from_header = headers
        .get_all(reqwest::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|directive| {
            let directive = directive.trim();
            if directive.eq_ignore_ascii_case("no-cache")
                || directive.eq_ignore_ascii_case("no-store")
            {
                return Some(Duration::ZERO);
            }
            let (name, value) = directive.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("max-age") {
                return None;
            }
            let secs: u64 = value.trim().trim_matches('"').parse().ok()?;
            Some(Duration::from_secs(secs))
        });
    // `max(min).min(max)`, not `clamp`, which panics when min > max.
    from_header
        .unwrap_or(options.default_max_age)
        .max(options.min_max_age)
        .min(options.max_max_age)
}

#[cfg(test)]
mod tests;

/// Tests against a JWKS endpoint served by `wiremock`, with keys from the test issuer.
#[cfg(all(test, feature = "testing"))]
mod fetch_tests;
