//! Logout URLs: CAS logout, OpenID Connect RP-Initiated Logout (`end_session_endpoint`), and GenAuth's
//! universal logout link (`{app_host}/login/profile/logout`), chosen by protocol.

use crate::config::{Protocol, join_path};
use crate::types::IdToken;
use crate::{Client, Error};
use url::Url;

/// Options of a logout URL. All optional (`LogoutParams::default()`).
#[derive(Clone, Debug, Default)]
pub struct LogoutParams {
    /// The signed-in user's ID token, sent as `id_token_hint` (RP-Initiated Logout 1.0 §2); providers
    /// need it (or `client_id`) to honour `post_logout_redirect_uri`.
    pub id_token_hint: Option<IdToken>,
    /// Where the provider sends the browser afterwards; default: the configured logout redirect URI.
    /// Must be registered at the provider.
    pub post_logout_redirect_uri: Option<String>,
    /// `state` echoed back to the post-logout redirect (OIDC only).
    pub state: Option<String>,
}

impl Client {
    /// The URL that ends the user's session at the provider, by protocol:
    /// - OIDC: `{end_session_endpoint}?id_token_hint=&post_logout_redirect_uri=&state=&client_id=`
    ///   (OpenID Connect RP-Initiated Logout 1.0 §2; GenAuth `/oidc/session/end`);
    /// - CAS: `{cas_base_url}/logout?service=&url=` (the redirect in both, as GenAuth's server route
    ///   reads either);
    /// - OAuth 2.0 and SAML (and OIDC at a provider without `end_session_endpoint`): GenAuth's universal
    ///   link `{app_host}/login/profile/logout?redirect_uri=`.
    ///
    /// Every value is URL-encoded. `state` is only sent with a redirect.
    ///
    /// # Errors
    /// [`Error::Config`] when the redirect is not a URL; [`Error::Unsupported`] when the protocol's
    /// logout needs a GenAuth host or CAS base URL that is not configured.
    pub fn logout_url(&self, params: &LogoutParams) -> Result<Url, Error> {
        let redirect = match &params.post_logout_redirect_uri {
            Some(uri) => Some(Url::parse(uri).map_err(|e| {
                Error::Config(crate::ConfigError::Invalid {
                    field: "post_logout_redirect_uri",
                    reason: format!("`{uri}` is not a URL: {e}"),
                })
            })?),
            None => self.config().logout_redirect_uri().cloned(),
        };
        match (
            self.config().protocol(),
            &self.metadata().end_session_endpoint,
        ) {
            (Protocol::Oidc, Some(end_session)) => {
                let mut url = end_session.clone();
                let mut q = url.query_pairs_mut();
                if let Some(hint) = &params.id_token_hint {
                    q.append_pair("id_token_hint", hint.secret());
                }
                if let Some(redirect) = &redirect {
                    q.append_pair("post_logout_redirect_uri", redirect.as_str());
                    // Lets the provider match the redirect without an ID token (§2 `client_id`).
                    q.append_pair("client_id", self.config().client_id().as_str());
                    if let Some(state) = &params.state {
                        q.append_pair("state", state);
                    }
                }
                drop(q);
                Ok(strip_empty_query(url))
            }
            (Protocol::Cas, _) => {
                let mut url = self.cas_endpoint("logout")?;
                if let Some(redirect) = &redirect {
                    url.query_pairs_mut()
                        .append_pair("service", redirect.as_str())
                        .append_pair("url", redirect.as_str());
                }
                Ok(url)
            }
            _ => {
                let host = self.config().app_host().ok_or_else(|| {
                    Error::Unsupported(
                        "the provider has no end_session_endpoint and no GenAuth app host is set"
                            .into(),
                    )
                })?;
                let mut url = join_path(host, "login/profile/logout")
                    .map_err(|e| Error::Unsupported(e.to_string()))?;
                if let Some(redirect) = &redirect {
                    url.query_pairs_mut()
                        .append_pair("redirect_uri", redirect.as_str());
                }
                Ok(url)
            }
        }
    }
}

/// `query_pairs_mut` leaves a bare `?` when nothing was appended.
fn strip_empty_query(mut url: Url) -> Url {
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;

    fn client(protocol: Protocol, logout_redirect: bool) -> Client {
        let mut b = ClientConfig::builder("app1")
            .client_secret("s")
            .app_host("https://example.genauth.ai")
            .protocol(protocol);
        if logout_redirect {
            b = b.logout_redirect_uri("http://127.0.0.1:3000/?a=1&b=2");
        }
        Client::new(b.build().unwrap()).unwrap()
    }

    #[test]
    fn oidc_rp_initiated_logout() {
        let params = LogoutParams {
            id_token_hint: Some(IdToken::new("h.p.s")),
            state: Some("xyz".into()),
            ..Default::default()
        };
        let url = client(Protocol::Oidc, true).logout_url(&params).unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.genauth.ai/oidc/session/end?id_token_hint=h.p.s&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2F%3Fa%3D1%26b%3D2&client_id=app1&state=xyz"
        );
        // No redirect: no state, no dangling `?`.
        let url = client(Protocol::Oidc, false)
            .logout_url(&LogoutParams {
                state: Some("xyz".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(url.as_str(), "https://example.genauth.ai/oidc/session/end");
    }

    #[test]
    fn cas_logout() {
        let url = client(Protocol::Cas, true)
            .logout_url(&LogoutParams::default())
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://example.genauth.ai/cas-idp/app1/logout?service=http%3A%2F%2F127.0.0.1%3A3000%2F%3Fa%3D1%26b%3D2&url=http%3A%2F%2F127.0.0.1%3A3000%2F%3Fa%3D1%26b%3D2"
        );
    }

    #[test]
    fn universal_logout_for_oauth_and_saml() {
        for protocol in [Protocol::OAuth2, Protocol::Saml] {
            let url = client(protocol, true)
                .logout_url(&LogoutParams {
                    post_logout_redirect_uri: Some("https://app.example/bye".into()),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(
                url.as_str(),
                "https://example.genauth.ai/login/profile/logout?redirect_uri=https%3A%2F%2Fapp.example%2Fbye"
            );
        }
        assert!(matches!(
            client(Protocol::Oidc, false).logout_url(&LogoutParams {
                post_logout_redirect_uri: Some("not a url".into()),
                ..Default::default()
            }),
            Err(Error::Config(_))
        ));
    }
}
