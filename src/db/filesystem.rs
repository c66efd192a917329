//! Whether the SQLite file's filesystem is read-only, as the pool needs to know it.
//!
//! While it is, the pool's connections refuse writes (`PRAGMA query_only`, set at checkout)
//! and no new connection is opened. SQLite opens a file it cannot write read-only and keeps it
//! so; worse, every connection to a file in one process shares one mapping of its `-shm` file,
//! made read-only too when such a connection is the first to open it: the connections opened
//! after the filesystem is writable again could not write either. The connections opened while
//! it was writable keep their descriptors, so they answer reads throughout and write again
//! once it is writable (see `ConnectionManager::is_valid`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a finding about the filesystem is trusted before a checkout asks again: asking
/// costs a system call, a checkout otherwise a few hundred nanoseconds.
pub const FILESYSTEM_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// The last finding about the filesystem of one SQLite file, shared by the pool's checkouts.
#[derive(Debug)]
pub struct FilesystemWatch {
    path: String,
    started: Instant,
    /// When it was last asked, in milliseconds since `started` plus one (0: never).
    checked_ms: AtomicU64,
    read_only: AtomicBool,
    /// Whether it was ever found read-only: until then no connection can have been set to
    /// refuse writes, and a checkout need not set anything.
    ever_read_only: AtomicBool,
}

impl FilesystemWatch {
    pub fn new(path: &str) -> Self {
        FilesystemWatch {
            path: path.to_owned(),
            started: Instant::now(),
            checked_ms: AtomicU64::new(0),
            read_only: AtomicBool::new(false),
            ever_read_only: AtomicBool::new(false),
        }
    }

    /// Asks the filesystem now (as a connection opens) and remembers the answer.
    pub fn check(&self) -> bool {
        let read_only = filesystem_read_only(&self.path);
        if read_only {
            self.ever_read_only.store(true, Ordering::SeqCst);
        }
        self.read_only.store(read_only, Ordering::SeqCst);
        self.checked_ms.store(self.now_ms(), Ordering::SeqCst);
        read_only
    }

    /// The last answer, asked again when older than [`FILESYSTEM_CHECK_INTERVAL`].
    pub fn read_only(&self) -> bool {
        let checked = self.checked_ms.load(Ordering::SeqCst);
        let stale = checked == 0
            || self.now_ms().saturating_sub(checked) >= FILESYSTEM_CHECK_INTERVAL.as_millis() as u64;
        if stale {
            self.check()
        } else {
            self.read_only.load(Ordering::SeqCst)
        }
    }

    pub fn ever_read_only(&self) -> bool {
        self.ever_read_only.load(Ordering::SeqCst)
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64 + 1
    }
}

/// Whether the filesystem holding the file is read-only. Asked by renaming the file onto
/// itself, which POSIX makes a no-op that still fails with EROFS on a read-only filesystem:
/// opening and closing the file here instead would drop the POSIX locks SQLite holds on it in
/// this process. A file not created yet counts as writable.
fn filesystem_read_only(path: &str) -> bool {
    std::fs::rename(path, path).is_err_and(|e| e.kind() == std::io::ErrorKind::ReadOnlyFilesystem)
}
