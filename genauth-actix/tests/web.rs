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

    async fn app_with(manager: SessionManager) -> Self::App {
        let auth = WebAuth::new(manager);
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

genauth_adapter_tests::store_tests!(
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

/// An inner middleware answering `Err` while a refresh is due: the error response still carries
/// the refreshed session cookie (else the browser keeps the old one, whose refresh token the
/// provider may have rotated away).
#[actix_web::test]
async fn refreshed_cookies_survive_an_inner_error() {
    use actix_web::body::{BoxBody, EitherBody};
    use actix_web::dev::ServiceResponse;
    use genauth::session::{AuthUser, RequestCookies, Session};
    use serde_json::json;

    let provider =
        genauth_adapter_tests::provider::MockProvider::start(genauth::Protocol::Oidc).await;
    provider.mount_refresh_once("at-2", "rt-2").await;
    let auth = web_auth(provider.client.clone());
    let mut tokens: genauth::token::LoginState = serde_json::from_value(json!({
        "access_token": "at-1", "token_type": "Bearer", "id_token": null,
        "refresh_token": "rt-1", "scope": "openid", "expires_in_secs": 1,
        "expires_at": null, "id_token_claims": null, "access_token_claims": null
    }))
    .unwrap();
    tokens.expires_at = Some(std::time::SystemTime::now());
    let session = Session::with_tokens(AuthUser::new("u-1", genauth::Protocol::Oidc), tokens);
    let stored = auth
        .manager()
        .store(&session, &RequestCookies::default())
        .unwrap();
    let cookie = format!("{}={}", stored[0].name(), stored[0].value());
    let app = test::init_service(
        App::new()
            .route("/", web::get().to(|| async { "unreachable" }))
            .wrap_fn(|_request, _service| async {
                Err(actix_web::error::ErrorForbidden(
                    "refused by an inner middleware",
                ))
            })
            .wrap(auth.session_layer()),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/")
        .insert_header(("cookie", cookie.clone()))
        .to_request();
    // Still an error for the outer middlewares; the server answers with its response.
    let result: Result<ServiceResponse<EitherBody<BoxBody>>, _> =
        actix_web::dev::Service::call(&app, request).await;
    let Err(error) = result else {
        panic!("the inner middleware's error became a response");
    };
    let response = error.error_response();
    assert_eq!(response.status(), 403);
    let set_cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        set_cookies.iter().any(|c| c.starts_with("genauth_session=")
            && !c.starts_with(&format!("{cookie};"))
            && !c.contains("Max-Age=0")),
        "{set_cookies:?}"
    );
}
