//! The one write path of contacts: create, PATCH and bulk sync all plan writes and hand them
//! here, where they are checked as a set and written with multi-row statements.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::upsert::excluded;

use super::model::{
    BulkResult, BulkStatus, ContactPatch, ContactRowValues, ContactState, ContactUpdateRow, CreateContact,
};
use super::repo::with_company_and_links;
use crate::conditional::{check_version, IfMatch};
use crate::db::schema::{
    business_relations, contact_business_relations, contact_industry_groups, contact_job_responsibilities,
    contact_mailing_groups, contacts, industry_groups, job_responsibilities, mailing_groups, salespeople,
};
use crate::db::{self, Conn, MAX_BINDS_PER_LIST};
use crate::domain::ContactType;
use crate::error::{ApiError, FieldError};
use crate::number_series;
use crate::validation::Checker;
use crate::with_backend;

/// Rows per multi-row statement: 1000 rows of 28 columns stay under SQLite's 32766 binds.
const ROWS_PER_STATEMENT: usize = 1000;

/// A stored contact as a write found it.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: i64,
    pub version: i64,
    pub state: ContactState,
}

/// One contact to write: its new state, and the stored one when it exists.
#[derive(Debug)]
pub struct PlannedWrite {
    /// Prefix of field names in errors: "" for single requests, `items[3]` in bulk.
    pub field_prefix: String,
    pub existing: Option<Existing>,
    pub state: ContactState,
}

/// What was done with a planned write.
#[derive(Debug, Clone)]
pub struct Written {
    pub status: BulkStatus,
    pub id: i64,
    pub no: String,
}

/// Creates one contact; answers its id.
pub fn create_contact(conn: &mut Conn, input: CreateContact) -> Result<i64, ApiError> {
    let mut checker = Checker::new();
    let state = input.into_state(&mut checker);
    db::write_transaction(conn, |conn| {
        let plan = PlannedWrite { field_prefix: String::new(), existing: None, state };
        Ok(write_contacts(conn, vec![plan], checker.errors, UniqueOwners::default())?.remove(0).id)
    })
}

/// Applies a PATCH; an identical result leaves the contact (and its version) untouched.
pub fn update_contact(
    conn: &mut Conn,
    id: i64,
    if_match: IfMatch,
    change: ContactPatch,
) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        let existing =
            load_existing(conn, &[id])?.pop().ok_or_else(|| ApiError::not_found(format!("contact {id}")))?;
        check_version(if_match, existing.version)?;
        let mut state = existing.state.clone();
        let mut checker = Checker::new();
        state.apply(change, &mut checker);
        let plan = PlannedWrite { field_prefix: String::new(), existing: Some(existing), state };
        write_contacts(conn, vec![plan], checker.errors, UniqueOwners::default())?;
        Ok(())
    })
}

/// Bulk sync, all or nothing: items match on `external_id` when given, else on `no`; any
/// invalid item fails the whole batch with every item's faults, and nothing is written.
pub fn bulk_sync(conn: &mut Conn, items: Vec<ContactPatch>) -> Result<Vec<BulkResult>, ApiError> {
    db::write_transaction(conn, |conn| {
        if let Conn::Postgresql(c) = conn {
            // Bulk syncs run one at a time on PostgreSQL (SQLite serialises all writers anyway):
            // two batches creating the same new external_id would otherwise both find it
            // missing, and the later one fail on the unique index instead of seeing `unchanged`.
            diesel::sql_query("SELECT pg_advisory_xact_lock(7262310041)").execute(c)?;
        }
        // One lookup per key serves both the matching here and the uniqueness check later.
        let mut owners = UniqueOwners::default();
        let external_ids: Vec<String> = items.iter().filter_map(match_key_external_id).collect();
        let nos: Vec<String> = items.iter().filter_map(|i| i.no.clone().flatten()).collect();
        let by_external_id = owners.lookup(conn, UniqueField::ExternalId, &external_ids)?;
        let by_no = owners.lookup(conn, UniqueField::No, &nos)?;
        let mut ids: Vec<i64> = items
            .iter()
            .filter_map(|i| match match_key_external_id(i) {
                Some(external_id) => by_external_id.get(&external_id).copied(),
                None => i.no.clone().flatten().and_then(|no| by_no.get(&no).copied()),
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let existing = load_existing(conn, &ids)?;
        let by_external_id: HashMap<&str, &Existing> =
            existing.iter().filter_map(|e| e.state.external_id.as_deref().map(|x| (x, e))).collect();
        let by_no: HashMap<&str, &Existing> =
            existing.iter().filter_map(|e| e.state.no.as_deref().map(|no| (no, e))).collect();

        let mut errors = Vec::new();
        let mut plans = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let field_prefix = format!("items[{index}]");
            let found = match match_key_external_id(&item) {
                Some(external_id) => by_external_id.get(external_id.as_str()),
                None => item.no.clone().flatten().and_then(|no| by_no.get(no.as_str())),
            };
            let (existing, mut state) = match (found, item.contact_type.flatten()) {
                (Some(e), _) => (Some((*e).clone()), e.state.clone()),
                (None, Some(t)) => (None, ContactState::new(t)),
                (None, None) => {
                    errors.push(FieldError::new(
                        format!("{field_prefix}.type"),
                        "required",
                        "type is required for a contact that does not exist yet",
                    ));
                    (None, ContactState::new(ContactType::Company))
                }
            };
            let mut checker = Checker::with_prefix(field_prefix.clone());
            state.apply(item, &mut checker);
            errors.extend(checker.errors);
            plans.push(PlannedWrite { field_prefix, existing, state });
        }
        let written = write_contacts(conn, plans, errors, owners)?;
        Ok(written
            .into_iter()
            .enumerate()
            .map(|(index, w)| BulkResult { index, status: w.status, id: w.id, no: w.no })
            .collect())
    })
}

/// The `external_id` an item is matched on; an empty one means none, as everywhere else.
fn match_key_external_id(item: &ContactPatch) -> Option<String> {
    item.external_id.clone().flatten().filter(|x| !x.trim().is_empty())
}

/// Loads stored contacts as states, locking their rows on PostgreSQL so that the comparison
/// and the write see the same version (SQLite's `BEGIN IMMEDIATE` already excludes writers).
fn load_existing(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Existing>, ApiError> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BINDS_PER_LIST) {
        // `as_select` is typed by backend, so the query is spelled out per arm.
        macro_rules! query {
            () => {
                contacts::table.filter(contacts::id.eq_any(chunk)).select(super::model::Contact::as_select())
            };
        }
        rows.extend(match conn {
            Conn::Postgresql(c) => query!().for_update().load(c)?,
            Conn::Sqlite(c) => query!().load(c)?,
        });
    }
    Ok(with_company_and_links(conn, rows)?
        .into_iter()
        .map(|v| Existing {
            id: v.row.id,
            version: v.row.version,
            state: ContactState::of(&v.row, v.company_no, v.links),
        })
        .collect())
}

/// Checks the planned writes as a set, then writes what changed. Must run in a write
/// transaction. Answers one `Written` per plan, in order.
pub fn write_contacts(
    conn: &mut Conn,
    plans: Vec<PlannedWrite>,
    mut errors: Vec<FieldError>,
    mut owners: UniqueOwners,
) -> Result<Vec<Written>, ApiError> {
    for plan in &plans {
        let mut checker = Checker::with_prefix(plan.field_prefix.clone());
        plan.state.check(&mut checker);
        errors.extend(checker.errors);
    }
    check_references(conn, &plans, &mut errors)?;
    let duplicates = check_uniqueness(conn, &plans, &mut errors, &mut owners)?;
    if !errors.is_empty() {
        errors.extend(duplicates);
        return Err(ApiError::Validation(errors));
    }
    if !duplicates.is_empty() {
        return Err(ApiError::Duplicates(duplicates));
    }

    // Numbers for new contacts without one, skipping numbers taken in the table or the batch.
    let wanted = plans.iter().filter(|p| p.existing.is_none() && p.state.no.is_none()).count();
    let batch_nos: HashSet<String> = plans.iter().filter_map(|p| p.state.no.clone()).collect();
    let mut assigned = number_series::assign(conn, number_series::CONTACT, wanted, |conn, candidates| {
        let mut taken: Vec<String> =
            contacts::table.filter(contacts::no.eq_any(candidates)).select(contacts::no).load(conn)?;
        taken.extend(candidates.iter().filter(|c| batch_nos.contains(*c)).cloned());
        Ok(taken)
    })?
    .into_iter();

    let now = Utc::now().naive_utc();
    let mut results: Vec<Option<Written>> = vec![None; plans.len()];
    let mut nos: Vec<String> = Vec::with_capacity(plans.len());
    for (plan, result) in plans.iter().zip(results.iter_mut()) {
        let no = plan.state.no.clone().or_else(|| assigned.next()).unwrap_or_default();
        if let Some(e) = plan.existing.as_ref().filter(|e| e.state == plan.state) {
            *result = Some(Written { status: BulkStatus::Unchanged, id: e.id, no: no.clone() });
        }
        nos.push(no);
    }

    // Companies first, so that persons of the same batch can name them.
    for phase in [ContactType::Company, ContactType::Person] {
        let in_phase: Vec<usize> = (0..plans.len())
            .filter(|&i| results[i].is_none() && plans[i].state.contact_type == phase)
            .collect();
        if in_phase.is_empty() {
            continue;
        }
        let company_ids = resolve_company_ids(conn, in_phase.iter().map(|&i| &plans[i].state))?;
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        for &i in &in_phase {
            let state = &plans[i].state;
            let company_id = match &state.company_no {
                // Checked before any write; a miss here means the batch moved the number meanwhile.
                Some(no) => Some(company_ids.get(no).copied().ok_or_else(|| {
                    ApiError::Validation(vec![FieldError::new(
                        format!("{}.company_no", plans[i].field_prefix).trim_start_matches('.'),
                        "unknown_reference",
                        format!("no company contact with no {no} after this batch"),
                    )])
                })?),
                None => None,
            };
            match &plans[i].existing {
                None => inserts.push((i, state.row_values(nos[i].clone(), company_id, 1, now))),
                Some(e) => updates.push((
                    i,
                    ContactUpdateRow {
                        id: e.id,
                        values: state.row_values(nos[i].clone(), company_id, e.version + 1, now),
                    },
                )),
            }
        }
        let (inserted, insert_values): (Vec<usize>, Vec<ContactRowValues>) = inserts.into_iter().unzip();
        let created = insert_rows(conn, &insert_values)?;
        for i in &inserted {
            let id = created
                .get(&nos[*i])
                .copied()
                .ok_or_else(|| ApiError::internal("inserted contact not returned"))?;
            results[*i] = Some(Written { status: BulkStatus::Created, id, no: nos[*i].clone() });
        }
        let (updated, update_values): (Vec<usize>, Vec<ContactUpdateRow>) = updates.into_iter().unzip();
        update_rows(conn, &update_values)?;
        for (i, row) in updated.iter().zip(&update_values) {
            results[*i] = Some(Written { status: BulkStatus::Updated, id: row.id, no: nos[*i].clone() });
        }
    }

    let results: Vec<Written> = results.into_iter().flatten().collect();
    write_links(conn, &plans, &results)?;
    Ok(results)
}

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

/// Salesperson, link codes and companies must exist; a company must be a company.
fn check_references(
    conn: &mut Conn,
    plans: &[PlannedWrite],
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    let collect = |f: &dyn Fn(&ContactState) -> Vec<String>| -> BTreeSet<String> {
        plans.iter().flat_map(|p| f(&p.state)).collect()
    };
    let unknown_salespeople =
        unknown_codes!(conn, salespeople, collect(&|s| s.salesperson_code.iter().cloned().collect()));
    let unknown_mailing = unknown_codes!(conn, mailing_groups, collect(&|s| s.links.mailing_groups.clone()));
    let unknown_industry =
        unknown_codes!(conn, industry_groups, collect(&|s| s.links.industry_groups.clone()));
    let unknown_relations =
        unknown_codes!(conn, business_relations, collect(&|s| s.links.business_relations.clone()));
    let unknown_jobs =
        unknown_codes!(conn, job_responsibilities, collect(&|s| s.links.job_responsibilities.clone()));

    // Companies named by persons: stored ones, or companies of this batch.
    let company_nos: Vec<String> = collect(&|s| s.company_no.iter().cloned().collect()).into_iter().collect();
    let mut stored: HashMap<String, String> = HashMap::new();
    for chunk in company_nos.chunks(MAX_BINDS_PER_LIST) {
        // FOR SHARE on PostgreSQL: the named company cannot turn into a person (or go) before
        // this write commits.
        macro_rules! query {
            () => {
                contacts::table
                    .filter(contacts::no.eq_any(chunk))
                    .select((contacts::no, contacts::contact_type))
            };
        }
        stored.extend(match conn {
            Conn::Postgresql(c) => query!().for_share().load::<(String, String)>(c)?,
            Conn::Sqlite(c) => query!().load::<(String, String)>(c)?,
        });
    }
    // Companies that this batch would turn into persons: how many persons each still has.
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
    let batch_types: HashMap<&str, ContactType> =
        plans.iter().filter_map(|p| p.state.no.as_deref().map(|no| (no, p.state.contact_type))).collect();
    // Numbers this batch renames away no longer name their contact once it is written.
    let renamed_away: HashSet<&str> = plans
        .iter()
        .filter_map(|p| {
            p.existing
                .as_ref()
                .and_then(|e| e.state.no.as_deref())
                .filter(|old| p.state.no.as_deref() != Some(*old))
        })
        .collect();

    for plan in plans {
        let state = &plan.state;
        let c = Checker::with_prefix(plan.field_prefix.clone());
        if let Some(code) = state.salesperson_code.as_ref().filter(|c| unknown_salespeople.contains(*c)) {
            errors.push(FieldError::new(
                c.field_name("salesperson_code"),
                "unknown_code",
                format!("no salesperson {code}"),
            ));
        }
        for (field, codes, unknown) in [
            ("mailing_group_codes", &state.links.mailing_groups, &unknown_mailing),
            ("industry_group_codes", &state.links.industry_groups, &unknown_industry),
            ("business_relation_codes", &state.links.business_relations, &unknown_relations),
            ("job_responsibility_codes", &state.links.job_responsibilities, &unknown_jobs),
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
        if let (ContactType::Person, Some(company_no)) = (state.contact_type, &state.company_no) {
            let company_type = batch_types.get(company_no.as_str()).copied().or_else(|| {
                let gone = renamed_away.contains(company_no.as_str());
                stored.get(company_no).filter(|_| !gone).and_then(|t| ContactType::parse(t))
            });
            match company_type {
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
        if let Some(&persons) = plan.existing.as_ref().and_then(|e| persons_of.get(&e.id)) {
            if persons > 0 && state.contact_type == ContactType::Person {
                errors.push(FieldError::new(
                    c.field_name("type"),
                    "has_persons",
                    format!("the company has {persons} person(s) and cannot become a person"),
                ));
            }
        }
    }
    Ok(())
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
        let value_of = |s: &ContactState| match unique {
            UniqueField::No => s.no.clone(),
            UniqueField::ExternalId => s.external_id.clone(),
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, plan) in plans.iter().enumerate() {
            if let Some(value) = value_of(&plan.state) {
                if let Some(first) = seen.insert(value.clone(), i) {
                    errors.push(FieldError::new(
                        format!("{}.{field}", plan.field_prefix),
                        "duplicate_in_batch",
                        format!("{field} {value} also appears in {}", plans[first].field_prefix),
                    ));
                }
            }
        }
        let values: Vec<String> = seen.into_keys().collect();
        let owners = owners.lookup(conn, unique, &values)?;
        for plan in plans {
            let Some(value) = value_of(&plan.state) else { continue };
            let own_id = plan.existing.as_ref().map(|e| e.id);
            if let Some(owner) = owners.get(&value).filter(|owner| Some(**owner) != own_id) {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueField {
    No,
    ExternalId,
}

/// Which contact holds a `no` or `external_id`, looked up once per value and remembered for
/// the rest of the write (valid because the write transaction excludes other writers).
#[derive(Debug, Default)]
pub struct UniqueOwners {
    known: HashMap<(UniqueField, String), Option<i64>>,
}

impl UniqueOwners {
    /// The owners of those `values` that have one; only values not seen before are queried.
    fn lookup(
        &mut self,
        conn: &mut Conn,
        field: UniqueField,
        values: &[String],
    ) -> Result<HashMap<String, i64>, ApiError> {
        let unknown: Vec<String> = values
            .iter()
            .filter(|v| !self.known.contains_key(&(field, (*v).clone())))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for chunk in unknown.chunks(MAX_BINDS_PER_LIST) {
            let column = match field {
                UniqueField::No => "contacts.no",
                UniqueField::ExternalId => "contacts.external_id",
            };
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
            for value in chunk {
                self.known.insert((field, value.clone()), None);
            }
            for (value, id) in found {
                if let Some(value) = value {
                    self.known.insert((field, value), Some(id));
                }
            }
        }
        Ok(values
            .iter()
            .filter_map(|v| self.known.get(&(field, v.clone())).copied().flatten().map(|id| (v.clone(), id)))
            .collect())
    }
}

/// Company no -> id for the persons among `states` (after this batch's companies are written).
fn resolve_company_ids<'a>(
    conn: &mut Conn,
    states: impl Iterator<Item = &'a ContactState>,
) -> Result<HashMap<String, i64>, ApiError> {
    let nos: Vec<String> =
        states.filter_map(|s| s.company_no.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut ids = HashMap::new();
    for chunk in nos.chunks(MAX_BINDS_PER_LIST) {
        ids.extend(
            contacts::table.filter(contacts::no.eq_any(chunk)).select((contacts::no, contacts::id)).load::<(
                String,
                i64,
            )>(
                conn
            )?,
        );
    }
    Ok(ids)
}

/// Multi-row inserts; answers no -> id of the new rows.
fn insert_rows(conn: &mut Conn, rows: &[ContactRowValues]) -> Result<HashMap<String, i64>, ApiError> {
    let mut ids = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        // Multi-row VALUES does not compile through the MultiConnection enum; same code per backend.
        let created: Vec<(String, i64)> =
            with_backend!(&mut *conn, |c| diesel::insert_into(contacts::table)
                .values(chunk)
                .returning((contacts::no, contacts::id))
                .get_results(c))?;
        ids.extend(created);
    }
    Ok(ids)
}

/// Multi-row updates as an upsert on `id`: every row exists (and is locked), so each one
/// takes the `DO UPDATE` branch, which sets every column but `id` and `created_at`.
fn update_rows(conn: &mut Conn, rows: &[ContactUpdateRow]) -> Result<(), ApiError> {
    use contacts::dsl as c;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_backend!(&mut *conn, |conn| diesel::insert_into(contacts::table)
            .values(chunk)
            .on_conflict(c::id)
            .do_update()
            .set((
                (
                    c::no.eq(excluded(c::no)),
                    c::contact_type.eq(excluded(c::contact_type)),
                    c::name.eq(excluded(c::name)),
                    c::search_name.eq(excluded(c::search_name)),
                    c::first_name.eq(excluded(c::first_name)),
                    c::middle_name.eq(excluded(c::middle_name)),
                    c::surname.eq(excluded(c::surname)),
                    c::company_id.eq(excluded(c::company_id)),
                    c::job_title.eq(excluded(c::job_title)),
                    c::address.eq(excluded(c::address)),
                    c::address_2.eq(excluded(c::address_2)),
                    c::city.eq(excluded(c::city)),
                    c::post_code.eq(excluded(c::post_code)),
                ),
                (
                    c::county.eq(excluded(c::county)),
                    c::country_code.eq(excluded(c::country_code)),
                    c::phone.eq(excluded(c::phone)),
                    c::mobile_phone.eq(excluded(c::mobile_phone)),
                    c::email.eq(excluded(c::email)),
                    c::language_code.eq(excluded(c::language_code)),
                    c::salesperson_code.eq(excluded(c::salesperson_code)),
                    c::territory_code.eq(excluded(c::territory_code)),
                    c::correspondence_type.eq(excluded(c::correspondence_type)),
                    c::exclude_from_segment.eq(excluded(c::exclude_from_segment)),
                    c::privacy_blocked.eq(excluded(c::privacy_blocked)),
                    c::external_id.eq(excluded(c::external_id)),
                    c::version.eq(excluded(c::version)),
                    c::updated_at.eq(excluded(c::updated_at)),
                ),
            ))
            .execute(conn))?;
    }
    Ok(())
}

/// Replaces the links of written contacts whose links changed: one DELETE and multi-row
/// INSERTs per link table.
fn write_links(conn: &mut Conn, plans: &[PlannedWrite], results: &[Written]) -> Result<(), ApiError> {
    let changed: Vec<(usize, i64)> = plans
        .iter()
        .zip(results)
        .enumerate()
        .filter(|(_, (plan, w))| {
            w.status != BulkStatus::Unchanged
                && plan.existing.as_ref().map(|e| &e.state.links) != Some(&plan.state.links)
        })
        .map(|(i, (_, w))| (i, w.id))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let stored: Vec<i64> =
        changed.iter().filter(|(i, _)| plans[*i].existing.is_some()).map(|(_, id)| *id).collect();

    macro_rules! replace_links {
        ($table:ident, $code_column:ident, $field:ident) => {{
            for chunk in stored.chunks(MAX_BINDS_PER_LIST) {
                diesel::delete($table::table.filter($table::contact_id.eq_any(chunk))).execute(conn)?;
            }
            let rows: Vec<_> =
                changed
                    .iter()
                    .flat_map(|(i, id)| {
                        plans[*i].state.links.$field.iter().map(move |code| {
                            ($table::contact_id.eq(*id), $table::$code_column.eq(code.clone()))
                        })
                    })
                    .collect();
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                with_backend!(&mut *conn, |c| diesel::insert_into($table::table).values(chunk).execute(c))?;
            }
        }};
    }
    replace_links!(contact_mailing_groups, mailing_group_code, mailing_groups);
    replace_links!(contact_industry_groups, industry_group_code, industry_groups);
    replace_links!(contact_business_relations, business_relation_code, business_relations);
    replace_links!(contact_job_responsibilities, job_responsibility_code, job_responsibilities);
    Ok(())
}
