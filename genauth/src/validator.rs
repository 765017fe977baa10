//! Token validation for APIs: the [`TokenValidator`] trait the adapters' bearer layers call, its two
//! implementations ([`JwksValidator`] for JWT access tokens, [`IntrospectionValidator`] for opaque
//! tokens, RFC 7662), and [`ValidationError`].
//!
//! Both validators keep a bounded cache keyed by the SHA-256 of the token, so the per-request path
//! makes no network call and, for a token seen before, no signature check. A cached entry never
//! outlives the token's `exp`.
//!
//! Any closure `Fn(String) -> impl Future<Output = Result<Claims, ValidationError>>` is a validator
//! too:
//!
//! ```
//! use genauth::validator::{TokenValidator, ValidationError};
//! use genauth::Claims;
//!
//! let validator = |token: String| async move {
//!     if token == "let-me-in" {
//!         Ok(Claims { sub: Some("alice".into()), ..Default::default() })
//!     } else {
//!         Err(ValidationError::Rejected("unknown token".into()))
//!     }
//! };
//! # async fn check(v: impl TokenValidator) { let _ = v.validate("let-me-in").await; }
//! # let _ = check(validator);
//! ```

mod introspection;
mod issuers;
mod jwks;

use crate::claims::Claims;
pub use crate::error::ValidationError;
pub use introspection::{
    DEFAULT_INACTIVE_TTL, DEFAULT_MAX_CACHE_TTL, DEFAULT_MAX_CONCURRENT_CALLS,
    IntrospectionValidator, MAX_INTROSPECTED_TOKEN_BYTES,
};
pub use issuers::MultiIssuerValidator;
pub use jwks::JwksValidator;
use std::future::Future;
use std::sync::Arc;

/// Default number of tokens a validator's cache holds.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Checks a bearer token and returns its claims: what the adapters' bearer layers call on every
/// request.
///
/// Implemented by [`JwksValidator`] (JWT access tokens, checked locally against the provider's keys),
/// [`IntrospectionValidator`] (opaque tokens, RFC 7662), and any closure
/// `Fn(String) -> impl Future<Output = Result<Claims, ValidationError>>`.
#[async_trait::async_trait]
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token` (the bare token, without `Bearer `).
    ///
    /// # Errors
    /// A [`ValidationError`]: [`status_code`](ValidationError::status_code) 401 when the token is
    /// bad, 503 when it could not be checked.
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError>;

    /// Validates `token` presented with a proof of possession (the `DPoP` scheme, RFC 9449 §7.1):
    /// as [`validate`](Self::validate), except that a token bound to a key (`cnf`) is accepted and
    /// its `cnf` returned in [`Claims::extra`]; the bearer layer then checks the binding against
    /// the proof ([`crate::dpop`]).
    ///
    /// The default calls [`validate`](Self::validate): a validator that refuses `cnf` tokens keeps
    /// refusing them, a closure returns what it returns. [`JwksValidator`] and
    /// [`IntrospectionValidator`] accept key-bound tokens here.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    async fn validate_key_bound(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.validate(token).await
    }

    /// The answer [`validate`](Self::validate) would give, when it is at hand without I/O or
    /// waiting: a cached verification of `token`, or a refusal that needs no key (a token that is
    /// not even the right shape). `None`: call [`validate`](Self::validate). The bearer layers try
    /// this first, so that the steady state (a token seen before) and garbage cost no future.
    ///
    /// The default answers nothing. An implementation must answer exactly what `validate` would
    /// (the same claims, the same error), never more leniently.
    fn validate_now(&self, token: &str) -> Option<Result<Arc<Claims>, ValidationError>> {
        let _ = token;
        None
    }
}

#[async_trait::async_trait]
impl<F, Fut> TokenValidator for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Claims, ValidationError>> + Send,
{
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        (self)(token.to_owned()).await.map(Arc::new)
    }
}

/// The validators' caches: bounded, keyed by the SHA-256 of the token.
type TokenCache<V> = quick_cache::sync::Cache<[u8; 32], V>;

/// A cache of `entries` tokens, or none for `0` (caching off).
fn token_cache<V: Clone>(entries: usize) -> Option<Arc<TokenCache<V>>> {
    (entries > 0).then(|| Arc::new(TokenCache::new(entries)))
}

#[cfg(test)]
mod tests;
