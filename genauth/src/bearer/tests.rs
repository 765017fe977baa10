//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
use super::*;

fn parse(v: &str) -> Result<&str, BearerError> {
    parse_authorization_value(v.as_bytes())
}

#[test]
fn claims_as_the_default_type_or_a_custom_one() {
    let claims: Claims = serde_json::from_value(serde_json::json!({
        "sub": "u1", "scope": "read", "tenant": "t1"
    }))
    .unwrap();
    let authenticated = Authenticated {
        token: AccessToken::new("t"),
        claims: Arc::new(claims.clone()),
    };
    // The default type: the claims themselves.
    assert_eq!(
        authenticated.claims_as::<crate::ExtraClaims>().unwrap(),
        claims
    );
    // A custom type: deserialized from the claims.
    #[derive(serde::Deserialize, Debug)]
    struct Tenant {
        tenant: String,
    }
    assert_eq!(
        authenticated.claims_as::<Tenant>().unwrap().extra.tenant,
        "t1"
    );
    #[derive(serde::Deserialize, Debug)]
    struct NeedsRole {
        #[allow(dead_code)]
        role: String,
    }
    assert!(authenticated.claims_as::<NeedsRole>().is_err());
}

#[test]
fn bearer_scheme_is_case_insensitive_and_token_is_b64token() {
    assert_eq!(parse("Bearer abc").unwrap(), "abc");
    assert_eq!(parse("bearer abc").unwrap(), "abc");
    assert_eq!(parse("BEARER  a-b.c_d~e+f/g==").unwrap(), "a-b.c_d~e+f/g==");
    assert_eq!(parse(" Bearer abc ").unwrap(), "abc");
}

#[test]
fn malformed_headers_are_invalid_request() {
    for bad in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer a\"b",
        "Bearer =",
        "Bearer a=b",
        "Bearerabc",
        "Token abc",
        "",
    ] {
        let err = parse(bad).unwrap_err();
        assert!(matches!(err, BearerError::InvalidRequest(_)), "{bad:?}");
        assert_eq!(err.status_code(), 400);
        assert_eq!(err.error_code(), Some("invalid_request"));
    }
    assert!(parse_authorization_value(b"Bearer \xff").is_err());
}

#[test]
fn missing_and_repeated_headers() {
    assert_eq!(parse_authorization(Vec::<&[u8]>::new()).unwrap(), None);
    let err = parse_authorization([b"Bearer a".as_slice(), b"Bearer b".as_slice()]).unwrap_err();
    assert_eq!(err.status_code(), 400);
}

#[test]
fn missing_token_challenge_has_no_error_code() {
    let err = BearerError::MissingToken;
    assert_eq!(err.status_code(), 401);
    assert_eq!(
        err.www_authenticate("api").unwrap(),
        r#"Bearer realm="api""#
    );
    assert_eq!(err.json_body()["error"], "unauthorized");
}

#[test]
fn invalid_token_challenge() {
    let err = BearerError::from_validation(ValidationError::Malformed("not a \"JWT\"\n\\".into()));
    assert_eq!(err.status_code(), 401);
    let challenge = err.www_authenticate("my \"realm\"\\").unwrap();
    assert_eq!(
        challenge,
        r#"Bearer realm="my \"realm\"\\", error="invalid_token", error_description="malformed token: not a 'JWT'?/""#
    );
}

#[test]
fn description_is_restricted_and_bounded() {
    let long = "é".repeat(300);
    let d = sanitize_description(long.clone());
    assert_eq!(d.len(), MAX_DESCRIPTION_LEN);
    assert!(
        d.bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    );
    let quoted = |value: &str| {
        let mut out = String::new();
        push_quoted_string(&mut out, value);
        out
    };
    assert_eq!(quoted("a\u{7}b"), "ab");
    assert_eq!(quoted(r#"my "realm" \ x"#), r#"my \"realm\" \\ x"#);
    assert_eq!(quoted("plain realm"), "plain realm");
}

#[test]
fn provider_unavailable_is_503_without_challenge() {
    let err = BearerError::from_validation(ValidationError::NoUsableKeys);
    assert_eq!(err.status_code(), 503);
    assert_eq!(err.error_code(), None);
    assert_eq!(err.www_authenticate("api"), None);
    assert_eq!(err.json_body()["error"], "temporarily_unavailable");
    let bad = BearerError::from_validation(ValidationError::InvalidSignature);
    assert_eq!(bad.status_code(), 401);
    assert_eq!(bad.error_code(), Some("invalid_token"));
}

#[tokio::test]
async fn authenticator_flow() {
    let validator = |token: String| async move {
        match token.as_str() {
            "good" => Ok(serde_json::from_value::<Claims>(
                serde_json::json!({"sub": "u", "scope": "read"}),
            )
            .unwrap()),
            "down" => Err(ValidationError::NoUsableKeys),
            _ => Err(ValidationError::Rejected("unknown".into())),
        }
    };
    let auth = BearerAuthenticator::new(validator);
    let h = |v: &'static str| [v.as_bytes()];
    let ok = auth.authenticate(h("Bearer good")).await.unwrap().unwrap();
    assert_eq!(ok.claims.sub.as_deref(), Some("u"));
    assert_eq!(ok.token.secret(), "good");
    assert_eq!(
        auth.authenticate(h("Bearer bad"))
            .await
            .unwrap_err()
            .status_code(),
        401
    );
    assert_eq!(
        auth.authenticate(h("Bearer down"))
            .await
            .unwrap_err()
            .status_code(),
        503
    );
    assert_eq!(
        auth.authenticate(h("Basic x"))
            .await
            .unwrap_err()
            .status_code(),
        400
    );
    assert!(matches!(
        auth.authenticate(std::iter::empty()).await,
        Err(BearerError::MissingToken)
    ));
    let scoped = auth.clone().required_scopes(["write"]);
    assert_eq!(
        scoped
            .authenticate(h("Bearer good"))
            .await
            .unwrap_err()
            .status_code(),
        403
    );
    let optional = auth.optional();
    assert!(
        optional
            .authenticate(std::iter::empty())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        optional
            .authenticate(h("Bearer bad"))
            .await
            .unwrap_err()
            .status_code(),
        401
    );
}

#[test]
fn insufficient_scope_lists_required_scopes() {
    let claims: Claims =
        serde_json::from_value(serde_json::json!({"scope": "openid read"})).unwrap();
    assert!(check_scopes(&claims, &["read"]).is_ok());
    assert!(check_scopes::<_, &str>(&claims, &[]).is_ok());
    let err = check_scopes(&claims, &["read", "write"]).unwrap_err();
    assert_eq!(err.status_code(), 403);
    assert_eq!(
        err.www_authenticate("api").unwrap(),
        r#"Bearer realm="api", error="insufficient_scope", error_description="the token lacks a scope this resource requires", scope="read write""#
    );
}

#[test]
fn default_replies() {
    let reply = BearerError::MissingToken.reply("api");
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header_value("www-authenticate"),
        Some(r#"Bearer realm="api""#)
    );
    assert_eq!(reply.header_value("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reply.body).unwrap()["error"],
        "unauthorized"
    );
    let reply = BearerError::ProviderUnavailable(ValidationError::NoUsableKeys).reply("api");
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header_value("www-authenticate"), None);
    assert_eq!(reply.header_value("retry-after"), Some("5"));
    assert!(reply.body.contains("temporarily_unavailable"));
}

#[test]
fn the_reply_is_the_challenge_and_json_body_written_once() {
    let errors = [
        BearerError::MissingToken,
        BearerError::InvalidRequest("the bearer token is empty"),
        BearerError::InvalidToken(ValidationError::Malformed(
            "a \"quoted\" \\ reason\n".into(),
        )),
        BearerError::InsufficientScope {
            required: "read write".into(),
        },
        BearerError::ProviderUnavailable(ValidationError::Overloaded),
    ];
    for error in errors {
        let reply = error.reply("my \"realm\"");
        assert_eq!(reply.status, error.status_code());
        assert_eq!(reply.body, error.json_body().to_string(), "{error:?}");
        assert_eq!(
            reply.header_value("www-authenticate").map(str::to_owned),
            error.www_authenticate("my \"realm\""),
            "{error:?}"
        );
        assert_eq!(reply.header_value("content-type"), Some("application/json"));
    }
}

/// What the adapters send ([`BearerAuthenticator::error_reply`]) is [`BearerError::reply`] without
/// DPoP or resource metadata, byte for byte; with resource metadata, the challenge gains
/// `resource_metadata` and the body stays the same.
#[cfg(feature = "testing")]
#[test]
fn the_layers_reply_matches_the_plain_reply() {
    let issuer = crate::testing::TestIssuer::new();
    let auth = BearerAuthenticator::new(issuer.validator()).realm("my \"realm\"");
    let errors = [
        BearerError::MissingToken,
        BearerError::InvalidToken(ValidationError::Malformed("not a \"JWS\"".into())),
        BearerError::InsufficientScope {
            required: "read write".into(),
        },
        BearerError::ProviderUnavailable(ValidationError::Overloaded),
    ];
    for error in &errors {
        let plain = error.reply("my \"realm\"");
        let layer = auth.error_reply(error);
        assert_eq!(layer, plain, "{error:?}");
    }
    let metadata = crate::resource_metadata::ProtectedResourceMetadata::new("https://api.test")
        .unwrap_or_else(|e| panic!("metadata: {e}"));
    let resource = auth.protected_resource(&metadata);
    let reply = resource.error_reply(&errors[1]);
    assert_eq!(reply.body, errors[1].json_body().to_string());
    let challenge = reply.header_value("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(
            errors[1]
                .www_authenticate("my \"realm\"")
                .unwrap_or_default()
                .as_str()
        ),
        "{challenge}"
    );
    assert!(
        challenge.ends_with(
            r#", resource_metadata="https://api.test/.well-known/oauth-protected-resource""#
        ),
        "{challenge}"
    );
}
