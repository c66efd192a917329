//! The request and answer of logging a segment.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::logged_segments::model::LoggedSegmentResponse;
use crate::segments::model::SegmentResponse;

/// Asks to log a segment.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogSegment {
    /// Queue the email and hard-copy entries for delivery.
    #[serde(default)]
    pub deliver: bool,
    /// Also create an open segment with the same header and contacts.
    #[serde(default)]
    pub create_follow_up: bool,
}

/// What logging wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogResult {
    pub logged_segment: LoggedSegmentResponse,
    pub follow_up_segment: Option<SegmentResponse>,
}
