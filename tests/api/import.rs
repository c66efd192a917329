//! `crm-segments import contacts FILE`: the real binary on real files against the test database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crm_segments::db::schema::contacts;
use diesel::prelude::*;

use crate::db_test;
use crate::helpers::TestApp;

/// A temporary directory, removed with its files when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!("crm_import_{}_{n}_{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn import_command(app: &TestApp, file: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crm-segments"));
    command
        .args(["import", "contacts"])
        .arg(file)
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env("LOG_LEVEL", "error");
    command
}

fn import(app: &TestApp, file: &Path, args: &[&str]) -> Output {
    import_command(app, file, args).output().unwrap()
}

fn assert_success(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

fn contact_count(app: &TestApp) -> i64 {
    contacts::table.count().get_result(&mut *app.conn()).unwrap()
}

/// (name, email, company no, privacy_blocked) of the contact `no`.
fn contact(app: &TestApp, no: &str) -> (String, Option<String>, Option<String>, bool) {
    let mut conn = app.conn();
    let (name, email, company_id, blocked): (String, Option<String>, Option<i64>, bool) = contacts::table
        .filter(contacts::no.eq(no))
        .select((contacts::name, contacts::email, contacts::company_id, contacts::privacy_blocked))
        .first(&mut *conn)
        .unwrap();
    let company_no = company_id
        .map(|id| contacts::table.find(id).select(contacts::no).first::<String>(&mut *conn).unwrap());
    (name, email, company_no, blocked)
}

/// The rejects file as line -> (reason, record); a line listed twice fails here.
fn rejects_of(path: &Path) -> BTreeMap<u64, (String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["line", "reason", "record"]);
    let mut rejects = BTreeMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let line: u64 = record[0].parse().unwrap();
        let before = rejects.insert(line, (record[1].to_owned(), record[2].to_owned()));
        assert!(before.is_none(), "line {line} is listed twice");
    }
    rejects
}

/// A generated contacts CSV: every tenth row a company, the others its persons.
struct ContactsCsv {
    good_rows: u64,
    /// The bad rows' lines, with a word their reason must contain.
    bad_lines: BTreeMap<u64, &'static str>,
}

/// Writes `rows` records (header aside) to `path`: good ones, and six bad ones of different
/// kinds spread over the file at the fractions `at` (in per mille).
fn write_contacts_csv(path: &Path, rows: u64, at: [u64; 6]) -> ContactsCsv {
    use std::io::Write;
    let bad: [(&str, &str); 6] = [
        ("X1,,company,Too Many Cells,x1@example.test,,,,,extra", "cells"),
        ("B2,,person,Bad Email,not-an-email,,,,", "email"),
        ("B3,,,No Type,b3@example.test,,,,", "type"),
        ("B4,,person,Orphan,b4@example.test,NOSUCH,,,", "company_no"),
        // The previous row's `no` again, as a company: a repeat within the batch.
        ("{previous},,company,Repeated,dup@example.test,,,,", "also appears"),
        ("B6,,person,Bad Flag,b6@example.test,,,maybe,", "boolean"),
    ];
    let bad_at: Vec<u64> = at.iter().map(|per_mille| rows * per_mille / 1000).collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // A spreadsheet's export: with a byte order mark.
    out.write_all(b"\xEF\xBB\xBFno,external_id,type,name,email,company_no,city,privacy_blocked,first_name\n")
        .unwrap();
    let (mut line, mut good, mut bad_lines) = (1u64, 0u64, BTreeMap::new());
    let mut previous_no = String::new();
    for row in 0..rows {
        line += 1;
        if let Some(kind) = bad_at.iter().position(|&r| r == row) {
            let (record, reason) = bad[kind];
            writeln!(out, "{}", record.replace("{previous}", &previous_no)).unwrap();
            bad_lines.insert(line, reason);
            continue;
        }
        let i = good;
        good += 1;
        let blocked = if i % 7 == 0 { "true" } else { "" };
        if i % 10 == 0 {
            previous_no = format!("C{i:06}");
            writeln!(
                out,
                "{previous_no},,company,\"Company {i}, Ltd\",c{i}@example.test,,City {},{blocked},",
                i % 100
            )
            .unwrap();
        } else {
            previous_no = format!("P{i:06}");
            let company = format!("C{:06}", i / 10 * 10);
            writeln!(
                out,
                "{previous_no},ext-{i},person,Person {i},p{i}@example.test,{company},,{blocked},First"
            )
            .unwrap();
        }
    }
    out.flush().unwrap();
    ContactsCsv { good_rows: good, bad_lines }
}

/// The rejects list exactly the bad rows, each with a reason of its kind.
fn assert_rejects_are(path: &Path, expected: &BTreeMap<u64, &str>) {
    let rejects = rejects_of(path);
    assert_eq!(rejects.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{rejects:#?}");
    for (line, word) in expected {
        let (reason, record) = &rejects[line];
        assert!(reason.contains(word), "line {line}: {reason:?} should mention {word}");
        assert!(!record.is_empty() && !record.ends_with('\n'), "line {line}: {record:?}");
    }
}

/// The good rows of a generated file are stored with their values.
fn assert_good_rows_stored(app: &TestApp, file: &ContactsCsv) {
    assert_eq!(contact_count(app), file.good_rows as i64);
    let (name, email, company, blocked) = contact(app, "C000000");
    assert_eq!(
        (name.as_str(), email.as_deref(), company, blocked),
        ("Company 0, Ltd", Some("c0@example.test"), None, true)
    );
    let last = file.good_rows - 1;
    let (name, email, company, _) = contact(app, &format!("P{last:06}"));
    assert_eq!(name, format!("Person {last}"));
    assert_eq!(email, Some(format!("p{last}@example.test")));
    assert_eq!(company, Some(format!("C{:06}", last / 10 * 10)));
    assert!(contact(app, "P000007").3, "privacy_blocked from a `true` cell");
    assert!(!contact(app, "P000008").3, "an empty cell leaves the default");
}

db_test!(a_large_csv_is_imported_with_its_bad_rows_listed_by_line, |app| {
    let dir = TempDir::new();
    let path = dir.join("contacts.csv");
    let file = write_contacts_csv(&path, 100_000, [1, 150, 400, 600, 805, 999]);
    let started = Instant::now();
    let output = import(&app, &path, &[]);
    let stdout = assert_success(&output);
    eprintln!("imported 100,000 CSV rows on {:?} in {:.1} s", app.db, started.elapsed().as_secs_f64());
    assert!(
        stdout.contains("read 100000 rows: 99994 created, 0 updated, 0 unchanged, 6 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("contacts.csv.rejects.csv"), "{stdout}");
    assert_good_rows_stored(&app, &file);
    assert_rejects_are(&dir.join("contacts.csv.rejects.csv"), &file.bad_lines);
    assert!(!dir.join("contacts.csv.import-state").exists(), "the checkpoint is removed on success");
});

db_test!(an_import_killed_half_way_resumes_from_its_checkpoint, |app| {
    let dir = TempDir::new();
    let path = dir.join("contacts.csv");
    let file = write_contacts_csv(&path, 30_000, [5, 40, 500, 600, 805, 950]);
    let checkpoint = dir.join("contacts.csv.import-state");
    let mut child = import_command(&app, &path, &["--batch", "250"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the checkpoint is past the first two bad rows.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let next_line = std::fs::read(&checkpoint)
            .ok()
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
            .and_then(|state| state["next"]["line"].as_u64())
            .unwrap_or(0);
        if next_line > 3_000 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed");
        assert!(Instant::now() < deadline, "no checkpoint past line 3000");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(checkpoint.exists());
    let stored = contact_count(&app);
    assert!(stored > 0 && stored < file.good_rows as i64, "killed half-way: {stored} stored");

    let refused = import(&app, &path, &["--batch", "250"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--resume") && stderr.contains("--restart"), "{stderr}");
    assert_eq!(contact_count(&app), stored, "a refused rerun writes nothing");

    let stdout = assert_success(&import(&app, &path, &["--batch", "250", "--resume"]));
    assert!(stdout.contains("read 30000 rows"), "{stdout}");
    assert!(stdout.contains("6 rejected"), "{stdout}");
    assert_good_rows_stored(&app, &file);
    assert_rejects_are(&dir.join("contacts.csv.rejects.csv"), &file.bad_lines);
    assert!(!checkpoint.exists(), "the checkpoint is removed on success");
});

db_test!(a_json_lines_file_is_imported_with_its_bad_line_rejected, |app| {
    let dir = TempDir::new();
    let path = dir.join("contacts.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"no": "J1", "type": "company", "name": "Jay Ltd", "email": "jay@example.test"}"#,
            "\n",
            r#"{"no": "J2", "type": "person", "name": "Jo", "company_no": "J1", "privacy_blocked": true}"#,
            "\n\n",
            r#"{"no": "J3", "type": "person", "name": "Broken""#,
            "\n",
            r#"{"external_id": "erp-4", "type": "company", "name": "Four"}"#,
            "\n",
        ),
    )
    .unwrap();
    let stdout = assert_success(&import(&app, &path, &[]));
    assert!(stdout.contains("read 4 rows: 3 created, 0 updated, 0 unchanged, 1 rejected"), "{stdout}");
    assert_eq!(contact_count(&app), 3);
    assert_eq!(contact(&app, "J2"), ("Jo".to_owned(), None, Some("J1".to_owned()), true));
    let rejects = rejects_of(&dir.join("contacts.jsonl.rejects.csv"));
    assert_eq!(rejects.keys().collect::<Vec<_>>(), vec![&4], "{rejects:?}");
    assert!(rejects[&4].1.starts_with(r#"{"no": "J3""#), "{rejects:?}");

    // The same file again: every row matches what is stored.
    let stdout = assert_success(&import(&app, &path, &[]));
    assert!(stdout.contains("0 created, 0 updated, 3 unchanged, 1 rejected"), "{stdout}");
});

db_test!(an_unknown_csv_column_is_refused_before_anything_is_written, |app| {
    let dir = TempDir::new();
    let path = dir.join("contacts.csv");
    std::fs::write(&path, "no,type,name,nickname\nK1,company,Kay,kk\n").unwrap();
    let output = import(&app, &path, &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown column \"nickname\""), "{stderr}");
    assert_eq!(contact_count(&app), 0);
    assert!(!dir.join("contacts.csv.rejects.csv").exists());
    assert!(!dir.join("contacts.csv.import-state").exists());
});
