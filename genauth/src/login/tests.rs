//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use crate::web::RequestHead;

#[test]
fn return_to_accepts_local_paths() {
    for ok in [
        "/",
        "/a",
        "/a/b?c=d&e=%2F#frag",
        "/a//b",
        "/@evil.com",
        "/%2F%2Fevil.com",
        "/a:b",
    ] {
        assert_eq!(safe_return_to(ok).as_deref(), Some(ok), "{ok}");
    }
    assert_eq!(
        safe_return_to("/caf\u{e9} x").as_deref(),
        Some("/caf%C3%A9%20x")
    );
}

#[test]
fn return_to_rejects_open_redirects() {
    for bad in [
        "",
        "a",
        "evil.com",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/a\\b",
        "https://evil.com",
        "http:/evil.com",
        "javascript:alert(1)",
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\n/evil.com",
        "/\u{0}",
        "\u{0}/",
        " /a",
        "./a",
        "?x=/",
        "#/",
    ] {
        assert_eq!(safe_return_to(bad), None, "{bad:?}");
    }
    assert_eq!(
        safe_return_to(&format!("/{}", "a".repeat(MAX_RETURN_TO_LEN))),
        None
    );
}

#[test]
fn login_redirect_encodes_return_to() {
    assert_eq!(
        login_redirect("/login", "/a?b=c&d"),
        "/login?return_to=%2Fa%3Fb%3Dc%26d"
    );
    assert_eq!(
        login_redirect("/auth/login?x=1", "/"),
        "/auth/login?x=1&return_to=%2F"
    );
}

#[test]
fn browsers_are_redirected_api_clients_are_not() {
    assert!(wants_login_redirect(
        "GET",
        Some("text/html,application/xhtml+xml"),
        false
    ));
    assert!(wants_login_redirect("POST", Some("text/html"), false));
    assert!(wants_login_redirect("GET", None, false));
    assert!(wants_login_redirect("GET", Some("*/*"), false));
    assert!(!wants_login_redirect(
        "GET",
        Some("application/json"),
        false
    ));
    assert!(!wants_login_redirect("GET", None, true));
    assert!(!wants_login_redirect("POST", None, false));
    assert!(!wants_login_redirect("DELETE", Some("*/*"), false));
}

#[test]
fn login_required_redirects_browsers_and_refuses_api_clients() {
    let browser = RequestHead::get("/a?b=1").with_header("accept", "text/html");
    let reply = login_required(&browser, "/auth/login");
    assert_eq!(reply.status, 302);
    assert_eq!(
        reply.header_value("location"),
        Some("/auth/login?return_to=%2Fa%3Fb%3D1")
    );
    let api = RequestHead::get("/").with_header("accept", "application/json");
    let reply = login_required(&api, "/login");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (401, "sign-in required\n")
    );
    assert_eq!(
        reply.header_value("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
fn callback_params_from_query() {
    let p = CallbackParams::from_query("code=a%2Bb&state=s&iss=https%3A%2F%2Fop&x=1&x=2").unwrap();
    assert_eq!(p.code.as_deref(), Some("a+b"));
    assert_eq!(p.state.as_deref(), Some("s"));
    assert_eq!(p.iss.as_deref(), Some("https://op"));
    let p = CallbackParams::from_query("error=access_denied&error_description=no%20way").unwrap();
    assert_eq!(p.error_description.as_deref(), Some("no way"));
    assert!(CallbackParams::from_query("").unwrap().code.is_none());
    let e = CallbackParams::from_query("code=a&state=s&code=b").unwrap_err();
    assert!(matches!(e, LoginError::MalformedCallback("code")));
    assert_eq!(e.status_code(), 400);
    let page = e.page("/login");
    assert_eq!(page.status, 400);
    assert!(page.body.starts_with("Sign-in failed.") && page.body.contains("/login"));
}

#[test]
fn return_to_from_query_takes_one_value() {
    assert_eq!(
        return_to_from_query("return_to=%2Fa%3Fb%3Dc&x=1").as_deref(),
        Some("/a?b=c")
    );
    assert_eq!(return_to_from_query("x=1"), None);
    assert_eq!(return_to_from_query("return_to=/a&return_to=/b"), None);
}

#[test]
fn provider_errors_are_4xx_and_sanitised() {
    let e = provider_error(&CallbackParams::error(
        "access_denied",
        Some("user said \"no\"\n".into()),
    ));
    assert_eq!(e.status_code(), 403);
    assert_eq!(
        e.to_string(),
        "the provider refused the sign-in: access_denied (user said \"no\"?)"
    );
    assert_eq!(
        provider_error(&CallbackParams::error("invalid_scope", None)).status_code(),
        400
    );
    assert_eq!(
        provider_error(&CallbackParams::error("login_required", None)).status_code(),
        400
    );
    assert_eq!(
        provider_error(&CallbackParams::error("server_error", None)).status_code(),
        502
    );
    let long = provider_error(&CallbackParams::error("x".repeat(1000), None));
    assert!(
        matches!(long, LoginError::Provider { ref error, .. } if error.len() == MAX_PROVIDER_TEXT_LEN)
    );
}

fn pending(state: Option<&str>) -> PendingLogin {
    PendingLogin {
        state: state.map(CsrfState::new),
        nonce: Some(Nonce::new("n")),
        code_verifier: Some(CodeVerifier::new("v")),
        return_to: "/".into(),
        redirect_uri: None,
        protocol: Protocol::Oidc,
        created_at: SystemTime::now(),
    }
}

#[test]
fn state_checks() {
    let p = pending(Some("s1"));
    assert!(check_state(&p, &CallbackParams::code("c", "s1")).is_ok());
    assert!(matches!(
        check_state(&p, &CallbackParams::code("c", "s2")),
        Err(LoginError::StateMismatch)
    ));
    assert!(matches!(
        check_state(&p, &CallbackParams::code("c", "s1x")),
        Err(LoginError::StateMismatch)
    ));
    let mut no_state = CallbackParams::code("c", "s1");
    no_state.state = None;
    assert!(matches!(
        check_state(&p, &no_state),
        Err(LoginError::MissingState)
    ));
    assert!(matches!(
        check_state(&pending(None), &CallbackParams::code("c", "")),
        Err(LoginError::StateMismatch)
    ));
    assert_eq!(LoginError::StateMismatch.status_code(), 400);
}

#[test]
fn pending_login_expiry_and_serde() {
    let mut p = pending(Some("s"));
    assert!(!p.is_expired(SystemTime::now(), LOGIN_TIMEOUT));
    p.created_at = SystemTime::now() - LOGIN_TIMEOUT - Duration::from_secs(1);
    assert!(p.is_expired(SystemTime::now(), LOGIN_TIMEOUT));
    assert!(matches!(
        check_age(&p, LOGIN_TIMEOUT),
        Err(LoginError::Expired)
    ));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["protocol"], "oidc");
    let back: PendingLogin = serde_json::from_value(json).unwrap();
    assert_eq!(back.state, p.state);
    assert!(!format!("{p:?}").contains("\"s\""));
}

#[test]
fn error_callbacks_must_carry_the_logins_state() {
    let p = pending(Some("s1"));
    let forged = CallbackParams::error("access_denied", Some("attacker text".into()));
    assert!(matches!(
        check_state(&p, &forged),
        Err(LoginError::StateMismatch)
    ));
    assert!(matches!(
        check_state(&p, &forged.clone().with_state("s2")),
        Err(LoginError::StateMismatch)
    ));
    assert!(check_state(&p, &forged.with_state("s1")).is_ok());
    assert!(LoginError::StateMismatch.is_foreign_callback());
    assert!(LoginError::MissingState.is_foreign_callback());
    assert!(LoginError::CasServiceMismatch.is_foreign_callback());
    assert!(!LoginError::Expired.is_foreign_callback());
    assert!(!provider_error(&CallbackParams::error("x", None)).is_foreign_callback());
}

#[test]
fn cas_service_binding() {
    let callback = Url::parse("https://app.example.com/callback").unwrap();
    let a = bind_cas_service(&callback).unwrap();
    let b = bind_cas_service(&callback).unwrap();
    assert_ne!(a, b, "unique per login");
    let value = cas_login_of(&a).unwrap();
    assert_eq!(value.len(), 43);
    assert_eq!(
        a.as_str(),
        format!("https://app.example.com/callback?genauth_login={value}")
    );
    // An existing query is kept as it is.
    let with_query = Url::parse("https://app.example.com/cb?tenant=a%20b").unwrap();
    let bound = bind_cas_service(&with_query).unwrap();
    assert!(
        bound
            .as_str()
            .starts_with("https://app.example.com/cb?tenant=a%20b&genauth_login="),
        "{bound}"
    );

    let mut p = pending(None);
    p.protocol = Protocol::Cas;
    p.redirect_uri = Some(a.clone());
    let ticket = CallbackParams::ticket("ST-1");
    assert!(check_cas_login(&p, &ticket.clone().with_cas_login(&value)).is_ok());
    let other = cas_login_of(&b).unwrap();
    for params in [ticket.clone(), ticket.clone().with_cas_login(other)] {
        assert!(matches!(
            check_cas_login(&p, &params),
            Err(LoginError::CasServiceMismatch)
        ));
    }
    assert_eq!(LoginError::CasServiceMismatch.status_code(), 400);
    // Binding off: nothing to compare.
    p.redirect_uri = Some(callback);
    assert!(check_cas_login(&p, &ticket).is_ok());

    let parsed =
        CallbackParams::from_query(&format!("{}&ticket=ST-1", a.query().unwrap())).unwrap();
    assert_eq!(parsed.cas_login.as_deref(), Some(value.as_str()));
    assert!(matches!(
        CallbackParams::from_query("genauth_login=a&genauth_login=b"),
        Err(LoginError::MalformedCallback("genauth_login"))
    ));
    // Debug shows neither the binding of the pending login nor the callback's.
    p.redirect_uri = Some(a);
    assert!(!format!("{p:?}").contains(&value), "{p:?}");
    assert!(!format!("{parsed:?}").contains(&value), "{parsed:?}");
}

#[test]
fn login_age_is_checked_against_the_given_ttl() {
    let mut p = pending(Some("s"));
    p.created_at = SystemTime::now() - Duration::from_secs(120);
    assert!(check_age(&p, LOGIN_TIMEOUT).is_ok());
    assert!(matches!(
        check_age(&p, Duration::from_secs(60)),
        Err(LoginError::Expired)
    ));
    p.created_at = SystemTime::now() - Duration::from_secs(15 * 60);
    assert!(check_age(&p, Duration::from_secs(30 * 60)).is_ok());
}

#[test]
fn unverifiable_id_tokens_are_400_unreachable_keys_503() {
    use crate::validator::ValidationError;
    for e in [
        ValidationError::InvalidSignature,
        ValidationError::Malformed("x".into()),
        ValidationError::InvalidClaims("nonce".into()),
    ] {
        assert_eq!(LoginError::Client(Error::Validation(e)).status_code(), 400);
    }
    assert_eq!(
        LoginError::Client(Error::Validation(ValidationError::NoUsableKeys)).status_code(),
        503
    );
}

#[test]
fn callback_params_debug_redacts_code() {
    let p = CallbackParams::code("the-code", "the-state");
    let debug = format!("{p:?}");
    assert!(
        !debug.contains("the-code") && !debug.contains("the-state"),
        "{debug}"
    );
}
