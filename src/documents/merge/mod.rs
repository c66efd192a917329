//! The merge engine: a template document and one document's field values in, the merged
//! document out. Pure: no database, no HTTP.
//!
//! A Word package keeps every entry but the body, headers and footers byte for byte (copied
//! without recompressing); those are merged part by part (see `part`). The output depends on
//! nothing but the template and the values, so a logged document renders again identically.

mod format;
mod html_text;
mod part;
mod write;

use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::sync::Arc;

use zip::write::SimpleFileOptions;

use super::docx::{self, FieldPart, Package};
use super::{text, DocumentError};
use crate::domain::DocumentKind;

pub use html_text::html_to_text;

/// The values of one document's merge fields, by the flat names of `fields::MERGE_FIELDS`
/// (`contact_name`, `line_date`, ...). A field without a value merges as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeValues(BTreeMap<String, String>);

impl MergeValues {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field's value (names match without case); `None` leaves it without one.
    pub fn set(&mut self, name: &str, value: Option<String>) {
        let name = name.to_lowercase();
        match value {
            Some(value) => self.0.insert(name, value),
            None => self.0.remove(&name),
        };
    }

    /// A field's value; names match without case.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(value) => Some(value),
            None if name.chars().any(char::is_uppercase) => {
                self.0.get(&name.to_lowercase()).map(String::as_str)
            }
            None => None,
        }
    }
}

/// How merged parts are stored: uncompressed, dated as the template's entry. Stored, not
/// deflated, because a logged entry's document is rendered again later and must equal what was
/// sent byte for byte: deflate's output may change with the compressor's version, a stored
/// entry's cannot. (It also spares setting up a deflater per part, which was half the cost of a
/// merge; a one-page letter grows by a few KB.)
fn merged_part_options(last_modified: Option<zip::DateTime>) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(last_modified.unwrap_or_default())
        .unix_permissions(0o644)
}

/// A Word template checked and unpacked once, merged with any number of value sets: a segment's
/// lines mostly share one template, and checking a package inflates every entry.
pub struct DocxTemplate {
    archive: zip::ZipArchive<Cursor<Arc<[u8]>>>,
    /// The package's size in bytes.
    size: usize,
    /// The body, headers and footers, in archive order.
    field_parts: Vec<FieldPart>,
}

impl DocxTemplate {
    /// Checks a package as an upload is checked (a bounded Word package) and unpacks the parts
    /// that may hold fields.
    pub fn new(template: &[u8]) -> Result<Self, DocumentError> {
        let Package { archive, field_parts } = docx::unpack(Cursor::new(Arc::<[u8]>::from(template)))?;
        Ok(Self { archive, size: template.len(), field_parts })
    }

    /// The merged package. Deterministic: the same template bytes and values always give the
    /// same output bytes (entries in the template's order, unchanged entries copied raw, merged
    /// parts stored with the template entry's date).
    pub fn merge(&self, values: &MergeValues) -> Result<Vec<u8>, DocumentError> {
        let merged = self
            .field_parts
            .iter()
            .map(|part| part::merge_part(&part.name, &part.xml, values))
            .collect::<Result<Vec<_>, _>>()?;
        let unwritable = |e: &dyn std::fmt::Display| {
            DocumentError::InvalidDocx(format!("the package cannot be written: {e}"))
        };
        // A clone shares the parsed central directory and the bytes; reading needs `&mut`.
        let mut archive = self.archive.clone();
        let capacity = self.size + merged.iter().map(Vec::len).sum::<usize>();
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
        let mut parts = self.field_parts.iter().zip(merged).peekable();
        for index in 0..archive.len() {
            if let Some((part, xml)) = parts.next_if(|(part, _)| part.index == index) {
                zip.start_file(part.name.as_str(), merged_part_options(part.last_modified))
                    .map_err(|e| unwritable(&e))?;
                zip.write_all(&xml).map_err(|e| unwritable(&e))?;
            } else {
                let entry = archive.by_index_raw(index).map_err(|e| unwritable(&e))?;
                zip.raw_copy_file(entry).map_err(|e| unwritable(&e))?;
            }
        }
        // The archive comment is not copied: Word writes none and reads none, and a template's
        // comment may hold bytes that look like the end of a zip (found by fuzzing), which
        // readers that search backwards for it would then take for the merged package's.
        Ok(zip.finish().map_err(|e| unwritable(&e))?.into_inner())
    }
}

/// Merges a Word package once: answers a new .docx (see [`DocxTemplate::merge`]).
pub fn merge_docx(template: &[u8], values: &MergeValues) -> Result<Vec<u8>, DocumentError> {
    DocxTemplate::new(template)?.merge(values)
}

/// Renders an HTML or text document (minijinja, HTML auto-escaped; the environment of
/// `text::environment`). A variable without a value renders empty; a Word document is refused
/// (it is merged with [`merge_docx`]).
pub fn render_text(
    kind: DocumentKind,
    template: &[u8],
    values: &MergeValues,
) -> Result<String, DocumentError> {
    if kind == DocumentKind::Docx {
        return Err(DocumentError::InvalidTemplate(
            "a Word document is merged as a package, not rendered".into(),
        ));
    }
    text::render(kind, template, |name| values.get(name))
}

#[cfg(test)]
mod tests;
