//! HTTP handlers of `/v1/segments/{id}/lines`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{
    AddLines, AddedLines, DeleteLines, LineCsvRecord, LinePatch, SegmentLineList, SegmentLineResponse,
};
use super::repo::{self, LineFilter};
use crate::auth::{Caller, Read, Write};
use crate::db::{self, Conn};
use crate::domain::CorrespondenceType;
use crate::error::{ApiResult, Problem};
use crate::http::conditional::{if_match_version, ok_with_etag, respond_with_etag};
use crate::http::download::csv_response;
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::http::stream;
use crate::segments::repo::get_segment;
use crate::state::AppState;

/// Every live line of the segment as CSV, in line order, streamed a page at a time.
#[utoipa::path(get, path = "/v1/segments/{id}/lines.csv", tag = "segments",
    operation_id = "export_segment_lines_csv",
    description = "RFC 4180, UTF-8, a header row; the line view's effective values, one line per record \
(`overridden` and `warnings` as `;`-separated codes, `cost` as a decimal string). Streamed: memory \
does not grow with the segment. For spreadsheets and mail-merge tools.",
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 200, description = "The lines as CSV", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json")))]
pub async fn export_segment_lines_csv(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let no = db::run(&state.pool, move |conn| Ok(get_segment(conn, id)?.row.no)).await?;
    let body = stream::csv_stream(state.pool.clone(), LineCsvRecord::COLUMNS, move |conn, csv| {
        let page = |conn: &mut Conn, after, limit| repo::csv_lines(conn, id, after, limit);
        stream::write_pages(conn, csv, page, |line| line.id, LineCsvRecord::from)
    });
    Ok(csv_response(&format!("{no}-lines.csv")).streaming(body))
}

/// Filters and paging of the line list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LineListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub contact_id: Option<i64>,
    /// Lines of this company contact and of its persons.
    pub company_id: Option<i64>,
    /// On the line's effective correspondence type.
    #[param(inline)]
    pub correspondence_type: Option<CorrespondenceType>,
    /// Lines whose contact has (true) or lacks (false) an email address.
    pub has_email: Option<bool>,
}

/// Lists a segment's lines in line order with their effective values.
#[utoipa::path(get, path = "/v1/segments/{id}/lines", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id"), LineListParams),
    responses((status = 200, description = "A page of lines", body = SegmentLineList),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json")))]
pub async fn list_segment_lines(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<LineListParams>,
) -> ApiResult<HttpResponse> {
    let page = PageParams { limit: params.limit, cursor: params.cursor.clone() }
        .validate(&format!("segments/{id}/lines"))?;
    let filter = LineFilter {
        contact_id: params.contact_id,
        company_id: params.company_id,
        correspondence_type: params.correspondence_type,
        has_email: params.has_email,
    };
    let id = id.into_inner();
    let (items, next_cursor) =
        db::run(&state.pool, move |conn| repo::list_lines(conn, id, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(SegmentLineList { items, next_cursor }))
}

/// Adds contacts by hand: one (`contact_id`) or many (`contact_ids` / `contact_nos`, at most
/// 100,000) with multi-row inserts in one transaction. The same contact may be added more than once (Business Central allows
/// it; each addition is a line). Unknown or privacy-blocked contacts are refused (422) and
/// then nothing is added.
#[utoipa::path(post, path = "/v1/segments/{id}/lines", tag = "segments", request_body = AddLines,
    params(("id" = i64, Path, description = "The segment's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, description = "The new lines' ids, in input order", body = AddedLines),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json")))]
pub async fn add_segment_lines(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<AddLines>>,
) -> ApiResult<HttpResponse> {
    let (id, input) = (id.into_inner(), body.into_inner().into_inner());
    let line_ids = db::run(&state.pool, move |conn| repo::add_lines(conn, id, input)).await?;
    let mut response = HttpResponse::Created();
    if let [line_id] = line_ids.as_slice() {
        response.insert_header((header::LOCATION, format!("/v1/segments/{id}/lines/{line_id}")));
    }
    Ok(response.json(AddedLines { added: line_ids.len(), line_ids }))
}

/// Deletes many lines of the segment; if any id is not a line of it, none is deleted (404).
#[utoipa::path(delete, path = "/v1/segments/{id}/lines", tag = "segments", request_body = DeleteLines,
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such segment, or a line not of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_segment_lines(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<DeleteLines>>,
) -> ApiResult<HttpResponse> {
    let (id, line_ids) = (id.into_inner(), body.into_inner().into_inner().line_ids);
    db::run(&state.pool, move |conn| repo::delete_lines(conn, id, line_ids)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reads one line with its effective values and overrides.
#[utoipa::path(get, path = "/v1/segments/{id}/lines/{line_id}", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id"), ("line_id" = i64, Path, description = "The line's id")),
    responses(
        (status = 200, description = "The line", body = SegmentLineResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the tag in If-None-Match"),
        (status = 404, description = "No such line in this segment", body = Problem, content_type = "application/problem+json")))]
pub async fn get_segment_line(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, line_id) = path.into_inner();
    let line = db::run(&state.pool, move |conn| repo::get_line(conn, id, line_id)).await?;
    Ok(respond_with_etag(&req, &line.etag, &line))
}

/// Overrides interaction fields of one line (a value) or clears overrides (`null`: back to
/// the header's value), and sets its note, evaluation and attempt flag.
#[utoipa::path(patch, path = "/v1/segments/{id}/lines/{line_id}", tag = "segments", request_body = LinePatch,
    params(("id" = i64, Path, description = "The segment's id"), ("line_id" = i64, Path, description = "The line's id"),
        ("If-Match" = Option<String>, Header, description = "The line's ETag; 412 if it changed since")),
    responses(
        (status = 200, description = "The line after the change", body = SegmentLineResponse, headers(("ETag" = String))),
        (status = 404, description = "No such line in this segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_segment_line(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: web::Json<JsonObject<LinePatch>>,
) -> ApiResult<HttpResponse> {
    let ((id, line_id), if_match, change) =
        (path.into_inner(), if_match_version(&req)?, body.into_inner().into_inner());
    let line = db::run(&state.pool, move |conn| {
        repo::update_line(conn, id, line_id, if_match, change)?;
        repo::get_line(conn, id, line_id)
    })
    .await?;
    Ok(ok_with_etag(&line.etag, &line))
}

/// Deletes one line.
#[utoipa::path(delete, path = "/v1/segments/{id}/lines/{line_id}", tag = "segments",
    params(("id" = i64, Path, description = "The segment's id"), ("line_id" = i64, Path, description = "The line's id"),
        ("If-Match" = Option<String>, Header, description = "The line's ETag; 412 if it changed since")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such line in this segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_segment_line(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let ((id, line_id), if_match) = (path.into_inner(), if_match_version(&req)?);
    db::run(&state.pool, move |conn| repo::delete_line(conn, id, line_id, if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}
