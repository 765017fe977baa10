//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! Key rings (seal with the first key, open with any) and the issuer / client ID binding.

use super::super::tests::{codec, user};
use super::*;
use base64::Engine as _;

fn b64(secret: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

fn sealed_by(codec: &SessionCodec) -> String {
    codec
        .seal_value("s", &Session::new(user()), Duration::from_secs(60))
        .unwrap()
}

fn opens(codec: &SessionCodec, sealed: &str) -> bool {
    codec.open_value::<Session>("s", sealed).is_some()
}

#[test]
fn a_key_ring_seals_with_the_first_key_and_opens_with_any() {
    let (old, new) = ([1u8; 32], [2u8; 32]);
    let by_old = sealed_by(&SessionCodec::new(&old).unwrap());
    let ring = SessionCodec::with_keys(&[new, old]).unwrap();
    assert!(opens(&ring, &by_old), "the old key still opens");
    let by_ring = sealed_by(&ring);
    assert!(
        opens(&SessionCodec::new(&new).unwrap(), &by_ring),
        "sealed with the first key"
    );
    assert!(!opens(&SessionCodec::new(&old).unwrap(), &by_ring));
    assert!(!opens(&SessionCodec::new(&[3; 32]).unwrap(), &by_old));
    assert_eq!(format!("{ring:?}"), "SessionCodec([redacted], keys: 2)");
}

#[test]
fn key_lists_are_comma_separated_base64url_of_32_bytes_or_more() {
    let (old, new) = ([1u8; 32], [0xfbu8; 40]);
    let list = format!("{}, {}", b64(&new), b64(&old));
    let ring = SessionCodec::from_key_list(&list).unwrap();
    assert!(opens(&ring, &sealed_by(&SessionCodec::new(&old).unwrap())));
    assert!(opens(&SessionCodec::new(&new).unwrap(), &sealed_by(&ring)));
    // Padding is optional.
    let padded = base64::engine::general_purpose::URL_SAFE.encode(old);
    assert!(SessionCodec::from_key_list(&padded).is_ok());
    assert!(matches!(
        SessionCodec::from_key_list(&format!("{},{}", b64(&new), b64(&[1; 31]))),
        Err(SessionError::KeyTooShort { len: 31 })
    ));
    assert!(matches!(
        SessionCodec::from_key_list(&format!("{},not base64!", b64(&new))),
        Err(SessionError::KeyEncoding { position: 2 })
    ));
    assert!(matches!(
        SessionCodec::from_key_list(""),
        Err(SessionError::KeyTooShort { len: 0 })
    ));
    assert!(matches!(
        SessionCodec::with_keys::<[u8; 32]>(&[]),
        Err(SessionError::NoKey)
    ));
}

#[test]
fn bound_values_open_only_for_the_same_issuer_and_client_id() {
    let app = codec().bound_to("https://op.example", "app");
    let sealed = sealed_by(&app);
    assert!(opens(
        &codec().bound_to("https://op.example", "app"),
        &sealed
    ));
    for other in [
        codec(),
        codec().bound_to("https://op.example", "other-app"),
        codec().bound_to("https://other-op.example", "app"),
        // The length prefix: no shifting of bytes between issuer and client ID.
        codec().bound_to("https://op.example\0", "pp"),
    ] {
        assert!(!opens(&other, &sealed), "{other:?}");
    }
    assert!(
        !opens(&app, &sealed_by(&codec())),
        "unbound values do not open"
    );
}
