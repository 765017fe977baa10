//! The provider's memory: clients, users, keys, codes, grants and tokens, and the checks on them that
//! more than one endpoint needs (client authentication, token lookup).

use super::{LoginMode, TestClient, TokenLifetimes};
use crate::clock::now_secs;
use crate::config::ClientAuthMethod;
use crate::testing::TestIssuer;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use subtle::ConstantTimeEq as _;

/// An OAuth error answer (RFC 6749 §5.2): status, `error`, `error_description`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

impl OAuthError {
    pub(crate) fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    /// `400 invalid_grant`.
    pub(crate) fn grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    /// `400 invalid_request`.
    pub(crate) fn request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
}

/// An authorization waiting for the login form ([`LoginMode::Page`]).
#[derive(Clone, Debug)]
pub(crate) struct Interaction {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
}

/// A provider session (OIDC Back-Channel Logout 1.0 §2.1 `sid`): one per sign-in (there is no
/// browser session to reuse), with the clients that were given a code in it.
#[derive(Debug)]
pub(crate) struct ProviderSession {
    pub(crate) username: String,
    pub(crate) clients: Vec<String>,
}

/// An issued authorization code (RFC 6749 §4.1.2).
#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) request: Interaction,
    pub(crate) username: String,
    /// The provider session the code was issued in.
    pub(crate) sid: String,
    pub(crate) expires_at: u64,
    /// Set by the first exchange; a second one is refused and revokes `grant`.
    pub(crate) grant: Option<u64>,
}

/// What an access or refresh token stands for.
#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub(crate) grant: u64,
    pub(crate) client_id: String,
    /// The user; `None` for client credentials.
    pub(crate) username: Option<String>,
    pub(crate) scope: String,
    /// The RFC 8707 `resource` asked for: the access token's `aud`.
    pub(crate) resource: Option<String>,
    /// The provider session of a user grant (the `sid` of its ID tokens).
    pub(crate) sid: Option<String>,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    /// Revoked, or (refresh tokens) rotated away.
    pub(crate) revoked: bool,
}

impl TokenRecord {
    pub(crate) fn is_active(&self, now: u64) -> bool {
        !self.revoked && now < self.expires_at
    }
}

pub(crate) struct State {
    pub(crate) issuer: String,
    pub(crate) login_mode: LoginMode,
    pub(crate) lifetimes: TokenLifetimes,
    /// `aud` of JWT access tokens; `None`: the client's id.
    pub(crate) audience: Option<String>,
    pub(crate) clients: HashMap<String, TestClient>,
    pub(crate) users: HashMap<String, Value>,
    /// Signing keys, the current one first.
    pub(crate) keys: Vec<TestIssuer>,
    pub(crate) interactions: HashMap<String, Interaction>,
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) access_tokens: HashMap<String, TokenRecord>,
    pub(crate) refresh_tokens: HashMap<String, TokenRecord>,
    /// Provider sessions by `sid`.
    pub(crate) sessions: HashMap<String, ProviderSession>,
    /// Every ID token issued → its `sid`: an `id_token_hint` is honoured only if it is one of them.
    pub(crate) id_tokens: HashMap<String, String>,
    next_grant: u64,
}

impl State {
    pub(crate) fn new(issuer: String, login_mode: LoginMode, lifetimes: TokenLifetimes) -> Self {
        let key = TestIssuer::new().with_issuer(issuer.clone());
        Self {
            issuer,
            login_mode,
            lifetimes,
            audience: None,
            clients: HashMap::new(),
            users: HashMap::new(),
            keys: vec![key],
            interactions: HashMap::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            sessions: HashMap::new(),
            id_tokens: HashMap::new(),
            next_grant: 1,
        }
    }

    /// The key that signs now (there is always one: `new` makes it, rotation only adds).
    pub(crate) fn signer(&self) -> &TestIssuer {
        match self.keys.first() {
            Some(key) => key,
            None => unreachable!("the provider always holds a signing key"),
        }
    }

    /// `{"keys": [...]}` with every key, newest first.
    pub(crate) fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .flat_map(|k| k.jwks().keys)
            .filter_map(|k| serde_json::to_value(k).ok())
            .collect();
        json!({ "keys": keys })
    }

    pub(crate) fn new_grant(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant
    }

    /// Revokes every token of `grant`.
    pub(crate) fn revoke_grant(&mut self, grant: u64) {
        for record in self
            .access_tokens
            .values_mut()
            .chain(self.refresh_tokens.values_mut())
        {
            if record.grant == grant {
                record.revoked = true;
            }
        }
    }

    /// Client authentication (RFC 6749 §2.3.1; OIDC Core §9): the client's registered method only.
    /// `authorization` is the `Authorization` header, `form` the body.
    pub(crate) fn authenticate(
        &self,
        authorization: Option<&str>,
        form: &Form,
    ) -> Result<&TestClient, OAuthError> {
        let invalid = |why: &str| OAuthError::new(401, "invalid_client", why);
        let basic = authorization
            .and_then(|h| h.strip_prefix("Basic "))
            .map(basic_credentials);
        let (id, secret, method) = match (basic, form.get("client_secret")) {
            (Some(_), Some(_)) => {
                return Err(invalid("more than one client authentication method"));
            }
            (Some(None), _) => return Err(invalid("malformed Basic credentials")),
            (Some(Some((id, secret))), None) => {
                (id, Some(secret), ClientAuthMethod::ClientSecretBasic)
            }
            (None, Some(secret)) => (
                form.get("client_id").unwrap_or_default().to_owned(),
                Some(secret.to_owned()),
                ClientAuthMethod::ClientSecretPost,
            ),
            (None, None) => (
                form.get("client_id").unwrap_or_default().to_owned(),
                None,
                ClientAuthMethod::None,
            ),
        };
        let client = self
            .clients
            .get(&id)
            .ok_or_else(|| invalid("unknown client"))?;
        // A confidential client proves its secret in the header or the body (RFC 6749 §2.3.1 lets
        // servers take either, as oidc-provider does); a public one presents none.
        let public = client.auth_method == ClientAuthMethod::None;
        if public != (method == ClientAuthMethod::None) {
            return Err(invalid(&format!(
                "this client authenticates with {}, not {}",
                client.auth_method.as_str(),
                method.as_str()
            )));
        }
        if let (Some(expected), Some(given)) = (&client.secret, &secret)
            && !bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
        {
            return Err(invalid("wrong client secret"));
        }
        if let Some(form_id) = form.get("client_id")
            && form_id != client.id
        {
            return Err(invalid(
                "client_id in the body differs from the authenticated client",
            ));
        }
        Ok(client)
    }

    /// The claims of `username` for `scope`: `sub`, plus OIDC Core §5.4's `profile` and `email`
    /// claims (generated, then the test's own over them).
    pub(crate) fn user_claims(&self, username: &str, scope: &str) -> Map<String, Value> {
        let mut claims = Map::new();
        let scopes: Vec<&str> = scope.split(' ').collect();
        if scopes.contains(&"profile") {
            claims.insert("name".into(), username.into());
            claims.insert("preferred_username".into(), username.into());
        }
        if scopes.contains(&"email") {
            claims.insert("email".into(), format!("{username}@example.test").into());
            claims.insert("email_verified".into(), true.into());
        }
        if let Some(Value::Object(own)) = self.users.get(username) {
            for (name, value) in own {
                claims.insert(name.clone(), value.clone());
            }
        }
        claims.insert("sub".into(), username.into());
        claims
    }

    /// Mints a JWT access token (RFC 9068 shape) for `record` and remembers it.
    pub(crate) fn issue_access_token(&mut self, record: TokenRecord) -> String {
        let audience = self.audience_of(&record);
        let sub = record
            .username
            .clone()
            .unwrap_or_else(|| record.client_id.clone());
        let token = self.signer().mint_with_header(
            json!({"typ": "at+jwt"}),
            json!({
                "sub": sub,
                "aud": audience,
                "client_id": record.client_id,
                "scope": record.scope,
                "iat": record.issued_at,
                "exp": record.expires_at,
                "jti": random(),
            }),
        );
        self.access_tokens.insert(token.clone(), record);
        token
    }

    /// `aud` of an access token: the `resource` asked for, else the configured audience, else the client.
    pub(crate) fn audience_of(&self, record: &TokenRecord) -> String {
        record
            .resource
            .clone()
            .or_else(|| self.audience.clone())
            .unwrap_or_else(|| record.client_id.clone())
    }

    /// Issues an opaque refresh token for `record` and remembers it.
    pub(crate) fn issue_refresh_token(&mut self, record: TokenRecord) -> String {
        let token = random();
        self.refresh_tokens.insert(token.clone(), record);
        token
    }

    /// The record of an access or refresh token, whichever `token` is.
    pub(crate) fn find_token(&self, token: &str) -> Option<(&'static str, &TokenRecord)> {
        if let Some(record) = self.access_tokens.get(token) {
            return Some(("access_token", record));
        }
        self.refresh_tokens.get(token).map(|r| ("refresh_token", r))
    }

    pub(crate) fn now(&self) -> u64 {
        now_secs()
    }
}

/// A parsed `application/x-www-form-urlencoded` body or query (first value of each name).
#[derive(Debug, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(input: &str) -> Self {
        Self(
            url::form_urlencoded::parse(input.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first non-empty value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `name`, or `invalid_request` naming it.
    pub(crate) fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::request(format!("{name} is missing")))
    }

    /// Whether `name` appears more than once (RFC 6749 §3.1: parameters must not repeat).
    pub(crate) fn repeats(&self, name: &str) -> bool {
        self.0.iter().filter(|(k, _)| k == name).count() > 1
    }
}

/// `id:secret` of a Basic header, each form-decoded (RFC 6749 §2.3.1; raw values decode to themselves).
fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let form_decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((form_decode(id), form_decode(secret)))
}

/// 32 random bytes, base64url: codes, refresh tokens, interaction ids. Falls back on a clock-seeded
/// value only if the OS CSPRNG fails (this is a test double; values stay unique per process).
pub(crate) fn random() -> String {
    crate::types::random_token(32).unwrap_or_else(|| {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        URL_SAFE_NO_PAD.encode(format!("{}-{n}", now_secs()))
    })
}

/// PKCE S256 (RFC 7636 §4.6): base64url(SHA-256(verifier)) equals the challenge, in constant time.
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(crate::types::sha256(verifier.as_bytes()));
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// `at_hash` (OIDC Core §3.1.3.6) for an ES256 ID token: base64url of the left half of SHA-256.
pub(crate) fn at_hash(access_token: &str) -> String {
    let digest = crate::types::sha256(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or(&digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_appendix_b() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "other",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = STANDARD.encode("my%20app:s%3Acret");
        assert_eq!(
            basic_credentials(&header),
            Some(("my app".to_owned(), "s:cret".to_owned()))
        );
        assert_eq!(basic_credentials("!!"), None);
    }
}
