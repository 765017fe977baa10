//! The test OpenID Provider: `tests/op/server.mjs` (the certified `oidc-provider`
//! npm package) run by node on an ephemeral loopback port, one per test.
//!
//! Needs `node` on `PATH` (or `GENAUTH_TEST_NODE=/path/to/node`) and the npm
//! dependencies installed once: `npm ci --prefix tests/op`.
//!
//! What the OP offers (see the header of `tests/op/server.mjs` for the config):
//! - any login/password is accepted by its dev login page; the login becomes `sub`;
//!   claims `name`, `given_name`, `family_name`, `preferred_username` (scope
//!   `profile`), `email`, `email_verified` (scope `email`);
//! - resource indicator [`TEST_API`] (`resource=urn:genauth:test-api`) gives
//!   RS256 JWT access tokens with `aud` = [`TEST_API`] and scopes `api:read
//!   api:write`; without a resource, access tokens are opaque;
//! - refresh tokens with `offline_access` + `prompt=consent` for clients allowed
//!   the `refresh_token` grant;
//! - signing keys RS256 (default), ES256, EdDSA, PS256; [`TestOp::rotate_keys`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::browser::Browser;

/// The resource indicator that yields JWT access tokens.
pub const TEST_API: &str = "urn:genauth:test-api";

/// How long [`TestOp::start`] waits for the ready line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running test OP. Killed when dropped (and it exits by itself when its
/// stdin, held here, closes). If the test panics, the OP's log (requests,
/// provider errors) is printed on drop.
pub struct TestOp {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub issuer: String,
    child: Child,
    _stdin: ChildStdin,
    log: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl TestOp {
    /// Starts `node tests/op/server.mjs` with `config` (at least
    /// `{"clients": [...]}`; `json!({})` is fine) and waits for it to be ready.
    pub async fn start(config: Value) -> TestOp {
        let dir = op_dir();
        let script = dir.join("server.mjs");
        let module = dir.join("node_modules").join("oidc-provider");
        if !module.join("package.json").exists() {
            panic!(
                "the test OP's npm dependencies are missing ({} not found): run `npm ci --prefix tests/op` from the repository root",
                module.display()
            );
        }

        let config_path = write_temp_config(&config);
        let node = std::env::var("GENAUTH_TEST_NODE").unwrap_or_else(|_| "node".to_owned());
        let crate::process::Piped {
            mut child,
            stdin,
            stdout,
            log,
        } = crate::process::spawn_piped(Command::new(&node).arg(&script).arg(&config_path).current_dir(&dir))
            .unwrap_or_else(|e| {
                panic!("cannot run `{node}` (Node.js is needed for the test OP; set GENAUTH_TEST_NODE to its path if it is not on PATH): {e}")
            });

        let mut stdout = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(issuer) = v.get("issuer").and_then(Value::as_str)
                {
                    return Some(issuer.to_owned());
                }
                log.lock().unwrap().push_str(&format!("[stdout] {line}\n"));
            }
            None
        })
        .await;
        let _ = std::fs::remove_file(&config_path);

        let issuer = match ready {
            Ok(Some(issuer)) => issuer,
            Ok(None) => {
                let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                // give the stderr reader a moment to drain
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "the test OP exited before it was ready ({status:?}); its output:\n{}",
                    log.lock().unwrap()
                );
            }
            Err(_) => {
                let _ = child.start_kill();
                panic!(
                    "the test OP did not print its ready line within {START_TIMEOUT:?}; its output:\n{}",
                    log.lock().unwrap()
                );
            }
        };

        // keep draining stdout so the pipe never fills up
        {
            let log = log.clone();
            tokio::spawn(async move {
                while let Ok(Some(line)) = stdout.next_line().await {
                    log.lock().unwrap().push_str(&format!("[stdout] {line}\n"));
                }
            });
        }

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("building reqwest client");

        TestOp {
            issuer,
            child,
            _stdin: stdin,
            log,
            http,
        }
    }

    /// `issuer` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// `{issuer}/.well-known/openid-configuration`
    pub fn discovery_url(&self) -> String {
        self.url("/.well-known/openid-configuration")
    }

    /// The discovery document.
    pub async fn discovery(&self) -> Value {
        self.get_json(&self.discovery_url()).await
    }

    /// The published JWKS (public keys, newest signing keys first).
    pub async fn jwks(&self) -> Value {
        let url = self
            .discovery()
            .await
            .get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| self.url("/jwks"));
        self.get_json(&url).await
    }

    /// The `kid`s of the published JWKS, in order.
    pub async fn jwks_kids(&self) -> Vec<String> {
        self.jwks().await["keys"]
            .as_array()
            .expect("jwks.keys")
            .iter()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect()
    }

    /// Makes a new RSA key the RS256 signing key (ID tokens of RS256 clients and
    /// JWT access tokens) from now on; older keys stay published. Returns its kid.
    /// Sessions, grants, tokens and registered clients survive.
    pub async fn rotate_keys(&self) -> String {
        self.rotate_keys_for("RS256").await
    }

    /// Like [`TestOp::rotate_keys`] for another alg: `RS256`, `PS256`, `ES256`, `EdDSA`.
    pub async fn rotate_keys_for(&self, alg: &str) -> String {
        let response = self
            .http
            .post(self.url("/__test/rotate-keys"))
            .json(&json!({ "alg": alg }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("rotate-keys request failed: {e}"));
        let status = response.status();
        let body: Value = response.json().await.expect("rotate-keys answers JSON");
        assert!(status.is_success(), "rotate-keys failed: {status} {body}");
        body["kid"].as_str().expect("rotate-keys kid").to_owned()
    }

    /// RFC 7591 dynamic client registration (open, no initial access token).
    /// Returns the registration response: `client_id`, `client_secret` (unless
    /// `token_endpoint_auth_method` is `none`), `registration_access_token`,
    /// `registration_client_uri` and the registered metadata. Panics unless 201.
    pub async fn register_client(&self, metadata: Value) -> Value {
        let endpoint = self.discovery().await["registration_endpoint"]
            .as_str()
            .expect("registration_endpoint in discovery")
            .to_owned();
        let response = self
            .http
            .post(&endpoint)
            .json(&metadata)
            .send()
            .await
            .unwrap_or_else(|e| panic!("registration request failed: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(
            status.as_u16(),
            201,
            "client registration failed: {status} {body}\nmetadata: {metadata}"
        );
        serde_json::from_str(&body).expect("registration response is JSON")
    }

    /// A [`Browser`] that knows this OP.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.issuer)
    }

    /// What the OP wrote to stderr so far (request log, provider errors).
    pub fn logs(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    async fn get_json(&self, url: &str) -> Value {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "GET {url}: {status} {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
    }
}

impl Drop for TestOp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!(
                "---- test OP log ({}) ----\n{}---- end of test OP log ----",
                self.issuer,
                self.log.lock().map(|l| l.clone()).unwrap_or_default()
            );
        }
    }
}

fn op_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("op")
}

fn write_temp_config(config: &Value) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "genauth-test-op-{}-{}-{}.json",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        random_token(6)
    ));
    std::fs::write(
        &path,
        serde_json::to_vec(config).expect("serializable config"),
    )
    .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

// ---------------------------------------------------------------------------
// Client metadata helpers

/// Client metadata for the OP's `clients` config or [`TestOp::register_client`].
///
/// `auth_method`: `client_secret_basic`, `client_secret_post` or `none` (public;
/// `secret` is then ignored). oidc-provider has no separate introspection /
/// revocation auth metadata: those endpoints use `token_endpoint_auth_method`.
/// Grants: `authorization_code` + `refresh_token` (+ `client_credentials` for
/// confidential clients); `response_types: ["code"]`; ID tokens RS256; no
/// `post_logout_redirect_uris` (set `v["post_logout_redirect_uris"]` as needed).
pub fn client(id: &str, secret: &str, auth_method: &str, redirect_uris: &[&str]) -> Value {
    let public = auth_method == "none";
    let mut grant_types = vec!["authorization_code", "refresh_token"];
    if !public {
        grant_types.push("client_credentials");
    }
    let mut v = json!({
        "client_id": id,
        "token_endpoint_auth_method": auth_method,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": [],
        "grant_types": grant_types,
        "response_types": ["code"],
        "id_token_signed_response_alg": "RS256",
    });
    if !public {
        v["client_secret"] = json!(secret);
    }
    v
}

/// A public client (`token_endpoint_auth_method: none`; PKCE required).
pub fn public_client(id: &str, redirect_uris: &[&str]) -> Value {
    client(id, "", "none", redirect_uris)
}

/// A JWT resource server for the OP's `resourceServers` config: audience `audience`, scopes
/// `api:read api:write`, RS256 access tokens for an hour (what `urn:genauth:test-api` is, under
/// another identifier: an API's own URL, as RFC 9728 wants it).
pub fn jwt_resource_server(audience: &str) -> Value {
    json!({
        "scope": "api:read api:write",
        "audience": audience,
        "accessTokenFormat": "jwt",
        "accessTokenTTL": 3600,
        "jwt": { "sign": { "alg": "RS256" } },
    })
}

/// `{"clients": [...]}`
pub fn config_with_clients(clients: Vec<Value>) -> Value {
    json!({ "clients": clients })
}

// ---------------------------------------------------------------------------
// Small protocol helpers for tests that talk to the OP without genauth

/// A PKCE (RFC 7636) S256 verifier/challenge pair.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        Pkce::from_verifier(random_token(32))
    }

    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// `bytes` random bytes, base64url (for state, nonce, PKCE verifiers).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_ok();
    if !from_os {
        use std::hash::{BuildHasher, Hasher};
        for chunk in buf.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            let n = h.finish().to_le_bytes();
            chunk.copy_from_slice(&n[..chunk.len()]);
        }
    }
    URL_SAFE_NO_PAD.encode(buf)
}

/// Decodes (without verifying) the header and payload of a compact JWS.
/// Panics if `jwt` is not three dot-separated base64url parts with JSON.
pub fn decode_jwt(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {jwt}");
    let part = |i: usize| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts[i])
            .unwrap_or_else(|e| panic!("JWT part {i} is not base64url: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT part {i} is not JSON: {e}"))
    };
    (part(0), part(1))
}

/// SHA-256 (FIPS 180-4, via aws-lc-rs), for PKCE challenges and `at_hash` values in tests.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(16), random_token(16));
        assert_eq!(random_token(32).len(), 43);
    }
}
