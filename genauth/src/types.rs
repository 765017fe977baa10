//! Newtypes for protocol values that must not be mixed up, and secret types whose `Debug` is redacted.
//!
//! Secrets (`ClientSecret`, tokens, `CodeVerifier`) print `[redacted]` in `Debug` and compare in constant
//! time; read them with `secret()`. Public values (`ClientId`) print normally.

use serde::{Deserialize, Serialize};
use std::fmt;
use subtle::ConstantTimeEq;

/// Defines a secret string newtype: redacted `Debug`, constant-time `PartialEq`, serde as a plain string.
macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// The secret value. Never log it.
            pub fn secret(&self) -> &str {
                &self.0
            }
            /// Consumes the wrapper and returns the secret value.
            pub fn into_secret(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }
        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret_string!(
    /// The application's secret (GenAuth "App Secret", OAuth 2.0 `client_secret`, RFC 6749 §2.3.1).
    /// Also the HMAC key of HS256 ID tokens (its UTF-8 bytes).
    ClientSecret
);
secret_string!(
    /// An OAuth 2.0 access token (RFC 6749 §1.4).
    AccessToken
);
secret_string!(
    /// An OAuth 2.0 refresh token (RFC 6749 §1.5).
    RefreshToken
);
secret_string!(
    /// An OpenID Connect ID token, a signed JWT (OpenID Connect Core §2).
    IdToken
);
secret_string!(
    /// A PKCE `code_verifier` (RFC 7636 §4.1): 43–128 characters of `[A-Za-z0-9-._~]`.
    CodeVerifier
);
secret_string!(
    /// The OAuth 2.0 `state` parameter (RFC 6749 §10.12), binding a callback to the browser that started it.
    CsrfState
);
secret_string!(
    /// The OpenID Connect `nonce` (OpenID Connect Core §3.1.2.1), binding an ID token to the login.
    Nonce
);

/// The application's ID (GenAuth "App ID", OAuth 2.0 `client_id`, RFC 6749 §2.2). Not a secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps a client ID.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The client ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Fills a buffer from the operating system's CSPRNG and returns it base64url-encoded (no padding);
/// `None` if the CSPRNG fails (callers answer [`Error::Random`](crate::Error::Random)).
///
/// 32 bytes give 43 characters of `[A-Za-z0-9-_]`: a valid PKCE verifier, and 256 bits for state/nonce.
pub(crate) fn random_token(bytes: usize) -> Option<String> {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 6750 §2.1).
///
/// On every bearer request: the bytes are checked without branching on each one (a fold of
/// comparisons the compiler vectorizes), since valid tokens, the common case, are read to the end
/// anyway.
pub(crate) fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    let b64token_byte = |b: u8| {
        b.is_ascii_alphanumeric()
            | (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/')
    };
    !body.is_empty() && body.bytes().fold(true, |all, b| all & b64token_byte(b))
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {

    /// RFC 6750 §2.1 read literally, byte by byte: the reference for [`is_b64token`].
    fn reference_b64token(token: &str) -> bool {
        let body = token.trim_end_matches('=');
        !body.is_empty()
            && body.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            })
    }

    #[test]
    fn b64token_matches_the_grammar_for_every_byte_and_position() {
        for b in 0..=255u8 {
            for text in [
                vec![b],
                vec![b'a', b],
                vec![b, b'a'],
                vec![b'a', b, b'='],
                vec![b'x'; 40].into_iter().chain([b]).collect(),
            ] {
                if let Ok(text) = std::str::from_utf8(&text) {
                    assert_eq!(is_b64token(text), reference_b64token(text), "{text:?}");
                }
            }
        }
        for text in [
            "",
            "=",
            "==",
            "a=b",
            "abc==",
            "a b",
            "ab\u{e9}",
            "a-b.c_d~e+f/g==",
        ] {
            assert_eq!(is_b64token(text), reference_b64token(text), "{text:?}");
        }
    }
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = ClientSecret::new("hunter2");
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        assert!(!format!("{:?}", AccessToken::new("tok")).contains("tok"));
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(Nonce::new("a"), Nonce::new("a"));
        assert_ne!(Nonce::new("a"), Nonce::new("b"));
        assert_ne!(Nonce::new("a"), Nonce::new("ab"));
    }

    #[test]
    fn random_tokens_are_distinct_and_url_safe() {
        let a = random_token(32).unwrap();
        let b = random_token(32).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
