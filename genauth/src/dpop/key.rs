//! [`DpopKey`]: a client's DPoP key (ES256) and the proofs it signs (RFC 9449 §4.2).

use super::jwk_thumbprint;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

/// A P-256 key pair for DPoP (ES256, RFC 9449 §4.2), for clients and tests: its public
/// [`jwk`](Self::jwk), its RFC 7638 [`thumbprint`](Self::thumbprint) (the `jkt` a bound token
/// carries), and [`proof`](Self::proof)s. `Debug` shows the thumbprint, never the private key.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    jwk: serde_json::Map<String, serde_json::Value>,
    thumbprint: String,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be made or a proof signed (the system's random generator failed).
#[derive(Debug, thiserror::Error)]
#[error("DPoP key operation failed: {0}")]
pub struct DpopKeyError(&'static str);

impl DpopKey {
    /// A fresh random key.
    ///
    /// # Errors
    /// When the system's random generator fails.
    pub fn generate() -> Result<Self, DpopKeyError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| DpopKeyError("key generation"))?;
        // SEC 1 §2.3.3: the uncompressed point 0x04 ‖ x ‖ y, 32 bytes each for P-256.
        let point = pair.public_key().as_ref();
        let (x, y) = match (point.get(1..33), point.get(33..65)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(DpopKeyError("unexpected public key encoding")),
        };
        let mut jwk = serde_json::Map::new();
        jwk.insert("kty".into(), "EC".into());
        jwk.insert("crv".into(), "P-256".into());
        jwk.insert("x".into(), URL_SAFE_NO_PAD.encode(x).into());
        jwk.insert("y".into(), URL_SAFE_NO_PAD.encode(y).into());
        let thumbprint = jwk_thumbprint(&jwk).map_err(DpopKeyError)?;
        Ok(Self {
            pair,
            jwk,
            thumbprint,
        })
    }

    /// The public key as a JWK (`kty` `EC`, `crv` `P-256`, `x`, `y`).
    pub fn jwk(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.jwk
    }

    /// The key's RFC 7638 SHA-256 thumbprint, base64url: the `jkt` of tokens bound to it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for a request of `htm` to `htu`, issued now with a random `jti`, with `ath` when an
    /// access token is given (RFC 9449 §4.2).
    ///
    /// # Errors
    /// When the random generator or the signature fails.
    pub fn proof(
        &self,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
    ) -> Result<String, DpopKeyError> {
        self.proof_with_nonce(htm, htu, access_token, None)
    }

    /// As [`proof`](Self::proof), with the server's `nonce` (the last `DPoP-Nonce` it sent, §8).
    ///
    /// # Errors
    /// When the random generator or the signature fails.
    pub fn proof_with_nonce(
        &self,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, DpopKeyError> {
        let mut claims = serde_json::json!({
            "jti": random_jti()?,
            "htm": htm,
            "htu": htu,
            "iat": crate::clock::now_secs(),
        });
        if let (Some(token), Some(map)) = (access_token, claims.as_object_mut()) {
            map.insert("ath".into(), super::access_token_hash(token).into());
        }
        if let (Some(nonce), Some(map)) = (nonce, claims.as_object_mut()) {
            map.insert("nonce".into(), nonce.into());
        }
        self.sign(&claims)
    }

    /// A proof with these exact claims (for tests of refused proofs: stale `iat`, wrong `htm`, …),
    /// header `typ` `dpop+jwt`, `alg` `ES256` and this key's `jwk`.
    ///
    /// # Errors
    /// When the signature fails.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, DpopKeyError> {
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        self.sign_with_header(&header, claims)
    }

    /// A JWS with this header and these claims, signed by this key (ES256), whatever the header
    /// says: for tests of malformed proofs.
    ///
    /// # Errors
    /// When the signature fails.
    pub fn sign_with_header(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String, DpopKeyError> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| DpopKeyError("signature"))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// 16 random bytes, base64url: a `jti` no one else picks (RFC 9449 §4.2).
fn random_jti() -> Result<String, DpopKeyError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| DpopKeyError("random jti"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
