//! Criteria actions at scale: with 1,000,000 contacts loaded by raw SQL, times `add` (10 % and
//! 50 %), `preview` of the 50 % add, `refine` and `remove` on its result, `refresh` after 1 % of
//! the contacts changed, and `undo` of each through the API, each next to the same work written
//! as raw SQL on the same database in the same run (on a second segment), and reports the ratios
//! and the server's peak memory. SQLite always; PostgreSQL when `BENCH_DATABASE_URL` (or
//! `TEST_DATABASE_URL`) names a server. Run: `cargo bench --bench criteria`
//! (`BENCH_CONTACTS=100000` for a quicker run; `BENCH_KEEP=1` keeps the databases to inspect).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};
use serde_json::{json, Value};

use common::{
    drop_postgres_database, drop_sqlite_database, load_contacts, ms, now, postgres_database, postgres_url,
    sqlite_database, sqlite_raw, Api, Raw, Server, CITIES,
};

/// A filter as the API takes it and the same predicate as SQL, `$` standing for the table alias.
struct Criterion {
    filter: Value,
    sql: String,
}

impl Criterion {
    fn eq(field: &str, value: &str) -> Criterion {
        Criterion {
            filter: json!({"field": field, "op": "eq", "value": value}),
            sql: format!("$.{field} = '{value}'"),
        }
    }

    fn any_of(field: &str, values: &[String]) -> Criterion {
        let list: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        Criterion {
            filter: json!({"field": field, "op": "in", "value": values}),
            sql: format!("$.{field} IN ({})", list.join(", ")),
        }
    }

    fn on(&self, alias: &str) -> String {
        self.sql.replace('$', alias)
    }
}

fn cities(range: std::ops::Range<usize>) -> Vec<String> {
    CITIES[range].iter().map(|c| c.to_string()).collect()
}

/// The filters: 10 % of the contacts, 50 %, a refine keeping 40 % of the 50 %, a remove of 20 %.
struct Criteria {
    tenth: Criterion,
    half: Criterion,
    refine: Criterion,
    remove: Criterion,
}

fn criteria() -> Criteria {
    Criteria {
        tenth: Criterion::eq("city", "Oslo"),
        half: Criterion::any_of("post_code", &(1000..1050).map(|p| p.to_string()).collect::<Vec<_>>()),
        refine: Criterion::any_of("city", &cities(0..4)),
        remove: Criterion::any_of("city", &cities(4..6)),
    }
}

/// Moves 1 % of the contacts to the post code 50 away: half of them leave the 50 % set, half join.
fn change_one_percent(raw: &mut Raw) -> i64 {
    let ts = raw.timestamp(&now());
    raw.execute(&format!(
        "UPDATE contacts SET post_code = CAST(1000 + (CAST(post_code AS INTEGER) - 1000 + 50) % 100 AS TEXT), \
         version = version + 1, updated_at = {ts} WHERE id % 100 = 7"
    ))
}

/// The raw side's segment and its action history, written as a hand-written client would.
struct RawSegment {
    id: i64,
    seq: i64,
    actions: Vec<i64>,
}

/// The live, criteria-added line of `c` in the segment, as the service's eligibility reads it.
fn held(segment: i64) -> String {
    format!(
        "EXISTS (SELECT 1 FROM segment_lines held WHERE held.segment_id = {segment} \
         AND held.contact_id = c.id AND held.removed_by_action_id IS NULL)"
    )
}

const ORDER: &str =
    " ORDER BY COALESCE(co.name, c.name), COALESCE(co.no, c.no), c.contact_type, c.name, c.id";

impl RawSegment {
    /// Locks the header and records the action row (the small statements of every action).
    fn begin_action(&mut self, raw: &mut Raw, kind: &str, filter: Option<&Value>) -> i64 {
        let lock = if raw.is_sqlite() { "" } else { " FOR UPDATE" };
        raw.number(&format!("SELECT id AS n FROM segments WHERE id = {}{lock}", self.id));
        self.seq += 1;
        let ts = raw.timestamp(&now());
        let (source, filter) = match filter {
            Some(filter) => ("filter", format!("'{filter}'")),
            None => ("refresh", "NULL".to_owned()),
        };
        let id = raw.number(&format!(
            "INSERT INTO criteria_actions (segment_id, seq, action, source, filter, options, lines_added, \
             lines_removed, created_at) VALUES ({}, {}, '{kind}', '{source}', {filter}, '{{}}', 0, 0, {ts}) \
             RETURNING id AS n",
            self.id, self.seq
        ));
        self.actions.push(id);
        id
    }

    fn finish_action(&mut self, raw: &mut Raw, action: i64, added: i64, removed: i64) {
        let ts = raw.timestamp(&now());
        raw.execute(&format!(
            "UPDATE segments SET no_of_lines = no_of_lines + {added} - {removed}, \
             no_of_criteria_actions = no_of_criteria_actions + 1, version = version + 1, updated_at = {ts} \
             WHERE id = {}",
            self.id
        ));
        raw.execute(&format!(
            "UPDATE criteria_actions SET lines_added = {added}, lines_removed = {removed} WHERE id = {action}"
        ));
    }

    /// `INSERT ... SELECT` of the eligible contacts matching `where_c` (over `c`) that have no
    /// live line, in line order.
    fn insert_lines(&self, raw: &mut Raw, action: i64, where_c: &str) -> i64 {
        let ts = raw.timestamp(&now());
        raw.execute(&format!(
            "INSERT INTO segment_lines (segment_id, contact_id, attempt_failed, added_by_action_id, version, \
             created_at, updated_at) SELECT {seg}, c.id, FALSE, {action}, 1, {ts}, {ts} \
             FROM contacts c LEFT JOIN contacts co ON co.id = c.company_id WHERE {where_c} \
             AND NOT c.privacy_blocked AND NOT c.exclude_from_segment AND NOT {held}{ORDER}",
            seg = self.id,
            held = held(self.id),
        ))
    }

    fn add(&mut self, raw: &mut Raw, criterion: &Criterion) -> i64 {
        let action = self.begin_action(raw, "add", Some(&criterion.filter));
        let added = self.insert_lines(raw, action, &criterion.on("c"));
        self.finish_action(raw, action, added, 0);
        added
    }

    /// remove (`keep` false) or refine (`keep` true): one `UPDATE` marking the live lines.
    fn take_away(&mut self, raw: &mut Raw, criterion: &Criterion, keep: bool) -> i64 {
        let action = self.begin_action(raw, if keep { "refine" } else { "remove" }, Some(&criterion.filter));
        let removed = raw.execute(&format!(
            "UPDATE segment_lines SET removed_by_action_id = {action} WHERE segment_id = {} \
             AND removed_by_action_id IS NULL AND {}EXISTS (SELECT 1 FROM contacts \
             WHERE contacts.id = segment_lines.contact_id AND {})",
            self.id,
            if keep { "NOT " } else { "" },
            criterion.on("contacts"),
        ));
        self.finish_action(raw, action, 0, removed);
        removed
    }

    /// What a preview answers: the count of the add's selection (and, with `page`, its first 50
    /// contacts).
    fn preview_add(&self, raw: &mut Raw, criterion: &Criterion, page: bool) -> i64 {
        let from = format!(
            " FROM contacts c LEFT JOIN contacts co ON co.id = c.company_id WHERE {} AND NOT c.privacy_blocked \
             AND NOT c.exclude_from_segment AND NOT {}",
            criterion.on("c"),
            held(self.id)
        );
        let count = raw.number(&format!("SELECT count(*) AS n{from}"));
        if page {
            raw.batch(&format!("SELECT c.id, c.no, c.name, c.contact_type, co.no{from}{ORDER} LIMIT 50"));
        }
        count
    }

    /// The refresh diff of a segment built by `add criterion`: eligible matches without a live
    /// line join; live criteria-added lines whose contact is no longer an eligible match leave.
    fn refresh(&mut self, raw: &mut Raw, criterion: &Criterion, dry_run: bool) -> (i64, i64) {
        let leaving = format!(
            " WHERE segment_id = {} AND removed_by_action_id IS NULL AND added_by_action_id IN \
             (SELECT a.id FROM criteria_actions a WHERE a.source IN ('filter', 'saved_criteria', 'refresh')) \
             AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = segment_lines.contact_id AND {} \
             AND NOT c.privacy_blocked AND NOT c.exclude_from_segment)",
            self.id,
            criterion.on("c"),
        );
        if dry_run {
            // The same answer as the service's: both counts and the first 50 of each side.
            let joining = self.preview_add(raw, criterion, true);
            let leaving_count = raw.number(&format!("SELECT count(*) AS n FROM segment_lines{leaving}"));
            raw.batch(&format!(
                "SELECT c.id, c.no, c.name, c.contact_type, co.no FROM segment_lines \
                 JOIN contacts c ON c.id = segment_lines.contact_id LEFT JOIN contacts co ON co.id = c.company_id\
                 {leaving} ORDER BY segment_lines.id LIMIT 50"
            ));
            return (joining, leaving_count);
        }
        let action = self.begin_action(raw, "refresh", None);
        let added = self.insert_lines(raw, action, &criterion.on("c"));
        let removed =
            raw.execute(&format!("UPDATE segment_lines SET removed_by_action_id = {action}{leaving}"));
        self.finish_action(raw, action, added, removed);
        (added, removed)
    }

    /// Deletes the lines the last action added, restores those it removed, drops the action.
    fn undo(&mut self, raw: &mut Raw) -> (i64, i64) {
        let action = self.actions.pop().expect("an action to undo");
        self.seq -= 1;
        let lock = if raw.is_sqlite() { "" } else { " FOR UPDATE" };
        raw.number(&format!("SELECT id AS n FROM segments WHERE id = {}{lock}", self.id));
        let deleted = raw.execute(&format!("DELETE FROM segment_lines WHERE added_by_action_id = {action}"));
        let restored = raw.execute(&format!(
            "UPDATE segment_lines SET removed_by_action_id = NULL WHERE removed_by_action_id = {action}"
        ));
        raw.execute(&format!("DELETE FROM criteria_actions WHERE id = {action}"));
        let ts = raw.timestamp(&now());
        raw.execute(&format!(
            "UPDATE segments SET no_of_lines = no_of_lines + {restored} - {deleted}, \
             no_of_criteria_actions = no_of_criteria_actions - 1, version = version + 1, updated_at = {ts} \
             WHERE id = {}",
            self.id
        ));
        (deleted, restored)
    }
}

/// One operation: lines it touched (API and raw agree), API time, raw time.
struct Figure {
    operation: String,
    lines: i64,
    api: Duration,
    raw: Duration,
}

struct Report {
    backend: &'static str,
    contacts: usize,
    load: Duration,
    figures: Vec<Figure>,
    preview: Duration,
    peak_mb: f64,
}

/// Loads the contacts and runs the whole sequence against `server` (which migrated the
/// database), with `raw` connected to the same database.
async fn run_sequence(backend: &'static str, server: &Server, raw: &mut Raw, total: usize) -> Report {
    let api = Api::ready(server.port).await;
    let started = Instant::now();
    load_contacts(raw, total);
    let load = started.elapsed();
    let c = criteria();
    let a = api.create_segment("criteria bench (API)").await;
    let mut b =
        RawSegment { id: api.create_segment("criteria bench (raw SQL)").await, seq: 0, actions: vec![] };
    let actions = format!("/v1/segments/{a}/criteria-actions");
    let mut figures = Vec::new();
    let mut record = |operation: &str, api_lines: i64, raw_lines: i64, api: Duration, raw: Duration| {
        assert_eq!(api_lines, raw_lines, "{operation}: the API and raw SQL disagree");
        println!("  {operation}: {api_lines} lines, API {:.0} ms, raw {:.0} ms", ms(api), ms(raw));
        figures.push(Figure { operation: operation.to_owned(), lines: api_lines, api, raw });
    };
    let action = |kind: &str, criterion: &Criterion| json!({"action": kind, "filter": criterion.filter});
    let n = |v: &Value, field: &str| v[field].as_i64().unwrap();

    // Pairs alternate which side runs first so that neither always finds the caches warm.
    let (answer, api_time) = api.post(&actions, &action("add", &c.tenth)).await;
    let (raw_lines, raw_time) = raw.timed(|r| b.add(r, &c.tenth));
    record("add 10 %", n(&answer, "lines_added"), raw_lines, api_time, raw_time);

    let ((deleted, _), raw_time) = raw.timed(|r| b.undo(r));
    let (answer, api_time) = api.post(&format!("{actions}/undo"), &json!({})).await;
    record("undo add 10 %", n(&answer, "lines_deleted"), deleted, api_time, raw_time);

    let (answer, api_time) = api.post(&format!("{actions}/preview"), &action("add", &c.half)).await;
    let preview = api_time;
    let (raw_lines, raw_time) = raw.timed(|r| b.preview_add(r, &c.half, true));
    record("preview add 50 % (count + first 50)", n(&answer, "lines_added"), raw_lines, api_time, raw_time);
    let (raw_lines, raw_time) = raw.timed(|r| b.preview_add(r, &c.half, false));
    record("preview add 50 % (vs count(*) alone)", n(&answer, "lines_added"), raw_lines, api_time, raw_time);

    let (raw_lines, raw_time) = raw.timed(|r| b.add(r, &c.half));
    let (answer, api_time) = api.post(&actions, &action("add", &c.half)).await;
    record("add 50 %", n(&answer, "lines_added"), raw_lines, api_time, raw_time);

    let (answer, api_time) = api.post(&actions, &action("refine", &c.refine)).await;
    let (raw_lines, raw_time) = raw.timed(|r| b.take_away(r, &c.refine, true));
    record("refine (keep 40 %)", n(&answer, "lines_removed"), raw_lines, api_time, raw_time);

    let ((_, restored), raw_time) = raw.timed(|r| b.undo(r));
    let (answer, api_time) = api.post(&format!("{actions}/undo"), &json!({})).await;
    record("undo refine", n(&answer, "lines_restored"), restored, api_time, raw_time);

    let (answer, api_time) = api.post(&actions, &action("remove", &c.remove)).await;
    let (raw_lines, raw_time) = raw.timed(|r| b.take_away(r, &c.remove, false));
    record("remove (20 %)", n(&answer, "lines_removed"), raw_lines, api_time, raw_time);

    let ((_, restored), raw_time) = raw.timed(|r| b.undo(r));
    let (answer, api_time) = api.post(&format!("{actions}/undo"), &json!({})).await;
    record("undo remove", n(&answer, "lines_restored"), restored, api_time, raw_time);

    let changed = change_one_percent(raw);
    println!("  changed {changed} contacts");
    // No ANALYZE of segment_lines here (autovacuum is off on the benchmark cluster): refresh
    // must not depend on fresh statistics.
    let refresh = format!("/v1/segments/{a}/refresh");
    let (answer, api_time) = api.post(&refresh, &json!({"dry_run": true})).await;
    let ((joining, leaving), raw_time) = raw.timed(|r| b.refresh(r, &c.half, true));
    assert_eq!(n(&answer, "leaving"), leaving, "refresh dry run: leaving");
    record("refresh dry run (1 % changed)", n(&answer, "joining"), joining, api_time, raw_time);

    let ((joined, left), raw_time) = raw.timed(|r| b.refresh(r, &c.half, false));
    let (answer, api_time) = api.post(&refresh, &json!({"dry_run": false})).await;
    assert_eq!(n(&answer["action"], "lines_removed"), left, "refresh: lines removed");
    record(
        "refresh (1 % changed)",
        n(&answer["action"], "lines_added") + left,
        joined + left,
        api_time,
        raw_time,
    );

    let (answer, api_time) = api.post(&format!("{actions}/undo"), &json!({})).await;
    let ((deleted, restored), raw_time) = raw.timed(|r| b.undo(r));
    record(
        "undo refresh",
        n(&answer, "lines_deleted") + n(&answer, "lines_restored"),
        deleted + restored,
        api_time,
        raw_time,
    );

    let ((deleted, _), raw_time) = raw.timed(|r| b.undo(r));
    let (answer, api_time) = api.post(&format!("{actions}/undo"), &json!({})).await;
    record("undo add 50 %", n(&answer, "lines_deleted"), deleted, api_time, raw_time);

    Report { backend, contacts: total, load, figures, preview, peak_mb: server.peak_rss_mb() }
}

async fn bench_sqlite(total: usize) -> Report {
    let url = sqlite_database("bench_criteria");
    let server = Server::start(&url, 18941);
    // The server migrates at start; wait for it before opening the raw side.
    Api::ready(server.port).await;
    let mut raw = sqlite_raw(&url);
    let report = run_sequence("SQLite", &server, &mut raw, total).await;
    drop(server);
    drop_sqlite_database(&url);
    report
}

async fn bench_postgres(server_url: &str, total: usize) -> Report {
    let (mut admin, name, url) = postgres_database(server_url, "bench_criteria");
    let server = Server::start(&url, 18942);
    Api::ready(server.port).await;
    let mut raw = Raw::Pg(PgConnection::establish(&url).unwrap());
    let report = run_sequence("PostgreSQL", &server, &mut raw, total).await;
    drop(raw);
    drop(server);
    drop_postgres_database(&mut admin, &name, &url);
    report
}

fn print_report(r: &Report) {
    println!(
        "\n{} with {} contacts (loaded by raw SQL in {:.1} s):\n",
        r.backend,
        r.contacts,
        r.load.as_secs_f64()
    );
    println!("| operation | lines | API | raw SQL | ratio |");
    println!("|---|---|---|---|---|");
    for f in &r.figures {
        println!(
            "| {} | {} | {:.0} ms | {:.0} ms | {:.2}x |",
            f.operation,
            f.lines,
            ms(f.api),
            ms(f.raw),
            f.api.as_secs_f64() / f.raw.as_secs_f64()
        );
    }
    println!(
        "\npreview of the 50 % add: {:.0} ms; server peak RSS over the run: {:.0} MB",
        ms(r.preview),
        r.peak_mb
    );
}

#[tokio::main]
async fn main() {
    let total: usize = std::env::var("BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let mut reports = vec![];
    println!("SQLite, {total} contacts");
    reports.push(bench_sqlite(total).await);
    match postgres_url() {
        Some(url) => {
            println!("PostgreSQL, {total} contacts");
            reports.push(bench_postgres(&url, total).await);
        }
        None => println!("(PostgreSQL skipped: set BENCH_DATABASE_URL)"),
    }
    for report in &reports {
        print_report(report);
    }
}
