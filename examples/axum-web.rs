//! `axum-web`: a web application that signs users in with GenAuth or any OpenID Provider.
//!
//! - `GET /`: the sign-in state.
//! - `GET /login` (`?return_to=/path`), `GET /callback`, `GET /logout`,
//!   `GET /frontchannel-logout?iss=…&sid=…` (register it as `frontchannel_logout_uri`),
//!   `POST /backchannel-logout` (`backchannel_logout_uri`): the sign-in routes.
//! - `GET /profile`: login required → the user's claims as JSON; a browser without a session is
//!   redirected to `/login?return_to=/profile`.
//!
//! Sessions live in an encrypted cookie sealed with `GENAUTH_SESSION_KEY` (comma-separated base64url
//! keys, the first sealing: `GENAUTH_SESSION_KEY=new,old` rotates without signing anyone out); when
//! it is unset, with a key generated at start-up (restarting signs everyone out).
//! `GENAUTH_SESSION_STORE=memory` keeps them in this process, `GENAUTH_SESSION_STORE=redis://host:port`
//! in Redis, shared by every instance with the same `GENAUTH_SESSION_KEY` (the cookie then holds
//! only the sealed session ID). Environment: see
//! `settings.rs`; `GENAUTH_PROTOCOL=oauth` or `cas` switch the sign-in protocol.
//!
//! ```sh
//! GENAUTH_ISSUER=https://example.genauth.ai/oidc GENAUTH_APP_ID=... GENAUTH_APP_SECRET=... \
//!   cargo run -p genauth-examples --bin axum-web
//! # then open http://127.0.0.1:3000/
//! ```

use genauth_axum::WebAuth;
use genauth_examples::{Settings, exit_with};

#[tokio::main]
async fn main() {
    genauth_examples::install_tracing();
    let settings = Settings::from_env().unwrap_or_else(|e| exit_with(e));
    let client = settings.client().await.unwrap_or_else(|e| exit_with(e));
    let manager = settings
        .session_manager(client)
        .await
        .unwrap_or_else(|e| exit_with(e));
    let auth = WebAuth::new(manager);

    let app = genauth_examples::axum_web_app(&auth);

    genauth_examples::serve_axum(settings.bind, app).await;
}
