//! Browser sign-in through `WebAuth`'s routes and session middleware in an actix-web `App`: the
//! shared web scenarios of `genauth-adapter-tests`, against a mock provider whose ID tokens are
//! signed by `genauth::testing::TestIssuer`, plus the routes mounted in a `Scope`.

mod support;

use actix_web::{App, test, web};
use genauth::Client;
use genauth::session::{SessionCodec, SessionManager};
use genauth_actix::{AccessToken, AuthUser, LoginState, WebAuth};
use genauth_adapter_tests::WebRoutes;
use support::ActixApp;

fn web_auth(client: Client) -> WebAuth {
    let codec = SessionCodec::new(&[42u8; 32]).unwrap();
    WebAuth::new(SessionManager::new(client, codec).revoke_on_logout(true))
}

struct Routes;

impl WebRoutes for Routes {
    type App = ActixApp;

    async fn app(client: Client) -> Self::App {
        let auth = web_auth(client);
        let app = App::new()
            .route(
                "/",
                web::get().to(|user: Option<AuthUser>| async move {
                    user.and_then(|u| u.display_name().map(str::to_owned))
                        .unwrap_or_else(|| "anonymous".into())
                }),
            )
            .service(
                web::resource("/profile")
                    .wrap(auth.require_login())
                    .to(|user: AuthUser| async move { web::Json(user.to_json()) }),
            )
            .route(
                "/tokens",
                web::get().to(|state: LoginState, token: AccessToken| async move {
                    format!("{} {}", state.token_type, token.secret())
                }),
            )
            .configure(auth.routes())
            .wrap(auth.session_layer());
        ActixApp::new(test::init_service(app).await)
    }

    async fn nested_app(customers: SessionManager, staff: SessionManager) -> Self::App {
        let customers = WebAuth::new(customers);
        let staff = WebAuth::new(staff).login_path("/staff/login");
        let sub_or_anonymous = |user: Option<AuthUser>| async move {
            user.map_or_else(|| "anonymous".to_owned(), |u| u.sub.clone())
        };
        let app = App::new()
            .route("/", web::get().to(sub_or_anonymous))
            .service(
                web::resource("/admin")
                    .wrap(staff.require_login())
                    .to(|user: AuthUser| async move { user.sub.clone() }),
            )
            .service(
                web::resource("/staff/whoami")
                    .wrap(staff.session_layer())
                    .to(sub_or_anonymous),
            )
            .wrap(customers.session_layer());
        ActixApp::new(test::init_service(app).await)
    }
}

genauth_adapter_tests::web_tests!(
    #[actix_web::test]
    Routes
);

/// Under a prefix: `web::scope("/auth").configure(auth.routes())`, login-required middleware on a
/// scope sending browsers to `/auth/login`; other methods on `/auth/logout` are refused.
#[actix_web::test]
async fn routes_mount_under_a_scope() {
    let provider =
        genauth_adapter_tests::provider::MockProvider::start(genauth::Protocol::Oidc).await;
    let auth = web_auth(provider.client.clone()).login_path("/auth/login");
    let app = test::init_service(
        App::new()
            .service(web::scope("/auth").configure(auth.routes()))
            .service(
                web::scope("/app")
                    .wrap(auth.require_login())
                    .route("/page", web::get().to(|| async { "page" })),
            )
            .wrap(auth.session_layer()),
    )
    .await;
    let get = |uri: &str| {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("accept", "text/html"))
    };
    let reply = test::call_service(&app, get("/app/page?x=1").to_request()).await;
    assert_eq!(reply.status(), 302);
    assert_eq!(
        reply.headers().get("location").unwrap(),
        "/auth/login?return_to=%2Fapp%2Fpage%3Fx%3D1"
    );
    let reply = test::call_service(&app, get("/auth/login?return_to=/app/page").to_request()).await;
    assert_eq!(reply.status(), 302);
    let location = reply.headers().get("location").unwrap().to_str().unwrap();
    assert!(
        location.starts_with(&format!("{}/auth?", provider.server.uri())),
        "{location}"
    );
    let post = test::TestRequest::post().uri("/auth/logout").to_request();
    assert_eq!(test::call_service(&app, post).await.status(), 302);
    let put = test::TestRequest::put().uri("/auth/logout").to_request();
    assert_eq!(test::call_service(&app, put).await.status(), 405);
}
