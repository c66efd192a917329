//! A segment line's own document, under `/v1/segments/{id}/lines/{line_id}/document`: a
//! personalised Word, HTML or text document that replaces the template's for that contact only
//! (Business Central lets a user edit one line's merged document before logging). GET answers
//! the line's merged document, whichever it comes from.

pub mod handlers;
pub mod model;
pub mod repo;

use crate::http::routing;
use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;

#[derive(OpenApi)]
#[openapi(
    paths(h::put_line_document, h::delete_line_document),
    components(schemas(model::LineDocumentResponse, model::LineDocumentForm))
)]
pub struct LineDocumentsApi;

/// `web::resource` per URL, so that a method a URL does not serve answers 405; GET is the
/// merged preview (`merge`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/segments/{id}/lines/{line_id}/document")
            .get(crate::merge::handlers::preview_line_document)
            .put(h::put_line_document)
            .delete(h::delete_line_document),
    );
}
