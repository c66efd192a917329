//! ETag / If-Match / If-None-Match on single resources.
//!
//! A tag is made of versions: first the resource's own `version`, then the versions of what
//! its body also shows (a line shows its segment's, contact's and template's values), so that
//! `If-None-Match` never answers 304 for a body that changed. `If-Match` protects the
//! resource's own fields: it holds while the first version is unchanged.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;

/// The own versions named by `If-Match`; None when the header is absent or `*`.
pub type IfMatch = Option<Vec<i64>>;

/// A strong tag from versions: `"3"`, or `"3.7.1.0"` for a resource showing others' values.
pub fn etag(versions: &[i64]) -> String {
    let parts: Vec<String> = versions.iter().map(i64::to_string).collect();
    format!("\"{}\"", parts.join("."))
}

/// Reads `If-Match`: a list of strong tags or `*`. Weak tags never match (RFC 9110 compares
/// strongly); a tag we never issued matches nothing.
pub fn if_match_version(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().map_err(|_| bad_if_match())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let mut versions = Vec::new();
    for tag in text.split(',').map(str::trim) {
        if tag.starts_with("W/") {
            continue;
        }
        let inner = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).ok_or_else(bad_if_match)?;
        if let Some(own) = inner.split('.').next().and_then(|v| v.parse::<i64>().ok()) {
            versions.push(own);
        }
    }
    Ok(Some(versions))
}

fn bad_if_match() -> ApiError {
    ApiError::BadRequest {
        code: "invalid-if-match",
        detail: "If-Match must be a list of \"<tag>\" or *".into(),
    }
}

/// Refuses a write whose `If-Match` names none of the resource's current version.
pub fn check_version(expected: IfMatch, actual: i64) -> Result<(), ApiError> {
    match expected {
        Some(versions) if !versions.contains(&actual) => Err(ApiError::PreconditionFailed(format!(
            "the resource is at version {actual}, not the one If-Match names; read it again"
        ))),
        _ => Ok(()),
    }
}

/// Whether `If-None-Match` names `tag` (or `*`): the client's copy is current.
pub fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').map(str::trim).any(|t| t == tag || t == "*" || t.strip_prefix("W/") == Some(tag))
    })
}

/// 200 with the body and its ETag, or 304 when `If-None-Match` already names this tag.
pub fn respond_with_etag<T: Serialize>(req: &HttpRequest, tag: &str, body: &T) -> HttpResponse {
    if not_modified(req, tag) {
        return HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish();
    }
    HttpResponse::Ok().insert_header((header::ETAG, tag)).json(body)
}

/// 201 with the body, its ETag and `Location`.
pub fn created<T: Serialize>(location: &str, tag: &str, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::ETAG, tag))
        .insert_header((
            header::LOCATION,
            HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
        ))
        .json(body)
}

/// 200 with the body and its ETag (after a write).
pub fn ok_with_etag<T: Serialize>(tag: &str, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, tag)).json(body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn if_none_match_names_the_tag_its_weak_form_or_any() {
        let tag = etag(&[3, 7]);
        let cases = [
            ("\"3.7\"", true),
            ("W/\"3.7\"", true),
            ("*", true),
            ("\"1\", W/\"3.7\"", true),
            ("\"3\"", false),
            ("W/\"3\"", false),
            ("\"3.8\", \"2.7\"", false),
        ];
        for (header_value, current) in cases {
            let req =
                TestRequest::default().insert_header((header::IF_NONE_MATCH, header_value)).to_http_request();
            assert_eq!(not_modified(&req, &tag), current, "If-None-Match: {header_value}");
        }
        assert!(!not_modified(&TestRequest::default().to_http_request(), &tag));
    }
}
