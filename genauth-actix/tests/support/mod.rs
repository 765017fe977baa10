//! Sends the shared scenarios' requests to an actix-web service (`actix_web::test::init_service`).

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use genauth_adapter_tests::{App, Reply, Request};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

type Send = Box<dyn Fn(actix_http::Request) -> Pin<Box<dyn Future<Output = Reply>>>>;

/// An actix-web app under test (its service type erased: the scenarios' traits need a named type).
pub struct ActixApp(Send);

impl ActixApp {
    /// The app of an initialised service.
    pub fn new<S, B>(service: S) -> Self
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
            + 'static,
        B: MessageBody + 'static,
    {
        let service = Rc::new(service);
        Self(Box::new(move |request| {
            let service = Rc::clone(&service);
            Box::pin(async move { read(test::call_service(&*service, request).await).await })
        }))
    }
}

async fn read<B: MessageBody>(response: ServiceResponse<B>) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    Reply::from_parts(
        status,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        &body,
    )
}

impl App for ActixApp {
    async fn send(&self, request: Request) -> Reply {
        let method = Method::from_bytes(request.method.as_bytes()).unwrap();
        let mut test_request = TestRequest::default().method(method).uri(&request.uri);
        for header in request.headers {
            test_request = test_request.append_header(header);
        }
        test_request = test_request.set_payload(request.body);
        (self.0)(test_request.to_request()).await
    }
}
