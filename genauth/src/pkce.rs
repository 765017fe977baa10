//! PKCE (RFC 7636): a `code_verifier` from the OS CSPRNG and its `code_challenge`.

use crate::Error;
use crate::types::{CodeVerifier, random_token, sha256};
use base64::Engine as _;

/// The `code_challenge_method` (RFC 7636 §4.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PkceMethod {
    /// `S256`: `BASE64URL(SHA256(ASCII(code_verifier)))`, the default and the only one to use
    /// unless the provider cannot do SHA-256.
    #[default]
    S256,
    /// `plain`: the challenge is the verifier itself.
    Plain,
}

impl PkceMethod {
    /// The wire value, `S256` or `plain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

impl CodeVerifier {
    /// A fresh verifier: 32 bytes from the OS CSPRNG, base64url → 43 characters of `[A-Za-z0-9-_]`
    /// (RFC 7636 §4.1 and §7.1: 256 bits of entropy).
    ///
    /// # Errors
    /// [`Error::Random`] if the OS random number generator fails.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::new(random_token(32).ok_or(crate::Error::Random)?))
    }

    /// Checks RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
    pub fn is_valid(&self) -> bool {
        let v = self.secret();
        (43..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    }

    /// The `code_challenge` for this verifier (RFC 7636 §4.2).
    pub fn challenge(&self, method: PkceMethod) -> String {
        match method {
            PkceMethod::S256 => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha256(self.secret().as_bytes())),
            PkceMethod::Plain => self.secret().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = CodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert!(verifier.is_valid());
        assert_eq!(
            verifier.challenge(PkceMethod::S256),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            verifier.challenge(PkceMethod::Plain),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn generated_verifiers_are_valid_and_unique() {
        let a = CodeVerifier::generate().unwrap();
        let b = CodeVerifier::generate().unwrap();
        assert!(a.is_valid() && b.is_valid());
        assert_ne!(a, b);
    }

    #[test]
    fn validity_rules() {
        assert!(!CodeVerifier::new("a".repeat(42)).is_valid());
        assert!(CodeVerifier::new("a".repeat(128)).is_valid());
        assert!(!CodeVerifier::new("a".repeat(129)).is_valid());
        assert!(!CodeVerifier::new(format!("{}+", "a".repeat(43))).is_valid());
    }
}
