//! The checkpoint sidecar: how far an import got, written after every committed batch so
//! that a rerun with `--resume` continues there.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::reader::FilePosition;

/// Bytes at the head of the input that are hashed to recognise it (the CSV header and more).
const FINGERPRINT_HEAD_BYTES: u64 = 64 * 1024;

/// What an import has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Records read: written (created, updated, unchanged) or rejected.
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

/// Tells the input file apart from another one (or a changed one) at the same path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFingerprint {
    pub size: u64,
    pub modified_unix_nanos: u128,
    /// SHA-256 of the file's first 64 KiB, hex.
    pub head_sha256: String,
}

impl InputFingerprint {
    pub fn of(path: &Path) -> anyhow::Result<InputFingerprint> {
        let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let metadata = file.metadata().with_context(|| format!("cannot stat {}", path.display()))?;
        let modified_unix_nanos = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut head = Vec::new();
        (&mut file).take(FINGERPRINT_HEAD_BYTES).read_to_end(&mut head).context("cannot read the input")?;
        let head_sha256 = Sha256::digest(&head).iter().map(|b| format!("{b:02x}")).collect();
        Ok(InputFingerprint { size: metadata.len(), modified_unix_nanos, head_sha256 })
    }
}

/// The state of an import after its last committed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Where the first record not yet written starts.
    pub next: FilePosition,
    pub counts: ImportCounts,
    /// The length of the rejects file then: a resume cuts off what a stopped run added later,
    /// so that no line is listed twice.
    pub rejects_bytes: u64,
    pub input: InputFingerprint,
}

impl Checkpoint {
    /// The checkpoint at `path`, or None when there is none.
    pub fn load(path: &Path) -> anyhow::Result<Option<Checkpoint>> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read the checkpoint {}", path.display()))
            }
        };
        serde_json::from_slice(&text)
            .map(Some)
            .with_context(|| format!("the checkpoint {} is not readable; pass --restart", path.display()))
    }

    /// Writes the checkpoint to a temporary file and renames it over `path`, so that a crash
    /// leaves the old checkpoint or the new one, never half of one.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let temporary = temporary_path(path);
        let json = serde_json::to_vec_pretty(self).context("cannot encode the checkpoint")?;
        let mut file = File::create(&temporary)
            .with_context(|| format!("cannot write the checkpoint {}", temporary.display()))?;
        file.write_all(&json).and_then(|()| file.sync_data()).context("cannot write the checkpoint")?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("cannot write the checkpoint {}", path.display()))
    }

    /// Refuses to resume on a file other than the one this checkpoint was written for.
    pub fn check_input(&self, input: &Path, now: &InputFingerprint) -> anyhow::Result<()> {
        if self.input != *now {
            bail!(
                "{} is not the file the checkpoint was written for (its size, time or first bytes differ); pass --restart to import it from the start",
                input.display()
            );
        }
        Ok(())
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}
