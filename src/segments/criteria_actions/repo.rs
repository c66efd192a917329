//! Criteria actions on a segment's lines: each one transaction of a handful of set-based
//! statements whatever the size, recorded so that undo reverts exactly what it did.
//!
//! Lines an action adds carry `added_by_action_id`; lines it removes are marked with
//! `removed_by_action_id` (hidden from every read) instead of being deleted, so undo deletes
//! the first and unmarks the second, restoring them with their values and overrides.

use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::model::{
    ActionPreview, ActionSpec, AffectedContact, CriteriaActionRow, RefreshResult, ReuseLoggedSegment,
    ReuseSkipped, UndoneAction,
};
use crate::criteria::selection::{
    add_selection, eligible, in_replayed_set, joining_selection, leaving_lines, line_matches, ActionOptions,
    ReplayStep, LINES_WITH_CONTACTS, NEW_LINE_ORDER,
};
use crate::db::schema::{criteria_actions, logged_segments, segment_lines, segments};
use crate::db::sql::SqlBuilder;
use crate::db::{self, Conn};
use crate::domain::{CriteriaActionKind, CriteriaActionSource};
use crate::error::ApiError;
use crate::http::pagination::{into_page, PageRequest};
use crate::metrics::METRICS;
use crate::saved_criteria::repo::saved_actions;
use crate::segments::repo::{open_segment, unlocked_open_segment};

/// Contacts shown in a preview or a refresh diff.
pub const PREVIEW_LIMIT: i64 = 50;

/// The columns of [`AffectedContact`] over `c` (the contact) and `co` (its company).
const AFFECTED_COLUMNS: &str =
    "SELECT c.id AS contact_id, c.no AS contact_no, c.name AS contact_name, c.contact_type, co.no AS company_no";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs one action on an open segment and records it.
pub fn run_action(
    conn: &mut Conn,
    segment_id: i64,
    spec: &ActionSpec,
    source: CriteriaActionSource,
    source_ref: Option<String>,
) -> Result<CriteriaActionRow, ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        apply_action(conn, segment_id, spec, source, source_ref)
    })
}

/// Replays saved criteria on an open segment, each saved action a normal, recorded action, all
/// in one transaction.
pub fn apply_saved_criteria(
    conn: &mut Conn,
    segment_id: i64,
    code: &str,
) -> Result<Vec<CriteriaActionRow>, ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let saved = saved_actions(conn, code).map_err(|e| match e {
            ApiError::NotFound(detail) => ApiError::invalid_field("code", "unknown_code", detail),
            other => other,
        })?;
        saved
            .into_iter()
            .map(|row| {
                let spec = ActionSpec::from_stored(row.action, &row.filter, &row.options)?;
                apply_action(
                    conn,
                    segment_id,
                    &spec,
                    CriteriaActionSource::SavedCriteria,
                    Some(code.to_owned()),
                )
            })
            .collect()
    })
}

/// Adds the contacts of a logged segment (one line each, in entry order) as one recorded,
/// undoable action; skips, and counts by reason, contacts now privacy blocked or excluded
/// (unless `ignore_exclusion`), canceled entries (unless `include_canceled`) and contacts
/// already in the segment.
pub fn reuse_logged_segment(
    conn: &mut Conn,
    segment_id: i64,
    request: &ReuseLoggedSegment,
) -> Result<(CriteriaActionRow, ReuseSkipped), ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let logged = request.logged_segment_id;
        let exists: bool =
            diesel::select(diesel::dsl::exists(logged_segments::table.find(logged))).get_result(conn)?;
        if !exists {
            return Err(ApiError::invalid_field(
                "logged_segment_id",
                "unknown",
                format!("no logged segment {logged}"),
            ));
        }
        // The logged segment's contacts, each with its first entry and whether all were canceled.
        let mut entries = SqlBuilder::for_conn(conn);
        entries.sql(
            "(SELECT contact_id, MIN(entry_no) AS first_entry, MIN(CASE WHEN canceled THEN 1 ELSE 0 END) AS all_canceled \
             FROM interaction_log_entries WHERE logged_segment_id = ",
        );
        entries.bind(logged.into()).sql(" GROUP BY contact_id) reused");
        let reason = |condition: &str| {
            let mut sql = SqlBuilder::new(entries.is_sqlite());
            sql.sql(" FROM ")
                .append(&entries)
                .sql(" JOIN contacts c ON c.id = reused.contact_id WHERE ")
                .sql(condition);
            sql
        };
        let already = "EXISTS (SELECT 1 FROM segment_lines held WHERE held.segment_id = ";
        let mut in_segment = reason(already);
        in_segment
            .bind(segment_id.into())
            .sql(" AND held.contact_id = c.id AND held.removed_by_action_id IS NULL)");
        let skipped = ReuseSkipped {
            canceled: if request.include_canceled {
                0
            } else {
                count_of(conn, &reason("reused.all_canceled = 1"))?
            },
            privacy_blocked: count_of(conn, &reason("c.privacy_blocked"))?,
            excluded: if request.ignore_exclusion {
                0
            } else {
                count_of(conn, &reason("c.exclude_from_segment"))?
            },
            already_in_segment: count_of(conn, &in_segment)?,
        };
        let options =
            ActionOptions { ignore_exclusion: request.ignore_exclusion, ..ActionOptions::default() };
        let action_id = record_action(
            conn,
            segment_id,
            CriteriaActionKind::Add,
            CriteriaActionSource::LoggedSegment,
            Some(logged.to_string()),
            None,
            options,
        )?;
        let mut selection = SqlBuilder::for_conn(conn);
        selection.sql(" FROM ").append(&entries);
        selection.sql(
            " JOIN contacts c ON c.id = reused.contact_id LEFT JOIN contacts co ON co.id = c.company_id",
        );
        selection.sql(" WHERE NOT c.privacy_blocked");
        if !request.include_canceled {
            selection.sql(" AND reused.all_canceled = 0");
        }
        eligible(&mut selection, options, segment_id);
        selection.sql(" ORDER BY reused.first_entry");
        let added = insert_lines_unordered(conn, segment_id, action_id, &selection)?;
        Ok((finish_action(conn, segment_id, action_id, added, 0)?, skipped))
    })
}

/// Applies an action inside the caller's transaction, which holds the open segment.
pub fn apply_action(
    conn: &mut Conn,
    segment_id: i64,
    spec: &ActionSpec,
    source: CriteriaActionSource,
    source_ref: Option<String>,
) -> Result<CriteriaActionRow, ApiError> {
    let _timer = METRICS.criteria_actions.with_label_values(&[spec.kind.as_str()]).start_timer();
    let filter = serde_json::to_string(&spec.filter).map_err(ApiError::internal)?;
    let action_id =
        record_action(conn, segment_id, spec.kind, source, source_ref, Some(filter), spec.options)?;
    let sqlite = db::is_sqlite(conn);
    let (added, removed) = match spec.kind {
        CriteriaActionKind::Add => {
            let selection = add_selection(&spec.filter, spec.options, segment_id, sqlite)?;
            (insert_lines(conn, segment_id, action_id, &selection)?, 0)
        }
        kind => {
            let matches = line_matches(&spec.filter, spec.options.entire_companies, sqlite)?;
            let condition = negated_if(kind == CriteriaActionKind::Refine, &matches);
            (0, mark_removed(conn, segment_id, action_id, &condition)?)
        }
    };
    finish_action(conn, segment_id, action_id, added, removed)
}

/// `NOT (...)` around a condition when `negate`.
fn negated_if(negate: bool, condition: &SqlBuilder) -> SqlBuilder {
    let mut sql = SqlBuilder::new(condition.is_sqlite());
    sql.sql(if negate { " AND NOT " } else { " AND " }).append(condition);
    sql
}

/// Inserts the action row with the next sequence number (the segment row is held, so the
/// number is free) and no counts yet.
fn record_action(
    conn: &mut Conn,
    segment_id: i64,
    kind: CriteriaActionKind,
    source: CriteriaActionSource,
    source_ref: Option<String>,
    filter: Option<String>,
    options: ActionOptions,
) -> Result<i64, ApiError> {
    let last: Option<i64> = criteria_actions::table
        .filter(criteria_actions::segment_id.eq(segment_id))
        .select(diesel::dsl::max(criteria_actions::seq))
        .first(conn)?;
    let options = serde_json::to_string(&options).map_err(ApiError::internal)?;
    Ok(diesel::insert_into(criteria_actions::table)
        .values((
            criteria_actions::segment_id.eq(segment_id),
            criteria_actions::seq.eq(last.unwrap_or(0) + 1),
            criteria_actions::action.eq(kind),
            criteria_actions::source.eq(source),
            criteria_actions::source_ref.eq(source_ref),
            criteria_actions::filter.eq(filter),
            criteria_actions::options.eq(options),
            criteria_actions::lines_added.eq(0),
            criteria_actions::lines_removed.eq(0),
            criteria_actions::created_at.eq(Utc::now().naive_utc()),
        ))
        .returning(criteria_actions::id)
        .get_result(conn)?)
}

/// One `INSERT ... SELECT` of new lines for the contacts of `selection`, in line order.
fn insert_lines(
    conn: &mut Conn,
    segment_id: i64,
    action_id: i64,
    selection: &SqlBuilder,
) -> Result<i64, ApiError> {
    let mut ordered = selection.clone();
    ordered.sql(NEW_LINE_ORDER);
    insert_lines_unordered(conn, segment_id, action_id, &ordered)
}

/// One `INSERT ... SELECT` of new lines for the contacts `c` of `selection`, in its own order.
fn insert_lines_unordered(
    conn: &mut Conn,
    segment_id: i64,
    action_id: i64,
    selection: &SqlBuilder,
) -> Result<i64, ApiError> {
    let now = Utc::now().naive_utc();
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(
        "INSERT INTO segment_lines (segment_id, contact_id, attempt_failed, added_by_action_id, version, \
         created_at, updated_at) SELECT ",
    );
    sql.bind(segment_id.into()).sql(", c.id, FALSE, ").bind(action_id.into()).sql(", 1, ");
    sql.bind(now.into()).sql(", ").bind(now.into());
    sql.append(selection);
    Ok(sql.execute(conn)? as i64)
}

/// One `UPDATE` marking the segment's live lines that meet `condition` as removed by the action.
fn mark_removed(
    conn: &mut Conn,
    segment_id: i64,
    action_id: i64,
    condition: &SqlBuilder,
) -> Result<i64, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql("UPDATE segment_lines SET removed_by_action_id = ").bind(action_id.into());
    sql.sql(" WHERE segment_lines.segment_id = ").bind(segment_id.into());
    sql.sql(" AND segment_lines.removed_by_action_id IS NULL").append(condition);
    Ok(sql.execute(conn)? as i64)
}

/// Writes the counts on the action and moves the header's counters and version.
fn finish_action(
    conn: &mut Conn,
    segment_id: i64,
    action_id: i64,
    added: i64,
    removed: i64,
) -> Result<CriteriaActionRow, ApiError> {
    diesel::update(segments::table.find(segment_id))
        .set((
            segments::no_of_lines.eq(segments::no_of_lines + added - removed),
            segments::no_of_criteria_actions.eq(segments::no_of_criteria_actions + 1),
            segments::version.eq(segments::version + 1),
            segments::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    diesel::update(criteria_actions::table.find(action_id))
        .set((criteria_actions::lines_added.eq(added), criteria_actions::lines_removed.eq(removed)))
        .execute(conn)?;
    Ok(criteria_actions::table.find(action_id).select(CriteriaActionRow::as_select()).first(conn)?)
}

/// Reverts the segment's last action exactly: deletes the lines it added that still exist,
/// restores the lines it removed, drops the action.
pub fn undo_last_action(conn: &mut Conn, segment_id: i64) -> Result<(CriteriaActionRow, i64, i64), ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let last = criteria_actions::table
            .filter(criteria_actions::segment_id.eq(segment_id))
            .order(criteria_actions::seq.desc())
            .select(CriteriaActionRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                ApiError::conflict(
                    "no-criteria-action",
                    format!("segment {segment_id} has no criteria action to undo"),
                )
            })?;
        let deleted =
            diesel::delete(segment_lines::table.filter(segment_lines::added_by_action_id.eq(last.id)))
                .execute(conn)?;
        let restored =
            diesel::update(segment_lines::table.filter(segment_lines::removed_by_action_id.eq(last.id)))
                .set(segment_lines::removed_by_action_id.eq(None::<i64>))
                .execute(conn)?;
        diesel::delete(criteria_actions::table.find(last.id)).execute(conn)?;
        let (deleted, restored) = (deleted as i64, restored as i64);
        diesel::update(segments::table.find(segment_id))
            .set((
                segments::no_of_lines.eq(segments::no_of_lines + restored - deleted),
                segments::no_of_criteria_actions.eq(segments::no_of_criteria_actions - 1),
                segments::version.eq(segments::version + 1),
                segments::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        Ok((last, deleted, restored))
    })
}

/// What [`undo_last_action`] did, as the wire answer.
pub fn undone(result: (CriteriaActionRow, i64, i64)) -> Result<UndoneAction, ApiError> {
    let (row, lines_deleted, lines_restored) = result;
    Ok(UndoneAction { action: row.try_into()?, lines_deleted, lines_restored })
}

/// The segment must exist; answers 404 otherwise.
fn require_segment(conn: &mut Conn, segment_id: i64) -> Result<(), ApiError> {
    let exists: bool =
        diesel::select(diesel::dsl::exists(segments::table.find(segment_id))).get_result(conn)?;
    exists.then_some(()).ok_or_else(|| ApiError::not_found(format!("segment {segment_id}")))
}

/// A page of the segment's actions in order.
pub fn list_actions(
    conn: &mut Conn,
    segment_id: i64,
    page: PageRequest,
) -> Result<(Vec<CriteriaActionRow>, Option<String>), ApiError> {
    require_segment(conn, segment_id)?;
    let mut query = criteria_actions::table
        .filter(criteria_actions::segment_id.eq(segment_id))
        .select(CriteriaActionRow::as_select())
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(criteria_actions::seq.gt(after));
    }
    let rows = query.order(criteria_actions::seq).limit(page.limit + 1).load(conn)?;
    Ok(into_page(rows, page, |r| r.seq))
}

pub fn get_action(conn: &mut Conn, segment_id: i64, action_id: i64) -> Result<CriteriaActionRow, ApiError> {
    criteria_actions::table
        .filter(criteria_actions::segment_id.eq(segment_id))
        .filter(criteria_actions::id.eq(action_id))
        .select(CriteriaActionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("criteria action {action_id} of segment {segment_id}")))
}

/// Counts what an action would add or remove and shows the first contacts: one counting query
/// and one page query, nothing written.
pub fn preview_action(
    conn: &mut Conn,
    segment_id: i64,
    spec: &ActionSpec,
) -> Result<ActionPreview, ApiError> {
    unlocked_open_segment(conn, segment_id)?;
    let sqlite = db::is_sqlite(conn);
    let (count, contacts) = match spec.kind {
        CriteriaActionKind::Add => {
            let selection = add_selection(&spec.filter, spec.options, segment_id, sqlite)?;
            (count_of(conn, &selection)?, first_contacts(conn, &selection, NEW_LINE_ORDER)?)
        }
        kind => {
            let matches = line_matches(&spec.filter, spec.options.entire_companies, sqlite)?;
            let lines =
                live_lines_where(segment_id, &negated_if(kind == CriteriaActionKind::Refine, &matches));
            (count_of(conn, &lines)?, first_contacts(conn, &lines, LINE_ORDER)?)
        }
    };
    let (lines_added, lines_removed) =
        if spec.kind == CriteriaActionKind::Add { (count, 0) } else { (0, count) };
    Ok(ActionPreview { action: spec.kind, lines_added, lines_removed, contacts })
}

/// Existing lines are shown in their own order.
const LINE_ORDER: &str = " ORDER BY segment_lines.id";

/// `FROM segment_lines JOIN contacts c ... WHERE <live line of the segment> <condition>`.
fn live_lines_where(segment_id: i64, condition: &SqlBuilder) -> SqlBuilder {
    let mut sql = SqlBuilder::new(condition.is_sqlite());
    sql.sql(LINES_WITH_CONTACTS).sql(" WHERE segment_lines.segment_id = ").bind(segment_id.into());
    sql.sql(" AND segment_lines.removed_by_action_id IS NULL").append(condition);
    sql
}

fn count_of(conn: &mut Conn, from_where: &SqlBuilder) -> Result<i64, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql("SELECT count(*) AS n").append(from_where);
    Ok(sql.load::<Count>(conn)?.first().map_or(0, |c| c.n))
}

fn first_contacts(
    conn: &mut Conn,
    from_where: &SqlBuilder,
    order: &str,
) -> Result<Vec<AffectedContact>, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(AFFECTED_COLUMNS).append(from_where).sql(order).sql(&format!(" LIMIT {PREVIEW_LIMIT}"));
    Ok(sql.load(conn)?)
}

/// The steps of the segment's own filter-based actions, for a replay.
fn own_steps(conn: &mut Conn, segment_id: i64) -> Result<Vec<ActionSpec>, ApiError> {
    let rows: Vec<CriteriaActionRow> = criteria_actions::table
        .filter(criteria_actions::segment_id.eq(segment_id))
        .filter(
            criteria_actions::source
                .eq_any([CriteriaActionSource::Filter, CriteriaActionSource::SavedCriteria]),
        )
        .order(criteria_actions::seq)
        .select(CriteriaActionRow::as_select())
        .load(conn)?;
    rows.iter()
        .filter_map(|row| Some(ActionSpec::from_stored(row.action, row.filter.as_deref()?, &row.options)))
        .collect()
}

/// Replays the segment's own actions on today's contacts: who would join and whose lines would
/// leave (never lines added by hand or from a logged segment). Unless `dry_run`, applies the
/// difference as one recorded, undoable action that leaves staying lines untouched: one
/// `INSERT ... SELECT` and one `UPDATE`, whose first pages are then read back by the action's
/// marks (indexed) instead of computing the difference a second time.
pub fn refresh(conn: &mut Conn, segment_id: i64, dry_run: bool) -> Result<RefreshResult, ApiError> {
    db::write_transaction(conn, |conn| {
        open_segment(conn, segment_id)?;
        let sqlite = db::is_sqlite(conn);
        let steps = own_steps(conn, segment_id)?;
        let replay: Vec<ReplayStep<'_>> = steps
            .iter()
            .map(|spec| ReplayStep { kind: spec.kind, filter: &spec.filter, options: spec.options })
            .collect();
        let in_set = in_replayed_set(&replay, sqlite)?;
        let joining = joining_selection(&in_set, segment_id);
        let leaving = leaving_lines(&in_set, segment_id);
        if dry_run {
            return Ok(RefreshResult {
                joining: count_of(conn, &joining)?,
                joining_contacts: first_contacts(conn, &joining, NEW_LINE_ORDER)?,
                leaving: count_of(conn, &leaving)?,
                leaving_contacts: first_contacts(conn, &leaving, LINE_ORDER)?,
                action: None,
            });
        }
        let action_id = record_action(
            conn,
            segment_id,
            CriteriaActionKind::Refresh,
            CriteriaActionSource::Refresh,
            None,
            None,
            ActionOptions::default(),
        )?;
        let mut mark = SqlBuilder::new(sqlite);
        mark.sql("UPDATE segment_lines SET removed_by_action_id = ").bind(action_id.into());
        mark.sql(" WHERE segment_lines.id IN (SELECT segment_lines.id").append(&leaving).sql(")");
        let removed = mark.execute(conn)? as i64;
        let added = insert_lines(conn, segment_id, action_id, &joining)?;
        let marked_by = |column: &str| {
            let mut sql = SqlBuilder::new(sqlite);
            sql.sql(LINES_WITH_CONTACTS)
                .sql(" WHERE segment_lines.")
                .sql(column)
                .sql(" = ")
                .bind(action_id.into());
            sql
        };
        let row = finish_action(conn, segment_id, action_id, added, removed)?;
        Ok(RefreshResult {
            joining: added,
            joining_contacts: first_contacts(conn, &marked_by("added_by_action_id"), LINE_ORDER)?,
            leaving: removed,
            leaving_contacts: first_contacts(conn, &marked_by("removed_by_action_id"), LINE_ORDER)?,
            action: Some(row.try_into()?),
        })
    })
}
