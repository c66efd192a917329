//! `/v1/interaction-log-entries` and `/v1/contacts/{id}/interactions`: the interaction log,
//! read-only but for evaluation, attempt failed, comment and canceled; one
//! interaction with one contact can be logged by hand.

pub mod handlers;
pub mod model;
pub mod repo;

use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;
use crate::http::routing;

#[derive(OpenApi)]
#[openapi(
    paths(
        h::list_interaction_log_entries,
        h::log_interaction,
        h::get_interaction_log_entry,
        h::patch_interaction_log_entry,
        h::delete_interaction_log_entry,
        h::resend_interaction_log_entry,
        h::list_contact_interactions,
    ),
    components(schemas(
        model::EntryResponse,
        model::EntryList,
        model::EntryPatch,
        model::NewInteraction,
        crate::domain::DeliveryStatus
    ))
)]
pub struct InteractionLogApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/interaction-log-entries")
            .get(h::list_interaction_log_entries)
            .post(h::log_interaction),
    )
    .service(
        routing::resource("/interaction-log-entries/{id}")
            .get(h::get_interaction_log_entry)
            .patch(h::patch_interaction_log_entry)
            .delete(h::delete_interaction_log_entry),
    )
    .service(routing::resource("/interaction-log-entries/{id}/resend").post(h::resend_interaction_log_entry))
    .service(routing::resource("/contacts/{id}/interactions").get(h::list_contact_interactions));
}
