//! What the harnesses of the test servers (`op`, `cas`) share: a child's output kept for the test's
//! failure message.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// A test server's process: stdin held (the servers exit when it closes), stdout for its ready line,
/// stderr collected into `log`.
pub struct Piped {
    pub child: Child,
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
    pub log: Arc<Mutex<String>>,
}

/// Spawns `command` with piped stdio, killed on drop; `Err` when it cannot be run.
pub fn spawn_piped(command: &mut Command) -> std::io::Result<Piped> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let missing = || std::io::Error::other("a piped stream is missing");
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let stdout = child.stdout.take().ok_or_else(missing)?;
    let stderr = child.stderr.take().ok_or_else(missing)?;
    let log = Arc::new(Mutex::new(String::new()));
    keep_lines(BufReader::new(stderr), "", log.clone());
    Ok(Piped {
        child,
        stdin,
        stdout,
        log,
    })
}

/// Appends every line `reader` yields to `log`, prefixed with `prefix`, until it ends (in a task, so
/// the child never blocks on a full pipe).
pub fn keep_lines<R>(reader: R, prefix: &'static str, log: Arc<Mutex<String>>)
where
    R: AsyncBufRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = reader.lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut log = log.lock().unwrap();
            log.push_str(prefix);
            log.push_str(&line);
            log.push('\n');
        }
    });
}
