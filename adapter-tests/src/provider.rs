//! A mock OpenID Provider (wiremock) whose ID tokens are signed by a
//! [`genauth::testing::TestIssuer`], and the client configured for it.

use genauth::testing::TestIssuer;
use genauth::{Client, ClientConfig, Protocol, ProviderMetadata};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The app's callback URL (loopback: cookies without `Secure`).
pub const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";

/// Where the provider sends the browser after logout.
pub const LOGOUT_REDIRECT_URI: &str = "http://127.0.0.1:3000/";

/// A CAS 2.0 `serviceValidate` success for `alice`.
pub const CAS_SUCCESS: &str = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>alice</cas:user>
    <cas:attributes><cas:email>alice@example.com</cas:email></cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>"#;

/// A CAS 2.0 `serviceValidate` failure.
pub const CAS_FAILURE: &str = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="INVALID_TICKET">Ticket ST-bad not recognized</cas:authenticationFailure>
</cas:serviceResponse>"#;

/// The provider session (`sid`) of the ID tokens [`MockProvider::mount_code_exchange`] mints.
pub const SID: &str = "op-session-1";

/// The mock provider: endpoints `/auth`, `/token`, `/me` (UserInfo), `/revoke`, `/session/end`,
/// CAS under `/cas`; nothing mounted until a scenario mounts it.
pub struct MockProvider {
    /// The server.
    pub server: MockServer,
    /// Signs its ID tokens (issuer: the server, audience `app1`).
    pub issuer: TestIssuer,
    /// A confidential client `app1` for it, redirect URI [`REDIRECT_URI`], keys from the issuer.
    pub client: Client,
}

impl MockProvider {
    /// A provider for `protocol` (`openid profile offline_access`, or `user` for OAuth 2.0).
    ///
    /// # Panics
    /// When the mock server cannot start or the client configuration is refused.
    pub async fn start(protocol: Protocol) -> Self {
        let server = MockServer::start().await;
        let uri = server.uri();
        let issuer = TestIssuer::new().with_issuer(&uri).with_audience("app1");
        let metadata: ProviderMetadata = serde_json::from_value(json!({
            "issuer": uri,
            "authorization_endpoint": format!("{uri}/auth"),
            "token_endpoint": format!("{uri}/token"),
            "userinfo_endpoint": format!("{uri}/me"),
            "revocation_endpoint": format!("{uri}/revoke"),
            "end_session_endpoint": format!("{uri}/session/end"),
        }))
        .expect("provider metadata");
        let scope = if protocol == Protocol::OAuth2 {
            "user"
        } else {
            "openid profile offline_access"
        };
        let config = ClientConfig::builder("app1")
            .client_secret("app-secret")
            .issuer(&uri)
            .redirect_uri(REDIRECT_URI)
            .logout_redirect_uri(LOGOUT_REDIRECT_URI)
            .scope(scope)
            .protocol(protocol)
            .cas_base_url(format!("{uri}/cas"))
            .static_jwks(issuer.jwks())
            .build()
            .expect("client configuration");
        let client = Client::with_metadata(config, metadata).expect("client");
        Self {
            server,
            issuer,
            client,
        }
    }

    /// The token endpoint answers the code `the-code` (with a PKCE verifier) with an access token
    /// `at-1` valid `expires_in` seconds, `refresh_token`, and an ID token for `u-1` (Ada Lovelace)
    /// carrying `nonce` and the provider session [`SID`].
    pub async fn mount_code_exchange(&self, nonce: &str, expires_in: u64, refresh_token: &str) {
        let id_token = self.issuer.mint(json!({
            "sub": "u-1", "nonce": nonce, "name": "Ada Lovelace", "email": "ada@example.com",
            "sid": SID
        }));
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains("grant_type=authorization_code"))
            .and(body_string_contains("code=the-code"))
            .and(body_string_contains("code_verifier="))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "at-1", "token_type": "Bearer", "expires_in": expires_in,
                "refresh_token": refresh_token, "id_token": id_token,
                "scope": "openid profile offline_access"
            })))
            .mount(&self.server)
            .await;
    }

    /// The token endpoint answers any refresh grant (RFC 6749 §6) with `access_token` (valid an
    /// hour) and `refresh_token`, at most once.
    pub async fn mount_refresh_once(&self, access_token: &str, refresh_token: &str) {
        Mock::given(method("POST"))
            .and(path("/token"))
            .and(body_string_contains("grant_type=refresh_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": refresh_token
            })))
            .up_to_n_times(1)
            .mount(&self.server)
            .await;
    }
}
