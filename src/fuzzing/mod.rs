//! The fuzz targets' bodies: each takes arbitrary bytes, drives one input path the way the
//! service drives it, and panics only when an invariant breaks. `fuzz/` runs them under
//! libFuzzer (nightly, `cargo fuzz`); `smoke` runs them on stable in `cargo test` over the
//! committed corpus and mutations of it, so that a finding, once fixed, stays fixed.
//!
//! Not part of the service: public only so that the fuzz crate can call it.

use std::io::Cursor;
use std::sync::{Mutex, OnceLock};

use actix_web::ResponseError;
use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName};

use crate::contacts::model::BulkContacts;
use crate::criteria::compile::predicate;
use crate::criteria::filter::{parse_filter, FilterNode, MAX_DEPTH, MAX_NODES};
use crate::criteria::selection::{add_candidates, line_matches};
use crate::db::sql::SqlBuilder;
use crate::db::{self, Backend, Conn};
use crate::documents::{docx, text, DocumentError, DocxTemplate, MergeValues};
use crate::domain::DocumentKind;
use crate::error::ApiError;
use crate::http::json::JsonObject;
use crate::import::reader::{ContactSource, FileFormat, FilePosition};
use crate::segments::criteria_actions::model::CriteriaActionRequest;

#[cfg(test)]
mod smoke;

/// A fuzz target: arbitrary bytes in, a panic on a broken invariant.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("filter", filter),
    ("criteria_body", criteria_body),
    ("bulk_body", bulk_body),
    ("import_csv", import_csv),
    ("import_jsonl", import_jsonl),
    ("docx_package", docx_package),
    ("docx_body_xml", docx_body_xml),
    ("text_template", text_template),
];

/// A filter tree as the criteria endpoints take it (`filter` of a criteria action or of saved
/// criteria): refused with faults that point into it, or accepted as a tree that survives
/// storage, is accepted again as it is echoed, and compiles to SQL the database runs.
pub fn filter(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    match parse_filter(&value, "/filter") {
        Ok(node) => accepted_filter(&node),
        Err(faults) => {
            assert!(!faults.is_empty(), "a refused filter names its faults");
            for fault in &faults {
                assert!(fault.field.starts_with("/filter"), "a fault points into the filter: {fault:?}");
            }
        }
    }
}

/// The body of `POST /v1/segments/{id}/criteria-actions` (and its preview): a 4xx problem, or
/// an action whose SQL runs.
pub fn criteria_body(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<JsonObject<CriteriaActionRequest>>(data) else { return };
    match request.into_inner().parse() {
        Ok(spec) => {
            accepted_filter(&spec.filter);
            let sql = add_candidates(&spec.filter, spec.options, true).unwrap_or_else(|e| unexpected(&e));
            let mut count = SqlBuilder::new(true);
            count.sql("SELECT count(*) AS n FROM (").append(&sql).sql(") candidates");
            run_on_sqlite(&count);
            let matches = line_matches(&spec.filter, spec.options.entire_companies, true)
                .unwrap_or_else(|e| unexpected(&e));
            let mut count = SqlBuilder::new(true);
            count.sql("SELECT count(*) AS n FROM segment_lines WHERE ").append(&matches);
            run_on_sqlite(&count);
        }
        Err(e) => client_error(&e),
    }
}

/// The body of `POST /v1/contacts/bulk`, synced into an empty SQLite database and rolled back:
/// one result per item, or a 4xx problem.
pub fn bulk_body(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<JsonObject<BulkContacts>>(data) else { return };
    let items: Vec<_> = body.into_inner().items.into_iter().map(JsonObject::into_inner).collect();
    let count = items.len();
    let answer = with_sqlite(|conn| {
        let mut answer = None;
        // Whatever the sync did is undone, so that every input starts from the empty database.
        let rolled_back = conn.transaction::<(), diesel::result::Error, _>(|conn| {
            answer = Some(crate::contacts::write::bulk_sync(conn, items));
            Err(diesel::result::Error::RollbackTransaction)
        });
        match rolled_back {
            Err(diesel::result::Error::RollbackTransaction) => {}
            other => panic!("the rollback failed: {other:?}"),
        }
        answer
    });
    match answer {
        Some(Ok(results)) => assert_eq!(results.len(), count, "one result per item"),
        Some(Err(e)) => client_error(&e),
        None => unreachable!("the transaction ran"),
    }
}

/// A CSV import file: records in order, each span inside the file, and a resume from any
/// record's checkpoint reads the same records as the first pass.
pub fn import_csv(data: &[u8]) {
    import(data, FileFormat::Csv);
}

/// A JSON-lines import file, with the same properties as [`import_csv`].
pub fn import_jsonl(data: &[u8]) {
    import(data, FileFormat::JsonLines);
}

/// Bounded, so that one input cannot run for long: the records read in one pass.
const MAX_IMPORT_RECORDS: usize = 1000;

fn import(data: &[u8], format: FileFormat) {
    let Some(first) = read_records(data, format, None) else { return };
    let mut previous_end = 0;
    for (record, position_after) in &first {
        assert!(record.span.start >= previous_end, "records do not overlap: {:?}", record.span);
        assert!(record.span.end <= data.len() as u64, "a record ends inside the file: {:?}", record.span);
        assert!(record.span.start < record.span.end, "a record has bytes: {:?}", record.span);
        assert_eq!(position_after.offset, record.span.end, "the checkpoint is where the record ends");
        previous_end = record.span.end;
    }
    // Resume from every checkpoint a run would save (bounded: the first few and the last).
    let resumes = first.iter().enumerate().filter(|(i, _)| *i < 4 || *i + 1 == first.len());
    for (i, (_, checkpoint)) in resumes {
        let resumed = read_records(data, format, Some(*checkpoint))
            .unwrap_or_else(|| panic!("a checkpoint of the same file opens: {checkpoint:?}"));
        let expected: Vec<_> = first[i + 1..].iter().map(|(r, _)| (r.line, r.span.clone())).collect();
        let got: Vec<_> = resumed.iter().map(|(r, _)| (r.line, r.span.clone())).collect();
        assert_eq!(got, expected, "resuming at {checkpoint:?} reads the records a first pass read");
    }
}

/// The records from `start` with the position after each, or None when the file is refused
/// at open (a bad header) or a read fails (a CSV reader's error, reported as the import's).
fn read_records(
    data: &[u8],
    format: FileFormat,
    start: Option<FilePosition>,
) -> Option<Vec<(crate::import::reader::SourceRecord, FilePosition)>> {
    let mut source = ContactSource::from_reader(Cursor::new(data), format, start).ok()?;
    let mut records = Vec::new();
    while records.len() < MAX_IMPORT_RECORDS {
        match source.next_record() {
            Ok(Some(record)) => records.push((record, source.position())),
            Ok(None) => break,
            Err(_) => return None,
        }
    }
    Some(records)
}

/// A Word package as uploaded: refused with a document error, or accepted, and then a merge
/// gives a package that is accepted again, holds no merge field, and is the same bytes
/// each time.
pub fn docx_package(data: &[u8]) {
    // An upload is checked by listing its fields; only a package that passes is ever merged.
    let Ok(fields) = docx::merge_fields(data) else { return };
    let template = DocxTemplate::new(data)
        .unwrap_or_else(|e| panic!("a package the upload check accepts unpacks for the merge: {e:?}"));
    let mut values = MergeValues::new();
    for (i, name) in fields.iter().enumerate() {
        // Values with XML's special characters, line breaks and tabs, and one left empty.
        let value = (i % 3 != 2).then(|| format!("<{name}> & \"{i}\"\n\tnext"));
        values.set(name, value);
    }
    let merged = template.merge(&values);
    let merged = match merged {
        Ok(merged) => merged,
        // A part the upload check accepted but the merge cannot rewrite is refused, never a panic.
        Err(DocumentError::InvalidDocx(_)) => return,
        Err(e) => panic!("a merge fails only on the package: {e:?}"),
    };
    assert_eq!(template.merge(&values).ok().as_ref(), Some(&merged), "the merge is deterministic");
    match docx::merge_fields(&merged) {
        Ok(left) => assert!(left.is_empty(), "a merged package holds no merge field: {left:?}"),
        Err(e) => panic!("a merged package is a Word package: {e:?}"),
    }
}

/// The bytes as the body part (`word/document.xml`) of an otherwise valid package, so that the
/// fuzzer works on the XML the merge reads instead of on zip framing.
pub fn docx_body_xml(data: &[u8]) {
    docx_package(&package_with_body(data));
}

/// A minimal Word package around `document_xml`.
pub fn package_with_body(document_xml: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let parts: [(&str, &[u8]); 2] =
        [("[Content_Types].xml", CONTENT_TYPES.as_bytes()), ("word/document.xml", document_xml)];
    for (name, bytes) in parts {
        // Writing to memory cannot fail.
        let _ = zip.start_file(name, options);
        let _ = zip.write_all(bytes);
    }
    zip.finish().map(Cursor::into_inner).unwrap_or_default()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// An HTML (first byte even) or text template as uploaded: refused with a document error, or
/// its fields listed and the document rendered with values for them, in bounded time.
pub fn text_template(data: &[u8]) {
    let Some((kind, source)) = data.split_first() else { return };
    let kind = if kind % 2 == 0 { DocumentKind::Html } else { DocumentKind::Text };
    let Ok(fields) = text::merge_fields(kind, source) else { return };
    let rendered = text::render(kind, source, |name| fields.iter().any(|f| f == name).then_some("<v & 'w'>"));
    match rendered {
        Ok(_) | Err(DocumentError::InvalidTemplate(_)) => {}
        Err(e) => panic!("a parsed template renders or is refused as a template: {e:?}"),
    }
}

/// What an accepted filter must do: read back from storage as it was, be accepted again as
/// the API echoes it, stay within the bounds, and compile on both backends to SQL that runs.
fn accepted_filter(node: &FilterNode) {
    let stored = serde_json::to_string(node).unwrap_or_else(|e| panic!("a filter serialises: {e}"));
    let read_back: FilterNode =
        serde_json::from_str(&stored).unwrap_or_else(|e| panic!("a stored filter reads back: {e}: {stored}"));
    assert_eq!(&read_back, node, "a stored filter reads back as it was: {stored}");
    let echoed = serde_json::to_value(node).unwrap_or_else(|e| panic!("a filter serialises: {e}"));
    match parse_filter(&echoed, "/filter") {
        Ok(again) => assert_eq!(&again, node, "an echoed filter is accepted as it was: {stored}"),
        Err(faults) => panic!("an echoed filter is refused: {faults:?}: {stored}"),
    }
    let (depth, nodes) = size(node);
    assert!(depth <= MAX_DEPTH && nodes <= MAX_NODES, "an accepted filter is within the bounds");
    for sqlite in [true, false] {
        let mut sql = SqlBuilder::new(sqlite);
        sql.sql("SELECT count(*) AS n FROM contacts WHERE ");
        predicate(node, &mut sql).unwrap_or_else(|e| unexpected(&e));
        if sqlite {
            run_on_sqlite(&sql);
        } else {
            let placeholders = sql.text().matches('$').count();
            assert_eq!(placeholders, sql.binds().len(), "one placeholder per bound value: {}", sql.text());
        }
    }
}

/// The depth and node count of a tree, as the parser's bounds count them.
fn size(node: &FilterNode) -> (usize, usize) {
    let children: Vec<&FilterNode> = match node {
        FilterNode::Condition(_) => vec![],
        FilterNode::All(g) => g.all.iter().collect(),
        FilterNode::Any(g) => g.any.iter().collect(),
        FilterNode::Not(n) => vec![&*n.not],
        FilterNode::Interactions(i) => i.interactions.condition.iter().map(|c| &**c).collect(),
    };
    children.into_iter().map(size).fold((1, 1), |(depth, nodes), (d, n)| (depth.max(d + 1), nodes + n))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[allow(dead_code)]
    n: i64,
}

/// Runs a compiled statement on the fuzzing database: it must be SQL SQLite accepts.
fn run_on_sqlite(sql: &SqlBuilder) {
    with_sqlite(|conn| {
        if let Err(e) = sql.load::<Count>(conn) {
            panic!("compiled SQL fails: {e}\n{}", sql.text());
        }
    });
}

/// One migrated SQLite database per process, in the temporary directory.
fn with_sqlite<T>(f: impl FnOnce(&mut Conn) -> T) -> T {
    static DATABASE: OnceLock<Mutex<Conn>> = OnceLock::new();
    let database = DATABASE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("crm-segments-fuzz-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let backend = Backend::Sqlite(path.display().to_string());
        let mut conn = db::connect(&backend).unwrap_or_else(|e| panic!("the fuzzing database opens: {e:#}"));
        db::run_migrations(&mut conn).unwrap_or_else(|e| panic!("the fuzzing database migrates: {e:#}"));
        if let Conn::Sqlite(c) = &mut conn {
            // Nothing here needs to survive a crash.
            let _ = c.batch_execute("PRAGMA synchronous = OFF");
        }
        Mutex::new(conn)
    });
    let mut conn = database.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut conn)
}

/// A refusal must be the client's fault: a 4xx problem.
fn client_error(e: &ApiError) {
    let status = e.status_code();
    assert!(status.is_client_error(), "bad input answers 4xx, not {status}: {e:?}");
}

fn unexpected(e: &ApiError) -> ! {
    panic!("an accepted input fails to compile: {e:?}")
}
