//! The salesperson row, its insert and update forms, and its wire types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::salespeople;
use crate::domain::patch;
use crate::domain::text::email_or_null;
use crate::domain::validation::Checker;
use crate::error::ApiError;

const NAME_MAX: usize = 50;
const PHONE_MAX: usize = 30;

/// A `salespeople` row; fields in column order, as `RETURNING salespeople.*` fills it by position.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = salespeople)]
pub struct Salesperson {
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A validated salesperson to insert (`version` and the timestamps are added by the insert).
#[derive(Debug, Insertable)]
#[diesel(table_name = salespeople)]
pub struct NewSalesperson {
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A validated change: `None` leaves a column alone, `Some(None)` sets it to null.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = salespeople)]
pub struct SalespersonChangeset {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

/// A salesperson: the code that contacts, segments and interactions refer to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalespersonResponse {
    /// The key, unique among salespeople; immutable.
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Increases on every change; the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Salesperson> for SalespersonResponse {
    fn from(row: Salesperson) -> Self {
        SalespersonResponse {
            code: row.code,
            name: row.name,
            email: row.email,
            phone: row.phone,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// One page of salespeople, ordered by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalespersonList {
    pub items: Vec<SalespersonResponse>,
    /// The `cursor` of the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A salesperson to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSalesperson {
    /// 1 to 20 characters, no spaces or slashes (it becomes part of URLs).
    #[schema(min_length = 1, max_length = 20, pattern = "^[^\\s/\\u0000-\\u001f\\u007f-\\u009f]+$")]
    pub code: String,
    /// Required, not blank, at most 50 characters.
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = email_or_null)]
    pub email: Option<String>,
    /// At most 30 characters.
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
}

impl CreateSalesperson {
    /// Checks every field and answers all faults at once.
    pub fn validate(self) -> Result<NewSalesperson, ApiError> {
        let mut check = Checker::new();
        check.code("code", &self.code);
        check.required("name", &self.name, NAME_MAX);
        check.email("email", self.email.as_deref());
        check.max_len("phone", self.phone.as_deref(), PHONE_MAX);
        check.finish()?;
        Ok(NewSalesperson { code: self.code, name: self.name, email: self.email, phone: self.phone })
    }
}

/// Changes to a salesperson; an absent field is left alone, `null` clears `email` or `phone`.
/// The code cannot change; a change that alters nothing leaves `version` alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSalesperson {
    /// Not blank, at most 50 characters; cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    #[schema(
        pattern = r"^[^\x00]*[^\x00\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(schema_with = email_or_null)]
    pub email: Option<Option<String>>,
    /// A phone number, or null to clear it.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 30)]
    pub phone: Option<Option<String>>,
}

impl UpdateSalesperson {
    pub fn validate(self) -> Result<SalespersonChangeset, ApiError> {
        let mut check = Checker::new();
        match &self.name {
            Some(None) => check.add("name", "required", "name cannot be null"),
            Some(Some(name)) => check.required("name", name, NAME_MAX),
            None => {}
        }
        check.email("email", self.email.as_ref().and_then(Option::as_deref));
        check.max_len("phone", self.phone.as_ref().and_then(Option::as_deref), PHONE_MAX);
        check.finish()?;
        Ok(SalespersonChangeset { name: self.name.flatten(), email: self.email, phone: self.phone })
    }
}
