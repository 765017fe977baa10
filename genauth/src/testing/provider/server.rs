//! HTTP/1.1 on the provider's loopback port (hyper): accept loop, the request record, the outage
//! switch, routing, and the response shapes every endpoint uses.

use super::state::{Form, OAuthError};
use super::{Outage, RecordedRequest, Shared, authorize, backchannel, token};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::convert::Infallible;
use std::sync::{Arc, PoisonError};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Request bodies above this are refused (413): every real one is a small form.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request as the endpoints see it: read in full.
pub(crate) struct ProviderRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Form,
    pub(crate) form: Form,
    pub(crate) authorization: Option<String>,
}

/// Accepts connections until `stopped` turns true (the [`TestProvider`](super::TestProvider) dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = stopped.wait_for(|stop| *stop) => return,
        };
        let shared = shared.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stopped.wait_for(|stop| *stop) => {}
            }
        });
    }
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
    };
    let header_text = |name: &header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.clone(),
        });

    let mut outage = shared.outage.subscribe();
    let now = *outage.borrow_and_update();
    let after = match now {
        Outage::Hang => match outage.wait_for(|o| *o != Outage::Hang).await {
            Ok(changed) => *changed,
            Err(_) => Outage::Unavailable,
        },
        other => other,
    };
    if after == Outage::Unavailable {
        return unavailable();
    }

    let form_body = header_text(&header::CONTENT_TYPE)
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let request = ProviderRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: Form::parse(parts.uri.query().unwrap_or_default()),
        form: if form_body {
            Form::parse(&body)
        } else {
            Form::default()
        },
        authorization: header_text(&header::AUTHORIZATION),
    };
    if request.path == "/logout" && matches!(request.method, Method::GET | Method::POST) {
        // End-session answers after the back-channel deliveries, sent with the state unlocked.
        let (reply, pending) = authorize::end_session(&mut shared.state(), &request);
        backchannel::deliver(shared, pending).await;
        return reply;
    }
    route(shared, &request)
}

fn route(shared: &Shared, request: &ProviderRequest) -> Response<Full<Bytes>> {
    let get = request.method == Method::GET;
    let post = request.method == Method::POST;
    match request.path.as_str() {
        "/.well-known/openid-configuration" if get => {
            json(StatusCode::OK, &discovery(&shared.state().issuer))
        }
        "/jwks" if get => json(StatusCode::OK, &shared.state().jwks()),
        "/authorize" if get || post => authorize::authorization(&mut shared.state(), request),
        "/token" if post => oauth(token::token(&mut shared.state(), request)),
        "/userinfo" if get || post => token::userinfo(&shared.state(), request),
        "/introspect" if post => oauth(token::introspect(&shared.state(), request)),
        "/revoke" if post => oauth(token::revoke(&mut shared.state(), request)),
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The discovery document (OpenID Connect Discovery 1.0 §3).
fn discovery(issuer: &str) -> Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "name", "preferred_username", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

/// A JSON answer, or the RFC 6749 §5.2 error envelope.
fn oauth(result: Result<Value, OAuthError>) -> Response<Full<Bytes>> {
    match result {
        Ok(body) => json(StatusCode::OK, &body),
        Err(error) => oauth_error(&error),
    }
}

pub(crate) fn oauth_error(error: &OAuthError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json(
        status,
        &serde_json::json!({"error": error.error, "error_description": error.description}),
    );
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6749 §5.2: a 401 invalid_client carries the scheme the client may use.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"genauth-test\""),
        );
    }
    response
}

pub(crate) fn json(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // RFC 6749 §5.1: token responses must not be cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `302 Found` to `location`; a location that is no header value (it came from a registered URI,
/// so it never is) gives a 500.
pub(crate) fn redirect(location: &str) -> Response<Full<Bytes>> {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::FOUND;
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "redirect location is not a header value",
        ),
    }
}

fn unavailable() -> Response<Full<Bytes>> {
    let mut response = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "the test provider is in an outage",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
