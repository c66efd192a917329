//! Loads 100,000 contacts through `POST /v1/contacts/bulk` (1000 items a request) and the same
//! rows by raw multi-row SQL on the same database, and prints the ratio and the server's peak
//! memory. Then fills the table up to 1,000,000 contacts and times pages of 1000 through
//! `GET /v1/contacts` at the start and at the end of the table, next to the same keyset query
//! in raw SQL. SQLite always; PostgreSQL when `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`)
//! names a server. Run: `cargo bench --bench bulk_load` (`BENCH_CONTACTS=20000` for a quicker run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use serde_json::{json, Value};

const BATCH: usize = 1000;
const ADMIN_KEY: &str = "bench-admin-key-0123456789";

fn contact(i: usize) -> Value {
    let city = ["Oslo", "Bergen", "Trondheim", "Stavanger"][i % 4];
    json!({
        "type": "company",
        "no": format!("B{i:07}"),
        "external_id": format!("erp-{i}"),
        "name": format!("Company {i} AS"),
        "address": format!("Street {i}"),
        "city": city,
        "post_code": format!("{:04}", i % 10000),
        "country_code": "NO",
        "phone": format!("+47 {i:08}"),
        "email": format!("post{i}@company{i}.no"),
        "language_code": "nb-NO",
        "correspondence_type": if i.is_multiple_of(2) { "email" } else { "hard_copy" },
    })
}

fn sql_text(v: &Value) -> String {
    match v.as_str() {
        Some(s) => format!("'{}'", s.replace('\'', "''")),
        None => "NULL".into(),
    }
}

/// The same rows as one multi-row INSERT per 1000, in one transaction.
fn raw_statements(total: usize, now: &str) -> Vec<String> {
    (0..total)
        .collect::<Vec<_>>()
        .chunks(BATCH)
        .map(|chunk| {
            let rows: Vec<String> = chunk
                .iter()
                .map(|&i| {
                    let c = contact(i);
                    let name = c["name"].as_str().unwrap();
                    format!(
                        "({}, 'company', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, false, false, 1, '{now}', '{now}')",
                        sql_text(&c["no"]),
                        sql_text(&c["name"]),
                        sql_text(&json!(name.to_lowercase())),
                        sql_text(&c["address"]),
                        sql_text(&c["city"]),
                        sql_text(&c["post_code"]),
                        sql_text(&c["country_code"]),
                        sql_text(&c["phone"]),
                        sql_text(&c["email"]),
                        sql_text(&c["language_code"]),
                        sql_text(&c["correspondence_type"]),
                        sql_text(&c["external_id"]),
                    )
                })
                .collect();
            format!(
                "INSERT INTO contacts (no, contact_type, name, search_name, address, city, post_code, country_code, \
                 phone, email, language_code, correspondence_type, external_id, exclude_from_segment, \
                 privacy_blocked, version, created_at, updated_at) VALUES {}",
                rows.join(", ")
            )
        })
        .collect()
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(database_url: &str, port: u16) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_crm-segments"))
            .env("DATABASE_URL", database_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("CRM_ADMIN_KEY", ADMIN_KEY)
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the server");
        Server { child, port }
    }

    /// Peak resident memory of the server process (VmHWM), in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

struct Figures {
    api: Duration,
    /// The same load with two concurrent clients, into a database of its own.
    api_two_clients: Duration,
    raw: Duration,
    /// Raw SQL with a transaction per 1000 rows, as the API commits them.
    raw_per_batch: Duration,
    peak_mb: f64,
    /// (API, raw) per page of 1000 at the start and at the end of a 1M table.
    first_page: (Duration, Duration),
    last_page: (Duration, Duration),
}

/// Loads `total` contacts through bulk sync with `clients` concurrent clients, each sending every
/// `clients`-th request in turn (one client is a single ERP integration sending batch after
/// batch; two, on this 2-core machine, keep the server's cores busy while the database writes).
async fn run_api(database_url: &str, port: u16, total: usize, clients: usize) -> (Duration, f64, Server) {
    let server = Server::start(database_url, port);
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;
    // Serialised before the clock starts, as the raw side's SQL text is.
    let bodies: Vec<Vec<u8>> = (0..total)
        .collect::<Vec<_>>()
        .chunks(BATCH)
        .map(|chunk| {
            serde_json::to_vec(&json!({"items": chunk.iter().map(|&i| contact(i)).collect::<Vec<_>>()}))
                .unwrap()
        })
        .collect();
    let bodies = std::sync::Arc::new(bodies);
    let started = Instant::now();
    let senders: Vec<_> = (0..clients)
        .map(|k| {
            let (client, bodies) = (client.clone(), bodies.clone());
            tokio::spawn(async move {
                for body in bodies.iter().skip(k).step_by(clients) {
                    let response = client
                        .post(format!("http://127.0.0.1:{port}/v1/contacts/bulk"))
                        .bearer_auth(ADMIN_KEY)
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(
                        response.status().is_success(),
                        "bulk failed: {}",
                        response.text().await.unwrap()
                    );
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let elapsed = started.elapsed();
    (elapsed, server.peak_rss_mb(), server)
}

/// Rows up to `LIST_TABLE_SIZE`, added by raw SQL after the bulk load (no API in between).
const LIST_TABLE_SIZE: usize = 1_000_000;
const PAGE: usize = 1000;
const PAGE_READS: usize = 20;

fn filler_statements(from: usize, now: &str) -> Vec<String> {
    (from..LIST_TABLE_SIZE)
        .collect::<Vec<_>>()
        .chunks(10_000)
        .map(|chunk| {
            let rows: Vec<String> = chunk
                .iter()
                .map(|i| format!("('F{i:07}', 'company', 'Filler {i}', 'filler {i}', 'Oslo', false, false, 1, '{now}', '{now}')"))
                .collect();
            format!(
                "INSERT INTO contacts (no, contact_type, name, search_name, city, exclude_from_segment, privacy_blocked, \
                 version, created_at, updated_at) VALUES {}",
                rows.join(", ")
            )
        })
        .collect()
}

/// Times `PAGE_READS` reads of the page after `after_id` through the API, and of the same keyset
/// query in raw SQL; answers (api, raw) per page.
async fn page_reads(port: u16, after_id: i64, raw: &mut dyn FnMut(&str)) -> (Duration, Duration) {
    let client = reqwest::Client::new();
    let cursor = base64_cursor(after_id);
    let url = format!("http://127.0.0.1:{port}/v1/contacts?limit={PAGE}&cursor={cursor}");
    let started = Instant::now();
    for _ in 0..PAGE_READS {
        let response = client.get(&url).bearer_auth(ADMIN_KEY).send().await.unwrap();
        assert!(response.status().is_success());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["items"].as_array().unwrap().len(), PAGE);
    }
    let api = started.elapsed() / PAGE_READS as u32;
    let query = format!("SELECT * FROM contacts WHERE id > {after_id} ORDER BY id LIMIT {}", PAGE + 1);
    let started = Instant::now();
    for _ in 0..PAGE_READS {
        raw(&query);
    }
    (api, started.elapsed() / PAGE_READS as u32)
}

/// The service's cursor for "after this id" (the format is opaque to clients, not to us).
fn base64_cursor(id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("contacts:id:{id}"))
}

fn migrate(database_url: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_crm-segments"))
        .arg("migrate")
        .env("DATABASE_URL", database_url)
        .env("LOG_LEVEL", "warn")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn raw_time(statements: &[String], exec: &mut dyn FnMut(&str)) -> Duration {
    let started = Instant::now();
    exec("BEGIN");
    for s in statements {
        exec(s);
    }
    exec("COMMIT");
    started.elapsed()
}

/// The same statements, each in a transaction of its own: the unit of work that a bulk request
/// commits (all or nothing per request).
fn raw_time_per_batch(statements: &[String], exec: &mut dyn FnMut(&str)) -> Duration {
    let started = Instant::now();
    for s in statements {
        exec("BEGIN");
        exec(s);
        exec("COMMIT");
    }
    started.elapsed()
}

async fn bench_sqlite(total: usize, statements: &[String]) -> Figures {
    let dir = std::env::temp_dir();
    let api_db = dir.join(format!("bench_api_{}.db", std::process::id()));
    let raw_db = dir.join(format!("bench_raw_{}.db", std::process::id()));
    let api2_db = dir.join(format!("bench_api2_{}.db", std::process::id()));
    let (api_two_clients, _, two) = run_api(api2_db.to_str().unwrap(), 18933, total, 2).await;
    drop(two);
    let (api, peak_mb, server) = run_api(api_db.to_str().unwrap(), 18931, total, 1).await;
    migrate(raw_db.to_str().unwrap());
    let pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                   PRAGMA busy_timeout = 10000;";
    let mut conn = SqliteConnection::establish(raw_db.to_str().unwrap()).unwrap();
    conn.batch_execute(pragmas).unwrap();
    let raw = raw_time(statements, &mut |s| conn.batch_execute(s).unwrap());
    let per_batch_db = dir.join(format!("bench_raw_batches_{}.db", std::process::id()));
    migrate(per_batch_db.to_str().unwrap());
    let mut conn = SqliteConnection::establish(per_batch_db.to_str().unwrap()).unwrap();
    conn.batch_execute(pragmas).unwrap();
    let raw_per_batch = raw_time_per_batch(statements, &mut |s| conn.batch_execute(s).unwrap());
    drop(conn);

    let mut api_conn = SqliteConnection::establish(api_db.to_str().unwrap()).unwrap();
    api_conn.batch_execute(pragmas).unwrap();
    let now = chrono::Utc::now().naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    raw_time(&filler_statements(total, &now), &mut |s| api_conn.batch_execute(s).unwrap());
    let first_page = page_reads(server.port, 0, &mut |q| api_conn.batch_execute(q).unwrap()).await;
    let last_id = (LIST_TABLE_SIZE - PAGE - 1) as i64;
    let last_page = page_reads(server.port, last_id, &mut |q| api_conn.batch_execute(q).unwrap()).await;
    drop(server);
    for path in [&api_db, &api2_db, &raw_db, &per_batch_db] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    Figures { api, api_two_clients, raw, raw_per_batch, peak_mb, first_page, last_page }
}

async fn bench_postgres(server_url: &str, total: usize, statements: &[String]) -> Figures {
    let base =
        server_url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or_else(|| server_url.to_owned());
    let mut admin = PgConnection::establish(server_url).unwrap();
    let names = [
        format!("bench_api_{}", std::process::id()),
        format!("bench_raw_{}", std::process::id()),
        format!("bench_raw_batches_{}", std::process::id()),
        format!("bench_api2_{}", std::process::id()),
    ];
    for name in &names {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
    }
    let api_url = format!("{base}/{}", names[0]);
    let (api_two_clients, _, two) = run_api(&format!("{base}/{}", names[3]), 18934, total, 2).await;
    drop(two);
    let (api, peak_mb, server) = run_api(&api_url, 18932, total, 1).await;
    let raw_url = format!("{base}/{}", names[1]);
    migrate(&raw_url);
    let mut conn = PgConnection::establish(&raw_url).unwrap();
    let raw = raw_time(statements, &mut |s| conn.batch_execute(s).unwrap());
    drop(conn);
    let per_batch_url = format!("{base}/{}", names[2]);
    migrate(&per_batch_url);
    let mut conn = PgConnection::establish(&per_batch_url).unwrap();
    let raw_per_batch = raw_time_per_batch(statements, &mut |s| conn.batch_execute(s).unwrap());
    drop(conn);

    let mut api_conn = PgConnection::establish(&api_url).unwrap();
    let now = chrono::Utc::now().naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    raw_time(&filler_statements(total, &now), &mut |s| api_conn.batch_execute(s).unwrap());
    api_conn.batch_execute("ANALYZE contacts").unwrap();
    let first_page = page_reads(server.port, 0, &mut |q| api_conn.batch_execute(q).unwrap()).await;
    let last_id = (LIST_TABLE_SIZE - PAGE - 1) as i64;
    let last_page = page_reads(server.port, last_id, &mut |q| api_conn.batch_execute(q).unwrap()).await;
    drop(api_conn);
    drop(server);
    for name in &names {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }
    Figures { api, api_two_clients, raw, raw_per_batch, peak_mb, first_page, last_page }
}

fn report(backend: &str, total: usize, f: &Figures) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {backend} | {total} | {:.2} s | {:.2} s | {:.2}x | {:.2} s | {:.2}x | {:.2} s | {:.2}x | {:.0} MB | {:.1} ms ({:.1} ms raw) | {:.1} ms ({:.1} ms raw) |",
        f.api.as_secs_f64(),
        f.raw.as_secs_f64(),
        f.api.as_secs_f64() / f.raw.as_secs_f64(),
        f.raw_per_batch.as_secs_f64(),
        f.api.as_secs_f64() / f.raw_per_batch.as_secs_f64(),
        f.api_two_clients.as_secs_f64(),
        f.api_two_clients.as_secs_f64() / f.raw_per_batch.as_secs_f64(),
        f.peak_mb,
        ms(f.first_page.0),
        ms(f.first_page.1),
        ms(f.last_page.0),
        ms(f.last_page.1),
    );
}

#[tokio::main]
async fn main() {
    let total: usize = std::env::var("BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let now = chrono::Utc::now().naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    let statements = raw_statements(total, &now);
    println!(
        "| backend | contacts | API (bulk, 1000/request) | raw multi-row SQL, one transaction | ratio | \
         raw, a transaction per 1000 | ratio | API, 2 clients | ratio to a transaction per 1000 | server peak RSS | page of 1000, start of 1M | page of 1000, end of 1M |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    report("SQLite", total, &bench_sqlite(total, &statements).await);
    let pg = std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL"));
    match pg {
        Ok(url) if !url.is_empty() => {
            report("PostgreSQL", total, &bench_postgres(&url, total, &statements).await)
        }
        _ => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
}
