//! `crm-segments import contacts FILE`: a CSV or JSON lines file streamed through bulk sync in
//! batches, rejected records listed with their lines and reasons, resumable from a checkpoint.

pub mod checkpoint;
pub mod progress;
pub mod reader;
pub mod rejects;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::contacts::model::{BulkStatus, ContactPatch};
use crate::contacts::write::bulk_sync;
use crate::db::Conn;
use crate::error::{ApiError, FieldError};
use checkpoint::{Checkpoint, ImportCounts, InputFingerprint};
use progress::{ImportProgress, ProgressDisplay};
use reader::{ContactSource, FileFormat};
use rejects::{Rejected, RejectsFile};

/// How an import begins when its file may have a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// From the first record; refused while a checkpoint exists.
    Fresh,
    /// From the checkpoint, which must exist and be of this file.
    Resume,
    /// From the first record, dropping any checkpoint.
    Restart,
}

/// One import of contacts from a file.
#[derive(Debug, Clone)]
pub struct ContactImport {
    pub input: PathBuf,
    /// Rows per bulk sync call (and transaction).
    pub batch: usize,
    pub start: StartMode,
    /// Default: `FILE.rejects.csv`.
    pub rejects: Option<PathBuf>,
    /// Default: `FILE.import-state`.
    pub checkpoint: Option<PathBuf>,
}

impl ContactImport {
    pub fn rejects_path(&self) -> PathBuf {
        self.rejects.clone().unwrap_or_else(|| beside(&self.input, ".rejects.csv"))
    }

    pub fn checkpoint_path(&self) -> PathBuf {
        self.checkpoint.clone().unwrap_or_else(|| beside(&self.input, ".import-state"))
    }
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What a finished import did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// Over the whole file, resumed runs included.
    pub counts: ImportCounts,
    pub rows_this_run: u64,
    pub elapsed: Duration,
    /// The rejects file, when any record was rejected.
    pub rejects: Option<PathBuf>,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let seconds = self.elapsed.as_secs_f64();
        write!(
            f,
            "read {} rows: {} created, {} updated, {} unchanged, {} rejected; {:.1} s, {:.0} rows/s",
            c.read,
            c.created,
            c.updated,
            c.unchanged,
            c.rejected,
            seconds,
            self.rows_this_run as f64 / seconds.max(1e-3)
        )?;
        if let Some(path) = &self.rejects {
            write!(f, "\nrejected rows are listed in {}", path.display())?;
        }
        Ok(())
    }
}

/// A record that makes a bulk item, waiting in a batch.
struct BatchRow {
    line: u64,
    span: Range<u64>,
    item: ContactPatch,
}

/// Imports the file batch by batch, one transaction each, checkpointing after every batch.
/// Rows that do not parse or that bulk sync refuses are rejected; any other error stops the
/// import, and the checkpoint lets a rerun with `StartMode::Resume` continue.
pub fn import_contacts(
    conn: &mut Conn,
    import: &ContactImport,
    progress: &mut ProgressDisplay,
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let input = import.input.as_path();
    let format = FileFormat::of(input)?;
    let (checkpoint_path, rejects_path) = (import.checkpoint_path(), import.rejects_path());
    let fingerprint = InputFingerprint::of(input)?;
    let resumed = match (import.start, Checkpoint::load(&checkpoint_path)?) {
        (StartMode::Fresh, Some(c)) => bail!(
            "an import of {} stopped before line {} (checkpoint {}): pass --resume to continue it or --restart to start over",
            input.display(),
            c.next.line,
            checkpoint_path.display()
        ),
        (StartMode::Resume, None) => bail!(
            "there is no checkpoint {} to resume from: run without --resume to import the whole file",
            checkpoint_path.display()
        ),
        (StartMode::Resume, Some(c)) => {
            c.check_input(input, &fingerprint)?;
            Some(c)
        }
        (StartMode::Fresh | StartMode::Restart, _) => None,
    };
    // Opening the source checks the CSV header, before anything is written or removed.
    let mut source = ContactSource::open(input, format, resumed.as_ref().map(|c| c.next))?;
    let mut rejects = match &resumed {
        Some(c) => RejectsFile::reopen(&rejects_path, input, c.rejects_bytes)?,
        None => {
            remove_if_present(&checkpoint_path)?;
            RejectsFile::create(&rejects_path, input)?
        }
    };
    let mut counts = resumed.map(|c| c.counts).unwrap_or_default();
    let (rows_before, bytes_at_start) = (counts.read, source.position().offset);
    let batch_size = import.batch.max(1);
    let mut statistics = PlannerStatistics::default();
    loop {
        let mut rows = Vec::with_capacity(batch_size);
        let mut rejected = Vec::new();
        let mut read = 0;
        while rows.len() < batch_size {
            let Some(record) = source.next_record()? else { break };
            read += 1;
            match record.item {
                Ok(item) => rows.push(BatchRow { line: record.line, span: record.span, item }),
                Err(reason) => rejected.push(Rejected { line: record.line, span: record.span, reason }),
            }
        }
        if read == 0 {
            break;
        }
        let first_line = rows.first().map_or(0, |r| r.line);
        let written = write_batch(conn, rows, &mut rejected).with_context(|| {
            format!(
                "the batch from line {first_line} was not written; rerun with --resume to continue after the last written batch"
            )
        })?;
        statistics.note_created(conn, written.created)?;
        counts.read += read;
        counts.created += written.created;
        counts.updated += written.updated;
        counts.unchanged += written.unchanged;
        counts.rejected += rejected.len() as u64;
        rejected.sort_by_key(|r| r.line);
        rejects.append(&rejected)?;
        // Rejects first, then the checkpoint that counts them: a crash in between only makes
        // the resumed run cut them off and list them again.
        let rejects_bytes = rejects.flush()?;
        let position = source.position();
        Checkpoint { next: position, counts, rejects_bytes, input: fingerprint.clone() }
            .save(&checkpoint_path)?;
        progress.report(&ImportProgress {
            bytes_done: position.offset,
            bytes_total: fingerprint.size,
            bytes_at_start,
            rows: counts.read,
            rejected: counts.rejected,
            rows_this_run: counts.read - rows_before,
            started,
        });
    }
    progress.finish();
    remove_if_present(&checkpoint_path)?;
    let rejects = if counts.rejected > 0 {
        Some(rejects.path().to_owned())
    } else {
        remove_if_present(rejects.path())?;
        None
    };
    Ok(ImportSummary {
        counts,
        rows_this_run: counts.read - rows_before,
        elapsed: started.elapsed(),
        rejects,
    })
}

/// Keeps PostgreSQL's statistics of `contacts` abreast of a load that grows it. Planned on
/// the statistics of a small table, bulk sync's lookups by `no` scan the whole table for every
/// batch (measured: 100,000 rows took 110 s instead of 9); an `ANALYZE` whenever the rows
/// created since the last one reach the count then known keeps them on the indexes, at a
/// logarithmic number of `ANALYZE`s. SQLite's planner uses the indexes without statistics.
#[derive(Debug)]
struct PlannerStatistics {
    created_since: u64,
    known_rows: u64,
}

impl Default for PlannerStatistics {
    fn default() -> Self {
        // The first refresh once a table of a few hundred rows is no longer tiny.
        PlannerStatistics { created_since: 0, known_rows: 500 }
    }
}

impl PlannerStatistics {
    fn note_created(&mut self, conn: &mut Conn, created: u64) -> anyhow::Result<()> {
        self.created_since += created;
        if self.created_since < self.known_rows {
            return Ok(());
        }
        if let Conn::Postgresql(c) = conn {
            use diesel::RunQueryDsl;
            diesel::sql_query("ANALYZE contacts")
                .execute(c)
                .context("cannot refresh the planner statistics")?;
        }
        self.known_rows += self.created_since;
        self.created_since = 0;
        Ok(())
    }
}

/// Writes the rows with bulk sync; rows it refuses are moved to `rejected` with their reasons
/// and the rest is tried again, until a call succeeds or no row is left. Answers the counts
/// of created, updated and unchanged rows.
fn write_batch(
    conn: &mut Conn,
    mut rows: Vec<BatchRow>,
    rejected: &mut Vec<Rejected>,
) -> anyhow::Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    while !rows.is_empty() {
        let items = rows.iter().map(|r| r.item.clone()).collect();
        let errors = match bulk_sync(conn, items) {
            Ok(results) => {
                for result in results {
                    match result.status {
                        BulkStatus::Created => counts.created += 1,
                        BulkStatus::Updated => counts.updated += 1,
                        BulkStatus::Unchanged => counts.unchanged += 1,
                    }
                }
                return Ok(counts);
            }
            // Both name the faulty items by index: a refused row, not a failed import.
            Err(ApiError::Validation(errors) | ApiError::Duplicates(errors)) => errors,
            Err(other) => return Err(import_error(other)),
        };
        let mut reasons = reasons_by_item(&errors, rows.len())?;
        rows = rows
            .into_iter()
            .enumerate()
            .filter_map(|(index, row)| match reasons.remove(&index) {
                Some(reason) => {
                    rejected.push(Rejected { line: row.line, span: row.span, reason });
                    None
                }
                None => Some(row),
            })
            .collect();
    }
    Ok(counts)
}

/// The faults of a refused batch by item index, each item's joined into one reason.
fn reasons_by_item(errors: &[FieldError], items: usize) -> anyhow::Result<BTreeMap<usize, String>> {
    let mut reasons: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for error in errors {
        let Some((index, field)) = item_field(&error.field).filter(|(index, _)| *index < items) else {
            bail!(
                "bulk sync refused the batch for a reason tied to no row: {}: {}",
                error.field,
                error.message
            );
        };
        let reason =
            if field.is_empty() { error.message.clone() } else { format!("{field}: {}", error.message) };
        reasons.entry(index).or_default().push(reason);
    }
    if reasons.is_empty() {
        bail!("bulk sync refused the batch without naming a fault");
    }
    Ok(reasons.into_iter().map(|(index, r)| (index, r.join("; "))).collect())
}

/// `items[12].email` as (12, "email").
fn item_field(field: &str) -> Option<(usize, &str)> {
    let rest = field.strip_prefix("items[")?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest.trim_start_matches('.')))
}

/// An error of bulk sync as the command line reports it: internal errors keep their cause
/// chain, the others their problem detail.
fn import_error(error: ApiError) -> anyhow::Error {
    match error {
        ApiError::Internal(_) => anyhow::Error::from(error),
        other => anyhow::anyhow!(other.problem().detail),
    }
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn faults_are_mapped_back_to_their_items() {
        let errors = vec![
            FieldError::new("items[2].email", "invalid", "not an email address"),
            FieldError::new("items[0].type", "required", "type is required"),
            FieldError::new("items[2].name", "too_long", "too long"),
        ];
        let reasons = reasons_by_item(&errors, 3).unwrap();
        assert_eq!(reasons[&0], "type: type is required");
        assert_eq!(reasons[&2], "email: not an email address; name: too long");
        assert!(reasons_by_item(&errors, 2).is_err(), "an index past the batch is no row of it");
        assert!(reasons_by_item(&[FieldError::new("items", "too_many", "x")], 3).is_err());
    }
}
