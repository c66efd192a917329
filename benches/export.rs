//! Exporting a segment's lines as CSV at scale: a segment of `BENCH_LINES` lines (default
//! 1,000,000) is fetched as `GET /v1/segments/{id}/lines.csv` from the release server, counted
//! and checked as it streams (one record per line, the header first). In the same run, on the
//! same database, the service's own statement for those rows (`csv_select_sql` and `csv_joins_sql`, unpaged) goes
//! to CSV through the database's own tool: PostgreSQL's
//! `COPY (...) TO STDOUT WITH (FORMAT csv, HEADER)` through `psql`, and SQLite's `sqlite3 -csv`,
//! each writing into a pipe this process drains. The ratio is the API's time over the tool's;
//! the target is within 2x, with the server's peak RSS under 100 MB. SQLite always; PostgreSQL
//! when `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`) names a server.
//! Run: `cargo bench --bench export` (`BENCH_LINES=100000` for a quicker run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};
use serde_json::json;

use common::{
    add_plain_lines, contacts_for, drop_postgres_database, drop_sqlite_database, load_contacts, ms,
    postgres_database, postgres_url, sqlite_database, sqlite_raw, Raw, Server, ADMIN_KEY,
};
use crm_segments::segments::lines::repo::{csv_joins_sql, csv_select_sql, CSV_ORDER};

/// Timed repetitions of each side; the median is reported.
const REPEATS: usize = 3;

/// Runs a database tool writing CSV to its stdout; answers its rows (the header excluded) and
/// the time until its output ended.
fn tool_csv(program: &str, args: &[&str]) -> (usize, Duration) {
    let started = Instant::now();
    let mut child = Command::new(program).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (mut buffer, mut newlines) = (vec![0u8; 1 << 16], 0usize);
    loop {
        let n = out.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        newlines += buffer[..n].iter().filter(|&&b| b == b'\n').count();
    }
    assert!(child.wait().unwrap().success(), "{program} failed");
    (newlines - 1, started.elapsed())
}

/// Streams the API's CSV, counting its records with a real CSV reader on the fly would hold the
/// body; instead the newlines outside quotes are counted (the bench's lines have no newlines in
/// values). Answers the records (header excluded) and the time to the last byte.
async fn api_csv(client: &reqwest::Client, port: u16, segment_id: i64) -> (usize, Duration) {
    let started = Instant::now();
    let mut response = client
        .get(format!("http://127.0.0.1:{port}/v1/segments/{segment_id}/lines.csv"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (mut newlines, mut first) = (0usize, Vec::new());
    while let Some(chunk) = response.chunk().await.unwrap() {
        if first.len() < 4096 {
            first.extend_from_slice(&chunk[..chunk.len().min(4096)]);
        }
        newlines += chunk.iter().filter(|&&b| b == b'\n').count();
    }
    assert!(first.starts_with(b"id,contact_no,contact_name,"), "the header comes first");
    (newlines - 1, started.elapsed())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Figure {
    backend: &'static str,
    api: Duration,
    tool: Duration,
    rss_mb: f64,
}

async fn bench(
    backend: &'static str,
    server: &Server,
    raw: &mut Raw,
    tool: &dyn Fn(&str) -> (usize, Duration),
    n: usize,
) -> Figure {
    let client = reqwest::Client::new();
    let api = common::Api::ready(server.port).await;
    let started = Instant::now();
    load_contacts(raw, contacts_for(n));
    let (segment, _) = api
        .post("/v1/segments", &json!({"description": "Export", "subject": "Our offer", "date": "2026-12-01"}))
        .await;
    let id = segment["id"].as_i64().unwrap();
    add_plain_lines(raw, id, 0, n);
    println!("  contacts and {n} lines (not timed): {:.1} s", started.elapsed().as_secs_f64());
    // The very statement the service pages through, unpaged.
    let select = format!("{} FROM segment_lines{}{id}{CSV_ORDER}", csv_select_sql(), csv_joins_sql());
    let (mut api_times, mut tool_times) = (Vec::new(), Vec::new());
    for round in 1..=REPEATS {
        // Alternating which side goes first keeps caches out of the ratio.
        let mut sides = [false, true];
        if round % 2 == 0 {
            sides.reverse();
        }
        for tool_side in sides {
            if tool_side {
                let (rows, time) = tool(&select);
                assert_eq!(rows, n);
                println!("  {backend} round {round}: database tool {:.0} ms", ms(time));
                tool_times.push(time);
            } else {
                let (rows, time) = api_csv(&client, server.port, id).await;
                assert_eq!(rows, n);
                println!("  {backend} round {round}: lines.csv {:.0} ms", ms(time));
                api_times.push(time);
            }
        }
    }
    Figure { backend, api: median(api_times), tool: median(tool_times), rss_mb: server.peak_rss_mb() }
}

/// `BENCH_LINES`: the segment's lines, default 1,000,000.
fn lines() -> usize {
    std::env::var("BENCH_LINES").map_or(1_000_000, |s| s.trim().replace('_', "").parse().unwrap())
}

#[tokio::main]
async fn main() {
    let n = lines();
    let started = Instant::now();
    let mut figures = Vec::new();

    println!("SQLite, {n} lines");
    let url = sqlite_database("bench_export");
    let server = Server::start(&url, 18961);
    // The server migrates the new file first.
    common::Api::ready(server.port).await;
    let mut raw = sqlite_raw(&url);
    let path = url.trim_start_matches("sqlite://").to_owned();
    let sqlite3 = move |select: &str| tool_csv("sqlite3", &["-csv", "-header", &path, select]);
    figures.push(bench("SQLite", &server, &mut raw, &sqlite3, n).await);
    drop(raw);
    drop(server);
    drop_sqlite_database(&url);

    match postgres_url() {
        Some(server_url) => {
            println!("PostgreSQL, {n} lines");
            let (mut admin, name, url) = postgres_database(&server_url, "bench_export");
            let server = Server::start(&url, 18962);
            common::Api::ready(server.port).await;
            let mut raw = Raw::Pg(PgConnection::establish(&url).unwrap());
            let psql_url = url.clone();
            let copy = move |select: &str| {
                let command = format!("COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER)");
                tool_csv("psql", &["-X", "-q", &psql_url, "-c", &command])
            };
            figures.push(bench("PostgreSQL", &server, &mut raw, &copy, n).await);
            drop(raw);
            drop(server);
            drop_postgres_database(&mut admin, &name, &url);
        }
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }

    println!("\n| database | lines | `lines.csv` | lines/s | database's own CSV | ratio | server peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {n} | {:.0} ms | {:.0} | {:.0} ms | {:.2}x | {:.0} MB |",
            f.backend,
            ms(f.api),
            n as f64 / f.api.as_secs_f64(),
            ms(f.tool),
            f.api.as_secs_f64() / f.tool.as_secs_f64(),
            f.rss_mb,
        );
    }
    println!("\nmedians of {REPEATS} runs each; the whole run took {:.0} s", started.elapsed().as_secs_f64());
}
