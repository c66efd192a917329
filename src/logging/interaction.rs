//! Logging one interaction with one contact by hand (Business Central's "Log Interaction" on a
//! contact): no segment and no logged segment, but the same defaults and rules as a segment
//! line, because the entry is written by the same statement (`write_entries`) from a one-row
//! line whose header supplies what a segment header would: the template's description and the
//! contact's salesperson.

use chrono::Utc;
use diesel::prelude::*;

use super::{write_entries, EntryTarget, ENTRY_JOINS};
use crate::db::schema::{contacts, interaction_log_entries as entries};
use crate::db::sql::{BindValue, SqlBuilder};
use crate::db::{self, Conn};
use crate::domain::validation::Checker;
use crate::error::ApiError;
use crate::interaction_log::model::NewInteraction;
use crate::segments::effective;
use crate::segments::repo::check_references;

/// Logs `input` for `user` (the API key's name); answers the new entry's id.
pub fn log_interaction(conn: &mut Conn, input: &NewInteraction, user: &str) -> Result<i64, ApiError> {
    db::write_transaction(conn, |conn| {
        check(conn, input)?;
        let target = EntryTarget {
            segment_no: None,
            logged_segment_id: None,
            user,
            deliver: false,
            comment: input.comment.as_deref(),
            now: Utc::now().naive_utc(),
        };
        let (entry_no, written) = write_entries(conn, &target, 1, |sql| one_line(sql, input))?;
        if written != 1 {
            return Err(ApiError::internal(format!("logging one interaction wrote {written} entries")));
        }
        Ok(entries::table.filter(entries::entry_no.eq(entry_no)).select(entries::id).first(conn)?)
    })
}

/// Every fault at once, nothing written: bounds, and a contact and codes that exist; a
/// privacy-blocked contact is not logged, as in a segment.
fn check(conn: &mut Conn, input: &NewInteraction) -> Result<(), ApiError> {
    let mut c = Checker::new();
    c.max_len("description", input.description.as_deref(), 100);
    c.max_len("subject", input.subject.as_deref(), 100);
    c.max_len("comment", input.comment.as_deref(), 250);
    c.max_len("language_code", input.language_code.as_deref(), 10);
    c.date("date", input.date);
    c.amount("cost", input.cost.map(|m| m.0));
    c.minutes("duration_min", input.duration_min);
    let blocked: Option<bool> =
        contacts::table.find(input.contact_id).select(contacts::privacy_blocked).first(conn).optional()?;
    match blocked {
        None => c.add("contact_id", "unknown_contact", format!("no contact {}", input.contact_id)),
        Some(true) => c.add("contact_id", "privacy_blocked", "the contact is privacy blocked"),
        Some(false) => {}
    }
    check_references(
        conn,
        &mut c,
        Some(&input.interaction_template_code),
        input.salesperson_code.as_deref(),
    )?;
    c.finish()
}

/// `FROM` a one-row line holding the request's values (NULL where it says nothing) and a
/// one-row header holding the defaults, named as `write_entries` expects.
fn one_line(sql: &mut SqlBuilder, input: &NewInteraction) {
    let text = |v: &Option<String>| v.clone().map(BindValue::Text);
    let date = input.date.unwrap_or_else(|| Utc::now().date_naive());
    sql.sql(" FROM (SELECT CAST(0 AS BIGINT) AS id, ").bind(input.contact_id.into()).sql(" AS contact_id, ");
    sql.bind_or_null(text(&input.description), "TEXT").sql(" AS description, ");
    sql.bind_or_null(text(&input.subject), "TEXT").sql(" AS subject, ");
    sql.bind(BindValue::Text(input.interaction_template_code.clone())).sql(" AS interaction_template_code, ");
    sql.bind_or_null(text(&input.language_code), "TEXT").sql(" AS language_code, ");
    let correspondence = input.correspondence_type.map(|t| BindValue::Text(t.as_str().to_owned()));
    sql.bind_or_null(correspondence, "TEXT").sql(" AS correspondence_type, ");
    sql.bind(BindValue::Date(date)).sql(" AS date, ");
    sql.bind_or_null(text(&input.salesperson_code), "TEXT").sql(" AS salesperson_code, ");
    sql.bind_or_null(input.cost.map(|m| BindValue::BigInt(m.0)), "BIGINT").sql(" AS cost_cents, ");
    sql.bind_or_null(input.duration_min.map(BindValue::BigInt), "BIGINT").sql(" AS duration_min, ");
    let evaluation = input.evaluation.map(|e| BindValue::Text(e.as_str().to_owned()));
    sql.bind_or_null(evaluation, "TEXT").sql(" AS evaluation, ");
    sql.bind(BindValue::Bool(input.attempt_failed)).sql(" AS attempt_failed) segment_lines");
    sql.sql(" CROSS JOIN (SELECT (SELECT description FROM interaction_templates WHERE code = ");
    sql.bind(BindValue::Text(input.interaction_template_code.clone())).sql(") AS description, ");
    sql.sql(
        "CAST(NULL AS TEXT) AS subject, CAST(NULL AS TEXT) AS interaction_template_code, \
         CAST(NULL AS TEXT) AS language_code, CAST(NULL AS TEXT) AS correspondence_type, \
         CAST(NULL AS BOOLEAN) AS ignore_contact_correspondence_type, CAST(NULL AS DATE) AS date, \
         CAST(NULL AS BIGINT) AS unit_cost_cents, CAST(NULL AS BIGINT) AS unit_duration_min, \
         (SELECT salesperson_code FROM contacts WHERE id = ",
    );
    sql.bind(input.contact_id.into()).sql(") AS salesperson_code) segments");
    sql.sql(ENTRY_JOINS).sql(effective::TEMPLATE_JOIN);
}
