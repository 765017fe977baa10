//! The test scenarios every genauth web adapter runs, written once: [`bearer`] (the bearer
//! middleware and extractors, with tokens from [`genauth::testing::TestIssuer`]) and [`web`]
//! (browser sign-in, sessions, refresh and logout against a [`provider::MockProvider`]).
//!
//! An adapter's test file builds its framework's app for the scenarios ([`BearerRoutes`],
//! [`WebRoutes`]), says how to send it a request ([`App`]), and lets [`bearer_tests!`] and
//! [`web_tests!`] write one `#[test]` per scenario:
//!
//! ```ignore
//! genauth_adapter_tests::bearer_tests!(#[tokio::test] AxumBearer);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bearer;
pub mod provider;
pub mod resource;
pub mod store;
pub mod web;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use genauth::Client;
use genauth::session::SessionManager;
use genauth::validator::TokenValidator;

/// A request as the scenarios send it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// Path and query.
    pub uri: String,
    /// Header names and values, in order (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// The body (empty for `GET`).
    pub body: String,
}

impl Request {
    /// A `GET` of `uri`.
    pub fn get(uri: impl Into<String>) -> Self {
        Self {
            method: "GET",
            uri: uri.into(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// A `POST` of `uri`, without body.
    pub fn post(uri: impl Into<String>) -> Self {
        Self {
            method: "POST",
            uri: uri.into(),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// A `POST` of `uri` with a form body (`application/x-www-form-urlencoded`).
    pub fn form(uri: impl Into<String>, fields: &[(&str, &str)]) -> Self {
        let mut request =
            Self::post(uri).header("content-type", "application/x-www-form-urlencoded");
        request.body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        request
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// An app's answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// A reply from a response's parts: the status, header names and raw values, the body.
    ///
    /// # Panics
    /// When a header value or the body is not UTF-8.
    pub fn from_parts<'a>(
        status: u16,
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        body: &[u8],
    ) -> Self {
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("UTF-8");
        Self {
            status,
            headers: headers
                .into_iter()
                .map(|(name, value)| (name.to_owned(), text(value)))
                .collect(),
            body: text(body),
        }
    }

    /// The first value of the header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `WWW-Authenticate`.
    pub fn challenge(&self) -> Option<&str> {
        self.header("www-authenticate")
    }

    /// `Location`.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Every `Set-Cookie`.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An app under test, in any framework.
pub trait App {
    /// Sends `request` and reads the whole answer.
    fn send(&self, request: Request) -> impl Future<Output = Reply>;
}

/// The app of the [`bearer`] scenarios, built by each adapter. Every route answers through the
/// adapter's bearer middleware with `validator` unless said otherwise:
///
/// | route | handler | middleware |
/// | --- | --- | --- |
/// | `/me` | `Claims` → the claims as JSON | default |
/// | `/scoped` | `Claims` → `claims.scope` as JSON | requires `read` and `write`, realm `orders` |
/// | `/tenant` | `Claims<Tenant>` (`tenant: String`) → the tenant as text | default |
/// | `/token` | `AccessToken` → the token's length as text | default |
/// | `/mixed` | `Option<Claims>` → `sub`, or `anonymous` | optional |
/// | `/styled` | `ok` | `on_error`: the error's status, `x-error: <code or none>`, body `custom` |
/// | `/bare` | `Claims` → the claims as JSON | none |
/// | `/dpop` | `Claims` → the claims as JSON | `dpop(`[`resource::dpop_verifier`]`(Allowed))` |
/// | `/dpop-required` | `Claims` → the claims as JSON | `dpop(`[`resource::dpop_verifier`]`(Required))` |
/// | `/dpop-nonce` | `Claims` → the claims as JSON | `dpop(`[`resource::dpop_verifier_with_nonce`]`())` |
/// | `/resource` | `ok` | `protected_resource(&`[`resource::metadata`]`())`, plus its metadata route |
/// | `/step-up` | `ok` | `step_up(`[`resource::step_up`]`())` |
pub trait BearerRoutes {
    /// The app.
    type App: App;
    /// Builds it.
    fn app(validator: Arc<dyn TokenValidator>) -> impl Future<Output = Self::App>;
}

/// The app of the [`web`] scenarios, built by each adapter with `WebAuth` over
/// `SessionManager::new(client, SessionCodec::new(&[42; 32])).revoke_on_logout(true)`: its routes
/// at the root, its session middleware around everything, and
///
/// | route | handler | middleware |
/// | --- | --- | --- |
/// | `/` | `Option<AuthUser>` → the display name, or `anonymous` | |
/// | `/profile` | `AuthUser` → `user.to_json()` | login required |
/// | `/tokens` | `LoginState`, `AccessToken` → `"{token_type} {access token}"` | |
///
/// [`nested_app`](Self::nested_app) builds a second app, of two managers: `customers` (a
/// `WebAuth` with the default login path) whose session middleware is around everything, and
/// `staff` (a `WebAuth` with login path `/staff/login`) whose middlewares are on single routes
/// inside it:
///
/// | route | handler | middleware |
/// | --- | --- | --- |
/// | `/` | `Option<AuthUser>` → `sub`, or `anonymous` | |
/// | `/admin` | `AuthUser` → `sub` | `staff.require_login()` |
/// | `/staff/whoami` | `Option<AuthUser>` → `sub`, or `anonymous` | `staff.session_layer()` |
pub trait WebRoutes {
    /// The app.
    type App: App;
    /// Builds it, with a session manager of `client` (a fixed test key, revocation at logout).
    fn app(client: Client) -> impl Future<Output = Self::App> {
        let codec =
            genauth::session::SessionCodec::new(&[42u8; 32]).unwrap_or_else(|e| panic!("{e}"));
        Self::app_with(SessionManager::new(client, codec).revoke_on_logout(true))
    }
    /// Builds it around `manager` (a session store, a shared key: [`store`] scenarios).
    fn app_with(manager: SessionManager) -> impl Future<Output = Self::App>;
    /// Builds the app of two managers.
    fn nested_app(
        customers: SessionManager,
        staff: SessionManager,
    ) -> impl Future<Output = Self::App>;
}

/// A tiny browser cookie jar: applies `Set-Cookie` (removal on `Max-Age=0`), sends `Cookie`.
#[derive(Default, Clone, Debug)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    /// The `Cookie` header value.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Whether the jar holds `name`.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// `GET uri` with `Accept: accept` and the jar's cookies, keeping the cookies set.
    pub async fn get(&mut self, app: &impl App, uri: &str, accept: &str) -> Reply {
        self.send(app, Request::get(uri).header("accept", accept))
            .await
    }

    /// Sends `request` with the jar's cookies (if any), keeping the cookies set.
    pub async fn send(&mut self, app: &impl App, mut request: Request) -> Reply {
        if !self.0.is_empty() {
            request = request.header("cookie", self.header());
        }
        let reply = app.send(request).await;
        for set_cookie in reply.set_cookies() {
            let pair = set_cookie.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                panic!("malformed Set-Cookie: {set_cookie}");
            };
            if set_cookie.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }
}

/// `GET uri` with `Accept: accept` and `Cookie: cookie` (none when empty).
pub async fn get_with(app: &impl App, uri: &str, accept: &str, cookie: &str) -> Reply {
    let mut request = Request::get(uri).header("accept", accept);
    if !cookie.is_empty() {
        request = request.header("cookie", cookie);
    }
    app.send(request).await
}

/// Writes one test per [`bearer`] scenario for `$routes` ([`BearerRoutes`]), each under the
/// attribute given (`#[tokio::test]`, `#[actix_web::test]`).
#[macro_export]
macro_rules! bearer_tests {
    (#[$test:meta] $routes:ty) => {
        $crate::scenarios!(
            #[$test]
            $routes,
            bearer,
            [
                valid_token_reaches_the_handler_with_its_claims,
                expired_and_forged_tokens_are_invalid_token,
                token_from_another_issuer_is_rejected,
                missing_scope_is_insufficient_scope,
                other_schemes_and_malformed_headers_are_invalid_request,
                no_header_is_401_without_error_code,
                optional_mode_passes_anonymous_requests_but_not_bad_tokens,
                restyle_hook_replaces_error_responses,
                unreachable_provider_is_503_never_500,
                claims_that_do_not_fit_the_type_are_invalid_token,
                claims_extractor_without_the_layer_is_a_500,
                attack_alg_none_and_confusion_are_refused,
                attack_key_and_header_tricks_are_refused,
                attack_claim_checks_are_enforced,
                attack_malformed_and_oversized_tokens_are_refused,
                attack_other_jwt_kinds_are_not_access_tokens,
            ]
        );
        $crate::scenarios!(
            #[$test]
            $routes,
            resource,
            [
                dpop_bound_token_with_a_fresh_proof_passes,
                dpop_bound_token_without_a_valid_proof_is_refused,
                plain_bearer_tokens_in_allowed_and_required_mode,
                dpop_server_nonce_is_required_and_provided,
                protected_resource_metadata_and_audience,
                step_up_asks_for_a_stronger_sign_in,
            ]
        );
    };
}

/// Writes one test per [`web`] scenario for `$routes` ([`WebRoutes`]), each under the attribute
/// given.
#[macro_export]
macro_rules! web_tests {
    (#[$test:meta] $routes:ty) => {
        $crate::scenarios!(
            #[$test]
            $routes,
            web,
            [
                full_sign_in_profile_and_logout,
                callback_failures_are_clear_4xx_pages,
                open_redirects_fall_back_to_root,
                tampered_session_cookie_reads_as_signed_out,
                sessions_are_refreshed_once_near_expiry,
                logout_while_a_refresh_is_due_signs_out,
                rejected_refresh_signs_the_user_out,
                unreachable_provider_keeps_the_session,
                oauth2_sign_in_takes_the_user_from_userinfo,
                oidc_profile_is_completed_by_userinfo_of_the_same_subject,
                cas_sign_in_validates_the_ticket_for_the_logins_service,
                cas_ticket_for_another_logins_service_is_refused,
                refresh_during_a_provider_outage_calls_it_once,
                logout_revokes_the_refresh_token_of_the_refreshed_session,
                cross_site_logout_is_refused,
                a_saved_session_cookie_reads_as_signed_out_after_logout,
                frontchannel_logout_ends_the_sessions_of_the_provider_session,
                backchannel_logout_ends_the_sessions_the_token_names,
                forged_error_callback_is_neither_shown_nor_ends_the_login,
                unverifiable_id_token_at_the_callback_is_400,
                nested_layer_of_another_manager_ignores_the_outer_session,
            ]
        );
    };
}

/// One test per session-store scenario ([`store`]) for an adapter's [`WebRoutes`].
#[macro_export]
macro_rules! store_tests {
    (#[$test:meta] $routes:ty) => {
        $crate::scenarios!(
            #[$test]
            $routes,
            store,
            [
                memory_store_a_saved_cookie_is_dead_after_logout,
                redis_store_two_instances_share_sessions_and_logout,
                redis_outage_answers_503_and_keeps_the_session,
                redis_store_backchannel_logout_reaches_every_instance,
                redis_store_frontchannel_logout_reaches_every_instance,
                redis_revocations_end_cookie_sessions_on_every_instance,
            ]
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! scenarios {
    (#[$test:meta] $routes:ty, $module:ident, [$($scenario:ident),+ $(,)?]) => {
        $(
            #[$test]
            async fn $scenario() {
                $crate::$module::$scenario::<$routes>().await;
            }
        )+
    };
}
