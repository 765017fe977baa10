//! Key parsing for [`JwksCache`](super::JwksCache): which JWKS entries become verifying keys
//! (RFC 7517 §4), and which key verifies a given token (RFC 7515 §4.1.4, RFC 8725 §3.1).

use super::signature::PublicKeys;
use crate::error::{ValidationError, excerpt};
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

/// A signing key from a JWKS, parsed once.
pub(crate) struct VerifyingKey {
    /// The key's `kid`, if any.
    pub(crate) kid: Option<String>,
    /// The key's `alg` (RFC 7517 §4.4), when it names one: then it is the only algorithm allowed.
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    curve: Option<EllipticCurve>,
    /// The public key, parsed for each algorithm it may verify.
    pub(crate) public: PublicKeys,
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
    /// Parses a JWK into a verifying key, or says why it is skipped. Also used for the public key of
    /// a DPoP proof (`crate::dpop`), so that a proof's `jwk` is parsed by this one parser.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, &'static str> {
        // RFC 7517 §4.2: a key for encryption must not verify signatures.
        match &jwk.common.public_key_use {
            None | Some(PublicKeyUse::Signature) => {}
            Some(_) => return Err("`use` is not `sig`"),
        }
        // RFC 7517 §4.3
        if let Some(ops) = &jwk.common.key_operations
            && !ops.iter().any(|op| matches!(op, KeyOperations::Verify))
        {
            return Err("`key_ops` does not include `verify`");
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
        let public = PublicKeys::parse(&jwk.algorithm, alg)?;
        let key = Self {
            kid: jwk.common.key_id.clone(),
            alg,
            family,
            curve,
            public,
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
pub(super) struct KeySet {
    pub(super) by_kid: HashMap<String, Arc<VerifyingKey>>,
    pub(super) keys: Vec<Arc<VerifyingKey>>,
    /// 0 until the first successful download; +1 per successful download.
    pub(super) generation: u64,
    /// When to start refreshing (`None`: static keys, or never fetched).
    pub(super) refresh_at: Option<Instant>,
}

impl KeySet {
    pub(super) fn empty() -> Self {
        Self {
            by_kid: HashMap::new(),
            keys: Vec::new(),
            generation: 0,
            refresh_at: None,
        }
    }

    /// Parses the usable keys of a set, skipping the others.
    pub(super) fn parse(
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
    pub(super) fn find(
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
