//! `quickstart-web`: sign-in with no account. Starts an in-process OpenID Provider
//! (`genauth::testing::TestProvider`, whose login page signs in any name) and the `axum-web` app
//! against it, then prints the URL to open.
//!
//! - `GET /`: the sign-in state; `GET /login`, `/callback`, `/logout`: the sign-in routes.
//! - `GET /profile`: login required → the user's claims as JSON.
//!
//! Access tokens live 30 seconds, under the session's refresh skew: every request after sign-in
//! refreshes them (with refresh-token rotation) and rewrites the session cookie. Logout revokes the
//! refresh token and goes through the provider's end-session endpoint back to `/`; the provider ends
//! its session there and POSTs a logout token to the app's `/backchannel-logout` (OpenID Connect
//! Back-Channel Logout 1.0), which ends every copy of the session.
//!
//! ```sh
//! cargo run -p genauth-examples --bin quickstart-web   # BIND=127.0.0.1:3000 by default
//! # then open http://127.0.0.1:3000/
//! ```

use genauth::session::{SessionCodec, SessionManager};
use genauth::testing::{TestClient, TestProvider, TokenLifetimes};
use genauth::{Client, ClientConfig};
use genauth_axum::WebAuth;
use genauth_examples::exit_with;
use std::time::Duration;

const CLIENT_ID: &str = "quickstart-web";
const CLIENT_SECRET: &str = "quickstart-web-secret";

#[tokio::main]
async fn main() {
    let bind = genauth_examples::bind_from_env();
    let base = format!("http://{bind}");

    let provider = TestProvider::builder()
        .client(
            TestClient::confidential(CLIENT_ID, CLIENT_SECRET)
                .redirect_uri(format!("{base}/callback"))
                .post_logout_redirect_uri(format!("{base}/"))
                .backchannel_logout_uri(format!("{base}/backchannel-logout")),
        )
        .lifetimes(TokenLifetimes::default().access_token(Duration::from_secs(30)))
        .start()
        .await
        .unwrap_or_else(|e| exit_with(e));

    let config = ClientConfig::builder(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .issuer(provider.issuer())
        .redirect_uri(format!("{base}/callback"))
        .logout_redirect_uri(format!("{base}/"))
        .scope("openid profile email offline_access")
        .build()
        .unwrap_or_else(|e| exit_with(e));
    let client = Client::discover(config)
        .await
        .unwrap_or_else(|e| exit_with(e));
    let codec = SessionCodec::generate().unwrap_or_else(|e| exit_with(e));
    let auth = WebAuth::new(SessionManager::new(client, codec).revoke_on_logout(true));

    let app = genauth_examples::axum_web_app(&auth);

    println!("genauth quickstart-web: sign-in with no account needed.");
    println!(
        "Test OpenID Provider (genauth::testing::TestProvider): {}",
        provider.issuer()
    );
    println!("Open {base}/ and sign in with any name.\n");
    // The provider runs on this runtime for as long as `provider` lives: until the app exits.
    genauth_examples::serve_axum(bind, app).await;
    drop(provider);
}
