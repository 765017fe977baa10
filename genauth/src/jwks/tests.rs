//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};

fn headers(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
    h
}

#[test]
fn cache_control_max_age_is_honoured_and_clamped() {
    let o = JwksOptions::default();
    assert_eq!(max_age(&HeaderMap::new(), &o), Duration::from_secs(300));
    assert_eq!(
        max_age(&headers("public, max-age=3600"), &o),
        Duration::from_secs(3600)
    );
    assert_eq!(max_age(&headers("max-age=5"), &o), Duration::from_secs(60));
    assert_eq!(max_age(&headers("no-cache"), &o), Duration::from_secs(60));
    assert_eq!(
        max_age(&headers("max-age=999999999"), &o),
        Duration::from_secs(86400)
    );
    assert_eq!(
        max_age(&headers("max-age=abc"), &o),
        Duration::from_secs(300)
    );
}

fn rsa_jwk(kid: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut jwk = serde_json::json!({
        "kty": "RSA", "kid": kid,
        "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
        "e": "AQAB"
    });
    if let (Some(obj), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    jwk
}

fn parse(keys: serde_json::Value) -> KeySet {
    let raw: RawJwkSet = serde_json::from_value(keys).unwrap();
    KeySet::parse(
        raw.keys
            .into_iter()
            .map(|v| serde_json::from_value::<Jwk>(v).map_err(|e| e.to_string())),
        1,
        None,
        "test",
    )
}

#[test]
fn unusable_entries_are_skipped_not_fatal() {
    let set = parse(serde_json::json!({"keys": [
        rsa_jwk("enc", serde_json::json!({"use": "enc"})),
        rsa_jwk("wrap", serde_json::json!({"key_ops": ["wrapKey"]})),
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
        {"kty": "weird", "kid": "weird"},
        {"kid": "garbage"},
        rsa_jwk("mismatch", serde_json::json!({"alg": "ES256"})),
        rsa_jwk("good", serde_json::json!({"use": "sig", "alg": "RS256"})),
    ]}));
    let kids: Vec<_> = set.keys.iter().filter_map(|k| k.kid.clone()).collect();
    assert_eq!(kids, vec!["good"]);
}

#[test]
fn key_alg_and_type_pin_the_algorithm() {
    let set = parse(serde_json::json!({"keys": [
        rsa_jwk("rs256", serde_json::json!({"alg": "RS256"})),
        rsa_jwk("any-rsa", serde_json::json!({})),
    ]}));
    assert!(set.find(Some("rs256"), Algorithm::RS256).unwrap().is_some());
    // The key's `alg` is RS256: a PS256 header does not get it.
    assert!(matches!(
        set.find(Some("rs256"), Algorithm::PS256),
        Err(ValidationError::KeyMismatch { .. })
    ));
    // Without `alg`, the key type still has to fit.
    assert!(
        set.find(Some("any-rsa"), Algorithm::PS256)
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        set.find(Some("any-rsa"), Algorithm::ES256),
        Err(ValidationError::KeyMismatch { .. })
    ));
    assert!(matches!(
        set.find(Some("any-rsa"), Algorithm::HS256),
        Err(ValidationError::KeyMismatch { .. })
    ));
    assert!(set.find(Some("other"), Algorithm::RS256).unwrap().is_none());
}

#[test]
fn token_without_kid_needs_exactly_one_fitting_key() {
    let one =
        parse(serde_json::json!({"keys": [rsa_jwk("a", serde_json::json!({"alg": "RS256"}))]}));
    assert!(one.find(None, Algorithm::RS256).unwrap().is_some());
    assert!(one.find(None, Algorithm::ES256).unwrap().is_none());
    let two = parse(serde_json::json!({"keys": [
        rsa_jwk("a", serde_json::json!({})),
        rsa_jwk("b", serde_json::json!({})),
    ]}));
    assert!(matches!(
        two.find(None, Algorithm::RS256),
        Err(ValidationError::AmbiguousKey { candidates: 2, .. })
    ));
}

#[test]
fn static_set_without_usable_keys_is_refused() {
    let jwks: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
    ]}))
    .unwrap();
    assert!(matches!(
        JwksCache::from_jwk_set(&jwks),
        Err(ValidationError::NoUsableKeys)
    ));
}
