//! The outbox's SQL: claiming due deliveries and recording what became of each.
//!
//! On PostgreSQL a claim is `FOR UPDATE SKIP LOCKED` inside the worker's batch transaction, so
//! workers of several processes never hold the same row, and a process that dies mid-batch
//! releases its rows with its connection: they are sent again (at least once, with the same
//! `Message-ID`), at most one batch of them. SQLite serves one process with one worker.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::schema::{entry_deliveries as deliveries, interaction_log_entries as entries};
use crate::db::sql::SqlBuilder;
use crate::db::Conn;
use crate::domain::DeliveryStatus;
use crate::error::ApiError;

/// A due delivery: the entry and what its message needs besides the document.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = BigInt)]
    pub entry_id: i64,
    #[diesel(sql_type = BigInt)]
    pub entry_no: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub correspondence_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub subject: Option<String>,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = BigInt)]
    pub attempts: i64,
}

/// Claims up to `batch` deliveries due at `now`, oldest first. On PostgreSQL call it inside
/// the transaction that records their outcomes: the rows stay locked until it ends.
pub fn claim(conn: &mut Conn, batch: i64, now: NaiveDateTime) -> Result<Vec<Due>, ApiError> {
    let mut sql = SqlBuilder::for_conn(conn);
    sql.sql(
        "SELECT d.entry_id, e.entry_no, e.correspondence_type, e.subject, e.description, d.attempts \
         FROM entry_deliveries d JOIN interaction_log_entries e ON e.id = d.entry_id \
         WHERE d.due_at IS NOT NULL AND d.due_at <= ",
    );
    sql.bind(now.into()).sql(&format!(" ORDER BY d.due_at, d.entry_id LIMIT {batch}"));
    if matches!(conn, Conn::Postgresql(_)) {
        sql.sql(" FOR UPDATE OF d SKIP LOCKED");
    }
    Ok(sql.load::<Due>(conn)?)
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    /// Worth another try later (a connection fault, an SMTP 4xx).
    Transient(String),
    /// Not worth another try (an SMTP 5xx, a document that cannot be merged).
    Permanent(String),
}

/// How retries are spaced: `base`, doubling with each attempt up to an hour, and at most
/// `max_attempts` attempts before the delivery fails.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: std::time::Duration,
    pub max_attempts: i64,
}

impl RetryPolicy {
    /// The wait after the `attempt`-th attempt failed.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let factor = 1_u32 << attempt.clamp(1, 20).saturating_sub(1);
        let wait = self.base.saturating_mul(factor).min(std::time::Duration::from_secs(3600));
        Duration::from_std(wait).unwrap_or(Duration::hours(1))
    }
}

/// Records that these deliveries were sent, in two statements whatever their number.
pub fn record_sent(conn: &mut Conn, entry_ids: &[i64], now: NaiveDateTime) -> Result<(), ApiError> {
    if entry_ids.is_empty() {
        return Ok(());
    }
    diesel::update(entries::table.filter(entries::id.eq_any(entry_ids)))
        .set(entries::delivery_status.eq(DeliveryStatus::Sent))
        .execute(conn)?;
    diesel::update(deliveries::table.filter(deliveries::entry_id.eq_any(entry_ids)))
        .set((
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::last_error.eq(None::<String>),
            deliveries::due_at.eq(None::<NaiveDateTime>),
            deliveries::sent_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records an attempt's outcome on the entry (`delivery_status`) and its delivery row; answers
/// the status it set (`pending` again for a retry).
pub fn record(
    conn: &mut Conn,
    due: &Due,
    outcome: &Outcome,
    policy: RetryPolicy,
    now: NaiveDateTime,
) -> Result<DeliveryStatus, ApiError> {
    let attempts = due.attempts + 1;
    let (status, error, due_at, sent_at) = match outcome {
        Outcome::Sent => (DeliveryStatus::Sent, None, None, Some(now)),
        Outcome::Transient(e) if attempts < policy.max_attempts => {
            (DeliveryStatus::Pending, Some(e.clone()), Some(now + policy.backoff(attempts)), None)
        }
        Outcome::Transient(e) => {
            (DeliveryStatus::Failed, Some(format!("{e} (gave up after {attempts} attempts)")), None, None)
        }
        Outcome::Permanent(e) => (DeliveryStatus::Failed, Some(e.clone()), None, None),
    };
    diesel::update(entries::table.find(due.entry_id))
        .set(entries::delivery_status.eq(status))
        .execute(conn)?;
    diesel::update(deliveries::table.find(due.entry_id))
        .set((
            deliveries::attempts.eq(attempts),
            deliveries::last_error.eq(error),
            deliveries::due_at.eq(due_at),
            deliveries::sent_at.eq(sent_at),
        ))
        .execute(conn)?;
    Ok(status)
}

/// How many deliveries the outbox holds: due (pending, now or after a backoff) and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    pub due: i64,
    pub failed: i64,
}

/// The outbox's depth, counted on its partial indexes (the outbox's due time, the failed
/// entries'), so a scrape costs the backlog, not the log.
pub fn depth(conn: &mut Conn) -> Result<Depth, ApiError> {
    let due = deliveries::table.filter(deliveries::due_at.is_not_null()).count().get_result(conn)?;
    let failed = entries::table
        .filter(entries::delivery_status.eq(DeliveryStatus::Failed))
        .count()
        .get_result(conn)?;
    Ok(Depth { due, failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let policy = RetryPolicy { base: std::time::Duration::from_secs(30), max_attempts: 5 };
        let waits: Vec<i64> = (1..=4).map(|a| policy.backoff(a).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240]);
        assert_eq!(policy.backoff(40).num_seconds(), 3600);
    }
}
