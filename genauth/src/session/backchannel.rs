//! OpenID Connect Back-Channel Logout 1.0: the provider POSTs a `logout_token` to the application's
//! `backchannel_logout_uri` when the user signs out at the provider or in another application;
//! [`SessionManager::backchannel_logout`] verifies it ([`LogoutTokenVerifier`], §2.6) and ends the
//! sessions it names (§2.7): those of its `sid`, else every session of its `sub`.
//!
//! Register `https://<app>/backchannel-logout` as the client's `backchannel_logout_uri` (with
//! `backchannel_logout_session_required: true` to get `sid`).

use super::SessionManager;
use crate::logout_token::LogoutTokenVerifier;
use crate::web::Reply;

impl SessionManager {
    /// The verifier of logout tokens for this client (issuer, client ID as audience, the
    /// provider's keys); `None` when the provider publishes no keys.
    pub(super) fn logout_token_verifier(client: &crate::Client) -> Option<LogoutTokenVerifier> {
        client
            .jwt_verifier([client.config().client_id().as_str()])
            .ok()
            .map(LogoutTokenVerifier::new)
    }

    /// `POST /backchannel-logout` with the form body `logout_token=…` (Back-Channel Logout 1.0
    /// §2.5): 200 (empty) when the token verifies (§2.6) and its sessions are ended (§2.7); 400 with
    /// an OAuth error body (`invalid_request`, RFC 6749 §5.2 shape) when the body or the token is
    /// bad — nothing is ended then; 503 when the provider's keys or the revocation list are
    /// unavailable (the provider may retry). Never cached (§2.8: `Cache-Control: no-store`).
    pub async fn backchannel_logout(&self, body: &[u8]) -> Reply {
        let mut fields = url::form_urlencoded::parse(body)
            .filter(|(name, _)| name == "logout_token")
            .map(|(_, value)| value);
        let (Some(token), None) = (fields.next(), fields.next()) else {
            return oauth_error(400, "exactly one `logout_token` form field is needed");
        };
        let Some(verifier) = &self.logout_tokens else {
            return oauth_error(
                503,
                "the provider publishes no keys to verify logout tokens",
            );
        };
        let logout = match verifier.verify(&token).await {
            Ok(logout) => logout,
            Err(e) => {
                tracing::warn!(error = %e, "back-channel logout token refused");
                return oauth_error(e.status_code(), &e.to_string());
            }
        };
        // §2.7: the sessions of `sid` when given, else every session of `sub`.
        let ended = match (&logout.sid, &logout.sub) {
            (Some(sid), _) => self.end_provider_sessions(sid).await,
            (None, Some(sub)) => self.end_user_sessions(sub).await,
            (None, None) => Ok(()),
        };
        match ended {
            Ok(()) => {
                tracing::info!("back-channel logout: sessions ended");
                Reply {
                    status: 200,
                    headers: vec![("cache-control", "no-store".into())],
                    body: String::new(),
                }
            }
            Err(e) => oauth_error(e.status_code(), "sessions could not be ended; try again"),
        }
    }
}

/// An OAuth error body (`{"error", "error_description"}`), never cached.
fn oauth_error(status: u16, description: &str) -> Reply {
    let error = if status >= 500 {
        "temporarily_unavailable"
    } else {
        "invalid_request"
    };
    Reply::json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
    .header("cache-control", "no-store")
}
