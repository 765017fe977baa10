//! Property tests of everything network input reaches, on the stable toolchain (bounded cases, in
//! the normal test run): never a panic; garbage is a typed error; a valid input round-trips.
//!
//! Parsers: the `Authorization` header (RFC 6750 §2.1), `Cookie` headers and the request head,
//! sealed session and login cookies, callback and login query strings, return-to targets, JWTs
//! through the whole verifier (header, payload, signature, claims), JWKS documents, and the
//! provider's JSON answers (discovery, token, introspection).

use genauth::bearer::{BearerError, parse_authorization_value};
use genauth::login::{CallbackParams, return_to_from_query, safe_return_to};
use genauth::session::{AuthUser, Session, SessionCodec};
use genauth::testing::TestIssuer;
use genauth::validator::{TokenValidator, ValidationError};
use genauth::web::{RequestCookies, RequestHead};
use proptest::prelude::*;
use std::time::Duration;

/// 256 cases a property, no regression files written (a failure prints its minimal input).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that look like what arrives: mostly printable ASCII, some control and high bytes.
fn network_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![8 => 0x20u8..0x7f, 1 => any::<u8>()], 0..max)
}

/// base64url text, valid or not.
fn b64ish(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[A-Za-z0-9_=+/.-]{{0,{max}}}")).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn authorization_header_never_panics_and_round_trips(raw in network_bytes(200), token in "[A-Za-z0-9._~+/-]{1,100}=*") {
        match parse_authorization_value(&raw) {
            Ok(parsed) => prop_assert!(!parsed.is_empty() && !parsed.contains(' ')),
            Err(error) => prop_assert!(matches!(error, BearerError::InvalidRequest(_))),
        }
        let header = format!("Bearer {token}");
        prop_assert_eq!(parse_authorization_value(header.as_bytes()).ok(), Some(token.as_str()));
    }

    #[test]
    fn cookie_headers_never_panic_and_round_trip(raw in network_bytes(300), name in "[A-Za-z0-9_-]{1,20}", value in "[A-Za-z0-9._-]{0,40}") {
        let cookies = RequestCookies::from_headers([raw.as_slice()]);
        let _ = format!("{cookies:?}");
        let header = format!("{name}={value}; other=1");
        let cookies = RequestCookies::from_headers([header.as_bytes()]);
        prop_assert_eq!(cookies.get(&name), Some(value.as_str()));
        let head = RequestHead::new("GET", &String::from_utf8_lossy(&raw), [("cookie", header.as_bytes()), ("x", raw.as_slice())]);
        prop_assert_eq!(head.cookies().get(&name), Some(value.as_str()));
        let _ = (head.query(), head.path(), head.header("x"));
    }

    #[test]
    fn sealed_cookies_never_panic_and_round_trip(garbage in b64ish(600), sub in "[a-z0-9-]{1,30}") {
        let codec = SessionCodec::new(&[9u8; 32]).unwrap();
        prop_assert!(codec.open_value::<Session>("genauth_session", &garbage).is_none());
        prop_assert!(codec.open_pending("genauth_login", &garbage).is_none());
        prop_assert!(codec.open("genauth_session", |_| Some(garbage.as_str())).is_none());
        let session = Session::new(AuthUser::new(sub.clone(), genauth::Protocol::Oidc));
        let sealed = codec.seal(&session, "genauth_session", Duration::from_secs(60)).unwrap();
        let opened = codec.open("genauth_session", |name| {
            sealed.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        });
        prop_assert_eq!(opened.map(|s| s.user.sub), Some(sub));
    }

    #[test]
    fn queries_never_panic_and_return_to_is_always_local(query in network_bytes(300), path in "/[a-z0-9_-][a-z0-9/_-]{0,40}") {
        let query = String::from_utf8_lossy(&query);
        let _ = CallbackParams::from_query(&query);
        if let Some(target) = return_to_from_query(&query).and_then(|t| safe_return_to(&t)) {
            prop_assert!(target.starts_with('/') && !target.starts_with("//") && !target.contains('\\'));
            prop_assert!(!target.chars().any(char::is_control));
        }
        let params = CallbackParams::from_query(&format!("code=c1&state=s1&return_to={path}")).unwrap();
        prop_assert_eq!(params.code.as_deref(), Some("c1"));
        prop_assert_eq!(safe_return_to(&path), Some(path.clone()));
    }

    #[test]
    fn provider_json_never_panics(raw in network_bytes(400)) {
        let text = String::from_utf8_lossy(&raw);
        let _ = serde_json::from_str::<genauth::ProviderMetadata>(&text);
        let _ = serde_json::from_str::<genauth::token::TokenResponse>(&text);
        let _ = serde_json::from_str::<genauth::introspection::Introspection>(&text);
        if let Ok(set) = serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(&text) {
            let _ = genauth::jwks::JwksCache::from_jwk_set(&set);
        }
    }
}

/// JWTs of every shape through the whole verifier: junk parts, real headers with junk payloads,
/// real tokens with one part swapped. Always a typed error, never a panic, never an acceptance.
#[test]
fn jwts_never_panic_and_junk_is_never_accepted() {
    let issuer = TestIssuer::new();
    let validator = issuer.validator();
    let good = issuer.mint(serde_json::json!({"scope": "read"}));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let strategy = (b64ish(120), b64ish(200), b64ish(120), 0usize..4);
    runner
        .run(&strategy, |(h, p, s, shape)| {
            let token = match shape {
                0 => format!("{h}.{p}.{s}"),
                1 => format!("{}.{p}.{}", parts[0], parts[2]),
                2 => format!("{h}.{}.{}", parts[1], parts[2]),
                _ => format!("{}.{}.{s}", parts[0], parts[1]),
            };
            let result = runtime.block_on(validator.validate(&token));
            // A random signature over the real header and payload could only pass by forgery.
            prop_assert!(result.is_err() || token == good, "{token}");
            if let Err(error) = result {
                prop_assert!(error.status_code() == 401, "{error:?}");
                prop_assert!(!matches!(error, ValidationError::KeysUnavailable(_)));
            }
            Ok(())
        })
        .unwrap();
    assert!(runtime.block_on(validator.validate(&good)).is_ok());
}
