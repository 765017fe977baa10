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

/// `BIND` (default `127.0.0.1:3000`), for the examples that need no other variable; exits with a
/// one-line error when it is malformed.
pub fn bind_from_env() -> std::net::SocketAddr {
    match std::env::var("BIND") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|e| exit_with(format!("BIND={v} is invalid: {e}"))),
        Err(_) => std::net::SocketAddr::from(([127, 0, 0, 1], 3000)),
    }
}

/// The axum web examples' app: `/` (sign-in state), `/profile` (login required: the user's claims),
/// the sign-in routes, all behind the session layer.
pub fn axum_web_app(auth: &genauth_axum::WebAuth) -> axum::Router {
    use axum::response::{Html, Json};
    use axum::routing::get;
    use genauth_axum::AuthUser;
    axum::Router::new()
        .route(
            "/",
            get(|user: Option<AuthUser>| async move { Html(pages::home_page(user.as_deref())) }),
        )
        .route(
            "/profile",
            get(|user: AuthUser| async move { Json(user.to_json()) }).layer(auth.require_login()),
        )
        .merge(auth.routes())
        .layer(auth.session_layer())
}

/// The README's code blocks, compiled as doctests so they keep matching the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
