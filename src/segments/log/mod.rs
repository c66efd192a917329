//! `POST /v1/segments/{id}/log`: logging a segment (the rules are in `crate::logging`).

pub mod handlers;
pub mod model;

use actix_web::web;
use utoipa::OpenApi;

use crate::http::routing;

#[derive(OpenApi)]
#[openapi(paths(handlers::log_segment), components(schemas(model::LogSegment, model::LogResult)))]
pub struct LogApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/segments/{id}/log").post(handlers::log_segment));
}
