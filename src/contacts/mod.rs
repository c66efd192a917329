//! Contacts: CRUD, lists with filters, links to code tables, and bulk sync.

use actix_web::web;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths())]
pub struct ContactsApi;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
