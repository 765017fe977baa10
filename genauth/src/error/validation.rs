//! [`ValidationError`]: why a token was not accepted, and the HTTP answer for each reason.

use std::sync::Arc;

/// Longest piece of a token (a `kid`, an `alg`, an issuer) quoted in an error message, in characters.
const MAX_EXCERPT_CHARS: usize = 64;

/// Why a token was not accepted.
///
/// Messages say what was wrong in words a user can act on and never contain the token. Use
/// [`status_code`](Self::status_code) and [`bearer_error_code`](Self::bearer_error_code) to answer an
/// HTTP request: 401 `invalid_token` for a bad token (RFC 6750 §3.1), 503 when the token could not be
/// checked because the provider (its JWKS or introspection endpoint) is unavailable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The token is not a JWS in compact serialization (three base64url parts, RFC 7515 §7.1), or
    /// its header is not a JSON object (RFC 7515 §4).
    #[error("malformed token: {0}")]
    Malformed(String),

    /// The signature is valid but the claims are not a JSON object of the expected shape (RFC 7519
    /// §7.2), e.g. a required field of the caller's claims type is missing or `exp` is not a number.
    #[error("token claims do not have the expected shape: {0}")]
    InvalidClaims(String),

    /// The header's `alg` is not on this verifier's allow-list (`none` never is; HS256 only with the
    /// app secret). RFC 8725 §3.1.
    #[error(
        "token algorithm `{alg}` is not accepted; the allowed algorithms are pinned by the verifier's configuration"
    )]
    AlgorithmNotAllowed {
        /// The header's `alg`, as sent (cut to 64 characters).
        alg: String,
    },

    /// The header's `typ` is not the one this verifier requires (RFC 7515 §4.1.9, RFC 9068 §4).
    #[error("token type `{found}` is not the expected `{expected}`")]
    InvalidTokenType {
        /// The required `typ`.
        expected: String,
        /// The header's `typ` (empty when absent; cut to 64 characters).
        found: String,
    },

    /// The header lists critical extensions (`crit`), which this verifier does not implement
    /// (RFC 7515 §4.1.11).
    #[error("token header has critical extensions (`crit`) this verifier does not understand")]
    UnsupportedCriticalHeader,

    /// The token is bound to a key (`cnf`: DPoP, RFC 9449 §7.1; mutual TLS, RFC 8705 §3) and was
    /// presented as a plain bearer token, without proof of possession.
    #[error("the token is bound to a key (cnf) and cannot be used as a plain bearer token")]
    KeyBound,

    /// No key in the provider's JWKS has the header's `kid`, even after a fresh download (or none of
    /// the right type when the token has no `kid`). The token was signed by an unknown or retired key.
    #[error("{}", unknown_key_message(.kid))]
    UnknownKey {
        /// The header's `kid` (cut to 64 characters), if any.
        kid: Option<String>,
    },

    /// The token has no `kid` and the JWKS holds several keys that could verify it.
    #[error(
        "token has no `kid` and the provider's JWKS holds {candidates} keys for `{alg:?}`: cannot choose one"
    )]
    AmbiguousKey {
        /// The token's algorithm.
        alg: jsonwebtoken::Algorithm,
        /// How many keys fit.
        candidates: usize,
    },

    /// The JWKS key named by `kid` cannot verify this algorithm: its `alg` differs from the header's,
    /// or its type or curve does not fit the algorithm (RFC 7517 §4.4, RFC 7518 §3.1).
    #[error("JWKS key `{kid}` cannot verify a `{alg:?}` token: {reason}")]
    KeyMismatch {
        /// The key's `kid`.
        kid: String,
        /// The token's algorithm.
        alg: jsonwebtoken::Algorithm,
        /// Why the key does not fit.
        reason: &'static str,
    },

    /// The signature does not verify with the selected key (RFC 7515 §5.2).
    #[error("token signature is invalid")]
    InvalidSignature,

    /// A claim this kind of token must carry is absent (`exp`, `iss`, `aud`; for ID tokens also
    /// `sub`, `iat`, and `nonce` when one was sent; `azp` when there are several audiences).
    #[error("token lacks the required `{0}` claim")]
    MissingClaim(&'static str),

    /// `iss` is not exactly the expected issuer (RFC 7519 §4.1.1, OpenID Connect Core §3.1.3.7 step 2).
    #[error("token issuer `{found}` is not the expected `{expected}`")]
    InvalidIssuer {
        /// The configured issuer.
        expected: String,
        /// The token's `iss` (cut to 64 characters).
        found: String,
    },

    /// `aud` contains none of the expected audiences (RFC 7519 §4.1.3, RFC 9068 §4, OpenID Connect
    /// Core §3.1.3.7 step 3).
    #[error("token audience does not include {}", expected_audiences(.expected))]
    InvalidAudience {
        /// The audiences accepted.
        expected: Vec<String>,
    },

    /// An ID token lists an audience besides the client that the client does not trust (OpenID
    /// Connect Core §3.1.3.7 step 3). Trust it by adding it to the verifier's audiences.
    #[error("ID token audience `{audience}` is not trusted by this client")]
    UntrustedAudience {
        /// The untrusted audience (cut to 64 characters).
        audience: String,
    },

    /// The token expired: `exp` (plus the leeway) is past (RFC 7519 §4.1.4). Get a new token.
    #[error("token expired at {expired_at} (Unix time, seconds)")]
    Expired {
        /// The token's `exp`, seconds since the Unix epoch.
        expired_at: u64,
    },

    /// The token is not valid yet: `nbf` is in the future beyond the leeway (RFC 7519 §4.1.5).
    #[error("token is not valid before {not_before} (Unix time, seconds); check the clocks")]
    NotYetValid {
        /// The token's `nbf`, seconds since the Unix epoch.
        not_before: u64,
    },

    /// `iat` is in the future beyond the leeway (RFC 7519 §4.1.6): a clock is wrong.
    #[error("token issue time {issued_at} (Unix time, seconds) is in the future; check the clocks")]
    IssuedInFuture {
        /// The token's `iat`, seconds since the Unix epoch.
        issued_at: u64,
    },

    /// The ID token's `nonce` differs from the login's (OpenID Connect Core §3.1.3.7 step 11): a
    /// replayed or mixed-up login. Start the login again.
    #[error("ID token nonce does not match the nonce of this login")]
    NonceMismatch,

    /// The ID token's `at_hash` does not match the access token it came with (OpenID Connect Core
    /// §3.1.3.8).
    #[error("ID token `at_hash` does not match the access token")]
    AccessTokenHashMismatch,

    /// The ID token's `azp` (authorized party) is not this client (OpenID Connect Core §3.1.3.7 step 5).
    #[error("ID token was issued to another client (`azp` is not this client's ID)")]
    InvalidAuthorizedParty,

    /// The provider says the token is not active: revoked, expired or unknown (RFC 7662 §2.2).
    #[error("token is not active (revoked, expired or unknown to the provider)")]
    Inactive,

    /// A custom validator rejected the token, for the reason given.
    #[error("token rejected: {0}")]
    Rejected(String),

    /// A JWKS holds no key this crate can verify with (RSA, EC P-256/P-384 or Ed25519, `use` = `sig`).
    #[error(
        "the JWKS holds no usable signing key (RSA, EC P-256/P-384 or Ed25519 keys with `use` = `sig`)"
    )]
    NoUsableKeys,

    /// The provider's signing keys have never been downloaded and the JWKS endpoint is unavailable,
    /// so no token can be checked yet. Retry later.
    #[error("signing keys unavailable: the provider's JWKS could not be downloaded")]
    KeysUnavailable(#[source] Arc<crate::Error>),

    /// The introspection endpoint could not be asked (unreachable, or an unusable answer), so the
    /// token could not be checked. Retry later.
    #[error("token could not be introspected: the provider is unavailable")]
    ProviderUnavailable(#[source] Arc<crate::Error>),

    /// The introspected token was issued to another client of the provider and the answer names no
    /// audience: it is not for this API (RFC 7662 §4).
    #[error("the token was issued to another client")]
    ForeignClient,

    /// Too many introspection calls are in flight already: this token was not checked, so that a
    /// flood of distinct tokens cannot spend the application's rate limit at the provider. Retry
    /// later.
    #[error("the token could not be checked now: too many introspection calls in flight")]
    Overloaded,
}

fn unknown_key_message(kid: &Option<String>) -> String {
    match kid {
        Some(kid) => format!(
            "no key with kid `{kid}` in the provider's JWKS: the token was signed by an unknown or retired key"
        ),
        None => {
            "token has no `kid` and no key in the provider's JWKS fits its algorithm".to_owned()
        }
    }
}

fn expected_audiences(expected: &[String]) -> String {
    let quoted: Vec<String> = expected.iter().map(|a| format!("`{a}`")).collect();
    match quoted.len() {
        0 => "the expected audience".to_owned(),
        1 => quoted.concat(),
        _ => format!("any of {}", quoted.join(", ")),
    }
}

/// A value taken from a token (a `kid`, an `alg`, an issuer), cut to [`MAX_EXCERPT_CHARS`] for an
/// error message: a hostile token cannot make messages and logs arbitrarily long.
pub(crate) fn excerpt(value: &str) -> String {
    match value.char_indices().nth(MAX_EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", value.get(..end).unwrap_or_default()),
        None => value.to_owned(),
    }
}

impl ValidationError {
    /// The HTTP status for this failure: 503 when the token could not be checked because keys or the
    /// provider are unavailable ([`NoUsableKeys`](Self::NoUsableKeys),
    /// [`KeysUnavailable`](Self::KeysUnavailable), [`ProviderUnavailable`](Self::ProviderUnavailable)),
    /// 401 for every problem with the token itself.
    ///
    /// Provider failures are all 503, whatever the cause (unreachable or an unusable answer), so that
    /// "503" alone tells an adapter the client did nothing wrong and may retry.
    pub fn status_code(&self) -> u16 {
        if self.is_provider_failure() { 503 } else { 401 }
    }

    /// The RFC 6750 §3.1 error code for a `WWW-Authenticate: Bearer` challenge: `invalid_token` for
    /// problems with the token, `None` for provider-side failures (no challenge error: retry later).
    pub fn bearer_error_code(&self) -> Option<&'static str> {
        if self.is_provider_failure() {
            None
        } else {
            Some("invalid_token")
        }
    }

    fn is_provider_failure(&self) -> bool {
        matches!(
            self,
            Self::NoUsableKeys
                | Self::KeysUnavailable(_)
                | Self::ProviderUnavailable(_)
                | Self::Overloaded
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_and_bearer_codes() {
        let token_problems = [
            ValidationError::Malformed("x".into()),
            ValidationError::InvalidSignature,
            ValidationError::Expired { expired_at: 1 },
            ValidationError::Inactive,
            ValidationError::UnknownKey { kid: None },
            ValidationError::AlgorithmNotAllowed { alg: "none".into() },
        ];
        for e in token_problems {
            assert_eq!(e.status_code(), 401, "{e}");
            assert_eq!(e.bearer_error_code(), Some("invalid_token"), "{e}");
        }
        let unreachable = crate::Error::InvalidResponse {
            endpoint: "jwks_uri",
            reason: "down".into(),
        };
        let provider_problems = [
            ValidationError::NoUsableKeys,
            ValidationError::KeysUnavailable(Arc::new(unreachable)),
            ValidationError::ProviderUnavailable(Arc::new(crate::Error::UnexpectedStatus {
                endpoint: "introspection_endpoint",
                status: 500,
            })),
        ];
        for e in provider_problems {
            assert_eq!(e.status_code(), 503, "{e}");
            assert_eq!(e.bearer_error_code(), None, "{e}");
            // Through `genauth::Error` too.
            assert_eq!(crate::Error::Validation(e).status_code(), 503);
        }
    }

    #[test]
    fn messages_quote_token_values_briefly() {
        let long = "k".repeat(500);
        let e = ValidationError::UnknownKey {
            kid: Some(excerpt(&long)),
        };
        assert!(e.to_string().len() < 200, "{e}");
        let e = ValidationError::InvalidAudience {
            expected: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "token audience does not include any of `a`, `b`"
        );
    }
}
