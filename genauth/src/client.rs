//! [`Client`]: one concrete, cheaply clonable handle on the provider. Every provider call is a method
//! on it (see the modules `authorize`, `token`, `userinfo`, `introspection`, `revocation`, `logout`,
//! `cas`, `saml`).

use crate::Error;
use crate::claims::Claims;
use crate::config::{ClientConfig, ProviderSource};
use crate::jwks::JwksCache;
use crate::jwt::{IdTokenChecks, JwtVerifier};
use crate::provider::ProviderMetadata;
use crate::validator::JwksValidator;
use serde::de::DeserializeOwned;
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
    /// The provider's keys: the static JWKS if configured, else `jwks_uri`; `None` if neither.
    jwks: Option<JwksCache>,
    /// ID tokens: `iss`, `aud` = client ID, JWKS keys (+ HS256 with the secret when allowed).
    id_token_verifier: Option<JwtVerifier>,
    /// Access tokens seen by this client at sign-in: `iss`, signature, `exp` (the audience is the API's).
    access_token_verifier: Option<JwtVerifier>,
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
                reason: "an issuer needs Client::discover, or Client::with_metadata and \
                         ProviderMetadata::builder when it publishes no discovery document"
                    .into(),
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
            ProviderSource::AppHost(host) => {
                crate::config::join_path(host, "oidc").map_err(|e| Error::InvalidResponse {
                    endpoint: "discovery",
                    reason: e.to_string(),
                })?
            }
        };
        let metadata = ProviderMetadata::discover(&http, &issuer).await?;
        Self::assemble(config, metadata, http)
    }

    /// A client with explicitly given provider metadata: built with [`ProviderMetadata::builder`] for a
    /// provider that publishes no discovery document, or loaded from a file. No network call.
    ///
    /// # Errors
    /// [`Error::Config`] when an endpoint is plain `http` off loopback
    /// ([`ProviderMetadata::check_transport`]) or the HTTP client cannot be built.
    pub fn with_metadata(config: ClientConfig, metadata: ProviderMetadata) -> Result<Self, Error> {
        metadata.check_transport()?;
        let http = build_http(&config)?;
        Self::assemble(config, metadata, http)
    }

    fn assemble(
        config: ClientConfig,
        metadata: ProviderMetadata,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
        let jwks = match (config.static_jwks(), &metadata.jwks_uri) {
            (Some(set), _) => Some(JwksCache::from_jwk_set(set)?),
            (None, Some(uri)) => Some(JwksCache::new(http.clone(), uri.clone())),
            (None, None) => None,
        };
        let verifier = |audience: Option<&str>, hs256: bool| {
            let mut builder = JwtVerifier::builder(metadata.issuer.clone()).leeway(config.leeway());
            builder = match audience {
                Some(aud) => builder.audience(aud),
                None => builder.skip_audience_check(),
            };
            if let Some(jwks) = &jwks {
                builder = builder.jwks(jwks.clone());
            }
            match (hs256, config.client_secret()) {
                (true, Some(secret)) => builder = builder.hmac_secret(secret.clone()),
                _ if jwks.is_none() => return Ok(None),
                _ => {}
            }
            builder.build().map(Some)
        };
        let id_token_verifier = verifier(
            Some(config.client_id().as_str()),
            config.allows_hs256_id_tokens(),
        )?;
        let access_token_verifier = verifier(None, false)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                metadata,
                http,
                jwks,
                id_token_verifier,
                access_token_verifier,
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

    /// The HTTP client used for every provider call: the one given with
    /// [`ClientConfigBuilder::http_client`](crate::ClientConfigBuilder::http_client), else genauth's own
    /// (timeouts set, redirects not followed).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The provider's key cache (`None` when the provider publishes no `jwks_uri` and no static JWKS is
    /// configured).
    pub fn jwks(&self) -> Option<&JwksCache> {
        self.inner.jwks.as_ref()
    }

    /// Verifies an ID token (OpenID Connect Core §3.1.3.7): signature with the provider's keys (or the
    /// app secret for HS256 when allowed), `iss`, `aud` contains the client ID, `azp`, `exp`, `iat`,
    /// `nonce` when expected, `at_hash` when an access token is given.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the failed check; [`Error::Unsupported`] when there are no keys to
    /// verify with.
    pub async fn verify_id_token<T: DeserializeOwned>(
        &self,
        id_token: &str,
        checks: &IdTokenChecks<'_>,
    ) -> Result<Claims<T>, Error> {
        let verifier = self.inner.id_token_verifier.as_ref().ok_or_else(no_keys)?;
        Ok(verifier.verify_id_token(id_token, checks).await?)
    }

    /// Verifies a JWT access token's signature, `iss`, `exp` and `nbf` (not its audience: use
    /// [`Client::jwks_validator`] in an API, which does).
    ///
    /// # Errors
    /// [`Error::Validation`] naming the failed check; [`Error::Unsupported`] without keys.
    pub async fn verify_access_token<T: DeserializeOwned>(
        &self,
        access_token: &str,
    ) -> Result<Claims<T>, Error> {
        let verifier = self
            .inner
            .access_token_verifier
            .as_ref()
            .ok_or_else(no_keys)?;
        Ok(verifier.verify(access_token).await?)
    }

    /// A verifier of JWT access tokens for an API protected by this provider: signature with the
    /// provider's keys, `iss`, `exp`, `nbf`, and `aud` containing one of `audiences` (GenAuth user access
    /// tokens carry the app ID; RFC 8707 tokens carry the resource indicator).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without keys; [`Error::Config`] when `audiences` is empty.
    pub fn jwt_verifier<I, A>(&self, audiences: I) -> Result<JwtVerifier, Error>
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        let jwks = self.inner.jwks.clone().ok_or_else(no_keys)?;
        let mut builder = JwtVerifier::builder(self.inner.metadata.issuer.clone())
            .leeway(self.inner.config.leeway())
            .jwks(jwks);
        for audience in audiences {
            builder = builder.audience(audience);
        }
        Ok(builder.build()?)
    }

    /// A bearer-token validator for an API ([`JwksValidator`]: local verification with a cache of
    /// verified tokens), accepting tokens whose `aud` contains one of `audiences`.
    ///
    /// # Errors
    /// As [`Client::jwt_verifier`].
    pub fn jwks_validator<I, A>(&self, audiences: I) -> Result<JwksValidator, Error>
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        Ok(JwksValidator::new(self.jwt_verifier(audiences)?))
    }

    /// A form POST to a token, introspection or revocation endpoint with the given client
    /// authentication (RFC 6749 §2.3.1), read to a 2xx body or a typed error.
    pub(crate) async fn post_authenticated(
        &self,
        endpoint: &'static str,
        url: &Url,
        method: crate::ClientAuthMethod,
        form: Vec<(&str, &str)>,
    ) -> Result<crate::http::Body, Error> {
        let config = self.config();
        let request = crate::http::authenticated_form(
            self.http_client(),
            url,
            method,
            config.client_id(),
            config.client_secret(),
            form,
        );
        crate::http::send(endpoint, request)
            .await?
            .success(endpoint)
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

fn no_keys() -> Error {
    Error::Unsupported(
        "no keys to verify tokens with: the provider publishes no jwks_uri and no static JWKS is set"
            .into(),
    )
}

/// The HTTP client for provider calls: the configured one, else one with the configured timeout, no
/// redirects (a provider API answer is never a redirect we should follow), rustls.
fn build_http(config: &ClientConfig) -> Result<reqwest::Client, Error> {
    if let Some(custom) = config.http_client() {
        return Ok(custom.clone());
    }
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
