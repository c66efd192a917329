//! HTTP handlers of `/v1/segments/{id}/lines/{line_id}/document` (PUT, DELETE).

use actix_web::{web, HttpRequest, HttpResponse};

use super::model::{LineDocumentForm, LineDocumentResponse};
use super::repo;
use crate::auth::{Caller, Write};
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::upload;
use crate::state::AppState;
use crate::templates::attachments::model::{
    DocumentFile, DocumentText, UploadInput, UploadParams, UploadTarget,
};

/// Gives one line its own document, replacing the template's for that contact only.
#[utoipa::path(put, path = "/v1/segments/{id}/lines/{line_id}/document", tag = "segments",
    operation_id = "put_line_document",
    description = "The personalised document of one line: Word `.docx`, `text/html` or `text/plain`, \
as the raw body with its own `Content-Type` (`?file_name=` names it) or `multipart/form-data` with \
a `file` part (and `file_name`). It merges like the template's document (the same fields) and \
replaces it for this contact whatever the line's language; DELETE goes back to the template's. \
The same checks as a template upload apply (413, 415, `invalid-docx`, `docx-too-large`, \
`invalid-utf8`, `invalid-template`, and with `strict=true` `unknown-merge-fields`).",
    params(("id" = i64, Path, description = "The segment's id"), ("line_id" = i64, Path, description = "The line's id"),
        ("file_name" = Option<String>, Query, max_length = 255, pattern = r#"^[^\x00-\x1f\x7f-\x9f"]*[^\x00-\x1f\x7f-\x9f"/\\\s][^\x00-\x1f\x7f-\x9f"/\\]*$"#,
            description = "The file name (default `document.docx`, `.html` or `.txt`)"),
        ("strict" = Option<bool>, Query, description = "Refuse unknown merge fields (422)")),
    request_body(description = "The document, raw or as a form", content(
        (DocumentFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (DocumentText = "text/html"),
        (DocumentText = "text/plain"),
        (LineDocumentForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "The line's document, replacing the one it had", body = LineDocumentResponse),
        (status = 201, description = "The line's document (it had none)", body = LineDocumentResponse),
        (status = 404, description = "No such line in this segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than `ATTACHMENT_MAX_BYTES`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a Word, HTML or plain text document", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values or document", body = Problem, content_type = "application/problem+json")))]
pub async fn put_line_document(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    query: web::Query<LineDocumentParams>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (id, line_id) = path.into_inner();
    let upload = upload::read_upload(&req, payload, state.settings.attachment_max_bytes).await?;
    let LineDocumentParams { file_name, strict } = query.into_inner();
    let params = UploadParams { file_name, strict, ..UploadParams::default() };
    let input = UploadInput::parse(upload, params, UploadTarget::SegmentLine)?;
    let new = web::block(move || input.analyze()).await??;
    let (row, created) = db::run(&state.pool, move |conn| repo::put(conn, id, line_id, &new)).await?;
    let body = LineDocumentResponse::new(row)?;
    Ok(if created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

/// The query of a line document upload.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineDocumentParams {
    pub file_name: Option<String>,
    pub strict: Option<bool>,
}

/// Removes a line's own document: the line merges the template's again.
#[utoipa::path(delete, path = "/v1/segments/{id}/lines/{line_id}/document", tag = "segments",
    operation_id = "delete_line_document",
    params(("id" = i64, Path, description = "The segment's id"), ("line_id" = i64, Path, description = "The line's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such line, or it has no document of its own", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is logged (`segment-logged`)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_line_document(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, line_id) = path.into_inner();
    db::run(&state.pool, move |conn| repo::delete(conn, id, line_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
