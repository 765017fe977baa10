//! Token revocation (RFC 7009), GenAuth `POST /oidc/token/revocation` (`/oauth/...` in OAuth 2.0 mode).

use crate::introspection::TokenTypeHint;
use crate::{Client, Error};

impl Client {
    /// Revokes an access or refresh token (RFC 7009 §2.1) with the configured revocation auth method.
    ///
    /// Success is any 2xx status: the body is ignored (GenAuth's is not JSON). Revoking an unknown or
    /// already invalid token also succeeds (RFC 7009 §2.2).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a revocation endpoint or in SAML/CAS mode; [`Error::OAuth`] (e.g.
    /// `unsupported_token_type`, `invalid_client`) or [`Error::UnexpectedStatus`] for a non-2xx answer;
    /// transport errors.
    pub async fn revoke(
        &self,
        token: &str,
        token_type_hint: Option<TokenTypeHint>,
    ) -> Result<(), Error> {
        const ENDPOINT: &str = "revocation_endpoint";
        let config = self.config();
        if !matches!(
            config.protocol(),
            crate::Protocol::Oidc | crate::Protocol::OAuth2
        ) {
            return Err(Error::Unsupported(
                "revocation is only available with the OIDC and OAuth 2.0 protocols".into(),
            ));
        }
        let url = self.endpoint(ENDPOINT, &self.metadata().revocation_endpoint)?;
        let mut form = vec![("token", token)];
        if let Some(hint) = token_type_hint {
            form.push(("token_type_hint", hint.as_str()));
        }
        self.post_authenticated(ENDPOINT, url, config.revocation_auth_method(), form)
            .await?;
        Ok(())
    }
}
