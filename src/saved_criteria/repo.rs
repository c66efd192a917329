//! Storage of saved criteria: copied from a segment's actions with one `INSERT ... SELECT`.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;

use super::model::{CreateSavedCriteria, SavedActionRow, SavedCriteriaRow};
use crate::db::schema::{saved_criteria, saved_criteria_actions, segments};
use crate::db::sql::{BindValue, SqlBuilder};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::http::pagination::{into_code_page, CodePageRequest};

/// Saved criteria and their actions in order.
pub type SavedCriteriaWithActions = (SavedCriteriaRow, Vec<SavedActionRow>);

fn not_found(code: &str) -> ApiError {
    ApiError::not_found(format!("saved criteria {code}"))
}

/// Saves the segment's filter actions (sent by a client or replayed from saved criteria; not
/// refreshes or reused logged segments) in order under a new code.
pub fn create_saved_criteria(conn: &mut Conn, input: &CreateSavedCriteria) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let exists: bool =
            diesel::select(diesel::dsl::exists(segments::table.find(input.segment_id))).get_result(conn)?;
        if !exists {
            return Err(ApiError::invalid_field(
                "segment_id",
                "unknown_segment",
                format!("no segment {}", input.segment_id),
            ));
        }
        let now = Utc::now().naive_utc();
        diesel::insert_into(saved_criteria::table)
            .values((
                saved_criteria::code.eq(&input.code),
                saved_criteria::description.eq(input.description.trim()),
                saved_criteria::created_at.eq(now),
                saved_criteria::updated_at.eq(now),
            ))
            .execute(conn)?;
        let mut copy = SqlBuilder::for_conn(conn);
        copy.sql(
            "INSERT INTO saved_criteria_actions (saved_criteria_code, seq, action, filter, options) SELECT ",
        );
        copy.bind(BindValue::Text(input.code.clone()));
        copy.sql(
            ", a.seq, a.action, a.filter, a.options FROM criteria_actions a WHERE a.source IN ('filter', 'saved_criteria') \
             AND a.filter IS NOT NULL AND a.segment_id = ",
        );
        copy.bind(input.segment_id.into());
        if copy.execute(conn)? == 0 {
            return Err(ApiError::invalid_field(
                "segment_id",
                "no_criteria",
                format!("segment {} has no criteria actions with a filter to save", input.segment_id),
            ));
        }
        Ok(())
    })
}

/// The saved criteria with this code and its actions in order.
pub fn get_saved_criteria(
    conn: &mut Conn,
    code: &str,
) -> Result<(SavedCriteriaRow, Vec<SavedActionRow>), ApiError> {
    let row = saved_criteria::table
        .find(code)
        .select(SavedCriteriaRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(code))?;
    Ok((row, saved_actions(conn, code)?))
}

/// The actions of saved criteria, in order; 404 when the code is unknown.
pub fn saved_actions(conn: &mut Conn, code: &str) -> Result<Vec<SavedActionRow>, ApiError> {
    let exists: bool =
        diesel::select(diesel::dsl::exists(saved_criteria::table.find(code))).get_result(conn)?;
    if !exists {
        return Err(not_found(code));
    }
    Ok(saved_criteria_actions::table
        .filter(saved_criteria_actions::saved_criteria_code.eq(code))
        .order(saved_criteria_actions::seq)
        .select(SavedActionRow::as_select())
        .load(conn)?)
}

/// A page of saved criteria by code, each with its actions (one query for all of them).
pub fn list_saved_criteria(
    conn: &mut Conn,
    page: &CodePageRequest,
) -> Result<(Vec<SavedCriteriaWithActions>, Option<String>), ApiError> {
    let mut query = saved_criteria::table.select(SavedCriteriaRow::as_select()).into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(saved_criteria::code.gt(after.clone()));
    }
    let rows = query.order(saved_criteria::code).limit(page.limit + 1).load(conn)?;
    let (rows, next) = into_code_page(rows, page, |r| &r.code);
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let mut actions: HashMap<String, Vec<SavedActionRow>> = HashMap::new();
    for action in saved_criteria_actions::table
        .filter(saved_criteria_actions::saved_criteria_code.eq_any(&codes))
        .order((saved_criteria_actions::saved_criteria_code, saved_criteria_actions::seq))
        .select(SavedActionRow::as_select())
        .load(conn)?
    {
        actions.entry(action.saved_criteria_code.clone()).or_default().push(action);
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let own = actions.remove(&row.code).unwrap_or_default();
            (row, own)
        })
        .collect();
    Ok((items, next))
}

pub fn delete_saved_criteria(conn: &mut Conn, code: &str) -> Result<(), ApiError> {
    match diesel::delete(saved_criteria::table.find(code)).execute(conn)? {
        0 => Err(not_found(code)),
        _ => Ok(()),
    }
}
