//! Client-side steps that the tests against every provider share.

use genauth::Client;
use genauth::authorize::AuthorizationRequest;
use genauth::token::LoginState;
use url::Url;

/// The first value of the query parameter `name` of `url`.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Finishes a sign-in from `code`: the exchange with the request's PKCE verifier, redirect URI and
/// nonce, and the ID token verified.
pub async fn finish_sign_in(
    client: &Client,
    request: &AuthorizationRequest,
    code: &str,
) -> Result<LoginState, genauth::Error> {
    client
        .login_state_from_code(
            code,
            request.code_verifier.as_ref(),
            request.redirect_uri.as_ref(),
            request.nonce.as_ref(),
        )
        .await
}
