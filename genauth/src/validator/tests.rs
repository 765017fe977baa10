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
