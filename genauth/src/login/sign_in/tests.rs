//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use crate::config::Protocol;
use crate::login::{CallbackParams, LoginError, PendingLogin};
use crate::session::tests::{as_request, codec, manager, query_of};
use crate::session::{CookieSettings, SessionManager};
use crate::web::{Redirect, Reply, RequestCookies, RequestHead};
use crate::{Client, authorize::AuthorizeParams, pkce::PkceMethod};
use std::time::{Duration, SystemTime};

#[test]
fn begin_login_seals_the_pending_login() {
    let manager = manager();
    let redirect = manager.begin_login(Some("//evil.example")).unwrap();
    assert!(
        redirect
            .location
            .starts_with("https://example.genauth.ai/oidc/auth?")
    );
    let cookie = &redirect.set_cookies[0];
    assert_eq!(cookie.name(), "genauth_login");
    let pending = manager
        .codec()
        .open_pending("genauth_login", cookie.value())
        .unwrap();
    assert_eq!(pending.return_to, "/");
    assert!(pending.state.is_some() && pending.nonce.is_some() && pending.code_verifier.is_some());
    let state = pending.state.unwrap();
    assert!(redirect.location.contains(state.secret()));
    // The login cookie does not open as a session.
    assert!(manager.open(&as_request(&redirect.set_cookies)).is_none());
}

#[tokio::test]
async fn callback_without_login_cookie_or_with_provider_error() {
    let manager = manager();
    let failure = manager
        .complete_login(&RequestCookies::default(), &CallbackParams::code("c", "s"))
        .await
        .unwrap_err();
    assert!(matches!(failure.error, LoginError::NoPendingLogin));
    assert_eq!(failure.error.status_code(), 400);
    assert_eq!(failure.set_cookies[0].name(), "genauth_login");
    // A provider error without a login in progress is anyone's forgery: neither its text nor
    // its status are shown.
    let forged = manager
        .finish_login(&RequestHead::get(
            "/callback?error=access_denied&error_description=Your%20account%20is%20locked.%20Call%20%2B1-800-555-0100",
        ))
        .await
        .unwrap_err();
    assert!(matches!(forged.error, LoginError::NoPendingLogin));
    let page = forged.error.page("/login");
    assert_eq!(page.status, 400);
    assert!(
        !page.body.contains("800-555") && !page.body.contains("locked"),
        "{}",
        page.body
    );
    let login = manager.begin_login(None).unwrap();
    let state = pending_of(&manager, &login).state.unwrap();
    let denied = CallbackParams::error("access_denied", Some("Attacker text".into()));
    let request = as_request(&login.set_cookies);
    // Without the login's state the error is not acted on, nor shown, and the login goes on.
    for forged in [denied.clone(), denied.clone().with_state("forged")] {
        let failure = manager
            .complete_login(request.cookies(), &forged)
            .await
            .unwrap_err();
        assert!(matches!(failure.error, LoginError::StateMismatch));
        assert!(!failure.error.page("/login").body.contains("Attacker"));
        assert!(failure.set_cookies.is_empty(), "login cookie kept");
    }
    let failure = manager
        .complete_login(request.cookies(), &denied.with_state(state.secret()))
        .await
        .unwrap_err();
    assert_eq!(failure.error.status_code(), 403);
    assert!(failure.error.page("/login").body.contains("Attacker text"));
    assert_eq!(failure.set_cookies[0].name(), "genauth_login");
    assert_eq!(
        failure.set_cookies[0].max_age(),
        Some(cookie::time::Duration::ZERO)
    );
}

fn pending_of(manager: &SessionManager, redirect: &Redirect) -> PendingLogin {
    let name = manager.get_cookie_settings().login_cookie_name();
    let cookie = redirect
        .set_cookies
        .iter()
        .find(|c| c.name() == name)
        .unwrap();
    manager.codec().open_pending(&name, cookie.value()).unwrap()
}

#[test]
fn begin_login_ignores_pinned_state_nonce_and_disabled_pkce() {
    let params = AuthorizeParams {
        state: Some(crate::CsrfState::new("pinned-state")),
        nonce: Some(crate::Nonce::new("pinned-nonce")),
        pkce: false,
        pkce_method: PkceMethod::Plain,
        scope: Some("openid email".into()),
        ..AuthorizeParams::default()
    };
    let manager = manager().authorize_params(params);
    let first = manager.begin_login(None).unwrap();
    let second = manager.begin_login(None).unwrap();
    let (q1, q2) = (query_of(&first.location), query_of(&second.location));
    assert_eq!(q1["scope"], "openid email", "other options are kept");
    assert_eq!(q1["code_challenge_method"], "S256");
    assert!(!q1["code_challenge"].is_empty());
    for name in ["state", "nonce"] {
        assert!(!q1[name].starts_with("pinned"), "{name}: {}", q1[name]);
        assert_eq!(q1[name].len(), 43, "{name}: 256 random bits");
        assert_ne!(q1[name], q2[name], "{name} is fresh per login");
    }
    let pending = pending_of(&manager, &first);
    assert_eq!(pending.state.unwrap().secret(), q1["state"]);
    assert_eq!(pending.nonce.unwrap().secret(), q1["nonce"]);
    let verifier = pending.code_verifier.unwrap();
    assert_eq!(q1["code_challenge"], verifier.challenge(PkceMethod::S256));
}

fn cas_manager() -> SessionManager {
    let config = crate::ClientConfig::builder("app")
        .client_secret("secret")
        .app_host("https://example.genauth.ai")
        .redirect_uri("https://app.example.com/callback?tenant=t1")
        .protocol(Protocol::Cas)
        .build()
        .unwrap();
    SessionManager::new(Client::new(config).unwrap(), codec())
}

#[test]
fn cas_service_is_bound_to_each_login_unless_turned_off() {
    let manager = cas_manager();
    let login = manager.begin_login(None).unwrap();
    let service = query_of(&login.location)["service"].clone();
    let prefix = "https://app.example.com/callback?tenant=t1&genauth_login=";
    assert!(service.starts_with(prefix), "{service}");
    assert_eq!(service.len(), prefix.len() + 43);
    let pending = pending_of(&manager, &login);
    assert_eq!(pending.redirect_uri.as_ref().unwrap().as_str(), service);
    let other = query_of(&manager.begin_login(None).unwrap().location)["service"].clone();
    assert_ne!(service, other);

    let unbound = cas_manager().cas_service_binding(false);
    let login = unbound.begin_login(None).unwrap();
    assert_eq!(
        query_of(&login.location)["service"],
        "https://app.example.com/callback?tenant=t1"
    );
}

#[tokio::test]
async fn cas_callback_without_the_logins_binding_is_refused_before_validation() {
    // The CAS server (example.genauth.ai) is never called: the binding is checked first.
    let manager = cas_manager();
    let login = manager.begin_login(None).unwrap();
    let request = as_request(&login.set_cookies);
    let other = query_of(&manager.begin_login(None).unwrap().location)["service"].clone();
    let other_binding = query_of(&other)["genauth_login"].clone();
    for params in [
        CallbackParams::ticket("ST-attacker"),
        CallbackParams::ticket("ST-attacker").with_cas_login(other_binding),
    ] {
        let failure = manager
            .complete_login(request.cookies(), &params)
            .await
            .unwrap_err();
        assert!(matches!(failure.error, LoginError::CasServiceMismatch));
        assert_eq!(failure.error.status_code(), 400);
        assert!(failure.set_cookies.is_empty(), "login cookie kept");
    }
}

#[tokio::test]
async fn callback_checks_the_configured_login_ttl() {
    let manager = manager().cookie_settings(
        CookieSettings::default()
            .secure(false)
            .login_ttl(Duration::from_secs(60)),
    );
    let login = manager.begin_login(None).unwrap();
    let mut pending = pending_of(&manager, &login);
    let state = pending.state.clone().unwrap();
    // Two minutes old: within the 10-minute default, past the configured minute.
    pending.created_at = SystemTime::now() - Duration::from_secs(120);
    let sealed = manager
        .codec()
        .seal_pending(&pending, "genauth_login", Duration::from_secs(600))
        .unwrap();
    let request = RequestCookies::from_headers([format!("genauth_login={sealed}").as_bytes()]);
    let failure = manager
        .complete_login(&request, &CallbackParams::code("c", state.secret()))
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, LoginError::Expired),
        "{:?}",
        failure.error
    );
}

#[tokio::test]
async fn malformed_callback_keeps_the_login_in_progress() {
    let manager = manager();
    let login = manager.begin_login(None).unwrap();
    let request = as_request(&login.set_cookies);
    let callback = RequestHead::get("/callback?code=c&state=a&state=b")
        .with_header("cookie", request.header("cookie").unwrap());
    let failure = manager.finish_login(&callback).await.unwrap_err();
    assert!(matches!(
        failure.error,
        LoginError::MalformedCallback("state")
    ));
    assert!(failure.set_cookies.is_empty(), "login cookie kept");
}

#[test]
fn redirect_and_reply_debug_hide_the_location_query() {
    let manager = manager();
    let redirect = manager.begin_login(None).unwrap();
    let state = pending_of(&manager, &redirect).state.unwrap();
    assert!(redirect.location.contains(state.secret()));
    let debug = format!("{redirect:?}");
    assert!(!debug.contains(state.secret()), "{debug}");
    assert!(
        !debug.contains("nonce=") && !debug.contains("code_challenge"),
        "{debug}"
    );
    assert!(
        debug.contains(r#""https://example.genauth.ai/oidc/auth"?[redacted]"#),
        "{debug}"
    );
    let reply = Reply::from(redirect);
    let debug = format!("{reply:?}");
    assert!(
        !debug.contains(state.secret()) && !debug.contains("code_challenge"),
        "{debug}"
    );
    assert!(debug.contains("[redacted]"), "{debug}");
}
