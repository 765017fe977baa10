//! The signed-in user ([`AuthUser`]), the [`Session`] holding it with its tokens, and [`refresh`].

use super::SessionError;
use crate::Client;
use crate::claims::{Claims, ExtraClaims};
use crate::config::Protocol;
use crate::token::LoginState;
use crate::types::{AccessToken, IdToken, RefreshToken};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// The signed-in user: the provider's subject, the claims it sent, and the protocol used.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct AuthUser {
    /// The user's ID at the provider (`sub`; the CAS `user`).
    pub sub: String,
    /// Every other claim: ID token claims (OIDC), UserInfo claims (OAuth 2.0), CAS attributes.
    /// `name`, `email`, `picture`, … when the provider sent them.
    #[serde(default)]
    pub claims: ExtraClaims,
    /// The protocol the user signed in with.
    pub protocol: Protocol,
}

impl AuthUser {
    /// A user with no claims.
    pub fn new(sub: impl Into<String>, protocol: Protocol) -> Self {
        Self {
            sub: sub.into(),
            claims: ExtraClaims::new(),
            protocol,
        }
    }

    /// A user with these claims (`sub` is kept out of `claims`).
    pub fn with_claims(
        sub: impl Into<String>,
        mut claims: ExtraClaims,
        protocol: Protocol,
    ) -> Self {
        claims.remove("sub");
        Self {
            sub: sub.into(),
            claims,
            protocol,
        }
    }

    /// The user of verified token claims; `None` when they carry no `sub`. The login-only claims
    /// `nonce` and `at_hash` are dropped.
    pub fn from_claims(claims: &Claims, protocol: Protocol) -> Option<Self> {
        let sub = claims.sub.clone()?;
        let serde_json::Value::Object(mut map) = serde_json::to_value(claims).ok()? else {
            return None;
        };
        map.remove("nonce");
        map.remove("at_hash");
        Some(Self::with_claims(sub, map, protocol))
    }

    /// A claim by name.
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.claims.get(name)
    }

    /// A string claim by name.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claim(name).and_then(serde_json::Value::as_str)
    }

    /// `name`, else `preferred_username`, `nickname`, `username`, `email`.
    pub fn display_name(&self) -> Option<&str> {
        [
            "name",
            "preferred_username",
            "nickname",
            "username",
            "email",
        ]
        .into_iter()
        .find_map(|claim| self.claim_str(claim))
    }

    /// `email`.
    pub fn email(&self) -> Option<&str> {
        self.claim_str("email")
    }

    /// All claims as one JSON object, `sub` included: what a profile page shows.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = self.claims.clone();
        map.insert("sub".into(), self.sub.clone().into());
        serde_json::Value::Object(map)
    }
}

/// A signed-in browser session: the user and, for OIDC and OAuth 2.0, the tokens (`None` for CAS).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// Who is signed in.
    pub user: AuthUser,
    /// The tokens of the sign-in, refreshed as they near expiry.
    pub tokens: Option<LoginState>,
    /// This sign-in's random ID (128 bits, base64url), kept across refreshes: what a shared refresh
    /// result is bound to. `None` only if the OS random number generator failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// When the user signed in (seconds since the epoch), kept across refreshes: the start of the
    /// absolute lifetime. 0 when unknown (a session that reads as over).
    #[serde(default)]
    pub(crate) created_at: u64,
    /// The sign-in's ID token once a refresh has replaced it in [`tokens`](Self::tokens): what
    /// logout sends as `id_token_hint` (a refreshed ID token, without `nonce`, never leaves in a
    /// URL). `None` while the sign-in's ID token is still the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_id_token: Option<IdToken>,
}

impl Session {
    /// A session without tokens, with a fresh random [`id`](Self::id).
    pub fn new(user: AuthUser) -> Self {
        Self {
            user,
            tokens: None,
            id: crate::types::random_token(16),
            created_at: crate::clock::now_secs(),
            sign_in_id_token: None,
        }
    }

    /// A session with the tokens of a sign-in, with a fresh random [`id`](Self::id).
    pub fn with_tokens(user: AuthUser, tokens: LoginState) -> Self {
        Self {
            tokens: Some(tokens),
            ..Self::new(user)
        }
    }

    /// This sign-in's random ID, the same for the session's whole life (refreshes keep it); not a
    /// secret on its own (it is sealed with the session), not the provider's `sid`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// When the user signed in, in seconds since the epoch (refreshes keep it): where the absolute
    /// lifetime ([`SessionManager::absolute_lifetime`](super::SessionManager::absolute_lifetime))
    /// starts.
    pub fn created_at_secs(&self) -> u64 {
        self.created_at
    }

    /// The provider's session ID: the `sid` claim of the ID token (OpenID Connect Front-Channel
    /// Logout 1.0 §3, Back-Channel Logout 1.0 §2.4), what the provider's logout notices name.
    pub fn provider_sid(&self) -> Option<&str> {
        self.tokens
            .as_ref()
            .and_then(|t| t.id_token_claims.as_ref())
            .and_then(|claims| claims.extra.get("sid"))
            .or_else(|| self.user.claim("sid"))
            .and_then(serde_json::Value::as_str)
    }

    /// The access token, for calls to APIs on the user's behalf.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.tokens.as_ref().map(|t| &t.access_token)
    }

    /// The current ID token (the sign-in's, or the last refresh's).
    pub fn id_token(&self) -> Option<&IdToken> {
        self.tokens.as_ref().and_then(|t| t.id_token.as_ref())
    }

    /// The ID token logout sends as `id_token_hint` (OpenID Connect RP-Initiated Logout §2): the
    /// sign-in's, even after refreshes.
    pub fn logout_hint(&self) -> Option<&IdToken> {
        self.sign_in_id_token.as_ref().or_else(|| self.id_token())
    }

    /// The refresh token.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.tokens.as_ref().and_then(|t| t.refresh_token.as_ref())
    }

    /// Whether the access token expires within `skew` of `now` and a refresh token can renew it.
    pub fn needs_refresh(&self, now: SystemTime, skew: Duration) -> bool {
        self.tokens
            .as_ref()
            .is_some_and(|t| t.refresh_token.is_some() && t.expires_within(now, skew))
    }
}

/// Renews the session's tokens with its refresh token (RFC 6749 §6). The new ID token must name the
/// same user (OpenID Connect Core §12.2); its claims replace the user's. What the provider does not
/// send again (refresh token, ID token) is kept. Does nothing without a refresh token.
///
/// # Errors
/// [`SessionError::Refresh`] with the provider's error (`invalid_grant`: the session is over; 503:
/// retry later); [`SessionError::SubjectChanged`].
pub async fn refresh(client: &Client, session: &mut Session) -> Result<(), SessionError> {
    let Some(old) = session.tokens.as_ref() else {
        return Ok(());
    };
    let Some(refresh_token) = old.refresh_token.as_ref() else {
        return Ok(());
    };
    let mut new = client
        .refresh_login_state(refresh_token)
        .await
        .map_err(SessionError::Refresh)?;
    if new.refresh_token.is_none() {
        new.refresh_token = old.refresh_token.clone();
    }
    if new.id_token.is_none() {
        new.id_token = old.id_token.clone();
        new.id_token_claims = old.id_token_claims.clone();
    } else if let Some(claims) = &new.id_token_claims {
        if claims.sub.as_deref() != Some(session.user.sub.as_str()) {
            return Err(SessionError::SubjectChanged);
        }
        if session.sign_in_id_token.is_none() {
            session.sign_in_id_token = old.id_token.clone();
        }
        // The new ID token's claims update the user's; claims it lacks (from UserInfo at sign-in)
        // are kept. In OAuth 2.0 mode the user came from UserInfo and an ID token does not change it.
        if session.user.protocol == Protocol::Oidc
            && let Some(user) = AuthUser::from_claims(claims, Protocol::Oidc)
        {
            session.user.claims.extend(user.claims);
        }
    }
    session.tokens = Some(new);
    Ok(())
}
