//! Logged segments: the stored row and the wire types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::logged_segments;

/// A stored logged segment.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = logged_segments)]
pub struct LoggedSegmentRow {
    pub id: i64,
    pub no: String,
    pub segment_id: i64,
    pub segment_no: String,
    pub description: String,
    pub no_of_interactions: i64,
    pub user_name: String,
    pub canceled: bool,
    pub created_at: NaiveDateTime,
}

/// A segment as logged: its entries were written together.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedSegmentResponse {
    pub id: i64,
    pub no: String,
    pub segment_id: i64,
    pub segment_no: String,
    pub description: String,
    pub no_of_interactions: i64,
    /// The name of the API key that logged it.
    pub user: String,
    pub canceled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<LoggedSegmentRow> for LoggedSegmentResponse {
    fn from(r: LoggedSegmentRow) -> Self {
        LoggedSegmentResponse {
            id: r.id,
            no: r.no,
            segment_id: r.segment_id,
            segment_no: r.segment_no,
            description: r.description,
            no_of_interactions: r.no_of_interactions,
            user: r.user_name,
            canceled: r.canceled,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// A page of logged segments, newest last.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedSegmentList {
    pub items: Vec<LoggedSegmentResponse>,
    pub next_cursor: Option<String>,
}
