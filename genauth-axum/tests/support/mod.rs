//! Sends the shared scenarios' requests to an axum `Router`.

use axum::Router;
use axum::body::Body;
use genauth_adapter_tests::{App, Reply, Request};
use tower::ServiceExt;

/// An axum app under test.
pub struct AxumApp(pub Router);

impl App for AxumApp {
    async fn send(&self, request: Request) -> Reply {
        let mut builder = http::Request::builder()
            .method(request.method)
            .uri(&request.uri);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let request = builder.body(Body::from(request.body)).unwrap();
        let (parts, body) = self.0.clone().oneshot(request).await.unwrap().into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()));
        Reply::from_parts(parts.status.as_u16(), headers, &body)
    }
}
