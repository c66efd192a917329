//! Template document rows, an upload's parsed input, and the wire types.

use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::template_attachments;
use crate::documents::{fields, MergeFields};
use crate::domain::validation::Checker;
use crate::domain::DocumentKind;
use crate::error::{ApiError, FieldError};
use crate::http::upload::{Upload, FILE_PART};

const LANGUAGE_CODE_MAX: usize = 10;
const FILE_NAME_MAX: usize = 255;

/// What a document is uploaded for: one language of a template (`language_code` required,
/// `default` allowed), or one segment line (neither: the line's document replaces the
/// template's for that contact, whatever the language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadTarget {
    TemplateLanguage,
    SegmentLine,
}

impl UploadTarget {
    /// The text parts a form may have besides `file`.
    fn form_fields(self) -> &'static [&'static str] {
        match self {
            UploadTarget::TemplateLanguage => &["language_code", "default", "file_name"],
            UploadTarget::SegmentLine => &["file_name"],
        }
    }
}

/// A `template_attachments` row without its bytes: one immutable version of a document.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = template_attachments)]
pub struct Attachment {
    pub id: i64,
    pub interaction_template_code: String,
    pub language_code: String,
    pub version: i64,
    pub kind: DocumentKind,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// A JSON array of names.
    pub merge_fields: String,
    pub created_at: NaiveDateTime,
}

/// A language's current version and whether it is the template's default.
pub type CurrentAttachment = (Attachment, bool);

/// A version's bytes and what a download says about them.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = template_attachments)]
pub struct AttachmentContent {
    pub id: i64,
    pub kind: DocumentKind,
    pub file_name: String,
    pub content: Vec<u8>,
}

/// A checked upload, ready to store as a new version.
#[derive(Debug)]
pub struct NewAttachment {
    pub language_code: String,
    pub is_default: bool,
    pub kind: DocumentKind,
    pub file_name: String,
    pub sha256: String,
    pub merge_fields: MergeFields,
    pub content: Bytes,
}

/// An upload read from the request, its values checked but its content not yet analysed.
#[derive(Debug)]
pub struct UploadInput {
    pub language_code: String,
    pub is_default: bool,
    pub kind: DocumentKind,
    pub file_name: String,
    pub strict: bool,
    pub content: Bytes,
}

impl UploadInput {
    /// Reads the file and its values (form parts first, then the query). A type that is not a
    /// document kind is 415; faults in the values are one 422 naming each field.
    pub fn parse(
        upload: Upload,
        params: UploadParams,
        target: UploadTarget,
    ) -> Result<UploadInput, ApiError> {
        let Upload { content_type, file_name: part_file_name, bytes, mut fields } = upload;
        let kind = match content_type.as_deref().map(str::trim) {
            // A form part without its own type is known by its file name's extension.
            None | Some("application/octet-stream") if part_file_name.is_some() => {
                kind_by_extension(part_file_name.as_deref().unwrap_or_default())
            }
            other => DocumentKind::from_content_type(other.unwrap_or_default()),
        }
        .map_err(ApiError::UnsupportedMediaType)?;

        let mut c = Checker::new();
        for name in fields.keys().filter(|name| !target.form_fields().contains(&name.as_str())) {
            c.add(name, "unknown_field", format!("the form has no part named {name}"));
        }
        let language_code = fields.remove("language_code").or(params.language_code).unwrap_or_default();
        if target == UploadTarget::TemplateLanguage {
            check_language_code(&language_code, &mut c);
        }
        let is_default = match fields.remove("default") {
            Some(text) => match text.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    c.add("default", "invalid", "default must be true or false");
                    false
                }
            },
            None => params.default.unwrap_or(false),
        };
        let file_name = fields
            .remove("file_name")
            .or(params.file_name)
            .or(part_file_name)
            .map(|name| base_name(&name).to_owned())
            .unwrap_or_else(|| kind.default_file_name().to_owned());
        check_file_name(&file_name, &mut c);
        if bytes.is_empty() {
            c.add(FILE_PART, "required", "the file is empty");
        }
        if !c.errors.is_empty() {
            return Err(ApiError::Validation(c.errors));
        }
        Ok(UploadInput {
            language_code,
            is_default,
            kind,
            file_name,
            strict: params.strict.unwrap_or(false),
            content: bytes,
        })
    }

    /// Checks the document and lists its merge fields (`strict` refuses unknown ones): CPU work,
    /// for a blocking thread.
    pub fn analyze(self) -> Result<NewAttachment, ApiError> {
        let merge_fields = crate::documents::analyze(self.kind, &self.content)?;
        if self.strict && !merge_fields.unknown.is_empty() {
            return Err(unknown_fields_problem(&merge_fields.unknown));
        }
        let sha256 = Sha256::digest(&self.content).iter().map(|b| format!("{b:02x}")).collect();
        Ok(NewAttachment {
            language_code: self.language_code,
            is_default: self.is_default,
            kind: self.kind,
            file_name: self.file_name,
            sha256,
            merge_fields,
            content: self.content,
        })
    }
}

/// `.docx`, `.html`/`.htm` or `.txt`, for a form part sent without a content type.
fn kind_by_extension(file_name: &str) -> Result<DocumentKind, String> {
    let extension = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "docx" => Ok(DocumentKind::Docx),
        "html" | "htm" => Ok(DocumentKind::Html),
        "txt" => Ok(DocumentKind::Text),
        _ => Err(format!("the file part has no content type and {file_name:?} names no document kind")),
    }
}

/// The last component of a path a client may send as a file name, trimmed. The document's
/// `file_name` pattern says that it must not come out empty (no separator or blank at the end;
/// schemathesis found `dir/` allowed by the old pattern).
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim()
}

fn check_language_code(code: &str, c: &mut Checker) {
    if code.is_empty() {
        c.add("language_code", "required", "language_code is required: each document is for one language");
    } else if code.chars().count() > LANGUAGE_CODE_MAX {
        c.add(
            "language_code",
            "too_long",
            format!("language_code must be at most {LANGUAGE_CODE_MAX} characters"),
        );
    } else if code.chars().any(|ch| ch.is_whitespace() || ch.is_control() || ch == '/') {
        c.add("language_code", "invalid", "language_code must not contain spaces or slashes");
    }
}

fn check_file_name(name: &str, c: &mut Checker) {
    if name.is_empty() {
        c.add("file_name", "required", "file_name must not be empty");
    } else if name.chars().count() > FILE_NAME_MAX {
        c.add("file_name", "too_long", format!("file_name must be at most {FILE_NAME_MAX} characters"));
    } else if name.chars().any(|ch| ch.is_control() || ch == '"') {
        c.add("file_name", "invalid", "file_name must not contain control characters or quotes");
    }
}

/// The 422 of `?strict=true` for a document with unknown merge fields, one error per field.
pub fn unknown_fields_problem(unknown: &[String]) -> ApiError {
    ApiError::Refused {
        code: "unknown-merge-fields",
        detail: format!("the document uses unknown merge fields: {}", unknown.join(", ")),
        errors: unknown
            .iter()
            .map(|name| {
                FieldError::new(FILE_PART, "unknown_merge_field", format!("{name:?} is not a merge field"))
            })
            .collect(),
    }
}

/// Where the template is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentsPath {
    /// The interaction template's code.
    pub code: String,
}

/// Where one version of a document is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentPath {
    /// The interaction template's code.
    pub code: String,
    /// The id of a version of one of its documents.
    pub attachment_id: i64,
}

/// Query parameters of an upload. A `multipart/form-data` upload may send `language_code`,
/// `default` and `file_name` as form parts instead; a part wins over the query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The language of the document (required, at most 10 characters): a template has at most
    /// one current document per language.
    #[param(max_length = 10, pattern = r"^[^\s/\x00-\x1f\x7f-\x9f]+$")]
    pub language_code: Option<String>,
    /// Make this document the template's default (the one used for a language without its
    /// own). The template's first document is its default whatever this says.
    pub default: Option<bool>,
    /// The file name downloads give (default `document.docx`, `.html` or `.txt`).
    #[param(
        max_length = 255,
        pattern = r#"^[^\x00-\x1f\x7f-\x9f"]*[^\x00-\x1f\x7f-\x9f"/\\\s][^\x00-\x1f\x7f-\x9f"/\\]*$"#
    )]
    pub file_name: Option<String>,
    /// Refuse the document (422 `unknown-merge-fields`) when it uses unknown merge fields.
    pub strict: Option<bool>,
}

/// Pages of the current documents.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachmentListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
}

/// The file of an upload, as the body's bytes (a schema only: uploads are read from the
/// stream): a binary string, never empty.
pub struct DocumentFile;

impl utoipa::PartialSchema for DocumentFile {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .min_length(Some(1))
            .into()
    }
}

impl ToSchema for DocumentFile {}

/// An HTML or text document uploaded as the body (a schema only): never empty.
pub struct DocumentText;

impl utoipa::PartialSchema for DocumentText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).into()
    }
}

impl ToSchema for DocumentText {}

/// A `multipart/form-data` upload. A part left out takes its default; a form has no null, so
/// none of them is nullable (a part `null` would be the text "null").
#[derive(ToSchema)]
pub struct AttachmentForm {
    /// The document; its part's `Content-Type` names its kind (or, without one, the file name's
    /// extension: `.docx`, `.html`, `.htm`, `.txt`), and its file name is kept for downloads.
    #[schema(value_type = String, format = Binary, min_length = 1)]
    pub file: Vec<u8>,
    /// The language of the document (required unless given in the query).
    #[schema(nullable = false, max_length = 10, pattern = r"^[^\s/\x00-\x1f\x7f-\x9f]+$")]
    pub language_code: Option<String>,
    /// `true` makes the document the template's default.
    #[schema(nullable = false)]
    pub default: Option<bool>,
    /// Overrides the file part's file name.
    #[schema(
        nullable = false,
        max_length = 255,
        pattern = r#"^[^\x00-\x1f\x7f-\x9f"]*[^\x00-\x1f\x7f-\x9f"/\\\s][^\x00-\x1f\x7f-\x9f"/\\]*$"#
    )]
    pub file_name: Option<String>,
}

/// A template document: the current version of one language's document.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentResponse {
    /// The id of this version: downloads at `.../attachments/{id}`, for as long as it exists.
    pub id: i64,
    pub interaction_template_code: String,
    pub language_code: String,
    /// Whether this is the template's default document.
    pub default: bool,
    pub kind: DocumentKind,
    /// The `Content-Type` a download answers with.
    pub content_type: String,
    pub file_name: String,
    /// The size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, in lower-case hex.
    pub sha256: String,
    /// 1 for a language's first upload, then one more with each new upload.
    pub version: i64,
    /// The merge fields the document uses, sorted (Word field names lower-cased).
    pub merge_fields: Vec<String>,
    /// Those of `merge_fields` that are not merge fields this service knows.
    pub unknown_merge_fields: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl AttachmentResponse {
    /// The wire form of a stored version; a stored field list that is not JSON is a 500.
    pub fn new(row: Attachment, is_default: bool) -> Result<Self, ApiError> {
        let merge_fields: Vec<String> =
            serde_json::from_str(&row.merge_fields).map_err(ApiError::internal)?;
        Ok(AttachmentResponse {
            id: row.id,
            interaction_template_code: row.interaction_template_code,
            language_code: row.language_code,
            default: is_default,
            kind: row.kind,
            content_type: row.kind.content_type().to_owned(),
            file_name: row.file_name,
            size: row.size_bytes,
            sha256: row.sha256,
            version: row.version,
            unknown_merge_fields: fields::unknown(&merge_fields),
            merge_fields,
            created_at: row.created_at.and_utc(),
        })
    }
}

/// One page of a template's current documents, ordered by language code.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentResponse>,
    pub next_cursor: Option<String>,
}
