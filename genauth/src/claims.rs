//! [`Claims`]: the verified claims of a JWT (RFC 7519 §4.1, OpenID Connect Core §2) or of an
//! introspection response (RFC 7662 §2.2), with the user's own extra claims typed as `T`.

use crate::error::ValidationError;
use serde::{Deserialize, Deserializer, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Claims not modelled by [`Claims`]' own fields, kept as JSON.
pub type ExtraClaims = serde_json::Map<String, serde_json::Value>;

/// Verified token claims. Registered claims are typed; everything else lands in `extra`, either as
/// [`ExtraClaims`] (a JSON map, the default) or as the user's own `T: Deserialize`.
///
/// Times are seconds since the Unix epoch (`NumericDate`, RFC 7519 §2).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(bound(deserialize = "T: Deserialize<'de>", serialize = "T: Serialize"))]
pub struct Claims<T = ExtraClaims> {
    /// Issuer (`iss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject (`sub`): the user's ID. Absent in machine-to-machine (client credentials) tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience (`aud`): one string or an array, always a list here.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aud: Vec<String>,
    /// Expiry (`exp`), seconds since the epoch.
    #[serde(
        default,
        deserialize_with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub exp: Option<u64>,
    /// Not before (`nbf`), seconds since the epoch.
    #[serde(
        default,
        deserialize_with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nbf: Option<u64>,
    /// Issued at (`iat`), seconds since the epoch.
    #[serde(
        default,
        deserialize_with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub iat: Option<u64>,
    /// JWT ID (`jti`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Space-separated scopes (`scope`, RFC 8693 §4.2 / RFC 7662 §2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to (`client_id`, RFC 9068 §2.2 / RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Authorized party (`azp`, OpenID Connect Core §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// The login's nonce (`nonce`, ID tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Access-token hash (`at_hash`, ID tokens only, OpenID Connect Core §3.1.3.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: T,
}

impl<T> Claims<T> {
    /// The `scope` claim split on spaces.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_whitespace()
    }

    /// Whether `scope` contains this exact scope token.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// `exp` as a [`SystemTime`] (`None` without `exp`, or when it is beyond what the platform's clock
    /// can represent).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.exp
            .and_then(|exp| UNIX_EPOCH.checked_add(Duration::from_secs(exp)))
    }
}

/// Bytes the heap allocator hands out for a block of `len` bytes: rounded up to 16, plus 16 of
/// bookkeeping (glibc malloc's chunk granularity and header, a fair figure for others).
const fn heap_block(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        len.div_ceil(16) * 16 + 16
    }
}

/// An estimate of the memory verified claims hold: the struct (behind an `Arc`) and every string,
/// list and JSON value it owns. What the verified-token cache weighs its entries by.
pub(crate) fn estimated_bytes(claims: &Claims) -> usize {
    let string = |s: &Option<String>| s.as_ref().map_or(0, |s| heap_block(s.capacity()));
    let strings = [
        &claims.iss,
        &claims.sub,
        &claims.jti,
        &claims.scope,
        &claims.client_id,
        &claims.azp,
        &claims.nonce,
        &claims.at_hash,
    ]
    .into_iter()
    .map(string)
    .sum::<usize>();
    let aud = heap_block(claims.aud.capacity() * std::mem::size_of::<String>())
        + claims
            .aud
            .iter()
            .map(|a| heap_block(a.capacity()))
            .sum::<usize>();
    heap_block(std::mem::size_of::<Claims>() + 16) + strings + aud + map_bytes(&claims.extra)
}

/// The heap a JSON map holds: per entry its key, its value and a share of the tree's nodes.
fn map_bytes(map: &ExtraClaims) -> usize {
    map.iter()
        .map(|(key, value)| {
            heap_block(key.capacity())
                + std::mem::size_of::<(String, serde_json::Value)>()
                + 16
                + value_bytes(value)
        })
        .sum()
}

fn value_bytes(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => heap_block(s.capacity()),
        Value::Array(items) => {
            heap_block(items.capacity() * std::mem::size_of::<Value>())
                + items.iter().map(value_bytes).sum::<usize>()
        }
        Value::Object(map) => map_bytes(map),
    }
}

/// RFC 7519 §4.1.3: `aud` must contain one of the expected audiences. For access tokens and ID
/// tokens alike, hence here rather than in `jwt` or `id_token`.
pub(crate) fn check_audience(aud: &[String], expected: &[String]) -> Result<(), ValidationError> {
    if aud.is_empty() {
        return Err(ValidationError::MissingClaim("aud"));
    }
    if !aud.iter().any(|a| expected.iter().any(|e| e == a)) {
        return Err(ValidationError::InvalidAudience {
            expected: expected.to_vec(),
        });
    }
    Ok(())
}

/// A `NumericDate` (RFC 7519 §2): seconds since the epoch, "possibly with fractional seconds".
/// Fractions are dropped; negative values and non-numbers are refused.
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error as _;
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => numeric_date_secs(&n).map(Some).ok_or_else(|| {
            D::Error::custom(format!(
                "a NumericDate must be a non-negative number of seconds, got {n}"
            ))
        }),
    }
}

/// A `NumericDate`'s whole seconds, `None` for a negative or non-finite number.
pub(crate) fn numeric_date_secs(n: &serde_json::Number) -> Option<u64> {
    match (n.as_u64(), n.as_f64()) {
        (Some(secs), _) => Some(secs),
        (None, Some(f)) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => Some(f as u64),
        _ => None,
    }
}

/// `aud` is "a single case-sensitive string or an array of them" (RFC 7519 §4.1.3).
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
        Null(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
        OneOrMany::Null(()) => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_string_or_array_and_extra_claims() {
        let c: Claims = serde_json::from_value(serde_json::json!({
            "iss": "https://i", "sub": "u1", "aud": "app", "exp": 10, "scope": "openid api:read",
            "email": "a@b.c"
        }))
        .unwrap();
        assert_eq!(c.aud, vec!["app"]);
        assert!(c.has_scope("api:read"));
        assert!(!c.has_scope("api"));
        assert_eq!(c.extra["email"], "a@b.c");
        let c: Claims = serde_json::from_value(serde_json::json!({"aud": ["a", "b"]})).unwrap();
        assert_eq!(c.aud, vec!["a", "b"]);
    }

    #[test]
    fn numeric_dates_accept_fractions_and_refuse_negatives() {
        let c: Claims =
            serde_json::from_value(serde_json::json!({"exp": 10.9, "iat": 5, "nbf": null}))
                .unwrap();
        assert_eq!((c.exp, c.iat, c.nbf), (Some(10), Some(5), None));
        assert!(serde_json::from_value::<Claims>(serde_json::json!({"exp": -1})).is_err());
        assert!(serde_json::from_value::<Claims>(serde_json::json!({"exp": "10"})).is_err());
    }

    #[test]
    fn estimated_bytes_grow_with_what_the_claims_hold() {
        let small: Claims = serde_json::from_value(serde_json::json!({"sub": "u"})).unwrap();
        let large: Claims = serde_json::from_value(serde_json::json!({
            "sub": "u", "iss": "https://issuer.example", "aud": ["a", "b"], "scope": "x y z",
            "roles": ["admin", "user"], "profile": {"name": "A Name", "email": "a@b.c"},
        }))
        .unwrap();
        let (small, large) = (estimated_bytes(&small), estimated_bytes(&large));
        assert!(small >= std::mem::size_of::<Claims>(), "{small}");
        // iss, 2 audiences and their list, scope, 2 roles, 2 profile members, 4 keys: 32 bytes each
        // at least.
        assert!(large >= small + 12 * 32, "{small} {large}");
        assert_eq!(
            (heap_block(0), heap_block(1), heap_block(16), heap_block(17)),
            (0, 32, 32, 48)
        );
    }

    #[test]
    fn typed_extra_claims() {
        #[derive(Deserialize, Serialize, Debug, PartialEq)]
        struct Mine {
            tenant: String,
        }
        let c: Claims<Mine> =
            serde_json::from_value(serde_json::json!({"sub": "u", "tenant": "t1"})).unwrap();
        assert_eq!(c.extra.tenant, "t1");
        assert!(c.expires_at().is_none());
    }
}
