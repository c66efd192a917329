//! HTTP handlers of `/v1/interaction-log-entries`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{EntryList, EntryPatch, EntryResponse, NewInteraction};
use super::repo::{self, EntryFilter};
use crate::auth::{Caller, Read, Write};
use crate::db;
use crate::domain::validation::Checker;
use crate::domain::{CorrespondenceType, DeliveryStatus, Evaluation};
use crate::error::{ApiResult, Problem};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::logging;
use crate::state::AppState;

/// Filters and paging of the entry list (SPEC 4.2).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryListParams {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub contact_id: Option<i64>,
    /// Entries of this company and of its persons.
    pub company_no: Option<String>,
    pub interaction_template_code: Option<String>,
    pub interaction_group_code: Option<String>,
    pub segment_no: Option<String>,
    pub logged_segment_id: Option<i64>,
    pub salesperson_code: Option<String>,
    /// The name of the API key that logged it.
    pub user: Option<String>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    #[param(inline)]
    pub evaluation: Option<Evaluation>,
    #[param(inline)]
    pub correspondence_type: Option<CorrespondenceType>,
    #[param(inline)]
    pub delivery_status: Option<DeliveryStatus>,
    pub canceled: Option<bool>,
}

impl EntryListParams {
    fn filter(&self) -> EntryFilter {
        EntryFilter {
            contact_id: self.contact_id,
            company_no: self.company_no.clone(),
            interaction_template_code: self.interaction_template_code.clone(),
            interaction_group_code: self.interaction_group_code.clone(),
            segment_no: self.segment_no.clone(),
            logged_segment_id: self.logged_segment_id,
            salesperson_code: self.salesperson_code.clone(),
            user: self.user.clone(),
            date_from: self.date_from,
            date_to: self.date_to,
            evaluation: self.evaluation,
            correspondence_type: self.correspondence_type,
            delivery_status: self.delivery_status,
            canceled: self.canceled,
        }
    }
}

/// Lists interaction log entries by entry no, filtered.
#[utoipa::path(get, path = "/v1/interaction-log-entries", tag = "interaction-log", params(EntryListParams),
    responses((status = 200, description = "A page of entries", body = EntryList)))]
pub async fn list_interaction_log_entries(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    params: web::Query<EntryListParams>,
) -> ApiResult<HttpResponse> {
    let page = PageParams { limit: params.limit, cursor: params.cursor.clone() }
        .validate("interaction-log-entries")?;
    let mut c = Checker::new();
    c.date("date_from", params.date_from);
    c.date("date_to", params.date_to);
    c.finish()?;
    let filter = params.filter();
    let (rows, next_cursor) =
        db::run(&state.pool, move |conn| repo::list_entries(conn, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(EntryList::new(rows, next_cursor)))
}

/// Logs one interaction with one contact by hand, outside any segment (an inbound call, a
/// meeting): the template's defaults and the line rules fill what the request leaves out, and it
/// gets the next entry no. `user` is the API key's name. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/interaction-log-entries", tag = "interaction-log", request_body = NewInteraction,
    responses((status = 201, description = "The entry", body = EntryResponse,
        headers(("Location" = String, description = "The entry's URL")))))]
pub async fn log_interaction(
    caller: Caller<Write>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<NewInteraction>>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner().into_inner();
    let row = db::run(&state.pool, move |conn| {
        let id = logging::log_interaction(conn, &input, &caller.name)?;
        repo::get_entry(conn, id)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/interaction-log-entries/{}", row.id)))
        .json(EntryResponse::from(row)))
}

/// One interaction log entry.
#[utoipa::path(get, path = "/v1/interaction-log-entries/{id}", tag = "interaction-log",
    params(("id" = i64, Path, description = "The entry's id")),
    responses((status = 200, description = "The entry", body = EntryResponse),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json")))]
pub async fn get_interaction_log_entry(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| repo::get_entry(conn, id)).await?;
    Ok(HttpResponse::Ok().json(EntryResponse::from(row)))
}

/// Changes what may change after logging: `evaluation`, `attempt_failed`, `comment`,
/// `canceled`; any other field is 422.
#[utoipa::path(patch, path = "/v1/interaction-log-entries/{id}", tag = "interaction-log", request_body = EntryPatch,
    params(("id" = i64, Path, description = "The entry's id")),
    responses((status = 200, description = "The entry", body = EntryResponse),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_interaction_log_entry(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<EntryPatch>>,
) -> ApiResult<HttpResponse> {
    let (id, change) = (id.into_inner(), body.into_inner().into_inner());
    let row = db::run(&state.pool, move |conn| repo::update_entry(conn, id, change)).await?;
    Ok(HttpResponse::Ok().json(EntryResponse::from(row)))
}

/// Deletes a canceled entry (409 for one that is not canceled: the log is the record).
#[utoipa::path(delete, path = "/v1/interaction-log-entries/{id}", tag = "interaction-log",
    params(("id" = i64, Path, description = "The entry's id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry is not canceled", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_interaction_log_entry(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| repo::delete_entry(conn, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queues a failed delivery again.
#[utoipa::path(post, path = "/v1/interaction-log-entries/{id}/resend", tag = "interaction-log",
    operation_id = "resend_interaction_log_entry",
    description = "For an entry whose delivery `failed` (after its retries, or refused for good by the \
SMTP server): it becomes `pending` again, due now, with its attempts counted afresh; a delivery \
worker sends it with the same `Message-ID`. Any other status is 409 `entry-not-failed`.",
    params(("id" = i64, Path, description = "The entry's id")),
    responses((status = 202, description = "Queued; the entry as it is now", body = EntryResponse),
        (status = 404, description = "No such entry", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry's delivery has not failed (`entry-not-failed`)", body = Problem,
            content_type = "application/problem+json")))]
pub async fn resend_interaction_log_entry(
    _caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| repo::resend(conn, id)).await?;
    state.deliveries.wake();
    Ok(HttpResponse::Accepted().json(EntryResponse::from(row)))
}

/// The contact's interaction log entries.
#[utoipa::path(get, path = "/v1/contacts/{id}/interactions", tag = "interaction-log",
    params(("id" = i64, Path, description = "The contact's id"), PageParams),
    responses((status = 200, description = "A page of entries", body = EntryList),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json")))]
pub async fn list_contact_interactions(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let page = params.validate(&format!("contacts/{id}/interactions"))?;
    let filter = EntryFilter { contact_id: Some(id), ..EntryFilter::default() };
    let (rows, next_cursor) = db::run(&state.pool, move |conn| {
        crate::contacts::repo::get_contact(conn, id)?;
        repo::list_entries(conn, &filter, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EntryList::new(rows, next_cursor)))
}
