//! The checks a contact write makes as a set before anything is written: references to
//! salespeople, code tables and companies, and uniqueness of `no` and `external_id`.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use super::state::{ContactState, PlannedWrite};
use crate::db::schema::{
    business_relations, contacts, industry_groups, job_responsibilities, mailing_groups, salespeople,
};
use crate::db::{self, Conn, MAX_BINDS_PER_LIST};
use crate::domain::validation::Checker;
use crate::domain::ContactType;
use crate::error::{ApiError, FieldError};
/// Looks up the codes of one code table; answers those that do not exist.
macro_rules! unknown_codes {
    ($conn:expr, $table:ident, $codes:expr) => {{
        let codes: Vec<String> = $codes.iter().cloned().collect();
        let mut known: HashSet<String> = HashSet::new();
        for chunk in codes.chunks(MAX_BINDS_PER_LIST) {
            known.extend(
                $table::table
                    .filter($table::code.eq_any(chunk))
                    .select($table::code)
                    .load::<String>($conn)?,
            );
        }
        codes.into_iter().filter(|c| !known.contains(c)).collect::<HashSet<String>>()
    }};
}

/// Checks the planned writes as a set: each state on its own, then references and uniqueness.
/// Any fault answers 422 with every fault (and clash); clashes alone answer 409.
pub(super) fn check_plans(
    conn: &mut Conn,
    plans: &[PlannedWrite],
    mut errors: Vec<FieldError>,
    mut owners: UniqueOwners,
) -> Result<(), ApiError> {
    for plan in plans {
        let mut checker = Checker::with_prefix(plan.field_prefix.clone());
        plan.state.check(&mut checker);
        errors.extend(checker.errors);
    }
    check_references(conn, plans, &mut errors)?;
    let duplicates = check_uniqueness(conn, plans, &mut errors, &mut owners)?;
    if !errors.is_empty() {
        errors.extend(duplicates);
        return Err(ApiError::Validation(errors));
    }
    if !duplicates.is_empty() {
        return Err(ApiError::Duplicates(duplicates));
    }
    Ok(())
}

/// Salesperson, link codes and companies must exist; a company must be a company.
fn check_references(
    conn: &mut Conn,
    plans: &[PlannedWrite],
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    let unknown = UnknownCodes::find(conn, plans)?;
    let companies = NamedCompanies::find(conn, plans)?;
    let persons_of = persons_of_companies_becoming_persons(conn, plans)?;
    for plan in plans {
        let c = Checker::with_prefix(plan.field_prefix.clone());
        unknown.check(&plan.state, &c, errors);
        companies.check(&plan.state, &c, errors);
        check_company_without_persons(plan, &persons_of, &c, errors);
    }
    Ok(())
}

/// The codes named by the planned writes that their code tables do not hold.
struct UnknownCodes {
    salespeople: HashSet<String>,
    mailing_groups: HashSet<String>,
    industry_groups: HashSet<String>,
    business_relations: HashSet<String>,
    job_responsibilities: HashSet<String>,
}

impl UnknownCodes {
    /// Looks up every code the plans name: one query per code table (and chunk).
    fn find(conn: &mut Conn, plans: &[PlannedWrite]) -> Result<Self, ApiError> {
        let collect = |f: &dyn Fn(&ContactState) -> Vec<String>| -> BTreeSet<String> {
            plans.iter().flat_map(|p| f(&p.state)).collect()
        };
        Ok(UnknownCodes {
            salespeople: unknown_codes!(
                conn,
                salespeople,
                collect(&|s| s.salesperson_code.iter().map(|code| code.to_string()).collect())
            ),
            mailing_groups: unknown_codes!(
                conn,
                mailing_groups,
                collect(&|s| s.links.mailing_groups.clone())
            ),
            industry_groups: unknown_codes!(
                conn,
                industry_groups,
                collect(&|s| s.links.industry_groups.clone())
            ),
            business_relations: unknown_codes!(
                conn,
                business_relations,
                collect(&|s| s.links.business_relations.clone())
            ),
            job_responsibilities: unknown_codes!(
                conn,
                job_responsibilities,
                collect(&|s| s.links.job_responsibilities.clone())
            ),
        })
    }

    /// Reports the contact's unknown salesperson and, per link list, its unknown codes.
    fn check(&self, state: &ContactState, c: &Checker, errors: &mut Vec<FieldError>) {
        if let Some(code) =
            state.salesperson_code.as_ref().filter(|code| self.salespeople.contains(code.as_str()))
        {
            errors.push(FieldError::new(
                c.field_name("salesperson_code"),
                "unknown_code",
                format!("no salesperson {code}"),
            ));
        }
        for (field, codes, unknown) in [
            ("mailing_group_codes", &state.links.mailing_groups, &self.mailing_groups),
            ("industry_group_codes", &state.links.industry_groups, &self.industry_groups),
            ("business_relation_codes", &state.links.business_relations, &self.business_relations),
            ("job_responsibility_codes", &state.links.job_responsibilities, &self.job_responsibilities),
        ] {
            let missing: Vec<&str> =
                codes.iter().filter(|code| unknown.contains(*code)).map(String::as_str).collect();
            if !missing.is_empty() {
                errors.push(FieldError::new(
                    c.field_name(field),
                    "unknown_code",
                    format!("unknown codes: {}", missing.join(", ")),
                ));
            }
        }
    }
}

/// The contacts that persons of the batch name as their company: stored ones, or contacts of
/// this batch.
struct NamedCompanies<'a> {
    /// Stored contacts by `no`, with their type.
    stored: HashMap<String, ContactType>,
    /// This batch's contacts by their new `no`, with their new type.
    batch: HashMap<&'a str, ContactType>,
    /// Numbers this batch renames away: they no longer name their contact once it is written.
    renamed_away: HashSet<&'a str>,
}

impl<'a> NamedCompanies<'a> {
    /// Reads the stored contacts named as companies, locked FOR SHARE on PostgreSQL so that
    /// none turns into a person (or goes) before this write commits.
    fn find(conn: &mut Conn, plans: &'a [PlannedWrite]) -> Result<Self, ApiError> {
        let company_nos: Vec<String> = plans
            .iter()
            .filter_map(|p| p.state.company_no.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut stored: HashMap<String, ContactType> = HashMap::new();
        for chunk in company_nos.chunks(MAX_BINDS_PER_LIST) {
            macro_rules! query {
                () => {
                    contacts::table
                        .filter(contacts::no.eq_any(chunk))
                        .select((contacts::no, contacts::contact_type))
                };
            }
            stored.extend(match conn {
                Conn::Postgresql(c) => query!().for_share().load::<(String, ContactType)>(c)?,
                Conn::Sqlite(c) => query!().load::<(String, ContactType)>(c)?,
            });
        }
        let batch =
            plans.iter().filter_map(|p| p.state.no.as_deref().map(|no| (no, p.state.contact_type))).collect();
        let renamed_away = plans
            .iter()
            .filter_map(|p| {
                p.existing
                    .as_ref()
                    .and_then(|e| e.state.no.as_deref())
                    .filter(|old| p.state.no.as_deref() != Some(*old))
            })
            .collect();
        Ok(NamedCompanies { stored, batch, renamed_away })
    }

    /// The type of the contact that `no` names once the batch is written; None if none does.
    fn type_of(&self, no: &str) -> Option<ContactType> {
        self.batch.get(no).copied().or_else(|| {
            let gone = self.renamed_away.contains(no);
            self.stored.get(no).filter(|_| !gone).copied()
        })
    }

    /// Reports a person's company that does not exist, is a person, or is the person itself.
    fn check(&self, state: &ContactState, c: &Checker, errors: &mut Vec<FieldError>) {
        let (ContactType::Person, Some(company_no)) = (state.contact_type, &state.company_no) else { return };
        match self.type_of(company_no) {
            None => errors.push(FieldError::new(
                c.field_name("company_no"),
                "unknown_reference",
                format!("no contact with no {company_no}"),
            )),
            Some(ContactType::Person) => errors.push(FieldError::new(
                c.field_name("company_no"),
                "not_a_company",
                format!("{company_no} is a person, not a company"),
            )),
            Some(ContactType::Company) => {}
        }
        if state.no.as_deref() == Some(company_no.as_str()) {
            errors.push(FieldError::new(
                c.field_name("company_no"),
                "invalid",
                "a contact cannot be its own company",
            ));
        }
    }
}

/// How many persons each stored company that this batch turns into a person still has.
fn persons_of_companies_becoming_persons(
    conn: &mut Conn,
    plans: &[PlannedWrite],
) -> Result<HashMap<i64, i64>, ApiError> {
    let becoming_persons: Vec<i64> = plans
        .iter()
        .filter_map(|p| {
            p.existing.as_ref().filter(|e| {
                e.state.contact_type == ContactType::Company && p.state.contact_type == ContactType::Person
            })
        })
        .map(|e| e.id)
        .collect();
    let mut persons_of: HashMap<i64, i64> = HashMap::new();
    for chunk in becoming_persons.chunks(MAX_BINDS_PER_LIST) {
        let counts: Vec<(Option<i64>, i64)> = contacts::table
            .filter(contacts::company_id.eq_any(chunk))
            .group_by(contacts::company_id)
            .select((contacts::company_id, diesel::dsl::count_star()))
            .load(conn)?;
        persons_of.extend(counts.into_iter().filter_map(|(id, n)| id.map(|id| (id, n))));
    }
    Ok(persons_of)
}

/// Reports a company that would become a person while persons still belong to it.
fn check_company_without_persons(
    plan: &PlannedWrite,
    persons_of: &HashMap<i64, i64>,
    c: &Checker,
    errors: &mut Vec<FieldError>,
) {
    if let Some(&persons) = plan.existing.as_ref().and_then(|e| persons_of.get(&e.id)) {
        if persons > 0 && plan.state.contact_type == ContactType::Person {
            errors.push(FieldError::new(
                c.field_name("type"),
                "has_persons",
                format!("the company has {persons} person(s) and cannot become a person"),
            ));
        }
    }
}

/// `no` and `external_id` must be unique in the batch (422) and in the table (409). Answers
/// the table clashes; batch repeats go into `errors`.
fn check_uniqueness(
    conn: &mut Conn,
    plans: &[PlannedWrite],
    errors: &mut Vec<FieldError>,
    owners: &mut UniqueOwners,
) -> Result<Vec<FieldError>, ApiError> {
    let mut duplicates = Vec::new();
    for (field, unique) in [("no", UniqueField::No), ("external_id", UniqueField::ExternalId)] {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(plans.len());
        for (i, plan) in plans.iter().enumerate() {
            if let Some(value) = unique.of(&plan.state) {
                if let Some(first) = seen.insert(value, i) {
                    errors.push(FieldError::new(
                        format!("{}.{field}", plan.field_prefix),
                        "duplicate_in_batch",
                        format!("{field} {value} also appears in {}", plans[first].field_prefix),
                    ));
                }
            }
        }
        owners.fetch(conn, unique, seen.into_keys())?;
        for plan in plans {
            let Some(value) = unique.of(&plan.state) else { continue };
            let own_id = plan.existing.as_ref().map(|e| e.id);
            if let Some(owner) = owners.owner(unique, value).filter(|owner| Some(*owner) != own_id) {
                let name = if plan.field_prefix.is_empty() {
                    field.to_owned()
                } else {
                    format!("{}.{field}", plan.field_prefix)
                };
                duplicates.push(FieldError::new(
                    name,
                    "already_exists",
                    format!("{field} {value} belongs to contact {owner}"),
                ));
            }
        }
    }
    Ok(duplicates)
}

/// A column whose values are unique among contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    No,
    ExternalId,
}

impl UniqueField {
    /// The state's value of this column.
    fn of(self, state: &ContactState) -> Option<&str> {
        match self {
            UniqueField::No => state.no.as_deref(),
            UniqueField::ExternalId => state.external_id.as_deref(),
        }
    }
}

/// Which contact holds a `no` or `external_id`, looked up once per value and remembered for
/// the rest of the write (valid because the write transaction excludes other writers). One map
/// per column, keyed by the value, so that asking costs a hash of a `&str` and no copy: a bulk
/// request asks about every one of its 1000 items' keys three times.
#[derive(Debug, Default)]
pub struct UniqueOwners {
    /// value -> its owner, or None when looked up and free.
    no: HashMap<String, Option<i64>>,
    external_id: HashMap<String, Option<i64>>,
}

impl UniqueOwners {
    fn known(&self, field: UniqueField) -> &HashMap<String, Option<i64>> {
        match field {
            UniqueField::No => &self.no,
            UniqueField::ExternalId => &self.external_id,
        }
    }

    fn known_mut(&mut self, field: UniqueField) -> &mut HashMap<String, Option<i64>> {
        match field {
            UniqueField::No => &mut self.no,
            UniqueField::ExternalId => &mut self.external_id,
        }
    }

    /// Looks up the owners of those `values` not looked up before.
    pub(super) fn fetch<'v>(
        &mut self,
        conn: &mut Conn,
        field: UniqueField,
        values: impl IntoIterator<Item = &'v str>,
    ) -> Result<(), ApiError> {
        let known = self.known(field);
        let mut asked = HashSet::new();
        let unknown: Vec<&str> =
            values.into_iter().filter(|v| !known.contains_key(*v) && asked.insert(*v)).collect();
        let column = match field {
            UniqueField::No => "contacts.no",
            UniqueField::ExternalId => "contacts.external_id",
        };
        for chunk in unknown.chunks(MAX_BINDS_PER_LIST) {
            // On SQLite an `IN (?, ?, ...)` of 1000 binds is parsed anew for every batch; one
            // JSON array bound to `json_each` keeps the statement small and cached. PostgreSQL
            // binds the list as one array already.
            let found: Vec<(Option<String>, i64)> = if db::is_sqlite(conn) {
                let values = serde_json::to_string(chunk).map_err(ApiError::internal)?;
                let in_list = sql::<Bool>(&format!("{column} IN (SELECT value FROM json_each("))
                    .bind::<Text, _>(values)
                    .sql("))");
                contacts::table
                    .filter(in_list)
                    .select((sql::<Nullable<Text>>(column), contacts::id))
                    .load(conn)?
            } else {
                match field {
                    UniqueField::No => contacts::table
                        .filter(contacts::no.eq_any(chunk))
                        .select((contacts::no.nullable(), contacts::id))
                        .load(conn)?,
                    UniqueField::ExternalId => contacts::table
                        .filter(contacts::external_id.eq_any(chunk))
                        .select((contacts::external_id, contacts::id))
                        .load(conn)?,
                }
            };
            let known = self.known_mut(field);
            known.reserve(chunk.len());
            for (value, id) in found {
                if let Some(value) = value {
                    known.insert(value, Some(id));
                }
            }
            for value in chunk {
                if !known.contains_key(*value) {
                    known.insert((*value).to_owned(), None);
                }
            }
        }
        Ok(())
    }

    /// The contact that holds `value`, once fetched; None when free (or not fetched).
    pub(super) fn owner(&self, field: UniqueField, value: &str) -> Option<i64> {
        self.known(field).get(value).copied().flatten()
    }
}
