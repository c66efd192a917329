//! HTTP handlers of `/v1/interaction-templates`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::model::{
    CreateTemplate, TemplateFilter, TemplateList, TemplateListParams, TemplatePatch, TemplatePath,
    TemplateResponse,
};
use super::repo;
use crate::auth::{Admin, Caller, Read};
use crate::db;
use crate::domain::validation::Checker;
use crate::error::{ApiResult, Problem};
use crate::http::conditional::{created, etag, if_match_version, ok_with_etag, respond_with_etag};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::http::urls::location;
use crate::state::AppState;

const COLLECTION: &str = "/v1/interaction-templates";

/// Lists the interaction templates, ordered by code.
#[utoipa::path(get, path = "/v1/interaction-templates", tag = "interaction-templates",
    operation_id = "list_interaction_templates",
    description = "Keyset pagination: pass the answer's `next_cursor` as `cursor` for the next page.",
    params(TemplateListParams),
    responses((status = 200, description = "One page of templates", body = TemplateList)))]
pub async fn list_interaction_templates(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    query: web::Query<TemplateListParams>,
) -> ApiResult<HttpResponse> {
    let params = query.into_inner();
    let page =
        PageParams { limit: params.limit, cursor: params.cursor }.validate_code("interaction-templates")?;
    let filter = TemplateFilter {
        interaction_group_code: params.interaction_group_code,
        information_flow: params.information_flow,
    };
    let (rows, next_cursor) = db::run(&state.pool, move |conn| repo::list(conn, &filter, &page)).await?;
    let items = rows.into_iter().map(TemplateResponse::from).collect();
    Ok(HttpResponse::Ok().json(TemplateList { items, next_cursor }))
}

/// Creates an interaction template (admin).
#[utoipa::path(post, path = "/v1/interaction-templates", tag = "interaction-templates",
    operation_id = "create_interaction_template",
    description = "Omitted fields take Business Central's defaults: `outbound`, `us`, cost `\"0.00\"`, \
duration 0, correspondence type `email` (send `null` for none), not ignoring the contact's type.",
    request_body = CreateTemplate,
    responses(
        (status = 201, description = "The new template", body = TemplateResponse,
            headers(("Location" = String, description = "The new template's URL"), ("ETag" = String))),
        (status = 409, description = "The code is taken (`already-exists`)", body = Problem,
            content_type = "application/problem+json")))]
pub async fn create_interaction_template(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<CreateTemplate>>,
) -> ApiResult<HttpResponse> {
    let mut check = Checker::new();
    let (code, fields) = body.into_inner().into_inner().into_fields(&mut check);
    let row = db::run(&state.pool, move |conn| repo::create(conn, &code, &fields, check)).await?;
    let response = TemplateResponse::from(row);
    Ok(created(&location(COLLECTION, &response.code), &etag(&[response.version]), &response))
}

/// Reads one interaction template; 304 when `If-None-Match` names its current version.
#[utoipa::path(get, path = "/v1/interaction-templates/{code}", tag = "interaction-templates",
    operation_id = "get_interaction_template",
    params(TemplatePath),
    responses(
        (status = 200, description = "The template", body = TemplateResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version in If-None-Match"),
        (status = 404, description = "No template has this code", body = Problem,
            content_type = "application/problem+json")))]
pub async fn get_interaction_template(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<TemplatePath>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner().code;
    let row = db::run(&state.pool, move |conn| repo::find(conn, &code)).await?;
    let response = TemplateResponse::from(row);
    Ok(respond_with_etag(&req, &etag(&[response.version]), &response))
}

/// Changes an interaction template (admin).
#[utoipa::path(patch, path = "/v1/interaction-templates/{code}", tag = "interaction-templates",
    operation_id = "patch_interaction_template",
    description = "An absent field is left alone; `null` clears `interaction_group_code`, \
`correspondence_type` or `language_code`. The code cannot change. `version` moves only when a \
value changes. With `If-Match`, a stale version is refused (412) and nothing is written.",
    params(TemplatePath,
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the template changed since")),
    request_body = TemplatePatch,
    responses(
        (status = 200, description = "The template after the change", body = TemplateResponse,
            headers(("ETag" = String))),
        (status = 404, description = "No template has this code", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "If-Match names another version", body = Problem,
            content_type = "application/problem+json")))]
pub async fn patch_interaction_template(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<TemplatePath>,
    body: web::Json<JsonObject<TemplatePatch>>,
) -> ApiResult<HttpResponse> {
    let (code, if_match, change) =
        (path.into_inner().code, if_match_version(&req)?, body.into_inner().into_inner());
    let row = db::run(&state.pool, move |conn| repo::update(conn, &code, if_match, change)).await?;
    let response = TemplateResponse::from(row);
    Ok(ok_with_etag(&etag(&[response.version]), &response))
}

/// Deletes an interaction template that nothing uses (admin).
#[utoipa::path(delete, path = "/v1/interaction-templates/{code}", tag = "interaction-templates",
    operation_id = "delete_interaction_template",
    description = "Refused (409 `template-in-use`) while an open segment's header or line names \
the template, and for good once interaction log entries or logged segments name it (logged \
history keeps its template); `detail` says which. Its documents, every version, go with it.",
    params(TemplatePath,
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the template changed since")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No template has this code", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The template is in use (`template-in-use`); `detail` says where",
            body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names another version", body = Problem,
            content_type = "application/problem+json")))]
pub async fn delete_interaction_template(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<TemplatePath>,
) -> ApiResult<HttpResponse> {
    let (code, if_match) = (path.into_inner().code, if_match_version(&req)?);
    db::run(&state.pool, move |conn| repo::delete(conn, &code, if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}
