//! Merging a segment's letters at scale: a segment of `BENCH_DOCUMENTS` lines (default 10,000)
//! whose template's document is a one-page Word letter saved by LibreOffice
//! (`tests/fixtures/docx/libreoffice.docx`: `contact_name` and `line_subject` in the body,
//! `segment_description` in the header) is fetched as one streamed zip through
//! `GET /v1/segments/{id}/documents` from the release server, three times. In the same run, in
//! this process and with the same zip crate and entry options as `merge::write_zip`: the same
//! number of unmerged copies of the letter zipped stored (what the server does with .docx
//! entries, and the baseline the ratio uses) and deflated, and the merge engine alone
//! (`DocxTemplate::merge` per contact, stored), which tells the engine's share from the database's and
//! HTTP's. Every zip is opened and checked: one entry per line, in line order, each a package
//! whose every part reads back (CRCs checked) and whose body holds its contact's name and no
//! placeholder. SQLite always; PostgreSQL when `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`)
//! names a server. Run: `cargo bench --bench merge` (`BENCH_KEEP=1` keeps the databases).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};
use serde_json::json;

use common::{
    add_plain_lines, contacts_for, drop_postgres_database, drop_sqlite_database, load_contacts, ms,
    postgres_database, postgres_url, sqlite_database, sqlite_raw, Api, Raw, Server,
};
use crm_segments::documents::{DocxTemplate, MergeValues, DOCX_CONTENT_TYPE};

const TEMPLATE: &str = "BENCH-LETTER";
const FIXTURE: &str = "tests/fixtures/docx/libreoffice.docx";
const DESCRIPTION: &str = "Winter campaign";
const SUBJECT: &str = "Our winter offer";
/// Timed repetitions of each measurement; the median is reported.
const REPEATS: usize = 3;

fn letter() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap()
}

/// The entry options of `merge::write_zip`: Word files stored (they are zips already), other
/// documents deflated; no date, so the archive depends on nothing but its documents.
fn stored() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
}

fn deflated() -> zip::write::SimpleFileOptions {
    stored().compression_method(zip::CompressionMethod::Deflated)
}

/// A streamed zip (as the server writes it) of one entry per `(contact no, document)`, named as
/// `write_zip` names them.
fn zip_of(
    documents: impl Iterator<Item = (String, Vec<u8>)>,
    options: zip::write::SimpleFileOptions,
) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new_stream(Vec::new());
    for (n, (no, bytes)) in documents.enumerate() {
        zip.start_file(format!("{:05}-{no}.docx", n + 1), options).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The contacts the in-process runs merge: numbers and names as `load_contacts` makes them.
fn contacts(n: usize) -> Vec<(String, String)> {
    (1..=n).map(|i| (format!("C{i:07}"), format!("Person {}", (i * 104_729) % 1_000_003))).collect()
}

/// The zip holds one letter per `(contact no, contact name)`, in order, each a package whose
/// parts all read back, whose body names its contact and whose header names the campaign.
fn verify_zip(zip: &[u8], expected: &[(String, String)]) {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("the zip opens");
    assert_eq!(archive.len(), expected.len(), "the zip has {} entries", archive.len());
    for (k, (no, name)) in expected.iter().enumerate() {
        let mut entry = archive.by_index(k).unwrap();
        assert_eq!(entry.name().unwrap(), format!("{:05}-{no}.docx", k + 1));
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).unwrap();
        drop(entry);
        let mut package = zip::ZipArchive::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("{no}: {e}"));
        let mut parts = std::collections::HashMap::new();
        for i in 0..package.len() {
            let mut part = package.by_index(i).unwrap();
            let mut content = Vec::new();
            // Reading to the end checks the part's CRC.
            part.read_to_end(&mut content).unwrap_or_else(|e| panic!("{no}: {}: {e}", part.name().unwrap()));
            parts.insert(part.name().unwrap().into_owned(), content);
        }
        let text = |part: &str| String::from_utf8(parts[part].clone()).unwrap();
        let body = text("word/document.xml");
        assert!(body.contains(&format!(">{name}</w:t>")), "{no}: the body does not name {name}");
        assert!(body.contains(&format!(">{SUBJECT}</w:t>")), "{no}: the body lacks the subject");
        assert!(
            !body.contains("&lt;contact_name&gt;") && !body.contains("MERGEFIELD"),
            "{no}: a field is left"
        );
        assert!(text("word/header1.xml").contains(&format!(">{DESCRIPTION}</w:t>")), "{no}: header");
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// One measured way of making the zip.
struct Figure {
    what: String,
    documents: usize,
    time: Duration,
    zip_bytes: usize,
    /// Server peak RSS (MB) and server CPU over the timed requests, for the API's figures.
    server: Option<(f64, Duration)>,
}

impl Figure {
    fn per_second(&self) -> f64 {
        self.documents as f64 / self.time.as_secs_f64()
    }
}

/// The in-process runs: stored and deflated copies of the unmerged letter, and the merge engine.
fn in_process(n: usize) -> Vec<Figure> {
    let letter = letter();
    let people = contacts(n);
    let copies = || people.iter().map(|(no, _)| (no.clone(), letter.clone()));
    let mut figures = Vec::new();
    let mut timed = |what: &str, make: &dyn Fn() -> Vec<u8>| {
        let mut times = Vec::new();
        let mut zip = Vec::new();
        for _ in 0..REPEATS {
            let started = Instant::now();
            zip = make();
            times.push(started.elapsed());
        }
        let time = median(times);
        println!("  {what}: {:.0} ms, {:.1} MB", ms(time), zip.len() as f64 / 1e6);
        figures.push(Figure {
            what: what.to_owned(),
            documents: n,
            time,
            zip_bytes: zip.len(),
            server: None,
        });
        zip
    };
    let zip = timed("unmerged copies, stored (in-process)", &|| zip_of(copies(), stored()));
    assert_eq!(zip::ZipArchive::new(Cursor::new(&zip)).unwrap().len(), n);
    let zip = timed("unmerged copies, deflated (in-process)", &|| zip_of(copies(), deflated()));
    assert_eq!(zip::ZipArchive::new(Cursor::new(&zip)).unwrap().len(), n);
    let merged = || {
        // As the server does: the template checked and unpacked once, merged per contact.
        let template = DocxTemplate::new(&letter).unwrap();
        let documents = people.iter().map(|(no, name)| {
            let mut values = MergeValues::new();
            values.set("contact_name", Some(name.clone()));
            values.set("line_subject", Some(SUBJECT.to_owned()));
            values.set("segment_description", Some(DESCRIPTION.to_owned()));
            (no.clone(), template.merge(&values).unwrap())
        });
        zip_of(documents, stored())
    };
    let zip = timed("merge engine alone, stored (in-process)", &merged);
    verify_zip(&zip, &people);
    figures
}

/// Loads the contacts, the template with its letter and a segment of `n` lines, then fetches the
/// segment's documents `REPEATS` times, checking each zip.
async fn through_api(backend: &str, server: &Server, raw: &mut Raw, n: usize) -> Figure {
    let api = Api::ready(server.port).await;
    let started = Instant::now();
    load_contacts(raw, contacts_for(n));
    api.post("/v1/interaction-templates", &json!({"code": TEMPLATE, "description": "Bench letter"})).await;
    let path =
        format!("/v1/interaction-templates/{TEMPLATE}/attachments?language_code=nb-NO&file_name=letter.docx");
    api.post_bytes(&path, DOCX_CONTENT_TYPE, letter()).await;
    let (segment, _) = api
        .post(
            "/v1/segments",
            &json!({"description": DESCRIPTION, "interaction_template_code": TEMPLATE, "subject": SUBJECT,
                    "date": "2026-12-01"}),
        )
        .await;
    let id = segment["id"].as_i64().unwrap();
    add_plain_lines(raw, id, 0, n);
    let expected = raw.text_pairs(&format!(
        "SELECT contacts.no AS a, contacts.name AS b FROM segment_lines \
         JOIN contacts ON contacts.id = segment_lines.contact_id \
         WHERE segment_lines.segment_id = {id} ORDER BY segment_lines.id"
    ));
    assert_eq!(expected.len(), n);
    println!("  contacts, template and {n} lines (not timed): {:.1} s", started.elapsed().as_secs_f64());

    let (mut times, mut zip_bytes) = (Vec::new(), 0);
    let cpu_before = server.cpu();
    for round in 1..=REPEATS {
        let (zip, time) = api.get_bytes(&format!("/v1/segments/{id}/documents")).await;
        println!("  {backend} round {round}: {:.0} ms, {:.1} MB", ms(time), zip.len() as f64 / 1e6);
        times.push(time);
        zip_bytes = zip.len();
        verify_zip(&zip, &expected);
    }
    let cpu = (server.cpu() - cpu_before) / REPEATS as u32;
    Figure {
        what: format!("`GET /v1/segments/{{id}}/documents`, {backend}"),
        documents: n,
        time: median(times),
        zip_bytes,
        server: Some((server.peak_rss_mb(), cpu)),
    }
}

async fn bench_sqlite(n: usize) -> Figure {
    let url = sqlite_database("bench_merge");
    let server = Server::start(&url, 18951);
    Api::ready(server.port).await;
    let mut raw = sqlite_raw(&url);
    let figure = through_api("SQLite", &server, &mut raw, n).await;
    drop(server);
    drop_sqlite_database(&url);
    figure
}

async fn bench_postgres(server_url: &str, n: usize) -> Figure {
    let (mut admin, name, url) = postgres_database(server_url, "bench_merge");
    let server = Server::start(&url, 18952);
    Api::ready(server.port).await;
    let mut raw = Raw::Pg(PgConnection::establish(&url).unwrap());
    let figure = through_api("PostgreSQL", &server, &mut raw, n).await;
    drop(raw);
    drop(server);
    drop_postgres_database(&mut admin, &name, &url);
    figure
}

fn print_table(figures: &[Figure]) {
    let stored = &figures[0];
    let deflated = &figures[1];
    println!("\n| how the zip is made | documents | time | documents/s | zip | vs stored copy | vs deflated copy | server peak RSS | server CPU |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in figures {
        let (rss, cpu) = match f.server {
            Some((rss, cpu)) => (format!("{rss:.0} MB"), format!("{:.0} ms", ms(cpu))),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "| {} | {} | {:.0} ms | {:.0} | {:.1} MB | {:.2}x | {:.2}x | {rss} | {cpu} |",
            f.what,
            f.documents,
            ms(f.time),
            f.per_second(),
            f.zip_bytes as f64 / 1e6,
            stored.per_second() / f.per_second(),
            deflated.per_second() / f.per_second(),
        );
    }
}

/// `BENCH_DOCUMENTS`: the segment's lines, default 10,000.
fn documents() -> usize {
    let n = std::env::var("BENCH_DOCUMENTS").map_or(10_000, |s| {
        s.trim().replace('_', "").parse().unwrap_or_else(|_| panic!("BENCH_DOCUMENTS: {s:?} is no number"))
    });
    assert!(n > 0, "BENCH_DOCUMENTS must be positive");
    n
}

#[tokio::main]
async fn main() {
    let n = documents();
    let started = Instant::now();
    println!("In-process baselines, {n} documents");
    let mut figures = in_process(n);
    println!("SQLite, {n} lines");
    figures.push(bench_sqlite(n).await);
    match postgres_url() {
        Some(url) => {
            println!("PostgreSQL, {n} lines");
            figures.push(bench_postgres(&url, n).await);
        }
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
    print_table(&figures);
    println!("\nmedians of {REPEATS} runs each; the whole run took {:.0} s", started.elapsed().as_secs_f64());
}
