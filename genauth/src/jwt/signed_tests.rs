//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::testing::TestIssuer;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

fn now() -> u64 {
    now_secs()
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies() {
    for alg in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::EdDSA,
    ] {
        let issuer = TestIssuer::with_algorithm(alg);
        let claims: Claims = issuer
            .verifier()
            .verify(&issuer.mint(json!({"sub": "alice"})))
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(claims.sub.as_deref(), Some("alice"));
        // And a token signed by another key with the same kid fails.
        assert!(matches!(
            issuer
                .verifier()
                .verify::<crate::ExtraClaims>(&issuer.forged_token())
                .await,
            Err(ValidationError::InvalidSignature)
        ));
    }
}

#[tokio::test]
async fn none_and_unlisted_algorithms_are_refused() {
    let issuer = TestIssuer::new();
    let v = issuer.verifier();
    // `alg: none` with an empty signature.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(
            &json!({"iss": issuer.issuer(), "aud": "genauth-test", "exp": now() + 60}),
        )
        .unwrap(),
    );
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.c2ln"),
    ] {
        assert!(matches!(
            v.verify::<crate::ExtraClaims>(&token).await,
            Err(ValidationError::AlgorithmNotAllowed { .. })
        ));
    }
    // ES384 not on the list pinned by configuration, even with a fitting key.
    let es384 = TestIssuer::with_algorithm(Algorithm::ES384);
    let v = JwtVerifier::builder(es384.issuer())
        .audience("genauth-test")
        .jwks(JwksCache::from_jwk_set(&es384.jwks()).unwrap())
        .algorithms([Algorithm::ES256])
        .build()
        .unwrap();
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(&es384.mint(json!({}))).await,
        Err(ValidationError::AlgorithmNotAllowed { .. })
    ));
}

#[tokio::test]
async fn hs256_is_refused_without_a_secret_even_if_signed_with_the_public_key() {
    // Classic confusion: HS256 "signed" with a JWKS key's bytes. No secret → never HMAC.
    let issuer = TestIssuer::new();
    let jwk = serde_json::to_vec(&issuer.jwks()).unwrap();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(issuer.kid().to_owned()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &json!({"iss": issuer.issuer(), "aud": "genauth-test", "exp": now() + 60}),
        &jsonwebtoken::EncodingKey::from_secret(&jwk),
    )
    .unwrap();
    assert!(matches!(
        issuer.verifier().verify::<crate::ExtraClaims>(&token).await,
        Err(ValidationError::AlgorithmNotAllowed { .. })
    ));
    // Even explicitly listing it is refused at build time without a secret.
    assert!(
        JwtVerifier::builder(issuer.issuer())
            .audience("genauth-test")
            .jwks(JwksCache::from_jwk_set(&issuer.jwks()).unwrap())
            .algorithms([Algorithm::HS256])
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn header_alg_must_match_the_keys_alg() {
    // The ES256 key signs, but the header claims ES384: the key (alg ES256, P-256) refuses.
    let issuer = TestIssuer::new();
    let token = issuer.mint_with_header(json!({"alg": "ES384"}), json!({}));
    let v = JwtVerifier::builder(issuer.issuer())
        .audience("genauth-test")
        .jwks(JwksCache::from_jwk_set(&issuer.jwks()).unwrap())
        .build()
        .unwrap();
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(&token).await,
        Err(ValidationError::KeyMismatch { .. })
    ));
    // An RSA key named by kid cannot verify an ES256 header either (key type pins the family).
    let rsa = TestIssuer::rs256();
    let mut jwks = rsa.jwks();
    jwks.keys.extend(issuer.jwks().keys);
    let v = JwtVerifier::builder(issuer.issuer())
        .audience("genauth-test")
        .jwks(JwksCache::from_jwk_set(&jwks).unwrap())
        .build()
        .unwrap();
    let token = issuer.mint_with_header(json!({"kid": rsa.kid()}), json!({}));
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(&token).await,
        Err(ValidationError::KeyMismatch { .. })
    ));
}

#[tokio::test]
async fn token_without_kid_uses_the_single_fitting_key() {
    let issuer = TestIssuer::new();
    let token = issuer.mint_with_header(json!({"kid": null}), json!({}));
    issuer
        .verifier()
        .verify::<crate::ExtraClaims>(&token)
        .await
        .unwrap();
    // Two ES256 keys: ambiguous.
    let other = TestIssuer::new();
    let mut jwks = issuer.jwks();
    jwks.keys.extend(other.jwks().keys);
    let v = JwtVerifier::builder(issuer.issuer())
        .audience("genauth-test")
        .jwks(JwksCache::from_jwk_set(&jwks).unwrap())
        .build()
        .unwrap();
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(&token).await,
        Err(ValidationError::AmbiguousKey { .. })
    ));
    // Unknown kid in a static set.
    let token = issuer.mint_with_header(json!({"kid": "nope"}), json!({}));
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(&token).await,
        Err(ValidationError::UnknownKey { .. })
    ));
}

#[tokio::test]
async fn registered_claims_are_checked() {
    let issuer = TestIssuer::new();
    let v = issuer.verifier(); // leeway 60 s
    let t = now();
    let check = |claims: serde_json::Value| {
        let token = issuer.mint(claims);
        let v = v.clone();
        async move { v.verify::<crate::ExtraClaims>(&token).await }
    };
    assert!(check(json!({})).await.is_ok());
    assert!(matches!(
        check(json!({"iss": "https://evil.example"})).await,
        Err(ValidationError::InvalidIssuer { .. })
    ));
    assert!(matches!(
        check(json!({"iss": format!("{}/", issuer.issuer())})).await,
        Err(ValidationError::InvalidIssuer { .. })
    ));
    assert!(matches!(
        check(json!({"iss": null})).await,
        Err(ValidationError::MissingClaim("iss"))
    ));
    assert!(matches!(
        check(json!({"aud": "other-api"})).await,
        Err(ValidationError::InvalidAudience { .. })
    ));
    assert!(
        check(json!({"aud": ["other-api", "genauth-test"]}))
            .await
            .is_ok()
    );
    assert!(matches!(
        check(json!({"aud": null})).await,
        Err(ValidationError::MissingClaim("aud"))
    ));
    assert!(matches!(
        check(json!({"exp": null})).await,
        Err(ValidationError::MissingClaim("exp"))
    ));
    // exp: within the leeway is accepted, past it refused.
    assert!(check(json!({"exp": t - 30})).await.is_ok());
    assert!(matches!(
        check(json!({"exp": t - 61})).await,
        Err(ValidationError::Expired { .. })
    ));
    // nbf and iat in the future.
    assert!(check(json!({"nbf": t + 30})).await.is_ok());
    assert!(matches!(
        check(json!({"nbf": t + 120})).await,
        Err(ValidationError::NotYetValid { .. })
    ));
    assert!(check(json!({"iat": t + 30})).await.is_ok());
    assert!(matches!(
        check(json!({"iat": t + 120})).await,
        Err(ValidationError::IssuedInFuture { .. })
    ));
    // crit is refused; typ only checked when required.
    assert!(matches!(
        v.verify::<crate::ExtraClaims>(
            &issuer.mint_with_header(json!({"crit": ["exp"]}), json!({}))
        )
        .await,
        Err(ValidationError::UnsupportedCriticalHeader)
    ));
    let typed = JwtVerifier::builder(issuer.issuer())
        .audience("genauth-test")
        .jwks(JwksCache::from_jwk_set(&issuer.jwks()).unwrap())
        .required_type("at+jwt")
        .build()
        .unwrap();
    assert!(matches!(
        typed
            .verify::<crate::ExtraClaims>(
                &issuer.mint_with_header(json!({"typ": "JWT"}), json!({}))
            )
            .await,
        Err(ValidationError::InvalidTokenType { .. })
    ));
    let at_jwt = issuer.mint_with_header(json!({"typ": "application/AT+JWT"}), json!({}));
    typed.verify::<crate::ExtraClaims>(&at_jwt).await.unwrap();
}

#[tokio::test]
async fn skipped_audience_and_typed_extra_claims() {
    let issuer = TestIssuer::new();
    let v = JwtVerifier::builder(issuer.issuer())
        .skip_audience_check()
        .jwks(JwksCache::from_jwk_set(&issuer.jwks()).unwrap())
        .build()
        .unwrap();
    #[derive(serde::Deserialize)]
    struct Mine {
        tenant: String,
    }
    let c: Claims<Mine> = v
        .verify(&issuer.mint(json!({"aud": "anything", "tenant": "t1"})))
        .await
        .unwrap();
    assert_eq!(c.extra.tenant, "t1");
    assert!(matches!(
        v.verify::<Mine>(&issuer.mint(json!({}))).await,
        Err(ValidationError::InvalidClaims(_))
    ));
}

#[tokio::test]
async fn an_id_token_is_not_an_access_token() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier();
    for claims in [json!({"nonce": "n"}), json!({"at_hash": "x"})] {
        assert!(matches!(
            verifier
                .verify::<crate::ExtraClaims>(&issuer.mint(claims))
                .await,
            Err(ValidationError::InvalidTokenType { .. })
        ));
    }
    assert!(
        verifier
            .verify::<crate::ExtraClaims>(&issuer.mint(json!({"scope": "read"})))
            .await
            .is_ok()
    );
}

/// RFC 8725 §3.11, RFC 9068 §2.1: an access token is never an ID token, a logout token or a
/// key-bound token, whatever its claims; untyped tokens need what access tokens carry.
#[tokio::test]
async fn access_tokens_are_explicitly_typed() {
    let issuer = TestIssuer::new();
    let verifier = |typing| {
        JwtVerifier::builder(issuer.issuer())
            .audience("genauth-test")
            .jwks(JwksCache::from_jwk_set(&issuer.jwks()).unwrap())
            .access_token_typing(typing)
            .build()
            .unwrap()
    };
    let untyped = |claims| issuer.mint_with_header(json!({"typ": "JWT"}), claims);
    let no_typ = |claims| issuer.mint_with_header(json!({"typ": null}), claims);
    let id_token_shaped = untyped(json!({"name": "Ada", "email": "ada@example.com", "sid": "s1"}));
    let refused = |result: Result<crate::Claims, ValidationError>| {
        matches!(
            result,
            Err(ValidationError::InvalidTokenType { .. } | ValidationError::KeyBound)
        )
    };
    for typing in [
        AccessTokenTyping::Strict,
        AccessTokenTyping::Inferred,
        AccessTokenTyping::Lenient,
    ] {
        let v = verifier(typing);
        // Typed access tokens pass in every mode.
        v.verify::<crate::ExtraClaims>(&issuer.mint(json!({"scope": "read"})))
            .await
            .unwrap();
        // Another kind of JWT, ID-token or logout-token claims, a key binding: never.
        for token in [
            issuer.mint_with_header(json!({"typ": "logout+jwt"}), json!({"events": {}})),
            issuer.mint_with_header(json!({"typ": "id_token+jwt"}), json!({"scope": "x"})),
            untyped(json!({"scope": "read", "nonce": "n"})),
            untyped(json!({"scope": "read", "at_hash": "h"})),
            untyped(json!({"scope": "read", "c_hash": "h"})),
            untyped(
                json!({"client_id": "app", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}),
            ),
            issuer.mint(json!({"scope": "read", "cnf": {"jkt": "thumbprint"}})),
        ] {
            assert!(refused(v.verify(&token).await), "{typing:?}");
        }
    }
    // Untyped tokens: the default takes those with scope or client_id (GenAuth's), not ID-token-
    // shaped ones; Strict takes none; Lenient takes them all.
    let inferred = verifier(AccessTokenTyping::Inferred);
    for token in [
        untyped(json!({"scope": "read"})),
        no_typ(json!({"client_id": "m2m"})),
        untyped(json!({"scp": ["read"]})),
    ] {
        inferred.verify::<crate::ExtraClaims>(&token).await.unwrap();
        assert!(refused(
            verifier(AccessTokenTyping::Strict).verify(&token).await
        ));
    }
    assert!(refused(inferred.verify(&id_token_shaped).await));
    assert!(refused(inferred.verify(&no_typ(json!({}))).await));
    verifier(AccessTokenTyping::Lenient)
        .verify::<crate::ExtraClaims>(&id_token_shaped)
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_and_foreign_tokens_are_refused_before_the_signature() {
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier();
    // Signed by another key whose `kid` the verifier does not know: refused for its expiry, or its
    // issuer, without a key lookup (which would say the key is unknown) or a signature check.
    let stranger = TestIssuer::new();
    let expired = stranger.expired_token();
    assert!(matches!(
        verifier.verify::<crate::ExtraClaims>(&expired).await,
        Err(ValidationError::Expired { .. })
    ));
    let foreign = stranger
        .clone()
        .with_issuer("https://elsewhere.test")
        .mint(json!({"scope": "read"}));
    assert!(matches!(
        verifier.verify::<crate::ExtraClaims>(&foreign).await,
        Err(ValidationError::InvalidIssuer { .. })
    ));
    // Within the leeway, an expired-looking token still needs a good signature, and then passes.
    let recent = issuer.mint(json!({"scope": "read", "exp": now() - 5}));
    verifier
        .verify::<crate::ExtraClaims>(&recent)
        .await
        .unwrap();
    let forged = stranger.mint(json!({"scope": "read", "exp": now() - 5}));
    assert!(matches!(
        verifier.verify::<crate::ExtraClaims>(&forged).await,
        Err(ValidationError::UnknownKey { .. })
    ));
    // An `exp` the screen cannot read is left to the full check, after the signature.
    let odd = issuer.mint(json!({"scope": "read", "exp": "tomorrow"}));
    assert!(matches!(
        verifier.verify::<crate::ExtraClaims>(&odd).await,
        Err(ValidationError::InvalidClaims(_))
    ));
}
