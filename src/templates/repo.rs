//! SQL of `interaction_templates`: list, read, create, change and delete, each write in one
//! write transaction with its checks.

use chrono::Utc;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::model::{Template, TemplateColumns, TemplateFields, TemplateFilter, TemplatePatch};
use crate::db::schema::{
    interaction_groups, interaction_log_entries, interaction_templates, segment_lines, segments,
};
use crate::db::{self, Conn};
use crate::domain::validation::Checker;
use crate::domain::SegmentStatus;
use crate::error::{ApiError, FieldError};
use crate::http::conditional::{check_version, IfMatch};
use crate::http::pagination::{into_code_page, CodePageRequest};

/// How many segment numbers a 409 detail names before it says "and more".
const NOS_SHOWN: usize = 5;

/// Whether a template with this code exists.
pub fn template_exists(conn: &mut Conn, code: &str) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(interaction_templates::table.find(code))).get_result(conn)?)
}

/// One page of templates, ordered by code, and the cursor of the next.
pub fn list(
    conn: &mut Conn,
    filter: &TemplateFilter,
    page: &CodePageRequest,
) -> Result<(Vec<Template>, Option<String>), ApiError> {
    let mut query = interaction_templates::table
        .select(Template::as_select())
        .order(interaction_templates::code)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(group) = &filter.interaction_group_code {
        query = query.filter(interaction_templates::interaction_group_code.eq(group.clone()));
    }
    if let Some(flow) = filter.information_flow {
        query = query.filter(interaction_templates::information_flow.eq(flow));
    }
    if let Some(after) = &page.after {
        query = query.filter(interaction_templates::code.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(into_code_page(rows, page, |row| &row.code))
}

pub fn find(conn: &mut Conn, code: &str) -> Result<Template, ApiError> {
    interaction_templates::table
        .find(code)
        .select(Template::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(code))
}

/// Inserts a template. `c` holds the faults found without the database; the interaction
/// group is checked here and every fault answered at once (422). A taken code is 409.
pub fn create(
    conn: &mut Conn,
    code: &str,
    fields: &TemplateFields,
    mut c: Checker,
) -> Result<Template, ApiError> {
    db::write_transaction(conn, |conn| {
        check_group(conn, fields.interaction_group_code.as_deref(), &mut c)?;
        c.finish()?;
        if template_exists(conn, code)? {
            return Err(ApiError::Duplicates(vec![FieldError::new(
                "code",
                "already_exists",
                format!("interaction template {code:?} already exists"),
            )]));
        }
        let now = Utc::now().naive_utc();
        // A code inserted concurrently still fails on the primary key (409 `already-exists`).
        Ok(diesel::insert_into(interaction_templates::table)
            .values((
                interaction_templates::code.eq(code),
                &TemplateColumns::from(fields),
                interaction_templates::version.eq(1_i64),
                interaction_templates::created_at.eq(now),
                interaction_templates::updated_at.eq(now),
            ))
            .returning(interaction_templates::all_columns)
            .get_result(conn)?)
    })
}

/// Applies a PATCH. A stale `If-Match` is 412; a change that alters nothing leaves the row,
/// its `version` and `updated_at` alone.
pub fn update(
    conn: &mut Conn,
    code: &str,
    if_match: IfMatch,
    change: TemplatePatch,
) -> Result<Template, ApiError> {
    db::write_transaction(conn, |conn| {
        let row = lock(conn, code)?.ok_or_else(|| not_found(code))?;
        check_version(if_match, row.version)?;
        let current = TemplateFields::of(&row);
        let mut c = Checker::new();
        let fields = change.apply_to(&current, &mut c);
        if fields.interaction_group_code != current.interaction_group_code {
            check_group(conn, fields.interaction_group_code.as_deref(), &mut c)?;
        }
        c.finish()?;
        if fields == current {
            return Ok(row);
        }
        Ok(diesel::update(interaction_templates::table.find(code))
            .set((
                &TemplateColumns::from(&fields),
                interaction_templates::version.eq(row.version + 1),
                interaction_templates::updated_at.eq(Utc::now().naive_utc()),
            ))
            .returning(interaction_templates::all_columns)
            .get_result(conn)?)
    })
}

/// Deletes a template that nothing refers to: not an open segment (header or line), not an
/// interaction log entry, not a logged segment. Checked and deleted in one write transaction.
pub fn delete(conn: &mut Conn, code: &str, if_match: IfMatch) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let row = lock(conn, code)?.ok_or_else(|| not_found(code))?;
        check_version(if_match, row.version)?;
        let places = usages(conn, code)?;
        if !places.is_empty() {
            return Err(in_use(code, &places.join("; ")));
        }
        match diesel::delete(interaction_templates::table.find(code)).execute(conn) {
            Ok(_) => Ok(()),
            // On PostgreSQL a segment committed by another transaction after our check still
            // stops the delete, through the foreign key.
            Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                Err(in_use(code, "a segment created while it was being deleted"))
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// Reads the row for a write, locking it on PostgreSQL so that the version checked is the
/// version written over (SQLite's `BEGIN IMMEDIATE` already excludes other writers).
pub fn lock(conn: &mut Conn, code: &str) -> QueryResult<Option<Template>> {
    // `as_select` is typed by backend, so the query is spelled out per arm.
    macro_rules! query {
        () => {
            interaction_templates::table.find(code).select(Template::as_select())
        };
    }
    match conn {
        Conn::Postgresql(c) => query!().for_update().first(c).optional(),
        Conn::Sqlite(c) => query!().first(c).optional(),
    }
}

/// A named interaction group must exist (422 `unknown_code` on `interaction_group_code`).
fn check_group(conn: &mut Conn, group: Option<&str>, c: &mut Checker) -> Result<(), ApiError> {
    if let Some(group) = group {
        let exists: bool =
            diesel::select(diesel::dsl::exists(interaction_groups::table.find(group))).get_result(conn)?;
        if !exists {
            c.add("interaction_group_code", "unknown_code", format!("no interaction group {group}"));
        }
    }
    Ok(())
}

/// What still refers to the template, one phrase per kind of use, for the 409 detail.
fn usages(conn: &mut Conn, code: &str) -> QueryResult<Vec<String>> {
    let mut places = Vec::new();
    for (status, header_place, line_place) in [
        (SegmentStatus::Open, "open segments (header)", "lines of open segments"),
        (SegmentStatus::Logged, "logged segments (header)", "lines of logged segments"),
    ] {
        let headers: Vec<String> = segments::table
            .filter(segments::interaction_template_code.eq(code))
            .filter(segments::status.eq(status))
            .select(segments::no)
            .order(segments::no)
            .limit(NOS_SHOWN as i64 + 1)
            .load(conn)?;
        if !headers.is_empty() {
            places.push(list_nos(header_place, headers));
        }
        let lines: Vec<String> = segment_lines::table
            .inner_join(segments::table)
            .filter(segment_lines::interaction_template_code.eq(code))
            .filter(segments::status.eq(status))
            .select(segments::no)
            .distinct()
            .order(segments::no)
            .limit(NOS_SHOWN as i64 + 1)
            .load(conn)?;
        if !lines.is_empty() {
            places.push(list_nos(line_place, lines));
        }
        if status == SegmentStatus::Open {
            // Logged history keeps its template: entries name it without a foreign key.
            let entries: i64 = interaction_log_entries::table
                .filter(interaction_log_entries::interaction_template_code.eq(code))
                .count()
                .get_result(conn)?;
            if entries > 0 {
                places.push(format!(
                    "{entries} interaction log entr{}",
                    if entries == 1 { "y" } else { "ies" }
                ));
            }
        }
    }
    Ok(places)
}

/// `open segments (header): SEG00001, SEG00002 and more`.
fn list_nos(place: &str, mut nos: Vec<String>) -> String {
    let more = nos.len() > NOS_SHOWN;
    nos.truncate(NOS_SHOWN);
    format!("{place}: {}{}", nos.join(", "), if more { " and more" } else { "" })
}

fn not_found(code: &str) -> ApiError {
    ApiError::not_found(format!("interaction template {code:?}"))
}

fn in_use(code: &str, places: &str) -> ApiError {
    ApiError::conflict(
        "template-in-use",
        format!("interaction template {code:?} cannot be deleted: it is used by {places}"),
    )
}
