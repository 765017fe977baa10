//! Browser sign-in through `WebAuth`'s routes and session layers: the shared web scenarios of
//! `genauth-adapter-tests`, against a mock provider whose ID tokens are signed by
//! `genauth::testing::TestIssuer`.

mod support;

use axum::routing::get;
use axum::{Json, Router};
use genauth::session::SessionManager;
use genauth_adapter_tests::WebRoutes;
use genauth_axum::{AccessToken, AuthUser, LoginState, WebAuth};
use support::AxumApp;

struct Routes;

impl WebRoutes for Routes {
    type App = AxumApp;

    async fn app_with(manager: SessionManager) -> AxumApp {
        let auth = WebAuth::new(manager);
        let router = Router::new()
            .route(
                "/",
                get(|user: Option<AuthUser>| async move {
                    user.and_then(|u| u.display_name().map(str::to_owned))
                        .unwrap_or_else(|| "anonymous".into())
                }),
            )
            .route(
                "/profile",
                get(|user: AuthUser| async move { Json(user.to_json()) })
                    .layer(auth.require_login()),
            )
            .route(
                "/tokens",
                get(|state: LoginState, token: AccessToken| async move {
                    format!("{} {}", state.token_type, token.secret())
                }),
            )
            .merge(auth.routes())
            .layer(auth.session_layer());
        AxumApp(router)
    }

    async fn nested_app(customers: SessionManager, staff: SessionManager) -> AxumApp {
        let customers = WebAuth::new(customers);
        let staff = WebAuth::new(staff).login_path("/staff/login");
        let sub_or_anonymous = |user: Option<AuthUser>| async move {
            user.map_or_else(|| "anonymous".to_owned(), |u| u.sub.clone())
        };
        let router = Router::new()
            .route("/", get(sub_or_anonymous))
            .route(
                "/admin",
                get(|user: AuthUser| async move { user.sub.clone() }).layer(staff.require_login()),
            )
            .route(
                "/staff/whoami",
                get(sub_or_anonymous).layer(staff.session_layer()),
            )
            .layer(customers.session_layer());
        AxumApp(router)
    }
}

genauth_adapter_tests::web_tests!(
    #[tokio::test]
    Routes
);

genauth_adapter_tests::store_tests!(
    #[tokio::test]
    Routes
);
