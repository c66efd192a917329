//! The interaction template row, its resolved writable fields, and its wire types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::interaction_templates;
use crate::domain::money::{amount, amount_or_null_described, Money};
use crate::domain::patch;
use crate::domain::validation::Checker;
use crate::domain::{CorrespondenceType, InformationFlow, InitiatedBy};

const DESCRIPTION_MAX: usize = 100;
const LANGUAGE_CODE_MAX: usize = 10;

/// An `interaction_templates` row; fields in column order.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interaction_templates)]
pub struct Template {
    pub code: String,
    pub interaction_group_code: Option<String>,
    pub description: String,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    pub unit_cost_cents: i64,
    pub unit_duration_min: i64,
    pub correspondence_type: Option<CorrespondenceType>,
    pub language_code: Option<String>,
    pub ignore_contact_correspondence_type: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Every writable field of a template, resolved: a create is a change applied to the
/// defaults, a PATCH a change applied to the stored row, and equal states mean "unchanged".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFields {
    pub interaction_group_code: Option<String>,
    pub description: String,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    pub unit_cost: Money,
    pub unit_duration_min: i64,
    pub correspondence_type: Option<CorrespondenceType>,
    pub language_code: Option<String>,
    pub ignore_contact_correspondence_type: bool,
}

impl TemplateFields {
    /// BC's defaults: outbound, initiated by us, no cost or duration, email.
    fn defaults(description: String) -> Self {
        TemplateFields {
            interaction_group_code: None,
            description,
            information_flow: InformationFlow::Outbound,
            initiated_by: InitiatedBy::Us,
            unit_cost: Money(0),
            unit_duration_min: 0,
            correspondence_type: Some(CorrespondenceType::Email),
            language_code: None,
            ignore_contact_correspondence_type: false,
        }
    }

    /// The fields of a stored row.
    pub fn of(row: &Template) -> Self {
        TemplateFields {
            interaction_group_code: row.interaction_group_code.clone(),
            description: row.description.clone(),
            information_flow: row.information_flow,
            initiated_by: row.initiated_by,
            unit_cost: Money(row.unit_cost_cents),
            unit_duration_min: row.unit_duration_min,
            correspondence_type: row.correspondence_type,
            language_code: row.language_code.clone(),
            ignore_contact_correspondence_type: row.ignore_contact_correspondence_type,
        }
    }

    /// The checks that need no database; the interaction group is checked by the repo.
    pub fn check(&self, c: &mut Checker) {
        c.required("description", &self.description, DESCRIPTION_MAX);
        c.amount("unit_cost", Some(self.unit_cost.cents()));
        c.minutes("unit_duration_min", Some(self.unit_duration_min));
        c.max_len("language_code", self.language_code.as_deref(), LANGUAGE_CODE_MAX);
    }

    /// Applies a PATCH; `null` for a field that cannot be null is reported and left alone.
    fn apply(&mut self, p: TemplatePatch, c: &mut Checker) {
        patch::apply(&mut self.interaction_group_code, p.interaction_group_code);
        patch::apply(&mut self.correspondence_type, p.correspondence_type);
        patch::apply(&mut self.language_code, p.language_code);
        patch::apply_required(c, "description", &mut self.description, p.description);
        patch::apply_required(c, "information_flow", &mut self.information_flow, p.information_flow);
        patch::apply_required(c, "initiated_by", &mut self.initiated_by, p.initiated_by);
        patch::apply_required(c, "unit_cost", &mut self.unit_cost, p.unit_cost);
        patch::apply_required(c, "unit_duration_min", &mut self.unit_duration_min, p.unit_duration_min);
        patch::apply_required(
            c,
            "ignore_contact_correspondence_type",
            &mut self.ignore_contact_correspondence_type,
            p.ignore_contact_correspondence_type,
        );
    }
}

/// An interaction template: the defaults a segment takes when it chooses the template.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateResponse {
    /// The key, unique among templates; immutable.
    pub code: String,
    /// The interaction group the template belongs to.
    pub interaction_group_code: Option<String>,
    pub description: String,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    /// Cost of one interaction: a decimal string with two decimals.
    #[schema(value_type = String, example = "12.50")]
    pub unit_cost: Money,
    /// Duration of one interaction, in minutes.
    pub unit_duration_min: i64,
    /// The default channel; null for none.
    pub correspondence_type: Option<CorrespondenceType>,
    /// The default language.
    pub language_code: Option<String>,
    /// Use the segment's correspondence type even where a contact prefers another.
    pub ignore_contact_correspondence_type: bool,
    /// Increases on every change; the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Template> for TemplateResponse {
    fn from(row: Template) -> Self {
        let fields = TemplateFields::of(&row);
        TemplateResponse {
            code: row.code,
            interaction_group_code: fields.interaction_group_code,
            description: fields.description,
            information_flow: fields.information_flow,
            initiated_by: fields.initiated_by,
            unit_cost: fields.unit_cost,
            unit_duration_min: fields.unit_duration_min,
            correspondence_type: fields.correspondence_type,
            language_code: fields.language_code,
            ignore_contact_correspondence_type: fields.ignore_contact_correspondence_type,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// One page of interaction templates, ordered by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateResponse>,
    /// The `cursor` of the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of `GET /v1/interaction-templates`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    pub cursor: Option<String>,
    /// Only templates of this interaction group.
    pub interaction_group_code: Option<String>,
    /// Only templates with this information flow.
    #[param(inline)]
    pub information_flow: Option<InformationFlow>,
}

/// The filters of the template list, validated.
#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    pub interaction_group_code: Option<String>,
    pub information_flow: Option<InformationFlow>,
}

/// `{code}` in the path of one template.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TemplatePath {
    /// The template's code.
    pub code: String,
}

/// An interaction template to create; omitted fields take BC's defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    /// 1 to 20 characters, no spaces or slashes (it becomes part of URLs).
    #[schema(min_length = 1, max_length = 20, pattern = "^[^\\s/\\u0000-\\u001f\\u007f-\\u009f]+$")]
    pub code: String,
    /// An existing interaction group.
    #[serde(default)]
    #[schema(max_length = 20)]
    pub interaction_group_code: Option<String>,
    /// Required, not blank, at most 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: String,
    /// Default: `outbound`.
    #[serde(default)]
    pub information_flow: Option<InformationFlow>,
    /// Default: `us`.
    #[serde(default)]
    pub initiated_by: Option<InitiatedBy>,
    #[serde(default)]
    #[schema(schema_with = unit_cost_or_default)]
    pub unit_cost: Option<Money>,
    /// Minutes, 0 to 100,000. Default: `0`.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100_000)]
    pub unit_duration_min: Option<i64>,
    /// `null` for none. Default: `email` (as in BC).
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CorrespondenceType>)]
    pub correspondence_type: Option<Option<CorrespondenceType>>,
    /// At most 10 characters.
    #[serde(default)]
    #[schema(max_length = 10)]
    pub language_code: Option<String>,
    /// Default: `false`.
    #[serde(default)]
    pub ignore_contact_correspondence_type: Option<bool>,
}

impl CreateTemplate {
    /// The code and the fields to insert, after the checks that need no database; the
    /// faults found here are kept in `c` so that all of them are answered at once.
    pub fn into_fields(self, c: &mut Checker) -> (String, TemplateFields) {
        c.code("code", &self.code);
        let mut fields = TemplateFields::defaults(String::new());
        let patch = TemplatePatch {
            interaction_group_code: self.interaction_group_code.map(Some),
            description: Some(Some(self.description)),
            information_flow: self.information_flow.map(Some),
            initiated_by: self.initiated_by.map(Some),
            unit_cost: self.unit_cost.map(Some),
            unit_duration_min: self.unit_duration_min.map(Some),
            correspondence_type: self.correspondence_type,
            language_code: self.language_code.map(Some),
            ignore_contact_correspondence_type: self.ignore_contact_correspondence_type.map(Some),
        };
        fields.apply(patch, c);
        fields.check(c);
        (self.code, fields)
    }
}

/// Changes to a template: an absent field is left alone, `null` clears
/// `interaction_group_code`, `correspondence_type` or `language_code` (the others cannot be
/// null). The code cannot change; a change that alters nothing leaves `version` alone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePatch {
    /// An existing interaction group, or null for none.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 20)]
    pub interaction_group_code: Option<Option<String>>,
    /// Not blank, at most 100 characters; cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = InformationFlow)]
    pub information_flow: Option<Option<InformationFlow>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = InitiatedBy)]
    pub initiated_by: Option<Option<InitiatedBy>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(schema_with = amount)]
    pub unit_cost: Option<Option<Money>>,
    /// Minutes, 0 to 100,000.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = i64, minimum = 0, maximum = 100_000)]
    pub unit_duration_min: Option<Option<i64>>,
    /// The default channel, or null for none.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CorrespondenceType>)]
    pub correspondence_type: Option<Option<CorrespondenceType>>,
    /// At most 10 characters, or null to clear it.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 10)]
    pub language_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub ignore_contact_correspondence_type: Option<Option<bool>>,
}

impl TemplatePatch {
    /// The stored fields with this change applied, checked (but for the interaction group,
    /// which the repo checks); faults are kept in `c`.
    pub fn apply_to(self, current: &TemplateFields, c: &mut Checker) -> TemplateFields {
        let mut fields = current.clone();
        fields.apply(self, c);
        fields.check(c);
        fields
    }
}

/// The columns a write sets from the resolved fields.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = interaction_templates, treat_none_as_null = true)]
pub struct TemplateColumns<'a> {
    pub interaction_group_code: Option<&'a str>,
    pub description: &'a str,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    pub unit_cost_cents: i64,
    pub unit_duration_min: i64,
    pub correspondence_type: Option<CorrespondenceType>,
    pub language_code: Option<&'a str>,
    pub ignore_contact_correspondence_type: bool,
}

impl<'a> From<&'a TemplateFields> for TemplateColumns<'a> {
    fn from(f: &'a TemplateFields) -> Self {
        TemplateColumns {
            interaction_group_code: f.interaction_group_code.as_deref(),
            description: &f.description,
            information_flow: f.information_flow,
            initiated_by: f.initiated_by,
            unit_cost_cents: f.unit_cost.cents(),
            unit_duration_min: f.unit_duration_min,
            correspondence_type: f.correspondence_type,
            language_code: f.language_code.as_deref(),
            ignore_contact_correspondence_type: f.ignore_contact_correspondence_type,
        }
    }
}

/// A new template's `unit_cost`, which says its default.
fn unit_cost_or_default() -> utoipa::openapi::schema::Schema {
    amount_or_null_described(
        "At least 0, at most two decimals, as a string (`\"12.50\"`) or a number. Default: `\"0.00\"`.",
    )
}
