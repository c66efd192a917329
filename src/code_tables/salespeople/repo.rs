//! SQL of `salespeople`.

use chrono::Utc;
use diesel::prelude::*;

use super::model::{NewSalesperson, Salesperson, SalespersonChangeset, UpdateSalesperson};
use crate::code_tables::repo::{delete_unless_used, not_found};
use crate::db::schema::{contacts, salespeople, segment_lines, segments};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::http::conditional::{check_version, IfMatch};
use crate::http::pagination::{into_code_page, CodePageRequest};

const NOUN: &str = "salesperson";

/// One page of salespeople and the cursor of the next.
pub fn list(conn: &mut Conn, page: &CodePageRequest) -> Result<(Vec<Salesperson>, Option<String>), ApiError> {
    let mut query = salespeople::table
        .select(Salesperson::as_select())
        .order(salespeople::code)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(salespeople::code.gt(after));
    }
    let rows = query.load(conn)?;
    Ok(into_code_page(rows, page, |row| &row.code))
}

pub fn find(conn: &mut Conn, code: &str) -> Result<Salesperson, ApiError> {
    salespeople::table
        .find(code)
        .select(Salesperson::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(NOUN, code))
}

/// Inserts a salesperson at version 1; a taken code is a 409 `already-exists` naming `code`.
pub fn create(conn: &mut Conn, new: &NewSalesperson) -> Result<Salesperson, ApiError> {
    let now = Utc::now().naive_utc();
    Ok(diesel::insert_into(salespeople::table)
        .values((
            new,
            salespeople::version.eq(1_i64),
            salespeople::created_at.eq(now),
            salespeople::updated_at.eq(now),
        ))
        .returning(salespeople::all_columns)
        .get_result(conn)?)
}

/// Applies a PATCH in one write transaction: 404, then a stale `If-Match` (412), then the
/// body's faults (422). A change that alters nothing leaves the row, its `version` and
/// `updated_at` alone.
pub fn update(
    conn: &mut Conn,
    code: &str,
    if_match: IfMatch,
    change: UpdateSalesperson,
) -> Result<Salesperson, ApiError> {
    db::write_transaction(conn, |conn| {
        let row = lock(conn, code)?.ok_or_else(|| not_found(NOUN, code))?;
        check_version(if_match, row.version)?;
        let changes = change.validate()?;
        if !alters(&row, &changes) {
            return Ok(row);
        }
        Ok(diesel::update(salespeople::table.find(code))
            .set((
                &changes,
                salespeople::version.eq(row.version + 1),
                salespeople::updated_at.eq(Utc::now().naive_utc()),
            ))
            .returning(salespeople::all_columns)
            .get_result(conn)?)
    })
}

/// Whether `changes` would give some column of `row` another value.
fn alters(row: &Salesperson, changes: &SalespersonChangeset) -> bool {
    changes.name.as_ref().is_some_and(|name| *name != row.name)
        || changes.email.as_ref().is_some_and(|email| *email != row.email)
        || changes.phone.as_ref().is_some_and(|phone| *phone != row.phone)
}

pub fn delete(conn: &mut Conn, code: &str, if_match: IfMatch) -> Result<(), ApiError> {
    delete_unless_used(
        conn,
        NOUN,
        code,
        if_match,
        |conn| Ok(lock(conn, code)?.map(|row| row.version)),
        |conn| usages(conn, code),
        |conn| diesel::delete(salespeople::table.find(code)).execute(conn),
    )
}

/// Reads the row for a write, locking it on PostgreSQL so that the version checked is the
/// version written over (SQLite's `BEGIN IMMEDIATE` already excludes other writers).
fn lock(conn: &mut Conn, code: &str) -> QueryResult<Option<Salesperson>> {
    // `as_select` is typed by backend, so the query is spelled out per arm.
    macro_rules! query {
        () => {
            salespeople::table.find(code).select(Salesperson::as_select())
        };
    }
    match conn {
        Conn::Postgresql(c) => query!().for_update().first(c).optional(),
        Conn::Sqlite(c) => query!().first(c).optional(),
    }
}

/// The columns that still hold `code`.
fn usages(conn: &mut Conn, code: &str) -> QueryResult<Vec<&'static str>> {
    let in_contacts = contacts::table.filter(contacts::salesperson_code.eq(code));
    let in_segments = segments::table.filter(segments::salesperson_code.eq(code));
    let in_lines = segment_lines::table.filter(segment_lines::salesperson_code.eq(code));
    let mut places = Vec::new();
    if diesel::select(diesel::dsl::exists(in_contacts)).get_result(conn)? {
        places.push("contacts (contacts.salesperson_code)");
    }
    if diesel::select(diesel::dsl::exists(in_segments)).get_result(conn)? {
        places.push("segments (segments.salesperson_code)");
    }
    if diesel::select(diesel::dsl::exists(in_lines)).get_result(conn)? {
        places.push("segment lines (segment_lines.salesperson_code)");
    }
    Ok(places)
}
