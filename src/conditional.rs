//! ETag / If-Match / If-None-Match on single resources, with a strong tag from `version`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version `If-Match` requires, or None when the header is absent or `*`.
pub fn if_match_version(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().map_err(|_| bad_if_match())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text);
    let version = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).ok_or_else(bad_if_match)?;
    version.parse().map(Some).map_err(|_| {
        // A well-formed tag we never issued can match nothing.
        ApiError::PreconditionFailed("If-Match names no version of this resource".into())
    })
}

fn bad_if_match() -> ApiError {
    ApiError::BadRequest { code: "invalid-if-match", detail: "If-Match must be \"<version>\" or *".into() }
}

/// Refuses a write whose `If-Match` names another version.
pub fn check_version(expected: Option<i64>, actual: i64) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != actual => Err(ApiError::PreconditionFailed(format!(
            "the resource is at version {actual}, not {v}; read it again"
        ))),
        _ => Ok(()),
    }
}

/// 200 with the body and its ETag, or 304 when `If-None-Match` already names this version.
pub fn respond_with_etag<T: Serialize>(req: &HttpRequest, version: i64, body: &T) -> HttpResponse {
    let tag = etag(version);
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if not_modified {
        return HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish();
    }
    HttpResponse::Ok().insert_header((header::ETAG, tag)).json(body)
}

/// 201 with the body, its ETag and `Location`.
pub fn created<T: Serialize>(location: &str, version: i64, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::ETAG, etag(version)))
        .insert_header((
            header::LOCATION,
            HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
        ))
        .json(body)
}

/// 200 with the body and its ETag (after a write).
pub fn ok_with_etag<T: Serialize>(version: i64, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag(version))).json(body)
}
