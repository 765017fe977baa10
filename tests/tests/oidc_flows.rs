//! The `genauth` client against a real OpenID Provider (the npm package `oidc-provider`, started on
//! loopback by the harness): authorization code + PKCE for confidential (basic, post) and public
//! clients, ID tokens signed RS256 / ES256 / EdDSA, refresh, userinfo, introspection, revocation,
//! RP-initiated logout, client credentials, JWT access tokens and key rotation.

use genauth::authorize::AuthorizeParams;
use genauth::introspection::TokenTypeHint;
use genauth::logout::LogoutParams;
use genauth::token::LoginState;
use genauth::validator::TokenValidator;
use genauth::{Client, ClientAuthMethod, ClientConfig, ClientSecret};
use genauth_tests::op::{self, TEST_API, TestOp, decode_jwt};
use serde_json::json;

const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const LOGOUT_URI: &str = "http://127.0.0.1:9/logged-out";

fn op_client(id: &str, secret: &str, auth: &str, alg: &str) -> serde_json::Value {
    let mut c = op::client(id, secret, auth, &[REDIRECT_URI]);
    c["id_token_signed_response_alg"] = json!(alg);
    c["post_logout_redirect_uris"] = json!([LOGOUT_URI]);
    c
}

async fn start_op() -> TestOp {
    TestOp::start(op::config_with_clients(vec![
        op_client("basic", "basic-secret", "client_secret_basic", "RS256"),
        op_client("post", "post-secret", "client_secret_post", "ES256"),
        op_client("public", "", "none", "EdDSA"),
    ]))
    .await
}

/// A genauth client for one of the OP's clients, configured by discovery.
async fn genauth_client(
    op: &TestOp,
    id: &str,
    secret: Option<&str>,
    method: ClientAuthMethod,
    resource: bool,
) -> Client {
    let mut b = ClientConfig::builder(id)
        .issuer(&op.issuer)
        .redirect_uri(REDIRECT_URI)
        .logout_redirect_uri(LOGOUT_URI)
        .scope("openid profile email offline_access api:read")
        .auth_method(method);
    if let Some(secret) = secret {
        b = b.client_secret(secret);
    }
    if resource {
        b = b.resource(TEST_API);
    }
    Client::discover(b.build().expect("config"))
        .await
        .expect("discovery")
}

/// Drives a browser through the provider's login and consent pages and signs in with the code.
async fn sign_in(op: &TestOp, client: &Client, login: &str) -> LoginState {
    let request = client
        .authorization_request(&AuthorizeParams::default())
        .expect("authorization request");
    let hop = op
        .browser()
        .login_and_consent(request.url.as_str(), login)
        .await;
    assert_eq!(hop.error(), None, "provider error at {}", hop.url);
    // The callback carries our state back, and the issuer (RFC 9207).
    assert_eq!(
        hop.state().as_deref(),
        request.state.as_ref().map(|s| s.secret())
    );
    assert_eq!(hop.iss().as_deref(), Some(op.issuer.as_str()));
    let code = hop.code().expect("code");
    client
        .login_state_from_code(
            &code,
            request.code_verifier.as_ref(),
            request.redirect_uri.as_ref(),
            request.nonce.as_ref(),
        )
        .await
        .expect("login state")
}

#[tokio::test]
async fn confidential_basic_client_with_jwt_access_tokens_and_refresh() {
    let op = start_op().await;
    let client = genauth_client(
        &op,
        "basic",
        Some("basic-secret"),
        ClientAuthMethod::ClientSecretBasic,
        true,
    )
    .await;
    let state = sign_in(&op, &client, "alice").await;

    let id_claims = state.id_token_claims.clone().expect("verified ID token");
    assert_eq!(id_claims.sub.as_deref(), Some("alice"));
    assert_eq!(id_claims.aud, vec!["basic"]);
    let (header, _) = decode_jwt(state.id_token.as_ref().unwrap().secret());
    assert_eq!(header["alg"], "RS256");

    // RFC 8707 resource → a JWT access token for the API, verified at sign-in.
    let at_claims = state.access_token_claims.clone().expect("JWT access token");
    assert_eq!(at_claims.aud, vec![TEST_API]);
    assert!(at_claims.has_scope("api:read"));
    assert!(state.expires_in_secs.is_some() && state.expires_at.is_some());

    // The API's validator accepts it; an audience it does not serve is refused.
    let validator = client.jwks_validator([TEST_API]).unwrap();
    let claims = validator
        .validate(state.access_token.secret())
        .await
        .unwrap();
    assert_eq!(claims.sub.as_deref(), Some("alice"));
    let other = client.jwks_validator(["urn:other"]).unwrap();
    assert!(other.validate(state.access_token.secret()).await.is_err());

    // Refresh (offline_access + prompt=consent gave a refresh token).
    let refresh = state.refresh_token.clone().expect("refresh token");
    let refreshed = client.refresh_login_state(&refresh).await.unwrap();
    assert_ne!(refreshed.access_token, state.access_token);
    assert_eq!(
        refreshed.id_token_claims.unwrap().sub.as_deref(),
        Some("alice")
    );
    assert!(refreshed.refresh_token.is_some());
    // A made-up refresh token is an invalid_grant.
    let err = client
        .refresh_login_state(&genauth::RefreshToken::new("nope"))
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_grant"));
    assert_eq!(err.status_code(), 400);
}

#[tokio::test]
async fn confidential_post_client_es256_userinfo_introspection_revocation_logout() {
    let op = start_op().await;
    let client = genauth_client(
        &op,
        "post",
        Some("post-secret"),
        ClientAuthMethod::ClientSecretPost,
        false,
    )
    .await;
    let state = sign_in(&op, &client, "bob").await;
    let (header, _) = decode_jwt(state.id_token.as_ref().unwrap().secret());
    assert_eq!(header["alg"], "ES256");
    assert_eq!(
        state.id_token_claims.as_ref().unwrap().sub.as_deref(),
        Some("bob")
    );
    // Without a resource the access token is opaque.
    assert!(state.access_token_claims.is_none());

    let user = client.userinfo(&state.access_token).await.unwrap();
    assert_eq!(user.sub, "bob");
    assert!(user.email.is_some());

    let active = client
        .introspect(
            state.access_token.secret(),
            Some(TokenTypeHint::AccessToken),
        )
        .await
        .unwrap();
    assert!(active.active);
    assert_eq!(active.claims.sub.as_deref(), Some("bob"));
    assert_eq!(active.claims.client_id.as_deref(), Some("post"));
    let refresh = state.refresh_token.clone().unwrap();
    assert!(
        client
            .introspect(refresh.secret(), None)
            .await
            .unwrap()
            .active
    );

    client
        .revoke(
            state.access_token.secret(),
            Some(TokenTypeHint::AccessToken),
        )
        .await
        .unwrap();
    let revoked = client
        .introspect(state.access_token.secret(), None)
        .await
        .unwrap();
    assert!(!revoked.active, "a revoked token is inactive, not an error");
    assert!(client.userinfo(&state.access_token).await.is_err());
    assert!(
        !client
            .introspect("garbage-token", None)
            .await
            .unwrap()
            .active
    );

    // RP-initiated logout: back to our post-logout URI with our state.
    let url = client
        .logout_url(&LogoutParams {
            id_token_hint: state.id_token.clone(),
            state: Some("bye".into()),
            ..Default::default()
        })
        .unwrap();
    let hop = op.browser().confirm_logout(url.as_str()).await;
    assert_eq!(hop.url.as_str().split('?').next(), Some(LOGOUT_URI));
    assert_eq!(hop.state().as_deref(), Some("bye"));
}

#[tokio::test]
async fn public_client_with_pkce_and_eddsa_id_tokens() {
    let op = start_op().await;
    let client = genauth_client(&op, "public", None, ClientAuthMethod::None, false).await;
    let state = sign_in(&op, &client, "carol").await;
    let (header, _) = decode_jwt(state.id_token.as_ref().unwrap().secret());
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(state.id_token_claims.unwrap().sub.as_deref(), Some("carol"));
    let refreshed = client
        .refresh_login_state(state.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    // Public clients get rotated refresh tokens.
    assert_ne!(refreshed.refresh_token, state.refresh_token);

    // The provider refuses a public client that skips PKCE.
    let no_pkce = client
        .authorization_request(&AuthorizeParams {
            pkce: false,
            ..Default::default()
        })
        .unwrap();
    let hop = op
        .browser()
        .login_and_consent(no_pkce.url.as_str(), "carol")
        .await;
    assert_eq!(hop.error().as_deref(), Some("invalid_request"));
}

#[tokio::test]
async fn a_code_with_the_wrong_verifier_or_nonce_is_refused() {
    let op = start_op().await;
    let client = genauth_client(&op, "public", None, ClientAuthMethod::None, false).await;
    let request = client
        .authorization_request(&AuthorizeParams::default())
        .unwrap();
    let hop = op
        .browser()
        .login_and_consent(request.url.as_str(), "dave")
        .await;
    let code = hop.code().unwrap();
    let wrong = genauth::CodeVerifier::generate().unwrap();
    let err = client
        .login_state_from_code(&code, Some(&wrong), None, request.nonce.as_ref())
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_grant"));

    let request = client
        .authorization_request(&AuthorizeParams::default())
        .unwrap();
    let hop = op
        .browser()
        .login_and_consent(request.url.as_str(), "dave")
        .await;
    let err = client
        .login_state_from_code(
            &hop.code().unwrap(),
            request.code_verifier.as_ref(),
            None,
            Some(&genauth::Nonce::new("not-the-nonce")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, genauth::Error::Validation(_)), "{err:?}");
}

#[tokio::test]
async fn client_credentials_and_key_rotation() {
    let op = start_op().await;
    let client = genauth_client(
        &op,
        "basic",
        Some("basic-secret"),
        ClientAuthMethod::ClientSecretBasic,
        true,
    )
    .await;
    let validator = client.jwks_validator([TEST_API]).unwrap();

    let m2m = client
        .client_credentials("basic", &ClientSecret::new("basic-secret"), "api:read")
        .await
        .unwrap();
    assert!(m2m.id_token.is_none() && m2m.refresh_token.is_none());
    let (header, _) = decode_jwt(m2m.access_token.secret());
    let claims = validator.validate(m2m.access_token.secret()).await.unwrap();
    assert!(claims.has_scope("api:read"));
    assert_eq!(claims.client_id.as_deref(), Some("basic"));
    let err = client
        .client_credentials("basic", &ClientSecret::new("wrong"), "api:read")
        .await
        .unwrap_err();
    assert_eq!(err.oauth_error(), Some("invalid_client"));

    // The provider rotates its signing key: a token with the new kid is accepted without a restart.
    let new_kid = op.rotate_keys().await;
    assert_ne!(header["kid"], json!(new_kid));
    let rotated = client
        .client_credentials("basic", &ClientSecret::new("basic-secret"), "api:read")
        .await
        .unwrap();
    let (header, _) = decode_jwt(rotated.access_token.secret());
    assert_eq!(header["kid"], json!(new_kid));
    let claims = validator
        .validate(rotated.access_token.secret())
        .await
        .unwrap();
    assert!(claims.has_scope("api:read"));
    // And the old token still verifies with the old key, still published.
    assert!(validator.validate(m2m.access_token.secret()).await.is_ok());
    // A fresh sign-in after rotation: ID token and access token with the new key.
    let state = sign_in(&op, &client, "erin").await;
    let (header, _) = decode_jwt(state.id_token.as_ref().unwrap().secret());
    assert_eq!(header["kid"], json!(new_kid));
}

/// The introspection validator against the real provider: bound to this API (another client's
/// token and a refresh token are refused), and a revocation seen once the cached answer expires.
#[tokio::test]
async fn introspection_validator_is_bound_to_this_api_and_sees_revocations() {
    use genauth::validator::{IntrospectionValidator, ValidationError};
    use std::time::{Duration, Instant};
    let op = start_op().await;
    let post = genauth_client(
        &op,
        "post",
        Some("post-secret"),
        ClientAuthMethod::ClientSecretPost,
        false,
    )
    .await;
    let basic = genauth_client(
        &op,
        "basic",
        Some("basic-secret"),
        ClientAuthMethod::ClientSecretBasic,
        false,
    )
    .await;
    let state = sign_in(&op, &post, "bob").await;
    let ttl = Duration::from_secs(2);
    let ours = IntrospectionValidator::new(post.clone()).max_cache_ttl(ttl);
    let claims = ours.validate(state.access_token.secret()).await.unwrap();
    assert_eq!(claims.sub.as_deref(), Some("bob"));

    // The provider answers "active" for both, but neither is an access token for this API.
    let refresh = state.refresh_token.clone().unwrap();
    assert!(
        post.introspect(refresh.secret(), None)
            .await
            .unwrap()
            .active
    );
    assert!(matches!(
        ours.validate(refresh.secret()).await,
        Err(ValidationError::InvalidTokenType { .. })
    ));
    let theirs = IntrospectionValidator::new(basic);
    assert!(matches!(
        theirs.validate(state.access_token.secret()).await,
        Err(ValidationError::ForeignClient)
    ));

    // Revoked at the provider: refused as soon as the cached answer has expired.
    post.revoke(
        state.access_token.secret(),
        Some(TokenTypeHint::AccessToken),
    )
    .await
    .unwrap();
    let revoked_at = Instant::now();
    while ours.validate(state.access_token.secret()).await.is_ok() {
        assert!(
            revoked_at.elapsed() < ttl + Duration::from_secs(1),
            "revocation not seen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(revoked_at.elapsed() <= ttl + Duration::from_millis(500));
    assert!(genauth::validator::DEFAULT_MAX_CACHE_TTL <= Duration::from_secs(60));
}
