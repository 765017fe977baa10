//! The browser-facing endpoints: authorization (RFC 6749 §4.1.1 with PKCE, RFC 7636) with its login
//! page, and end-session (OpenID Connect RP-Initiated Logout 1.0).

use super::backchannel::PendingLogout;
use super::server::{ProviderRequest, html, redirect};
use super::state::{Code, Interaction, ProviderSession, State, random};
use super::{DEFAULT_USERNAME, LoginMode, TestProvider, TestProviderError};
use crate::config::ClientAuthMethod;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use url::Url;

type Reply = Response<Full<Bytes>>;

/// `GET /authorize` (a new request) or `POST /authorize` (the login form, with `interaction`).
pub(crate) fn authorization(state: &mut State, request: &ProviderRequest) -> Reply {
    if let Some(id) = request.form.get("interaction") {
        let Some(interaction) = state.interactions.remove(id) else {
            return error_page("this sign-in page has expired or was already used: start again");
        };
        let username = request
            .form
            .get("username")
            .unwrap_or_default()
            .trim()
            .to_owned();
        if username.is_empty() {
            let page = login_page(id, &interaction.client_id, "a username is needed");
            state.interactions.insert(id.to_owned(), interaction);
            return html(StatusCode::OK, page);
        }
        return approve(state, interaction, username);
    }

    let params = &request.query;
    let Some(client) = params.get("client_id").and_then(|id| state.clients.get(id)) else {
        return error_page("unknown or missing client_id");
    };
    // RFC 6749 §3.1.2.3 / Security BCP §4.1.3: exact match. A mismatch is never redirected to
    // (§4.1.2.1): the error is shown here.
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return error_page("redirect_uri is missing or not registered for this client");
    };
    let fail = |error: &str, description: &str| {
        redirect_with(
            redirect_uri,
            &[("error", error), ("error_description", description)],
            params.get("state"),
            &state.issuer,
        )
    };
    for name in [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
    ] {
        if params.repeats(name) {
            return fail("invalid_request", &format!("{name} is repeated"));
        }
    }
    if params.get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let challenge = params.get("code_challenge");
    // RFC 7636 §4.3: `plain` is refused here (OAuth 2.0 Security BCP §2.1.1).
    if challenge.is_some() && params.get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    if challenge.is_none() && client.auth_method == ClientAuthMethod::None {
        return fail(
            "invalid_request",
            "PKCE (code_challenge) is required for public clients",
        );
    }
    let scope = params.get("scope").unwrap_or_default().to_owned();
    if !scope.split(' ').any(|s| s == "openid") {
        return fail("invalid_scope", "the openid scope is required");
    }
    let interaction = Interaction {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: challenge.map(str::to_owned),
    };
    match state.login_mode {
        LoginMode::AutoApprove => {
            let username = params
                .get("login_hint")
                .unwrap_or(DEFAULT_USERNAME)
                .to_owned();
            approve(state, interaction, username)
        }
        LoginMode::Page => {
            let id = random();
            let page = login_page(&id, &interaction.client_id, "");
            state.interactions.insert(id, interaction);
            html(StatusCode::OK, page)
        }
    }
}

/// Issues a code for `username` and redirects to the client (RFC 6749 §4.1.2, RFC 9207 `iss`).
fn approve(state: &mut State, interaction: Interaction, username: String) -> Reply {
    let code = random();
    let location = redirect_with(
        &interaction.redirect_uri,
        &[("code", &code)],
        interaction.state.as_deref(),
        &state.issuer,
    );
    let expires_at = state.now() + state.lifetimes.authorization_code.as_secs();
    let sid = random();
    state.sessions.insert(
        sid.clone(),
        ProviderSession {
            username: username.clone(),
            clients: vec![interaction.client_id.clone()],
        },
    );
    state.codes.insert(
        code,
        Code {
            request: interaction,
            username,
            sid,
            expires_at,
            grant: None,
        },
    );
    location
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)], state: Option<&str>, issuer: &str) -> Reply {
    let Ok(mut url) = Url::parse(uri) else {
        return error_page("the registered redirect_uri is not a URL");
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    redirect(url.as_str())
}

/// `GET|POST /logout`: the RP-Initiated Logout 1.0 §2 request. An `id_token_hint` must be an ID
/// token this provider issued (§2: the OP validates it; an error page otherwise); its provider
/// session ends, and the logout tokens to deliver for it are returned with the answer. Redirects
/// only to a registered `post_logout_redirect_uri` (§3) of the client named by `client_id` or the
/// hint's `aud`.
pub(crate) fn end_session(
    state: &mut State,
    request: &ProviderRequest,
) -> (Reply, Vec<PendingLogout>) {
    let params = if request.form.get("post_logout_redirect_uri").is_some()
        || request.form.get("id_token_hint").is_some()
    {
        &request.form
    } else {
        &request.query
    };
    let hint = params.get("id_token_hint");
    let pending = match hint.map(|h| state.id_tokens.get(h).cloned()) {
        Some(None) => {
            let page = error_page("id_token_hint was not issued by this provider");
            return (page, Vec::new());
        }
        Some(Some(sid)) => state.end_provider_session(&sid),
        None => Vec::new(),
    };
    let Some(target) = params.get("post_logout_redirect_uri") else {
        let page = html(
            StatusCode::OK,
            page("Signed out", "<p>You are signed out.</p>"),
        );
        return (page, pending);
    };
    let client_id = params
        .get("client_id")
        .map(str::to_owned)
        .or_else(|| hint.and_then(hint_audience));
    let registered = client_id
        .and_then(|id| state.clients.get(&id))
        .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|u| u == target));
    if !registered {
        let page = error_page("post_logout_redirect_uri is not registered for this client");
        return (page, pending);
    }
    let Ok(mut url) = Url::parse(target) else {
        return (error_page("post_logout_redirect_uri is not a URL"), pending);
    };
    if let Some(value) = params.get("state") {
        url.query_pairs_mut().append_pair("state", value);
    }
    (redirect(url.as_str()), pending)
}

/// The `aud` of an ID token hint (its signature does not matter for choosing the client; the
/// redirect must still be registered for that client).
fn hint_audience(id_token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("aud")? {
        serde_json::Value::String(aud) => Some(aud.clone()),
        serde_json::Value::Array(auds) => auds.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn login_page(interaction: &str, client_id: &str, message: &str) -> String {
    let message = if message.is_empty() {
        String::new()
    } else {
        format!("<p role=\"alert\">{}</p>", escape(message))
    };
    page(
        "Sign in",
        &format!(
            "<p>Sign in to <b>{client}</b> as anyone: this is a test provider.</p>{message}\
             <form method=\"post\" action=\"/authorize\">\
             <input type=\"hidden\" name=\"interaction\" value=\"{interaction}\">\
             <label>Username <input name=\"username\" id=\"username\" autofocus required></label> \
             <button type=\"submit\" id=\"sign-in\">Sign in</button></form>",
            client = escape(client_id),
            interaction = escape(interaction),
        ),
    )
}

fn error_page(message: &str) -> Reply {
    html(
        StatusCode::BAD_REQUEST,
        page(
            "Sign-in error",
            &format!("<p role=\"alert\">{}</p>", escape(message)),
        ),
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} · genauth TestProvider</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// [`TestProvider::authorize_as`]: GET the URL; a login page is submitted as `username`.
pub(crate) async fn follow(
    provider: &TestProvider,
    url: &str,
    username: &str,
) -> Result<Url, TestProviderError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(TestProviderError::Transport)?;
    let mut response = http
        .get(url)
        .send()
        .await
        .map_err(TestProviderError::Transport)?;
    if response.status() == StatusCode::OK {
        let body = response
            .text()
            .await
            .map_err(TestProviderError::Transport)?;
        let interaction = body
            .split("name=\"interaction\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| TestProviderError::NoRedirect("a page without a login form".into()))?
            .to_owned();
        response = http
            .post(provider.url("/authorize"))
            .form(&[
                ("interaction", interaction.as_str()),
                ("username", username),
            ])
            .send()
            .await
            .map_err(TestProviderError::Transport)?;
    }
    let status = response.status();
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| Url::parse(l).ok())
        .ok_or_else(|| TestProviderError::NoRedirect(format!("status {status}")))
}
