//! Criteria actions, under `/v1/segments/{id}/criteria-actions` (with `preview` and `undo`)
//! `/v1/segments/{id}/refresh` and `/apply-saved-criteria`: building a segment by filter,
//! recorded for exact undo.

pub mod handlers;
pub mod model;
pub mod repo;

use actix_web::web;
use utoipa::OpenApi;

use self::handlers as h;
use crate::criteria::filter;
use crate::http::routing;

#[derive(OpenApi)]
#[openapi(
    paths(
        h::create_criteria_action,
        h::list_criteria_actions,
        h::get_criteria_action,
        h::preview_criteria_action,
        h::undo_criteria_action,
        h::refresh_segment,
        h::apply_saved_criteria,
        h::reuse_logged_segment,
    ),
    components(schemas(
        filter::FilterNode,
        filter::AllOf,
        filter::AnyOf,
        filter::NotOf,
        filter::InteractionsOf,
        filter::InteractionTest,
        filter::Condition,
        crate::criteria::selection::ActionOptions,
        crate::domain::CriteriaActionKind,
        crate::domain::CriteriaActionSource,
        model::CriteriaActionBody,
        model::AddCriteriaAction,
        model::RemoveCriteriaAction,
        model::RefineCriteriaAction,
        model::CriteriaActionResponse,
        model::CriteriaActionList,
        model::AffectedContact,
        model::ActionPreview,
        model::UndoneAction,
        model::RefreshRequest,
        model::RefreshResult,
        model::ApplySavedCriteria,
        model::AppliedActions,
        model::ReuseLoggedSegment,
        model::ReuseSkipped,
        model::ReusedLoggedSegment,
    ))
)]
pub struct CriteriaActionsApi;

/// `preview` and `undo` are registered before `{action_id}` so that they are not read as ids.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        routing::resource("/segments/{id}/criteria-actions")
            .get(h::list_criteria_actions)
            .post(h::create_criteria_action),
    )
    .service(routing::resource("/segments/{id}/criteria-actions/preview").post(h::preview_criteria_action))
    .service(routing::resource("/segments/{id}/criteria-actions/undo").post(h::undo_criteria_action))
    .service(routing::resource("/segments/{id}/criteria-actions/{action_id}").get(h::get_criteria_action))
    .service(routing::resource("/segments/{id}/refresh").post(h::refresh_segment))
    .service(routing::resource("/segments/{id}/apply-saved-criteria").post(h::apply_saved_criteria))
    .service(routing::resource("/segments/{id}/reuse-logged-segment").post(h::reuse_logged_segment));
}
