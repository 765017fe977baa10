//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! Each step of Back-Channel Logout 1.0 §2.6 refuses its bad token; a good one is accepted once.

use super::*;
use crate::testing::TestIssuer;
use serde_json::{Value, json};

fn event() -> Value {
    json!({ BACKCHANNEL_LOGOUT_EVENT: {} })
}

fn verifier(issuer: &TestIssuer) -> LogoutTokenVerifier {
    LogoutTokenVerifier::new(issuer.verifier())
}

#[tokio::test]
async fn a_good_token_is_accepted_once() {
    let issuer = TestIssuer::new();
    let v = verifier(&issuer);
    let token = issuer.mint_with_header(
        json!({"typ": "logout+jwt"}),
        json!({"jti": "j-1", "sid": "op-1", "events": event()}),
    );
    let accepted = v.verify(&token).await.unwrap();
    assert_eq!(accepted.sid.as_deref(), Some("op-1"));
    assert!(accepted.sub.is_some(), "the test issuer's default `sub`");
    assert!(matches!(
        v.verify(&token).await,
        Err(LogoutTokenError::Replayed)
    ));
    // `sub` alone, `typ` JWT.
    let by_sub = issuer.mint(json!({"jti": "j-2", "events": event()}));
    let accepted = v.verify(&by_sub).await.unwrap();
    assert_eq!(accepted.sid, None);
}

#[tokio::test]
async fn bad_tokens_are_refused_with_400() {
    let issuer = TestIssuer::new();
    let v = verifier(&issuer);
    let cases: Vec<(&str, String)> = vec![
        ("forged signature", issuer.forged_token()),
        ("expired", {
            let now = now_secs();
            issuer
                .mint(json!({"jti": "e", "events": event(), "iat": now - 7200, "exp": now - 3600}))
        }),
        (
            "nonce",
            issuer.mint(json!({"jti": "n", "events": event(), "nonce": "x"})),
        ),
        ("no events", issuer.mint(json!({"jti": "v", "sid": "s"}))),
        (
            "events without the logout event",
            issuer.mint(json!({"jti": "w", "events": {"x": {}}})),
        ),
        (
            "the event not an object",
            issuer.mint(json!({"jti": "o", "events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}})),
        ),
        (
            "no sid nor sub",
            issuer.mint(json!({"jti": "s", "events": event(), "sub": null})),
        ),
        ("no jti", issuer.mint(json!({"events": event()}))),
        (
            "no iat",
            issuer.mint(json!({"jti": "i", "events": event(), "iat": null})),
        ),
        (
            "wrong aud",
            issuer.mint(json!({"jti": "a", "events": event(), "aud": "another-client"})),
        ),
    ];
    for (case, token) in cases {
        let error = v.verify(&token).await.expect_err(case);
        assert_eq!(error.status_code(), 400, "{case}: {error}");
    }
    // None of them used up a jti: the good token with a refused token's jti is accepted.
    let good = issuer.mint(json!({"jti": "n", "events": event()}));
    assert!(v.verify(&good).await.is_ok());
}
