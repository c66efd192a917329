//! A line document row and its wire form.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::segment_line_documents;
use crate::documents::fields;
use crate::domain::DocumentKind;
use crate::error::ApiError;

/// A `segment_line_documents` row without its bytes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segment_line_documents)]
pub struct LineDocument {
    pub id: i64,
    pub segment_line_id: i64,
    pub kind: DocumentKind,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// A JSON array of names.
    pub merge_fields: String,
    pub created_at: NaiveDateTime,
}

/// A `multipart/form-data` upload of a line's document.
#[derive(ToSchema)]
pub struct LineDocumentForm {
    /// The document; its part's `Content-Type` names its kind (or, without one, the file name's
    /// extension: `.docx`, `.html`, `.htm`, `.txt`).
    #[schema(value_type = String, format = Binary, min_length = 1)]
    pub file: Vec<u8>,
    /// Overrides the file part's file name (a form has no null: leave the part out instead).
    #[schema(
        nullable = false,
        max_length = 255,
        pattern = r#"^[^\x00-\x1f\x7f-\x9f"]*[^\x00-\x1f\x7f-\x9f"/\\\s][^\x00-\x1f\x7f-\x9f"/\\]*$"#
    )]
    pub file_name: Option<String>,
}

/// A line's own document.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineDocumentResponse {
    pub id: i64,
    pub segment_line_id: i64,
    pub kind: DocumentKind,
    /// The `Content-Type` of the document.
    pub content_type: String,
    pub file_name: String,
    /// The size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, in lower-case hex.
    pub sha256: String,
    /// The merge fields the document uses, sorted: they merge like the template's.
    pub merge_fields: Vec<String>,
    /// Those of `merge_fields` that are not merge fields this service knows.
    pub unknown_merge_fields: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl LineDocumentResponse {
    pub fn new(row: LineDocument) -> Result<Self, ApiError> {
        let merge_fields: Vec<String> =
            serde_json::from_str(&row.merge_fields).map_err(ApiError::internal)?;
        Ok(LineDocumentResponse {
            id: row.id,
            segment_line_id: row.segment_line_id,
            kind: row.kind,
            content_type: row.kind.content_type().to_owned(),
            file_name: row.file_name,
            size: row.size_bytes,
            sha256: row.sha256,
            unknown_merge_fields: fields::unknown(&merge_fields),
            merge_fields,
            created_at: row.created_at.and_utc(),
        })
    }
}
