//! `SmtpSink`: a real SMTP server (`tests/support/smtp_sink.py`, aiosmtpd) on a free port, whose
//! received messages a test reads back as JSON and which can be told to refuse.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running sink; it is killed and its files removed on drop.
pub struct SmtpSink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl SmtpSink {
    /// Starts a sink; None (after a loud notice) when no interpreter with aiosmtpd is found,
    /// except under CI, where that is a failure.
    pub fn start() -> Option<SmtpSink> {
        Self::start_on(0)
    }

    /// Like [`SmtpSink::start`], listening on `port` (0: a free one), e.g. one a service was
    /// already told to send to while nothing listened there.
    pub fn start_on(port: u16) -> Option<SmtpSink> {
        let Some(python) = python_with_aiosmtpd() else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "no Python with aiosmtpd for the SMTP sink: run `.ci/setup-python` and set \
                     CRM_TEST_PYTHON=$PWD/target/ci-venv/bin/python"
                );
            }
            eprintln!(
                "\n*** SKIPPED: no Python with aiosmtpd, so this SMTP test did not run. \
                 Run `.ci/setup-python` (it creates target/ci-venv). ***\n"
            );
            return None;
        };
        let dir = std::env::temp_dir().join(format!(
            "crm-smtp-sink-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--out")
            .arg(dir.join("messages.jsonl"))
            .arg("--control")
            .arg(dir.join("control"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let Some(port) = line.trim().strip_prefix("LISTENING ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            panic!("the SMTP sink did not start: it printed {line:?} (its stderr is above)");
        };
        Some(SmtpSink { child, port, dir })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL to give `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let text = match std::fs::read_to_string(self.dir.join("messages.jsonl")) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => panic!("cannot read the sink's messages: {e}"),
        };
        // A line still being written has no newline yet.
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Waits until at least `n` messages have arrived and returns them; panics after `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() > deadline {
                panic!("the SMTP sink received {} of {n} messages in {timeout:?}", messages.len());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// From now on RCPT and DATA are answered with `code` (451: try again later, 550: never).
    pub fn refuse(&self, code: u16) {
        self.write_control(&format!("refuse {code}"));
    }

    /// From now on messages are accepted again.
    pub fn accept(&self) {
        self.write_control("accept");
    }

    /// Stops the server; a later send finds nothing listening.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn write_control(&self, command: &str) {
        // Renamed into place so the sink never reads half a command.
        let partial = self.dir.join("control.partial");
        std::fs::write(&partial, command).unwrap();
        std::fs::rename(&partial, self.dir.join("control")).unwrap();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `CRM_TEST_PYTHON`, else the venv `.ci/setup-python` makes, else `python3`: the first that
/// can import aiosmtpd. Looked for once per test run.
fn python_with_aiosmtpd() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND.get_or_init(find_python_with_aiosmtpd).clone()
}

fn find_python_with_aiosmtpd() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python");
    let candidates = match std::env::var_os("CRM_TEST_PYTHON").filter(|p| !p.is_empty()) {
        Some(named) => vec![PathBuf::from(named)],
        None => vec![venv, PathBuf::from("python3")],
    };
    candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}
