//! The JWS half of verification (RFC 7515): a compact token split and decoded, its algorithm pinned,
//! its key picked, its signature checked, and only then its claims parsed.

use super::typing::{Markers, Typ};
use super::{JwtVerifier, MAX_TOKEN_BYTES};
use crate::claims::Claims;
use crate::clock::now_secs;
use crate::error::{ValidationError, excerpt};
use crate::jwks::{VerifyingKey, verify_hmac};
use crate::types::ClientSecret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::de::{DeserializeOwned, IgnoredAny};
use std::borrow::Cow;
use std::sync::Arc;

/// Longest signature accepted, in bytes: an RSA-8192 signature (the largest key aws-lc-rs verifies
/// here); HMAC-SHA-512 and ECDSA P-384 are shorter.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// A token whose signature checked out: its claims, algorithm, `typ` and the claims that tell what
/// kind of JWT it is.
pub(super) struct Verified<T> {
    pub(super) claims: Claims<T>,
    pub(super) alg: Algorithm,
    pub(super) typ: Typ,
    pub(super) markers: Markers,
}

/// A token's JOSE header: only what verification needs (RFC 7515 §4.1), borrowed from the decoded
/// header (no allocation unless a value has JSON escapes).
#[derive(serde::Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// What is read from the payload before the signature is checked, in one pass: the claimed issuer
/// and expiry (to refuse a token that can never be valid without a signature check or a key
/// lookup) and the typing markers (read for their presence). Never used to accept a token.
#[derive(serde::Deserialize)]
struct Screen<'a> {
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
    /// `None` too when not a number: left to the full check after the signature.
    #[serde(default, deserialize_with = "lenient_numeric_date")]
    exp: Option<u64>,
    nonce: Option<IgnoredAny>,
    at_hash: Option<IgnoredAny>,
    c_hash: Option<IgnoredAny>,
    events: Option<IgnoredAny>,
    cnf: Option<IgnoredAny>,
    scope: Option<IgnoredAny>,
    scp: Option<IgnoredAny>,
    client_id: Option<IgnoredAny>,
}

/// A `NumericDate` when the value is one, else `None` (never an error: the screen only rejects).
fn lenient_numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::Deserialize as _;
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => crate::claims::numeric_date_secs(&n),
        _ => None,
    })
}

impl JwtVerifier {
    /// Parses the token, pins the algorithm, screens the claimed issuer and expiry, picks the key,
    /// checks the signature, then parses the claims (only once the signature is known to be good).
    pub(super) async fn verify_signature<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, ValidationError> {
        let jws = CompactJws::split(token)?;
        let header_bytes = URL_SAFE_NO_PAD
            .decode(jws.header)
            .map_err(|_| bad_header())?;
        let header: JoseHeader<'_> =
            serde_json::from_slice(&header_bytes).map_err(|_| bad_header())?;
        crate::telemetry::token_kid(header.kid.as_deref());
        let alg = self.pin_algorithm(&header)?;
        self.check_header(&header)?;
        let payload = URL_SAFE_NO_PAD
            .decode(jws.payload)
            .map_err(|_| bad_payload())?;
        let markers = self.screen(&payload)?;
        let key = self.key_for(&header, alg).await?;
        check_signature(&jws, &key, alg)?;
        let claims = serde_json::from_slice::<Claims<T>>(&payload)
            .map_err(|e| ValidationError::InvalidClaims(e.to_string()))?;
        Ok(Verified {
            claims,
            alg,
            typ: Typ::of(header.typ.as_deref()),
            markers,
        })
    }

    /// Refuses a token that is not a JWS in compact serialization (three non-empty dot-separated
    /// parts, at most the size limit) with the error [`verify`](Self::verify) gives it: a check
    /// that needs no key, for the validators' synchronous path.
    pub(crate) fn check_compact_shape(&self, token: &str) -> Result<(), ValidationError> {
        CompactJws::split(token).map(|_| ())
    }

    /// RFC 8725 §3.1, RFC 7518 §3.6: the algorithm comes from the allow-list; `none` never does.
    fn pin_algorithm(&self, header: &JoseHeader<'_>) -> Result<Algorithm, ValidationError> {
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
    fn check_header(&self, header: &JoseHeader<'_>) -> Result<(), ValidationError> {
        // RFC 7515 §4.1.11: no extension is understood here, so any `crit` is refused.
        if header.crit.is_some() {
            return Err(ValidationError::UnsupportedCriticalHeader);
        }
        // RFC 7515 §4.1.9, RFC 9068 §4: `typ` when required; "application/" may be omitted.
        if let Some(expected) = &self.inner.required_type {
            let found = header.typ.as_deref().unwrap_or("");
            if !bare_media_type(found).eq_ignore_ascii_case(bare_media_type(expected)) {
                return Err(ValidationError::InvalidTokenType {
                    expected: expected.clone(),
                    found: excerpt(found),
                });
            }
        }
        Ok(())
    }

    /// Refuses a token that does not even claim our issuer, or that has expired, before any key
    /// lookup or signature check: it can never be valid, so it must cost neither a JWKS download (an
    /// unknown `kid` from a foreign issuer would otherwise use up the refetch cooldown and delay a
    /// real key rotation) nor a signature check. This reads the payload unverified, only to reject;
    /// acceptance still needs the signature and the full checks. Returns the typing markers, read
    /// in the same pass.
    fn screen(&self, payload: &[u8]) -> Result<Markers, ValidationError> {
        let screen: Screen<'_> = serde_json::from_slice(payload).map_err(|_| bad_payload())?;
        match screen.iss.as_deref() {
            Some(iss) if iss == self.inner.issuer => {}
            Some(iss) => {
                return Err(ValidationError::InvalidIssuer {
                    expected: self.inner.issuer.clone(),
                    found: excerpt(iss),
                });
            }
            None => return Err(ValidationError::MissingClaim("iss")),
        }
        // RFC 7519 §4.1.4, as `check_registered_claims` checks it after the signature (a missing or
        // malformed `exp` is left to that check).
        if let Some(exp) = screen.exp
            && now_secs() >= exp.saturating_add(self.inner.leeway_secs)
        {
            return Err(ValidationError::Expired { expired_at: exp });
        }
        Ok(Markers {
            id_token: screen.nonce.is_some() || screen.at_hash.is_some() || screen.c_hash.is_some(),
            events: screen.events.is_some(),
            cnf: screen.cnf.is_some(),
            access_token_shaped: screen.scope.is_some()
                || screen.scp.is_some()
                || screen.client_id.is_some(),
        })
    }

    /// The key: the app secret for HS*, else the JWKS key for `kid`, pinned by its type and `alg`.
    async fn key_for(
        &self,
        header: &JoseHeader<'_>,
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
fn bad_header() -> ValidationError {
    ValidationError::Malformed("the token header is not base64url-encoded JSON".into())
}

/// RFC 7519 §7.2 step 10: the payload is a base64url-encoded JSON object (the claims set).
fn bad_payload() -> ValidationError {
    ValidationError::Malformed("the token payload is not base64url-encoded JSON".into())
}

/// A media type without surrounding space and without its optional `application/` prefix (RFC 7515
/// §4.1.9), to be compared case-insensitively.
pub(super) fn bare_media_type(typ: &str) -> &str {
    let typ = typ.trim();
    match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..).unwrap_or(""),
        _ => typ,
    }
}

/// The key a token's signature is checked with: the app secret, or a key from the JWKS.
enum SigningKey<'a> {
    Hmac(&'a ClientSecret),
    Jwks(Arc<VerifyingKey>),
}

/// Room for the longest signature plus the 2 bytes by which base64's length estimate may overshoot.
const SIGNATURE_BUFFER_BYTES: usize = MAX_SIGNATURE_BYTES + 2;

/// The signature decoded on the stack (no allocation); `None` when it is not base64url or longer
/// than [`MAX_SIGNATURE_BYTES`].
fn decode_signature<'b>(
    encoded: &str,
    buffer: &'b mut [u8; SIGNATURE_BUFFER_BYTES],
) -> Option<&'b [u8]> {
    let length = URL_SAFE_NO_PAD.decode_slice(encoded, buffer).ok()?;
    buffer
        .get(..length)
        .filter(|s| s.len() <= MAX_SIGNATURE_BYTES)
}

/// RFC 7515 §5.2 step 8: the signature over `header.payload`.
fn check_signature(
    jws: &CompactJws<'_>,
    key: &SigningKey<'_>,
    alg: Algorithm,
) -> Result<(), ValidationError> {
    let mut buffer = [0u8; SIGNATURE_BUFFER_BYTES];
    let signature =
        decode_signature(jws.signature, &mut buffer).ok_or(ValidationError::InvalidSignature)?;
    let message = jws.signing_input.as_bytes();
    let valid = match key {
        SigningKey::Hmac(secret) => {
            verify_hmac(secret.secret().as_bytes(), alg, message, signature)
        }
        SigningKey::Jwks(key) => key.public.verify(alg, message, signature),
    };
    if valid {
        Ok(())
    } else {
        Err(ValidationError::InvalidSignature)
    }
}

#[cfg(test)]
mod signature_tests {
    use super::*;

    #[test]
    fn signatures_up_to_rsa_8192_decode_on_the_stack() {
        for length in [0, 1, 64, 256, 512, 1023, MAX_SIGNATURE_BYTES] {
            let bytes: Vec<u8> = (0..length).map(|i| (i % 251) as u8).collect();
            let mut buffer = [0u8; SIGNATURE_BUFFER_BYTES];
            let encoded = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(
                decode_signature(&encoded, &mut buffer),
                Some(&bytes[..]),
                "{length}"
            );
        }
        let mut buffer = [0u8; SIGNATURE_BUFFER_BYTES];
        let too_long = URL_SAFE_NO_PAD.encode([1u8; MAX_SIGNATURE_BYTES + 1]);
        assert_eq!(decode_signature(&too_long, &mut buffer), None);
        assert_eq!(decode_signature("not base64url!", &mut buffer), None);
    }
}
