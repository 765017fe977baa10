//! The load generator (keep-alive HTTP/1.1 connections, each a hyper client task, a fixed number of
//! requests drawn in order from a list of `Authorization` values) and the server's readings from
//! `/proc`: CPU time of all its threads and peak RSS.

use http::HeaderValue;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One batch of requests against one server.
pub struct Load {
    pub port: u16,
    pub path: &'static str,
    /// `Authorization` values, used in order (request `i` sends `values[i % len]`).
    pub values: Arc<Vec<HeaderValue>>,
    /// Index of the first value used.
    pub offset: usize,
    pub requests: usize,
    pub connections: usize,
    /// The status every response must have.
    pub expected: u16,
}

/// What the load saw.
pub struct Outcome {
    pub elapsed: Duration,
    /// Latencies in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Responses with another status than expected, and one of those statuses.
    pub unexpected: (usize, u16),
}

impl Outcome {
    /// The 99th percentile latency in microseconds.
    pub fn p99_us(&self) -> u32 {
        let index =
            (self.latencies_us.len() * 99 / 100).min(self.latencies_us.len().saturating_sub(1));
        self.latencies_us.get(index).copied().unwrap_or(0)
    }
}

/// Sends `load.requests` requests over `load.connections` connections.
pub async fn run(load: Load) -> Result<Outcome, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let load = Arc::new(load);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..load.connections {
        tasks.push(tokio::spawn(connection(
            Arc::clone(&load),
            Arc::clone(&next),
        )));
    }
    let mut latencies_us = Vec::with_capacity(load.requests);
    let mut unexpected = (0, 0);
    for task in tasks {
        let (latencies, (count, status)) = task.await.map_err(|e| e.to_string())??;
        latencies_us.extend(latencies);
        if count > 0 {
            unexpected = (unexpected.0 + count, status);
        }
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Ok(Outcome {
        elapsed,
        latencies_us,
        unexpected,
    })
}

type ConnectionResult = Result<(Vec<u32>, (usize, u16)), String>;

async fn connection(load: Arc<Load>, next: Arc<AtomicUsize>) -> ConnectionResult {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", load.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let host = HeaderValue::from_static("127.0.0.1");
    let mut latencies = Vec::new();
    let mut unexpected = (0, 0);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= load.requests {
            break;
        }
        let len = load.values.len().max(1);
        let Some(value) = load.values.get((load.offset + i) % len) else {
            return Err("no Authorization values".into());
        };
        let mut request = http::Request::new(Empty::<Bytes>::new());
        *request.uri_mut() = http::Uri::from_static(load.path);
        request
            .headers_mut()
            .insert(http::header::HOST, host.clone());
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value.clone());
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let sent = Instant::now();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?;
        latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        if status != load.expected {
            unexpected = (unexpected.0 + 1, status);
        }
    }
    Ok((latencies, unexpected))
}

/// CPU time (user + system) of all threads of a process, from `/proc/<pid>/task/*/schedstat`
/// (nanoseconds) when the kernel keeps it, else from `/proc/<pid>/stat` (clock ticks).
pub fn cpu_time(pid: u32) -> Result<Duration, String> {
    if let Some(time) = schedstat_time(pid) {
        return Ok(time);
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let total = ticks(11) + ticks(12);
    // USER_HZ is 100 on Linux.
    Ok(Duration::from_millis(total * 10))
}

fn schedstat_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    (total > 0).then(|| Duration::from_nanos(total))
}

/// Peak resident set size (`VmHWM`) of a process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM".into())
}
