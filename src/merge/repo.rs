//! The SQL of merging: which document each line or entry merges and the values of its fields,
//! read a page at a time so that a segment of any size merges in bounded memory.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::prelude::*;
use diesel::row::NamedRow;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use crate::db::schema::{segment_line_documents, template_attachments};
use crate::db::sql::SqlBuilder;
use crate::db::Conn;
use crate::domain::DocumentKind;
use crate::error::ApiError;
use crate::logging::{lines_joined, Lines};
use crate::segments::effective;

/// The value of every merge field, read by the names of `effective::MERGE_VALUES`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldValues(pub Vec<(&'static str, Option<String>)>);

impl<DB: Backend> QueryableByName<DB> for FieldValues
where
    Option<String>: FromSql<Nullable<Text>, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        let mut values = Vec::with_capacity(effective::MERGE_VALUES.len());
        for (name, _) in effective::MERGE_VALUES {
            values.push((*name, NamedRow::get::<Nullable<Text>, Option<String>>(row, name)?));
        }
        Ok(FieldValues(values))
    }
}

/// Which stored document a line or entry merges: a template attachment version or a line's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentRef {
    Template(i64),
    Line(i64),
}

/// What one document is merged from: the document, its kind, and the field values.
#[derive(Debug, Clone, QueryableByName)]
pub struct MergeSource {
    /// The line (previews) or the entry (logged documents).
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub contact_no: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub kind: Option<DocumentKind>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub attachment_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub line_document_id: Option<i64>,
    #[diesel(sql_type = Bool)]
    pub send_as_attachment: bool,
    #[diesel(embed)]
    pub values: FieldValues,
}

impl MergeSource {
    /// The document merged: the line's own wins over the template's.
    pub fn document(&self) -> Option<DocumentRef> {
        self.line_document_id.map(DocumentRef::Line).or(self.attachment_id.map(DocumentRef::Template))
    }
}

/// The select list of a line's document and merge values, over a line joined as
/// `logging::lines_joined` joins it plus the salesperson (`effective::SALESPERSON_JOIN`).
/// Logging freezes these same columns into `entry_documents`.
pub fn line_document_columns(sql: &mut SqlBuilder) {
    sql.sql(effective::LINE_DOCUMENT_ID).sql(" AS line_document_id, ");
    sql.sql(effective::TEMPLATE_ATTACHMENT_ID).sql(" AS attachment_id, ");
    sql.sql(effective::DOCUMENT_KIND).sql(" AS kind, segments.send_as_attachment AS send_as_attachment");
    for (field, expression) in effective::MERGE_VALUES {
        sql.sql(", ").sql(expression).sql(" AS ").sql(field);
    }
}

/// A segment's live lines with what they merge (one, or a page by line id), in id order.
pub fn line_sources(conn: &mut Conn, segment_id: i64, lines: Lines) -> Result<Vec<MergeSource>, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql("SELECT segment_lines.id AS id, contacts.no AS contact_no, ");
    line_document_columns(&mut sql);
    lines_joined(&mut sql, segment_id, lines, |sql| {
        sql.sql(" LEFT JOIN salespeople ON ").sql(effective::SALESPERSON_JOIN);
    });
    sql.sql(" ORDER BY segment_lines.id");
    Ok(sql.load(conn)?)
}

/// What logged entries merge, as frozen at logging, by entry id after `after`: one entry, or a
/// logged segment's entries (with `letters_only`, its hard-copy Word letters).
pub fn entry_sources(
    conn: &mut Conn,
    of: EntriesOf<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<MergeSource>, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(
        "SELECT e.id AS id, e.contact_no AS contact_no, ed.kind AS kind, ed.attachment_id AS attachment_id, \
         ed.line_document_id AS line_document_id, ed.send_as_attachment AS send_as_attachment",
    );
    for (field, _) in effective::MERGE_VALUES {
        sql.sql(", ed.").sql(field).sql(" AS ").sql(field);
    }
    sql.sql(" FROM entry_documents ed JOIN interaction_log_entries e ON e.id = ed.entry_id WHERE ");
    match of {
        EntriesOf::Entry(id) => sql.sql("e.id = ").bind(id.into()),
        EntriesOf::Ids(ids) => sql.sql("e.id IN ").bind_list(ids.iter().map(|&id| id.into())),
        EntriesOf::Letters(logged_segment_id) => sql
            .sql("e.correspondence_type = 'hard_copy' AND ed.kind = 'docx' AND e.logged_segment_id = ")
            .bind(logged_segment_id.into()),
    };
    sql.sql(" AND e.id > ").bind(after.into());
    sql.sql(&format!(" ORDER BY e.id LIMIT {limit}"));
    Ok(sql.load(conn)?)
}

/// Which entries `entry_sources` reads.
#[derive(Debug, Clone, Copy)]
pub enum EntriesOf<'a> {
    Entry(i64),
    /// A batch of entries (the delivery worker's).
    Ids(&'a [i64]),
    /// A logged segment's hard-copy letters.
    Letters(i64),
}

/// A stored document's file name and bytes.
pub fn content(conn: &mut Conn, document: DocumentRef) -> Result<(String, Vec<u8>), ApiError> {
    Ok(match document {
        DocumentRef::Template(id) => template_attachments::table
            .find(id)
            .select((template_attachments::file_name, template_attachments::content))
            .first(conn)?,
        DocumentRef::Line(id) => segment_line_documents::table
            .find(id)
            .select((segment_line_documents::file_name, segment_line_documents::content))
            .first(conn)?,
    })
}
