//! Segments: headers, and lines that inherit the header's interaction fields unless they
//! override them.

pub mod criteria_actions;
pub mod effective;
pub mod handlers;
pub mod line_handlers;
pub mod line_model;
pub mod lines;
pub mod model;
pub mod repo;

use crate::http::routing;
use actix_web::web;
use utoipa::OpenApi;

use crate::domain::Evaluation;

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::list_segments,
        handlers::create_segment,
        handlers::get_segment,
        handlers::patch_segment,
        handlers::delete_segment,
        line_handlers::list_segment_lines,
        line_handlers::add_segment_lines,
        line_handlers::delete_segment_lines,
        line_handlers::get_segment_line,
        line_handlers::patch_segment_line,
        line_handlers::delete_segment_line,
    ),
    components(schemas(
        Evaluation,
        crate::domain::SegmentStatus,
        model::SegmentResponse,
        model::CreateSegment,
        model::SegmentPatch,
        model::SegmentList,
        line_model::SegmentLineResponse,
        line_model::SegmentLineList,
        line_model::LineWarning,
        line_model::AddLines,
        line_model::AddedLines,
        line_model::LinePatch,
        line_model::DeleteLines,
    ))
)]
pub struct SegmentsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use handlers::*;
    use line_handlers::*;
    cfg.configure(criteria_actions::routes);
    cfg.service(routing::resource("/segments").get(list_segments).post(create_segment))
        .service(
            routing::resource("/segments/{id}").get(get_segment).patch(patch_segment).delete(delete_segment),
        )
        .service(
            routing::resource("/segments/{id}/lines")
                .get(list_segment_lines)
                .post(add_segment_lines)
                .delete(delete_segment_lines),
        )
        .service(
            routing::resource("/segments/{id}/lines/{line_id}")
                .get(get_segment_line)
                .patch(patch_segment_line)
                .delete(delete_segment_line),
        );
}
