//! The rejects file: one CSV row per rejected record, with its line, the reasons and the record
//! as it stands in the input.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// A record that was not written.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub line: u64,
    pub span: Range<u64>,
    pub reason: String,
}

/// Appends rejected records to the rejects file, copying their text from the input.
pub struct RejectsFile {
    path: PathBuf,
    // csv's writer buffers on its own.
    writer: csv::Writer<File>,
    input: File,
    /// The file's length after the last flush.
    bytes: u64,
}

impl RejectsFile {
    /// A new rejects file holding only its header (an earlier one at `path` is replaced).
    pub fn create(path: &Path, input: &Path) -> anyhow::Result<RejectsFile> {
        let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut rejects = RejectsFile::with_file(path, file, input, 0)?;
        rejects.writer.write_record(["line", "reason", "record"]).context("cannot write the rejects file")?;
        rejects.flush()?;
        Ok(rejects)
    }

    /// The rejects file of a resumed import, cut back to its length at the checkpoint.
    pub fn reopen(path: &Path, input: &Path, bytes: u64) -> anyhow::Result<RejectsFile> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open the rejects file {} to resume", path.display()))?;
        let length = file.metadata().context("cannot stat the rejects file")?.len();
        if length < bytes {
            bail!(
                "the rejects file {} is shorter than the checkpoint says ({length} < {bytes} bytes); pass --restart",
                path.display()
            );
        }
        file.set_len(bytes).context("cannot cut back the rejects file")?;
        RejectsFile::with_file(path, file, input, bytes)
    }

    fn with_file(path: &Path, mut file: File, input: &Path, bytes: u64) -> anyhow::Result<RejectsFile> {
        file.seek(SeekFrom::Start(bytes)).context("cannot seek in the rejects file")?;
        let input = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
        Ok(RejectsFile { path: path.to_owned(), writer: csv::Writer::from_writer(file), input, bytes })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the records, each with its text from the input without the line end.
    pub fn append(&mut self, rejected: &[Rejected]) -> anyhow::Result<()> {
        for r in rejected {
            let text = self.record_text(&r.span)?;
            self.writer
                .write_record([r.line.to_string().as_str(), &r.reason, &text])
                .context("cannot write the rejects file")?;
        }
        Ok(())
    }

    /// Flushes to the file and answers its length, for the checkpoint.
    pub fn flush(&mut self) -> anyhow::Result<u64> {
        self.writer.flush().context("cannot write the rejects file")?;
        let mut file: &File = self.writer.get_ref();
        self.bytes = file.stream_position().context("cannot write the rejects file")?;
        Ok(self.bytes)
    }

    fn record_text(&mut self, span: &Range<u64>) -> anyhow::Result<String> {
        let mut bytes = vec![0; usize::try_from(span.end - span.start).unwrap_or(0)];
        self.input.seek(SeekFrom::Start(span.start)).context("cannot read back a rejected record")?;
        self.input.read_exact(&mut bytes).context("cannot read back a rejected record")?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(text.trim_end_matches(['\r', '\n']).to_owned())
    }
}
