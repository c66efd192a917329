//! Delivery with a real SMTP server (aiosmtpd, `tests/support/smtp_sink.py`): what arrives,
//! failures and resend, and several server processes sending each message once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::documents::{lines, seed, segment};
use crate::helpers::{assert_json, Db, TestApp};
use crate::logging::SecondServer;
use crate::smtp::SmtpSink;
use crm_segments::config::Settings;

/// An app on `db` sending through `sink`, retrying after 50 ms at most `max_attempts` times.
async fn app_with_smtp(db: Db, sink: &SmtpSink, max_attempts: i64) -> Option<TestApp> {
    let url = sink.url();
    TestApp::try_spawn_with(db, move |settings| {
        settings.smtp = smtp_settings(&url);
        settings.delivery.poll = Duration::from_millis(100);
        settings.delivery.retry.base = Duration::from_millis(50);
        settings.delivery.retry.max_attempts = max_attempts;
    })
    .await
}

pub fn smtp_settings(url: &str) -> Option<crm_segments::config::SmtpSettings> {
    let env: BTreeMap<&str, &str> =
        [("SMTP_URL", url), ("SMTP_FROM", "Kundeservice <crm@example.com>")].into_iter().collect();
    Settings::from_lookup(|name| env.get(name).map(|v| (*v).to_owned())).unwrap().smtp
}

/// The logged segment's entries once none is pending any more (panics after 30 s).
pub async fn settled_entries(app: &TestApp, logged_segment: i64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let path = format!("/v1/logged-segments/{logged_segment}/entries?limit=1000");
        let page = assert_json(app.get(&path).await, 200).await;
        let entries = page["items"].as_array().unwrap().clone();
        if entries.iter().all(|e| e["delivery_status"] != "pending") {
            return entries;
        }
        assert!(Instant::now() < deadline, "deliveries still pending: {entries:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn log_and_deliver(app: &TestApp, segment: i64) -> i64 {
    let logged =
        assert_json(app.post(&format!("/v1/segments/{segment}/log"), &json!({"deliver": true})).await, 201)
            .await;
    logged["logged_segment"]["id"].as_i64().unwrap()
}

/// Runs `$body` with an app sending through a fresh SMTP sink, on SQLite and on PostgreSQL.
macro_rules! smtp_test {
    ($name:ident, max_attempts = $max:expr, |$app:ident, $sink:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(db: Db) {
                let Some($sink) = SmtpSink::start() else { return };
                let Some($app) = app_with_smtp(db, &$sink, $max).await else { return };
                $body
            }

            $crate::db_test!(@backends run = run);
        }
    };
}

smtp_test!(
    emails_arrive_with_their_bodies_and_attachments_and_letters_are_kept,
    max_attempts = 3,
    |app, sink| {
        seed(&app).await;
        // A: the nb HTML body. B: a hard-copy letter. C: the en Word letter, sent as attachment.
        let id = segment(
            &app,
            json!({"subject": "Vår & sommer", "send_as_attachment": true, "correspondence_type": "email"}),
        )
        .await;
        let l = lines(&app, id).await;
        let b = l[1]["id"].as_i64().unwrap();
        let patch = json!({"correspondence_type": "hard_copy"});
        assert_json(app.patch(&format!("/v1/segments/{id}/lines/{b}"), &patch).await, 200).await;
        let logged = log_and_deliver(&app, id).await;
        let entries = settled_entries(&app, logged).await;
        let statuses: Vec<&str> = entries.iter().map(|e| e["delivery_status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["sent", "sent", "sent"], "{entries:?}");
        assert!(entries.iter().all(|e| e["delivery_attempts"] == 1 && !e["delivered_at"].is_null()));
        let messages = sink.wait_for(2, Duration::from_secs(10));
        assert_eq!(messages.len(), 2, "the letter is not mailed: {messages:?}");
        let by_recipient: BTreeMap<&str, &Value> =
            messages.iter().map(|m| (m["rcpt_tos"][0].as_str().unwrap(), m)).collect();
        let astrid = by_recipient["astrid@example.no"];
        assert_eq!(astrid["subject"], "Vår & sommer");
        assert_eq!(astrid["html"], "<p>Hei Astrid</p>");
        assert_eq!(astrid["text"].as_str().unwrap().trim(), "Hei Astrid");
        let entry_a = &entries[0];
        assert_eq!(astrid["message_id"], format!("<interaction-{}@example.com>", entry_a["entry_no"]));
        let chris = by_recipient["chris@example.com"];
        let attachment = &chris["attachments"][0];
        let entry_c = entries[2]["id"].as_i64().unwrap();
        let document =
            app.get(&format!("/v1/interaction-log-entries/{entry_c}/document")).await.bytes().await.unwrap();
        let sha: String = Sha256::digest(&document).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(attachment["sha256"], sha, "the entry's document is the attachment, byte for byte");
        assert!(chris["text"].as_str().unwrap().contains("attached"), "{chris}");
        // The letter is ready to print.
        let letters =
            app.get(&format!("/v1/logged-segments/{logged}/documents")).await.bytes().await.unwrap();
        assert_eq!(zip::ZipArchive::new(std::io::Cursor::new(letters)).unwrap().len(), 1);
    }
);

smtp_test!(
    a_refusing_server_fails_the_entries_and_resend_delivers_each_once,
    max_attempts = 2,
    |app, sink| {
        seed(&app).await;
        let id = segment(&app, json!({"correspondence_type": "email", "send_as_attachment": true})).await;
        sink.refuse(451);
        let logged = log_and_deliver(&app, id).await;
        let entries = settled_entries(&app, logged).await;
        for entry in &entries {
            assert_eq!(
                (entry["delivery_status"].as_str(), entry["delivery_attempts"].as_i64()),
                (Some("failed"), Some(2))
            );
            assert!(entry["delivery_error"].as_str().unwrap().contains("451"), "{entry}");
        }
        assert!(sink.messages().is_empty());
        // Back up: resend each; every message arrives once.
        sink.accept();
        for entry in &entries {
            let resend = format!("/v1/interaction-log-entries/{}/resend", entry["id"]);
            assert_json(app.post(&resend, &json!({})).await, 202).await;
        }
        let entries = settled_entries(&app, logged).await;
        assert!(entries.iter().all(|e| e["delivery_status"] == "sent"), "{entries:?}");
        let messages = sink.wait_for(3, Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sink.messages().len(), 3, "{messages:?}");
        // A permanent refusal fails at once, without retries.
        sink.refuse(550);
        let again = crate::documents::segment(
            &app,
            json!({"correspondence_type": "email", "send_as_attachment": true}),
        )
        .await;
        let logged = log_and_deliver(&app, again).await;
        let entries = settled_entries(&app, logged).await;
        assert!(
            entries.iter().all(|e| e["delivery_status"] == "failed" && e["delivery_attempts"] == 1),
            "{entries:?}"
        );
    }
);

/// Two server processes on one PostgreSQL drain one outbox: every message is sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn two_server_processes_send_each_message_once() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with_smtp(Db::Postgres, &sink, 3).await.expect("TEST_DATABASE_URL is not set");
    let url = sink.url();
    let _second = SecondServer::start_with(
        &app,
        &[
            ("SMTP_URL", &url),
            ("SMTP_FROM", "crm@example.com"),
            ("DELIVERY_POLL_MS", "50"),
            ("DELIVERY_BATCH", "10"),
        ],
    )
    .await;
    seed(&app).await;
    // 300 contacts with an address, one HTML email each.
    let items: Vec<Value> = (0..300)
        .map(|i| {
            json!({"no": format!("M{i:03}"), "type": "person", "name": format!("Mottaker {i}"),
            "language_code": "nb", "email": format!("m{i}@example.no")})
        })
        .collect();
    assert_json(app.post("/v1/contacts/bulk", &json!({"items": items})).await, 200).await;
    let body =
        json!({"description": "Many", "interaction_template_code": "LTR", "correspondence_type": "email"});
    let id = assert_json(app.post("/v1/segments", &body).await, 201).await["id"].as_i64().unwrap();
    let nos: Vec<String> = (0..300).map(|i| format!("M{i:03}")).collect();
    assert_json(app.post(&format!("/v1/segments/{id}/lines"), &json!({"contact_nos": nos})).await, 201).await;
    let logged = log_and_deliver(&app, id).await;
    let entries = settled_entries(&app, logged).await;
    assert!(entries.iter().all(|e| e["delivery_status"] == "sent"), "{entries:?}");
    sink.wait_for(300, Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids: Vec<String> =
        sink.messages().iter().map(|m| m["message_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 300);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 300, "every Message-ID once");
}

/// A segment of `n` contacts with an address, template LTR's nb HTML body, correspondence email.
async fn mailing(app: &TestApp, n: usize) -> i64 {
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let items: Vec<Value> = chunk
            .iter()
            .map(|i| {
                json!({"no": format!("M{i:05}"), "type": "person", "name": format!("Mottaker {i}"),
                "language_code": "nb", "email": format!("m{i}@example.no")})
            })
            .collect();
        assert_json(app.post("/v1/contacts/bulk", &json!({"items": items})).await, 200).await;
    }
    let body =
        json!({"description": "Many", "interaction_template_code": "LTR", "correspondence_type": "email"});
    let id = assert_json(app.post("/v1/segments", &body).await, 201).await["id"].as_i64().unwrap();
    let nos: Vec<String> = (0..n).map(|i| format!("M{i:05}")).collect();
    assert_json(app.post(&format!("/v1/segments/{id}/lines"), &json!({"contact_nos": nos})).await, 201).await;
    id
}

/// Kills the only delivering process with SIGKILL while it sends 2,000 emails and starts
/// another: every entry ends `sent`, every message arrived, and none twice but those of the
/// batch in flight at the kill (at most `DELIVERY_BATCH`).
async fn a_killed_worker_resumes_without_losing_or_repeating_more_than_a_batch(db: Db) {
    const MESSAGES: usize = 2000;
    const BATCH: usize = 50;
    let Some(sink) = SmtpSink::start() else { return };
    // The test's own app only logs: its worker is off.
    let Some(app) = TestApp::try_spawn_with(db, |s| s.delivery.enabled = false).await else { return };
    seed(&app).await;
    let segment = mailing(&app, MESSAGES).await;
    let url = sink.url();
    let batch = BATCH.to_string();
    let env = [
        ("SMTP_URL", url.as_str()),
        ("SMTP_FROM", "crm@example.com"),
        ("DELIVERY_POLL_MS", "50"),
        ("DELIVERY_BATCH", batch.as_str()),
    ];
    let mut first = SecondServer::start_with(&app, &env).await;
    let logged = log_and_deliver(&app, segment).await;
    // Killed mid-way, at a moment the test does not choose beyond "some sent, not all".
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.messages().len() < MESSAGES / 4 {
        assert!(Instant::now() < deadline, "the first server sent too little");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    let at_kill = sink.messages().len();
    assert!(at_kill < MESSAGES, "the kill came after every message was sent");
    let _second = SecondServer::start_with(&app, &env).await;
    let count = |status: &'static str| {
        let path = format!(
            "/v1/interaction-log-entries?logged_segment_id={logged}&delivery_status={status}&limit=1"
        );
        let app = &app;
        async move { assert_json(app.get(&path).await, 200).await["items"].as_array().unwrap().len() }
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while count("pending").await > 0 {
        assert!(Instant::now() < deadline, "deliveries still pending after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count("failed").await, 0);
    sink.wait_for(MESSAGES, Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for message in sink.messages() {
        *counts.entry(message["message_id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(counts.len(), MESSAGES, "every entry's message arrived");
    let repeated = counts.values().filter(|&&n| n > 1).count();
    assert!(counts.values().all(|&n| n <= 2), "none more than twice");
    assert!(repeated <= BATCH, "{repeated} messages arrived twice; at most a batch ({BATCH}) may");
    eprintln!("killed after {at_kill} messages; {repeated} sent again after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_resumes_on_sqlite() {
    a_killed_worker_resumes_without_losing_or_repeating_more_than_a_batch(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn a_killed_worker_resumes_on_postgres() {
    a_killed_worker_resumes_without_losing_or_repeating_more_than_a_batch(Db::Postgres).await;
}
