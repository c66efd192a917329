//! Liveness and readiness probes (no auth).

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// Health of the process or of its database.
#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` when healthy.
    pub status: String,
    /// The database backend in use (`sqlite` or `postgresql`), on `/readyz`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process is alive", body = HealthStatus)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok".into(), database: None })
}

/// The database answers a query.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses(
        (status = 200, description = "The database is reachable", body = HealthStatus),
        (status = 503, description = "The database is not reachable", body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    db::run(&state.pool, |conn| {
        conn.batch_execute("SELECT 1").map_err(|e| {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            ApiError::Unavailable("the database does not answer".into())
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(HealthStatus { status: "ok".into(), database: Some(state.settings.database.name().into()) }))
}
