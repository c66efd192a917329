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

/// Lines with their contact `c` and its company `co`, as pages of affected contacts read them.
pub const LINES_WITH_CONTACTS: &str =
    " FROM segment_lines JOIN contacts c ON c.id = segment_lines.contact_id \
     LEFT JOIN contacts co ON co.id = c.company_id";

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
    add_candidate_on_c(filter, options, &mut sql)?;
    sql.sql(" AND NOT c.privacy_blocked");
    eligible(&mut sql, options, segment_id);
    Ok(sql)
}

/// `(...)`: the contact row `c` is one an `add` takes before eligibility. Without company
/// expansion, the filter on the row itself: one scan of contacts instead of a subquery of ids.
fn add_candidate_on_c(
    filter: &FilterNode,
    options: ActionOptions,
    sql: &mut SqlBuilder,
) -> Result<(), ApiError> {
    sql.sql("(");
    if options.expand_companies || options.include_related_companies {
        let candidates = add_candidates(filter, options, sql.is_sqlite())?;
        sql.sql("c.id IN (").append(&candidates).sql(")");
    } else {
        predicate_on(filter, "c", sql)?;
    }
    sql.sql(")");
    Ok(())
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

/// `(...)`: the contact row `c` is one that `remove` / `refine` take away or keep; with
/// `entire_companies`, one any contact of whose company (itself or its persons) matches.
fn matched_on_c(filter: &FilterNode, entire_companies: bool, sql: &mut SqlBuilder) -> Result<(), ApiError> {
    sql.sql("(");
    if entire_companies {
        sql.sql(
            "COALESCE(c.company_id, c.id) IN \
             (SELECT COALESCE(contacts.company_id, contacts.id) FROM contacts WHERE ",
        );
        predicate(filter, sql)?;
        sql.sql(")");
    } else {
        predicate_on(filter, "c", sql)?;
    }
    sql.sql(")");
    Ok(())
}

/// One step of a replay: what the action was, its filter and options.
pub struct ReplayStep<'a> {
    pub kind: CriteriaActionKind,
    pub filter: &'a FilterNode,
    pub options: ActionOptions,
}

/// `(...)`: the contact row `c` is in the set that replaying `steps` on today's contacts ends
/// with, starting from none: add is OR, remove AND NOT, refine AND. Eligibility of adds (privacy,
/// exclusion) applies as in the actions themselves. A predicate on the row rather than a set of
/// ids, so that "who leaves" probes each line's own contact whatever the planner's statistics
/// (an anti join against a replayed set is quadratic when it misjudges the line count), and
/// "who joins" is one scan of contacts.
pub fn in_replayed_set(steps: &[ReplayStep<'_>], sqlite: bool) -> Result<SqlBuilder, ApiError> {
    // None stands for the empty set; it is written out only at the end, so that the predicate
    // does not start with a constant `FALSE OR` for the planner to see through.
    let mut set: Option<SqlBuilder> = None;
    for step in steps {
        let mut next = SqlBuilder::new(sqlite);
        match (step.kind, &set) {
            (CriteriaActionKind::Add, _) => {
                next.sql("(");
                if let Some(set) = &set {
                    next.append(set).sql(" OR ");
                }
                next.sql("(");
                add_candidate_on_c(step.filter, step.options, &mut next)?;
                next.sql(" AND NOT c.privacy_blocked");
                if !step.options.ignore_exclusion {
                    next.sql(" AND NOT c.exclude_from_segment");
                }
                next.sql("))");
            }
            // Nothing to remove from, or to refine, in an empty set.
            (CriteriaActionKind::Remove | CriteriaActionKind::Refine, None) => continue,
            (CriteriaActionKind::Remove | CriteriaActionKind::Refine, Some(set)) => {
                next.sql("(").append(set);
                next.sql(if step.kind == CriteriaActionKind::Remove { " AND NOT " } else { " AND " });
                matched_on_c(step.filter, step.options.entire_companies, &mut next)?;
                next.sql(")");
            }
            (CriteriaActionKind::Refresh, _) => continue,
        }
        set = Some(next);
    }
    Ok(set.unwrap_or_else(|| {
        let mut none = SqlBuilder::new(sqlite);
        none.sql("(1 = 0)");
        none
    }))
}

/// `FROM contacts c LEFT JOIN contacts co ... WHERE ...`: the contacts `in_set` holds that have
/// no live line in the segment (who a refresh adds).
pub fn joining_selection(in_set: &SqlBuilder, segment_id: i64) -> SqlBuilder {
    let mut sql = SqlBuilder::new(in_set.is_sqlite());
    sql.sql(" FROM contacts c LEFT JOIN contacts co ON co.id = c.company_id WHERE ").append(in_set);
    let options = ActionOptions { ignore_exclusion: true, ..ActionOptions::default() };
    eligible(&mut sql, options, segment_id);
    sql
}

/// `FROM segment_lines JOIN contacts c ... WHERE ...`: the live lines of the segment that
/// criteria actions added (never those added by hand or from a logged segment) whose contact
/// `in_set` no longer holds (who a refresh removes).
pub fn leaving_lines(in_set: &SqlBuilder, segment_id: i64) -> SqlBuilder {
    let mut sql = SqlBuilder::new(in_set.is_sqlite());
    sql.sql(LINES_WITH_CONTACTS).sql(" WHERE segment_lines.segment_id = ").bind(segment_id.into());
    sql.sql(
        " AND segment_lines.removed_by_action_id IS NULL AND segment_lines.added_by_action_id IN \
         (SELECT a.id FROM criteria_actions a WHERE a.source IN ('filter', 'saved_criteria', 'refresh'))",
    );
    sql.sql(" AND NOT ").append(in_set);
    sql
}
