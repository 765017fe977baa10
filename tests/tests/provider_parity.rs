//! `genauth::testing::TestProvider` (the in-process test double) against the real `oidc-provider`:
//! the same client flows, run by the same code, must pass against both. Each test runs its flow
//! twice, once per provider; a difference in shape or in a check fails the test for that provider.

use genauth::authorize::AuthorizeParams;
use genauth::introspection::TokenTypeHint;
use genauth::logout::LogoutParams;
use genauth::testing::{TestClient, TestProvider};
use genauth::token::LoginState;
use genauth::validator::TokenValidator;
use genauth::{Client, ClientAuthMethod, ClientConfig, ClientSecret, CodeVerifier, RefreshToken};
use genauth_tests::flows::{finish_sign_in, query_param};
use genauth_tests::op::{self, TEST_API, TestOp};
use serde_json::json;
use url::Url;

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const OTHER_REDIRECT_URI: &str = "http://127.0.0.1:9/other-callback";
const LOGOUT_URI: &str = "http://127.0.0.1:9/logged-out";

/// The three clients, as (id, secret, method).
const CLIENTS: [(&str, Option<&str>, ClientAuthMethod); 3] = [
    (
        "basic",
        Some("basic-secret"),
        ClientAuthMethod::ClientSecretBasic,
    ),
    (
        "post",
        Some("post-secret"),
        ClientAuthMethod::ClientSecretPost,
    ),
    ("public", None, ClientAuthMethod::None),
];

/// One of the two providers, with the same clients registered.
enum Provider {
    Real(Box<TestOp>),
    Double(TestProvider),
}

impl Provider {
    async fn real() -> Self {
        let clients = CLIENTS
            .iter()
            .map(|(id, secret, method)| {
                let mut c = op::client(
                    id,
                    secret.unwrap_or_default(),
                    method.as_str(),
                    &[REDIRECT_URI, OTHER_REDIRECT_URI],
                );
                c["post_logout_redirect_uris"] = json!([LOGOUT_URI]);
                c
            })
            .collect();
        let mut config = op::config_with_clients(clients);
        config["rotateRefreshToken"] = json!(true);
        Self::Real(Box::new(TestOp::start(config).await))
    }

    async fn double() -> Self {
        let mut builder = TestProvider::builder();
        for (id, secret, method) in CLIENTS {
            let client = match secret {
                Some(secret) => TestClient::confidential(id, secret).auth_method(method),
                None => TestClient::public(id),
            };
            builder = builder.client(
                client
                    .redirect_uri(REDIRECT_URI)
                    .redirect_uri(OTHER_REDIRECT_URI)
                    .post_logout_redirect_uri(LOGOUT_URI),
            );
        }
        Self::Double(builder.start().await.expect("TestProvider starts"))
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Real(_) => "oidc-provider",
            Self::Double(_) => "TestProvider",
        }
    }

    fn issuer(&self) -> &str {
        match self {
            Self::Real(op) => &op.issuer,
            Self::Double(p) => p.issuer(),
        }
    }

    /// Signs `login` in through the provider's login (and consent) pages; the callback URL.
    async fn authorize(&self, url: &str, login: &str) -> Url {
        match self {
            Self::Real(op) => op.browser().login_and_consent(url, login).await.url,
            Self::Double(p) => p
                .authorize_as(url, login)
                .await
                .expect("a redirect to the client"),
        }
    }

    /// Follows an end-session URL (confirming on the real provider's page); where it lands.
    async fn logout(&self, url: &str) -> Url {
        match self {
            Self::Real(op) => op.browser().confirm_logout(url).await.url,
            Self::Double(_) => {
                let http = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                let response = http.get(url).send().await.unwrap();
                let location = response.headers()["location"].to_str().unwrap();
                Url::parse(location).unwrap()
            }
        }
    }

    async fn client(&self, index: usize, resource: bool) -> Client {
        let (id, secret, method) = CLIENTS[index];
        let mut b = ClientConfig::builder(id)
            .issuer(self.issuer())
            .redirect_uri(REDIRECT_URI)
            .logout_redirect_uri(LOGOUT_URI)
            .scope("openid profile email offline_access")
            .auth_method(method);
        if let Some(secret) = secret {
            b = b.client_secret(secret);
        }
        if resource {
            b = b.resource(TEST_API);
        }
        Client::discover(b.build().unwrap()).await.unwrap()
    }
}

/// The code of a fresh authorization, the request that produced it.
async fn code(
    provider: &Provider,
    client: &Client,
    login: &str,
) -> (String, genauth::authorize::AuthorizationRequest) {
    let request = client
        .authorization_request(&AuthorizeParams::default())
        .unwrap();
    let callback = provider.authorize(request.url.as_str(), login).await;
    let who = provider.name();
    assert_eq!(query_param(&callback, "error"), None, "{who}: {callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        request.state.as_ref().map(|s| s.secret()),
        "{who}"
    );
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(provider.issuer()),
        "{who}: RFC 9207 iss"
    );
    (query_param(&callback, "code").expect("code"), request)
}

async fn sign_in(provider: &Provider, client: &Client, login: &str) -> LoginState {
    let (code, request) = code(provider, client, login).await;
    finish_sign_in(client, &request, &code)
        .await
        .unwrap_or_else(|e| panic!("{}: sign-in failed: {e:?}", provider.name()))
}

async fn both(flow: impl AsyncFn(&Provider)) {
    for provider in [Provider::double().await, Provider::real().await] {
        flow(&provider).await;
    }
}

#[tokio::test]
async fn code_exchange_with_pkce_for_every_client_authentication() {
    both(async |p: &Provider| {
        for (index, (id, _, _)) in CLIENTS.iter().enumerate() {
            let client = p.client(index, false).await;
            let state = sign_in(p, &client, "alice").await;
            let claims = state.id_token_claims.clone().expect("verified ID token");
            assert_eq!(claims.sub.as_deref(), Some("alice"), "{}", p.name());
            assert_eq!(claims.aud, vec![*id], "{}", p.name());
            assert!(
                state.refresh_token.is_some(),
                "{}: offline_access gives a refresh token",
                p.name()
            );
            assert!(state.expires_in_secs.is_some(), "{}", p.name());
        }
    })
    .await;
}

#[tokio::test]
async fn code_checks_single_use_verifier_redirect_uri_and_client_secret() {
    both(async |p: &Provider| {
        let who = p.name();
        let client = p.client(0, false).await;
        // RFC 6749 §4.1.2: a code works once.
        let (code, request) = code(p, &client, "bob").await;
        let exchange = |verifier: Option<CodeVerifier>, redirect: Option<Url>| {
            let (client, code) = (client.clone(), code.clone());
            async move {
                client
                    .exchange_code(&code, verifier.as_ref(), redirect.as_ref())
                    .await
            }
        };
        let first = exchange(request.code_verifier.clone(), None).await;
        assert!(first.is_ok(), "{who}: {first:?}");
        let replay = exchange(request.code_verifier.clone(), None)
            .await
            .unwrap_err();
        assert_eq!(
            replay.oauth_error(),
            Some("invalid_grant"),
            "{who}: replayed code"
        );

        // RFC 7636 §4.6: the verifier must match the challenge.
        let (code, _) = self::code(p, &client, "bob").await;
        let wrong = CodeVerifier::generate().unwrap();
        let err = client
            .exchange_code(&code, Some(&wrong), None)
            .await
            .unwrap_err();
        assert_eq!(
            err.oauth_error(),
            Some("invalid_grant"),
            "{who}: wrong verifier"
        );

        // RFC 6749 §4.1.3: the same redirect_uri as the authorization request (another registered one fails).
        let (code, request) = self::code(p, &client, "bob").await;
        let other = Url::parse(OTHER_REDIRECT_URI).unwrap();
        let err = client
            .exchange_code(&code, request.code_verifier.as_ref(), Some(&other))
            .await
            .unwrap_err();
        assert_eq!(
            err.oauth_error(),
            Some("invalid_grant"),
            "{who}: other redirect_uri"
        );

        // RFC 6749 §2.3.1: a wrong secret is invalid_client, 401.
        let config = ClientConfig::builder("basic")
            .issuer(p.issuer())
            .redirect_uri(REDIRECT_URI)
            .client_secret("wrong-secret")
            .auth_method(ClientAuthMethod::ClientSecretBasic)
            .build()
            .unwrap();
        let impostor = Client::discover(config).await.unwrap();
        let (code, request) = self::code(p, &client, "bob").await;
        let err = impostor
            .exchange_code(&code, request.code_verifier.as_ref(), None)
            .await
            .unwrap_err();
        assert_eq!(
            err.oauth_error(),
            Some("invalid_client"),
            "{who}: wrong secret"
        );
        assert!(
            matches!(err, genauth::Error::OAuth { status: 401, .. }),
            "{who}: {err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_a_rotated_token_is_refused() {
    both(async |p: &Provider| {
        let who = p.name();
        for index in [0, 2] {
            let client = p.client(index, false).await;
            let state = sign_in(p, &client, "carol").await;
            let old = state.refresh_token.clone().unwrap();
            let refreshed = client.refresh_login_state(&old).await.unwrap();
            assert_ne!(refreshed.access_token, state.access_token, "{who}");
            assert_ne!(
                refreshed.refresh_token.as_ref(),
                Some(&old),
                "{who}: rotated"
            );
            assert_eq!(
                refreshed.id_token_claims.unwrap().sub.as_deref(),
                Some("carol"),
                "{who}"
            );
            let err = client.refresh_token(&old).await.unwrap_err();
            assert_eq!(
                err.oauth_error(),
                Some("invalid_grant"),
                "{who}: rotated token reused"
            );
            let err = client
                .refresh_token(&RefreshToken::new("made-up"))
                .await
                .unwrap_err();
            assert_eq!(
                err.oauth_error(),
                Some("invalid_grant"),
                "{who}: unknown token"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn userinfo_introspection_revocation_and_logout() {
    both(async |p: &Provider| {
        let who = p.name();
        let client = p.client(1, false).await;
        let state = sign_in(p, &client, "dave").await;
        let user = client.userinfo(&state.access_token).await.unwrap();
        assert_eq!(user.sub, "dave", "{who}");
        assert!(user.email.is_some(), "{who}: scope email");

        let at = state.access_token.secret();
        let active = client
            .introspect(at, Some(TokenTypeHint::AccessToken))
            .await
            .unwrap();
        assert!(active.active, "{who}");
        assert_eq!(active.claims.sub.as_deref(), Some("dave"), "{who}");
        assert_eq!(active.claims.client_id.as_deref(), Some("post"), "{who}");
        let refresh = state.refresh_token.clone().unwrap();
        assert!(
            client
                .introspect(refresh.secret(), None)
                .await
                .unwrap()
                .active,
            "{who}"
        );
        assert!(
            !client
                .introspect("garbage-token", None)
                .await
                .unwrap()
                .active,
            "{who}"
        );

        client
            .revoke(at, Some(TokenTypeHint::AccessToken))
            .await
            .unwrap();
        assert!(
            !client.introspect(at, None).await.unwrap().active,
            "{who}: revoked"
        );
        assert!(
            client.userinfo(&state.access_token).await.is_err(),
            "{who}: revoked"
        );
        // RFC 7009 §2.2: an unknown token is not an error.
        client.revoke("garbage-token", None).await.unwrap();

        // RP-Initiated Logout: back to the registered URI with our state.
        let url = client
            .logout_url(&LogoutParams {
                id_token_hint: state.id_token.clone(),
                state: Some("bye".into()),
                ..Default::default()
            })
            .unwrap();
        let landed = p.logout(url.as_str()).await;
        assert_eq!(landed.as_str().split('?').next(), Some(LOGOUT_URI), "{who}");
        assert_eq!(
            query_param(&landed, "state").as_deref(),
            Some("bye"),
            "{who}"
        );
    })
    .await;
}

#[tokio::test]
async fn client_credentials() {
    both(async |p: &Provider| {
        let who = p.name();
        let client = p.client(0, true).await;
        let m2m = client
            .client_credentials("basic", &ClientSecret::new("basic-secret"), "api:read")
            .await
            .unwrap_or_else(|e| panic!("{who}: {e:?}"));
        assert!(
            m2m.id_token.is_none() && m2m.refresh_token.is_none(),
            "{who}"
        );
        assert!(m2m.expires_in.is_some(), "{who}");
        // RFC 8707: the resource asked for is the JWT access token's audience.
        let validator = client.jwks_validator([TEST_API]).unwrap();
        let claims = validator.validate(m2m.access_token.secret()).await;
        let claims = claims.unwrap_or_else(|e| panic!("{who}: JWT access token: {e:?}"));
        assert_eq!(claims.client_id.as_deref(), Some("basic"), "{who}");
        assert!(claims.has_scope("api:read"), "{who}");
        let err = client
            .client_credentials("basic", &ClientSecret::new("wrong"), "api:read")
            .await
            .unwrap_err();
        assert_eq!(err.oauth_error(), Some("invalid_client"), "{who}");
        // A public client has no secret to present.
        let err = client
            .client_credentials("public", &ClientSecret::new(""), "api:read")
            .await
            .unwrap_err();
        // oidc-provider: invalid_request; TestProvider: unauthorized_client (RFC 6749 §5.2).
        assert!(
            matches!(
                err.oauth_error(),
                Some("invalid_client" | "unauthorized_client" | "invalid_request")
            ),
            "{who}: {err:?}"
        );
    })
    .await;
}

/// Collects the bodies POSTed to `/backchannel-logout` on a loopback port of its own.
struct LogoutReceiver {
    uri: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LogoutReceiver {
    async fn start() -> Self {
        use genauth_axum::axum::{Router, extract::State, routing::post};
        type Bodies = std::sync::Arc<std::sync::Mutex<Vec<String>>>;
        let bodies = Bodies::default();
        let app = Router::new()
            .route(
                "/backchannel-logout",
                post(|State(bodies): State<Bodies>, body: String| async move {
                    bodies.lock().unwrap().push(body);
                }),
            )
            .with_state(bodies.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { genauth_axum::axum::serve(listener, app).await });
        Self {
            uri: format!("http://127.0.0.1:{port}/backchannel-logout"),
            bodies,
        }
    }

    /// The `logout_token` of the one POST received (waiting up to 5 s for it).
    async fn logout_token(&self, who: &str) -> String {
        for _ in 0..50 {
            let bodies = self.bodies.lock().unwrap().clone();
            if let [body] = bodies.as_slice() {
                return url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_else(|| panic!("{who}: a POST without logout_token: {body}"));
            }
            assert!(bodies.len() < 2, "{who}: one logout token, got {bodies:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{who}: no back-channel logout arrived");
    }
}

/// Back-Channel Logout 1.0: RP-initiated logout with the ID token as hint ends the provider
/// session, and each provider POSTs a logout token (§2.4) to the client's `backchannel_logout_uri`
/// that the core's `LogoutTokenVerifier` accepts (§2.6), naming the ID token's `sid` and `sub`.
#[tokio::test]
async fn logout_delivers_a_backchannel_logout_token() {
    const ID: &str = "bcl";
    const SECRET: &str = "bcl-secret";
    for real in [false, true] {
        let receiver = LogoutReceiver::start().await;
        let (provider, browser) = if real {
            let mut c = op::client(ID, SECRET, "client_secret_basic", &[REDIRECT_URI]);
            c["post_logout_redirect_uris"] = json!([LOGOUT_URI]);
            c["backchannel_logout_uri"] = json!(receiver.uri);
            c["backchannel_logout_session_required"] = json!(true);
            let op = TestOp::start(op::config_with_clients(vec![c])).await;
            let browser = op.browser();
            (Provider::Real(Box::new(op)), Some(browser))
        } else {
            let client = TestClient::confidential(ID, SECRET)
                .redirect_uri(REDIRECT_URI)
                .post_logout_redirect_uri(LOGOUT_URI)
                .backchannel_logout_uri(&receiver.uri);
            let provider = TestProvider::builder()
                .client(client)
                .start()
                .await
                .unwrap();
            (Provider::Double(provider), None)
        };
        let who = provider.name();
        let config = ClientConfig::builder(ID)
            .client_secret(SECRET)
            .issuer(provider.issuer())
            .redirect_uri(REDIRECT_URI)
            .logout_redirect_uri(LOGOUT_URI)
            .build()
            .unwrap();
        let client = Client::discover(config).await.unwrap();
        let request = client
            .authorization_request(&AuthorizeParams::default())
            .unwrap();
        // One browser for sign-in and logout: the real provider ends the session of its cookie.
        let callback = match &browser {
            Some(browser) => {
                browser
                    .login_and_consent(request.url.as_str(), "frank")
                    .await
                    .url
            }
            None => provider.authorize(request.url.as_str(), "frank").await,
        };
        let code = query_param(&callback, "code").expect("code");
        let state = finish_sign_in(&client, &request, &code).await.unwrap();
        let id_token = state.id_token_claims.clone().expect("ID token claims");
        let sid = id_token
            .extra
            .get("sid")
            .and_then(|s| s.as_str())
            .map(str::to_owned);
        assert!(sid.is_some(), "{who}: the ID token carries sid");

        let url = client
            .logout_url(&LogoutParams {
                id_token_hint: state.id_token.clone(),
                ..Default::default()
            })
            .unwrap();
        let landed = match &browser {
            Some(browser) => browser.confirm_logout(url.as_str()).await.url,
            None => provider.logout(url.as_str()).await,
        };
        assert_eq!(landed.as_str(), LOGOUT_URI, "{who}");

        let token = receiver.logout_token(who).await;
        let verifier =
            genauth::logout_token::LogoutTokenVerifier::new(client.jwt_verifier([ID]).unwrap());
        let logout = verifier
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{who}: the logout token verifies: {e}"));
        assert_eq!(logout.sid, sid, "{who}");
        assert_eq!(logout.sub.as_deref(), Some("frank"), "{who}");
        assert!(
            verifier.verify(&token).await.is_err(),
            "{who}: replay refused"
        );
    }
}
