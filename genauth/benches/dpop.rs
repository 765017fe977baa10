//! The per-request cost of DPoP (RFC 9449) next to plain bearer validation, timed with
//! `std::time::Instant` (no bench framework), the access token in the verified-token cache:
//!
//! - bearer, DPoP off: the bearer layers' whole step for a cached token (the baseline);
//! - bearer, DPoP allowed: the same plain bearer token under a layer that also takes DPoP;
//! - DPoP proof checks: `DpopVerifier::verify` alone on one ES256 proof (§4.3: parse, `jwk`
//!   parsed and thumbprinted, signature, claims, `htm`/`htu`, `iat`, `ath`), no replay record;
//! - DPoP request: the layers' whole step for a DPoP-bound token with a fresh proof each time
//!   (the above, the token's cache hit, the `cnf.jkt` binding, the `jti` recorded).
//!
//! Run: `cargo bench -p genauth --features testing --bench dpop`.

use genauth::bearer::BearerAuthenticator;
use genauth::dpop::{DpopConfig, DpopKey, DpopMode, ProofTarget};
use genauth::testing::TestIssuer;
use std::hint::black_box;
use std::time::Instant;

const URL: &str = "https://api.example.com/orders";

fn main() {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot start a Tokio runtime: {e}"),
    };
    runtime.block_on(run());
}

fn target() -> ProofTarget<'static> {
    ProofTarget {
        method: "GET",
        target: "/orders",
        host: Some("api.example.com"),
        scheme: Some("https"),
    }
}

async fn run() {
    let issuer = TestIssuer::new();
    let key = DpopKey::generate().unwrap_or_else(|e| panic!("{e}"));
    let claims = |cnf: bool| {
        let mut c = serde_json::json!({"sub": "bench-user", "scope": "openid read:orders"});
        if cnf {
            c["cnf"] = serde_json::json!({"jkt": key.thumbprint()});
        }
        c
    };
    let plain = issuer.mint(claims(false));
    let bound = issuer.mint(claims(true));
    let validator = std::sync::Arc::new(issuer.validator());
    let iterations = 20_000u32;
    let dpop = |mode| {
        DpopConfig::new(mode)
            .replay_cache_capacity(iterations as usize * 2)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };

    let off = BearerAuthenticator::from_arc(validator.clone());
    bearer("bearer, DPoP off", &off, &plain, 200_000).await;
    let allowed = BearerAuthenticator::from_arc(validator.clone()).dpop(dpop(DpopMode::Allowed));
    bearer("bearer, DPoP allowed", &allowed, &plain, 200_000).await;

    let verifier = dpop(DpopMode::Allowed);
    let proof = key
        .proof("GET", URL, Some(&bound))
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    for _ in 0..iterations {
        let checked = verifier.verify(black_box(&proof), "GET", URL, &bound);
        assert!(black_box(checked).is_ok());
    }
    report("DPoP proof checks", iterations, started.elapsed());

    // Fresh proofs (unique `jti`), signed before the clock starts.
    let proofs: Vec<String> = (0..=iterations)
        .map(|_| {
            key.proof("GET", URL, Some(&bound))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let header = format!("DPoP {bound}");
    let (warm, proofs) = proofs.split_first().unwrap_or_else(|| panic!("no proofs"));
    let one = |proof: &str| {
        let allowed = &allowed;
        let header = &header;
        let proof = proof.to_owned();
        async move {
            allowed
                .authenticate_request([header.as_bytes()], [proof.as_bytes()], &target())
                .await
        }
    };
    assert!(
        matches!(one(warm).await, Ok(Some(_))),
        "the DPoP request passes"
    );
    let started = Instant::now();
    for proof in proofs {
        let authenticated = one(black_box(proof)).await;
        assert!(matches!(black_box(authenticated), Ok(Some(_))));
    }
    report("DPoP request", iterations, started.elapsed());
}

async fn bearer(name: &str, auth: &BearerAuthenticator, token: &str, iterations: u32) {
    let header = format!("Bearer {token}");
    for _ in 0..1_000 {
        let warm = auth
            .authenticate_request([header.as_bytes()], std::iter::empty(), &target())
            .await;
        assert!(matches!(warm, Ok(Some(_))), "{name}");
    }
    let started = Instant::now();
    for _ in 0..iterations {
        let authenticated = auth
            .authenticate_request(
                [black_box(header.as_bytes())],
                std::iter::empty(),
                &target(),
            )
            .await;
        assert!(matches!(black_box(authenticated), Ok(Some(_))));
    }
    report(name, iterations, started.elapsed());
}

/// One result line: time per iteration, iterations, total.
fn report(name: &str, iterations: u32, elapsed: std::time::Duration) {
    println!(
        "{name:<24} {:>10.0} ns/iter  ({iterations} iterations, {:.3} s)",
        elapsed.as_nanos() as f64 / f64::from(iterations),
        elapsed.as_secs_f64()
    );
}
