//! `/v1/logged-segments`: segments as logged, with their entries; cancel, restore, follow-up.

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
        h::list_logged_segments,
        h::get_logged_segment,
        h::list_logged_segment_entries,
        h::export_logged_segment_entries_csv,
        h::cancel_logged_segment,
        h::restore_logged_segment,
        h::follow_up,
    ),
    components(schemas(model::LoggedSegmentResponse, model::LoggedSegmentList))
)]
pub struct LoggedSegmentsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/logged-segments").get(h::list_logged_segments))
        .service(routing::resource("/logged-segments/{id}").get(h::get_logged_segment))
        .service(routing::resource("/logged-segments/{id}/entries").get(h::list_logged_segment_entries))
        .service(
            routing::resource("/logged-segments/{id}/entries.csv").get(h::export_logged_segment_entries_csv),
        )
        .service(routing::resource("/logged-segments/{id}/cancel").post(h::cancel_logged_segment))
        .service(routing::resource("/logged-segments/{id}/restore").post(h::restore_logged_segment))
        .service(routing::resource("/logged-segments/{id}/follow-up").post(h::follow_up));
}
