//! HTTP handlers of `/v1/segments` (headers).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{CreateSegment, SegmentList, SegmentPatch, SegmentResponse};
use super::repo::{self, SegmentFilter};
use crate::auth::{Caller, Read, Write};
use crate::db;
use crate::domain::validation::Checker;
use crate::domain::SegmentStatus;
use crate::error::{ApiResult, Problem};
use crate::http::conditional::{created, if_match_version, ok_with_etag, respond_with_etag};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::state::AppState;

/// Filters and paging of `GET /v1/segments`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SegmentListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(inline)]
    pub status: Option<SegmentStatus>,
    pub salesperson_code: Option<String>,
    pub interaction_template_code: Option<String>,
    /// Segments dated on or after this day.
    pub date_from: Option<NaiveDate>,
    /// Segments dated on or before this day.
    pub date_to: Option<NaiveDate>,
    /// Description contains this text, case-insensitive.
    pub q: Option<String>,
}

/// Lists segments in id order with keyset pagination.
#[utoipa::path(get, path = "/v1/segments", tag = "segments", params(SegmentListParams),
    responses((status = 200, description = "A page of segments", body = SegmentList)))]
pub async fn list_segments(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    params: web::Query<SegmentListParams>,
) -> ApiResult<HttpResponse> {
    let page = PageParams { limit: params.limit, cursor: params.cursor.clone() }.validate("segments")?;
    let mut c = Checker::new();
    c.max_len("q", params.q.as_deref(), 100);
    c.date("date_from", params.date_from);
    c.date("date_to", params.date_to);
    c.finish()?;
    let filter = SegmentFilter {
        status: params.status,
        salesperson_code: params.salesperson_code.clone(),
        interaction_template_code: params.interaction_template_code.clone(),
        date_from: params.date_from,
        date_to: params.date_to,
        q: params.q.clone().filter(|q| !q.is_empty()),
    };
    let (items, next_cursor) =
        db::run(&state.pool, move |conn| repo::list_segments(conn, &filter, page)).await?;
    Ok(HttpResponse::Ok()
        .json(SegmentList { items: items.into_iter().map(Into::into).collect(), next_cursor }))
}

/// Creates an open segment numbered from the series (`SEG00001`, ...); `date` defaults to today.
#[utoipa::path(post, path = "/v1/segments", tag = "segments", request_body = CreateSegment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses((status = 201, description = "Created", body = SegmentResponse, headers(("Location" = String), ("ETag" = String)))))]
pub async fn create_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<CreateSegment>>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner().into_inner();
    let view = db::run(&state.pool, move |conn| {
        let id = repo::create_segment(conn, input)?;
        repo::get_segment(conn, id)
    })
    .await?;
    let response = SegmentResponse::from(view);
    Ok(created(&format!("/v1/segments/{}", response.id), &response.etag, &response))
}

/// Reads a segment header with its effective values and line totals.
#[utoipa::path(get, path = "/v1/segments/{id}", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 200, description = "The segment", body = SegmentResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version in If-None-Match"),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json")))]
pub async fn get_segment(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| repo::get_segment(conn, id)).await?;
    let response = SegmentResponse::from(view);
    Ok(respond_with_etag(&req, &response.etag, &response))
}

/// Changes the header. Every line that does not override a changed field follows it at
/// once (lines store only their overrides); lines that override it keep their value.
#[utoipa::path(patch, path = "/v1/segments/{id}", tag = "segments", request_body = SegmentPatch,
    params(("id" = i64, Path, description = "The segment's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the segment changed since")),
    responses(
        (status = 200, description = "The segment after the change", body = SegmentResponse, headers(("ETag" = String))),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<JsonObject<SegmentPatch>>,
) -> ApiResult<HttpResponse> {
    let (id, if_match, change) = (id.into_inner(), if_match_version(&req)?, body.into_inner().into_inner());
    let view = db::run(&state.pool, move |conn| {
        repo::update_segment(conn, id, if_match, change)?;
        repo::get_segment(conn, id)
    })
    .await?;
    let response = SegmentResponse::from(view);
    Ok(ok_with_etag(&response.etag, &response))
}

/// Deletes an open segment with its lines.
#[utoipa::path(delete, path = "/v1/segments/{id}", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the segment changed since")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, if_match) = (id.into_inner(), if_match_version(&req)?);
    db::run(&state.pool, move |conn| repo::delete_segment(conn, id, if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}
