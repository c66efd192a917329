//! Throughput and latency under load, next to the database's own: wrk (32 connections, 2
//! threads, `BENCH_SECONDS` each, default 10) against the release server on 127.0.0.1 with a
//! stored API key, over `BENCH_CONTACTS` contacts (default 100,000):
//! - `GET /v1/contacts/{id}` with random ids,
//! - `GET /v1/contacts?limit=50`,
//! - `POST /v1/contacts`,
//! - `PATCH /v1/segments/{id}/lines/{line}` with random lines of a segment of 1,000.
//!
//! On PostgreSQL, in the same run and on the same database, pgbench (same connections and
//! threads, extended protocol, as the service's diesel sends statements with SQL literals)
//! runs the equivalent SQL: the service's one statement for a contact view by id or for a
//! page of 50, the number series step and insert of a create, the update of a line. The ratio
//! is the service's rate over pgbench's; the target for the two reads is 40% or more, with a
//! p99 under 30 ms. SQLite has no pgbench: its figures stand alone. Needs `wrk` (and `pgbench`).
//! Run: `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/postgres cargo bench --bench load`.
//! The server takes its pool and thread settings from the environment (`DB_POOL_SIZE`,
//! `BLOCKING_THREADS`, `WORKERS`), to compare them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::{Connection, PgConnection};
use serde_json::json;

use common::{
    add_plain_lines, drop_postgres_database, drop_sqlite_database, load_contacts, postgres_database,
    postgres_url, sqlite_database, sqlite_raw, Raw, Server,
};
use crm_segments::contacts::repo::LINK_CODES;

const CONNECTIONS: u32 = 32;
const THREADS: u32 = 2;

/// What wrk or pgbench measured.
#[derive(Debug, Clone, Copy)]
struct Rate {
    per_sec: f64,
    /// 99th percentile latency, ms (wrk only).
    p99_ms: Option<f64>,
    /// Responses other than 2xx (wrk only).
    failed: u64,
}

/// A load: its name, the wrk script, the pgbench script (PostgreSQL).
struct Load {
    name: &'static str,
    wrk: String,
    pgbench: String,
}

fn seconds() -> u32 {
    std::env::var("BENCH_SECONDS").map_or(10, |s| s.trim().parse().unwrap())
}

fn contacts() -> usize {
    std::env::var("BENCH_CONTACTS").map_or(100_000, |s| s.trim().replace('_', "").parse().unwrap())
}

/// The service's statement for contact views (`contacts::repo::contact_views!`), as pgbench runs it.
fn contact_view_sql(tail: &str) -> String {
    format!(
        "SELECT contacts.*, company_contacts.no, company_contacts.name, company_contacts.version, {}, {}, {}, {} \
         FROM contacts LEFT OUTER JOIN contacts AS company_contacts ON company_contacts.id = contacts.company_id {tail};",
        LINK_CODES[0], LINK_CODES[1], LINK_CODES[2], LINK_CODES[3]
    )
}

fn loads(key: &str, n: usize, segment: i64, lines: (i64, i64)) -> Vec<Load> {
    let auth = format!("wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n");
    let (first, last) = lines;
    vec![
        Load {
            name: "GET /v1/contacts/{id}",
            wrk: format!("{auth}request = function() return wrk.format(\"GET\", \"/v1/contacts/\" .. math.random(1, {n})) end\n"),
            pgbench: format!("\\set id random(1, {n})\n{}\n", contact_view_sql("WHERE contacts.id = :id")),
        },
        Load {
            name: "GET /v1/contacts?limit=50",
            wrk: format!("{auth}wrk.path = \"/v1/contacts?limit=50\"\n"),
            pgbench: format!("{}\n", contact_view_sql("ORDER BY contacts.id LIMIT 51")),
        },
        Load {
            name: "POST /v1/contacts",
            wrk: format!(
                "{auth}wrk.method = \"POST\"\nwrk.path = \"/v1/contacts\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
                 wrk.body = '{{\"type\": \"person\", \"name\": \"Load Test\", \"city\": \"Oslo\", \"email\": \"load@example.no\"}}'\n"
            ),
            pgbench: "\\set r random(1, 1000000000)\nBEGIN;\n\
                 UPDATE number_series SET last_no = last_no + 1 WHERE code = 'contact' RETURNING last_no;\n\
                 INSERT INTO contacts (no, contact_type, name, search_name, city, email, exclude_from_segment, privacy_blocked, version, created_at, updated_at) \
                 VALUES ('L' || :client_id || '-' || :r, 'person', 'Load Test', 'load test', 'Oslo', 'load@example.no', FALSE, FALSE, 1, LOCALTIMESTAMP, LOCALTIMESTAMP) RETURNING id;\n\
                 COMMIT;\n"
                .into(),
        },
        Load {
            name: "PATCH /v1/segments/{id}/lines/{line}",
            wrk: format!(
                "{auth}wrk.method = \"PATCH\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
                 wrk.body = '{{\"subject\": \"Load\"}}'\n\
                 request = function() return wrk.format(nil, \"/v1/segments/{segment}/lines/\" .. math.random({first}, {last})) end\n"
            ),
            pgbench: format!(
                "\\set line random({first}, {last})\n\
                 UPDATE segment_lines SET subject = 'Load', version = version + 1, updated_at = LOCALTIMESTAMP \
                 WHERE id = :line AND segment_id = {segment};\n"
            ),
        },
    ]
}

/// Runs wrk with a Lua script; parses its rate, p99 and non-2xx count.
fn wrk(port: u16, script: &Path) -> Rate {
    let output = Command::new("wrk")
        .args(["-t", &THREADS.to_string(), "-c", &CONNECTIONS.to_string(), "-d", &format!("{}s", seconds())])
        .args(["--latency", "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    let field =
        |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()));
    let per_sec = field("Requests/sec:").unwrap().parse().unwrap();
    let p99 = field("99%").map(|v| duration_ms(&v));
    let failed = field("Non-2xx or 3xx responses:").map_or(0, |v| v.parse().unwrap());
    Rate { per_sec, p99_ms: p99, failed }
}

/// wrk's `12.34ms`, `1.20s`, `850.00us` as ms.
fn duration_ms(text: &str) -> f64 {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap();
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        other => panic!("unknown unit {other}"),
    }
}

/// Runs pgbench with a script; parses its rate.
fn pgbench(url: &str, script: &Path) -> Rate {
    let output = Command::new("pgbench")
        .args(["-n", "-M", "extended", "-c", &CONNECTIONS.to_string(), "-j", &THREADS.to_string()])
        .args(["-T", &seconds().to_string(), "-f"])
        .arg(script)
        .arg(url)
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "pgbench failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    let tps = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = ").and_then(|v| v.split_whitespace().next()))
        .unwrap()
        .parse()
        .unwrap();
    Rate { per_sec: tps, p99_ms: None, failed: 0 }
}

struct Row {
    backend: &'static str,
    load: &'static str,
    api: Rate,
    raw: Option<Rate>,
}

/// Loads the data, then runs each load through the server (and pgbench on PostgreSQL).
async fn bench(
    backend: &'static str,
    server: &Server,
    raw: &mut Raw,
    pg_url: Option<&str>,
    dir: &Path,
    rows: &mut Vec<Row>,
) {
    let n = contacts();
    let api = common::Api::ready(server.port).await;
    load_contacts(raw, n);
    let (segment, _) = api.post("/v1/segments", &json!({"description": "Load", "date": "2026-12-01"})).await;
    let segment = segment["id"].as_i64().unwrap();
    add_plain_lines(raw, segment, 0, 1000);
    let lines = (
        raw.number(&format!("SELECT MIN(id) AS n FROM segment_lines WHERE segment_id = {segment}")),
        raw.number(&format!("SELECT MAX(id) AS n FROM segment_lines WHERE segment_id = {segment}")),
    );
    let (key, _) = api.post("/v1/api-keys", &json!({"name": "load", "scope": "write"})).await;
    let key = key["key"].as_str().unwrap().to_owned();
    for load in loads(&key, n, segment, lines) {
        let script = dir.join("load.lua");
        std::fs::write(&script, &load.wrk).unwrap();
        let rate = wrk(server.port, &script);
        println!(
            "  {backend} {}: {:.0}/s, p99 {:.1} ms, {} failed",
            load.name,
            rate.per_sec,
            rate.p99_ms.unwrap_or(f64::NAN),
            rate.failed
        );
        let raw_rate = pg_url.map(|url| {
            let script = dir.join("load.sql");
            std::fs::write(&script, &load.pgbench).unwrap();
            let rate = pgbench(url, &script);
            println!("  {backend} pgbench: {:.0}/s", rate.per_sec);
            rate
        });
        rows.push(Row { backend, load: load.name, api: rate, raw: raw_rate });
    }
}

#[tokio::main]
async fn main() {
    let dir: PathBuf = std::env::temp_dir().join(format!("bench_load_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rows = Vec::new();

    println!("SQLite, {} contacts", contacts());
    let url = sqlite_database("bench_load");
    let server = Server::start(&url, 18971);
    common::Api::ready(server.port).await;
    let mut raw = sqlite_raw(&url);
    bench("SQLite", &server, &mut raw, None, &dir, &mut rows).await;
    let sqlite_rss = server.peak_rss_mb();
    drop(raw);
    drop(server);
    drop_sqlite_database(&url);

    let mut pg_rss = None;
    match postgres_url() {
        Some(server_url) => {
            println!("PostgreSQL, {} contacts", contacts());
            let (mut admin, name, url) = postgres_database(&server_url, "bench_load");
            let server = Server::start(&url, 18972);
            common::Api::ready(server.port).await;
            let mut raw = Raw::Pg(PgConnection::establish(&url).unwrap());
            bench("PostgreSQL", &server, &mut raw, Some(&url), &dir, &mut rows).await;
            pg_rss = Some(server.peak_rss_mb());
            drop(raw);
            drop(server);
            drop_postgres_database(&mut admin, &name, &url);
        }
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
    std::fs::remove_dir_all(&dir).unwrap();

    println!("\n| database | load | service req/s | p99 | non-2xx | pgbench, same SQL | service / pgbench |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let (raw, ratio) = match r.raw {
            Some(raw) => {
                (format!("{:.0}/s", raw.per_sec), format!("{:.0}%", 100.0 * r.api.per_sec / raw.per_sec))
            }
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | `{}` | {:.0} | {:.1} ms | {} | {raw} | {ratio} |",
            r.backend,
            r.load,
            r.api.per_sec,
            r.api.p99_ms.unwrap_or(f64::NAN),
            r.api.failed
        );
    }
    println!("\nserver peak RSS: SQLite {sqlite_rss:.0} MB, PostgreSQL {:.0} MB", pg_rss.unwrap_or(f64::NAN));
}
