//! Authorization URLs: where a browser is sent to sign in, for each [`Protocol`].
//!
//! - OIDC: `GET {authorization_endpoint}` (GenAuth `/oidc/auth`) with `state`, `nonce` and PKCE `S256`
//!   (OpenID Connect Core §3.1.2.1, RFC 7636).
//! - OAuth 2.0: `GET /oauth/auth` (RFC 6749 §4.1.1) with `state` and PKCE.
//! - SAML: `GET {app_host}/api/v2/saml-idp/{app_id}` (GenAuth as SAML IdP).
//! - CAS: `GET {cas_base_url}/login?service=` (CAS protocol 3.0 §2.1).

use crate::config::{Protocol, join_path};
use crate::pkce::PkceMethod;
use crate::types::{CodeVerifier, CsrfState, Nonce, random_token};
use crate::{Client, Error};
use url::Url;

/// Options of one authorization request. Every field has a safe default (`AuthorizeParams::default()`).
#[derive(Clone, Debug)]
pub struct AuthorizeParams {
    /// `redirect_uri` (for CAS: the `service`); default: the configured redirect URI.
    pub redirect_uri: Option<String>,
    /// `scope`; default: the configured scope.
    pub scope: Option<String>,
    /// `response_type`; default `code`.
    pub response_type: Option<String>,
    /// `response_mode` (`query`, `fragment`, `form_post`); omitted unless set.
    pub response_mode: Option<String>,
    /// `prompt` (`none`, `login`, `consent`, `select_account`); when unset, `login` if `forced`, else
    /// `consent` when `offline_access` is one of the scope tokens (needed for a refresh token).
    pub prompt: Option<String>,
    /// Force a fresh login at the provider (`prompt=login`).
    pub forced: bool,
    /// `state`; default: 256 random bits from the OS CSPRNG.
    pub state: Option<CsrfState>,
    /// `nonce` (OIDC only); default: 256 random bits from the OS CSPRNG.
    pub nonce: Option<Nonce>,
    /// Send a PKCE challenge (OIDC and OAuth 2.0); default `true`.
    pub pkce: bool,
    /// The PKCE method; default `S256`.
    pub pkce_method: PkceMethod,
    /// Extra query parameters for this request (added after the configured ones); parameters this
    /// module sets itself are never overridden.
    pub extra: Vec<(String, String)>,
}

impl Default for AuthorizeParams {
    fn default() -> Self {
        Self {
            redirect_uri: None,
            scope: None,
            response_type: None,
            response_mode: None,
            prompt: None,
            forced: false,
            state: None,
            nonce: None,
            pkce: true,
            pkce_method: PkceMethod::S256,
            extra: Vec::new(),
        }
    }
}

/// A ready authorization URL plus what the callback must check. Keep `state`, `nonce` and
/// `code_verifier` server-side or in a sealed cookie until the callback.
///
/// `Debug` prints the URL without its query (which carries `state` and `nonce`).
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// Where to send the browser.
    pub url: Url,
    /// The `state` to compare with the callback's (`None` for SAML and CAS, which have none).
    pub state: Option<CsrfState>,
    /// The `nonce` the ID token must carry (OIDC only).
    pub nonce: Option<Nonce>,
    /// The PKCE verifier to send with the code exchange.
    pub code_verifier: Option<CodeVerifier>,
    /// The `redirect_uri` used (CAS: the `service`); the code exchange must send the same one.
    pub redirect_uri: Option<Url>,
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut endpoint = self.url.clone();
        endpoint.set_query(None);
        f.debug_struct("AuthorizationRequest")
            .field("url", &format_args!("{endpoint}?[redacted]"))
            .field("state", &self.state)
            .field("nonce", &self.nonce)
            .field("code_verifier", &self.code_verifier)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// Parameters this module sets itself; configured or per-call extras cannot override them.
const RESERVED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "service",
    "resource",
];

impl Client {
    /// Builds the authorization URL for the configured protocol.
    ///
    /// # Errors
    /// [`Error::Config`] when no redirect URI is configured or given (OIDC, OAuth 2.0, CAS), or it is not
    /// a URL; [`Error::Unsupported`] for SAML or CAS without a GenAuth host / CAS base URL;
    /// [`Error::Random`] if the OS random number generator fails.
    pub fn authorization_request(
        &self,
        params: &AuthorizeParams,
    ) -> Result<AuthorizationRequest, Error> {
        match self.config().protocol() {
            Protocol::Oidc | Protocol::OAuth2 => self.oauth_authorization_request(params),
            Protocol::Saml => self.saml_login_url().map(|url| AuthorizationRequest {
                url,
                state: None,
                nonce: None,
                code_verifier: None,
                redirect_uri: None,
            }),
            Protocol::Cas => {
                let service = self.redirect_uri(params.redirect_uri.as_deref())?;
                Ok(AuthorizationRequest {
                    url: self.cas_login_url(&service, &params.extra)?,
                    state: None,
                    nonce: None,
                    code_verifier: None,
                    redirect_uri: Some(service),
                })
            }
        }
    }

    /// The per-call redirect URI, or the configured one.
    pub(crate) fn redirect_uri(&self, given: Option<&str>) -> Result<Url, Error> {
        match given {
            Some(uri) => Url::parse(uri).map_err(|e| {
                Error::Config(crate::ConfigError::Invalid {
                    field: "redirect_uri",
                    reason: format!("`{uri}` is not a URL: {e}"),
                })
            }),
            None => self
                .config()
                .redirect_uri()
                .cloned()
                .ok_or(Error::Config(crate::ConfigError::Missing("redirect_uri"))),
        }
    }

    fn oauth_authorization_request(
        &self,
        params: &AuthorizeParams,
    ) -> Result<AuthorizationRequest, Error> {
        let config = self.config();
        let oidc = config.protocol() == Protocol::Oidc;
        let redirect_uri = self.redirect_uri(params.redirect_uri.as_deref())?;
        let scope = params.scope.as_deref().unwrap_or(config.scope());
        let state = match &params.state {
            Some(s) => s.clone(),
            None => CsrfState::new(random_token(32).ok_or(Error::Random)?),
        };
        let nonce = match (&params.nonce, oidc) {
            (Some(n), true) => Some(n.clone()),
            (None, true) => Some(Nonce::new(random_token(32).ok_or(Error::Random)?)),
            (_, false) => None,
        };
        let code_verifier = if params.pkce {
            Some(CodeVerifier::generate()?)
        } else {
            None
        };
        // OpenID Connect Core §11: a refresh token for `offline_access` needs `prompt=consent`.
        let prompt = params.prompt.clone().or_else(|| {
            if params.forced {
                Some("login".to_owned())
            } else if oidc && scope.split_whitespace().any(|s| s == "offline_access") {
                Some("consent".to_owned())
            } else {
                None
            }
        });

        let mut url = self.metadata().authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", config.client_id().as_str())
                .append_pair("redirect_uri", redirect_uri.as_str())
                .append_pair(
                    "response_type",
                    params.response_type.as_deref().unwrap_or("code"),
                )
                .append_pair("scope", scope)
                .append_pair("state", state.secret());
            if let Some(mode) = &params.response_mode {
                q.append_pair("response_mode", mode);
            }
            if let Some(nonce) = &nonce {
                q.append_pair("nonce", nonce.secret());
            }
            if let Some(prompt) = &prompt {
                q.append_pair("prompt", prompt);
            }
            if let Some(verifier) = &code_verifier {
                q.append_pair("code_challenge", &verifier.challenge(params.pkce_method))
                    .append_pair("code_challenge_method", params.pkce_method.as_str());
            }
            for resource in config.resources() {
                q.append_pair("resource", resource);
            }
            for (name, value) in config
                .extra_authorization_params()
                .iter()
                .chain(&params.extra)
                .filter(|(name, _)| !RESERVED.contains(&name.as_str()))
            {
                q.append_pair(name, value);
            }
        }
        Ok(AuthorizationRequest {
            url,
            state: Some(state),
            nonce,
            code_verifier,
            redirect_uri: Some(redirect_uri),
        })
    }

    /// The SAML IdP login URL, `{app_host}/api/v2/saml-idp/{app_id}` (GenAuth as SAML 2.0 IdP).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a GenAuth app host.
    pub fn saml_login_url(&self) -> Result<Url, Error> {
        let host = self
            .config()
            .app_host()
            .ok_or_else(|| Error::Unsupported("SAML login links need a GenAuth app host".into()))?;
        let path = format!("api/v2/saml-idp/{}", self.config().client_id());
        join_path(host, &path).map_err(|e| Error::Unsupported(e.to_string()))
    }

    /// The CAS login URL `{cas_base_url}/login?service=<service>` (CAS protocol 3.0 §2.1), with
    /// optional extras such as `renew=true` or `gateway=true`. `service` is URL-encoded.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a CAS base URL (configured, or derived from a GenAuth host).
    pub fn cas_login_url(&self, service: &Url, extra: &[(String, String)]) -> Result<Url, Error> {
        let mut url = self.cas_endpoint("login")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("service", service.as_str());
            for (name, value) in extra.iter().filter(|(n, _)| n != "service") {
                q.append_pair(name, value);
            }
        }
        Ok(url)
    }

    /// `{cas_base_url}/{path}`.
    pub(crate) fn cas_endpoint(&self, path: &str) -> Result<Url, Error> {
        let base = self.config().cas_base_url().ok_or_else(|| {
            Error::Unsupported("CAS needs a CAS base URL or a GenAuth app host".into())
        })?;
        join_path(&base, path).map_err(|e| Error::Unsupported(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;
    use std::collections::HashMap;

    fn client(protocol: Protocol, scope: Option<&str>) -> Client {
        let mut b = ClientConfig::builder("app1")
            .client_secret("secret")
            .app_host("https://example.genauth.ai")
            .redirect_uri("http://127.0.0.1:3000/callback")
            .protocol(protocol)
            .resource("urn:api")
            .authorization_param("resource", "ignored:reserved");
        if let Some(scope) = scope {
            b = b.scope(scope);
        }
        Client::new(b.build().unwrap()).unwrap()
    }

    fn query(url: &Url) -> HashMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn oidc_url_has_every_parameter() {
        let c = client(Protocol::Oidc, Some("openid profile offline_access"));
        let req = c
            .authorization_request(&AuthorizeParams::default())
            .unwrap();
        assert_eq!(req.url.path(), "/oidc/auth");
        let q = query(&req.url);
        assert_eq!(q["client_id"], "app1");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:3000/callback");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["scope"], "openid profile offline_access");
        assert_eq!(q["state"], req.state.as_ref().unwrap().secret());
        assert_eq!(q["nonce"], req.nonce.as_ref().unwrap().secret());
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            q["code_challenge"],
            req.code_verifier
                .as_ref()
                .unwrap()
                .challenge(PkceMethod::S256)
        );
        assert_eq!(q["resource"], "urn:api");
        assert!(!q.contains_key("response_mode"));
        assert_eq!(req.state.as_ref().unwrap().secret().len(), 43);
        // Spaces are encoded, never raw.
        assert!(!req.url.as_str().contains(' '));
        // Debug shows neither state nor nonce.
        let debug = format!("{req:?}");
        assert!(!debug.contains(req.state.as_ref().unwrap().secret()));
        assert!(!debug.contains(req.nonce.as_ref().unwrap().secret()));
    }

    #[test]
    fn prompt_rules() {
        let c = client(Protocol::Oidc, None);
        let q = query(
            &c.authorization_request(&AuthorizeParams::default())
                .unwrap()
                .url,
        );
        assert!(!q.contains_key("prompt"));
        let forced = AuthorizeParams {
            forced: true,
            ..Default::default()
        };
        let q = query(&c.authorization_request(&forced).unwrap().url);
        assert_eq!(q["prompt"], "login");
        // A substring is not a scope token.
        let c = client(Protocol::Oidc, Some("openid not_offline_access"));
        let q = query(
            &c.authorization_request(&AuthorizeParams::default())
                .unwrap()
                .url,
        );
        assert!(!q.contains_key("prompt"));
    }

    #[test]
    fn explicit_values_and_reserved_extras() {
        let c = client(Protocol::Oidc, None);
        let params = AuthorizeParams {
            redirect_uri: Some("https://app.example/cb?x=1&y=2".into()),
            response_mode: Some("form_post".into()),
            state: Some(CsrfState::new("st")),
            nonce: Some(Nonce::new("no")),
            pkce_method: PkceMethod::Plain,
            extra: vec![
                ("state".into(), "evil".into()),
                ("tenant_id".into(), "t1".into()),
            ],
            ..Default::default()
        };
        let req = c.authorization_request(&params).unwrap();
        let q = query(&req.url);
        assert_eq!(q["redirect_uri"], "https://app.example/cb?x=1&y=2");
        assert_eq!(q["response_mode"], "form_post");
        assert_eq!(q["state"], "st");
        assert_eq!(q["nonce"], "no");
        assert_eq!(q["code_challenge_method"], "plain");
        assert_eq!(q["tenant_id"], "t1");
        assert_eq!(
            req.url.query_pairs().filter(|(k, _)| k == "state").count(),
            1
        );
    }

    #[test]
    fn oauth2_url() {
        let c = client(Protocol::OAuth2, None);
        let req = c
            .authorization_request(&AuthorizeParams::default())
            .unwrap();
        assert_eq!(
            req.url.as_str().split('?').next().unwrap(),
            "https://example.genauth.ai/oauth/auth"
        );
        let q = query(&req.url);
        assert_eq!(q["scope"], "user");
        assert!(req.nonce.is_none() && !q.contains_key("nonce"));
        assert!(q.contains_key("state"));
    }

    #[test]
    fn saml_and_cas_urls() {
        let c = client(Protocol::Saml, None);
        let req = c
            .authorization_request(&AuthorizeParams::default())
            .unwrap();
        assert_eq!(
            req.url.as_str(),
            "https://example.genauth.ai/api/v2/saml-idp/app1"
        );
        let c = client(Protocol::Cas, None);
        let req = c
            .authorization_request(&AuthorizeParams::default())
            .unwrap();
        assert_eq!(
            req.url.as_str(),
            "https://example.genauth.ai/cas-idp/app1/login?service=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback"
        );
        assert_eq!(
            req.redirect_uri.unwrap().as_str(),
            "http://127.0.0.1:3000/callback"
        );
    }

    #[test]
    fn missing_redirect_uri_is_a_config_error() {
        let c = Client::new(
            ClientConfig::builder("a")
                .client_secret("s")
                .app_host("h.example")
                .build()
                .unwrap(),
        )
        .unwrap();
        assert!(matches!(
            c.authorization_request(&AuthorizeParams::default()),
            Err(Error::Config(crate::ConfigError::Missing("redirect_uri")))
        ));
    }
}
