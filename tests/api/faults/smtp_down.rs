//! No SMTP server listening while the service delivers: the attempts fail as transient, and
//! once a server listens each message arrives exactly once.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::delivery::{log_and_deliver, settled_entries, smtp_settings};
use crate::documents::{seed, segment};
use crate::helpers::{assert_json, Db, TestApp};
use crate::smtp::SmtpSink;

/// A port with nothing listening: bound but not listening, so that connections to it are
/// refused and nothing else in this run takes it until the test starts its SMTP server there.
struct ClosedPort {
    socket: tokio::net::TcpSocket,
    port: u16,
}

impl ClosedPort {
    fn new() -> ClosedPort {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = socket.local_addr().unwrap().port();
        ClosedPort { socket, port }
    }

    /// Hands the port over to an SMTP server started on it.
    fn open_smtp_server(self) -> Option<SmtpSink> {
        drop(self.socket);
        SmtpSink::start_on(self.port)
    }
}

/// An app sending to a port where nothing listens (connections are refused), retrying after
/// `retry_base` at most `max_attempts` times; and that port.
async fn app_sending_nowhere(
    db: Db,
    max_attempts: i64,
    retry_base: Duration,
) -> Option<(TestApp, ClosedPort)> {
    let port = ClosedPort::new();
    let url = format!("smtp://127.0.0.1:{}", port.port);
    let app = TestApp::try_spawn_with(db, move |settings| {
        settings.smtp = smtp_settings(&url);
        settings.delivery.poll = Duration::from_millis(100);
        settings.delivery.retry.base = retry_base;
        settings.delivery.retry.max_attempts = max_attempts;
    })
    .await?;
    Some((app, port))
}

/// Waits until the sink holds `n` messages, lets a second pass for any late duplicate, and
/// checks that each of `entries` arrived exactly once (by its Message-ID).
fn assert_each_arrived_once(sink: &SmtpSink, entries: &[Value]) {
    sink.wait_for(entries.len(), Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(1));
    let messages = sink.messages();
    let mut ids: Vec<String> =
        messages.iter().map(|m| m["message_id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut expected: Vec<String> =
        entries.iter().map(|e| format!("<interaction-{}@example.com>", e["entry_no"])).collect();
    expected.sort();
    assert_eq!(ids, expected, "each entry's message exactly once");
}

fn assert_connection_refused(entry: &Value) {
    let error = entry["delivery_error"].as_str().unwrap_or_default().to_lowercase();
    assert!(error.contains("refused"), "the delivery error does not say the connection was refused: {entry}");
}

async fn no_smtp_server_fails_the_entries_then_resend_delivers_each_once(db: Db) {
    let Some((app, port)) = app_sending_nowhere(db, 2, Duration::from_millis(50)).await else { return };
    seed(&app).await;
    let id = segment(&app, json!({"correspondence_type": "email", "send_as_attachment": true})).await;
    let logged = log_and_deliver(&app, id).await;
    let entries = settled_entries(&app, logged).await;
    assert_eq!(entries.len(), 3);
    for entry in &entries {
        assert_eq!(
            (entry["delivery_status"].as_str(), entry["delivery_attempts"].as_i64()),
            (Some("failed"), Some(2))
        );
        assert_connection_refused(entry);
    }
    println!("the delivery error with nothing listening: {}", entries[0]["delivery_error"]);
    // The server comes up on that port; each entry is resent once.
    let Some(sink) = port.open_smtp_server() else { return };
    for entry in &entries {
        let resend = format!("/v1/interaction-log-entries/{}/resend", entry["id"]);
        assert_json(app.post(&resend, &json!({})).await, 202).await;
    }
    let entries = settled_entries(&app, logged).await;
    assert!(entries.iter().all(|e| e["delivery_status"] == "sent"), "{entries:?}");
    assert_each_arrived_once(&sink, &entries);
}

async fn no_smtp_server_keeps_the_entries_pending_and_the_retry_delivers_each_once(db: Db) {
    let Some((app, port)) = app_sending_nowhere(db, 30, Duration::from_millis(100)).await else { return };
    seed(&app).await;
    let id = segment(&app, json!({"correspondence_type": "email", "send_as_attachment": true})).await;
    let logged = log_and_deliver(&app, id).await;
    // Refused twice each: still pending, the reason recorded.
    let path = format!("/v1/logged-segments/{logged}/entries?limit=1000");
    let deadline = Instant::now() + Duration::from_secs(20);
    let entries = loop {
        let entries = assert_json(app.get(&path).await, 200).await["items"].as_array().unwrap().clone();
        if entries.iter().all(|e| e["delivery_attempts"].as_i64() >= Some(2)) {
            break entries;
        }
        assert!(Instant::now() < deadline, "not retried: {entries:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for entry in &entries {
        assert_eq!(entry["delivery_status"], "pending", "{entry}");
        assert_connection_refused(entry);
    }
    // The server comes up: the worker's own retries deliver each message once.
    let Some(sink) = port.open_smtp_server() else { return };
    let entries = settled_entries(&app, logged).await;
    assert!(entries.iter().all(|e| e["delivery_status"] == "sent"), "{entries:?}");
    assert_each_arrived_once(&sink, &entries);
}

crate::db_test!(
    no_smtp_server_then_resend,
    run = no_smtp_server_fails_the_entries_then_resend_delivers_each_once
);
crate::db_test!(
    no_smtp_server_then_automatic_retry,
    run = no_smtp_server_keeps_the_entries_pending_and_the_retry_delivers_each_once
);
