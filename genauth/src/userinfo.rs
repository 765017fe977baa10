//! The UserInfo endpoint (OpenID Connect Core §5.3), GenAuth `GET /oidc/me` (`/oauth/me` in OAuth 2.0
//! mode).

use crate::types::AccessToken;
use crate::{Client, Error, ExtraClaims, http};
use serde::{Deserialize, Serialize};

/// A UserInfo response: the standard claims of OpenID Connect Core §5.1, filtered by the granted scopes.
///
/// Only `sub` is guaranteed; GenAuth may send `null` for any other claim, which reads as `None`.
/// GenAuth extras (`username`, `roles`, `unionid`, `external_id`, `extended_fields`, `tenant_id`, ...)
/// and any other claim land in `extra`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user's ID at the provider.
    pub sub: String,
    /// Full name (`profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name (`profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name (`profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Nickname (`profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Preferred username (`profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Picture URL (`profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// E-mail address (`email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail address is verified (`email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Phone number (`phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the phone number is verified (`phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// Every other claim (`gender`, `birthdate`, `locale`, `address`, `updated_at`, GenAuth extras, ...).
    #[serde(flatten)]
    pub extra: ExtraClaims,
}

impl Client {
    /// Fetches the user's claims with an access token (`GET` with `Authorization: Bearer`, OpenID
    /// Connect Core §5.3.1; RFC 6750 §2.1: the token never goes in the URL).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a userinfo endpoint; [`Error::OAuth`] (e.g. `invalid_token`,
    /// HTTP 401) or [`Error::UnexpectedStatus`] for a rejected token; [`Error::InvalidResponse`] when
    /// the body is not a JSON object with a string `sub`; transport errors.
    pub async fn userinfo(&self, access_token: &AccessToken) -> Result<UserInfo, Error> {
        const ENDPOINT: &str = "userinfo_endpoint";
        let url = self.endpoint(ENDPOINT, &self.metadata().userinfo_endpoint)?;
        let request = self
            .http_client()
            .get(url.clone())
            .bearer_auth(access_token.secret())
            .header(reqwest::header::ACCEPT, "application/json");
        let body = http::send(ENDPOINT, request).await?;
        // RFC 6750 §3: a rejected token comes back as 401 with `WWW-Authenticate: Bearer error=...`.
        if body.status == 401
            && let Some(error) = www_authenticate_error(&body.headers)
        {
            return Err(Error::OAuth {
                endpoint: ENDPOINT,
                status: 401,
                error,
                error_description: None,
            });
        }
        body.success(ENDPOINT)?.json(ENDPOINT)
    }
}

/// The `error` attribute of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
fn www_authenticate_error(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers
        .get(reqwest::header::WWW_AUTHENTICATE)?
        .to_str()
        .ok()?;
    let start = value.find("error=\"")? + "error=\"".len();
    let rest = value.get(start..)?;
    let end = rest.find('"')?;
    Some(rest.get(..end)?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_none_and_extras_kept() {
        let u: UserInfo = serde_json::from_value(serde_json::json!({
            "sub": "u1", "name": null, "email": "a@b.c", "email_verified": true,
            "address": {"country": "CN"}, "roles": ["admin"]
        }))
        .unwrap();
        assert_eq!(u.sub, "u1");
        assert!(u.name.is_none());
        assert_eq!(u.email_verified, Some(true));
        assert_eq!(u.extra["address"]["country"], "CN");
        assert!(serde_json::from_value::<UserInfo>(serde_json::json!({"name": "x"})).is_err());
    }

    #[test]
    fn challenge_error() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            reqwest::header::WWW_AUTHENTICATE,
            "Bearer realm=\"x\", error=\"invalid_token\", error_description=\"bad\""
                .parse()
                .unwrap(),
        );
        assert_eq!(www_authenticate_error(&h).as_deref(), Some("invalid_token"));
        h.insert(
            reqwest::header::WWW_AUTHENTICATE,
            "Bearer error=\"oops".parse().unwrap(),
        );
        assert_eq!(www_authenticate_error(&h), None);
    }
}
