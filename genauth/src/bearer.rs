//! Bearer-token authentication of API requests (RFC 6750), shared by every web adapter.
//!
//! The whole per-request flow lives here once: [`BearerAuthenticator::authenticate`] reads the `Authorization`
//! header values (RFC 6750 §2.1), validates the token with a [`TokenValidator`], checks the required
//! scopes, and on failure returns a [`BearerError`] whose [`status_code`](BearerError::status_code),
//! [`www_authenticate`](BearerError::www_authenticate) challenge (RFC 6750 §3) and
//! [`json_body`](BearerError::json_body) an adapter turns into a response as they are.
//!
//! | failure | status | `WWW-Authenticate` |
//! | --- | --- | --- |
//! | no `Authorization` header | 401 | `Bearer realm="…"` (no error code, §3.1) |
//! | not `Bearer <b64token>`, or several headers | 400 | `error="invalid_request"` |
//! | token rejected by the validator | 401 | `error="invalid_token"` |
//! | token lacks a required scope | 403 | `error="insufficient_scope", scope="…"` |
//! | provider or keys unreachable | 503 | none (not the client's fault) |
//!
//! ```
//! use genauth::bearer::{parse_authorization, BearerError};
//!
//! assert_eq!(parse_authorization([b"Bearer abc.def-ghi".as_slice()])?, Some("abc.def-ghi"));
//! assert_eq!(parse_authorization(std::iter::empty::<&[u8]>())?, None);
//!
//! let err = parse_authorization([b"Basic dXNlcjpwYXNz".as_slice()]).unwrap_err();
//! assert_eq!(err.status_code(), 400);
//! assert_eq!(
//!     err.www_authenticate("api").as_deref(),
//!     Some(r#"Bearer realm="api", error="invalid_request", error_description="the Authorization header must use the Bearer scheme""#)
//! );
//! assert_eq!(BearerError::MissingToken.www_authenticate("api").as_deref(), Some(r#"Bearer realm="api""#));
//! # Ok::<(), BearerError>(())
//! ```

use crate::claims::Claims;
use crate::dpop::{DpopError, DpopMode, DpopVerifier};
use crate::resource_metadata::ProtectedResourceMetadata;
use crate::step_up::StepUp;
use crate::types::{AccessToken, is_b64token};
use crate::validator::{TokenValidator, ValidationError};
use crate::web::Reply;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;

/// The realm used in challenges when none is configured.
pub const DEFAULT_REALM: &str = "api";

/// `Retry-After` of a 503 answer, in seconds: the JWKS refetch cooldown is of this order.
const RETRY_AFTER_SECS: u64 = 5;

/// The body's `error_description` for a missing token (whose challenge has none).
const MISSING_TOKEN_DESCRIPTION: &str = "a bearer token is required";

/// Longest `error_description` sent in a challenge, in bytes; longer descriptions are cut.
const MAX_DESCRIPTION_LEN: usize = 200;

/// Why a request was not authenticated by its bearer token, with the RFC 6750 response for each case.
///
/// Messages and challenges never contain the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BearerError {
    /// The request carries no `Authorization` header. RFC 6750 §3.1: the challenge carries no error
    /// code. 401.
    #[error("missing bearer token")]
    MissingToken,

    /// The `Authorization` header is not `Bearer <b64token>` (RFC 6750 §2.1), or it is repeated.
    /// `invalid_request`, 400.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),

    /// The validator rejected the token: bad signature, expired, wrong issuer or audience, revoked,
    /// unknown. `invalid_token`, 401.
    #[error("invalid token: {0}")]
    InvalidToken(#[source] ValidationError),

    /// The token is valid but lacks a required scope. `insufficient_scope`, 403, with `scope="…"`
    /// listing every required scope (RFC 6750 §3.1).
    #[error("insufficient scope: requires `{required}`")]
    InsufficientScope {
        /// The space-separated scopes the resource requires.
        required: String,
    },

    /// The token could not be checked because the provider (JWKS or introspection endpoint) is
    /// unreachable. 503, no challenge: the client did nothing wrong and may retry.
    #[error("token could not be checked, the provider is unavailable: {0}")]
    ProviderUnavailable(#[source] ValidationError),

    /// The DPoP proof is missing, invalid, replayed, or for another key than the token's
    /// (RFC 9449 §4.3, §7.1). `invalid_dpop_proof`, 401, on the `DPoP` challenge.
    #[error("invalid DPoP proof: {0}")]
    InvalidDpopProof(#[source] DpopError),

    /// This resource takes only DPoP-bound tokens with a proof ([`DpopMode::Required`]) and the
    /// request used the `Bearer` scheme. `invalid_token`, 401, on the `DPoP` challenge.
    #[error("this resource requires a DPoP-bound access token and a DPoP proof")]
    DpopRequired,

    /// The token is valid but the sign-in behind it is too weak or too old for this resource
    /// (RFC 9470 §3): `insufficient_user_authentication`, 401, with `acr_values` and/or `max_age`.
    #[error("insufficient user authentication: {reason}")]
    InsufficientUserAuthentication {
        /// What is lacking: the `acr`, or the `auth_time`.
        reason: &'static str,
        /// The acceptable `acr` values, space-separated, in order of preference (§3).
        acr_values: Option<String>,
        /// The longest time since the user's authentication, in seconds (§3).
        max_age_secs: Option<u64>,
    },
}

impl BearerError {
    /// Classifies a validator failure: provider-side failures (status 503) become
    /// [`ProviderUnavailable`](Self::ProviderUnavailable), every other one
    /// [`InvalidToken`](Self::InvalidToken).
    pub fn from_validation(error: ValidationError) -> Self {
        if error.status_code() == 503 {
            Self::ProviderUnavailable(error)
        } else {
            Self::InvalidToken(error)
        }
    }

    /// The HTTP status: 401 (missing or invalid token), 400 (malformed request), 403 (insufficient
    /// scope) or 503 (provider unavailable).
    pub fn status_code(&self) -> u16 {
        match self {
            Self::MissingToken
            | Self::InvalidToken(_)
            | Self::InvalidDpopProof(_)
            | Self::DpopRequired
            | Self::InsufficientUserAuthentication { .. } => 401,
            Self::InvalidRequest(_) => 400,
            Self::InsufficientScope { .. } => 403,
            Self::ProviderUnavailable(_) => 503,
        }
    }

    /// The error code: `invalid_request`, `invalid_token`, `insufficient_scope` (RFC 6750 §3.1),
    /// `invalid_dpop_proof` (RFC 9449 §7.1), `use_dpop_nonce` (§8),
    /// `insufficient_user_authentication` (RFC 9470 §3), or
    /// `None` for a missing token and for provider-side failures.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken | Self::ProviderUnavailable(_) => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) | Self::DpopRequired => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::InvalidDpopProof(DpopError::UseNonce) => Some("use_dpop_nonce"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::InsufficientUserAuthentication { .. } => Some("insufficient_user_authentication"),
        }
    }

    /// A human-readable description, safe to send to the client: printable ASCII without `"` or `\`
    /// (RFC 6750 §3), at most 200 bytes. `None` for a missing token.
    pub fn description(&self) -> Option<String> {
        let text = match self {
            Self::MissingToken => return None,
            Self::InvalidRequest(reason) => (*reason).to_owned(),
            Self::InvalidToken(e) | Self::ProviderUnavailable(e) => e.to_string(),
            Self::InsufficientScope { .. } => {
                "the token lacks a scope this resource requires".into()
            }
            Self::InvalidDpopProof(e) => e.to_string(),
            Self::DpopRequired | Self::InsufficientUserAuthentication { .. } => self.to_string(),
        };
        Some(sanitize_description(text))
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3): `Bearer realm="…"`, then `error`,
    /// `error_description` and, for insufficient scope, `scope`. `None` for
    /// [`ProviderUnavailable`](Self::ProviderUnavailable), which sends no challenge.
    ///
    /// The realm is a quoted-string (RFC 9110 §5.6.4): `"` and `\` are escaped, control characters
    /// dropped.
    pub fn www_authenticate(&self, realm: &str) -> Option<String> {
        self.challenge(realm, self.description().as_deref())
    }

    /// The challenge with an already computed description (the rejection path computes it once
    /// for the challenge and the body).
    fn challenge(&self, realm: &str, description: Option<&str>) -> Option<String> {
        if matches!(self, Self::ProviderUnavailable(_)) {
            return None;
        }
        let error = Some((self, description));
        Some(challenge::challenge("Bearer", realm, None, error, None))
    }

    /// The default response: [`status_code`](Self::status_code), the
    /// [`www_authenticate`](Self::www_authenticate) challenge, `Retry-After` when the provider is
    /// unavailable, the [`json_body`](Self::json_body). What both adapters' bearer middleware send
    /// unless restyled.
    pub fn reply(&self, realm: &str) -> Reply {
        // The description once, for the challenge and the body.
        let description = self.description();
        let challenge = self.challenge(realm, description.as_deref());
        self.with_retry_after(self.reply_with(description.as_deref(), challenge))
    }

    /// Status, JSON body and the `WWW-Authenticate` `challenges`, given the description computed
    /// once for both (it is printable ASCII without `"` or `\`: nothing to escape in JSON).
    fn reply_with(
        &self,
        description: Option<&str>,
        challenges: impl IntoIterator<Item = String>,
    ) -> Reply {
        let mut reply = Reply {
            status: self.status_code(),
            headers: vec![("content-type", "application/json".into())],
            body: self.json_text(description),
        };
        for challenge in challenges {
            reply = reply.header("www-authenticate", challenge);
        }
        reply
    }

    /// `Retry-After` when the provider is unavailable.
    fn with_retry_after(&self, reply: Reply) -> Reply {
        if matches!(self, Self::ProviderUnavailable(_)) {
            reply.header("retry-after", RETRY_AFTER_SECS.to_string())
        } else {
            reply
        }
    }

    /// [`json_body`](Self::json_body) as text, the same bytes as its `to_string()`.
    fn json_text(&self, description: Option<&str>) -> String {
        let error = self.json_error();
        let description = description.unwrap_or(MISSING_TOKEN_DESCRIPTION);
        let mut body = String::with_capacity(40 + error.len() + description.len());
        body.push_str("{\"error\":\"");
        body.push_str(error);
        body.push_str("\",\"error_description\":\"");
        body.push_str(description);
        body.push_str("\"}");
        body
    }

    /// The body's `error`: the RFC 6750 code, else `unauthorized` or `temporarily_unavailable`.
    fn json_error(&self) -> &'static str {
        self.error_code().unwrap_or(match self {
            Self::ProviderUnavailable(_) => "temporarily_unavailable",
            _ => "unauthorized",
        })
    }

    /// Logs the failure at `debug` level (a client's routine mistake; never the token).
    pub fn log(&self) {
        tracing::debug!(status = self.status_code(), error = %self, "bearer authentication failed");
    }

    /// A JSON body for the error response: `{"error": …, "error_description": …}`, with `error`
    /// the RFC 6750 code, `unauthorized` for a missing token and `temporarily_unavailable`
    /// (RFC 6749 §4.1.2.1) when the provider is down.
    pub fn json_body(&self) -> serde_json::Value {
        let description = self
            .description()
            .unwrap_or_else(|| MISSING_TOKEN_DESCRIPTION.to_owned());
        serde_json::json!({ "error": self.json_error(), "error_description": description })
    }
}

/// Reads the bearer token from the request's `Authorization` header values (RFC 6750 §2.1).
///
/// Pass every `Authorization` value the request carries, as raw bytes (header values need not be
/// UTF-8). Returns `Ok(None)` when there is none, `Ok(Some(token))` for exactly one
/// `Bearer <b64token>` (scheme case-insensitive, RFC 9110 §11.1), and
/// [`BearerError::InvalidRequest`] for several headers, another scheme, or a value that is not a
/// b64token (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`).
pub fn parse_authorization<'a, I>(values: I) -> Result<Option<&'a str>, BearerError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = values.into_iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(BearerError::InvalidRequest(
            "the request carries more than one Authorization header",
        ));
    }
    parse_authorization_value(value).map(Some)
}

/// Reads the bearer token from one `Authorization` header value: `Bearer` (any case), one or more
/// spaces, a b64token (RFC 6750 §2.1).
///
/// # Errors
/// [`BearerError::InvalidRequest`] when the scheme is not `Bearer` or the token is empty or has a
/// character outside the b64token set.
pub fn parse_authorization_value(value: &[u8]) -> Result<&str, BearerError> {
    let value = std::str::from_utf8(value)
        .map_err(|_| BearerError::InvalidRequest("the Authorization header is not valid text"))?
        .trim_matches([' ', '\t']);
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::InvalidRequest(
            "the Authorization header must use the Bearer scheme",
        ));
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::InvalidRequest("the bearer token is empty"));
    }
    if !is_b64token(token) {
        return Err(BearerError::InvalidRequest(
            "the bearer token has characters outside the RFC 6750 b64token syntax",
        ));
    }
    Ok(token)
}

/// Checks that `claims` grant every scope in `required` (the `scope` claim, RFC 8693 §4.2).
///
/// # Errors
/// [`BearerError::InsufficientScope`] listing every required scope (RFC 6750 §3.1 `scope`).
pub fn check_scopes<T, S: AsRef<str>>(
    claims: &Claims<T>,
    required: &[S],
) -> Result<(), BearerError> {
    if required.iter().all(|s| claims.has_scope(s.as_ref())) {
        return Ok(());
    }
    Err(BearerError::InsufficientScope {
        required: required
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// The outcome of a successful bearer authentication.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The token as the client sent it.
    pub token: AccessToken,
    /// Its verified claims.
    pub claims: Arc<Claims>,
}

impl Authenticated {
    /// The RFC 7638 thumbprint of the key the token is bound to (`cnf.jkt`, RFC 9449 §6.1): for a
    /// request authenticated with the `DPoP` scheme, the thumbprint of the proof's key (they were
    /// checked equal). `None` for a plain bearer token.
    pub fn dpop_jkt(&self) -> Option<&str> {
        credentials::confirmation_jkt(&self.claims)
    }

    /// The verified claims with the extra claims deserialized as `T` (a custom claims type). For the
    /// default `T` ([`ExtraClaims`](crate::ExtraClaims)) this is a plain clone, no JSON round trip.
    ///
    /// # Errors
    /// When the claims do not fit `T` (a required claim missing or of another type).
    pub fn claims_as<T: DeserializeOwned + 'static>(&self) -> Result<Claims<T>, serde_json::Error> {
        // The common case on the per-request path: the claims are already of the requested type
        // (a clone, no allocation besides the claims' own).
        let any: &dyn std::any::Any = &*self.claims;
        match any.downcast_ref::<Claims<T>>() {
            Some(_) => {
                let mut slot = Some((*self.claims).clone());
                let slot: &mut dyn std::any::Any = &mut slot;
                match slot
                    .downcast_mut::<Option<Claims<T>>>()
                    .and_then(Option::take)
                {
                    Some(claims) => Ok(claims),
                    None => serde_json::from_value(serde_json::to_value(&*self.claims)?),
                }
            }
            None => serde_json::from_value(serde_json::to_value(&*self.claims)?),
        }
    }
}

/// The bearer-authentication policy of a set of routes: validator, required scopes, optional mode,
/// realm. Cheap to clone (`Arc` inside); both web adapters' bearer layers wrap one.
#[derive(Clone)]
#[must_use]
pub struct BearerAuthenticator {
    validator: Arc<dyn TokenValidator>,
    required_scopes: Arc<[String]>,
    optional: bool,
    realm: Arc<str>,
    dpop: Option<DpopVerifier>,
    step_up: Option<Arc<StepUp>>,
    resource: Option<Arc<str>>,
    resource_metadata: Option<Arc<str>>,
}

impl fmt::Debug for BearerAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuthenticator")
            .field("required_scopes", &self.required_scopes)
            .field("optional", &self.optional)
            .field("realm", &self.realm)
            .field("dpop", &self.dpop)
            .field("step_up", &self.step_up)
            .field("resource", &self.resource)
            .field("resource_metadata", &self.resource_metadata)
            .finish_non_exhaustive()
    }
}

impl BearerAuthenticator {
    /// Requires a valid bearer token checked by `validator` (a `JwksValidator`, an
    /// `IntrospectionValidator`, or any [`TokenValidator`]), no scope, realm [`DEFAULT_REALM`].
    pub fn new(validator: impl TokenValidator + 'static) -> Self {
        Self::from_arc(Arc::new(validator))
    }

    /// As [`new`](Self::new), sharing a validator (and its caches) with other routes.
    pub fn from_arc(validator: Arc<dyn TokenValidator>) -> Self {
        Self {
            validator,
            required_scopes: Arc::from(Vec::new()),
            optional: false,
            realm: Arc::from(DEFAULT_REALM),
            dpop: None,
            step_up: None,
            resource: None,
            resource_metadata: None,
        }
    }

    /// Takes DPoP-bound tokens (RFC 9449) as `verifier`'s [`DpopMode`] says: the `DPoP` scheme
    /// with a `DPoP` proof header, checked per §4.3 and bound to the token's `cnf.jkt`; challenges
    /// per §7.1. Adapters then read requests with [`credentials`](Self::credentials).
    /// [`DpopMode::Off`] is the default (no DPoP, `cnf` tokens refused).
    pub fn dpop(mut self, verifier: DpopVerifier) -> Self {
        self.dpop = (verifier.mode() != DpopMode::Off).then_some(verifier);
        self
    }

    /// The DPoP verifier, unless DPoP is off.
    pub fn get_dpop(&self) -> Option<&DpopVerifier> {
        self.dpop.as_ref()
    }

    /// Requires a strong or recent enough sign-in (RFC 9470): `acr` and/or `auth_time` checked
    /// after the scopes; 401 `insufficient_user_authentication` otherwise.
    pub fn step_up(mut self, step_up: StepUp) -> Self {
        self.step_up = Some(Arc::new(step_up));
        self
    }

    /// This API's resource identifier (RFC 8707, RFC 9728 §2): tokens whose `aud` does not include
    /// it are refused (`invalid_token`), whatever the validator's own audience check.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(Arc::from(resource.into()));
        self
    }

    /// The URL of this API's protected resource metadata, sent as `resource_metadata` in every
    /// challenge (RFC 9728 §5.1).
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(Arc::from(url.into()));
        self
    }

    /// Both from a metadata document: its `resource` as the required audience
    /// ([`resource`](Self::resource)) and its URL in the challenges
    /// ([`resource_metadata`](Self::resource_metadata)).
    pub fn protected_resource(self, metadata: &ProtectedResourceMetadata) -> Self {
        self.resource(metadata.resource())
            .resource_metadata(metadata.metadata_url())
    }

    /// Requires every one of these scopes (403 `insufficient_scope` otherwise).
    pub fn required_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Optional mode, for routes that serve anonymous and authenticated clients: a request without
    /// an `Authorization` header passes as anonymous; a malformed, invalid or under-scoped token is
    /// still refused.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The `realm` of the challenges (RFC 6750 §3).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Arc::from(realm.into());
        self
    }

    /// The configured realm ([`realm`](Self::realm)).
    pub fn get_realm(&self) -> &str {
        &self.realm
    }

    /// The realm, shared (no allocation per request).
    pub(crate) fn shared_realm(&self) -> &Arc<str> {
        &self.realm
    }

    /// The configured realm.
    #[deprecated(since = "0.1.1", note = "renamed to `get_realm`")]
    pub fn realm_name(&self) -> &str {
        &self.realm
    }

    /// Whether anonymous requests pass.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// The required scopes ([`required_scopes`](Self::required_scopes)).
    pub fn get_required_scopes(&self) -> &[String] {
        &self.required_scopes
    }

    /// The required scopes.
    #[deprecated(since = "0.1.1", note = "renamed to `get_required_scopes`")]
    pub fn scopes(&self) -> &[String] {
        &self.required_scopes
    }

    /// The validator.
    pub fn validator(&self) -> &Arc<dyn TokenValidator> {
        &self.validator
    }

    /// The synchronous first step: the token from the `Authorization` header values, or `Ok(None)`
    /// for an anonymous request in optional mode.
    ///
    /// `Bearer` only: with DPoP configured, read requests with [`credentials`](Self::credentials).
    ///
    /// # Errors
    /// [`BearerError::MissingToken`] (not optional), [`BearerError::InvalidRequest`], or
    /// [`BearerError::DpopRequired`] when DPoP is required (a bearer token never passes then).
    pub fn token_from_headers<'a, I>(
        &self,
        authorization: I,
    ) -> Result<Option<AccessToken>, BearerError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        match parse_authorization(authorization)? {
            Some(_) if self.dpop.as_ref().map(DpopVerifier::mode) == Some(DpopMode::Required) => {
                Err(BearerError::DpopRequired)
            }
            Some(token) => Ok(Some(AccessToken::new(token))),
            None if self.optional => Ok(None),
            None => Err(BearerError::MissingToken),
        }
    }

    /// The asynchronous second step: validates `token` and checks the required scopes.
    ///
    /// # Errors
    /// [`BearerError::InvalidToken`], [`BearerError::ProviderUnavailable`] or
    /// [`BearerError::InsufficientScope`].
    pub async fn validate(&self, token: AccessToken) -> Result<Authenticated, BearerError> {
        self.validate_credentials(Credentials { token, proof: None })
            .await
    }

    /// Both steps: `Ok(None)` for an anonymous request in optional mode, the verified token and
    /// claims otherwise.
    ///
    /// # Errors
    /// Any [`BearerError`], as the table of the module docs.
    pub async fn authenticate<'a, I>(
        &self,
        authorization: I,
    ) -> Result<Option<Authenticated>, BearerError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        match self.token_from_headers(authorization)? {
            Some(token) => self.validate(token).await.map(Some),
            None => Ok(None),
        }
    }
}

/// Appends a quoted-string's content (RFC 9110 §5.6.4) to `out`: `\` and `"` backslash-escaped,
/// control characters dropped; a value with nothing to escape is copied as it is.
pub(crate) fn push_quoted_string(out: &mut String, value: &str) {
    if !value.contains(|c: char| c == '"' || c == '\\' || c.is_control()) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// `error_description` may only hold `%x20-21 / %x23-5B / %x5D-7E` (RFC 6750 §3): `"` becomes `'`,
/// `\` becomes `/`, other characters outside the set become `?`; cut at 200 bytes.
fn sanitize_description(text: String) -> String {
    // The common case (our own messages): nothing to replace, nothing to cut.
    let clean = |b: u8| matches!(b, b'\x20'..=b'\x7e') && b != b'"' && b != b'\\';
    if text.len() <= MAX_DESCRIPTION_LEN && text.bytes().all(clean) {
        return text;
    }
    let mut out: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            '\x20'..='\x7e' => c,
            _ => '?',
        })
        .collect();
    out.truncate(MAX_DESCRIPTION_LEN);
    out
}

/// `scope` holds space-separated scope tokens of `%x21 / %x23-5B / %x5D-7E` (RFC 6749 §3.3).
pub(crate) fn sanitize_scope(scope: &str) -> String {
    scope
        .chars()
        .filter(|c| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' | ' '))
        .collect()
}

mod challenge;
mod credentials;

pub use credentials::Credentials;

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "testing"))]
mod dpop_tests;
