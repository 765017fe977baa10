//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! The manager with a server-side store: the cookie holds only the sealed ID; logout, back-channel
//! style endings and refreshes go through the store (memory here; Redis in `store/redis/tests.rs`).

use super::super::tests::{
    as_request, login_state, manager, manager_at, mount_rotating_refresh, user,
};
use super::*;
use crate::session::MemoryStore;
use crate::web::{RequestCookies, RequestHead};
use std::time::SystemTime;
use wiremock::MockServer;

pub(crate) fn due_session() -> Session {
    let mut tokens = login_state(0);
    tokens.id_token = None;
    tokens.expires_at = Some(SystemTime::now());
    Session::with_tokens(user(), tokens)
}

pub(crate) async fn saved(manager: &SessionManager, session: &Session) -> RequestHead {
    as_request(
        &manager
            .save_session(session, &RequestCookies::default())
            .await
            .unwrap(),
    )
}

/// Checks every store the same way: sign in, the cookie is only an ID, a saved copy is dead after
/// logout, `end_user_sessions` and `end_provider_sessions` reach the store.
pub(crate) async fn logout_ends_every_copy(store: Arc<dyn SessionStore>) {
    let m = manager().session_store(Arc::clone(&store));
    let session = Session::with_tokens(user(), login_state(2000));
    let cookies = m
        .save_session(&session, &RequestCookies::default())
        .await
        .unwrap();
    assert_eq!(
        cookies.len(),
        1,
        "one small cookie, whatever the session's size"
    );
    assert!(
        cookies[0].value().len() < 200,
        "{}",
        cookies[0].value().len()
    );
    let request = as_request(&cookies);
    assert!(m.open(&request).is_none(), "not a cookie session");
    assert_eq!(m.stored_id(&request).as_deref(), session.id());
    let loaded = m.fetch(&request).await.unwrap().unwrap();
    assert_eq!(loaded.user.sub, "u-1");
    // A cookie session sealed by the same codec is not a reference.
    let cookie_mode = manager();
    let cookie_session = as_request(
        &cookie_mode
            .store(&session, &RequestCookies::default())
            .unwrap(),
    );
    assert!(m.stored_id(&cookie_session).is_none());

    // Logout through a fresh manager sharing only the store (another instance): every copy ends.
    let other_instance = manager().session_store(Arc::clone(&store));
    let redirect = other_instance.logout(&request, None).await;
    assert!(!redirect.set_cookies.is_empty());
    assert!(
        m.fetch(&request).await.unwrap().is_none(),
        "the saved copy is signed out"
    );
    assert!(store.load(session.id().unwrap()).await.unwrap().is_none());

    // Sign out everywhere and provider sessions reach the store.
    let a = saved(&m, &Session::with_tokens(user(), login_state(0))).await;
    other_instance.end_user_sessions("u-1").await.unwrap();
    assert!(m.fetch(&a).await.unwrap().is_none());
    let mut with_sid = Session::with_tokens(user(), login_state(0));
    with_sid.user.claims.insert("sid".into(), "op-1".into());
    let b = saved(&m, &with_sid).await;
    let keep = saved(&m, &Session::with_tokens(user(), login_state(0))).await;
    let fresh = manager().session_store(Arc::clone(&store));
    fresh.end_provider_sessions("op-1").await.unwrap();
    assert!(fresh.fetch(&b).await.unwrap().is_none());
    assert!(
        fresh.fetch(&keep).await.unwrap().is_some(),
        "another provider session"
    );
}

#[tokio::test]
async fn memory_store_logout_ends_every_copy() {
    logout_ends_every_copy(Arc::new(MemoryStore::default())).await;
}

#[tokio::test]
async fn past_the_absolute_lifetime_reads_as_signed_out() {
    let m = manager()
        .session_store(Arc::new(MemoryStore::default()))
        .absolute_lifetime(Duration::from_secs(3600));
    let mut old = Session::with_tokens(user(), login_state(0));
    old.created_at = now_secs() - 7200;
    // Saved directly (a sign-in would write no record past the lifetime).
    let id = old.id().unwrap().to_owned();
    m.get_session_store()
        .unwrap()
        .save(&id, &old, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(m.load_stored(&id).await.unwrap().is_none());
}

/// Two instances (managers with their own refresh caches) sharing `store`, a rotating token
/// endpoint: parallel requests on both when the token is due → both get the new tokens, the
/// provider saw one refresh.
pub(crate) async fn one_refresh_across_instances(store: Arc<dyn SessionStore>) {
    let server = MockServer::start().await;
    mount_rotating_refresh(&server, Duration::from_millis(300)).await;
    let a = manager_at(&server).session_store(Arc::clone(&store));
    let b = manager_at(&server).session_store(Arc::clone(&store));
    let request = saved(&a, &due_session()).await;
    // Spawned all at once (collected), then awaited.
    let loads: Vec<_> = (0..4)
        .map(|i| {
            let (m, r) = (
                if i % 2 == 0 { a.clone() } else { b.clone() },
                request.clone(),
            );
            tokio::spawn(async move { m.load(&r).await.session })
        })
        .collect();
    for load in loads {
        let session = load.await.unwrap().expect("no sign-out");
        assert_eq!(session.access_token().unwrap().secret(), "at-2");
        assert_eq!(session.refresh_token().unwrap().secret(), "rt-2");
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one refresh"
    );
    let stored = a.fetch(&request).await.unwrap().unwrap();
    assert_eq!(
        stored.refresh_token().unwrap().secret(),
        "rt-2",
        "the result is stored"
    );
}

#[tokio::test]
async fn memory_store_one_refresh_for_managers_sharing_it() {
    one_refresh_across_instances(Arc::new(MemoryStore::default())).await;
}

#[tokio::test]
async fn a_refresh_finishing_after_logout_does_not_bring_the_session_back() {
    let server = MockServer::start().await;
    mount_rotating_refresh(&server, Duration::from_millis(300)).await;
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::default());
    let m = manager_at(&server).session_store(Arc::clone(&store));
    let request = saved(&m, &due_session()).await;
    let refreshing = {
        let (m, r) = (m.clone(), request.clone());
        tokio::spawn(async move { m.load(&r).await.session })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = m.logout(&request, None).await;
    assert!(
        refreshing.await.unwrap().is_none(),
        "ended while refreshing"
    );
    assert!(m.fetch(&request).await.unwrap().is_none());
}
