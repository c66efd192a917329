//! HTTP handlers of `/v1/saved-criteria`.

use actix_web::{web, HttpResponse};

use super::model::{CreateSavedCriteria, SavedCriteriaList, SavedCriteriaResponse};
use super::repo;
use crate::auth::{Caller, Read, Write};
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::http::urls::location;
use crate::state::AppState;

/// Lists saved criteria by code, each with its actions.
#[utoipa::path(get, path = "/v1/saved-criteria", tag = "segments", params(PageParams),
    responses((status = 200, description = "A page of saved criteria", body = SavedCriteriaList)))]
pub async fn list_saved_criteria(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = params.validate_code("saved-criteria")?;
    let (rows, next_cursor) =
        db::run(&state.pool, move |conn| repo::list_saved_criteria(conn, &page)).await?;
    let items = rows
        .into_iter()
        .map(|(row, actions)| SavedCriteriaResponse::new(row, actions))
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(SavedCriteriaList { items, next_cursor }))
}

/// Saves a segment's criteria actions (those with a filter, in order) under a code, to be
/// replayed on other segments with `apply-saved-criteria`.
#[utoipa::path(post, path = "/v1/saved-criteria", tag = "segments", request_body = CreateSavedCriteria,
    responses(
        (status = 201, description = "The saved criteria", body = SavedCriteriaResponse,
            headers(("Location" = String, description = "The saved criteria's URL"))),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn create_saved_criteria(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<CreateSavedCriteria>>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner().into_inner();
    input.check()?;
    let (row, actions) = db::run(&state.pool, move |conn| {
        repo::create_saved_criteria(conn, &input)?;
        repo::get_saved_criteria(conn, &input.code)
    })
    .await?;
    let url = location("/v1/saved-criteria", &row.code);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, url))
        .json(SavedCriteriaResponse::new(row, actions)?))
}

/// One saved criteria with its actions.
#[utoipa::path(get, path = "/v1/saved-criteria/{code}", tag = "segments",
    params(("code" = String, Path, description = "The saved criteria's code")),
    responses((status = 200, description = "The saved criteria", body = SavedCriteriaResponse),
        (status = 404, description = "No such code", body = Problem, content_type = "application/problem+json")))]
pub async fn get_saved_criteria(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let (row, actions) = db::run(&state.pool, move |conn| repo::get_saved_criteria(conn, &code)).await?;
    Ok(HttpResponse::Ok().json(SavedCriteriaResponse::new(row, actions)?))
}

/// Deletes saved criteria (segments built with them keep their actions).
#[utoipa::path(delete, path = "/v1/saved-criteria/{code}", tag = "segments",
    params(("code" = String, Path, description = "The saved criteria's code")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such code", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_saved_criteria(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    db::run(&state.pool, move |conn| repo::delete_saved_criteria(conn, &code)).await?;
    Ok(HttpResponse::NoContent().finish())
}
