//! Signature checks with aws-lc-rs directly (RFC 7518 §3): each JWKS key is parsed into
//! ready-to-verify aws-lc-rs public keys once, when the set is downloaded, so a verification is one
//! signature check, with no key parsing and no allocation. Going around `jsonwebtoken`'s
//! process-global crypto provider also means no other crate enabling another `jsonwebtoken` backend
//! can make verification panic.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};

/// A JWKS key's public key, parsed for every algorithm it may verify.
pub(crate) struct PublicKeys {
    /// `(algorithm, key)`: one entry per algorithm (RSA: up to six; EC and Ed25519: one).
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

/// The RSA signature algorithms (RFC 7518 §3.3, §3.5) and aws-lc-rs's verifier for each: keys of
/// 2048 to 8192 bits (RFC 7518 §3.3: at least 2048).
const RSA: [(Algorithm, &signature::RsaParameters); 6] = [
    (Algorithm::RS256, &signature::RSA_PKCS1_2048_8192_SHA256),
    (Algorithm::RS384, &signature::RSA_PKCS1_2048_8192_SHA384),
    (Algorithm::RS512, &signature::RSA_PKCS1_2048_8192_SHA512),
    (Algorithm::PS256, &signature::RSA_PSS_2048_8192_SHA256),
    (Algorithm::PS384, &signature::RSA_PSS_2048_8192_SHA384),
    (Algorithm::PS512, &signature::RSA_PSS_2048_8192_SHA512),
];

impl PublicKeys {
    /// Parses the key parameters of a JWK for every algorithm its type allows, or only for `only`
    /// (the one its `alg` names); an error says why the key is unusable.
    pub(crate) fn parse(
        params: &AlgorithmParameters,
        only: Option<Algorithm>,
    ) -> Result<Self, &'static str> {
        let bytes = |b64: &str| {
            URL_SAFE_NO_PAD
                .decode(b64)
                .map_err(|_| "key parameters are not base64url")
        };
        let allowed = |alg: Algorithm| only.is_none_or(|only| only == alg);
        let mut parsed = Vec::new();
        match params {
            AlgorithmParameters::RSA(rsa) => {
                // RFC 7518 §6.3.1: big-endian unsigned integers, without leading zeros.
                let components = RsaPublicKeyComponents {
                    n: strip_leading_zeros(bytes(&rsa.n)?),
                    e: strip_leading_zeros(bytes(&rsa.e)?),
                };
                for (alg, params) in RSA.into_iter().filter(|(alg, _)| allowed(*alg)) {
                    let key = components.to_parsed_public_key(params).map_err(
                        |_| "RSA key parameters do not parse (or the key is under 2048 bits)",
                    )?;
                    parsed.push((alg, key));
                }
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let (alg, verifier): (_, &'static dyn signature::VerificationAlgorithm) = match ec
                    .curve
                {
                    EllipticCurve::P256 => (Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED),
                    EllipticCurve::P384 => (Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED),
                    _ => return Err("unsupported EC curve (P-256 and P-384 are supported)"),
                };
                // SEC 1 §2.3.3: the uncompressed point 0x04 ‖ x ‖ y.
                let mut point = vec![0x04];
                point.extend(bytes(&ec.x)?);
                point.extend(bytes(&ec.y)?);
                if allowed(alg) {
                    let key = ParsedPublicKey::new(verifier, point)
                        .map_err(|_| "EC key parameters do not parse")?;
                    parsed.push((alg, key));
                }
            }
            AlgorithmParameters::OctetKeyPair(okp) => {
                if okp.curve != EllipticCurve::Ed25519 {
                    return Err("unsupported OKP curve (Ed25519 is supported)");
                }
                if allowed(Algorithm::EdDSA) {
                    // RFC 8037 §2: `x` is the public key.
                    let key = ParsedPublicKey::new(&signature::ED25519, bytes(&okp.x)?)
                        .map_err(|_| "Ed25519 key parameters do not parse")?;
                    parsed.push((Algorithm::EdDSA, key));
                }
            }
            _ => return Err("unsupported key type"),
        }
        if parsed.is_empty() {
            return Err("`alg` does not match the key type");
        }
        Ok(Self { parsed })
    }

    /// Whether `signature` is a valid `alg` signature of `message` under this key; `false` too
    /// when the key is not for `alg`.
    pub(crate) fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.parsed
            .iter()
            .find(|(a, _)| *a == alg)
            .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }
}

/// RFC 7518 §6.3.1.1: no leading zero octets (some encoders add one).
fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros.min(bytes.len().saturating_sub(1)));
    bytes
}

/// An HMAC check with the app secret (RFC 7518 §3.2), in constant time.
pub(crate) fn verify_hmac(secret: &[u8], alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    let algorithm = match alg {
        Algorithm::HS256 => aws_lc_rs::hmac::HMAC_SHA256,
        Algorithm::HS384 => aws_lc_rs::hmac::HMAC_SHA384,
        Algorithm::HS512 => aws_lc_rs::hmac::HMAC_SHA512,
        _ => return false,
    };
    let key = aws_lc_rs::hmac::Key::new(algorithm, secret);
    aws_lc_rs::hmac::verify(&key, message, signature).is_ok()
}
