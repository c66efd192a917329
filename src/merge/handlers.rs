//! HTTP handlers of merged documents: a line's preview and a segment's (one zip), a logged
//! entry's document, and a logged segment's letters (one zip).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::repo::{self, EntriesOf};
use super::{write_zip, Documents, Merged};
use crate::auth::{Caller, Read};
use crate::db::{self, Conn};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::conditional::{etag, not_modified};
use crate::http::download::disposition;
use crate::http::stream;
use crate::logged_segments::repo::get_logged_segment;
use crate::logging::Lines;
use crate::segments::repo::get_segment;
use crate::state::AppState;

const ZIP: &str = "application/zip";

/// The merged document of one line, as logging would make it now.
#[utoipa::path(get, path = "/v1/segments/{id}/lines/{line_id}/document", tag = "segments",
    operation_id = "preview_line_document",
    description = "The line's own document if it has one, else the template's document in the line's \
language (`language_code` on the line view), merged with the line's effective values, its contact, \
salesperson and segment. Word documents answer as `.docx`, HTML and text as themselves.",
    params(("id" = i64, Path, description = "The segment's id"), ("line_id" = i64, Path, description = "The line's id")),
    responses(
        (status = 200, description = "The merged document", content(
            (crate::templates::attachments::model::DocumentFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/html"),
            (String = "text/plain")),
            headers(("Content-Disposition" = String, description = "`attachment` with a file name"))),
        (status = 404, description = "No such line, or it has no document", body = Problem,
            content_type = "application/problem+json")))]
pub async fn preview_line_document(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, line_id) = path.into_inner();
    let (contact_no, merged) = db::run(&state.pool, move |conn| {
        get_segment(conn, id)?;
        let source = repo::line_sources(conn, id, Lines::One(line_id))?
            .pop()
            .ok_or_else(|| ApiError::not_found(format!("line {line_id} of segment {id}")))?;
        let merged = Documents::default().merge(conn, &source)?.ok_or_else(|| {
            no_document(format!(
                "line {line_id} has no document: no document of its own, and its template has none in its language"
            ))
        })?;
        Ok((source.contact_no, merged))
    })
    .await?;
    Ok(document_response(&format!("{}-{contact_no}", line_id), merged))
}

/// Every line's merged document as one zip, streamed.
#[utoipa::path(get, path = "/v1/segments/{id}/documents", tag = "segments",
    operation_id = "segment_documents",
    description = "One file per line that has a document, in line order, named `00001-<contact no>.docx` \
(or `.html`, `.txt`). Streamed while it is merged: memory does not grow with the segment.",
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 200, description = "A zip archive", content((crate::templates::attachments::model::DocumentFile = "application/zip")),
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json")))]
pub async fn segment_documents(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let no = db::run(&state.pool, move |conn| Ok(get_segment(conn, id)?.row.no)).await?;
    let body = stream::zip_stream(state.pool.clone(), move |conn: &mut Conn, zip| {
        write_zip(conn, zip, |conn, after, limit| repo::line_sources(conn, id, Lines::Page { after, limit }))
    });
    Ok(zip_response(&format!("{no}-documents.zip")).streaming(body))
}

/// The document a logged entry was sent (or would have been): byte for byte the same whenever read.
#[utoipa::path(get, path = "/v1/interaction-log-entries/{id}/document", tag = "interaction-log",
    operation_id = "interaction_log_entry_document",
    description = "Rendered from the document version and the merge values frozen when the entry was \
logged, so it stays the same bytes after the template, its documents or the contact change. For an \
email the document is its body (HTML or text) or, sent as attachment, the Word file.",
    params(("id" = i64, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The document", content(
            (crate::templates::attachments::model::DocumentFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/html"),
            (String = "text/plain")),
            headers(("Content-Disposition" = String, description = "`attachment` with a file name"), ("ETag" = String))),
        (status = 304, description = "Not modified: the entry's document never changes"),
        (status = 404, description = "No such entry, or it has no document", body = Problem,
            content_type = "application/problem+json")))]
pub async fn entry_document(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // It never changes, so the entry's id is its tag.
    let tag = etag(&[id]);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let (contact_no, merged) = db::run(&state.pool, move |conn| {
        let entry = crate::interaction_log::repo::get_entry(conn, id)?;
        let source = repo::entry_sources(conn, EntriesOf::Entry(id), 0, 1)?.pop().ok_or_else(|| {
            no_document(format!("interaction log entry {} has no document", entry.entry_no))
        })?;
        let merged = Documents::default().merge(conn, &source)?.ok_or_else(|| {
            no_document(format!("interaction log entry {} has no document", entry.entry_no))
        })?;
        Ok((source.contact_no, merged))
    })
    .await?;
    let mut response = document_response(&format!("entry-{id}-{contact_no}"), merged);
    response
        .headers_mut()
        .insert(header::ETAG, header::HeaderValue::from_str(&tag).map_err(ApiError::internal)?);
    Ok(response)
}

/// A logged segment's letters (its hard-copy entries' Word documents) as one zip, streamed.
#[utoipa::path(get, path = "/v1/logged-segments/{id}/documents", tag = "logged-segments",
    operation_id = "logged_segment_letters",
    description = "One merged `.docx` per hard-copy entry, in entry order, ready to print, each the same \
bytes as the entry's own document.",
    params(("id" = i64, Path, description = "The logged segment's id")),
    responses(
        (status = 200, description = "A zip archive", content((crate::templates::attachments::model::DocumentFile = "application/zip")),
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 404, description = "No such logged segment", body = Problem, content_type = "application/problem+json")))]
pub async fn logged_segment_letters(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let no = db::run(&state.pool, move |conn| Ok(get_logged_segment(conn, id)?.no)).await?;
    let body = stream::zip_stream(state.pool.clone(), move |conn: &mut Conn, zip| {
        write_zip(conn, zip, |conn, after, limit| {
            repo::entry_sources(conn, EntriesOf::Letters(id), after, limit)
        })
    });
    Ok(zip_response(&format!("{no}-letters.zip")).streaming(body))
}

fn document_response(name: &str, merged: Merged) -> HttpResponse {
    let file_name = format!("{}.{}", super::file_safe(name), merged.kind.extension());
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, merged.kind.content_type()))
        .insert_header(disposition(&file_name))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(merged.bytes)
}

fn zip_response(file_name: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CONTENT_TYPE, ZIP)).insert_header(disposition(file_name));
    response
}

fn no_document(detail: String) -> ApiError {
    ApiError::NotFound(detail)
}
