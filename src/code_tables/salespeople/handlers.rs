use actix_web::{web, HttpRequest, HttpResponse};

use super::model::{CreateSalesperson, SalespersonList, SalespersonResponse, UpdateSalesperson};
use super::repo;
use crate::auth::{Admin, Caller, Read};
use crate::code_tables::model::CodePath;
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::conditional::{created, etag, if_match_version, ok_with_etag, respond_with_etag};
use crate::http::json::JsonObject;
use crate::http::pagination::PageParams;
use crate::http::urls::location;
use crate::state::AppState;

const COLLECTION: &str = "/v1/salespeople";

/// Lists the salespeople, ordered by code.
#[utoipa::path(get, path = "/v1/salespeople", tag = "code-tables",
    description = "Keyset pagination: pass the answer's `next_cursor` as `cursor` for the next page.",
    params(PageParams),
    responses((status = 200, description = "One page of salespeople", body = SalespersonList)))]
pub async fn list_salespeople(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    query: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = query.validate_code("salespeople")?;
    let (rows, next_cursor) = db::run(&state.pool, move |conn| repo::list(conn, &page)).await?;
    let items = rows.into_iter().map(SalespersonResponse::from).collect();
    Ok(HttpResponse::Ok().json(SalespersonList { items, next_cursor }))
}

/// Reads one salesperson; 304 when `If-None-Match` names its current version.
#[utoipa::path(get, path = "/v1/salespeople/{code}", tag = "code-tables",
    params(CodePath),
    responses(
        (status = 200, description = "The salesperson", body = SalespersonResponse,
            headers(("ETag" = String))),
        (status = 304, description = "Not modified since the version in If-None-Match"),
        (status = 404, description = "No salesperson has this code", body = Problem,
            content_type = "application/problem+json")))]
pub async fn get_salesperson(
    _caller: Caller<Read>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<CodePath>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner().code;
    let row = db::run(&state.pool, move |conn| repo::find(conn, &code)).await?;
    let response = SalespersonResponse::from(row);
    Ok(respond_with_etag(&req, &etag(&[response.version]), &response))
}

/// Creates a salesperson (admin).
#[utoipa::path(post, path = "/v1/salespeople", tag = "code-tables",
    request_body = CreateSalesperson,
    responses(
        (status = 201, description = "The new salesperson", body = SalespersonResponse,
            headers(("Location" = String, description = "The new salesperson's URL"), ("ETag" = String))),
        (status = 409, description = "The code is taken (`already-exists`)", body = Problem,
            content_type = "application/problem+json")))]
pub async fn create_salesperson(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<CreateSalesperson>>,
) -> ApiResult<HttpResponse> {
    let new = body.into_inner().into_inner().validate()?;
    let row = db::run(&state.pool, move |conn| repo::create(conn, &new)).await?;
    let response = SalespersonResponse::from(row);
    Ok(created(&location(COLLECTION, &response.code), &etag(&[response.version]), &response))
}

/// Changes a salesperson's name, email or phone (admin).
#[utoipa::path(patch, path = "/v1/salespeople/{code}", tag = "code-tables",
    description = "An absent field is left alone; `null` clears `email` or `phone`; the code cannot \
change. `version` moves only when a value changes. With `If-Match`, a stale version is refused (412) \
and nothing is written.",
    params(CodePath,
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the salesperson changed since")),
    request_body = UpdateSalesperson,
    responses(
        (status = 200, description = "The salesperson after the change", body = SalespersonResponse,
            headers(("ETag" = String))),
        (status = 404, description = "No salesperson has this code", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "If-Match names another version", body = Problem,
            content_type = "application/problem+json")))]
pub async fn update_salesperson(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<CodePath>,
    body: web::Json<JsonObject<UpdateSalesperson>>,
) -> ApiResult<HttpResponse> {
    let (code, if_match, change) =
        (path.into_inner().code, if_match_version(&req)?, body.into_inner().into_inner());
    let row = db::run(&state.pool, move |conn| repo::update(conn, &code, if_match, change)).await?;
    let response = SalespersonResponse::from(row);
    Ok(ok_with_etag(&etag(&[response.version]), &response))
}

/// Deletes a salesperson that no contact, segment or segment line refers to (admin).
#[utoipa::path(delete, path = "/v1/salespeople/{code}", tag = "code-tables",
    params(CodePath,
        ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the salesperson changed since")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No salesperson has this code", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The salesperson is in use (`in-use`); `detail` says where",
            body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names another version", body = Problem,
            content_type = "application/problem+json")))]
pub async fn delete_salesperson(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<CodePath>,
) -> ApiResult<HttpResponse> {
    let (code, if_match) = (path.into_inner().code, if_match_version(&req)?);
    db::run(&state.pool, move |conn| repo::delete(conn, &code, if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}
