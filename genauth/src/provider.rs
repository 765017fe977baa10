//! [`ProviderMetadata`]: the provider's endpoints, from OpenID Connect Discovery 1.0, derived from a
//! GenAuth app host without a network call, or set one by one with [`ProviderMetadata::builder`] for a
//! provider that publishes no discovery document.

use crate::config::{ConfigError, Protocol, check_provider_url, join_path, parse_provider_url};
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
    /// Starts the metadata of a provider that publishes no discovery document: the issuer (compared
    /// exactly with the `iss` of every token) and then each endpoint it has. Give the result to
    /// [`Client::with_metadata`](crate::Client::with_metadata); no network call is made until a token
    /// is verified or an endpoint is called.
    ///
    /// ```
    /// use genauth::{Client, ClientConfig, ProviderMetadata};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let metadata = ProviderMetadata::builder("https://idp.example.com")
    ///     .authorization_endpoint("https://idp.example.com/oauth2/authorize")
    ///     .token_endpoint("https://idp.example.com/oauth2/token")
    ///     .jwks_uri("https://idp.example.com/oauth2/keys")
    ///     .build()?;
    /// let config = ClientConfig::builder("my-app-id")
    ///     .client_secret("my-app-secret")
    ///     .issuer(metadata.issuer.clone())
    ///     .build()?;
    /// let client = Client::with_metadata(config, metadata)?;
    /// // Bearer tokens for this API, checked against the keys at `jwks_uri`:
    /// let validator = client.jwks_validator(["https://api.example.com"])?;
    /// # let _ = validator; Ok(()) }
    /// ```
    pub fn builder(issuer: impl Into<String>) -> ProviderMetadataBuilder {
        ProviderMetadataBuilder {
            issuer: issuer.into(),
            authorization_endpoint: None,
            token_endpoint: None,
            userinfo_endpoint: None,
            jwks_uri: None,
            introspection_endpoint: None,
            revocation_endpoint: None,
            end_session_endpoint: None,
            authorization_response_iss_parameter_supported: false,
        }
    }

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

    /// That every endpoint and the `jwks_uri` are `https`, or `http` on a loopback host: a provider
    /// reached over plain `http` elsewhere could be anyone on the network.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first endpoint that is not.
    pub fn check_transport(&self) -> Result<(), ConfigError> {
        check_provider_url("authorization_endpoint", &self.authorization_endpoint)?;
        for (field, url) in [
            ("token_endpoint", &self.token_endpoint),
            ("userinfo_endpoint", &self.userinfo_endpoint),
            ("jwks_uri", &self.jwks_uri),
            ("introspection_endpoint", &self.introspection_endpoint),
            ("revocation_endpoint", &self.revocation_endpoint),
            ("end_session_endpoint", &self.end_session_endpoint),
        ] {
            if let Some(url) = url {
                check_provider_url(field, url)?;
            }
        }
        Ok(())
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
        metadata
            .check_transport()
            .map_err(|e| Error::InvalidResponse {
                endpoint: ENDPOINT,
                reason: e.to_string(),
            })?;
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

/// Builder of [`ProviderMetadata`], from [`ProviderMetadata::builder`]: plain setters, every URL checked
/// at [`build`](Self::build). Endpoints left unset are absent: calls that need them fail with
/// [`Error::Unsupported`] naming the endpoint.
#[derive(Clone, Debug)]
#[must_use]
pub struct ProviderMetadataBuilder {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    userinfo_endpoint: Option<String>,
    jwks_uri: Option<String>,
    introspection_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    authorization_response_iss_parameter_supported: bool,
}

impl ProviderMetadataBuilder {
    /// Where browsers are sent to sign in (RFC 6749 §3.1). Required.
    pub fn authorization_endpoint(mut self, url: impl Into<String>) -> Self {
        self.authorization_endpoint = Some(url.into());
        self
    }
    /// Code exchange, refresh and client credentials (RFC 6749 §3.2).
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }
    /// The UserInfo endpoint (OpenID Connect Core §5.3).
    pub fn userinfo_endpoint(mut self, url: impl Into<String>) -> Self {
        self.userinfo_endpoint = Some(url.into());
        self
    }
    /// The provider's signing keys (RFC 7517): needed to verify tokens locally, unless the
    /// configuration has a [`static_jwks`](crate::ClientConfigBuilder::static_jwks).
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.jwks_uri = Some(url.into());
        self
    }
    /// RFC 7662 token introspection.
    pub fn introspection_endpoint(mut self, url: impl Into<String>) -> Self {
        self.introspection_endpoint = Some(url.into());
        self
    }
    /// RFC 7009 token revocation.
    pub fn revocation_endpoint(mut self, url: impl Into<String>) -> Self {
        self.revocation_endpoint = Some(url.into());
        self
    }
    /// OpenID Connect RP-Initiated Logout 1.0 §2.
    pub fn end_session_endpoint(mut self, url: impl Into<String>) -> Self {
        self.end_session_endpoint = Some(url.into());
        self
    }
    /// Whether authorization responses carry `iss` (RFC 9207 §3; default `false`). When `true`, a
    /// callback without `iss` is refused.
    pub fn authorization_response_iss_parameter_supported(mut self, supported: bool) -> Self {
        self.authorization_response_iss_parameter_supported = supported;
        self
    }

    /// Checks the URLs and builds the metadata.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] without an authorization endpoint; [`ConfigError::Invalid`] naming
    /// the field when the issuer or an endpoint is not an `http(s)` URL with a host.
    pub fn build(self) -> Result<ProviderMetadata, ConfigError> {
        let optional = |field: &'static str, value: Option<String>| {
            value.map(|v| parse_provider_url(field, &v)).transpose()
        };
        parse_provider_url("issuer", &self.issuer)?;
        let authorization_endpoint = self
            .authorization_endpoint
            .ok_or(ConfigError::Missing("authorization_endpoint"))?;
        Ok(ProviderMetadata {
            issuer: self.issuer,
            authorization_endpoint: parse_provider_url(
                "authorization_endpoint",
                &authorization_endpoint,
            )?,
            token_endpoint: optional("token_endpoint", self.token_endpoint)?,
            userinfo_endpoint: optional("userinfo_endpoint", self.userinfo_endpoint)?,
            jwks_uri: optional("jwks_uri", self.jwks_uri)?,
            introspection_endpoint: optional(
                "introspection_endpoint",
                self.introspection_endpoint,
            )?,
            revocation_endpoint: optional("revocation_endpoint", self.revocation_endpoint)?,
            end_session_endpoint: optional("end_session_endpoint", self.end_session_endpoint)?,
            id_token_signing_alg_values_supported: Vec::new(),
            code_challenge_methods_supported: Vec::new(),
            authorization_response_iss_parameter_supported: self
                .authorization_response_iss_parameter_supported,
            extra: serde_json::Map::new(),
        })
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

    #[test]
    fn builder_sets_endpoints_and_checks_urls() {
        let m = ProviderMetadata::builder("https://idp.example.com")
            .authorization_endpoint("https://idp.example.com/authorize")
            .jwks_uri("https://idp.example.com/keys")
            .revocation_endpoint("https://idp.example.com/revoke")
            .build()
            .unwrap();
        assert_eq!(m.issuer, "https://idp.example.com");
        assert_eq!(m.jwks_uri.unwrap().as_str(), "https://idp.example.com/keys");
        assert!(m.revocation_endpoint.is_some());
        assert!(m.token_endpoint.is_none() && m.userinfo_endpoint.is_none());
        assert!(!m.authorization_response_iss_parameter_supported);

        assert_eq!(
            ProviderMetadata::builder("https://idp.example.com")
                .build()
                .unwrap_err(),
            ConfigError::Missing("authorization_endpoint")
        );
        let bad = |b: ProviderMetadataBuilder| match b.build() {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        let base = || {
            ProviderMetadata::builder("https://idp.example.com")
                .authorization_endpoint("https://idp.example.com/authorize")
        };
        assert_eq!(bad(base().jwks_uri("keys.json")), "jwks_uri");
        assert_eq!(
            bad(base().token_endpoint("ftp://idp/token")),
            "token_endpoint"
        );
        assert_eq!(
            bad(ProviderMetadata::builder("idp.example.com")
                .authorization_endpoint("https://idp.example.com/authorize")),
            "issuer"
        );
    }
}
