//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::types::ClientSecret;

fn hs_verifier() -> JwtVerifier {
    JwtVerifier::builder("https://issuer.example")
        .audience("app")
        .hmac_secret(ClientSecret::new("app-secret"))
        .build()
        .unwrap()
}

fn hs256(secret: &str, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims() -> serde_json::Value {
    let now = now_secs();
    serde_json::json!({
        "iss": "https://issuer.example", "aud": "app", "sub": "u1",
        "iat": now, "exp": now + 600, "scope": "read"
    })
}

#[tokio::test]
async fn hs256_verifies_with_the_app_secret_only() {
    let v = hs_verifier();
    let c: Claims = v.verify(&hs256("app-secret", claims())).await.unwrap();
    assert_eq!(c.sub.as_deref(), Some("u1"));
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(&hs256("other-secret", claims()))
            .await,
        Err(ValidationError::InvalidSignature)
    ));
}

#[test]
fn builder_refuses_configurations_that_cannot_work() {
    let b = || JwtVerifier::builder("https://issuer.example");
    assert!(b().hmac_secret("s".into()).build().is_err(), "no audience");
    assert!(b().audience("a").build().is_err(), "no keys at all");
    assert!(
        b().skip_audience_check()
            .hmac_secret("s".into())
            .build()
            .is_ok()
    );
    assert!(
        b().audience("a").hmac_secret("".into()).build().is_err(),
        "empty secret"
    );
    assert!(
        b().audience("a")
            .hmac_secret("s".into())
            .algorithms([Algorithm::RS256])
            .build()
            .is_err(),
        "RS256 without a JWKS"
    );
    assert!(
        b().audience("a")
            .hmac_secret("s".into())
            .algorithms([])
            .build()
            .is_err(),
        "empty allow-list"
    );
    assert!(
        JwtVerifier::builder(" ")
            .audience("a")
            .hmac_secret("s".into())
            .build()
            .is_err()
    );
    // HS256 only with the secret, and only then in the default list.
    let v = b().audience("a").hmac_secret("s".into()).build().unwrap();
    assert_eq!(v.algorithms(), &[Algorithm::HS256]);
}

#[test]
fn debug_never_prints_the_secret() {
    let v = hs_verifier();
    let debug = format!("{v:?}");
    assert!(!debug.contains("app-secret"), "{debug}");
    assert!(debug.contains("[redacted]"));
    let checks = IdTokenChecks {
        client_id: "app",
        nonce: None,
        access_token: Some("the-access-token"),
    };
    assert!(!format!("{checks:?}").contains("the-access-token"));
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_panicking() {
    let v = hs_verifier();
    for token in [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        "a.b.c",
        "e30.e30.",
        "!!!.e30.sig",
        "eyJhbGciOiJIUzI1NiJ9..sig",
        &"a".repeat(MAX_TOKEN_BYTES + 1),
    ] {
        let err = v.verify::<crate::ExtraClaims>(token).await.unwrap_err();
        assert_eq!(err.status_code(), 401, "{token:.20}: {err}");
    }
}
