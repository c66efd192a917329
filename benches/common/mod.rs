//! What the benchmarks share: the raw-SQL connection on either backend, the contacts loaded by
//! one `INSERT ... SELECT`, the release server as a child process (and its peak memory and CPU
//! time), the API client holding the admin key, a fresh database per run, and the SMTP sink the
//! tests use (`tests/support/smtp_sink.py`). Each bench uses a part.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use serde_json::{json, Value};

pub const ADMIN_KEY: &str = "bench-admin-key-0123456789";
/// A company and its three persons share a city: `CITIES[group % 10]`.
pub const CITIES: [&str; 10] = [
    "Oslo",
    "Bergen",
    "Trondheim",
    "Stavanger",
    "Drammen",
    "Fredrikstad",
    "Kristiansand",
    "Sandnes",
    "Tromso",
    "Bodo",
];

/// The raw-SQL side's connection, on the database the server uses.
pub enum Raw {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TextPair {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
}

impl Raw {
    pub fn batch(&mut self, sql: &str) {
        match self {
            Raw::Pg(c) => c.batch_execute(sql),
            Raw::Sqlite(c) => c.batch_execute(sql),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    pub fn execute(&mut self, sql: &str) -> i64 {
        match self {
            Raw::Pg(c) => diesel::sql_query(sql).execute(c),
            Raw::Sqlite(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}")) as i64
    }

    /// The first row's column `n`.
    pub fn number(&mut self, sql: &str) -> i64 {
        let rows: Vec<Number> = match self {
            Raw::Pg(c) => diesel::sql_query(sql).load(c),
            Raw::Sqlite(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
        rows[0].n
    }

    /// Every row's text columns `a` and `b`.
    pub fn text_pairs(&mut self, sql: &str) -> Vec<(String, String)> {
        let rows: Vec<TextPair> = match self {
            Raw::Pg(c) => diesel::sql_query(sql).load(c),
            Raw::Sqlite(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
        rows.into_iter().map(|r| (r.a, r.b)).collect()
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Raw::Sqlite(_))
    }

    /// A timestamp literal that both backends store as the service does.
    pub fn timestamp(&self, at: &str) -> String {
        if self.is_sqlite() {
            format!("'{at}'")
        } else {
            format!("TIMESTAMP '{at}'")
        }
    }

    /// Runs `work` in one transaction (on SQLite taking the write lock up front, as the service
    /// does) and answers its result and the time taken.
    pub fn timed<T>(&mut self, work: impl FnOnce(&mut Raw) -> T) -> (T, Duration) {
        let started = Instant::now();
        self.batch(if self.is_sqlite() { "BEGIN IMMEDIATE" } else { "BEGIN" });
        let result = work(self);
        self.batch("COMMIT");
        (result, started.elapsed())
    }
}

pub fn now() -> String {
    chrono::Utc::now().naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Loads `total` contacts in one `INSERT ... SELECT` over a generated series: every fourth a
/// company followed by its three persons; per group of four a city (10 % each) and a post code
/// (1 % each, independent of the city); names that do not sort by id; about 1 % each
/// privacy-blocked and excluded.
pub fn load_contacts(raw: &mut Raw, total: usize) {
    let ts = raw.timestamp(&now());
    let city_case: String = CITIES.iter().enumerate().map(|(k, c)| format!(" WHEN {k} THEN '{c}'")).collect();
    let name = "CASE WHEN i % 4 = 1 THEN 'Company ' || ((i * 7919) % 1000003) || ' AS' \
                ELSE 'Person ' || ((i * 104729) % 1000003) END";
    let select = format!(
        "SELECT i, 'C' || {no}, CASE WHEN i % 4 = 1 THEN 'company' ELSE 'person' END, {name}, lower({name}), \
         CASE WHEN i % 4 = 1 THEN NULL ELSE i - ((i - 1) % 4) END, 'Street ' || i, \
         CASE ((i - 1) / 4) % 10{city_case} END, CAST(1000 + ((i - 1) / 40) % 100 AS TEXT), 'NO', \
         'contact' || i || '@example.no', 'nb-NO', CASE WHEN i % 2 = 0 THEN 'email' ELSE 'hard_copy' END, \
         i % 89 = 0, i % 97 = 0, 'erp-' || i, 1, {ts}, {ts} FROM seq",
        no = if raw.is_sqlite() { "printf('%07d', i)" } else { "lpad(i::text, 7, '0')" },
    );
    let insert = "INSERT INTO contacts (id, no, contact_type, name, search_name, company_id, address, city, \
                  post_code, country_code, email, language_code, correspondence_type, exclude_from_segment, \
                  privacy_blocked, external_id, version, created_at, updated_at)";
    let series = if raw.is_sqlite() {
        format!("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {total})")
    } else {
        format!("WITH seq(i) AS (SELECT generate_series(1::bigint, {total}))")
    };
    raw.batch(&format!("BEGIN; {series} {insert} {select}; COMMIT;"));
    if !raw.is_sqlite() {
        // Explicit ids leave the sequence behind; VACUUM cannot run inside a multi-statement batch.
        raw.batch(&format!("SELECT setval('contacts_id_seq', {total})"));
        raw.batch("VACUUM ANALYZE contacts");
    }
}

/// Adds `n` lines to segment `segment_id`, inheriting everything from the header: the contacts
/// neither privacy-blocked nor excluded, in id order, after the first `skip` of them; one raw
/// `INSERT ... SELECT` (as a criteria add would leave them) and the line count.
pub fn add_plain_lines(raw: &mut Raw, segment_id: i64, skip: usize, n: usize) {
    let ts = raw.timestamp(&now());
    raw.batch(if raw.is_sqlite() { "BEGIN IMMEDIATE" } else { "BEGIN" });
    let added = raw.execute(&format!(
        "INSERT INTO segment_lines (segment_id, contact_id, attempt_failed, version, created_at, updated_at) \
         SELECT {segment_id}, id, FALSE, 1, {ts}, {ts} FROM contacts \
         WHERE NOT privacy_blocked AND NOT exclude_from_segment ORDER BY id LIMIT {n} OFFSET {skip}"
    ));
    assert_eq!(added, n as i64, "not enough contacts for {n} lines");
    raw.execute(&format!(
        "UPDATE segments SET no_of_lines = no_of_lines + {n}, version = version + 1, updated_at = {ts} \
         WHERE id = {segment_id}"
    ));
    raw.batch("COMMIT");
    if !raw.is_sqlite() {
        // Stands in for autovacuum (off on the benchmark cluster) after a large insert.
        raw.batch("VACUUM ANALYZE segment_lines");
    }
}

/// Contacts enough for `lines` lines: about 2.2 % of them are privacy-blocked or excluded.
pub fn contacts_for(lines: usize) -> usize {
    lines + lines / 30 + 1000
}

pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    pub fn start(database_url: &str, port: u16) -> Server {
        Server::start_with(database_url, port, &[])
    }

    /// Starts the server with more environment (`SMTP_URL`, `DELIVERY_SENDERS`, ...).
    pub fn start_with(database_url: &str, port: u16, env: &[(&str, String)]) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_crm-segments"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("CRM_ADMIN_KEY", ADMIN_KEY)
            .env("LOG_LEVEL", "warn")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .spawn()
            .expect("start the server");
        Server { child, port }
    }

    /// CPU time (user and system, all threads) the server has used so far.
    pub fn cpu(&self) -> Duration {
        cpu_time(self.child.id())
    }

    /// Peak resident memory of the server process (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
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
        // A server that died (or was killed) under the benchmark says so instead of "refused".
        if let Ok(Some(status)) = self.child.try_wait() {
            eprintln!("the server had already exited: {status}");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user and system, all threads) process `pid` has used so far; zero if unreadable.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

/// The API side: a client holding the admin key.
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    pub async fn ready(port: u16) -> Api {
        let api = Api { client: reqwest::Client::new(), base: format!("http://127.0.0.1:{port}") };
        for _ in 0..400 {
            if let Ok(r) = api.client.get(format!("{}/readyz", api.base)).send().await {
                if r.status().is_success() {
                    return api;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    /// POSTs `body` and answers the JSON answer and the time to the whole answer.
    pub async fn post(&self, path: &str, body: &Value) -> (Value, Duration) {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_KEY)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        let elapsed = started.elapsed();
        assert!(status.is_success(), "POST {path}: {status} {answer}");
        (answer, elapsed)
    }

    /// POSTs `bytes` as the raw body with `content_type` and answers the JSON answer.
    pub async fn post_bytes(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_KEY)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {answer}");
        answer
    }

    /// GETs `path`: the whole body and the time to its last byte.
    pub async fn get_bytes(&self, path: &str) -> (Vec<u8>, Duration) {
        let started = Instant::now();
        let response =
            self.client.get(format!("{}{path}", self.base)).bearer_auth(ADMIN_KEY).send().await.unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap().to_vec();
        let elapsed = started.elapsed();
        assert!(status.is_success(), "GET {path}: {status} {}", String::from_utf8_lossy(&body));
        (body, elapsed)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        serde_json::from_slice(&self.get_bytes(path).await.0).unwrap()
    }

    pub async fn create_segment(&self, description: &str) -> i64 {
        self.post("/v1/segments", &json!({"description": description})).await.0["id"].as_i64().unwrap()
    }
}

/// `BENCH_KEEP` set (and not `0`): keep the databases to inspect.
pub fn keep() -> bool {
    std::env::var("BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The PostgreSQL server named by `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`), if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh SQLite file in the temporary directory, named `{name}_{pid}.db`; answers its URL.
pub fn sqlite_database(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("{name}_{}.db", std::process::id()));
    path.to_str().unwrap().to_owned()
}

/// The raw side's SQLite connection, with the PRAGMAs the service sets on its own.
pub fn sqlite_raw(url: &str) -> Raw {
    let mut conn = SqliteConnection::establish(url).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .unwrap();
    Raw::Sqlite(conn)
}

/// Removes the SQLite file and its WAL, unless `BENCH_KEEP`.
pub fn drop_sqlite_database(url: &str) {
    if keep() {
        println!("kept {url}");
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{url}{suffix}"));
        }
    }
}

/// A fresh database `{name}_{pid}` on the server of `server_url`; answers a connection to the
/// server's database (to drop it afterwards), the new database's name and its URL.
pub fn postgres_database(server_url: &str, name: &str) -> (PgConnection, String, String) {
    let base =
        server_url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or_else(|| server_url.to_owned());
    let mut admin = PgConnection::establish(server_url).unwrap();
    let name = format!("{name}_{}", std::process::id());
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
    let url = format!("{base}/{name}");
    (admin, name, url)
}

/// Drops the database `name` (open connections and all), unless `BENCH_KEEP`.
pub fn drop_postgres_database(admin: &mut PgConnection, name: &str, url: &str) {
    if keep() {
        println!("kept {url}");
    } else {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(admin).unwrap();
    }
}

/// The SMTP sink the tests use (`tests/support/smtp_sink.py`, aiosmtpd) on a free port, writing
/// one JSON line per message it accepts; killed and its files removed on drop.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    /// Starts a sink whose files live under the temporary directory as `{name}_{pid}`.
    pub fn start(name: &str) -> SmtpSink {
        let python = python_with_aiosmtpd();
        let dir = std::env::temp_dir().join(format!("{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(script)
            .args(["--port", "0", "--out"])
            .arg(dir.join("messages.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let Some(port) = line.trim().strip_prefix("LISTENING ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SMTP sink did not start: it printed {line:?}");
        };
        SmtpSink { child, port, dir }
    }

    /// The URL to give `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// CPU time the sink has used so far.
    pub fn cpu(&self) -> Duration {
        cpu_time(self.child.id())
    }

    /// The Message-ID of every message received so far (complete lines only), oldest first.
    pub fn message_ids(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("messages.jsonl")).unwrap_or_default();
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .map(|line| {
                let message: Value = serde_json::from_str(line).unwrap();
                message["message_id"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `CRM_TEST_PYTHON`, else the venv `.ci/setup-python` makes, else `python3`: the first that
/// imports aiosmtpd, as the tests look for it.
fn python_with_aiosmtpd() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python");
    let candidates = match std::env::var_os("CRM_TEST_PYTHON").filter(|p| !p.is_empty()) {
        Some(named) => vec![PathBuf::from(named)],
        None => vec![venv, PathBuf::from("python3")],
    };
    candidates
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("no Python with aiosmtpd for the SMTP sink: run `bash .ci/setup-python`")
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
