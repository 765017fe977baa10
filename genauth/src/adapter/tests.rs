//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::bearer::Authenticated;
use crate::claims::{Claims, ExtraClaims};
use crate::session::Session;
use crate::session::tests::{login_state, manager, user};
use crate::types::AccessToken;
use crate::web::{Reply, RequestHead};
use std::sync::Arc;

#[test]
fn extractions_tell_misuse_from_absence() {
    // No middleware: an error also for `Option<_>`.
    let e = extract_claims::<ExtraClaims>(None).unwrap_err();
    assert_eq!(
        (e.clone(), e.status_code()),
        (ExtractError::MissingBearerLayer, 500)
    );
    assert!(optional(Err::<(), _>(e)).is_err());
    assert_eq!(
        extract_access_token(None, None).unwrap_err(),
        ExtractError::MissingAuthLayer
    );
    assert_eq!(
        extract_user(None).unwrap_err(),
        ExtractError::MissingSessionLayer
    );

    // Anonymous: absences, `None` for `Option<_>`.
    let anonymous = BearerContext {
        authenticated: None,
        realm: Arc::from("r"),
    };
    let e = extract_claims::<ExtraClaims>(Some(&anonymous)).unwrap_err();
    assert!(e.is_absence());
    let reply = e.reply();
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header_value("www-authenticate"),
        Some(r#"Bearer realm="r""#)
    );
    assert_eq!(optional(Err::<(), _>(e)).unwrap(), None);
    let signed_out = SessionContext::default();
    assert_eq!(
        extract_user(Some(&signed_out)).unwrap_err(),
        ExtractError::NotSignedIn
    );
    assert_eq!(
        extract_access_token(Some(&anonymous), Some(&signed_out)).unwrap_err(),
        ExtractError::NoAccessToken
    );

    // Signed in: values; a CAS session has no tokens.
    let cas = SessionContext::from(Some(Session::new(user())));
    assert_eq!(extract_user(Some(&cas)).unwrap().sub, "u-1");
    assert_eq!(
        extract_login_state(Some(&cas)).unwrap_err(),
        ExtractError::NoLoginState
    );
    let oidc = SessionContext::from(Some(Session::with_tokens(user(), login_state(1))));
    assert_eq!(
        extract_access_token(None, Some(&oidc)).unwrap().secret(),
        "at-secret"
    );

    // A bearer token wins over the session; claims that do not fit the type are invalid.
    let claims: Claims = serde_json::from_value(serde_json::json!({"sub": "b"})).unwrap();
    let bearer = BearerContext {
        authenticated: Some(Authenticated {
            token: AccessToken::new("bt"),
            claims: Arc::new(claims),
        }),
        realm: Arc::from("api"),
    };
    assert_eq!(
        extract_access_token(Some(&bearer), Some(&oidc))
            .unwrap()
            .secret(),
        "bt"
    );
    #[derive(Debug, serde::Deserialize)]
    struct Tenant {
        #[allow(dead_code)]
        tenant: String,
    }
    let e = extract_claims::<Tenant>(Some(&bearer)).unwrap_err();
    assert!(matches!(e, ExtractError::InvalidClaims { .. }) && !e.is_absence());
    assert!(e.body_text().contains("invalid_token"));
    assert_eq!(
        extract_claims::<ExtraClaims>(Some(&bearer))
            .unwrap()
            .sub
            .as_deref(),
        Some("b")
    );
}

/// A framework whose responses are the core's replies.
struct Plain;

impl Framework for Plain {
    type Response = Reply;

    fn response(reply: Reply) -> Reply {
        reply
    }

    fn add_cookies(response: &mut Reply, cookies: &[cookie::Cookie<'_>]) {
        *response = response.clone().with_cookies(cookies);
    }
}

fn proceed(step: SessionStep) -> Proceed {
    match step {
        SessionStep::Proceed(proceed) => proceed,
        other => panic!("expected Proceed, got {other:?}"),
    }
}

#[test]
fn handler_cookies_decide_the_session() {
    let m = manager();
    let removal = m
        .get_cookie_settings()
        .removal("genauth_session".into())
        .to_string();
    assert!(m.writes_session([removal.as_bytes()]));
    assert!(m.writes_session([b"genauth_session.2=x; Path=/".as_slice()]));
    assert!(!m.writes_session([b"genauth_login=x; Path=/".as_slice()]));
    assert!(!m.writes_session([b"genauth_sessionx=1".as_slice(), b"other=1".as_slice()]));
    assert!(!m.writes_session(std::iter::empty::<&[u8]>()));
}

#[test]
fn the_gate_reuses_its_own_context_loads_otherwise_and_requires_login() {
    let m = Arc::new(manager());
    let stored = m
        .store(
            &Session::new(user()),
            &crate::web::RequestCookies::default(),
        )
        .unwrap();
    let cookie = format!("{}={}", stored[0].name(), stored[0].value());
    let signed_in = || RequestHead::get("/page?x=1").with_header("cookie", &cookie);
    let gate = SessionGate::new(Arc::clone(&m));

    // Loaded from the cookie: a context of this manager, no cookies to add.
    let first = proceed(gate.before(None, signed_in()));
    let context = first.context.clone().unwrap();
    assert!(context.is_loaded_by(&m) && context.is_signed_in());
    assert!(!first.has_cookies());
    // An inner gate of the same manager keeps that context, even without the cookie.
    let inner = proceed(gate.before(Some(&context), RequestHead::get("/")));
    assert!(inner.context.is_none());
    // Another manager's context is replaced by this gate's own (here: not signed in).
    let other = Arc::new(manager());
    let foreign = SessionContext::new(Some(Session::new(user())), &other);
    let replaced = proceed(gate.before(Some(&foreign), RequestHead::get("/")));
    assert!(!replaced.context.unwrap().is_signed_in());

    // Login required: browsers go to sign in, returning to the page; API clients get 401.
    let required = gate.clone().require_login("/auth/login");
    assert!(matches!(
        required.before(None, signed_in()),
        SessionStep::Proceed(_)
    ));
    let browser = RequestHead::get("/page?x=1").with_header("accept", "text/html");
    let SessionStep::Respond(reply) = required.before(None, browser) else {
        panic!("a browser without a session is sent to sign in");
    };
    assert_eq!(
        (reply.status, reply.header_value("location")),
        (302, Some("/auth/login?return_to=%2Fpage%3Fx%3D1"))
    );
    let api = RequestHead::get("/page").with_header("accept", "application/json");
    let SessionStep::Respond(reply) = required.before(None, api) else {
        panic!("an API client without a session gets 401");
    };
    assert_eq!(reply.status, 401);
    // A signed-out context of this manager is not signed in either.
    let signed_out = SessionContext::new(None, &m);
    assert!(matches!(
        required.before(Some(&signed_out), RequestHead::get("/")),
        SessionStep::Respond(_)
    ));
}

#[tokio::test]
async fn logout_route_ends_only_this_managers_loaded_session() {
    let routes = SignInRoutes::<Plain>::new(manager());
    let m = Arc::clone(routes.manager());
    let mut tokens = login_state(0);
    tokens.id_token = Some(crate::types::IdToken::new("refreshed-id-token"));
    let refreshed = Session::with_tokens(user(), tokens);
    // A request carrying a fresh session's cookie (a logout ends the session it ends).
    let signed_in = || {
        let stored = m
            .store(
                &Session::with_tokens(user(), login_state(0)),
                &crate::web::RequestCookies::default(),
            )
            .unwrap();
        RequestHead::get("/logout").with_header(
            "cookie",
            format!("{}={}", stored[0].name(), stored[0].value()),
        )
    };
    let request = signed_in();
    let hint = |reply: &Reply| {
        let location = reply.header_value("location").unwrap_or_default();
        url::Url::parse(location)
            .unwrap()
            .query_pairs()
            .find(|(name, _)| name == "id_token_hint")
            .map(|(_, value)| value.into_owned())
    };
    let ours = SessionContext::new(Some(refreshed.clone()), &m);
    let reply = routes.logout(&request, Some(&ours)).await;
    assert_eq!(hint(&reply).as_deref(), Some("refreshed-id-token"));
    assert!(
        m.writes_session(
            reply
                .headers
                .iter()
                .filter(|(n, _)| *n == "set-cookie")
                .map(|(_, v)| v.as_bytes())
        )
    );
    // Another manager's session, or a context of no manager, is not this manager's: the cookie's
    // session is ended.
    let other = Arc::new(manager());
    for foreign in [
        SessionContext::new(Some(refreshed.clone()), &other),
        SessionContext::from(Some(refreshed.clone())),
        SessionContext::default(),
    ] {
        assert!(!foreign.is_loaded_by(&m));
        let reply = routes.logout(&signed_in(), Some(&foreign)).await;
        assert_eq!(hint(&reply).as_deref(), Some("id-secret"));
    }
    // Another site's logout is refused, and nothing is removed.
    let cross = request.clone().with_header("sec-fetch-site", "cross-site");
    let reply = routes.logout(&cross, Some(&ours)).await;
    assert_eq!(reply.status, 403);
    assert!(reply.header_value("set-cookie").is_none());
}

#[test]
fn extraction_failures_answer_as_the_core_says() {
    assert_eq!(
        ExtractError::NotSignedIn.reply(),
        Reply::text(401, "sign-in required")
    );
    assert_eq!(ExtractError::MissingSessionLayer.reply().status, 500);
}

#[test]
fn the_refresh_future_is_send_and_static() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let m = Arc::new(manager());
    // An access token expiring within the refresh skew: the gate asks for a refresh.
    let mut tokens = login_state(0);
    tokens.expires_at = Some(std::time::SystemTime::now() + std::time::Duration::from_secs(30));
    let stored = m
        .store(
            &Session::with_tokens(user(), tokens),
            &crate::web::RequestCookies::default(),
        )
        .unwrap();
    let request = RequestHead::get("/").with_header(
        "cookie",
        format!("{}={}", stored[0].name(), stored[0].value()),
    );
    let SessionStep::Refresh(refresh) = SessionGate::new(m).before(None, request) else {
        panic!("a session due for refresh");
    };
    let future = refresh.run();
    assert_send_static(&future);
}
