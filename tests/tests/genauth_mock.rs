//! GenAuth-specific endpoints and fault injection, against a local HTTP mock serving the shapes of
//! `shared/spec/genauth-protocol.md` (the standard flows run against a real OpenID Provider in
//! `oidc_flows.rs`).

use base64::Engine as _;
use genauth::cas::CasFormat;
use genauth::introspection::{OnlineToken, TokenTypeHint};
use genauth::{Client, ClientAuthMethod, ClientConfig, ClientSecret, Error, Nonce, Protocol};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const APP_ID: &str = "app1";
const SECRET: &str = "app-secret-123";

fn config(server: &MockServer) -> genauth::ClientConfigBuilder {
    ClientConfig::builder(APP_ID)
        .client_secret(SECRET)
        .app_host(server.uri())
        .redirect_uri("http://127.0.0.1:3000/callback")
}

fn client(builder: genauth::ClientConfigBuilder) -> Client {
    Client::new(builder.build().expect("config")).expect("client")
}

fn form(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn has(form: &[(String, String)], key: &str) -> bool {
    form.iter().any(|(k, _)| k == key)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token_json() -> serde_json::Value {
    json!({"access_token": "0123456789abcdef0123456789abcdef01234567", "expires_in": 1209599,
           "token_type": "Bearer", "refresh_token": "r1", "scope": "user"})
}

#[tokio::test]
async fn oauth2_mode_uses_oauth_paths_and_client_secret_basic() {
    let server = MockServer::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{APP_ID}:{SECRET}"));
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json()))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(
        config(&server)
            .protocol(Protocol::OAuth2)
            .token_auth_method(ClientAuthMethod::ClientSecretBasic),
    );
    let state = c
        .login_state_from_code("code1", None, None, None)
        .await
        .unwrap();
    assert_eq!(state.expires_in_secs, Some(1209599));
    assert!(state.id_token.is_none() && state.access_token_claims.is_none());
    assert_eq!(state.refresh_token.unwrap().secret(), "r1");
    let received = &server.received_requests().await.unwrap()[0];
    let form = form(received);
    assert!(!has(&form, "client_secret") && !has(&form, "client_id"));
    assert!(form.contains(&(
        "redirect_uri".into(),
        "http://127.0.0.1:3000/callback".into()
    )));
    assert!(form.contains(&("code".into(), "code1".into())));
}

#[tokio::test]
async fn client_secret_post_and_none_put_credentials_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json()))
        .mount(&server)
        .await;
    let post = client(config(&server).protocol(Protocol::OAuth2));
    post.refresh_token(&genauth::RefreshToken::new("r1"))
        .await
        .unwrap();
    let public = client(
        ClientConfig::builder(APP_ID)
            .app_host(server.uri())
            .redirect_uri("http://127.0.0.1:3000/callback")
            .protocol(Protocol::OAuth2)
            .auth_method(ClientAuthMethod::None),
    );
    let verifier = genauth::CodeVerifier::generate().unwrap();
    public
        .exchange_code("c", Some(&verifier), None)
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let first = form(&requests[0]);
    assert!(first.contains(&("client_id".into(), APP_ID.into())));
    assert!(first.contains(&("client_secret".into(), SECRET.into())));
    assert!(first.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(requests[0].headers.get("authorization").is_none());
    let second = form(&requests[1]);
    assert!(second.contains(&("client_id".into(), APP_ID.into())));
    assert!(!has(&second, "client_secret"));
    assert!(second.contains(&("code_verifier".into(), verifier.secret().into())));
}

#[tokio::test]
async fn token_endpoint_errors_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_grant", "error_description": "code expired"}),
            ),
        )
        .mount(&server)
        .await;
    let c = client(config(&server));
    let err = c.exchange_code("old", None, None).await.unwrap_err();
    match &err {
        Error::OAuth {
            error,
            error_description,
            status,
            ..
        } => {
            assert_eq!(error, "invalid_grant");
            assert_eq!(error_description.as_deref(), Some("code expired"));
            assert_eq!(*status, 400);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.status_code(), 400);
    assert!(!err.to_string().contains(SECRET));
}

#[tokio::test]
async fn client_credentials_send_the_key_pair_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "m2m", "expires_in": 3600, "token_type": "Bearer",
            "scope": "book:read", "rejected_scope": "table:write"
        })))
        .mount(&server)
        .await;
    let c = client(config(&server).token_auth_method(ClientAuthMethod::ClientSecretBasic));
    let r = c
        .client_credentials("AK1", &ClientSecret::new("SK1"), "book:read table:write")
        .await
        .unwrap();
    assert_eq!(r.rejected_scope.as_deref(), Some("table:write"));
    let req = &server.received_requests().await.unwrap()[0];
    let f = form(req);
    assert!(f.contains(&("client_id".into(), "AK1".into())));
    assert!(f.contains(&("client_secret".into(), "SK1".into())));
    assert!(f.contains(&("scope".into(), "book:read table:write".into())));
    assert!(req.headers.get("authorization").is_none());
    assert!(matches!(
        c.client_credentials("AK1", &ClientSecret::new("SK1"), " ")
            .await,
        Err(Error::Config(_))
    ));
}

/// GenAuth apps may sign ID tokens with HS256 and the app secret (spec §5).
fn hs256_id_token(secret: &str, issuer: &str, nonce: &str, access_token: &str) -> String {
    let hash = genauth_tests::op::sha256(access_token.as_bytes());
    let at_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..16]);
    let claims = json!({
        "sub": "user1", "aud": APP_ID, "iss": issuer, "iat": now(), "exp": now() + 3600,
        "nonce": nonce, "at_hash": at_hash, "name": "Alice"
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn hs256_id_tokens_signed_with_the_app_secret() {
    let server = MockServer::start().await;
    let issuer = format!("{}/oidc", server.uri());
    let access_token = "opaque-access-token";
    let id_token = hs256_id_token(SECRET, &issuer, "n1", access_token);
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access_token, "id_token": id_token, "expires_in": 3600,
            "token_type": "Bearer", "scope": "openid profile"
        })))
        .mount(&server)
        .await;
    // The JWKS is never needed for HS256.
    Mock::given(path("/oidc/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;

    let allowed = client(config(&server).allow_hs256_id_tokens(true));
    let state = allowed
        .login_state_from_code("c", None, None, Some(&Nonce::new("n1")))
        .await
        .unwrap();
    let claims = state.id_token_claims.unwrap();
    assert_eq!(claims.sub.as_deref(), Some("user1"));
    assert_eq!(claims.extra["name"], "Alice");

    // Wrong nonce.
    let err = allowed
        .login_state_from_code("c", None, None, Some(&Nonce::new("other")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    // HS256 not allowed (the default): rejected, never verified with a guessed key.
    let strict = client(config(&server));
    let err = strict
        .login_state_from_code("c", None, None, Some(&Nonce::new("n1")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    // Signed with another secret.
    let forged = hs256_id_token("not-the-secret", &issuer, "n1", access_token);
    let err = allowed
        .verify_id_token::<genauth::ExtraClaims>(
            &forged,
            &genauth::jwt::IdTokenChecks {
                client_id: APP_ID,
                nonce: None,
                access_token: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
}

#[tokio::test]
async fn legacy_validate_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oidc/validate_token"))
        .and(query_param("access_token", "good"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "jti": "j", "sub": "u1", "iat": 1, "exp": 2, "scope": "openid", "iss": "x", "aud": APP_ID
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/oidc/validate_token"))
        .and(query_param("id_token", "bad"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 400, "message": "token invalid"})),
        )
        .mount(&server)
        .await;
    let c = client(config(&server));
    let claims = c
        .validate_token(OnlineToken::AccessToken("good"))
        .await
        .unwrap();
    assert_eq!(claims["sub"], "u1");
    match c.validate_token(OnlineToken::IdToken("bad")).await {
        Err(Error::GenAuth { code, message, .. }) => {
            assert_eq!(code, 400);
            assert_eq!(message, "token invalid");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn introspection_and_revocation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oidc/token/introspection"))
        .and(body_string_contains("token=dead"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"active": false})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oidc/token/introspection"))
        .and(body_string_contains("token=live"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "active": true, "sub": "u1", "client_id": APP_ID, "exp": now() + 60,
            "scope": "openid profile", "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oidc/token/revocation"))
        .and(body_string_contains("token=live"))
        .respond_with(ResponseTemplate::new(200).set_body_string("OK"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oidc/token/revocation"))
        .and(body_string_contains("token=weird"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_token_type"})),
        )
        .mount(&server)
        .await;
    let c = client(
        config(&server)
            .introspection_auth_method(ClientAuthMethod::ClientSecretBasic)
            .revocation_auth_method(ClientAuthMethod::ClientSecretPost),
    );
    let dead = c.introspect("dead", None).await.unwrap();
    assert!(!dead.active);
    let live = c
        .introspect("live", Some(TokenTypeHint::AccessToken))
        .await
        .unwrap();
    assert!(live.active);
    assert_eq!(live.claims.sub.as_deref(), Some("u1"));
    assert!(live.claims.has_scope("profile"));
    assert_eq!(live.claims.extra["token_type"], "Bearer");
    c.revoke("live", Some(TokenTypeHint::RefreshToken))
        .await
        .unwrap();
    let err = c.revoke("weird", None).await.unwrap_err();
    assert_eq!(err.oauth_error(), Some("unsupported_token_type"));

    let requests = server.received_requests().await.unwrap();
    // Introspection used Basic, revocation used the body.
    assert!(requests[0].headers.get("authorization").is_some());
    assert!(!has(&form(&requests[0]), "client_secret"));
    assert!(form(&requests[1]).contains(&("token_type_hint".into(), "access_token".into())));
    assert!(requests[2].headers.get("authorization").is_none());
    assert!(form(&requests[2]).contains(&("client_secret".into(), SECRET.into())));
    assert!(form(&requests[2]).contains(&("token_type_hint".into(), "refresh_token".into())));
}

#[tokio::test]
async fn userinfo_sends_the_bearer_token_and_maps_rejections() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oidc/me"))
        .and(header("authorization", "Bearer good"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "u1", "email": "a@example.com", "email_verified": true, "name": null,
            "address": {"country": "CN"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oidc/me"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            "Bearer realm=\"genauth\", error=\"invalid_token\"",
        ))
        .mount(&server)
        .await;
    let c = client(config(&server));
    let u = c
        .userinfo(&genauth::AccessToken::new("good"))
        .await
        .unwrap();
    assert_eq!(u.email.as_deref(), Some("a@example.com"));
    assert!(u.name.is_none());
    assert_eq!(u.extra["address"]["country"], "CN");
    let err = c
        .userinfo(&genauth::AccessToken::new("bad"))
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_token"));
}

#[tokio::test]
async fn cas_ticket_validation_text_xml_and_json() {
    let server = MockServer::start().await;
    let base = format!("/cas-idp/{APP_ID}");
    Mock::given(path(format!("{base}/validate")))
        .and(query_param("ticket", "ST-good"))
        .and(query_param("service", "http://127.0.0.1:3000/callback"))
        .respond_with(ResponseTemplate::new(200).set_body_string("yes\nalice\n"))
        .mount(&server)
        .await;
    Mock::given(path(format!("{base}/validate")))
        .respond_with(ResponseTemplate::new(200).set_body_string("no\n\n"))
        .mount(&server)
        .await;
    Mock::given(path(format!("{base}/serviceValidate")))
        .and(query_param("ticket", "ST-good"))
        .and(query_param("format", "JSON"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"serviceResponse": {
            "authenticationSuccess": {"user": "alice", "attributes": {"sub": "u1", "email": "a@example.com"}}}})))
        .mount(&server)
        .await;
    Mock::given(path(format!("{base}/serviceValidate")))
        .and(query_param("format", "JSON"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "authenticationFailure": {"code": "INVALID_TICKET", "description": "ticket ST-bad not recognized"}})))
        .mount(&server)
        .await;
    Mock::given(path(format!("{base}/serviceValidate")))
        .and(query_param("ticket", "ST-good"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
               <cas:user>alice</cas:user><cas:attributes><cas:sub>u1</cas:sub>
               <cas:email>a@example.com</cas:email></cas:attributes></cas:authenticationSuccess></cas:serviceResponse>"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path(format!("{base}/serviceValidate")))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
               <cas:authenticationFailure code="INVALID_TICKET">not recognized</cas:authenticationFailure></cas:serviceResponse>"#,
        ))
        .mount(&server)
        .await;
    let c = client(config(&server).protocol(Protocol::Cas));
    let service = "http://127.0.0.1:3000/callback";
    let v1 = c.validate_cas_ticket_v1(service, "ST-good").await.unwrap();
    assert!(v1.valid);
    assert_eq!(v1.user.as_deref(), Some("alice"));
    assert!(
        !c.validate_cas_ticket_v1(service, "ST-bad")
            .await
            .unwrap()
            .valid
    );

    let xml = c.validate_cas_ticket_v2(service, "ST-good").await.unwrap();
    assert_eq!(xml.user, "alice");
    assert_eq!(xml.attributes["email"], "a@example.com");
    let err = c
        .validate_cas_ticket_v2(service, "ST-bad")
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Cas { code, .. } if code == "INVALID_TICKET"));
    assert_eq!(err.status_code(), 400);

    let json = c
        .validate_cas_ticket_v2_format(service, "ST-good", CasFormat::Json)
        .await
        .unwrap();
    assert_eq!(json.attributes["sub"], "u1");
    let err = c
        .validate_cas_ticket_v2_format(service, "ST-bad", CasFormat::Json)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cas { code, .. } if code == "INVALID_TICKET"));
}

#[tokio::test]
async fn faults_become_clear_errors() {
    let server = MockServer::start().await;
    // A body over the 1 MiB limit.
    Mock::given(path("/oidc/me"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2 * 1024 * 1024)))
        .mount(&server)
        .await;
    // Not JSON.
    Mock::given(path("/oidc/token/introspection"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    // Too slow.
    Mock::given(path("/oidc/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_json())
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    // A 5xx without a known body.
    Mock::given(path("/oidc/token/revocation"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .mount(&server)
        .await;
    let c = client(config(&server).http_timeout(Duration::from_millis(300)));
    let err = c
        .userinfo(&genauth::AccessToken::new("t"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
    let err = c.introspect("t", None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert_eq!(err.status_code(), 502);
    let err = c.exchange_code("c", None, None).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.status_code(), 503);
    let err = c.revoke("t", None).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 503, .. }),
        "{err:?}"
    );

    // Nothing listening at all.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let c = client(
        ClientConfig::builder(APP_ID)
            .client_secret(SECRET)
            .app_host(format!("http://127.0.0.1:{closed}"))
            .redirect_uri("http://127.0.0.1:3000/callback"),
    );
    let err = c
        .refresh_token(&genauth::RefreshToken::new("r"))
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), 503, "{err:?}");
    // Secrets in request URLs (CAS tickets, legacy validate_token) never reach error text or logs.
    let cas = client(
        ClientConfig::builder(APP_ID)
            .client_secret(SECRET)
            .app_host(format!("http://127.0.0.1:{closed}"))
            .protocol(Protocol::Cas),
    );
    let err = cas
        .validate_cas_ticket_v2("http://127.0.0.1:3000/callback", "ST-SECRET-TICKET")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let text = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(!text.contains("ST-SECRET-TICKET"), "{text}");
    let err = c
        .validate_token(OnlineToken::AccessToken("SECRET-ACCESS-TOKEN"))
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("SECRET-ACCESS-TOKEN"));
}

#[tokio::test]
async fn hostile_times_from_the_provider_do_not_panic() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "a", "token_type": "Bearer", "expires_in": u64::MAX
        })))
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token/introspection"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "active": true, "sub": "u1", "exp": u64::MAX, "client_id": APP_ID, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let c = client(config(&server).protocol(Protocol::OAuth2));
    let state = c
        .login_state_from_code("c", None, None, None)
        .await
        .unwrap();
    assert_eq!(state.expires_in_secs, Some(u64::MAX));
    assert!(
        state.expires_at.is_none(),
        "unrepresentable expiry is unknown, not a panic"
    );
    let validator = genauth::IntrospectionValidator::new(c);
    use genauth::TokenValidator as _;
    let claims = validator.validate("t").await.unwrap();
    assert_eq!(claims.sub.as_deref(), Some("u1"));
    assert!(claims.expires_at().is_none());
}

#[tokio::test]
async fn an_access_token_the_client_cannot_verify_does_not_fail_the_sign_in() {
    let server = MockServer::start().await;
    let issuer = format!("{}/oidc", server.uri());
    // A JWT access token from somewhere else (RFC 9068 §6: opaque to the client).
    let foreign_access_token = genauth::testing::TestIssuer::new().mint(json!({"scope": "api"}));
    let id_token = hs256_id_token(SECRET, &issuer, "n1", &foreign_access_token);
    Mock::given(method("POST"))
        .and(path("/oidc/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": foreign_access_token, "id_token": id_token, "expires_in": 3600,
            "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/oidc/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []})))
        .mount(&server)
        .await;
    let c = client(config(&server).allow_hs256_id_tokens(true));
    let state = c
        .login_state_from_code("c", None, None, Some(&Nonce::new("n1")))
        .await
        .unwrap();
    assert!(state.id_token_claims.is_some());
    assert!(state.access_token_claims.is_none());
}

#[tokio::test]
async fn discovery_checks_the_issuer() {
    let server = MockServer::start().await;
    Mock::given(path("/oidc/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": "https://evil.example/oidc",
            "authorization_endpoint": "https://evil.example/oidc/auth",
            "jwks_uri": "https://evil.example/oidc/jwks"
        })))
        .mount(&server)
        .await;
    let err = Client::discover(config(&server).build().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidResponse {
                endpoint: "discovery",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A discovery document naming a plain-`http` endpoint off loopback is refused: whoever is on the
/// network could serve the keys.
#[tokio::test]
async fn discovery_refuses_plain_http_endpoints() {
    let server = MockServer::start().await;
    let issuer = format!("{}/oidc", server.uri());
    Mock::given(path("/oidc/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "jwks_uri": "http://keys.example.com/jwks"
        })))
        .mount(&server)
        .await;
    let err = Client::discover(config(&server).build().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("jwks_uri"), "{err}");
    assert_eq!(err.status_code(), 502, "{err:?}");
}
