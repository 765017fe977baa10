//! Validation cost on the per-request path, timed with `std::time::Instant` (no bench framework):
//!
//! - cached hit: a token seen before (SHA-256 of the token + cache lookup + `exp` check);
//! - uncached ES256: full verification (header, key lookup, signature, claims) with the cache off.
//!
//! Run: `cargo bench -p genauth --features testing --bench validate`.

use genauth::testing::TestIssuer;
use genauth::validator::TokenValidator;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot start a Tokio runtime: {e}"),
    };
    runtime.block_on(run());
}

async fn run() {
    let issuer = TestIssuer::new();
    let token = issuer.mint(serde_json::json!({
        "sub": "bench-user",
        "scope": "openid profile read:orders write:orders",
        "email": "bench@example.com",
    }));
    println!("token: ES256, {} bytes", token.len());

    let cached = issuer.validator();
    let uncached = issuer.validator().with_cache_capacity(0);

    time("cached hit", 200_000, &cached, &token).await;
    time("uncached ES256 verify", 5_000, &uncached, &token).await;
}

async fn time(name: &str, iterations: u32, validator: &impl TokenValidator, token: &str) {
    // Warm up (and fill the cache for the cached case).
    for _ in 0..(iterations / 10).max(1) {
        if let Err(e) = validator.validate(black_box(token)).await {
            panic!("{name}: the token did not validate: {e}");
        }
    }
    let started = Instant::now();
    for _ in 0..iterations {
        let claims = validator.validate(black_box(token)).await;
        black_box(claims.is_ok());
    }
    let elapsed = started.elapsed();
    println!(
        "{name:<24} {:>10.0} ns/iter  ({iterations} iterations, {:.3} s)",
        elapsed.as_nanos() as f64 / f64::from(iterations),
        elapsed.as_secs_f64()
    );
}
