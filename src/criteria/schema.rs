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

/// Text fields of a contact.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactTextField {
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
}

/// Text fields of an interaction log entry (in `interactions.where`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryTextField {
    InteractionTemplateCode,
    InteractionGroupCode,
    SegmentNo,
    SalespersonCode,
}

/// Timestamps of a contact.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactTimeField {
    CreatedAt,
    UpdatedAt,
}

/// Only `date` (of an entry).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryDateField {
    Date,
}

/// Fields of a contact that may have no value.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactNullableField {
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
    CreatedAt,
    UpdatedAt,
}

/// Fields of an entry that may have no value.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryNullableField {
    InteractionTemplateCode,
    InteractionGroupCode,
    SegmentNo,
    SalespersonCode,
    Date,
}

/// Only `has_email` (of a contact).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactBoolField {
    HasEmail,
}

/// Only `canceled` (of an entry).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryBoolField {
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

/// `contains`, `starts_with` (case-insensitive, Unicode-aware; the text must not be empty).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchOp {
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

/// Declares a condition schema: `field`, `op` and `value` of the given types.
macro_rules! condition {
    ($(#[$doc:meta])* $name:ident, $field:ty, $op:ty, $value:ty $(, $bounds:meta)*) => {
        $(#[$doc])*
        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub field: $field,
            pub op: $op,
            $(#[schema($bounds)])*
            pub value: $value,
        }
    };
}

condition!(
    /// A text field of a contact equal (`eq`) or not (`ne`, true where it has no value) to one text.
    ContactTextCondition, ContactTextField, EqualityOp, String, max_length = 200
);
condition!(
    /// A text field of an entry equal (`eq`) or not (`ne`, true where it has no value) to one text.
    EntryTextCondition, EntryTextField, EqualityOp, String, max_length = 200
);
condition!(
    /// A text field of a contact searched for a text.
    ContactTextSearchCondition, ContactTextField, SearchOp, String, min_length = 1, max_length = 200
);
condition!(
    /// A text field of an entry searched for a text.
    EntryTextSearchCondition, EntryTextField, SearchOp, String, min_length = 1, max_length = 200
);
condition!(
    /// A text field of a contact compared with a list of texts.
    ContactTextListCondition, ContactTextField, ListOp, Vec<String>, min_items = 1, max_items = 1000
);
condition!(
    /// A text field of an entry compared with a list of texts.
    EntryTextListCondition, EntryTextField, ListOp, Vec<String>, min_items = 1, max_items = 1000
);
condition!(
    /// Whether a field of a contact has no value (`true`) or has one (`false`).
    ContactIsNullCondition, ContactNullableField, IsNullOp, bool
);
condition!(
    /// Whether a field of an entry has no value (`true`) or has one (`false`).
    EntryIsNullCondition, EntryNullableField, IsNullOp, bool
);
condition!(
    /// A timestamp of a contact against an RFC 3339 instant or a date (the whole UTC day).
    ContactTimeCondition, ContactTimeField, TimeOp, TimeValue
);
condition!(
    /// A timestamp of a contact between two bounds, both included, the lower first.
    ContactTimeRangeCondition, ContactTimeField, BetweenOp, Vec<TimeValue>, min_items = 2, max_items = 2
);
condition!(
    /// The date of an entry against a date (`YYYY-MM-DD`).
    EntryDateCondition, EntryDateField, TimeOp, DateValue
);
condition!(
    /// The date of an entry between two dates, both included, the lower first.
    EntryDateRangeCondition, EntryDateField, BetweenOp, Vec<DateValue>, min_items = 2, max_items = 2
);
condition!(ContactBoolCondition, ContactBoolField, EqOp, bool);
condition!(EntryBoolCondition, EntryBoolField, EqOp, bool);

/// A calendar date `YYYY-MM-DD` in the years 1 to 9999, as a regular expression: `[0-9]`, not
/// `\d` (other scripts' digits); each month's own last day, and 29 February in leap years only
/// (schemathesis found that "day 01 to 31" let 31 September through, which the parser refuses).
const DATE: &str = concat!(
    r"(?!0000)([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)",
    r"|02-(0[1-9]|1[0-9]|2[0-8]))",
    r"|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)"
);

/// A date (`YYYY-MM-DD`) or an RFC 3339 instant, in the years 1 to 9999 (a schema only).
#[derive(Serialize)]
pub struct TimeValue;

impl PartialSchema for TimeValue {
    fn schema() -> RefOr<Schema> {
        let time =
            r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";
        let pattern = format!("^{DATE}({time})?$");
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).into()
    }
}

impl ToSchema for TimeValue {}

/// A date (`YYYY-MM-DD`), in the years 1 to 9999 (a schema only).
#[derive(Serialize)]
pub struct DateValue;

impl PartialSchema for DateValue {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!("^{DATE}$"))).into()
    }
}

impl ToSchema for DateValue {}

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

/// Every contact condition schema, registered in `schemas`, as references.
fn contact_conditions(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Vec<RefOr<Schema>> {
    vec![
        named::<ContactTextCondition>(schemas),
        named::<ContactTextSearchCondition>(schemas),
        named::<ContactTextListCondition>(schemas),
        named::<ContactIsNullCondition>(schemas),
        named::<ContactTimeCondition>(schemas),
        named::<ContactTimeRangeCondition>(schemas),
        named::<ContactBoolCondition>(schemas),
        named::<MembershipCondition>(schemas),
        named::<TypeCondition>(schemas),
        named::<TypeListCondition>(schemas),
        named::<CorrespondenceCondition>(schemas),
        named::<CorrespondenceListCondition>(schemas),
    ]
}

/// Every entry condition schema, registered in `schemas`, as references.
fn entry_conditions(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Vec<RefOr<Schema>> {
    vec![
        named::<EntryTextCondition>(schemas),
        named::<EntryTextSearchCondition>(schemas),
        named::<EntryTextListCondition>(schemas),
        named::<EntryIsNullCondition>(schemas),
        named::<EntryDateCondition>(schemas),
        named::<EntryDateRangeCondition>(schemas),
        named::<EntryBoolCondition>(schemas),
        named::<CorrespondenceCondition>(schemas),
        named::<CorrespondenceListCondition>(schemas),
        named::<EvaluationCondition>(schemas),
        named::<EvaluationListCondition>(schemas),
        named::<IdCondition>(schemas),
        named::<IdListCondition>(schemas),
    ]
}

/// One of `items`, described.
fn one_of(description: &str, items: Vec<RefOr<Schema>>) -> RefOr<Schema> {
    items.into_iter().fold(OneOfBuilder::new().description(Some(description)), |b, item| b.item(item)).into()
}

impl PartialSchema for Condition {
    fn schema() -> RefOr<Schema> {
        one_of(
            "A condition on one field of a contact: the field's kind decides its operators and the \
             operator the shape of the value.",
            contact_conditions(&mut Vec::new()),
        )
    }
}

impl ToSchema for Condition {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        contact_conditions(schemas);
    }
}

/// A condition on one field of an interaction log entry, inside `interactions.where` (a schema
/// only: the parser reads both levels into `Condition`).
#[derive(Serialize)]
pub struct EntryCondition;

impl PartialSchema for EntryCondition {
    fn schema() -> RefOr<Schema> {
        one_of(
            "A condition on one field of an interaction log entry: the field's kind decides its \
             operators and the operator the shape of the value.",
            entry_conditions(&mut Vec::new()),
        )
    }
}

impl ToSchema for EntryCondition {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        entry_conditions(schemas);
    }
}

/// A filter node on interaction log entries (`interactions.where`): exactly one of a condition
/// on an entry field, a group (`all` / `any`) or a negation (`not`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum EntryFilterNode {
    Condition(EntryCondition),
    All(EntryAllOf),
    Any(EntryAnyOf),
    Not(EntryNotOf),
}

/// Matches when every child matches (an empty list matches every entry).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryAllOf {
    #[schema(no_recursion)]
    pub all: Vec<EntryFilterNode>,
}

/// Matches when at least one child matches (an empty list matches no entry).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryAnyOf {
    #[schema(no_recursion)]
    pub any: Vec<EntryFilterNode>,
}

/// Matches when the child does not.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryNotOf {
    #[schema(no_recursion)]
    pub not: Box<EntryFilterNode>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeSet;

    use super::*;
    use crate::criteria::filter::{FieldKind, FilterField, Scope};

    /// The values of an enum schema.
    fn names<T: PartialSchema>() -> BTreeSet<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    }

    /// Every field the parser knows, read from serde's refusal of an unknown one.
    fn parser_fields() -> Vec<(String, FilterField)> {
        let error = serde_json::from_str::<FilterField>(r#""?""#).unwrap_err().to_string();
        let list = error.split("expected one of ").nth(1).expect(&error);
        let list = list.split(" at line").next().unwrap_or(list);
        list.split(", ")
            .map(|quoted| quoted.trim_matches(|c: char| c == '`' || !c.is_ascii_graphic()).to_owned())
            .map(|name| {
                let field = serde_json::from_value(serde_json::Value::String(name.clone())).unwrap();
                (name, field)
            })
            .collect()
    }

    /// The parser's fields at `scope` whose kind `wanted` accepts.
    fn fields_where(scope: Scope, wanted: impl Fn(FieldKind) -> bool) -> BTreeSet<String> {
        parser_fields()
            .into_iter()
            .filter(|(_, field)| field.kind(scope).is_some_and(&wanted))
            .map(|(name, _)| name)
            .collect()
    }

    #[test]
    fn each_level_s_schemas_name_exactly_the_fields_the_parser_takes_there() {
        use FieldKind as K;
        assert!(parser_fields().len() > 20, "the parser's field list was not read");
        let is =
            |expected: &'static str| move |k: FieldKind| matches!(k, K::Enum(v) if v.contains(&expected));
        let nullable = |k: FieldKind| matches!(k, K::Text | K::Date | K::Timestamp);
        let contact = Scope::Contact;
        assert_eq!(names::<ContactTextField>(), fields_where(contact, |k| k == K::Text));
        assert_eq!(names::<ContactTimeField>(), fields_where(contact, |k| k == K::Timestamp));
        assert_eq!(names::<ContactNullableField>(), fields_where(contact, nullable));
        assert_eq!(names::<ContactBoolField>(), fields_where(contact, |k| k == K::Bool));
        assert_eq!(names::<MembershipField>(), fields_where(contact, |k| k == K::Membership));
        assert_eq!(names::<TypeField>(), fields_where(contact, is("company")));
        assert_eq!(names::<CorrespondenceField>(), fields_where(contact, is("email")));
        let entry = Scope::Interaction;
        assert_eq!(names::<EntryTextField>(), fields_where(entry, |k| k == K::Text));
        assert_eq!(names::<EntryDateField>(), fields_where(entry, |k| k == K::Date));
        assert_eq!(names::<EntryNullableField>(), fields_where(entry, nullable));
        assert_eq!(names::<EntryBoolField>(), fields_where(entry, |k| k == K::Bool));
        assert_eq!(names::<IdField>(), fields_where(entry, |k| k == K::Id));
        assert_eq!(names::<EvaluationField>(), fields_where(entry, is("neutral")));
        assert_eq!(names::<CorrespondenceField>(), fields_where(entry, is("email")));
        // The parser refuses an empty text to search for (found by schemathesis).
        for search in [ContactTextSearchCondition::schema(), EntryTextSearchCondition::schema()] {
            let schema = serde_json::to_value(search).unwrap();
            assert_eq!(schema["properties"]["value"]["minLength"], 1);
        }
        // Each level's field enums together name every field the parser takes there, no other.
        for (scope, schemas) in [
            (
                contact,
                [
                    names::<ContactTextField>(),
                    names::<ContactTimeField>(),
                    names::<ContactBoolField>(),
                    names::<MembershipField>(),
                    names::<TypeField>(),
                    names::<CorrespondenceField>(),
                ],
            ),
            (
                entry,
                [
                    names::<EntryTextField>(),
                    names::<EntryDateField>(),
                    names::<EntryBoolField>(),
                    names::<IdField>(),
                    names::<EvaluationField>(),
                    names::<CorrespondenceField>(),
                ],
            ),
        ] {
            let documented: BTreeSet<String> = schemas.into_iter().flatten().collect();
            assert_eq!(documented, fields_where(scope, |_| true), "{scope:?}");
        }
    }
}
