//! Test doubles (feature `testing`):
//!
//! - [`TestIssuer`]: an in-process token issuer that generates a signing key, mints tokens, and hands
//!   out a verifier and a validator that trust it. No network at all: the keys reach the verifier
//!   through [`JwksCache::from_jwk_set`].
//! - [`TestProvider`]: an in-process OpenID Provider on a loopback port of its own (discovery,
//!   login page, code + PKCE, refresh, client credentials, userinfo, introspection, revocation,
//!   end-session), for tests of sign-in flows; see [`provider`].
//!
//! ```
//! use genauth::testing::TestIssuer;
//! use genauth::validator::TokenValidator;
//!
//! # async fn doc() -> Result<(), genauth::ValidationError> {
//! let issuer = TestIssuer::new(); // ES256, issuer https://issuer.genauth.test, audience genauth-test
//! let validator = issuer.validator();
//!
//! let token = issuer.mint(serde_json::json!({"sub": "alice", "scope": "read:orders"}));
//! let claims = validator.validate(&token).await?;
//! assert_eq!(claims.sub.as_deref(), Some("alice"));
//! assert!(claims.has_scope("read:orders"));
//!
//! assert!(validator.validate(&issuer.expired_token()).await.is_err());
//! assert!(validator.validate(&issuer.forged_token()).await.is_err());
//! # Ok(()) }
//! ```

pub mod provider;
#[cfg(feature = "redis")]
mod redis_server;

#[cfg(feature = "redis")]
pub use redis_server::{RedisServer, RedisServerError};

pub use provider::{
    BackchannelDelivery, DEFAULT_USERNAME, LoginMode, Outage, RecordedRequest, TestClient,
    TestProvider, TestProviderBuilder, TestProviderError, TokenLifetimes,
};

use crate::clock::now_secs;
use crate::jwks::JwksCache;
use crate::jwt::JwtVerifier;
use crate::validator::JwksValidator;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// The issuer of [`TestIssuer::new`].
pub const DEFAULT_ISSUER: &str = "https://issuer.genauth.test";
/// The default audience of a [`TestIssuer`].
pub const DEFAULT_AUDIENCE: &str = "genauth-test";
/// The `sub` of minted tokens unless given.
pub const DEFAULT_SUBJECT: &str = "test-user";
/// Lifetime of minted tokens unless `exp` is given: one hour, in seconds.
pub const DEFAULT_LIFETIME_SECS: u64 = 3600;

/// A private signing key.
enum SigningKey {
    Ecdsa(sig::EcdsaKeyPair),
    Rsa(sig::RsaKeyPair),
    Ed25519(sig::Ed25519KeyPair),
}

impl SigningKey {
    /// Generates a key for `alg`, and its public JWK parameters.
    fn generate(alg: Algorithm) -> (Self, AlgorithmParameters) {
        let failed = |what: &str| -> ! { panic!("TestIssuer: generating the {what} key failed") };
        match alg {
            Algorithm::ES256 | Algorithm::ES384 => {
                let (signing, curve, len) = if alg == Algorithm::ES256 {
                    (
                        &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                        EllipticCurve::P256,
                        32,
                    )
                } else {
                    (
                        &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
                        EllipticCurve::P384,
                        48,
                    )
                };
                let key = sig::EcdsaKeyPair::generate(signing).unwrap_or_else(|_| failed("EC"));
                // Uncompressed point: 0x04 || x || y.
                let point = key.public_key().as_ref();
                let (x, y) = point
                    .get(1..)
                    .unwrap_or_default()
                    .split_at(len.min(point.len() / 2));
                let params = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve,
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                });
                (Self::Ecdsa(key), params)
            }
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let key = sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .unwrap_or_else(|_| failed("RSA"));
                let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(key.public_key());
                let params = AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: URL_SAFE_NO_PAD.encode(&public.n),
                    e: URL_SAFE_NO_PAD.encode(&public.e),
                });
                (Self::Rsa(key), params)
            }
            Algorithm::EdDSA => {
                let key = sig::Ed25519KeyPair::generate().unwrap_or_else(|_| failed("Ed25519"));
                let params = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: URL_SAFE_NO_PAD.encode(key.public_key().as_ref()),
                });
                (Self::Ed25519(key), params)
            }
            other => panic!(
                "TestIssuer signs with asymmetric algorithms only, not {other:?}; \
                 HMAC tokens are signed with the app secret"
            ),
        }
    }

    /// Signs `message` with `alg`'s padding/hash.
    fn sign(&self, alg: Algorithm, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        let failed = || -> ! { panic!("TestIssuer: signing failed") };
        match self {
            Self::Ecdsa(key) => key
                .sign(&rng, message)
                .unwrap_or_else(|_| failed())
                .as_ref()
                .to_vec(),
            Self::Ed25519(key) => key.sign(message).as_ref().to_vec(),
            Self::Rsa(key) => {
                let padding: &'static dyn sig::RsaEncoding = match alg {
                    Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &sig::RSA_PSS_SHA256,
                    Algorithm::PS384 => &sig::RSA_PSS_SHA384,
                    Algorithm::PS512 => &sig::RSA_PSS_SHA512,
                    _ => &sig::RSA_PKCS1_SHA256,
                };
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(padding, &rng, message, &mut signature)
                    .unwrap_or_else(|_| failed());
                signature
            }
        }
    }
}

/// An in-process token issuer for tests: a fresh key pair, tokens minted on demand, and a verifier and
/// validator that trust exactly this issuer. See the [module docs](self).
///
/// Constructors and minting panic if the system's crypto fails (they are test helpers).
/// `Clone` shares the key.
#[derive(Clone)]
pub struct TestIssuer {
    issuer: String,
    audience: String,
    alg: Algorithm,
    kid: String,
    key: Arc<SigningKey>,
    jwks: JwkSet,
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl TestIssuer {
    /// An ES256 issuer (fast key generation) named [`DEFAULT_ISSUER`], audience [`DEFAULT_AUDIENCE`].
    pub fn new() -> Self {
        Self::with_algorithm(Algorithm::ES256)
    }

    /// An RS256 issuer with a 2048-bit key (generation takes tens of milliseconds), like GenAuth's
    /// access tokens.
    pub fn rs256() -> Self {
        Self::with_algorithm(Algorithm::RS256)
    }

    /// An issuer signing with `alg`: ES256, ES384, RS256/384/512, PS256/384/512 (RSA 2048) or EdDSA
    /// (Ed25519).
    ///
    /// # Panics
    /// For an HMAC algorithm (HS256 tokens are signed with the app secret, not a JWKS key).
    pub fn with_algorithm(alg: Algorithm) -> Self {
        let (key, params) = SigningKey::generate(alg);
        // A kid derived from the public key: stable for the key, distinct across keys.
        let public = serde_json::to_vec(&params).unwrap_or_default();
        let digest = crate::types::sha256(&public);
        let kid = URL_SAFE_NO_PAD.encode(digest.get(..12).unwrap_or(&digest));
        let jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(key_algorithm(alg)),
                key_id: Some(kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: params,
        };
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            alg,
            kid,
            key: Arc::new(key),
            jwks: JwkSet { keys: vec![jwk] },
        }
    }

    /// The same key, issuing as `issuer` (the `iss` of minted tokens and of the verifier).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// The same key, with `audience` as the default `aud` of minted tokens and the verifier's audience.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The default audience (`aud`).
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key set (one key, with `kid`, `alg` and `use: sig`), e.g. to serve from a mock
    /// `jwks_uri` or to pass as a static JWKS.
    pub fn jwks(&self) -> JwkSet {
        self.jwks.clone()
    }

    /// Mints a signed token. Defaults: `iss` = the issuer, `aud` = the audience, `sub` =
    /// [`DEFAULT_SUBJECT`], `iat` = now, `exp` = now + 1 hour (seconds since the epoch). `claims`, a
    /// JSON object, overrides and adds to them; a claim given as `null` is left out.
    ///
    /// # Panics
    /// When `claims` is neither an object nor `null`.
    pub fn mint(&self, claims: Value) -> String {
        self.mint_with_header(Value::Null, claims)
    }

    /// Like [`mint`](Self::mint), with header fields overriding the default `{"alg", "typ": "at+jwt",
    /// "kid"}` (`null` removes one). The token is always signed with this issuer's key and algorithm,
    /// whatever the header says: handy for testing algorithm confusion, a missing `kid`, `crit`...
    ///
    /// # Panics
    /// When `header` or `claims` is neither an object nor `null`.
    pub fn mint_with_header(&self, header: Value, claims: Value) -> String {
        self.sign_with(&self.key, header, claims)
    }

    /// A token that expired an hour ago (issued two hours ago).
    pub fn expired_token(&self) -> String {
        let now = now_secs();
        self.mint(serde_json::json!({
            "iat": now.saturating_sub(2 * DEFAULT_LIFETIME_SECS),
            "exp": now.saturating_sub(DEFAULT_LIFETIME_SECS),
        }))
    }

    /// A token with valid claims and this issuer's `kid`, signed by a different key of the same type:
    /// its signature must fail.
    pub fn forged_token(&self) -> String {
        let (other, _) = SigningKey::generate(self.alg);
        self.sign_with(&other, Value::Null, Value::Null)
    }

    /// A key cache holding this issuer's public key (no network).
    pub fn jwks_cache(&self) -> JwksCache {
        JwksCache::from_jwk_set(&self.jwks)
            .unwrap_or_else(|e| panic!("TestIssuer: its own JWKS is unusable: {e}"))
    }

    /// A verifier trusting this issuer: its issuer, its audience, its key, default leeway.
    pub fn verifier(&self) -> JwtVerifier {
        JwtVerifier::builder(&self.issuer)
            .audience(&self.audience)
            .jwks(self.jwks_cache())
            .build()
            .unwrap_or_else(|e| panic!("TestIssuer: verifier configuration refused: {e}"))
    }

    /// A [`JwksValidator`] (with its default cache) trusting this issuer: what a bearer layer takes.
    pub fn validator(&self) -> JwksValidator {
        JwksValidator::new(self.verifier())
    }

    fn sign_with(&self, key: &SigningKey, header: Value, claims: Value) -> String {
        let now = now_secs();
        let mut default_header = Map::new();
        default_header.insert(
            "alg".into(),
            serde_json::to_value(self.alg).unwrap_or(Value::Null),
        );
        // Access tokens, typed as RFC 9068 §2.1 says.
        default_header.insert("typ".into(), "at+jwt".into());
        default_header.insert("kid".into(), self.kid.clone().into());
        let mut default_claims = Map::new();
        default_claims.insert("iss".into(), self.issuer.clone().into());
        default_claims.insert("aud".into(), self.audience.clone().into());
        default_claims.insert("sub".into(), DEFAULT_SUBJECT.into());
        default_claims.insert("iat".into(), now.into());
        default_claims.insert("exp".into(), (now + DEFAULT_LIFETIME_SECS).into());

        let encode = |map: Map<String, Value>| {
            let json = serde_json::to_vec(&map).unwrap_or_default();
            URL_SAFE_NO_PAD.encode(json)
        };
        let message = format!(
            "{}.{}",
            encode(overlay(default_header, header, "header")),
            encode(overlay(default_claims, claims, "claims"))
        );
        let signature = key.sign(self.alg, message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// `base` with `changes` applied: values replace, `null` removes.
fn overlay(mut base: Map<String, Value>, changes: Value, what: &str) -> Map<String, Value> {
    match changes {
        Value::Null => {}
        Value::Object(changes) => {
            for (name, value) in changes {
                if value.is_null() {
                    base.remove(&name);
                } else {
                    base.insert(name, value);
                }
            }
        }
        other => panic!("TestIssuer: {what} must be a JSON object, got {other}"),
    }
    base
}

fn key_algorithm(alg: Algorithm) -> KeyAlgorithm {
    match alg {
        Algorithm::ES384 => KeyAlgorithm::ES384,
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::RS384 => KeyAlgorithm::RS384,
        Algorithm::RS512 => KeyAlgorithm::RS512,
        Algorithm::PS256 => KeyAlgorithm::PS256,
        Algorithm::PS384 => KeyAlgorithm::PS384,
        Algorithm::PS512 => KeyAlgorithm::PS512,
        Algorithm::EdDSA => KeyAlgorithm::EdDSA,
        _ => KeyAlgorithm::ES256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validator::{TokenValidator, ValidationError};
    use serde_json::json;

    #[tokio::test]
    async fn minted_tokens_validate_and_bad_ones_do_not() {
        let issuer = TestIssuer::new();
        let v = issuer.validator();
        let claims = v.validate(&issuer.mint(json!({}))).await.unwrap();
        assert_eq!(claims.sub.as_deref(), Some(DEFAULT_SUBJECT));
        assert_eq!(claims.iss.as_deref(), Some(DEFAULT_ISSUER));
        assert_eq!(claims.aud, vec![DEFAULT_AUDIENCE]);
        let lifetime = claims.exp.unwrap() - claims.iat.unwrap();
        assert_eq!(lifetime, DEFAULT_LIFETIME_SECS);
        assert!(matches!(
            v.validate(&issuer.expired_token()).await,
            Err(ValidationError::Expired { .. })
        ));
        assert!(matches!(
            v.validate(&issuer.forged_token()).await,
            Err(ValidationError::InvalidSignature)
        ));
    }

    #[tokio::test]
    async fn claims_override_and_null_removes() {
        let issuer = TestIssuer::new()
            .with_issuer("https://other.test")
            .with_audience("api");
        let token = issuer.mint(json!({"sub": "bob", "iat": null, "role": "admin"}));
        let claims = issuer.validator().validate(&token).await.unwrap();
        assert_eq!(claims.sub.as_deref(), Some("bob"));
        assert_eq!(claims.iss.as_deref(), Some("https://other.test"));
        assert_eq!(claims.aud, vec!["api"]);
        assert_eq!(claims.iat, None);
        assert_eq!(claims.extra["role"], "admin");
        // Another issuer's validator refuses it.
        assert!(
            TestIssuer::new()
                .validator()
                .validate(&token)
                .await
                .is_err()
        );
    }

    #[test]
    fn jwks_is_public_only_and_debug_is_short() {
        let issuer = TestIssuer::rs256();
        let jwks = serde_json::to_value(issuer.jwks()).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], issuer.kid());
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private exponent");
        assert_ne!(TestIssuer::new().kid(), TestIssuer::new().kid());
        assert!(format!("{issuer:?}").contains(issuer.kid()));
    }
}
