//! [`Client`]: one concrete, cheaply clonable handle on the provider. Every provider call is a method
//! on it (see the modules `authorize`, `token`, `userinfo`, `introspection`, `revocation`, `logout`,
//! `cas`, `saml`).

use crate::config::{ClientConfig, ProviderSource};
use crate::provider::ProviderMetadata;
use crate::Error;
use std::fmt;
use std::sync::Arc;
use url::Url;

/// A client of one application at one provider. `Clone` is an `Arc` clone: put it in framework state.
///
/// Build it with [`Client::new`] for a GenAuth app host (no network call) or [`Client::discover`] for
/// any OpenID Provider.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    metadata: ProviderMetadata,
    http: reqwest::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client_id", self.inner.config.client_id())
            .field("issuer", &self.inner.metadata.issuer)
            .field("protocol", &self.inner.config.protocol())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a GenAuth application host, with endpoints derived from the host (no network call).
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration names an issuer instead of an app host (use
    /// [`Client::discover`]), or the HTTP client cannot be built.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let ProviderSource::AppHost(host) = config.provider() else {
            return Err(Error::Config(crate::ConfigError::Invalid {
                field: "issuer",
                reason: "an issuer needs discovery: use Client::discover".into(),
            }));
        };
        let metadata = ProviderMetadata::genauth(host, config.protocol())?;
        Self::with_metadata(config, metadata)
    }

    /// A client whose endpoints come from OpenID Connect Discovery: `{issuer}/.well-known/openid-configuration`
    /// for an issuer, `{app_host}/oidc/.well-known/openid-configuration` for a GenAuth host.
    ///
    /// # Errors
    /// As [`ProviderMetadata::discover`]: unreachable provider, bad document, or issuer mismatch.
    pub async fn discover(config: ClientConfig) -> Result<Self, Error> {
        let http = build_http(&config)?;
        let issuer = match config.provider() {
            ProviderSource::Issuer(issuer) => issuer.clone(),
            ProviderSource::AppHost(host) => crate::config::join_path(host, "oidc")
                .map_err(|e| Error::InvalidResponse {
                    endpoint: "discovery",
                    reason: e.to_string(),
                })?,
        };
        let metadata = ProviderMetadata::discover(&http, &issuer).await?;
        Self::assemble(config, metadata, http)
    }

    /// A client with explicitly given provider metadata (e.g. loaded from a file).
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn with_metadata(config: ClientConfig, metadata: ProviderMetadata) -> Result<Self, Error> {
        let http = build_http(&config)?;
        Self::assemble(config, metadata, http)
    }

    fn assemble(
        config: ClientConfig,
        metadata: ProviderMetadata,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                metadata,
                http,
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The provider's endpoints.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.inner.metadata
    }

    /// The HTTP client used for provider calls (timeouts set, redirects not followed).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// An optional endpoint of the metadata, or [`Error::Unsupported`] naming it.
    pub(crate) fn endpoint<'a>(
        &self,
        name: &'static str,
        url: &'a Option<Url>,
    ) -> Result<&'a Url, Error> {
        url.as_ref()
            .ok_or_else(|| Error::Unsupported(format!("the provider publishes no {name}")))
    }
}

/// The HTTP client for provider calls: the configured timeout, no redirects (a provider API answer is
/// never a redirect we should follow), rustls.
fn build_http(config: &ClientConfig) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .timeout(config.http_timeout())
        .connect_timeout(config.http_timeout())
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("genauth-rust/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::Config(crate::ConfigError::Invalid {
                field: "http client",
                reason: e.to_string(),
            })
        })
}
