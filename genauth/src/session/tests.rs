//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::Client;
use crate::claims::{Claims, ExtraClaims};
use crate::config::Protocol;
use crate::login::CallbackFailure;
use crate::login::LoginError;
use crate::token::LoginState;
use crate::types::IdToken;
use crate::web::Redirect;
use crate::web::RequestHead;
use cookie::Cookie;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

pub(crate) fn codec() -> SessionCodec {
    SessionCodec::new(b"0123456789abcdef0123456789abcdef").unwrap()
}

pub(crate) fn user() -> AuthUser {
    let mut claims = ExtraClaims::new();
    claims.insert("name".into(), "Ada".into());
    claims.insert("email".into(), "ada@example.com".into());
    AuthUser::with_claims("u-1", claims, Protocol::Oidc)
}

pub(crate) fn login_state(extra_claim_len: usize) -> LoginState {
    serde_json::from_value(serde_json::json!({
        "access_token": "at-secret",
        "token_type": "Bearer",
        "id_token": "id-secret",
        "refresh_token": "rt-secret",
        "scope": "openid profile",
        "expires_in_secs": 3600,
        "expires_at": null,
        "id_token_claims": {"sub": "u-1", "blob": "x".repeat(extra_claim_len)},
        "access_token_claims": null,
    }))
    .unwrap()
}

fn open_pairs(codec: &SessionCodec, name: &str, pairs: &[(String, String)]) -> Option<Session> {
    codec.open(name, |n| {
        pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())
    })
}

#[test]
fn seal_open_round_trip() {
    let codec = codec();
    let session = Session::with_tokens(user(), login_state(10));
    let pairs = codec.seal(&session, "s", Duration::from_secs(60)).unwrap();
    assert_eq!(pairs.len(), 1);
    assert!(
        !pairs[0].1.contains("secret"),
        "sealed value must not show tokens"
    );
    let opened = open_pairs(&codec, "s", &pairs).unwrap();
    assert_eq!(opened.user, session.user);
    assert_eq!(opened.access_token().unwrap().secret(), "at-secret");
    assert_eq!(opened.refresh_token().unwrap().secret(), "rt-secret");
}

#[test]
fn key_length_and_derivation() {
    assert!(matches!(
        SessionCodec::new(&[1; 31]),
        Err(SessionError::KeyTooShort { len: 31 })
    ));
    let a = SessionCodec::new(&[1; 32]).unwrap();
    let b = SessionCodec::new(&[2; 32]).unwrap();
    let pairs = a
        .seal(&Session::new(user()), "s", Duration::from_secs(60))
        .unwrap();
    assert!(
        open_pairs(&b, "s", &pairs).is_none(),
        "another key must not open it"
    );
    assert!(open_pairs(&SessionCodec::new(&[1; 32]).unwrap(), "s", &pairs).is_some());
    assert_eq!(format!("{a:?}"), "SessionCodec([redacted], keys: 1)");
    assert!(SessionCodec::generate().is_ok());
}

#[test]
fn tampered_truncated_or_renamed_values_read_as_no_session() {
    let codec = codec();
    let pairs = codec
        .seal(&Session::new(user()), "s", Duration::from_secs(60))
        .unwrap();
    let value = &pairs[0].1;
    let mut bytes = value.clone().into_bytes();
    bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    for bad in [
        tampered.as_str(),
        &value[..value.len() - 4],
        "",
        "garbage",
        "%%%",
        "3.abc",
        "99.x",
        "é",
    ] {
        assert!(codec.open("s", |_| Some(bad)).is_none(), "{bad:?}");
    }
    assert!(
        codec
            .open("t", |n| (n == "t").then_some(value.as_str()))
            .is_none()
    );
    assert!(codec.open("s", |_| None).is_none());
}

#[test]
fn expired_values_read_as_no_session() {
    let codec = codec();
    let pairs = codec
        .seal(&Session::new(user()), "s", Duration::ZERO)
        .unwrap();
    assert!(open_pairs(&codec, "s", &pairs).is_none());
}

#[test]
fn large_sessions_are_chunked_past_4kb() {
    let codec = codec();
    let session = Session::with_tokens(user(), login_state(9000));
    let pairs = codec.seal(&session, "s", Duration::from_secs(60)).unwrap();
    assert!(pairs.len() >= 3, "{}", pairs.len());
    assert_eq!(pairs[0].0, "s");
    assert_eq!(pairs[1].0, "s.1");
    assert!(pairs[0].1.starts_with(&format!("{}.", pairs.len())));
    for (name, value) in &pairs {
        assert!(name.len() + value.len() <= CHUNK_SIZE + 8, "{name}");
    }
    let opened = open_pairs(&codec, "s", &pairs).unwrap();
    assert_eq!(
        opened.tokens.unwrap().id_token_claims.unwrap().extra["blob"]
            .as_str()
            .unwrap()
            .len(),
        9000
    );
    // A missing or swapped chunk fails closed.
    assert!(open_pairs(&codec, "s", &pairs[..pairs.len() - 1]).is_none());
    let mut swapped = pairs.clone();
    let (a, b) = (swapped[1].1.clone(), swapped[2].1.clone());
    swapped[1].1 = b;
    swapped[2].1 = a;
    assert!(open_pairs(&codec, "s", &swapped).is_none());
    // Too large for MAX_CHUNKS cookies.
    let huge = Session::with_tokens(user(), login_state(CHUNK_SIZE * MAX_CHUNKS));
    assert!(matches!(
        codec.seal(&huge, "s", Duration::from_secs(60)),
        Err(SessionError::TooLarge { .. })
    ));
}

#[test]
fn pending_login_cookie_does_not_open_as_session() {
    let codec = codec();
    let sealed = codec
        .seal_value(
            "genauth_login",
            &Session::new(user()),
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(
        codec
            .open("genauth_session", |_| Some(sealed.as_str()))
            .is_none()
    );
}

#[test]
fn secure_flag_follows_redirect_host() {
    let secure =
        |uri: &str| CookieSettings::for_redirect_uri(Some(&Url::parse(uri).unwrap())).is_secure();
    assert!(!secure("http://127.0.0.1:3000/callback"));
    assert!(!secure("http://127.8.0.1/callback"));
    assert!(!secure("http://localhost:3000/callback"));
    assert!(!secure("http://app.localhost/callback"));
    assert!(!secure("http://[::1]:3000/callback"));
    assert!(secure("https://app.example.com/callback"));
    assert!(secure("http://192.168.1.2/callback"));
    assert!(secure("http://localhost.example.com/callback"));
    assert!(CookieSettings::for_redirect_uri(None).is_secure());
}

#[test]
fn cookie_attributes() {
    let settings = CookieSettings::default().secure(false).prefix("app");
    assert_eq!(settings.session_cookie_name(), "app_session");
    assert_eq!(settings.login_cookie_name(), "app_login");
    let c = settings
        .clone()
        .secure(true)
        .cookie("app_session".into(), "v".into(), Duration::from_secs(60))
        .to_string();
    for attr in [
        "app_session=v",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=60",
    ] {
        assert!(c.contains(attr), "{c}");
    }
    let c = settings
        .cookie("x".into(), "v".into(), Duration::from_secs(60))
        .to_string();
    assert!(!c.contains("Secure"), "{c}");
    let removal = settings.removal("x".into()).to_string();
    assert!(removal.contains("Max-Age=0"), "{removal}");
}

#[test]
fn a_session_or_login_cookie_sent_twice_is_none() {
    let manager = manager();
    let stored = manager
        .store(&Session::new(user()), &RequestCookies::default())
        .unwrap();
    let genuine = format!("{}={}", stored[0].name(), stored[0].value());
    assert!(
        manager
            .open(&RequestHead::get("/").with_header("cookie", &genuine))
            .is_some()
    );
    // Whichever comes first, a second `genauth_session` makes the session unknowable.
    for header in [
        format!("genauth_session=planted; {genuine}"),
        format!("{genuine}; genauth_session=planted"),
        format!("{genuine}; {genuine}"),
    ] {
        let request = RequestHead::get("/").with_header("cookie", &header);
        assert!(manager.open(&request).is_none(), "{header}");
    }
    // Same for the login cookie: no login in progress.
    let login = manager.begin_login(None).unwrap();
    let pending = format!("genauth_login={}", login.set_cookies[0].value());
    let twice = RequestCookies::from_headers([format!("{pending}; {pending}").as_bytes()]);
    assert!(twice.get("genauth_login").is_none());
}

#[test]
fn needs_refresh_only_near_expiry_with_refresh_token() {
    let now = SystemTime::now();
    let mut tokens = login_state(0);
    tokens.expires_at = Some(now + Duration::from_secs(30));
    let mut session = Session::with_tokens(user(), tokens);
    assert!(session.needs_refresh(now, Duration::from_secs(60)));
    assert!(!session.needs_refresh(now, Duration::from_secs(10)));
    if let Some(t) = session.tokens.as_mut() {
        t.refresh_token = None;
    }
    assert!(!session.needs_refresh(now, Duration::from_secs(60)));
    assert!(!Session::new(user()).needs_refresh(now, Duration::from_secs(60)));
}

#[test]
fn auth_user_from_claims_and_protocol_serde() {
    let claims: Claims = serde_json::from_value(serde_json::json!({
        "sub": "u-9", "iss": "https://i", "nonce": "n", "at_hash": "h", "name": "Bob"
    }))
    .unwrap();
    let user = AuthUser::from_claims(&claims, Protocol::OAuth2).unwrap();
    assert_eq!(user.sub, "u-9");
    assert_eq!(user.display_name(), Some("Bob"));
    assert!(user.claim("nonce").is_none() && user.claim("sub").is_none());
    assert_eq!(user.to_json()["sub"], "u-9");
    let json = serde_json::to_value(&user).unwrap();
    assert_eq!(json["protocol"], "oauth");
    let back: AuthUser = serde_json::from_value(json).unwrap();
    assert_eq!(back, user);
    let no_sub: Claims = serde_json::from_value(serde_json::json!({"iss": "x"})).unwrap();
    assert!(AuthUser::from_claims(&no_sub, Protocol::Oidc).is_none());
}

pub(crate) fn manager() -> SessionManager {
    let config = crate::ClientConfig::builder("app")
        .client_secret("secret")
        .app_host("https://example.genauth.ai")
        .redirect_uri("http://127.0.0.1:3000/callback")
        .build()
        .unwrap();
    SessionManager::new(Client::new(config).unwrap(), codec())
}

pub(crate) fn as_request(cookies: &[Cookie<'static>]) -> RequestHead {
    let header: Vec<String> = cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    RequestHead::get("/").with_header("cookie", header.join("; "))
}

#[test]
fn store_removes_stale_chunks_and_clear_removes_all() {
    let manager = manager();
    assert!(
        !manager.get_cookie_settings().is_secure(),
        "loopback redirect URI"
    );
    let big = manager
        .store(
            &Session::with_tokens(user(), login_state(9000)),
            &RequestCookies::default(),
        )
        .unwrap();
    assert!(big.len() >= 3);
    let request = as_request(&big);
    assert_eq!(manager.open(&request).unwrap().user.sub, "u-1");
    let small = manager
        .store(&Session::new(user()), request.cookies())
        .unwrap();
    assert_eq!(small[0].name(), "genauth_session");
    let removed: Vec<&str> = small[1..].iter().map(|c| c.name()).collect();
    assert_eq!(removed.len(), big.len() - 1, "{removed:?}");
    assert!(small[1..].iter().all(|c| c.value().is_empty()));
    let cleared = manager.clear(request.cookies());
    assert_eq!(cleared.len(), big.len());
    assert!(
        cleared
            .iter()
            .all(|c| c.max_age() == Some(cookie::time::Duration::ZERO))
    );
}

pub(crate) fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[test]
fn host_prefixed_names_when_secure_host_only_and_root_path() {
    let secure = CookieSettings::default();
    assert!(secure.uses_host_prefix());
    assert_eq!(secure.session_cookie_name(), "__Host-genauth_session");
    assert_eq!(secure.login_cookie_name(), "__Host-genauth_login");
    let set = secure
        .cookie(
            secure.session_cookie_name(),
            "v".into(),
            Duration::from_secs(1),
        )
        .to_string();
    assert!(
        set.starts_with("__Host-genauth_session=v")
            && set.contains("Secure")
            && set.contains("Path=/")
            && !set.contains("Domain"),
        "{set}"
    );
    assert_eq!(
        CookieSettings::for_redirect_uri(Some(&Url::parse("https://app.example/cb").unwrap()))
            .login_cookie_name(),
        "__Host-genauth_login"
    );
    assert_eq!(
        secure.clone().prefix("app").session_cookie_name(),
        "__Host-app_session"
    );
    for plain in [
        CookieSettings::for_redirect_uri(Some(
            &Url::parse("http://127.0.0.1:3000/callback").unwrap(),
        )),
        secure.clone().secure(false),
        secure.clone().domain("example.com"),
        secure.clone().path("/app"),
        secure.clone().host_prefix(false),
    ] {
        assert!(!plain.uses_host_prefix(), "{plain:?}");
        assert_eq!(plain.session_cookie_name(), "genauth_session");
        assert_eq!(plain.login_cookie_name(), "genauth_login");
    }
    // The session manager reads and writes the prefixed name.
    let https = crate::ClientConfig::builder("app")
        .client_secret("secret")
        .app_host("https://example.genauth.ai")
        .redirect_uri("https://app.example.com/callback")
        .build()
        .unwrap();
    let m = SessionManager::new(Client::new(https).unwrap(), codec());
    let stored = m
        .store(&Session::new(user()), &RequestCookies::default())
        .unwrap();
    assert_eq!(stored[0].name(), "__Host-genauth_session");
    assert_eq!(m.open(&as_request(&stored)).unwrap().user.sub, "u-1");
    assert_eq!(
        m.begin_login(None).unwrap().set_cookies[0].name(),
        "__Host-genauth_login"
    );
    assert!(m.writes_session([b"__Host-genauth_session=; Max-Age=0".as_slice()]));
}

#[test]
fn debug_shows_cookie_names_not_values() {
    let cookies = vec![
        Cookie::new("genauth_session", "sealed-session-value"),
        Cookie::new("genauth_login", "sealed-login-value"),
    ];
    let redirect = Redirect {
        location: "/next".into(),
        set_cookies: cookies.clone(),
    };
    let loaded = LoadedSession {
        session: None,
        set_cookies: cookies.clone(),
    };
    let failure = CallbackFailure {
        error: LoginError::NoPendingLogin,
        set_cookies: cookies,
    };
    for debug in [
        format!("{redirect:?}"),
        format!("{loaded:?}"),
        format!("{failure:?}"),
    ] {
        assert!(!debug.contains("sealed"), "{debug}");
        assert!(
            debug.contains(r#"["genauth_session", "genauth_login"]"#),
            "{debug}"
        );
    }
    assert!(format!("{redirect:?}").contains("/next"));
}

#[test]
fn cross_site_logouts_are_refused() {
    let own = Some("http://127.0.0.1:3000");
    for (method, site, origin) in [
        ("GET", Some("cross-site"), None),
        ("GET", Some(" Cross-Site "), None),
        ("POST", Some("cross-site"), Some("http://127.0.0.1:3000")),
        ("POST", None, Some("https://evil.example")),
        ("POST", Some("same-site"), Some("http://sub.127.0.0.1:3000")),
        ("GET", Some("same-site"), None),
        ("GET", Some(" Same-Site"), None),
        ("POST", None, Some("null")),
        ("POST", None, Some("http://127.0.0.1:3001")),
    ] {
        assert!(
            is_cross_site_logout(method, site, origin, own),
            "{method} {site:?} {origin:?}"
        );
    }
    for (method, site, origin) in [
        ("GET", None, None),
        ("GET", Some("same-origin"), None),
        ("GET", Some("none"), None),
        ("GET", None, Some("https://evil.example")),
        ("POST", None, None),
        ("POST", Some("same-origin"), Some("HTTP://127.0.0.1:3000")),
    ] {
        assert!(
            !is_cross_site_logout(method, site, origin, own),
            "{method} {site:?} {origin:?}"
        );
    }
    let m = manager();
    let refusal = m
        .logout_refusal(&post_from("https://evil.example"))
        .unwrap();
    assert_eq!(refusal.status, 403);
    assert!(
        refusal
            .headers
            .iter()
            .all(|(name, _)| *name != "set-cookie")
    );
    assert!(
        m.logout_refusal(&post_from("http://127.0.0.1:3000"))
            .is_none()
    );
    assert!(m.logout_refusal(&RequestHead::get("/logout")).is_none());
    for site in ["cross-site", "same-site"] {
        let request = RequestHead::get("/logout").with_header("sec-fetch-site", site);
        assert!(m.logout_refusal(&request).is_some(), "{site}");
    }
}

/// A `POST /logout` with this `Origin`.
fn post_from(origin: &str) -> RequestHead {
    RequestHead::new("POST", "/logout", [("origin", origin.as_bytes())])
}

/// A manager whose client's token endpoint is `server`'s `/token`.
pub(crate) fn manager_at(server: &wiremock::MockServer) -> SessionManager {
    let uri = server.uri();
    let metadata: crate::ProviderMetadata = serde_json::from_value(serde_json::json!({
        "issuer": uri,
        "authorization_endpoint": format!("{uri}/auth"),
        "token_endpoint": format!("{uri}/token"),
    }))
    .unwrap();
    let config = crate::ClientConfig::builder("app")
        .client_secret("secret")
        .issuer(&uri)
        .redirect_uri("http://127.0.0.1:3000/callback")
        .build()
        .unwrap();
    SessionManager::new(Client::with_metadata(config, metadata).unwrap(), codec())
}

/// A token endpoint at `server` that rotates refresh tokens: the first refresh with `rt-secret`
/// answers (after `delay`) `at-2` and `rt-2`; any other call is `invalid_grant`.
pub(crate) async fn mount_rotating_refresh(server: &wiremock::MockServer, delay: Duration) {
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("refresh_token=rt-secret"))
        .respond_with(ResponseTemplate::new(200).set_delay(delay).set_body_json(
            serde_json::json!({
                "access_token": "at-2", "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": "rt-2"
            }),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "invalid_grant"})),
        )
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn refresh_after_the_retry_delay_is_single_flight() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let manager = Arc::new(manager_at(&server).refresh_retry_delay(Duration::from_millis(100)));
    let mut tokens = login_state(0);
    tokens.id_token = None;
    tokens.expires_at = Some(SystemTime::now());
    let stored = manager
        .store(
            &Session::with_tokens(user(), tokens),
            &RequestCookies::default(),
        )
        .unwrap();
    let cookies = as_request(&stored);
    let outage = Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount_as_scoped(&server)
        .await;
    assert!(manager.load(&cookies).await.session.is_some());
    drop(outage);
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The provider is back and rotates refresh tokens: only the first use of rt-secret works.
    mount_rotating_refresh(&server, Duration::from_millis(100)).await;
    let loads: Vec<_> = (0..5)
        .map(|_| {
            let (manager, cookies) = (manager.clone(), cookies.clone());
            tokio::spawn(async move { manager.load(&cookies).await })
        })
        .collect();
    for load in loads {
        let loaded = load.await.unwrap();
        let session = loaded.session.expect("still signed in");
        assert_eq!(session.access_token().unwrap().secret(), "at-2");
    }
    // The call during the outage, then a single one after the retry delay.
    let calls = server.received_requests().await.unwrap().len();
    assert_eq!(calls, 2, "one refresh after the retry delay");
}

#[tokio::test]
async fn logout_ends_the_session_the_middleware_loaded() {
    let m = manager();
    let stored = m
        .store(
            &Session::with_tokens(user(), login_state(0)),
            &RequestCookies::default(),
        )
        .unwrap();
    let request = as_request(&stored);
    let mut refreshed = login_state(0);
    refreshed.id_token = Some(IdToken::new("refreshed-id-token"));
    let refreshed = Session::with_tokens(user(), refreshed);
    let hint = |redirect: &Redirect| query_of(&redirect.location).get("id_token_hint").cloned();
    let out = m.logout(&request, Some(Some(&refreshed))).await;
    assert_eq!(hint(&out).as_deref(), Some("refreshed-id-token"));
    assert_eq!(out.set_cookies[0].name(), "genauth_session");
    // Without the middleware: the cookie's session.
    let out = m.logout(&request, None).await;
    assert_eq!(hint(&out).as_deref(), Some("id-secret"));
    // The middleware found no session (e.g. the refresh was rejected): none to end.
    let out = m.logout(&request, Some(None)).await;
    assert_eq!(hint(&out), None);
}

#[test]
fn huge_ttls_do_not_panic() {
    let codec = codec();
    let sealed = codec
        .seal_value("v", &"x", Duration::MAX)
        .expect("sealed, never expiring");
    assert_eq!(
        codec.open_value::<String>("v", &sealed).as_deref(),
        Some("x")
    );
    let manager = manager().cookie_settings(
        CookieSettings::default()
            .secure(false)
            .session_ttl(Duration::MAX)
            .login_ttl(Duration::MAX),
    );
    let stored = manager
        .store(&Session::new(user()), &RequestCookies::default())
        .unwrap();
    assert!(manager.open(&as_request(&stored)).is_some());
    let login = manager.begin_login(None).unwrap();
    assert!(
        manager
            .codec()
            .open_pending("genauth_login", login.set_cookies[0].value())
            .is_some()
    );
}

#[test]
fn debug_never_shows_tokens() {
    let session = Session::with_tokens(user(), login_state(0));
    let debug = format!("{session:?}");
    assert!(
        !debug.contains("at-secret")
            && !debug.contains("rt-secret")
            && !debug.contains("id-secret")
    );
}

#[test]
fn logout_hints_the_sign_in_id_token_and_old_sessions_still_open() {
    let mut session = Session::with_tokens(user(), login_state(0));
    assert_eq!(
        session.logout_hint().map(IdToken::secret),
        Some("id-secret")
    );
    // After a refresh replaced the ID token, the sign-in's stays the hint.
    session.sign_in_id_token = Some(IdToken::new("id-secret"));
    if let Some(tokens) = session.tokens.as_mut() {
        tokens.id_token = Some(IdToken::new("refreshed-id-token"));
    }
    assert_eq!(
        session.id_token().map(IdToken::secret),
        Some("refreshed-id-token")
    );
    assert_eq!(
        session.logout_hint().map(IdToken::secret),
        Some("id-secret")
    );
    // A session sealed before the field existed opens, without a separate hint.
    let old = serde_json::json!({"user": {"sub": "u-1", "protocol": "oidc"}, "tokens": null});
    let opened: Session = serde_json::from_value(old).unwrap();
    assert!(opened.sign_in_id_token.is_none() && opened.logout_hint().is_none());
    // Nothing extra is sealed while the sign-in's ID token is the current one.
    let sealed = serde_json::to_string(&Session::with_tokens(user(), login_state(0))).unwrap();
    assert!(!sealed.contains("sign_in_id_token"));
}
