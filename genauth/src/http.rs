//! Transport plumbing shared by every provider call: bounded response bodies, error envelopes
//! (RFC 6749 §5.2 and GenAuth `{code, message}`), client authentication (RFC 6749 §2.3.1), tracing.

use crate::Error;
use crate::config::ClientAuthMethod;
use crate::telemetry;
use crate::types::{ClientId, ClientSecret};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use std::time::Instant;

/// Largest response body accepted from the provider (1 MiB): JWKS, tokens and userinfo are far smaller.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A response read to the end, within [`MAX_RESPONSE_BYTES`].
pub(crate) struct Body {
    pub status: u16,
    pub bytes: Vec<u8>,
    pub headers: reqwest::header::HeaderMap,
}

/// Sends a request and reads the whole body, refusing bodies over the limit. Traced (a
/// `provider_call` span) and measured with the endpoint name, status and elapsed time (never the
/// URL's query, which may carry tokens).
pub(crate) async fn send(
    endpoint: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<Body, Error> {
    let span = telemetry::provider_call_span(endpoint);
    let started = Instant::now();
    let result = telemetry::in_span(&span, read(endpoint, request)).await;
    let status = result.as_ref().ok().map(|body| body.status);
    telemetry::provider_call_done(&span, endpoint, status, started.elapsed());
    match &result {
        Ok(body) => tracing::debug!(
            endpoint,
            status = body.status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "provider call"
        ),
        Err(error) => tracing::warn!(
            endpoint,
            elapsed_ms = started.elapsed().as_millis() as u64,
            %error,
            "provider call failed"
        ),
    }
    result
}

async fn read(endpoint: &'static str, request: reqwest::RequestBuilder) -> Result<Body, Error> {
    // `without_url`: request URLs can carry secrets (CAS tickets, legacy `validate_token` tokens), and
    // reqwest's error text would otherwise quote them into logs and error pages.
    let transport = |source: reqwest::Error| Error::Transport {
        endpoint,
        source: source.without_url(),
    };
    let mut response = request.send().await.map_err(transport)?;
    let too_large = Error::ResponseTooLarge {
        endpoint,
        limit: MAX_RESPONSE_BYTES,
    };
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large);
    }
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body {
        status,
        bytes,
        headers,
    })
}

#[derive(serde::Deserialize)]
struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

#[derive(serde::Deserialize)]
struct GenAuthErrorBody {
    code: i64,
    message: Option<String>,
}

impl Body {
    /// `Ok(self)` for a 2xx status; otherwise the provider's error as a typed [`Error`].
    pub(crate) fn success(self, endpoint: &'static str) -> Result<Self, Error> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        Err(self.error(endpoint))
    }

    /// The typed error for a failed response: an OAuth error body, a GenAuth envelope, or the status.
    pub(crate) fn error(&self, endpoint: &'static str) -> Error {
        let status = self.status;
        if let Ok(e) = serde_json::from_slice::<OAuthErrorBody>(&self.bytes) {
            return Error::OAuth {
                endpoint,
                status,
                error: e.error,
                error_description: e.error_description,
            };
        }
        if let Ok(e) = serde_json::from_slice::<GenAuthErrorBody>(&self.bytes) {
            return Error::GenAuth {
                endpoint,
                status,
                code: e.code,
                message: e.message.unwrap_or_default(),
            };
        }
        Error::UnexpectedStatus { endpoint, status }
    }

    /// Parses a JSON body.
    pub(crate) fn json<T: DeserializeOwned>(&self, endpoint: &'static str) -> Result<T, Error> {
        serde_json::from_slice(&self.bytes).map_err(|e| Error::InvalidResponse {
            endpoint,
            reason: format!("not the expected JSON: {e}"),
        })
    }

    /// The body as UTF-8 text.
    pub(crate) fn text(&self, endpoint: &'static str) -> Result<&str, Error> {
        std::str::from_utf8(&self.bytes).map_err(|_| Error::InvalidResponse {
            endpoint,
            reason: "body is not UTF-8".into(),
        })
    }
}

/// Builds a form POST with client authentication (RFC 6749 §2.3.1):
/// `client_secret_post` puts `client_id`/`client_secret` in the body, `client_secret_basic` sends
/// `Authorization: Basic base64(id:secret)` (raw strings, padded standard base64, as GenAuth expects),
/// `none` sends `client_id` only.
pub(crate) fn authenticated_form<'a>(
    http: &reqwest::Client,
    url: &url::Url,
    method: ClientAuthMethod,
    client_id: &'a ClientId,
    client_secret: Option<&'a ClientSecret>,
    mut form: Vec<(&'a str, &'a str)>,
) -> reqwest::RequestBuilder {
    let mut request = http.post(url.clone());
    match (method, client_secret) {
        (ClientAuthMethod::ClientSecretBasic, Some(secret)) => {
            let credentials = format!("{}:{}", client_id.as_str(), secret.secret());
            let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
            request = request.header(reqwest::header::AUTHORIZATION, format!("Basic {encoded}"));
        }
        (ClientAuthMethod::ClientSecretPost, Some(secret)) => {
            form.push(("client_id", client_id.as_str()));
            form.push(("client_secret", secret.secret()));
        }
        // `none`, or no secret (rejected at config build for the secret-based methods).
        _ => form.push(("client_id", client_id.as_str())),
    }
    request
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
}
