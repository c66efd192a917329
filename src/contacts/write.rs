//! The one write path of contacts: create, PATCH and bulk sync all plan writes and hand them
//! here, where they are checked as a set and written with multi-row statements.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::checks::{check_plans, UniqueField, UniqueOwners};
use super::model::{BulkResult, BulkStatus, ContactPatch, ContactRowValues, ContactUpdateRow, CreateContact};
use super::repo::contacts_by_id;
use super::state::{ContactState, Existing, PlannedWrite};
use crate::db::number_series;
use crate::db::schema::{
    contact_business_relations, contact_industry_groups, contact_job_responsibilities,
    contact_mailing_groups, contacts,
};
use crate::db::sql::{BindValue, SqlBuilder};
use crate::db::write_time::WriteTime;
use crate::db::{self, Conn, MAX_BINDS_PER_LIST};
use crate::domain::validation::Checker;
use crate::domain::ContactType;
use crate::error::{ApiError, FieldError};
use crate::http::conditional::{check_version, IfMatch};
use crate::with_backend;

/// Rows per multi-row statement: 1000 rows of 28 columns stay under SQLite's 32766 binds.
const ROWS_PER_STATEMENT: usize = 1000;

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
        owners.fetch(conn, UniqueField::ExternalId, items.iter().filter_map(match_key_external_id))?;
        owners.fetch(conn, UniqueField::No, items.iter().filter_map(item_no))?;
        let mut ids: Vec<i64> = items
            .iter()
            .filter_map(|i| match match_key_external_id(i) {
                Some(external_id) => owners.owner(UniqueField::ExternalId, external_id),
                None => item_no(i).and_then(|no| owners.owner(UniqueField::No, no)),
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
                Some(external_id) => by_external_id.get(external_id),
                None => item_no(&item).and_then(|no| by_no.get(no)),
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
fn match_key_external_id(item: &ContactPatch) -> Option<&str> {
    item.external_id.as_ref()?.as_deref().filter(|x| !x.trim().is_empty())
}

/// The `no` an item names, if any.
fn item_no(item: &ContactPatch) -> Option<&str> {
    item.no.as_ref()?.as_deref()
}

/// Loads stored contacts as states, locking their rows on PostgreSQL first so that the
/// comparison and the write see the same version (SQLite's `BEGIN IMMEDIATE` already excludes
/// writers).
fn load_existing(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Existing>, ApiError> {
    if let Conn::Postgresql(c) = conn {
        for chunk in ids.chunks(MAX_BINDS_PER_LIST) {
            contacts::table
                .filter(contacts::id.eq_any(chunk))
                .select(contacts::id)
                .for_update()
                .load::<i64>(c)?;
        }
    }
    Ok(contacts_by_id(conn, ids)?
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
    errors: Vec<FieldError>,
    owners: UniqueOwners,
) -> Result<Vec<Written>, ApiError> {
    check_plans(conn, &plans, errors, owners)?;
    let nos = contact_numbers(conn, &plans)?;
    let now = WriteTime::new(Utc::now().naive_utc());
    let mut results = unchanged_results(&plans, &nos);
    // Companies first, so that persons of the same batch can name them.
    for phase in [ContactType::Company, ContactType::Person] {
        write_phase(conn, &plans, phase, &nos, &now, &mut results)?;
    }
    let results: Vec<Written> = results.into_iter().flatten().collect();
    write_links(conn, &plans, &results)?;
    Ok(results)
}

/// The `no` of each plan: its own, or for a new contact without one the next number of the
/// series that neither the table nor the batch holds.
fn contact_numbers(conn: &mut Conn, plans: &[PlannedWrite]) -> Result<Vec<String>, ApiError> {
    let wanted = plans.iter().filter(|p| p.existing.is_none() && p.state.no.is_none()).count();
    let batch_nos: HashSet<&str> = plans.iter().filter_map(|p| p.state.no.as_deref()).collect();
    let mut assigned = number_series::assign(conn, number_series::CONTACT, wanted, |conn, candidates| {
        let mut taken: Vec<String> =
            contacts::table.filter(contacts::no.eq_any(candidates)).select(contacts::no).load(conn)?;
        taken.extend(candidates.iter().filter(|c| batch_nos.contains(c.as_str())).cloned());
        Ok(taken)
    })?
    .into_iter();
    Ok(plans.iter().map(|p| p.state.no.clone().or_else(|| assigned.next()).unwrap_or_default()).collect())
}

/// `Unchanged` for each plan whose new state equals the stored one; None where a write is due.
fn unchanged_results(plans: &[PlannedWrite], nos: &[String]) -> Vec<Option<Written>> {
    plans
        .iter()
        .zip(nos)
        .map(|(plan, no)| {
            plan.existing.as_ref().filter(|e| e.state == plan.state).map(|e| Written {
                status: BulkStatus::Unchanged,
                id: e.id,
                no: no.clone(),
            })
        })
        .collect()
}

/// Inserts and updates the contacts of one type that are due a write, and records each in
/// `results`.
fn write_phase(
    conn: &mut Conn,
    plans: &[PlannedWrite],
    phase: ContactType,
    nos: &[String],
    now: &WriteTime,
    results: &mut [Option<Written>],
) -> Result<(), ApiError> {
    let in_phase: Vec<usize> =
        (0..plans.len()).filter(|&i| results[i].is_none() && plans[i].state.contact_type == phase).collect();
    if in_phase.is_empty() {
        return Ok(());
    }
    let company_ids = resolve_company_ids(conn, in_phase.iter().map(|&i| &plans[i].state))?;
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for &i in &in_phase {
        let (plan, no) = (&plans[i], nos[i].clone());
        let company_id = company_id_of(plan, &company_ids)?;
        match &plan.existing {
            None => inserts.push((i, plan.state.row_values(no, company_id, 1, now))),
            Some(e) => updates.push((
                i,
                ContactUpdateRow {
                    id: e.id,
                    values: plan.state.row_values(no, company_id, e.version + 1, now),
                },
            )),
        }
    }
    insert_new(conn, inserts, nos, results)?;
    update_changed(conn, updates, nos, results)
}

/// The id of the plan's company, found among this batch's writes or the stored contacts.
fn company_id_of(plan: &PlannedWrite, company_ids: &HashMap<String, i64>) -> Result<Option<i64>, ApiError> {
    let Some(no) = &plan.state.company_no else { return Ok(None) };
    // Checked before any write; a miss here means the batch moved the number meanwhile.
    let id = company_ids.get(no).copied().ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            format!("{}.company_no", plan.field_prefix).trim_start_matches('.'),
            "unknown_reference",
            format!("no company contact with no {no} after this batch"),
        )])
    })?;
    Ok(Some(id))
}

/// Inserts the new contacts (plan index, row) and records them as `Created`.
fn insert_new(
    conn: &mut Conn,
    inserts: Vec<(usize, ContactRowValues)>,
    nos: &[String],
    results: &mut [Option<Written>],
) -> Result<(), ApiError> {
    let (inserted, values): (Vec<usize>, Vec<ContactRowValues>) = inserts.into_iter().unzip();
    let created = insert_rows(conn, &values)?;
    for i in inserted {
        let id = created
            .get(&nos[i])
            .copied()
            .ok_or_else(|| ApiError::internal("inserted contact not returned"))?;
        results[i] = Some(Written { status: BulkStatus::Created, id, no: nos[i].clone() });
    }
    Ok(())
}

/// Updates the changed contacts (plan index, row) and records them as `Updated`.
fn update_changed(
    conn: &mut Conn,
    updates: Vec<(usize, ContactUpdateRow)>,
    nos: &[String],
    results: &mut [Option<Written>],
) -> Result<(), ApiError> {
    let (updated, rows): (Vec<usize>, Vec<ContactUpdateRow>) = updates.into_iter().unzip();
    update_rows(conn, &rows)?;
    for (i, row) in updated.into_iter().zip(&rows) {
        results[i] = Some(Written { status: BulkStatus::Updated, id: row.id, no: nos[i].clone() });
    }
    Ok(())
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

/// The columns a new contact's JSON row carries (`ContactRowValues` without the version and
/// timestamps, which a batch shares), with their PostgreSQL types for `json_to_recordset`.
const INSERTED_COLUMNS: [(&str, &str); 25] = [
    ("no", "text"),
    ("contact_type", "text"),
    ("name", "text"),
    ("search_name", "text"),
    ("first_name", "text"),
    ("middle_name", "text"),
    ("surname", "text"),
    ("company_id", "bigint"),
    ("job_title", "text"),
    ("address", "text"),
    ("address_2", "text"),
    ("city", "text"),
    ("post_code", "text"),
    ("county", "text"),
    ("country_code", "text"),
    ("phone", "text"),
    ("mobile_phone", "text"),
    ("email", "text"),
    ("language_code", "text"),
    ("salesperson_code", "text"),
    ("territory_code", "text"),
    ("correspondence_type", "text"),
    ("exclude_from_segment", "boolean"),
    ("privacy_blocked", "boolean"),
    ("external_id", "text"),
];

/// Inserts new contacts, which share their version and timestamps (one batch, one `now`);
/// answers no -> id of the new rows. On PostgreSQL each statement binds its rows as one JSON array that
/// `json_to_recordset` unpacks: a multi-row `VALUES` of 1000 rows is 28,000 binds that it
/// parses, analyses and plans for every batch, a third of its time in a bulk load (an import
/// of 200,000 rows went from 8.6 s to 6.6 s). SQLite parses `VALUES` cheaply but extracts
/// JSON fields slowly (the same import went from 4.1 s to 6.9 s with `json_each`), so it keeps
/// the multi-row `VALUES`.
fn insert_rows(conn: &mut Conn, rows: &[ContactRowValues]) -> Result<HashMap<String, i64>, ApiError> {
    #[derive(QueryableByName)]
    struct Created {
        #[diesel(sql_type = diesel::sql_types::Text)]
        no: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let mut ids = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        if let Conn::Sqlite(c) = conn {
            // A full chunk goes in as a fixed-size array, whose statement diesel prepares once per
            // connection and caches; a slice's is parsed again for every batch.
            let returning = (contacts::no, contacts::id);
            let created: Vec<(String, i64)> = match <&[ContactRowValues; ROWS_PER_STATEMENT]>::try_from(chunk)
            {
                Ok(full) => {
                    diesel::insert_into(contacts::table).values(full).returning(returning).get_results(c)?
                }
                Err(_) => {
                    diesel::insert_into(contacts::table).values(chunk).returning(returning).get_results(c)?
                }
            };
            ids.extend(created);
            continue;
        }
        let json = serde_json::to_string(chunk).map_err(ApiError::internal)?;
        // Not in the JSON rows: bound once, from the first row (every row of a batch has them).
        let (version, created_at, updated_at) =
            (chunk[0].version, chunk[0].created_at.at(), chunk[0].updated_at.at());
        let names: Vec<&str> = INSERTED_COLUMNS.iter().map(|(name, _)| *name).collect();
        let types: Vec<String> = INSERTED_COLUMNS.iter().map(|(name, t)| format!("{name} {t}")).collect();
        let mut sql = SqlBuilder::for_conn(conn);
        sql.sql("INSERT INTO contacts (")
            .sql(&names.join(", "))
            .sql(", version, created_at, updated_at) SELECT ");
        sql.sql(&names.join(", ")).sql(", ").bind(version.into()).sql(", ").bind(created_at.into()).sql(", ");
        sql.bind(updated_at.into()).sql(" FROM json_to_recordset(CAST(").bind(BindValue::Text(json));
        sql.sql(" AS json)) AS r(").sql(&types.join(", ")).sql(") RETURNING no, id");
        ids.extend(sql.load::<Created>(conn)?.into_iter().map(|c| (c.no, c.id)));
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_json_rows_of_an_insert_carry_exactly_the_inserted_columns() {
        let row = ContactState::new(ContactType::Person).row_values(
            "C1".into(),
            Some(7),
            1,
            &WriteTime::new(Utc::now().naive_utc()),
        );
        let json = serde_json::to_value(&row).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let columns: Vec<&str> = INSERTED_COLUMNS.iter().map(|(name, _)| *name).collect();
        let mut sorted = columns.clone();
        sorted.sort_unstable();
        // serde_json's map is sorted by key unless `preserve_order`: compare as sets.
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, sorted);
        assert_eq!(json["contact_type"], "person");
        assert_eq!(json["company_id"], 7);
    }

    #[test]
    fn enums_in_the_json_rows_are_their_stored_text() {
        use crate::domain::CorrespondenceType;
        for t in ContactType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for t in CorrespondenceType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }
}
