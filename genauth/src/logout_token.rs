//! OpenID Connect Back-Channel Logout 1.0 logout tokens: [`LogoutTokenVerifier`] checks a
//! `logout_token` as §2.6 says, with a [`JwtVerifier`] for the JWS part, and remembers each token's
//! `jti` until it expires, so that a token is accepted once.
//!
//! The checks, by step of §2.6 (step 1, decryption, does not apply: encrypted tokens are refused):
//! - steps 2–4: a JWS signed by the provider's keys with an allowed `alg`; `iss` the issuer; `aud`
//!   the client ID; `exp` present and not past, `iat` present and not in the future (± the
//!   verifier's leeway) — [`JwtVerifier::verify_jwt`] (not `verify`: a logout token is not an
//!   access token);
//! - step 5: `sub` or `sid` (or both) present;
//! - step 6: `events` holds the member `http://schemas.openid.net/event/backchannel-logout`, a
//!   JSON object;
//! - step 7: no `nonce`;
//! - step 8: `jti` present and not seen before (a replayed token is refused).
//!
//! `typ` `logout+jwt` (§2.4) is accepted, as is `JWT` and no `typ` (providers differ).

use crate::claims::ExtraClaims;
use crate::clock::now_secs;
use crate::error::ValidationError;
use crate::jwt::JwtVerifier;
use quick_cache::sync::{Cache, GuardResult};

/// The `events` member that makes a JWT a logout token (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Default number of `jti` values remembered (each until its token expires).
pub const DEFAULT_JTI_CAPACITY: usize = 10_000;

/// A verified logout token: which sessions to end.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutToken {
    /// The provider session to end (`sid`), when given.
    pub sid: Option<String>,
    /// The user whose sessions to end (`sub`), when given; with `sid` too, only that session.
    pub sub: Option<String>,
}

/// Why a logout token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutTokenError {
    /// The JWS or a registered claim failed (signature, `iss`, `aud`, `exp`, `iat`, `nonce`, …).
    #[error("the logout token does not verify: {0}")]
    Invalid(#[source] ValidationError),
    /// A required claim is missing (`iat`, `jti`).
    #[error("the logout token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// `events` does not hold the back-channel logout event as a JSON object (§2.6 step 6).
    #[error("the logout token's `events` claim does not hold the back-channel logout event")]
    NotALogoutEvent,
    /// Neither `sid` nor `sub` (§2.6 step 5).
    #[error("the logout token names neither `sid` nor `sub`")]
    NoSession,
    /// A `nonce` claim (§2.6 step 7: a logout token is not an ID token).
    #[error("the logout token carries a `nonce`")]
    Nonce,
    /// This token's `jti` was accepted before (§2.6 step 8: a replay).
    #[error("the logout token was already used")]
    Replayed,
}

impl LogoutTokenError {
    /// 503 when the provider's keys could not be fetched (try again), else 400 (§2.8: the RP
    /// answers 400 to a logout token it refuses).
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid(e) if e.status_code() >= 500 => 503,
            _ => 400,
        }
    }
}

/// Verifies logout tokens for one client (see the [module docs](self)). Cheap to share (`Arc`).
#[derive(Debug)]
pub struct LogoutTokenVerifier {
    verifier: JwtVerifier,
    /// `jti` → its token's `exp`: a token is accepted once.
    seen: Cache<String, u64>,
}

impl LogoutTokenVerifier {
    /// A verifier whose `verifier` trusts the provider's keys with the client ID as audience (e.g.
    /// [`Client::jwt_verifier`](crate::Client::jwt_verifier)`([client_id])`), remembering up to
    /// [`DEFAULT_JTI_CAPACITY`] `jti` values.
    pub fn new(verifier: JwtVerifier) -> Self {
        Self::with_jti_capacity(verifier, DEFAULT_JTI_CAPACITY)
    }

    /// As [`new`](Self::new), remembering up to `capacity` `jti` values.
    pub fn with_jti_capacity(verifier: JwtVerifier, capacity: usize) -> Self {
        Self {
            verifier,
            seen: Cache::new(capacity.max(1)),
        }
    }

    /// Verifies `token` (§2.6) and records its `jti`.
    ///
    /// # Errors
    /// [`LogoutTokenError`], naming the failed step.
    pub async fn verify(&self, token: &str) -> Result<LogoutToken, LogoutTokenError> {
        // Steps 2–4.
        let claims = self
            .verifier
            .verify_jwt::<ExtraClaims>(token)
            .await
            .map_err(LogoutTokenError::Invalid)?;
        if claims.iat.is_none() {
            return Err(LogoutTokenError::MissingClaim("iat"));
        }
        // Step 6.
        let event = claims
            .extra
            .get("events")
            .and_then(serde_json::Value::as_object)
            .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT));
        if !event.is_some_and(serde_json::Value::is_object) {
            return Err(LogoutTokenError::NotALogoutEvent);
        }
        // Step 5.
        let sid = claims
            .extra
            .get("sid")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        if sid.is_none() && claims.sub.is_none() {
            return Err(LogoutTokenError::NoSession);
        }
        // Step 7.
        if claims.nonce.is_some() || claims.extra.contains_key("nonce") {
            return Err(LogoutTokenError::Nonce);
        }
        // Step 8: accepted once; remembered until the token expires.
        let jti = claims.jti.ok_or(LogoutTokenError::MissingClaim("jti"))?;
        let exp = claims.exp.unwrap_or_else(now_secs);
        match self.seen.get_value_or_guard(&jti, None) {
            GuardResult::Value(until) if until > now_secs() => {
                return Err(LogoutTokenError::Replayed);
            }
            GuardResult::Value(_) => {
                self.seen.insert(jti, exp);
            }
            GuardResult::Guard(guard) => {
                let _ = guard.insert(exp);
            }
            GuardResult::Timeout => return Err(LogoutTokenError::Replayed),
        }
        Ok(LogoutToken {
            sid,
            sub: claims.sub,
        })
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests;
