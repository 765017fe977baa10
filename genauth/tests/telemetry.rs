//! Spans, audit events and metrics read back after requests, with a subscriber and a recorder local
//! to the test's thread. One test in its own binary: `tracing` caches per call site whether anyone
//! listens, and tests running in parallel without a subscriber would race with it.

use genauth::bearer::BearerAuthenticator;
use genauth::jwks::JwksCache;
use genauth::session::{AuthUser, RequestCookies, Session, SessionCodec, SessionManager};
use genauth::telemetry::*;
use genauth::testing::TestIssuer;
use genauth::types::AccessToken;
use genauth::web::RequestHead;
use genauth::{Client, ClientConfig, IntrospectionValidator, JwksValidator, JwtVerifier};
use genauth::{TokenValidator, token::LoginState};
#[cfg(feature = "metrics")]
use metrics_util::CompositeKey;
#[cfg(feature = "metrics")]
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn spans_audit_events_and_counters_after_requests() {
    spans_and_audit_events();
    #[cfg(feature = "metrics")]
    counters();
}

#[cfg(feature = "metrics")]
fn counters() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A current-thread runtime: every metric is recorded on this thread, into this recorder.
    metrics::with_local_recorder(&recorder, || runtime.block_on(requests()));
    let read = Reader(snapshotter.snapshot().into_vec());

    assert_eq!(read.counter(VALIDATIONS, &[("outcome", "valid")]), 2);
    assert_eq!(
        read.counter(VALIDATIONS, &[("outcome", "invalid_token")]),
        1
    );
    assert_eq!(
        read.counter(VALIDATIONS, &[("outcome", "insufficient_scope")]),
        1
    );
    let verified = |result| [("cache", "verified_token"), ("result", result)];
    assert_eq!(read.counter(TOKEN_CACHE, &verified("miss")), 2);
    assert_eq!(read.counter(TOKEN_CACHE, &verified("hit")), 2);
    let introspection = |result| [("cache", "introspection"), ("result", result)];
    assert_eq!(read.counter(TOKEN_CACHE, &introspection("miss")), 1);
    assert_eq!(read.counter(TOKEN_CACHE, &introspection("hit")), 1);
    assert_eq!(read.counter(JWKS_DOWNLOADS, &[("outcome", "ok")]), 1);
    assert_eq!(read.counter(JWKS_DOWNLOADS, &[("outcome", "error")]), 1);
    assert_eq!(
        read.counter(SESSION_REFRESHES, &[("outcome", "refreshed")]),
        1
    );
    assert_eq!(
        read.counter(SESSION_REFRESHES, &[("outcome", "rejected")]),
        1
    );
    let call = |endpoint, status| [("endpoint", endpoint), ("status", status)];
    assert_eq!(read.samples(&call("jwks_uri", "2xx")), 1);
    assert_eq!(read.samples(&call("jwks_uri", "4xx")), 1);
    assert_eq!(read.samples(&call("introspection_endpoint", "2xx")), 1);
    assert_eq!(read.samples(&call("token_endpoint", "2xx")), 2);
    assert_eq!(read.samples(&call("userinfo_endpoint", "2xx")), 1);
    assert_eq!(read.samples(&call("token_endpoint", "4xx")), 1);
}

/// Bearer validations (JWKS), introspections, a failed JWKS download and two session refreshes
/// against one mock provider.
/// Returns the `kid` of the tokens' key.
async fn requests() -> String {
    let server = MockServer::start().await;
    let issuer = TestIssuer::new();
    let jwks = serde_json::to_value(issuer.jwks()).unwrap();
    let introspected = serde_json::json!({"active": true, "sub": "u1", "exp": now() + 600, "client_id": "app", "token_type": "Bearer"});
    let token =
        |access_token| serde_json::json!({"access_token": access_token, "token_type": "Bearer"});
    let invalid_grant = serde_json::json!({"error": "invalid_grant"});
    // (method, path, a string the body must contain, status, answer)
    let answers = [
        ("GET", "/jwks", "", 200, jwks),
        ("POST", "/oidc/token/introspection", "", 200, introspected),
        (
            "POST",
            "/token",
            "refresh_token=rt-good",
            200,
            token("at-2"),
        ),
        ("POST", "/token", "code=the-code", 200, token("at-login")),
        ("GET", "/me", "", 200, serde_json::json!({"sub": "u-login"})),
        ("POST", "/token", "refresh_token=rt-bad", 400, invalid_grant),
    ];
    for (verb, at, body, status, answer) in answers {
        Mock::given(method(verb))
            .and(path(at))
            .and(body_string_contains(body))
            .respond_with(ResponseTemplate::new(status).set_body_json(answer))
            .mount(&server)
            .await;
    }

    // Bearer: a miss (download), a hit, an expired token (a miss), a hit lacking a scope.
    let uri = |p: &str| url::Url::parse(&format!("{}{p}", server.uri())).unwrap();
    let verifier = JwtVerifier::builder(issuer.issuer())
        .audience(issuer.audience())
        .jwks(JwksCache::new(reqwest::Client::new(), uri("/jwks")))
        .build()
        .unwrap();
    let validator: Arc<dyn TokenValidator> = Arc::new(JwksValidator::new(verifier));
    let bearer = BearerAuthenticator::from_arc(Arc::clone(&validator));
    let scoped = BearerAuthenticator::from_arc(validator).required_scopes(["admin"]);
    let token = AccessToken::new(issuer.mint(serde_json::json!({"sub": "alice"})));
    bearer.validate(token.clone()).await.unwrap();
    bearer.validate(token.clone()).await.unwrap();
    let expired = AccessToken::new(issuer.expired_token());
    assert_eq!(
        bearer.validate(expired).await.unwrap_err().status_code(),
        401
    );
    assert_eq!(scoped.validate(token).await.unwrap_err().status_code(), 403);

    // A JWKS that is not there.
    let missing = JwksCache::new(reqwest::Client::new(), uri("/no-jwks"));
    missing.refresh().await.unwrap_err();

    // Introspection: a miss, then a hit.
    let config = |b: genauth::ClientConfigBuilder| b.client_secret("secret").build().unwrap();
    let config = config(ClientConfig::builder("app").app_host(server.uri()));
    let introspection = IntrospectionValidator::new(Client::new(config).unwrap());
    introspection.validate("opaque").await.unwrap();
    introspection.validate("opaque").await.unwrap();

    // OAuth 2.0 sign-in (code exchange, UserInfo), sign-out, refresh accepted then rejected.
    let metadata = serde_json::from_value(serde_json::json!({
        "issuer": server.uri(),
        "authorization_endpoint": uri("/auth"),
        "token_endpoint": uri("/token"),
        "userinfo_endpoint": uri("/me"),
    }))
    .unwrap();
    let config = ClientConfig::builder("app")
        .client_secret("secret")
        .issuer(server.uri())
        .protocol(genauth::Protocol::OAuth2)
        .redirect_uri("http://127.0.0.1:3000/callback")
        .build()
        .unwrap();
    let client = Client::with_metadata(config, metadata).unwrap();
    let manager = SessionManager::new(client, SessionCodec::generate().unwrap());
    let login = manager.begin_login(None).unwrap();
    let location = url::Url::parse(&login.location).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1;
    let cookie = format!(
        "{}={}",
        login.set_cookies[0].name(),
        login.set_cookies[0].value()
    );
    let callback = format!("/callback?code=the-code&state={state}");
    let callback = RequestHead::get(&callback).with_header("cookie", cookie);
    manager.finish_login(&callback).await.unwrap();
    let user = AuthUser::new("u-login", genauth::Protocol::OAuth2);
    let logout = RequestHead::get("/logout");
    manager
        .logout(&logout, Some(Some(&Session::new(user))))
        .await;
    for refresh_token in ["rt-good", "rt-bad"] {
        let loaded = manager
            .refresh_session(session(refresh_token), &RequestCookies::default())
            .await;
        assert_eq!(loaded.session.is_some(), refresh_token == "rt-good");
    }
    issuer.kid().to_owned()
}

/// A session due for refresh with this refresh token.
fn session(refresh_token: &str) -> Session {
    let tokens: LoginState = serde_json::from_value(serde_json::json!({
        "access_token": "at-1", "token_type": "Bearer", "id_token": null,
        "refresh_token": refresh_token, "scope": "openid", "expires_in_secs": 3600,
        "expires_at": null, "id_token_claims": null, "access_token_claims": null
    }))
    .unwrap();
    Session::with_tokens(AuthUser::new("u-1", genauth::Protocol::OAuth2), tokens)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[cfg(feature = "metrics")]
/// Reads counters and histograms from one snapshot (taking one drains the histograms), by name and
/// labels.
struct Reader(
    Vec<(
        CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )>,
);

#[cfg(feature = "metrics")]
impl Reader {
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        self.0.iter().find_map(|(key, _, _, value)| {
            let key = key.key();
            let same_labels = key.labels().count() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v));
            (key.name() == name && same_labels).then_some(value)
        })
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            Some(DebugValue::Counter(n)) => *n,
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    /// How many durations the provider-call histogram holds for these labels.
    fn samples(&self, labels: &[(&str, &str)]) -> usize {
        match self.find(PROVIDER_CALL_DURATION, labels) {
            Some(DebugValue::Histogram(samples)) => samples.len(),
            other => panic!("{labels:?}: {other:?}"),
        }
    }
}

fn spans_and_audit_events() {
    let capture = Capture::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let kid = tracing::subscriber::with_default(capture.clone(), || runtime.block_on(requests()));
    let records = capture.0.lock().unwrap();
    let find = |name: &str, fields: &[(&str, &str)]| {
        records.iter().any(|r| {
            r.name == name
                && fields
                    .iter()
                    .all(|(k, v)| r.fields.iter().any(|(rk, rv)| rk == k && rv == v))
        })
    };
    let (kid, iss) = (kid.as_str(), TestIssuer::new().issuer().to_owned());
    let iss = iss.as_str();
    let bearer = "bearer_validation";
    assert!(find(
        bearer,
        &[
            ("outcome", "valid"),
            ("cache", "miss"),
            ("kid", kid),
            ("iss", iss)
        ]
    ));
    assert!(find(
        bearer,
        &[("outcome", "valid"), ("cache", "hit"), ("iss", iss)]
    ));
    assert!(find(
        bearer,
        &[("outcome", "invalid_token"), ("cache", "miss")]
    ));
    assert!(find(
        bearer,
        &[("outcome", "insufficient_scope"), ("cache", "hit")]
    ));
    assert!(find(
        "provider_call",
        &[("endpoint", "jwks_uri"), ("status", "200")]
    ));
    assert!(find(
        "provider_call",
        &[("endpoint", "jwks_uri"), ("status", "404")]
    ));
    let callback = [
        ("protocol", "oauth"),
        ("outcome", "signed_in"),
        ("sub", "u-login"),
    ];
    assert!(find("login_callback", &callback));
    let audit = |message, sub| {
        let fields = [("target", AUDIT_TARGET), ("message", message), ("sub", sub)];
        find(
            "event",
            &[("protocol", "oauth"), fields[0], fields[1], fields[2]],
        )
    };
    assert!(audit("signed in", "u-login"));
    assert!(audit("signed out", "u-login"));
    assert!(audit(
        "session refresh rejected; signing the user out",
        "u-1"
    ));
    // Nothing secret in any span or event: tokens, code, client secret, refresh tokens.
    for record in records.iter() {
        for (name, value) in &record.fields {
            for secret in [
                "eyJ", "at-login", "at-2", "the-code", "secret", "rt-good", "rt-bad",
            ] {
                assert!(!value.contains(secret), "{} {name}={value}", record.name);
            }
        }
    }
}

/// A span or an event as recorded: its name (`event` for events) and fields, `target` and
/// `message` included.
struct Record {
    name: String,
    fields: Vec<(String, String)>,
    metadata: &'static tracing::Metadata<'static>,
}

/// A subscriber keeping every span (with the fields recorded later) and event, and the stack of
/// entered spans (what `Span::current` asks for).
#[derive(Clone, Default)]
struct Capture(
    Arc<std::sync::Mutex<Vec<Record>>>,
    Arc<std::sync::Mutex<Vec<(tracing::span::Id, &'static tracing::Metadata<'static>)>>>,
);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().into(), value.into()));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().into(), format!("{value:?}")));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut records = self.0.lock().unwrap();
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        let (name, metadata) = (span.metadata().name().into(), span.metadata());
        records.push(Record {
            name,
            fields,
            metadata,
        });
        tracing::span::Id::from_u64(records.len() as u64)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut records = self.0.lock().unwrap();
        let index = span.into_u64() as usize - 1;
        values.record(&mut Fields(&mut records[index].fields));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let target = event.metadata().target().into();
        let mut fields = vec![("target".into(), target)];
        event.record(&mut Fields(&mut fields));
        let (name, metadata) = ("event".into(), event.metadata());
        self.0.lock().unwrap().push(Record {
            name,
            fields,
            metadata,
        });
    }
    fn enter(&self, span: &tracing::span::Id) {
        let metadata = self.0.lock().unwrap()[span.into_u64() as usize - 1].metadata;
        self.1.lock().unwrap().push((span.clone(), metadata));
    }
    fn exit(&self, _: &tracing::span::Id) {
        self.1.lock().unwrap().pop();
    }
    fn current_span(&self) -> tracing_core::span::Current {
        match self.1.lock().unwrap().last() {
            Some((id, metadata)) => tracing_core::span::Current::new(id.clone(), metadata),
            None => tracing_core::span::Current::none(),
        }
    }
}
