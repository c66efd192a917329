//! Interaction templates, under `/v1/interaction-templates` and
//! `/v1/interaction-templates/{code}`: the defaults a segment takes when it chooses one, and
//! their documents (`attachments/`).

pub mod attachments;
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
        h::list_interaction_templates,
        h::create_interaction_template,
        h::get_interaction_template,
        h::patch_interaction_template,
        h::delete_interaction_template,
    ),
    components(schemas(
        model::TemplateResponse,
        model::TemplateList,
        model::CreateTemplate,
        model::TemplatePatch,
        crate::domain::InformationFlow,
        crate::domain::InitiatedBy,
        crate::domain::CorrespondenceType,
    ))
)]
struct TemplateFieldsApi;

/// The templates' part of the document: their own paths and schemas, then their documents'.
pub struct TemplatesApi;

impl OpenApi for TemplatesApi {
    fn openapi() -> utoipa::openapi::OpenApi {
        TemplateFieldsApi::openapi().merge_from(attachments::AttachmentsApi::openapi())
    }
}

/// `web::resource` per URL, so that a method a URL does not serve answers 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/interaction-templates")
            .get(h::list_interaction_templates)
            .post(h::create_interaction_template),
    )
    .service(
        routing::resource("/interaction-templates/{code}")
            .get(h::get_interaction_template)
            .patch(h::patch_interaction_template)
            .delete(h::delete_interaction_template),
    )
    .configure(attachments::routes);
}
