//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! RFC 9449 §4.3, one test per check, with real ES256 keys.

use super::*;
use crate::clock::now_secs;
use serde_json::json;

const HTU: &str = "https://api.example.com/orders";
const TOKEN: &str = "the-access-token";

fn verifier() -> DpopVerifier {
    DpopConfig::new(DpopMode::Required).build().unwrap()
}

fn claims(key_overrides: serde_json::Value) -> serde_json::Value {
    let mut claims = json!({
        "jti": "jti-1", "htm": "GET", "htu": HTU, "iat": now_secs(),
        "ath": URL_SAFE_NO_PAD.encode(sha256(TOKEN.as_bytes())),
    });
    for (k, v) in key_overrides.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn check(proof: &str) -> Result<String, DpopError> {
    let v = verifier();
    v.verify(proof, "GET", HTU, TOKEN)?.record(&v)
}

#[test]
fn a_fresh_proof_passes_and_names_its_key() {
    let key = DpopKey::generate().unwrap();
    let proof = key.proof("GET", HTU, Some(TOKEN)).unwrap();
    assert_eq!(check(&proof).unwrap(), key.thumbprint());
}

#[test]
fn step_2_malformed_proofs_are_refused() {
    for proof in [
        "",
        "a.b",
        "a.b.c.d",
        "!!.!!.!!",
        &"a".repeat(MAX_PROOF_BYTES + 1),
    ] {
        assert!(
            matches!(check(proof), Err(DpopError::Malformed(_))),
            "{proof:.20}"
        );
    }
}

#[test]
fn steps_3_to_5_header_typ_and_alg() {
    let key = DpopKey::generate().unwrap();
    let c = claims(json!({}));
    let jwk = key.jwk().clone();
    let cases = [
        (
            json!({"alg": "ES256", "jwk": jwk}),
            DpopError::Missing("typ"),
        ),
        (
            json!({"typ": "JWT", "alg": "ES256", "jwk": jwk}),
            DpopError::WrongType,
        ),
        (
            json!({"typ": "dpop+jwt", "jwk": jwk}),
            DpopError::Missing("alg"),
        ),
        (
            json!({"typ": "dpop+jwt", "alg": "none", "jwk": jwk}),
            DpopError::AlgorithmNotAllowed("none".into()),
        ),
        (
            json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": jwk}),
            DpopError::AlgorithmNotAllowed("HS256".into()),
        ),
        (
            json!({"typ": "dpop+jwt", "alg": "ES256"}),
            DpopError::Missing("jwk"),
        ),
    ];
    for (header, expected) in cases {
        let proof = key.sign_with_header(&header, &c).unwrap();
        assert_eq!(check(&proof), Err(expected), "{header}");
    }
}

#[test]
fn step_6_signature_by_another_key_is_refused() {
    let key = DpopKey::generate().unwrap();
    let other = DpopKey::generate().unwrap();
    // Signed by `other`, but carrying `key`'s public key.
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk()});
    let proof = other.sign_with_header(&header, &claims(json!({}))).unwrap();
    assert_eq!(check(&proof), Err(DpopError::InvalidSignature));
    // An alg the key cannot verify.
    let header = json!({"typ": "dpop+jwt", "alg": "ES384", "jwk": key.jwk()});
    let proof = key.sign_with_header(&header, &claims(json!({}))).unwrap();
    assert!(matches!(check(&proof), Err(DpopError::InvalidKey(_))));
}

#[test]
fn step_7_private_keys_are_refused() {
    let key = DpopKey::generate().unwrap();
    let mut jwk = key.jwk().clone();
    jwk.insert("d".into(), "c2VjcmV0".into());
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
    let proof = key.sign_with_header(&header, &claims(json!({}))).unwrap();
    assert_eq!(check(&proof), Err(DpopError::PrivateKey));
}

#[test]
fn step_3_required_claims() {
    let key = DpopKey::generate().unwrap();
    for name in ["jti", "htm", "htu", "iat", "ath"] {
        let proof = key.sign(&claims(json!({ name: null }))).unwrap();
        assert_eq!(check(&proof), Err(DpopError::Missing(name)), "{name}");
    }
}

#[test]
fn steps_8_and_9_method_and_url() {
    let key = DpopKey::generate().unwrap();
    let proof = key.sign(&claims(json!({"htm": "POST"}))).unwrap();
    assert_eq!(check(&proof), Err(DpopError::MethodMismatch));
    for htu in [
        "https://api.example.com/other",
        "http://api.example.com/orders",
        "https://evil.example/orders",
        "not a url",
    ] {
        let proof = key.sign(&claims(json!({"htu": htu}))).unwrap();
        assert_eq!(check(&proof), Err(DpopError::UrlMismatch), "{htu}");
    }
    // RFC 3986 §6.2.2-6.2.3 normalization, query and fragment ignored.
    for htu in [
        "HTTPS://API.example.com:443/orders",
        "https://api.example.com/orders?x=1#f",
    ] {
        let proof = key.sign(&claims(json!({"htu": htu, "jti": htu}))).unwrap();
        assert!(check(&proof).is_ok(), "{htu}");
    }
}

#[test]
fn step_11_iat_window() {
    let key = DpopKey::generate().unwrap();
    let now = now_secs();
    for iat in [now - 61, now + 6, 0] {
        let proof = key.sign(&claims(json!({"iat": iat}))).unwrap();
        assert_eq!(check(&proof), Err(DpopError::IatOutOfWindow), "{iat}");
    }
    let proof = key.sign(&claims(json!({"iat": now - 59}))).unwrap();
    assert!(check(&proof).is_ok());
}

#[test]
fn step_12_ath_and_key_binding() {
    let key = DpopKey::generate().unwrap();
    let proof = key.proof("GET", HTU, Some("another-token")).unwrap();
    assert_eq!(check(&proof), Err(DpopError::AccessTokenHashMismatch));
    let v = verifier();
    let proof = key.proof("GET", HTU, Some(TOKEN)).unwrap();
    let checked = v.verify(&proof, "GET", HTU, TOKEN).unwrap();
    assert_eq!(checked.check_binding(Some(key.thumbprint())), Ok(()));
    assert_eq!(
        checked.check_binding(Some("another-jkt")),
        Err(DpopError::KeyMismatch)
    );
    assert_eq!(checked.check_binding(None), Err(DpopError::NotBound));
}

#[test]
fn replayed_proofs_are_refused_per_verifier() {
    let key = DpopKey::generate().unwrap();
    let proof = key.proof("GET", HTU, Some(TOKEN)).unwrap();
    let v = verifier();
    let shared = v.clone();
    assert!(
        v.verify(&proof, "GET", HTU, TOKEN)
            .unwrap()
            .record(&v)
            .is_ok()
    );
    let again = shared.verify(&proof, "GET", HTU, TOKEN).unwrap();
    assert_eq!(again.record(&shared), Err(DpopError::Replayed));
    // Another layer (another verifier) has its own cache.
    assert!(check(&proof).is_ok());
}

#[test]
fn expected_htu_from_request_or_public_base_url() {
    let v = verifier();
    let target = |target, host| ProofTarget {
        method: "GET",
        target,
        host,
        scheme: None,
    };
    assert_eq!(
        v.expected_htu(&target("/a?b=1", Some("h:8080"))).unwrap(),
        "http://h:8080/a"
    );
    assert_eq!(
        v.expected_htu(&target("/a", None)),
        Err(DpopError::UnknownUrl)
    );
    assert_eq!(
        v.expected_htu(&target("https://h/x?y", None)).unwrap(),
        "https://h/x"
    );
    let behind_proxy = DpopConfig::new(DpopMode::Allowed)
        .public_base_url("https://api.example.com/v1/".parse().unwrap())
        .build()
        .unwrap();
    assert_eq!(
        behind_proxy
            .expected_htu(&target("/orders?p=2", Some("10.0.0.5:3000")))
            .unwrap(),
        "https://api.example.com/v1/orders"
    );
}

#[test]
fn config_refuses_symmetric_algorithms_and_empty_cache() {
    assert!(
        DpopConfig::new(DpopMode::Allowed)
            .algorithms([Algorithm::HS256])
            .build()
            .is_err()
    );
    assert!(
        DpopConfig::new(DpopMode::Allowed)
            .algorithms([])
            .build()
            .is_err()
    );
    assert!(
        DpopConfig::new(DpopMode::Allowed)
            .replay_cache_capacity(0)
            .build()
            .is_err()
    );
    assert_eq!(verifier().algs(), "ES256 ES384 EdDSA RS256 PS256");
    assert_eq!(DpopMode::parse("Required"), Some(DpopMode::Required));
    assert_eq!(DpopMode::parse("sometimes"), None);
}

#[test]
fn thumbprints_of_each_key_type() {
    // RFC 8037 Appendix A.3's Ed25519 example key.
    let okp =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    assert_eq!(
        jwk_thumbprint(okp.as_object().unwrap()).unwrap(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    assert!(jwk_thumbprint(json!({"kty": "oct", "k": "x"}).as_object().unwrap()).is_err());
    assert!(
        jwk_thumbprint(
            json!({"kty": "EC", "crv": "P-256", "x": "x"})
                .as_object()
                .unwrap()
        )
        .is_err()
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any header value is refused or accepted without a panic.
        #[test]
        fn arbitrary_proofs_never_panic(proof in ".{0,300}") {
            let _ = check(&proof);
        }

        #[test]
        fn arbitrary_json_parts_never_panic(header in any::<Vec<u8>>(), body in any::<Vec<u8>>()) {
            let proof = format!("{}.{}.AA", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(body));
            let _ = check(&proof);
        }
    }
}

#[test]
fn step_10_server_nonces_when_required() {
    let v = DpopConfig::new(DpopMode::Required)
        .require_nonce(Duration::from_secs(60))
        .build()
        .unwrap();
    let key = DpopKey::generate().unwrap();
    let without = key.proof("GET", HTU, Some(TOKEN)).unwrap();
    assert_eq!(
        v.verify(&without, "GET", HTU, TOKEN).unwrap_err(),
        DpopError::UseNonce
    );
    let forged = key
        .proof_with_nonce(
            "GET",
            HTU,
            Some(TOKEN),
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        )
        .unwrap();
    assert_eq!(
        v.verify(&forged, "GET", HTU, TOKEN).unwrap_err(),
        DpopError::UseNonce
    );
    let nonce = v.fresh_nonce().unwrap();
    let with = key
        .proof_with_nonce("GET", HTU, Some(TOKEN), Some(&nonce))
        .unwrap();
    assert!(v.verify(&with, "GET", HTU, TOKEN).is_ok());
    // A clone checks it too; a verifier without nonces issues none.
    assert!(v.clone().verify(&with, "GET", HTU, TOKEN).is_ok());
    assert_eq!(verifier().fresh_nonce(), None);
}
