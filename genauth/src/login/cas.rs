//! The CAS service binding: a login's own service URL, so that a ticket issued for another login
//! does not sign this browser in (see [the login module](crate::login#cas-service-binding)).

use super::{CAS_LOGIN_PARAM, CallbackParams, LoginError, PendingLogin};
use subtle::ConstantTimeEq;
use url::Url;

/// Makes a CAS service URL unique to one login: `service` plus `genauth_login=<256 random bits,
/// base64url>` ([`CAS_LOGIN_PARAM`]) after any query it already has, e.g.
/// `https://app.example.com/callback?genauth_login=3q2-…` (43 characters). Use the result as the
/// authorization request's `redirect_uri`; [`finish`](super::finish) then accepts only a callback carrying the same
/// value, and validates the ticket for exactly this URL. See
/// [CAS service binding](crate::login#cas-service-binding).
///
/// # Errors
/// [`LoginError::Client`] ([`Error::Random`](crate::Error::Random)) if the OS random number generator fails.
pub fn bind_cas_service(service: &Url) -> Result<Url, LoginError> {
    let value = crate::types::random_token(32).ok_or(crate::Error::Random)?;
    let mut bound = service.clone();
    let query = match service.query() {
        Some(query) if !query.is_empty() => format!("{query}&{CAS_LOGIN_PARAM}={value}"),
        _ => format!("{CAS_LOGIN_PARAM}={value}"),
    };
    bound.set_query(Some(&query));
    Ok(bound)
}

/// The [`CAS_LOGIN_PARAM`] value of a service URL, if bound.
pub(super) fn cas_login_of(service: &Url) -> Option<String> {
    service
        .query_pairs()
        .find(|(name, _)| name == CAS_LOGIN_PARAM)
        .map(|(_, value)| value.into_owned())
}

/// A CAS login whose service URL was bound ([`bind_cas_service`]) accepts only the callback carrying
/// the same value (compared in constant time): the ticket of another login's service URL, such as
/// an attacker's, is refused before it is validated. An unbound login (binding turned off) has
/// nothing to check here; the ticket is still validated for its service URL.
pub(super) fn check_cas_login(
    pending: &PendingLogin,
    params: &CallbackParams,
) -> Result<(), LoginError> {
    let Some(expected) = pending.redirect_uri.as_ref().and_then(cas_login_of) else {
        return Ok(());
    };
    match params.cas_login.as_deref() {
        Some(received) if bool::from(expected.as_bytes().ct_eq(received.as_bytes())) => Ok(()),
        _ => Err(LoginError::CasServiceMismatch),
    }
}
