//! Number series (`CT000001`, `SEG00001`, ...): a counter row bumped in the caller's transaction,
//! so numbers are never duplicated and a rolled-back insert gives its numbers back.

use diesel::prelude::*;

use crate::db::schema::number_series;
use crate::db::Conn;
use crate::error::ApiError;

pub const CONTACT: &str = "contact";
pub const SEGMENT: &str = "segment";
pub const LOGGED_SEGMENT: &str = "logged_segment";

/// Reserves `count` consecutive numbers. Must run inside a write transaction: the row update
/// holds the series until commit, which serialises concurrent callers on both backends.
fn reserve(conn: &mut Conn, series: &str, count: usize) -> Result<Vec<String>, ApiError> {
    let (prefix, width, last): (String, i32, i64) = diesel::update(number_series::table.find(series))
        .set(number_series::last_no.eq(number_series::last_no + count as i64))
        .returning((number_series::prefix, number_series::width, number_series::last_no))
        .get_result(conn)?;
    let first = last - count as i64 + 1;
    Ok((first..=last).map(|n| format!("{prefix}{n:0width$}", width = width as usize)).collect())
}

/// Assigns `count` numbers that `taken` reports as unused, skipping numbers a client chose by
/// hand (a manual `CT000007` must not make the series fail later).
pub fn assign(
    conn: &mut Conn,
    series: &str,
    count: usize,
    mut taken: impl FnMut(&mut Conn, &[String]) -> Result<Vec<String>, ApiError>,
) -> Result<Vec<String>, ApiError> {
    let mut assigned = Vec::with_capacity(count);
    while assigned.len() < count {
        let candidates = reserve(conn, series, count - assigned.len())?;
        let clashes = taken(conn, &candidates)?;
        assigned.extend(candidates.into_iter().filter(|no| !clashes.contains(no)));
    }
    Ok(assigned)
}

/// The series of interaction log entry numbers (plain integers).
pub const INTERACTION_LOG_ENTRY: &str = "interaction_log_entry";

/// Reserves `count` consecutive plain numbers of `series`; answers the one before the first,
/// so that rows can take `base + ROW_NUMBER()` in one `INSERT ... SELECT`.
pub fn reserve_block(conn: &mut Conn, series: &str, count: i64) -> Result<i64, ApiError> {
    let last: i64 = diesel::update(number_series::table.find(series))
        .set(number_series::last_no.eq(number_series::last_no + count))
        .returning(number_series::last_no)
        .get_result(conn)?;
    Ok(last - count)
}

/// The next number of `series` as text (`LSEG00001`); inside the caller's write transaction.
pub fn next(conn: &mut Conn, series: &str) -> Result<String, ApiError> {
    reserve(conn, series, 1)?.pop().ok_or_else(|| ApiError::internal("a number series reserved nothing"))
}
