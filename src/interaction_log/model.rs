//! Interaction log entries: the stored row and the wire types.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::interaction_log_entries;
use crate::domain::money::{amount_or_null, Money};
use crate::domain::patch;
use crate::domain::{CorrespondenceType, DeliveryStatus, Evaluation, InformationFlow, InitiatedBy};

/// A stored entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interaction_log_entries)]
pub struct EntryRow {
    pub id: i64,
    pub entry_no: i64,
    pub contact_id: i64,
    pub contact_no: String,
    pub contact_name: String,
    pub contact_company_no: Option<String>,
    pub contact_company_name: Option<String>,
    pub date: NaiveDate,
    pub time_of_interaction: NaiveDateTime,
    pub description: String,
    pub subject: Option<String>,
    pub comment: Option<String>,
    pub interaction_template_code: String,
    pub interaction_group_code: Option<String>,
    pub language_code: Option<String>,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    pub correspondence_type: Option<CorrespondenceType>,
    pub salesperson_code: Option<String>,
    pub cost_cents: i64,
    pub duration_min: i64,
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
    pub segment_no: Option<String>,
    pub logged_segment_id: Option<i64>,
    pub user_name: String,
    pub delivery_status: DeliveryStatus,
    pub canceled: bool,
    pub created_at: NaiveDateTime,
    #[diesel(embed)]
    pub delivery: EntryExtras,
}

/// What an entry's delivery and document rows add to it (a key probe each).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interaction_log_entries)]
pub struct EntryExtras {
    #[diesel(select_expression = sql::<BigInt>(DELIVERY_ATTEMPTS), select_expression_type = SqlLiteral<BigInt>)]
    pub delivery_attempts: i64,
    #[diesel(select_expression = sql::<Nullable<Text>>(DELIVERY_ERROR), select_expression_type = SqlLiteral<Nullable<Text>>)]
    pub delivery_error: Option<String>,
    #[diesel(select_expression = sql::<Nullable<Timestamp>>(DELIVERED_AT), select_expression_type = SqlLiteral<Nullable<Timestamp>>)]
    pub delivered_at: Option<NaiveDateTime>,
    #[diesel(select_expression = sql::<Bool>(HAS_DOCUMENT), select_expression_type = SqlLiteral<Bool>)]
    pub has_document: bool,
}

// What an entry's delivery and document rows add to it (a key probe each).
const DELIVERY_ATTEMPTS: &str = "COALESCE((SELECT d.attempts FROM entry_deliveries d \
     WHERE d.entry_id = interaction_log_entries.id), 0)";
const DELIVERY_ERROR: &str =
    "(SELECT d.last_error FROM entry_deliveries d WHERE d.entry_id = interaction_log_entries.id)";
const DELIVERED_AT: &str =
    "(SELECT d.sent_at FROM entry_deliveries d WHERE d.entry_id = interaction_log_entries.id)";
const HAS_DOCUMENT: &str =
    "EXISTS (SELECT 1 FROM entry_documents ed WHERE ed.entry_id = interaction_log_entries.id)";

/// An interaction with one contact, as logged (contact fields are copied at logging time).
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryResponse {
    pub id: i64,
    /// Unique and increasing.
    pub entry_no: i64,
    pub contact_id: i64,
    pub contact_no: String,
    pub contact_name: String,
    pub contact_company_no: Option<String>,
    pub contact_company_name: Option<String>,
    pub date: NaiveDate,
    pub time_of_interaction: DateTime<Utc>,
    pub description: String,
    pub subject: Option<String>,
    pub comment: Option<String>,
    pub interaction_template_code: String,
    pub interaction_group_code: Option<String>,
    pub language_code: Option<String>,
    pub information_flow: InformationFlow,
    pub initiated_by: InitiatedBy,
    pub correspondence_type: Option<CorrespondenceType>,
    pub salesperson_code: Option<String>,
    /// Decimal string with two decimals.
    #[schema(value_type = String, example = "12.50")]
    pub cost: Money,
    pub duration_min: i64,
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
    pub segment_no: Option<String>,
    pub logged_segment_id: Option<i64>,
    /// The name of the API key that logged it.
    pub user: String,
    /// `not_applicable` unless the entry was logged with `deliver` as email or hard copy; then
    /// `pending` until it is `sent` or has `failed` (after its retries; `resend` queues it again).
    pub delivery_status: DeliveryStatus,
    /// Delivery attempts since it was queued (or last resent).
    pub delivery_attempts: i64,
    /// Why the last attempt failed, if it did.
    pub delivery_error: Option<String>,
    /// When it was sent (an email accepted by the SMTP server, a letter ready to print).
    pub delivered_at: Option<DateTime<Utc>>,
    /// Whether a merged document belongs to the entry: `GET .../document` answers it.
    pub has_document: bool,
    pub canceled: bool,
    pub created_at: DateTime<Utc>,
}

impl EntryResponse {
    /// The header row of `entries.csv`: the fields, in order.
    pub const CSV_COLUMNS: &'static [&'static str] = &[
        "id",
        "entry_no",
        "contact_id",
        "contact_no",
        "contact_name",
        "contact_company_no",
        "contact_company_name",
        "date",
        "time_of_interaction",
        "description",
        "subject",
        "comment",
        "interaction_template_code",
        "interaction_group_code",
        "language_code",
        "information_flow",
        "initiated_by",
        "correspondence_type",
        "salesperson_code",
        "cost",
        "duration_min",
        "evaluation",
        "attempt_failed",
        "segment_no",
        "logged_segment_id",
        "user",
        "delivery_status",
        "delivery_attempts",
        "delivery_error",
        "delivered_at",
        "has_document",
        "canceled",
        "created_at",
    ];
}

impl From<EntryRow> for EntryResponse {
    fn from(r: EntryRow) -> Self {
        EntryResponse {
            id: r.id,
            entry_no: r.entry_no,
            contact_id: r.contact_id,
            contact_no: r.contact_no,
            contact_name: r.contact_name,
            contact_company_no: r.contact_company_no,
            contact_company_name: r.contact_company_name,
            date: r.date,
            time_of_interaction: r.time_of_interaction.and_utc(),
            description: r.description,
            subject: r.subject,
            comment: r.comment,
            interaction_template_code: r.interaction_template_code,
            interaction_group_code: r.interaction_group_code,
            language_code: r.language_code,
            information_flow: r.information_flow,
            initiated_by: r.initiated_by,
            correspondence_type: r.correspondence_type,
            salesperson_code: r.salesperson_code,
            cost: Money(r.cost_cents),
            duration_min: r.duration_min,
            evaluation: r.evaluation,
            attempt_failed: r.attempt_failed,
            segment_no: r.segment_no,
            logged_segment_id: r.logged_segment_id,
            user: r.user_name,
            delivery_status: r.delivery_status,
            delivery_attempts: r.delivery.delivery_attempts,
            delivery_error: r.delivery.delivery_error,
            delivered_at: r.delivery.delivered_at.map(|t| t.and_utc()),
            has_document: r.delivery.has_document,
            canceled: r.canceled,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// A page of entries, by entry no.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryList {
    pub items: Vec<EntryResponse>,
    pub next_cursor: Option<String>,
}

impl EntryList {
    /// A page of stored entries as answered.
    pub fn new(rows: Vec<EntryRow>, next_cursor: Option<String>) -> Self {
        EntryList { items: rows.into_iter().map(EntryResponse::from).collect(), next_cursor }
    }
}

/// What may change after logging; any other field is refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPatch {
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<Evaluation>)]
    pub evaluation: Option<Option<Evaluation>>,
    /// Cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub attempt_failed: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 250)]
    pub comment: Option<Option<String>>,
    /// Cannot be null.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = bool)]
    pub canceled: Option<Option<bool>>,
}

/// The changeable part of an entry.
#[derive(Debug, Clone, PartialEq, AsChangeset)]
#[diesel(table_name = interaction_log_entries, treat_none_as_null = true)]
pub struct EntryChanges {
    pub evaluation: Option<Evaluation>,
    pub attempt_failed: bool,
    pub comment: Option<String>,
    pub canceled: bool,
}

/// One interaction with one contact logged by hand (an inbound call, a meeting), outside any
/// segment. What is not given comes as for a segment line: description, language, cost and
/// duration from the template, salesperson from the contact, correspondence type by the line
/// rule (the contact's preferred one unless the template ignores it, else the template's),
/// date today (UTC). Information flow and initiated by are the template's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    pub contact_id: i64,
    #[schema(max_length = 20)]
    pub interaction_template_code: String,
    pub date: Option<NaiveDate>,
    #[schema(max_length = 100)]
    pub description: Option<String>,
    #[schema(max_length = 100)]
    pub subject: Option<String>,
    #[schema(max_length = 250)]
    pub comment: Option<String>,
    #[schema(max_length = 10)]
    pub language_code: Option<String>,
    pub correspondence_type: Option<CorrespondenceType>,
    #[schema(max_length = 20)]
    pub salesperson_code: Option<String>,
    #[schema(schema_with = amount_or_null)]
    pub cost: Option<Money>,
    #[schema(minimum = 0, maximum = 100_000)]
    pub duration_min: Option<i64>,
    pub evaluation: Option<Evaluation>,
    #[serde(default)]
    pub attempt_failed: bool,
}
