//! The JWS half of verification (RFC 7515): a compact token split and decoded, its algorithm pinned,
//! its key picked, its signature checked, and only then its claims parsed.

use super::{JwtVerifier, MAX_TOKEN_BYTES};
use crate::claims::Claims;
use crate::error::{ValidationError, excerpt};
use crate::jwks::{VerifyingKey, verify_hmac};
use crate::types::ClientSecret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A token whose signature checked out: its claims, algorithm, `typ` and decoded payload (JSON).
pub(super) struct Verified<T> {
    pub(super) claims: Claims<T>,
    pub(super) alg: Algorithm,
    pub(super) typ: Option<String>,
    pub(super) payload: Vec<u8>,
}

/// A token's JOSE header: only what verification needs (RFC 7515 §4.1).
#[derive(serde::Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

impl JwtVerifier {
    /// Parses the token, pins the algorithm, picks the key, checks the signature, then parses the
    /// claims (only once the signature is known to be good).
    pub(super) async fn verify_signature<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, ValidationError> {
        let jws = CompactJws::split(token)?;
        let header = decode_header(jws.header)?;
        crate::telemetry::token_kid(header.kid.as_deref());
        let alg = self.pin_algorithm(&header)?;
        self.check_header(&header)?;
        self.check_claimed_issuer(jws.payload)?;
        let key = self.key_for(&header, alg).await?;
        check_signature(&jws, &key, alg)?;
        let payload = URL_SAFE_NO_PAD
            .decode(jws.payload)
            .map_err(|_| ValidationError::Malformed("the token payload is not base64url".into()))?;
        let claims = serde_json::from_slice::<Claims<T>>(&payload)
            .map_err(|e| ValidationError::InvalidClaims(e.to_string()))?;
        Ok(Verified {
            claims,
            alg,
            typ: header.typ,
            payload,
        })
    }

    /// RFC 8725 §3.1, RFC 7518 §3.6: the algorithm comes from the allow-list; `none` never does.
    fn pin_algorithm(&self, header: &JoseHeader) -> Result<Algorithm, ValidationError> {
        header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|alg| self.inner.algorithms.contains(alg))
            .ok_or_else(|| ValidationError::AlgorithmNotAllowed {
                alg: excerpt(&header.alg),
            })
    }

    /// The header parameters besides `alg` that can refuse a token: `crit` and the required `typ`.
    fn check_header(&self, header: &JoseHeader) -> Result<(), ValidationError> {
        // RFC 7515 §4.1.11: no extension is understood here, so any `crit` is refused.
        if header.crit.is_some() {
            return Err(ValidationError::UnsupportedCriticalHeader);
        }
        // RFC 7515 §4.1.9, RFC 9068 §4: `typ` when required; "application/" may be omitted.
        if let Some(expected) = &self.inner.required_type {
            let found = header.typ.as_deref().unwrap_or("");
            if bare_media_type(found) != bare_media_type(expected) {
                return Err(ValidationError::InvalidTokenType {
                    expected: expected.clone(),
                    found: excerpt(found),
                });
            }
        }
        Ok(())
    }

    /// Refuses a token that does not even claim our issuer, before any key lookup: it can never be
    /// valid, so it must not cost a JWKS download (an unknown `kid` from a foreign issuer would
    /// otherwise use up the refetch cooldown and delay a real key rotation). This reads `iss`
    /// unverified, only to reject; acceptance still needs the signature and the full checks.
    fn check_claimed_issuer(&self, payload: &str) -> Result<(), ValidationError> {
        #[derive(serde::Deserialize)]
        struct Issuer {
            iss: Option<String>,
        }
        let claimed = decode_part::<Issuer>(payload).ok_or_else(|| {
            ValidationError::Malformed("the token payload is not base64url-encoded JSON".into())
        })?;
        match claimed.iss {
            Some(iss) if iss == self.inner.issuer => Ok(()),
            Some(iss) => Err(ValidationError::InvalidIssuer {
                expected: self.inner.issuer.clone(),
                found: excerpt(&iss),
            }),
            None => Err(ValidationError::MissingClaim("iss")),
        }
    }

    /// The key: the app secret for HS*, else the JWKS key for `kid`, pinned by its type and `alg`.
    async fn key_for(
        &self,
        header: &JoseHeader,
        alg: Algorithm,
    ) -> Result<SigningKey<'_>, ValidationError> {
        let not_allowed = || ValidationError::AlgorithmNotAllowed {
            alg: excerpt(&header.alg),
        };
        match alg.family() {
            AlgorithmFamily::Hmac => self
                .inner
                .hmac
                .as_ref()
                .map(SigningKey::Hmac)
                .ok_or_else(not_allowed),
            _ => {
                let jwks = self.inner.jwks.as_ref().ok_or_else(not_allowed)?;
                let key = jwks.key_for(header.kid.as_deref(), alg).await?;
                Ok(SigningKey::Jwks(key))
            }
        }
    }
}

/// A token in JWS compact serialization (RFC 7515 §7.1):
/// `BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature)`, not decoded yet.
struct CompactJws<'a> {
    /// `header.payload`: what the signature is over.
    signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> CompactJws<'a> {
    /// Splits a token into its three parts, refusing oversized tokens and any other shape.
    fn split(token: &'a str) -> Result<Self, ValidationError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ValidationError::Malformed(format!(
                "token longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let three_parts = || {
            ValidationError::Malformed(
                "a JWT is three dot-separated base64url parts (encrypted and unsigned tokens are not accepted)"
                    .into(),
            )
        };
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(three_parts)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(three_parts)?;
        if payload.contains('.') || header.is_empty() || payload.is_empty() {
            return Err(three_parts());
        }
        Ok(Self {
            signing_input,
            header,
            payload,
            signature,
        })
    }
}

/// RFC 7515 §4: the header is a base64url-encoded JSON object.
fn decode_header(header: &str) -> Result<JoseHeader, ValidationError> {
    decode_part(header).ok_or_else(|| {
        ValidationError::Malformed("the token header is not base64url-encoded JSON".into())
    })
}

/// A media type without surrounding space, lowercased, without its optional `application/` prefix
/// (RFC 7515 §4.1.9).
pub(super) fn bare_media_type(typ: &str) -> String {
    let lower = typ.trim().to_ascii_lowercase();
    lower
        .strip_prefix("application/")
        .map(str::to_owned)
        .unwrap_or(lower)
}

/// The key a token's signature is checked with: the app secret, or a key from the JWKS.
enum SigningKey<'a> {
    Hmac(&'a ClientSecret),
    Jwks(Arc<VerifyingKey>),
}

/// RFC 7515 §5.2 step 8: the signature over `header.payload`.
fn check_signature(
    jws: &CompactJws<'_>,
    key: &SigningKey<'_>,
    alg: Algorithm,
) -> Result<(), ValidationError> {
    let signature = URL_SAFE_NO_PAD
        .decode(jws.signature)
        .map_err(|_| ValidationError::InvalidSignature)?;
    let message = jws.signing_input.as_bytes();
    let valid = match key {
        SigningKey::Hmac(secret) => {
            verify_hmac(secret.secret().as_bytes(), alg, message, &signature)
        }
        SigningKey::Jwks(key) => key.public.verify(alg, message, &signature),
    };
    if valid {
        Ok(())
    } else {
        Err(ValidationError::InvalidSignature)
    }
}

/// Decodes one base64url part into JSON.
fn decode_part<T: DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}
