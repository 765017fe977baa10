//! The load benchmark of `BENCHMARKS.md`: genauth's bearer layers (axum and actix-web) against a
//! bare route and a hand-written `jsonwebtoken` middleware, each contestant a child process pinned to
//! core 0, the load from this process pinned to core 1, rounds interleaved.
//!
//! ```sh
//! cargo run --release -p genauth-bench            # 3 rounds of 40 000 requests per scenario
//! cargo run --release -p genauth-bench -- --quick # 3 rounds of 10 000 (about two minutes)
//! cargo run --release -p genauth-bench -- --quick --only genauth-axum   # one contestant
//! cargo run --release -p genauth-bench -- --quick --scenario "same token"  # one scenario
//! ```
//!
//! Prints, per contestant and scenario, the medians over the rounds of the server's CPU time per
//! request (all its threads, from `/proc`), requests per second, p99 latency and peak RSS, then the
//! ratios issue 9 asks for.

#![forbid(unsafe_code)]

mod load;
mod servers;

use genauth::testing::TestIssuer;
use http::HeaderValue;
use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A scenario: which requests, to which route, answered with which status.
struct Scenario {
    name: &'static str,
    path: &'static str,
    values: Arc<Vec<HeaderValue>>,
    expected: u16,
    /// Each value is sent once per server (warm-up included): tokens the server has never seen.
    fresh: bool,
    /// Run by the genauth contestants only.
    genauth_only: bool,
}

/// One measurement.
#[derive(Clone, Copy)]
struct Sample {
    cpu_us: f64,
    rps: f64,
    p99_us: f64,
    rss_mib: f64,
}

struct Options {
    rounds: usize,
    requests: usize,
    warmup: usize,
    connections: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("serve") => servers::serve(args.get(2).map_or("", String::as_str)),
        _ => {
            // `--only <contestant>`: that contestant alone (to profile it, say).
            let only = args
                .iter()
                .position(|a| a == "--only")
                .and_then(|i| args.get(i + 1).cloned());
            // `--scenario <name>`: only the scenarios whose name contains it (and the bare route).
            let scenario = args
                .iter()
                .position(|a| a == "--scenario")
                .and_then(|i| args.get(i + 1).cloned());
            bench(
                args.iter().any(|a| a == "--quick"),
                only.as_deref(),
                scenario.as_deref(),
            )
        }
    };
    if let Err(e) = result {
        eprintln!("genauth-bench: {e}");
        std::process::exit(1);
    }
}

fn bench(quick: bool, only: Option<&str>, pick: Option<&str>) -> Result<(), String> {
    let options = if quick {
        Options {
            rounds: 3,
            requests: 10_000,
            warmup: 1_000,
            connections: 16,
        }
    } else {
        Options {
            rounds: 3,
            requests: 40_000,
            warmup: 4_000,
            connections: 16,
        }
    };
    let rs256 = TestIssuer::rs256();
    let es256 = TestIssuer::new();
    let mut jwks = rs256.jwks();
    jwks.keys.extend(es256.jwks().keys);
    let jwks = serde_json::to_string(&jwks).map_err(|e| e.to_string())?;

    let fresh = options.requests + options.warmup;
    eprintln!("minting {fresh} RS256 and {fresh} ES256 tokens...");
    let scenarios = scenarios(&rs256, &es256, fresh)?;
    // The load generator on core 1, the servers on core 0 (after minting, which uses both).
    pin_self_to_core(1)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;

    let mut samples: BTreeMap<(&str, &str), Vec<Sample>> = BTreeMap::new();
    for round in 0..options.rounds {
        for contestant in servers::CONTESTANTS {
            if only.is_some_and(|only| only != contestant) {
                continue;
            }
            eprintln!("round {}/{}: {contestant}", round + 1, options.rounds);
            let server = Server::start(contestant, &jwks)?;
            let genauth = contestant.starts_with("genauth");
            let introspection = if genauth {
                Some(Server::start(
                    &format!("{contestant}-introspection"),
                    &jwks,
                )?)
            } else {
                None
            };
            for scenario in &scenarios {
                let bare = contestant.starts_with("bare");
                if (bare && scenario.name != "same token")
                    || (scenario.genauth_only && !genauth)
                    || (!bare && pick.is_some_and(|pick| !scenario.name.contains(pick)))
                {
                    continue;
                }
                let server = match (&introspection, scenario.genauth_only) {
                    (Some(introspection), true) => introspection,
                    _ => &server,
                };
                let sample = runtime.block_on(measure(server, scenario, &options))?;
                let name = if bare { "bare route" } else { scenario.name };
                samples.entry((contestant, name)).or_default().push(sample);
            }
        }
    }
    print!("{}", report(&samples, &options));
    Ok(())
}

fn bearer(token: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())
}

/// The requests: tokens like GenAuth's (RS256, `scope`, `jti`), minted before the run.
fn scenarios(
    rs256: &TestIssuer,
    es256: &TestIssuer,
    fresh: usize,
) -> Result<Vec<Scenario>, String> {
    let claims = |i: usize| {
        serde_json::json!({
            "sub": "bench-user", "scope": "openid profile read:orders", "jti": format!("jti-{i}"),
            "client_id": servers::APP,
        })
    };
    let pool = |issuer: &TestIssuer| -> Result<Vec<HeaderValue>, String> {
        // Two threads: RSA signing is the slow part of the set-up.
        std::thread::scope(|scope| {
            let half = fresh / 2;
            let first = scope.spawn(move || {
                (0..half)
                    .map(|i| bearer(&issuer.mint(claims(i))))
                    .collect::<Result<Vec<_>, String>>()
            });
            let second: Result<Vec<_>, _> = (half..fresh)
                .map(|i| bearer(&issuer.mint(claims(i))))
                .collect();
            let mut first = first.join().map_err(|_| "a minting thread panicked")??;
            first.extend(second?);
            Ok(first)
        })
    };
    let one = |value: HeaderValue| Arc::new(vec![value]);
    let scenario = |name, path, values, expected, fresh, genauth_only| Scenario {
        name,
        path,
        values,
        expected,
        fresh,
        genauth_only,
    };
    Ok(vec![
        scenario(
            "same token",
            "/protected",
            one(bearer(&rs256.mint(claims(0)))?),
            200,
            false,
            false,
        ),
        scenario(
            "garbage token",
            "/protected",
            one(bearer("hR7u2Xq9ZkP4vB1sW8nL3mT6yC0dF5gJ")?),
            401,
            false,
            false,
        ),
        scenario(
            "bad signature",
            "/protected",
            one(bearer(&rs256.forged_token())?),
            401,
            false,
            false,
        ),
        scenario(
            "introspection, warm cache",
            "/introspected",
            one(bearer("opaque-h3T9xLq2Zr7Wm4Kp8Vn1Bc6Ys5Dg0Fj")?),
            200,
            false,
            true,
        ),
        scenario(
            "RS256 fresh token",
            "/protected",
            Arc::new(pool(rs256)?),
            200,
            true,
            false,
        ),
        scenario(
            "ES256 fresh token",
            "/protected",
            Arc::new(pool(es256)?),
            200,
            true,
            false,
        ),
    ])
}

/// `taskset -a -p -c <core>` on this process (all its threads; threads started later inherit it).
fn pin_self_to_core(core: usize) -> Result<(), String> {
    let status = Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &core.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("taskset (util-linux) is needed: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| "taskset failed".into())
}

/// A contestant's child process, pinned to core 0, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(name: &str, jwks: &str) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new("taskset")
            .args(["-c", "0"])
            .arg(exe)
            .args(["serve", name])
            .env(servers::JWKS_ENV, jwks)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("{name} did not start: {line:?}"))?;
        Ok(Self { child, port })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn measure(
    server: &Server,
    scenario: &Scenario,
    options: &Options,
) -> Result<Sample, String> {
    let pid = server.child.id();
    let batch = |offset: usize, requests: usize| load::Load {
        port: server.port,
        path: scenario.path,
        values: Arc::clone(&scenario.values),
        offset,
        requests,
        connections: options.connections,
        expected: scenario.expected,
    };
    let warm = load::run(batch(0, options.warmup)).await?;
    check(scenario, &warm)?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let offset = if scenario.fresh { options.warmup } else { 0 };
    let before = load::cpu_time(pid)?;
    let outcome = load::run(batch(offset, options.requests)).await?;
    let cpu = load::cpu_time(pid)?.saturating_sub(before);
    check(scenario, &outcome)?;
    let requests = options.requests as f64;
    Ok(Sample {
        cpu_us: cpu.as_secs_f64() * 1e6 / requests,
        rps: requests / outcome.elapsed.as_secs_f64(),
        p99_us: f64::from(outcome.p99_us()),
        rss_mib: load::peak_rss_kib(pid)? as f64 / 1024.0,
    })
}

fn check(scenario: &Scenario, outcome: &load::Outcome) -> Result<(), String> {
    match outcome.unexpected {
        (0, _) => Ok(()),
        (count, status) => Err(format!(
            "{}: {count} responses were not {} (e.g. {status})",
            scenario.name, scenario.expected
        )),
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The markdown tables: one row per scenario, one column per contestant, then the ratios.
fn report(samples: &BTreeMap<(&str, &str), Vec<Sample>>, options: &Options) -> String {
    let stat = |contestant: &str, scenario: &str, pick: fn(&Sample) -> f64| {
        samples
            .get(&(contestant, scenario))
            .map(|s| median(s.iter().map(pick)))
    };
    let cpu = |c: &str, s: &str| stat(c, s, |s| s.cpu_us);
    let rows = [
        "bare route",
        "same token",
        "RS256 fresh token",
        "ES256 fresh token",
        "bad signature",
        "garbage token",
        "introspection, warm cache",
    ];
    let mut out = format!(
        "\n{} rounds, {} requests per scenario after {} warm-up requests, {} connections.\n\
         CPU µs per request of the server (all threads), median of the rounds; (req/s, p99 µs).\n\n",
        options.rounds, options.requests, options.warmup, options.connections
    );
    out.push_str("| scenario |");
    for c in servers::CONTESTANTS {
        out.push_str(&format!(" {c} |"));
    }
    out.push_str("\n| --- |");
    out.push_str(&" --- |".repeat(servers::CONTESTANTS.len()));
    out.push('\n');
    for row in rows {
        out.push_str(&format!("| {row} |"));
        for c in servers::CONTESTANTS {
            match (
                cpu(c, row),
                stat(c, row, |s| s.rps),
                stat(c, row, |s| s.p99_us),
            ) {
                (Some(cpu), Some(rps), Some(p99)) => {
                    out.push_str(&format!(" {cpu:.1} ({:.0}k/s, {p99:.0}) |", rps / 1000.0));
                }
                _ => out.push_str(" |"),
            }
        }
        out.push('\n');
    }
    out.push_str("| peak RSS after fresh tokens (MiB) |");
    for c in servers::CONTESTANTS {
        let row = if c.starts_with("bare") {
            "bare route"
        } else {
            "ES256 fresh token"
        };
        match stat(c, row, |s| s.rss_mib) {
            Some(rss) => out.push_str(&format!(" {rss:.1} |")),
            None => out.push_str(" |"),
        }
    }
    out.push_str("\n\nRatios (CPU per request) against issue 9's targets:\n\n| ratio | axum | actix | target |\n| --- | --- | --- | --- |\n");
    let ratio = |framework: &str, scenario: &str, peer: &str, peer_scenario: &str| {
        let ours = cpu(&format!("genauth-{framework}"), scenario)?;
        let theirs = cpu(&format!("{peer}-{framework}"), peer_scenario)?;
        Some(ours / theirs)
    };
    let peer = |framework: &str| {
        if framework == "axum" {
            "jsonwebtoken"
        } else {
            "httpauth"
        }
    };
    type Line = (
        &'static str,
        fn(&str) -> (&'static str, &'static str, bool),
        &'static str,
    );
    let lines: [Line; 6] = [
        (
            "RS256 fresh / peer",
            |_| ("RS256 fresh token", "RS256 fresh token", true),
            "≤ 0.70",
        ),
        (
            "ES256 fresh / peer",
            |_| ("ES256 fresh token", "ES256 fresh token", true),
            "≤ 0.85",
        ),
        (
            "same token / bare",
            |_| ("same token", "bare route", false),
            "≤ 1.15",
        ),
        (
            "garbage / bare",
            |_| ("garbage token", "bare route", false),
            "≤ 1.10",
        ),
        (
            "bad signature / RS256 fresh",
            |_| ("bad signature", "RS256 fresh token", false),
            "≤ 1.00",
        ),
        (
            "introspection warm / bare",
            |_| ("introspection, warm cache", "bare route", false),
            "—",
        ),
    ];
    for (label, pick, target) in lines {
        out.push_str(&format!("| {label} |"));
        for framework in ["axum", "actix"] {
            let (ours, theirs, against_peer) = pick(framework);
            let value = if against_peer {
                ratio(framework, ours, peer(framework), theirs)
            } else if theirs == "bare route" {
                ratio(framework, ours, "bare", theirs)
            } else {
                ratio(framework, ours, "genauth", theirs)
            };
            match value {
                Some(v) => out.push_str(&format!(" {v:.2} |")),
                None => out.push_str(" |"),
            }
        }
        out.push_str(&format!(" {target} |\n"));
    }
    out.push_str("| peak RSS − peer's (MiB) |");
    for framework in ["axum", "actix"] {
        let ours = stat(&format!("genauth-{framework}"), "ES256 fresh token", |s| {
            s.rss_mib
        });
        let theirs = stat(
            &format!("{}-{framework}", peer(framework)),
            "ES256 fresh token",
            |s| s.rss_mib,
        );
        match (ours, theirs) {
            (Some(a), Some(b)) => out.push_str(&format!(" {:+.1} |", a - b)),
            _ => out.push_str(" |"),
        }
    }
    out.push_str(" ≤ +4 |\n");
    out
}
