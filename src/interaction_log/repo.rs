//! Reads and the few permitted changes of interaction log entries.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{EntryChanges, EntryPatch, EntryRow};
use crate::db::schema::{entry_deliveries as deliveries, interaction_log_entries as entries};
use crate::db::{self, Conn};
use crate::domain::patch;
use crate::domain::validation::Checker;
use crate::domain::{CorrespondenceType, DeliveryStatus, Evaluation};
use crate::error::ApiError;
use crate::http::pagination::{into_page, PageRequest};

/// Filters of the entry list (SPEC 4.2).
#[derive(Debug, Default, Clone)]
pub struct EntryFilter {
    pub contact_id: Option<i64>,
    /// The contact's company no as copied at logging time (a company's own entries included).
    pub company_no: Option<String>,
    pub interaction_template_code: Option<String>,
    pub interaction_group_code: Option<String>,
    pub segment_no: Option<String>,
    pub logged_segment_id: Option<i64>,
    pub salesperson_code: Option<String>,
    pub user: Option<String>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub evaluation: Option<Evaluation>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub delivery_status: Option<DeliveryStatus>,
    pub canceled: Option<bool>,
}

pub fn list_entries(
    conn: &mut Conn,
    filter: &EntryFilter,
    page: PageRequest,
) -> Result<(Vec<EntryRow>, Option<String>), ApiError> {
    let mut query = entries::table.select(EntryRow::as_select()).into_boxed();
    if let Some(v) = filter.contact_id {
        query = query.filter(entries::contact_id.eq(v));
    }
    if let Some(v) = filter.company_no.clone() {
        query = query.filter(entries::contact_company_no.eq(v.clone()).or(entries::contact_no.eq(v)));
    }
    if let Some(v) = filter.interaction_template_code.clone() {
        query = query.filter(entries::interaction_template_code.eq(v));
    }
    if let Some(v) = filter.interaction_group_code.clone() {
        query = query.filter(entries::interaction_group_code.eq(v));
    }
    if let Some(v) = filter.segment_no.clone() {
        query = query.filter(entries::segment_no.eq(v));
    }
    if let Some(v) = filter.logged_segment_id {
        query = query.filter(entries::logged_segment_id.eq(v));
    }
    if let Some(v) = filter.salesperson_code.clone() {
        query = query.filter(entries::salesperson_code.eq(v));
    }
    if let Some(v) = filter.user.clone() {
        query = query.filter(entries::user_name.eq(v));
    }
    if let Some(v) = filter.date_from {
        query = query.filter(entries::date.ge(v));
    }
    if let Some(v) = filter.date_to {
        query = query.filter(entries::date.le(v));
    }
    if let Some(v) = filter.evaluation {
        query = query.filter(entries::evaluation.eq(v));
    }
    if let Some(v) = filter.correspondence_type {
        query = query.filter(entries::correspondence_type.eq(v));
    }
    if let Some(v) = filter.delivery_status {
        query = query.filter(entries::delivery_status.eq(v));
    }
    if let Some(v) = filter.canceled {
        query = query.filter(entries::canceled.eq(v));
    }
    if let Some(after) = page.after {
        query = query.filter(entries::id.gt(after));
    }
    let rows = query.order(entries::id).limit(page.limit + 1).load(conn)?;
    Ok(into_page(rows, page, |r| r.id))
}

pub fn get_entry(conn: &mut Conn, id: i64) -> Result<EntryRow, ApiError> {
    entries::table
        .find(id)
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("interaction log entry {id}")))
}

/// Changes what may change after logging: evaluation, attempt failed, comment, canceled.
pub fn update_entry(conn: &mut Conn, id: i64, change: EntryPatch) -> Result<EntryRow, ApiError> {
    db::write_transaction(conn, |conn| {
        let row = get_entry(conn, id)?;
        let mut changes = EntryChanges {
            evaluation: row.evaluation,
            attempt_failed: row.attempt_failed,
            comment: row.comment.clone(),
            canceled: row.canceled,
        };
        let mut c = Checker::new();
        patch::apply(&mut changes.evaluation, change.evaluation);
        patch::apply(&mut changes.comment, change.comment);
        patch::apply_required(&mut c, "attempt_failed", &mut changes.attempt_failed, change.attempt_failed);
        patch::apply_required(&mut c, "canceled", &mut changes.canceled, change.canceled);
        c.max_len("comment", changes.comment.as_deref(), 250);
        c.finish()?;
        diesel::update(entries::table.find(id)).set(&changes).execute(conn)?;
        get_entry(conn, id)
    })
}

/// Deletes a canceled entry; the log is the record, so a live one is 409.
pub fn delete_entry(conn: &mut Conn, id: i64) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let row = get_entry(conn, id)?;
        if !row.canceled {
            return Err(ApiError::conflict(
                "entry-not-canceled",
                format!("interaction log entry {} is not canceled; cancel it first", row.entry_no),
            ));
        }
        diesel::delete(entries::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Queues a failed delivery again, due now, with its attempts counted afresh (409
/// `entry-not-failed` for any other status: a pending one is queued already, a sent one was sent).
pub fn resend(conn: &mut Conn, id: i64) -> Result<EntryRow, ApiError> {
    db::write_transaction(conn, |conn| {
        let row = get_entry(conn, id)?;
        // The status guard in the write itself: a worker may be recording a result right now.
        let requeued = diesel::update(
            entries::table.find(id).filter(entries::delivery_status.eq(DeliveryStatus::Failed)),
        )
        .set(entries::delivery_status.eq(DeliveryStatus::Pending))
        .execute(conn)?;
        if requeued == 0 {
            return Err(ApiError::conflict(
                "entry-not-failed",
                format!(
                    "interaction log entry {} is {}; only a failed delivery can be resent",
                    row.entry_no,
                    row.delivery_status.as_str()
                ),
            ));
        }
        diesel::update(deliveries::table.find(id))
            .set((
                deliveries::attempts.eq(0_i64),
                deliveries::last_error.eq(None::<String>),
                deliveries::due_at.eq(Some(Utc::now().naive_utc())),
            ))
            .execute(conn)?;
        get_entry(conn, id)
    })
}
