//! Segment header rows and wire types (lines are in `lines/model.rs`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::segments;
use crate::domain::money::{amount_or_null, Money};
use crate::domain::patch;
use crate::domain::{CorrespondenceType, InformationFlow, InitiatedBy, SegmentStatus};
use crate::http::conditional::etag;

/// A row of `segments`. Template-supplied fields are NULL unless set explicitly.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = segments)]
pub struct Segment {
    pub id: i64,
    pub no: String,
    pub description: Option<String>,
    pub search_description: Option<String>,
    pub status: SegmentStatus,
    pub interaction_template_code: Option<String>,
    pub subject: Option<String>,
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub ignore_contact_correspondence_type: Option<bool>,
    pub date: NaiveDate,
    pub salesperson_code: Option<String>,
    pub unit_cost_cents: Option<i64>,
    pub unit_duration_min: Option<i64>,
    pub send_as_attachment: bool,
    pub no_of_lines: i64,
    pub no_of_criteria_actions: i64,
    pub logged_segment_id: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Segment {
    /// The template-supplied fields the header does not set, by their wire names.
    fn fields_left_to_template(&self) -> Vec<String> {
        [
            ("language_code", self.language_code.is_some()),
            ("correspondence_type", self.correspondence_type.is_some()),
            ("ignore_contact_correspondence_type", self.ignore_contact_correspondence_type.is_some()),
            ("unit_cost", self.unit_cost_cents.is_some()),
            ("unit_duration_min", self.unit_duration_min.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| !set)
        .map(|(name, _)| name.to_owned())
        .collect()
    }
}

/// What a template supplies to a header that does not set it.
#[derive(Debug, Clone, Queryable)]
pub struct TemplateDefaults {
    pub version: i64,
    pub interaction_group_code: Option<String>,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    pub unit_cost_cents: i64,
    pub unit_duration_min: i64,
    pub correspondence_type: Option<CorrespondenceType>,
    pub language_code: Option<String>,
    pub ignore_contact_correspondence_type: bool,
}

/// A header with its template's defaults and its line totals.
#[derive(Debug, Clone)]
pub struct SegmentView {
    pub row: Segment,
    pub template: Option<TemplateDefaults>,
    pub total_cost_cents: i64,
    pub total_duration_min: i64,
}

/// A segment header with its effective values (explicit, else the template's).
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentResponse {
    pub id: i64,
    pub no: String,
    pub description: Option<String>,
    pub status: SegmentStatus,
    pub interaction_template_code: Option<String>,
    /// From the template.
    pub interaction_group_code: Option<String>,
    pub subject: Option<String>,
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub ignore_contact_correspondence_type: bool,
    pub date: NaiveDate,
    pub salesperson_code: Option<String>,
    /// Decimal string with two decimals.
    #[schema(value_type = String, example = "12.50")]
    pub unit_cost: Money,
    pub unit_duration_min: i64,
    /// From the template (read-only).
    pub information_flow: Option<InformationFlow>,
    /// From the template (read-only).
    pub initiated_by: Option<InitiatedBy>,
    pub send_as_attachment: bool,
    /// Header fields whose value comes from the template because the header does not set them.
    pub from_template: Vec<String>,
    pub no_of_lines: i64,
    pub no_of_criteria_actions: i64,
    /// Sum of the lines' effective costs.
    #[schema(value_type = String, example = "125.00")]
    pub total_cost: Money,
    pub total_duration_min: i64,
    pub logged_segment_id: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The ETag: the segment's version (which line changes move too) and its template's.
    #[serde(skip)]
    pub etag: String,
}

impl From<SegmentView> for SegmentResponse {
    fn from(v: SegmentView) -> Self {
        let SegmentView { row, template, total_cost_cents, total_duration_min } = v;
        let t = template.as_ref();
        let from_template = if t.is_some() { row.fields_left_to_template() } else { Vec::new() };
        SegmentResponse {
            etag: etag(&[row.version, t.map_or(0, |t| t.version)]),
            id: row.id,
            no: row.no,
            description: row.description,
            status: row.status,
            interaction_template_code: row.interaction_template_code,
            interaction_group_code: t.and_then(|t| t.interaction_group_code.clone()),
            subject: row.subject,
            language_code: row.language_code.or_else(|| t.and_then(|t| t.language_code.clone())),
            correspondence_type: row.correspondence_type.or_else(|| t.and_then(|t| t.correspondence_type)),
            ignore_contact_correspondence_type: row
                .ignore_contact_correspondence_type
                .or(t.map(|t| t.ignore_contact_correspondence_type))
                .unwrap_or(false),
            date: row.date,
            salesperson_code: row.salesperson_code,
            unit_cost: Money(row.unit_cost_cents.or(t.map(|t| t.unit_cost_cents)).unwrap_or(0)),
            unit_duration_min: row.unit_duration_min.or(t.map(|t| t.unit_duration_min)).unwrap_or(0),
            information_flow: t.map(|t| t.information_flow),
            initiated_by: t.map(|t| t.initiated_by),
            send_as_attachment: row.send_as_attachment,
            from_template,
            no_of_lines: row.no_of_lines,
            no_of_criteria_actions: row.no_of_criteria_actions,
            total_cost: Money(total_cost_cents),
            total_duration_min,
            logged_segment_id: row.logged_segment_id,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A segment to create; `date` defaults to today.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSegment {
    /// Required before logging.
    #[schema(max_length = 100)]
    pub description: Option<String>,
    /// Its defaults become the header's unless set here.
    #[schema(max_length = 20)]
    pub interaction_template_code: Option<String>,
    #[schema(max_length = 100)]
    pub subject: Option<String>,
    #[schema(max_length = 10)]
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    pub ignore_contact_correspondence_type: Option<bool>,
    pub date: Option<NaiveDate>,
    #[schema(max_length = 20)]
    pub salesperson_code: Option<String>,
    #[schema(schema_with = amount_or_null)]
    pub unit_cost: Option<Money>,
    #[schema(minimum = 0, maximum = 100_000)]
    pub unit_duration_min: Option<i64>,
    pub send_as_attachment: Option<bool>,
}

/// A change to a header: absent fields stay, `null` clears (template-supplied fields then
/// fall back to the template; `date` and `send_as_attachment` cannot be null). Choosing
/// another template makes its defaults the header's again: language, correspondence type,
/// the ignore flag, unit cost and duration set earlier are cleared unless this request sets
/// them. Lines that do not override a field follow the change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentPatch {
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub interaction_template_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 100)]
    pub subject: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10)]
    pub language_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CorrespondenceType>)]
    pub correspondence_type: Option<Option<CorrespondenceType>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<bool>)]
    pub ignore_contact_correspondence_type: Option<Option<bool>>,
    /// Cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = NaiveDate)]
    pub date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub salesperson_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(schema_with = amount_or_null)]
    pub unit_cost: Option<Option<Money>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100_000)]
    pub unit_duration_min: Option<Option<i64>>,
    /// Cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub send_as_attachment: Option<Option<bool>>,
}

/// A page of segments.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentList {
    pub items: Vec<SegmentResponse>,
    pub next_cursor: Option<String>,
}
