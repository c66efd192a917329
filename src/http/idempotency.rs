//! `Idempotency-Key` on creating POSTs, as the IETF httpapi draft "The Idempotency-Key HTTP
//! Header Field" describes: the first answer to a key is remembered and replayed to its retries.

use std::time::Duration;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_records as records;
use crate::db::{self, Conn, Pool};
use crate::error::ApiError;
use crate::http::upload;
use crate::state::AppState;
use crate::{auth, with_backend};

/// The request header naming the key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header marking an answer as a replay of a remembered one.
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";

const MAX_KEY_LENGTH: usize = 255;
/// Expired rows removed per new key: enough to outpace creation, small enough to stay short.
const PURGE_BATCH: i64 = 100;
/// The response headers a replay repeats; the others (date, server, ...) belong to the moment.
const REMEMBERED_HEADERS: [HeaderName; 5] =
    [header::CONTENT_TYPE, header::LOCATION, header::CONTENT_LOCATION, header::ETAG, header::LAST_MODIFIED];

/// The middleware: replays the remembered answer to a POST's `Idempotency-Key`, or runs the
/// request and remembers its answer.
pub async fn replay_or_record<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // Without an API key there is no owner to scope the record to (the `authenticate`
    // middleware outside answers 401 before this runs; this guards other mountings).
    let Some(owner) = auth::bearer_key_hash(req.request()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match idempotency_key(&req) {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(next.call(req).await?.map_into_boxed_body()),
        Err(e) => return Ok(req.error_response(e)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::internal("application state missing")));
    };
    // A template document upload has its own limit (its handler bounds the file again).
    let limit = if is_document_upload(req.path()) {
        state.settings.attachment_max_bytes + upload::FORM_ALLOWANCE
    } else {
        state.settings.body_limit
    };
    let body = match read_body(&mut req, limit).await {
        Ok(body) => body,
        Err(e) => return Ok(req.error_response(e)),
    };
    let fingerprint = request_fingerprint(req.method().as_str(), req.path(), req.query_string(), &body);
    req.set_payload(Payload::from(body));

    let claim = Claim { owner, key, fingerprint };
    let ttl = state.settings.idempotency_ttl;
    let pool = state.pool.clone();
    let claimed = db::run(&state.pool, move |conn| {
        // The guard is made on the blocking thread, so that a request dropped while waiting
        // here still frees the key it claimed (the unread answer is dropped with it).
        Ok(match claim_key(conn, &claim, Utc::now().naive_utc(), ttl)? {
            Claimed::Run(id) => Claimed::Run(HeldClaim { pool, id: Some(id) }),
            Claimed::Replay(stored) => Claimed::Replay(stored),
            Claimed::Refused(e) => Claimed::Refused(e),
        })
    });
    match claimed.await {
        Ok(Claimed::Run(claim)) => run_and_remember(req, next, claim).await,
        Ok(Claimed::Replay(stored)) => Ok(req.into_response(stored.into_response())),
        Ok(Claimed::Refused(e)) | Err(e) => Ok(req.error_response(e)),
    }
}

/// SHA-256 (hex) over what makes two requests "the same": method, path, query string and body.
pub fn request_fingerprint(method: &str, path: &str, query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    // No newline can occur in a method, path or query, so it separates them unambiguously.
    for part in [method, path, query] {
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The key, when the request has one; 1 to 255 visible ASCII characters, taken as is.
fn idempotency_key(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
    let Some(value) = values.next() else { return Ok(None) };
    let invalid =
        |detail: &str| ApiError::BadRequest { code: "invalid-idempotency-key", detail: detail.into() };
    if values.next().is_some() {
        return Err(invalid("send one Idempotency-Key header, not several"));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_LENGTH || !bytes.iter().all(u8::is_ascii_graphic) {
        return Err(invalid("Idempotency-Key must be 1 to 255 visible ASCII characters"));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Whether `path` is `/v1/interaction-templates/{code}/attachments`, where files are uploaded.
fn is_document_upload(path: &str) -> bool {
    path.strip_prefix("/v1/interaction-templates/")
        .and_then(|rest| rest.strip_suffix("/attachments"))
        .is_some_and(|code| !code.is_empty() && !code.contains('/'))
}

/// The whole body, refused past `limit` before it is all in memory.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Overflow => too_large(),
            other => ApiError::BadRequest {
                code: "unreadable-body",
                detail: format!("the body could not be read: {other}"),
            },
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Who sent which key for which request.
struct Claim {
    owner: String,
    key: String,
    fingerprint: String,
}

/// The record already holding a key.
#[derive(Queryable, Selectable)]
#[diesel(table_name = records)]
struct KeyHolder {
    request_hash: String,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<Vec<u8>>,
}

/// What to do with a request after looking its key up.
enum Claimed<Record> {
    /// A new record holds the key: run the request.
    Run(Record),
    Replay(StoredResponse),
    Refused(ApiError),
}

/// Takes the key for this request, or finds who holds it, in one short write transaction.
///
/// `INSERT ... ON CONFLICT DO NOTHING` is the conflict check on both backends: on SQLite the
/// immediate transaction already serialises claimers; on PostgreSQL a racing claimer's insert
/// makes ours wait for its commit and then insert nothing, with no unique-violation error to
/// abort our transaction, and the following read sees its row.
fn claim_key(
    conn: &mut Conn,
    claim: &Claim,
    now: NaiveDateTime,
    ttl: Duration,
) -> Result<Claimed<i64>, ApiError> {
    let expires_at = now + chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    db::write_transaction(conn, |conn| {
        let this_key = || {
            records::table
                .filter(records::owner.eq(&claim.owner))
                .filter(records::idempotency_key.eq(&claim.key))
        };
        diesel::delete(this_key().filter(records::expires_at.le(now))).execute(conn)?;
        let new_record = (
            records::owner.eq(&claim.owner),
            records::idempotency_key.eq(&claim.key),
            records::request_hash.eq(&claim.fingerprint),
            records::created_at.eq(now),
            records::expires_at.eq(expires_at),
        );
        let inserted: Option<i64> = with_backend!(conn, |c| diesel::insert_into(records::table)
            .values(new_record)
            .on_conflict((records::owner, records::idempotency_key))
            .do_nothing()
            .returning(records::id)
            .get_result(c)
            .optional())?;
        if let Some(id) = inserted {
            purge_expired(conn, now)?;
            return Ok(Claimed::Run(id));
        }
        let existing: Option<KeyHolder> = this_key().select(KeyHolder::as_select()).first(conn).optional()?;
        Ok(match existing {
            Some(holder) if holder.request_hash != claim.fingerprint => {
                Claimed::Refused(ApiError::Unprocessable {
                    code: "idempotency-key-reused",
                    detail: "this Idempotency-Key was already used for a different request".into(),
                })
            }
            Some(KeyHolder { response_status: Some(status), response_headers, response_body, .. }) => {
                Claimed::Replay(StoredResponse::from_columns(status, response_headers, response_body)?)
            }
            // The holder is still running, or (gone in between) just released the key: a retry
            // will tell which.
            _ => Claimed::Refused(ApiError::conflict(
                "idempotency-request-in-progress",
                "a request with this Idempotency-Key is still running; retry later",
            )),
        })
    })
}

/// Deletes a bounded batch of expired records of anyone, so the table does not grow forever.
fn purge_expired(conn: &mut Conn, now: NaiveDateTime) -> Result<(), ApiError> {
    use diesel::sql_types::{BigInt, Timestamp};
    // Two PostgreSQL purgers locking the same rows in different orders could deadlock;
    // SKIP LOCKED leaves rows another purger holds to it. SQLite has one writer at a time.
    let sql = if db::is_sqlite(conn) {
        "DELETE FROM idempotency_records WHERE id IN \
         (SELECT id FROM idempotency_records WHERE expires_at <= ? LIMIT ?)"
    } else {
        "DELETE FROM idempotency_records WHERE id IN \
         (SELECT id FROM idempotency_records WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
    };
    with_backend!(conn, |c| diesel::sql_query(sql)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(PURGE_BATCH)
        .execute(c))?;
    Ok(())
}

/// Runs the request under a claimed key and remembers its answer, or releases the key when the
/// answer says the request may well succeed if tried again.
async fn run_and_remember<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    mut claim: HeldClaim,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(e) => {
            claim.release().await;
            return Err(e);
        }
    };
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = match body::to_bytes(body).await {
        Ok(body) => body,
        Err(e) => {
            claim.release().await;
            let cause: Box<dyn std::error::Error> = e.into();
            let error = ApiError::internal(format!("the response body could not be read: {cause}"));
            return Ok(ServiceResponse::new(request, error.error_response()));
        }
    };
    let status = head.status();
    if is_remembered(status) {
        claim.remember(StoredResponse::capture(status, head.headers(), body.clone())).await;
    } else {
        claim.release().await;
    }
    Ok(ServiceResponse::new(request, head.set_body(BoxBody::new(body))))
}

/// 5xx, 401 and 403 say nothing about the request itself (a failure, a key not yet valid), so a
/// retry deserves to run; every other answer is the request's outcome and is replayed.
fn is_remembered(status: StatusCode) -> bool {
    !(status.is_server_error() || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN)
}

/// A record in progress; dropped unfinished (client gone, handler panicked) it frees its key,
/// so that retries are not refused as "in progress" until the record expires.
struct HeldClaim {
    pool: Pool,
    id: Option<i64>,
}

impl HeldClaim {
    async fn remember(&mut self, stored: StoredResponse) {
        let Some(id) = self.id.take() else { return };
        let saved = db::run(&self.pool, move |conn| {
            let headers = serde_json::to_string(&stored.headers).map_err(ApiError::internal)?;
            diesel::update(records::table.find(id))
                .set((
                    records::response_status.eq(i32::from(stored.status.as_u16())),
                    records::response_headers.eq(headers),
                    records::response_body.eq(stored.body.as_ref()),
                ))
                .execute(conn)
                .map_err(ApiError::from)
                // Unsaved, the record would refuse retries as "in progress" until it expires.
                .or_else(|e| delete_record(conn, id).and(Err(e)))
        })
        .await;
        if let Err(e) = saved {
            tracing::error!(error = %e, id, "could not remember the answer to an Idempotency-Key");
        }
    }

    async fn release(&mut self) {
        let Some(id) = self.id.take() else { return };
        if let Err(e) = db::run(&self.pool, move |conn| delete_record(conn, id)).await {
            tracing::error!(error = %e, id, "could not release an Idempotency-Key");
        }
    }
}

impl Drop for HeldClaim {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        // Drop cannot await and may run outside the runtime, so a thread of its own deletes.
        let pool = self.pool.clone();
        let spawned = std::thread::Builder::new().name("idempotency-release".into()).spawn(move || {
            let released =
                pool.get().map_err(ApiError::from).and_then(|mut conn| delete_record(&mut conn, id));
            if let Err(e) = released {
                tracing::error!(error = %e, id, "could not release an abandoned Idempotency-Key");
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, id, "could not release an abandoned Idempotency-Key");
        }
    }
}

fn delete_record(conn: &mut Conn, id: i64) -> Result<(), ApiError> {
    diesel::delete(records::table.find(id)).execute(conn)?;
    Ok(())
}

/// An answer as remembered: status, the headers a replay repeats, and the body byte for byte.
struct StoredResponse {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl StoredResponse {
    fn capture(status: StatusCode, headers: &header::HeaderMap, body: Bytes) -> StoredResponse {
        let headers = REMEMBERED_HEADERS
            .iter()
            .flat_map(|name| headers.get_all(name).map(move |value| (name, value)))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        StoredResponse { status, headers, body }
    }

    fn from_columns(
        status: i32,
        headers: Option<String>,
        body: Option<Vec<u8>>,
    ) -> Result<StoredResponse, ApiError> {
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| ApiError::internal(format!("stored idempotent answer has status {status}")))?;
        let headers = match headers {
            Some(text) => serde_json::from_str(&text).map_err(ApiError::internal)?,
            None => Vec::new(),
        };
        Ok(StoredResponse { status, headers, body: Bytes::from(body.unwrap_or_default()) })
    }

    fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.append_header((name.as_str(), value.as_str()));
        }
        response.insert_header((IDEMPOTENCY_REPLAYED, "true"));
        response.body(self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Backend;

    #[test]
    fn only_a_template_s_attachments_path_is_a_document_upload() {
        // Found by cargo-mutants: the upload limit is for that one path, not for a code that
        // is empty or spans segments.
        assert!(is_document_upload("/v1/interaction-templates/LETTER/attachments"));
        for path in [
            "/v1/interaction-templates//attachments",
            "/v1/interaction-templates/A/B/attachments",
            "/v1/interaction-templates/LETTER",
            "/v1/segments/1/lines/2/document",
        ] {
            assert!(!is_document_upload(path), "{path}");
        }
    }

    fn sqlite_pool(name: &str) -> (Pool, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("crm_idem_{name}_{}.db", std::process::id()));
        let pool =
            db::build_pool(&Backend::Sqlite(path.display().to_string()), 2, None, Duration::from_secs(10))
                .unwrap();
        db::run_migrations(&mut pool.get().unwrap()).unwrap();
        (pool, path)
    }

    fn claim(fingerprint: &str) -> Claim {
        Claim { owner: "owner".into(), key: "key".into(), fingerprint: fingerprint.into() }
    }

    #[test]
    fn a_claim_dropped_unfinished_frees_its_key() {
        let (pool, path) = sqlite_pool("drop");
        let now = Utc::now().naive_utc();
        let ttl = Duration::from_secs(60);
        let Claimed::Run(id) = claim_key(&mut pool.get().unwrap(), &claim("a"), now, ttl).unwrap() else {
            panic!("a new key is claimed")
        };
        let again = claim_key(&mut pool.get().unwrap(), &claim("a"), now, ttl).unwrap();
        assert!(matches!(again, Claimed::Refused(ApiError::Conflict { .. })));

        drop(HeldClaim { pool: pool.clone(), id: Some(id) });
        let count = || records::table.count().get_result::<i64>(&mut *pool.get().unwrap()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while count() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(count(), 0);
        assert!(matches!(
            claim_key(&mut pool.get().unwrap(), &claim("a"), now, ttl).unwrap(),
            Claimed::Run(_)
        ));
        drop(pool);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[test]
    fn the_fingerprint_tells_apart_every_part_of_the_request() {
        let base = request_fingerprint("POST", "/v1/a", "x=1", b"{}");
        assert_eq!(base, request_fingerprint("POST", "/v1/a", "x=1", b"{}"));
        for other in [
            request_fingerprint("PUT", "/v1/a", "x=1", b"{}"),
            request_fingerprint("POST", "/v1/b", "x=1", b"{}"),
            request_fingerprint("POST", "/v1/a", "x=2", b"{}"),
            request_fingerprint("POST", "/v1/a", "x=1", b"{ }"),
            request_fingerprint("POST", "/v1/a", "", b"x=1\n{}"),
        ] {
            assert_ne!(base, other);
        }
    }
}
