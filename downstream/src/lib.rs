//! A user's app, as it would be written against the published `genauth-axum`: `/orders` needs a
//! signed-in user; `/api/orders` needs a bearer token with the `orders:read` scope.

use genauth_axum::axum::{Router, routing::get};
use genauth_axum::{AuthUser, BearerAuthLayer, Claims, WebAuth};

/// The app: browser routes behind sign-in, an API behind bearer tokens, the sign-in routes.
pub fn app(auth: &WebAuth, api: BearerAuthLayer) -> Router {
    let browser = Router::new()
        .route("/orders", get(orders))
        .layer(auth.require_login());
    let api = Router::new()
        .route("/api/orders", get(api_orders))
        .layer(api);
    Router::new()
        .merge(browser)
        .merge(api)
        .merge(auth.routes())
        .layer(auth.session_layer())
}

async fn orders(user: AuthUser) -> String {
    format!("orders of {}", user.sub)
}

async fn api_orders(claims: Claims) -> String {
    format!("orders for {}", claims.sub.as_deref().unwrap_or("?"))
}
