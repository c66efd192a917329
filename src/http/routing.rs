//! Resources that answer a method they do not serve with 405 and the `Allow` header RFC 9110
//! requires, listing exactly the methods registered on them; GET also answers HEAD.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, FromRequest, Handler, HttpRequest, Resource, Responder, ResponseError};

use crate::error::ApiError;

/// A resource being built, remembering its methods for `Allow`.
pub struct Endpoint {
    resource: Resource,
    methods: Vec<&'static str>,
}

/// Starts a resource at `path` (the replacement for `web::resource`).
pub fn resource(path: &str) -> Endpoint {
    Endpoint { resource: web::resource(path), methods: Vec::new() }
}

impl Endpoint {
    pub fn get<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(web::get().to(handler.clone())).route(web::head().to(handler));
        self.methods.extend(["GET", "HEAD"]);
        self
    }

    pub fn post<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(web::post().to(handler));
        self.methods.push("POST");
        self
    }

    pub fn put<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(web::put().to(handler));
        self.methods.push("PUT");
        self
    }

    pub fn patch<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(web::patch().to(handler));
        self.methods.push("PATCH");
        self
    }

    pub fn delete<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.resource = self.resource.route(web::delete().to(handler));
        self.methods.push("DELETE");
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let allow = self.methods.join(", ");
        let resource = self.resource.default_service(web::to(move |req: HttpRequest| {
            let allow = allow.clone();
            async move {
                let error = ApiError::MethodNotAllowed(format!(
                    "{} {} is not allowed; use {allow}",
                    req.method(),
                    req.path()
                ));
                let mut response = error.error_response();
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                response
            }
        }));
        resource.register(config)
    }
}
