//! The one connection type over SQLite and PostgreSQL, its pool, migrations and helpers.

pub mod filesystem;
pub mod number_series;
pub mod schema;
pub mod sql;
pub mod write_time;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use self::filesystem::FilesystemWatch;
use crate::error::ApiError;
use crate::metrics::METRICS;

/// One connection type for both backends.
///
/// diesel's `MultiConnection` derive lets one set of DSL queries compile for both backends and
/// be pooled by r2d2; the few statements it cannot express through the enum (multi-row
/// `VALUES`, `ON CONFLICT`) run on the concrete connection via [`with_backend!`]. We do not use
/// its derived `establish` (it guesses the backend and loses the real error): [`ConnectionManager`]
/// picks the backend from the URL and fails fast with the database's own message.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same diesel code on the concrete connection of either backend.
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Postgresql($c) => $body,
            $crate::db::Conn::Sqlite($c) => $body,
        }
    };
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// The database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Postgres(String),
    /// A file path (never `:memory:`: every pooled connection would see its own database).
    Sqlite(String),
}

impl Backend {
    /// `postgres://` / `postgresql://` select PostgreSQL; `sqlite://path`, `sqlite:path` or a
    /// bare path select SQLite.
    pub fn from_url(url: &str) -> Result<Backend, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() {
            return Err("DATABASE_URL names no SQLite file".into());
        }
        if path.contains(":memory:") {
            return Err(
                "DATABASE_URL: an in-memory SQLite database cannot be shared by the pool; name a file".into(),
            );
        }
        if path.contains("://") {
            return Err(format!(
                "DATABASE_URL: unsupported scheme in {path:?} (use postgres://... or a SQLite file path)"
            ));
        }
        Ok(Backend::Sqlite(path.to_owned()))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Postgres(_) => "postgresql",
            Backend::Sqlite(_) => "sqlite",
        }
    }
}

/// r2d2 manager that opens the backend named by the URL and prepares each connection: SQLite's
/// PRAGMAs, PostgreSQL's statement timeout and JIT off.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    backend: Backend,
    statement_timeout: Option<Duration>,
    /// SQLite's: whether its file's filesystem is read-only.
    filesystem: Option<Arc<FilesystemWatch>>,
}

impl ConnectionManager {
    pub fn new(backend: Backend, statement_timeout: Option<Duration>) -> Self {
        let filesystem = match &backend {
            Backend::Sqlite(path) => Some(Arc::new(FilesystemWatch::new(path))),
            Backend::Postgres(_) => None,
        };
        ConnectionManager { backend, statement_timeout, filesystem }
    }
}

/// Why a connection could not be opened, with the database's own message.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// No SQLite connection is opened while its file's filesystem is read-only (see
    /// `db::filesystem`).
    #[error("the SQLite file's filesystem is read-only")]
    ReadOnlyFilesystem,
}

/// Per-connection SQLite settings: PRAGMAs are not persistent (but for WAL), so r2d2 applies
/// them to every new connection. The busy timeout makes writers queue instead of failing; it
/// comes first because switching to WAL needs the lock too (another process opening the file
/// at that moment failed with "database is locked").
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

// SQLite's own `lower()` knows only ASCII; this one replaces it on every SQLite connection so
// that case-insensitive filters (`contains`, `starts_with`) are Unicode-aware as on PostgreSQL.
diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn unicode_lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>)
        -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

impl ManageConnection for ConnectionManager {
    type Connection = Conn;
    type Error = ConnectError;

    fn connect(&self) -> Result<Conn, ConnectError> {
        match &self.backend {
            Backend::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                // No JIT: the effective-value expressions' correlated subqueries give a page of
                // 1,000 lines a cost above `jit_above_cost`, and compiling it took 130 ms of a
                // 140 ms query, for every page of a CSV export (5.8x slower than COPY).
                conn.batch_execute("SET jit = off")?;
                if let Some(timeout) = self.statement_timeout {
                    // A number of our own, not input: safe to format into the statement.
                    conn.batch_execute(&format!("SET statement_timeout = {}", timeout.as_millis()))?;
                }
                Ok(Conn::Postgresql(conn))
            }
            Backend::Sqlite(path) => {
                if self.filesystem.as_ref().is_some_and(|fs| fs.check()) {
                    return Err(ConnectError::ReadOnlyFilesystem);
                }
                let mut conn = SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                unicode_lower_utils::register_impl(&mut conn, |text: Option<String>| {
                    text.map(|t| t.to_lowercase())
                })?;
                Ok(Conn::Sqlite(conn))
            }
        }
    }

    /// On SQLite, at every checkout: once its file's filesystem has been found read-only, the
    /// connection is set to refuse writes (`query_only`, SQLITE_READONLY: 503
    /// `database-read-only`) while it is, and to make them again once it is writable, without a
    /// restart (see `db::filesystem`, tests/api/faults/sqlite_storage.rs). Always valid.
    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        match (&self.filesystem, conn) {
            (Some(filesystem), Conn::Sqlite(c)) => {
                let read_only = filesystem.read_only();
                if filesystem.ever_read_only() {
                    c.batch_execute(if read_only {
                        "PRAGMA query_only = ON"
                    } else {
                        "PRAGMA query_only = OFF"
                    })?;
                }
                Ok(())
            }
            (_, conn) => conn.ping().map_err(ConnectError::Query),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_broken()
    }
}

/// Opens one connection without a statement timeout: for migrations, which may rightly take
/// long on a large database.
pub fn connect(backend: &Backend) -> anyhow::Result<Conn> {
    ConnectionManager::new(backend.clone(), None)
        .connect()
        .with_context(|| format!("cannot connect to {}", backend.name()))
}

/// Builds the pool; fails with the database's message when the first connection cannot open.
/// A checkout waits at most `checkout_timeout` (`DB_POOL_TIMEOUT_SECS`) for a connection.
pub fn build_pool(
    backend: &Backend,
    size: u32,
    statement_timeout: Option<Duration>,
    checkout_timeout: Duration,
) -> anyhow::Result<Pool> {
    let manager = ConnectionManager::new(backend.clone(), statement_timeout);
    // Open one connection first so that a wrong URL fails at once with its real reason
    // instead of r2d2 retrying for its whole connection timeout.
    manager.connect().with_context(|| format!("cannot connect to {}", backend.name()))?;
    r2d2::Pool::builder()
        .max_size(size)
        // No `SELECT 1` before every checkout (a quarter of a read's throughput). A connection
        // the server closed fails its statement (503); diesel then finds libpq's transaction
        // status unknown and reports the connection broken, and r2d2 drops it on return, so
        // each dead connection fails one request (tests/api/operations.rs). SQLite's check is
        // local and cheap: see `is_valid`.
        .test_on_check_out(matches!(backend, Backend::Sqlite(_)))
        // Also how long a request waits while the database refuses connections; r2d2 keeps
        // trying to reconnect meanwhile, backing off up to half of it.
        .connection_timeout(checkout_timeout)
        .build(manager)
        .context("cannot build the connection pool")
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The PostgreSQL advisory lock key that migrations run under ("crm-segm" in ASCII).
const MIGRATION_LOCK: i64 = 0x6372_6d2d_7365_676d;

/// Runs the pending migrations of the connection's backend; answers how many ran. On
/// PostgreSQL replicas starting at the same moment take turns under a session advisory lock:
/// without it two of them create the same tables at once and one fails; the later ones find
/// nothing pending. SQLite serves one process.
pub fn run_migrations(conn: &mut Conn) -> anyhow::Result<usize> {
    use diesel::RunQueryDsl;
    let ran = match conn {
        Conn::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .execute(c)
                .context("cannot take the migration lock")?;
            let ran = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
            // Released also when the connection closes, so a failure cannot leave it held.
            let unlocked =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c);
            let ran = ran.map_err(anyhow::Error::from_boxed).context("migration failed")?;
            unlocked.context("cannot release the migration lock")?;
            ran
        }
        Conn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(anyhow::Error::from_boxed)
            .context("migration failed")?,
    };
    Ok(ran)
}

/// Runs database work on the blocking pool, keeping the request's tracing span.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (pool, span) = (pool.clone(), tracing::Span::current());
    web::block(move || {
        span.in_scope(|| {
            let asked = std::time::Instant::now();
            let conn = pool.get();
            METRICS.observe_pool_wait(asked.elapsed(), conn.is_ok());
            f(&mut *conn?)
        })
    })
    .await?
}

/// The turn of this process's SQLite writers. SQLite lets one writer in at a time and makes the
/// others poll: its busy handler sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so a writer
/// that arrives during another's bulk write often sleeps on past its end, and two clients
/// loading contacts together were slower than one (bulk bench: 2.1x-2.4x raw SQL against 1.9x).
/// Queued on this lock, the next writer starts when the last one commits. One lock serves every
/// SQLite file of the process (a server has one; tests have many and only queue briefly);
/// another process on the same file still meets the busy timeout.
static SQLITE_WRITERS: parking_lot::Mutex<()> = parking_lot::const_mutex(());

/// How long a writer waits for its turn before it goes to `BEGIN IMMEDIATE` anyway, which then
/// waits out the busy timeout (10 s) and fails as it always did: a stuck writer delays the others
/// by this much, never forever.
const SQLITE_WRITER_WAIT: Duration = Duration::from_secs(10);

/// A transaction for work that writes.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
/// transaction that reads and then writes fails with SQLITE_BUSY when another writer got
/// there first, whereas an immediate one waits its turn under the busy timeout. Nested calls
/// become savepoints as with `Connection::transaction`.
pub fn write_transaction<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let top_level_sqlite = match conn {
        Conn::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_none()
        }
        Conn::Postgresql(_) => false,
    };
    // Held until the transaction ends (dropped on return).
    let _turn = top_level_sqlite.then(|| SQLITE_WRITERS.try_lock_for(SQLITE_WRITER_WAIT));
    match conn {
        Conn::Sqlite(c) if top_level_sqlite => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        _ => <Conn as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            <Conn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The work's error is the cause, also when the rollback fails: SQLite ends the
            // transaction itself after SQLITE_FULL or SQLITE_IOERR (its ROLLBACK then finds none
            // active), and a lost connection fails both. diesel knows the connection's state
            // either way and marks it broken when it cannot tell, so the pool drops it.
            if let Err(rollback) = <Conn as Connection>::TransactionManager::rollback_transaction(conn) {
                tracing::warn!(error = %rollback, "the rollback after a failed write failed");
            }
            Err(e)
        }
    }
}

/// Most values bound in one `IN (...)` list: far under SQLite's 32766 and PostgreSQL's 65535.
pub const MAX_BINDS_PER_LIST: usize = 10_000;

/// Whether the connection is SQLite (for the few places where SQL must differ).
pub fn is_sqlite(conn: &Conn) -> bool {
    matches!(conn, Conn::Sqlite(_))
}

/// `%q%` for `LIKE ... ESCAPE '\\'` on a lower-cased search column, with LIKE's wildcards in
/// `q` taken literally. Lower-casing happens here, in Rust, because SQLite's `lower()` only
/// knows ASCII.
pub fn contains_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds the bundled SQLite without its global memory-statistics mutex
    /// and its per-connection mutex (7 % of a SQLite bulk sync's time); a build that lost the
    /// setting fails here.
    #[test]
    fn the_bundled_sqlite_is_built_multi_thread_without_memory_statistics() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "THREADSAFE=2"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }
}
