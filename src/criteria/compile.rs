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

    fn condition(&self, c: &Condition, scope: Scope, sql: &mut SqlBuilder) -> Result<(), ApiError> {
        let row = self.contact;
        let (col, search) = (column(c.field, scope, row), search_column(c.field, scope, row));
        condition(c, scope, &col, &search, &membership(c.field, row), sql)
    }
}

/// The SQL expression a field reads; contact fields on the contact row named `row`.
fn column(field: FilterField, scope: Scope, row: &str) -> String {
    use FilterField as F;
    if scope == Scope::Interaction {
        let interaction = match field {
            F::InteractionTemplateCode => "e.interaction_template_code",
            F::InteractionGroupCode => "e.interaction_group_code",
            F::SegmentNo => "e.segment_no",
            F::LoggedSegmentId => "e.logged_segment_id",
            F::Evaluation => "e.evaluation",
            F::SalespersonCode => "e.salesperson_code",
            F::CorrespondenceType => "e.correspondence_type",
            F::Canceled => "e.canceled",
            _ => "e.date",
        };
        return interaction.to_owned();
    }
    let contact_column = match field {
        F::No => "no",
        F::Name => "name",
        F::Type => "contact_type",
        // As in Business Central, a company's company no is its own no.
        F::CompanyNo => {
            return format!(
                "(CASE WHEN {row}.contact_type = 'company' THEN {row}.no ELSE \
                 (SELECT company_of.no FROM contacts company_of WHERE company_of.id = {row}.company_id) END)"
            )
        }
        F::City => "city",
        F::PostCode => "post_code",
        F::CountryCode => "country_code",
        F::County => "county",
        F::SalespersonCode => "salesperson_code",
        F::TerritoryCode => "territory_code",
        F::LanguageCode => "language_code",
        F::CorrespondenceType => "correspondence_type",
        F::CreatedAt => "created_at",
        F::UpdatedAt => "updated_at",
        F::HasEmail => "email",
        _ => "id",
    };
    format!("{row}.{contact_column}")
}

/// The lower-cased column that `contains` / `starts_with` compare with a lower-cased pattern.
fn search_column(field: FilterField, scope: Scope, row: &str) -> String {
    match (scope, field) {
        // Stored lower-cased by the service, so the search needs no function call.
        (Scope::Contact, FilterField::Name) => format!("{row}.search_name"),
        _ => format!("lower({})", column(field, scope, row)),
    }
}

/// The link table, its code column, and the contact on row `row` whose codes count: a person's
/// industry groups and business relations are its company's, as in Business Central.
fn membership(field: FilterField, row: &str) -> (&'static str, &'static str, String) {
    let (own, company) = (format!("{row}.id"), format!("COALESCE({row}.company_id, {row}.id)"));
    match field {
        FilterField::MailingGroup => ("contact_mailing_groups", "mailing_group_code", own),
        FilterField::JobResponsibility => ("contact_job_responsibilities", "job_responsibility_code", own),
        FilterField::IndustryGroup => ("contact_industry_groups", "industry_group_code", company),
        _ => ("contact_business_relations", "business_relation_code", company),
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

/// One condition over `col` (its lower-cased form `search`; a membership field reads the link
/// table `member.0`, code column `member.1`, of the contact `member.2`).
fn condition(
    c: &Condition,
    scope: Scope,
    col: &str,
    search: &str,
    member: &(&str, &str, String),
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
            let (table, code, owner) = member;
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
