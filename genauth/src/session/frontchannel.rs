//! OpenID Connect Front-Channel Logout 1.0: the provider loads the application's
//! `frontchannel_logout_uri` (in an `iframe`) with `iss` and `sid` when the user signs out at the
//! provider or in another application; [`SessionManager::frontchannel_logout`] ends every session
//! of that provider session ([`SessionManager::end_provider_session`]).
//!
//! Register `https://<app>/frontchannel-logout` as the client's `frontchannel_logout_uri`, with
//! `frontchannel_logout_session_required: true` (§2), so that the provider sends `iss` and `sid`.

use super::{SessionError, SessionManager};
use crate::clock::now_secs;
use crate::web::{Reply, RequestHead};

impl SessionManager {
    /// Ends every session of the provider session `sid` (the ID token's `sid` claim, OpenID Connect
    /// Front-Channel Logout 1.0 §3; Back-Channel Logout 1.0 §2.4): every copy of their cookies then
    /// reads as signed out, on this manager's [`Revocations`](super::Revocations).
    ///
    /// # Errors
    /// [`SessionError::RevocationsFull`].
    pub fn end_provider_session(&self, sid: &str) -> Result<(), SessionError> {
        let lifetime = self
            .get_cookie_settings()
            .get_session_ttl()
            .min(self.get_absolute_lifetime());
        let until = now_secs().saturating_add(lifetime.as_secs());
        if self.get_revocations().revoke_provider_session(sid, until) {
            Ok(())
        } else {
            Err(self.revocations_full())
        }
    }

    /// `GET /frontchannel-logout?iss=…&sid=…` (Front-Channel Logout 1.0 §2, §3): `iss` must be this
    /// client's issuer, `sid` the provider session to end. 200 with an empty body when done (also
    /// for a `sid` no session here has); 400 (a text page) when `iss` or `sid` is missing, repeated
    /// or, for `iss`, another issuer's — nothing is ended then; 503 when the revocation list is
    /// full. Never cached (`Cache-Control: no-cache, no-store`, `Pragma: no-cache`, §2). The
    /// browser's own cookies are left alone: they may belong to another provider session.
    pub fn frontchannel_logout(&self, request: &RequestHead) -> Reply {
        let (mut iss, mut sid) = (Vec::new(), Vec::new());
        for (name, value) in url::form_urlencoded::parse(request.query().as_bytes()) {
            match &*name {
                "iss" => iss.push(value),
                "sid" => sid.push(value),
                _ => {}
            }
        }
        let (Ok([iss]), Ok([sid])) = (<[_; 1]>::try_from(iss), <[_; 1]>::try_from(sid)) else {
            return Reply::text(
                400,
                "Front-channel logout needs exactly one `iss` and one `sid` parameter.\n",
            );
        };
        // §3: "If the iss parameter is present, the RP MUST verify that it is the issuer of the ID
        // token" the session came from.
        if iss != self.client.metadata().issuer {
            tracing::warn!("front-channel logout for another issuer refused");
            return Reply::text(
                400,
                "Front-channel logout: `iss` is not this application's provider.\n",
            );
        }
        match self.end_provider_session(&sid) {
            Ok(()) => {
                tracing::info!("front-channel logout: provider session ended");
                self.spawn_store_end(&sid);
                Reply {
                    status: 200,
                    headers: vec![
                        ("content-type", "text/plain; charset=utf-8".into()),
                        ("cache-control", "no-cache, no-store".into()),
                        ("pragma", "no-cache".into()),
                    ],
                    body: String::new(),
                }
            }
            Err(e) => Reply::text(
                e.status_code(),
                "Sign-out is unavailable right now; try again.\n",
            ),
        }
    }
}

impl SessionManager {
    /// With a server-side store, deletes the sessions of `sid` from it in the background (this
    /// route answers synchronously; the ended sessions already read as signed out here, through
    /// the revocation list). Needs a Tokio runtime; without one only this instance knows.
    fn spawn_store_end(&self, sid: &str) {
        if self.get_session_store().is_none() && self.get_shared_revocations().is_none() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let manager = self.clone();
        let sid = sid.to_owned();
        runtime.spawn(async move {
            if let Err(e) = manager.end_provider_sessions(&sid).await {
                tracing::error!(error = %e, "front-channel logout: sessions could not be ended in the shared store");
            }
        });
    }
}
