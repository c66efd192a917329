//! Segments, under `/v1/segments` and `/v1/segments/{id}`: headers, and (in `lines/`) lines
//! that inherit the header's interaction fields unless they override them.

pub mod criteria_actions;
pub mod effective;
pub mod handlers;
pub mod line_documents;
pub mod lines;
pub mod log;
pub mod model;
pub mod repo;

use crate::http::routing;
use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;

#[derive(OpenApi)]
#[openapi(
    paths(h::list_segments, h::create_segment, h::get_segment, h::patch_segment, h::delete_segment),
    components(schemas(
        crate::domain::SegmentStatus,
        model::SegmentResponse,
        model::CreateSegment,
        model::SegmentPatch,
        model::SegmentList,
    ))
)]
struct HeadersApi;

/// The segments' part of the document: the headers' paths and schemas, then the lines' and the criteria actions'.
pub struct SegmentsApi;

impl OpenApi for SegmentsApi {
    fn openapi() -> utoipa::openapi::OpenApi {
        HeadersApi::openapi()
            .merge_from(lines::LinesApi::openapi())
            .merge_from(line_documents::LineDocumentsApi::openapi())
            .merge_from(criteria_actions::CriteriaActionsApi::openapi())
            .merge_from(log::LogApi::openapi())
    }
}

/// `web::resource` per URL, so that a method a URL does not serve answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/segments").get(h::list_segments).post(h::create_segment))
        .service(
            routing::resource("/segments/{id}")
                .get(h::get_segment)
                .patch(h::patch_segment)
                .delete(h::delete_segment),
        )
        .configure(lines::routes)
        .configure(line_documents::routes)
        .configure(criteria_actions::routes)
        .configure(log::routes);
}
