//! Logout: [`SessionManager::logout`] ends the session and sends the browser to the provider's
//! logout; [`SessionManager::logout_refusal`] and [`is_cross_site_logout`] refuse logout CSRF.

use super::{Session, SessionManager};
use crate::clock::now_secs;
use crate::introspection::TokenTypeHint;
use crate::logout::LogoutParams;
use crate::telemetry;
use crate::web::{Redirect, Reply, RequestHead};

impl SessionManager {
    /// Whether a request to the logout route must be refused because another site sent it, and
    /// the answer then (403, a short text page; nothing else happens: the session stays).
    ///
    /// `GET /logout` from this site's own links and typed URLs keeps working; refused are requests
    /// the browser marks `Sec-Fetch-Site: cross-site` or `same-site` (any method: with
    /// `SameSite=Lax` the session cookie goes along on another site's top-level link, and a sibling
    /// subdomain is another application), and unsafe methods (`POST`, …) whose
    /// `Origin` is not this application's, the origin of its redirect URI (for browsers without
    /// Fetch Metadata). See [`is_cross_site_logout`].
    pub fn logout_refusal(&self, request: &RequestHead) -> Option<Reply> {
        let method = request.method();
        let own_origin = self
            .client
            .redirect_uri(self.authorize_params.redirect_uri.as_deref())
            .ok()
            .map(|uri| uri.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization());
        if !is_cross_site_logout(
            method,
            request.header("sec-fetch-site"),
            request.header("origin"),
            own_origin.as_deref(),
        ) {
            return None;
        }
        tracing::warn!(method, "cross-site logout request refused");
        Some(Reply::text(
            403,
            "Sign-out refused: the request came from another site.\n\n\
             To sign out, use this site's own sign-out link.\n",
        ))
    }

    /// Signs out: ends the session (a saved copy of its cookie then reads as signed out:
    /// [`end_session`](Self::end_session); a full revocation list is logged), removes the session
    /// cookies, revokes the refresh token when configured (failures are logged, not fatal), and
    /// redirects to the provider's logout URL ([`Client::logout_url`](crate::Client::logout_url),
    /// with `id_token_hint` and the post-logout redirect), or to the post-logout redirect (else `/`)
    /// when the provider has none.
    ///
    /// `loaded` is the session this manager's session middleware loaded for this request, when it
    /// ran (`Some(None)`: it found none): that session, refreshed on the way in if that was due, is
    /// the one ended (its refresh token revoked, its ID token the hint), not the one the request's
    /// cookies held before that refresh. With `None` (no middleware of this manager on the route)
    /// the session is opened from the request's cookies.
    ///
    /// Check [`logout_refusal`](Self::logout_refusal) first.
    pub async fn logout(
        &self,
        request: &RequestHead,
        loaded: Option<Option<&Session>>,
    ) -> Redirect {
        let session = match loaded {
            Some(session) => session.cloned(),
            None => self.fetch(request).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "session store unavailable at logout");
                None
            }),
        };
        if let Some(session) = &session {
            telemetry::signed_out(&session.user.sub, session.user.protocol);
            // Logged inside; the browser's cookies are removed all the same.
            let _ = self.end_session(session);
            if let Err(e) = self.revoke_shared(session).await {
                tracing::error!(error = %e, "session could not be revoked in the shared revocations at logout; ended on this instance only");
            }
        }
        // With a server-side store: the record goes, on every instance sharing the store. The ID
        // comes from the cookie, so that a store outage while loading does not keep the session.
        if let Some(id) = session
            .as_ref()
            .and_then(|s| s.id().map(str::to_owned))
            .or_else(|| self.stored_id(request))
        {
            if session.is_none() {
                let until = now_secs()
                    .saturating_add(self.get_cookie_settings().get_session_ttl().as_secs());
                if !self.get_revocations().revoke_session(&id, until) {
                    let _ = self.revocations_full();
                }
            }
            if let Err(e) = self.forget(&id).await {
                tracing::error!(error = %e, "session could not be deleted from the store at logout; ended on this instance only");
            }
        }
        if self.revoke_on_logout
            && let Some(tokens) = session.as_ref().and_then(|s| s.tokens.as_ref())
        {
            let (token, hint) = match &tokens.refresh_token {
                Some(rt) => (rt.secret(), TokenTypeHint::RefreshToken),
                None => (tokens.access_token.secret(), TokenTypeHint::AccessToken),
            };
            if let Err(e) = self.client.revoke(token, Some(hint)).await {
                tracing::warn!(error = %e, "token revocation at logout failed");
            }
        }
        let params = LogoutParams {
            id_token_hint: session.as_ref().and_then(|s| s.logout_hint().cloned()),
            post_logout_redirect_uri: self.post_logout_redirect_uri.clone(),
            ..LogoutParams::default()
        };
        let location = match self.client.logout_url(&params) {
            Ok(url) => url.into(),
            Err(e) => {
                tracing::warn!(error = %e, "no provider logout URL; redirecting locally");
                self.post_logout_redirect_uri
                    .clone()
                    .or_else(|| {
                        self.client
                            .config()
                            .logout_redirect_uri()
                            .map(|u| u.to_string())
                    })
                    .unwrap_or_else(|| "/".to_owned())
            }
        };
        Redirect {
            location,
            set_cookies: self.clear(request.cookies()),
        }
    }
}

/// Whether a logout request comes from another site or origin (logout CSRF), from its method and
/// headers: `Sec-Fetch-Site: cross-site` or `same-site` (any method; a sibling subdomain is
/// another application, Fetch Metadata §2.1), or an unsafe method (not `GET`/`HEAD`) with an
/// `Origin` other than `own_origin` (`scheme://host[:port]`, compared ASCII case-insensitively;
/// `null` included). `same-origin` and `none` (typed URL, bookmark) pass, as do requests without
/// these headers (older browsers, scripts).
///
/// ```
/// use genauth::session::is_cross_site_logout;
///
/// let own = Some("https://app.example.com");
/// assert!(!is_cross_site_logout("GET", Some("same-origin"), None, own));
/// assert!(!is_cross_site_logout("GET", None, None, own));
/// assert!(is_cross_site_logout("GET", Some("cross-site"), None, own));
/// assert!(is_cross_site_logout("GET", Some("same-site"), None, own));
/// assert!(is_cross_site_logout("POST", None, Some("https://evil.example"), own));
/// assert!(!is_cross_site_logout("POST", None, Some("https://app.example.com"), own));
/// ```
pub fn is_cross_site_logout(
    method: &str,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    own_origin: Option<&str>,
) -> bool {
    if sec_fetch_site.is_some_and(|site| {
        let site = site.trim();
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    }) {
        return true;
    }
    if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
        return false;
    }
    match (origin, own_origin) {
        (Some(origin), Some(own)) => !origin.trim().eq_ignore_ascii_case(own),
        _ => false,
    }
}
