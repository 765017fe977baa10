//! Proves the test OP and the harness with plain reqwest (no genauth code):
//! authorization code + PKCE with a resource indicator, JWT access tokens,
//! refresh tokens, key rotation, SSO across the rotation, client credentials,
//! introspection, RP-initiated logout, dynamic registration.

use genauth_tests::op::{self, Pkce, TEST_API, TestOp, decode_jwt, random_token};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

const CLIENT_ID: &str = "smoke";
const CLIENT_SECRET: &str = "smoke-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/logged-out";

struct Endpoints {
    authorization: String,
    token: String,
    introspection: String,
    end_session: String,
}

async fn endpoints(op: &TestOp) -> Endpoints {
    let d = op.discovery().await;
    assert_eq!(d["issuer"], op.issuer);
    let s = |k: &str| {
        d[k].as_str()
            .unwrap_or_else(|| panic!("{k} in discovery"))
            .to_owned()
    };
    Endpoints {
        authorization: s("authorization_endpoint"),
        token: s("token_endpoint"),
        introspection: s("introspection_endpoint"),
        end_session: s("end_session_endpoint"),
    }
}

fn authorization_url(
    endpoint: &str,
    scope: &str,
    prompt: Option<&str>,
    pkce: &Pkce,
) -> (String, String, String) {
    let state = random_token(16);
    let nonce = random_token(16);
    let mut url = Url::parse(endpoint).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", TEST_API);
    if let Some(prompt) = prompt {
        url.query_pairs_mut().append_pair("prompt", prompt);
    }
    (url.into(), state, nonce)
}

async fn token_request(http: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> Value {
    let response = http
        .post(endpoint)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = response.status();
    let body: Value = response.json().await.expect("token response JSON");
    assert!(status.is_success(), "token endpoint: {status} {body}");
    body
}

/// Logs in (unless `expect_sso`), exchanges the code with the resource, checks
/// the response and returns it.
async fn code_flow(
    op: &TestOp,
    browser: &genauth_tests::browser::Browser,
    ep: &Endpoints,
    http: &reqwest::Client,
    scope: &str,
    prompt: Option<&str>,
    expect_sso: bool,
) -> Value {
    let pkce = Pkce::new();
    let (url, state, nonce) = authorization_url(&ep.authorization, scope, prompt, &pkce);
    let hop = if expect_sso {
        browser.authorize_with_session(&url).await
    } else {
        browser.login_and_consent(&url, "alice").await
    };
    assert!(
        hop.url.as_str().starts_with(REDIRECT_URI),
        "left the OP for {}",
        hop.url
    );
    assert_eq!(hop.method, Method::GET);
    assert_eq!(hop.error(), None, "authorization error at {}", hop.url);
    assert_eq!(hop.state().as_deref(), Some(state.as_str()));
    assert_eq!(
        hop.iss().as_deref(),
        Some(op.issuer.as_str()),
        "RFC 9207 iss"
    );
    if expect_sso {
        assert!(
            !hop.prompts.contains(&"login".to_owned()),
            "{:?}",
            hop.prompts
        );
    } else {
        assert_eq!(hop.prompts, ["login", "consent"]);
    }
    let code = hop.code().expect("code in callback");

    let tokens = token_request(
        http,
        &ep.token,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &pkce.verifier),
            ("resource", TEST_API),
        ],
    )
    .await;

    let (_, id_claims) = decode_jwt(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(id_claims["iss"], op.issuer);
    assert_eq!(id_claims["aud"], CLIENT_ID);
    assert_eq!(id_claims["sub"], "alice");
    assert_eq!(id_claims["nonce"], nonce);

    let (at_header, at_claims) = decode_jwt(tokens["access_token"].as_str().expect("access_token"));
    assert_eq!(at_header["typ"], "at+jwt");
    assert_eq!(at_header["alg"], "RS256");
    assert_eq!(at_claims["aud"], TEST_API);
    assert_eq!(at_claims["sub"], "alice");
    assert_eq!(at_claims["client_id"], CLIENT_ID);
    assert_eq!(at_claims["scope"], "api:read");
    assert_eq!(tokens["token_type"], "Bearer");
    tokens
}

#[tokio::test]
async fn op_harness_smoke() {
    let started = std::time::Instant::now();
    let mut client = op::client(
        CLIENT_ID,
        CLIENT_SECRET,
        "client_secret_basic",
        &[REDIRECT_URI],
    );
    client["post_logout_redirect_uris"] = json!([POST_LOGOUT_URI]);
    let op = TestOp::start(op::config_with_clients(vec![client])).await;
    let ep = endpoints(&op).await;
    let http = reqwest::Client::new();

    // -- authorization code + PKCE + resource indicator, refresh token
    let browser = op.browser();
    let tokens = code_flow(
        &op,
        &browser,
        &ep,
        &http,
        "openid offline_access api:read",
        Some("consent"),
        false,
    )
    .await;
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();
    let (at_header, _) = decode_jwt(tokens["access_token"].as_str().unwrap());
    let first_kid = at_header["kid"].as_str().expect("kid").to_owned();
    assert!(op.jwks_kids().await.contains(&first_kid));

    // -- refresh tokens are opaque and introspectable; JWT access tokens are not
    let introspection = http
        .post(&ep.introspection)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", refresh_token.as_str())])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["sub"], "alice");

    // -- key rotation
    let new_kid = op.rotate_keys().await;
    assert_ne!(new_kid, first_kid);
    let kids = op.jwks_kids().await;
    assert!(
        kids.contains(&first_kid) && kids.contains(&new_kid),
        "{kids:?}"
    );
    assert_eq!(kids[0], new_kid, "the new key is listed first");

    // the OP session and grant survive the rotation: SSO, no login page
    let tokens = code_flow(&op, &browser, &ep, &http, "openid api:read", None, true).await;
    let (at_header, _) = decode_jwt(tokens["access_token"].as_str().unwrap());
    assert_eq!(at_header["kid"], new_kid.as_str());

    // the refresh token issued before the rotation still works
    let refreshed = token_request(
        &http,
        &ep.token,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("resource", TEST_API),
        ],
    )
    .await;
    let (at_header, at_claims) = decode_jwt(refreshed["access_token"].as_str().unwrap());
    assert_eq!(at_header["kid"], new_kid.as_str());
    assert_eq!(at_claims["aud"], TEST_API);

    // a fresh login after rotation gets tokens signed with the new key
    let fresh = op.browser();
    let tokens = code_flow(
        &op,
        &fresh,
        &ep,
        &http,
        "openid offline_access api:read",
        Some("consent"),
        false,
    )
    .await;
    let (at_header, _) = decode_jwt(tokens["access_token"].as_str().unwrap());
    assert_eq!(at_header["kid"], new_kid.as_str());
    let (id_header, _) = decode_jwt(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_header["kid"], new_kid.as_str());
    assert!(tokens["refresh_token"].is_string());

    // -- client credentials with a resource: JWT access token
    let cc = token_request(
        &http,
        &ep.token,
        &[
            ("grant_type", "client_credentials"),
            ("resource", TEST_API),
            ("scope", "api:read api:write"),
        ],
    )
    .await;
    let (cc_header, cc_claims) = decode_jwt(cc["access_token"].as_str().expect("access_token"));
    assert_eq!(cc_header["kid"], new_kid.as_str());
    assert_eq!(cc_claims["aud"], TEST_API);
    assert_eq!(cc_claims["sub"], CLIENT_ID);
    assert_eq!(cc_claims["scope"], "api:read api:write");

    // -- RP-initiated logout with confirmation
    let state = random_token(8);
    let mut logout = Url::parse(&ep.end_session).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", POST_LOGOUT_URI)
        .append_pair("state", &state);
    let hop = fresh.confirm_logout(logout.as_str()).await;
    assert_eq!(hop.prompts, ["logout"]);
    assert!(hop.url.as_str().starts_with(POST_LOGOUT_URI), "{}", hop.url);
    assert_eq!(hop.state().as_deref(), Some(state.as_str()));
    // signed out: the next authorization asks for a login again
    let pkce = Pkce::new();
    let (url, _, _) = authorization_url(&ep.authorization, "openid api:read", None, &pkce);
    let hop = fresh.login_and_consent(&url, "alice").await;
    assert_eq!(hop.prompts[0], "login");

    // -- dynamic registration
    let registered = op
        .register_client(json!({
            "redirect_uris": ["http://127.0.0.1:9/other-callback"],
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }))
        .await;
    assert!(registered["client_id"].is_string());
    assert!(registered["client_secret"].is_string());

    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "smoke test took {:?}",
        started.elapsed()
    );
}

/// Builds an authorization URL for any client; `extra` params are appended.
fn auth_url(endpoint: &str, client_id: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut url = Url::parse(endpoint).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", "st")
        .extend_pairs(extra);
    url.into()
}

async fn post_form(http: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http
        .post(endpoint)
        .form(form)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// Facts about oidc-provider that an RP relies on, one OP, several clients.
#[tokio::test]
async fn op_client_variants() {
    const CB: &str = "http://127.0.0.1:9/cb";
    let mut post = op::client("post", "post-secret", "client_secret_post", &[CB]);
    post["post_logout_redirect_uris"] = json!([POST_LOGOUT_URI]);
    let public = op::public_client("public", &[CB]);
    let op = TestOp::start(op::config_with_clients(vec![post, public])).await;
    let ep = endpoints(&op).await;
    let d = op.discovery().await;
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let revocation = d["revocation_endpoint"].as_str().unwrap().to_owned();
    let userinfo = d["userinfo_endpoint"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let browser = op.browser();

    // public client: PKCE is required; the error comes back to the redirect_uri with iss
    let hop = browser
        .login_and_consent(
            &auth_url(&ep.authorization, "public", CB, &[("scope", "openid")]),
            "bob",
        )
        .await;
    assert_eq!(
        hop.error().as_deref(),
        Some("invalid_request"),
        "{}",
        hop.url
    );
    assert_eq!(hop.iss().as_deref(), Some(op.issuer.as_str()));
    assert!(hop.prompts.is_empty());

    // public client with PKCE, no client secret at the token endpoint
    let pkce = Pkce::new();
    let hop = browser
        .login_and_consent(
            &auth_url(
                &ep.authorization,
                "public",
                CB,
                &[
                    ("scope", "openid profile email"),
                    ("code_challenge", &pkce.challenge),
                    ("code_challenge_method", "S256"),
                ],
            ),
            "bob",
        )
        .await;
    assert_eq!(hop.prompts, ["login", "consent"]);
    let (status, tokens) = post_form(
        &http,
        &ep.token,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "public"),
            ("code", &hop.code().unwrap()),
            ("redirect_uri", CB),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    // no resource: opaque access token, good for userinfo; ID token has no
    // profile claims (conformIdTokenClaims), userinfo has them
    let at = tokens["access_token"].as_str().unwrap();
    assert!(!at.contains('.'), "opaque access token expected: {at}");
    let (_, id_claims) = decode_jwt(tokens["id_token"].as_str().unwrap());
    assert!(id_claims.get("email").is_none(), "{id_claims}");
    let info: Value = http
        .get(&userinfo)
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], "bob");
    assert_eq!(info["email"], "bob@example.test");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["preferred_username"], "bob");
    assert_eq!(info["name"], "Bob Tester");

    // confidential client without PKCE is allowed; resource at the authorization
    // request but not at the token endpoint => opaque (userinfo) access token
    let hop = browser
        .login_and_consent(
            &auth_url(
                &ep.authorization,
                "post",
                CB,
                &[("scope", "openid api:read"), ("resource", TEST_API)],
            ),
            "bob",
        )
        .await;
    assert_eq!(hop.prompts, ["consent"], "SSO: no second login");
    let (status, tokens) = post_form(
        &http,
        &ep.token,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "post"),
            ("client_secret", "post-secret"),
            ("code", &hop.code().unwrap()),
            ("redirect_uri", CB),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let opaque = tokens["access_token"].as_str().unwrap().to_owned();
    assert!(!opaque.contains('.'), "{opaque}");

    // client_credentials: JWT with resource, opaque without
    let cc = |resource: bool| {
        let http = http.clone();
        let token = ep.token.clone();
        async move {
            let mut form = vec![
                ("grant_type", "client_credentials"),
                ("client_id", "post"),
                ("client_secret", "post-secret"),
                ("scope", "api:write"),
            ];
            if resource {
                form.push(("resource", TEST_API));
            }
            let (status, body) = post_form(&http, &token, &form).await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let jwt = cc(true).await;
    assert_eq!(decode_jwt(&jwt).1["scope"], "api:write");
    assert!(!cc(false).await.contains('.'));

    // introspection and revocation authenticate like the token endpoint
    // (token_endpoint_auth_method); JWT access tokens cannot be introspected/revoked
    let auth = [("client_id", "post"), ("client_secret", "post-secret")];
    let (status, body) = post_form(
        &http,
        &ep.introspection,
        &[auth[0], auth[1], ("token", &opaque)],
    )
    .await;
    assert_eq!((status, &body["active"]), (200, &json!(true)), "{body}");
    let (status, body) = post_form(
        &http,
        &ep.introspection,
        &[auth[0], auth[1], ("token", &jwt)],
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("unsupported_token_type")),
        "{body}"
    );
    let response = http
        .post(&revocation)
        .form(&[auth[0], auth[1], ("token", &opaque)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (_, body) = post_form(
        &http,
        &ep.introspection,
        &[auth[0], auth[1], ("token", &opaque)],
    )
    .await;
    assert_eq!(body["active"], false, "revoked");

    // ID token algorithms, via dynamic registration
    let jwks = op.jwks().await;
    for alg in ["ES256", "EdDSA", "PS256", "RS256"] {
        let reg = op
            .register_client(json!({
                "redirect_uris": [CB],
                "token_endpoint_auth_method": "client_secret_basic",
                "id_token_signed_response_alg": alg,
            }))
            .await;
        let id = reg["client_id"].as_str().unwrap();
        let secret = reg["client_secret"].as_str().unwrap();
        let hop = browser
            .login_and_consent(
                &auth_url(&ep.authorization, id, CB, &[("scope", "openid")]),
                "bob",
            )
            .await;
        let response = http
            .post(&ep.token)
            .basic_auth(id, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", hop.code().unwrap().as_str()),
                ("redirect_uri", CB),
            ])
            .send()
            .await
            .unwrap();
        let tokens: Value = response.json().await.unwrap();
        let (header, _) = decode_jwt(tokens["id_token"].as_str().expect("id_token"));
        assert_eq!(header["alg"], alg);
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == header["kid"])
            .unwrap_or_else(|| panic!("kid {} not in JWKS", header["kid"]));
        assert_eq!(key["alg"], alg);
    }

    // logout by client_id (no id_token_hint) honours post_logout_redirect_uri
    let mut logout = Url::parse(&ep.end_session).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("client_id", "post")
        .append_pair("post_logout_redirect_uri", POST_LOGOUT_URI)
        .append_pair("state", "bye");
    let hop = browser.confirm_logout(logout.as_str()).await;
    assert_eq!(hop.prompts, ["logout"]);
    assert_eq!(hop.url.as_str(), format!("{POST_LOGOUT_URI}?state=bye"));
    // without a session and without a client, the OP ends on its own success page
    let hop = browser.confirm_logout(&ep.end_session).await;
    assert!(hop.prompts.is_empty());
    assert!(
        hop.url
            .as_str()
            .starts_with(&op.url("/session/end/success")),
        "{}",
        hop.url
    );
}
