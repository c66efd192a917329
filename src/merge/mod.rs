//! Merging documents: a line's preview, a segment's previews as one streamed zip, a logged
//! entry's document (rendered from what logging froze, so always the same bytes), and a logged
//! segment's letters as one streamed zip.

pub mod handlers;
pub mod repo;

use actix_web::web;
use utoipa::OpenApi;

use crate::http::routing;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::io::Write;

use self::repo::{DocumentRef, FieldValues, MergeSource};
use crate::db::Conn;
use crate::documents::{render_text, DocumentError, DocxTemplate, MergeValues};
use crate::domain::DocumentKind;
use crate::error::ApiError;
use crate::http::stream::for_each_page;

#[derive(OpenApi)]
#[openapi(paths(
    handlers::preview_line_document,
    handlers::segment_documents,
    handlers::entry_document,
    handlers::logged_segment_letters,
))]
pub struct MergeApi;

/// `web::resource` per URL; the line preview is served on the line document's resource.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(routing::resource("/segments/{id}/documents").get(handlers::segment_documents))
        .service(routing::resource("/interaction-log-entries/{id}/document").get(handlers::entry_document))
        .service(routing::resource("/logged-segments/{id}/documents").get(handlers::logged_segment_letters));
}

/// Sources read per query while a zip is written.
const PAGE: i64 = 200;

/// A merged document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub kind: DocumentKind,
    /// The stored document's file name.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A stored document ready to merge: a Word package checked and unpacked once, or the text of
/// an HTML or text template.
pub enum Template {
    Word(DocxTemplate),
    Text(DocumentKind, Vec<u8>),
}

impl Template {
    pub fn new(kind: DocumentKind, content: Vec<u8>) -> Result<Self, DocumentError> {
        Ok(match kind {
            DocumentKind::Docx => Self::Word(DocxTemplate::new(&content)?),
            DocumentKind::Html | DocumentKind::Text => Self::Text(kind, content),
        })
    }

    /// Merges `values`: deterministic, so an entry's document renders to the same bytes every
    /// time from the same frozen values.
    pub fn render(&self, values: &FieldValues) -> Result<Vec<u8>, DocumentError> {
        let mut merge_values = MergeValues::new();
        for (name, value) in &values.0 {
            merge_values.set(name, value.clone());
        }
        match self {
            Self::Word(template) => template.merge(&merge_values),
            Self::Text(kind, template) => render_text(*kind, template, &merge_values).map(String::into_bytes),
        }
    }
}

/// Stored documents read and prepared once per batch or archive: many lines share a template's
/// document.
#[derive(Default)]
pub struct Documents {
    templates: HashMap<i64, (String, Template)>,
}

impl Documents {
    /// Merges one source; None when it has no document.
    pub fn merge(&mut self, conn: &mut Conn, source: &MergeSource) -> Result<Option<Merged>, ApiError> {
        let (Some(kind), Some(document)) = (source.kind, source.document()) else { return Ok(None) };
        let prepare = |conn: &mut Conn| -> Result<(String, Template), ApiError> {
            let (file_name, content) = repo::content(conn, document)?;
            Ok((file_name, Template::new(kind, content)?))
        };
        let line_document;
        let (file_name, template) = match document {
            DocumentRef::Template(id) => match self.templates.entry(id) {
                Entry::Occupied(stored) => stored.into_mut(),
                Entry::Vacant(slot) => slot.insert(prepare(conn)?),
            },
            DocumentRef::Line(_) => {
                line_document = prepare(conn)?;
                &line_document
            }
        };
        let bytes = template.render(&source.values)?;
        Ok(Some(Merged { kind, file_name: file_name.clone(), bytes }))
    }
}

/// Writes every source that `page` answers (a page at a time, after the last id) into `zip`,
/// one file each, named by its position and contact no; sources without a document are skipped.
pub fn write_zip<W: Write + std::io::Seek>(
    conn: &mut Conn,
    zip: &mut zip::ZipWriter<W>,
    page: impl FnMut(&mut Conn, i64, i64) -> Result<Vec<MergeSource>, ApiError>,
) -> Result<(), ApiError> {
    // Merged Word files are zips already: stored, not compressed twice.
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let deflated = stored.compression_method(zip::CompressionMethod::Deflated);
    let mut documents = Documents::default();
    let mut n = 0;
    for_each_page(
        conn,
        PAGE,
        page,
        |source| source.id,
        |conn, source| {
            if let Some(merged) = documents.merge(conn, &source)? {
                n += 1;
                let name = format!("{n:05}-{}.{}", file_safe(&source.contact_no), merged.kind.extension());
                let options = if merged.kind == DocumentKind::Docx { stored } else { deflated };
                zip.start_file(name, options).map_err(ApiError::internal)?;
                zip.write_all(&merged.bytes).map_err(ApiError::internal)?;
            }
            Ok(())
        },
    )
}

/// A contact no as part of a file name: letters, digits, `-` and `_`; anything else `_`.
pub fn file_safe(no: &str) -> String {
    no.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::fields::MERGE_FIELDS;
    use crate::segments::effective::MERGE_VALUES;

    #[test]
    fn every_merge_field_has_a_value_expression_and_no_other_does() {
        let names: Vec<&str> = MERGE_VALUES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, MERGE_FIELDS);
    }

    #[test]
    fn contact_nos_become_safe_file_names() {
        assert_eq!(file_safe("CT-0001/ä b"), "CT-0001___b");
    }
}
