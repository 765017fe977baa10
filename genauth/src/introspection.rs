//! Token introspection (RFC 7662), GenAuth `POST /oidc/token/introspection` (`/oauth/...` in OAuth 2.0
//! mode), and GenAuth's legacy online validation `GET /api/v2/oidc/validate_token`.

use crate::claims::Claims;
use crate::{Client, Error, ExtraClaims, http};
use serde::{Deserialize, Serialize};

/// An introspection response (RFC 7662 §2.2). An inactive token is a result (`active: false`), not an
/// error: expired, revoked and unknown tokens all look the same to the caller.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Introspection {
    /// Whether the token is currently active.
    pub active: bool,
    /// The token's claims (`sub`, `scope`, `client_id`, `exp`, `iat`, `iss`, `aud`, `jti`, and any
    /// other member such as `username` or `token_type` in `extra`). Empty when inactive.
    #[serde(flatten)]
    pub claims: Claims,
}

/// Which kind of token is introspected or revoked (RFC 7662 §2.1 / RFC 7009 §2.1 `token_type_hint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// Which token to validate online with GenAuth's legacy endpoint: exactly one of the two.
#[derive(Clone, Copy, Debug)]
pub enum OnlineToken<'a> {
    /// Validate an ID token (`?id_token=`).
    IdToken(&'a str),
    /// Validate an access token (`?access_token=`).
    AccessToken(&'a str),
}

impl Client {
    /// Asks the provider whether `token` is active (RFC 7662 §2.1), authenticating with the configured
    /// introspection auth method. ID tokens cannot be introspected.
    ///
    /// `token_type_hint` is optional (GenAuth's docs call it required, no SDK sends it; servers accept
    /// its absence).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without an introspection endpoint; [`Error::Transport`] when unreachable;
    /// [`Error::OAuth`] (e.g. `invalid_client`) or [`Error::UnexpectedStatus`] for a non-2xx answer;
    /// [`Error::InvalidResponse`] when the body is not an introspection response.
    pub async fn introspect(
        &self,
        token: &str,
        token_type_hint: Option<TokenTypeHint>,
    ) -> Result<Introspection, Error> {
        const ENDPOINT: &str = "introspection_endpoint";
        let url = self.endpoint(ENDPOINT, &self.metadata().introspection_endpoint)?;
        let mut form = vec![("token", token)];
        if let Some(hint) = token_type_hint {
            form.push(("token_type_hint", hint.as_str()));
        }
        self.post_authenticated(
            ENDPOINT,
            url,
            self.config().introspection_auth_method(),
            form,
        )
        .await?
        .json(ENDPOINT)
    }

    /// GenAuth's legacy online validation (`GET {app_host}/api/v2/oidc/validate_token`, marked deprecated
    /// by GenAuth; prefer [`Client::introspect`] or local verification). No client authentication.
    ///
    /// Returns the token's decoded claims when the provider accepts it.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a GenAuth app host; [`Error::GenAuth`] with the provider's
    /// `{code, message}` (e.g. `token invalid`) when the token is rejected — GenAuth may send that
    /// envelope with HTTP 200, so the body is checked, not only the status; transport errors as usual.
    pub async fn validate_token(&self, token: OnlineToken<'_>) -> Result<ExtraClaims, Error> {
        const ENDPOINT: &str = "validate_token";
        let host = self.config().app_host().ok_or_else(|| {
            Error::Unsupported("validate_token is a GenAuth endpoint: configure an app host".into())
        })?;
        let url = crate::config::join_path(host, "api/v2/oidc/validate_token").map_err(|e| {
            Error::InvalidResponse {
                endpoint: ENDPOINT,
                reason: e.to_string(),
            }
        })?;
        let query = match token {
            OnlineToken::IdToken(t) => [("id_token", t)],
            OnlineToken::AccessToken(t) => [("access_token", t)],
        };
        let body = http::send(ENDPOINT, self.http_client().get(url).query(&query))
            .await?
            .success(ENDPOINT)?;
        let claims: ExtraClaims = body.json(ENDPOINT)?;
        // A `{code, message}` envelope (code ≠ 200) is a rejection even with HTTP 200.
        if let (Some(code), Some(message)) = (
            claims.get("code").and_then(|c| c.as_i64()),
            claims.get("message").and_then(|m| m.as_str()),
        ) && code != 200
            && !claims.contains_key("sub")
            && !claims.contains_key("iss")
        {
            return Err(Error::GenAuth {
                endpoint: ENDPOINT,
                status: body.status,
                code,
                message: message.to_owned(),
            });
        }
        Ok(claims)
    }
}
