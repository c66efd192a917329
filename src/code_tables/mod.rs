//! Code tables: mailing groups, industry groups, business relations, job responsibilities,
//! salespeople and interaction groups.

use actix_web::web;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths())]
pub struct CodeTablesApi;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
