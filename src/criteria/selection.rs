//! The contact sets of criteria actions as SQL, built from a compiled filter: whom an `add`
//! takes (with its options), which lines a `remove` / `refine` matches, and the set a replay of
//! several actions ends with (for refresh). One place for these rules, used by the actions,
//! their previews and refresh alike.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compile::{predicate, predicate_on};
use super::filter::FilterNode;
use crate::db::sql::SqlBuilder;
use crate::domain::CriteriaActionKind;
use crate::error::ApiError;

/// The options of a criteria action (those of `add`, and `entire_companies` of remove/refine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ActionOptions {
    /// add: also add contacts already in the segment (a second line).
    pub allow_existing: bool,
    /// add: for a matching company, add its persons as well.
    pub expand_companies: bool,
    /// add: for a matching person, add its company as well.
    pub include_related_companies: bool,
    /// add: also add contacts marked `exclude_from_segment`.
    pub ignore_exclusion: bool,
    /// remove / refine: a line matches when any contact of its company matches.
    pub entire_companies: bool,
}

/// New lines are ordered as Business Central orders them: company name, company no, type, name.
/// `c` is the contact, `co` its company (NULL for a company, which sorts under its own name).
pub const NEW_LINE_ORDER: &str =
    " ORDER BY COALESCE(co.name, c.name), COALESCE(co.no, c.no), c.contact_type, c.name, c.id";

/// `SELECT contacts.id FROM contacts WHERE <filter>`, and with `where_also` another condition.
fn matching(filter: &FilterNode, where_also: &str, sqlite: bool) -> Result<SqlBuilder, ApiError> {
    let mut sql = SqlBuilder::new(sqlite);
    sql.sql("SELECT contacts.id FROM contacts WHERE ").sql(where_also);
    predicate(filter, &mut sql)?;
    Ok(sql)
}

/// The contacts an `add` takes before eligibility: the matches, with `expand_companies` the
/// persons of matching companies, with `include_related_companies` the companies of matching
/// persons. Yields one column `id`.
pub fn add_candidates(
    filter: &FilterNode,
    options: ActionOptions,
    sqlite: bool,
) -> Result<SqlBuilder, ApiError> {
    let mut sql = matching(filter, "", sqlite)?;
    if options.expand_companies {
        sql.sql(" UNION SELECT persons.id FROM contacts persons WHERE persons.company_id IN (");
        sql.append(&matching(filter, "contacts.contact_type = 'company' AND ", sqlite)?).sql(")");
    }
    if options.include_related_companies {
        let mut related = SqlBuilder::new(sqlite);
        related.sql(
            " UNION SELECT contacts.company_id FROM contacts WHERE contacts.company_id IS NOT NULL AND ",
        );
        predicate(filter, &mut related)?;
        sql.append(&related);
    }
    Ok(sql)
}

/// `FROM contacts c LEFT JOIN contacts co ... WHERE ...`: the contacts an `add` would give a new
/// line in `segment_id`. Privacy-blocked contacts never; excluded ones only with
/// `ignore_exclusion`; contacts with a live line only with `allow_existing`.
pub fn add_selection(
    filter: &FilterNode,
    options: ActionOptions,
    segment_id: i64,
    sqlite: bool,
) -> Result<SqlBuilder, ApiError> {
    let mut sql = SqlBuilder::new(sqlite);
    sql.sql(" FROM contacts c LEFT JOIN contacts co ON co.id = c.company_id WHERE ");
    if options.expand_companies || options.include_related_companies {
        sql.sql("c.id IN (").append(&add_candidates(filter, options, sqlite)?).sql(")");
    } else {
        // The filter on the row itself: one scan of contacts instead of a subquery of ids.
        predicate_on(filter, "c", &mut sql)?;
    }
    sql.sql(" AND NOT c.privacy_blocked");
    eligible(&mut sql, options, segment_id);
    Ok(sql)
}

/// The exclusion and already-in-segment conditions on `c`, shared by add, refresh and reuse.
pub fn eligible(sql: &mut SqlBuilder, options: ActionOptions, segment_id: i64) {
    if !options.ignore_exclusion {
        sql.sql(" AND NOT c.exclude_from_segment");
    }
    if !options.allow_existing {
        sql.sql(" AND NOT EXISTS (SELECT 1 FROM segment_lines held WHERE held.segment_id = ");
        sql.bind(segment_id.into()).sql(" AND held.contact_id = c.id AND held.removed_by_action_id IS NULL)");
    }
}

/// `EXISTS (...)`: the line in `segment_lines` (unaliased) belongs to a matching contact; with
/// `entire_companies`, to a company any of whose contacts (itself or its persons) matches.
pub fn line_matches(
    filter: &FilterNode,
    entire_companies: bool,
    sqlite: bool,
) -> Result<SqlBuilder, ApiError> {
    let mut sql = SqlBuilder::new(sqlite);
    if entire_companies {
        // The line's company key is its contact's company, or the contact itself for a company.
        sql.sql(
            "EXISTS (SELECT 1 FROM contacts x, contacts WHERE x.id = segment_lines.contact_id \
             AND (contacts.id = COALESCE(x.company_id, x.id) OR contacts.company_id = COALESCE(x.company_id, x.id)) AND ",
        );
    } else {
        sql.sql("EXISTS (SELECT 1 FROM contacts WHERE contacts.id = segment_lines.contact_id AND ");
    }
    predicate(filter, &mut sql)?;
    sql.sql(")");
    Ok(sql)
}

/// A contact-id set (one column `id`) that `remove` / `refine` take away or keep.
fn matched_set(filter: &FilterNode, entire_companies: bool, sqlite: bool) -> Result<SqlBuilder, ApiError> {
    if !entire_companies {
        return matching(filter, "", sqlite);
    }
    let mut sql = SqlBuilder::new(sqlite);
    sql.sql(
        "SELECT x.id FROM contacts x WHERE COALESCE(x.company_id, x.id) IN \
         (SELECT COALESCE(contacts.company_id, contacts.id) FROM contacts WHERE ",
    );
    predicate(filter, &mut sql)?;
    sql.sql(")");
    Ok(sql)
}

/// One step of a replay: what the action was, its filter and options.
pub struct ReplayStep<'a> {
    pub kind: CriteriaActionKind,
    pub filter: &'a FilterNode,
    pub options: ActionOptions,
}

/// The contact set (one column `id`) that replaying `steps` on today's contacts ends with,
/// starting from none: add unites, remove subtracts, refine intersects. Eligibility of adds
/// (privacy, exclusion) applies as in the actions themselves.
pub fn replayed_set(steps: &[ReplayStep<'_>], sqlite: bool) -> Result<SqlBuilder, ApiError> {
    let mut set = SqlBuilder::new(sqlite);
    set.sql("SELECT contacts.id FROM contacts WHERE 1 = 0");
    for (i, step) in steps.iter().enumerate() {
        let mut next = SqlBuilder::new(sqlite);
        next.sql("SELECT id FROM (").append(&set).sql(&format!(") step_{i}"));
        match step.kind {
            CriteriaActionKind::Add => {
                next.sql(" UNION SELECT c.id FROM contacts c WHERE c.id IN (");
                next.append(&add_candidates(step.filter, step.options, sqlite)?)
                    .sql(") AND NOT c.privacy_blocked");
                if !step.options.ignore_exclusion {
                    next.sql(" AND NOT c.exclude_from_segment");
                }
            }
            CriteriaActionKind::Remove => {
                next.sql(" EXCEPT ").append(&matched_set(
                    step.filter,
                    step.options.entire_companies,
                    sqlite,
                )?);
            }
            CriteriaActionKind::Refine => {
                next.sql(" INTERSECT ").append(&matched_set(
                    step.filter,
                    step.options.entire_companies,
                    sqlite,
                )?);
            }
            CriteriaActionKind::Refresh => continue,
        }
        set = next;
    }
    Ok(set)
}

/// `FROM contacts c LEFT JOIN contacts co ... WHERE ...`: the contacts of `set` that have no live
/// line in the segment (who a refresh adds).
pub fn joining_selection(set: &SqlBuilder, segment_id: i64, sqlite: bool) -> SqlBuilder {
    let mut sql = SqlBuilder::new(sqlite);
    sql.sql(" FROM contacts c LEFT JOIN contacts co ON co.id = c.company_id WHERE c.id IN (");
    sql.append(set).sql(")");
    let options = ActionOptions { ignore_exclusion: true, ..ActionOptions::default() };
    eligible(&mut sql, options, segment_id);
    sql
}

/// `WHERE ...` over `segment_lines`: the live lines of the segment that criteria actions added
/// (never those added by hand or from a logged segment) whose contact is not in `set` (who a
/// refresh removes).
pub fn leaving_lines(set: &SqlBuilder, segment_id: i64, sqlite: bool) -> SqlBuilder {
    let mut sql = SqlBuilder::new(sqlite);
    sql.sql(" WHERE segment_lines.segment_id = ").bind(segment_id.into());
    sql.sql(
        " AND segment_lines.removed_by_action_id IS NULL AND segment_lines.added_by_action_id IN \
         (SELECT a.id FROM criteria_actions a WHERE a.source IN ('filter', 'saved_criteria', 'refresh'))",
    );
    sql.sql(" AND NOT EXISTS (SELECT 1 FROM (")
        .append(set)
        .sql(") kept WHERE kept.id = segment_lines.contact_id)");
    sql
}
