//! Server-provided DPoP nonces (RFC 9449 §8, §9), stateless: a nonce is a time window's number and
//! an HMAC of it under a key of the verifier, valid in its window and the next one, so any clone of
//! the verifier checks it without shared state.

use crate::clock::now_secs;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Bytes of the HMAC-SHA-256 tag kept in a nonce (128 bits).
const TAG_BYTES: usize = 16;

/// Issues and checks nonces.
pub(super) struct NonceIssuer {
    key: hmac::Key,
    window_secs: u64,
}

impl fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceIssuer")
            .field("window_secs", &self.window_secs)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl NonceIssuer {
    /// A random key; nonces change every `window` (at least a second) and live up to twice that.
    pub(super) fn new(window: Duration) -> Result<Self, &'static str> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| "the random generator failed")?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            window_secs: window.as_secs().max(1),
        })
    }

    /// The nonce of the current window.
    pub(super) fn issue(&self) -> String {
        self.issue_for(now_secs() / self.window_secs)
    }

    fn issue_for(&self, window: u64) -> String {
        let tag = hmac::sign(&self.key, &window.to_be_bytes());
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(tag.as_ref().get(..TAG_BYTES).unwrap_or_default());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `nonce` is one of ours, of this window or the previous one.
    pub(super) fn check(&self, nonce: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let (Some(window), Some(tag)) = (bytes.get(..8), bytes.get(8..)) else {
            return false;
        };
        let Ok(window) = <[u8; 8]>::try_from(window) else {
            return false;
        };
        let window = u64::from_be_bytes(window);
        let now = now_secs() / self.window_secs;
        if window != now && window.saturating_add(1) != now {
            return false;
        }
        let expected = hmac::sign(&self.key, &window.to_be_bytes());
        let expected = expected.as_ref().get(..TAG_BYTES).unwrap_or_default();
        tag.len() == TAG_BYTES && bool::from(tag.ct_eq(expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_ours_and_recent() {
        let issuer = NonceIssuer::new(Duration::from_secs(60)).unwrap();
        let now = now_secs() / 60;
        assert!(issuer.check(&issuer.issue()));
        assert!(
            issuer.check(&issuer.issue_for(now - 1)),
            "the previous window"
        );
        assert!(!issuer.check(&issuer.issue_for(now - 2)), "older");
        assert!(!issuer.check(&issuer.issue_for(now + 1)), "the future");
        let other = NonceIssuer::new(Duration::from_secs(60)).unwrap();
        assert!(!issuer.check(&other.issue()), "another key");
        for bad in ["", "!!", "AAAA", &issuer.issue()[..20]] {
            assert!(!issuer.check(bad), "{bad}");
        }
        assert!(!format!("{issuer:?}").contains("key: ["));
    }
}
