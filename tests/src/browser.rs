//! A scripted "browser" for end-to-end tests: a reqwest client with a cookie
//! jar and automatic redirects disabled, that follows redirects itself so that
//! tests can observe every hop across the OpenID Provider and the app under test
//! (both on loopback), and that knows how to fill in the test OP's
//! (`oidc-provider` dev interactions) login, consent and logout pages.
//!
//! Note: cookie jars, like real browsers, key cookies by host, not by port: an
//! app on `127.0.0.1:A` and the OP on `127.0.0.1:B` see each other's cookies.
//! The test OP names its cookies `_op_session`, `_op_interaction*` to avoid
//! clashes.

use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};
use url::Url;

/// How many redirects [`Browser::follow`] and friends follow before giving up.
pub const MAX_REDIRECTS: usize = 20;

/// One HTTP response, fully read.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The URL that was requested to get this response.
    pub url: Url,
    pub body: String,
}

impl Page {
    /// Whether this is a redirect (3xx with a `Location`).
    pub fn is_redirect(&self) -> bool {
        self.status.is_redirection() && self.headers.contains_key(LOCATION)
    }

    /// The `Location` header resolved against [`Page::url`].
    pub fn location(&self) -> Option<Url> {
        let raw = self.headers.get(LOCATION)?.to_str().ok()?;
        self.url.join(raw).ok()
    }

    /// A header value as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// All `Set-Cookie` header values.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// Parses the body as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response from {} ({}) is not JSON: {e}\n{}",
                self.url, self.status, self.body
            )
        })
    }

    /// The HTML forms on this page.
    pub fn forms(&self) -> Vec<Form> {
        parse_forms(&self.body, &self.url)
    }
}

/// The result of following redirects.
#[derive(Debug, Clone)]
pub struct Followed {
    /// The last response (not a redirect, or the last one if the limit was hit).
    pub page: Page,
    /// Every URL requested, in order; the last one is `page.url`.
    pub visited: Vec<Url>,
}

/// The first hop that leaves the OP, NOT requested yet.
#[derive(Debug, Clone)]
pub struct FinalHop {
    /// Where the OP sends the browser (e.g. the app's callback with `code`,
    /// `state`, `iss`, or a `post_logout_redirect_uri`).
    pub url: Url,
    /// `GET` for a redirect; `POST` for `response_mode=form_post` (then `form`
    /// holds the fields to post).
    pub method: Method,
    pub form: Vec<(String, String)>,
    /// Every URL requested so far, in order (`url` itself excluded).
    pub visited: Vec<Url>,
    /// Which OP pages were filled in on the way: `"login"`, `"consent"`, `"logout"`.
    pub prompts: Vec<String>,
}

impl FinalHop {
    /// A parameter of the hop: query parameter (GET) or form field (POST).
    pub fn param(&self, name: &str) -> Option<String> {
        if self.method == Method::POST {
            return self
                .form
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone());
        }
        self.url
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn code(&self) -> Option<String> {
        self.param("code")
    }

    pub fn state(&self) -> Option<String> {
        self.param("state")
    }

    pub fn iss(&self) -> Option<String> {
        self.param("iss")
    }

    pub fn error(&self) -> Option<String> {
        self.param("error")
    }
}

/// An HTML form: its resolved action, method, and `<input>` fields (name, value).
#[derive(Debug, Clone)]
pub struct Form {
    pub id: Option<String>,
    pub action: Url,
    pub method: Method,
    pub fields: Vec<(String, String)>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets (or adds) a field.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value.to_owned(),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
    }
}

/// A cookie-keeping, redirect-observing HTTP client.
#[derive(Clone)]
pub struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    issuer: Url,
}

impl Browser {
    /// A browser that knows the OP's issuer (to tell OP hops from app hops).
    pub fn new(issuer: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("building the browser's reqwest client");
        let issuer = Url::parse(issuer).unwrap_or_else(|e| panic!("bad issuer {issuer}: {e}"));
        Browser {
            client,
            jar,
            issuer,
        }
    }

    /// The underlying client (same cookie jar, redirects disabled).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The cookie jar (e.g. `jar.add_cookie_str`).
    pub fn jar(&self) -> &Arc<Jar> {
        &self.jar
    }

    /// The `Cookie` header this browser would send to `url`.
    pub fn cookies_for(&self, url: &str) -> Option<String> {
        let url = Url::parse(url).expect("valid url");
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }

    /// Whether `url` belongs to the OP (same origin, path under the issuer's).
    pub fn is_op_url(&self, url: &Url) -> bool {
        url.origin() == self.issuer.origin()
            && url
                .path()
                .starts_with(self.issuer.path().trim_end_matches('/'))
    }

    /// One GET, no redirect following.
    pub async fn get(&self, url: &str) -> Page {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
        self.send(Method::GET, url, None).await
    }

    /// One form POST (`application/x-www-form-urlencoded`), no redirect following.
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.send(Method::POST, url, Some(&form)).await
    }

    /// GET `url` and follow up to [`MAX_REDIRECTS`] redirects.
    pub async fn follow(&self, url: &str) -> Followed {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
        self.follow_from(Method::GET, url, None, |_, _| false).await
    }

    /// Requests a [`FinalHop`] (GET, or POST for form_post) and follows redirects
    /// from there, e.g. into the app's callback and on to its landing page.
    pub async fn continue_hop(&self, hop: &FinalHop) -> Followed {
        let form = (hop.method == Method::POST).then_some(&hop.form[..]);
        self.follow_from(hop.method.clone(), hop.url.clone(), form, |_, _| false)
            .await
    }

    /// Alias of [`Browser::follow`], to continue into the app from a hop URL.
    pub async fn continue_to(&self, url: &str) -> Followed {
        self.follow(url).await
    }

    /// Submits a form and follows the redirects.
    pub async fn submit(&self, form: &Form) -> Followed {
        let fields = (form.method == Method::POST).then_some(&form.fields[..]);
        let mut url = form.action.clone();
        if form.method == Method::GET {
            url.query_pairs_mut().extend_pairs(form.fields.iter());
        }
        self.follow_from(form.method.clone(), url, fields, |_, _| false)
            .await
    }

    /// Starts at `start_url` (e.g. the app's `/login`, or an authorization URL),
    /// follows redirects to the OP, signs in as `login` on the dev login page
    /// (any password is accepted; `login` becomes `sub`) if it is shown, grants
    /// the consent page if it is shown, and follows redirects until the next
    /// URL is outside the OP. That URL (the callback with `code`, `state`,
    /// `iss`, or `error`) is returned WITHOUT being requested.
    ///
    /// Panics if the OP renders an error page or anything unexpected.
    pub async fn login_and_consent(&self, start_url: &str, login: &str) -> FinalHop {
        let url = Url::parse(start_url).unwrap_or_else(|e| panic!("bad url {start_url}: {e}"));
        self.drive_op(Method::GET, url, None, Some(login)).await
    }

    /// Like [`Browser::login_and_consent`] but fails if the login page shows up
    /// (for SSO: an existing OP session must be reused). Consent is still granted
    /// if asked.
    pub async fn authorize_with_session(&self, start_url: &str) -> FinalHop {
        let url = Url::parse(start_url).unwrap_or_else(|e| panic!("bad url {start_url}: {e}"));
        self.drive_op(Method::GET, url, None, None).await
    }

    /// Starts at `url` (the app's logout route, or the OP's `end_session_endpoint`
    /// URL with `id_token_hint`/`client_id`, `post_logout_redirect_uri`, `state`),
    /// follows redirects to the OP's logout confirmation page, answers "Yes, sign me
    /// out" (`logout=yes` with the page's `xsrf`), and returns the first URL outside
    /// the OP (the `post_logout_redirect_uri` with `state`) without requesting it.
    /// If the OP has no `post_logout_redirect_uri` to go to, it ends on its own
    /// "Sign-out Success" page; then the returned hop is that OP page (already
    /// requested, found in `visited`).
    ///
    /// When the OP has no session any more it skips the question and serves an
    /// auto-submitting form; that is submitted too.
    pub async fn confirm_logout(&self, url: &str) -> FinalHop {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
        self.drive_op(Method::GET, url, None, None).await
    }

    // -----------------------------------------------------------------------

    async fn send(&self, method: Method, url: Url, form: Option<&[(String, String)]>) -> Page {
        let mut request = self.client.request(method.clone(), url.clone());
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading {method} {url}: {e}"));
        Page {
            status,
            headers,
            url,
            body,
        }
    }

    /// Sends the request and follows redirects; stops *before* requesting a
    /// redirect for which `stop_before(from, to)` is true (then the returned page
    /// is the redirect itself).
    async fn follow_from(
        &self,
        method: Method,
        url: Url,
        form: Option<&[(String, String)]>,
        stop_before: impl Fn(&Url, &Url) -> bool,
    ) -> Followed {
        let mut visited = vec![url.clone()];
        let mut page = self.send(method.clone(), url, form).await;
        let mut method = method;
        let mut form: Option<Vec<(String, String)>> = form.map(<[_]>::to_vec);
        for _ in 0..MAX_REDIRECTS {
            if !page.is_redirect() {
                return Followed { page, visited };
            }
            let next = page.location().unwrap_or_else(|| {
                panic!(
                    "bad Location {:?} from {}",
                    page.header("location"),
                    page.url
                )
            });
            if stop_before(&page.url, &next) {
                return Followed { page, visited };
            }
            // 307/308 repeat the method and body; the others become GET.
            if !matches!(
                page.status,
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            ) {
                method = Method::GET;
                form = None;
            }
            visited.push(next.clone());
            page = self.send(method.clone(), next, form.as_deref()).await;
        }
        panic!(
            "more than {MAX_REDIRECTS} redirects; visited:\n{}",
            list(&visited)
        );
    }

    async fn drive_op(
        &self,
        method: Method,
        url: Url,
        form: Option<&[(String, String)]>,
        login: Option<&str>,
    ) -> FinalHop {
        let mut prompts: Vec<String> = Vec::new();
        let mut visited: Vec<Url> = Vec::new();
        let mut next = (method, url, form.map(<[_]>::to_vec));
        for _ in 0..MAX_REDIRECTS {
            let (method, url, form) = next;
            // Follow everything up to the OP (e.g. from the app's /login), then
            // stop before the first redirect from the OP to elsewhere.
            let followed = self
                .follow_from(method, url, form.as_deref(), |from, to| {
                    self.is_op_url(from) && !self.is_op_url(to)
                })
                .await;
            visited.extend(followed.visited);
            let page = followed.page;

            if page.is_redirect() {
                // stopped before leaving the OP
                return FinalHop {
                    url: page.location().expect("redirect has a location"),
                    method: Method::GET,
                    form: Vec::new(),
                    visited,
                    prompts,
                };
            }
            if !self.is_op_url(&page.url) {
                panic!(
                    "expected to reach the OP ({}) but ended at {} ({}); visited:\n{}\nbody:\n{}",
                    self.issuer,
                    page.url,
                    page.status,
                    list(&visited),
                    excerpt(&page.body)
                );
            }
            if !page.status.is_success() {
                panic!(
                    "the OP answered {} at {}: {}\nvisited:\n{}",
                    page.status,
                    page.url,
                    op_error_text(&page.body),
                    list(&visited)
                );
            }

            let mut forms = page.forms();
            // dev interactions: login page
            if let Some(mut f) = take_form(&mut forms, |f| f.field("prompt") == Some("login")) {
                let Some(login) = login else {
                    panic!(
                        "the OP asked for a login at {} but an existing session was expected; visited:\n{}",
                        page.url,
                        list(&visited)
                    );
                };
                f.set("login", login);
                f.set("password", "password");
                prompts.push("login".into());
                next = (f.method, f.action, Some(f.fields));
                continue;
            }
            // dev interactions: consent page
            if let Some(f) = take_form(&mut forms, |f| f.field("prompt") == Some("consent")) {
                prompts.push("consent".into());
                next = (f.method, f.action, Some(f.fields));
                continue;
            }
            // rpInitiatedLogout: "Do you want to sign-out from ...?"
            if let Some(mut f) = take_form(&mut forms, |f| f.id.as_deref() == Some("op.logoutForm"))
            {
                // the "Yes, sign me out" button (outside the form, form="op.logoutForm")
                f.set("logout", "yes");
                prompts.push("logout".into());
                next = (f.method, f.action, Some(f.fields));
                continue;
            }
            // auto-submitting form (response_mode=form_post, or logout without session)
            if page.body.contains("document.forms[0].submit()") && forms.len() == 1 {
                let f = forms.remove(0);
                if self.is_op_url(&f.action) {
                    next = (f.method, f.action, Some(f.fields));
                    continue;
                }
                return FinalHop {
                    url: f.action,
                    method: f.method,
                    form: f.fields,
                    visited,
                    prompts,
                };
            }
            // an OP page that ends the journey (e.g. "Sign-out Success")
            if page.body.contains("Sign-out Success") {
                return FinalHop {
                    url: page.url,
                    method: Method::GET,
                    form: Vec::new(),
                    visited,
                    prompts,
                };
            }
            panic!(
                "unexpected OP page at {} ({}): {}\nvisited:\n{}",
                page.url,
                page.status,
                excerpt(&page.body),
                list(&visited)
            );
        }
        panic!(
            "too many OP pages; prompts so far {prompts:?}; visited:\n{}",
            list(&visited)
        );
    }
}

fn take_form(forms: &mut Vec<Form>, pred: impl Fn(&Form) -> bool) -> Option<Form> {
    let i = forms.iter().position(pred)?;
    Some(forms.remove(i))
}

fn list(urls: &[Url]) -> String {
    urls.iter()
        .map(|u| format!("  {u}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn excerpt(body: &str) -> String {
    let text: String = body.chars().take(2000).collect();
    if text.len() < body.len() {
        format!("{text}…")
    } else {
        text
    }
}

/// The `error`/`error_description` lines of oidc-provider's error page
/// (`<pre><strong>error</strong>: invalid_request</pre>`), or an excerpt.
fn op_error_text(body: &str) -> String {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("<pre><strong>") {
        rest = &rest[i + "<pre><strong>".len()..];
        let Some(end) = rest.find("</pre>") else {
            break;
        };
        let line = rest[..end].replace("</strong>", "");
        out.push(html_unescape(&line));
        rest = &rest[end..];
    }
    if out.is_empty() {
        excerpt(body)
    } else {
        out.join("; ")
    }
}

// ---------------------------------------------------------------------------
// Minimal HTML form parsing, enough for oidc-provider's own templates (double-
// quoted attributes, `<input .../>`), tolerant of single quotes and attribute
// order.

/// Parses every `<form>` in `html`, resolving `action` against `base`.
pub fn parse_forms(html: &str, base: &Url) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut forms = Vec::new();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<form").map(|i| i + pos) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let tag = &html[start..=tag_end];
        let body_end = lower[tag_end..]
            .find("</form")
            .map(|i| i + tag_end)
            .unwrap_or(html.len());
        let inner = &html[tag_end + 1..body_end];

        let action = attr(tag, "action").unwrap_or_default();
        let action = base
            .join(&action)
            .unwrap_or_else(|e| panic!("bad form action {action:?}: {e}"));
        let method = match attr(tag, "method").map(|m| m.to_ascii_uppercase()) {
            Some(m) if m == "POST" => Method::POST,
            _ => Method::GET,
        };
        let mut fields = Vec::new();
        let inner_lower = inner.to_ascii_lowercase();
        let mut ipos = 0;
        while let Some(istart) = inner_lower[ipos..].find("<input").map(|i| i + ipos) {
            let iend = inner_lower[istart..]
                .find('>')
                .map(|i| i + istart)
                .unwrap_or(inner.len() - 1);
            let itag = &inner[istart..=iend];
            if let Some(name) = attr(itag, "name") {
                fields.push((name, attr(itag, "value").unwrap_or_default()));
            }
            ipos = iend + 1;
        }
        forms.push(Form {
            id: attr(tag, "id"),
            action,
            method,
            fields,
        });
        pos = body_end.max(tag_end + 1);
    }
    forms
}

/// The value of attribute `name` in one tag (`<input name="x" value='y'>`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let preceded_by_space = i > 0 && bytes[i - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !preceded_by_space || !rest.starts_with('=') {
            continue;
        }
        let value_start = lower.len() - rest.len() + 1;
        let after_eq = &tag[value_start..];
        let trimmed = after_eq.trim_start();
        let value = match trimmed.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let end = trimmed[1..].find(q).map(|e| e + 1)?;
                &trimmed[1..end]
            }
            _ => {
                let end = trimmed
                    .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                    .unwrap_or(trimmed.len());
                &trimmed[..end]
            }
        };
        return Some(html_unescape(value));
    }
    None
}

/// Decodes the entities oidc-provider's templates produce.
pub fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                u32::from_str_radix(&entity[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dev_login_form() {
        let html = r#"<form autocomplete="off" action="http://127.0.0.1:1/interaction/abc" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
  <input required type="password" name="password" placeholder="and password" >
  <button type="submit" class="login login-submit">Sign-in</button>
</form>"#;
        let base = Url::parse("http://127.0.0.1:1/interaction/abc").unwrap();
        let forms = parse_forms(html, &base);
        assert_eq!(forms.len(), 1);
        let f = &forms[0];
        assert_eq!(f.method, Method::POST);
        assert_eq!(f.action.as_str(), "http://127.0.0.1:1/interaction/abc");
        assert_eq!(f.field("prompt"), Some("login"));
        assert_eq!(f.field("login"), Some(""));
        assert_eq!(f.field("password"), Some(""));
    }

    #[test]
    fn parses_logout_form_and_entities() {
        let html = r#"<form id="op.logoutForm" method="post" action="/session/end/confirm"><input type="hidden" name="xsrf" value="a&amp;b&#39;c"/></form>"#;
        let base = Url::parse("http://127.0.0.1:1/session/end?x=1").unwrap();
        let forms = parse_forms(html, &base);
        assert_eq!(forms[0].id.as_deref(), Some("op.logoutForm"));
        assert_eq!(
            forms[0].action.as_str(),
            "http://127.0.0.1:1/session/end/confirm"
        );
        assert_eq!(forms[0].field("xsrf"), Some("a&b'c"));
    }
}
