//! Segment line rows, their insert and change forms, and their wire types.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{contacts, interaction_templates, segment_lines, segments};
use crate::domain::money::{amount_or_null, Money};
use crate::domain::patch;
use crate::domain::validation::Checker;
use crate::domain::{CorrespondenceType, DocumentKind, Evaluation};
use crate::http::conditional::etag;
use crate::segments::effective;

/// A segment line with its stored overrides and its effective values (see `effective.rs`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segment_lines)]
pub struct LineRow {
    pub id: i64,
    pub segment_id: i64,
    pub contact_id: i64,
    #[diesel(select_expression = contacts::no)]
    pub contact_no: String,
    #[diesel(select_expression = contacts::name)]
    pub contact_name: String,
    #[diesel(select_expression = contacts::company_id)]
    pub contact_company_id: Option<i64>,
    #[diesel(select_expression = contacts::email)]
    pub contact_email: Option<String>,
    #[diesel(select_expression = contacts::privacy_blocked)]
    pub contact_privacy_blocked: bool,
    #[diesel(embed)]
    pub own: LineOverrides,
    #[diesel(embed)]
    pub effective: EffectiveValues,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    #[diesel(select_expression = segments::version)]
    pub segment_version: i64,
    #[diesel(select_expression = contacts::version)]
    pub contact_version: i64,
    #[diesel(select_expression = interaction_templates::version.nullable())]
    pub template_version: Option<i64>,
}

/// A line to insert: a contact added by hand, overriding nothing yet.
#[derive(Debug, Insertable)]
#[diesel(table_name = segment_lines)]
pub struct NewLine {
    pub segment_id: i64,
    pub contact_id: i64,
    pub attempt_failed: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The interaction fields a line can override, as (wire name, column), in the order of
/// `overridden`; bit `i` of an overridden mask stands for field `i`.
const OVERRIDABLE: [(&str, &str); 9] = [
    ("description", "description"),
    ("subject", "subject"),
    ("interaction_template_code", "interaction_template_code"),
    ("language_code", "language_code"),
    ("correspondence_type", "correspondence_type"),
    ("date", "date"),
    ("salesperson_code", "salesperson_code"),
    ("cost", "cost_cents"),
    ("duration_min", "duration_min"),
];

/// The wire names of the fields an overridden mask sets.
fn overridden(mask: i64) -> impl Iterator<Item = &'static str> {
    OVERRIDABLE.iter().enumerate().filter(move |(bit, _)| mask & 1 << bit != 0).map(|(_, (name, _))| *name)
}

/// The overridden mask of a line as SQL over `segment_lines`, for reads that do not load the
/// overrides themselves.
pub fn overridden_mask_sql() -> String {
    let bits: Vec<String> = OVERRIDABLE
        .iter()
        .enumerate()
        .map(|(bit, (_, column))| {
            format!("CASE WHEN segment_lines.{column} IS NULL THEN 0 ELSE {} END", 1 << bit)
        })
        .collect();
    format!("CAST({} AS BIGINT)", bits.join(" + "))
}

/// What a line sets itself: its overrides (NULL means inherited) and its own fields.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = segment_lines, treat_none_as_null = true)]
pub struct LineOverrides {
    pub description: Option<String>,
    pub subject: Option<String>,
    pub interaction_template_code: Option<String>,
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub date: Option<NaiveDate>,
    pub salesperson_code: Option<String>,
    pub cost_cents: Option<i64>,
    pub duration_min: Option<i64>,
    pub personal_note: Option<String>,
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
}

impl LineOverrides {
    /// The interaction fields the line sets itself, as a mask over `OVERRIDABLE`.
    fn overridden_mask(&self) -> i64 {
        let set = [
            self.description.is_some(),
            self.subject.is_some(),
            self.interaction_template_code.is_some(),
            self.language_code.is_some(),
            self.correspondence_type.is_some(),
            self.date.is_some(),
            self.salesperson_code.is_some(),
            self.cost_cents.is_some(),
            self.duration_min.is_some(),
        ];
        set.iter().enumerate().filter(|(_, set)| **set).fold(0, |mask, (bit, _)| mask | 1 << bit)
    }

    /// Applies a PATCH; a `null` attempt flag is reported in `c` and left alone.
    pub fn apply(&mut self, change: LinePatch, c: &mut Checker) {
        patch::apply(&mut self.description, change.description);
        patch::apply(&mut self.subject, change.subject);
        patch::apply(&mut self.interaction_template_code, change.interaction_template_code);
        patch::apply(&mut self.language_code, change.language_code);
        patch::apply(&mut self.correspondence_type, change.correspondence_type);
        patch::apply(&mut self.date, change.date);
        patch::apply(&mut self.salesperson_code, change.salesperson_code);
        patch::apply(&mut self.cost_cents, change.cost.map(|m| m.map(Money::cents)));
        patch::apply(&mut self.duration_min, change.duration_min);
        patch::apply(&mut self.personal_note, change.personal_note);
        patch::apply(&mut self.evaluation, change.evaluation);
        patch::apply_required(c, "attempt_failed", &mut self.attempt_failed, change.attempt_failed);
    }

    /// The checks that need no database; the repo checks the template and salesperson codes.
    pub fn check(&self, c: &mut Checker) {
        c.max_len("description", self.description.as_deref(), 100);
        c.max_len("subject", self.subject.as_deref(), 100);
        c.max_len("language_code", self.language_code.as_deref(), 10);
        c.max_len("personal_note", self.personal_note.as_deref(), 2000);
        c.date("date", self.date);
        c.amount("cost", self.cost_cents);
        c.minutes("duration_min", self.duration_min);
    }
}

/// A line's effective values, as `effective.rs` computes them.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segment_lines)]
pub struct EffectiveValues {
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::DESCRIPTION), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub description: Option<String>,
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::SUBJECT), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub subject: Option<String>,
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::TEMPLATE_CODE), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub template_code: Option<String>,
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::LANGUAGE_CODE), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub language_code: Option<String>,
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::CORRESPONDENCE_TYPE), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub correspondence_type: Option<CorrespondenceType>,
    #[diesel(select_expression = sql::<Date>(effective::DATE), select_expression_type = SqlLiteral<Date>)]
    pub date: NaiveDate,
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::SALESPERSON_CODE), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub salesperson_code: Option<String>,
    #[diesel(select_expression = sql::<BigInt>(effective::COST_CENTS), select_expression_type = SqlLiteral<BigInt>)]
    pub cost_cents: i64,
    #[diesel(select_expression = sql::<BigInt>(effective::DURATION_MIN), select_expression_type = SqlLiteral<BigInt>)]
    pub duration_min: i64,
    #[diesel(select_expression = sql::<Nullable<Text>>(effective::DOCUMENT_KIND), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub document_kind: Option<DocumentKind>,
    #[diesel(select_expression = sql::<Nullable<BigInt>>(effective::LINE_DOCUMENT_ID), select_expression_type = SqlLiteral<Nullable<BigInt>>)]
    pub line_document_id: Option<i64>,
    #[diesel(select_expression = sql::<Nullable<BigInt>>(effective::TEMPLATE_ATTACHMENT_ID), select_expression_type = SqlLiteral<Nullable<BigInt>>)]
    pub template_attachment_id: Option<i64>,
}

/// A problem on a line that logging or delivery would meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    NoEmail,
    NoDocument,
    PrivacyBlocked,
}

impl Warning {
    /// The warnings of a line with this effective type, in the order they are listed.
    pub fn of(
        correspondence_type: Option<CorrespondenceType>,
        has_email: bool,
        has_document: bool,
        privacy_blocked: bool,
    ) -> impl Iterator<Item = Warning> {
        let delivered =
            matches!(correspondence_type, Some(CorrespondenceType::Email | CorrespondenceType::HardCopy));
        [
            (correspondence_type == Some(CorrespondenceType::Email) && !has_email, Warning::NoEmail),
            (delivered && !has_document, Warning::NoDocument),
            (privacy_blocked, Warning::PrivacyBlocked),
        ]
        .into_iter()
        .filter(|(applies, _)| *applies)
        .map(|(_, warning)| warning)
    }

    pub fn code(self) -> &'static str {
        match self {
            Warning::NoEmail => "no_email",
            Warning::NoDocument => "no_document",
            Warning::PrivacyBlocked => "privacy_blocked",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Warning::NoEmail => "the line is email but the contact has no email address",
            Warning::NoDocument => {
                "the template has no document in the line's language, so the line cannot be delivered"
            }
            Warning::PrivacyBlocked => "the contact is privacy blocked and will not be logged",
        }
    }
}

/// A warning as the line view lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineWarning {
    /// `no_email` (email line, contact without address), `no_document` (email or hard-copy line
    /// without a document to deliver), `privacy_blocked`.
    pub code: String,
    pub message: String,
}

/// A segment line: effective values, which of them the line overrides, and warnings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentLineResponse {
    pub id: i64,
    pub segment_id: i64,
    pub contact_id: i64,
    pub contact_no: String,
    pub contact_name: String,
    pub contact_company_no: Option<String>,
    pub contact_company_name: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub subject: Option<String>,
    pub interaction_template_code: Option<String>,
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub date: NaiveDate,
    pub salesperson_code: Option<String>,
    #[schema(value_type = String, example = "12.50")]
    pub cost: Money,
    pub duration_min: i64,
    pub personal_note: Option<String>,
    /// The kind of document the line merges (its own, else the template's in `language_code`);
    /// null when there is none.
    pub document_kind: Option<DocumentKind>,
    /// Whether the line has its own personalised document, which replaces the template's.
    pub has_personal_document: bool,
    /// The template document version the line merges when it has no document of its own.
    pub template_attachment_id: Option<i64>,
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
    /// Interaction fields this line sets itself; every other one follows the header.
    pub overridden: Vec<String>,
    pub warnings: Vec<LineWarning>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The ETag: the line's version, then those of the segment, contact, template and company
    /// whose values the line shows.
    #[serde(skip)]
    pub etag: String,
}

impl LineRow {
    /// What logging or delivery of this line would stumble on.
    fn warnings(&self) -> Vec<LineWarning> {
        Warning::of(
            self.effective.correspondence_type,
            self.contact_email.is_some(),
            self.effective.document_kind.is_some(),
            self.contact_privacy_blocked,
        )
        .map(|w| LineWarning { code: w.code().to_owned(), message: w.message().to_owned() })
        .collect()
    }
}

impl SegmentLineResponse {
    /// The line as answered; `company` is the contact's company (no, name, version).
    pub fn new(row: LineRow, company: Option<(String, String, i64)>) -> Self {
        let etag = etag(&[
            row.version,
            row.segment_version,
            row.contact_version,
            row.template_version.unwrap_or(0),
            company.as_ref().map_or(0, |c| c.2),
        ]);
        let overridden = overridden(row.own.overridden_mask()).map(str::to_owned).collect();
        let warnings = row.warnings();
        SegmentLineResponse {
            etag,
            id: row.id,
            segment_id: row.segment_id,
            contact_id: row.contact_id,
            contact_no: row.contact_no,
            contact_name: row.contact_name,
            contact_company_no: company.as_ref().map(|c| c.0.clone()),
            contact_company_name: company.map(|c| c.1),
            contact_email: row.contact_email,
            description: row.effective.description,
            subject: row.effective.subject,
            interaction_template_code: row.effective.template_code,
            language_code: row.effective.language_code,
            correspondence_type: row.effective.correspondence_type,
            date: row.effective.date,
            salesperson_code: row.effective.salesperson_code,
            cost: Money(row.effective.cost_cents),
            duration_min: row.effective.duration_min,
            personal_note: row.own.personal_note,
            document_kind: row.effective.document_kind,
            has_personal_document: row.effective.line_document_id.is_some(),
            template_attachment_id: row
                .effective
                .template_attachment_id
                .filter(|_| row.effective.line_document_id.is_none()),
            evaluation: row.own.evaluation,
            attempt_failed: row.own.attempt_failed,
            overridden,
            warnings,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A line as one CSV record of `lines.csv`: the line view's values, lists joined with `;`.
#[derive(Debug, Serialize)]
pub struct LineCsvRecord {
    pub id: i64,
    pub contact_no: String,
    pub contact_name: String,
    pub contact_company_no: Option<String>,
    pub contact_company_name: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub subject: Option<String>,
    pub interaction_template_code: Option<String>,
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub date: NaiveDate,
    pub salesperson_code: Option<String>,
    pub cost: Money,
    pub duration_min: i64,
    pub personal_note: Option<String>,
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
    pub document_kind: Option<DocumentKind>,
    pub has_personal_document: bool,
    pub overridden: String,
    pub warnings: String,
}

impl LineCsvRecord {
    /// The header row: the fields, in order.
    pub const COLUMNS: &'static [&'static str] = &[
        "id",
        "contact_no",
        "contact_name",
        "contact_company_no",
        "contact_company_name",
        "contact_email",
        "description",
        "subject",
        "interaction_template_code",
        "language_code",
        "correspondence_type",
        "date",
        "salesperson_code",
        "cost",
        "duration_min",
        "personal_note",
        "evaluation",
        "attempt_failed",
        "document_kind",
        "has_personal_document",
        "overridden",
        "warnings",
    ];
}

/// A line as `lines.csv` reads it (`repo::csv_select_sql`, column for column): the line view's
/// values without what only the JSON view needs (ETag inputs, timestamps, document ids).
#[derive(Debug, Queryable)]
pub struct LineCsvRow {
    pub id: i64,
    pub contact_no: String,
    pub contact_name: String,
    pub contact_company_no: Option<String>,
    pub contact_company_name: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub subject: Option<String>,
    pub interaction_template_code: Option<String>,
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub date: NaiveDate,
    pub salesperson_code: Option<String>,
    pub cost_cents: i64,
    pub duration_min: i64,
    pub personal_note: Option<String>,
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
    pub document_kind: Option<DocumentKind>,
    pub has_personal_document: bool,
    pub contact_privacy_blocked: bool,
    pub overridden_mask: i64,
}

/// The SQL types of `LineCsvRow`, in its order.
pub type LineCsvSqlType = (
    BigInt,
    Text,
    Text,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Date,
    Nullable<Text>,
    BigInt,
    BigInt,
    Nullable<Text>,
    Nullable<Text>,
    Bool,
    Nullable<Text>,
    Bool,
    Bool,
    BigInt,
);

impl From<LineCsvRow> for LineCsvRecord {
    fn from(row: LineCsvRow) -> Self {
        let warnings = Warning::of(
            row.correspondence_type,
            row.contact_email.is_some(),
            row.document_kind.is_some(),
            row.contact_privacy_blocked,
        );
        LineCsvRecord {
            id: row.id,
            contact_no: row.contact_no,
            contact_name: row.contact_name,
            contact_company_no: row.contact_company_no,
            contact_company_name: row.contact_company_name,
            contact_email: row.contact_email,
            description: row.description,
            subject: row.subject,
            interaction_template_code: row.interaction_template_code,
            language_code: row.language_code,
            correspondence_type: row.correspondence_type,
            date: row.date,
            salesperson_code: row.salesperson_code,
            cost: Money(row.cost_cents),
            duration_min: row.duration_min,
            personal_note: row.personal_note,
            evaluation: row.evaluation,
            attempt_failed: row.attempt_failed,
            document_kind: row.document_kind,
            has_personal_document: row.has_personal_document,
            overridden: overridden(row.overridden_mask).collect::<Vec<_>>().join(";"),
            warnings: warnings.map(Warning::code).collect::<Vec<_>>().join(";"),
        }
    }
}

/// A page of lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentLineList {
    pub items: Vec<SegmentLineResponse>,
    pub next_cursor: Option<String>,
}

/// Contacts to add by hand: exactly one of `contact_id`, `contact_ids`, `contact_nos`.
/// A contact may be added more than once (as Business Central allows); each time is a line.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLines {
    pub contact_id: Option<i64>,
    /// 1 to 100,000 ids (`repo::MAX_LINES_PER_REQUEST`).
    #[schema(min_items = 1, max_items = 100_000)]
    pub contact_ids: Option<Vec<i64>>,
    /// 1 to 100,000 numbers (`repo::MAX_LINES_PER_REQUEST`).
    #[schema(min_items = 1, max_items = 100_000)]
    pub contact_nos: Option<Vec<String>>,
}

/// The lines added, in input order.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedLines {
    pub added: usize,
    pub line_ids: Vec<i64>,
}

/// A change to a line: a value overrides the header, `null` clears the override.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinePatch {
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub subject: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub interaction_template_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10)]
    pub language_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CorrespondenceType>)]
    pub correspondence_type: Option<Option<CorrespondenceType>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub salesperson_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(schema_with = amount_or_null)]
    pub cost: Option<Option<Money>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub duration_min: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 2000)]
    pub personal_note: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<Evaluation>)]
    pub evaluation: Option<Option<Evaluation>>,
    /// Cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub attempt_failed: Option<Option<bool>>,
}

/// Lines to delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteLines {
    /// At least one id.
    #[schema(min_items = 1)]
    pub line_ids: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overridden_mask_names_the_fields_a_line_sets_in_wire_order() {
        let own = LineOverrides {
            description: None,
            subject: Some("Mine".into()),
            interaction_template_code: None,
            language_code: None,
            correspondence_type: None,
            date: None,
            salesperson_code: Some("SP1".into()),
            cost_cents: Some(0),
            duration_min: None,
            personal_note: Some("not an interaction field".into()),
            evaluation: None,
            attempt_failed: true,
        };
        let names: Vec<_> = overridden(own.overridden_mask()).collect();
        assert_eq!(names, ["subject", "salesperson_code", "cost"]);
        assert_eq!(overridden(0).count(), 0);
        assert_eq!(overridden((1 << OVERRIDABLE.len()) - 1).count(), OVERRIDABLE.len());
        // The SQL form sets the same bits: one term per field, each its own power of two.
        let sql = overridden_mask_sql();
        for (bit, (_, column)) in OVERRIDABLE.iter().enumerate() {
            assert!(sql.contains(&format!("segment_lines.{column} IS NULL THEN 0 ELSE {} END", 1 << bit)));
        }
    }

    #[test]
    fn warnings_come_in_one_order() {
        let all = Warning::of(Some(CorrespondenceType::Email), false, false, true).map(Warning::code);
        assert_eq!(all.collect::<Vec<_>>(), ["no_email", "no_document", "privacy_blocked"]);
        assert_eq!(Warning::of(Some(CorrespondenceType::HardCopy), false, true, false).count(), 0);
        assert_eq!(Warning::of(None, false, false, false).count(), 0);
    }
}
