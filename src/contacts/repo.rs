//! Reading contacts (single, lists with filters, with their company and links) and deleting.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use std::collections::HashMap;

use super::model::{Contact, ContactLinks, ContactView};
use crate::db::schema::{
    contact_business_relations, contact_industry_groups, contact_job_responsibilities,
    contact_mailing_groups, contacts, interaction_log_entries, segment_lines, segments,
};
use crate::db::{self, Conn};
use crate::domain::ContactType;
use crate::domain::SegmentStatus;
use crate::error::ApiError;
use crate::http::conditional::{check_version, IfMatch};
use crate::http::pagination::{into_page, PageRequest};

/// The filters of `GET /v1/contacts` (and of the lists under code tables).
#[derive(Debug, Default, Clone)]
pub struct ContactFilter {
    pub contact_type: Option<ContactType>,
    pub company_no: Option<String>,
    pub no: Option<String>,
    pub external_id: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub country_code: Option<String>,
    pub salesperson_code: Option<String>,
    pub mailing_group: Option<String>,
    pub industry_group: Option<String>,
    pub business_relation: Option<String>,
    pub job_responsibility: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    /// Name contains, case-insensitive.
    pub q: Option<String>,
}

pub fn get_contact(conn: &mut Conn, id: i64) -> Result<ContactView, ApiError> {
    let row = contact_views!()
        .filter(contacts::id.eq(id))
        .first::<ViewRow>(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("contact {id}")))?;
    Ok(view(row))
}

diesel::alias!(contacts as company_contacts: CompanyContacts);

/// Contacts with what their view adds, in one statement: the company by a self-join, each
/// link list as one text of codes separated by spaces (a code holds no spaces). A read is one
/// round trip, whatever the number of link tables.
macro_rules! contact_views {
    () => {
        contacts::table
            .left_join(
                company_contacts.on(company_contacts.field(contacts::id).nullable().eq(contacts::company_id)),
            )
            .select((
                Contact::as_select(),
                company_contacts.field(contacts::no).nullable(),
                company_contacts.field(contacts::name).nullable(),
                company_contacts.field(contacts::version).nullable(),
                sql::<Nullable<Text>>(LINK_CODES[0]),
                sql::<Nullable<Text>>(LINK_CODES[1]),
                sql::<Nullable<Text>>(LINK_CODES[2]),
                sql::<Nullable<Text>>(LINK_CODES[3]),
            ))
    };
}
use contact_views;

/// A contact's link codes per link table, in `ContactLinks` order.
pub const LINK_CODES: [&str; 4] = [
    "(SELECT string_agg(l.mailing_group_code, ' ') FROM contact_mailing_groups l WHERE l.contact_id = contacts.id)",
    "(SELECT string_agg(l.industry_group_code, ' ') FROM contact_industry_groups l WHERE l.contact_id = contacts.id)",
    "(SELECT string_agg(l.business_relation_code, ' ') FROM contact_business_relations l WHERE l.contact_id = contacts.id)",
    "(SELECT string_agg(l.job_responsibility_code, ' ') FROM contact_job_responsibilities l WHERE l.contact_id = contacts.id)",
];

/// A row of `contact_views!`.
type ViewRow = (
    Contact,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn view(row: ViewRow) -> ContactView {
    let (row, company_no, company_name, company_version, mailing, industry, business, job) = row;
    // Sorted here, not by the aggregate: byte order on both databases, whatever the collation.
    let codes = |text: Option<String>| {
        let mut codes: Vec<String> = text.iter().flat_map(|t| t.split(' ')).map(str::to_owned).collect();
        codes.sort();
        codes
    };
    ContactView {
        row,
        company_no,
        company_name,
        company_version,
        links: ContactLinks {
            mailing_groups: codes(mailing),
            industry_groups: codes(industry),
            business_relations: codes(business),
            job_responsibilities: codes(job),
        },
    }
}

/// The views of the contacts with these ids, in id order (bounded `IN` lists).
pub fn contacts_by_id(conn: &mut Conn, ids: &[i64]) -> Result<Vec<ContactView>, ApiError> {
    let mut views = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(db::MAX_BINDS_PER_LIST) {
        let rows: Vec<ViewRow> =
            contact_views!().filter(contacts::id.eq_any(chunk)).order(contacts::id).load(conn)?;
        views.extend(rows.into_iter().map(view));
    }
    Ok(views)
}

/// One page of contacts in id order, with their companies and links, in one statement.
pub fn list_contacts(
    conn: &mut Conn,
    filter: &ContactFilter,
    page: PageRequest,
) -> Result<(Vec<ContactView>, Option<String>), ApiError> {
    let mut query = contact_views!().into_boxed();
    if let Some(company_no) = &filter.company_no {
        // Resolved first so the page query stays a plain indexed filter.
        let company: Option<i64> = contacts::table
            .filter(contacts::no.eq(company_no))
            .select(contacts::id)
            .first(conn)
            .optional()?;
        let Some(company_id) = company else { return Ok((Vec::new(), None)) };
        query = query.filter(contacts::company_id.eq(company_id));
    }
    if let Some(t) = filter.contact_type {
        query = query.filter(contacts::contact_type.eq(t));
    }
    if let Some(v) = &filter.no {
        query = query.filter(contacts::no.eq(v.clone()));
    }
    if let Some(v) = &filter.external_id {
        query = query.filter(contacts::external_id.eq(v.clone()));
    }
    if let Some(v) = &filter.city {
        query = query.filter(contacts::city.eq(v.clone()));
    }
    if let Some(v) = &filter.post_code {
        query = query.filter(contacts::post_code.eq(v.clone()));
    }
    if let Some(v) = &filter.country_code {
        query = query.filter(contacts::country_code.eq(v.clone()));
    }
    if let Some(v) = &filter.salesperson_code {
        query = query.filter(contacts::salesperson_code.eq(v.clone()));
    }
    if let Some(code) = &filter.mailing_group {
        let members = contact_mailing_groups::table
            .filter(contact_mailing_groups::mailing_group_code.eq(code.clone()))
            .select(contact_mailing_groups::contact_id);
        query = query.filter(contacts::id.eq_any(members));
    }
    if let Some(code) = &filter.industry_group {
        let members = contact_industry_groups::table
            .filter(contact_industry_groups::industry_group_code.eq(code.clone()))
            .select(contact_industry_groups::contact_id);
        query = query.filter(contacts::id.eq_any(members));
    }
    if let Some(code) = &filter.business_relation {
        let members = contact_business_relations::table
            .filter(contact_business_relations::business_relation_code.eq(code.clone()))
            .select(contact_business_relations::contact_id);
        query = query.filter(contacts::id.eq_any(members));
    }
    if let Some(code) = &filter.job_responsibility {
        let members = contact_job_responsibilities::table
            .filter(contact_job_responsibilities::job_responsibility_code.eq(code.clone()))
            .select(contact_job_responsibilities::contact_id);
        query = query.filter(contacts::id.eq_any(members));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(contacts::updated_at.ge(since));
    }
    if let Some(q) = &filter.q {
        query = query.filter(contacts::search_name.like(db::contains_pattern(q)).escape('\\'));
    }
    if let Some(after) = page.after {
        query = query.filter(contacts::id.gt(after));
    }
    let rows: Vec<ViewRow> = query.order(contacts::id).limit(page.limit + 1).load(conn)?;
    let (rows, next) = into_page(rows, page, |r| r.0.id);
    Ok((rows.into_iter().map(view).collect(), next))
}

/// No, name and version of the given companies (de-duplicated, in bounded `IN` lists).
pub fn companies_by_id(
    conn: &mut Conn,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, (String, String, i64)>, ApiError> {
    let ids: Vec<i64> = ids.collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut companies = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(db::MAX_BINDS_PER_LIST) {
        let rows: Vec<(i64, String, String, i64)> = contacts::table
            .filter(contacts::id.eq_any(chunk))
            .select((contacts::id, contacts::no, contacts::name, contacts::version))
            .load(conn)?;
        companies.extend(rows.into_iter().map(|(id, no, name, version)| (id, (no, name, version))));
    }
    Ok(companies)
}

/// Deletes a contact unless a person still belongs to it, an interaction log entry names it,
/// or a logged segment holds it (logged segments stay as they were logged).
pub fn delete_contact(conn: &mut Conn, id: i64, if_match: IfMatch) -> Result<(), ApiError> {
    db::write_transaction(conn, |conn| {
        // Locked on PostgreSQL so that no line or person can be added for it meanwhile; the
        // segments holding its lines first, in id order, as every line write takes its
        // segment before it touches a contact (the other order deadlocks with adding lines).
        let version: Option<i64> = match conn {
            Conn::Postgresql(c) => {
                let holding = segment_lines::table
                    .filter(segment_lines::contact_id.eq(id))
                    .select(segment_lines::segment_id);
                segments::table
                    .filter(segments::id.eq_any(holding))
                    .order(segments::id)
                    .select(segments::id)
                    .for_update()
                    .load::<i64>(c)?;
                contacts::table.find(id).select(contacts::version).for_update().first(c).optional()?
            }
            Conn::Sqlite(c) => contacts::table.find(id).select(contacts::version).first(c).optional()?,
        };
        let version = version.ok_or_else(|| ApiError::not_found(format!("contact {id}")))?;
        check_version(if_match, version)?;
        let persons: i64 = contacts::table.filter(contacts::company_id.eq(id)).count().get_result(conn)?;
        if persons > 0 {
            return Err(ApiError::conflict(
                "company-has-persons",
                format!("contact {id} is a company with {persons} person(s); delete or move them first"),
            ));
        }
        let entries: i64 = interaction_log_entries::table
            .filter(interaction_log_entries::contact_id.eq(id))
            .count()
            .get_result(conn)?;
        if entries > 0 {
            return Err(ApiError::conflict(
                "contact-has-interactions",
                format!(
                    "contact {id} appears in {entries} interaction log entr(y/ies) and cannot be deleted"
                ),
            ));
        }
        let logged: i64 = segment_lines::table
            .inner_join(segments::table)
            .filter(segment_lines::contact_id.eq(id))
            .filter(segments::status.ne(SegmentStatus::Open))
            .count()
            .get_result(conn)?;
        if logged > 0 {
            return Err(ApiError::conflict(
                "contact-in-logged-segment",
                format!("contact {id} is on {logged} line(s) of logged segments and cannot be deleted"),
            ));
        }
        // Its lines in open segments go with it (ON DELETE CASCADE); their segments' counters
        // follow in one statement.
        let holding = segment_lines::table
            .filter(segment_lines::contact_id.eq(id))
            .filter(segment_lines::removed_by_action_id.is_null())
            .select(segment_lines::segment_id);
        let lines_of_contact = sql::<BigInt>(
            "(SELECT COUNT(*) FROM segment_lines l WHERE l.segment_id = segments.id \
             AND l.removed_by_action_id IS NULL AND l.contact_id = ",
        )
        .bind::<BigInt, _>(id)
        .sql(")");
        diesel::update(segments::table.filter(segments::id.eq_any(holding)))
            .set((
                segments::no_of_lines.eq(segments::no_of_lines - lines_of_contact),
                segments::version.eq(segments::version + 1),
            ))
            .execute(conn)?;
        diesel::delete(contacts::table.find(id)).execute(conn)?;
        Ok(())
    })
}
