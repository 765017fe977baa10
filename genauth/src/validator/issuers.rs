//! [`MultiIssuerValidator`]: one bearer layer for several trusted issuers (tenants, or GenAuth and
//! a second provider), routing each token to its issuer's validator by the token's `iss`.

use super::TokenValidator;
use crate::claims::Claims;
use crate::error::{ValidationError, excerpt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Longest JWT payload decoded to read `iss`, in bytes (the same bound as verification's).
const MAX_PAYLOAD_BYTES: usize = crate::jwt::MAX_TOKEN_BYTES;

/// Holds one validator per trusted issuer — each with its own discovery, JWKS cache or
/// introspection endpoint, and audience — and hands each JWT to the validator of its `iss`, read
/// before verification. The chosen validator then verifies everything, `iss` included; a token
/// whose `iss` is not trusted is refused at once, with no network call and no other issuer tried.
///
/// Opaque (non-JWT) tokens name no issuer: they go to the [`opaque`](Self::opaque) validator (an
/// introspection validator) when one is set, and are refused otherwise.
///
/// ```
/// use genauth::validator::{MultiIssuerValidator, TokenValidator, ValidationError};
/// use genauth::Claims;
///
/// let tenant_a = |_token: String| async { Ok::<_, ValidationError>(Claims { sub: Some("a".into()), ..Default::default() }) };
/// let validator = MultiIssuerValidator::new().issuer("https://a.example/oidc", tenant_a);
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// // header {"alg":"none"}, payload {"iss":"https://b.example"}: an untrusted issuer, refused at once.
/// let foreign = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2IuZXhhbXBsZSJ9.sig";
/// assert!(matches!(validator.validate(foreign).await, Err(ValidationError::InvalidIssuer { .. })));
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct MultiIssuerValidator {
    issuers: HashMap<String, Arc<dyn TokenValidator>>,
    opaque: Option<Arc<dyn TokenValidator>>,
}

impl fmt::Debug for MultiIssuerValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut issuers: Vec<&String> = self.issuers.keys().collect();
        issuers.sort();
        f.debug_struct("MultiIssuerValidator")
            .field("issuers", &issuers)
            .field("opaque", &self.opaque.is_some())
            .finish()
    }
}

impl MultiIssuerValidator {
    /// No issuer yet: every token is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `issuer` (compared exactly with `iss`), its tokens checked by `validator` (a
    /// `JwksValidator` whose verifier has this issuer, or an `IntrospectionValidator` of it).
    pub fn issuer(self, issuer: impl Into<String>, validator: impl TokenValidator) -> Self {
        self.issuer_arc(issuer, Arc::new(validator))
    }

    /// As [`issuer`](Self::issuer), sharing a validator.
    pub fn issuer_arc(
        mut self,
        issuer: impl Into<String>,
        validator: Arc<dyn TokenValidator>,
    ) -> Self {
        self.issuers.insert(issuer.into(), validator);
        self
    }

    /// The validator for tokens that are not JWTs (opaque tokens, introspected).
    pub fn opaque(mut self, validator: impl TokenValidator) -> Self {
        self.opaque = Some(Arc::new(validator));
        self
    }

    /// The trusted issuers.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.keys().map(String::as_str)
    }

    /// The validator for `token`: by its unverified `iss` for a JWT, else the opaque one.
    fn route(&self, token: &str) -> Result<&Arc<dyn TokenValidator>, ValidationError> {
        let Some(iss) = claimed_issuer(token)? else {
            return self.opaque.as_ref().ok_or_else(|| {
                ValidationError::Malformed("not a JWT, and no validator for opaque tokens".into())
            });
        };
        self.issuers
            .get(iss.as_str())
            .ok_or_else(|| ValidationError::InvalidIssuer {
                expected: "one of the trusted issuers".into(),
                found: excerpt(&iss),
            })
    }
}

/// The `iss` a JWT claims, unverified, only to route it: `Ok(None)` when the token is not a JWT
/// (not three dot-separated parts with a base64url JSON payload).
fn claimed_issuer(token: &str) -> Result<Option<String>, ValidationError> {
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ValidationError::Malformed("token too long".into()));
    }
    let Some(claimed) = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Issuer>(&bytes).ok())
    else {
        return Ok(None);
    };
    claimed
        .iss
        .map(Some)
        .ok_or(ValidationError::MissingClaim("iss"))
}

#[async_trait::async_trait]
impl TokenValidator for MultiIssuerValidator {
    async fn validate(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.route(token)?.validate(token).await
    }

    async fn validate_key_bound(&self, token: &str) -> Result<Arc<Claims>, ValidationError> {
        self.route(token)?.validate_key_bound(token).await
    }

    /// The issuer's validator's answer at hand, or the refusal of a token no issuer here takes.
    fn validate_now(&self, token: &str) -> Option<Result<Arc<Claims>, ValidationError>> {
        match self.route(token) {
            Ok(validator) => validator.validate_now(token),
            Err(error) => Some(Err(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn jwt(payload: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJub25lIn0.{}.c2ln",
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    fn counting(calls: &Arc<AtomicUsize>, sub: &'static str) -> impl TokenValidator {
        let calls = Arc::clone(calls);
        move |_token: String| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(Claims {
                    sub: Some(sub.into()),
                    ..Default::default()
                })
            }
        }
    }

    #[tokio::test]
    async fn tokens_go_to_their_issuer_and_no_other() {
        let (a, b, opaque) = (Arc::default(), Arc::default(), Arc::default());
        let v = MultiIssuerValidator::new()
            .issuer("https://a", counting(&a, "from-a"))
            .issuer("https://b", counting(&b, "from-b"));
        let claims = v
            .validate(&jwt(serde_json::json!({"iss": "https://b"})))
            .await
            .unwrap();
        assert_eq!(claims.sub.as_deref(), Some("from-b"));
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (0, 1));
        // An untrusted issuer: refused, no validator called.
        let foreign = v
            .validate(&jwt(serde_json::json!({"iss": "https://c"})))
            .await;
        assert!(matches!(
            foreign,
            Err(ValidationError::InvalidIssuer { .. })
        ));
        assert!(matches!(
            v.validate(&jwt(serde_json::json!({}))).await,
            Err(ValidationError::MissingClaim("iss"))
        ));
        assert!(matches!(
            v.validate("opaque-token").await,
            Err(ValidationError::Malformed(_))
        ));
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (0, 1));
        // Opaque tokens go to the opaque validator.
        let v = v.opaque(counting(&opaque, "opaque"));
        let claims = v.validate_key_bound("opaque-token").await.unwrap();
        assert_eq!(claims.sub.as_deref(), Some("opaque"));
        assert!(format!("{v:?}").contains("https://a"));
    }
}
