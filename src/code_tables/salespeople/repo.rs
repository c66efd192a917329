//! SQL of `salespeople`.

use chrono::Utc;
use diesel::prelude::*;

use super::model::{NewSalesperson, Salesperson, SalespersonChangeset};
use crate::code_tables::repo::{delete_unless_used, not_found};
use crate::db::schema::{contacts, salespeople, segment_lines, segments};
use crate::db::Conn;
use crate::error::ApiError;
use crate::pagination::{into_code_page, CodePageRequest};

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

/// Inserts a salesperson; a taken code is a 409 `already-exists` naming `code`.
pub fn create(conn: &mut Conn, new: &NewSalesperson) -> Result<Salesperson, ApiError> {
    let now = Utc::now().naive_utc();
    Ok(diesel::insert_into(salespeople::table)
        .values((new, salespeople::created_at.eq(now), salespeople::updated_at.eq(now)))
        .returning(salespeople::all_columns)
        .get_result(conn)?)
}

pub fn update(conn: &mut Conn, code: &str, changes: &SalespersonChangeset) -> Result<Salesperson, ApiError> {
    diesel::update(salespeople::table.find(code))
        .set((changes, salespeople::updated_at.eq(Utc::now().naive_utc())))
        .returning(salespeople::all_columns)
        .get_result(conn)
        .optional()?
        .ok_or_else(|| not_found(NOUN, code))
}

pub fn delete(conn: &mut Conn, code: &str) -> Result<(), ApiError> {
    delete_unless_used(
        conn,
        NOUN,
        code,
        |conn| usages(conn, code),
        |conn| diesel::delete(salespeople::table.find(code)).execute(conn),
    )
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
