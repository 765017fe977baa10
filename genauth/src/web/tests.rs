//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;
use cookie::Cookie;

#[test]
fn request_cookies_parse() {
    let cookies = RequestCookies::from_headers([
        b"a=1; b=\"2\"; junk; =x".as_slice(),
        b"a=3;c=4".as_slice(),
        b"\xff=1".as_slice(),
    ]);
    // `a` is sent twice: which one is genuine cannot be told.
    assert_eq!(cookies.get("a"), None);
    assert!(cookies.contains("a"));
    assert_eq!(cookies.get("b"), Some("2"));
    assert_eq!(cookies.get("c"), Some("4"));
    assert!(!cookies.contains("junk"));
    assert_eq!(format!("{cookies:?}"), r#"["a", "b", "a", "c"]"#);
}

#[test]
fn request_cookies_trim_only_sp_and_htab_and_skip_non_token_names() {
    let host = "__Host-genauth_session";
    // NBSP (and other Unicode whitespace) is part of the name, which is then no token: the
    // sibling subdomain's cookie does not pose as the `__Host-` one.
    let cookies = RequestCookies::from_headers([
        "\u{A0}__Host-genauth_session=ATTACKER; __Host-genauth_session=VICTIM".as_bytes(),
    ]);
    assert_eq!(cookies.get(host), Some("VICTIM"));
    for forged in [
        "\u{2003}__Host-genauth_session",
        "__Host-genauth_session\u{A0}",
        "a b",
        "a(b",
        "a\u{1}b",
    ] {
        let header = format!("{forged}=X; {host}=VICTIM");
        let cookies = RequestCookies::from_headers([header.as_bytes()]);
        assert_eq!(cookies.get(host), Some("VICTIM"), "{forged:?}");
        assert_eq!(format!("{cookies:?}"), format!("[{host:?}]"), "{forged:?}");
    }
    // SP and HTAB around names and values are trimmed.
    let cookies = RequestCookies::from_headers([b"\t a = 1 \t;b=2".as_slice()]);
    assert_eq!((cookies.get("a"), cookies.get("b")), (Some("1"), Some("2")));
}

#[test]
fn request_head_reads_target_headers_and_cookies() {
    let head = RequestHead::new(
        "POST",
        "/auth/callback?code=secret-code&state=s",
        [
            ("Cookie", b"a=1".as_slice()),
            ("accept", b"text/html".as_slice()),
            ("cookie", b"b=2".as_slice()),
            ("x-raw", b"\xff".as_slice()),
        ],
    );
    assert_eq!(head.method(), "POST");
    assert_eq!(head.path(), "/auth/callback");
    assert_eq!(head.query(), "code=secret-code&state=s");
    assert_eq!(
        (head.cookies().get("a"), head.cookies().get("b")),
        (Some("1"), Some("2"))
    );
    assert_eq!(head.header("ACCEPT"), Some("text/html"));
    // Not UTF-8: present, but no text value.
    assert!(head.has_header("x-raw") && head.header("x-raw").is_none());
    assert!(!head.has_header("authorization"));
    let debug = format!("{head:?}");
    assert!(
        !debug.contains("secret-code") && !debug.contains("a=1"),
        "{debug}"
    );
    assert!(debug.contains(r#""/auth/callback"?[redacted]"#), "{debug}");

    let plain = RequestHead::get("/").with_header("Cookie", "c=3");
    assert_eq!((plain.query(), plain.cookies().get("c")), ("", Some("3")));
}

#[test]
fn redirect_and_reply_debug_hide_the_location_query() {
    let redirect = Redirect {
        location: "https://example.genauth.ai/oidc/auth?state=secret-state&nonce=n".into(),
        set_cookies: vec![Cookie::new("genauth_login", "sealed-value")],
    };
    let debug = format!("{redirect:?}");
    assert!(
        !debug.contains("secret-state") && !debug.contains("nonce=") && !debug.contains("sealed"),
        "{debug}"
    );
    assert!(
        debug.contains(r#""https://example.genauth.ai/oidc/auth"?[redacted]"#),
        "{debug}"
    );
    let debug = format!("{:?}", Reply::from(redirect));
    assert!(
        !debug.contains("secret-state") && !debug.contains("sealed"),
        "{debug}"
    );
    let cas = Redirect {
        location:
            "https://cas.example/login?service=https%3A%2F%2Fapp%2Fcb%3Fgenauth_login%3Dsecret"
                .into(),
        set_cookies: Vec::new(),
    };
    assert!(!format!("{cas:?}").contains("genauth_login"));
    assert!(!format!("{:?}", Reply::from(cas)).contains("genauth_login"));
    // Without a query the location shows as it is.
    let plain = format!("{:?}", Reply::redirect("/profile"));
    assert!(plain.contains(r#"("location", "/profile")"#), "{plain}");
}

#[test]
fn replies() {
    let redirect = Redirect {
        location: "/next".into(),
        set_cookies: vec![Cookie::new("genauth_session", "sealed-value")],
    };
    let reply = Reply::from(redirect);
    assert_eq!(reply.status, 302);
    assert_eq!(reply.header_value("location"), Some("/next"));
    assert_eq!(reply.header_value("cache-control"), Some("no-store"));
    assert_eq!(
        reply.header_value("set-cookie"),
        Some("genauth_session=sealed-value")
    );
    assert!(!format!("{reply:?}").contains("sealed-value"));
    let text = Reply::text(401, "no");
    assert_eq!(text.header_value("x-content-type-options"), Some("nosniff"));
    // Session cookies make any reply uncacheable, whatever `Cache-Control` it had.
    let json = Reply::json(200, &serde_json::json!({}))
        .header("cache-control", "public, max-age=60")
        .with_cookies(&[Cookie::new("genauth_session", "v")]);
    let cache_control: Vec<_> = json
        .headers
        .iter()
        .filter(|(name, _)| *name == "cache-control")
        .collect();
    assert_eq!(
        cache_control,
        [&("cache-control", SESSION_CACHE_CONTROL.to_owned())]
    );
    let untouched = Reply::json(200, &serde_json::json!({})).with_cookies(&[]);
    assert_eq!(untouched.header_value("cache-control"), None);
}
