//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;

#[tokio::test]
async fn closures_are_validators() {
    let validator = |token: String| async move {
        if token == "good" {
            Ok(Claims {
                sub: Some("u1".into()),
                ..Default::default()
            })
        } else {
            Err(ValidationError::Rejected("nope".into()))
        }
    };
    let v: Arc<dyn TokenValidator> = Arc::new(validator);
    assert_eq!(v.validate("good").await.unwrap().sub.as_deref(), Some("u1"));
    assert!(matches!(
        v.validate("bad").await,
        Err(ValidationError::Rejected(_))
    ));
}

#[test]
#[allow(deprecated)]
fn with_cache_capacity_is_the_former_name_of_cache_capacity() {
    let verifier = crate::JwtVerifier::builder("https://issuer.example")
        .audience("api")
        .hmac_secret("secret".into())
        .build()
        .unwrap();
    for entries in [0, 100] {
        let renamed = JwksValidator::new(verifier.clone()).cache_capacity(entries);
        let former = JwksValidator::new(verifier.clone()).with_cache_capacity(entries);
        assert_eq!(format!("{former:?}"), format!("{renamed:?}"));
    }
}
