//! The exact OpenAPI description of a filter condition: one named schema per field kind and
//! operator group, so that a generated client can only build conditions whose value fits the
//! field and operator. Parsing does not use these types (it reads JSON and reports every fault
//! with its pointer, see `filter`); they exist for the document.

use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::filter::{Condition, MAX_LIST, MAX_TEXT};
use crate::domain::{ContactType, CorrespondenceType, Evaluation};

// The bounds of the parser, as the schema attributes must state them literally.
const _: () = assert!(MAX_TEXT == 200 && MAX_LIST == 1000);

/// Text fields (contact fields, and in `interactions.where` the entry's codes and segment no).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum TextField {
    No,
    Name,
    CompanyNo,
    City,
    PostCode,
    CountryCode,
    County,
    SalespersonCode,
    TerritoryCode,
    LanguageCode,
    InteractionTemplateCode,
    InteractionGroupCode,
    SegmentNo,
}

/// Date fields (`date` of an entry) and timestamps (`created_at`, `updated_at` of a contact).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum TimeField {
    CreatedAt,
    UpdatedAt,
    Date,
}

/// Fields that may have no value.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum NullableField {
    No,
    Name,
    CompanyNo,
    City,
    PostCode,
    CountryCode,
    County,
    SalespersonCode,
    TerritoryCode,
    LanguageCode,
    InteractionTemplateCode,
    InteractionGroupCode,
    SegmentNo,
    CreatedAt,
    UpdatedAt,
    Date,
}

/// Boolean fields: `has_email` of a contact, `canceled` of an entry.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum BoolField {
    HasEmail,
    Canceled,
}

/// Code-table memberships of a contact (industry group and business relation through the
/// company for persons).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum MembershipField {
    MailingGroup,
    JobResponsibility,
    IndustryGroup,
    BusinessRelation,
}

/// `eq`, `ne` (true where the field has no value), `contains`, `starts_with`
/// (case-insensitive, Unicode-aware).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum TextOp {
    Eq,
    Ne,
    Contains,
    StartsWith,
}

/// `in`, `not_in` (true where the field has no value).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum ListOp {
    In,
    NotIn,
}

/// `eq`, `ne`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum EqualityOp {
    Eq,
    Ne,
}

/// Comparisons; on a timestamp, a date means the whole UTC day.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum TimeOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// Only `is_null`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum IsNullOp {
    IsNull,
}

/// Only `eq`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum EqOp {
    Eq,
}

/// Only `between`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum BetweenOp {
    Between,
}

/// Only `type` (company or person).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum TypeField {
    Type,
}

/// Only `correspondence_type` (the contact's preferred one, or the entry's).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum CorrespondenceField {
    CorrespondenceType,
}

/// Only `evaluation` (of an entry).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationField {
    Evaluation,
}

/// Only `logged_segment_id` (of an entry).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "snake_case")]
pub enum IdField {
    LoggedSegmentId,
}

/// A text field compared with one text.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextCondition {
    pub field: TextField,
    pub op: TextOp,
    #[schema(max_length = 200)]
    pub value: String,
}

/// A text field compared with a list of texts.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextListCondition {
    pub field: TextField,
    pub op: ListOp,
    #[schema(min_items = 1, max_items = 1000)]
    pub value: Vec<String>,
}

/// Whether a field has no value (`true`) or has one (`false`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IsNullCondition {
    pub field: NullableField,
    pub op: IsNullOp,
    pub value: bool,
}

/// A date (`YYYY-MM-DD`) or, on a timestamp, an RFC 3339 instant or a date.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeCondition {
    pub field: TimeField,
    pub op: TimeOp,
    pub value: TimeValue,
}

/// A date (`YYYY-MM-DD`) or an RFC 3339 instant, in the years 1 to 9999 (a schema only).
#[derive(Serialize)]
pub struct TimeValue;

impl PartialSchema for TimeValue {
    fn schema() -> RefOr<Schema> {
        // `[0-9]`, not `\d` (other scripts' digits); years 1 to 9999, real months, days and hours.
        let pattern = r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$";
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).into()
    }
}

impl ToSchema for TimeValue {}

/// Between two bounds, both included, the lower first.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRangeCondition {
    pub field: TimeField,
    pub op: BetweenOp,
    #[schema(min_items = 2, max_items = 2)]
    pub value: Vec<TimeValue>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoolCondition {
    pub field: BoolField,
    pub op: EqOp,
    pub value: bool,
}

/// Contacts with (`in`) or without (`not_in`) any of these codes.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipCondition {
    pub field: MembershipField,
    pub op: ListOp,
    #[schema(min_items = 1, max_items = 1000)]
    pub value: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeCondition {
    pub field: TypeField,
    pub op: EqualityOp,
    pub value: ContactType,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeListCondition {
    pub field: TypeField,
    pub op: ListOp,
    #[schema(min_items = 1)]
    pub value: Vec<ContactType>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrespondenceCondition {
    pub field: CorrespondenceField,
    pub op: EqualityOp,
    pub value: CorrespondenceType,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrespondenceListCondition {
    pub field: CorrespondenceField,
    pub op: ListOp,
    #[schema(min_items = 1)]
    pub value: Vec<CorrespondenceType>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationCondition {
    pub field: EvaluationField,
    pub op: EqualityOp,
    pub value: Evaluation,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationListCondition {
    pub field: EvaluationField,
    pub op: ListOp,
    #[schema(min_items = 1)]
    pub value: Vec<Evaluation>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdCondition {
    pub field: IdField,
    pub op: EqualityOp,
    pub value: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdListCondition {
    pub field: IdField,
    pub op: ListOp,
    #[schema(min_items = 1, max_items = 1000)]
    pub value: Vec<i64>,
}

/// Registers `T` and answers a reference to it.
fn named<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
}

/// Every condition schema, registered in `schemas`, as references.
fn conditions(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Vec<RefOr<Schema>> {
    vec![
        named::<TextCondition>(schemas),
        named::<TextListCondition>(schemas),
        named::<IsNullCondition>(schemas),
        named::<TimeCondition>(schemas),
        named::<TimeRangeCondition>(schemas),
        named::<BoolCondition>(schemas),
        named::<MembershipCondition>(schemas),
        named::<TypeCondition>(schemas),
        named::<TypeListCondition>(schemas),
        named::<CorrespondenceCondition>(schemas),
        named::<CorrespondenceListCondition>(schemas),
        named::<EvaluationCondition>(schemas),
        named::<EvaluationListCondition>(schemas),
        named::<IdCondition>(schemas),
        named::<IdListCondition>(schemas),
    ]
}

impl PartialSchema for Condition {
    fn schema() -> RefOr<Schema> {
        let mut builder = OneOfBuilder::new().description(Some(
            "A condition on one field: the field's kind decides its operators and the operator the \
             shape of the value. Contact fields apply to contacts; within `interactions.where`, the \
             interaction log entry fields.",
        ));
        for item in conditions(&mut Vec::new()) {
            builder = builder.item(item);
        }
        builder.into()
    }
}

impl ToSchema for Condition {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        conditions(schemas);
    }
}
