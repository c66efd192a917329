//! Rows and wire types of the five code tables that hold a code and a description, and the
//! path parameter every code table shares.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::Queryable;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::patch;
use crate::domain::validation::Checker;
use crate::error::ApiError;

/// The longest description a code table accepts.
const DESCRIPTION_MAX: usize = 100;

/// `{code}` in the path of one code table entry.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    /// The entry's code.
    pub code: String,
}

/// A row of a code-and-description table (selected column by column, so one struct serves
/// all five tables).
#[derive(Debug, Queryable)]
pub struct DescribedCode {
    pub code: String,
    pub description: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A validated entry to insert.
#[derive(Debug)]
pub struct NewDescribedCode {
    pub code: String,
    pub description: String,
}

/// A validated change: `None` leaves the description alone.
#[derive(Debug)]
pub struct DescribedCodeChangeset {
    pub description: Option<String>,
}

/// A code table entry: a mailing group, industry group, business relation, job
/// responsibility or interaction group.
#[derive(Debug, Serialize, ToSchema)]
pub struct DescribedCodeResponse {
    /// The key, unique in its table; immutable.
    pub code: String,
    pub description: String,
    /// Increases on every change; the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DescribedCode> for DescribedCodeResponse {
    fn from(row: DescribedCode) -> Self {
        DescribedCodeResponse {
            code: row.code,
            description: row.description,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// One page of code table entries, ordered by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct DescribedCodeList {
    pub items: Vec<DescribedCodeResponse>,
    /// The `cursor` of the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A code table entry to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDescribedCode {
    /// 1 to 20 characters, no spaces or slashes (it becomes part of URLs).
    #[schema(min_length = 1, max_length = 20, pattern = "^[^\\s/\\u0000-\\u001f\\u007f-\\u009f]+$")]
    pub code: String,
    /// Required, not blank, at most 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: String,
}

impl CreateDescribedCode {
    /// Checks every field and answers all faults at once.
    pub fn validate(self) -> Result<NewDescribedCode, ApiError> {
        let mut check = Checker::new();
        check.code("code", &self.code);
        check.required("description", &self.description, DESCRIPTION_MAX);
        check.finish()?;
        Ok(NewDescribedCode { code: self.code, description: self.description })
    }
}

/// Changes to a code table entry; an absent field is left alone. The code cannot change; a
/// change that alters nothing leaves `version` alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDescribedCode {
    /// Not blank, at most 100 characters; cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: Option<Option<String>>,
}

impl UpdateDescribedCode {
    pub fn validate(self) -> Result<DescribedCodeChangeset, ApiError> {
        let mut check = Checker::new();
        match &self.description {
            Some(None) => check.add("description", "required", "description cannot be null"),
            Some(Some(description)) => check.required("description", description, DESCRIPTION_MAX),
            None => {}
        }
        check.finish()?;
        Ok(DescribedCodeChangeset { description: self.description.flatten() })
    }
}
