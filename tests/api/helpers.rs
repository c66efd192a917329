//! `TestApp`: the real application on port 0 against a fresh SQLite file or PostgreSQL database.

use std::sync::atomic::{AtomicU32, Ordering};

use crm_segments::api_keys::repo as api_keys;
use crm_segments::config::Settings;
use crm_segments::db::Backend;
use crm_segments::domain::ApiScope;
use crm_segments::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// Runs a test body once on SQLite and once on PostgreSQL, as `<name>::sqlite` and `<name>::postgres`;
/// `settings = |s| ...` adjusts the settings of both apps (a short TTL, a small limit). The PostgreSQL
/// variant is ignored unless `build.rs` set `pg_tests` (`TEST_DATABASE_URL` set, or `CI=true`).
/// `run = f` runs `f(Db::Sqlite)` and `f(Db::Postgres)` instead, for a test that makes its own app.
#[macro_export]
macro_rules! db_test {
    // `run = f`: `f(Db)` makes its own app (an SMTP server first, say) and runs the test.
    ($name:ident, run = $run:path) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $crate::db_test!(@backends run = $run);
        }
    };
    // The two test functions alone, for a macro that makes its own module.
    (@backends run = $run:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            $run($crate::helpers::Db::Sqlite).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
        async fn postgres() {
            $run($crate::helpers::Db::Postgres).await;
        }
    };
    ($name:ident, |$app:ident| $body:block) => {
        $crate::db_test!($name, settings = |_| {}, |$app| $body);
    };
    ($name:ident, settings = $configure:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::try_spawn_with($crate::helpers::Db::Sqlite, $configure)
                    .await
                    .expect("SQLite needs no configuration");
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(pg_tests), ignore = "TEST_DATABASE_URL is not set")]
            async fn postgres() {
                let $app =
                    $crate::helpers::TestApp::try_spawn_with($crate::helpers::Db::Postgres, $configure)
                        .await
                        .expect("TEST_DATABASE_URL is not set: the PostgreSQL tests cannot run");
                $body
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A database the test made and removes itself (see [`TestApp::spawn_on`]).
    External(String),
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin_key: String,
    pub write_key: String,
    pub read_key: String,
    pub pool: crm_segments::db::Pool,
    pub db: Db,
    test_db: TestDb,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("crm_test_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), nanos)
}

/// The PostgreSQL server URL, or None when unset; under CI a missing one is a failure right here.
/// `TEST_DATABASE_URL`, without TLS unless it says otherwise. The test servers run in this
/// process and are torn down on their own threads when each test ends; libpq's OpenSSL cleans up
/// at process exit, and a connection or thread still closing its TLS state then can crash the
/// exit ("double free or corruption", seen once in several runs, after every test passed).
/// Loopback connections need no TLS, so the tests do without it.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.contains("sslmode=") => Some(url),
        Ok(url) if !url.is_empty() => {
            Some(format!("{url}{}sslmode=disable", if url.contains('?') { '&' } else { '?' }))
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests cannot run")
        }
        _ => None,
    }
}

/// `postgres://host/db?x` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// An empty PostgreSQL database (no migrations run), dropped when this is.
pub struct FreshPostgres {
    pub url: String,
    admin_url: String,
    name: String,
}

impl FreshPostgres {
    /// None when PostgreSQL is not configured outside CI.
    pub fn create() -> Option<FreshPostgres> {
        let admin_url = postgres_admin_url()?;
        let name = unique_name();
        let mut conn = PgConnection::establish(&admin_url).expect("cannot connect to TEST_DATABASE_URL");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create database");
        Some(FreshPostgres { url: with_database(&admin_url, &name), admin_url, name })
    }
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn);
        }
    }
}

/// The settings every test app starts from: port 0, a small pool, two workers, a known admin key.
fn test_settings(database: Backend) -> Settings {
    let mut settings = Settings::from_lookup(|_| None).expect("default settings");
    settings.database = database;
    settings.bind = "127.0.0.1:0".into();
    settings.pool_size = 4;
    settings.workers = Some(2);
    settings.admin_key = Some("test-admin-key-0123456789".into());
    settings
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        Self::try_spawn(db).await.expect("the database for this test is not configured")
    }

    /// Starts the app; None when PostgreSQL is not configured outside CI.
    pub async fn try_spawn(db: Db) -> Option<TestApp> {
        Self::try_spawn_with(db, |_| {}).await
    }

    /// Like [`TestApp::try_spawn`], with settings adjusted by `configure` (a short TTL, a small limit).
    pub async fn try_spawn_with(db: Db, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let name = unique_name();
        let (backend, test_db) = match db {
            Db::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                (Backend::Sqlite(path.display().to_string()), TestDb::Sqlite(path))
            }
            Db::Postgres => {
                let admin_url = postgres_admin_url()?;
                let mut conn =
                    PgConnection::establish(&admin_url).expect("cannot connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create database");
                (Backend::Postgres(with_database(&admin_url, &name)), TestDb::Postgres { admin_url, name })
            }
        };
        let mut settings = test_settings(backend);
        configure(&mut settings);
        Some(Self::start(settings, db, test_db).await)
    }

    /// The app on a database the test made itself and removes itself (a private PostgreSQL
    /// server, a file on a filesystem of its own), migrated on start; dropping the app leaves
    /// the database alone.
    pub async fn spawn_on(database_url: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let backend = Backend::from_url(database_url).expect("a database URL");
        let db = match backend {
            Backend::Postgres(_) => Db::Postgres,
            Backend::Sqlite(_) => Db::Sqlite,
        };
        let mut settings = test_settings(backend);
        configure(&mut settings);
        Self::start(settings, db, TestDb::External(database_url.to_owned())).await
    }

    async fn start(settings: Settings, db: Db, test_db: TestDb) -> TestApp {
        if std::env::var("TEST_LOG").is_ok() {
            crm_segments::telemetry::init("info", crm_segments::config::LogFormat::Text);
        }
        let admin_key = settings.admin_key.clone().expect("admin key");
        let app = Application::build(settings).expect("the application builds");
        let pool = app.pool().clone();
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let mut conn = pool.get().expect("connection");
        let write_key = api_keys::create_api_key(&mut conn, "writer", ApiScope::Write).expect("write key");
        let read_key = api_keys::create_api_key(&mut conn, "reader", ApiScope::Read).expect("read key");
        drop(conn);
        TestApp { address, client: reqwest::Client::new(), admin_key, write_key, read_key, pool, db, test_db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request made with `key` (None: no Authorization header).
    pub fn request_as(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// A request made with the write key, which most tests use.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(method, path, Some(&self.write_key))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path).json(body).send().await.expect("request")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path).json(body).send().await.expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.expect("request")
    }

    /// The app's database as a `DATABASE_URL`, for a second server process on the same database.
    pub fn database_url(&self) -> String {
        match &self.test_db {
            TestDb::Sqlite(path) => path.display().to_string(),
            TestDb::Postgres { admin_url, name } => with_database(admin_url, name),
            TestDb::External(url) => url.clone(),
        }
    }

    /// Runs a query on the app's database (for asserting effects).
    pub fn conn(&self) -> crm_segments::db::PooledConn {
        self.pool.get().expect("connection")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        match &self.test_db {
            TestDb::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn);
                }
            }
            TestDb::External(_) => {}
        }
    }
}

/// Asserts the status and that the body is a problem document with this code; answers the body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:crm-segments:problem:{code}"), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}

/// Asserts the status and answers the JSON body.
pub async fn assert_json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).expect("JSON body")
}

/// An interaction log entry written straight into the database (as logging would), for tests
/// of what reads the log before or apart from logging.
pub fn insert_log_entry(
    app: &TestApp,
    entry_no: i64,
    contact_no: &str,
    template: &str,
    date: &str,
    canceled: bool,
) {
    use crm_segments::db::schema::{contacts, interaction_log_entries as e};
    use diesel::prelude::*;
    let mut conn = app.conn();
    let contact_id: i64 =
        contacts::table.filter(contacts::no.eq(contact_no)).select(contacts::id).first(&mut *conn).unwrap();
    let now = chrono::Utc::now().naive_utc();
    diesel::insert_into(e::table)
        .values((
            (e::entry_no.eq(entry_no), e::contact_id.eq(contact_id), e::contact_no.eq(contact_no)),
            (
                e::contact_name.eq(contact_no),
                e::date.eq(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap()),
            ),
            (
                e::time_of_interaction.eq(now),
                e::description.eq("d"),
                e::interaction_template_code.eq(template),
            ),
            (e::information_flow.eq("outbound"), e::initiated_by.eq("us"), e::cost_cents.eq(0_i64)),
            (e::duration_min.eq(0_i64), e::attempt_failed.eq(false), e::user_name.eq("test")),
            (e::delivery_status.eq("not_applicable"), e::canceled.eq(canceled), e::created_at.eq(now)),
        ))
        .execute(&mut *conn)
        .unwrap();
}

/// The contact nos listed by a preview (or any answer with `contacts[].contact_no`), sorted.
pub fn contact_nos(answer: &Value) -> std::collections::BTreeSet<String> {
    answer["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .map(|c| c["contact_no"].as_str().expect("contact_no").to_owned())
        .collect()
}
