//! Delivering a logged segment's emails: a segment of 100,000 lines (see `BENCH_DELIVERY`),
//! correspondence `email` for every line, whose template's document in the lines' language is an
//! HTML email, is logged with `deliver: true` through the release server, whose `SMTP_URL` points
//! at the SMTP sink the tests use (`tests/support/smtp_sink.py`, aiosmtpd). Timed from the log's
//! 201 until no entry is pending (`GET /v1/interaction-log-entries?delivery_status=pending&limit=1`,
//! every 500 ms), once per worker setting in `BENCH_DELIVERY` (`senders/batch[/messages]`, default
//! `4/50/20000,16/200`: the defaults, on 20,000 messages because lettre's ~80/s there would take
//! over 20 minutes for 100,000, and a wider setting), each on a fresh sink. The run fails unless every
//! entry is `sent` and the sink received one message per entry with as many distinct Message-IDs,
//! each an entry's.
//!
//! The baselines, in the same run and on fresh sinks: the sink's own intake, a plain client in
//! this process sending the same messages (built by lettre, as the server builds them) over as
//! many connections as the worker has senders, speaking SMTP on sockets with `TCP_NODELAY`; and
//! the service's `Mailer` (lettre, pooled, Nagle on, as the worker sends) called from as many
//! threads, without database or merge. SQLite always; PostgreSQL when `BENCH_DATABASE_URL` (or
//! `TEST_DATABASE_URL`) names a server. Run: `cargo bench --bench delivery` (`BENCH_MESSAGES=2000`
//! caps every setting for a quicker run; `BENCH_KEEP=1` keeps the databases).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use serde_json::json;

use common::{
    add_plain_lines, contacts_for, drop_postgres_database, drop_sqlite_database, load_contacts,
    postgres_database, postgres_url, sqlite_database, sqlite_raw, Api, Raw, Server, SmtpSink,
};
use crm_segments::config::Settings;
use crm_segments::delivery::mail::{Mailer, OutgoingMail};
use crm_segments::documents::{html_to_text, render_text, MergeValues};
use crm_segments::domain::DocumentKind;

const TEMPLATE: &str = "BENCH-MAIL";
const FROM: &str = "CRM Bench <crm@example.com>";
const DOMAIN: &str = "example.com";
const DESCRIPTION: &str = "Winter campaign";
const SUBJECT: &str = "Our winter offer";
/// How often the bench asks whether any entry is still pending.
const POLL_MS: u64 = 500;
/// The template's HTML email in the contacts' language (`nb-NO`); the plain baseline prints the
/// size of the messages on the wire.
const HTML: &str = r#"<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8"><title>{{ line_subject }}</title></head>
<body>
<p>Kjære {{ contact_name }},</p>
<p><strong>{{ segment_description }}:</strong> {{ line_subject }}.</p>
<p>Som kunde i {{ contact_city }} får du 20 % rabatt på alle vinterprodukter ut desember.
Tilbudet gjelder i alle våre butikker og i nettbutikken.</p>
<p>Spørsmål? Svar på denne e-posten, så hjelper vi deg.</p>
<p>Med vennlig hilsen<br>Kundeservice</p>
</body></html>
"#;

/// How the worker runs (`DELIVERY_SENDERS` and `DELIVERY_BATCH`) and how many messages it sends.
#[derive(Clone, Copy)]
struct Setting {
    senders: usize,
    batch: usize,
    messages: usize,
}

/// One measured way of sending.
struct Figure {
    what: String,
    connections: usize,
    messages: usize,
    time: Duration,
    /// CPU the sink used over the run.
    sink_cpu: Duration,
    /// The worker's figures: the server's peak RSS (MB) once the log answered and at the end,
    /// and its CPU over the run.
    server: Option<(f64, f64, Duration)>,
}

impl Figure {
    fn per_second(&self) -> f64 {
        self.messages as f64 / self.time.as_secs_f64()
    }
}

/// The mail the worker would send to contact `i` of `load_contacts`, as entry `i`.
fn mail_for(i: usize) -> OutgoingMail {
    let name = if i % 4 == 1 {
        format!("Company {} AS", (i * 7919) % 1_000_003)
    } else {
        format!("Person {}", (i * 104_729) % 1_000_003)
    };
    let mut values = MergeValues::new();
    values.set("contact_name", Some(name.clone()));
    values.set("contact_city", Some(common::CITIES[((i - 1) / 4) % 10].to_owned()));
    values.set("line_subject", Some(SUBJECT.to_owned()));
    values.set("segment_description", Some(DESCRIPTION.to_owned()));
    let html = render_text(DocumentKind::Html, HTML.as_bytes(), &values).unwrap();
    OutgoingMail {
        to_name: Some(name),
        to_email: format!("contact{i}@example.no"),
        subject: SUBJECT.to_owned(),
        message_id: format!("interaction-{i}@{DOMAIN}"),
        text: html_to_text(&html),
        html: Some(html),
        attachment: None,
    }
}

/// The message `Mailer` builds for an HTML mail, formatted for the wire.
fn formatted(mail: &OutgoingMail) -> Vec<u8> {
    let to = Mailbox::new(mail.to_name.clone(), mail.to_email.parse().unwrap());
    Message::builder()
        .from(FROM.parse().unwrap())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone().unwrap()))
        .unwrap()
        .formatted()
}

/// A plain SMTP client on one connection with `TCP_NODELAY`: one write per command, no pipelining.
struct PlainClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl PlainClient {
    fn connect(port: u16) -> PlainClient {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut client = PlainClient { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream };
        client.expect(220);
        client.command(b"EHLO bench.local\r\n", 250);
        client
    }

    fn expect(&mut self, code: u16) {
        let mut line = String::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            // The last line of a reply has a space after the code.
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        assert!(line.starts_with(&code.to_string()), "expected {code}, the sink answered {line:?}");
    }

    fn command(&mut self, command: &[u8], code: u16) {
        self.writer.write_all(command).unwrap();
        self.expect(code);
    }

    fn send(&mut self, to: &str, message: &[u8]) {
        self.command(b"MAIL FROM:<crm@example.com>\r\n", 250);
        self.command(format!("RCPT TO:<{to}>\r\n").as_bytes(), 250);
        self.command(b"DATA\r\n", 354);
        let mut data = Vec::with_capacity(message.len() + 8);
        for line in message.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b".") {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.command(&data, 250);
    }
}

/// Runs `send(i)` for every i in `0..messages` on `connections` threads; answers the wall time.
fn on_threads(
    connections: usize,
    messages: usize,
    send: impl Fn(&mut Option<PlainClient>, usize) + Sync,
) -> Duration {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections {
            scope.spawn(|| {
                let mut client = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= messages {
                        return;
                    }
                    send(&mut client, i);
                }
            });
        }
    });
    started.elapsed()
}

/// The sink received `messages` messages with as many distinct Message-IDs, each
/// `interaction-<n>@example.com` with `n` in `first..first + messages`.
fn verify_sink(sink: &SmtpSink, messages: usize, first: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ids = sink.message_ids();
    while ids.len() < messages && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        ids = sink.message_ids();
    }
    assert_eq!(ids.len(), messages, "the sink received {} messages, not {messages}", ids.len());
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), messages, "the sink received {} distinct Message-IDs", distinct.len());
    for id in &ids {
        let n: i64 = id
            .strip_prefix("<interaction-")
            .and_then(|rest| rest.strip_suffix(&format!("@{DOMAIN}>")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a Message-ID of no entry: {id}"));
        assert!((first..first + messages as i64).contains(&n), "{id} is no entry of this run");
    }
}

/// The sink's intake: the same messages, pre-built, sent by plain clients on `connections`
/// sockets with `TCP_NODELAY`.
fn plain_baseline(connections: usize, messages: usize) -> Figure {
    let wire: Vec<(String, Vec<u8>)> = (1..=messages)
        .map(|i| {
            let mail = mail_for(i);
            (mail.to_email.clone(), formatted(&mail))
        })
        .collect();
    let bytes: usize = wire.iter().map(|(_, message)| message.len()).sum();
    println!("  messages of {} bytes on average (headers, text and HTML)", bytes / messages);
    let sink = SmtpSink::start("bench_delivery_sink");
    let cpu = sink.cpu();
    let time = on_threads(connections, messages, |client, i| {
        client.get_or_insert_with(|| PlainClient::connect(sink.port)).send(&wire[i].0, &wire[i].1);
    });
    let sink_cpu = sink.cpu() - cpu;
    verify_sink(&sink, messages, 1);
    Figure {
        what: "plain SMTP client, TCP_NODELAY (the sink's intake)".into(),
        connections,
        messages,
        time,
        sink_cpu,
        server: None,
    }
}

/// The service's `Mailer` (lettre, pooled, as the worker sends) from `connections` threads.
fn mailer_baseline(connections: usize, messages: usize) -> Figure {
    let mails: Vec<OutgoingMail> = (1..=messages).map(mail_for).collect();
    let sink = SmtpSink::start("bench_delivery_sink");
    let url = sink.url();
    let env: BTreeMap<&str, &str> = [("SMTP_URL", url.as_str()), ("SMTP_FROM", FROM)].into_iter().collect();
    let settings = Settings::from_lookup(|name| env.get(name).map(|v| (*v).to_owned())).unwrap();
    let mailer = Mailer::from_settings(&settings.smtp.unwrap()).unwrap();
    let cpu = sink.cpu();
    let time = on_threads(connections, messages, |_, i| mailer.send(&mails[i]).unwrap());
    let sink_cpu = sink.cpu() - cpu;
    verify_sink(&sink, messages, 1);
    Figure {
        what: "the service's `Mailer` (lettre), no database".into(),
        connections,
        messages,
        time,
        sink_cpu,
        server: None,
    }
}

/// The template with its HTML email in `nb-NO`, through the API.
async fn create_template(api: &Api) {
    api.post(
        "/v1/interaction-templates",
        &json!({"code": TEMPLATE, "description": "Bench mail", "correspondence_type": "email"}),
    )
    .await;
    let path =
        format!("/v1/interaction-templates/{TEMPLATE}/attachments?language_code=nb-NO&file_name=mail.html");
    api.post_bytes(&path, "text/html", HTML.as_bytes().to_vec()).await;
}

/// The database a backend's rounds share, and how the raw side connects to it.
struct Database<'a> {
    backend: &'static str,
    url: String,
    connect: &'a dyn Fn() -> Raw,
}

/// Logs a segment of `setting.messages` lines (the contacts after the first `skip`) with
/// delivery, through a server with `setting` sending to a fresh sink, and waits until no entry is
/// pending.
async fn deliver_segment(
    db: &Database<'_>,
    port: u16,
    raw: &mut Raw,
    setting: Setting,
    skip: usize,
) -> Figure {
    let (backend, n) = (db.backend, setting.messages);
    let sink = SmtpSink::start("bench_delivery_sink");
    let env = [
        ("SMTP_URL", sink.url()),
        ("SMTP_FROM", FROM.to_owned()),
        ("DELIVERY_SENDERS", setting.senders.to_string()),
        ("DELIVERY_BATCH", setting.batch.to_string()),
    ];
    let server = Server::start_with(&db.url, port, &env);
    let api = Api::ready(server.port).await;
    let (segment, _) = api
        .post(
            "/v1/segments",
            &json!({"description": DESCRIPTION, "interaction_template_code": TEMPLATE, "subject": SUBJECT,
                    "date": "2026-12-01", "correspondence_type": "email",
                    "ignore_contact_correspondence_type": true}),
        )
        .await;
    let id = segment["id"].as_i64().unwrap();
    add_plain_lines(raw, id, skip, n);

    let (logged, log_time) = api.post(&format!("/v1/segments/{id}/log"), &json!({"deliver": true})).await;
    let (server_cpu, sink_cpu, logged_rss) = (server.cpu(), sink.cpu(), server.peak_rss_mb());
    let started = Instant::now();
    let logged = logged["logged_segment"]["id"].as_i64().unwrap();
    println!(
        "  {backend}, {} senders, batch {}: logged {n} lines in {:.1} s",
        setting.senders,
        setting.batch,
        log_time.as_secs_f64()
    );
    let mut last_report = Instant::now();
    loop {
        let pending = api.get_json("/v1/interaction-log-entries?delivery_status=pending&limit=1").await;
        if pending["items"].as_array().unwrap().is_empty() {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            // Not at every poll: without an index on the status, each is a scan of the entries.
            let failed = api.get_json("/v1/interaction-log-entries?delivery_status=failed&limit=1").await;
            assert!(failed["items"].as_array().unwrap().is_empty(), "a delivery failed: {failed}");
            let sent = raw.number(&format!(
                "SELECT count(*) AS n FROM interaction_log_entries WHERE logged_segment_id = {logged} \
                 AND delivery_status = 'sent'"
            ));
            let seconds = started.elapsed().as_secs_f64();
            println!("    {seconds:.0} s: {sent} sent ({:.0}/s)", sent as f64 / seconds);
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
    let time = started.elapsed();
    let (server_cpu, sink_cpu) = (server.cpu() - server_cpu, sink.cpu() - sink_cpu);
    let sent = raw.number(&format!(
        "SELECT count(*) AS n FROM interaction_log_entries WHERE logged_segment_id = {logged} \
         AND delivery_status = 'sent' AND correspondence_type = 'email'"
    ));
    assert_eq!(sent, n as i64, "{sent} of {n} entries were sent");
    let first = raw.number(&format!(
        "SELECT min(entry_no) AS n FROM interaction_log_entries WHERE logged_segment_id = {logged}"
    ));
    verify_sink(&sink, n, first);
    let figure = Figure {
        what: format!("the worker (`DELIVERY_BATCH={}`), {backend}", setting.batch),
        connections: setting.senders,
        messages: n,
        time,
        sink_cpu,
        server: Some((logged_rss, server.peak_rss_mb(), server_cpu)),
    };
    println!("    all sent in {:.1} s: {:.0} messages/s", time.as_secs_f64(), figure.per_second());
    figure
}

/// Every setting in turn on one database (its first server, without SMTP, migrates it and
/// takes the contacts and the template), each on a segment of contacts of its own.
async fn bench_backend(db: &Database<'_>, port: u16, settings: &[Setting]) -> Vec<Figure> {
    let server = Server::start(&db.url, port);
    let api = Api::ready(server.port).await;
    let mut raw = (db.connect)();
    let started = Instant::now();
    load_contacts(&mut raw, contacts_for(settings.iter().map(|s| s.messages).sum()));
    create_template(&api).await;
    drop(server);
    println!("  contacts and template (not timed): {:.1} s", started.elapsed().as_secs_f64());
    let (mut figures, mut skip) = (Vec::new(), 0);
    for (k, &setting) in settings.iter().enumerate() {
        figures.push(deliver_segment(db, port + 1 + k as u16, &mut raw, setting, skip).await);
        skip += setting.messages;
    }
    figures
}

fn print_table(figures: &[Figure], baselines: &BTreeMap<usize, f64>) {
    println!("\n| sender | connections | messages | time | messages/s | vs sink intake | projected 100,000 | sink CPU | server peak RSS (after the log) | server CPU |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        let seconds = f.time.as_secs_f64();
        let (rss, cpu) = match f.server {
            Some((logged, rss, cpu)) => (
                format!("{rss:.0} MB ({logged:.0} MB)"),
                format!("{:.0} %", 100.0 * cpu.as_secs_f64() / seconds),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let intake =
            baselines.get(&f.connections).map_or("-".to_owned(), |b| format!("{:.2}x", b / f.per_second()));
        println!(
            "| {} | {} | {} | {:.1} s | {:.0} | {intake} | {:.1} min | {:.0} % | {rss} | {cpu} |",
            f.what,
            f.connections,
            f.messages,
            seconds,
            f.per_second(),
            100_000.0 / f.per_second() / 60.0,
            100.0 * f.sink_cpu.as_secs_f64() / seconds,
        );
    }
}

fn number(name: &str, default: usize) -> usize {
    let n = std::env::var(name).map_or(default, |s| {
        s.trim().replace('_', "").parse().unwrap_or_else(|_| panic!("{name}: {s:?} is no number"))
    });
    assert!(n > 0, "{name} must be positive");
    n
}

/// `BENCH_DELIVERY`: `senders/batch[/messages]` settings, default `4/50/20000,16/200`; a setting
/// sends `BENCH_MESSAGES` (default 100,000) or its own number of messages, whichever is smaller.
/// (At the defaults lettre sends about 80 messages/s: 100,000 would take over 20 minutes.)
fn settings() -> Vec<Setting> {
    let most = number("BENCH_MESSAGES", 100_000);
    let list = std::env::var("BENCH_DELIVERY").unwrap_or_else(|_| "4/50/20000,16/200".to_owned());
    list.split(',')
        .map(|setting| {
            let numbers: Option<Vec<usize>> = setting.trim().split('/').map(|n| n.parse().ok()).collect();
            match numbers.as_deref() {
                Some(&[senders, batch]) => Setting { senders, batch, messages: most },
                Some(&[senders, batch, messages]) => Setting { senders, batch, messages: messages.min(most) },
                _ => panic!("BENCH_DELIVERY: {setting:?} is not senders/batch[/messages]"),
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let settings = settings();
    let started = Instant::now();
    let mut figures = Vec::new();
    let mut intake = BTreeMap::new();
    // The baselines' counts: enough for a steady rate, no more than the worker sends.
    let most = settings.iter().map(|s| s.messages).max().unwrap_or(0);
    let connections: BTreeSet<usize> = settings.iter().map(|s| s.senders).collect();
    for &c in &connections {
        let plain = plain_baseline(c, most.min(20_000));
        println!(
            "plain client, {c} connections: {} messages in {:.1} s, {:.0}/s",
            plain.messages,
            plain.time.as_secs_f64(),
            plain.per_second()
        );
        intake.insert(c, plain.per_second());
        figures.push(plain);
        let mailer = mailer_baseline(c, most.min(1_000 * c));
        println!(
            "Mailer, {c} threads: {} messages in {:.1} s, {:.0}/s",
            mailer.messages,
            mailer.time.as_secs_f64(),
            mailer.per_second()
        );
        figures.push(mailer);
    }
    println!("SQLite");
    let url = sqlite_database("bench_delivery");
    let connect = || sqlite_raw(&url);
    let db = Database { backend: "SQLite", url: url.clone(), connect: &connect };
    figures.extend(bench_backend(&db, 18953, &settings).await);
    drop_sqlite_database(&url);
    match postgres_url() {
        Some(server_url) => {
            println!("PostgreSQL");
            let (mut admin, name, url) = postgres_database(&server_url, "bench_delivery");
            let connect = || Raw::Pg(PgConnection::establish(&url).unwrap());
            let db = Database { backend: "PostgreSQL", url: url.clone(), connect: &connect };
            figures.extend(bench_backend(&db, 18963, &settings).await);
            drop_postgres_database(&mut admin, &name, &url);
        }
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
    print_table(&figures, &intake);
    println!("\nthe whole run took {:.0} s", started.elapsed().as_secs_f64());
}
