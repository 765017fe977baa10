//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::jwks::JwksCache;
use crate::jwt::JwtVerifier;
use crate::testing::TestIssuer;
use crate::types::ClientSecret;
use serde_json::json;

fn now() -> u64 {
    crate::clock::now_secs()
}

async fn id_token(
    issuer: &TestIssuer,
    claims: serde_json::Value,
    checks: &IdTokenChecks<'_>,
) -> Result<Claims, ValidationError> {
    issuer
        .verifier()
        .verify_id_token(&issuer.mint(claims), checks)
        .await
}

#[tokio::test]
async fn id_token_checks() {
    let issuer = TestIssuer::new();
    let i = &issuer;
    let nonce = Nonce::new("n-123");
    let access_token = "some-access-token";
    let at_hash = token_hash(Algorithm::ES256, access_token);
    let checks = &IdTokenChecks {
        client_id: "genauth-test",
        nonce: Some(&nonce),
        access_token: Some(access_token),
    };
    let no_nonce = &IdTokenChecks {
        nonce: None,
        ..*checks
    };
    let no_access_token = &IdTokenChecks {
        access_token: None,
        ..*checks
    };
    let good = json!({"nonce": "n-123", "at_hash": at_hash});
    assert!(id_token(i, good.clone(), checks).await.is_ok());
    // Nonce: wrong, missing when expected; present when not expected is fine.
    assert!(matches!(
        id_token(i, json!({"nonce": "n-999"}), checks).await,
        Err(ValidationError::NonceMismatch)
    ));
    assert!(matches!(
        id_token(i, json!({}), checks).await,
        Err(ValidationError::MissingClaim("nonce"))
    ));
    assert!(
        id_token(i, json!({"nonce": "whatever"}), no_nonce)
            .await
            .is_ok()
    );
    // at_hash: wrong → error; absent → fine; no access token given → not checked.
    assert!(matches!(
        id_token(
            i,
            json!({"nonce": "n-123", "at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}),
            checks
        )
        .await,
        Err(ValidationError::AccessTokenHashMismatch)
    ));
    assert!(id_token(i, json!({"nonce": "n-123"}), checks).await.is_ok());
    assert!(
        id_token(
            i,
            json!({"nonce": "n-123", "at_hash": "AAAA"}),
            no_access_token
        )
        .await
        .is_ok()
    );
    // Audience must contain the client; several audiences need azp = client.
    assert!(matches!(
        id_token(i, json!({"nonce": "n-123", "aud": "other"}), checks).await,
        Err(ValidationError::InvalidAudience { .. })
    ));
    // OIDC Core §3.1.3.7 step 3: an untrusted extra audience is refused even with azp = client...
    let azp = json!({"nonce": "n-123", "aud": ["genauth-test", "other"], "azp": "genauth-test"});
    assert!(matches!(
        id_token(i, azp.clone(), checks).await,
        Err(ValidationError::UntrustedAudience { .. })
    ));
    // ... and accepted when the verifier trusts it; step 4: several audiences need `azp`.
    let trusting = JwtVerifier::builder(i.issuer())
        .audience("genauth-test")
        .audience("other")
        .jwks(i.jwks_cache())
        .build()
        .unwrap();
    let verify = |claims| {
        let token = i.mint(claims);
        let trusting = trusting.clone();
        async move {
            trusting
                .verify_id_token::<crate::ExtraClaims>(&token, checks)
                .await
        }
    };
    assert!(verify(azp).await.is_ok());
    assert!(matches!(
        verify(json!({"nonce": "n-123", "aud": ["genauth-test", "other"]})).await,
        Err(ValidationError::MissingClaim("azp"))
    ));
    assert!(matches!(
        id_token(i, json!({"nonce": "n-123", "azp": "other"}), checks).await,
        Err(ValidationError::InvalidAuthorizedParty)
    ));
    // sub and iat are required in ID tokens; exp and iss as for every token.
    for missing in ["sub", "iat", "exp", "iss"] {
        let mut claims = good.clone();
        claims[missing] = serde_json::Value::Null;
        let result = id_token(i, claims, checks).await;
        assert!(
            matches!(result, Err(ValidationError::MissingClaim(m)) if m == missing),
            "{missing}: {result:?}"
        );
    }
    // An expired ID token.
    assert!(matches!(
        id_token(i, json!({"nonce": "n-123", "exp": now() - 3600}), checks).await,
        Err(ValidationError::Expired { .. })
    ));
}

#[tokio::test]
async fn hs256_id_tokens_with_the_app_secret() {
    let issuer = TestIssuer::new();
    let v = JwtVerifier::builder(issuer.issuer())
        .audience("genauth-test")
        .jwks(JwksCache::from_jwk_set(&issuer.jwks()).unwrap())
        .hmac_secret(ClientSecret::new("app-secret"))
        .build()
        .unwrap();
    assert!(v.algorithms().contains(&Algorithm::HS256));
    let t = now();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &json!({"iss": issuer.issuer(), "aud": "genauth-test", "sub": "u", "iat": t, "exp": t + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"app-secret"),
    )
    .unwrap();
    let checks = IdTokenChecks {
        client_id: "genauth-test",
        nonce: None,
        access_token: None,
    };
    v.verify_id_token::<crate::ExtraClaims>(&token, &checks)
        .await
        .unwrap();
    // ES256 tokens still verify with the same verifier.
    v.verify::<crate::ExtraClaims>(&issuer.mint(json!({})))
        .await
        .unwrap();
}
