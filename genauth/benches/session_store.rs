//! Per-request cost of each session store, timed with `std::time::Instant` (no bench framework),
//! through the session middleware's whole decision (`SessionGate::before`, then `Load::run` for
//! server-side stores), for a signed-in session with tokens and claims:
//!
//! - cookie: the sealed session opened from the `Cookie` header (AES-256-GCM, JSON), synchronous;
//! - memory: the sealed ID opened, then one lookup in the in-process `MemoryStore`;
//! - redis: the sealed ID opened, then one `GET` round trip to a real `redis-server` on loopback
//!   (started by the bench; skipped with a message when `redis-server` is not installed), and the
//!   same with 16 requests in flight at once (the multiplexed connection pipelines them);
//! - redis sealed: the same, the record sealed at rest (`RedisStoreOptions::seal_with`);
//! - cookie + Redis revocations: the cookie opened, then one `MGET` of its revocation keys.
//!
//! Run: `cargo bench -p genauth --features testing,redis --bench session_store`.

use genauth::adapter::{SessionGate, SessionStep};
use genauth::session::{
    AuthUser, MemoryStore, RedisStore, RedisStoreOptions, RequestCookies, Session, SessionCodec,
    SessionManager, SessionStore,
};
use genauth::testing::RedisServer;
use genauth::web::RequestHead;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot start a Tokio runtime: {e}"),
    };
    runtime.block_on(run());
}

async fn run() {
    let session = session();
    gate("cookie", manager(), &session, 50_000).await;
    let memory = manager().session_store(Arc::new(MemoryStore::default()));
    gate("memory", memory, &session, 50_000).await;
    match RedisServer::start() {
        Ok(server) => {
            let store = match RedisStore::open(&server.url(), RedisStoreOptions::default()) {
                Ok(store) => Arc::new(store),
                Err(e) => panic!("redis store: {e}"),
            };
            let redis = manager().session_store(Arc::clone(&store) as Arc<dyn SessionStore>);
            gate("redis", redis.clone(), &session, 10_000).await;
            let sealed = match RedisStore::open(
                &server.url(),
                RedisStoreOptions::default()
                    .seal_with(SessionCodec::generate().unwrap_or_else(|e| panic!("{e}"))),
            ) {
                Ok(store) => store,
                Err(e) => panic!("redis store: {e}"),
            };
            gate(
                "redis sealed",
                manager().session_store(Arc::new(sealed)),
                &session,
                10_000,
            )
            .await;
            let revocations = manager().shared_revocations(store.clone());
            gate("cookie+redis revocations", revocations, &session, 10_000).await;
            concurrent_redis(redis, &session, 16, 20_000).await;
        }
        Err(e) => println!("redis: SKIPPED ({e})"),
    }
}

fn session() -> Session {
    let tokens: genauth::token::LoginState = match serde_json::from_value(serde_json::json!({
        "access_token": "a".repeat(600), "token_type": "Bearer", "id_token": "i".repeat(700),
        "refresh_token": "r".repeat(43), "scope": "openid profile", "expires_in_secs": 3600,
        "expires_at": null, "id_token_claims": null, "access_token_claims": null
    })) {
        Ok(tokens) => tokens,
        Err(e) => panic!("login state: {e}"),
    };
    let mut claims = genauth::ExtraClaims::new();
    claims.insert("name".into(), "Bench User".into());
    claims.insert("email".into(), "bench@example.com".into());
    Session::with_tokens(
        AuthUser::with_claims("bench-user", claims, genauth::Protocol::Oidc),
        tokens,
    )
}

fn manager() -> SessionManager {
    let config = genauth::ClientConfig::builder("bench-app")
        .client_secret("bench-secret")
        .app_host("https://bench.genauth.ai")
        .redirect_uri("http://127.0.0.1:3000/callback")
        .build();
    let client = match config.map(genauth::Client::new) {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("client: {e}"),
        Err(e) => panic!("config: {e}"),
    };
    let codec = match SessionCodec::generate() {
        Ok(codec) => codec,
        Err(e) => panic!("codec: {e}"),
    };
    SessionManager::new(client, codec)
}

/// The `Cookie` header of `session` saved by `manager`.
async fn cookie_header(manager: &SessionManager, session: &Session) -> String {
    match manager
        .save_session(session, &RequestCookies::default())
        .await
    {
        Ok(cookies) => cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => panic!("save: {e}"),
    }
}

/// One request's session step through the gate, asserting it is signed in.
async fn one(gate: &SessionGate, cookie: &str) {
    let head = RequestHead::new(
        "GET",
        "/profile",
        [("cookie", black_box(cookie.as_bytes()))],
    );
    let proceed = match gate.before(None, head) {
        SessionStep::Proceed(proceed) => proceed,
        SessionStep::Load(load) => match load.run().await {
            Ok(proceed) => proceed,
            Err(reply) => panic!("the gate answered {}", reply.status),
        },
        _ => panic!("the gate did not proceed"),
    };
    assert!(proceed.context.is_some_and(|c| c.is_signed_in()));
}

async fn gate(name: &str, manager: SessionManager, session: &Session, iterations: u32) {
    let cookie = cookie_header(&manager, session).await;
    let gate = SessionGate::new(Arc::new(manager));
    for _ in 0..100 {
        one(&gate, &cookie).await;
    }
    println!("{name}: session cookie {} bytes", cookie.len());
    let started = Instant::now();
    for _ in 0..iterations {
        one(&gate, &cookie).await;
    }
    report(&format!("{name} gate"), iterations, started.elapsed());
}

/// `in_flight` requests at once on one Redis connection: throughput per request.
async fn concurrent_redis(manager: SessionManager, session: &Session, in_flight: u32, total: u32) {
    let cookie = Arc::new(cookie_header(&manager, session).await);
    let gate = SessionGate::new(Arc::new(manager));
    let started = Instant::now();
    let per_task = total / in_flight;
    let tasks: Vec<_> = (0..in_flight)
        .map(|_| {
            let (gate, cookie) = (gate.clone(), Arc::clone(&cookie));
            tokio::spawn(async move {
                for _ in 0..per_task {
                    one(&gate, &cookie).await;
                }
            })
        })
        .collect();
    for task in tasks {
        if let Err(e) = task.await {
            panic!("bench task: {e}");
        }
    }
    report(
        &format!("redis gate x{in_flight}"),
        per_task * in_flight,
        started.elapsed(),
    );
}

fn report(name: &str, iterations: u32, elapsed: Duration) {
    println!(
        "{name:<24} {:>10.0} ns/iter  ({iterations} iterations, {:.3} s)",
        elapsed.as_nanos() as f64 / f64::from(iterations),
        elapsed.as_secs_f64()
    );
}
