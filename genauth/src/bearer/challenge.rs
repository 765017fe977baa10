//! The `Authorization` schemes a bearer layer reads (`Bearer`, RFC 6750 §2.1; `DPoP`, RFC 9449
//! §7.1) and the `WWW-Authenticate` challenges it answers with (RFC 6750 §3, RFC 9449 §7.1,
//! RFC 9470 §3, RFC 9728 §5.1).

use super::{BearerAuthenticator, BearerError, push_quoted_string, sanitize_scope};
use crate::dpop::DpopMode;
use crate::types::is_b64token;
use crate::validator::ValidationError;

/// The scheme of an `Authorization` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scheme {
    Bearer,
    Dpop,
}

/// `Bearer <b64token>` or `DPoP <b64token>` (schemes case-insensitive, RFC 9110 §11.1; the token
/// syntax is the same, RFC 9449 §7.1).
pub(super) fn parse_scheme(value: &[u8]) -> Result<(Scheme, &str), BearerError> {
    let value = std::str::from_utf8(value)
        .map_err(|_| BearerError::InvalidRequest("the Authorization header is not valid text"))?
        .trim_matches([' ', '\t']);
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Err(BearerError::InvalidRequest(
            "the Authorization header must use the Bearer or DPoP scheme",
        ));
    };
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::InvalidRequest("the access token is empty"));
    }
    if !is_b64token(token) {
        return Err(BearerError::InvalidRequest(
            "the access token has characters outside the b64token syntax",
        ));
    }
    Ok((scheme, token))
}

/// The error's auth-params after `error_description`: `scope` (RFC 6750 §3.1), `acr_values` and
/// `max_age` (RFC 9470 §3).
pub(super) fn push_error_params(challenge: &mut String, error: &BearerError) {
    match error {
        BearerError::InsufficientScope { required } => {
            challenge.push_str(&format!(", scope=\"{}\"", sanitize_scope(required)));
        }
        BearerError::InsufficientUserAuthentication {
            acr_values,
            max_age_secs,
            ..
        } => {
            if let Some(acr) = acr_values {
                challenge.push_str(&format!(", acr_values=\"{}\"", sanitize_scope(acr)));
            }
            if let Some(max_age) = max_age_secs {
                challenge.push_str(&format!(", max_age=\"{max_age}\""));
            }
        }
        _ => {}
    }
}

/// Whether the error concerns the `DPoP` scheme: its challenge then carries the error code.
fn is_dpop_side(error: &BearerError) -> bool {
    matches!(
        error,
        BearerError::InvalidDpopProof(_)
            | BearerError::DpopRequired
            | BearerError::InvalidToken(ValidationError::KeyBound)
    )
}

/// Every `WWW-Authenticate` value for `error` under `auth`'s policy: none when the provider is
/// unavailable; `Bearer` without DPoP; `DPoP` (with `algs`) when DPoP is required; both when
/// allowed, the error on the scheme it concerns (RFC 9449 §7.1). Each carries `resource_metadata`
/// when configured (RFC 9728 §5.1). `description` is the error's
/// [`description`](BearerError::description), computed once by the caller for the body too.
pub(super) fn challenges(
    error: &BearerError,
    auth: &BearerAuthenticator,
    description: Option<&str>,
) -> Vec<String> {
    if matches!(error, BearerError::ProviderUnavailable(_)) {
        return Vec::new();
    }
    let metadata = auth.resource_metadata.as_deref();
    let one = |scheme: &str, algs: Option<&str>, with_error: bool| {
        let error = with_error.then_some((error, description));
        challenge(scheme, auth.get_realm(), algs, error, metadata)
    };
    match &auth.dpop {
        None => vec![one("Bearer", None, true)],
        Some(dpop) => {
            let algs = Some(dpop.algs());
            let dpop_side = dpop.mode() == DpopMode::Required || is_dpop_side(error);
            let dpop_challenge = one("DPoP", algs, dpop_side);
            if dpop.mode() == DpopMode::Required {
                vec![dpop_challenge]
            } else {
                vec![one("Bearer", None, !dpop_side), dpop_challenge]
            }
        }
    }
}

/// One challenge: `<scheme> realm="…"[, algs="…"][, error=…, error_description=…, …]
/// [, resource_metadata="…"]`, written into one buffer; `error` with its description.
pub(super) fn challenge(
    scheme: &str,
    realm: &str,
    algs: Option<&str>,
    error: Option<(&BearerError, Option<&str>)>,
    resource_metadata: Option<&str>,
) -> String {
    let description_len = error.and_then(|(_, d)| d).map_or(0, str::len);
    let mut challenge = String::with_capacity(96 + realm.len() + description_len);
    challenge.push_str(scheme);
    challenge.push_str(" realm=\"");
    push_quoted_string(&mut challenge, realm);
    challenge.push('"');
    if let Some(algs) = algs {
        challenge.push_str(", algs=\"");
        push_quoted_string(&mut challenge, algs);
        challenge.push('"');
    }
    if let Some((error, description)) = error {
        if let Some(code) = error.error_code() {
            challenge.push_str(", error=\"");
            challenge.push_str(code);
            challenge.push('"');
        }
        if let Some(description) = description {
            challenge.push_str(", error_description=\"");
            challenge.push_str(description);
            challenge.push('"');
        }
        push_error_params(&mut challenge, error);
    }
    if let Some(url) = resource_metadata {
        challenge.push_str(", resource_metadata=\"");
        push_quoted_string(&mut challenge, url);
        challenge.push('"');
    }
    challenge
}
