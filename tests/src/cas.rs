//! The test CAS server: `tests/cas/server.py` (the `django-cas-server` PyPI package, versions pinned in
//! `tests/cas/requirements.txt`) run on an ephemeral loopback port, one per test.
//!
//! Needs the virtual environment `./scripts/test.sh` makes (`target/cas-venv`), or
//! `GENAUTH_TEST_PYTHON=/path/to/python` with the requirements installed.
//!
//! One account: `test` / `test` ([`USER`], [`PASSWORD`]), with the attributes `email`
//! ([`EMAIL`]), `nom`, `prenom` and `alias` (two values). Every `http://127.0.0.1` service is allowed
//! and receives every attribute.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::browser::{Browser, Followed};

/// The one account's username.
pub const USER: &str = "test";
/// Its password.
pub const PASSWORD: &str = "test";
/// Its `email` attribute.
pub const EMAIL: &str = "anonymous@example.net";

/// A running test CAS server, stopped when dropped (its stdin closes); its log is printed if the test
/// panics.
pub struct TestCas {
    /// The CAS base URL, `http://127.0.0.1:<port>/cas` (what `cas_base_url` takes).
    pub url: String,
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    _child: Child,
    _stdin: ChildStdin,
    log: Arc<Mutex<String>>,
}

impl TestCas {
    /// Starts the server and waits for its ready line.
    pub async fn start() -> TestCas {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = std::env::var("GENAUTH_TEST_PYTHON").unwrap_or_else(|_| {
            root.join("../target/cas-venv/bin/python")
                .display()
                .to_string()
        });
        let crate::process::Piped {
            child,
            stdin,
            stdout,
            log,
        } = crate::process::spawn_piped(Command::new(&python).arg(root.join("cas/server.py")))
            .unwrap_or_else(|e| {
                panic!("cannot run {python} for the test CAS server (./scripts/test.sh makes target/cas-venv; or set GENAUTH_TEST_PYTHON): {e}")
            });
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        let line = match ready {
            Ok(Ok(Some(line))) => line,
            other => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "the test CAS server did not start ({other:?}); its output:\n{}",
                    log.lock().unwrap()
                )
            }
        };
        let ready: Value = serde_json::from_str(&line).expect("the ready line is JSON");
        let url = ready["cas_url"].as_str().expect("cas_url").to_owned();
        let origin = url.trim_end_matches("/cas").to_owned();
        TestCas {
            url,
            origin,
            _child: child,
            _stdin: stdin,
            log,
        }
    }

    /// A [`Browser`] that knows this server.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.origin)
    }

    /// Follows `start_url` (an app's `/login`, or `{cas}/login?service=`) to the login page, signs in
    /// as [`USER`], and follows every redirect from there (the service with its `ticket`, and on).
    pub async fn sign_in(&self, browser: &Browser, start_url: &str) -> Followed {
        let login = browser.follow(start_url).await;
        let mut form = login
            .page
            .forms()
            .into_iter()
            .find(|f| f.field("lt").is_some())
            .unwrap_or_else(|| {
                panic!(
                    "no CAS login form at {}: {}",
                    login.page.url, login.page.body
                )
            });
        form.set("username", USER);
        form.set("password", PASSWORD);
        browser.submit(&form).await
    }
}

impl Drop for TestCas {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- test CAS server log ({}) ----\n{}---- end ----",
                self.url,
                self.log.lock().map(|l| l.clone()).unwrap_or_default()
            );
        }
    }
}
