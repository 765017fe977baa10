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
