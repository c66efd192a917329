//! Logged segments: reads, and cancel / restore of a logged segment with all its entries.

use diesel::prelude::*;

use super::model::LoggedSegmentRow;
use crate::db::schema::{interaction_log_entries, logged_segments};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::http::pagination::{into_page, PageRequest};

/// Filters of the logged-segment list.
#[derive(Debug, Default, Clone)]
pub struct LoggedSegmentFilter {
    pub segment_no: Option<String>,
    pub user: Option<String>,
    pub canceled: Option<bool>,
    /// Logged on or after this day (UTC).
    pub date_from: Option<chrono::NaiveDate>,
    /// Logged on or before this day (UTC).
    pub date_to: Option<chrono::NaiveDate>,
}

pub fn get_logged_segment(conn: &mut Conn, id: i64) -> Result<LoggedSegmentRow, ApiError> {
    logged_segments::table
        .find(id)
        .select(LoggedSegmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("logged segment {id}")))
}

pub fn list_logged_segments(
    conn: &mut Conn,
    filter: &LoggedSegmentFilter,
    page: PageRequest,
) -> Result<(Vec<LoggedSegmentRow>, Option<String>), ApiError> {
    let mut query = logged_segments::table.select(LoggedSegmentRow::as_select()).into_boxed();
    if let Some(v) = filter.segment_no.clone() {
        query = query.filter(logged_segments::segment_no.eq(v));
    }
    if let Some(v) = filter.user.clone() {
        query = query.filter(logged_segments::user_name.eq(v));
    }
    if let Some(v) = filter.canceled {
        query = query.filter(logged_segments::canceled.eq(v));
    }
    if let Some(day) = filter.date_from {
        query = query.filter(logged_segments::created_at.ge(day.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(next_day) = filter.date_to.and_then(|d| d.succ_opt()) {
        query = query.filter(logged_segments::created_at.lt(next_day.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(after) = page.after {
        query = query.filter(logged_segments::id.gt(after));
    }
    let rows = query.order(logged_segments::id).limit(page.limit + 1).load(conn)?;
    Ok(into_page(rows, page, |r| r.id))
}

/// Sets `canceled` on the logged segment and all its entries, one statement each, in one
/// transaction; setting it to what it already is changes nothing.
pub fn set_canceled(conn: &mut Conn, id: i64, canceled: bool) -> Result<LoggedSegmentRow, ApiError> {
    db::write_transaction(conn, |conn| {
        get_logged_segment(conn, id)?;
        diesel::update(logged_segments::table.find(id))
            .set(logged_segments::canceled.eq(canceled))
            .execute(conn)?;
        diesel::update(
            interaction_log_entries::table.filter(interaction_log_entries::logged_segment_id.eq(id)),
        )
        .set(interaction_log_entries::canceled.eq(canceled))
        .execute(conn)?;
        get_logged_segment(conn, id)
    })
}
