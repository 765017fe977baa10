//! [`RedisServer`]: a real `redis-server` process of a test's own, on a free loopback port, with no
//! persistence; killed when dropped.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` started for one test (`--save '' --appendonly no`, loopback only). Never a
/// shared system Redis. Killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
}

/// Why a [`RedisServer`] did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisServerError {
    /// `redis-server` is not on `PATH` (`apt-get install redis-server`; `scripts/test.sh` does it).
    #[error(
        "redis-server is not installed (apt-get install redis-server; scripts/test.sh installs it)"
    )]
    NotInstalled,
    /// It started but did not answer `PING` in time, or could not be started.
    #[error("redis-server did not start: {0}")]
    Start(String),
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port and waits (up to 10 s) until it answers.
    ///
    /// # Errors
    /// [`RedisServerError`].
    pub fn start() -> Result<Self, RedisServerError> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| RedisServerError::Start(e.to_string()))?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => RedisServerError::NotInstalled,
                _ => RedisServerError::Start(e.to_string()),
            })?;
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.answers() {
            if Instant::now() > deadline {
                return Err(RedisServerError::Start(
                    "no answer to PING within 10 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// A server for a test, or `None` (with a `SKIPPED` line) when `redis-server` is not
    /// installed, unless `GENAUTH_REDIS_TESTS=required` (set by `scripts/test.sh` once it installed
    /// it), which turns that into a panic.
    ///
    /// # Panics
    /// When the server does not start, or is required and not installed.
    #[allow(clippy::panic)]
    pub fn for_test() -> Option<Self> {
        match Self::start() {
            Ok(server) => Some(server),
            Err(RedisServerError::NotInstalled)
                if std::env::var("GENAUTH_REDIS_TESTS").as_deref() != Ok("required") =>
            {
                eprintln!("SKIPPED: redis-server is not installed (scripts/test.sh installs it)");
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// The server's URL, `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server now (an outage); the port stays closed.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes the server (`SIGSTOP`): connections stay open and nothing answers, a hung Redis.
    /// [`resume`](Self::resume) thaws it with its data.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a [`pause`](Self::pause)d server (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
    }

    /// Runs one command (inline protocol, e.g. `"DBSIZE"`) and returns the raw reply.
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(buf.get(..n)?).into_owned())
    }

    fn answers(&self) -> bool {
        self.command("PING").is_some_and(|r| r.starts_with("+PONG"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
