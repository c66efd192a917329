//! Template documents apart from their storage: the kind a content type names, the checks an
//! upload must pass, the merge fields a document uses, and the merge itself (`merge`).

pub mod docx;
pub mod fields;
pub mod merge;
pub mod text;

pub use merge::{html_to_text, merge_docx, render_text, DocxTemplate, MergeValues};

use crate::domain::DocumentKind;
use crate::error::ApiError;

/// The media type of a Word document.
pub const DOCX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Why a document was refused; each is a 422 with a stable code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    /// Not a Word package: not a zip, a part missing or not well-formed (`invalid-docx`).
    #[error("{0}")]
    InvalidDocx(String),
    /// A package that unpacks past the bounds (`docx-too-large`): what a zip bomb looks like.
    #[error("{0}")]
    DocxTooLarge(String),
    /// HTML or text that is not UTF-8 (`invalid-utf8`).
    #[error("{0}")]
    InvalidUtf8(String),
    /// HTML or text that is not a valid template (`invalid-template`).
    #[error("{0}")]
    InvalidTemplate(String),
}

impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        let code = match &e {
            DocumentError::InvalidDocx(_) => "invalid-docx",
            DocumentError::DocxTooLarge(_) => "docx-too-large",
            DocumentError::InvalidUtf8(_) => "invalid-utf8",
            DocumentError::InvalidTemplate(_) => "invalid-template",
        };
        ApiError::Unprocessable { code, detail: e.to_string() }
    }
}

/// The merge fields a document uses, each once, sorted, and those of them that are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeFields {
    pub all: Vec<String>,
    pub unknown: Vec<String>,
}

impl DocumentKind {
    /// The kind a request's `Content-Type` names; HTML and text must be UTF-8 when a charset
    /// is given. `Err` says why the type is refused (415).
    pub fn from_content_type(content_type: &str) -> Result<DocumentKind, String> {
        let mut parts = content_type.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let kind = match essence.as_str() {
            DOCX_CONTENT_TYPE => DocumentKind::Docx,
            "text/html" => DocumentKind::Html,
            "text/plain" => DocumentKind::Text,
            _ => {
                return Err(format!(
                    "documents are Word (.docx, {DOCX_CONTENT_TYPE}), text/html or text/plain; got {:?}",
                    if essence.is_empty() { "no content type" } else { essence.as_str() }
                ))
            }
        };
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=') {
                let value = value.trim().trim_matches('"');
                if name.trim().eq_ignore_ascii_case("charset") && !value.eq_ignore_ascii_case("utf-8") {
                    return Err(format!("{essence} documents must be UTF-8; got charset {value:?}"));
                }
            }
        }
        Ok(kind)
    }

    /// The `Content-Type` a download of this kind answers with.
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentKind::Docx => DOCX_CONTENT_TYPE,
            DocumentKind::Html => "text/html; charset=utf-8",
            DocumentKind::Text => "text/plain; charset=utf-8",
        }
    }

    /// The file name extension of this kind, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            DocumentKind::Docx => "docx",
            DocumentKind::Html => "html",
            DocumentKind::Text => "txt",
        }
    }

    /// The file name a document uploaded without one gets.
    pub fn default_file_name(self) -> &'static str {
        match self {
            DocumentKind::Docx => "document.docx",
            DocumentKind::Html => "document.html",
            DocumentKind::Text => "document.txt",
        }
    }
}

/// Checks a document of `kind` and lists its merge fields.
pub fn analyze(kind: DocumentKind, bytes: &[u8]) -> Result<MergeFields, DocumentError> {
    let all = match kind {
        DocumentKind::Docx => docx::merge_fields(bytes)?,
        DocumentKind::Html | DocumentKind::Text => text::check(kind, bytes)?,
    };
    let unknown = fields::unknown(&all);
    Ok(MergeFields { all, unknown })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_name_kinds_and_refuse_other_charsets() {
        assert_eq!(DocumentKind::from_content_type(DOCX_CONTENT_TYPE), Ok(DocumentKind::Docx));
        assert_eq!(DocumentKind::from_content_type("Text/HTML; charset=UTF-8"), Ok(DocumentKind::Html));
        assert_eq!(DocumentKind::from_content_type("text/plain"), Ok(DocumentKind::Text));
        assert!(DocumentKind::from_content_type("text/plain; charset=latin1").is_err());
        assert!(DocumentKind::from_content_type("application/pdf").is_err());
        assert!(DocumentKind::from_content_type("").is_err());
    }
}
