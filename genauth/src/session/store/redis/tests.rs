//! Test code: compiled only under `#[cfg(test)]`, declared so in the parent module.
//! The Redis store against a real `redis-server` of each test's own.

use super::*;
use crate::session::SessionCodec;
use crate::session::stored::tests::{logout_ends_every_copy, one_refresh_across_instances};
use crate::session::tests::{login_state, user};
use crate::testing::RedisServer;
use std::sync::Arc;
use std::time::Instant;

fn store(server: &RedisServer) -> RedisStore {
    RedisStore::open(&server.url(), RedisStoreOptions::default()).unwrap()
}

#[tokio::test]
async fn saves_loads_deletes_with_ttls_and_a_prefix() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let store =
        RedisStore::open(&server.url(), RedisStoreOptions::default().prefix("app1:")).unwrap();
    store.ping().await.unwrap();
    let session = Session::with_tokens(user(), login_state(0));
    let id = session.id().unwrap();
    assert!(store.load(id).await.unwrap().is_none());
    store
        .save(id, &session, Duration::from_secs(60))
        .await
        .unwrap();
    let loaded = store.load(id).await.unwrap().unwrap();
    assert_eq!(loaded.id(), session.id());
    let ttl = server.command(&format!("PTTL app1:session:{id}")).unwrap();
    let ms: i64 = ttl.trim().trim_start_matches(':').parse().unwrap();
    assert!((50_000..=60_000).contains(&ms), "{ttl}");
    let index_ttl = server.command("PTTL app1:sub:u-1").unwrap();
    assert!(
        !index_ttl.starts_with(":-"),
        "the index has a TTL: {index_ttl}"
    );
    // Another prefix is another application.
    let other =
        RedisStore::open(&server.url(), RedisStoreOptions::default().prefix("app2:")).unwrap();
    assert!(other.load(id).await.unwrap().is_none());
    store.delete(id).await.unwrap();
    assert!(store.load(id).await.unwrap().is_none());
    // `update` never brings a deleted session back.
    assert!(
        !store
            .update(id, &session, Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(store.load(id).await.unwrap().is_none());
    assert!(
        !format!("{store:?}").contains("127.0.0.1"),
        "no URL in Debug"
    );
}

#[tokio::test]
async fn the_refresh_lock_has_one_holder_and_only_it_releases() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let store = store(&server);
    let ttl = Duration::from_secs(5);
    let held = store.lock_refresh("s1", ttl).await.unwrap().unwrap();
    assert!(store.lock_refresh("s1", ttl).await.unwrap().is_none());
    assert!(
        store.lock_refresh("s2", ttl).await.unwrap().is_some(),
        "per session"
    );
    let stranger = RefreshLock {
        token: "not-the-holder".into(),
    };
    store.unlock_refresh("s1", stranger).await.unwrap();
    assert!(
        store.lock_refresh("s1", ttl).await.unwrap().is_none(),
        "still held"
    );
    store.unlock_refresh("s1", held).await.unwrap();
    assert!(store.lock_refresh("s1", ttl).await.unwrap().is_some());
}

#[tokio::test]
async fn redis_store_logout_ends_every_copy_across_instances() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    logout_ends_every_copy(Arc::new(store(&server))).await;
}

#[tokio::test]
async fn redis_store_one_refresh_across_instances() {
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    // Two stores (two connections), as two instances have.
    let first = Arc::new(store(&server));
    one_refresh_across_instances(first).await;
}

#[tokio::test]
async fn an_outage_is_an_error_quickly_never_an_empty_answer() {
    let Some(mut server) = RedisServer::for_test() else {
        return;
    };
    let store = store(&server);
    let session = Session::with_tokens(user(), login_state(0));
    let id = session.id().unwrap();
    store
        .save(id, &session, Duration::from_secs(60))
        .await
        .unwrap();
    server.stop();
    let started = Instant::now();
    assert!(matches!(
        store.load(id).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(store.delete(id).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(StoreError::RefreshBusy.status_code(), 503);
}

#[tokio::test]
async fn a_redis_that_never_answers_times_out() {
    // Accepts connections, never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", listener.local_addr().unwrap());
    let store = RedisStore::open(
        &url,
        RedisStoreOptions::default()
            .connect_timeout(Duration::from_millis(200))
            .response_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let started = Instant::now();
    assert!(store.load("s1").await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

#[tokio::test]
async fn shared_revocations_end_cookie_sessions_on_every_instance() {
    use crate::session::tests::{as_request, manager};
    use crate::web::RequestCookies;
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let revocations = Arc::new(store(&server));
    let a = manager().shared_revocations(Arc::clone(&revocations) as Arc<dyn RevocationStore>);
    let b = manager().shared_revocations(revocations);
    let cookie =
        |session: &Session| as_request(&a.store(session, &RequestCookies::default()).unwrap());
    let first = cookie(&Session::with_tokens(user(), login_state(0)));
    assert!(
        b.fetch(&first).await.unwrap().is_some(),
        "a cookie session, opened anywhere"
    );
    let _ = a.logout(&first, None).await;
    assert!(
        b.fetch(&first).await.unwrap().is_none(),
        "ended on the other instance"
    );

    let mut with_sid = Session::with_tokens(user(), login_state(0));
    with_sid.user.claims.insert("sid".into(), "op-9".into());
    let second = cookie(&with_sid);
    let third = cookie(&Session::with_tokens(user(), login_state(0)));
    a.end_provider_sessions("op-9").await.unwrap();
    assert!(b.fetch(&second).await.unwrap().is_none());
    assert!(
        b.fetch(&third).await.unwrap().is_some(),
        "another provider session"
    );
    a.end_user_sessions("u-1").await.unwrap();
    assert!(
        b.fetch(&third).await.unwrap().is_none(),
        "sign out everywhere"
    );
    // A later sign-in is not affected.
    let mut later = Session::with_tokens(user(), login_state(0));
    later.created_at += 5;
    assert!(b.fetch(&cookie(&later)).await.unwrap().is_some());
}

#[tokio::test]
async fn sealed_records_hold_no_readable_token_and_open_with_the_key_only() {
    use crate::session::tests::codec;
    let Some(server) = RedisServer::for_test() else {
        return;
    };
    let sealed = RedisStore::open(
        &server.url(),
        RedisStoreOptions::default().seal_with(codec()),
    )
    .unwrap();
    let session = Session::with_tokens(user(), login_state(0));
    let id = session.id().unwrap();
    sealed
        .save(id, &session, Duration::from_secs(60))
        .await
        .unwrap();
    let raw = server
        .command(&format!("GET genauth:session:{id}"))
        .unwrap();
    assert!(raw.len() > 100, "{raw}");
    for secret in ["at-secret", "rt-secret", "id-secret", "Ada"] {
        assert!(!raw.contains(secret), "{secret} readable in Redis: {raw}");
    }
    assert_eq!(sealed.load(id).await.unwrap().unwrap().id(), session.id());
    assert!(
        sealed
            .update(id, &session, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let other_key = RedisStore::open(
        &server.url(),
        RedisStoreOptions::default().seal_with(SessionCodec::new(&[9u8; 32]).unwrap()),
    )
    .unwrap();
    assert!(
        other_key.load(id).await.unwrap().is_none(),
        "another key opens nothing"
    );
    let clear = store(&server);
    assert!(clear.load(id).await.unwrap().is_none(), "not JSON");
}
