//! The environment variables every example reads (a public interface: names and defaults are stable).
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `GENAUTH_ISSUER` | any OpenID Provider's issuer (endpoints by discovery); APIs: several, comma-separated, each discovered, tokens routed by `iss` (the first one signs web users in) | – |
//! | `GENAUTH_APP_HOST` | a GenAuth app host, e.g. `https://example.genauth.ai` | – |
//! | `GENAUTH_APP_ID` | the app ID (`client_id`) | required |
//! | `GENAUTH_APP_SECRET` | the app secret (`client_secret`) | none (public client) |
//! | `GENAUTH_TOKEN_AUTH_METHOD` | `client_secret_post`, `client_secret_basic` or `none` | `client_secret_post` (`none` without a secret) |
//! | `GENAUTH_REDIRECT_URI` | the callback URL | `http://127.0.0.1:3000/callback` |
//! | `GENAUTH_LOGOUT_REDIRECT_URI` | where the provider sends the browser after logout | `http://127.0.0.1:3000/` |
//! | `GENAUTH_SCOPE` | space-separated scopes | `openid profile` (`user` for OAuth 2.0) |
//! | `GENAUTH_PROTOCOL` | `oidc`, `oauth` or `cas` | `oidc` |
//! | `GENAUTH_CAS_URL` | CAS server base URL | `{app_host}/cas-idp/{app_id}` |
//! | `GENAUTH_RESOURCE` | RFC 8707 resource indicator; APIs: an `http(s)` URL also makes the API an RFC 9728 protected resource (metadata at `/.well-known/oauth-protected-resource…`, `resource_metadata` in challenges, `aud` must include it) | – |
//! | `GENAUTH_AUDIENCE` | expected `aud` of bearer tokens | `GENAUTH_RESOURCE`, else the app ID |
//! | `GENAUTH_VALIDATION` | `jwks` or `introspection` | `jwks` |
//! | `GENAUTH_REQUIRED_SCOPE` | scope `/scoped` requires | `api:read` |
//! | `GENAUTH_DPOP` | APIs: DPoP-bound tokens (RFC 9449): `off`, `allowed` or `required` | `off` |
//! | `GENAUTH_PUBLIC_URL` | APIs: the URL clients reach the API at, for DPoP `htu` behind a proxy | the request's `Host` |
//! | `GENAUTH_SESSION_KEY` | web examples: session keys, comma-separated base64url (≥ 32 bytes each; the first seals, every one opens) | a key generated at start-up (said on stderr) |
//! | `GENAUTH_SESSION_STORE` | web examples: where sessions live: `cookie` (sealed in the cookie), `memory` (this process), or a `redis://host:port[/db]` URL (shared by every instance) | `cookie` |
//! | `BIND` | listen address | `127.0.0.1:3000` |
//!
//! Exactly one of `GENAUTH_ISSUER` and `GENAUTH_APP_HOST` must be set. A missing or malformed variable
//! is reported as one line naming it.

use genauth::bearer::BearerAuthenticator;
use genauth::dpop::{DpopConfig, DpopMode, DpopVerifier};
use genauth::resource_metadata::ProtectedResourceMetadata;
use genauth::session::{MemoryStore, RedisStore, RedisStoreOptions, SessionCodec, SessionManager};
use genauth::validator::{IntrospectionValidator, MultiIssuerValidator, TokenValidator};
use genauth::{Client, ClientAuthMethod, ClientConfig, Protocol};
use std::net::SocketAddr;
use std::sync::Arc;

/// Settings read from the environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `GENAUTH_ISSUER` or `GENAUTH_APP_HOST`.
    pub provider: Provider,
    /// `GENAUTH_APP_ID`.
    pub app_id: String,
    /// `GENAUTH_APP_SECRET`.
    pub app_secret: Option<String>,
    /// `GENAUTH_TOKEN_AUTH_METHOD`.
    pub auth_method: ClientAuthMethod,
    /// `GENAUTH_REDIRECT_URI`.
    pub redirect_uri: String,
    /// `GENAUTH_LOGOUT_REDIRECT_URI`.
    pub logout_redirect_uri: String,
    /// `GENAUTH_SCOPE`.
    pub scope: Option<String>,
    /// `GENAUTH_PROTOCOL`.
    pub protocol: Protocol,
    /// `GENAUTH_CAS_URL`.
    pub cas_url: Option<String>,
    /// `GENAUTH_RESOURCE`.
    pub resource: Option<String>,
    /// `GENAUTH_AUDIENCE`.
    pub audience: Option<String>,
    /// `GENAUTH_VALIDATION`.
    pub validation: Validation,
    /// `GENAUTH_REQUIRED_SCOPE`.
    pub required_scope: String,
    /// `GENAUTH_ISSUER`'s issuers after the first (APIs trust them too).
    pub extra_issuers: Vec<String>,
    /// `GENAUTH_DPOP`.
    pub dpop: DpopMode,
    /// `GENAUTH_PUBLIC_URL`.
    pub public_url: Option<url::Url>,
    /// `GENAUTH_SESSION_KEY`, parsed (`Debug` shows no key).
    pub session_keys: Option<SessionCodec>,
    /// `GENAUTH_SESSION_STORE`.
    pub session_store: SessionStoreSetting,
    /// `BIND`.
    pub bind: SocketAddr,
}

/// `GENAUTH_SESSION_STORE`: where the web examples keep sessions.
#[derive(Clone, PartialEq, Eq)]
pub enum SessionStoreSetting {
    /// `cookie`: sealed in the session cookie (the default).
    Cookie,
    /// `memory`: in this process ([`genauth::session::MemoryStore`]).
    Memory,
    /// `redis://…` or `rediss://…`: in Redis ([`genauth::session::RedisStore`]).
    Redis(String),
}

impl std::fmt::Debug for SessionStoreSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cookie => f.write_str("Cookie"),
            Self::Memory => f.write_str("Memory"),
            // The URL may hold a password.
            Self::Redis(_) => f.write_str("Redis"),
        }
    }
}

impl SessionStoreSetting {
    fn from_var(value: Option<String>) -> Result<Self, EnvError> {
        match value.as_deref() {
            None | Some("cookie") => Ok(Self::Cookie),
            Some("memory") => Ok(Self::Memory),
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                url::Url::parse(url).map_err(|e| {
                    EnvError(format!("GENAUTH_SESSION_STORE is not a Redis URL: {e}"))
                })?;
                Ok(Self::Redis(url.to_owned()))
            }
            Some(_) => Err(EnvError(
                "GENAUTH_SESSION_STORE is invalid: use cookie, memory or redis://host:port[/db]"
                    .into(),
            )),
        }
    }
}

/// Where the provider's endpoints come from.
#[derive(Clone, Debug)]
pub enum Provider {
    /// `GENAUTH_ISSUER`: OpenID Connect Discovery.
    Issuer(String),
    /// `GENAUTH_APP_HOST`: GenAuth endpoints derived from the host.
    AppHost(String),
}

/// `GENAUTH_VALIDATION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validation {
    /// Local JWT verification against the provider's JWKS.
    Jwks,
    /// RFC 7662 introspection at the provider (cached).
    Introspection,
}

/// A missing or malformed environment variable.
#[derive(Debug)]
pub struct EnvError(String);

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EnvError {}

fn var(name: &str) -> Result<Option<String>, EnvError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(EnvError(format!("{name} is not valid UTF-8")))
        }
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: Option<String>, default: T) -> Result<T, EnvError>
where
    T::Err: std::fmt::Display,
{
    match value {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| EnvError(format!("{name}={v} is invalid: {e}"))),
    }
}

impl Settings {
    /// Reads every variable.
    ///
    /// # Errors
    /// One line naming the first missing or malformed variable.
    pub fn from_env() -> Result<Self, EnvError> {
        let mut issuers: Vec<String> = var("GENAUTH_ISSUER")?
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let extra_issuers = if issuers.len() > 1 {
            issuers.split_off(1)
        } else {
            Vec::new()
        };
        let provider = match (issuers.pop(), var("GENAUTH_APP_HOST")?) {
            (Some(issuer), None) => Provider::Issuer(issuer),
            (None, Some(host)) => Provider::AppHost(host),
            (None, None) => {
                return Err(EnvError(
                    "GENAUTH_ISSUER or GENAUTH_APP_HOST must be set (an OpenID Provider issuer, or a GenAuth app host)".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(EnvError(
                    "GENAUTH_ISSUER and GENAUTH_APP_HOST are both set: set only one".into(),
                ))
            }
        };
        let app_id = var("GENAUTH_APP_ID")?.ok_or_else(|| {
            EnvError("GENAUTH_APP_ID must be set (the app ID / client_id)".into())
        })?;
        let app_secret = var("GENAUTH_APP_SECRET")?;
        let default_method = if app_secret.is_some() {
            ClientAuthMethod::ClientSecretPost
        } else {
            ClientAuthMethod::None
        };
        let auth_method = parse(
            "GENAUTH_TOKEN_AUTH_METHOD",
            var("GENAUTH_TOKEN_AUTH_METHOD")?,
            default_method,
        )?;
        let protocol = parse("GENAUTH_PROTOCOL", var("GENAUTH_PROTOCOL")?, Protocol::Oidc)?;
        if protocol == Protocol::Saml {
            return Err(EnvError(
                "GENAUTH_PROTOCOL=saml is invalid: the examples sign in with oidc, oauth or cas"
                    .into(),
            ));
        }
        let validation = match var("GENAUTH_VALIDATION")?.as_deref() {
            None | Some("jwks") => Validation::Jwks,
            Some("introspection") => Validation::Introspection,
            Some(other) => {
                return Err(EnvError(format!(
                    "GENAUTH_VALIDATION={other} is invalid: use jwks or introspection"
                )));
            }
        };
        let url_var = |name: &str, default: &str| -> Result<String, EnvError> {
            let value = var(name)?.unwrap_or_else(|| default.to_owned());
            url::Url::parse(&value)
                .map_err(|e| EnvError(format!("{name}={value} is not a URL: {e}")))?;
            Ok(value)
        };
        Ok(Self {
            provider,
            app_id,
            app_secret,
            auth_method,
            redirect_uri: url_var("GENAUTH_REDIRECT_URI", "http://127.0.0.1:3000/callback")?,
            logout_redirect_uri: url_var("GENAUTH_LOGOUT_REDIRECT_URI", "http://127.0.0.1:3000/")?,
            scope: var("GENAUTH_SCOPE")?,
            protocol,
            cas_url: var("GENAUTH_CAS_URL")?,
            resource: var("GENAUTH_RESOURCE")?,
            audience: var("GENAUTH_AUDIENCE")?,
            validation,
            required_scope: var("GENAUTH_REQUIRED_SCOPE")?.unwrap_or_else(|| "api:read".into()),
            extra_issuers,
            dpop: match var("GENAUTH_DPOP")? {
                None => DpopMode::Off,
                Some(v) => DpopMode::parse(&v).ok_or_else(|| {
                    EnvError(format!(
                        "GENAUTH_DPOP={v} is invalid: use off, allowed or required"
                    ))
                })?,
            },
            public_url: var("GENAUTH_PUBLIC_URL")?
                .map(|v| {
                    url::Url::parse(&v)
                        .map_err(|e| EnvError(format!("GENAUTH_PUBLIC_URL={v} is not a URL: {e}")))
                })
                .transpose()?,
            session_keys: var("GENAUTH_SESSION_KEY")?
                .map(|list| SessionCodec::from_key_list(&list))
                .transpose()
                .map_err(|e| EnvError(format!("GENAUTH_SESSION_KEY: {e}")))?,
            session_store: SessionStoreSetting::from_var(var("GENAUTH_SESSION_STORE")?)?,
            bind: parse(
                "BIND",
                var("BIND")?,
                SocketAddr::from(([127, 0, 0, 1], 3000)),
            )?,
        })
    }

    /// The client: discovery for an issuer, derived endpoints for a GenAuth app host.
    ///
    /// # Errors
    /// A configuration the client refuses, or a failed discovery, as one line.
    pub async fn client(&self) -> Result<Client, EnvError> {
        let mut b = ClientConfig::builder(&self.app_id)
            .redirect_uri(&self.redirect_uri)
            .logout_redirect_uri(&self.logout_redirect_uri)
            .protocol(self.protocol)
            .auth_method(self.auth_method);
        b = match &self.provider {
            Provider::Issuer(issuer) => b.issuer(issuer),
            Provider::AppHost(host) => b.app_host(host),
        };
        if let Some(secret) = &self.app_secret {
            b = b.client_secret(secret.as_str());
        }
        if let Some(scope) = &self.scope {
            b = b.scope(scope);
        }
        if let Some(cas) = &self.cas_url {
            b = b.cas_base_url(cas);
        }
        if let Some(resource) = &self.resource {
            b = b.resource(resource);
        }
        let config = b.build().map_err(|e| EnvError(config_error(&e)))?;
        match &self.provider {
            Provider::Issuer(_) => Client::discover(config)
                .await
                .map_err(|e| EnvError(format!("GENAUTH_ISSUER: {e}"))),
            Provider::AppHost(_) => {
                Client::new(config).map_err(|e| EnvError(format!("GENAUTH_APP_HOST: {e}")))
            }
        }
    }

    /// The session codec of the web examples: `GENAUTH_SESSION_KEY`'s key ring, else a key generated
    /// now, which one line on stderr says (stdout keeps only the `listening on` line).
    ///
    /// # Errors
    /// When the OS random number generator fails.
    pub fn session_codec(&self) -> Result<SessionCodec, EnvError> {
        if let Some(codec) = &self.session_keys {
            return Ok(codec.clone());
        }
        let codec = SessionCodec::generate().map_err(|e| EnvError(format!("session key: {e}")))?;
        eprintln!(
            "GENAUTH_SESSION_KEY is not set: sessions use a key generated at start-up (a restart signs everyone out)"
        );
        Ok(codec)
    }

    /// The web examples' session manager: [`session_codec`](Self::session_codec), the
    /// `GENAUTH_SESSION_STORE` store (named on one stderr line), revocation at logout. Needs a
    /// Tokio runtime (Redis).
    ///
    /// # Errors
    /// When the OS random number generator fails, or the Redis URL is refused.
    pub async fn session_manager(&self, client: Client) -> Result<SessionManager, EnvError> {
        let codec = self.session_codec()?;
        let manager = SessionManager::new(client, codec.clone()).revoke_on_logout(true);
        Ok(match &self.session_store {
            SessionStoreSetting::Cookie => {
                eprintln!("sessions: sealed in the session cookie (GENAUTH_SESSION_STORE=cookie)");
                manager
            }
            SessionStoreSetting::Memory => {
                eprintln!("sessions: in this process's memory (GENAUTH_SESSION_STORE=memory)");
                manager.session_store(Arc::new(MemoryStore::default()))
            }
            SessionStoreSetting::Redis(url) => {
                // Sealed with the session keys too: Redis holds no readable token.
                let store = RedisStore::open(url, RedisStoreOptions::default().seal_with(codec))
                    .map_err(|e| EnvError(format!("GENAUTH_SESSION_STORE: {e}")))?;
                let at = url::Url::parse(url)
                    .ok()
                    .map(|u| {
                        format!(
                            "{}:{}",
                            u.host_str().unwrap_or("?"),
                            u.port().unwrap_or(6379)
                        )
                    })
                    .unwrap_or_default();
                match store.ping().await {
                    Ok(()) => eprintln!("sessions: in Redis at {at} (GENAUTH_SESSION_STORE)"),
                    Err(e) => eprintln!(
                        "sessions: in Redis at {at} (GENAUTH_SESSION_STORE), which does not answer yet ({e}): requests with a session get 503 until it does"
                    ),
                }
                manager.session_store(Arc::new(store))
            }
        })
    }

    /// The expected `aud` of bearer tokens: `GENAUTH_AUDIENCE`, else `GENAUTH_RESOURCE`, else the app ID.
    pub fn audience(&self) -> &str {
        self.audience
            .as_deref()
            .or(self.resource.as_deref())
            .unwrap_or(&self.app_id)
    }

    /// The bearer-token validator `GENAUTH_VALIDATION` names.
    ///
    /// # Errors
    /// When the provider publishes no keys (JWKS mode).
    pub fn validator(&self, client: &Client) -> Result<Arc<dyn TokenValidator>, EnvError> {
        Ok(match self.validation {
            Validation::Jwks => Arc::new(
                client
                    .jwks_validator([self.audience()])
                    .map_err(|e| EnvError(format!("GENAUTH_VALIDATION=jwks: {e}")))?,
            ),
            // Bound to this API: an answer's `aud` must hold the audience; without `aud`, the
            // token must be the app's own (the validator's default).
            Validation::Introspection => {
                Arc::new(IntrospectionValidator::new(client.clone()).audience(self.audience()))
            }
        })
    }
}

impl Settings {
    /// The APIs' validator: [`validator`](Self::validator) for the one issuer, or, when
    /// `GENAUTH_ISSUER` lists several, a [`MultiIssuerValidator`] holding one per issuer (each
    /// discovered, with its own keys), tokens routed by `iss`.
    ///
    /// # Errors
    /// A failed discovery or an issuer without keys, naming the issuer.
    pub async fn api_validator(
        &self,
        client: &Client,
    ) -> Result<Arc<dyn TokenValidator>, EnvError> {
        let first = self.validator(client)?;
        let Provider::Issuer(issuer) = &self.provider else {
            return Ok(first);
        };
        if self.extra_issuers.is_empty() {
            return Ok(first);
        }
        let mut multi = MultiIssuerValidator::new().issuer_arc(issuer.as_str(), first);
        for other in &self.extra_issuers {
            let settings = Self {
                provider: Provider::Issuer(other.clone()),
                extra_issuers: Vec::new(),
                ..self.clone()
            };
            let client = settings
                .client()
                .await
                .map_err(|e| EnvError(format!("{e} (issuer {other})")))?;
            multi = multi.issuer_arc(other.as_str(), settings.validator(&client)?);
        }
        Ok(Arc::new(multi))
    }

    /// `GENAUTH_DPOP` and `GENAUTH_PUBLIC_URL` as a verifier; `None` when off.
    ///
    /// # Errors
    /// An unusable `GENAUTH_PUBLIC_URL`.
    pub fn dpop_verifier(&self) -> Result<Option<DpopVerifier>, EnvError> {
        if self.dpop == DpopMode::Off {
            return Ok(None);
        }
        let mut config = DpopConfig::new(self.dpop);
        if let Some(url) = &self.public_url {
            config = config.public_base_url(url.clone());
        }
        config
            .build()
            .map(Some)
            .map_err(|e| EnvError(format!("GENAUTH_DPOP / GENAUTH_PUBLIC_URL: {e}")))
    }

    /// The RFC 9728 metadata, when `GENAUTH_RESOURCE` is an `http(s)` URL (a URN names no
    /// well-known location): the issuers as `authorization_servers`, `GENAUTH_REQUIRED_SCOPE`,
    /// the DPoP algorithms when DPoP is on.
    ///
    /// # Errors
    /// A URL that is no resource identifier (a fragment; `http` off loopback).
    pub fn resource_metadata(&self) -> Result<Option<ProtectedResourceMetadata>, EnvError> {
        let Some(resource) = self
            .resource
            .as_deref()
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
        else {
            return Ok(None);
        };
        let mut metadata = ProtectedResourceMetadata::new(resource)
            .map_err(|e| EnvError(format!("GENAUTH_RESOURCE: {e}")))?
            .scopes_supported([self.required_scope.clone()]);
        if let Provider::Issuer(issuer) = &self.provider {
            metadata = metadata.authorization_server(issuer.as_str());
        }
        for issuer in &self.extra_issuers {
            metadata = metadata.authorization_server(issuer.as_str());
        }
        if let Some(dpop) = self.dpop_verifier()? {
            metadata = metadata.dpop(&dpop);
        }
        Ok(Some(metadata))
    }

    /// The APIs' bearer policy over `validator`: DPoP as `GENAUTH_DPOP` says, and the protected
    /// resource (audience and `resource_metadata`) when [`resource_metadata`](Self::resource_metadata)
    /// is some.
    ///
    /// # Errors
    /// As [`dpop_verifier`](Self::dpop_verifier) and [`resource_metadata`](Self::resource_metadata).
    pub fn bearer(
        &self,
        validator: Arc<dyn TokenValidator>,
    ) -> Result<BearerAuthenticator, EnvError> {
        let mut auth = BearerAuthenticator::from_arc(validator);
        if let Some(dpop) = self.dpop_verifier()? {
            auth = auth.dpop(dpop);
        }
        if let Some(metadata) = self.resource_metadata()? {
            auth = auth.protected_resource(&metadata);
        }
        Ok(auth)
    }
}

/// A configuration error in terms of the variables that caused it.
fn config_error(error: &genauth::ConfigError) -> String {
    let variable = |field: &str| match field {
        "app_host" => "GENAUTH_APP_HOST",
        "issuer" => "GENAUTH_ISSUER",
        "redirect_uri" => "GENAUTH_REDIRECT_URI",
        "logout_redirect_uri" => "GENAUTH_LOGOUT_REDIRECT_URI",
        "scope" => "GENAUTH_SCOPE",
        "cas_base_url" => "GENAUTH_CAS_URL",
        "resource" => "GENAUTH_RESOURCE",
        "token_auth_method" | "introspection_auth_method" | "revocation_auth_method" => {
            "GENAUTH_TOKEN_AUTH_METHOD (or GENAUTH_APP_SECRET)"
        }
        _ => "configuration",
    };
    match error {
        genauth::ConfigError::Invalid { field, reason } => format!("{}: {reason}", variable(field)),
        other => format!("configuration: {other}"),
    }
}

/// Prints a one-line error and exits with status 2.
pub fn exit_with(error: impl std::fmt::Display) -> ! {
    eprintln!("error: {error}");
    std::process::exit(2)
}
