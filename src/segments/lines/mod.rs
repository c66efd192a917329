//! Segment lines, under `/v1/segments/{id}/lines` and `/v1/segments/{id}/lines/{line_id}`:
//! one contact each, inheriting the header's interaction fields unless they override them.

pub mod handlers;
pub mod model;
pub mod repo;

use crate::http::routing;
use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;

#[derive(OpenApi)]
#[openapi(
    paths(
        h::list_segment_lines,
        h::export_segment_lines_csv,
        h::add_segment_lines,
        h::delete_segment_lines,
        h::get_segment_line,
        h::patch_segment_line,
        h::delete_segment_line,
    ),
    components(schemas(
        crate::domain::Evaluation,
        model::SegmentLineResponse,
        model::SegmentLineList,
        model::LineWarning,
        model::AddLines,
        model::AddedLines,
        model::LinePatch,
        model::DeleteLines,
    ))
)]
pub struct LinesApi;

/// `web::resource` per URL, so that a method a URL does not serve answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/segments/{id}/lines")
            .get(h::list_segment_lines)
            .post(h::add_segment_lines)
            .delete(h::delete_segment_lines),
    )
    .service(routing::resource("/segments/{id}/lines.csv").get(h::export_segment_lines_csv))
    .service(
        routing::resource("/segments/{id}/lines/{line_id}")
            .get(h::get_segment_line)
            .patch(h::patch_segment_line)
            .delete(h::delete_segment_line),
    );
}
