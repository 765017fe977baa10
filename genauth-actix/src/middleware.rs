//! The plumbing both middlewares share: the [`Transform`](actix_web::dev::Transform) wrapping the
//! inner service, and the service handing each request to the middleware's `handle`.

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};

/// The inner service a middleware wraps.
pub(crate) trait Inner<B>:
    Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static
{
}

impl<S, B> Inner<B> for S where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static
{
}

/// Defines `$service<S>`, the service of the middleware `$layer`, and `$layer`'s `Transform`: the
/// inner service in an `Rc` (actix-web services are single-threaded, their futures need not be
/// `Send`), each request handed to `$layer::handle(self, request, inner)` in a boxed future.
macro_rules! middleware {
    ($(#[$doc:meta])* $layer:ident => $service:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $service<S> {
            service: ::std::rc::Rc<S>,
            layer: $layer,
        }

        middleware!(@impl ::actix_web::dev::Transform<S, ::actix_web::dev::ServiceRequest> => $layer {
            type Response =
                ::actix_web::dev::ServiceResponse<::actix_web::body::EitherBody<B>>;
            type Error = ::actix_web::Error;
            type Transform = $service<S>;
            type InitError = ();
            type Future = ::std::future::Ready<Result<Self::Transform, Self::InitError>>;

            fn new_transform(&self, service: S) -> Self::Future {
                ::std::future::ready(Ok($service {
                    service: ::std::rc::Rc::new(service),
                    layer: self.clone(),
                }))
            }
        });

        middleware!(@impl ::actix_web::dev::Service<::actix_web::dev::ServiceRequest> => $service<S> {
            type Response =
                ::actix_web::dev::ServiceResponse<::actix_web::body::EitherBody<B>>;
            type Error = ::actix_web::Error;
            type Future = ::std::pin::Pin<
                Box<dyn ::std::future::Future<Output = Result<Self::Response, Self::Error>>>,
            >;

            ::actix_web::dev::forward_ready!(service);

            fn call(&self, request: ::actix_web::dev::ServiceRequest) -> Self::Future {
                let service = ::std::rc::Rc::clone(&self.service);
                let layer = self.layer.clone();
                Box::pin(async move { layer.handle(request, service).await })
            }
        });
    };
    // An impl over any inner service `S` whose responses have the body `B`.
    (@impl $trait:path => $self:ty { $($body:tt)* }) => {
        impl<S, B> $trait for $self
        where
            S: ::actix_web::dev::Service<
                    ::actix_web::dev::ServiceRequest,
                    Response = ::actix_web::dev::ServiceResponse<B>,
                    Error = ::actix_web::Error,
                > + 'static,
            B: ::actix_web::body::MessageBody + 'static,
        {
            $($body)*
        }
    };
}
