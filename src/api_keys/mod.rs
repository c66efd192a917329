//! `/v1/api-keys` (admin) and `/v1/me`: manage API keys over HTTP.

pub mod handlers;
pub mod model;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(handlers::get_me))
        .service(web::resource("/api-keys").get(handlers::list_api_keys).post(handlers::create_api_key))
        .service(web::resource("/api-keys/{id}").delete(handlers::revoke_api_key));
}
