//! [`ProviderMetadata`]: the provider's endpoints, from OpenID Connect Discovery 1.0 or derived from a
//! GenAuth app host without a network call.

use crate::config::{Protocol, join_path};
use crate::{Error, http};
use serde::{Deserialize, Serialize};
use url::Url;

/// OpenID Provider metadata (OpenID Connect Discovery 1.0 §3; RFC 8414 for the OAuth 2.0 fields).
///
/// Only the fields this crate uses are typed; everything else the provider publishes is in `extra`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer identifier, compared exactly with the `iss` of every token.
    pub issuer: String,
    /// Where browsers are sent to sign in (RFC 6749 §3.1).
    pub authorization_endpoint: Url,
    /// Code exchange, refresh and client credentials (RFC 6749 §3.2).
    pub token_endpoint: Option<Url>,
    /// OpenID Connect Core §5.3.
    pub userinfo_endpoint: Option<Url>,
    /// The provider's signing keys (RFC 7517).
    pub jwks_uri: Option<Url>,
    /// RFC 7662 token introspection.
    pub introspection_endpoint: Option<Url>,
    /// RFC 7009 token revocation.
    pub revocation_endpoint: Option<Url>,
    /// OpenID Connect RP-Initiated Logout 1.0 §2.
    pub end_session_endpoint: Option<Url>,
    /// Signing algorithms the provider may use for ID tokens.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// PKCE methods the provider supports (RFC 8414 §2).
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// Whether authorization responses carry `iss` (RFC 9207 §3).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// All other published metadata.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ProviderMetadata {
    /// The endpoints of a GenAuth application, derived from its host (no network call):
    /// issuer `{host}/oidc`; `/oidc/auth`, `/oidc/token`, `/oidc/me`, `/oidc/token/introspection`,
    /// `/oidc/token/revocation`, `/oidc/session/end`, `/oidc/.well-known/jwks.json`. In
    /// [`Protocol::OAuth2`] mode the authorization, token, userinfo, introspection and revocation
    /// endpoints use `/oauth/...` instead.
    ///
    /// # Errors
    /// [`Error::Config`] only if the host cannot be joined with these paths (not the case for a host
    /// validated by [`ClientConfig`](crate::ClientConfig)).
    pub fn genauth(app_host: &Url, protocol: Protocol) -> Result<Self, Error> {
        let url = |path: &str| {
            join_path(app_host, path).map_err(|e| {
                Error::Config(crate::ConfigError::Invalid {
                    field: "app_host",
                    reason: e.to_string(),
                })
            })
        };
        let family = if protocol == Protocol::OAuth2 {
            "oauth"
        } else {
            "oidc"
        };
        Ok(Self {
            issuer: url("oidc")?.as_str().trim_end_matches('/').to_owned(),
            authorization_endpoint: url(&format!("{family}/auth"))?,
            token_endpoint: Some(url(&format!("{family}/token"))?),
            userinfo_endpoint: Some(url(&format!("{family}/me"))?),
            jwks_uri: Some(url("oidc/.well-known/jwks.json")?),
            introspection_endpoint: Some(url(&format!("{family}/token/introspection"))?),
            revocation_endpoint: Some(url(&format!("{family}/token/revocation"))?),
            end_session_endpoint: Some(url("oidc/session/end")?),
            id_token_signing_alg_values_supported: vec!["RS256".into(), "HS256".into()],
            code_challenge_methods_supported: vec!["S256".into(), "plain".into()],
            authorization_response_iss_parameter_supported: false,
            extra: serde_json::Map::new(),
        })
    }

    /// Fetches `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4) and checks
    /// that the published `issuer` is exactly the one asked for (§4.3), ignoring one trailing `/`.
    ///
    /// # Errors
    /// [`Error::Transport`] when unreachable, [`Error::UnexpectedStatus`] / [`Error::InvalidResponse`]
    /// for a bad document, and [`Error::InvalidResponse`] when the issuer does not match.
    pub async fn discover(http_client: &reqwest::Client, issuer: &Url) -> Result<Self, Error> {
        const ENDPOINT: &str = "discovery";
        let url = join_path(issuer, ".well-known/openid-configuration").map_err(|e| {
            Error::Config(crate::ConfigError::Invalid {
                field: "issuer",
                reason: e.to_string(),
            })
        })?;
        let body = http::send(ENDPOINT, http_client.get(url))
            .await?
            .success(ENDPOINT)?;
        let metadata: Self = body.json(ENDPOINT)?;
        if metadata.issuer.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') {
            return Err(Error::InvalidResponse {
                endpoint: ENDPOINT,
                reason: format!(
                    "issuer `{}` does not match the configured issuer `{issuer}`",
                    metadata.issuer
                ),
            });
        }
        Ok(metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genauth_endpoints() {
        let host = Url::parse("https://example.genauth.ai").unwrap();
        let m = ProviderMetadata::genauth(&host, Protocol::Oidc).unwrap();
        assert_eq!(m.issuer, "https://example.genauth.ai/oidc");
        assert_eq!(
            m.authorization_endpoint.as_str(),
            "https://example.genauth.ai/oidc/auth"
        );
        assert_eq!(
            m.token_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oidc/token"
        );
        assert_eq!(
            m.userinfo_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oidc/me"
        );
        assert_eq!(
            m.jwks_uri.unwrap().as_str(),
            "https://example.genauth.ai/oidc/.well-known/jwks.json"
        );
        assert_eq!(
            m.introspection_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oidc/token/introspection"
        );
        assert_eq!(
            m.revocation_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oidc/token/revocation"
        );
        assert_eq!(
            m.end_session_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oidc/session/end"
        );
        let o = ProviderMetadata::genauth(&host, Protocol::OAuth2).unwrap();
        assert_eq!(
            o.authorization_endpoint.as_str(),
            "https://example.genauth.ai/oauth/auth"
        );
        assert_eq!(
            o.token_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oauth/token"
        );
        assert_eq!(
            o.userinfo_endpoint.unwrap().as_str(),
            "https://example.genauth.ai/oauth/me"
        );
    }
}
