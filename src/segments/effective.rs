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

/// The language of the template document current in `$language`, if the template has one.
macro_rules! document_language {
    ($language:expr) => {
        concat!(
            "(SELECT d.language_code FROM template_current_attachments d \
              WHERE d.interaction_template_code = interaction_templates.code AND d.language_code = ",
            $language,
            ")"
        )
    };
}
macro_rules! language_code {
    () => {
        concat!(
            "COALESCE(segment_lines.language_code, ",
            document_language!("contacts.language_code"),
            ", ",
            document_language!("COALESCE(segments.language_code, interaction_templates.language_code)"),
            ", (SELECT d.language_code FROM template_current_attachments d \
                WHERE d.interaction_template_code = interaction_templates.code AND d.is_default), \
             segments.language_code, interaction_templates.language_code)"
        )
    };
}
/// The language as Business Central chooses it: the line's own; else the contact's when the
/// template has a document in it; else the header's when the template has one in it; else the
/// language of the template's default document; else (a template without documents) the header's.
pub const LANGUAGE_CODE: &str = language_code!();

/// The template document version (`template_attachments.id`) current in the line's language;
/// NULL when the template has none in it.
pub const TEMPLATE_ATTACHMENT_ID: &str = concat!(
    "(SELECT d.attachment_id FROM template_current_attachments d \
      WHERE d.interaction_template_code = interaction_templates.code AND d.language_code = ",
    language_code!(),
    ")"
);
/// The line's own (personalised) document, which replaces the template's for its contact.
pub const LINE_DOCUMENT_ID: &str =
    "(SELECT ld.id FROM segment_line_documents ld WHERE ld.segment_line_id = segment_lines.id)";
/// The kind (`docx`, `html`, `text`) of the document the line merges: its own, else the
/// template's in its language; NULL when it has none.
pub const DOCUMENT_KIND: &str = concat!(
    "COALESCE((SELECT ld.kind FROM segment_line_documents ld WHERE ld.segment_line_id = segment_lines.id), \
      (SELECT a.kind FROM template_current_attachments d JOIN template_attachments a ON a.id = d.attachment_id \
        WHERE d.interaction_template_code = interaction_templates.code AND d.language_code = ",
    language_code!(),
    "))"
);
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

/// Joins, to a row of `segment_line_totals`, the template its lines take their defaults from:
/// their own ('' stands for none), else the header's, as in `TEMPLATE_JOIN`.
pub const TOTALS_TEMPLATE_JOIN: &str = "interaction_templates.code = \
     COALESCE(NULLIF(segment_line_totals.interaction_template_code, ''), segments.interaction_template_code)";

/// A segment's totals from its `segment_line_totals` rows (a handful, whatever the number of
/// lines): the overriding values, plus each inheriting line at `COST_CENTS` / `DURATION_MIN`
/// without the line's own (the header's, else the template's, else 0). SUM is cast because
/// PostgreSQL sums BIGINT as NUMERIC.
pub const TOTAL_COST_CENTS: &str = "CAST(COALESCE(SUM(segment_line_totals.overridden_cost_cents \
     + segment_line_totals.lines_inheriting_cost \
       * COALESCE(segments.unit_cost_cents, interaction_templates.unit_cost_cents, 0)), 0) AS BIGINT)";
pub const TOTAL_DURATION_MIN: &str = "CAST(COALESCE(SUM(segment_line_totals.overridden_duration_min \
     + segment_line_totals.lines_inheriting_duration \
       * COALESCE(segments.unit_duration_min, interaction_templates.unit_duration_min, 0)), 0) AS BIGINT)";

/// Joins the line's effective salesperson, whose name, email and phone documents merge.
pub const SALESPERSON_JOIN: &str =
    "salespeople.code = COALESCE(segment_lines.salesperson_code, segments.salesperson_code)";

/// The value of every merge field (`documents::fields::MERGE_FIELDS`, same names and order),
/// over a line joined to its contact, the contact's company (as `company`), its salesperson and
/// its header. Previews read them live; logging freezes them into `entry_documents`.
pub const MERGE_VALUES: &[(&str, &str)] = &[
    ("contact_name", "contacts.name"),
    ("contact_first_name", "contacts.first_name"),
    ("contact_surname", "contacts.surname"),
    // A company contact is its own company.
    (
        "contact_company_name",
        "COALESCE(company.name, CASE WHEN contacts.contact_type = 'company' THEN contacts.name END)",
    ),
    ("contact_job_title", "contacts.job_title"),
    ("contact_address", "contacts.address"),
    ("contact_address_2", "contacts.address_2"),
    ("contact_post_code", "contacts.post_code"),
    ("contact_city", "contacts.city"),
    ("contact_county", "contacts.county"),
    ("contact_country_code", "contacts.country_code"),
    ("contact_email", "contacts.email"),
    ("contact_phone", "contacts.phone"),
    ("line_subject", SUBJECT),
    ("line_description", DESCRIPTION),
    // ISO 8601 on both databases (SQLite stores dates as that text, PostgreSQL casts so).
    ("line_date", "CAST(COALESCE(segment_lines.date, segments.date) AS TEXT)"),
    ("line_personal_note", "segment_lines.personal_note"),
    ("salesperson_name", "salespeople.name"),
    ("salesperson_email", "salespeople.email"),
    ("salesperson_phone", "salespeople.phone"),
    ("segment_no", "segments.no"),
    ("segment_description", "segments.description"),
];
