//! The web examples in a real browser: headless Chromium driven over WebDriver (chromedriver), through
//! the real test provider's login, consent and logout pages, with the cookies as the browser stored
//! them. `./scripts/test.sh` installs Chromium (Debian `chromium`, `chromium-driver`) when missing and
//! sets `GENAUTH_BROWSER_TESTS=required`; elsewhere, a machine without Chromium skips these tests
//! with a message on stderr.

use super::{as_refs, free_port, oidc_vars, provider_for, spawn};
use fantoccini::{Client, ClientBuilder, Locator};
use genauth::cookie::SameSite;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a page may take to show what the test waits for.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// A headless Chromium session; the driver and the profile folder go when it is dropped.
struct Chrome {
    client: Client,
    _driver: Child,
    profile: PathBuf,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The first of `candidates` that exists, or one found on `PATH`.
fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .chain([PathBuf::from(name)])
            .find(|p| p.is_absolute() && p.is_file())
    })
}

impl Chrome {
    /// Starts chromedriver and a fresh headless Chromium; `None` (after saying why) when they are not
    /// installed and the run does not require them.
    async fn start(test: &str) -> Option<Chrome> {
        let chromium = find(
            "GENAUTH_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let driver = find("GENAUTH_CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let message = format!(
                "browser test {test}: SKIPPED, Chromium and chromedriver are not installed \
                 (./scripts/test.sh installs the Debian packages chromium and chromium-driver)"
            );
            assert!(
                std::env::var("GENAUTH_BROWSER_TESTS").as_deref() != Ok("required"),
                "{message}, but GENAUTH_BROWSER_TESTS=required"
            );
            eprintln!("{message}");
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn chromedriver");
        let webdriver = format!("http://127.0.0.1:{port}");
        let ready = async {
            loop {
                if let Ok(r) = reqwest::get(format!("{webdriver}/status")).await
                    && r.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), ready)
            .await
            .expect("chromedriver answers /status");

        let profile = std::env::temp_dir().join(format!(
            "genauth-chromium-{}-{}",
            std::process::id(),
            genauth_tests::op::random_token(8)
        ));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // The machine's closed network refuses Chromium's background connections: keep them off.
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("a WebDriver session with headless Chromium");
        Some(Chrome {
            client,
            _driver: driver,
            profile,
        })
    }

    async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Waits for the element `css` names.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let element = self
            .client
            .wait()
            .at_most(PAGE_TIMEOUT)
            .for_element(Locator::Css(css))
            .await;
        match element {
            Ok(element) => element,
            Err(e) => panic!("{css} at {}: {e}", self.url().await),
        }
    }

    /// Waits for an element and clicks it.
    async fn click(&self, css: &str) {
        let element = self.element(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits for an input and types `text` into it.
    async fn fill(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Waits until the address is `url` (query ignored); then the page's text.
    async fn wait_for_page(&self, url: &str) -> String {
        let deadline = tokio::time::Instant::now() + PAGE_TIMEOUT;
        loop {
            let now = self.url().await;
            if now.split('?').next() == Some(url) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {url}, at {now}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.element("body").await;
        body.text().await.expect("body text")
    }

    /// The cookies of the current page whose name has `genauth` in it.
    async fn genauth_cookies(&self) -> Vec<fantoccini::cookies::Cookie<'static>> {
        let mut cookies = self.client.get_all_cookies().await.expect("cookies");
        cookies.retain(|c| c.name().contains("genauth"));
        cookies
    }

    /// The names of [`Self::genauth_cookies`].
    async fn genauth_cookie_names(&self) -> Vec<String> {
        let cookies = self.genauth_cookies().await;
        cookies.iter().map(|c| c.name().to_owned()).collect()
    }

    /// A cookie's name and attributes (not its sealed value), for failure messages.
    fn describe(cookie: &fantoccini::cookies::Cookie<'_>) -> String {
        format!(
            "{} (HttpOnly {:?}, SameSite {:?}, Secure {:?}, Path {:?})",
            cookie.name(),
            cookie.http_only(),
            cookie.same_site(),
            cookie.secure(),
            cookie.path()
        )
    }

    /// The session cookies are `HttpOnly` and `SameSite=Lax` as stored, and the login cookie is gone.
    async fn assert_session_cookies(&self, bin: &str) {
        let cookies = self.genauth_cookies().await;
        let session: Vec<_> = cookies
            .iter()
            .filter(|c| c.name().contains("genauth_session"))
            .collect();
        assert!(
            !session.is_empty(),
            "{bin}: a session cookie: {:?}",
            cookies.iter().map(Self::describe).collect::<Vec<_>>()
        );
        for cookie in &session {
            assert_eq!(
                cookie.http_only(),
                Some(true),
                "{bin}: HttpOnly: {}",
                Self::describe(cookie)
            );
            assert_eq!(
                cookie.same_site(),
                Some(SameSite::Lax),
                "{bin}: SameSite=Lax: {}",
                Self::describe(cookie)
            );
        }
        assert!(
            !cookies.iter().any(|c| c.name().contains("genauth_login")),
            "{bin}: the login cookie is removed after the callback"
        );
    }

    async fn close(self) {
        let client = self.client.clone();
        let _ = client.close().await;
    }
}

/// `axum-web` / `actix-web` against `oidc-provider`'s own login, consent and logout pages.
async fn web_sign_in_in_chromium(bin: &str) {
    let Some(chrome) = Chrome::start(bin).await else {
        return;
    };
    let port = free_port();
    let op = provider_for(port, "web", "client_secret_basic", json!({})).await;
    let mut vars = oidc_vars(&op, port, "web", "client_secret_basic");
    vars.push((
        "GENAUTH_SCOPE",
        "openid profile email offline_access".into(),
    ));
    let app = spawn(bin, port, &as_refs(&vars)).await;

    // Signed out, /profile sends the browser to the provider's login page.
    chrome.goto(&format!("{}/profile", app.base)).await;
    chrome.fill("input[name=login]", "alice").await;
    chrome.fill("input[name=password]", "any-password").await;
    chrome.click("button[type=submit]").await;
    // The consent page (offline_access asks for it).
    chrome.element("input[name=prompt][value=consent]").await;
    chrome.click("button[type=submit]").await;

    let profile = format!("{}/profile", app.base);
    let text = chrome.wait_for_page(&profile).await;
    let claims: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{bin}: {e}: {text}"));
    assert_eq!(claims["sub"], "alice", "{bin}");
    chrome.assert_session_cookies(bin).await;

    // A reload keeps the session.
    chrome.client.refresh().await.expect("reload");
    let text = chrome.wait_for_page(&profile).await;
    let claims: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{bin}: {e}: {text}"));
    assert_eq!(claims["sub"], "alice", "{bin}: reload");

    // Logout, confirmed on the provider's page, back at `/`, and no genauth cookie left.
    chrome.goto(&format!("{}/logout", app.base)).await;
    chrome.click("button[name=logout][value=yes]").await;
    let text = chrome.wait_for_page(&format!("{}/", app.base)).await;
    assert!(text.contains("Not signed in"), "{bin}: {text}");
    let left = chrome.genauth_cookie_names().await;
    assert!(left.is_empty(), "{bin}: cookies after logout: {left:?}");
    chrome.close().await;
}

#[tokio::test]
async fn axum_web_in_chromium() {
    web_sign_in_in_chromium("axum-web").await;
}

#[tokio::test]
async fn actix_web_in_chromium() {
    web_sign_in_in_chromium("actix-web").await;
}

/// `quickstart-web` end to end: its own TestProvider's login page, any name.
#[tokio::test]
async fn quickstart_web_in_chromium() {
    let Some(chrome) = Chrome::start("quickstart-web").await else {
        return;
    };
    let port = free_port();
    let app = spawn("quickstart-web", port, &[]).await;
    let home = format!("{}/", app.base);
    chrome.goto(&home).await;
    chrome.click("a[href='/login']").await;
    chrome.fill("#username", "Grace").await;
    chrome.click("#sign-in").await;
    let text = chrome.wait_for_page(&home).await;
    assert!(text.contains("Signed in as Grace"), "{text}");
    chrome.assert_session_cookies("quickstart-web").await;

    chrome.click("a[href='/profile']").await;
    let text = chrome.wait_for_page(&format!("{}/profile", app.base)).await;
    let claims: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(claims["sub"], "Grace");
    chrome.client.refresh().await.expect("reload");
    let text = chrome.wait_for_page(&format!("{}/profile", app.base)).await;
    assert!(
        text.contains("\"Grace\""),
        "reload keeps the session: {text}"
    );

    chrome.goto(&format!("{}/logout", app.base)).await;
    let text = chrome.wait_for_page(&home).await;
    assert!(text.contains("Not signed in"), "{text}");
    let left = chrome.genauth_cookie_names().await;
    assert!(left.is_empty(), "cookies after logout: {left:?}");
    chrome.close().await;
}
