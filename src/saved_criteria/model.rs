//! Saved criteria: a segment's filter actions stored under a code, as readable JSON.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::criteria::filter::FilterNode;
use crate::criteria::selection::ActionOptions;
use crate::db::schema::{saved_criteria, saved_criteria_actions};
use crate::domain::validation::Checker;
use crate::domain::CriteriaActionKind;
use crate::error::ApiError;
use crate::segments::criteria_actions::model::ActionSpec;

/// A stored saved-criteria header.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_criteria)]
pub struct SavedCriteriaRow {
    pub code: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One stored action of saved criteria.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_criteria_actions)]
pub struct SavedActionRow {
    pub saved_criteria_code: String,
    pub seq: i64,
    pub action: CriteriaActionKind,
    pub filter: String,
    pub options: String,
}

/// Saves the filter actions of a segment under a code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSavedCriteria {
    /// 1 to 20 characters, no spaces or slashes.
    #[schema(min_length = 1, max_length = 20, pattern = "^[^\\s/\\u0000-\\u001f\\u007f-\\u009f]+$")]
    pub code: String,
    /// Required, not blank, at most 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: String,
    /// The segment whose criteria actions (those with a filter, in order) are saved.
    pub segment_id: i64,
}

impl CreateSavedCriteria {
    pub fn check(&self) -> Result<(), ApiError> {
        let mut c = Checker::new();
        c.code("code", &self.code);
        c.required("description", &self.description, 100);
        c.finish()
    }
}

/// One saved action, replayed in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedAction {
    pub seq: i64,
    pub action: CriteriaActionKind,
    pub filter: FilterNode,
    pub options: ActionOptions,
}

impl TryFrom<SavedActionRow> for SavedAction {
    type Error = ApiError;

    fn try_from(row: SavedActionRow) -> Result<Self, ApiError> {
        let spec = ActionSpec::from_stored(row.action, &row.filter, &row.options)?;
        Ok(SavedAction { seq: row.seq, action: spec.kind, filter: spec.filter, options: spec.options })
    }
}

/// Saved criteria with their actions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedCriteriaResponse {
    pub code: String,
    pub description: String,
    pub actions: Vec<SavedAction>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SavedCriteriaResponse {
    pub fn new(row: SavedCriteriaRow, actions: Vec<SavedActionRow>) -> Result<Self, ApiError> {
        Ok(SavedCriteriaResponse {
            code: row.code,
            description: row.description,
            actions: actions.into_iter().map(SavedAction::try_from).collect::<Result<_, _>>()?,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A page of saved criteria, by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedCriteriaList {
    pub items: Vec<SavedCriteriaResponse>,
    pub next_cursor: Option<String>,
}
