//! Browser sign-in through `WebAuth`'s routes and session layers, against a mock provider (wiremock)
//! whose ID tokens are signed by `genauth::testing::TestIssuer`.

use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use genauth::session::{SessionCodec, SessionManager};
use genauth::testing::TestIssuer;
use genauth::{Client, ClientConfig, Protocol, ProviderMetadata};
use genauth_axum::{AccessToken, AuthUser, LoginState, WebAuth};
use http::{Request, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tower::ServiceExt;
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path, query_param as query};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";

struct Provider {
    server: MockServer,
    issuer: TestIssuer,
    client: Client,
}

async fn provider() -> Provider {
    provider_with(Protocol::Oidc).await
}

async fn provider_with(protocol: Protocol) -> Provider {
    let server = MockServer::start().await;
    let issuer = TestIssuer::new()
        .with_issuer(server.uri())
        .with_audience("app1");
    let metadata: ProviderMetadata = serde_json::from_value(json!({
        "issuer": server.uri(),
        "authorization_endpoint": format!("{}/auth", server.uri()),
        "token_endpoint": format!("{}/token", server.uri()),
        "userinfo_endpoint": format!("{}/me", server.uri()),
        "revocation_endpoint": format!("{}/revoke", server.uri()),
        "end_session_endpoint": format!("{}/session/end", server.uri()),
    }))
    .unwrap();
    let config = ClientConfig::builder("app1")
        .client_secret("app-secret")
        .issuer(server.uri())
        .redirect_uri(REDIRECT_URI)
        .logout_redirect_uri("http://127.0.0.1:3000/")
        .scope(if protocol == Protocol::OAuth2 {
            "user"
        } else {
            "openid profile offline_access"
        })
        .protocol(protocol)
        .cas_base_url(format!("{}/cas", server.uri()))
        .static_jwks(issuer.jwks())
        .build()
        .unwrap();
    let client = Client::with_metadata(config, metadata).unwrap();
    Provider {
        server,
        issuer,
        client,
    }
}

fn app(client: Client) -> Router {
    let manager =
        SessionManager::new(client, SessionCodec::new(&[42u8; 32]).unwrap()).revoke_on_logout(true);
    let auth = WebAuth::new(manager);
    Router::new()
        .route(
            "/",
            get(|user: Option<AuthUser>| async move {
                user.and_then(|u| u.display_name().map(str::to_owned))
                    .unwrap_or_else(|| "anonymous".into())
            }),
        )
        .route(
            "/profile",
            get(|user: AuthUser| async move { Json(user.to_json()) }).layer(auth.require_login()),
        )
        .route(
            "/tokens",
            get(|state: LoginState, token: AccessToken| async move {
                format!("{} {}", state.token_type, token.secret())
            }),
        )
        .merge(auth.routes())
        .layer(auth.session_layer())
}

/// A tiny browser cookie jar: applies `Set-Cookie` (removal on `Max-Age=0`), sends `Cookie`.
#[derive(Default, Clone)]
struct Jar(BTreeMap<String, String>);

struct Reply {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, app: &Router, uri: &str, accept: &str) -> Reply {
        let reply = get_with(app, uri, accept, &self.header()).await;
        for set_cookie in &reply.set_cookies {
            let pair = set_cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if set_cookie.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }
}

async fn get_with(app: &Router, uri: &str, accept: &str, cookie: &str) -> Reply {
    let mut request = Request::get(uri).header("accept", accept);
    if !cookie.is_empty() {
        request = request.header("cookie", cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let set_cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        location,
        set_cookies,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

const HTML: &str = "text/html,application/xhtml+xml";

/// Starts a login and returns (state, nonce) from the provider redirect.
async fn start_login(jar: &mut Jar, app: &Router, return_to: &str) -> (String, String) {
    let reply = jar
        .get(app, &format!("/login?return_to={return_to}"), HTML)
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let location = reply.location.unwrap();
    let login_cookie = reply
        .set_cookies
        .iter()
        .find(|c| c.starts_with("genauth_login="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(login_cookie.contains(attribute), "{login_cookie}");
    }
    assert!(
        !login_cookie.contains("Secure"),
        "loopback redirect URI: no Secure"
    );
    assert_eq!(
        query_param(&location, "redirect_uri").as_deref(),
        Some(REDIRECT_URI)
    );
    assert_eq!(
        query_param(&location, "code_challenge_method").as_deref(),
        Some("S256")
    );
    (
        query_param(&location, "state").unwrap(),
        query_param(&location, "nonce").unwrap(),
    )
}

async fn mount_code_exchange(p: &Provider, nonce: &str, expires_in: u64, refresh_token: &str) {
    let id_token = p.issuer.mint(json!({
        "sub": "u-1", "nonce": nonce, "name": "Ada Lovelace", "email": "ada@example.com"
    }));
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains("code_verifier="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-1", "token_type": "Bearer", "expires_in": expires_in,
            "refresh_token": refresh_token, "id_token": id_token, "scope": "openid profile offline_access"
        })))
        .mount(&p.server)
        .await;
}

async fn sign_in(p: &Provider, app: &Router, expires_in: u64, refresh_token: &str) -> Jar {
    let mut jar = Jar::default();
    let (state, nonce) = start_login(&mut jar, app, "/profile").await;
    mount_code_exchange(p, &nonce, expires_in, refresh_token).await;
    let reply = jar
        .get(app, &format!("/callback?code=the-code&state={state}"), HTML)
        .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert!(jar.0.contains_key("genauth_session"));
    jar
}

#[tokio::test]
async fn full_sign_in_profile_and_logout() {
    let p = provider().await;
    let app = app(p.client.clone());
    let mut jar = Jar::default();

    // A browser without session is sent to login, and back afterwards.
    let reply = jar.get(&app, "/profile?tab=1", HTML).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(
        reply.location.as_deref(),
        Some("/login?return_to=%2Fprofile%3Ftab%3D1")
    );
    // An API client gets 401.
    assert_eq!(
        jar.get(&app, "/profile", "application/json").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(jar.get(&app, "/", HTML).await.body, "anonymous");

    let (state, nonce) = start_login(&mut jar, &app, "%2Fprofile%3Ftab%3D1").await;
    mount_code_exchange(&p, &nonce, 3600, "rt-1").await;
    let reply = jar
        .get(
            &app,
            &format!(
                "/callback?code=the-code&state={state}&iss={}",
                p.issuer.issuer()
            ),
            HTML,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some("/profile?tab=1"));
    assert!(!jar.0.contains_key("genauth_login"), "login cookie removed");
    let session_cookie = reply
        .set_cookies
        .iter()
        .find(|c| c.starts_with("genauth_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    assert!(!session_cookie.contains("at-1"), "tokens are sealed");

    let reply = jar.get(&app, "/profile?tab=1", HTML).await;
    assert_eq!(reply.status, StatusCode::OK);
    let profile: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(profile["sub"], "u-1");
    assert_eq!(profile["email"], "ada@example.com");
    assert!(profile.get("nonce").is_none());
    assert_eq!(jar.get(&app, "/", HTML).await.body, "Ada Lovelace");
    assert_eq!(jar.get(&app, "/tokens", HTML).await.body, "Bearer at-1");

    // Logout: refresh token revoked, cookies removed, provider's end-session URL with id_token_hint.
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=rt-1"))
        .and(body_string_contains("token_type_hint=refresh_token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/logout", HTML).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let location = reply.location.unwrap();
    assert!(
        location.starts_with(&format!("{}/session/end?", p.server.uri())),
        "{location}"
    );
    assert!(query_param(&location, "id_token_hint").is_some());
    assert_eq!(
        query_param(&location, "post_logout_redirect_uri").as_deref(),
        Some("http://127.0.0.1:3000/")
    );
    assert!(
        jar.0.is_empty(),
        "session cookie removed: {:?}",
        jar.0.keys()
    );
    assert_eq!(jar.get(&app, "/", HTML).await.body, "anonymous");
}

#[tokio::test]
async fn callback_failures_are_clear_4xx_pages() {
    let p = provider().await;
    let app = app(p.client.clone());

    // Provider error (the user denied consent): 403 with the provider's words, login cookie removed.
    let mut jar = Jar::default();
    start_login(&mut jar, &app, "/").await;
    let reply = jar
        .get(
            &app,
            "/callback?error=access_denied&error_description=User%20said%20no",
            HTML,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        reply.body.contains("access_denied") && reply.body.contains("User said no"),
        "{}",
        reply.body
    );
    assert!(!jar.0.contains_key("genauth_login"));

    // State mismatch: 400.
    let mut jar = Jar::default();
    start_login(&mut jar, &app, "/").await;
    let reply = jar
        .get(&app, "/callback?code=the-code&state=forged", HTML)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("state"), "{}", reply.body);

    // Wrong issuer (RFC 9207 mix-up): 400.
    let mut jar = Jar::default();
    let (state, _) = start_login(&mut jar, &app, "/").await;
    let reply = jar
        .get(
            &app,
            &format!("/callback?code=the-code&state={state}&iss=https%3A%2F%2Fevil.example"),
            HTML,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // No login in progress (cookie missing): 400.
    let reply = Jar::default()
        .get(&app, "/callback?code=c&state=s", HTML)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("no sign-in is in progress"),
        "{}",
        reply.body
    );

    // Code rejected by the token endpoint (invalid_grant): 400, not 500.
    let mut jar = Jar::default();
    let (state, _) = start_login(&mut jar, &app, "/").await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&p.server)
        .await;
    let reply = jar
        .get(&app, &format!("/callback?code=used&state={state}"), HTML)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn open_redirects_fall_back_to_root() {
    let p = provider().await;
    let app = app(p.client.clone());
    let mut jar = Jar::default();
    let (state, nonce) = start_login(&mut jar, &app, "%2F%2Fevil.example").await;
    mount_code_exchange(&p, &nonce, 3600, "rt-1").await;
    let reply = jar
        .get(
            &app,
            &format!("/callback?code=the-code&state={state}"),
            HTML,
        )
        .await;
    assert_eq!(reply.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn tampered_session_cookie_reads_as_signed_out() {
    let p = provider().await;
    let app = app(p.client.clone());
    let jar = sign_in(&p, &app, 3600, "rt-1").await;
    let sealed = jar.0.get("genauth_session").unwrap();
    let tampered = format!("genauth_session=A{}", &sealed[1..]);
    let reply = get_with(&app, "/profile", HTML, &tampered).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let reply = get_with(
        &app,
        "/",
        HTML,
        "genauth_session=garbage; genauth_session.1=x",
    )
    .await;
    assert_eq!(reply.body, "anonymous");
}

#[tokio::test]
async fn sessions_are_refreshed_once_near_expiry() {
    let p = provider().await;
    let app = app(p.client.clone());
    // The access token expires in 30 s, within the 60 s refresh skew.
    let jar = sign_in(&p, &app, 30, "rt-1").await;
    let new_id_token = p.issuer.mint(json!({"sub": "u-1", "name": "Ada King"}));
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-2", "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": "rt-2", "id_token": new_id_token
        })))
        .expect(1)
        .mount(&p.server)
        .await;

    // Several requests carrying the same old cookie at once: one refresh call, all signed in.
    let cookie = jar.header();
    let replies = futures_join(&app, &cookie).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply
                .set_cookies
                .iter()
                .any(|c| c.starts_with("genauth_session=")),
            "the refreshed session is written back"
        );
    }
    let mut jar = jar;
    let reply = jar.get(&app, "/tokens", HTML).await;
    assert!(reply.body.ends_with("at-2"), "{}", reply.body);
    assert_eq!(jar.get(&app, "/", HTML).await.body, "Ada King");
}

async fn futures_join(app: &Router, cookie: &str) -> Vec<Reply> {
    let (a, b, c) = tokio::join!(
        get_with(app, "/profile", HTML, cookie),
        get_with(app, "/profile", HTML, cookie),
        get_with(app, "/", HTML, cookie),
    );
    vec![a, b, c]
}

#[tokio::test]
async fn rejected_refresh_signs_the_user_out() {
    let p = provider().await;
    let app = app(p.client.clone());
    let mut jar = sign_in(&p, &app, 30, "rt-revoked").await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/profile", HTML).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location.unwrap().starts_with("/login?return_to="));
    assert!(
        !jar.0.contains_key("genauth_session"),
        "session cookie removed"
    );
}

#[tokio::test]
async fn unreachable_provider_keeps_the_session() {
    let p = provider().await;
    let app = app(p.client.clone());
    let mut jar = sign_in(&p, &app, 30, "rt-1").await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/profile", HTML).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(jar.0.contains_key("genauth_session"));
}

#[tokio::test]
async fn oauth2_sign_in_takes_the_user_from_userinfo() {
    let p = provider_with(Protocol::OAuth2).await;
    let app = app(p.client.clone());
    let mut jar = Jar::default();
    let reply = jar.get(&app, "/login", HTML).await;
    let location = reply.location.unwrap();
    assert!(query_param(&location, "nonce").is_none());
    let state = query_param(&location, "state").unwrap();
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-o", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&p.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", "Bearer at-o"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sub": "u-2", "name": "Bob", "roles": ["x"]})),
        )
        .expect(1)
        .mount(&p.server)
        .await;
    let reply = jar
        .get(&app, &format!("/callback?code=c&state={state}"), HTML)
        .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let profile: Value = serde_json::from_str(&jar.get(&app, "/profile", HTML).await.body).unwrap();
    assert_eq!(profile["sub"], "u-2");
    assert_eq!(profile["name"], "Bob");
    assert_eq!(profile["roles"], json!(["x"]));
}

const CAS_SUCCESS: &str = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>alice</cas:user>
    <cas:attributes><cas:email>alice@example.com</cas:email></cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>"#;

const CAS_FAILURE: &str = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="INVALID_TICKET">Ticket ST-bad not recognized</cas:authenticationFailure>
</cas:serviceResponse>"#;

#[tokio::test]
async fn cas_sign_in_validates_the_ticket_for_the_callback_service() {
    let p = provider_with(Protocol::Cas).await;
    let app = app(p.client.clone());
    let mut jar = Jar::default();
    let reply = jar.get(&app, "/login?return_to=/profile", HTML).await;
    let location = reply.location.unwrap();
    assert!(
        location.starts_with(&format!("{}/cas/login?", p.server.uri())),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "service").as_deref(),
        Some(REDIRECT_URI)
    );
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .and(query("service", REDIRECT_URI))
        .and(query("ticket", "ST-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CAS_SUCCESS))
        .mount(&p.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .and(query("ticket", "ST-bad"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CAS_FAILURE))
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/callback?ticket=ST-1", HTML).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some("/profile"));
    let profile: Value = serde_json::from_str(&jar.get(&app, "/profile", HTML).await.body).unwrap();
    assert_eq!(profile["sub"], "alice");
    assert_eq!(profile["email"], "alice@example.com");
    // A CAS session holds no tokens.
    assert_eq!(
        jar.get(&app, "/tokens", HTML).await.status,
        StatusCode::UNAUTHORIZED
    );
    // CAS logout URL, no revocation.
    let reply = jar.get(&app, "/logout", HTML).await;
    assert!(
        reply
            .location
            .unwrap()
            .starts_with(&format!("{}/cas/logout", p.server.uri()))
    );

    // An invalid ticket is a 4xx page.
    let mut jar = Jar::default();
    jar.get(&app, "/login", HTML).await;
    let reply = jar.get(&app, "/callback?ticket=ST-bad", HTML).await;
    assert!(
        reply.status.is_client_error(),
        "{} {}",
        reply.status,
        reply.body
    );
}
