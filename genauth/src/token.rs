//! The token endpoint (RFC 6749 §3.2): authorization code exchange (§4.1.3, with PKCE RFC 7636 §4.5),
//! refresh (§6) and client credentials (§4.4), and [`LoginState`]: the tokens of a sign-in plus their
//! verified claims (the GenAuth v3 SDK's `getLoginStateByAuthCode` / `refreshLoginState`).

use crate::claims::Claims;
use crate::config::Protocol;
use crate::jwt::IdTokenChecks;
use crate::types::{AccessToken, ClientSecret, CodeVerifier, IdToken, Nonce, RefreshToken};
use crate::{Client, Error, http};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::{Duration, SystemTime};
use url::Url;

/// A successful token endpoint response (RFC 6749 §5.1; OpenID Connect Core §3.1.3.3).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token.
    pub access_token: AccessToken,
    /// Usually `Bearer`.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Lifetime of the access token in seconds (a duration, not a timestamp).
    #[serde(default, deserialize_with = "number_or_string")]
    pub expires_in: Option<u64>,
    /// A refresh token (OIDC: only when `offline_access` was granted).
    #[serde(default)]
    pub refresh_token: Option<RefreshToken>,
    /// The ID token (OIDC only).
    #[serde(default)]
    pub id_token: Option<IdToken>,
    /// The granted scope, space-separated, when it differs from the requested one (or always, at GenAuth).
    #[serde(default)]
    pub scope: Option<String>,
    /// Scopes the provider refused (GenAuth client credentials).
    #[serde(default)]
    pub rejected_scope: Option<String>,
    /// Any other member.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

/// `expires_in` is a JSON number by RFC 6749, but some servers send a string.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Num(u64),
        Float(f64),
        Str(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::Num(n)) => Some(n),
        Some(N::Float(f)) if f >= 0.0 && f.is_finite() => Some(f as u64),
        Some(N::Float(_)) => None,
        Some(N::Str(s)) => s.trim().parse().ok(),
    })
}

/// The result of a sign-in or refresh: tokens, their verified claims, and when the access token expires.
///
/// `Debug` redacts the tokens. Serializable, so it can live in a sealed session cookie or a store.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoginState {
    /// The access token.
    pub access_token: AccessToken,
    /// Usually `Bearer`.
    pub token_type: String,
    /// The ID token (OIDC only).
    pub id_token: Option<IdToken>,
    /// The refresh token, if one was granted (OIDC: `offline_access`).
    pub refresh_token: Option<RefreshToken>,
    /// The granted scope, space-separated.
    pub scope: Option<String>,
    /// The access token's lifetime in seconds as the provider sent it (SDK `expireAt`, a duration).
    pub expires_in_secs: Option<u64>,
    /// When the access token expires: received time + `expires_in`.
    pub expires_at: Option<SystemTime>,
    /// The ID token's verified claims (signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`).
    pub id_token_claims: Option<Claims>,
    /// The access token's verified claims, when it is a JWT signed with the provider's keys
    /// (signature, `iss`, `exp`; its audience is the resource server's business, not checked here).
    /// `None` for an opaque access token, or a JWT this client cannot verify (RFC 9068 §6: access
    /// tokens are opaque to clients, so that is not an error).
    pub access_token_claims: Option<Claims>,
}

impl LoginState {
    /// Whether the access token expires within `skew` of `now` (`false` when the expiry is unknown).
    pub fn expires_within(&self, now: SystemTime, skew: Duration) -> bool {
        match (self.expires_at, now.checked_add(skew)) {
            (Some(at), Some(horizon)) => at <= horizon,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

impl Client {
    /// Exchanges an authorization code for tokens (RFC 6749 §4.1.3) at the token endpoint, with the
    /// configured token auth method. `redirect_uri` must be the one used in the authorization request
    /// (default: the configured one); `code_verifier` is the PKCE verifier of that request (RFC 7636 §4.5).
    ///
    /// The ID token is **not** verified here; use [`Client::login_state_from_code`] for a sign-in.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for SAML/CAS or without a token endpoint; [`Error::OAuth`] with the
    /// provider's `error` (`invalid_grant` for a used or expired code); transport and response errors.
    pub async fn exchange_code(
        &self,
        code: &str,
        code_verifier: Option<&CodeVerifier>,
        redirect_uri: Option<&Url>,
    ) -> Result<TokenResponse, Error> {
        let redirect_uri = match redirect_uri {
            Some(uri) => uri.clone(),
            None => self.redirect_uri(None)?,
        };
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier.secret()));
        }
        self.token_request(form).await
    }

    /// Signs a user in from the callback: exchanges the code, verifies the ID token (OpenID Connect Core
    /// §3.1.3.7: signature, `iss`, `aud`, `exp`, `iat`, `nonce`, `at_hash`), and verifies the access token
    /// too when it is a JWT. In OAuth 2.0 mode there is no ID token and no nonce.
    ///
    /// # Errors
    /// As [`Client::exchange_code`]; [`Error::Validation`] when a token fails verification;
    /// [`Error::InvalidResponse`] when an OIDC response lacks the `id_token`.
    pub async fn login_state_from_code(
        &self,
        code: &str,
        code_verifier: Option<&CodeVerifier>,
        redirect_uri: Option<&Url>,
        nonce: Option<&Nonce>,
    ) -> Result<LoginState, Error> {
        let response = self
            .exchange_code(code, code_verifier, redirect_uri)
            .await?;
        if self.config().protocol() == Protocol::Oidc && response.id_token.is_none() {
            return Err(Error::InvalidResponse {
                endpoint: "token_endpoint",
                reason: "an OpenID Connect code exchange returned no id_token".into(),
            });
        }
        self.login_state(response, nonce, None).await
    }

    /// Refreshes tokens (RFC 6749 §6) with the configured token auth method.
    ///
    /// # Errors
    /// As [`Client::exchange_code`]; `invalid_grant` when the refresh token is expired or revoked.
    pub async fn refresh_token(
        &self,
        refresh_token: &RefreshToken,
    ) -> Result<TokenResponse, Error> {
        self.token_request(vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ])
        .await
    }

    /// Refreshes a sign-in: new tokens, verified as in [`Client::login_state_from_code`] (no nonce on
    /// refresh, OpenID Connect Core §12.2). When the provider issues no new refresh token, the old one is
    /// kept (RFC 6749 §6).
    ///
    /// # Errors
    /// As [`Client::refresh_token`], plus [`Error::Validation`] for a token failing verification.
    pub async fn refresh_login_state(
        &self,
        refresh_token: &RefreshToken,
    ) -> Result<LoginState, Error> {
        let response = self.refresh_token(refresh_token).await?;
        self.login_state(response, None, Some(refresh_token)).await
    }

    /// Machine-to-machine client credentials grant (RFC 6749 §4.4) with a GenAuth programmatic-access
    /// key pair: `access_key` as `client_id` and `secret_key` as `client_secret`, always in the form body
    /// (as every GenAuth SDK does), with the required `scope` (GenAuth items look like `resource:action`).
    ///
    /// The response has no ID token and no refresh token; GenAuth lists refused scopes in
    /// `rejected_scope`.
    ///
    /// # Errors
    /// [`Error::Config`] when `scope` is empty; otherwise as [`Client::exchange_code`].
    pub async fn client_credentials(
        &self,
        access_key: &str,
        secret_key: &ClientSecret,
        scope: &str,
    ) -> Result<TokenResponse, Error> {
        const ENDPOINT: &str = "token_endpoint";
        if scope.trim().is_empty() {
            return Err(Error::Config(crate::ConfigError::Missing(
                "scope (client credentials need one)",
            )));
        }
        let url = self.endpoint(ENDPOINT, &self.metadata().token_endpoint)?;
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", access_key),
            ("client_secret", secret_key.secret()),
            ("scope", scope),
        ];
        form.extend(
            self.config()
                .resources()
                .iter()
                .map(|r| ("resource", r.as_str())),
        );
        let request = self
            .http_client()
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form);
        http::send(ENDPOINT, request)
            .await?
            .success(ENDPOINT)?
            .json(ENDPOINT)
    }

    /// A POST to the token endpoint with the configured client authentication.
    async fn token_request(&self, mut form: Vec<(&str, &str)>) -> Result<TokenResponse, Error> {
        const ENDPOINT: &str = "token_endpoint";
        let config = self.config();
        // RFC 8707 §2.2: the resource again at the token endpoint, so the access token is minted for it.
        form.extend(config.resources().iter().map(|r| ("resource", r.as_str())));
        if !matches!(config.protocol(), Protocol::Oidc | Protocol::OAuth2) {
            return Err(Error::Unsupported(
                "the token endpoint is only used by the OIDC and OAuth 2.0 protocols".into(),
            ));
        }
        let url = self.endpoint(ENDPOINT, &self.metadata().token_endpoint)?;
        self.post_authenticated(ENDPOINT, url, config.token_auth_method(), form)
            .await?
            .json(ENDPOINT)
    }

    /// Verifies a token response's tokens and assembles the [`LoginState`].
    async fn login_state(
        &self,
        response: TokenResponse,
        nonce: Option<&Nonce>,
        previous_refresh_token: Option<&RefreshToken>,
    ) -> Result<LoginState, Error> {
        let received = SystemTime::now();
        let id_token_claims = match &response.id_token {
            Some(id_token) => Some(
                self.verify_id_token(
                    id_token.secret(),
                    &IdTokenChecks {
                        client_id: self.config().client_id().as_str(),
                        nonce,
                        access_token: Some(response.access_token.secret()),
                    },
                )
                .await?,
            ),
            None => None,
        };
        // Access tokens are opaque to a client (RFC 9068 §6): one that is a JWT from this provider's
        // keys has its claims read, but one this client cannot verify (another issuer, a signature
        // scheme of the resource's) does not fail the sign-in.
        let access_token_claims = if looks_like_jwt(response.access_token.secret()) {
            match self
                .verify_access_token(response.access_token.secret())
                .await
            {
                Ok(claims) => Some(claims),
                Err(error) => {
                    tracing::debug!(%error, "access token is a JWT this client cannot verify; kept opaque");
                    None
                }
            }
        } else {
            None
        };
        Ok(LoginState {
            // An `expires_in` beyond what the clock represents (a broken provider) means no known expiry.
            expires_at: response
                .expires_in
                .and_then(|secs| received.checked_add(Duration::from_secs(secs))),
            expires_in_secs: response.expires_in,
            refresh_token: response
                .refresh_token
                .or_else(|| previous_refresh_token.cloned()),
            access_token: response.access_token,
            token_type: response.token_type,
            id_token: response.id_token,
            scope: response.scope,
            id_token_claims,
            access_token_claims,
        })
    }
}

/// Three non-empty dot-separated parts: a JWS compact serialization (RFC 7515 §7.1).
fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let three = (0..3).all(|_| parts.next().is_some_and(|p| !p.is_empty()));
    three && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_responses() {
        let r: TokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": "at", "expires_in": "3600", "token_type": "Bearer",
            "scope": "book:read", "rejected_scope": "table:write"
        }))
        .unwrap();
        assert_eq!(r.expires_in, Some(3600));
        assert_eq!(r.rejected_scope.as_deref(), Some("table:write"));
        let r: TokenResponse =
            serde_json::from_value(serde_json::json!({"access_token": "at"})).unwrap();
        assert_eq!(r.token_type, "Bearer");
        assert!(r.expires_in.is_none());
        assert!(!format!("{r:?}").contains("\"at\""));
    }

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt("a..c"));
        assert!(!looks_like_jwt("0123456789abcdef"));
    }

    #[test]
    fn expiry_window() {
        let now = SystemTime::now();
        let state = LoginState {
            access_token: AccessToken::new("a"),
            token_type: "Bearer".into(),
            id_token: None,
            refresh_token: None,
            scope: None,
            expires_in_secs: Some(30),
            expires_at: Some(now + Duration::from_secs(30)),
            id_token_claims: None,
            access_token_claims: None,
        };
        assert!(state.expires_within(now, Duration::from_secs(60)));
        assert!(!state.expires_within(now, Duration::from_secs(10)));
    }
}
