//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0): when a provider session
//! ends, a logout token (§2.4) is POSTed to the `backchannel_logout_uri` (§2.2) of every client that
//! signed in through it, and the answer is recorded ([`BackchannelDelivery`]).

use super::state::{State, random};
use super::{BackchannelDelivery, Shared};
use serde_json::json;
use std::sync::PoisonError;
use std::time::Duration;

/// The `events` member of a logout token (§2.4).
const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is valid (`exp` − `iat`), in seconds: two minutes, as `oidc-provider`.
const LOGOUT_TOKEN_LIFETIME_SECS: u64 = 120;

/// How long one delivery may take before it is recorded as failed (§2.7 lets the OP give up).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A logout token to send, minted while the state was locked.
#[derive(Debug)]
pub(crate) struct PendingLogout {
    client_id: String,
    uri: String,
    sub: String,
    sid: String,
    logout_token: String,
}

impl State {
    /// Ends the provider session `sid` and mints a logout token (`typ: logout+jwt`; `iss`, `aud` =
    /// the client, `iat`, `exp`, `jti`, `events`, `sub` and `sid`) for each of its clients with a
    /// registered `backchannel_logout_uri`. Nothing when the session already ended.
    pub(crate) fn end_provider_session(&mut self, sid: &str) -> Vec<PendingLogout> {
        let Some(session) = self.sessions.remove(sid) else {
            return Vec::new();
        };
        let now = self.now();
        let mut pending = Vec::new();
        for client_id in &session.clients {
            let Some(uri) = self
                .clients
                .get(client_id)
                .and_then(|c| c.backchannel_logout_uri.clone())
            else {
                continue;
            };
            let logout_token = self.signer().mint_with_header(
                json!({ "typ": "logout+jwt" }),
                json!({
                    "aud": client_id,
                    "sub": session.username,
                    "sid": sid,
                    "iat": now,
                    "exp": now + LOGOUT_TOKEN_LIFETIME_SECS,
                    "jti": random(),
                    "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
                }),
            );
            pending.push(PendingLogout {
                client_id: client_id.clone(),
                uri,
                sub: session.username.clone(),
                sid: sid.to_owned(),
                logout_token,
            });
        }
        pending
    }

    /// The `sid`s of every provider session `username` is signed in to.
    pub(crate) fn sessions_of(&self, username: &str) -> Vec<String> {
        self.sessions
            .iter()
            .filter(|(_, s)| s.username == username)
            .map(|(sid, _)| sid.clone())
            .collect()
    }
}

/// POSTs each logout token (`application/x-www-form-urlencoded`, field `logout_token`, §2.5), one
/// after the other, records each answer in `shared`, and returns them. Called with the state
/// unlocked: an app answering the POST may call the provider back.
pub(crate) async fn deliver(
    shared: &Shared,
    pending: Vec<PendingLogout>,
) -> Vec<BackchannelDelivery> {
    if pending.is_empty() {
        return Vec::new();
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .build();
    let mut deliveries = Vec::with_capacity(pending.len());
    for logout in pending {
        let answer = match &http {
            Ok(http) => http
                .post(&logout.uri)
                .form(&[("logout_token", logout.logout_token.as_str())])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let (status, error) = match answer {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        deliveries.push(BackchannelDelivery {
            client_id: logout.client_id,
            uri: logout.uri,
            sub: logout.sub,
            sid: logout.sid,
            logout_token: logout.logout_token,
            status,
            error,
        });
    }
    shared
        .deliveries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(deliveries.iter().cloned());
    deliveries
}
