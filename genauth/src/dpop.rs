//! DPoP, demonstrating proof of possession (RFC 9449), on the resource-server side: the checks of
//! a `DPoP` proof presented with a DPoP-bound access token (§4.3, §7.1), and [`DpopKey`], a small
//! client-side proof builder.
//!
//! A [`DpopVerifier`] holds the policy ([`DpopConfig`]: [`DpopMode`], allowed algorithms, the `iat`
//! window, the public base URL) and a bounded `jti` replay cache shared by its clones. The bearer
//! layer ([`BearerAuthenticator::dpop`](crate::bearer::BearerAuthenticator::dpop)) calls it once
//! per request that uses the `DPoP` scheme. Every check is local: no network call.
//!
//! ```
//! use genauth::dpop::{DpopConfig, DpopKey, DpopMode, ProofTarget};
//!
//! let verifier = DpopConfig::new(DpopMode::Required).build()?;
//! let key = DpopKey::generate()?;
//! let proof = key.proof("GET", "https://api.example.com/orders", Some("the-access-token"))?;
//! let target = ProofTarget { method: "GET", target: "/orders?page=2", host: Some("api.example.com"), scheme: Some("https") };
//! let htu = verifier.expected_htu(&target)?;
//! let checked = verifier.verify(&proof, "GET", &htu, "the-access-token")?;
//! assert_eq!(checked.jkt(), key.thumbprint());
//! // The same proof again is a replay (RFC 9449 §11.1).
//! checked.record(&verifier)?;
//! assert!(verifier.verify(&proof, "GET", &htu, "the-access-token")?.record(&verifier).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod key;
mod nonce;
mod thumbprint;

use crate::clock::now_secs;
use crate::error::excerpt;
use crate::jwks::VerifyingKey;
use crate::types::sha256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
pub use key::{DpopKey, DpopKeyError};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;
pub use thumbprint::jwk_thumbprint;

/// Longest proof accepted, in bytes (8 KiB: an RSA-4096 key and signature fit several times).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// Default number of proofs the replay cache remembers.
pub const DEFAULT_REPLAY_CACHE_CAPACITY: usize = 100_000;

/// Default age past which a proof's `iat` is stale (RFC 9449 §11.1: "a relatively brief period").
pub const DEFAULT_PROOF_MAX_AGE: Duration = Duration::from_secs(60);

/// Default tolerance for a client clock ahead of ours (`iat` in the future).
pub const DEFAULT_CLOCK_LEEWAY: Duration = Duration::from_secs(5);

/// The asymmetric algorithms accepted for proofs by default (RFC 9449 §4.2: asymmetric only).
pub const DEFAULT_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// Whether a bearer layer takes DPoP-bound tokens (RFC 9449 §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// No DPoP: only `Bearer` tokens, and tokens with `cnf` are refused (the default).
    #[default]
    Off,
    /// `DPoP` tokens with a proof, and plain `Bearer` tokens (a DPoP-bound token as `Bearer` is
    /// still refused). Challenges offer both schemes (RFC 9449 §7.1).
    Allowed,
    /// Only `DPoP` tokens with a proof.
    Required,
}

impl DpopMode {
    /// Parses `off`, `allowed` or `required` (any case), as the `GENAUTH_DPOP` setting spells them.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "off" | "" => Some(Self::Off),
            "allowed" => Some(Self::Allowed),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// Why a DPoP proof, or the binding of the token to it, was refused. Answered as 401
/// `invalid_dpop_proof` (RFC 9449 §7.1); messages never contain the proof or the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The request uses the `DPoP` scheme without a `DPoP` header (RFC 9449 §4.3 step 1).
    #[error("the request has no DPoP proof")]
    MissingProof,
    /// More than one `DPoP` header (RFC 9449 §4.3 step 1).
    #[error("the request has more than one DPoP header")]
    SeveralProofs,
    /// Not a JWS in compact serialization with JSON header and claims (§4.3 step 2), or longer
    /// than [`MAX_PROOF_BYTES`].
    #[error("malformed DPoP proof: {0}")]
    Malformed(&'static str),
    /// A required header parameter or claim is absent (§4.3 step 3).
    #[error("the DPoP proof lacks `{0}`")]
    Missing(&'static str),
    /// `typ` is not `dpop+jwt` (§4.3 step 4).
    #[error("the DPoP proof's typ is not dpop+jwt")]
    WrongType,
    /// `alg` is not one of the allowed asymmetric algorithms (§4.3 step 5).
    #[error("DPoP proof algorithm `{0}` is not accepted")]
    AlgorithmNotAllowed(String),
    /// The `jwk` holds private key members (§4.3 step 7).
    #[error("the DPoP proof's jwk contains a private key")]
    PrivateKey,
    /// The `jwk` is not a usable public key for `alg`.
    #[error("the DPoP proof's jwk is unusable: {0}")]
    InvalidKey(&'static str),
    /// The signature does not verify with the `jwk` (§4.3 step 6).
    #[error("the DPoP proof's signature is invalid")]
    InvalidSignature,
    /// `htm` is not the request's method (§4.3 step 8).
    #[error("the DPoP proof's htm does not match the request method")]
    MethodMismatch,
    /// `htu` is not the request's URL, query and fragment ignored (§4.3 step 9).
    #[error("the DPoP proof's htu does not match the request URL")]
    UrlMismatch,
    /// `iat` is older than the allowed window or too far in the future (§4.3 step 11).
    #[error("the DPoP proof's iat is outside the accepted window")]
    IatOutOfWindow,
    /// This proof's `jti` was seen before within the window (§11.1).
    #[error("the DPoP proof was already used")]
    Replayed,
    /// `ath` is not the hash of the access token (§4.3 step 12, §4.2).
    #[error("the DPoP proof's ath does not match the access token")]
    AccessTokenHashMismatch,
    /// The token's `cnf.jkt` is not the proof key's thumbprint (§4.3 step 12, §6.1).
    #[error("the access token is bound to another key than the DPoP proof's")]
    KeyMismatch,
    /// The token presented with the `DPoP` scheme is not bound to a key (no `cnf.jkt`, §6.1).
    #[error("the access token is not DPoP-bound (no cnf.jkt)")]
    NotBound,
    /// The proof lacks the server-provided `nonce`, or it is stale or not ours (§4.3 step 10,
    /// §8): answered `use_dpop_nonce` with a fresh `DPoP-Nonce`.
    #[error("the DPoP proof must carry the server's current nonce")]
    UseNonce,
    /// The request URL could not be known (no `Host` and no public base URL configured).
    #[error("the request URL is unknown (no Host header)")]
    UnknownUrl,
}

/// The settings of a [`DpopVerifier`]. Plain setters, checks at [`build`](Self::build).
#[derive(Clone, Debug)]
#[must_use]
pub struct DpopConfig {
    mode: DpopMode,
    algorithms: Vec<Algorithm>,
    max_age: Duration,
    leeway: Duration,
    replay_capacity: usize,
    public_base_url: Option<url::Url>,
    nonce_window: Option<Duration>,
}

impl DpopConfig {
    /// The defaults: [`DEFAULT_ALGORITHMS`], [`DEFAULT_PROOF_MAX_AGE`], [`DEFAULT_CLOCK_LEEWAY`],
    /// [`DEFAULT_REPLAY_CACHE_CAPACITY`], the URL taken from the request.
    pub fn new(mode: DpopMode) -> Self {
        Self {
            mode,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            max_age: DEFAULT_PROOF_MAX_AGE,
            leeway: DEFAULT_CLOCK_LEEWAY,
            replay_capacity: DEFAULT_REPLAY_CACHE_CAPACITY,
            public_base_url: None,
            nonce_window: None,
        }
    }

    /// Requires server-provided nonces (RFC 9449 §8): a proof without a current one is answered
    /// 401 `use_dpop_nonce` with a `DPoP-Nonce` header. Nonces change every `window` and are
    /// accepted for up to twice that; they are stateless (an HMAC under a key of this verifier,
    /// shared by its clones, not by other processes).
    pub fn require_nonce(mut self, window: Duration) -> Self {
        self.nonce_window = Some(window);
        self
    }

    /// The proof algorithms accepted (RFC 9449 §4.3 step 5); asymmetric only, checked at build.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How old a proof's `iat` may be (RFC 9449 §4.3 step 11); also how long a `jti` is remembered.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How far in the future a proof's `iat` may be (client clock ahead).
    pub fn clock_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How many proofs the `jti` replay cache remembers (bounded; at least 1).
    pub fn replay_cache_capacity(mut self, entries: usize) -> Self {
        self.replay_capacity = entries;
        self
    }

    /// The URL clients reach this API at, for apps behind a proxy (`https://api.example.com`, or
    /// with a path prefix the proxy strips: `https://example.com/api`): `htu` is compared with it
    /// followed by the request's path. Without it, the URL is the request's scheme, `Host` and path:
    /// the `Host` is the client's word, so a proof a client made for another server (another
    /// `htu`) could be replayed here with that server's `Host`. Set this in production; the
    /// token's audience check (RFC 8707) is the other guard.
    pub fn public_base_url(mut self, url: url::Url) -> Self {
        self.public_base_url = Some(url);
        self
    }

    /// The verifier.
    ///
    /// # Errors
    /// [`ConfigError`](crate::ConfigError) when no algorithm is allowed or one is symmetric, the
    /// replay cache is empty, or the base URL is not `http(s)` with a host.
    pub fn build(self) -> Result<DpopVerifier, crate::ConfigError> {
        let invalid = |reason: &str| crate::ConfigError::Invalid {
            field: "DPoP",
            reason: reason.to_owned(),
        };
        if self.algorithms.is_empty() {
            return Err(invalid("at least one proof algorithm is required"));
        }
        if self
            .algorithms
            .iter()
            .any(|a| a.family() == AlgorithmFamily::Hmac)
        {
            return Err(invalid(
                "proof algorithms must be asymmetric (RFC 9449 §4.2)",
            ));
        }
        if self.replay_capacity == 0 {
            return Err(invalid(
                "the replay cache needs room for at least one proof",
            ));
        }
        if let Some(base) = &self.public_base_url
            && (!matches!(base.scheme(), "http" | "https") || base.host_str().is_none())
        {
            return Err(invalid("the public base URL must be http(s) with a host"));
        }
        let algs = self
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        let nonce = match self.nonce_window {
            None => None,
            Some(window) => Some(Arc::new(nonce::NonceIssuer::new(window).map_err(invalid)?)),
        };
        Ok(DpopVerifier {
            nonce,
            replay: Arc::new(quick_cache::sync::Cache::new(self.replay_capacity)),
            algs: Arc::from(algs),
            config: Arc::new(self),
        })
    }
}

/// Verifies DPoP proofs (RFC 9449 §4.3) for one bearer layer; clones share the replay cache.
#[derive(Clone)]
pub struct DpopVerifier {
    config: Arc<DpopConfig>,
    /// Server-provided nonces, when required.
    nonce: Option<Arc<nonce::NonceIssuer>>,
    /// `jti` (hashed with the key thumbprint) → until when it is remembered (seconds).
    replay: Arc<quick_cache::sync::Cache<[u8; 32], u64>>,
    /// The `algs` of the challenge: the allowed algorithms, space-separated.
    algs: Arc<str>,
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("config", &self.config)
            .field("replay_cache_capacity", &self.replay.capacity())
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// The request a proof is checked against (RFC 9449 §4.3 steps 8 and 9), as an adapter sees it.
#[derive(Clone, Copy, Debug)]
pub struct ProofTarget<'a> {
    /// The request method (`GET`, …).
    pub method: &'a str,
    /// The request target as received: a path with an optional query (origin form), or an
    /// absolute URI.
    pub target: &'a str,
    /// The `Host` header (HTTP/2 `:authority`), if any.
    pub host: Option<&'a str>,
    /// The scheme the server was reached by, when the framework knows it (`http` otherwise).
    pub scheme: Option<&'a str>,
}

/// A proof whose checks passed, not yet recorded in the replay cache.
#[derive(Debug)]
#[must_use = "a checked proof must be recorded, or it can be replayed"]
pub struct CheckedProof {
    jkt: String,
    replay_key: [u8; 32],
    remember_until: u64,
}

impl CheckedProof {
    /// The proof key's RFC 7638 thumbprint (SHA-256, base64url).
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// Checks the token's `cnf.jkt` against the proof key (RFC 9449 §6.1, §4.3 step 12).
    ///
    /// # Errors
    /// [`DpopError::NotBound`] without `cnf.jkt`, [`DpopError::KeyMismatch`] when it differs.
    pub fn check_binding(&self, jkt: Option<&str>) -> Result<(), DpopError> {
        let jkt = jkt.ok_or(DpopError::NotBound)?;
        if bool::from(jkt.as_bytes().ct_eq(self.jkt.as_bytes())) {
            Ok(())
        } else {
            Err(DpopError::KeyMismatch)
        }
    }

    /// Records the proof's `jti` (RFC 9449 §11.1): the first of concurrent identical proofs wins.
    ///
    /// # Errors
    /// [`DpopError::Replayed`] when the `jti` was already recorded within the window.
    pub fn record(self, verifier: &DpopVerifier) -> Result<String, DpopError> {
        use quick_cache::sync::GuardResult;
        let now = now_secs();
        match verifier.replay.get_value_or_guard(&self.replay_key, None) {
            GuardResult::Value(until) if until > now => Err(DpopError::Replayed),
            GuardResult::Value(_) => {
                verifier.replay.insert(self.replay_key, self.remember_until);
                Ok(self.jkt)
            }
            GuardResult::Guard(guard) => {
                let _ = guard.insert(self.remember_until);
                Ok(self.jkt)
            }
            GuardResult::Timeout => Err(DpopError::Replayed),
        }
    }
}

/// A proof's JOSE header (RFC 9449 §4.2).
#[derive(serde::Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: Option<String>,
    jwk: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A proof's claims (RFC 9449 §4.2).
#[derive(serde::Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<serde_json::Number>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl DpopVerifier {
    /// The mode.
    pub fn mode(&self) -> DpopMode {
        self.config.mode
    }

    /// A fresh server nonce for the `DPoP-Nonce` header (§8), when nonces are required.
    pub fn fresh_nonce(&self) -> Option<String> {
        self.nonce.as_ref().map(|n| n.issue())
    }

    /// The accepted algorithms, space-separated: the `algs` of the `DPoP` challenge (§7.1).
    pub fn algs(&self) -> &str {
        &self.algs
    }

    /// The URL a proof's `htu` must name for this request: the public base URL (if configured) or
    /// the request's scheme and `Host`, followed by its path; without query (RFC 9449 §4.3 step 9).
    ///
    /// # Errors
    /// [`DpopError::UnknownUrl`] when it cannot be known.
    pub fn expected_htu(&self, request: &ProofTarget<'_>) -> Result<String, DpopError> {
        let target = request.target;
        let path = if target.starts_with('/') {
            target
        } else {
            // Absolute form: `scheme://authority/path?query`.
            match url::Url::parse(target) {
                Ok(url) if self.config.public_base_url.is_none() => {
                    return Ok(strip_query(url.as_str()).to_owned());
                }
                Ok(url) => return self.with_base(url.path()),
                Err(_) => return Err(DpopError::UnknownUrl),
            }
        };
        let path = strip_query(path);
        if self.config.public_base_url.is_some() {
            return self.with_base(path);
        }
        let host = request
            .host
            .filter(|h| !h.is_empty())
            .ok_or(DpopError::UnknownUrl)?;
        Ok(format!(
            "{}://{host}{path}",
            request.scheme.unwrap_or("http")
        ))
    }

    fn with_base(&self, path: &str) -> Result<String, DpopError> {
        let base = self
            .config
            .public_base_url
            .as_ref()
            .ok_or(DpopError::UnknownUrl)?;
        let origin = base.origin().ascii_serialization();
        let prefix = base.path().trim_end_matches('/');
        Ok(format!("{origin}{prefix}{path}"))
    }

    /// The checks of RFC 9449 §4.3 on one proof, step by step, for a request of `method` to `htu`
    /// ([`expected_htu`](Self::expected_htu)) carrying `access_token`. The key binding
    /// ([`CheckedProof::check_binding`]) and the replay check ([`CheckedProof::record`]) follow once
    /// the token is validated.
    ///
    /// # Errors
    /// The [`DpopError`] of the first failed step.
    pub fn verify(
        &self,
        proof: &str,
        method: &str,
        htu: &str,
        access_token: &str,
    ) -> Result<CheckedProof, DpopError> {
        // Step 2: a well-formed JWS compact serialization, bounded before any decoding.
        if proof.len() > MAX_PROOF_BYTES {
            return Err(DpopError::Malformed("longer than 8 KiB"));
        }
        let mut parts = proof.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(DpopError::Malformed("not three dot-separated parts"));
        };
        let header: ProofHeader = decode_json(header_b64)?;
        // Steps 3 and 4: `typ` is `dpop+jwt`.
        let typ = header.typ.ok_or(DpopError::Missing("typ"))?;
        if !typ.eq_ignore_ascii_case("dpop+jwt") {
            return Err(DpopError::WrongType);
        }
        // Step 5: an allowed asymmetric algorithm (never `none`, never HMAC).
        let alg_name = header.alg.ok_or(DpopError::Missing("alg"))?;
        let alg = alg_name
            .parse::<Algorithm>()
            .ok()
            .filter(|a| self.config.algorithms.contains(a))
            .ok_or_else(|| DpopError::AlgorithmNotAllowed(excerpt(&alg_name)))?;
        // Step 7: the `jwk` is a public key, without private members.
        let jwk_json = header.jwk.ok_or(DpopError::Missing("jwk"))?;
        if PRIVATE_MEMBERS.iter().any(|m| jwk_json.contains_key(*m)) {
            return Err(DpopError::PrivateKey);
        }
        let jkt = jwk_thumbprint(&jwk_json).map_err(DpopError::InvalidKey)?;
        let jwk: Jwk = serde_json::from_value(serde_json::Value::Object(jwk_json))
            .map_err(|_| DpopError::InvalidKey("not a JWK"))?;
        // The same parser as the provider's JWKS keys (`use`, `key_ops`, `alg`, curve, size).
        let key = VerifyingKey::from_jwk(&jwk).map_err(DpopError::InvalidKey)?;
        key.fits(alg).map_err(DpopError::InvalidKey)?;
        // Step 6: the signature, with the key from the header.
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| DpopError::InvalidSignature)?;
        let signing_input = proof
            .get(..header_b64.len() + 1 + claims_b64.len())
            .ok_or(DpopError::Malformed("not three dot-separated parts"))?;
        if !key.public.verify(alg, signing_input.as_bytes(), &signature) {
            return Err(DpopError::InvalidSignature);
        }
        // Step 3 (claims): `jti`, `htm`, `htu`, `iat`, and `ath` since an access token is presented.
        let claims: ProofClaims = decode_json(claims_b64)?;
        let jti = claims
            .jti
            .filter(|j| !j.is_empty())
            .ok_or(DpopError::Missing("jti"))?;
        let proof_htm = claims.htm.ok_or(DpopError::Missing("htm"))?;
        let proof_htu = claims.htu.ok_or(DpopError::Missing("htu"))?;
        let iat = claims
            .iat
            .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)))
            .ok_or(DpopError::Missing("iat"))?;
        let ath = claims.ath.ok_or(DpopError::Missing("ath"))?;
        // Step 8: `htm` is the request's method (case-sensitive, RFC 9110 §9.1).
        if proof_htm != method {
            return Err(DpopError::MethodMismatch);
        }
        // Step 9: `htu` is the request's URL, query and fragment ignored, syntax-normalized.
        if !same_url(&proof_htu, htu) {
            return Err(DpopError::UrlMismatch);
        }
        // Step 10: the server-provided nonce, when required (§8).
        if let Some(issuer) = &self.nonce
            && !claims.nonce.as_deref().is_some_and(|n| issuer.check(n))
        {
            return Err(DpopError::UseNonce);
        }
        // Step 11: `iat` within the window.
        let now = now_secs();
        let max_age = self.config.max_age.as_secs();
        if iat > now.saturating_add(self.config.leeway.as_secs())
            || iat.saturating_add(max_age) < now
        {
            return Err(DpopError::IatOutOfWindow);
        }
        // Step 12: `ath` is base64url(SHA-256(access token)) (§4.2).
        let expected_ath = access_token_hash(access_token);
        if !bool::from(ath.as_bytes().ct_eq(expected_ath.as_bytes())) {
            return Err(DpopError::AccessTokenHashMismatch);
        }
        // §11.1: `jti` remembered per key for the window, plus the leeway.
        let mut replay_input = Vec::with_capacity(jkt.len() + 1 + jti.len());
        replay_input.extend_from_slice(jkt.as_bytes());
        replay_input.push(b' ');
        replay_input.extend_from_slice(jti.as_bytes());
        Ok(CheckedProof {
            jkt,
            replay_key: sha256(&replay_input),
            remember_until: iat
                .max(now)
                .saturating_add(max_age)
                .saturating_add(self.config.leeway.as_secs()),
        })
    }
}

/// The `ath` of a proof presented with `access_token` (RFC 9449 §4.2): base64url(SHA-256 of its
/// ASCII).
pub fn access_token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(access_token.as_bytes()))
}

/// One base64url part decoded as JSON.
fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, DpopError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| DpopError::Malformed("a part is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| DpopError::Malformed("a part is not a JSON object"))
}

/// The URL without its query and fragment.
fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url.get(..end).unwrap_or(url)
}

/// RFC 9449 §4.3 step 9, RFC 3986 §6.2.2–6.2.3: scheme and host case-insensitive, default port
/// implied, percent-encoding normalized (by `url`), query and fragment ignored.
fn same_url(proof_htu: &str, expected: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(proof_htu), url::Url::parse(expected)) else {
        return false;
    };
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

#[cfg(test)]
mod tests;
