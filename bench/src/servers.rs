//! The contestants, each run as its own child process (`genauth-bench serve <name>`) so that its CPU
//! time and peak RSS are its own: a bare route, genauth's bearer layer, and a hand-written
//! `jsonwebtoken` middleware, on axum and on actix-web.
//!
//! Every server listens on 127.0.0.1 (an ephemeral port, printed as `listening <port>` on stdout),
//! runs one worker thread, and serves:
//! - `GET /protected`: the token checked by the contestant, the subject read by the handler;
//! - `GET /introspected` (genauth only): the token checked by an `IntrospectionValidator`;
//! - `POST /oidc/token/introspection` (genauth only): the introspection endpoint that validator
//!   calls (an active answer), on the same server so that warm-up calls stay local.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// The environment variable carrying the JWKS (JSON) the servers trust.
pub const JWKS_ENV: &str = "GENAUTH_BENCH_JWKS";
/// The app (client ID) of the introspection validator; answers name it as their `client_id`.
pub const APP: &str = "bench-app";

/// The contestants, in the order a round runs them.
pub const CONTESTANTS: [&str; 6] = [
    "bare-axum",
    "genauth-axum",
    "jsonwebtoken-axum",
    "bare-actix",
    "genauth-actix",
    "httpauth-actix",
];

/// Runs the named contestant until killed. `genauth-axum-introspection` and
/// `genauth-actix-introspection` serve only the introspection routes (a process of their own, so
/// that the HTTP client the introspection validator holds does not count in the JWT contestants'
/// memory).
pub fn serve(name: &str) -> Result<(), String> {
    let jwks: JwkSet = serde_json::from_str(&std::env::var(JWKS_ENV).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{JWKS_ENV}: {e}"))?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    match name {
        "bare-axum" | "genauth-axum" | "genauth-axum-introspection" | "jsonwebtoken-axum" => {
            axum_server(name, listener, addr, &jwks)
        }
        "bare-actix" | "genauth-actix" | "genauth-actix-introspection" | "httpauth-actix" => {
            actix_server(name, listener, addr, &jwks)
        }
        _ => Err(format!("unknown contestant {name}")),
    }
}

fn announce(addr: SocketAddr) {
    println!("listening {}", addr.port());
    let _ = std::io::stdout().flush();
}

/// genauth's JWT validator for the bench issuer, with its default cache.
fn jwks_validator(jwks: &JwkSet) -> Result<genauth::JwksValidator, String> {
    let keys = genauth::jwks::JwksCache::from_jwk_set(jwks).map_err(|e| e.to_string())?;
    let verifier = genauth::jwt::JwtVerifier::builder(genauth::testing::DEFAULT_ISSUER)
        .audience(genauth::testing::DEFAULT_AUDIENCE)
        .jwks(keys)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(genauth::JwksValidator::new(verifier))
}

/// genauth's introspection validator, calling this very server.
fn introspection_validator(
    addr: SocketAddr,
) -> Result<genauth::validator::IntrospectionValidator, String> {
    let config = genauth::ClientConfig::builder(APP)
        .client_secret("bench-secret")
        .app_host(format!("http://{addr}"))
        .build()
        .map_err(|e| e.to_string())?;
    let client = genauth::Client::new(config).map_err(|e| e.to_string())?;
    Ok(genauth::validator::IntrospectionValidator::new(client))
}

/// The introspection endpoint's answer: active, for this app, an hour left.
fn introspection_answer() -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    serde_json::json!({
        "active": true, "sub": "bench-user", "client_id": APP, "scope": "openid read:orders",
        "token_type": "Bearer", "exp": now + 3600, "iat": now,
    })
}

/// What a hand-written middleware keeps: each JWKS key parsed once into a `DecodingKey`, with the
/// standard validation pinned to the key's algorithm, the issuer and the audience.
struct HandKeys {
    by_kid: HashMap<String, (DecodingKey, Validation)>,
}

/// The claims a hand-written middleware hands to handlers (jsonwebtoken checks `exp`, `iss`, `aud`).
#[derive(serde::Deserialize, Clone)]
struct HandClaims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
}

impl HandKeys {
    fn new(jwks: &JwkSet) -> Result<Self, String> {
        let mut by_kid = HashMap::new();
        for jwk in &jwks.keys {
            let kid = jwk.common.key_id.clone().ok_or("a JWKS key without kid")?;
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse().ok())
                .ok_or("a JWKS key without alg")?;
            let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
            let mut validation = Validation::new(alg);
            validation.set_issuer(&[genauth::testing::DEFAULT_ISSUER]);
            validation.set_audience(&[genauth::testing::DEFAULT_AUDIENCE]);
            by_kid.insert(kid, (key, validation));
        }
        Ok(Self { by_kid })
    }

    fn verify(&self, token: &str) -> Option<HandClaims> {
        let header = decode_header(token).ok()?;
        let (key, validation) = self.by_kid.get(header.kid.as_deref()?)?;
        decode::<HandClaims>(token, key, validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// The claims as the validator holds them (`SharedClaims`: an `Arc`, as the hand-written
/// middleware hands out its `Arc<HandClaims>`).
async fn genauth_axum_handler(claims: genauth_axum::SharedClaims) -> &'static str {
    black_box((&claims.sub, &claims.scope));
    "ok"
}

async fn genauth_actix_handler(claims: genauth_actix::SharedClaims) -> &'static str {
    black_box((&claims.sub, &claims.scope));
    "ok"
}

fn axum_server(
    name: &str,
    listener: TcpListener,
    addr: SocketAddr,
    jwks: &JwkSet,
) -> Result<(), String> {
    use axum::Router;
    use axum::routing::{get, post};

    let app: Router = match name {
        "bare-axum" => Router::new().route("/protected", get(|| async { "ok" })),
        "genauth-axum" => {
            let jwt = genauth_axum::BearerAuthLayer::new(jwks_validator(jwks)?);
            Router::new().route("/protected", get(genauth_axum_handler).layer(jwt))
        }
        "genauth-axum-introspection" => {
            let introspected = genauth_axum::BearerAuthLayer::new(introspection_validator(addr)?);
            Router::new()
                .route(
                    "/introspected",
                    get(genauth_axum_handler).layer(introspected),
                )
                .route(
                    "/oidc/token/introspection",
                    post(|| async { axum::Json(introspection_answer()) }),
                )
        }
        _ => {
            use axum::extract::{Request, State};
            use axum::middleware::Next;
            use axum::response::{IntoResponse, Response};
            async fn require_token(
                State(keys): State<Arc<HandKeys>>,
                mut request: Request,
                next: Next,
            ) -> Response {
                let token = request
                    .headers()
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                match token.and_then(|token| keys.verify(token)) {
                    Some(claims) => {
                        request.extensions_mut().insert(Arc::new(claims));
                        next.run(request).await
                    }
                    None => (
                        http::StatusCode::UNAUTHORIZED,
                        [(
                            http::header::WWW_AUTHENTICATE,
                            "Bearer error=\"invalid_token\"",
                        )],
                    )
                        .into_response(),
                }
            }
            async fn handler(
                axum::Extension(claims): axum::Extension<Arc<HandClaims>>,
            ) -> &'static str {
                black_box((&claims.sub, &claims.scope));
                "ok"
            }
            let keys = Arc::new(HandKeys::new(jwks)?);
            Router::new().route(
                "/protected",
                get(handler).layer(axum::middleware::from_fn_with_state(keys, require_token)),
            )
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        announce(addr);
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}

fn actix_server(
    name: &str,
    listener: TcpListener,
    addr: SocketAddr,
    jwks: &JwkSet,
) -> Result<(), String> {
    use actix_web::{App, HttpServer, web};

    async fn ok() -> &'static str {
        "ok"
    }
    let name = name.to_owned();
    let jwt = match name.as_str() {
        "genauth-actix" => Some(jwks_validator(jwks)?),
        _ => None,
    };
    let introspection = match name.as_str() {
        "genauth-actix-introspection" => Some(introspection_validator(addr)?),
        _ => None,
    };
    let keys = web::Data::new(HandKeys::new(jwks)?);
    listener.set_nonblocking(false).map_err(|e| e.to_string())?;
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let app = App::new();
            match (name.as_str(), &jwt, &introspection) {
                ("genauth-actix", Some(jwt), _) => app.service(
                    web::resource("/protected")
                        .wrap(genauth_actix::BearerAuthLayer::new(jwt.clone()))
                        .route(web::get().to(genauth_actix_handler)),
                ),
                ("genauth-actix-introspection", _, Some(introspection)) => app
                    .service(
                        web::resource("/introspected")
                            .wrap(genauth_actix::BearerAuthLayer::new(introspection.clone()))
                            .route(web::get().to(genauth_actix_handler)),
                    )
                    .route(
                        "/oidc/token/introspection",
                        web::post().to(|| async { web::Json(introspection_answer()) }),
                    ),
                ("httpauth-actix", _, _) => {
                    use actix_web::HttpMessage as _;
                    use actix_web::dev::ServiceRequest;
                    use actix_web_httpauth::extractors::bearer::BearerAuth;
                    use actix_web_httpauth::middleware::HttpAuthentication;
                    async fn check(
                        request: ServiceRequest,
                        credentials: BearerAuth,
                    ) -> Result<ServiceRequest, (actix_web::Error, ServiceRequest)>
                    {
                        let claims = request
                            .app_data::<web::Data<HandKeys>>()
                            .and_then(|keys| keys.verify(credentials.token()));
                        match claims {
                            Some(claims) => {
                                request.extensions_mut().insert(Arc::new(claims));
                                Ok(request)
                            }
                            None => Err((
                                actix_web::error::ErrorUnauthorized("invalid_token"),
                                request,
                            )),
                        }
                    }
                    async fn handler(claims: web::ReqData<Arc<HandClaims>>) -> &'static str {
                        black_box((&claims.sub, &claims.scope));
                        "ok"
                    }
                    app.app_data(keys.clone()).service(
                        web::resource("/protected")
                            .wrap(HttpAuthentication::bearer(check))
                            .route(web::get().to(handler)),
                    )
                }
                _ => app.route("/protected", web::get().to(ok)),
            }
        })
        .workers(1)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
        announce(addr);
        server.await.map_err(|e| e.to_string())
    })
}
