//! What the example binaries share, so every adapter's example reads the same environment and answers
//! the same way: [`settings`] (the `GENAUTH_*` variables) and [`pages`] (the bodies the routes return).

pub mod pages;
pub mod settings;

pub use settings::{Settings, exit_with};

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
