//! `/v1/api-keys` (admin) and `/v1/me`: manage API keys over HTTP.

pub mod handlers;
pub mod model;

use crate::http::routing;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/me").get(handlers::get_me))
        .service(routing::resource("/api-keys").get(handlers::list_api_keys).post(handlers::create_api_key))
        .service(routing::resource("/api-keys/{id}").delete(handlers::revoke_api_key));
}
