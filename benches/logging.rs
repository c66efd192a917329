//! Logging a segment at scale: for each size in `BENCH_LINES` (default 100,000 and 1,000,000
//! lines) builds two segments of that many lines by raw SQL (not timed), logs segment A through
//! `POST /v1/segments/{id}/log` and segment B as hand-written raw SQL in one transaction (the
//! state change, the logged segment, one `INSERT ... SELECT` of the entries from the same
//! effective-value expressions, the small updates), then cancels and restores both logged
//! segments the same two ways, and reports the ratios and the server's peak memory. SQLite
//! always; PostgreSQL when `BENCH_DATABASE_URL` (or `TEST_DATABASE_URL`) names a server.
//! Run: `cargo bench --bench logging` (`BENCH_LINES=100000` for a quicker run; `BENCH_KEEP=1`
//! keeps the databases to inspect).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::json;

use common::{
    drop_postgres_database, drop_sqlite_database, load_contacts, ms, now, postgres_database, postgres_url,
    sqlite_database, sqlite_raw, Api, Raw, Server,
};

/// The header's template, and the one every seventh line overrides it with.
const TEMPLATE: &str = "BENCH-LETTER";
const LINE_TEMPLATE: &str = "BENCH-MAIL";
const DESCRIPTION: &str = "Winter campaign";
const DATE: &str = "2026-12-01";
/// The name the service records for `CRM_ADMIN_KEY`; the raw side writes the same.
const USER: &str = "admin (CRM_ADMIN_KEY)";

/// The live lines of a segment joined to everything their effective values need: the shape
/// `src/logging/mod.rs` builds (`LINES_FROM` and `effective::TEMPLATE_JOIN`).
fn lines_of(segment: i64) -> String {
    format!(
        " FROM segment_lines JOIN segments ON segments.id = segment_lines.segment_id \
         JOIN contacts ON contacts.id = segment_lines.contact_id \
         LEFT JOIN contacts company ON company.id = contacts.company_id \
         LEFT JOIN interaction_templates ON interaction_templates.code = \
         COALESCE(segment_lines.interaction_template_code, segments.interaction_template_code) \
         WHERE segment_lines.removed_by_action_id IS NULL AND segment_lines.segment_id = {segment}"
    )
}

/// The entry columns the API's entries and the raw side's `SELECT` must agree on (all but the
/// identity of the log).
const ENTRY_COLUMNS: &str =
    "contact_id, contact_no, contact_name, contact_company_no, contact_company_name, \
     date, description, subject, interaction_template_code, interaction_group_code, language_code, \
     information_flow, initiated_by, correspondence_type, salesperson_code, cost_cents, duration_min, \
     evaluation, attempt_failed, user_name, delivery_status, canceled";

/// A segment built for the run.
struct Segment {
    id: i64,
    no: String,
}

/// The interaction group, salesperson and two templates the segments use, through the API.
async fn create_code_tables(api: &Api) {
    api.post("/v1/interaction-groups", &json!({"code": "CAMPAIGN", "description": "Campaigns"})).await;
    api.post("/v1/salespeople", &json!({"code": "BENCH-SP", "name": "Bench Salesperson"})).await;
    let template = |code: &str, correspondence: &str, cost: &str| {
        json!({"code": code, "interaction_group_code": "CAMPAIGN", "description": format!("Template {code}"),
               "unit_cost": cost, "unit_duration_min": 5, "correspondence_type": correspondence,
               "language_code": "nb-NO"})
    };
    api.post("/v1/interaction-templates", &template(TEMPLATE, "hard_copy", "12.50")).await;
    api.post("/v1/interaction-templates", &template(LINE_TEMPLATE, "email", "0.40")).await;
}

/// An open segment with everything logging checks on the header: description, template, date.
async fn create_segment(api: &Api) -> Segment {
    let (answer, _) = api
        .post(
            "/v1/segments",
            &json!({"description": DESCRIPTION, "interaction_template_code": TEMPLATE, "date": DATE,
                    "subject": "Season's greetings", "salesperson_code": "BENCH-SP"}),
        )
        .await;
    Segment { id: answer["id"].as_i64().unwrap(), no: answer["no"].as_str().unwrap().to_owned() }
}

/// Adds `n` lines (the contacts neither privacy-blocked nor excluded, in id order, after the
/// first `skip` of them) by one raw `INSERT ... SELECT`, as a criteria add would leave them;
/// some lines override a value so that every effective-value expression has work to do.
fn fill_lines(raw: &mut Raw, segment: &Segment, skip: usize, n: usize) {
    let ts = raw.timestamp(&now());
    let date = if raw.is_sqlite() { "'2026-12-24'" } else { "DATE '2026-12-24'" };
    raw.batch(if raw.is_sqlite() { "BEGIN IMMEDIATE" } else { "BEGIN" });
    let added = raw.execute(&format!(
        "INSERT INTO segment_lines (segment_id, contact_id, description, interaction_template_code, \
         correspondence_type, date, cost_cents, evaluation, attempt_failed, version, created_at, updated_at) \
         SELECT {seg}, id, CASE WHEN id % 10 = 3 THEN 'Personal invitation' END, \
         CASE WHEN id % 7 = 2 THEN '{LINE_TEMPLATE}' END, CASE WHEN id % 17 = 5 THEN 'email' END, \
         CASE WHEN id % 1000 = 11 THEN {date} END, CASE WHEN id % 13 = 4 THEN 250 END, \
         CASE WHEN id % 50 = 9 THEN 'positive' END, id % 101 = 0, 1, {ts}, {ts} \
         FROM contacts WHERE NOT privacy_blocked AND NOT exclude_from_segment ORDER BY id LIMIT {n} OFFSET {skip}",
        seg = segment.id,
    ));
    assert_eq!(added, n as i64, "not enough contacts for {n} lines");
    raw.execute(&format!(
        "UPDATE segments SET no_of_lines = {n}, version = version + 1, updated_at = {ts} WHERE id = {}",
        segment.id
    ));
    raw.batch("COMMIT");
}

/// Logs `segment` as a hand-written client would, inside the caller's transaction: claims the
/// segment, numbers and writes the logged segment, one `INSERT ... SELECT` of an entry per live
/// line numbered from the entry series (locked, then moved past what was written), then the
/// small updates. Answers the logged segment's id and the entries written.
fn raw_log(raw: &mut Raw, segment: &Segment) -> (i64, i64) {
    let ts = raw.timestamp(&now());
    let claimed = raw.execute(&format!(
        "UPDATE segments SET status = 'logged', version = version + 1, updated_at = {ts} \
         WHERE id = {} AND status = 'open'",
        segment.id
    ));
    assert_eq!(claimed, 1, "the raw side's segment was not open");
    let no = raw.number(
        "UPDATE number_series SET last_no = last_no + 1 WHERE code = 'logged_segment' RETURNING last_no AS n",
    );
    let logged = raw.number(&format!(
        "INSERT INTO logged_segments (no, segment_id, segment_no, description, no_of_interactions, user_name, \
         canceled, created_at) VALUES ('LSEG{no:05}', {}, '{}', '{DESCRIPTION}', 0, '{USER}', FALSE, {ts}) \
         RETURNING id AS n",
        segment.id, segment.no
    ));
    let lock = if raw.is_sqlite() { "" } else { " FOR UPDATE" };
    let base = raw.number(&format!(
        "SELECT last_no AS n FROM number_series WHERE code = 'interaction_log_entry'{lock}"
    ));
    let written = raw.execute(&format!(
        "INSERT INTO interaction_log_entries (entry_no, contact_id, contact_no, contact_name, \
         contact_company_no, contact_company_name, date, time_of_interaction, description, subject, \
         interaction_template_code, interaction_group_code, language_code, information_flow, initiated_by, \
         correspondence_type, salesperson_code, cost_cents, duration_min, evaluation, attempt_failed, \
         segment_no, logged_segment_id, user_name, delivery_status, canceled, created_at) {}",
        entries(segment, base, logged, &ts)
    ));
    raw.execute(&format!(
        "UPDATE number_series SET last_no = last_no + {written} WHERE code = 'interaction_log_entry'"
    ));
    raw.execute(&format!("UPDATE logged_segments SET no_of_interactions = {written} WHERE id = {logged}"));
    raw.execute(&format!("UPDATE segments SET logged_segment_id = {logged} WHERE id = {}", segment.id));
    (logged, written)
}

/// The `SELECT` of the entries of `segment`'s live lines, numbered after `base`, in line order:
/// the shape `insert_entries` in `src/logging/mod.rs` builds, with the same effective-value
/// expressions (`src/segments/effective.rs`), each named for its column.
fn entries(segment: &Segment, base: i64, logged: i64, ts: &str) -> String {
    format!(
        "SELECT {base} + ROW_NUMBER() OVER (ORDER BY segment_lines.id) AS entry_no, contacts.id AS contact_id, \
         contacts.no AS contact_no, contacts.name AS contact_name, company.no AS contact_company_no, \
         company.name AS contact_company_name, COALESCE(segment_lines.date, segments.date) AS date, \
         {ts} AS time_of_interaction, COALESCE(segment_lines.description, segments.description) AS description, \
         COALESCE(segment_lines.subject, segments.subject) AS subject, \
         COALESCE(segment_lines.interaction_template_code, segments.interaction_template_code) \
           AS interaction_template_code, \
         interaction_templates.interaction_group_code AS interaction_group_code, \
         COALESCE(segment_lines.language_code, segments.language_code, interaction_templates.language_code) \
           AS language_code, \
         interaction_templates.information_flow AS information_flow, \
         interaction_templates.initiated_by AS initiated_by, \
         COALESCE(segment_lines.correspondence_type, \
           CASE WHEN COALESCE(segments.ignore_contact_correspondence_type, \
                              interaction_templates.ignore_contact_correspondence_type, FALSE) \
                THEN NULL ELSE contacts.correspondence_type END, \
           segments.correspondence_type, interaction_templates.correspondence_type) AS correspondence_type, \
         COALESCE(segment_lines.salesperson_code, segments.salesperson_code) AS salesperson_code, \
         COALESCE(segment_lines.cost_cents, segments.unit_cost_cents, interaction_templates.unit_cost_cents, 0) \
           AS cost_cents, \
         COALESCE(segment_lines.duration_min, segments.unit_duration_min, \
                  interaction_templates.unit_duration_min, 0) AS duration_min, \
         segment_lines.evaluation AS evaluation, segment_lines.attempt_failed AS attempt_failed, \
         '{segment_no}' AS segment_no, {logged} AS logged_segment_id, '{USER}' AS user_name, \
         'not_applicable' AS delivery_status, FALSE AS canceled, {ts} AS created_at{from}",
        segment_no = segment.no,
        from = lines_of(segment.id),
    )
}

/// The checks the service runs before it writes, alone, as raw SQL: for a clean segment, one
/// pass counting the live lines and their faults (the page of faulty lines is read only when
/// there is a fault).
fn raw_checks(raw: &mut Raw, segment: i64) -> i64 {
    // The line count, or -1 when a line has a fault.
    let lines = raw.number(&format!(
        "SELECT CASE WHEN COALESCE(SUM(0 + CASE WHEN contacts.privacy_blocked THEN 1 ELSE 0 END \
         + CASE WHEN interaction_templates.code IS NULL THEN 1 ELSE 0 END), 0) = 0 \
         THEN count(*) ELSE -1 END AS n{}",
        lines_of(segment)
    ));
    assert!(lines >= 0, "the segment has faulty lines");
    lines
}

/// Cancels (or restores) a logged segment and its entries, one statement each.
fn raw_set_canceled(raw: &mut Raw, logged: i64, canceled: bool) -> i64 {
    let value = if canceled { "TRUE" } else { "FALSE" };
    raw.execute(&format!("UPDATE logged_segments SET canceled = {value} WHERE id = {logged}"));
    raw.execute(&format!(
        "UPDATE interaction_log_entries SET canceled = {value} WHERE logged_segment_id = {logged}"
    ))
}

/// Flushes what the previous operation left dirty, so that it is not paid inside the next
/// measurement (of the other side).
/// (`CHECKPOINT` needs a superuser or `pg_checkpoint`; without, the run goes on unsettled.)
fn settle(raw: &mut Raw) {
    let settled = match raw {
        Raw::Pg(c) => c.batch_execute("CHECKPOINT"),
        Raw::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)"),
    };
    if let Err(e) = settled {
        eprintln!("  (not settled: {e})");
    }
}

/// Both logs wrote `n` entries each, numbered without gaps, and the API's are the entries the
/// raw side's `SELECT` computes for the API's segment (all but the identity of the log).
fn verify_logs(raw: &mut Raw, a: &Segment, api_logged: i64, raw_logged: i64, n: usize) {
    for (side, logged) in [("API", api_logged), ("raw SQL", raw_logged)] {
        let entries = raw.number(&format!(
            "SELECT count(*) AS n FROM interaction_log_entries WHERE logged_segment_id = {logged}"
        ));
        assert_eq!(entries, n as i64, "{side}: the log wrote {entries} entries for {n} lines");
        let span = raw.number(&format!(
            "SELECT max(entry_no) - min(entry_no) + 1 AS n FROM interaction_log_entries \
             WHERE logged_segment_id = {logged}"
        ));
        assert_eq!(span, n as i64, "{side}: the entry numbers have gaps");
    }
    let ts = raw.timestamp(&now());
    raw.batch(&format!("CREATE TEMPORARY TABLE expected AS {}", entries(a, 0, api_logged, &ts)));
    // The API's entries are distinct (one per line) and as many, so one direction suffices.
    let differing = raw.number(&format!(
        "SELECT count(*) AS n FROM (SELECT {ENTRY_COLUMNS} FROM interaction_log_entries \
         WHERE logged_segment_id = {api_logged} EXCEPT SELECT {ENTRY_COLUMNS} FROM expected) differing"
    ));
    raw.batch("DROP TABLE expected");
    assert_eq!(differing, 0, "the API's entries differ from what the raw side's SELECT computes");
}

fn canceled_entries(raw: &mut Raw, logged: i64) -> i64 {
    raw.number(&format!(
        "SELECT count(*) AS n FROM interaction_log_entries WHERE logged_segment_id = {logged} AND canceled"
    ))
}

/// One operation: lines it touched (API and raw agree), API time, raw time.
struct Figure {
    operation: &'static str,
    lines: usize,
    api: Duration,
    raw: Duration,
}

/// One size: its figures, the service's checks alone, and the server's peak memory so far.
struct Round {
    lines: usize,
    figures: Vec<Figure>,
    checks: Duration,
    /// Median header reads with totals: of a segment of `lines` lines, of one of 10 lines,
    /// and the segment list (50 headers with totals).
    header_reads: [Duration; 3],
    peak_mb: f64,
}

struct Report {
    backend: &'static str,
    contacts: usize,
    load: Duration,
    rounds: Vec<Round>,
}

/// Logs, cancels and restores two segments of `n` lines, one through the API and one by raw
/// SQL; `api_first` says which side goes first in the log (the others alternate). The segments
/// take the `n` contacts after the first `skip` and the `n` after those: each side writes entries
/// for contacts that have none yet, so neither inserts into the other's part of the indexes.
async fn run_round(
    api: &Api,
    server: &Server,
    raw: &mut Raw,
    skip: usize,
    n: usize,
    api_first: bool,
) -> Round {
    let a = create_segment(api).await;
    let b = create_segment(api).await;
    let started = Instant::now();
    fill_lines(raw, &a, skip, n);
    fill_lines(raw, &b, skip + n, n);
    if !raw.is_sqlite() {
        // Stands in for autovacuum (off on the benchmark cluster) after a large insert.
        raw.batch("VACUUM ANALYZE segment_lines");
    }
    println!("  {n} lines in two segments (raw SQL, not timed): {:.1} s", started.elapsed().as_secs_f64());
    let header_reads = header_reads(api, raw, &a, n).await;

    let mut figures = Vec::new();
    let mut record = |operation: &'static str, api: Duration, raw: Duration| {
        println!("  {operation}: {n} lines, API {:.0} ms, raw {:.0} ms", ms(api), ms(raw));
        figures.push(Figure { operation, lines: n, api, raw });
    };
    let log = format!("/v1/segments/{}/log", a.id);
    let body = json!({"deliver": false, "create_follow_up": false});
    let mut api_log = None;
    let mut raw_log_result = None;
    for api_turn in if api_first { [true, false] } else { [false, true] } {
        settle(raw);
        if api_turn {
            api_log = Some(api.post(&log, &body).await);
        } else {
            raw_log_result = Some(raw.timed(|r| raw_log(r, &b)));
        }
    }
    let (answer, api_time) = api_log.unwrap();
    let ((raw_logged, written), raw_time) = raw_log_result.unwrap();
    let api_logged = answer["logged_segment"]["id"].as_i64().unwrap();
    assert_eq!(answer["logged_segment"]["no_of_interactions"], json!(n), "the API logged another count");
    assert_eq!(written, n as i64, "the raw side logged another count");
    verify_logs(raw, &a, api_logged, raw_logged, n);
    record("log", api_time, raw_time);

    // What the service does before its INSERT that the raw side does not, timed alone.
    settle(raw);
    let (checked, checks) = raw.timed(|r| raw_checks(r, b.id));
    assert_eq!(checked, n as i64);
    println!("  the service's checks alone (raw SQL, on B's lines): {:.0} ms", ms(checks));

    if !raw.is_sqlite() {
        // Autovacuum would analyze the entries after such an insert.
        raw.batch("ANALYZE interaction_log_entries");
    }
    for (operation, canceled) in [("cancel", true), ("restore", false)] {
        let path = format!("/v1/logged-segments/{api_logged}/{operation}");
        // Cancel goes the other way round from the log, restore the other way from cancel.
        let api_goes_first = (operation == "cancel") != api_first;
        let mut api_result = None;
        let mut raw_result = None;
        for api_turn in if api_goes_first { [true, false] } else { [false, true] } {
            settle(raw);
            if api_turn {
                api_result = Some(api.post(&path, &json!({})).await);
            } else {
                raw_result = Some(raw.timed(|r| raw_set_canceled(r, raw_logged, canceled)));
            }
        }
        let (answer, api_time) = api_result.unwrap();
        let (changed, raw_time) = raw_result.unwrap();
        assert_eq!(answer["canceled"], json!(canceled), "{operation}: the API's answer");
        assert_eq!(changed, n as i64, "{operation}: the raw side changed {changed} entries");
        let expected = if canceled { n as i64 } else { 0 };
        assert_eq!(canceled_entries(raw, api_logged), expected, "{operation}: the API's entries");
        record(operation, api_time, raw_time);
    }
    Round { lines: n, figures, checks, header_reads, peak_mb: server.peak_rss_mb() }
}

/// The totals of a header are kept by triggers, so reading the header of `big` costs what
/// reading one of ten lines does; both medians of 25 reads, and the list's.
async fn header_reads(api: &Api, raw: &mut Raw, big: &Segment, n: usize) -> [Duration; 3] {
    // The kept totals against the sum over every line, as the header read did before.
    let (full_sum, sum_time) = raw.timed(|r| {
        r.number(&format!(
            "SELECT CAST(SUM(COALESCE(segment_lines.cost_cents, segments.unit_cost_cents, \
             interaction_templates.unit_cost_cents, 0)) AS BIGINT) AS n {}",
            lines_of(big.id)
        ))
    });
    let header = api.get_json(&format!("/v1/segments/{}", big.id)).await;
    let total: f64 = header["total_cost"].as_str().unwrap().parse().unwrap();
    assert_eq!((total * 100.0).round() as i64, full_sum, "the header's total is the sum over its lines");
    println!("  the sum over every line (raw SQL, the old header read): {:.0} ms", ms(sum_time));
    let small = create_segment(api).await;
    fill_lines(raw, &small, 0, 10);
    let mut medians = [Duration::ZERO; 3];
    for (k, path) in [
        format!("/v1/segments/{}", big.id),
        format!("/v1/segments/{}", small.id),
        "/v1/segments?limit=50".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..25 {
            times.push(api.get_bytes(path).await.1);
        }
        times.sort();
        medians[k] = times[times.len() / 2];
    }
    let [big_read, small_read, list] = medians;
    println!(
        "  header read with totals: {n} lines {:.2} ms, 10 lines {:.2} ms; list of 50 {:.2} ms",
        ms(big_read),
        ms(small_read),
        ms(list)
    );
    medians
}

/// Loads the contacts (enough for the largest size) and runs a round per size against
/// `server` (which migrated the database), with `raw` connected to the same database.
async fn run_sequence(backend: &'static str, server: &Server, raw: &mut Raw, sizes: &[usize]) -> Report {
    let api = Api::ready(server.port).await;
    // Each round takes twice its size of contacts of its own. About 2.2 % of the contacts are
    // privacy-blocked or excluded; lines take the others.
    let lines = 2 * sizes.iter().sum::<usize>();
    let contacts = lines + lines / 30 + 1000;
    let started = Instant::now();
    load_contacts(raw, contacts);
    let load = started.elapsed();
    println!("  {contacts} contacts loaded by raw SQL in {:.1} s", load.as_secs_f64());
    create_code_tables(&api).await;
    let mut rounds = Vec::new();
    let mut skip = 0;
    for (k, &n) in sizes.iter().enumerate() {
        rounds.push(run_round(&api, server, raw, skip, n, k % 2 == 0).await);
        skip += 2 * n;
    }
    Report { backend, contacts, load, rounds }
}

async fn bench_sqlite(sizes: &[usize]) -> Report {
    let url = sqlite_database("bench_logging");
    let server = Server::start(&url, 18943);
    // The server migrates at start; wait for it before opening the raw side.
    Api::ready(server.port).await;
    let mut raw = sqlite_raw(&url);
    let report = run_sequence("SQLite", &server, &mut raw, sizes).await;
    drop(server);
    drop_sqlite_database(&url);
    report
}

async fn bench_postgres(server_url: &str, sizes: &[usize]) -> Report {
    let (mut admin, name, url) = postgres_database(server_url, "bench_logging");
    let server = Server::start(&url, 18944);
    Api::ready(server.port).await;
    let mut raw = Raw::Pg(PgConnection::establish(&url).unwrap());
    let report = run_sequence("PostgreSQL", &server, &mut raw, sizes).await;
    drop(raw);
    drop(server);
    drop_postgres_database(&mut admin, &name, &url);
    report
}

fn print_reports(reports: &[Report]) {
    println!("\n| operation | lines | database | API | raw SQL | ratio |");
    println!("|---|---|---|---|---|---|");
    for r in reports {
        for round in &r.rounds {
            for f in &round.figures {
                println!(
                    "| {} | {} | {} | {:.0} ms | {:.0} ms | {:.2}x |",
                    f.operation,
                    f.lines,
                    r.backend,
                    ms(f.api),
                    ms(f.raw),
                    f.api.as_secs_f64() / f.raw.as_secs_f64()
                );
            }
        }
    }
    println!();
    for r in reports {
        println!(
            "{} ({} contacts loaded by raw SQL in {:.1} s):",
            r.backend,
            r.contacts,
            r.load.as_secs_f64()
        );
        for round in &r.rounds {
            println!(
                "  after {} lines: server peak RSS {:.0} MB; the service's checks alone {:.0} ms; \
                 header read {:.2} ms (10 lines: {:.2} ms), segment list {:.2} ms",
                round.lines,
                round.peak_mb,
                ms(round.checks),
                ms(round.header_reads[0]),
                ms(round.header_reads[1]),
                ms(round.header_reads[2])
            );
        }
    }
}

/// `BENCH_LINES`: a comma-separated list of sizes, default 100,000 and 1,000,000.
fn sizes() -> Vec<usize> {
    let list = std::env::var("BENCH_LINES").unwrap_or_else(|_| "100000,1000000".to_owned());
    let sizes: Vec<usize> = list
        .split(',')
        .map(|s| {
            s.trim().replace('_', "").parse().unwrap_or_else(|_| panic!("BENCH_LINES: {s:?} is no size"))
        })
        .collect();
    assert!(sizes.iter().all(|&n| n > 0), "BENCH_LINES: sizes must be positive");
    sizes
}

#[tokio::main]
async fn main() {
    let sizes = sizes();
    let started = Instant::now();
    let mut reports = vec![];
    println!("SQLite, {sizes:?} lines");
    reports.push(bench_sqlite(&sizes).await);
    match postgres_url() {
        Some(url) => {
            println!("PostgreSQL, {sizes:?} lines");
            reports.push(bench_postgres(&url, &sizes).await);
        }
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
    print_reports(&reports);
    println!("\nthe whole run took {:.0} s", started.elapsed().as_secs_f64());
}
