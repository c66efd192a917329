//! Faults of what the service stands on, made for real: its PostgreSQL server restarted under
//! traffic (a private cluster: the server other tests use is left alone), no SMTP server
//! listening while it delivers, and its SQLite file's filesystem turned read-only or full (a
//! tmpfs of the test's own). Every failure is a problem document that names no internals, never
//! a 500, and the service recovers by itself once the fault is gone.
//!
//! The database faults need PostgreSQL's server binaries and root (for `mount`); without them
//! they print a loud SKIPPED notice, unless `CI` is set, when they fail.

mod postgres_restart;
mod smtp_down;
mod sqlite_storage;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh path under the temporary directory, unique in this run.
pub fn temp_path(prefix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()))
}

/// Under CI a failure; elsewhere a loud notice, after which the test returns.
pub fn cannot_run(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test} cannot run: {why}");
    }
    eprintln!("\n*** SKIPPED: {test} did not run: {why} ***\n");
}

/// Runs a command to its end; its stderr as the error when it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim()))
    }
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A problem body without its `request_id` (random hex, which may contain any digits) as
/// lower-case text, for looking for internals in it.
fn problem_text(problem: &Value) -> String {
    let mut problem = problem.clone();
    problem.as_object_mut().unwrap().remove("request_id");
    problem.to_string().to_lowercase()
}

pub fn assert_names_no_internals(problem: &Value, forbidden: &[String]) {
    let text = problem_text(problem);
    for fragment in forbidden {
        assert!(!text.contains(&fragment.to_lowercase()), "the problem names {fragment:?}: {problem}");
    }
}

/// What a problem about the database must not name: hosts, drivers, SQL, the database's own
/// messages, and paths.
pub fn database_internals(extra: &[String]) -> Vec<String> {
    let mut fragments: Vec<String> = [
        "127.0.0.1",
        "localhost",
        "postgres",
        "sqlite",
        "sql",
        "libpq",
        "diesel",
        "r2d2",
        "refused",
        "terminating",
        "server closed",
        "socket",
        "os error",
        "fatal",
        "readonly database",
        "disk is full",
        "/tmp",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    fragments.extend(extra.iter().cloned());
    fragments
}

/// A contact to create, numbered `no`.
pub fn contact(no: &str) -> Value {
    json!({"no": no, "type": "person", "name": format!("Person {no}"), "email": format!("{no}@example.no")})
}
