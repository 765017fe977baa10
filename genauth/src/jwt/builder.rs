//! [`JwtVerifierBuilder`]: plain setters, every configuration check at `build()`.

use super::{AccessTokenTyping, Inner, JwtVerifier};
use crate::config::ConfigError;
use crate::jwks::JwksCache;
use crate::types::ClientSecret;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use std::sync::Arc;
use std::time::Duration;

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
    access_token_typing: AccessTokenTyping,
}

impl JwtVerifierBuilder {
    /// A builder for tokens issued by `issuer`, with the defaults [`JwtVerifier::builder`] documents.
    pub(super) fn new(issuer: String) -> Self {
        Self {
            issuer,
            audiences: Vec::new(),
            skip_audience: false,
            jwks: None,
            hmac_secret: None,
            algorithms: None,
            leeway: Duration::from_secs(60),
            required_type: None,
            access_token_typing: AccessTokenTyping::default(),
        }
    }

    /// How [`JwtVerifier::verify`] tells access tokens from the issuer's ID tokens, logout tokens
    /// and other JWTs (default [`AccessTokenTyping::Inferred`]; RFC 8725 §3.11, RFC 9068 §2.1).
    pub fn access_token_typing(mut self, typing: AccessTokenTyping) -> Self {
        self.access_token_typing = typing;
        self
    }

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
            Some(secret) => Some(secret.clone()),
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
                access_token_typing: self.access_token_typing,
            }),
        })
    }
}
