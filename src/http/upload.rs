//! File uploads: the file as the raw body with its own `Content-Type`, or a
//! `multipart/form-data` form with a `file` part and short text parts, read within a limit.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpRequest;
use futures_util::{Stream, StreamExt};

use crate::error::ApiError;

/// What a form may add to the file's own limit: its other parts and the part headers.
pub const FORM_ALLOWANCE: usize = 64 * 1024;
/// Longest text part of a form, and most text parts.
const TEXT_PART_MAX: usize = 1024;
const TEXT_PARTS_MAX: usize = 16;
/// The name of the form part that holds the file.
pub const FILE_PART: &str = "file";

/// An uploaded file and, for a form, its text parts.
#[derive(Debug)]
pub struct Upload {
    /// The file's media type: the body's `Content-Type`, or the file part's.
    pub content_type: Option<String>,
    /// The file name a form part gave (a raw body names none).
    pub file_name: Option<String>,
    pub bytes: Bytes,
    /// The form's text parts by name (none for a raw body).
    pub fields: BTreeMap<String, String>,
}

/// Whether the request is a `multipart/form-data` form.
pub fn is_form(req: &HttpRequest) -> bool {
    content_type(req).is_some_and(|t| {
        t.split(';').next().is_some_and(|essence| essence.trim().eq_ignore_ascii_case("multipart/form-data"))
    })
}

/// Reads the upload: a form (see [`is_form`]) or the raw body; a file past `limit` is 413.
pub async fn read_upload(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Upload, ApiError> {
    if is_form(req) {
        return read_form(req, payload, limit).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let bytes = read_limited(payload, limit, |e| match e {
        PayloadError::Overflow => too_large(limit),
        other => unreadable(other),
    })
    .await?;
    Ok(Upload {
        content_type: content_type(req).map(str::to_owned),
        file_name: None,
        bytes,
        fields: BTreeMap::new(),
    })
}

async fn read_form(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Upload, ApiError> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut file: Option<(Option<String>, Option<String>, Bytes)> = None;
    let mut fields = BTreeMap::new();
    while let Some(part) = form.next().await {
        let part = part.map_err(malformed)?;
        let name = part.name().unwrap_or_default().to_owned();
        if name == FILE_PART {
            if file.is_some() {
                return Err(ApiError::invalid_field(
                    FILE_PART,
                    "duplicate",
                    "the form has more than one file part",
                ));
            }
            let content_type = part.content_type().map(ToString::to_string);
            let file_name = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
            let bytes = read_limited(part, limit, |e| match e {
                actix_multipart::MultipartError::Payload(PayloadError::Overflow) => too_large(limit),
                other => malformed(other),
            })
            .await?;
            file = Some((content_type, file_name, bytes));
        } else {
            if fields.len() >= TEXT_PARTS_MAX || fields.contains_key(&name) {
                return Err(ApiError::invalid_field(
                    &name,
                    "duplicate",
                    "the form repeats a part or has too many",
                ));
            }
            let bytes = read_limited(part, TEXT_PART_MAX, malformed).await.map_err(|e| match e {
                ApiError::PayloadTooLarge(_) => ApiError::invalid_field(
                    &name,
                    "too_long",
                    format!("{name} must be at most {TEXT_PART_MAX} bytes"),
                ),
                other => other,
            })?;
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                ApiError::invalid_field(&name, "invalid", format!("{name} is not UTF-8 text"))
            })?;
            fields.insert(name, text);
        }
    }
    let Some((content_type, file_name, bytes)) = file else {
        return Err(ApiError::invalid_field(FILE_PART, "required", "the form has no `file` part"));
    };
    Ok(Upload { content_type, file_name, bytes, fields })
}

/// Collects a stream, answering 413 (as `PayloadTooLarge`) as soon as it passes `limit`.
async fn read_limited<S, E>(
    mut stream: S,
    limit: usize,
    on_error: impl Fn(E) -> ApiError,
) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(&on_error)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn content_type(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("the file exceeds the limit of {limit} bytes"))
}

fn unreadable(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest { code: "unreadable-body", detail: format!("the body could not be read: {e}") }
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest { code: "malformed-multipart", detail: format!("the form could not be read: {e}") }
}
