//! The back-channel endpoints: token (RFC 6749 §3.2: authorization code with PKCE, refresh with
//! rotation, client credentials), userinfo (OIDC Core §5.3), introspection (RFC 7662) and revocation
//! (RFC 7009).

use super::server::{ProviderRequest, json, oauth_error};
use super::state::{OAuthError, State, TokenRecord, at_hash, pkce_matches};
use crate::config::ClientAuthMethod;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// `POST /token`.
pub(crate) fn token(state: &mut State, request: &ProviderRequest) -> Result<Value, OAuthError> {
    let client = state.authenticate(request.authorization.as_deref(), &request.form)?;
    let client_id = client.id.clone();
    let public = client.auth_method == ClientAuthMethod::None;
    let form = &request.form;
    match form.get("grant_type") {
        Some("authorization_code") => authorization_code(state, &client_id, request),
        Some("refresh_token") => refresh(state, &client_id, request),
        // RFC 6749 §4.4: confidential clients only.
        Some("client_credentials") if public => Err(OAuthError::new(
            400,
            "unauthorized_client",
            "a public client cannot use client credentials",
        )),
        Some("client_credentials") => {
            let now = state.now();
            let grant = state.new_grant();
            let scope = form.get("scope").unwrap_or_default().to_owned();
            let lifetime = state.lifetimes.access_token.as_secs();
            let mut record = record(grant, &client_id, None, &scope, now, lifetime);
            record.resource = form.get("resource").map(str::to_owned);
            let access_token = state.issue_access_token(record);
            Ok(
                json!({"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}),
            )
        }
        Some(_) => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "unsupported grant_type",
        )),
        None => Err(OAuthError::request("grant_type is missing")),
    }
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.6.
fn authorization_code(
    state: &mut State,
    client_id: &str,
    request: &ProviderRequest,
) -> Result<Value, OAuthError> {
    let form = &request.form;
    let now = state.now();
    let code_value = form.require("code")?;
    let grant = state.new_grant();
    let code = state
        .codes
        .get_mut(code_value)
        .ok_or_else(|| OAuthError::grant("unknown authorization code"))?;
    // §4.1.2: single use; a replay revokes what the first exchange issued.
    let used = code.grant;
    if let Some(issued) = used {
        state.revoke_grant(issued);
        return Err(OAuthError::grant("authorization code already used"));
    }
    if code.request.client_id != client_id {
        return Err(OAuthError::grant(
            "authorization code was issued to another client",
        ));
    }
    if now >= code.expires_at {
        return Err(OAuthError::grant("authorization code expired"));
    }
    if form.get("redirect_uri") != Some(code.request.redirect_uri.as_str()) {
        return Err(OAuthError::grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (&code.request.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (Some(_), _) => return Err(OAuthError::grant("PKCE verification failed")),
        (None, Some(_)) => return Err(OAuthError::grant("code_verifier without a code_challenge")),
        (None, None) => {}
    }
    code.grant = Some(grant);
    let (username, scope, nonce, sid) = (
        code.username.clone(),
        code.request.scope.clone(),
        code.request.nonce.clone(),
        code.sid.clone(),
    );
    let user = User {
        username: &username,
        sid: Some(&sid),
    };
    let resource = form.get("resource").map(str::to_owned);
    Ok(issue(
        state,
        grant,
        client_id,
        user,
        &scope,
        nonce.as_deref(),
        resource,
        now,
    ))
}

/// RFC 6749 §6, with rotation: each use returns a new refresh token and retires the old one; a
/// retired one presented again revokes the whole grant (OAuth 2.0 Security BCP §4.14.2).
fn refresh(
    state: &mut State,
    client_id: &str,
    request: &ProviderRequest,
) -> Result<Value, OAuthError> {
    let form = &request.form;
    let now = state.now();
    let value = form.require("refresh_token")?;
    let record = state
        .refresh_tokens
        .get_mut(value)
        .ok_or_else(|| OAuthError::grant("unknown refresh token"))?;
    if record.client_id != client_id {
        return Err(OAuthError::grant(
            "refresh token was issued to another client",
        ));
    }
    if record.revoked {
        let grant = record.grant;
        state.revoke_grant(grant);
        return Err(OAuthError::grant(
            "refresh token was already used or revoked",
        ));
    }
    if now >= record.expires_at {
        return Err(OAuthError::grant("refresh token expired"));
    }
    let granted = record.scope.clone();
    let scope = match form.get("scope") {
        Some(asked) if asked.split(' ').all(|s| granted.split(' ').any(|g| g == s)) => {
            asked.to_owned()
        }
        Some(_) => {
            return Err(OAuthError::new(
                400,
                "invalid_scope",
                "scope wider than the grant",
            ));
        }
        None => granted,
    };
    record.revoked = true;
    let (grant, username, sid) = (
        record.grant,
        record.username.clone().unwrap_or_default(),
        record.sid.clone(),
    );
    let resource = form
        .get("resource")
        .map(str::to_owned)
        .or_else(|| record.resource.clone());
    let user = User {
        username: &username,
        sid: sid.as_deref(),
    };
    Ok(issue(
        state, grant, client_id, user, &scope, None, resource, now,
    ))
}

/// Who a user grant is for: the user, and the provider session it was signed in to.
#[derive(Clone, Copy)]
struct User<'a> {
    username: &'a str,
    sid: Option<&'a str>,
}

/// The token response of a user grant: a JWT access token, an ID token with `at_hash` (and the
/// provider session's `sid`, Back-Channel Logout 1.0 §2.1), and a refresh token when
/// `offline_access` was granted (OIDC Core §11).
#[allow(clippy::too_many_arguments)] // one private call shape for the two user grants
fn issue(
    state: &mut State,
    grant: u64,
    client_id: &str,
    user: User<'_>,
    scope: &str,
    nonce: Option<&str>,
    resource: Option<String>,
    now: u64,
) -> Value {
    let lifetimes = state.lifetimes;
    let username = user.username;
    let sid = user.sid.map(str::to_owned);
    let mut access = record(
        grant,
        client_id,
        Some(username),
        scope,
        now,
        lifetimes.access_token.as_secs(),
    );
    access.resource = resource;
    access.sid.clone_from(&sid);
    let access_token = state.issue_access_token(access);
    let mut claims = state.user_claims(username, scope);
    claims.insert("aud".into(), client_id.into());
    claims.insert("iat".into(), now.into());
    claims.insert("auth_time".into(), now.into());
    claims.insert("exp".into(), (now + lifetimes.id_token.as_secs()).into());
    claims.insert("at_hash".into(), at_hash(&access_token).into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(sid) = &sid {
        claims.insert("sid".into(), sid.as_str().into());
    }
    let id_token = state.signer().mint(Value::Object(claims));
    if let Some(sid) = &sid {
        state.id_tokens.insert(id_token.clone(), sid.clone());
    }
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetimes.access_token.as_secs(),
        "id_token": id_token,
        "scope": scope,
    });
    if scope.split(' ').any(|s| s == "offline_access") {
        let mut refresh = record(
            grant,
            client_id,
            Some(username),
            scope,
            now,
            lifetimes.refresh_token.as_secs(),
        );
        refresh.sid = sid;
        body["refresh_token"] = state.issue_refresh_token(refresh).into();
    }
    body
}

fn record(
    grant: u64,
    client_id: &str,
    username: Option<&str>,
    scope: &str,
    now: u64,
    lifetime_secs: u64,
) -> TokenRecord {
    TokenRecord {
        grant,
        client_id: client_id.to_owned(),
        username: username.map(str::to_owned),
        scope: scope.to_owned(),
        resource: None,
        sid: None,
        issued_at: now,
        expires_at: now + lifetime_secs,
        revoked: false,
    }
}

/// `GET|POST /userinfo` with `Authorization: Bearer` (RFC 6750 §2.1).
pub(crate) fn userinfo(state: &State, request: &ProviderRequest) -> Response<Full<Bytes>> {
    let token = request
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "a Bearer access token is required",
        );
    };
    let record = state
        .access_tokens
        .get(token)
        .filter(|r| r.is_active(state.now()));
    match record {
        None => bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown, expired or revoked",
        ),
        Some(record) => match &record.username {
            Some(username) if record.scope.split(' ').any(|s| s == "openid") => json(
                StatusCode::OK,
                &Value::Object(state.user_claims(username, &record.scope)),
            ),
            _ => bearer_error(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the openid scope was not granted",
            ),
        },
    }
}

/// RFC 6750 §3: the error in `WWW-Authenticate`, and as JSON for the curious.
fn bearer_error(
    status: StatusCode,
    error: &'static str,
    description: &str,
) -> Response<Full<Bytes>> {
    let mut response = oauth_error(&OAuthError::new(status.as_u16(), error, description));
    let challenge = format!(
        "Bearer realm=\"genauth-test\", error=\"{error}\", error_description=\"{description}\""
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// `POST /introspect` (RFC 7662 §2): authenticated; unknown, expired and revoked tokens are
/// `{"active": false}`, never an error.
pub(crate) fn introspect(state: &State, request: &ProviderRequest) -> Result<Value, OAuthError> {
    state.authenticate(request.authorization.as_deref(), &request.form)?;
    let token = request.form.require("token")?;
    let now = state.now();
    let Some((kind, record)) = state.find_token(token).filter(|(_, r)| r.is_active(now)) else {
        return Ok(json!({"active": false}));
    };
    let mut body = json!({
        "active": true,
        "iss": state.issuer,
        "client_id": record.client_id,
        "scope": record.scope,
        "iat": record.issued_at,
        "exp": record.expires_at,
        "sub": record.username.clone().unwrap_or_else(|| record.client_id.clone()),
        "token_type": if kind == "access_token" { "Bearer" } else { "refresh_token" },
    });
    if kind == "access_token" {
        body["aud"] = state.audience_of(record).into();
    }
    Ok(body)
}

/// `POST /revoke` (RFC 7009 §2.1): authenticated; a token of another client or an unknown one is
/// left alone with 200 (§2.2); a refresh token takes its grant's access tokens with it.
pub(crate) fn revoke(state: &mut State, request: &ProviderRequest) -> Result<Value, OAuthError> {
    let client_id = state
        .authenticate(request.authorization.as_deref(), &request.form)?
        .id
        .clone();
    let token = request.form.require("token")?;
    let found = state
        .find_token(token)
        .map(|(kind, r)| (kind, r.grant, r.client_id == client_id));
    match found {
        Some(("refresh_token", grant, true)) => state.revoke_grant(grant),
        Some((_, _, true)) => {
            if let Some(record) = state.access_tokens.get_mut(token) {
                record.revoked = true;
            }
        }
        _ => {}
    }
    Ok(json!({}))
}
