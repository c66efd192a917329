//! HTTP handlers of `/v1/logged-segments`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{LoggedSegmentList, LoggedSegmentResponse};
use super::repo::{self, LoggedSegmentFilter};
use crate::auth::{Caller, Read, Write};
use crate::db::{self, Conn};
use crate::domain::validation::Checker;
use crate::error::{ApiResult, Problem};
use crate::http::download::csv_response;
use crate::http::pagination::{PageParams, PageRequest};
use crate::http::stream;
use crate::interaction_log::model::{EntryList, EntryResponse};
use crate::interaction_log::repo::{list_entries, EntryFilter};
use crate::logging::follow_up_logged_segment;
use crate::segments::model::SegmentResponse;
use crate::segments::repo::get_segment;
use crate::state::AppState;

/// Filters and paging of the logged-segment list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoggedSegmentListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub segment_no: Option<String>,
    /// The name of the API key that logged it.
    pub user: Option<String>,
    pub canceled: Option<bool>,
    /// Logged on or after this day (UTC).
    pub date_from: Option<chrono::NaiveDate>,
    /// Logged on or before this day (UTC).
    pub date_to: Option<chrono::NaiveDate>,
}

/// Lists logged segments in the order they were logged.
#[utoipa::path(get, path = "/v1/logged-segments", tag = "logged-segments", params(LoggedSegmentListParams),
    responses((status = 200, description = "A page of logged segments", body = LoggedSegmentList)))]
pub async fn list_logged_segments(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    params: web::Query<LoggedSegmentListParams>,
) -> ApiResult<HttpResponse> {
    let page =
        PageParams { limit: params.limit, cursor: params.cursor.clone() }.validate("logged-segments")?;
    let mut c = Checker::new();
    c.date("date_from", params.date_from);
    c.date("date_to", params.date_to);
    c.finish()?;
    let filter = LoggedSegmentFilter {
        segment_no: params.segment_no.clone(),
        user: params.user.clone(),
        canceled: params.canceled,
        date_from: params.date_from,
        date_to: params.date_to,
    };
    let (rows, next_cursor) =
        db::run(&state.pool, move |conn| repo::list_logged_segments(conn, &filter, page)).await?;
    Ok(HttpResponse::Ok()
        .json(LoggedSegmentList { items: rows.into_iter().map(Into::into).collect(), next_cursor }))
}

/// One logged segment.
#[utoipa::path(get, path = "/v1/logged-segments/{id}", tag = "logged-segments",
    params(("id" = i64, Path, description = "The logged segment's id")),
    responses((status = 200, description = "The logged segment", body = LoggedSegmentResponse),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn get_logged_segment(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| repo::get_logged_segment(conn, id)).await?;
    Ok(HttpResponse::Ok().json(LoggedSegmentResponse::from(row)))
}

/// The logged segment's interaction log entries, by entry no.
#[utoipa::path(get, path = "/v1/logged-segments/{id}/entries", tag = "logged-segments",
    params(("id" = i64, Path, description = "The logged segment's id"), PageParams),
    responses((status = 200, description = "A page of entries", body = EntryList),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn list_logged_segment_entries(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let page = params.validate(&format!("logged-segments/{id}/entries"))?;
    let filter = EntryFilter { logged_segment_id: Some(id), ..EntryFilter::default() };
    let (rows, next_cursor) = db::run(&state.pool, move |conn| {
        repo::get_logged_segment(conn, id)?;
        list_entries(conn, &filter, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EntryList::new(rows, next_cursor)))
}

/// The logged segment's entries as CSV, by entry no, streamed a page at a time.
#[utoipa::path(get, path = "/v1/logged-segments/{id}/entries.csv", tag = "logged-segments",
    operation_id = "export_logged_segment_entries_csv",
    description = "RFC 4180, UTF-8, a header row; the entry fields as in the JSON list (`cost` as a \
decimal string, times in RFC 3339). Streamed: memory does not grow with the segment.",
    params(("id" = i64, Path, description = "The logged segment's id")),
    responses(
        (status = 200, description = "The entries as CSV", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn export_logged_segment_entries_csv(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let no = db::run(&state.pool, move |conn| Ok(repo::get_logged_segment(conn, id)?.no)).await?;
    let list = format!("logged-segments/{id}/entries");
    let body = stream::csv_stream(state.pool.clone(), EntryResponse::CSV_COLUMNS, move |conn, csv| {
        let filter = EntryFilter { logged_segment_id: Some(id), ..EntryFilter::default() };
        let page = |conn: &mut Conn, after, limit| {
            Ok(list_entries(conn, &filter, PageRequest { list: list.clone(), after: Some(after), limit })?.0)
        };
        stream::write_pages(conn, csv, page, |row| row.id, EntryResponse::from)
    });
    Ok(csv_response(&format!("{no}-entries.csv")).streaming(body))
}

/// Cancels the logged segment and all its entries (idempotent).
#[utoipa::path(post, path = "/v1/logged-segments/{id}/cancel", tag = "logged-segments",
    params(("id" = i64, Path, description = "The logged segment's id")),
    responses((status = 200, description = "The logged segment, canceled", body = LoggedSegmentResponse),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel_logged_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| repo::set_canceled(conn, id, true)).await?;
    Ok(HttpResponse::Ok().json(LoggedSegmentResponse::from(row)))
}

/// Restores a canceled logged segment and all its entries (idempotent).
#[utoipa::path(post, path = "/v1/logged-segments/{id}/restore", tag = "logged-segments",
    params(("id" = i64, Path, description = "The logged segment's id")),
    responses((status = 200, description = "The logged segment, restored", body = LoggedSegmentResponse),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn restore_logged_segment(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| repo::set_canceled(conn, id, false)).await?;
    Ok(HttpResponse::Ok().json(LoggedSegmentResponse::from(row)))
}

/// Creates an open segment with the logged segment's header and contacts.
#[utoipa::path(post, path = "/v1/logged-segments/{id}/follow-up", tag = "logged-segments",
    params(("id" = i64, Path, description = "The logged segment's id")),
    responses((status = 201, description = "The new segment", body = SegmentResponse,
            headers(("Location" = String, description = "The new segment's URL"))),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn follow_up(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| {
        let segment_id = follow_up_logged_segment(conn, id)?;
        get_segment(conn, segment_id)
    })
    .await?;
    let response = SegmentResponse::from(view);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/segments/{}", response.id)))
        .json(response))
}
