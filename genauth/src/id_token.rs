//! The ID-token rules of OpenID Connect Core: what [`JwtVerifier::verify_id_token`] checks beyond
//! what every JWT gets, and [`IdTokenChecks`], the per-login values it checks against.
//!
//! The §3.1.3.7 walk is split where each step's inputs live: step 1 (decryption) does not apply
//! (encrypted tokens are refused); steps 2 (`iss`), 9 (`exp`) and 10 (`iat` in the future) are the
//! registered-claim checks every token gets in [`jwt`](crate::jwt); steps 6–8 (signature with a pinned
//! algorithm) are its signature check; steps 12–13 (`acr`, `auth_time`) are left to the application,
//! which alone knows what it asked for. Everything else is [`check_id_token`], in step order.
//!
//! [`JwtVerifier::verify_id_token`]: crate::jwt::JwtVerifier::verify_id_token

use crate::claims::{Claims, check_audience};
use crate::error::{ValidationError, excerpt};
use crate::types::Nonce;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use std::fmt;
use subtle::ConstantTimeEq;

/// What an ID token is checked against besides the verifier's configuration (OpenID Connect Core
/// §3.1.3.7).
#[derive(Clone, Copy)]
pub struct IdTokenChecks<'a> {
    /// This application's client ID: it must be among the token's audiences (step 3), and be its
    /// `azp` when there is one (steps 4–5).
    pub client_id: &'a str,
    /// The nonce sent in the authorization request. When given, the token must carry an equal `nonce`
    /// (step 11); when `None`, a `nonce` in the token is not checked.
    pub nonce: Option<&'a Nonce>,
    /// The access token issued with the ID token. When given and the token has an `at_hash`, the hash
    /// must match (§3.1.3.8).
    pub access_token: Option<&'a str>,
}

impl fmt::Debug for IdTokenChecks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenChecks")
            .field("client_id", &self.client_id)
            .field("nonce", &self.nonce)
            .field("access_token", &self.access_token.map(|_| "[redacted]"))
            .finish()
    }
}

/// The ID-token-only steps of OpenID Connect Core §3.1.3.7 and §3.1.3.8, on claims whose signature
/// and registered claims were already checked. `alg` is the token's (verified) algorithm, which
/// picks the `at_hash` function; `trusted_audiences` are the audiences besides the client that the
/// client trusts.
pub(crate) fn check_id_token<T>(
    claims: &Claims<T>,
    alg: Algorithm,
    checks: &IdTokenChecks<'_>,
    trusted_audiences: &[String],
) -> Result<(), ValidationError> {
    // OIDC Core §2: `sub` and `iat` are REQUIRED in an ID token.
    if claims.sub.is_none() {
        return Err(ValidationError::MissingClaim("sub"));
    }
    if claims.iat.is_none() {
        return Err(ValidationError::MissingClaim("iat"));
    }
    // OIDC Core §3.1.3.7 step 3: the client must be among the audiences, and any other audience must
    // be one this client trusts (the verifier's configured audiences); otherwise the token was meant
    // for a party the client does not know.
    check_audience(&claims.aud, &[checks.client_id.to_owned()])?;
    if let Some(untrusted) = claims
        .aud
        .iter()
        .find(|aud| *aud != checks.client_id && !trusted_audiences.contains(aud))
    {
        return Err(ValidationError::UntrustedAudience {
            audience: excerpt(untrusted),
        });
    }
    // OIDC Core §3.1.3.7 step 4: several audiences → `azp` is needed to know which party the token
    // is for.
    if claims.aud.len() > 1 && claims.azp.is_none() {
        return Err(ValidationError::MissingClaim("azp"));
    }
    // OIDC Core §3.1.3.7 step 5: when present, `azp` must be this client.
    if claims
        .azp
        .as_deref()
        .is_some_and(|azp| azp != checks.client_id)
    {
        return Err(ValidationError::InvalidAuthorizedParty);
    }
    // OIDC Core §3.1.3.7 step 11: the nonce sent must come back, compared in constant time. A nonce
    // in the token when none was sent is not an error.
    if let Some(expected) = checks.nonce {
        let found = claims
            .nonce
            .as_deref()
            .ok_or(ValidationError::MissingClaim("nonce"))?;
        if !bool::from(found.as_bytes().ct_eq(expected.secret().as_bytes())) {
            return Err(ValidationError::NonceMismatch);
        }
    }
    // OIDC Core §3.1.3.8 (and §3.2.2.9): `at_hash` = base64url(left half of hash(access token)), the
    // hash of the `alg`'s size.
    if let (Some(at_hash), Some(access_token)) = (claims.at_hash.as_deref(), checks.access_token) {
        let expected = token_hash(alg, access_token);
        if !bool::from(at_hash.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ValidationError::AccessTokenHashMismatch);
        }
    }
    Ok(())
}

/// The `at_hash`/`c_hash` of a token (OpenID Connect Core §3.1.3.6): the left half of its hash with
/// the SHA-2 function of the JWS `alg` (SHA-512 for EdDSA with Ed25519, per the OpenID Connect Core
/// errata), base64url without padding.
fn token_hash(alg: Algorithm, token: &str) -> String {
    use aws_lc_rs::digest;
    let function = match alg {
        Algorithm::HS384 | Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => {
            &digest::SHA384
        }
        Algorithm::HS512 | Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => {
            &digest::SHA512
        }
        _ => &digest::SHA256,
    };
    let hash = digest::digest(function, token.as_bytes());
    let (left, _) = hash.as_ref().split_at(hash.as_ref().len() / 2);
    URL_SAFE_NO_PAD.encode(left)
}

#[cfg(test)]
mod tests;

/// Tests with real keys from the test issuer.
#[cfg(all(test, feature = "testing"))]
mod signed_tests;
