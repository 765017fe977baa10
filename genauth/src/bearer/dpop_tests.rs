//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! The DPoP flow of [`BearerAuthenticator`] with a real [`JwksValidator`](crate::JwksValidator):
//! the verified-token cache never lets a DPoP-bound token through as a plain bearer token.

use super::*;
use crate::dpop::{DpopConfig, DpopKey, ProofTarget};
use crate::testing::TestIssuer;

fn target() -> ProofTarget<'static> {
    ProofTarget {
        method: "GET",
        target: "/orders",
        host: Some("api.test"),
        scheme: Some("https"),
    }
}

#[tokio::test]
async fn a_verified_bound_token_stays_refused_as_bearer() {
    let issuer = TestIssuer::new();
    let key = DpopKey::generate().unwrap();
    let token = issuer.mint(serde_json::json!({"scope": "read", "cnf": {"jkt": key.thumbprint()}}));
    let auth = BearerAuthenticator::new(issuer.validator())
        .dpop(DpopConfig::new(DpopMode::Allowed).build().unwrap());
    let proof = key
        .proof("GET", "https://api.test/orders", Some(&token))
        .unwrap();
    let dpop = format!("DPoP {token}");
    let ok = auth
        .authenticate_request([dpop.as_bytes()], [proof.as_bytes()], &target())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok.dpop_jkt(), Some(key.thumbprint()));
    // Now in the verified-token cache: as `Bearer`, still refused.
    let bearer = format!("Bearer {token}");
    let refused = auth
        .authenticate_request([bearer.as_bytes()], std::iter::empty(), &target())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            BearerError::InvalidToken(ValidationError::KeyBound)
        ),
        "{refused}"
    );
    let reply = auth.error_reply(&refused);
    assert_eq!(reply.status, 401);
    // Several DPoP headers are refused before any work.
    let proofs = [proof.as_bytes(), proof.as_bytes()];
    let several = auth
        .credentials([dpop.as_bytes()], proofs, &target())
        .unwrap_err();
    assert!(matches!(
        several,
        BearerError::InvalidDpopProof(DpopError::SeveralProofs)
    ));
    // DPoP off: the scheme is not understood, as before.
    let off = BearerAuthenticator::new(issuer.validator());
    let refused = off
        .credentials([dpop.as_bytes()], std::iter::empty(), &target())
        .unwrap_err();
    assert_eq!(refused.status_code(), 400);
    // The Bearer-only entry point never lets a bearer token through where DPoP is required.
    let required = BearerAuthenticator::new(issuer.validator())
        .dpop(DpopConfig::new(DpopMode::Required).build().unwrap());
    let plain = format!(
        "Bearer {}",
        issuer.mint(serde_json::json!({"scope": "read"}))
    );
    assert!(matches!(
        required.authenticate([plain.as_bytes()]).await,
        Err(BearerError::DpopRequired)
    ));
}
