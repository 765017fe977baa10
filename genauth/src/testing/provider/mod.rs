//! [`TestProvider`]: an in-process OpenID Provider on a loopback port, for tests of sign-in flows.
//!
//! A **test double**, not a production OP: state lives in memory, there is no provider session (every
//! authorization shows the login page or approves at once), and any username signs in. What it does
//! implement, it implements with the protocol's checks, so a flow that passes here has its shapes right:
//!
//! | endpoint | path | checks |
//! | --- | --- | --- |
//! | discovery (OIDC Discovery §4) | `/.well-known/openid-configuration` | — |
//! | JWKS (RFC 7517) | `/jwks` | every key ever used, newest first |
//! | authorization (RFC 6749 §4.1.1) | `/authorize` | known `client_id`; `redirect_uri` exactly registered (else an error page, never a redirect); `response_type=code`; PKCE `S256` only, required for public clients |
//! | token (RFC 6749 §3.2) | `/token` | client authentication (confidential: the secret, by Basic or in the body; public: none); code: single use (a replay revokes what it issued), same client, same `redirect_uri`, unexpired, PKCE verifier; refresh: same client, rotation (a rotated token is refused and revokes the grant), scope no wider; client credentials: confidential clients only |
//! | userinfo (OIDC Core §5.3) | `/userinfo` | an active access token with `openid` scope (`Bearer` header) |
//! | introspection (RFC 7662) | `/introspect` | client authentication; `active: false` for unknown, expired or revoked tokens |
//! | revocation (RFC 7009) | `/revoke` | client authentication; a token of another client is left alone; revoking a refresh token revokes its grant |
//! | end-session (OIDC RP-Initiated Logout 1.0) | `/logout` | `id_token_hint`, if given, issued by this provider (else an error page); `post_logout_redirect_uri` registered for the client named by `client_id` or the hint; ends the hint's provider session, with back-channel logout |
//! | back-channel logout (OIDC Back-Channel Logout 1.0 §2.5) | POST to each client's `backchannel_logout_uri` | a logout token (`typ: logout+jwt`, `iss`, `aud`, `iat`, `exp`, `jti`, `events`, `sub`, `sid`) for each client signed in through the ended provider session; answers recorded |
//!
//! Test controls: claims per user ([`TestProvider::set_user_claims`]), token lifetimes
//! ([`TestProvider::set_lifetimes`]), key rotation ([`TestProvider::rotate_keys`]), an outage switch
//! ([`TestProvider::set_outage`]: every endpoint answers 503 or hangs), and a record of the requests
//! received ([`TestProvider::requests`]), signing a user out at the provider
//! ([`TestProvider::logout_user`], with back-channel logout), and a record of the back-channel
//! deliveries ([`TestProvider::backchannel_deliveries`]).
//!
//! Every sign-in starts a provider session of its own: its ID tokens carry its `sid`, and ending it
//! (end-session with that session's `id_token_hint`, or [`TestProvider::logout_user`]) delivers a
//! logout token to every client registered with [`TestClient::backchannel_logout_uri`] that signed
//! in through it.
//!
//! The server runs as tasks on the Tokio runtime that started it: a test that blocks that runtime's
//! only thread (a blocking HTTP client on `#[tokio::test]`) stops the provider too.
//!
//! ```
//! use genauth::testing::{LoginMode, TestClient, TestProvider};
//! use genauth::{Client, ClientConfig, authorize::AuthorizeParams};
//!
//! # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = TestProvider::builder()
//!     .client(TestClient::confidential("app", "app-secret").redirect_uri("http://app.test/callback"))
//!     .login_mode(LoginMode::AutoApprove) // no login page: approves as `login_hint`, else "test-user"
//!     .start()
//!     .await?;
//! let config = ClientConfig::builder("app")
//!     .client_secret("app-secret")
//!     .issuer(provider.issuer())
//!     .redirect_uri("http://app.test/callback")
//!     .build()?;
//! let client = Client::discover(config).await?;
//!
//! // What a browser would do: follow the authorization URL; the provider redirects back with a code.
//! let request = client.authorization_request(&AuthorizeParams::default())?;
//! let callback = provider.authorize(request.url.as_str()).await?;
//! let code = callback.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
//! let state = client
//!     .login_state_from_code(
//!         code.as_deref().unwrap_or_default(),
//!         request.code_verifier.as_ref(),
//!         request.redirect_uri.as_ref(),
//!         request.nonce.as_ref(),
//!     )
//!     .await?;
//! assert_eq!(state.id_token_claims.and_then(|c| c.sub).as_deref(), Some("test-user"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(doc()).unwrap(); // ok: the doctest runner
//! ```

mod authorize;
mod backchannel;
mod server;
mod state;
mod token;

use crate::config::ClientAuthMethod;
use crate::testing::TestIssuer;
use serde_json::Value;
use state::State;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use url::Url;

/// The username the [`LoginMode::AutoApprove`] mode signs in when the request has no `login_hint`.
pub const DEFAULT_USERNAME: &str = "test-user";

/// Why [`TestProviderBuilder::start`] or [`TestProvider::authorize`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestProviderError {
    /// No Tokio runtime is running: start the provider from `#[tokio::test]` or inside a runtime.
    #[error("the test provider needs a running Tokio runtime (start it from #[tokio::test])")]
    NoRuntime,
    /// Binding a loopback port failed.
    #[error("the test provider could not listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// [`TestProvider::authorize`] got no redirect with a `code` or `error` from the provider.
    #[error("the authorization request was not answered with a redirect: {0}")]
    NoRedirect(String),
    /// [`TestProvider::authorize`] could not reach the provider.
    #[error("the authorization request failed: {0}")]
    Transport(#[source] reqwest::Error),
}

/// How the authorization endpoint signs a user in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginMode {
    /// An HTML login page with one field: any username signs in (a browser test fills it in).
    #[default]
    Page,
    /// No page: approves at once as the request's `login_hint`, else [`DEFAULT_USERNAME`].
    AutoApprove,
}

/// What every endpoint does while an outage is on ([`TestProvider::set_outage`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outage {
    /// Normal service.
    #[default]
    None,
    /// `503 Service Unavailable` with `Retry-After: 1`.
    Unavailable,
    /// No answer until the outage is switched off (clients see their timeout).
    Hang,
}

/// Token lifetimes ([`TestProviderBuilder::lifetimes`], [`TestProvider::set_lifetimes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenLifetimes {
    /// Access tokens (`expires_in`); default one hour.
    pub access_token: Duration,
    /// ID tokens; default one hour.
    pub id_token: Duration,
    /// Refresh tokens; default 14 days.
    pub refresh_token: Duration,
    /// Authorization codes; default one minute.
    pub authorization_code: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access_token: Duration::from_secs(3600),
            id_token: Duration::from_secs(3600),
            refresh_token: Duration::from_secs(14 * 24 * 3600),
            authorization_code: Duration::from_secs(60),
        }
    }
}

impl TokenLifetimes {
    /// These lifetimes with `access_token` changed.
    #[must_use]
    pub fn access_token(mut self, lifetime: Duration) -> Self {
        self.access_token = lifetime;
        self
    }

    /// These lifetimes with `refresh_token` changed.
    #[must_use]
    pub fn refresh_token(mut self, lifetime: Duration) -> Self {
        self.refresh_token = lifetime;
        self
    }
}

/// A client registered at a [`TestProvider`].
#[derive(Clone, Debug)]
pub struct TestClient {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    pub(crate) auth_method: ClientAuthMethod,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) backchannel_logout_uri: Option<String>,
}

impl TestClient {
    /// A confidential client authenticating with `client_secret_basic` (see [`Self::auth_method`]).
    pub fn confidential(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: Some(secret.into()),
            auth_method: ClientAuthMethod::ClientSecretBasic,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
        }
    }

    /// A public client (`none`): PKCE is required, client credentials are refused.
    pub fn public(id: impl Into<String>) -> Self {
        Self {
            secret: None,
            auth_method: ClientAuthMethod::None,
            ..Self::confidential(id, "")
        }
    }

    /// The registered `token_endpoint_auth_method` (a public client stays `none`). Like
    /// `oidc-provider`, the endpoints take a confidential client's secret by either secret method.
    #[must_use]
    pub fn auth_method(mut self, method: ClientAuthMethod) -> Self {
        if self.secret.is_some() && method != ClientAuthMethod::None {
            self.auth_method = method;
        }
        self
    }

    /// Registers a `redirect_uri` (compared exactly, OAuth 2.0 Security BCP §4.1.3).
    #[must_use]
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Registers a `post_logout_redirect_uri` for the end-session endpoint.
    #[must_use]
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// Registers the client's `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0 §2.2; sessions
    /// required: every logout token carries `sid` and `sub`). When a provider session the client
    /// signed in through ends, the provider POSTs a logout token there (see
    /// [`TestProvider::backchannel_deliveries`]).
    #[must_use]
    pub fn backchannel_logout_uri(mut self, uri: impl Into<String>) -> Self {
        self.backchannel_logout_uri = Some(uri.into());
        self
    }

    /// The `client_id`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// One request the provider received ([`TestProvider::requests`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, e.g. `/token`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The headers, names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body (form bodies hold secrets: this is a test double).
    pub body: String,
}

impl RecordedRequest {
    /// The first value of form field `name` in the body.
    pub fn form_value(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// One back-channel logout delivery (OIDC Back-Channel Logout 1.0 §2.5): the logout token the
/// provider POSTed and how the client answered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BackchannelDelivery {
    /// The client it was sent to.
    pub client_id: String,
    /// Its `backchannel_logout_uri`.
    pub uri: String,
    /// The user (`sub` of the token).
    pub sub: String,
    /// The provider session that ended (`sid` of the token).
    pub sid: String,
    /// The logout token sent (a JWT; a test double's record, so it is kept whole).
    pub logout_token: String,
    /// The HTTP status the client answered (§2.8: 200 on success, 400 for a bad token); `None` when
    /// the POST failed (see `error`).
    pub status: Option<u16>,
    /// Why the POST failed (connection refused, a timeout of 5 seconds), if it did.
    pub error: Option<String>,
}

/// Configures a [`TestProvider`] before it starts: [`TestProvider::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct TestProviderBuilder {
    clients: Vec<TestClient>,
    users: Vec<(String, Value)>,
    login_mode: LoginMode,
    lifetimes: TokenLifetimes,
    audience: Option<String>,
}

impl TestProviderBuilder {
    /// Registers a client (several may be).
    pub fn client(mut self, client: TestClient) -> Self {
        self.clients.push(client);
        self
    }

    /// Claims of `username` (a JSON object) over the generated ones (see
    /// [`TestProvider::set_user_claims`]).
    pub fn user(mut self, username: impl Into<String>, claims: Value) -> Self {
        self.users.push((username.into(), claims));
        self
    }

    /// How the authorization endpoint signs users in (default: the login page).
    pub fn login_mode(mut self, mode: LoginMode) -> Self {
        self.login_mode = mode;
        self
    }

    /// Token lifetimes.
    pub fn lifetimes(mut self, lifetimes: TokenLifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// The `aud` of JWT access tokens (default: the client's `client_id`).
    pub fn access_token_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    ///
    /// # Errors
    /// [`TestProviderError::NoRuntime`] outside a Tokio runtime; [`TestProviderError::Bind`].
    pub async fn start(self) -> Result<TestProvider, TestProviderError> {
        tokio::runtime::Handle::try_current().map_err(|_| TestProviderError::NoRuntime)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(TestProviderError::Bind)?;
        let port = listener
            .local_addr()
            .map_err(TestProviderError::Bind)?
            .port();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut state = State::new(issuer.clone(), self.login_mode, self.lifetimes);
        state.audience = self.audience;
        for client in self.clients {
            state.clients.insert(client.id.clone(), client);
        }
        for (username, claims) in self.users {
            state.users.insert(username, claims);
        }
        let (outage, _) = watch::channel(Outage::None);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            outage,
            requests: Mutex::new(Vec::new()),
            deliveries: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(server::serve(listener, shared.clone(), stopped));
        Ok(TestProvider {
            issuer,
            shared,
            stop,
        })
    }
}

/// What the server tasks and the test's handle share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) outage: watch::Sender<Outage>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) deliveries: Mutex<Vec<BackchannelDelivery>>,
}

impl Shared {
    /// The state; a panic in another test thread does not make it unusable.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An in-process OpenID Provider for tests; see the [module docs](self). Stops when dropped.
pub struct TestProvider {
    issuer: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for TestProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestProvider")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl TestProvider {
    /// A builder: clients, users, login mode, lifetimes.
    pub fn builder() -> TestProviderBuilder {
        TestProviderBuilder::default()
    }

    /// Starts a provider with no clients (register them with [`Self::register_client`]) and the
    /// login page.
    ///
    /// # Errors
    /// As [`TestProviderBuilder::start`].
    pub async fn start() -> Result<Self, TestProviderError> {
        Self::builder().start().await
    }

    /// The issuer, `http://127.0.0.1:<port>` (no trailing slash): what `ClientConfig::issuer` takes.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer joined with `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Registers (or replaces) a client while running.
    pub fn register_client(&self, client: TestClient) {
        self.shared
            .state()
            .clients
            .insert(client.id.clone(), client);
    }

    /// Claims of `username` (a JSON object) that replace and add to the generated ones (`name`,
    /// `preferred_username`, `email`, `email_verified`) in ID tokens and userinfo; `sub` stays the
    /// username.
    pub fn set_user_claims(&self, username: &str, claims: Value) {
        self.shared
            .state()
            .users
            .insert(username.to_owned(), claims);
    }

    /// Lifetimes of the tokens issued from now on.
    pub fn set_lifetimes(&self, lifetimes: TokenLifetimes) {
        self.shared.state().lifetimes = lifetimes;
    }

    /// How the authorization endpoint signs users in from now on.
    pub fn set_login_mode(&self, mode: LoginMode) {
        self.shared.state().login_mode = mode;
    }

    /// A new signing key signs everything from now on; older keys stay in the JWKS (tokens they signed
    /// still verify). Returns the new `kid`.
    pub fn rotate_keys(&self) -> String {
        let mut state = self.shared.state();
        let key = TestIssuer::new().with_issuer(self.issuer.clone());
        let kid = key.kid().to_owned();
        state.keys.insert(0, key);
        kid
    }

    /// The `kid` that signs now.
    pub fn signing_kid(&self) -> String {
        self.shared.state().signer().kid().to_owned()
    }

    /// Switches the outage on ([`Outage::Unavailable`], [`Outage::Hang`]) or off ([`Outage::None`]);
    /// hanging requests are answered normally once it is off.
    pub fn set_outage(&self, outage: Outage) {
        self.shared.outage.send_replace(outage);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The requests received so far to `path` (e.g. `/token`).
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        let mut requests = self.requests();
        requests.retain(|r| r.path == path);
        requests
    }

    /// Signs `username` out at the provider, as if they signed out in another application: ends
    /// every provider session of theirs and delivers back-channel logout to each client that signed
    /// in through one (waiting for the answers, at most 5 seconds each). Their tokens stay valid
    /// (as at `oidc-provider`, logout ends sessions, not grants). Returns the deliveries made.
    pub async fn logout_user(&self, username: &str) -> Vec<BackchannelDelivery> {
        let pending = {
            let mut state = self.shared.state();
            let sids = state.sessions_of(username);
            sids.iter()
                .flat_map(|sid| state.end_provider_session(sid))
                .collect()
        };
        backchannel::deliver(&self.shared, pending).await
    }

    /// Every back-channel logout delivery made so far (by end-session requests and
    /// [`Self::logout_user`]), oldest first.
    pub fn backchannel_deliveries(&self) -> Vec<BackchannelDelivery> {
        self.shared
            .deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Follows an authorization URL as a browser would, in [`LoginMode::AutoApprove`] (or signing in
    /// as [`DEFAULT_USERNAME`] on the login page), and returns where the provider redirected: the
    /// client's `redirect_uri` with `code`, `state` and `iss`, or with `error`.
    ///
    /// # Errors
    /// When the provider answers anything but a redirect (an unknown client, a redirect URI mismatch).
    pub async fn authorize(&self, authorization_url: &str) -> Result<Url, TestProviderError> {
        self.authorize_as(authorization_url, DEFAULT_USERNAME).await
    }

    /// [`Self::authorize`], signing in as `username` when the login page is shown.
    ///
    /// # Errors
    /// As [`Self::authorize`].
    pub async fn authorize_as(
        &self,
        authorization_url: &str,
        username: &str,
    ) -> Result<Url, TestProviderError> {
        authorize::follow(self, authorization_url, username).await
    }
}
