//! [`JwtVerifier`]: local verification of ID tokens (OpenID Connect Core §3.1.3.7) and JWT access
//! tokens (RFC 9068, RFC 7519) against the provider's keys ([`JwksCache`]) or, for HS256, the app
//! secret.
//!
//! The algorithm is pinned twice and never taken from the token alone: the header's `alg` must be on
//! the verifier's allow-list (`none` never is; HS256 only when the app secret is configured), and the
//! JWKS key picked by `kid` must be of that algorithm's type and, when the key names an `alg`, of
//! exactly that algorithm (RFC 8725 §3.1). Header parameters that point at keys (`jku`, `jwk`, `x5u`,
//! `x5c`) are ignored: keys only come from the configured JWKS.
//!
//! ```
//! use genauth::jwks::JwksCache;
//! use genauth::jwt::JwtVerifier;
//! use genauth::Claims;
//!
//! # async fn doc(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let jwks = JwksCache::new(
//!     reqwest::Client::new(),
//!     "https://example.genauth.ai/oidc/.well-known/jwks.json".parse()?,
//! );
//! let verifier = JwtVerifier::builder("https://example.genauth.ai/oidc")
//!     .audience("YOUR_APP_ID")
//!     .jwks(jwks)
//!     .build()?;
//! let claims: Claims = verifier.verify(token).await?;
//! println!("hello {:?}", claims.sub);
//! # Ok(())
//! # }
//! ```

use crate::claims::{Claims, check_audience};
use crate::clock::now_secs;
use crate::config::ConfigError;
use crate::error::{ValidationError, excerpt};
pub use crate::id_token::IdTokenChecks;
use crate::id_token::check_id_token;
use crate::jwks::{JwksCache, VerifyingKey};
use crate::types::ClientSecret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Longest token accepted, in bytes (32 KiB): far above real tokens, and it bounds the work an
/// attacker can cause before the signature is checked.
pub const MAX_TOKEN_BYTES: usize = 32 * 1024;

/// The asymmetric algorithms allowed by default when a JWKS is configured.
const DEFAULT_ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verifies JWTs: signature with a pinned algorithm, then `iss`, `aud`, `exp`, `nbf`, `iat` (and for
/// ID tokens `sub`, `azp`, `nonce`, `at_hash`), with a clock leeway. Build it with
/// [`JwtVerifier::builder`].
///
/// `Clone` is an `Arc` clone. `Debug` never prints the app secret.
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audiences: Vec<String>,
    check_audience: bool,
    jwks: Option<JwksCache>,
    hmac: Option<DecodingKey>,
    algorithms: Vec<Algorithm>,
    leeway_secs: u64,
    required_type: Option<String>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("JwtVerifier")
            .field("issuer", &inner.issuer)
            .field("audiences", &inner.audiences)
            .field("check_audience", &inner.check_audience)
            .field("algorithms", &inner.algorithms)
            .field("leeway_secs", &inner.leeway_secs)
            .field("required_type", &inner.required_type)
            .field("jwks", &inner.jwks)
            .field("hmac_secret", &inner.hmac.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// A token's JOSE header: only what verification needs (RFC 7515 §4.1).
#[derive(serde::Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

impl JwtVerifier {
    /// Starts a builder for tokens issued by `issuer` (compared exactly with `iss`, e.g.
    /// `https://example.genauth.ai/oidc`).
    pub fn builder(issuer: impl Into<String>) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            issuer: issuer.into(),
            audiences: Vec::new(),
            skip_audience: false,
            jwks: None,
            hmac_secret: None,
            algorithms: None,
            leeway: Duration::from_secs(60),
            required_type: None,
        }
    }

    /// The issuer tokens must come from.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The audiences accepted by [`verify`](Self::verify).
    pub fn audiences(&self) -> &[String] {
        &self.inner.audiences
    }

    /// The allowed signature algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    /// The key set, when one is configured.
    pub fn jwks(&self) -> Option<&JwksCache> {
        self.inner.jwks.as_ref()
    }

    /// The clock leeway applied to `exp`, `nbf` and `iat`.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.inner.leeway_secs)
    }

    /// Verifies an access token or any JWT from the issuer and returns its claims, with the claims
    /// not modelled by [`Claims`] deserialized into `T` (use [`ExtraClaims`](crate::ExtraClaims) for
    /// a JSON map).
    ///
    /// Checks (RFC 9068 §4, RFC 7519 §7.2): a compact JWS with an allowed `alg` and a valid
    /// signature; `iss` exactly the issuer; `aud` containing a configured audience (unless skipped);
    /// `exp` present and not past; `nbf` and `iat` not in the future (all ± the leeway).
    ///
    /// # Errors
    /// A [`ValidationError`] naming the failed check; [`ValidationError::KeysUnavailable`] (503) when
    /// the keys could not be downloaded yet.
    pub async fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Claims<T>, ValidationError> {
        let (claims, _) = self.verify_signature::<T>(token).await?;
        let result = self.check_registered_claims(&claims).and_then(|()| {
            // An ID token is not an access token, even with the same issuer and audience (GenAuth
            // issues both for the app ID): `nonce` and `at_hash` only ever appear in ID tokens
            // (OpenID Connect Core §2), which travel in URLs (`id_token_hint`) and must not open APIs.
            if claims.nonce.is_some() || claims.at_hash.is_some() {
                return Err(ValidationError::InvalidTokenType {
                    expected: "access token".into(),
                    found: "ID token (it carries nonce or at_hash)".into(),
                });
            }
            // RFC 7519 §4.1.3 / RFC 9068 §4: the resource server must be among the audiences.
            if self.inner.check_audience {
                check_audience(&claims.aud, &self.inner.audiences)?;
            }
            Ok(())
        });
        trace_outcome("access token", &result);
        result.map(|()| claims)
    }

    /// Verifies an ID token (OpenID Connect Core §3.1.3.7) and returns its claims, with the claims not
    /// modelled by [`Claims`] deserialized into `T`.
    ///
    /// Checks, by step of §3.1.3.7: the signature with an allowed `alg` (6–8; HS256 with the app
    /// secret only when configured); `iss` exactly the issuer (2); `aud` contains
    /// `checks.client_id` (3); with several audiences, `azp` present (4); `azp`, when present, equal
    /// to `client_id` (5); `exp` not past (9); `iat` present and not in the future (10); `nonce`
    /// equal, in constant time, when `checks.nonce` is given (11). Also `sub` present (§2), `nbf`
    /// not in the future (RFC 7519 §4.1.5), and `at_hash` matching `checks.access_token` when both
    /// are present (§3.1.3.8). The configured audiences are not used: an ID token's audience is the
    /// client.
    ///
    /// # Errors
    /// A [`ValidationError`] naming the failed check, e.g. [`NonceMismatch`](ValidationError::NonceMismatch),
    /// [`MissingClaim`](ValidationError::MissingClaim)`("nonce")` when a nonce was sent but the token
    /// has none; [`ValidationError::KeysUnavailable`] (503) when the keys could not be downloaded.
    pub async fn verify_id_token<T: DeserializeOwned>(
        &self,
        id_token: &str,
        checks: &IdTokenChecks<'_>,
    ) -> Result<Claims<T>, ValidationError> {
        let (claims, alg) = self.verify_signature::<T>(id_token).await?;
        let result = self
            .check_registered_claims(&claims)
            .and_then(|()| check_id_token(&claims, alg, checks, &self.inner.audiences));
        trace_outcome("ID token", &result);
        result.map(|()| claims)
    }

    /// Parses the token, pins the algorithm, picks the key, checks the signature, then parses the
    /// claims (only once the signature is known to be good).
    async fn verify_signature<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<(Claims<T>, Algorithm), ValidationError> {
        let jws = CompactJws::split(token)?;
        let header = decode_header(jws.header)?;
        let alg = self.pin_algorithm(&header)?;
        self.check_header(&header)?;
        self.check_claimed_issuer(jws.payload)?;
        let key = self.key_for(&header, alg).await?;
        check_signature(&jws, key.decoding_key(), alg)?;
        let claims = decode_claims(jws.payload)?;
        Ok((claims, alg))
    }

    /// RFC 8725 §3.1, RFC 7518 §3.6: the algorithm comes from the allow-list; `none` never does.
    fn pin_algorithm(&self, header: &JoseHeader) -> Result<Algorithm, ValidationError> {
        header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|alg| self.inner.algorithms.contains(alg))
            .ok_or_else(|| ValidationError::AlgorithmNotAllowed {
                alg: excerpt(&header.alg),
            })
    }

    /// The header parameters besides `alg` that can refuse a token: `crit` and the required `typ`.
    fn check_header(&self, header: &JoseHeader) -> Result<(), ValidationError> {
        // RFC 7515 §4.1.11: no extension is understood here, so any `crit` is refused.
        if header.crit.is_some() {
            return Err(ValidationError::UnsupportedCriticalHeader);
        }
        // RFC 7515 §4.1.9, RFC 9068 §4: `typ` when required; "application/" may be omitted.
        if let Some(expected) = &self.inner.required_type {
            let found = header.typ.as_deref().unwrap_or("");
            if bare_media_type(found) != bare_media_type(expected) {
                return Err(ValidationError::InvalidTokenType {
                    expected: expected.clone(),
                    found: excerpt(found),
                });
            }
        }
        Ok(())
    }

    /// Refuses a token that does not even claim our issuer, before any key lookup: it can never be
    /// valid, so it must not cost a JWKS download (an unknown `kid` from a foreign issuer would
    /// otherwise use up the refetch cooldown and delay a real key rotation). This reads `iss`
    /// unverified, only to reject; acceptance still needs the signature and the full checks.
    fn check_claimed_issuer(&self, payload: &str) -> Result<(), ValidationError> {
        #[derive(serde::Deserialize)]
        struct Issuer {
            iss: Option<String>,
        }
        let claimed = decode_part::<Issuer>(payload).ok_or_else(|| {
            ValidationError::Malformed("the token payload is not base64url-encoded JSON".into())
        })?;
        match claimed.iss {
            Some(iss) if iss == self.inner.issuer => Ok(()),
            Some(iss) => Err(ValidationError::InvalidIssuer {
                expected: self.inner.issuer.clone(),
                found: excerpt(&iss),
            }),
            None => Err(ValidationError::MissingClaim("iss")),
        }
    }

    /// The key: the app secret for HS*, else the JWKS key for `kid`, pinned by its type and `alg`.
    async fn key_for(
        &self,
        header: &JoseHeader,
        alg: Algorithm,
    ) -> Result<SigningKey<'_>, ValidationError> {
        let not_allowed = || ValidationError::AlgorithmNotAllowed {
            alg: excerpt(&header.alg),
        };
        match alg.family() {
            AlgorithmFamily::Hmac => self
                .inner
                .hmac
                .as_ref()
                .map(SigningKey::Hmac)
                .ok_or_else(not_allowed),
            _ => {
                let jwks = self.inner.jwks.as_ref().ok_or_else(not_allowed)?;
                let key = jwks.key_for(header.kid.as_deref(), alg).await?;
                Ok(SigningKey::Jwks(key))
            }
        }
    }

    /// `iss`, `exp`, `nbf`, `iat`: common to access and ID tokens.
    fn check_registered_claims<T>(&self, claims: &Claims<T>) -> Result<(), ValidationError> {
        let inner = &*self.inner;
        let now = now_secs();
        let leeway = inner.leeway_secs;
        // RFC 7519 §4.1.1, RFC 9068 §4, OIDC Core §3.1.3.7 step 2: exactly the configured issuer.
        match claims.iss.as_deref() {
            None => return Err(ValidationError::MissingClaim("iss")),
            Some(iss) if iss != inner.issuer => {
                return Err(ValidationError::InvalidIssuer {
                    expected: inner.issuer.clone(),
                    found: excerpt(iss),
                });
            }
            Some(_) => {}
        }
        // RFC 7519 §4.1.4: now must be before `exp` (+ leeway); `exp` is required by RFC 9068 §2.2
        // and OIDC Core §2 (step 9).
        let exp = claims.exp.ok_or(ValidationError::MissingClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(ValidationError::Expired { expired_at: exp });
        }
        // RFC 7519 §4.1.5: now must be at or after `nbf` (− leeway).
        if let Some(nbf) = claims.nbf {
            if nbf > now.saturating_add(leeway) {
                return Err(ValidationError::NotYetValid { not_before: nbf });
            }
        }
        // RFC 7519 §4.1.6, OIDC Core §3.1.3.7 step 10: not issued in the future (+ leeway).
        if let Some(iat) = claims.iat {
            if iat > now.saturating_add(leeway) {
                return Err(ValidationError::IssuedInFuture { issued_at: iat });
            }
        }
        Ok(())
    }
}

/// A token in JWS compact serialization (RFC 7515 §7.1):
/// `BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature)`, not decoded yet.
struct CompactJws<'a> {
    /// `header.payload`: what the signature is over.
    signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> CompactJws<'a> {
    /// Splits a token into its three parts, refusing oversized tokens and any other shape.
    fn split(token: &'a str) -> Result<Self, ValidationError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ValidationError::Malformed(format!(
                "token longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let three_parts = || {
            ValidationError::Malformed(
                "a JWT is three dot-separated base64url parts (encrypted and unsigned tokens are not accepted)"
                    .into(),
            )
        };
        let (signing_input, signature) = token.rsplit_once('.').ok_or_else(three_parts)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(three_parts)?;
        if payload.contains('.') || header.is_empty() || payload.is_empty() {
            return Err(three_parts());
        }
        Ok(Self {
            signing_input,
            header,
            payload,
            signature,
        })
    }
}

/// RFC 7515 §4: the header is a base64url-encoded JSON object.
fn decode_header(header: &str) -> Result<JoseHeader, ValidationError> {
    decode_part(header).ok_or_else(|| {
        ValidationError::Malformed("the token header is not base64url-encoded JSON".into())
    })
}

/// A media type without surrounding space, lowercased, without its optional `application/` prefix
/// (RFC 7515 §4.1.9).
fn bare_media_type(typ: &str) -> String {
    let lower = typ.trim().to_ascii_lowercase();
    lower
        .strip_prefix("application/")
        .map(str::to_owned)
        .unwrap_or(lower)
}

/// The key a token's signature is checked with: the app secret, or a key from the JWKS.
enum SigningKey<'a> {
    Hmac(&'a DecodingKey),
    Jwks(Arc<VerifyingKey>),
}

impl SigningKey<'_> {
    fn decoding_key(&self) -> &DecodingKey {
        match self {
            Self::Hmac(key) => key,
            Self::Jwks(key) => &key.key,
        }
    }
}

/// RFC 7515 §5.2 step 8: the signature over `header.payload`.
fn check_signature(
    jws: &CompactJws<'_>,
    key: &DecodingKey,
    alg: Algorithm,
) -> Result<(), ValidationError> {
    match jsonwebtoken::crypto::verify(jws.signature, jws.signing_input.as_bytes(), key, alg) {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(ValidationError::InvalidSignature),
    }
}

/// RFC 7519 §7.2 steps 8–10: the claims are a JSON object (of the caller's shape).
fn decode_claims<T: DeserializeOwned>(payload: &str) -> Result<Claims<T>, ValidationError> {
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| ValidationError::Malformed("the token payload is not base64url".into()))?;
    serde_json::from_slice::<Claims<T>>(&payload)
        .map_err(|e| ValidationError::InvalidClaims(e.to_string()))
}

/// Decodes one base64url part into JSON.
fn decode_part<T: DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn trace_outcome(kind: &'static str, result: &Result<(), ValidationError>) {
    match result {
        Ok(()) => tracing::trace!(kind, "token verified"),
        Err(error) => tracing::debug!(kind, %error, "token rejected"),
    }
}

/// Builder of [`JwtVerifier`]: plain setters, every check at [`build`](Self::build).
#[must_use]
#[derive(Clone, Debug)]
pub struct JwtVerifierBuilder {
    issuer: String,
    audiences: Vec<String>,
    skip_audience: bool,
    jwks: Option<JwksCache>,
    hmac_secret: Option<ClientSecret>,
    algorithms: Option<Vec<Algorithm>>,
    leeway: Duration,
    required_type: Option<String>,
}

impl JwtVerifierBuilder {
    /// Adds an accepted audience (`aud`, RFC 7519 §4.1.3), e.g. the app ID or the API identifier.
    /// Repeatable: a token is accepted if its `aud` contains any of them. At least one is required
    /// unless [`skip_audience_check`](Self::skip_audience_check) is called.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts access tokens whatever their audience. Only for tokens that cannot be replayed from
    /// another API of the same issuer; prefer [`audience`](Self::audience).
    pub fn skip_audience_check(mut self) -> Self {
        self.skip_audience = true;
        self
    }

    /// The provider's signing keys (needed for every asymmetric algorithm).
    pub fn jwks(mut self, jwks: JwksCache) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Enables HS256 with the app secret (its UTF-8 bytes are the HMAC key, as in every GenAuth SDK).
    /// Without it, HMAC-signed tokens are always refused.
    pub fn hmac_secret(mut self, secret: ClientSecret) -> Self {
        self.hmac_secret = Some(secret);
        self
    }

    /// Pins the allowed algorithms (replaces the default: RS256, RS384, RS512, PS256, PS384, PS512,
    /// ES256, ES384, EdDSA when a JWKS is set, plus HS256 when an HMAC secret is set).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Clock skew tolerated for `exp`, `nbf` and `iat` (default 60 s; whole seconds are used).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the header's `typ` to be this media type (RFC 7515 §4.1.9), compared
    /// case-insensitively with the `application/` prefix optional, e.g. `at+jwt` for RFC 9068 access
    /// tokens. Not required by default (GenAuth access tokens are typed `JWT`).
    pub fn required_type(mut self, typ: impl Into<String>) -> Self {
        self.required_type = Some(typ.into());
        self
    }

    /// Validates and builds the verifier.
    ///
    /// # Errors
    /// [`ConfigError`] when the issuer is empty; no audience is set and the check was not explicitly
    /// skipped; neither a JWKS nor an HMAC secret is set; the HMAC secret is empty; the algorithm list
    /// is empty, has an HMAC algorithm without a secret, or an asymmetric one without a JWKS.
    pub fn build(self) -> Result<JwtVerifier, ConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::Missing("issuer"));
        }
        if self.audiences.is_empty() && !self.skip_audience {
            return Err(ConfigError::Missing(
                "audience (set one, or call skip_audience_check explicitly)",
            ));
        }
        if self.jwks.is_none() && self.hmac_secret.is_none() {
            return Err(ConfigError::Missing("jwks or hmac_secret"));
        }
        let hmac = match &self.hmac_secret {
            Some(secret) if secret.secret().is_empty() => {
                return Err(ConfigError::Invalid {
                    field: "hmac_secret",
                    reason: "the HMAC secret is empty".into(),
                });
            }
            Some(secret) => Some(DecodingKey::from_secret(secret.secret().as_bytes())),
            None => None,
        };
        let algorithms = match self.algorithms {
            Some(list) => list,
            None => {
                let mut list = Vec::new();
                if self.jwks.is_some() {
                    list.extend(DEFAULT_ASYMMETRIC);
                }
                if hmac.is_some() {
                    list.push(Algorithm::HS256);
                }
                list
            }
        };
        let mut pinned: Vec<Algorithm> = Vec::with_capacity(algorithms.len());
        for alg in algorithms {
            if pinned.contains(&alg) {
                continue;
            }
            if alg.family() == AlgorithmFamily::Hmac && hmac.is_none() {
                return Err(ConfigError::Invalid {
                    field: "algorithms",
                    reason: format!("{alg:?} needs the app secret: set hmac_secret"),
                });
            }
            if alg.family() != AlgorithmFamily::Hmac && self.jwks.is_none() {
                return Err(ConfigError::Invalid {
                    field: "algorithms",
                    reason: format!("{alg:?} needs the provider's keys: set jwks"),
                });
            }
            pinned.push(alg);
        }
        if pinned.is_empty() {
            return Err(ConfigError::Invalid {
                field: "algorithms",
                reason: "at least one algorithm must be allowed".into(),
            });
        }
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                audiences: self.audiences,
                check_audience: !self.skip_audience,
                jwks: self.jwks,
                hmac,
                algorithms: pinned,
                leeway_secs: self.leeway.as_secs(),
                required_type: self.required_type,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "iat": now, "exp": now + 600
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
}

/// Tests with real keys from the test issuer.
#[cfg(all(test, feature = "testing"))]
mod signed_tests {
    use super::*;
    use crate::testing::TestIssuer;
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
                .verify::<crate::ExtraClaims>(&issuer.mint(json!({})))
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
}
