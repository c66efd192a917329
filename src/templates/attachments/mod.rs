//! Template documents, under `/v1/interaction-templates/{code}/attachments`: one current
//! document per language (Word, HTML or text), every upload kept as an immutable version.

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
        h::list_template_attachments,
        h::upload_template_attachment,
        h::download_template_attachment,
        h::delete_template_attachment,
    ),
    components(schemas(
        model::AttachmentResponse,
        model::AttachmentList,
        model::AttachmentForm,
        model::DocumentFile,
        model::DocumentText,
        crate::domain::DocumentKind,
    ))
)]
pub struct AttachmentsApi;

/// `web::resource` per URL, so that a method a URL does not serve answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/interaction-templates/{code}/attachments")
            .get(h::list_template_attachments)
            .post(h::upload_template_attachment),
    )
    .service(
        routing::resource("/interaction-templates/{code}/attachments/{attachment_id}")
            .get(h::download_template_attachment)
            .delete(h::delete_template_attachment),
    );
}
