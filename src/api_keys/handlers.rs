use actix_web::{web, HttpResponse};

use super::model::{ApiKeyList, ApiKeyResponse, CreateApiKey, CreatedApiKey, MeResponse};
use super::repo;
use crate::auth::{Admin, Caller, Read};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::JsonObject;
use crate::state::AppState;

/// Who the caller is: the key's name and scope.
#[utoipa::path(get, path = "/v1/me", tag = "api-keys",
    responses((status = 200, description = "The caller's identity", body = MeResponse)))]
pub async fn get_me(caller: Caller<Read>) -> HttpResponse {
    HttpResponse::Ok().json(MeResponse { name: caller.name, scope: caller.scope })
}

/// Lists the API keys (admin).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys",
    responses((status = 200, description = "Every key, revoked ones included", body = ApiKeyList)))]
pub async fn list_api_keys(_caller: Caller<Admin>, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let records = db::run(&state.pool, repo::list_api_keys).await?;
    let items = records.into_iter().map(ApiKeyResponse::from_record).collect();
    Ok(HttpResponse::Ok().json(ApiKeyList { items }))
}

/// Creates an API key (admin); the key is in the answer and never shown again.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateApiKey,
    responses((status = 201, description = "The new key", body = CreatedApiKey)))]
pub async fn create_api_key(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    body: web::Json<JsonObject<CreateApiKey>>,
) -> ApiResult<HttpResponse> {
    let CreateApiKey { name, scope } = body.into_inner().into_inner();
    let key_name = name.clone();
    let key = db::run(&state.pool, move |conn| repo::create_api_key(conn, &key_name, scope)).await?;
    Ok(HttpResponse::Created().json(CreatedApiKey { name, scope, key }))
}

/// Revokes an API key (admin); requests with it answer 401 from then on.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No active key with this id", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_api_key(
    _caller: Caller<Admin>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let revoked = db::run(&state.pool, move |conn| repo::revoke_api_key(conn, &id.to_string())).await?;
    state.api_keys.clear();
    if revoked == 0 {
        return Err(ApiError::not_found(format!("active API key {id}")));
    }
    Ok(HttpResponse::NoContent().finish())
}
