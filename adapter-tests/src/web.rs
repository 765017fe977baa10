//! Browser sign-in through `WebAuth`'s routes and session middleware, against a [`MockProvider`],
//! through the routes of [`WebRoutes`].

use crate::provider::{CAS_FAILURE, CAS_SUCCESS, LOGOUT_REDIRECT_URI, MockProvider, REDIRECT_URI};
use crate::{App, Jar, Reply, Request, WebRoutes, get_with};
use genauth::Protocol;
use serde_json::{Value, json};
use std::time::Duration;
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path, query_param as query};
use wiremock::{Mock, ResponseTemplate};

/// What a browser sends as `Accept`.
pub const HTML: &str = "text/html,application/xhtml+xml";

/// The provider and the adapter's app for it.
async fn setup<R: WebRoutes>(protocol: Protocol) -> (MockProvider, R::App) {
    let provider = MockProvider::start(protocol).await;
    let app = R::app(provider.client.clone()).await;
    (provider, app)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn json_body(reply: &Reply) -> Value {
    reply.json()
}

/// Starts a login and returns (state, nonce) from the provider redirect, checking the login cookie.
async fn start_login(jar: &mut Jar, app: &impl App, return_to: &str) -> (String, String) {
    let reply = jar
        .get(app, &format!("/login?return_to={return_to}"), HTML)
        .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    let location = reply.location().unwrap_or_default().to_owned();
    let set_cookies = reply.set_cookies();
    let login_cookie = set_cookies
        .iter()
        .find(|c| c.starts_with("genauth_login="))
        .unwrap_or_else(|| panic!("no login cookie: {set_cookies:?}"));
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
        query_param(&location, "state").unwrap_or_default(),
        query_param(&location, "nonce").unwrap_or_default(),
    )
}

/// The token endpoint's refresh grant (RFC 6749 §6), to answer or count.
fn refresh_grant() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
}

/// A successful refresh response: new access token (lifetime in seconds), refresh and ID tokens.
fn refreshed(
    access_token: &str,
    expires_in: u64,
    refresh_token: &str,
    id_token: &str,
) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": expires_in,
        "refresh_token": refresh_token, "id_token": id_token
    }))
}

/// A signed-in browser (access token valid `expires_in` seconds).
pub(crate) async fn sign_in(
    p: &MockProvider,
    app: &impl App,
    expires_in: u64,
    refresh_token: &str,
) -> Jar {
    let mut jar = Jar::default();
    let (state, nonce) = start_login(&mut jar, app, "/profile").await;
    p.mount_code_exchange(&nonce, expires_in, refresh_token)
        .await;
    let reply = jar
        .get(app, &format!("/callback?code=the-code&state={state}"), HTML)
        .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert!(jar.has("genauth_session"));
    jar
}

/// OIDC code flow with PKCE: login required → login → callback → profile → logout (revocation,
/// end-session URL, cookies removed).
pub async fn full_sign_in_profile_and_logout<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = Jar::default();

    // A browser without session is sent to login, and back afterwards.
    let reply = jar.get(&app, "/profile?tab=1", HTML).await;
    assert_eq!(reply.status, 302);
    assert_eq!(
        reply.location(),
        Some("/login?return_to=%2Fprofile%3Ftab%3D1")
    );
    // An API client gets 401.
    assert_eq!(
        jar.get(&app, "/profile", "application/json").await.status,
        401
    );
    assert_eq!(jar.get(&app, "/", HTML).await.body, "anonymous");

    let (state, nonce) = start_login(&mut jar, &app, "%2Fprofile%3Ftab%3D1").await;
    p.mount_code_exchange(&nonce, 3600, "rt-1").await;
    let callback = format!(
        "/callback?code=the-code&state={state}&iss={}",
        p.issuer.issuer()
    );
    let reply = jar.get(&app, &callback, HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location(), Some("/profile?tab=1"));
    assert!(!jar.has("genauth_login"), "login cookie removed");
    let set_cookies = reply.set_cookies();
    let session_cookie = set_cookies
        .iter()
        .find(|c| c.starts_with("genauth_session="))
        .unwrap_or_else(|| panic!("no session cookie: {set_cookies:?}"));
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    assert!(!session_cookie.contains("at-1"), "tokens are sealed");

    let reply = jar.get(&app, "/profile?tab=1", HTML).await;
    assert_eq!(reply.status, 200);
    let profile = json_body(&reply);
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
    assert_eq!(reply.status, 302);
    let location = reply.location().unwrap_or_default();
    assert!(
        location.starts_with(&format!("{}/session/end?", p.server.uri())),
        "{location}"
    );
    assert!(query_param(location, "id_token_hint").is_some());
    assert_eq!(
        query_param(location, "post_logout_redirect_uri").as_deref(),
        Some(LOGOUT_REDIRECT_URI)
    );
    assert!(
        jar.0.is_empty(),
        "session cookie removed: {:?}",
        jar.0.keys()
    );
    assert_eq!(jar.get(&app, "/", HTML).await.body, "anonymous");
}

/// Denied consent, state mismatch, issuer mix-up, no login in progress, rejected code, repeated
/// parameters: 4xx text pages, never a 500.
pub async fn callback_failures_are_clear_4xx_pages<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;

    // Provider error (the user denied consent): 403 with the provider's words, login cookie removed.
    let mut jar = Jar::default();
    let (state, _) = start_login(&mut jar, &app, "/").await;
    let reply = jar
        .get(
            &app,
            &format!(
                "/callback?error=access_denied&error_description=User%20said%20no&state={state}"
            ),
            HTML,
        )
        .await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.body.contains("access_denied") && reply.body.contains("User said no"),
        "{}",
        reply.body
    );
    assert!(!jar.has("genauth_login"));

    // State mismatch: 400.
    let mut jar = Jar::default();
    start_login(&mut jar, &app, "/").await;
    let reply = jar
        .get(&app, "/callback?code=the-code&state=forged", HTML)
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("state"), "{}", reply.body);

    // Wrong issuer (RFC 9207 mix-up): 400.
    let mut jar = Jar::default();
    let (state, _) = start_login(&mut jar, &app, "/").await;
    let callback = format!("/callback?code=the-code&state={state}&iss=https%3A%2F%2Fevil.example");
    assert_eq!(jar.get(&app, &callback, HTML).await.status, 400);

    // A repeated parameter (RFC 6749 §3.1): 400; anyone can send one, so the login goes on.
    let mut jar = Jar::default();
    let (state, _) = start_login(&mut jar, &app, "/").await;
    let callback = format!("/callback?code=a&code=b&state={state}");
    let reply = jar.get(&app, &callback, HTML).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    assert!(jar.has("genauth_login"), "login cookie kept");

    // A provider error without a login in progress: the generic 400, not the forged text/status.
    let reply = Jar::default()
        .get(
            &app,
            "/callback?error=access_denied&error_description=Call%20%2B1-800-555-0100",
            HTML,
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(!reply.body.contains("800-555"), "{}", reply.body);

    // No login in progress (cookie missing): 400.
    let reply = Jar::default()
        .get(&app, "/callback?code=c&state=s", HTML)
        .await;
    assert_eq!(reply.status, 400);
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
    assert_eq!(reply.status, 400);
}

/// A `return_to` on another origin becomes `/`.
pub async fn open_redirects_fall_back_to_root<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = Jar::default();
    let (state, nonce) = start_login(&mut jar, &app, "%2F%2Fevil.example").await;
    p.mount_code_exchange(&nonce, 3600, "rt-1").await;
    let reply = jar
        .get(
            &app,
            &format!("/callback?code=the-code&state={state}"),
            HTML,
        )
        .await;
    assert_eq!(reply.location(), Some("/"));
}

/// A session cookie that does not open is no session, never an error.
pub async fn tampered_session_cookie_reads_as_signed_out<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let jar = sign_in(&p, &app, 3600, "rt-1").await;
    let sealed = jar.0.get("genauth_session").cloned().unwrap_or_default();
    // Change the first character, always to a different one (a fixed replacement would leave the
    // value intact whenever it already starts with that character).
    let first = if sealed.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!(
        "genauth_session={first}{}",
        sealed.get(1..).unwrap_or_default()
    );
    let reply = get_with(&app, "/profile", HTML, &tampered).await;
    assert_eq!(reply.status, 302);
    let reply = get_with(
        &app,
        "/",
        HTML,
        "genauth_session=garbage; genauth_session.1=x",
    )
    .await;
    assert_eq!(reply.body, "anonymous");
}

/// Concurrent requests with the same expiring session make one refresh call; all are signed in
/// and get the rewritten cookie, with `Cache-Control: no-store`.
pub async fn sessions_are_refreshed_once_near_expiry<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    // The access token expires in 30 s, within the 60 s refresh skew.
    let mut jar = sign_in(&p, &app, 30, "rt-1").await;
    let new_id_token = p.issuer.mint(json!({"sub": "u-1", "name": "Ada King"}));
    refresh_grant()
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(refreshed("at-2", 3600, "rt-2", &new_id_token))
        .expect(1)
        .mount(&p.server)
        .await;

    let cookie = jar.header();
    let (a, b, c) = tokio::join!(
        get_with(&app, "/profile", HTML, &cookie),
        get_with(&app, "/profile", HTML, &cookie),
        get_with(&app, "/", HTML, &cookie),
    );
    for reply in [a, b, c] {
        assert_eq!(reply.status, 200);
        assert!(
            reply
                .set_cookies()
                .iter()
                .any(|c| c.starts_with("genauth_session=")),
            "the refreshed session is written back"
        );
        // No cache may keep a response carrying a session cookie (the handler set no
        // `Cache-Control`: the session middleware did).
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    let reply = jar.get(&app, "/tokens", HTML).await;
    assert!(reply.body.ends_with("at-2"), "{}", reply.body);
    let reply = jar.get(&app, "/", HTML).await;
    assert_eq!(reply.body, "Ada King");
    assert!(reply.set_cookies().is_empty());
    assert_eq!(
        reply.header("cache-control"),
        None,
        "no session cookie, no change"
    );
}

/// Logout while a refresh is due: the middleware refreshes on the way in, but the handler's cookie
/// removal has the last word (also at a provider that does not rotate refresh tokens, where every
/// request within a minute reuses the refresh).
pub async fn logout_while_a_refresh_is_due_signs_out<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 30, "rt-1").await;
    let new_id_token = p.issuer.mint(json!({"sub": "u-1"}));
    refresh_grant()
        .respond_with(refreshed("at-2", 30, "rt-1", &new_id_token))
        .mount(&p.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&p.server)
        .await;
    assert_eq!(jar.get(&app, "/profile", HTML).await.status, 200);
    let reply = jar.get(&app, "/logout", HTML).await;
    assert_eq!(reply.status, 302);
    assert!(jar.0.is_empty(), "signed out: {:?}", reply.set_cookies());
    assert_eq!(jar.get(&app, "/profile", HTML).await.status, 302);
}

/// `invalid_grant` at refresh ends the session: cookies removed, browser sent to log in.
pub async fn rejected_refresh_signs_the_user_out<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 30, "rt-revoked").await;
    refresh_grant()
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/profile", HTML).await;
    assert_eq!(reply.status, 302);
    assert!(
        reply
            .location()
            .is_some_and(|l| l.starts_with("/login?return_to="))
    );
    assert!(!jar.has("genauth_session"), "session cookie removed");
}

/// A provider answering 5xx at refresh keeps the session, to retry later.
pub async fn unreachable_provider_keeps_the_session<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 30, "rt-1").await;
    refresh_grant()
        .respond_with(ResponseTemplate::new(503))
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/profile", HTML).await;
    assert_eq!(reply.status, 200);
    assert!(jar.has("genauth_session"));
}

/// OAuth 2.0: no nonce, the user from UserInfo (once, at sign-in).
pub async fn oauth2_sign_in_takes_the_user_from_userinfo<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::OAuth2).await;
    let mut jar = Jar::default();
    let reply = jar.get(&app, "/login", HTML).await;
    let location = reply.location().unwrap_or_default();
    assert!(query_param(location, "nonce").is_none());
    let state = query_param(location, "state").unwrap_or_default();
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
    assert_eq!(reply.status, 302, "{}", reply.body);
    let profile = json_body(&jar.get(&app, "/profile", HTML).await);
    assert_eq!(profile["sub"], "u-2");
    assert_eq!(profile["name"], "Bob");
    assert_eq!(profile["roles"], json!(["x"]));
}

/// OIDC: the UserInfo response completes the ID token's claims when its `sub` matches, and is ignored
/// when it names someone else (OpenID Connect Core §5.3.2).
pub async fn oidc_profile_is_completed_by_userinfo_of_the_same_subject<R: WebRoutes>() {
    for (userinfo_sub, expect_phone) in [("u-1", true), ("someone-else", false)] {
        let (p, app) = setup::<R>(Protocol::Oidc).await;
        let mut jar = Jar::default();
        let (state, nonce) = start_login(&mut jar, &app, "%2F").await;
        p.mount_code_exchange(&nonce, 3600, "rt-1").await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .and(header("authorization", "Bearer at-1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "sub": userinfo_sub, "phone_number": "+1 555 0100", "email": "other@example.com"
            })))
            .expect(1)
            .mount(&p.server)
            .await;
        let callback = format!(
            "/callback?code=the-code&state={state}&iss={}",
            p.issuer.issuer()
        );
        assert_eq!(jar.get(&app, &callback, HTML).await.status, 302);
        let profile = json_body(&jar.get(&app, "/profile", HTML).await);
        assert_eq!(profile["sub"], "u-1");
        if expect_phone {
            assert_eq!(profile["phone_number"], "+1 555 0100");
            assert_eq!(
                profile["email"], "other@example.com",
                "UserInfo is the fresher source"
            );
        } else {
            assert!(profile.get("phone_number").is_none(), "{profile}");
            assert_eq!(
                profile["email"], "ada@example.com",
                "the ID token's claims stay"
            );
        }
    }
}

/// The `service` of a CAS login redirect.
fn cas_service(login: &Reply) -> String {
    assert_eq!(login.status, 302, "{}", login.body);
    query_param(login.location().unwrap_or_default(), "service").unwrap_or_default()
}

/// Where the CAS server sends the browser with `ticket`: the service URL plus `&ticket=…`, as a
/// path and query of the app.
fn cas_callback(service: &str, ticket: &str) -> String {
    let url = Url::parse(service).unwrap_or_else(|e| panic!("{service}: {e}"));
    let separator = if url.query().is_some() { '&' } else { '?' };
    format!(
        "{}{separator}ticket={ticket}",
        &url[url::Position::BeforePath..]
    )
}

/// CAS: the service is the callback URL bound to the login (`?genauth_login=<random>`), and the
/// ticket is validated for exactly that service; a session without tokens; CAS logout; an invalid
/// ticket is a 4xx page.
pub async fn cas_sign_in_validates_the_ticket_for_the_logins_service<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Cas).await;
    let mut jar = Jar::default();
    let reply = jar.get(&app, "/login?return_to=/profile", HTML).await;
    let location = reply.location().unwrap_or_default();
    assert!(
        location.starts_with(&format!("{}/cas/login?", p.server.uri())),
        "{location}"
    );
    let service = cas_service(&reply);
    let binding = service
        .strip_prefix(&format!("{REDIRECT_URI}?genauth_login="))
        .unwrap_or_else(|| panic!("service bound to the login: {service}"));
    assert_eq!(binding.len(), 43, "{binding}");
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .and(query("service", service.as_str()))
        .and(query("ticket", "ST-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CAS_SUCCESS))
        .expect(1)
        .mount(&p.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .and(query("ticket", "ST-bad"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CAS_FAILURE))
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, &cas_callback(&service, "ST-1"), HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location(), Some("/profile"));
    let profile = json_body(&jar.get(&app, "/profile", HTML).await);
    assert_eq!(profile["sub"], "alice");
    assert_eq!(profile["email"], "alice@example.com");
    // A CAS session holds no tokens.
    assert_eq!(jar.get(&app, "/tokens", HTML).await.status, 401);
    // CAS logout URL, no revocation.
    let reply = jar.get(&app, "/logout", HTML).await;
    assert!(
        reply
            .location()
            .is_some_and(|l| l.starts_with(&format!("{}/cas/logout", p.server.uri())))
    );

    // An invalid ticket is a 4xx page.
    let mut jar = Jar::default();
    let service = cas_service(&jar.get(&app, "/login", HTML).await);
    let reply = jar.get(&app, &cas_callback(&service, "ST-bad"), HTML).await;
    assert!(
        (400..500).contains(&reply.status),
        "{} {}",
        reply.status,
        reply.body
    );
}

/// CAS login CSRF: an attacker's ticket, issued for the service URL of the attacker's own login,
/// does not sign a victim's browser in, whether it comes with the attacker's binding or none; the
/// victim's login goes on, and the attacker's ticket still works in the attacker's browser.
pub async fn cas_ticket_for_another_logins_service_is_refused<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Cas).await;
    let mut attacker = Jar::default();
    let attacker_service = cas_service(&attacker.get(&app, "/login", HTML).await);
    // The CAS server issued ST-attacker for the attacker's service URL (and checks it).
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .and(query("service", attacker_service.as_str()))
        .and(query("ticket", "ST-attacker"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CAS_SUCCESS))
        .expect(1)
        .mount(&p.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/cas/serviceValidate"))
        .respond_with(ResponseTemplate::new(200).set_body_string(CAS_FAILURE))
        .mount(&p.server)
        .await;

    let mut victim = Jar::default();
    let victim_service = cas_service(&victim.get(&app, "/login?return_to=/profile", HTML).await);
    assert_ne!(
        victim_service, attacker_service,
        "one service URL per login"
    );
    for forged in [
        cas_callback(&attacker_service, "ST-attacker"),
        "/callback?ticket=ST-attacker".to_owned(),
    ] {
        let reply = victim.get(&app, &forged, HTML).await;
        assert_eq!(reply.status, 400, "{forged}: {}", reply.body);
        assert!(!victim.has("genauth_session"), "{forged}");
        assert!(victim.has("genauth_login"), "the victim's login goes on");
    }
    assert_eq!(victim.get(&app, "/", HTML).await.body, "anonymous");

    let reply = attacker
        .get(&app, &cas_callback(&attacker_service, "ST-attacker"), HTML)
        .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert!(attacker.has("genauth_session"));
}

/// The provider fails (slowly) while a refresh is due: concurrent requests of the session share one
/// call to the token endpoint and go on with the old session, as do the requests of the next
/// seconds (the retry delay).
pub async fn refresh_during_a_provider_outage_calls_it_once<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let jar = sign_in(&p, &app, 30, "rt-1").await;
    refresh_grant()
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&p.server)
        .await;
    let cookie = jar.header();
    let replies = tokio::join!(
        get_with(&app, "/profile", HTML, &cookie),
        get_with(&app, "/profile", HTML, &cookie),
        get_with(&app, "/tokens", HTML, &cookie),
        get_with(&app, "/", HTML, &cookie),
        get_with(&app, "/profile", HTML, &cookie),
    );
    let (a, b, c, d, e) = replies;
    for reply in [&a, &b, &e] {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(json_body(reply)["sub"], "u-1");
    }
    assert_eq!(c.body, "Bearer at-1", "the old tokens");
    assert_eq!(d.body, "Ada Lovelace");
    for reply in [a, b, c, d, e] {
        assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    }
    // Still within the retry delay: no new call.
    let reply = get_with(&app, "/tokens", HTML, &cookie).await;
    assert_eq!(reply.body, "Bearer at-1");
    p.server.verify().await;
}

/// Logout when a refresh is due: the session middleware refreshes on the way in (the provider
/// rotates the refresh token), and logout revokes the new refresh token, not the rotated-away one.
pub async fn logout_revokes_the_refresh_token_of_the_refreshed_session<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 30, "rt-1").await;
    let new_id_token = p.issuer.mint(json!({"sub": "u-1"}));
    refresh_grant()
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(refreshed("at-2", 3600, "rt-2", &new_id_token))
        .expect(1)
        .mount(&p.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=rt-2"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&p.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=rt-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&p.server)
        .await;
    let reply = jar.get(&app, "/logout", HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert!(jar.0.is_empty(), "signed out: {:?}", reply.set_cookies());
    p.server.verify().await;
}

/// Logout CSRF: another site's link or form cannot sign the user out (403, session untouched, no
/// revocation); the app's own `GET /logout` link and same-origin `POST` still can.
pub async fn cross_site_logout_is_refused<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 3600, "rt-1").await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&p.server)
        .await;
    for forged in [
        Request::get("/logout")
            .header("accept", HTML)
            .header("sec-fetch-site", "cross-site"),
        Request::post("/logout").header("sec-fetch-site", "cross-site"),
        // A sibling subdomain is another application.
        Request::get("/logout")
            .header("accept", HTML)
            .header("sec-fetch-site", "same-site"),
        Request::post("/logout").header("origin", "https://evil.example"),
        Request::post("/logout").header("origin", "null"),
    ] {
        let described = format!("{forged:?}");
        let reply = jar.send(&app, forged).await;
        assert_eq!(reply.status, 403, "{described}: {}", reply.body);
        assert!(reply.set_cookies().is_empty(), "{described}");
        assert_eq!(jar.get(&app, "/", HTML).await.body, "Ada Lovelace");
    }
    let own = Request::post("/logout")
        .header("origin", "http://127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin");
    let reply = jar.send(&app, own).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert!(jar.0.is_empty(), "signed out: {:?}", reply.set_cookies());
    p.server.verify().await;

    // A same-site GET link (`Sec-Fetch-Site: same-origin`, or no Fetch Metadata) signs out.
    p.server.reset().await;
    let mut jar = sign_in(&p, &app, 3600, "rt-2").await;
    let link = Request::get("/logout")
        .header("accept", HTML)
        .header("sec-fetch-site", "same-origin");
    assert_eq!(jar.send(&app, link).await.status, 302);
    assert!(jar.0.is_empty());
}

/// Logout ends the session: a saved copy of the session cookie (stolen, or another tab's) reads as
/// signed out afterwards, on pages that require a session and on pages that do not.
pub async fn a_saved_session_cookie_reads_as_signed_out_after_logout<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    // No revocation endpoint mounted: the refresh token's revocation at logout fails (logged),
    // and the session ends all the same.
    let mut jar = sign_in(&p, &app, 3600, "rt-1").await;
    let saved = jar.header();
    assert_eq!(get_with(&app, "/", HTML, &saved).await.body, "Ada Lovelace");
    let reply = jar.get(&app, "/logout", HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert!(jar.0.is_empty(), "signed out: {:?}", reply.set_cookies());
    assert_eq!(get_with(&app, "/", HTML, &saved).await.body, "anonymous");
    let profile = get_with(&app, "/profile", HTML, &saved).await;
    assert_eq!(profile.status, 302, "login required again");
}

/// Front-channel logout (OpenID Connect Front-Channel Logout 1.0), requested without the browser's
/// cookies as from the provider's `iframe`: `iss` and `sid` end the sessions of that provider
/// session; a request without them, or for another issuer, ends nothing.
pub async fn frontchannel_logout_ends_the_sessions_of_the_provider_session<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 3600, "rt-1").await;
    let iss: String = url::form_urlencoded::byte_serialize(p.issuer.issuer().as_bytes()).collect();
    let sid = crate::provider::SID;
    for bad in [
        format!("/frontchannel-logout?sid={sid}"),
        format!("/frontchannel-logout?iss={iss}"),
        format!("/frontchannel-logout?iss=https%3A%2F%2Fevil.example&sid={sid}"),
        format!("/frontchannel-logout?iss={iss}&sid={sid}&sid=other"),
    ] {
        let reply = app.send(Request::get(&bad)).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert_eq!(jar.get(&app, "/", HTML).await.body, "Ada Lovelace", "{bad}");
    }
    let other = format!("/frontchannel-logout?iss={iss}&sid=another-session");
    assert_eq!(app.send(Request::get(other)).await.status, 200);
    assert_eq!(jar.get(&app, "/", HTML).await.body, "Ada Lovelace");

    let reply = app
        .send(Request::get(format!(
            "/frontchannel-logout?iss={iss}&sid={sid}"
        )))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-cache, no-store"));
    assert!(reply.set_cookies().is_empty());
    assert_eq!(jar.get(&app, "/", HTML).await.body, "anonymous");
    assert_eq!(jar.get(&app, "/profile", HTML).await.status, 302);
}

/// Back-channel logout (OpenID Connect Back-Channel Logout 1.0), as the provider POSTs it: a
/// verified logout token ends the sessions of its `sid` (200, `no-store`); bad tokens are 400 with
/// an OAuth error body and end nothing.
pub async fn backchannel_logout_ends_the_sessions_the_token_names<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = sign_in(&p, &app, 3600, "rt-1").await;
    let sid = crate::provider::SID;
    let event = json!({ "http://schemas.openid.net/event/backchannel-logout": {} });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let post = |token: String| {
        let app = &app;
        async move {
            app.send(Request::form(
                "/backchannel-logout",
                &[("logout_token", &token)],
            ))
            .await
        }
    };
    let bad = [
        ("forged signature", p.issuer.forged_token()),
        ("nonce", p.issuer.mint(json!({"jti": "j-n", "sid": sid, "events": event, "nonce": "n"}))),
        ("no events", p.issuer.mint(json!({"jti": "j-e", "sid": sid}))),
        ("wrong aud", p.issuer.mint(json!({"jti": "j-a", "sid": sid, "events": event, "aud": "other-app"}))),
        ("expired", p.issuer.mint(json!({"jti": "j-x", "sid": sid, "events": event, "iat": now - 7200, "exp": now - 3600}))),
        ("not a JWT", "garbage".to_owned()),
    ];
    for (case, token) in bad {
        let reply = post(token).await;
        assert_eq!(reply.status, 400, "{case}: {}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_request", "{case}");
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{case}");
        assert_eq!(
            jar.get(&app, "/", HTML).await.body,
            "Ada Lovelace",
            "{case}: nothing ended"
        );
    }
    let no_field = app
        .send(Request::form("/backchannel-logout", &[("other", "x")]))
        .await;
    assert_eq!(no_field.status, 400);

    let good = p.issuer.mint_with_header(
        json!({"typ": "logout+jwt"}),
        json!({"jti": "j-1", "sid": sid, "events": event}),
    );
    let reply = post(good.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(jar.get(&app, "/", HTML).await.body, "anonymous");
    // The same token again: a replay.
    assert_eq!(post(good).await.status, 400);
}

/// An `error` callback without the login's `state` (anyone can craft one) does not show its
/// `error_description` nor end the login in progress, which then completes.
pub async fn forged_error_callback_is_neither_shown_nor_ends_the_login<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = Jar::default();
    let (state, nonce) = start_login(&mut jar, &app, "/profile").await;
    for forged in [
        "/callback?error=access_denied&error_description=Call%20evil.example%20now",
        "/callback?error=access_denied&error_description=Call%20evil.example%20now&state=forged",
    ] {
        let reply = jar.get(&app, forged, HTML).await;
        assert_eq!(reply.status, 400, "{forged}");
        assert!(!reply.body.contains("evil.example"), "{}", reply.body);
        assert!(reply.body.contains("state"), "{}", reply.body);
        assert!(jar.has("genauth_login"), "{forged}: the login goes on");
    }
    p.mount_code_exchange(&nonce, 3600, "rt-1").await;
    let reply = jar
        .get(
            &app,
            &format!("/callback?code=the-code&state={state}"),
            HTML,
        )
        .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location(), Some("/profile"));
}

/// An ID token that fails verification at the callback (here: another login's nonce) is a 400 page
/// (a sign-in response that could not be verified), not a 401 without challenge.
pub async fn unverifiable_id_token_at_the_callback_is_400<R: WebRoutes>() {
    let (p, app) = setup::<R>(Protocol::Oidc).await;
    let mut jar = Jar::default();
    let (state, _) = start_login(&mut jar, &app, "/").await;
    p.mount_code_exchange("another-logins-nonce", 3600, "rt-1")
        .await;
    let reply = jar
        .get(
            &app,
            &format!("/callback?code=the-code&state={state}"),
            HTML,
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.challenge().is_none());
    assert!(reply.body.starts_with("Sign-in failed."), "{}", reply.body);
    assert!(!jar.has("genauth_session"));
}

/// A login-required middleware of one manager (`staff`) nested in the session middleware of
/// another (`customers`, other cookie prefix and key) takes only its own manager's session: a
/// customer's session does not open `/admin`, and extractors behind a staff middleware read the
/// staff session, whatever the outer middleware loaded.
pub async fn nested_layer_of_another_manager_ignores_the_outer_session<R: WebRoutes>() {
    use genauth::session::{
        AuthUser, CookieSettings, RequestCookies, Session, SessionCodec, SessionManager,
    };
    let p = MockProvider::start(Protocol::Oidc).await;
    let manager = |key: u8, prefix: &str| {
        SessionManager::new(
            p.client.clone(),
            SessionCodec::new(&[key; 32]).expect("key"),
        )
        .cookie_settings(CookieSettings::default().secure(false).prefix(prefix))
    };
    let (customers, staff) = (manager(1, "users"), manager(2, "staff"));
    let cookie = |m: &SessionManager, sub: &str| {
        let session = Session::new(AuthUser::new(sub, Protocol::Oidc));
        let set = m
            .store(&session, &RequestCookies::default())
            .expect("stored");
        set.iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let customer = cookie(&customers, "customer-42");
    let admin = cookie(&staff, "admin-7");
    let both = format!("{customer}; {admin}");
    let app = R::nested_app(customers, staff).await;
    let json = "application/json";

    // A customer: signed in for the customers' pages only.
    assert_eq!(
        get_with(&app, "/", json, &customer).await.body,
        "customer-42"
    );
    let reply = get_with(&app, "/admin", json, &customer).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let reply = get_with(&app, "/admin", HTML, &customer).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location(), Some("/staff/login?return_to=%2Fadmin"));
    let reply = get_with(&app, "/staff/whoami", json, &customer).await;
    assert_eq!(reply.body, "anonymous");

    // A staff member: signed in for the staff's pages only.
    let reply = get_with(&app, "/admin", json, &admin).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "admin-7"));
    assert_eq!(get_with(&app, "/", json, &admin).await.body, "anonymous");

    // Both sessions: each route reads its innermost middleware's.
    let reply = get_with(&app, "/admin", json, &both).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "admin-7"));
    assert_eq!(
        get_with(&app, "/staff/whoami", json, &both).await.body,
        "admin-7"
    );
    assert_eq!(get_with(&app, "/", json, &both).await.body, "customer-42");
}
