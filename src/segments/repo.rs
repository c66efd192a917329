//! Segment headers: create, read with template defaults and totals, list, change, delete.

use chrono::{NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::effective;
use super::model::{CreateSegment, Segment, SegmentPatch, SegmentView, TemplateDefaults};
use crate::db::number_series;
use crate::db::schema::{interaction_templates, salespeople, segment_line_totals, segment_lines, segments};
use crate::db::{self, Conn};
use crate::domain::money::Money;
use crate::domain::patch;
use crate::domain::validation::Checker;
use crate::domain::{CorrespondenceType, SegmentStatus};
use crate::error::ApiError;
use crate::http::conditional::{check_version, IfMatch};
use crate::http::pagination::{into_page, PageRequest};

/// The writable header fields, resolved (a create is a change applied to an empty header).
#[derive(Debug, Clone, Default, PartialEq)]
struct HeaderFields {
    description: Option<String>,
    interaction_template_code: Option<String>,
    subject: Option<String>,
    language_code: Option<String>,
    correspondence_type: Option<CorrespondenceType>,
    ignore_contact_correspondence_type: Option<bool>,
    date: Option<NaiveDate>,
    salesperson_code: Option<String>,
    unit_cost_cents: Option<i64>,
    unit_duration_min: Option<i64>,
    send_as_attachment: bool,
}

impl HeaderFields {
    fn of(row: &Segment) -> Self {
        HeaderFields {
            description: row.description.clone(),
            interaction_template_code: row.interaction_template_code.clone(),
            subject: row.subject.clone(),
            language_code: row.language_code.clone(),
            correspondence_type: row.correspondence_type,
            ignore_contact_correspondence_type: row.ignore_contact_correspondence_type,
            date: Some(row.date),
            salesperson_code: row.salesperson_code.clone(),
            unit_cost_cents: row.unit_cost_cents,
            unit_duration_min: row.unit_duration_min,
            send_as_attachment: row.send_as_attachment,
        }
    }

    /// Applies a change; faults (a `null` for a field that cannot be null) go to `c`.
    fn apply(&mut self, p: SegmentPatch, c: &mut Checker) {
        // Choosing another template makes its defaults the header's again (SPEC 3.1): what was
        // set for the old template goes, unless this same request sets it.
        let template_changes = p
            .interaction_template_code
            .as_ref()
            .is_some_and(|code| code.as_ref() != self.interaction_template_code.as_ref());
        if template_changes {
            self.language_code = None;
            self.correspondence_type = None;
            self.ignore_contact_correspondence_type = None;
            self.unit_cost_cents = None;
            self.unit_duration_min = None;
        }
        patch::apply(&mut self.description, p.description);
        patch::apply(&mut self.interaction_template_code, p.interaction_template_code);
        patch::apply(&mut self.subject, p.subject);
        patch::apply(&mut self.language_code, p.language_code);
        patch::apply(&mut self.correspondence_type, p.correspondence_type);
        patch::apply(&mut self.ignore_contact_correspondence_type, p.ignore_contact_correspondence_type);
        patch::apply_required(c, "date", &mut self.date, p.date.map(|d| d.map(Some)));
        patch::apply(&mut self.salesperson_code, p.salesperson_code);
        patch::apply(&mut self.unit_cost_cents, p.unit_cost.map(|m| m.map(Money::cents)));
        patch::apply(&mut self.unit_duration_min, p.unit_duration_min);
        patch::apply_required(c, "send_as_attachment", &mut self.send_as_attachment, p.send_as_attachment);
    }

    fn check(&self, conn: &mut Conn, mut c: Checker) -> Result<(), ApiError> {
        c.max_len("description", self.description.as_deref(), 100);
        c.max_len("subject", self.subject.as_deref(), 100);
        c.max_len("language_code", self.language_code.as_deref(), 10);
        c.date("date", self.date);
        c.amount("unit_cost", self.unit_cost_cents);
        c.minutes("unit_duration_min", self.unit_duration_min);
        check_references(
            conn,
            &mut c,
            self.interaction_template_code.as_deref(),
            self.salesperson_code.as_deref(),
        )?;
        c.finish()
    }
}

/// Template and salesperson codes must exist (422 naming the field).
pub fn check_references(
    conn: &mut Conn,
    c: &mut Checker,
    template: Option<&str>,
    salesperson: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(code) = template {
        let exists: bool =
            diesel::select(diesel::dsl::exists(interaction_templates::table.find(code))).get_result(conn)?;
        if !exists {
            c.add("interaction_template_code", "unknown_code", format!("no interaction template {code}"));
        }
    }
    if let Some(code) = salesperson {
        let exists: bool =
            diesel::select(diesel::dsl::exists(salespeople::table.find(code))).get_result(conn)?;
        if !exists {
            c.add("salesperson_code", "unknown_code", format!("no salesperson {code}"));
        }
    }
    Ok(())
}

pub fn create_segment(conn: &mut Conn, input: CreateSegment) -> Result<i64, ApiError> {
    let mut fields = HeaderFields::default();
    let mut checker = Checker::new();
    fields.apply(
        SegmentPatch {
            description: input.description.map(Some),
            interaction_template_code: input.interaction_template_code.map(Some),
            subject: input.subject.map(Some),
            language_code: input.language_code.map(Some),
            correspondence_type: input.correspondence_type.map(Some),
            ignore_contact_correspondence_type: input.ignore_contact_correspondence_type.map(Some),
            date: input.date.map(Some),
            salesperson_code: input.salesperson_code.map(Some),
            unit_cost: input.unit_cost.map(Some),
            unit_duration_min: input.unit_duration_min.map(Some),
            send_as_attachment: input.send_as_attachment.map(Some),
        },
        &mut checker,
    );
    db::write_transaction(conn, |conn| {
        fields.check(conn, checker)?;
        let no = number_series::assign(conn, number_series::SEGMENT, 1, |conn, candidates| {
            Ok(segments::table.filter(segments::no.eq_any(candidates)).select(segments::no).load(conn)?)
        })?
        .remove(0);
        let now = Utc::now().naive_utc();
        let id = diesel::insert_into(segments::table)
            .values((
                segments::no.eq(no),
                segments::search_description.eq(fields.description.as_deref().map(str::to_lowercase)),
                segments::description.eq(fields.description),
                segments::status.eq(SegmentStatus::Open),
                segments::interaction_template_code.eq(fields.interaction_template_code),
                segments::subject.eq(fields.subject),
                segments::language_code.eq(fields.language_code),
                segments::correspondence_type.eq(fields.correspondence_type),
                segments::ignore_contact_correspondence_type.eq(fields.ignore_contact_correspondence_type),
                segments::date.eq(fields.date.unwrap_or_else(|| now.date())),
                segments::salesperson_code.eq(fields.salesperson_code),
                segments::unit_cost_cents.eq(fields.unit_cost_cents),
                segments::unit_duration_min.eq(fields.unit_duration_min),
                segments::send_as_attachment.eq(fields.send_as_attachment),
                (
                    segments::no_of_lines.eq(0_i64),
                    segments::no_of_criteria_actions.eq(0_i64),
                    segments::version.eq(1_i64),
                    segments::created_at.eq(now),
                    segments::updated_at.eq(now),
                ),
            ))
            .returning(segments::id)
            .get_result(conn)?;
        Ok(id)
    })
}

pub fn get_segment(conn: &mut Conn, id: i64) -> Result<SegmentView, ApiError> {
    let row = segments::table
        .find(id)
        .select(Segment::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("segment {id}")))?;
    Ok(views(conn, vec![row])?.remove(0))
}

/// Adds template defaults (one query) and line totals (one query over the totals' counters).
fn views(conn: &mut Conn, rows: Vec<Segment>) -> Result<Vec<SegmentView>, ApiError> {
    let codes: Vec<String> = rows.iter().filter_map(|r| r.interaction_template_code.clone()).collect();
    let templates: std::collections::HashMap<String, TemplateDefaults> = interaction_templates::table
        .filter(interaction_templates::code.eq_any(&codes))
        .select((
            interaction_templates::code,
            (
                interaction_templates::version,
                interaction_templates::interaction_group_code,
                interaction_templates::information_flow,
                interaction_templates::initiated_by,
                interaction_templates::unit_cost_cents,
                interaction_templates::unit_duration_min,
                interaction_templates::correspondence_type,
                interaction_templates::language_code,
                interaction_templates::ignore_contact_correspondence_type,
            ),
        ))
        .load::<(String, TemplateDefaults)>(conn)?
        .into_iter()
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let totals = totals(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (total_cost_cents, total_duration_min) = totals.get(&row.id).copied().unwrap_or((0, 0));
            let template = row.interaction_template_code.as_ref().and_then(|c| templates.get(c).cloned());
            SegmentView { row, template, total_cost_cents, total_duration_min }
        })
        .collect())
}

/// Sums of effective cost and duration over the live lines of the segments, from the counters
/// that triggers keep per segment and line template: one aggregate over a few rows per
/// segment, however many lines it has.
fn totals(conn: &mut Conn, ids: &[i64]) -> Result<std::collections::HashMap<i64, (i64, i64)>, ApiError> {
    let rows: Vec<(i64, i64, i64)> = segment_line_totals::table
        .inner_join(segments::table)
        .left_join(interaction_templates::table.on(sql::<Bool>(effective::TOTALS_TEMPLATE_JOIN)))
        .filter(segment_line_totals::segment_id.eq_any(ids))
        .group_by(segment_line_totals::segment_id)
        .select((
            segment_line_totals::segment_id,
            sql::<BigInt>(effective::TOTAL_COST_CENTS),
            sql::<BigInt>(effective::TOTAL_DURATION_MIN),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, cost, duration)| (id, (cost, duration))).collect())
}

/// Filters of `GET /v1/segments`.
#[derive(Debug, Default, Clone)]
pub struct SegmentFilter {
    pub status: Option<SegmentStatus>,
    pub salesperson_code: Option<String>,
    pub interaction_template_code: Option<String>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub q: Option<String>,
}

pub fn list_segments(
    conn: &mut Conn,
    filter: &SegmentFilter,
    page: PageRequest,
) -> Result<(Vec<SegmentView>, Option<String>), ApiError> {
    let mut query = segments::table.select(Segment::as_select()).into_boxed();
    if let Some(v) = &filter.status {
        query = query.filter(segments::status.eq(*v));
    }
    if let Some(v) = &filter.salesperson_code {
        query = query.filter(segments::salesperson_code.eq(v.clone()));
    }
    if let Some(v) = &filter.interaction_template_code {
        query = query.filter(segments::interaction_template_code.eq(v.clone()));
    }
    if let Some(v) = filter.date_from {
        query = query.filter(segments::date.ge(v));
    }
    if let Some(v) = filter.date_to {
        query = query.filter(segments::date.le(v));
    }
    if let Some(q) = &filter.q {
        query = query.filter(segments::search_description.like(db::contains_pattern(q)).escape('\\'));
    }
    if let Some(after) = page.after {
        query = query.filter(segments::id.gt(after));
    }
    let rows = query.order(segments::id).limit(page.limit + 1).load(conn)?;
    let (rows, next) = into_page(rows, page, |r| r.id);
    Ok((views(conn, rows)?, next))
}

/// Takes the segment for a write: 404 for none, 409 when it is logged. On PostgreSQL the row
/// stays locked (`FOR UPDATE`) until the transaction ends, so every write to a segment or its
/// lines is serialised with the others and with logging, and "open" still holds when the
/// write lands; SQLite's `BEGIN IMMEDIATE` already gives the same.
pub fn open_segment(conn: &mut Conn, id: i64) -> Result<Segment, ApiError> {
    macro_rules! query {
        () => {
            segments::table.find(id).select(Segment::as_select())
        };
    }
    let row = match conn {
        Conn::Postgresql(c) => query!().for_update().first(c).optional()?,
        Conn::Sqlite(c) => query!().first(c).optional()?,
    };
    still_open(row, id)
}

/// The segment, 404 when missing, 409 when logged, without taking its row: for reads (a
/// preview) that must not queue behind a running action.
pub fn unlocked_open_segment(conn: &mut Conn, id: i64) -> Result<Segment, ApiError> {
    let row = segments::table.find(id).select(Segment::as_select()).first(conn).optional()?;
    still_open(row, id)
}

fn still_open(row: Option<Segment>, id: i64) -> Result<Segment, ApiError> {
    let row = row.ok_or_else(|| ApiError::not_found(format!("segment {id}")))?;
    if row.status != SegmentStatus::Open {
        return Err(logged(id));
    }
    Ok(row)
}

pub fn logged(id: i64) -> ApiError {
    ApiError::conflict("segment-logged", format!("segment {id} is logged and read-only"))
}

/// Changes the header; a change that alters nothing leaves the version alone.
pub fn update_segment(
    conn: &mut Conn,
    id: i64,
    if_match: IfMatch,
    change: SegmentPatch,
) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let row = open_segment(conn, id)?;
        check_version(if_match, row.version)?;
        let before = HeaderFields::of(&row);
        let mut fields = before.clone();
        let mut checker = Checker::new();
        fields.apply(change, &mut checker);
        fields.check(conn, checker)?;
        if fields == before {
            return Ok(());
        }
        diesel::update(segments::table.find(id))
            .set((
                segments::search_description.eq(fields.description.as_deref().map(str::to_lowercase)),
                segments::description.eq(fields.description),
                segments::interaction_template_code.eq(fields.interaction_template_code),
                segments::subject.eq(fields.subject),
                segments::language_code.eq(fields.language_code),
                segments::correspondence_type.eq(fields.correspondence_type),
                segments::ignore_contact_correspondence_type.eq(fields.ignore_contact_correspondence_type),
                segments::date.eq(fields.date.unwrap_or(row.date)),
                segments::salesperson_code.eq(fields.salesperson_code),
                segments::unit_cost_cents.eq(fields.unit_cost_cents),
                segments::unit_duration_min.eq(fields.unit_duration_min),
                segments::send_as_attachment.eq(fields.send_as_attachment),
                segments::version.eq(row.version + 1),
                segments::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes an open segment with its lines and actions.
pub fn delete_segment(conn: &mut Conn, id: i64, if_match: IfMatch) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let row = open_segment(conn, id)?;
        check_version(if_match, row.version)?;
        // Lines first: they refer to the criteria actions that the segment's cascade removes.
        diesel::delete(segment_lines::table.filter(segment_lines::segment_id.eq(id))).execute(conn)?;
        diesel::delete(segments::table.find(id)).execute(conn)?;
        Ok(())
    })
}
