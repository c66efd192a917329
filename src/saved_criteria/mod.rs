//! `/v1/saved-criteria`: a segment's filter actions stored under a code as readable JSON, to
//! replay on other segments (`/v1/segments/{id}/apply-saved-criteria`).

pub mod handlers;
pub mod model;
pub mod repo;

use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;
use crate::http::routing;

#[derive(OpenApi)]
#[openapi(
    paths(h::list_saved_criteria, h::create_saved_criteria, h::get_saved_criteria, h::delete_saved_criteria),
    components(schemas(
        model::CreateSavedCriteria,
        model::SavedAction,
        model::SavedCriteriaResponse,
        model::SavedCriteriaList
    ))
)]
pub struct SavedCriteriaApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/saved-criteria").get(h::list_saved_criteria).post(h::create_saved_criteria),
    )
    .service(
        routing::resource("/saved-criteria/{code}")
            .get(h::get_saved_criteria)
            .delete(h::delete_saved_criteria),
    );
}
