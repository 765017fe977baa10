//! Explicit typing of access tokens (RFC 8725 §3.11, RFC 9068 §2.1 and §4): a bearer access token is
//! never an ID token, a logout token, a UserInfo JWT or any other JWT the issuer signs for the same
//! audience — whatever claims it carries or lacks — and never a token bound to a key.

use super::jws::bare_media_type;
use crate::error::{ValidationError, excerpt};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// How [`JwtVerifier::verify`](super::JwtVerifier::verify) tells the issuer's access tokens from its
/// other JWTs. Whatever the mode, a token is refused when its `typ` names another kind of JWT
/// (`logout+jwt`, `id_token+jwt`, `secevent+jwt`, …), when it carries a claim only ID tokens or
/// logout tokens carry (`nonce`, `at_hash`, `c_hash`, `events`: OpenID Connect Core §2 and §3.3.2.11,
/// Back-Channel Logout §2.4), or when it is bound to a key (`cnf`, RFC 9449 §7.1, RFC 8705 §3: a
/// sender-constrained token is not a plain bearer token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessTokenTyping {
    /// Only tokens typed `at+jwt` (RFC 9068 §2.1), for issuers that follow RFC 9068.
    Strict,
    /// Tokens typed `at+jwt`, and untyped ones (`typ` absent or `JWT`) that carry what access tokens
    /// carry: `scope`, `scp` or `client_id` (RFC 9068 §2.2, RFC 8693 §4.2). The default: GenAuth's
    /// access tokens (`jti, sub, iat, exp, scope, iss, aud`) and most providers' are untyped with a
    /// `scope`, while an ID token, even a refreshed one without `nonce` and `at_hash`, has neither.
    #[default]
    Inferred,
    /// Untyped tokens without `scope`, `scp` or `client_id` too: the opt-out for providers whose
    /// access tokens carry none of them (e.g. tokens with only `roles`). ID-token and logout-token
    /// claims, foreign `typ` values and `cnf` are still refused.
    Lenient,
}

/// The claims that tell what kind of JWT a token is, read only for their presence.
#[derive(Deserialize)]
struct Markers {
    nonce: Option<IgnoredAny>,
    at_hash: Option<IgnoredAny>,
    c_hash: Option<IgnoredAny>,
    events: Option<IgnoredAny>,
    cnf: Option<IgnoredAny>,
    scope: Option<IgnoredAny>,
    scp: Option<IgnoredAny>,
    client_id: Option<IgnoredAny>,
}

impl AccessTokenTyping {
    /// Checks a verified token's `typ` header and decoded payload (JSON) against this mode.
    pub(super) fn check(self, typ: Option<&str>, payload: &[u8]) -> Result<(), ValidationError> {
        self.check_binding(typ, payload, false)
    }

    /// As [`check`](Self::check); with `key_bound`, a `cnf` claim is accepted (the token came with
    /// a proof of possession, RFC 9449 §7.1, that the caller checks against `cnf`).
    pub(super) fn check_binding(
        self,
        typ: Option<&str>,
        payload: &[u8],
        key_bound: bool,
    ) -> Result<(), ValidationError> {
        let markers: Markers = serde_json::from_slice(payload)
            .map_err(|e| ValidationError::InvalidClaims(e.to_string()))?;
        let not_an_access_token = |found: String| ValidationError::InvalidTokenType {
            expected: "access token".into(),
            found,
        };
        let typed = match typ.map(bare_media_type).as_deref() {
            Some("at+jwt") => true,
            None | Some("jwt") => false,
            Some(_) => {
                return Err(not_an_access_token(format!(
                    "typ `{}`",
                    excerpt(typ.unwrap_or_default())
                )));
            }
        };
        if markers.nonce.is_some() || markers.at_hash.is_some() || markers.c_hash.is_some() {
            return Err(not_an_access_token(
                "ID token (it carries nonce, at_hash or c_hash)".into(),
            ));
        }
        if markers.events.is_some() {
            return Err(not_an_access_token(
                "logout or security event token (it carries events)".into(),
            ));
        }
        if markers.cnf.is_some() && !key_bound {
            return Err(ValidationError::KeyBound);
        }
        let shaped =
            markers.scope.is_some() || markers.scp.is_some() || markers.client_id.is_some();
        match self {
            Self::Strict if !typed => Err(not_an_access_token(
                "an untyped JWT (typ at+jwt is required)".into(),
            )),
            Self::Inferred if !typed && !shaped => Err(not_an_access_token(
                "an untyped JWT without scope or client_id (an ID token?)".into(),
            )),
            _ => Ok(()),
        }
    }
}
