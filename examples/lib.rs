//! What the example binaries share, so every adapter's example reads the same environment and answers
//! the same way: [`settings`] (the `GENAUTH_*` variables) and [`pages`] (the bodies the routes return).

pub mod pages;
pub mod settings;

pub use settings::{Settings, exit_with};

/// Prints genauth's events on stderr (stdout keeps the example's own lines), filtered by `RUST_LOG`
/// (default `info`: the sign-in and sign-out audit lines, warnings). With `RUST_LOG=debug` each
/// `provider_call`, `bearer_validation` and `login_callback` span is printed when it closes, with
/// its fields (see `genauth::telemetry`).
pub fn install_tracing() {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::FmtSpan;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // `try_init`: a subscriber installed before (by a test harness) stays.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// Serves an axum app on `bind`, printing [`pages::listening_line`] once it accepts connections;
/// exits with a one-line error when the address cannot be bound.
pub async fn serve_axum(bind: std::net::SocketAddr, app: axum::Router) {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .unwrap_or_else(|e| exit_with(format!("BIND={bind}: {e}")));
    println!("{}", pages::listening_line(bind));
    axum::serve(listener, app)
        .await
        .unwrap_or_else(|e| exit_with(e));
}

/// The README's code blocks, compiled as doctests so they keep matching the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
