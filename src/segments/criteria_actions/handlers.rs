//! HTTP handlers of `/v1/segments/{id}/criteria-actions` (with `/preview` and `/undo`) and
//! `/v1/segments/{id}/refresh`, `/apply-saved-criteria` and `/reuse-logged-segment`: every
//! segment operation that records a criteria action.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::model::{
    ActionPreview, AppliedActions, ApplySavedCriteria, CriteriaActionBody, CriteriaActionList,
    CriteriaActionRequest, CriteriaActionResponse, RefreshRequest, RefreshResult, ReuseLoggedSegment,
    ReusedLoggedSegment, UndoneAction,
};
use super::repo;
use crate::auth::{Caller, Read, Write};
use crate::db;
use crate::domain::CriteriaActionSource;
use crate::error::{ApiResult, Problem};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::state::AppState;

/// Runs a criteria action: `add` the contacts that match the filter, `remove` the lines whose
/// contact matches, or `refine` to keep only those. One transaction of set-based statements,
/// recorded with exactly the lines it added or removed so that undo reverts it. Privacy-blocked
/// contacts are never added; new lines are ordered by company name, company no, type, name.
#[utoipa::path(post, path = "/v1/segments/{id}/criteria-actions", tag = "segments",
    request_body = CriteriaActionBody,
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 201, description = "The recorded action with its counts", body = CriteriaActionResponse,
            headers(("Location" = String, description = "The action's URL"))),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged", body = Problem, content_type = "application/problem+json")))]
pub async fn create_criteria_action(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<CriteriaActionRequest>>,
) -> ApiResult<HttpResponse> {
    let (id, spec) = (id.into_inner(), body.into_inner().into_inner().parse()?);
    let row = db::run(&state.pool, move |conn| {
        repo::run_action(conn, id, &spec, CriteriaActionSource::Filter, None)
    })
    .await?;
    let location = format!("/v1/segments/{id}/criteria-actions/{}", row.id);
    let response = CriteriaActionResponse::try_from(row)?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(response))
}

/// Lists the segment's criteria actions in the order they ran (Business Central's segment history).
#[utoipa::path(get, path = "/v1/segments/{id}/criteria-actions", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id"), PageParams),
    responses((status = 200, description = "A page of actions", body = CriteriaActionList),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json")))]
pub async fn list_criteria_actions(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let page = params.validate(&format!("segments/{id}/criteria-actions"))?;
    let (rows, next_cursor) = db::run(&state.pool, move |conn| repo::list_actions(conn, id, page)).await?;
    let items = rows.into_iter().map(CriteriaActionResponse::try_from).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(CriteriaActionList { items, next_cursor }))
}

/// One criteria action of the segment.
#[utoipa::path(get, path = "/v1/segments/{id}/criteria-actions/{action_id}", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id"), ("action_id" = i64, Path, description = "The action's id")),
    responses((status = 200, description = "The action", body = CriteriaActionResponse),
        (status = 404, description = "No such action in this segment", body = Problem, content_type = "application/problem+json")))]
pub async fn get_criteria_action(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, action_id) = path.into_inner();
    let row = db::run(&state.pool, move |conn| repo::get_action(conn, id, action_id)).await?;
    Ok(HttpResponse::Ok().json(CriteriaActionResponse::try_from(row)?))
}

/// What an action would do, without doing it: how many lines it would add or remove and the
/// first 50 contacts concerned. One counting query and one page query.
#[utoipa::path(post, path = "/v1/segments/{id}/criteria-actions/preview", tag = "segments",
    request_body = CriteriaActionBody,
    params(("id" = i64, Path, description = "The segment's id")),
    responses((status = 200, description = "The counts and the first contacts", body = ActionPreview),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged", body = Problem, content_type = "application/problem+json")))]
pub async fn preview_criteria_action(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<CriteriaActionRequest>>,
) -> ApiResult<HttpResponse> {
    let (id, spec) = (id.into_inner(), body.into_inner().into_inner().parse()?);
    let preview = db::run(&state.pool, move |conn| repo::preview_action(conn, id, &spec)).await?;
    Ok(HttpResponse::Ok().json(preview))
}

/// Reverts the last criteria action exactly: deletes the lines it added that still exist (also
/// when edited since), restores the lines it removed with their values and overrides, and
/// drops the action. Repeatable back to the first action.
#[utoipa::path(post, path = "/v1/segments/{id}/criteria-actions/undo", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id")),
    responses((status = 200, description = "The action undone and what changed", body = UndoneAction),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No action to undo, or the segment is logged", body = Problem, content_type = "application/problem+json")))]
pub async fn undo_criteria_action(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let result = db::run(&state.pool, move |conn| repo::undo_last_action(conn, id)).await?;
    Ok(HttpResponse::Ok().json(repo::undone(result)?))
}

/// Replays the segment's own filter actions on today's contacts. With `dry_run`, answers who
/// would join and whose lines would leave; otherwise applies that difference as one recorded,
/// undoable action. Lines that stay are untouched; lines added by hand never leave.
#[utoipa::path(post, path = "/v1/segments/{id}/refresh", tag = "segments", request_body = RefreshRequest,
    params(("id" = i64, Path, description = "The segment's id")),
    responses((status = 200, description = "The difference (and the recorded action unless a dry run)", body = RefreshResult),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged", body = Problem, content_type = "application/problem+json")))]
pub async fn refresh_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<RefreshRequest>>,
) -> ApiResult<HttpResponse> {
    let (id, dry_run) = (id.into_inner(), body.into_inner().into_inner().dry_run);
    let result = db::run(&state.pool, move |conn| repo::refresh(conn, id, dry_run)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Replays saved criteria on today's contacts: each saved action runs as a normal, recorded,
/// undoable action (source `saved_criteria`), all in one transaction.
#[utoipa::path(post, path = "/v1/segments/{id}/apply-saved-criteria", tag = "segments",
    request_body = ApplySavedCriteria,
    params(("id" = i64, Path, description = "The segment's id")),
    responses((status = 201, description = "The recorded actions", body = AppliedActions),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged", body = Problem, content_type = "application/problem+json")))]
pub async fn apply_saved_criteria(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<ApplySavedCriteria>>,
) -> ApiResult<HttpResponse> {
    let (id, code) = (id.into_inner(), body.into_inner().into_inner().code);
    let rows = db::run(&state.pool, move |conn| repo::apply_saved_criteria(conn, id, &code)).await?;
    let items = rows.into_iter().map(CriteriaActionResponse::try_from).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Created().json(AppliedActions { items }))
}

/// Adds the contacts of a logged segment as one recorded, undoable action (source
/// `logged_segment`). Unlike Business Central it skips, and counts by reason, contacts now
/// privacy blocked, excluded (unless `ignore_exclusion`), whose entries were canceled (unless
/// `include_canceled`), or already in the segment.
#[utoipa::path(post, path = "/v1/segments/{id}/reuse-logged-segment", tag = "segments",
    request_body = ReuseLoggedSegment,
    params(("id" = i64, Path, description = "The segment's id")),
    responses((status = 201, description = "The recorded action and what it skipped", body = ReusedLoggedSegment),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged", body = Problem, content_type = "application/problem+json")))]
pub async fn reuse_logged_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<ReuseLoggedSegment>>,
) -> ApiResult<HttpResponse> {
    let (id, request) = (id.into_inner(), body.into_inner().into_inner());
    let (row, skipped) =
        db::run(&state.pool, move |conn| repo::reuse_logged_segment(conn, id, &request)).await?;
    Ok(HttpResponse::Created().json(ReusedLoggedSegment { action: row.try_into()?, skipped }))
}
