//! Explicit typing of access tokens (RFC 8725 §3.11, RFC 9068 §2.1 and §4): a bearer access token is
//! never an ID token, a logout token, a UserInfo JWT or any other JWT the issuer signs for the same
//! audience — whatever claims it carries or lacks — and never a token bound to a key.

use super::jws::bare_media_type;
use crate::error::{ValidationError, excerpt};

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

/// The claims that tell what kind of JWT a token is, read only for their presence (in the same
/// pass as the claims screened before the signature).
pub(super) struct Markers {
    /// `nonce`, `at_hash` or `c_hash`: an ID token's claims.
    pub(super) id_token: bool,
    /// `events`: a logout or security event token.
    pub(super) events: bool,
    /// `cnf`: bound to a key.
    pub(super) cnf: bool,
    /// `scope`, `scp` or `client_id`: what access tokens carry.
    pub(super) access_token_shaped: bool,
}

/// A token's `typ` header, classified once (RFC 7515 §4.1.9, RFC 9068 §2.1).
pub(super) enum Typ {
    /// `at+jwt`.
    AccessToken,
    /// No `typ`, or `JWT`.
    Untyped,
    /// Any other type (kept, shortened, for the error).
    Other(String),
}

impl Typ {
    pub(super) fn of(typ: Option<&str>) -> Self {
        match typ.map(bare_media_type) {
            None => Self::Untyped,
            Some(t) if t.eq_ignore_ascii_case("jwt") => Self::Untyped,
            Some(t) if t.eq_ignore_ascii_case("at+jwt") => Self::AccessToken,
            Some(_) => Self::Other(excerpt(typ.unwrap_or_default())),
        }
    }
}

impl AccessTokenTyping {
    /// Checks a verified token's `typ` header and typing markers against this mode; with
    /// `key_bound`, a `cnf` claim is accepted (the token came with a proof of possession, RFC 9449
    /// §7.1, that the caller checks against `cnf`).
    pub(super) fn check_binding(
        self,
        typ: &Typ,
        markers: &Markers,
        key_bound: bool,
    ) -> Result<(), ValidationError> {
        let not_an_access_token = |found: String| ValidationError::InvalidTokenType {
            expected: "access token".into(),
            found,
        };
        let typed = match typ {
            Typ::AccessToken => true,
            Typ::Untyped => false,
            Typ::Other(typ) => return Err(not_an_access_token(format!("typ `{typ}`"))),
        };
        if markers.id_token {
            return Err(not_an_access_token(
                "ID token (it carries nonce, at_hash or c_hash)".into(),
            ));
        }
        if markers.events {
            return Err(not_an_access_token(
                "logout or security event token (it carries events)".into(),
            ));
        }
        if markers.cnf && !key_bound {
            return Err(ValidationError::KeyBound);
        }
        match self {
            Self::Strict if !typed => Err(not_an_access_token(
                "an untyped JWT (typ at+jwt is required)".into(),
            )),
            Self::Inferred if !typed && !markers.access_token_shaped => Err(not_an_access_token(
                "an untyped JWT without scope or client_id (an ID token?)".into(),
            )),
            _ => Ok(()),
        }
    }
}
