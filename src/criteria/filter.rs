//! The filter tree of criteria actions: its wire shape (which the OpenAPI document describes as a
//! recursive schema), the fields and the operators each allows, and parsing from JSON that
//! reports every fault at once under its JSON pointer.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::FieldError;

/// Deepest nesting of groups accepted (the root is depth 1).
pub const MAX_DEPTH: usize = 8;
/// Most nodes in one tree.
pub const MAX_NODES: usize = 200;
/// Most values in one `in` / `not_in` list.
pub const MAX_LIST: usize = 1000;
/// Longest text value.
pub const MAX_TEXT: usize = 200;

/// A filter node: exactly one of a condition, a group (`all` / `any`), a negation (`not`) or
/// a test on the contact's interaction history (`interactions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FilterNode {
    Condition(Condition),
    All(AllOf),
    Any(AnyOf),
    Not(NotOf),
    Interactions(InteractionsOf),
}

/// Matches when every child matches (an empty list matches every contact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllOf {
    #[schema(no_recursion)]
    pub all: Vec<FilterNode>,
}

/// Matches when at least one child matches (an empty list matches no contact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnyOf {
    #[schema(no_recursion)]
    pub any: Vec<FilterNode>,
}

/// Matches when the child does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotOf {
    #[schema(no_recursion)]
    pub not: Box<FilterNode>,
}

/// Matches contacts that have (or, with `exists: false`, have no) interaction log entry matching
/// `where`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionsOf {
    pub interactions: InteractionTest,
}

/// A test on interaction log entries; the conditions of `where` name entry fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionTest {
    pub exists: bool,
    /// Without it, any entry counts.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::EntryFilterNode>)]
    pub condition: Option<Box<FilterNode>>,
}

/// A condition on one field (its OpenAPI schema, one per field kind, is in `schema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: FilterField,
    pub op: FilterOp,
    pub value: FilterValue,
}

/// A field a condition can name. Contact fields and memberships apply to contacts; within
/// `interactions.where`, the interaction log entry fields (`interaction_template_code`,
/// `interaction_group_code`, `segment_no`, `logged_segment_id`, `evaluation`,
/// `salesperson_code`, `correspondence_type`, `canceled`, `date`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterField {
    No,
    Name,
    Type,
    CompanyNo,
    City,
    PostCode,
    CountryCode,
    County,
    SalespersonCode,
    TerritoryCode,
    LanguageCode,
    CorrespondenceType,
    CreatedAt,
    UpdatedAt,
    HasEmail,
    MailingGroup,
    JobResponsibility,
    IndustryGroup,
    BusinessRelation,
    InteractionTemplateCode,
    InteractionGroupCode,
    SegmentNo,
    LoggedSegmentId,
    Evaluation,
    Canceled,
    Date,
}

/// An operator; which ones a field allows depends on its kind (text: eq, ne, in, not_in,
/// contains, starts_with, is_null; dates and timestamps: eq, gt, gte, lt, lte, between, is_null;
/// booleans: eq; enumerations and ids: eq, ne, in, not_in; memberships: in, not_in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Ne,
    In,
    NotIn,
    Contains,
    StartsWith,
    Gt,
    Gte,
    Lt,
    Lte,
    Between,
    IsNull,
}

/// The value of a condition: a string (text, codes, enumerations, dates `YYYY-MM-DD`,
/// timestamps RFC 3339 or a date for the whole day), an integer (ids), a boolean (`eq` on
/// booleans; `is_null`: true for "has no value"), or a list (`in`, `not_in`; `between` takes two).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    Boolean(bool),
    Integer(i64),
    Text(String),
    List(Vec<ScalarValue>),
}

/// One value of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScalarValue {
    Integer(i64),
    Text(String),
}

/// What a field holds, which decides its operators and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Enum(&'static [&'static str]),
    Date,
    Timestamp,
    Bool,
    Id,
    Membership,
}

/// Where a condition stands: on the contact, or inside `interactions.where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Contact,
    Interaction,
}

const CONTACT_TYPES: &[&str] = &["company", "person"];
const CORRESPONDENCE_TYPES: &[&str] = &["hard_copy", "email"];
const EVALUATIONS: &[&str] = &["very_positive", "positive", "neutral", "negative", "very_negative"];

impl FilterField {
    /// The field's kind where it stands, or None when it does not apply there.
    pub fn kind(self, scope: Scope) -> Option<FieldKind> {
        use FieldKind as K;
        use FilterField as F;
        let kind = match (scope, self) {
            (Scope::Contact, F::No | F::Name | F::CompanyNo | F::City | F::PostCode | F::CountryCode) => {
                K::Text
            }
            (Scope::Contact, F::County | F::TerritoryCode | F::LanguageCode) => K::Text,
            (_, F::SalespersonCode) => K::Text,
            (Scope::Contact, F::Type) => K::Enum(CONTACT_TYPES),
            (_, F::CorrespondenceType) => K::Enum(CORRESPONDENCE_TYPES),
            (Scope::Contact, F::CreatedAt | F::UpdatedAt) => K::Timestamp,
            (Scope::Contact, F::HasEmail) => K::Bool,
            (Scope::Contact, F::MailingGroup | F::JobResponsibility) => K::Membership,
            (Scope::Contact, F::IndustryGroup | F::BusinessRelation) => K::Membership,
            (Scope::Interaction, F::InteractionTemplateCode | F::InteractionGroupCode | F::SegmentNo) => {
                K::Text
            }
            (Scope::Interaction, F::LoggedSegmentId) => K::Id,
            (Scope::Interaction, F::Evaluation) => K::Enum(EVALUATIONS),
            (Scope::Interaction, F::Canceled) => K::Bool,
            (Scope::Interaction, F::Date) => K::Date,
            _ => return None,
        };
        Some(kind)
    }
}

impl FieldKind {
    /// The operators a field of this kind allows.
    pub fn operators(self) -> &'static [FilterOp] {
        use FilterOp::*;
        match self {
            FieldKind::Text => &[Eq, Ne, In, NotIn, Contains, StartsWith, IsNull],
            FieldKind::Date | FieldKind::Timestamp => &[Eq, Gt, Gte, Lt, Lte, Between, IsNull],
            FieldKind::Bool => &[Eq],
            FieldKind::Enum(_) | FieldKind::Id => &[Eq, Ne, In, NotIn],
            FieldKind::Membership => &[In, NotIn],
        }
    }
}

fn name_of<T: Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Parses and validates a filter tree; the faults carry JSON pointers below `pointer`.
pub fn parse_filter(value: &Value, pointer: &str) -> Result<FilterNode, Vec<FieldError>> {
    let mut parser = Parser { errors: Vec::new(), nodes: 0 };
    let node = parser.node(value, pointer, 1, Scope::Contact);
    if parser.nodes > MAX_NODES {
        parser.errors.push(FieldError::new(
            pointer,
            "too_many_nodes",
            format!("a filter has at most {MAX_NODES} nodes; this one has {}", parser.nodes),
        ));
    }
    match node {
        Some(node) if parser.errors.is_empty() => Ok(node),
        _ => Err(parser.errors),
    }
}

struct Parser {
    errors: Vec<FieldError>,
    nodes: usize,
}

impl Parser {
    fn fault(&mut self, pointer: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, code, message));
    }

    fn node(&mut self, value: &Value, pointer: &str, depth: usize, scope: Scope) -> Option<FilterNode> {
        self.nodes += 1;
        if depth > MAX_DEPTH {
            self.fault(pointer, "too_deep", format!("filters nest at most {MAX_DEPTH} levels deep"));
            return None;
        }
        let Some(object) = value.as_object() else {
            self.fault(pointer, "invalid_node", "a filter node must be an object");
            return None;
        };
        let is_condition = ["field", "op", "value"].iter().any(|k| object.contains_key(*k));
        if is_condition {
            return self.condition(object, pointer, scope).map(FilterNode::Condition);
        }
        let [(key, child)] = object.iter().collect::<Vec<_>>()[..] else {
            self.fault(
                pointer,
                "invalid_node",
                "a filter node is a condition {field, op, value} or exactly one of all, any, not, interactions",
            );
            return None;
        };
        let child_pointer = format!("{pointer}/{key}");
        match key.as_str() {
            "all" => {
                self.children(child, &child_pointer, depth, scope).map(|all| FilterNode::All(AllOf { all }))
            }
            "any" => {
                self.children(child, &child_pointer, depth, scope).map(|any| FilterNode::Any(AnyOf { any }))
            }
            "not" => self
                .node(child, &child_pointer, depth + 1, scope)
                .map(|not| FilterNode::Not(NotOf { not: Box::new(not) })),
            "interactions" if scope == Scope::Contact => self
                .interactions(child, &child_pointer, depth)
                .map(|interactions| FilterNode::Interactions(InteractionsOf { interactions })),
            "interactions" => {
                self.fault(&child_pointer, "invalid_node", "interactions cannot be nested in interactions");
                None
            }
            other => {
                self.fault(&child_pointer, "invalid_node", format!("unknown filter node {other:?}"));
                None
            }
        }
    }

    fn children(
        &mut self,
        value: &Value,
        pointer: &str,
        depth: usize,
        scope: Scope,
    ) -> Option<Vec<FilterNode>> {
        let Some(items) = value.as_array() else {
            self.fault(pointer, "invalid_node", "a group holds a list of filter nodes");
            return None;
        };
        let before = self.errors.len();
        let nodes: Vec<Option<FilterNode>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.node(item, &format!("{pointer}/{i}"), depth + 1, scope))
            .collect();
        (self.errors.len() == before).then(|| nodes.into_iter().flatten().collect())
    }

    fn interactions(&mut self, value: &Value, pointer: &str, depth: usize) -> Option<InteractionTest> {
        let Some(object) = value.as_object() else {
            self.fault(pointer, "invalid_node", "interactions holds {exists, where}");
            return None;
        };
        let mut valid = true;
        for key in object.keys().filter(|k| !matches!(k.as_str(), "exists" | "where")) {
            self.fault(&format!("{pointer}/{key}"), "unknown_key", format!("unknown key {key:?}"));
            valid = false;
        }
        let exists = match object.get("exists") {
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fault(&format!("{pointer}/exists"), "invalid_value", "exists must be true or false");
                None
            }
            None => {
                self.fault(&format!("{pointer}/exists"), "required", "exists is required");
                None
            }
        };
        let condition = match object.get("where") {
            None | Some(Value::Null) => Some(None),
            Some(node) => self
                .node(node, &format!("{pointer}/where"), depth + 1, Scope::Interaction)
                .map(|n| Some(Box::new(n))),
        };
        match (valid, exists, condition) {
            (true, Some(exists), Some(condition)) => Some(InteractionTest { exists, condition }),
            _ => None,
        }
    }

    fn condition(
        &mut self,
        object: &serde_json::Map<String, Value>,
        pointer: &str,
        scope: Scope,
    ) -> Option<Condition> {
        let before = self.errors.len();
        for key in object.keys().filter(|k| !matches!(k.as_str(), "field" | "op" | "value")) {
            self.fault(
                &format!("{pointer}/{key}"),
                "unknown_key",
                format!("unknown key {key:?} in a condition"),
            );
        }
        let field_pointer = format!("{pointer}/field");
        let field = match object.get("field") {
            None => {
                self.fault(&field_pointer, "required", "field is required");
                None
            }
            Some(v) => match serde_json::from_value::<FilterField>(v.clone())
                .ok()
                .filter(|f| f.kind(scope).is_some())
            {
                Some(field) => Some(field),
                None => {
                    let place = if scope == Scope::Contact { "contacts" } else { "interaction log entries" };
                    self.fault(&field_pointer, "unknown_field", format!("{v} is not a field of {place}"));
                    None
                }
            },
        };
        let op_pointer = format!("{pointer}/op");
        let op = match object.get("op") {
            None => {
                self.fault(&op_pointer, "required", "op is required");
                None
            }
            Some(v) => match serde_json::from_value::<FilterOp>(v.clone()) {
                Ok(op) => Some(op),
                Err(_) => {
                    self.fault(&op_pointer, "invalid_operator", format!("{v} is not an operator"));
                    None
                }
            },
        };
        let kind = field.and_then(|f| f.kind(scope));
        if let (Some(field), Some(kind), Some(op)) = (field, kind, op) {
            if !kind.operators().contains(&op) {
                let allowed: Vec<String> = kind.operators().iter().map(|o| name_of(*o)).collect();
                self.fault(
                    &op_pointer,
                    "invalid_operator",
                    format!("{} allows {}, not {}", name_of(field), allowed.join(", "), name_of(op)),
                );
            }
        }
        let value_pointer = format!("{pointer}/value");
        let value = match object.get("value") {
            None => {
                self.fault(&value_pointer, "required", "value is required");
                None
            }
            Some(v) => match (kind, op) {
                (Some(kind), Some(op)) if kind.operators().contains(&op) => {
                    self.value(v, &value_pointer, kind, op)
                }
                _ => None,
            },
        };
        if self.errors.len() != before {
            return None;
        }
        Some(Condition { field: field?, op: op?, value: value? })
    }

    fn value(&mut self, value: &Value, pointer: &str, kind: FieldKind, op: FilterOp) -> Option<FilterValue> {
        match op {
            FilterOp::IsNull => match value {
                Value::Bool(b) => Some(FilterValue::Boolean(*b)),
                _ => self.wrong(pointer, "is_null takes true (has no value) or false (has a value)"),
            },
            FilterOp::In | FilterOp::NotIn => self.list(value, pointer, kind, None),
            FilterOp::Between => {
                let list = self.list(value, pointer, kind, Some(2))?;
                if let FilterValue::List(items) = &list {
                    let bounds: Vec<Option<TimeBound>> = items.iter().map(|i| time_bound(kind, i)).collect();
                    if let [Some(low), Some(high)] = bounds[..] {
                        if low.start() > high.start() {
                            return self.wrong(pointer, "between needs the lower bound first");
                        }
                    }
                }
                Some(list)
            }
            _ if kind == FieldKind::Bool => match value {
                Value::Bool(b) => Some(FilterValue::Boolean(*b)),
                _ => self.wrong(pointer, "the value must be true or false"),
            },
            _ => match self.scalar(value, pointer, kind)? {
                ScalarValue::Text(t)
                    if t.is_empty() && matches!(op, FilterOp::Contains | FilterOp::StartsWith) =>
                {
                    self.wrong(pointer, "the text to search for must not be empty")
                }
                ScalarValue::Text(t) => Some(FilterValue::Text(t)),
                ScalarValue::Integer(i) => Some(FilterValue::Integer(i)),
            },
        }
    }

    fn wrong<T>(&mut self, pointer: &str, message: &str) -> Option<T> {
        self.fault(pointer, "invalid_value", message);
        None
    }

    fn list(
        &mut self,
        value: &Value,
        pointer: &str,
        kind: FieldKind,
        exactly: Option<usize>,
    ) -> Option<FilterValue> {
        let Some(items) = value.as_array() else {
            return self.wrong(pointer, "the value must be a list");
        };
        match exactly {
            Some(n) if items.len() != n => {
                return self.wrong(pointer, &format!("the value must be a list of {n}"))
            }
            None if items.is_empty() => {
                self.fault(pointer, "empty_list", "the list must not be empty");
                return None;
            }
            None if items.len() > MAX_LIST => {
                return self.wrong(pointer, &format!("a list holds at most {MAX_LIST} values"));
            }
            _ => {}
        }
        let before = self.errors.len();
        let values: Vec<Option<ScalarValue>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.scalar(item, &format!("{pointer}/{i}"), kind))
            .collect();
        (self.errors.len() == before).then(|| FilterValue::List(values.into_iter().flatten().collect()))
    }

    fn scalar(&mut self, value: &Value, pointer: &str, kind: FieldKind) -> Option<ScalarValue> {
        match (kind, value) {
            (FieldKind::Bool, _) => self.wrong(pointer, "the value must be true or false"),
            (FieldKind::Id, Value::Number(n)) if n.as_i64().is_some() => n.as_i64().map(ScalarValue::Integer),
            (FieldKind::Id, _) => self.wrong(pointer, "the value must be an integer id"),
            (_, Value::String(text)) => {
                if text.chars().count() > MAX_TEXT || text.contains('\0') {
                    return self
                        .wrong(pointer, &format!("text values hold at most {MAX_TEXT} characters, no NUL"));
                }
                let scalar = ScalarValue::Text(text.clone());
                match kind {
                    FieldKind::Enum(allowed) if !allowed.contains(&text.as_str()) => {
                        self.wrong(pointer, &format!("the value must be one of {}", allowed.join(", ")))
                    }
                    FieldKind::Date | FieldKind::Timestamp if time_bound(kind, &scalar).is_none() => {
                        let form =
                            if kind == FieldKind::Date { "YYYY-MM-DD" } else { "RFC 3339 or YYYY-MM-DD" };
                        self.wrong(
                            pointer,
                            &format!("the value must be a date-time as {form}, years 1 to 9999"),
                        )
                    }
                    _ => Some(scalar),
                }
            }
            _ => self.wrong(pointer, "the value must be a string"),
        }
    }
}

/// A date or a point in time as a condition names it: a date on a timestamp field means the
/// whole day (UTC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeBound {
    Day(chrono::NaiveDate),
    Instant(chrono::NaiveDateTime),
}

impl TimeBound {
    /// The first instant it covers.
    pub fn start(self) -> chrono::NaiveDateTime {
        match self {
            TimeBound::Day(d) => d.and_time(chrono::NaiveTime::MIN),
            TimeBound::Instant(t) => t,
        }
    }
}

/// Reads a date (for date fields) or a date or RFC 3339 timestamp (for timestamp fields).
pub fn time_bound(kind: FieldKind, value: &ScalarValue) -> Option<TimeBound> {
    use chrono::Datelike;
    let ScalarValue::Text(text) = value else { return None };
    let in_range = |d: chrono::NaiveDate| (1..=9999).contains(&d.year());
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return in_range(day).then_some(TimeBound::Day(day));
    }
    if kind != FieldKind::Timestamp {
        return None;
    }
    let instant = chrono::DateTime::parse_from_rfc3339(text).ok()?.naive_utc();
    in_range(instant.date()).then_some(TimeBound::Instant(instant))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// The fault codes of a filter, empty when it parses.
    fn faults(filter: &Value) -> Vec<String> {
        match parse_filter(filter, "/filter") {
            Ok(_) => Vec::new(),
            Err(faults) => faults.into_iter().map(|f| f.code).collect(),
        }
    }

    /// The fault messages of a filter, empty when it parses.
    fn messages(filter: &Value) -> Vec<String> {
        parse_filter(filter, "/filter").err().unwrap_or_default().into_iter().map(|f| f.message).collect()
    }

    fn condition(value: Value) -> Value {
        json!({"field": "city", "op": "in", "value": value})
    }

    fn leaf() -> Value {
        json!({"field": "no", "op": "eq", "value": "x"})
    }

    #[test]
    fn a_filter_of_exactly_the_most_nodes_parses_and_one_node_more_does_not() {
        // The group counts as a node: MAX_NODES - 1 children make MAX_NODES nodes.
        let group = |children: usize| json!({"all": vec![leaf(); children]});
        assert_eq!(faults(&group(MAX_NODES - 1)), Vec::<String>::new());
        assert_eq!(faults(&group(MAX_NODES)), ["too_many_nodes"]);
    }

    #[test]
    fn a_filter_nested_exactly_the_deepest_parses_and_one_level_deeper_does_not() {
        // The root is depth 1; each `not` adds a level.
        let nested = |depth: usize| (1..depth).fold(leaf(), |node, _| json!({"not": node}));
        assert_eq!(faults(&nested(MAX_DEPTH)), Vec::<String>::new());
        assert_eq!(faults(&nested(MAX_DEPTH + 1)), ["too_deep"]);
        // Groups and interaction tests nest the same way.
        let in_groups = |depth: usize| (1..depth).fold(leaf(), |node, _| json!({"any": [node]}));
        assert_eq!(faults(&in_groups(MAX_DEPTH)), Vec::<String>::new());
        assert_eq!(faults(&in_groups(MAX_DEPTH + 1)), ["too_deep"]);
        let in_history = |depth: usize| {
            let inner = (2..depth).fold(
                json!({"field": "interaction_template_code", "op": "eq", "value": "x"}),
                |node, _| json!({"not": node}),
            );
            json!({"interactions": {"exists": true, "where": inner}})
        };
        assert_eq!(faults(&in_history(MAX_DEPTH)), Vec::<String>::new());
        assert_eq!(faults(&in_history(MAX_DEPTH + 1)), ["too_deep"]);
    }

    #[test]
    fn an_interaction_test_inside_an_interaction_test_is_refused() {
        let history = |condition: Value| json!({"interactions": {"exists": true, "where": condition}});
        let entry = json!({"field": "interaction_template_code", "op": "eq", "value": "x"});
        assert_eq!(faults(&history(entry.clone())), Vec::<String>::new());
        assert_eq!(faults(&history(history(entry))), ["invalid_node"]);
    }

    #[test]
    fn an_unknown_field_is_named_with_the_records_it_is_not_a_field_of() {
        let nope = json!({"field": "nope", "op": "eq", "value": "x"});
        assert_eq!(messages(&nope), ["\"nope\" is not a field of contacts"]);
        assert_eq!(
            messages(&json!({"interactions": {"exists": true, "where": nope}})),
            ["\"nope\" is not a field of interaction log entries"]
        );
    }

    #[test]
    fn the_value_of_a_condition_with_a_wrong_operator_is_not_judged() {
        // Which values are right depends on the operator: only the operator is at fault.
        assert_eq!(faults(&json!({"field": "city", "op": "gt", "value": 5})), ["invalid_operator"]);
        assert_eq!(faults(&json!({"field": "city", "op": "like", "value": 5})), ["invalid_operator"]);
    }

    #[test]
    fn between_takes_its_bounds_lower_first_and_allows_equal_ones() {
        let between =
            |low: &str, high: &str| json!({"field": "created_at", "op": "between", "value": [low, high]});
        assert_eq!(faults(&between("2026-01-01", "2026-02-01")), Vec::<String>::new());
        assert_eq!(faults(&between("2026-01-01", "2026-01-01")), Vec::<String>::new());
        assert_eq!(faults(&between("2026-02-01", "2026-01-01")), ["invalid_value"]);
    }

    #[test]
    fn a_search_for_the_empty_text_is_refused_and_an_equality_with_it_is_not() {
        for op in ["contains", "starts_with"] {
            assert_eq!(faults(&json!({"field": "city", "op": op, "value": ""})), ["invalid_value"], "{op}");
        }
        assert_eq!(faults(&json!({"field": "city", "op": "eq", "value": ""})), Vec::<String>::new());
    }

    #[test]
    fn an_id_is_an_integer_and_never_text() {
        let history = |value: Value| json!({"interactions": {"exists": true, "where": {"field": "logged_segment_id", "op": "eq", "value": value}}});
        assert_eq!(faults(&history(json!(7))), Vec::<String>::new());
        assert_eq!(faults(&history(json!("7"))), ["invalid_value"]);
        assert_eq!(faults(&history(json!(7.5))), ["invalid_value"]);
    }

    #[test]
    fn a_time_is_a_date_or_an_rfc_3339_instant_within_years_1_to_9999() {
        let created = |value: &str| json!({"field": "created_at", "op": "gte", "value": value});
        for good in ["2026-03-01", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00+01:00"] {
            assert_eq!(faults(&created(good)), Vec::<String>::new(), "{good}");
        }
        for bad in ["yesterday", "2026-02-30", "10000-01-01", "2026-03-01 10:00"] {
            assert_eq!(faults(&created(bad)), ["invalid_value"], "{bad}");
        }
        // An interaction's date is a day only.
        let on_day = |value: &str| json!({"interactions": {"exists": true, "where": {"field": "date", "op": "eq", "value": value}}});
        assert_eq!(faults(&on_day("2026-03-01")), Vec::<String>::new());
        assert_eq!(faults(&on_day("2026-03-01T10:00:00Z")), ["invalid_value"]);
        // The message names the forms the field takes.
        assert_eq!(
            messages(&created("yesterday"))[0],
            "the value must be a date-time as RFC 3339 or YYYY-MM-DD, years 1 to 9999"
        );
        assert_eq!(
            messages(&on_day("yesterday"))[0],
            "the value must be a date-time as YYYY-MM-DD, years 1 to 9999"
        );
    }

    #[test]
    fn a_list_of_exactly_the_most_values_parses_and_one_value_more_does_not() {
        let list = |len: usize| condition(Value::Array((0..len).map(|i| json!(format!("c{i}"))).collect()));
        assert_eq!(faults(&list(MAX_LIST)), Vec::<String>::new());
        assert_eq!(faults(&list(MAX_LIST + 1)), ["invalid_value"]);
    }

    #[test]
    fn a_text_of_exactly_the_most_characters_parses_and_one_more_does_not() {
        // Characters, not bytes: `é` is two bytes in UTF-8.
        let text = |chars: usize| json!({"field": "city", "op": "eq", "value": "é".repeat(chars)});
        assert_eq!(faults(&text(MAX_TEXT)), Vec::<String>::new());
        assert_eq!(faults(&text(MAX_TEXT + 1)), ["invalid_value"]);
        assert_eq!(faults(&json!({"field": "city", "op": "eq", "value": "a\0b"})), ["invalid_value"]);
    }
}
