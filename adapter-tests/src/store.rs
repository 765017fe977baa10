//! Sessions in a server-side store (memory, a real `redis-server` of each scenario's own) through
//! each adapter's routes and session middleware: the cookie holds only the sealed session ID, a
//! saved copy of it is dead after logout, on every instance sharing Redis; a Redis outage answers
//! 503 and ends nothing.

use crate::provider::{MockProvider, SID};
use crate::web::{HTML, sign_in};
use crate::{App, Request, WebRoutes, get_with};
use genauth::Protocol;
use genauth::session::{
    MemoryStore, RedisStore, RedisStoreOptions, SessionCodec, SessionManager, SessionStore,
};
use genauth::testing::RedisServer;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A manager of `p`'s client keeping sessions in `store`; every instance shares the key.
fn manager(p: &MockProvider, store: Arc<dyn SessionStore>) -> SessionManager {
    let codec = SessionCodec::new(&[42u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    SessionManager::new(p.client.clone(), codec).session_store(store)
}

/// A Redis store with short timeouts, so that the outage scenario is quick.
fn redis(server: &RedisServer) -> Arc<dyn SessionStore> {
    let options = RedisStoreOptions::default()
        .connect_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300));
    Arc::new(RedisStore::open(&server.url(), options).unwrap_or_else(|e| panic!("{e}")))
}

/// The session cookie is a small sealed ID, whatever the session holds.
fn assert_small_session_cookie(cookie_header: &str) {
    let session = cookie_header
        .split("; ")
        .find(|c| c.starts_with("genauth_session="))
        .unwrap_or_else(|| panic!("no session cookie: {cookie_header}"));
    assert!(session.len() < 300, "only the sealed ID: {session}");
    assert!(!cookie_header.contains("genauth_session.1"), "no chunks");
}

/// In-memory store: a saved copy of the session cookie is signed out after logout.
pub async fn memory_store_a_saved_cookie_is_dead_after_logout<R: WebRoutes>() {
    let p = MockProvider::start(Protocol::Oidc).await;
    let app = R::app_with(manager(&p, Arc::new(MemoryStore::default()))).await;
    let mut jar = sign_in(&p, &app, 3600, "rt-1").await;
    let saved = jar.header();
    assert_small_session_cookie(&saved);
    assert_eq!(get_with(&app, "/", HTML, &saved).await.body, "Ada Lovelace");
    assert_eq!(get_with(&app, "/profile", HTML, &saved).await.status, 200);
    let reply = jar.get(&app, "/logout", HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(get_with(&app, "/", HTML, &saved).await.body, "anonymous");
    assert_eq!(get_with(&app, "/profile", HTML, &saved).await.status, 302);
}

/// Two instances sharing Redis and the key: signed in on one, signed in on the other; logged out
/// on the second, the saved cookie is dead on both.
pub async fn redis_store_two_instances_share_sessions_and_logout<R: WebRoutes>() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let p = MockProvider::start(Protocol::Oidc).await;
    let first = R::app_with(manager(&p, redis(&server))).await;
    let second = R::app_with(manager(&p, redis(&server))).await;
    let mut jar = sign_in(&p, &first, 3600, "rt-1").await;
    let saved = jar.header();
    assert_small_session_cookie(&saved);
    assert_eq!(
        get_with(&second, "/", HTML, &saved).await.body,
        "Ada Lovelace"
    );
    let reply = jar.get(&second, "/logout", HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    for app in [&first, &second] {
        let home = get_with(app, "/", HTML, &saved).await;
        assert_eq!(home.body, "anonymous");
        assert!(
            home.set_cookies()
                .iter()
                .any(|c| c.starts_with("genauth_session=;") && c.contains("Max-Age=0")),
            "the dead cookie is removed: {:?}",
            home.set_cookies()
        );
        assert_eq!(get_with(app, "/profile", HTML, &saved).await.status, 302);
    }
}

/// A Redis that does not answer (frozen): requests with a session cookie get 503 with
/// `Retry-After`, not the signed-out page nor a login redirect; once it answers again the session
/// is there as before. Requests without a session cookie never reach Redis.
pub async fn redis_outage_answers_503_and_keeps_the_session<R: WebRoutes>() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let p = MockProvider::start(Protocol::Oidc).await;
    let app = R::app_with(manager(&p, redis(&server))).await;
    let jar = sign_in(&p, &app, 3600, "rt-1").await;
    let saved = jar.header();
    server.pause();
    for path in ["/", "/profile"] {
        let started = std::time::Instant::now();
        let reply = get_with(&app, path, HTML, &saved).await;
        assert_eq!(reply.status, 503, "{path}: {}", reply.body);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(reply.set_cookies().is_empty(), "the cookie stays");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    let anonymous = app.send(Request::get("/").header("accept", HTML)).await;
    assert_eq!(anonymous.body, "anonymous", "no cookie, no store call");
    server.resume();
    let mut back = String::new();
    for _ in 0..50 {
        back = get_with(&app, "/", HTML, &saved).await.body;
        if back == "Ada Lovelace" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(back, "Ada Lovelace", "not signed out by the outage");
}

/// A back-channel logout received by one instance ends the session on the other.
pub async fn redis_store_backchannel_logout_reaches_every_instance<R: WebRoutes>() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let p = MockProvider::start(Protocol::Oidc).await;
    let first = R::app_with(manager(&p, redis(&server))).await;
    let second = R::app_with(manager(&p, redis(&server))).await;
    let jar = sign_in(&p, &first, 3600, "rt-1").await;
    let saved = jar.header();
    let event = json!({ "http://schemas.openid.net/event/backchannel-logout": {} });
    let token = p
        .issuer
        .mint(json!({"jti": "j-store", "sid": SID, "events": event}));
    let reply = second
        .send(Request::form(
            "/backchannel-logout",
            &[("logout_token", &token)],
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(get_with(&first, "/", HTML, &saved).await.body, "anonymous");
}

/// A front-channel logout loaded on one instance ends the session on the other (the store
/// deletion runs right after the answer: the other instance sees it within moments).
pub async fn redis_store_frontchannel_logout_reaches_every_instance<R: WebRoutes>() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let p = MockProvider::start(Protocol::Oidc).await;
    let first = R::app_with(manager(&p, redis(&server))).await;
    let second = R::app_with(manager(&p, redis(&server))).await;
    let jar = sign_in(&p, &first, 3600, "rt-1").await;
    let saved = jar.header();
    let iss: String = url::form_urlencoded::byte_serialize(p.issuer.issuer().as_bytes()).collect();
    let reply = second
        .send(Request::get(format!(
            "/frontchannel-logout?iss={iss}&sid={SID}"
        )))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(get_with(&second, "/", HTML, &saved).await.body, "anonymous");
    let mut body = String::new();
    for _ in 0..40 {
        body = get_with(&first, "/", HTML, &saved).await.body;
        if body == "anonymous" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(body, "anonymous", "ended on the other instance too");
}

/// Sessions in their sealed cookie, revocations shared in Redis: a logout on one instance signs
/// the saved cookie out on the other; a Redis outage is 503 there too.
pub async fn redis_revocations_end_cookie_sessions_on_every_instance<R: WebRoutes>() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let p = MockProvider::start(Protocol::Oidc).await;
    let cookie_mode = |p: &MockProvider| {
        let codec = SessionCodec::new(&[42u8; 32]).unwrap_or_else(|e| panic!("{e}"));
        let options = RedisStoreOptions::default()
            .connect_timeout(Duration::from_millis(300))
            .response_timeout(Duration::from_millis(300));
        let revocations =
            RedisStore::open(&server.url(), options).unwrap_or_else(|e| panic!("{e}"));
        SessionManager::new(p.client.clone(), codec).shared_revocations(Arc::new(revocations))
    };
    let first = R::app_with(cookie_mode(&p)).await;
    let second = R::app_with(cookie_mode(&p)).await;
    let mut jar = sign_in(&p, &first, 3600, "rt-1").await;
    let saved = jar.header();
    assert!(saved.len() > 300, "the session is in its cookie");
    assert_eq!(
        get_with(&second, "/", HTML, &saved).await.body,
        "Ada Lovelace"
    );
    server.pause();
    assert_eq!(get_with(&second, "/", HTML, &saved).await.status, 503);
    server.resume();
    let reply = jar.get(&first, "/logout", HTML).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    for app in [&first, &second] {
        assert_eq!(get_with(app, "/", HTML, &saved).await.body, "anonymous");
        assert_eq!(get_with(app, "/profile", HTML, &saved).await.status, 302);
    }
}
