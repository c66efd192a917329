//! The contacts of a code table entry, under `/v1/<code-table>/{code}/contacts`: mailing
//! groups, industry groups, business relations and job responsibilities. The query is the
//! contact list's (`contacts::repo`), filtered on the entry.

use actix_web::{web, HttpResponse};

use super::repo::{
    self, BusinessRelations, DescribedTable, IndustryGroups, JobResponsibilities, MailingGroups,
};
use crate::auth::{Caller, Read};
use crate::contacts::model::ContactList;
use crate::contacts::repo::{list_contacts, ContactFilter};
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::pagination::PageParams;
use crate::state::AppState;

/// A code table whose entries have contacts as members.
pub trait Membership: DescribedTable {
    /// Names the list in its cursors, so that a cursor of one list is refused by another.
    const LIST: &'static str;

    /// The contacts that belong to the entry `code`.
    fn members(code: String) -> ContactFilter;
}

impl Membership for MailingGroups {
    const LIST: &'static str = "MailingGroup";
    fn members(code: String) -> ContactFilter {
        ContactFilter { mailing_group: Some(code), ..ContactFilter::default() }
    }
}

impl Membership for IndustryGroups {
    const LIST: &'static str = "IndustryGroup";
    fn members(code: String) -> ContactFilter {
        ContactFilter { industry_group: Some(code), ..ContactFilter::default() }
    }
}

impl Membership for BusinessRelations {
    const LIST: &'static str = "BusinessRelation";
    fn members(code: String) -> ContactFilter {
        ContactFilter { business_relation: Some(code), ..ContactFilter::default() }
    }
}

impl Membership for JobResponsibilities {
    const LIST: &'static str = "JobResponsibility";
    fn members(code: String) -> ContactFilter {
        ContactFilter { job_responsibility: Some(code), ..ContactFilter::default() }
    }
}

/// One page of the entry's contacts in id order; 404 when the entry does not exist.
async fn list_members<T: Membership + 'static>(
    state: &AppState,
    code: String,
    page: PageParams,
) -> ApiResult<HttpResponse> {
    let page = page.validate(&format!("{}/{code}/contacts", T::LIST))?;
    let (items, next_cursor) = db::run(&state.pool, move |conn| {
        repo::require::<T>(conn, &code)?;
        list_contacts(conn, &T::members(code), page)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(ContactList { items: items.into_iter().map(Into::into).collect(), next_cursor }))
}

/// Lists the contacts in a mailing group.
#[utoipa::path(get, path = "/v1/mailing-groups/{code}/contacts", tag = "contacts",
    params(("code" = String, Path), PageParams),
    responses((status = 200, description = "A page of contacts", body = ContactList),
        (status = 404, description = "No such mailing group", body = Problem, content_type = "application/problem+json")))]
pub async fn list_mailing_group_contacts(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    code: web::Path<String>,
    page: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    list_members::<MailingGroups>(&state, code.into_inner(), page.into_inner()).await
}

/// Lists the companies in an industry group.
#[utoipa::path(get, path = "/v1/industry-groups/{code}/contacts", tag = "contacts",
    params(("code" = String, Path), PageParams),
    responses((status = 200, description = "A page of contacts", body = ContactList),
        (status = 404, description = "No such industry group", body = Problem, content_type = "application/problem+json")))]
pub async fn list_industry_group_contacts(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    code: web::Path<String>,
    page: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    list_members::<IndustryGroups>(&state, code.into_inner(), page.into_inner()).await
}

/// Lists the companies with a business relation.
#[utoipa::path(get, path = "/v1/business-relations/{code}/contacts", tag = "contacts",
    params(("code" = String, Path), PageParams),
    responses((status = 200, description = "A page of contacts", body = ContactList),
        (status = 404, description = "No such business relation", body = Problem, content_type = "application/problem+json")))]
pub async fn list_business_relation_contacts(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    code: web::Path<String>,
    page: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    list_members::<BusinessRelations>(&state, code.into_inner(), page.into_inner()).await
}

/// Lists the persons with a job responsibility.
#[utoipa::path(get, path = "/v1/job-responsibilities/{code}/contacts", tag = "contacts",
    params(("code" = String, Path), PageParams),
    responses((status = 200, description = "A page of contacts", body = ContactList),
        (status = 404, description = "No such job responsibility", body = Problem, content_type = "application/problem+json")))]
pub async fn list_job_responsibility_contacts(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    code: web::Path<String>,
    page: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    list_members::<JobResponsibilities>(&state, code.into_inner(), page.into_inner()).await
}
