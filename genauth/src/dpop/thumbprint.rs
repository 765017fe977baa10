//! JWK thumbprints (RFC 7638) with SHA-256: the `jkt` a DPoP-bound token names (RFC 9449 §6.1).

use crate::types::sha256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The RFC 7638 thumbprint of a public JWK, SHA-256, base64url without padding.
///
/// RFC 7638 §3.2: the required members of the key type only (`EC`: `crv`, `kty`, `x`, `y`; `RSA`:
/// `e`, `kty`, `n`; `OKP`: `crv`, `kty`, `x`), in lexicographic order, without whitespace.
///
/// ```
/// // RFC 7638 §3.1's example key.
/// let jwk = serde_json::json!({"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
///   "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
/// let thumbprint = genauth::dpop::jwk_thumbprint(jwk.as_object().ok_or("not an object")?)?;
/// assert_eq!(thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
/// # Ok::<(), &'static str>(())
/// ```
///
/// # Errors
/// When `kty` is not `EC`, `RSA` or `OKP`, or a required member is absent or not a string.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String, &'static str> {
    let member = |name: &'static str| -> Result<&str, &'static str> {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or("a required JWK member is absent or not a string")
    };
    let required: &[&'static str] = match member("kty")? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return Err("unsupported key type (EC, RSA and OKP are supported)"),
    };
    // serde_json writes strings with RFC 8259 escaping, as RFC 7638 §3.3 requires.
    let mut canonical = Map::new();
    for name in required {
        canonical.insert((*name).to_owned(), Value::String(member(name)?.to_owned()));
    }
    // `Map` keeps keys sorted (no `preserve_order` feature), so this is the lexicographic order.
    let json = Value::Object(canonical).to_string();
    Ok(URL_SAFE_NO_PAD.encode(sha256(json.as_bytes())))
}
