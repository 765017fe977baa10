//! [`JwtVerifier`]: local verification of ID tokens (OpenID Connect Core §3.1.3.7) and JWT access
//! tokens (RFC 9068, RFC 7519) against the provider's keys ([`JwksCache`]) or, for HS256, the app
//! secret.
//!
//! The algorithm is pinned twice and never taken from the token alone: the header's `alg` must be on
//! the verifier's allow-list (`none` never is; HS256 only when the app secret is configured), and the
//! JWKS key picked by `kid` must be of that algorithm's type and, when the key names an `alg`, of
//! exactly that algorithm (RFC 8725 §3.1). Header parameters that point at keys (`jku`, `jwk`, `x5u`,
//! `x5c`) are ignored: keys only come from the configured JWKS.
//!
//! ```
//! use genauth::jwks::JwksCache;
//! use genauth::jwt::JwtVerifier;
//! use genauth::Claims;
//!
//! # async fn doc(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let jwks = JwksCache::new(
//!     reqwest::Client::new(),
//!     "https://example.genauth.ai/oidc/.well-known/jwks.json".parse()?,
//! );
//! let verifier = JwtVerifier::builder("https://example.genauth.ai/oidc")
//!     .audience("YOUR_APP_ID")
//!     .jwks(jwks)
//!     .build()?;
//! let claims: Claims = verifier.verify(token).await?;
//! println!("hello {:?}", claims.sub);
//! # Ok(())
//! # }
//! ```

mod builder;
mod jws;
mod typing;

use crate::claims::{Claims, check_audience};
use crate::clock::now_secs;
use crate::error::{ValidationError, excerpt};
pub use crate::id_token::IdTokenChecks;
use crate::id_token::check_id_token;
use crate::jwks::JwksCache;
use crate::types::ClientSecret;
pub use builder::JwtVerifierBuilder;
use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
pub use typing::AccessTokenTyping;

/// Longest token accepted, in bytes (32 KiB): far above real tokens, and it bounds the work an
/// attacker can cause before the signature is checked.
pub const MAX_TOKEN_BYTES: usize = 32 * 1024;

/// Verifies JWTs: signature with a pinned algorithm, then `iss`, `aud`, `exp`, `nbf`, `iat` (and for
/// ID tokens `sub`, `azp`, `nonce`, `at_hash`), with a clock leeway. Build it with
/// [`JwtVerifier::builder`].
///
/// `Clone` is an `Arc` clone. `Debug` never prints the app secret.
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audiences: Vec<String>,
    check_audience: bool,
    jwks: Option<JwksCache>,
    hmac: Option<ClientSecret>,
    algorithms: Vec<Algorithm>,
    leeway_secs: u64,
    required_type: Option<String>,
    access_token_typing: AccessTokenTyping,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("JwtVerifier")
            .field("issuer", &inner.issuer)
            .field("audiences", &inner.audiences)
            .field("check_audience", &inner.check_audience)
            .field("algorithms", &inner.algorithms)
            .field("leeway_secs", &inner.leeway_secs)
            .field("required_type", &inner.required_type)
            .field("access_token_typing", &inner.access_token_typing)
            .field("jwks", &inner.jwks)
            .field("hmac_secret", &inner.hmac.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl JwtVerifier {
    /// Starts a builder for tokens issued by `issuer` (compared exactly with `iss`, e.g.
    /// `https://example.genauth.ai/oidc`).
    pub fn builder(issuer: impl Into<String>) -> JwtVerifierBuilder {
        JwtVerifierBuilder::new(issuer.into())
    }

    /// The issuer tokens must come from.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The audiences accepted by [`verify`](Self::verify).
    pub fn audiences(&self) -> &[String] {
        &self.inner.audiences
    }

    /// The allowed signature algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    /// The key set, when one is configured.
    pub fn jwks(&self) -> Option<&JwksCache> {
        self.inner.jwks.as_ref()
    }

    /// The clock leeway applied to `exp`, `nbf` and `iat`.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.inner.leeway_secs)
    }

    /// Verifies an access token or any JWT from the issuer and returns its claims, with the claims
    /// not modelled by [`Claims`] deserialized into `T` (use [`ExtraClaims`](crate::ExtraClaims) for
    /// a JSON map).
    ///
    /// Checks (RFC 9068 §4, RFC 7519 §7.2): a compact JWS with an allowed `alg` and a valid
    /// signature; `iss` exactly the issuer; `aud` containing a configured audience (unless skipped);
    /// `exp` present and not past; `nbf` and `iat` not in the future (all ± the leeway).
    ///
    /// # Errors
    /// A [`ValidationError`] naming the failed check; [`ValidationError::KeysUnavailable`] (503) when
    /// the keys could not be downloaded yet.
    pub async fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Claims<T>, ValidationError> {
        self.verify_access_token(token, false).await
    }

    /// As [`verify`](Self::verify), for an access token presented with a proof of possession (DPoP,
    /// RFC 9449 §7.1): a `cnf` claim is accepted rather than refused as
    /// [`ValidationError::KeyBound`]. The caller must then check the binding (`cnf.jkt` against the
    /// proof's key, as [`crate::dpop`] does); never call this for a plain bearer token.
    ///
    /// # Errors
    /// As [`verify`](Self::verify), but never [`ValidationError::KeyBound`].
    pub async fn verify_key_bound<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Claims<T>, ValidationError> {
        self.verify_access_token(token, true).await
    }

    /// [`verify`](Self::verify) (`key_bound` false) or [`verify_key_bound`](Self::verify_key_bound).
    async fn verify_access_token<T: DeserializeOwned>(
        &self,
        token: &str,
        key_bound: bool,
    ) -> Result<Claims<T>, ValidationError> {
        let verified = self.verify_signature::<T>(token).await?;
        let result = self.check_jwt(&verified.claims).and_then(|()| {
            // An ID token or logout token is not an access token, even with the same issuer and
            // audience (GenAuth issues them for the app ID): ID tokens travel in URLs
            // (`id_token_hint`) and must not open APIs (RFC 8725 §3.11, RFC 9068 §4).
            self.inner.access_token_typing.check_binding(
                &verified.typ,
                &verified.markers,
                key_bound,
            )
        });
        let kind = if key_bound {
            "key-bound access token"
        } else {
            "access token"
        };
        trace_outcome(kind, &result);
        result.map(|()| verified.claims)
    }

    /// Verifies a JWT of the issuer that is not an access token (a logout token, say), checking
    /// what [`verify`](Self::verify) checks except the access-token typing
    /// ([`AccessTokenTyping`]): the signature, `iss`, `aud`, `exp`, `nbf`, `iat`. The caller checks
    /// what its kind of token needs (OpenID Connect Back-Channel Logout §2.6, say).
    ///
    /// # Errors
    /// As [`verify`](Self::verify), but never [`ValidationError::InvalidTokenType`] for the typing.
    pub async fn verify_jwt<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Claims<T>, ValidationError> {
        let verified = self.verify_signature::<T>(token).await?;
        let result = self.check_jwt(&verified.claims);
        trace_outcome("jwt", &result);
        result.map(|()| verified.claims)
    }

    /// The registered claims and, unless skipped, the audience (RFC 7519 §4.1.3, RFC 9068 §4: the
    /// resource server must be among the audiences).
    fn check_jwt<T>(&self, claims: &Claims<T>) -> Result<(), ValidationError> {
        self.check_registered_claims(claims)?;
        if self.inner.check_audience {
            check_audience(&claims.aud, &self.inner.audiences)?;
        }
        Ok(())
    }

    /// Verifies an ID token (OpenID Connect Core §3.1.3.7) and returns its claims, with the claims not
    /// modelled by [`Claims`] deserialized into `T`.
    ///
    /// Checks, by step of §3.1.3.7: the signature with an allowed `alg` (6–8; HS256 with the app
    /// secret only when configured); `iss` exactly the issuer (2); `aud` contains
    /// `checks.client_id` (3); with several audiences, `azp` present (4); `azp`, when present, equal
    /// to `client_id` (5); `exp` not past (9); `iat` present and not in the future (10); `nonce`
    /// equal, in constant time, when `checks.nonce` is given (11). Also `sub` present (§2), `nbf`
    /// not in the future (RFC 7519 §4.1.5), and `at_hash` matching `checks.access_token` when both
    /// are present (§3.1.3.8). The configured audiences are not used: an ID token's audience is the
    /// client.
    ///
    /// # Errors
    /// A [`ValidationError`] naming the failed check, e.g. [`NonceMismatch`](ValidationError::NonceMismatch),
    /// [`MissingClaim`](ValidationError::MissingClaim)`("nonce")` when a nonce was sent but the token
    /// has none; [`ValidationError::KeysUnavailable`] (503) when the keys could not be downloaded.
    pub async fn verify_id_token<T: DeserializeOwned>(
        &self,
        id_token: &str,
        checks: &IdTokenChecks<'_>,
    ) -> Result<Claims<T>, ValidationError> {
        let verified = self.verify_signature::<T>(id_token).await?;
        let (claims, alg) = (verified.claims, verified.alg);
        let result = self
            .check_registered_claims(&claims)
            .and_then(|()| check_id_token(&claims, alg, checks, &self.inner.audiences));
        trace_outcome("ID token", &result);
        result.map(|()| claims)
    }

    /// `iss`, `exp`, `nbf`, `iat`: common to access and ID tokens.
    fn check_registered_claims<T>(&self, claims: &Claims<T>) -> Result<(), ValidationError> {
        let inner = &*self.inner;
        let now = now_secs();
        let leeway = inner.leeway_secs;
        // RFC 7519 §4.1.1, RFC 9068 §4, OIDC Core §3.1.3.7 step 2: exactly the configured issuer.
        match claims.iss.as_deref() {
            None => return Err(ValidationError::MissingClaim("iss")),
            Some(iss) if iss != inner.issuer => {
                return Err(ValidationError::InvalidIssuer {
                    expected: inner.issuer.clone(),
                    found: excerpt(iss),
                });
            }
            Some(_) => {}
        }
        // RFC 7519 §4.1.4: now must be before `exp` (+ leeway); `exp` is required by RFC 9068 §2.2
        // and OIDC Core §2 (step 9).
        let exp = claims.exp.ok_or(ValidationError::MissingClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(ValidationError::Expired { expired_at: exp });
        }
        // RFC 7519 §4.1.5: now must be at or after `nbf` (− leeway).
        if let Some(nbf) = claims.nbf
            && nbf > now.saturating_add(leeway)
        {
            return Err(ValidationError::NotYetValid { not_before: nbf });
        }
        // RFC 7519 §4.1.6, OIDC Core §3.1.3.7 step 10: not issued in the future (+ leeway).
        if let Some(iat) = claims.iat
            && iat > now.saturating_add(leeway)
        {
            return Err(ValidationError::IssuedInFuture { issued_at: iat });
        }
        Ok(())
    }
}

fn trace_outcome(kind: &'static str, result: &Result<(), ValidationError>) {
    match result {
        Ok(()) => tracing::trace!(kind, "token verified"),
        Err(error) => tracing::debug!(kind, %error, "token rejected"),
    }
}

#[cfg(test)]
mod tests;

/// Tests with real keys from the test issuer.
#[cfg(all(test, feature = "testing"))]
mod signed_tests;
