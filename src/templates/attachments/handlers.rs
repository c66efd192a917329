//! HTTP handlers of `/v1/interaction-templates/{code}/attachments`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::model::{
    AttachmentForm, AttachmentList, AttachmentListParams, AttachmentPath, AttachmentResponse,
    AttachmentsPath, DocumentFile, DocumentText, UploadInput, UploadParams, UploadTarget,
};
use super::repo;
use crate::auth::{Admin, Caller, Read};
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::conditional::{created, etag, not_modified};
use crate::http::download::disposition;
use crate::http::pagination::PageParams;
use crate::http::upload;
use crate::http::urls::location;
use crate::state::AppState;

/// Lists a template's current documents, one per language, ordered by language code.
#[utoipa::path(get, path = "/v1/interaction-templates/{code}/attachments", tag = "interaction-templates",
    operation_id = "list_template_attachments",
    description = "The current version of each language's document. Keyset pagination: pass the \
answer's `next_cursor` as `cursor` for the next page.",
    params(AttachmentsPath, AttachmentListParams),
    responses(
        (status = 200, description = "One page of documents", body = AttachmentList),
        (status = 404, description = "No template has this code", body = Problem,
            content_type = "application/problem+json")))]
pub async fn list_template_attachments(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    path: web::Path<AttachmentsPath>,
    query: web::Query<AttachmentListParams>,
) -> ApiResult<HttpResponse> {
    let (code, params) = (path.into_inner().code, query.into_inner());
    let page = PageParams { limit: params.limit, cursor: params.cursor }
        .validate_code(&format!("template-attachments:{code}"))?;
    let (rows, next_cursor) = db::run(&state.pool, move |conn| repo::list(conn, &code, &page)).await?;
    let items = rows
        .into_iter()
        .map(|(row, is_default)| AttachmentResponse::new(row, is_default))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(AttachmentList { items, next_cursor }))
}

/// Uploads a document for one language of a template (admin).
#[utoipa::path(post, path = "/v1/interaction-templates/{code}/attachments", tag = "interaction-templates",
    operation_id = "upload_template_attachment",
    description = "Two shapes: the file as the raw body with its own `Content-Type` and the values in \
the query (`?language_code=en&default=true&file_name=letter.docx`), or `multipart/form-data` with a \
`file` part and `language_code`, `default`, `file_name` parts. Kinds: Word `.docx`, `text/html` and \
`text/plain` (UTF-8); other types are 415.\n\n`language_code` is required: a template has at most \
one current document per language. A language's new upload is a new version that becomes current; \
earlier versions keep their ids and stay downloadable. `default=true` makes the document the \
template's default (moved from another language in the same transaction); the template's first \
document is the default anyway.\n\nChecked before anything is stored: the size (413 past \
`ATTACHMENT_MAX_BYTES`), a `.docx` is a real Word package (`invalid-docx`) that unpacks within \
1000 entries and 100 MiB (`docx-too-large`), HTML and text are UTF-8 (`invalid-utf8`) and valid \
templates (`invalid-template`). The answer lists the merge fields used and flags unknown ones; \
with `strict=true` unknown fields are a 422 (`unknown-merge-fields`) naming each.",
    params(AttachmentsPath, UploadParams),
    request_body(description = "The document, raw or as a form", content(
        (DocumentFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (DocumentText = "text/html"),
        (DocumentText = "text/plain"),
        (AttachmentForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "The stored document (the new current version)", body = AttachmentResponse,
            headers(("Location" = String, description = "The download URL of this version"), ("ETag" = String))),
        (status = 404, description = "No template has this code", body = Problem,
            content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than `ATTACHMENT_MAX_BYTES`", body = Problem,
            content_type = "application/problem+json"),
        (status = 415, description = "Not a Word, HTML or plain text document", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Invalid values (`validation-failed`) or document (`invalid-docx`, \
`docx-too-large`, `invalid-utf8`, `invalid-template`, `unknown-merge-fields`)", body = Problem,
            content_type = "application/problem+json")))]
pub async fn upload_template_attachment(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<AttachmentsPath>,
    query: web::Query<UploadParams>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner().code;
    let upload = upload::read_upload(&req, payload, state.settings.attachment_max_bytes).await?;
    let input = UploadInput::parse(upload, query.into_inner(), UploadTarget::TemplateLanguage)?;
    // Unpacking and parsing are CPU work: off the async threads, and before any connection is taken.
    let new = web::block(move || input.analyze()).await??;
    let (row, is_default) = db::run(&state.pool, move |conn| repo::upload(conn, &code, &new)).await?;
    let response = AttachmentResponse::new(row, is_default)?;
    let url = format!(
        "{}/attachments/{}",
        location("/v1/interaction-templates", &response.interaction_template_code),
        response.id
    );
    Ok(created(&url, &etag(&[response.id]), &response))
}

/// Downloads a version of a template document, current or older.
#[utoipa::path(get, path = "/v1/interaction-templates/{code}/attachments/{attachment_id}",
    tag = "interaction-templates", operation_id = "download_template_attachment",
    description = "Every version stays downloadable by its id, also after a newer upload or a delete \
of its language's document. The answer has the document's `Content-Type` and a `Content-Disposition` \
naming its file, and an `ETag` that never changes (a version is immutable).",
    params(AttachmentPath),
    responses(
        (status = 200, description = "The document's bytes", content(
            (DocumentFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/html"),
            (String = "text/plain")),
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"),
                ("ETag" = String))),
        (status = 304, description = "Not modified: `If-None-Match` names this version"),
        (status = 404, description = "The template has no document version with this id", body = Problem,
            content_type = "application/problem+json")))]
pub async fn download_template_attachment(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<AttachmentPath>,
) -> ApiResult<HttpResponse> {
    let AttachmentPath { code, attachment_id } = path.into_inner();
    let document = db::run(&state.pool, move |conn| repo::content(conn, &code, attachment_id)).await?;
    // A version never changes, so its id is its tag.
    let tag = etag(&[document.id]);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, document.kind.content_type()))
        .insert_header(disposition(&document.file_name))
        .insert_header((header::ETAG, tag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(document.content))
}

/// Deletes the current document of a language (admin).
#[utoipa::path(delete, path = "/v1/interaction-templates/{code}/attachments/{attachment_id}",
    tag = "interaction-templates", operation_id = "delete_template_attachment",
    description = "`attachment_id` is the language's current version. The language then has no \
document; its versions stay downloadable by id. The default document cannot be deleted while \
other languages have documents (409 `attachment-is-default`): make another one the default first. \
An older version is 409 `attachment-not-current`.",
    params(AttachmentPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "The template has no document version with this id", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The document is the default (`attachment-is-default`) or the id \
is an older version (`attachment-not-current`)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_template_attachment(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    path: web::Path<AttachmentPath>,
) -> ApiResult<HttpResponse> {
    let AttachmentPath { code, attachment_id } = path.into_inner();
    db::run(&state.pool, move |conn| repo::delete_current(conn, &code, attachment_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
