//! [`JwksCache`]: the provider's signing keys (a JSON Web Key Set, RFC 7517 §5), downloaded from its
//! `jwks_uri` and kept off the per-request path.
//!
//! - **Reads are lock-free**: the keys live in an immutable map `kid → parsed key` behind an
//!   [`ArcSwap`]; each key is parsed into a [`DecodingKey`] once, when fetched, never per request.
//! - **Unknown `kid`** (a rotated key): the set is downloaded again at once, then at most once per
//!   [`JwksOptions::refetch_cooldown`] for further unknown `kid`s, so a flood of tokens with made-up
//!   `kid`s cannot become a flood of downloads. Only such refetches count for the cooldown: a key
//!   rotated just after start-up or after a scheduled refresh is picked up immediately.
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

use crate::error::{ValidationError, excerpt};
use crate::http;
use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// How a [`JwksCache`] refreshes its keys. Durations are wall-clock spans.
#[derive(Clone, Debug)]
pub struct JwksOptions {
    /// Tokens with unknown `kid`s trigger a new download at most this often (default 30 s); the initial
    /// and scheduled downloads do not count.
    pub refetch_cooldown: Duration,
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
            refetch_cooldown: Duration::from_secs(30),
            failure_cooldown: Duration::from_secs(5),
            default_max_age: Duration::from_secs(5 * 60),
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// A signing key from a JWKS, parsed once.
pub(crate) struct VerifyingKey {
    /// The key's `kid`, if any.
    pub(crate) kid: Option<String>,
    /// The key's `alg` (RFC 7517 §4.4), when it names one: then it is the only algorithm allowed.
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    curve: Option<EllipticCurve>,
    /// The parsed key.
    pub(crate) key: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("family", &self.family)
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Parses a JWK into a verifying key, or says why it is skipped.
    fn from_jwk(jwk: &Jwk) -> Result<Self, &'static str> {
        // RFC 7517 §4.2: a key for encryption must not verify signatures.
        match &jwk.common.public_key_use {
            None | Some(PublicKeyUse::Signature) => {}
            Some(_) => return Err("`use` is not `sig`"),
        }
        // RFC 7517 §4.3
        if let Some(ops) = &jwk.common.key_operations {
            if !ops.iter().any(|op| matches!(op, KeyOperations::Verify)) {
                return Err("`key_ops` does not include `verify`");
            }
        }
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(alg) => Some(jws_algorithm(alg).ok_or("`alg` is not a JWS signature algorithm")?),
        };
        let (family, curve) = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => (AlgorithmFamily::Rsa, None),
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 | EllipticCurve::P384 => {
                    (AlgorithmFamily::Ec, Some(p.curve.clone()))
                }
                _ => return Err("unsupported EC curve (P-256 and P-384 are supported)"),
            },
            AlgorithmParameters::OctetKeyPair(p) => match p.curve {
                EllipticCurve::Ed25519 => (AlgorithmFamily::Ed, Some(EllipticCurve::Ed25519)),
                _ => return Err("unsupported OKP curve (Ed25519 is supported)"),
            },
            // HMAC keys are the app secret, configured explicitly; never taken from a JWKS.
            AlgorithmParameters::OctetKey(_) => return Err("symmetric (`oct`) key"),
            _ => return Err("unsupported key type"),
        };
        if alg.is_some_and(|a| a.family() != family) {
            return Err("`alg` does not match the key type");
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| "key parameters do not parse")?;
        let key = Self {
            kid: jwk.common.key_id.clone(),
            alg,
            family,
            curve,
            key,
        };
        if let Some(alg) = alg {
            key.fits(alg)?;
        }
        Ok(key)
    }

    /// Whether this key may verify a token signed with `alg`: the algorithm is pinned by the key as
    /// well as by the verifier's configuration.
    pub(crate) fn fits(&self, alg: Algorithm) -> Result<(), &'static str> {
        // RFC 7517 §4.4 / RFC 8725 §3.1: when the key names its algorithm, only that one.
        if self.alg.is_some_and(|a| a != alg) {
            return Err("the key is for another algorithm (its `alg` differs)");
        }
        // RFC 7518 §3.1: the key type must be the algorithm's.
        if self.family != alg.family() {
            return Err("the key type does not match the algorithm");
        }
        // RFC 7518 §3.4 / RFC 8037 §3.1: ES256 is P-256, ES384 is P-384, EdDSA is Ed25519 here.
        let curve_ok = match alg {
            Algorithm::ES256 => self.curve == Some(EllipticCurve::P256),
            Algorithm::ES384 => self.curve == Some(EllipticCurve::P384),
            Algorithm::EdDSA => self.curve == Some(EllipticCurve::Ed25519),
            _ => true,
        };
        if !curve_ok {
            return Err("the key's curve does not match the algorithm");
        }
        Ok(())
    }
}

/// The JWS algorithm a JWK's `alg` names, if it names one this crate verifies with.
fn jws_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// One immutable snapshot of the keys.
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    keys: Vec<Arc<VerifyingKey>>,
    /// 0 until the first successful download; +1 per successful download.
    generation: u64,
    /// When to start refreshing (`None`: static keys, or never fetched).
    refresh_at: Option<Instant>,
}

impl KeySet {
    fn empty() -> Self {
        Self {
            by_kid: HashMap::new(),
            keys: Vec::new(),
            generation: 0,
            refresh_at: None,
        }
    }

    /// Parses the usable keys of a set, skipping the others.
    fn parse(
        jwks: impl IntoIterator<Item = Result<Jwk, String>>,
        generation: u64,
        refresh_at: Option<Instant>,
        source: &str,
    ) -> Self {
        let mut set = Self {
            generation,
            refresh_at,
            ..Self::empty()
        };
        for (index, jwk) in jwks.into_iter().enumerate() {
            let parsed = jwk.and_then(|jwk| VerifyingKey::from_jwk(&jwk).map_err(str::to_owned));
            let key = match parsed {
                Ok(key) => Arc::new(key),
                Err(reason) => {
                    tracing::debug!(source, index, %reason, "JWKS entry skipped");
                    continue;
                }
            };
            if let Some(kid) = &key.kid {
                if set.by_kid.contains_key(kid) {
                    tracing::debug!(source, index, kid = %excerpt(kid), "JWKS entry skipped: duplicate kid");
                    continue;
                }
                set.by_kid.insert(kid.clone(), Arc::clone(&key));
            }
            set.keys.push(key);
        }
        set
    }

    /// The key for a token's `kid` and `alg`. `Ok(None)`: no such key (a download may help).
    fn find(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Option<Arc<VerifyingKey>>, ValidationError> {
        match kid {
            Some(kid) => match self.by_kid.get(kid) {
                Some(key) => {
                    key.fits(alg)
                        .map_err(|reason| ValidationError::KeyMismatch {
                            kid: excerpt(kid),
                            alg,
                            reason,
                        })?;
                    Ok(Some(Arc::clone(key)))
                }
                None => Ok(None),
            },
            // No `kid`: only when exactly one key could verify this algorithm.
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg).is_ok());
                match (fitting.next(), fitting.next()) {
                    (None, _) => Ok(None),
                    (Some(key), None) => Ok(Some(Arc::clone(key))),
                    (Some(_), Some(_)) => Err(ValidationError::AmbiguousKey {
                        alg,
                        candidates: 2 + fitting.count(),
                    }),
                }
            }
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
}

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
            if !refresh_due && keys.generation > 0 {
                if let Some(key) = keys.find(kid, alg)? {
                    return Ok(key);
                }
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
        self.fetch_gated(
            remote,
            generation,
            Gate::Wait,
            Some(remote.options.refetch_cooldown),
        )
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
    ) {
        let _guard = match gate {
            Gate::Wait => self.inner.fetch.lock().await,
            Gate::IfFree => match self.inner.fetch.try_lock() {
                Ok(guard) => guard,
                Err(_) => return,
            },
        };
        // Keys changed while we waited for the lock: use them.
        let current = self.inner.keys.load();
        if current.generation != seen {
            return;
        }
        if let Ok(mut last) = self.inner.last.lock() {
            let failed_recently = last.failed_within(remote.options.failure_cooldown);
            let refetched_recently = unknown_kid_cooldown.is_some_and(|cooldown| {
                last.unknown_kid_refetch_at
                    .is_some_and(|at| at.elapsed() < cooldown)
            });
            if failed_recently || refetched_recently {
                return;
            }
            if unknown_kid_cooldown.is_some() {
                last.unknown_kid_refetch_at = Some(Instant::now());
            }
        }
        // The error is recorded in `last` and logged by `http::send`.
        let _ = self.download(remote).await;
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
mod tests {
    use super::*;
    use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn cache_control_max_age_is_honoured_and_clamped() {
        let o = JwksOptions::default();
        assert_eq!(max_age(&HeaderMap::new(), &o), Duration::from_secs(300));
        assert_eq!(
            max_age(&headers("public, max-age=3600"), &o),
            Duration::from_secs(3600)
        );
        assert_eq!(max_age(&headers("max-age=5"), &o), Duration::from_secs(60));
        assert_eq!(max_age(&headers("no-cache"), &o), Duration::from_secs(60));
        assert_eq!(
            max_age(&headers("max-age=999999999"), &o),
            Duration::from_secs(86400)
        );
        assert_eq!(
            max_age(&headers("max-age=abc"), &o),
            Duration::from_secs(300)
        );
    }

    fn rsa_jwk(kid: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut jwk = serde_json::json!({
            "kty": "RSA", "kid": kid,
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
            "e": "AQAB"
        });
        if let (Some(obj), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        jwk
    }

    fn parse(keys: serde_json::Value) -> KeySet {
        let raw: RawJwkSet = serde_json::from_value(keys).unwrap();
        KeySet::parse(
            raw.keys
                .into_iter()
                .map(|v| serde_json::from_value::<Jwk>(v).map_err(|e| e.to_string())),
            1,
            None,
            "test",
        )
    }

    #[test]
    fn unusable_entries_are_skipped_not_fatal() {
        let set = parse(serde_json::json!({"keys": [
            rsa_jwk("enc", serde_json::json!({"use": "enc"})),
            rsa_jwk("wrap", serde_json::json!({"key_ops": ["wrapKey"]})),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "weird", "kid": "weird"},
            {"kid": "garbage"},
            rsa_jwk("mismatch", serde_json::json!({"alg": "ES256"})),
            rsa_jwk("good", serde_json::json!({"use": "sig", "alg": "RS256"})),
        ]}));
        let kids: Vec<_> = set.keys.iter().filter_map(|k| k.kid.clone()).collect();
        assert_eq!(kids, vec!["good"]);
    }

    #[test]
    fn key_alg_and_type_pin_the_algorithm() {
        let set = parse(serde_json::json!({"keys": [
            rsa_jwk("rs256", serde_json::json!({"alg": "RS256"})),
            rsa_jwk("any-rsa", serde_json::json!({})),
        ]}));
        assert!(set.find(Some("rs256"), Algorithm::RS256).unwrap().is_some());
        // The key's `alg` is RS256: a PS256 header does not get it.
        assert!(matches!(
            set.find(Some("rs256"), Algorithm::PS256),
            Err(ValidationError::KeyMismatch { .. })
        ));
        // Without `alg`, the key type still has to fit.
        assert!(
            set.find(Some("any-rsa"), Algorithm::PS256)
                .unwrap()
                .is_some()
        );
        assert!(matches!(
            set.find(Some("any-rsa"), Algorithm::ES256),
            Err(ValidationError::KeyMismatch { .. })
        ));
        assert!(matches!(
            set.find(Some("any-rsa"), Algorithm::HS256),
            Err(ValidationError::KeyMismatch { .. })
        ));
        assert!(set.find(Some("other"), Algorithm::RS256).unwrap().is_none());
    }

    #[test]
    fn token_without_kid_needs_exactly_one_fitting_key() {
        let one =
            parse(serde_json::json!({"keys": [rsa_jwk("a", serde_json::json!({"alg": "RS256"}))]}));
        assert!(one.find(None, Algorithm::RS256).unwrap().is_some());
        assert!(one.find(None, Algorithm::ES256).unwrap().is_none());
        let two = parse(serde_json::json!({"keys": [
            rsa_jwk("a", serde_json::json!({})),
            rsa_jwk("b", serde_json::json!({})),
        ]}));
        assert!(matches!(
            two.find(None, Algorithm::RS256),
            Err(ValidationError::AmbiguousKey { candidates: 2, .. })
        ));
    }

    #[test]
    fn static_set_without_usable_keys_is_refused() {
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
        ]}))
        .unwrap();
        assert!(matches!(
            JwksCache::from_jwk_set(&jwks),
            Err(ValidationError::NoUsableKeys)
        ));
    }
}

/// Tests against a JWKS endpoint served by `wiremock`, with keys from the test issuer.
#[cfg(all(test, feature = "testing"))]
mod fetch_tests {
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
        cache
            .key_for(Some(old.kid()), Algorithm::ES256)
            .await
            .unwrap();
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
}
