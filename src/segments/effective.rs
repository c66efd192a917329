//! The effective values of a segment line, as SQL over `segment_lines`, `segments`, `contacts`
//! and the line's effective `interaction_templates` row. The one place these rules live: the
//! line view reads them, and logging will insert them with `INSERT ... SELECT`.
//!
//! A line stores only what it overrides (NULL = inherited), so a header change reaches every
//! inherited line without writing to the lines at all.

/// Joins the effective template: the line's own, else the header's.
pub const TEMPLATE_JOIN: &str =
    "interaction_templates.code = COALESCE(segment_lines.interaction_template_code, segments.interaction_template_code)";

pub const DESCRIPTION: &str = "COALESCE(segment_lines.description, segments.description)";
pub const SUBJECT: &str = "COALESCE(segment_lines.subject, segments.subject)";
pub const TEMPLATE_CODE: &str =
    "COALESCE(segment_lines.interaction_template_code, segments.interaction_template_code)";
pub const LANGUAGE_CODE: &str =
    "COALESCE(segment_lines.language_code, segments.language_code, interaction_templates.language_code)";
pub const DATE: &str = "COALESCE(segment_lines.date, segments.date)";
pub const SALESPERSON_CODE: &str = "COALESCE(segment_lines.salesperson_code, segments.salesperson_code)";
macro_rules! cost_cents {
    () => {
        "COALESCE(segment_lines.cost_cents, segments.unit_cost_cents, interaction_templates.unit_cost_cents, 0)"
    };
}
macro_rules! duration_min {
    () => {
        "COALESCE(segment_lines.duration_min, segments.unit_duration_min, interaction_templates.unit_duration_min, 0)"
    };
}
pub const COST_CENTS: &str = cost_cents!();
pub const DURATION_MIN: &str = duration_min!();

/// The line's own type; else the contact's preferred one unless the header (or, when the
/// header does not say, the template) ignores it; else the header's default, else the template's.
pub const CORRESPONDENCE_TYPE: &str = "COALESCE(segment_lines.correspondence_type, \
     CASE WHEN COALESCE(segments.ignore_contact_correspondence_type, \
                        interaction_templates.ignore_contact_correspondence_type, FALSE) \
          THEN NULL ELSE contacts.correspondence_type END, \
     segments.correspondence_type, interaction_templates.correspondence_type)";

/// Totals over a segment's lines; SUM is cast because PostgreSQL sums BIGINT as NUMERIC.
pub const TOTAL_COST_CENTS: &str = concat!("CAST(COALESCE(SUM(", cost_cents!(), "), 0) AS BIGINT)");
pub const TOTAL_DURATION_MIN: &str = concat!("CAST(COALESCE(SUM(", duration_min!(), "), 0) AS BIGINT)");
