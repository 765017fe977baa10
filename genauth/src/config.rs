//! [`ClientConfig`]: everything a [`Client`](crate::Client) needs to know about the application and
//! its provider, validated once at [`ClientConfigBuilder::build`].

mod builder;

use crate::types::{ClientId, ClientSecret};
pub use builder::ClientConfigBuilder;
use std::time::Duration;
use url::Url;

/// Which protocol the application signs users in with (GenAuth console: "协议类型"; SDK option `protocol`).
///
/// It selects the endpoint family: `Oidc` uses `{app_host}/oidc/...`, `OAuth2` uses `{app_host}/oauth/...`.
/// Token, refresh, introspection and revocation calls are only available for `Oidc` and `OAuth2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect 1.0 (the default).
    #[default]
    Oidc,
    /// OAuth 2.0 (RFC 6749) without OpenID Connect: no ID token, no nonce; GenAuth default scope `user`.
    OAuth2,
    /// SAML 2.0, GenAuth as the IdP: only login links (`/api/v2/saml-idp/{app_id}`) and universal logout.
    Saml,
    /// CAS 1.0/2.0, GenAuth as the CAS server: login links, ticket validation and CAS logout.
    Cas,
}

impl std::str::FromStr for Protocol {
    type Err = ConfigError;
    /// Parses `oidc`, `oauth` (or `oauth2`), `saml` or `cas`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "oidc" => Ok(Self::Oidc),
            "oauth" | "oauth2" => Ok(Self::OAuth2),
            "saml" | "saml2" => Ok(Self::Saml),
            "cas" => Ok(Self::Cas),
            _ => Err(ConfigError::Invalid {
                field: "protocol",
                reason: format!("`{s}` is not one of oidc, oauth, saml, cas"),
            }),
        }
    }
}

impl Protocol {
    /// The configuration name: `oidc`, `oauth`, `saml` or `cas` (what [`FromStr`](std::str::FromStr)
    /// parses, and what sessions serialize).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::OAuth2 => "oauth",
            Self::Saml => "saml",
            Self::Cas => "cas",
        }
    }
}

/// As its configuration name ([`Protocol::as_str`]): the form sealed sessions and pending logins
/// hold.
impl serde::Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// From any name [`FromStr`](std::str::FromStr) accepts.
impl<'de> serde::Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// How the client authenticates to the token, introspection and revocation endpoints
/// (RFC 6749 §2.3.1; OpenID Connect Core §9; names from RFC 7591 `token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `client_id` and `client_secret` in the form body (the default of every GenAuth SDK).
    #[default]
    ClientSecretPost,
    /// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1; the raw strings, not
    /// form-encoded first, as GenAuth expects).
    ClientSecretBasic,
    /// A public client: `client_id` only, no secret (use PKCE).
    None,
}

impl ClientAuthMethod {
    /// The RFC 7591 name: `client_secret_post`, `client_secret_basic` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::None => "none",
        }
    }
}

impl std::str::FromStr for ClientAuthMethod {
    type Err = ConfigError;
    /// Parses the RFC 7591 names `client_secret_post`, `client_secret_basic` and `none`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client_secret_post" => Ok(Self::ClientSecretPost),
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "none" => Ok(Self::None),
            _ => Err(ConfigError::Invalid {
                field: "client auth method",
                reason: format!(
                    "`{s}` is not one of client_secret_post, client_secret_basic, none"
                ),
            }),
        }
    }
}

/// Where the provider's endpoints come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderSource {
    /// A GenAuth application host such as `https://example.genauth.ai`: endpoints are derived from it
    /// (`{host}/oidc/auth`, `{host}/oidc/token`, ...) without a network call, and the GenAuth-only calls
    /// (CAS, SAML, legacy `validate_token`, universal logout) are available.
    AppHost(Url),
    /// Any OpenID Provider's issuer URL: endpoints come from OpenID Connect Discovery
    /// (`{issuer}/.well-known/openid-configuration`) via [`Client::discover`](crate::Client::discover).
    Issuer(Url),
}

/// The validated configuration of a [`Client`](crate::Client). Build it with [`ClientConfig::builder`].
///
/// `Debug` never prints the app secret.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: Option<ClientSecret>,
    pub(crate) provider: ProviderSource,
    pub(crate) redirect_uri: Option<Url>,
    pub(crate) logout_redirect_uri: Option<Url>,
    pub(crate) protocol: Protocol,
    pub(crate) scope: String,
    pub(crate) token_auth_method: ClientAuthMethod,
    pub(crate) introspection_auth_method: ClientAuthMethod,
    pub(crate) revocation_auth_method: ClientAuthMethod,
    pub(crate) http_timeout: Duration,
    pub(crate) leeway: Duration,
    pub(crate) static_jwks: Option<jsonwebtoken::jwk::JwkSet>,
    pub(crate) cas_base_url: Option<Url>,
    pub(crate) extra_authorization_params: Vec<(String, String)>,
    pub(crate) resources: Vec<String>,
    pub(crate) allow_hs256_id_tokens: bool,
    pub(crate) http_client: Option<CustomHttpClient>,
}

/// A `reqwest::Client` given with [`ClientConfigBuilder::http_client`]. `Debug` only says that one is
/// set: its default headers may carry credentials.
#[derive(Clone)]
pub(crate) struct CustomHttpClient(pub(crate) reqwest::Client);

impl std::fmt::Debug for CustomHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reqwest::Client { .. }")
    }
}

impl ClientConfig {
    /// Starts a builder for the application with this client ID (GenAuth "App ID").
    pub fn builder(client_id: impl Into<String>) -> ClientConfigBuilder {
        ClientConfigBuilder::new(client_id.into())
    }
    /// The application's client ID.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }
    /// The application's secret, if it is a confidential client.
    pub fn client_secret(&self) -> Option<&ClientSecret> {
        self.client_secret.as_ref()
    }
    /// Where the provider's endpoints come from.
    pub fn provider(&self) -> &ProviderSource {
        &self.provider
    }
    /// The GenAuth app host, when configured with one.
    pub fn app_host(&self) -> Option<&Url> {
        match &self.provider {
            ProviderSource::AppHost(host) => Some(host),
            ProviderSource::Issuer(_) => None,
        }
    }
    /// The default `redirect_uri` (the application's callback URL).
    pub fn redirect_uri(&self) -> Option<&Url> {
        self.redirect_uri.as_ref()
    }
    /// The default `post_logout_redirect_uri`.
    pub fn logout_redirect_uri(&self) -> Option<&Url> {
        self.logout_redirect_uri.as_ref()
    }
    /// The protocol users sign in with.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
    /// The space-separated scope requested at login.
    pub fn scope(&self) -> &str {
        &self.scope
    }
    /// Client authentication at the token endpoint.
    pub fn token_auth_method(&self) -> ClientAuthMethod {
        self.token_auth_method
    }
    /// Client authentication at the introspection endpoint.
    pub fn introspection_auth_method(&self) -> ClientAuthMethod {
        self.introspection_auth_method
    }
    /// Client authentication at the revocation endpoint.
    pub fn revocation_auth_method(&self) -> ClientAuthMethod {
        self.revocation_auth_method
    }
    /// Timeout of each HTTP call to the provider.
    pub fn http_timeout(&self) -> Duration {
        self.http_timeout
    }
    /// Clock skew tolerated when checking `exp`, `nbf` and `iat`.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }
    /// The static JWKS (SDK option `serverJWKS`), used instead of downloading keys.
    pub fn static_jwks(&self) -> Option<&jsonwebtoken::jwk::JwkSet> {
        self.static_jwks.as_ref()
    }
    /// Extra query parameters added to every authorization URL (e.g. RFC 8707 `resource`).
    pub fn extra_authorization_params(&self) -> &[(String, String)] {
        &self.extra_authorization_params
    }
    /// RFC 8707 resource indicators, sent as `resource` to the authorization and token endpoints.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }
    /// Whether HS256 ID tokens signed with the app secret are accepted.
    pub fn allows_hs256_id_tokens(&self) -> bool {
        self.allow_hs256_id_tokens
    }
    /// The HTTP client given with [`ClientConfigBuilder::http_client`], if any.
    pub fn http_client(&self) -> Option<&reqwest::Client> {
        self.http_client.as_ref().map(|c| &c.0)
    }
    /// The CAS server base URL: the configured one, or `{app_host}/cas-idp/{app_id}`.
    pub fn cas_base_url(&self) -> Option<Url> {
        if let Some(url) = &self.cas_base_url {
            return Some(url.clone());
        }
        let host = self.app_host()?;
        join_path(host, &format!("cas-idp/{}", self.client_id)).ok()
    }
}

/// A configuration that cannot work, caught at [`ClientConfigBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is missing.
    #[error("missing configuration: {0}")]
    Missing(&'static str),
    /// A setting has an unusable value.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The setting's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

pub(crate) fn parse_http_url(field: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| ConfigError::Invalid {
        field,
        reason: format!("`{value}` is not a URL: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::Invalid {
            field,
            reason: format!("`{value}` must be an http(s) URL with a host"),
        });
    }
    Ok(url)
}

/// Whether the URL's host is a loopback host (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A provider URL (issuer, app host, endpoint, `jwks_uri`, CAS base): an [`http(s)`](parse_http_url)
/// URL that is `https` unless its host is loopback. Over plain `http` a network attacker could answer
/// in the provider's name, serving its own keys or tokens (RFC 8725 §3.1, RFC 6749 §3.1).
pub(crate) fn parse_provider_url(field: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = parse_http_url(field, value)?;
    check_provider_url(field, &url)?;
    Ok(url)
}

/// That a provider URL is `https`, or `http` on a loopback host ([`parse_provider_url`]).
pub(crate) fn check_provider_url(field: &'static str, url: &Url) -> Result<(), ConfigError> {
    if url.scheme() == "https" || is_loopback(url) {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        field,
        reason: format!(
            "`{}` must use https (plain http only on a loopback host): over http anyone on the network can answer for the provider",
            url.origin().ascii_serialization()
        ),
    })
}

/// Canonicalises a GenAuth host the way the v3 SDK does: `https://` when no scheme, keep the port,
/// drop any path, query and fragment.
fn parse_app_host(value: &str) -> Result<Url, ConfigError> {
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("https://{value}")
    };
    let mut url = parse_provider_url("app_host", &with_scheme)?;
    url.set_path("");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Appends `path` (no leading slash) to `base`, keeping `base`'s own path (`{base}/{path}`).
pub(crate) fn join_path(base: &Url, path: &str) -> Result<Url, url::ParseError> {
    let mut s = base.as_str().trim_end_matches('/').to_owned();
    s.push('/');
    s.push_str(path.trim_start_matches('/'));
    Url::parse(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ClientConfigBuilder {
        ClientConfig::builder("app1")
            .client_secret("s3cret")
            .app_host("example.genauth.ai/ignored/path")
    }

    #[test]
    fn defaults() {
        let c = base().build().unwrap();
        assert_eq!(
            c.app_host().unwrap().as_str(),
            "https://example.genauth.ai/"
        );
        assert_eq!(c.scope(), "openid profile");
        assert_eq!(c.token_auth_method(), ClientAuthMethod::ClientSecretPost);
        assert_eq!(c.http_timeout(), Duration::from_secs(10));
        assert_eq!(c.leeway(), Duration::from_secs(60));
        assert_eq!(
            c.cas_base_url().unwrap().as_str(),
            "https://example.genauth.ai/cas-idp/app1"
        );
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn localhost_host_keeps_scheme_and_port() {
        let c = ClientConfig::builder("a")
            .client_secret("s")
            .app_host("http://localhost:3000/")
            .build()
            .unwrap();
        assert_eq!(c.app_host().unwrap().as_str(), "http://localhost:3000/");
    }

    #[test]
    fn oauth_default_scope_is_user() {
        let c = base().protocol(Protocol::OAuth2).build().unwrap();
        assert_eq!(c.scope(), "user");
    }

    #[test]
    fn rejects_bad_configs() {
        assert!(matches!(
            ClientConfig::builder("").app_host("h").build(),
            Err(ConfigError::Missing(_))
        ));
        assert!(matches!(
            ClientConfig::builder("a").client_secret("s").build(),
            Err(ConfigError::Missing(_))
        ));
        let no_secret = ClientConfig::builder("a").app_host("h").build();
        assert!(matches!(
            no_secret,
            Err(ConfigError::Invalid {
                field: "token_auth_method",
                ..
            })
        ));
        assert!(
            ClientConfig::builder("a")
                .app_host("h")
                .auth_method(ClientAuthMethod::None)
                .build()
                .is_ok()
        );
        assert!(matches!(
            base().scope("profile email").build(),
            Err(ConfigError::Invalid { field: "scope", .. })
        ));
        assert!(matches!(
            base().redirect_uri("not a url").build(),
            Err(ConfigError::Invalid {
                field: "redirect_uri",
                ..
            })
        ));
        assert!(matches!(
            base().issuer("https://x").build(),
            Err(ConfigError::Invalid {
                field: "issuer",
                ..
            })
        ));
        assert!(matches!(
            base().resource("/relative").build(),
            Err(ConfigError::Invalid {
                field: "resource",
                ..
            })
        ));
        assert!(base().resource("urn:genauth:api").build().is_ok());
        assert!(matches!(
            base().http_timeout(Duration::ZERO).build(),
            Err(ConfigError::Invalid { .. })
        ));
    }

    #[test]
    fn custom_http_client_is_kept_and_not_printed() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-api-key", "k3y-in-header".parse().unwrap());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        let c = base().http_client(http).build().unwrap();
        assert!(c.http_client().is_some());
        assert!(base().build().unwrap().http_client().is_none());
        assert!(!format!("{c:?}").contains("k3y-in-header"));
    }

    #[test]
    fn parses_names() {
        assert_eq!("OAUTH".parse::<Protocol>().unwrap(), Protocol::OAuth2);
        assert!("ldap".parse::<Protocol>().is_err());
        assert_eq!(
            "client_secret_basic".parse::<ClientAuthMethod>().unwrap(),
            ClientAuthMethod::ClientSecretBasic
        );
        assert!("private_key_jwt".parse::<ClientAuthMethod>().is_err());
    }

    #[test]
    fn provider_urls_must_be_https_except_on_loopback() {
        let build = |issuer: &str| {
            ClientConfig::builder("app")
                .client_secret("s")
                .issuer(issuer)
                .build()
        };
        for ok in [
            "https://idp.example.com",
            "http://127.0.0.1:8080/oidc",
            "http://localhost:3000",
            "http://[::1]:9000",
        ] {
            build(ok).unwrap();
        }
        for refused in ["http://idp.example.com", "http://10.0.0.8/oidc"] {
            let err = build(refused).unwrap_err().to_string();
            assert!(err.contains("must use https"), "{err}");
        }
        let err = ClientConfig::builder("app")
            .client_secret("s")
            .app_host("http://my-app.genauth.ai")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("app_host"), "{err}");
        let err = ClientConfig::builder("app")
            .client_secret("s")
            .app_host("my-app.genauth.ai")
            .cas_base_url("http://cas.example.com/cas")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("cas_base_url"), "{err}");
        // The app's own callback may be plain http (development behind a proxy is its business).
        ClientConfig::builder("app")
            .client_secret("s")
            .app_host("my-app.genauth.ai")
            .redirect_uri("http://app.internal/callback")
            .build()
            .unwrap();
        // Metadata from elsewhere is checked too.
        let mut metadata = crate::ProviderMetadata::builder("https://idp.example.com")
            .authorization_endpoint("https://idp.example.com/auth")
            .build()
            .unwrap();
        metadata.jwks_uri = Some(Url::parse("http://evil.example/jwks").unwrap());
        let err = metadata.check_transport().unwrap_err().to_string();
        assert!(err.contains("jwks_uri") && err.contains("https"), "{err}");
        assert!(
            crate::ProviderMetadata::builder("https://idp.example.com")
                .authorization_endpoint("http://idp.example.com/auth")
                .build()
                .is_err()
        );
    }
}
