//! Step-up authentication (RFC 9470): a resource that needs a stronger or more recent sign-in than
//! the token's says so with 401 `insufficient_user_authentication`, `acr_values` and `max_age`, and
//! the client signs the user in again with them.
//!
//! ```
//! use genauth::bearer::BearerError;
//! use genauth::step_up::StepUp;
//! use genauth::Claims;
//! use std::time::Duration;
//!
//! let policy = StepUp::new().acr_values(["urn:mfa"]).max_age(Duration::from_secs(300));
//! let claims: Claims = serde_json::from_value(serde_json::json!({"acr": "urn:pwd", "auth_time": 0}))?;
//! let refused = policy.check(&claims).unwrap_err();
//! assert_eq!(refused.error_code(), Some("insufficient_user_authentication"));
//! assert_eq!(
//!     refused.www_authenticate("api").as_deref(),
//!     Some(r#"Bearer realm="api", error="insufficient_user_authentication", error_description="insufficient user authentication: the token's acr is not one this resource accepts", acr_values="urn:mfa", max_age="300""#)
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::bearer::BearerError;
use crate::claims::Claims;
use crate::clock::now_secs;
use std::time::Duration;

/// A resource's authentication requirements (RFC 9470 §3): acceptable `acr` values and/or the
/// longest time since the user authenticated (`auth_time`, OpenID Connect Core §2).
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct StepUp {
    acr_values: Vec<String>,
    max_age: Option<Duration>,
}

impl StepUp {
    /// No requirement yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The acceptable `acr` values, in order of preference: the token's `acr` must be one of them.
    pub fn acr_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.acr_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// The longest time since the user's authentication: the token's `auth_time` must be at most
    /// this old (whole seconds).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Checks `claims` (`acr`, `auth_time`) against the requirements.
    ///
    /// # Errors
    /// [`BearerError::InsufficientUserAuthentication`] carrying the requirements for the challenge.
    pub fn check(&self, claims: &Claims) -> Result<(), BearerError> {
        let refuse = |reason| BearerError::InsufficientUserAuthentication {
            reason,
            acr_values: (!self.acr_values.is_empty()).then(|| self.acr_values.join(" ")),
            max_age_secs: self.max_age.map(|d| d.as_secs()),
        };
        if !self.acr_values.is_empty() {
            let acr = claims.extra.get("acr").and_then(serde_json::Value::as_str);
            if !acr.is_some_and(|acr| self.acr_values.iter().any(|v| v == acr)) {
                return Err(refuse("the token's acr is not one this resource accepts"));
            }
        }
        if let Some(max_age) = self.max_age {
            let auth_time = claims
                .extra
                .get("auth_time")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| refuse("the token has no auth_time"))?;
            if now_secs().saturating_sub(auth_time) > max_age.as_secs() {
                return Err(refuse("the user authenticated too long ago"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: serde_json::Value) -> Claims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn acr_must_be_listed() {
        let policy = StepUp::new().acr_values(["urn:mfa", "urn:hw"]);
        assert!(
            policy
                .check(&claims(serde_json::json!({"acr": "urn:hw"})))
                .is_ok()
        );
        for c in [serde_json::json!({"acr": "urn:pwd"}), serde_json::json!({})] {
            let err = policy.check(&claims(c)).unwrap_err();
            assert_eq!(err.status_code(), 401);
            let challenge = err.www_authenticate("api").unwrap();
            assert!(
                challenge.contains(r#"acr_values="urn:mfa urn:hw""#),
                "{challenge}"
            );
            assert!(!challenge.contains("max_age"), "{challenge}");
        }
    }

    #[test]
    fn auth_time_must_be_recent() {
        let policy = StepUp::new().max_age(Duration::from_secs(60));
        let now = now_secs();
        assert!(
            policy
                .check(&claims(serde_json::json!({"auth_time": now - 10})))
                .is_ok()
        );
        for c in [
            serde_json::json!({"auth_time": now - 61}),
            serde_json::json!({}),
        ] {
            let err = policy.check(&claims(c)).unwrap_err();
            let challenge = err.www_authenticate("api").unwrap();
            assert!(challenge.contains(r#"error="insufficient_user_authentication""#));
            assert!(challenge.ends_with(r#"max_age="60""#), "{challenge}");
        }
        assert!(StepUp::new().check(&Claims::default()).is_ok());
    }
}
