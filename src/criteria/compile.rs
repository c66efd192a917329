//! A validated filter tree compiled to one SQL predicate over `contacts`, with every value bound.
//! The one place where filter fields meet columns; the same text runs on both backends (SQLite
//! gets a Unicode-aware `lower()` registered per connection, see `db`).
//!
//! Every leaf is two-valued (never NULL), so `not` means exactly "does not match": `eq` on a
//! contact with no value is false, `ne` and `not_in` are true.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};

use super::filter::{
    time_bound, Condition, FieldKind, FilterField, FilterNode, FilterOp, FilterValue, ScalarValue, Scope,
    TimeBound,
};
use crate::db::contains_pattern;
use crate::db::sql::{BindValue, SqlBuilder};
use crate::error::ApiError;

/// Writes the predicate of `node` (a boolean expression over the `contacts` row) into `sql`.
pub fn predicate(node: &FilterNode, sql: &mut SqlBuilder) -> Result<(), ApiError> {
    predicate_on(node, "contacts", sql)
}

/// Like [`predicate`], over the contact row named `contact` in the statement (an alias such as
/// `c`), so that a statement can filter its own contact row instead of a subquery of ids.
pub fn predicate_on(node: &FilterNode, contact: &str, sql: &mut SqlBuilder) -> Result<(), ApiError> {
    Compiler { contact }.node(node, Scope::Contact, sql)
}

/// Compiles against one name of the contact row.
struct Compiler<'a> {
    contact: &'a str,
}

impl Compiler<'_> {
    fn node(&self, node: &FilterNode, scope: Scope, sql: &mut SqlBuilder) -> Result<(), ApiError> {
        match node {
            FilterNode::Condition(c) => self.condition(c, scope, sql)?,
            FilterNode::All(group) => self.join(&group.all, " AND ", "TRUE", scope, sql)?,
            FilterNode::Any(group) => self.join(&group.any, " OR ", "FALSE", scope, sql)?,
            FilterNode::Not(not) => {
                sql.sql("(NOT ");
                self.node(&not.not, scope, sql)?;
                sql.sql(")");
            }
            FilterNode::Interactions(test) => {
                let test = &test.interactions;
                sql.sql(if test.exists { "EXISTS " } else { "NOT EXISTS " });
                sql.sql(&format!(
                    "(SELECT 1 FROM interaction_log_entries e WHERE e.contact_id = {}.id",
                    self.contact
                ));
                if let Some(condition) = &test.condition {
                    sql.sql(" AND ");
                    self.node(condition, Scope::Interaction, sql)?;
                }
                sql.sql(")");
            }
        }
        Ok(())
    }

    fn join(
        &self,
        nodes: &[FilterNode],
        op: &str,
        empty: &str,
        scope: Scope,
        sql: &mut SqlBuilder,
    ) -> Result<(), ApiError> {
        if nodes.is_empty() {
            sql.sql(empty);
            return Ok(());
        }
        sql.sql("(");
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                sql.sql(op);
            }
            self.node(node, scope, sql)?;
        }
        sql.sql(")");
        Ok(())
    }

    /// Program text written for the `contacts` row, moved to this contact row's name.
    fn on_row(&self, text: &str) -> String {
        text.replace("contacts.", &format!("{}.", self.contact))
    }

    fn condition(&self, c: &Condition, scope: Scope, sql: &mut SqlBuilder) -> Result<(), ApiError> {
        let col = self.on_row(column(c.field, scope));
        let search = self.on_row(&search_column(c.field, scope));
        let owner = self.on_row(membership(c.field).2);
        condition(c, scope, &col, &search, &owner, sql)
    }
}

/// The SQL expression a field reads.
fn column(field: FilterField, scope: Scope) -> &'static str {
    use FilterField as F;
    match (scope, field) {
        (Scope::Interaction, F::InteractionTemplateCode) => "e.interaction_template_code",
        (Scope::Interaction, F::InteractionGroupCode) => "e.interaction_group_code",
        (Scope::Interaction, F::SegmentNo) => "e.segment_no",
        (Scope::Interaction, F::LoggedSegmentId) => "e.logged_segment_id",
        (Scope::Interaction, F::Evaluation) => "e.evaluation",
        (Scope::Interaction, F::SalespersonCode) => "e.salesperson_code",
        (Scope::Interaction, F::CorrespondenceType) => "e.correspondence_type",
        (Scope::Interaction, F::Canceled) => "e.canceled",
        (Scope::Interaction, _) => "e.date",
        (_, F::No) => "contacts.no",
        (_, F::Name) => "contacts.name",
        (_, F::Type) => "contacts.contact_type",
        // As in Business Central, a company's company no is its own no.
        (_, F::CompanyNo) => {
            "(CASE WHEN contacts.contact_type = 'company' THEN contacts.no ELSE \
             (SELECT company_of.no FROM contacts company_of WHERE company_of.id = contacts.company_id) END)"
        }
        (_, F::City) => "contacts.city",
        (_, F::PostCode) => "contacts.post_code",
        (_, F::CountryCode) => "contacts.country_code",
        (_, F::County) => "contacts.county",
        (_, F::SalespersonCode) => "contacts.salesperson_code",
        (_, F::TerritoryCode) => "contacts.territory_code",
        (_, F::LanguageCode) => "contacts.language_code",
        (_, F::CorrespondenceType) => "contacts.correspondence_type",
        (_, F::CreatedAt) => "contacts.created_at",
        (_, F::UpdatedAt) => "contacts.updated_at",
        (_, F::HasEmail) => "contacts.email",
        (_, _) => "contacts.id",
    }
}

/// The lower-cased column that `contains` / `starts_with` compare with a lower-cased pattern.
fn search_column(field: FilterField, scope: Scope) -> String {
    match (scope, field) {
        // Stored lower-cased by the service, so the search needs no function call.
        (Scope::Contact, FilterField::Name) => "contacts.search_name".to_owned(),
        _ => format!("lower({})", column(field, scope)),
    }
}

/// The link table and the contact it is attached to (companies' codes match their persons).
fn membership(field: FilterField) -> (&'static str, &'static str, &'static str) {
    match field {
        FilterField::MailingGroup => ("contact_mailing_groups", "mailing_group_code", "contacts.id"),
        FilterField::JobResponsibility => {
            ("contact_job_responsibilities", "job_responsibility_code", "contacts.id")
        }
        FilterField::IndustryGroup => {
            ("contact_industry_groups", "industry_group_code", "COALESCE(contacts.company_id, contacts.id)")
        }
        _ => (
            "contact_business_relations",
            "business_relation_code",
            "COALESCE(contacts.company_id, contacts.id)",
        ),
    }
}

fn malformed() -> ApiError {
    ApiError::internal("a filter reached the compiler without being validated")
}

fn text(value: &ScalarValue) -> BindValue {
    match value {
        ScalarValue::Text(t) => BindValue::Text(t.clone()),
        ScalarValue::Integer(i) => BindValue::BigInt(*i),
    }
}

fn scalar(value: &FilterValue) -> Result<ScalarValue, ApiError> {
    match value {
        FilterValue::Text(t) => Ok(ScalarValue::Text(t.clone())),
        FilterValue::Integer(i) => Ok(ScalarValue::Integer(*i)),
        _ => Err(malformed()),
    }
}

fn list(value: &FilterValue) -> Result<&[ScalarValue], ApiError> {
    match value {
        FilterValue::List(items) => Ok(items),
        _ => Err(malformed()),
    }
}

/// One condition over `col` (its lower-cased form `search`; memberships belong to `owner`).
fn condition(
    c: &Condition,
    scope: Scope,
    col: &str,
    search: &str,
    owner: &str,
    sql: &mut SqlBuilder,
) -> Result<(), ApiError> {
    let kind = c.field.kind(scope).ok_or_else(malformed)?;
    match (kind, c.op) {
        (_, FilterOp::IsNull) => {
            let FilterValue::Boolean(null) = c.value else { return Err(malformed()) };
            sql.sql(&format!("({col} IS {}NULL)", if null { "" } else { "NOT " }));
        }
        (FieldKind::Bool, _) => {
            let FilterValue::Boolean(wanted) = c.value else { return Err(malformed()) };
            if c.field == FilterField::HasEmail {
                sql.sql(&format!("({col} IS {}NULL)", if wanted { "NOT " } else { "" }));
            } else {
                sql.sql(&format!("({col} = ")).bind(BindValue::Bool(wanted)).sql(")");
            }
        }
        (FieldKind::Membership, op) => {
            let (table, code, _) = membership(c.field);
            let values = list(&c.value)?.iter().map(text);
            sql.sql(if op == FilterOp::In { "EXISTS " } else { "NOT EXISTS " });
            sql.sql(&format!("(SELECT 1 FROM {table} m WHERE m.contact_id = {owner} AND m.{code} IN "));
            sql.bind_list(values).sql(")");
        }
        (FieldKind::Date | FieldKind::Timestamp, op) => time_condition(col, kind, op, &c.value, sql)?,
        (_, FilterOp::Eq) => {
            sql.sql(&format!("({col} = "))
                .bind(text(&scalar(&c.value)?))
                .sql(&format!(" AND {col} IS NOT NULL)"));
        }
        (_, FilterOp::Ne) => {
            sql.sql(&format!("({col} IS NULL OR {col} <> ")).bind(text(&scalar(&c.value)?)).sql(")");
        }
        (_, FilterOp::In) => {
            sql.sql(&format!("({col} IN ")).bind_list(list(&c.value)?.iter().map(text));
            sql.sql(&format!(" AND {col} IS NOT NULL)"));
        }
        (_, FilterOp::NotIn) => {
            sql.sql(&format!("({col} IS NULL OR {col} NOT IN "))
                .bind_list(list(&c.value)?.iter().map(text))
                .sql(")");
        }
        (_, FilterOp::Contains | FilterOp::StartsWith) => {
            let ScalarValue::Text(needle) = scalar(&c.value)? else { return Err(malformed()) };
            let pattern = contains_pattern(&needle);
            // contains_pattern gives `%needle%`; a prefix search drops the leading `%`.
            let pattern = if c.op == FilterOp::StartsWith { pattern[1..].to_owned() } else { pattern };
            sql.sql(&format!("({search} LIKE "));
            sql.bind(BindValue::Text(pattern)).sql(&format!(" ESCAPE '\\' AND {col} IS NOT NULL)"));
        }
        _ => return Err(malformed()),
    }
    Ok(())
}

/// The bound of a date or timestamp column: dates compare as dates; on a timestamp, a date
/// means the whole day, so `eq` is a half-open range and `lte` ends before the next day.
fn time_condition(
    col: &str,
    kind: FieldKind,
    op: FilterOp,
    value: &FilterValue,
    sql: &mut SqlBuilder,
) -> Result<(), ApiError> {
    let bound = |v: &ScalarValue| time_bound(kind, v).ok_or_else(malformed);
    let comparisons: Vec<(&str, NaiveDateTime)> = match op {
        FilterOp::Between => {
            let [low, high] = list(value)? else { return Err(malformed()) };
            vec![at_or_after(bound(low)?), at_or_before(bound(high)?, kind)]
        }
        FilterOp::Eq => {
            let b = bound(&scalar(value)?)?;
            vec![at_or_after(b), at_or_before(b, kind)]
        }
        FilterOp::Gt => vec![after(bound(&scalar(value)?)?, kind)],
        FilterOp::Gte => vec![at_or_after(bound(&scalar(value)?)?)],
        FilterOp::Lt => vec![("<", bound(&scalar(value)?)?.start())],
        FilterOp::Lte => vec![at_or_before(bound(&scalar(value)?)?, kind)],
        _ => return Err(malformed()),
    };
    sql.sql("(");
    for (i, (cmp, at)) in comparisons.into_iter().enumerate() {
        if i > 0 {
            sql.sql(" AND ");
        }
        let value =
            if kind == FieldKind::Date { BindValue::Date(at.date()) } else { BindValue::Timestamp(at) };
        sql.sql(&format!("{col} {cmp} ")).bind(value);
    }
    sql.sql(")");
    Ok(())
}

fn start_of_next_day(d: NaiveDate) -> NaiveDateTime {
    d.checked_add_days(Days::new(1)).unwrap_or(d).and_time(NaiveTime::MIN)
}

fn at_or_after(b: TimeBound) -> (&'static str, NaiveDateTime) {
    (">=", b.start())
}

/// Strictly after: after the whole day for a date on a timestamp.
fn after(b: TimeBound, kind: FieldKind) -> (&'static str, NaiveDateTime) {
    match (kind, b) {
        (FieldKind::Timestamp, TimeBound::Day(d)) => (">=", start_of_next_day(d)),
        _ => (">", b.start()),
    }
}

/// Up to and including: through the end of the day for a date on a timestamp.
fn at_or_before(b: TimeBound, kind: FieldKind) -> (&'static str, NaiveDateTime) {
    match (kind, b) {
        (FieldKind::Timestamp, TimeBound::Day(d)) => ("<", start_of_next_day(d)),
        _ => ("<=", b.start()),
    }
}
