//! Contacts: CRUD, lists with filters, links to code tables, and bulk sync (the contact lists
//! of a code table entry are served from `code_tables::members`).

pub mod checks;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod state;
pub mod write;

use crate::http::routing;
use actix_web::web;
use utoipa::OpenApi;

use crate::domain::{ContactType, CorrespondenceType};

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::list_contacts,
        handlers::create_contact,
        handlers::get_contact,
        handlers::patch_contact,
        handlers::delete_contact,
        handlers::bulk_sync_contacts,
    ),
    components(schemas(
        ContactType,
        CorrespondenceType,
        model::CreateContact,
        model::ContactPatch,
        model::ContactResponse,
        model::ContactList,
        model::BulkContacts,
        model::BulkStatus,
        model::BulkResult,
        model::BulkResponse,
    ))
)]
pub struct ContactsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use handlers::*;
    // `/contacts/bulk` before `/contacts/{id}` so that "bulk" is never taken for an id.
    cfg.service(routing::resource("/contacts/bulk").post(bulk_sync_contacts))
        .service(routing::resource("/contacts").get(list_contacts).post(create_contact))
        .service(
            routing::resource("/contacts/{id}").get(get_contact).patch(patch_contact).delete(delete_contact),
        );
}
