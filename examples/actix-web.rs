//! `actix-web`: a web application that signs users in with GenAuth or any OpenID Provider, with
//! actix-web. The same routes, environment and answers as `axum-web`.
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
//! it is unset, with a key generated at start-up (restarting signs everyone out; every worker shares
//! it). `GENAUTH_SESSION_STORE=memory` keeps them in this process, `GENAUTH_SESSION_STORE=redis://host:port`
//! in Redis, shared by every instance with the same `GENAUTH_SESSION_KEY`. Environment: see
//! `settings.rs`; `GENAUTH_PROTOCOL=oauth` or `cas` switch the sign-in protocol.
//!
//! ```sh
//! GENAUTH_ISSUER=https://example.genauth.ai/oidc GENAUTH_APP_ID=... GENAUTH_APP_SECRET=... \
//!   cargo run -p genauth-examples --bin actix-web
//! # then open http://127.0.0.1:3000/
//! ```

use actix_web::{App, HttpServer, web};
use genauth_actix::{AuthUser, WebAuth};
use genauth_examples::{Settings, exit_with, pages};

#[actix_web::main]
async fn main() {
    genauth_examples::install_tracing();
    let settings = Settings::from_env().unwrap_or_else(|e| exit_with(e));
    let client = settings.client().await.unwrap_or_else(|e| exit_with(e));
    // One codec for every worker: the factory below runs once per worker.
    let manager = settings
        .session_manager(client)
        .await
        .unwrap_or_else(|e| exit_with(e));
    let auth = WebAuth::new(manager);

    let app =
        move || {
            App::new()
                .route(
                    "/",
                    web::get().to(|user: Option<AuthUser>| async move {
                        web::Html::new(pages::home_page(user.as_deref()))
                    }),
                )
                .service(web::resource("/profile").wrap(auth.require_login()).route(
                    web::get().to(|user: AuthUser| async move { web::Json(user.to_json()) }),
                ))
                .configure(auth.routes())
                .wrap(auth.session_layer())
        };

    let server = HttpServer::new(app)
        .bind(settings.bind)
        .unwrap_or_else(|e| exit_with(format!("BIND={}: {e}", settings.bind)));
    println!("{}", pages::listening_line(settings.bind));
    server.run().await.unwrap_or_else(|e| exit_with(e));
}
