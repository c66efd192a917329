//! `/v1/api-keys` (admin) and `/v1/me`: API keys, stored as hashes, managed over HTTP.

pub mod cache;
pub mod handlers;
pub mod key;
pub mod model;
pub mod repo;

use actix_web::web;
use utoipa::OpenApi;

use crate::http::routing;

#[derive(OpenApi)]
#[openapi(paths(
    handlers::get_me,
    handlers::list_api_keys,
    handlers::create_api_key,
    handlers::revoke_api_key
))]
pub struct ApiKeysApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/me").get(handlers::get_me))
        .service(routing::resource("/api-keys").get(handlers::list_api_keys).post(handlers::create_api_key))
        .service(routing::resource("/api-keys/{id}").delete(handlers::revoke_api_key));
}
