//! Importing contacts from a CSV file at scale: `BENCH_CONTACTS` rows (default 1,000,000) go
//! through `crm-segments import contacts FILE.csv` (the release binary, default batch) into a
//! fresh, migrated database. In the same run the same file goes into another fresh, migrated
//! database with the database's own bulk path: PostgreSQL's `COPY` (through `psql \copy`) and
//! SQLite's `.import`, each into a staging table that one `INSERT ... SELECT` then turns into
//! contacts (the table has columns a file does not carry: search name, version, timestamps).
//! Both sides are checked to have written every row. The ratio is the import's time over the
//! database's; the target is within 3x, with the importer's peak RSS (`/usr/bin/time`) under
//! 100 MB. SQLite always; PostgreSQL when `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`) names a
//! server. Run: `cargo bench --bench import` (`BENCH_CONTACTS=100000` for a quicker run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};

use common::{
    drop_postgres_database, drop_sqlite_database, ms, postgres_database, postgres_url, sqlite_database,
    sqlite_raw, Raw, CITIES,
};

/// The file's columns: bulk item field names, which the importer reads by header.
const HEADER: &str =
    "no,external_id,type,name,address,city,post_code,country_code,phone,email,language_code,correspondence_type";

/// Writes the file: companies and persons, every field a realistic value, a name with a comma
/// (quoted) every 10th row.
fn write_file(path: &Path, n: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{HEADER}").unwrap();
    for i in 1..=n {
        let (kind, name) = if i % 4 == 1 {
            ("company", format!("Company {i} AS"))
        } else if i % 10 == 0 {
            ("person", format!("\"Nordmann, Kari {i}\""))
        } else {
            ("person", format!("Person {i}"))
        };
        let city = CITIES[(i / 4) % CITIES.len()];
        let channel = if i % 2 == 0 { "email" } else { "hard_copy" };
        writeln!(
            out,
            "I{i:07},erp-{i},{kind},{name},Street {i},{city},{:04},NO,+47 {i:08},contact{i}@example.no,nb-NO,{channel}",
            1000 + i % 9000
        )
        .unwrap();
    }
    out.flush().unwrap();
}

/// The staging table and the statement that makes contacts of it, as the raw side runs them.
const STAGING: &str = "CREATE TEMP TABLE staging (no TEXT, external_id TEXT, type TEXT, name TEXT, address TEXT, \
     city TEXT, post_code TEXT, country_code TEXT, phone TEXT, email TEXT, language_code TEXT, correspondence_type TEXT)";

fn insert_from_staging(now: &str) -> String {
    format!(
        "INSERT INTO contacts (no, contact_type, name, search_name, address, city, post_code, country_code, phone, \
         email, language_code, correspondence_type, exclude_from_segment, privacy_blocked, external_id, version, \
         created_at, updated_at) \
         SELECT no, type, name, lower(name), address, city, post_code, country_code, phone, email, language_code, \
         correspondence_type, FALSE, FALSE, external_id, 1, {now}, {now} FROM staging"
    )
}

/// Runs a command to its end; answers its wall time and, when run under `/usr/bin/time`, the
/// peak RSS it reported (MB).
fn timed(mut command: Command, rss_file: Option<&Path>) -> (Duration, f64) {
    let started = Instant::now();
    let output = command.stdout(Stdio::piped()).stderr(Stdio::piped()).output().unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let rss = rss_file
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0);
    (elapsed, rss)
}

fn crm(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crm-segments"));
    command.env("DATABASE_URL", database_url).env("LOG_LEVEL", "warn");
    command
}

fn migrate(database_url: &str) {
    timed(
        {
            let mut c = crm(database_url);
            c.arg("migrate");
            c
        },
        None,
    );
}

/// The import through the binary, under `/usr/bin/time` for its peak RSS.
fn import(database_url: &str, file: &Path, dir: &Path) -> (Duration, f64) {
    let rss_file = dir.join("import.rss");
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_crm-segments"))
        .args(["import", "contacts"])
        .arg(file)
        .env("DATABASE_URL", database_url)
        .env("LOG_LEVEL", "warn");
    timed(command, Some(&rss_file))
}

struct Figure {
    backend: &'static str,
    import: Duration,
    tool: Duration,
    rss_mb: f64,
}

fn check_count(raw: &mut Raw, n: usize, side: &str) {
    assert_eq!(raw.number("SELECT COUNT(*) AS n FROM contacts") as usize, n, "{side} wrote every row");
}

fn sqlite(file: &Path, dir: &Path, n: usize) -> Figure {
    println!("SQLite, {n} rows");
    let url = sqlite_database("bench_import");
    migrate(&url);
    let (import, rss_mb) = import(&url, file, dir);
    println!("  crm-segments import: {:.0} ms, peak RSS {rss_mb:.0} MB", ms(import));
    check_count(&mut sqlite_raw(&url), n, "the import");
    drop_sqlite_database(&url);

    let url = sqlite_database("bench_import_raw");
    migrate(&url);
    let script = format!(
        "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\n{STAGING};\n.import --csv --skip 1 {} staging\n{};\n",
        file.display(),
        insert_from_staging("strftime('%Y-%m-%d %H:%M:%f', 'now')"),
    );
    let script_file = dir.join("import.sql");
    std::fs::write(&script_file, script).unwrap();
    let mut command = Command::new("sqlite3");
    command.arg("-bail").arg(&url).stdin(std::fs::File::open(&script_file).unwrap());
    let (tool, _) = timed(command, None);
    println!("  sqlite3 .import + INSERT ... SELECT: {:.0} ms", ms(tool));
    check_count(&mut sqlite_raw(&url), n, "sqlite3");
    drop_sqlite_database(&url);
    Figure { backend: "SQLite", import, tool, rss_mb }
}

fn postgres(server_url: &str, file: &Path, dir: &Path, n: usize) -> Figure {
    println!("PostgreSQL, {n} rows");
    let (mut admin, name, url) = postgres_database(server_url, "bench_import");
    migrate(&url);
    let (import, rss_mb) = import(&url, file, dir);
    println!("  crm-segments import: {:.0} ms, peak RSS {rss_mb:.0} MB", ms(import));
    check_count(&mut Raw::Pg(PgConnection::establish(&url).unwrap()), n, "the import");
    drop_postgres_database(&mut admin, &name, &url);

    let (mut admin, name, url) = postgres_database(server_url, "bench_import_raw");
    migrate(&url);
    let mut command = Command::new("psql");
    command
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", &url, "-c", STAGING, "-c"])
        .arg(format!("\\copy staging FROM '{}' WITH (FORMAT csv, HEADER)", file.display()))
        .args(["-c", &insert_from_staging("LOCALTIMESTAMP")]);
    let (tool, _) = timed(command, None);
    println!("  psql COPY + INSERT ... SELECT: {:.0} ms", ms(tool));
    check_count(&mut Raw::Pg(PgConnection::establish(&url).unwrap()), n, "COPY");
    drop_postgres_database(&mut admin, &name, &url);
    Figure { backend: "PostgreSQL", import, tool, rss_mb }
}

/// `BENCH_CONTACTS`: the file's rows, default 1,000,000.
fn rows() -> usize {
    std::env::var("BENCH_CONTACTS").map_or(1_000_000, |s| s.trim().replace('_', "").parse().unwrap())
}

fn main() {
    let n = rows();
    let started = Instant::now();
    let dir: PathBuf = std::env::temp_dir().join(format!("bench_import_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("contacts.csv");
    write_file(&file, n);
    let size = std::fs::metadata(&file).unwrap().len();
    println!("{n} rows, {:.0} MB of CSV", size as f64 / 1e6);

    let mut figures = vec![sqlite(&file, &dir, n)];
    match postgres_url() {
        Some(server_url) => figures.push(postgres(&server_url, &file, &dir, n)),
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
    std::fs::remove_dir_all(&dir).unwrap();

    println!("\n| database | rows | `crm-segments import` | rows/s | the database's own bulk load | ratio | importer peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {n} | {:.0} ms | {:.0} | {:.0} ms | {:.2}x | {:.0} MB |",
            f.backend,
            ms(f.import),
            n as f64 / f.import.as_secs_f64(),
            ms(f.tool),
            f.import.as_secs_f64() / f.tool.as_secs_f64(),
            f.rss_mb,
        );
    }
    println!("\nthe whole run took {:.0} s", started.elapsed().as_secs_f64());
}
