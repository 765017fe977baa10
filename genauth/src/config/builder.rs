//! [`ClientConfigBuilder`]: plain setters, every check at [`build`](ClientConfigBuilder::build).

use super::{
    ClientAuthMethod, ClientConfig, ConfigError, CustomHttpClient, Protocol, ProviderSource,
    parse_app_host, parse_http_url, parse_provider_url,
};
use crate::types::{ClientId, ClientSecret};
use std::time::Duration;

/// Builder of [`ClientConfig`]: plain setters, every check at [`build`](Self::build).
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientConfigBuilder {
    client_id: String,
    client_secret: Option<ClientSecret>,
    app_host: Option<String>,
    issuer: Option<String>,
    redirect_uri: Option<String>,
    logout_redirect_uri: Option<String>,
    protocol: Protocol,
    scope: Option<String>,
    token_auth_method: ClientAuthMethod,
    introspection_auth_method: ClientAuthMethod,
    revocation_auth_method: ClientAuthMethod,
    http_timeout: Duration,
    leeway: Duration,
    static_jwks: Option<jsonwebtoken::jwk::JwkSet>,
    cas_base_url: Option<String>,
    extra_authorization_params: Vec<(String, String)>,
    resources: Vec<String>,
    allow_hs256_id_tokens: bool,
    http_client: Option<CustomHttpClient>,
}

impl ClientConfigBuilder {
    pub(super) fn new(client_id: String) -> Self {
        Self {
            client_id,
            client_secret: None,
            app_host: None,
            issuer: None,
            redirect_uri: None,
            logout_redirect_uri: None,
            protocol: Protocol::default(),
            scope: None,
            token_auth_method: ClientAuthMethod::default(),
            introspection_auth_method: ClientAuthMethod::default(),
            revocation_auth_method: ClientAuthMethod::default(),
            http_timeout: Duration::from_secs(10),
            leeway: Duration::from_secs(60),
            static_jwks: None,
            cas_base_url: None,
            extra_authorization_params: Vec::new(),
            resources: Vec::new(),
            allow_hs256_id_tokens: false,
            http_client: None,
        }
    }

    /// The app secret (`client_secret`). Required unless every client auth method is `None`.
    pub fn client_secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }
    /// A GenAuth application host, e.g. `https://example.genauth.ai` (scheme optional: `https://` is
    /// assumed; a path is dropped). Endpoints are derived from it without a network call.
    pub fn app_host(mut self, host: impl Into<String>) -> Self {
        self.app_host = Some(host.into());
        self
    }
    /// Any OpenID Provider's issuer URL, for [`Client::discover`](crate::Client::discover).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
    /// The default `redirect_uri` (the application's callback URL, registered at the provider).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }
    /// The default `post_logout_redirect_uri` / logout `redirect_uri`.
    pub fn logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.logout_redirect_uri = Some(uri.into());
        self
    }
    /// The sign-in protocol (default [`Protocol::Oidc`]).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }
    /// The space-separated scope (default `openid profile` for OIDC, `user` for OAuth 2.0). For OIDC it must
    /// contain `openid`; add `offline_access` to get refresh tokens.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
    /// Client authentication at the token endpoint (default `client_secret_post`).
    pub fn token_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.token_auth_method = method;
        self
    }
    /// Client authentication at the introspection endpoint (default `client_secret_post`).
    pub fn introspection_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.introspection_auth_method = method;
        self
    }
    /// Client authentication at the revocation endpoint (default `client_secret_post`).
    pub fn revocation_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.revocation_auth_method = method;
        self
    }
    /// One client authentication method for the token, introspection and revocation endpoints.
    pub fn auth_method(self, method: ClientAuthMethod) -> Self {
        self.token_auth_method(method)
            .introspection_auth_method(method)
            .revocation_auth_method(method)
    }
    /// Timeout of each HTTP call to the provider (default 10 s). Not applied to a client given with
    /// [`http_client`](Self::http_client), which keeps its own timeouts.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }
    /// Clock skew tolerated for `exp`, `nbf` and `iat` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
    /// A fixed JWKS (SDK option `serverJWKS`): keys are never downloaded.
    pub fn static_jwks(mut self, jwks: jsonwebtoken::jwk::JwkSet) -> Self {
        self.static_jwks = Some(jwks);
        self
    }
    /// The CAS server base URL (default `{app_host}/cas-idp/{app_id}`).
    pub fn cas_base_url(mut self, url: impl Into<String>) -> Self {
        self.cas_base_url = Some(url.into());
        self
    }
    /// Adds a query parameter to every authorization URL, e.g. `("resource", "https://api.example.com")`
    /// (RFC 8707). Protocol parameters this crate sets itself cannot be overridden this way.
    pub fn authorization_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.extra_authorization_params
            .push((name.into(), value.into()));
        self
    }
    /// Adds an RFC 8707 resource indicator (an absolute URI without fragment, e.g.
    /// `https://api.example.com` or `urn:example:api`): sent as `resource` in authorization requests and
    /// in code-exchange, refresh and client-credentials requests, so the access token is issued for that
    /// API (many providers then issue a JWT access token whose `aud` is the resource). Repeatable.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }
    /// Accepts HS256 ID tokens signed with the app secret (a GenAuth per-app setting). Off by default:
    /// only asymmetric algorithms from the JWKS are accepted.
    pub fn allow_hs256_id_tokens(mut self, allow: bool) -> Self {
        self.allow_hs256_id_tokens = allow;
        self
    }

    /// The HTTP client for every call to the provider (discovery, JWKS, token, userinfo,
    /// introspection, revocation, CAS), instead of the one genauth builds: for a proxy, extra root
    /// certificates, a client certificate or default headers. Build it with the re-exported
    /// [`genauth::reqwest`](crate::reqwest), so that the versions match.
    ///
    /// The default client has a timeout and a connect timeout of [`http_timeout`](Self::http_timeout),
    /// follows no redirects, sends `User-Agent: genauth-rust/<version>` and verifies TLS with rustls.
    /// A custom client must keep:
    /// - **a timeout** (`.timeout(…)`, `.connect_timeout(…)`): `http_timeout` does not apply to it, and
    ///   without one a stalled provider holds each request (and a sign-in) indefinitely;
    /// - **no redirects** (`.redirect(reqwest::redirect::Policy::none())`): provider APIs do not answer
    ///   with redirects, and following one would resend client credentials and tokens wherever it
    ///   points.
    ///
    /// Whatever the client, genauth itself caps every response body at 1 MiB and keeps URLs (which
    /// may carry tickets or tokens) out of its errors.
    ///
    /// ```
    /// use genauth::{reqwest, ClientConfig};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let http = reqwest::Client::builder()
    ///     .timeout(Duration::from_secs(10))
    ///     .connect_timeout(Duration::from_secs(10))
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
    ///     .build()?;
    /// let config = ClientConfig::builder("my-app-id")
    ///     .client_secret("my-app-secret")
    ///     .app_host("https://my-app.genauth.ai")
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = config; Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(CustomHttpClient(client));
        self
    }

    /// Validates and builds the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] when the client ID is empty; neither or both of `app_host` and `issuer` are set;
    /// a URL does not parse or is not `http(s)`; a secret-based auth method (or HS256) is configured
    /// without a secret; an OIDC scope lacks `openid`; a timeout is zero.
    pub fn build(self) -> Result<ClientConfig, ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::Missing("client_id (app id)"));
        }
        let provider = match (self.app_host, self.issuer) {
            (Some(host), None) => ProviderSource::AppHost(parse_app_host(&host)?),
            (None, Some(issuer)) => ProviderSource::Issuer(parse_provider_url("issuer", &issuer)?),
            (None, None) => return Err(ConfigError::Missing("app_host or issuer")),
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    field: "issuer",
                    reason: "set either app_host (GenAuth) or issuer (discovery), not both".into(),
                });
            }
        };
        let secret_needed = [
            ("token_auth_method", self.token_auth_method),
            ("introspection_auth_method", self.introspection_auth_method),
            ("revocation_auth_method", self.revocation_auth_method),
        ];
        let has_secret = self
            .client_secret
            .as_ref()
            .is_some_and(|s| !s.secret().is_empty());
        if !has_secret {
            if let Some((field, method)) = secret_needed
                .iter()
                .find(|(_, m)| *m != ClientAuthMethod::None)
            {
                return Err(ConfigError::Invalid {
                    field,
                    reason: format!(
                        "`{}` needs a client secret; set one or use `none` (public client)",
                        method.as_str()
                    ),
                });
            }
            if self.allow_hs256_id_tokens {
                return Err(ConfigError::Invalid {
                    field: "allow_hs256_id_tokens",
                    reason: "HS256 ID tokens are verified with the client secret, which is not set"
                        .into(),
                });
            }
        }
        let scope = match self.scope {
            Some(scope) => scope.split_whitespace().collect::<Vec<_>>().join(" "),
            None => match self.protocol {
                Protocol::OAuth2 => "user".to_owned(),
                _ => "openid profile".to_owned(),
            },
        };
        if self.protocol == Protocol::Oidc && !scope.split(' ').any(|s| s == "openid") {
            return Err(ConfigError::Invalid {
                field: "scope",
                reason: format!("an OpenID Connect scope must contain `openid` (got `{scope}`)"),
            });
        }
        if self.http_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                field: "http_timeout",
                reason: "must be greater than zero".into(),
            });
        }
        for resource in &self.resources {
            // RFC 8707 §2: an absolute URI, no fragment.
            let ok = url::Url::parse(resource).is_ok_and(|u| u.fragment().is_none());
            if !ok {
                return Err(ConfigError::Invalid {
                    field: "resource",
                    reason: format!("`{resource}` is not an absolute URI without a fragment"),
                });
            }
        }
        let opt_url = |field: &'static str, v: Option<String>| {
            v.map(|s| parse_http_url(field, &s)).transpose()
        };
        Ok(ClientConfig {
            client_id: ClientId::new(self.client_id),
            client_secret: self.client_secret.filter(|s| !s.secret().is_empty()),
            provider,
            redirect_uri: opt_url("redirect_uri", self.redirect_uri)?,
            logout_redirect_uri: opt_url("logout_redirect_uri", self.logout_redirect_uri)?,
            protocol: self.protocol,
            scope,
            token_auth_method: self.token_auth_method,
            introspection_auth_method: self.introspection_auth_method,
            revocation_auth_method: self.revocation_auth_method,
            http_timeout: self.http_timeout,
            leeway: self.leeway,
            static_jwks: self.static_jwks,
            cas_base_url: self
                .cas_base_url
                .map(|url| parse_provider_url("cas_base_url", &url))
                .transpose()?,
            extra_authorization_params: self.extra_authorization_params,
            resources: self.resources,
            allow_hs256_id_tokens: self.allow_hs256_id_tokens,
            http_client: self.http_client,
        })
    }
}
