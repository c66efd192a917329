//! HTTP handlers of `/v1/contacts`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{BulkContacts, BulkResponse, ContactList, ContactPatch, ContactResponse, CreateContact};
use super::repo::{self, ContactFilter};
use super::write;
use crate::auth::{Caller, Read, Write};
use crate::db;
use crate::domain::validation::Checker;
use crate::domain::ContactType;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::conditional::{created, if_match_version, ok_with_etag, respond_with_etag};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::state::AppState;

/// Filters and paging of `GET /v1/contacts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type", inline)]
    pub contact_type: Option<ContactType>,
    /// Persons of the company with this `no`.
    pub company_no: Option<String>,
    pub no: Option<String>,
    pub external_id: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub country_code: Option<String>,
    pub salesperson_code: Option<String>,
    /// Members of this mailing group.
    pub mailing_group: Option<String>,
    /// Contacts changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Name contains this text, case-insensitive.
    pub q: Option<String>,
}

impl ContactListParams {
    fn filter(&self) -> Result<ContactFilter, ApiError> {
        let mut c = Checker::new();
        c.max_len("q", self.q.as_deref(), 100);
        c.date("updated_since", self.updated_since.map(|t| t.date_naive()));
        c.finish()?;
        Ok(ContactFilter {
            contact_type: self.contact_type,
            company_no: self.company_no.clone(),
            no: self.no.clone(),
            external_id: self.external_id.clone(),
            city: self.city.clone(),
            post_code: self.post_code.clone(),
            country_code: self.country_code.clone(),
            salesperson_code: self.salesperson_code.clone(),
            mailing_group: self.mailing_group.clone(),
            updated_since: self.updated_since.map(|t| t.naive_utc()),
            q: self.q.clone().filter(|q| !q.is_empty()),
            ..ContactFilter::default()
        })
    }
}

/// Lists contacts in id order with keyset pagination; a page costs the same wherever it is.
#[utoipa::path(get, path = "/v1/contacts", tag = "contacts", params(ContactListParams),
    responses((status = 200, description = "A page of contacts", body = ContactList)))]
pub async fn list_contacts(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    params: web::Query<ContactListParams>,
) -> ApiResult<HttpResponse> {
    let page = PageParams { limit: params.limit, cursor: params.cursor.clone() }.validate("contacts")?;
    let filter = params.filter()?;
    let (items, next_cursor) =
        db::run(&state.pool, move |conn| repo::list_contacts(conn, &filter, page)).await?;
    Ok(HttpResponse::Ok()
        .json(ContactList { items: items.into_iter().map(Into::into).collect(), next_cursor }))
}

/// Creates a contact; `no` comes from the number series when omitted.
#[utoipa::path(post, path = "/v1/contacts", tag = "contacts", request_body = CreateContact,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, description = "Created", body = ContactResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "`no` or `external_id` already used", body = Problem, content_type = "application/problem+json")))]
pub async fn create_contact(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<CreateContact>>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner().into_inner();
    let view = db::run(&state.pool, move |conn| {
        let id = write::create_contact(conn, input)?;
        repo::get_contact(conn, id)
    })
    .await?;
    let response = ContactResponse::from(view);
    Ok(created(&format!("/v1/contacts/{}", response.id), &response.etag, &response))
}

/// Reads a contact; answers 304 when `If-None-Match` names its current version.
#[utoipa::path(get, path = "/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = ContactResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version in If-None-Match"),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json")))]
pub async fn get_contact(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| repo::get_contact(conn, id)).await?;
    let response = ContactResponse::from(view);
    Ok(respond_with_etag(&req, &response.etag, &response))
}

/// Changes a contact: absent fields stay, `null` clears. With `If-Match`, a stale version is 412.
#[utoipa::path(patch, path = "/v1/contacts/{id}", tag = "contacts", request_body = ContactPatch,
    params(("id" = i64, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read; the write is refused (412) if the contact changed since")),
    responses(
        (status = 200, description = "The contact after the change", body = ContactResponse, headers(("ETag" = String))),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no` or `external_id` already used", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_contact(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<JsonObject<ContactPatch>>,
) -> ApiResult<HttpResponse> {
    let (id, if_match, change) = (id.into_inner(), if_match_version(&req)?, body.into_inner().into_inner());
    let view = db::run(&state.pool, move |conn| {
        write::update_contact(conn, id, if_match, change)?;
        repo::get_contact(conn, id)
    })
    .await?;
    let response = ContactResponse::from(view);
    Ok(ok_with_etag(&response.etag, &response))
}

/// Deletes a contact; refused (409) for a company with persons or a contact with interactions.
#[utoipa::path(delete, path = "/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the contact changed since")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`company-has-persons` or `contact-has-interactions`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_contact(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (id, if_match) = (id.into_inner(), if_match_version(&req)?);
    db::run(&state.pool, move |conn| repo::delete_contact(conn, id, if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Bulk sync for ERP integrations, **all or nothing**.
///
/// Each item matches an existing contact on `external_id` when it has one, else on `no`.
/// New contacts are created (`type` required), changed ones updated (their `version` moves),
/// identical ones left alone (`unchanged`, `version` stays). Items use PATCH semantics: an
/// absent field keeps the stored value, `null` clears it, a link list replaces the links.
/// A person may name a company created earlier in the same batch. If any item is invalid,
/// nothing is written and the answer is a 422 problem whose `errors` name every fault as
/// `items[<index>].<field>`; a `no`/`external_id` used by another contact is 409 likewise.
#[utoipa::path(post, path = "/v1/contacts/bulk", tag = "contacts", request_body = BulkContacts,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 200, description = "One result per item, in input order", body = BulkResponse),
        (status = 409, description = "A `no` or `external_id` belongs to another contact; nothing written", body = Problem, content_type = "application/problem+json")))]
pub async fn bulk_sync_contacts(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<BulkContacts>>,
) -> ApiResult<HttpResponse> {
    let items: Vec<ContactPatch> =
        body.into_inner().into_inner().items.into_iter().map(JsonObject::into_inner).collect();
    let max = state.settings.bulk_max_items;
    if items.len() > max {
        return Err(ApiError::invalid_field(
            "items",
            "too_many",
            format!("{} items; at most {max} per request", items.len()),
        ));
    }
    let results = db::run(&state.pool, move |conn| write::bulk_sync(conn, items)).await?;
    Ok(HttpResponse::Ok().json(BulkResponse { results }))
}
