//! Criteria actions: the stored row, the request of an action or preview, and the answers.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::criteria::filter::{parse_filter, FilterNode};
use crate::criteria::selection::ActionOptions;
use crate::db::schema::criteria_actions;
use crate::domain::validation::Checker;
use crate::domain::{ContactType, CriteriaActionKind, CriteriaActionSource};
use crate::error::ApiError;

/// A recorded criteria action.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = criteria_actions)]
pub struct CriteriaActionRow {
    pub id: i64,
    pub segment_id: i64,
    pub seq: i64,
    pub action: CriteriaActionKind,
    pub source: CriteriaActionSource,
    pub source_ref: Option<String>,
    /// The validated filter tree as JSON.
    pub filter: Option<String>,
    /// [`ActionOptions`] as JSON.
    pub options: String,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub created_at: NaiveDateTime,
}

/// The filter-based actions a client can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterAction {
    /// Add the contacts that match.
    Add,
    /// Remove the lines whose contact matches (Business Central "Remove Contacts - Reduce").
    Remove,
    /// Keep only the lines whose contact matches (Business Central "Remove Contacts - Refine").
    Refine,
}

impl From<FilterAction> for CriteriaActionKind {
    fn from(action: FilterAction) -> Self {
        match action {
            FilterAction::Add => CriteriaActionKind::Add,
            FilterAction::Remove => CriteriaActionKind::Remove,
            FilterAction::Refine => CriteriaActionKind::Refine,
        }
    }
}

/// A criteria action to run (or to preview), as read; the document describes it as
/// [`CriteriaActionBody`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriteriaActionRequest {
    pub action: FilterAction,
    /// The filter tree; every fault is reported at once, `errors[].field` being its JSON pointer.
    pub filter: serde_json::Value,
    /// add: also add contacts already in the segment (a second line).
    #[serde(default)]
    pub allow_existing: bool,
    /// add: for a matching company, add its persons as well.
    #[serde(default)]
    pub expand_companies: bool,
    /// add: for a matching person, add its company as well.
    #[serde(default)]
    pub include_related_companies: bool,
    /// add: also add contacts marked `exclude_from_segment` (privacy-blocked ones never).
    #[serde(default)]
    pub ignore_exclusion: bool,
    /// remove / refine: a line matches when any contact of its company matches.
    #[serde(default)]
    pub entire_companies: bool,
}

// How the document describes a criteria action; `CriteriaActionRequest` reads the body and refuses
// an option of another action by name.
/// A criteria action: one schema per action, each with only its own options.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum CriteriaActionBody {
    Add(AddCriteriaAction),
    Remove(RemoveCriteriaAction),
    Refine(RefineCriteriaAction),
}

/// The one value of `action` in each schema of [`CriteriaActionBody`].
macro_rules! action_tag {
    ($name:ident, $variant:ident) => {
        #[derive(Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $variant,
        }
    };
}
action_tag!(AddTag, Add);
action_tag!(RemoveTag, Remove);
action_tag!(RefineTag, Refine);

/// Add the contacts that match the filter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AddCriteriaAction {
    #[schema(inline)]
    pub action: AddTag,
    #[schema(value_type = FilterNode)]
    pub filter: serde_json::Value,
    /// Also add contacts already in the segment (a second line).
    #[serde(default)]
    pub allow_existing: bool,
    /// For a matching company, add its persons as well.
    #[serde(default)]
    pub expand_companies: bool,
    /// For a matching person, add its company as well.
    #[serde(default)]
    pub include_related_companies: bool,
    /// Also add contacts marked `exclude_from_segment` (privacy-blocked ones never).
    #[serde(default)]
    pub ignore_exclusion: bool,
}

/// Remove the lines whose contact matches (Business Central "Remove Contacts - Reduce").
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RemoveCriteriaAction {
    #[schema(inline)]
    pub action: RemoveTag,
    #[schema(value_type = FilterNode)]
    pub filter: serde_json::Value,
    /// A line matches when any contact of its company matches.
    #[serde(default)]
    pub entire_companies: bool,
}

/// Keep only the lines whose contact matches (Business Central "Remove Contacts - Refine").
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RefineCriteriaAction {
    #[schema(inline)]
    pub action: RefineTag,
    #[schema(value_type = FilterNode)]
    pub filter: serde_json::Value,
    /// A line matches when any contact of its company matches.
    #[serde(default)]
    pub entire_companies: bool,
}

/// A validated action: what it does, to whom, with which options.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpec {
    pub kind: CriteriaActionKind,
    pub filter: FilterNode,
    pub options: ActionOptions,
}

impl ActionSpec {
    /// An action as stored: the validated filter tree and the options, each as JSON.
    pub fn from_stored(
        kind: CriteriaActionKind,
        filter: &str,
        options: &str,
    ) -> Result<ActionSpec, ApiError> {
        Ok(ActionSpec {
            kind,
            filter: serde_json::from_str(filter).map_err(ApiError::internal)?,
            options: serde_json::from_str(options).map_err(ApiError::internal)?,
        })
    }
}

impl CriteriaActionRequest {
    /// Checks the filter and that each option belongs to the action; every fault at once.
    pub fn parse(self) -> Result<ActionSpec, ApiError> {
        let mut c = Checker::new();
        let is_add = self.action == FilterAction::Add;
        for (name, set) in [
            ("allow_existing", self.allow_existing),
            ("expand_companies", self.expand_companies),
            ("include_related_companies", self.include_related_companies),
            ("ignore_exclusion", self.ignore_exclusion),
        ] {
            if set && !is_add {
                c.add(name, "not_allowed", format!("{name} is an option of add only"));
            }
        }
        if self.entire_companies && is_add {
            c.add(
                "entire_companies",
                "not_allowed",
                "entire_companies is an option of remove and refine only",
            );
        }
        let filter = parse_filter(&self.filter, "/filter").map_err(|faults| c.errors.extend(faults)).ok();
        c.finish()?;
        let filter = filter.ok_or_else(|| ApiError::internal("a filter fault went unreported"))?;
        Ok(ActionSpec {
            kind: self.action.into(),
            filter,
            options: ActionOptions {
                allow_existing: self.allow_existing,
                expand_companies: self.expand_companies,
                include_related_companies: self.include_related_companies,
                ignore_exclusion: self.ignore_exclusion,
                entire_companies: self.entire_companies,
            },
        })
    }
}

/// A recorded criteria action with what it did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriteriaActionResponse {
    pub id: i64,
    /// Its place in the segment's history, from 1.
    pub seq: i64,
    pub action: CriteriaActionKind,
    pub source: CriteriaActionSource,
    /// The saved criteria code or logged segment id it came from, when it did.
    pub source_ref: Option<String>,
    /// The filter as validated (null for a refresh or a reused logged segment).
    pub filter: Option<FilterNode>,
    pub options: ActionOptions,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<CriteriaActionRow> for CriteriaActionResponse {
    type Error = ApiError;

    fn try_from(row: CriteriaActionRow) -> Result<Self, ApiError> {
        let filter = row.filter.as_deref().map(serde_json::from_str::<FilterNode>).transpose();
        let options = serde_json::from_str::<ActionOptions>(&row.options);
        Ok(CriteriaActionResponse {
            id: row.id,
            seq: row.seq,
            action: row.action,
            source: row.source,
            source_ref: row.source_ref,
            filter: filter.map_err(ApiError::internal)?,
            options: options.map_err(ApiError::internal)?,
            lines_added: row.lines_added,
            lines_removed: row.lines_removed,
            created_at: row.created_at.and_utc(),
        })
    }
}

/// A page of a segment's criteria actions, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriteriaActionList {
    pub items: Vec<CriteriaActionResponse>,
    pub next_cursor: Option<String>,
}

/// A contact an action would add, or whose line it would remove.
#[derive(Debug, Serialize, ToSchema, QueryableByName)]
pub struct AffectedContact {
    #[diesel(sql_type = BigInt)]
    pub contact_id: i64,
    #[diesel(sql_type = Text)]
    pub contact_no: String,
    #[diesel(sql_type = Text)]
    pub contact_name: String,
    #[diesel(sql_type = Text)]
    pub contact_type: ContactType,
    /// The person's company (null for a company or a person without one).
    #[diesel(sql_type = Nullable<Text>)]
    pub company_no: Option<String>,
}

/// What an action would do, without doing it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionPreview {
    pub action: CriteriaActionKind,
    pub lines_added: i64,
    pub lines_removed: i64,
    /// The first contacts affected (at most 50), in the order the action would take them.
    pub contacts: Vec<AffectedContact>,
}

/// The action an undo reverted, and what it changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct UndoneAction {
    pub action: CriteriaActionResponse,
    /// Lines the action had added that still existed, now deleted.
    pub lines_deleted: i64,
    /// Lines the action had removed, restored with their values and overrides.
    pub lines_restored: i64,
}

/// Asks for a refresh: replay the segment's own actions on today's contacts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Answer the difference without writing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a refresh changes (or, as a dry run, would change).
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshResult {
    /// Contacts that join (counted), with the first 50.
    pub joining: i64,
    pub joining_contacts: Vec<AffectedContact>,
    /// Lines that leave (counted), with the first 50 of their contacts.
    pub leaving: i64,
    pub leaving_contacts: Vec<AffectedContact>,
    /// The recorded action, when not a dry run.
    pub action: Option<CriteriaActionResponse>,
}

/// Saved criteria to replay on this segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplySavedCriteria {
    /// The saved criteria's code.
    #[schema(min_length = 1, max_length = 20, pattern = r"^[^\s/\x00-\x1f\x7f-\x9f]+$")]
    pub code: String,
}

/// The actions a replay of saved criteria recorded, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedActions {
    pub items: Vec<CriteriaActionResponse>,
}

/// Adds the contacts of a logged segment to this segment as one recorded, undoable action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReuseLoggedSegment {
    pub logged_segment_id: i64,
    /// Also add contacts now marked `exclude_from_segment` (privacy-blocked ones never).
    #[serde(default)]
    pub ignore_exclusion: bool,
    /// Also take contacts whose entry was canceled.
    #[serde(default)]
    pub include_canceled: bool,
}

/// Contacts of the logged segment that were not added, by reason.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ReuseSkipped {
    pub privacy_blocked: i64,
    pub excluded: i64,
    pub canceled: i64,
    pub already_in_segment: i64,
}

/// The recorded action and what it skipped.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReusedLoggedSegment {
    pub action: CriteriaActionResponse,
    pub skipped: ReuseSkipped,
}
