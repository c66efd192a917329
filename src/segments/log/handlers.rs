//! HTTP handler of `POST /v1/segments/{id}/log`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::model::{LogResult, LogSegment};
use crate::auth::{Caller, Write};
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::json::JsonObject;
use crate::logged_segments::repo::get_logged_segment;
use crate::logging::{log_segment as log, LogOptions};
use crate::segments::model::SegmentResponse;
use crate::segments::repo::get_segment;
use crate::state::AppState;

/// Logs the segment: checks every line first (422 listing each fault, nothing written), then in
/// one transaction writes one interaction log entry per line from its effective values, one
/// logged segment, freezes the segment, and with `create_follow_up` creates an open segment
/// with the same header and contacts. Happens once: a second call is 409 `segment-logged`.
#[utoipa::path(post, path = "/v1/segments/{id}/log", tag = "segments", request_body = LogSegment,
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 201, description = "The logged segment (and the follow-up)", body = LogResult,
            headers(("Location" = String, description = "The logged segment's URL"))),
        (status = 404, description = "No such segment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The segment is already logged", body = Problem, content_type = "application/problem+json")))]
pub async fn log_segment(
    caller: Caller<Write>,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<JsonObject<LogSegment>>,
) -> ApiResult<HttpResponse> {
    let (id, input) = (id.into_inner(), body.into_inner().into_inner());
    let options = LogOptions { deliver: input.deliver, create_follow_up: input.create_follow_up };
    let (logged, follow_up) = db::run(&state.pool, move |conn| {
        let result = log(conn, id, &caller.name, options)?;
        let follow_up = result.follow_up_segment_id.map(|f| get_segment(conn, f)).transpose()?;
        Ok((get_logged_segment(conn, result.logged_segment_id)?, follow_up))
    })
    .await?;
    if options.deliver {
        state.deliveries.wake();
    }
    let location = format!("/v1/logged-segments/{}", logged.id);
    let body =
        LogResult { logged_segment: logged.into(), follow_up_segment: follow_up.map(SegmentResponse::from) };
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(body))
}
