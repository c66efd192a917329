//! Logging a segment: every check first (nothing written when one fails), then one
//! transaction of a handful of set-based statements whatever the size: the segment is frozen
//! (the claim that makes logging happen once), one logged segment, one interaction log entry
//! per live line from the line's effective values (`segments::effective`, the one place of
//! those rules), and optionally a follow-up segment with the same header and contacts.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::number_series::{self, INTERACTION_LOG_ENTRY, LOGGED_SEGMENT, SEGMENT};
use crate::db::schema::{logged_segments, segments};
use crate::db::sql::{BindValue, SqlBuilder};
use crate::db::{self, Conn};
use crate::domain::SegmentStatus;
use crate::error::{ApiError, FieldError};
use crate::metrics::METRICS;
use crate::segments::effective;
use crate::segments::model::Segment;
use crate::segments::repo::{logged, open_segment};

mod interaction;
pub use interaction::log_interaction;

/// Faults listed in a refusal; the detail gives the total.
pub const FAULTS_SHOWN: i64 = 100;

/// What the caller asks for besides the log itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Queue email and hard-copy entries for delivery (`delivery_status` `pending`).
    pub deliver: bool,
    /// Create an open segment with the same header and contacts.
    pub create_follow_up: bool,
}

/// What logging wrote.
#[derive(Debug, Clone, Copy)]
pub struct Logged {
    pub logged_segment_id: i64,
    pub follow_up_segment_id: Option<i64>,
}

/// What every entry source joins: the contact, its company and the line's effective template.
/// A source names its line rows `segment_lines` and its header row `segments`.
const ENTRY_JOINS: &str = " JOIN contacts ON contacts.id = segment_lines.contact_id \
     LEFT JOIN contacts company ON company.id = contacts.company_id \
     LEFT JOIN interaction_templates ON ";

/// The live lines of a segment joined to everything their effective values need.
fn lines_of(sql: &mut SqlBuilder, segment_id: i64) {
    lines_joined(sql, segment_id, Lines::All, |_| {});
}

/// Which of a segment's live lines a query over `lines_joined` reads.
#[derive(Debug, Clone, Copy)]
pub enum Lines {
    All,
    One(i64),
    /// Up to `limit` lines after line `after`, by id.
    Page {
        after: i64,
        limit: i64,
    },
}

/// `lines_of` with more joins, which `joins` appends. One line or a page is chosen from the
/// live-lines index before anything is joined: otherwise PostgreSQL joins every line left and
/// sorts them for each page (16 ms a page at 5,000 lines left, 4 ms this way).
pub(crate) fn lines_joined(
    sql: &mut SqlBuilder,
    segment_id: i64,
    lines: Lines,
    joins: impl FnOnce(&mut SqlBuilder),
) {
    let live = |sql: &mut SqlBuilder, table: &str| {
        sql.sql(" WHERE ").sql(table).sql(".removed_by_action_id IS NULL AND ").sql(table);
        sql.sql(".segment_id = ").bind(segment_id.into());
    };
    match lines {
        Lines::All => sql.sql(" FROM segment_lines"),
        Lines::One(line) => {
            sql.sql(" FROM (SELECT * FROM segment_lines l");
            live(sql, "l");
            sql.sql(" AND l.id = ").bind(line.into()).sql(") segment_lines")
        }
        Lines::Page { after, limit } => {
            sql.sql(" FROM (SELECT * FROM segment_lines l");
            live(sql, "l");
            sql.sql(" AND l.id > ").bind(after.into());
            sql.sql(&format!(" ORDER BY l.id LIMIT {limit}) segment_lines"))
        }
    };
    sql.sql(" JOIN segments ON segments.id = segment_lines.segment_id");
    sql.sql(ENTRY_JOINS).sql(effective::TEMPLATE_JOIN);
    joins(sql);
    live(sql, "segment_lines");
}

/// Freezes what each entry's document is made of, in one `INSERT ... SELECT`: the document
/// version its line merges (its own, else the template's in its language) and every merge
/// value as it is now. An entry's document is rendered from this row ever after, so it stays the
/// same bytes whatever changes later. Lines without a document get no row.
fn freeze_documents(conn: &mut Conn, segment_id: i64, logged_segment_id: i64) -> Result<(), ApiError> {
    if !has_documents(conn, segment_id)? {
        return Ok(());
    }
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(
        "INSERT INTO entry_documents (entry_id, attachment_id, line_document_id, kind, send_as_attachment",
    );
    for (field, _) in effective::MERGE_VALUES {
        sql.sql(", ").sql(field);
    }
    sql.sql(
        ") SELECT entry_id, CASE WHEN line_document_id IS NULL THEN attachment_id END, line_document_id, \
         kind, send_as_attachment",
    );
    for (field, _) in effective::MERGE_VALUES {
        sql.sql(", ").sql(field);
    }
    sql.sql(" FROM (SELECT entries.id AS entry_id, ");
    crate::merge::repo::line_document_columns(&mut sql);
    lines_joined(&mut sql, segment_id, Lines::All, |sql| {
        sql.sql(" LEFT JOIN salespeople ON ").sql(effective::SALESPERSON_JOIN);
        sql.sql(" JOIN interaction_log_entries entries ON entries.segment_line_id = segment_lines.id");
        sql.sql(" AND entries.logged_segment_id = ").bind(logged_segment_id.into());
    });
    sql.sql(") documents WHERE kind IS NOT NULL");
    sql.execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    found: bool,
}

/// Whether any line of the segment can have a document: one of its own, or a template (the
/// header's or a line's) with documents. A segment without saves the pass over its lines.
fn has_documents(conn: &mut Conn, segment_id: i64) -> Result<bool, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(
        "SELECT (EXISTS (SELECT 1 FROM segment_lines l JOIN segment_line_documents ld ON ld.segment_line_id = l.id \
          WHERE l.segment_id = ",
    );
    sql.bind(segment_id.into());
    sql.sql(
        ") OR EXISTS (SELECT 1 FROM template_current_attachments d JOIN segments s \
           ON d.interaction_template_code = s.interaction_template_code WHERE s.id = ",
    );
    sql.bind(segment_id.into());
    sql.sql(
        ") OR EXISTS (SELECT 1 FROM template_current_attachments d WHERE d.interaction_template_code IN \
          (SELECT l.interaction_template_code FROM segment_lines l WHERE l.segment_id = ",
    );
    sql.bind(segment_id.into()).sql(" AND l.interaction_template_code IS NOT NULL))) AS found");
    Ok(sql.load::<Found>(conn)?.first().is_some_and(|f| f.found))
}

/// The outbox: one due delivery per entry that logging marked `pending` (email and hard copy).
fn queue_deliveries(conn: &mut Conn, logged_segment_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql("INSERT INTO entry_deliveries (entry_id, attempts, due_at) SELECT id, 0, ").bind(now.into());
    sql.sql(" FROM interaction_log_entries WHERE delivery_status = 'pending' AND logged_segment_id = ");
    sql.bind(logged_segment_id.into());
    sql.execute(conn)?;
    Ok(())
}

/// Logs an open segment for `user` (the API key's name).
pub fn log_segment(
    conn: &mut Conn,
    segment_id: i64,
    user: &str,
    options: LogOptions,
) -> Result<Logged, ApiError> {
    let deliver = if options.deliver { "true" } else { "false" };
    let _timer = METRICS.segment_logs.with_label_values(&[deliver]).start_timer();
    db::write_transaction(conn, |conn| {
        let segment = open_segment(conn, segment_id)?;
        let lines = check(conn, &segment, options)?;
        let now = Utc::now().naive_utc();
        // The state change comes first: the one call that changes the row owns the log.
        let claimed =
            diesel::update(segments::table.find(segment_id).filter(segments::status.eq(SegmentStatus::Open)))
                .set((
                    segments::status.eq(SegmentStatus::Logged),
                    segments::version.eq(segments::version + 1),
                    segments::updated_at.eq(now),
                ))
                .execute(conn)?;
        if claimed == 0 {
            return Err(logged(segment_id));
        }
        let logged_segment_id = insert_logged_segment(conn, &segment, user, now)?;
        let written = insert_entries(conn, &segment, logged_segment_id, user, options, now, lines)?;
        freeze_documents(conn, segment_id, logged_segment_id)?;
        if options.deliver {
            queue_deliveries(conn, logged_segment_id, now)?;
        }
        inject_fault("after_log_entries")?;
        diesel::update(logged_segments::table.find(logged_segment_id))
            .set(logged_segments::no_of_interactions.eq(written))
            .execute(conn)?;
        diesel::update(segments::table.find(segment_id))
            .set(segments::logged_segment_id.eq(logged_segment_id))
            .execute(conn)?;
        let follow_up_segment_id =
            if options.create_follow_up { Some(create_follow_up(conn, &segment, now)?) } else { None };
        Ok(Logged { logged_segment_id, follow_up_segment_id })
    })
}

/// A test-only switch: a debug build whose `CRM_TEST_FAULT` names this point fails there, or
/// with `pause:` before the name says so on stderr and stops for a minute (for a test to kill the
/// process mid-transaction), so that tests can show a failure inside the transaction leaves
/// nothing written; with `slow:` it says so and goes on after 3 seconds (for a test to stop the
/// server during a request). Release builds compile it away.
fn inject_fault(point: &str) -> Result<(), ApiError> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    let fault = std::env::var("CRM_TEST_FAULT").unwrap_or_default();
    if fault == point {
        return Err(ApiError::internal(format!("fault injected at {point} (CRM_TEST_FAULT)")));
    }
    if fault.strip_prefix("pause:") == Some(point) {
        eprintln!("CRM_TEST_FAULT: paused at {point}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
    if fault.strip_prefix("slow:") == Some(point) {
        eprintln!("CRM_TEST_FAULT: slowed at {point}");
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Fault {
    #[diesel(sql_type = BigInt)]
    line_id: i64,
    #[diesel(sql_type = Text)]
    contact_no: String,
    #[diesel(sql_type = Text)]
    reason: String,
}

#[derive(QueryableByName)]
struct Tally {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    faults: i64,
}

/// Why a line cannot be logged: the reason code, its sentence, and the condition over the
/// effective values. Templates and salespeople are foreign keys, so an unknown one can only be
/// a missing one.
const LINE_FAULTS: &[(&str, &str, &str)] = &[
    ("privacy_blocked", "the contact is privacy blocked", "contacts.privacy_blocked"),
    ("no_template", "the line has no interaction template", "interaction_templates.code IS NULL"),
];

/// With `deliver`, what an email or hard-copy line needs: the code, its sentence, and the
/// condition, where `{type}` stands for the effective correspondence type and `{kind}` for the
/// kind of the line's document (`segments::effective`).
const DELIVERY_FAULTS: &[(&str, &str, &str)] = &[
    (
        "no_email",
        "an email line's contact has no email address",
        "({type}) = 'email' AND contacts.email IS NULL",
    ),
    (
        "no_document",
        "the template has no document in the line's language and the line has none of its own",
        "({type}) IN ('email', 'hard_copy') AND ({kind}) IS NULL",
    ),
    (
        "no_email_body",
        "an email line sent without attachment needs an HTML or text document, and the line's is Word \
         (set send_as_attachment on the segment, or upload an HTML document)",
        "({type}) = 'email' AND NOT segments.send_as_attachment AND ({kind}) = 'docx'",
    ),
    (
        "no_letter",
        "a hard-copy line needs a Word document to print, and the line's is HTML or text",
        "({type}) = 'hard_copy' AND ({kind}) IN ('html', 'text')",
    ),
];

/// Every fault of the segment at once: the header's, then each line's (a first page, with the
/// total in the detail); nothing is written. Answers the number of live lines to log.
fn check(conn: &mut Conn, segment: &Segment, options: LogOptions) -> Result<i64, ApiError> {
    let mut errors = Vec::new();
    if segment.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
        errors.push(FieldError::new("description", "required", "a segment needs a description to be logged"));
    }
    // One pass over the lines in the common case: how many there are and how many faults they
    // have; the page of faulty lines is read only when there is one.
    let kinds = fault_kinds(options);
    let mut tally = SqlBuilder::for_conn(conn);
    tally.sql("SELECT count(*) AS n, COALESCE(SUM(0");
    for (_, _, condition) in &kinds {
        tally.sql(&format!(" + CASE WHEN {condition} THEN 1 ELSE 0 END"));
    }
    tally.sql("), 0) AS faults");
    lines_of(&mut tally, segment.id);
    let (lines, total) = tally.load::<Tally>(conn)?.first().map_or((0, 0), |t| (t.n, t.faults));
    if lines == 0 {
        errors.push(FieldError::new("lines", "empty_segment", "a segment without lines cannot be logged"));
    }
    if total > 0 {
        let mut page = SqlBuilder::for_conn(conn);
        page.sql("SELECT line_id, contact_no, reason FROM (").append(&faulty_lines(conn, segment.id, &kinds));
        page.sql(&format!(") faults ORDER BY line_id, reason LIMIT {FAULTS_SHOWN}"));
        for fault in page.load::<Fault>(conn)? {
            let sentence = kinds
                .iter()
                .find(|(code, _, _)| *code == fault.reason)
                .map_or("", |(_, sentence, _)| sentence);
            errors.push(FieldError::new(
                format!("lines/{}", fault.line_id),
                &fault.reason,
                format!("line {} (contact {}): {sentence}", fault.line_id, fault.contact_no),
            ));
        }
    }
    if errors.is_empty() {
        return Ok(lines);
    }
    Err(ApiError::Refused {
        code: "segment-not-loggable",
        detail: format!(
            "segment {} cannot be logged: {total} line fault(s){}",
            segment.no,
            if total > FAULTS_SHOWN { format!(", the first {FAULTS_SHOWN} listed") } else { String::new() }
        ),
        errors,
    })
}

/// The faults a line can have for these options: reason code, sentence and condition.
fn fault_kinds(options: LogOptions) -> Vec<(&'static str, &'static str, String)> {
    let mut kinds: Vec<_> = LINE_FAULTS
        .iter()
        .map(|(code, sentence, condition)| (*code, *sentence, (*condition).to_owned()))
        .collect();
    if options.deliver {
        kinds.extend(DELIVERY_FAULTS.iter().map(|(code, sentence, condition)| {
            let condition = condition
                .replace("{type}", effective::CORRESPONDENCE_TYPE)
                .replace("{kind}", effective::DOCUMENT_KIND);
            (*code, *sentence, condition)
        }));
    }
    kinds
}

/// `SELECT line_id, contact_no, reason ...` for every (line, fault) pair, one `UNION ALL` part
/// per kind of fault.
fn faulty_lines(conn: &Conn, segment_id: i64, kinds: &[(&str, &str, String)]) -> SqlBuilder {
    let mut sql = SqlBuilder::for_conn(conn);
    for (i, (code, _, condition)) in kinds.iter().enumerate() {
        if i > 0 {
            sql.sql(" UNION ALL ");
        }
        sql.sql("SELECT segment_lines.id AS line_id, contacts.no AS contact_no, ");
        sql.bind(BindValue::Text((*code).to_owned())).sql(" AS reason");
        lines_of(&mut sql, segment_id);
        sql.sql(&format!(" AND {condition}"));
    }
    sql
}

fn insert_logged_segment(
    conn: &mut Conn,
    segment: &Segment,
    user: &str,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    let no = number_series::next(conn, LOGGED_SEGMENT)?;
    Ok(diesel::insert_into(logged_segments::table)
        .values((
            logged_segments::no.eq(no),
            logged_segments::segment_id.eq(segment.id),
            logged_segments::segment_no.eq(&segment.no),
            logged_segments::description.eq(segment.description.clone().unwrap_or_default()),
            logged_segments::no_of_interactions.eq(0_i64),
            logged_segments::user_name.eq(user),
            logged_segments::canceled.eq(false),
            logged_segments::created_at.eq(now),
        ))
        .returning(logged_segments::id)
        .get_result(conn)?)
}

/// One `INSERT ... SELECT` of an entry per live line, numbered from a block reserved in the
/// entry number series, in line order.
fn insert_entries(
    conn: &mut Conn,
    segment: &Segment,
    logged_segment_id: i64,
    user: &str,
    options: LogOptions,
    now: NaiveDateTime,
    lines: i64,
) -> Result<i64, ApiError> {
    let target = EntryTarget {
        segment_no: Some(&segment.no),
        logged_segment_id: Some(logged_segment_id),
        user,
        deliver: options.deliver,
        comment: None,
        now,
    };
    let (_, written) = write_entries(conn, &target, lines, |sql| lines_of(sql, segment.id))?;
    if written != lines {
        return Err(ApiError::internal(format!("logging wrote {written} entries for {lines} lines")));
    }
    Ok(written)
}

/// Where entries come from and what they are logged under.
struct EntryTarget<'a> {
    segment_no: Option<&'a str>,
    logged_segment_id: Option<i64>,
    /// The API key's name.
    user: &'a str,
    /// Queue email and hard-copy entries for delivery.
    deliver: bool,
    comment: Option<&'a str>,
    now: NaiveDateTime,
}

/// The one `INSERT ... SELECT` that writes entries: `rows` appends the `FROM ... WHERE` of at
/// most `count` line rows (named `segment_lines`, with their header as `segments`), and every
/// value comes from the expressions of `segments::effective`. Entry numbers are a block reserved
/// in the number series, given in line order. Answers the first entry no and how many were written.
fn write_entries(
    conn: &mut Conn,
    target: &EntryTarget,
    count: i64,
    rows: impl FnOnce(&mut SqlBuilder),
) -> Result<(i64, i64), ApiError> {
    let base = number_series::reserve_block(conn, INTERACTION_LOG_ENTRY, count)?;
    let delivery = format!(
        "CASE WHEN {} AND ({}) IN ('email', 'hard_copy') THEN 'pending' ELSE 'not_applicable' END",
        if target.deliver { "1 = 1" } else { "1 = 0" },
        effective::CORRESPONDENCE_TYPE
    );
    let text = |v: Option<&str>| v.map(|v| BindValue::Text(v.to_owned()));
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(
        "INSERT INTO interaction_log_entries (entry_no, contact_id, contact_no, contact_name, \
         contact_company_no, contact_company_name, date, time_of_interaction, description, subject, \
         interaction_template_code, interaction_group_code, language_code, information_flow, initiated_by, \
         correspondence_type, salesperson_code, cost_cents, duration_min, evaluation, attempt_failed, comment, \
         segment_no, logged_segment_id, user_name, delivery_status, canceled, created_at, segment_line_id) SELECT ",
    );
    sql.bind(base.into())
        .sql(" + ROW_NUMBER() OVER (ORDER BY segment_lines.id), contacts.id, contacts.no, contacts.name, ");
    sql.sql("company.no, company.name, ").sql(effective::DATE).sql(", ").bind(target.now.into()).sql(", ");
    for expression in [effective::DESCRIPTION, effective::SUBJECT, effective::TEMPLATE_CODE] {
        sql.sql(expression).sql(", ");
    }
    sql.sql("interaction_templates.interaction_group_code, ").sql(effective::LANGUAGE_CODE);
    sql.sql(", interaction_templates.information_flow, interaction_templates.initiated_by, ");
    sql.sql(effective::CORRESPONDENCE_TYPE).sql(", ").sql(effective::SALESPERSON_CODE).sql(", ");
    sql.sql(effective::COST_CENTS).sql(", ").sql(effective::DURATION_MIN);
    sql.sql(", segment_lines.evaluation, segment_lines.attempt_failed, ");
    sql.bind_or_null(text(target.comment), "TEXT").sql(", ");
    sql.bind_or_null(text(target.segment_no), "TEXT").sql(", ");
    sql.bind_or_null(target.logged_segment_id.map(BindValue::from), "BIGINT").sql(", ");
    sql.bind(BindValue::Text(target.user.to_owned()));
    sql.sql(&format!(", {delivery}, FALSE, ")).bind(target.now.into());
    // A segment's entries remember their line (the document snapshot joins on it); an
    // interaction logged by hand has none.
    sql.sql(if target.logged_segment_id.is_some() { ", segment_lines.id" } else { ", CAST(NULL AS BIGINT)" });
    rows(&mut sql);
    Ok((base + 1, sql.execute(conn)? as i64))
}

/// Creates a follow-up of a logged segment: an open segment with its header and contacts.
pub fn follow_up_logged_segment(conn: &mut Conn, logged_segment_id: i64) -> Result<i64, ApiError> {
    db::write_transaction(conn, |conn| {
        let segment_id: i64 = logged_segments::table
            .find(logged_segment_id)
            .select(logged_segments::segment_id)
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("logged segment {logged_segment_id}")))?;
        let segment = segments::table.find(segment_id).select(Segment::as_select()).first(conn)?;
        create_follow_up(conn, &segment, Utc::now().naive_utc())
    })
}

/// A new open segment with the logged one's header and the contacts of its live lines, in
/// line order; it overrides nothing.
fn create_follow_up(conn: &mut Conn, segment: &Segment, now: NaiveDateTime) -> Result<i64, ApiError> {
    let no = number_series::assign(conn, SEGMENT, 1, |conn, candidates| {
        Ok(segments::table.filter(segments::no.eq_any(candidates)).select(segments::no).load(conn)?)
    })?
    .remove(0);
    let description = format!("Follow-up on segment {}", segment.no);
    let mut header = SqlBuilder::for_conn(conn);
    header.sql(
        "INSERT INTO segments (no, description, search_description, status, interaction_template_code, subject, \
         language_code, correspondence_type, ignore_contact_correspondence_type, date, salesperson_code, \
         unit_cost_cents, unit_duration_min, send_as_attachment, no_of_lines, no_of_criteria_actions, version, \
         created_at, updated_at) SELECT ",
    );
    header.bind(BindValue::Text(no.clone())).sql(", ").bind(BindValue::Text(description.clone())).sql(", ");
    header.bind(BindValue::Text(description.to_lowercase())).sql(", ");
    header.bind(BindValue::Text(SegmentStatus::Open.as_str().to_owned()));
    header.sql(
        ", interaction_template_code, subject, language_code, correspondence_type, \
         ignore_contact_correspondence_type, date, salesperson_code, unit_cost_cents, unit_duration_min, \
         send_as_attachment, no_of_lines, 0, 1, ",
    );
    header
        .bind(now.into())
        .sql(", ")
        .bind(now.into())
        .sql(" FROM segments WHERE id = ")
        .bind(segment.id.into());
    header.execute(conn)?;
    let follow_up: i64 = segments::table.filter(segments::no.eq(&no)).select(segments::id).first(conn)?;
    let mut lines = SqlBuilder::for_conn(conn);
    lines.sql(
        "INSERT INTO segment_lines (segment_id, contact_id, attempt_failed, version, created_at, updated_at) SELECT ",
    );
    lines.bind(follow_up.into()).sql(", contact_id, FALSE, 1, ").bind(now.into()).sql(", ").bind(now.into());
    lines
        .sql(" FROM segment_lines WHERE removed_by_action_id IS NULL AND segment_id = ")
        .bind(segment.id.into());
    lines.sql(" ORDER BY id");
    lines.execute(conn)?;
    Ok(follow_up)
}
