//! Segment lines: read with effective values, add by hand (set-based), override, delete.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::model::{
    overridden_mask_sql, AddLines, LineCsvRow, LineCsvSqlType, LineOverrides, LinePatch, LineRow, NewLine,
    SegmentLineResponse,
};
use crate::contacts::repo::companies_by_id;
use crate::db::schema::{contacts, interaction_templates, segment_lines, segments};
use crate::db::{self, Conn, MAX_BINDS_PER_LIST};
use crate::domain::validation::Checker;
use crate::domain::{CorrespondenceType, SegmentStatus};
use crate::error::ApiError;
use crate::http::conditional::{check_version, IfMatch};
use crate::http::pagination::{into_page, PageRequest};
use crate::segments::effective;
use crate::segments::repo::{check_references, open_segment};
use crate::with_backend;

/// Most contacts one request may add by hand.
pub const MAX_LINES_PER_REQUEST: usize = 100_000;

/// The live lines of segments joined to what their effective values need.
macro_rules! live_lines {
    () => {
        segment_lines::table
            .inner_join(segments::table)
            .inner_join(contacts::table)
            .left_join(interaction_templates::table.on(sql::<Bool>(effective::TEMPLATE_JOIN)))
            .filter(segment_lines::removed_by_action_id.is_null())
    };
}

/// Filters of the line list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineFilter {
    pub contact_id: Option<i64>,
    /// The company and its persons.
    pub company_id: Option<i64>,
    /// On the effective type.
    pub correspondence_type: Option<CorrespondenceType>,
    pub has_email: Option<bool>,
}

pub fn get_line(conn: &mut Conn, segment_id: i64, line_id: i64) -> Result<SegmentLineResponse, ApiError> {
    let row = live_lines!()
        .filter(segment_lines::segment_id.eq(segment_id))
        .filter(segment_lines::id.eq(line_id))
        .select(LineRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("line {line_id} of segment {segment_id}")))?;
    Ok(responses(conn, vec![row])?.remove(0))
}

pub fn list_lines(
    conn: &mut Conn,
    segment_id: i64,
    filter: &LineFilter,
    page: PageRequest,
) -> Result<(Vec<SegmentLineResponse>, Option<String>), ApiError> {
    let exists: bool =
        diesel::select(diesel::dsl::exists(segments::table.find(segment_id))).get_result(conn)?;
    if !exists {
        return Err(ApiError::not_found(format!("segment {segment_id}")));
    }
    let mut query = live_lines!()
        .filter(segment_lines::segment_id.eq(segment_id))
        .select(LineRow::as_select())
        .into_boxed();
    if let Some(id) = filter.contact_id {
        query = query.filter(segment_lines::contact_id.eq(id));
    }
    if let Some(id) = filter.company_id {
        query = query.filter(contacts::id.eq(id).or(contacts::company_id.eq(id)));
    }
    if let Some(t) = filter.correspondence_type {
        let expression = format!("({}) = ", effective::CORRESPONDENCE_TYPE);
        query = query.filter(sql::<Bool>(&expression).bind::<Text, _>(t));
    }
    match filter.has_email {
        Some(true) => query = query.filter(contacts::email.is_not_null()),
        Some(false) => query = query.filter(contacts::email.is_null()),
        None => {}
    }
    if let Some(after) = page.after {
        query = query.filter(segment_lines::id.gt(after));
    }
    if filter == &LineFilter::default() {
        // Unfiltered, the page is chosen from the live-lines index before anything is joined:
        // otherwise PostgreSQL joins every line after the cursor and sorts them for each page,
        // which made reading a large segment page by page (the CSV export) quadratic.
        let page_ids = sql::<Bool>(
            "segment_lines.id IN (SELECT l.id FROM segment_lines l \
             WHERE l.removed_by_action_id IS NULL AND l.segment_id = ",
        )
        .bind::<BigInt, _>(segment_id)
        .sql(" AND l.id > ")
        .bind::<BigInt, _>(page.after.unwrap_or(0))
        .sql(&format!(" ORDER BY l.id LIMIT {})", page.limit + 1));
        query = query.filter(page_ids);
    }
    let rows = query.order(segment_lines::id).limit(page.limit + 1).load(conn)?;
    let (rows, next) = into_page(rows, page, |r| r.id);
    Ok((responses(conn, rows)?, next))
}

/// The select list of `lines.csv`'s statement: `LineCsvRow`'s columns, over the line rows
/// (named `segment_lines`) and what `csv_joins_sql` joins to them.
pub fn csv_select_sql() -> String {
    let columns = [
        "segment_lines.id",
        "contacts.no",
        "contacts.name",
        "company.no",
        "company.name",
        "contacts.email",
        effective::DESCRIPTION,
        effective::SUBJECT,
        effective::TEMPLATE_CODE,
        effective::LANGUAGE_CODE,
        effective::CORRESPONDENCE_TYPE,
        effective::DATE,
        effective::SALESPERSON_CODE,
        effective::COST_CENTS,
        effective::DURATION_MIN,
        "segment_lines.personal_note",
        "segment_lines.evaluation",
        "segment_lines.attempt_failed",
        effective::DOCUMENT_KIND,
        &format!("{} IS NOT NULL", effective::LINE_DOCUMENT_ID),
        "contacts.privacy_blocked",
        &overridden_mask_sql(),
    ];
    format!("SELECT {}", columns.join(", "))
}

/// The joins and filter of `lines.csv`'s statement, up to the segment id it is for (then
/// `CSV_ORDER`). The benchmark runs the same pieces, unpaged, through the database's own CSV tool.
pub fn csv_joins_sql() -> String {
    format!(
        " JOIN segments ON segments.id = segment_lines.segment_id \
         JOIN contacts ON contacts.id = segment_lines.contact_id \
         LEFT JOIN contacts company ON company.id = contacts.company_id \
         LEFT JOIN interaction_templates ON {} \
         WHERE segment_lines.removed_by_action_id IS NULL AND segment_lines.segment_id = ",
        effective::TEMPLATE_JOIN,
    )
}

pub const CSV_ORDER: &str = " ORDER BY segment_lines.id";

/// A page of `lines.csv`: up to `limit` live lines after line `after`, in one statement, the
/// company joined. The page is chosen from the live-lines index before the joins, as
/// `list_lines` does.
pub fn csv_lines(
    conn: &mut Conn,
    segment_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<LineCsvRow>, ApiError> {
    let query = sql::<LineCsvSqlType>(&csv_select_sql())
        .sql(" FROM (SELECT * FROM segment_lines l WHERE l.removed_by_action_id IS NULL AND l.segment_id = ")
        .bind::<BigInt, _>(segment_id)
        .sql(" AND l.id > ")
        .bind::<BigInt, _>(after)
        .sql(" ORDER BY l.id LIMIT ")
        .bind::<BigInt, _>(limit)
        .sql(") segment_lines")
        .sql(&csv_joins_sql())
        .bind::<BigInt, _>(segment_id)
        .sql(CSV_ORDER);
    Ok(query.load(conn)?)
}

/// Adds the contacts' company no and name (one query).
fn responses(conn: &mut Conn, rows: Vec<LineRow>) -> Result<Vec<SegmentLineResponse>, ApiError> {
    let companies = companies_by_id(conn, rows.iter().filter_map(|r| r.contact_company_id))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let company = row.contact_company_id.and_then(|id| companies.get(&id).cloned());
            SegmentLineResponse::new(row, company)
        })
        .collect())
}

/// Adds one line per contact given, in order, with multi-row inserts; every contact must exist
/// and not be privacy blocked, else nothing is added.
pub fn add_lines(conn: &mut Conn, segment_id: i64, input: AddLines) -> Result<Vec<i64>, ApiError> {
    let (field, ids_or_nos) = match (input.contact_id, input.contact_ids, input.contact_nos) {
        (Some(id), None, None) => ("contact_id", Ok(vec![id])),
        (None, Some(ids), None) => ("contact_ids", Ok(ids)),
        (None, None, Some(nos)) => ("contact_nos", Err(nos)),
        _ => {
            return Err(ApiError::invalid_field(
                "contact_id",
                "invalid",
                "give exactly one of contact_id, contact_ids, contact_nos",
            ))
        }
    };
    let given = match &ids_or_nos {
        Ok(ids) => ids.len(),
        Err(nos) => nos.len(),
    };
    if given > MAX_LINES_PER_REQUEST {
        return Err(ApiError::invalid_field(
            field,
            "too_many",
            format!("at most {MAX_LINES_PER_REQUEST} contacts per request; criteria actions add more"),
        ));
    }
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let contact_ids = resolve_contacts(conn, field, ids_or_nos)?;
        if contact_ids.is_empty() {
            return Err(ApiError::invalid_field(field, "required", "no contacts given"));
        }

        let now = Utc::now().naive_utc();
        let rows: Vec<NewLine> = contact_ids
            .iter()
            .map(|&contact_id| NewLine {
                segment_id,
                contact_id,
                attempt_failed: false,
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let mut line_ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(5000) {
            // Multi-row VALUES does not compile through the MultiConnection enum.
            let ids: Vec<i64> = with_backend!(&mut *conn, |c| diesel::insert_into(segment_lines::table)
                .values(chunk)
                .returning(segment_lines::id)
                .get_results(c))?;
            line_ids.extend(ids);
        }
        record_line_change(conn, segment_id, line_ids.len() as i64)?;
        Ok(line_ids)
    })
}

/// Contact ids for the input, in order; 422 naming unknown or privacy-blocked contacts.
fn resolve_contacts(
    conn: &mut Conn,
    field: &str,
    input: Result<Vec<i64>, Vec<String>>,
) -> Result<Vec<i64>, ApiError> {
    let ids = match input {
        Ok(ids) => ids,
        Err(nos) => {
            let mut found: HashMap<String, i64> = HashMap::new();
            for chunk in nos.chunks(MAX_BINDS_PER_LIST) {
                found.extend(
                    contacts::table
                        .filter(contacts::no.eq_any(chunk))
                        .select((contacts::no, contacts::id))
                        .load::<(String, i64)>(conn)?,
                );
            }
            let unknown: Vec<&str> =
                nos.iter().filter(|no| !found.contains_key(*no)).map(String::as_str).collect();
            if !unknown.is_empty() {
                return Err(ApiError::invalid_field(
                    field,
                    "unknown_contact",
                    format!("no contacts with no {}", unknown.join(", ")),
                ));
            }
            nos.iter().filter_map(|no| found.get(no).copied()).collect()
        }
    };
    let unique: Vec<i64> = ids.iter().copied().collect::<HashSet<_>>().into_iter().collect();
    let mut blocked_by_id: HashMap<i64, bool> = HashMap::new();
    for chunk in unique.chunks(MAX_BINDS_PER_LIST) {
        // FOR SHARE on PostgreSQL: a concurrent write blocking a contact waits for this
        // transaction, or this one reads the blocked state it committed.
        macro_rules! query {
            () => {
                contacts::table
                    .filter(contacts::id.eq_any(chunk))
                    .select((contacts::id, contacts::privacy_blocked))
            };
        }
        blocked_by_id.extend(match conn {
            Conn::Postgresql(c) => query!().for_share().load::<(i64, bool)>(c)?,
            Conn::Sqlite(c) => query!().load::<(i64, bool)>(c)?,
        });
    }
    let mut unknown: Vec<i64> = unique.iter().copied().filter(|id| !blocked_by_id.contains_key(id)).collect();
    let mut blocked: Vec<i64> =
        unique.iter().copied().filter(|id| blocked_by_id.get(id) == Some(&true)).collect();
    unknown.sort_unstable();
    blocked.sort_unstable();
    let mut c = Checker::new();
    if !unknown.is_empty() {
        c.add(field, "unknown_contact", format!("no contacts with id {}", join(&unknown)));
    }
    if !blocked.is_empty() {
        c.add(
            field,
            "privacy_blocked",
            format!("privacy-blocked contacts cannot be added: {}", join(&blocked)),
        );
    }
    c.finish()?;
    Ok(ids)
}

fn join(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// Moves the line counter by `delta`, and the header's version with any line change: the
/// header shows the line count and totals, so its ETag must move with them.
fn record_line_change(conn: &mut Conn, segment_id: i64, delta: i64) -> Result<(), ApiError> {
    diesel::update(segments::table.find(segment_id).filter(segments::status.eq(SegmentStatus::Open)))
        .set((
            segments::no_of_lines.eq(segments::no_of_lines + delta),
            segments::version.eq(segments::version + 1),
            segments::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets or clears a line's overrides and its own fields.
pub fn update_line(
    conn: &mut Conn,
    segment_id: i64,
    line_id: i64,
    if_match: IfMatch,
    change: LinePatch,
) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let (before, version): (LineOverrides, i64) = segment_lines::table
            .filter(segment_lines::id.eq(line_id))
            .filter(segment_lines::segment_id.eq(segment_id))
            .filter(segment_lines::removed_by_action_id.is_null())
            .select((LineOverrides::as_select(), segment_lines::version))
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found(format!("line {line_id} of segment {segment_id}")))?;
        check_version(if_match, version)?;
        let mut line = before.clone();
        let mut c = Checker::new();
        line.apply(change, &mut c);
        line.check(&mut c);
        check_references(
            conn,
            &mut c,
            line.interaction_template_code.as_deref(),
            line.salesperson_code.as_deref(),
        )?;
        c.finish()?;
        if line == before {
            return Ok(());
        }
        diesel::update(segment_lines::table.find(line_id))
            .set((
                &line,
                segment_lines::version.eq(version + 1),
                segment_lines::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        record_line_change(conn, segment_id, 0)
    })
}

/// Deletes lines of one segment; 404 naming any id that is not a live line of it, and then
/// nothing is deleted.
pub fn delete_lines(conn: &mut Conn, segment_id: i64, line_ids: Vec<i64>) -> Result<usize, ApiError> {
    if line_ids.is_empty() {
        return Err(ApiError::invalid_field("line_ids", "required", "no line ids given"));
    }
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let wanted: Vec<i64> = line_ids.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        let mut deleted = 0;
        for chunk in wanted.chunks(MAX_BINDS_PER_LIST) {
            deleted += diesel::delete(
                segment_lines::table
                    .filter(segment_lines::segment_id.eq(segment_id))
                    .filter(segment_lines::removed_by_action_id.is_null())
                    .filter(segment_lines::id.eq_any(chunk)),
            )
            .execute(conn)?;
        }
        if deleted != wanted.len() {
            // Rolled back by the transaction: a partial delete never lands.
            return Err(ApiError::not_found(format!(
                "{} of the given lines are not lines of segment {segment_id}",
                wanted.len() - deleted
            )));
        }
        record_line_change(conn, segment_id, -(deleted as i64))?;
        Ok(deleted)
    })
}

/// Deletes one line; with `If-Match`, only at the version the client read.
pub fn delete_line(
    conn: &mut Conn,
    segment_id: i64,
    line_id: i64,
    if_match: IfMatch,
) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let version: Option<i64> = segment_lines::table
            .filter(segment_lines::id.eq(line_id))
            .filter(segment_lines::segment_id.eq(segment_id))
            .filter(segment_lines::removed_by_action_id.is_null())
            .select(segment_lines::version)
            .first(conn)
            .optional()?;
        let version =
            version.ok_or_else(|| ApiError::not_found(format!("line {line_id} of segment {segment_id}")))?;
        check_version(if_match, version)?;
        delete_lines(conn, segment_id, vec![line_id]).map(|_| ())
    })
}
