//! The one error type and its one rendering as RFC 9457 `application/problem+json`.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

pub type ApiResult<T> = Result<T, ApiError>;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The `Retry-After` of a `database-read-only` answer, in seconds.
pub const READ_ONLY_RETRY_AFTER_SECS: u64 = 30;

/// What went wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON path into the request (`email`, `items[3].no`, `contact_ids`).
    pub field: String,
    /// A stable machine-readable code (`required`, `invalid`, `too_long`, `unknown_code`, ...).
    pub code: String,
    /// A human-readable sentence.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.to_owned(), message: message.into() }
    }
}

/// An RFC 9457 problem document; every 4xx and 5xx answer has this body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:crm-segments:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The stable code of the kind of problem (the last part of `type`).
    pub code: String,
    /// Field-level errors, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The request's id (its `X-Request-Id`): quote it when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Every error a request can end in.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// Values that must be unique are already used (409, field by field).
    #[error("already used")]
    Duplicates(Vec<FieldError>),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// A request refused for faults found in stored data (the lines of a segment to log),
    /// listed in `errors` (a first page of them; `detail` gives the total).
    #[error("{detail}")]
    Refused { code: &'static str, detail: String, errors: Vec<FieldError> },
    #[error("{0}")]
    Unavailable(String),
    /// The database accepts reads but no writes (a read-only filesystem or server).
    #[error("{0}")]
    ReadOnly(String),
    /// The database's storage is full: nothing was written.
    #[error("{0}")]
    StorageFull(String),
    /// The caller's rate limit is spent; it may try again after `retry_after` seconds.
    #[error("too many requests: the rate limit allows the next one in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { code, detail: detail.into() }
    }

    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(e.into())
    }

    /// The stable code and title of the kind of problem.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (code, "Bad request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict { code, .. } => (code, "Conflict"),
            ApiError::Duplicates(_) => ("already-exists", "Conflict"),
            ApiError::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            ApiError::Validation(_) => ("validation-failed", "Validation failed"),
            ApiError::Unprocessable { code, .. } | ApiError::Refused { code, .. } => {
                (code, "Unprocessable content")
            }
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::ReadOnly(_) => ("database-read-only", "Service unavailable"),
            ApiError::StorageFull(_) => ("database-full", "Insufficient storage"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (code, title) = self.kind();
        let (detail, errors) = match self {
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                (format!("invalid fields: {}", fields.join(", ")), Some(errors.clone()))
            }
            ApiError::Duplicates(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                (format!("already used by another resource: {}", fields.join(", ")), Some(errors.clone()))
            }
            ApiError::Refused { detail, errors, .. } => (detail.clone(), Some(errors.clone())),
            ApiError::Internal(_) => ("the server failed; the error has been logged".to_owned(), None),
            other => (other.to_string(), None),
        };
        Problem {
            problem_type: format!("urn:crm-segments:problem:{code}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code: code.to_owned(),
            errors,
            request_id: crate::http::requests::current_request_id(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::Duplicates(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } | ApiError::Refused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unavailable(_) | ApiError::ReadOnly(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(source) => {
                tracing::error!(error = %error_chain(source.as_ref()), "request failed");
            }
            ApiError::Unavailable(reason) | ApiError::ReadOnly(reason) => {
                tracing::warn!(%reason, "service unavailable");
            }
            ApiError::StorageFull(reason) => tracing::warn!(%reason, "insufficient storage"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            // An operator has to make the storage writable again: not a matter of a second.
            ApiError::ReadOnly(_) => {
                response.insert_header((header::RETRY_AFTER, READ_ONLY_RETRY_AFTER_SECS.to_string()));
            }
            ApiError::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

/// `error: cause: cause`, for logs.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether the error means the connection itself is gone: the server closed it (a restart, a
/// failover, `pg_terminate_backend`: SQLSTATE class 57P, or libpq's own messages) or it could
/// not be written to. The request answers 503; diesel reports such a connection broken and the
/// pool drops it.
pub fn is_connection_lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message().to_lowercase();
            [
                "terminating connection",
                "server closed the connection",
                "connection to server",
                "no connection to the server",
            ]
            .iter()
            .any(|fragment| message.contains(fragment))
        }
        _ => false,
    }
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        if is_connection_lost(&e) {
            tracing::warn!(error = %e, "the database connection was lost");
            return ApiError::Unavailable(
                "the connection to the database was lost; retry the request".into(),
            );
        }
        match e {
            DieselError::NotFound => ApiError::NotFound("resource not found".into()),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => {
                    let field = violated_column(info.as_ref()).unwrap_or_else(|| "value".into());
                    ApiError::conflict(
                        "already-exists",
                        format!("a resource with this {field} already exists"),
                    )
                }
                DatabaseErrorKind::ForeignKeyViolation => ApiError::Unprocessable {
                    code: "reference-not-found",
                    detail:
                        "the request refers to a resource that does not exist, or a resource still in use"
                            .into(),
                },
                DatabaseErrorKind::SerializationFailure => ApiError::conflict(
                    "concurrent-update",
                    "a concurrent request changed the same data; retry the request",
                ),
                DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                    ApiError::Unprocessable {
                        code: "constraint-violated",
                        detail: "the input breaks a data rule".into(),
                    }
                }
                _ => match by_message(info.message()) {
                    // The database's own words go to the log only: they may name files or hosts.
                    Some(api) if api.status_code().is_server_error() => {
                        tracing::warn!(error = info.message(), "the database refused the request");
                        api
                    }
                    Some(api) => api,
                    None => ApiError::internal(DieselError::DatabaseError(kind, info)),
                },
            },
            // A COMMIT that failed and whose ROLLBACK failed too: the commit's error is the cause.
            DieselError::RollbackErrorOnCommit { commit_error, rollback_error } => {
                tracing::warn!(error = %rollback_error, "the rollback after a failed commit failed too");
                ApiError::from(*commit_error)
            }
            other => ApiError::internal(other),
        }
    }
}

/// Database errors diesel has no kind for. diesel exposes neither PostgreSQL's SQLSTATE nor
/// SQLite's extended result code for these (it maps them all to `Unknown`), so they are told apart
/// by the server's fixed message text for each code, in one table: lost lock races (40P01,
/// 55P03) are 409 to retry, a busy SQLite (SQLITE_BUSY, SQLITE_LOCKED) is 503, a read-only
/// database (SQLITE_READONLY, 25006) 503 `database-read-only`, full storage (SQLITE_FULL, 53100)
/// 507 `database-full`, bad values (22021, 22003, 2201B) are 422.
fn by_message(message: &str) -> Option<ApiError> {
    const RETRY: &str = "a concurrent request held the same data; retry the request";
    let lower = message.to_lowercase();
    let has = |fragments: &[&str]| fragments.iter().any(|f| lower.contains(f));
    if has(&["deadlock detected", "could not obtain lock"]) {
        Some(ApiError::conflict("concurrent-update", RETRY))
    } else if has(&["canceling statement due to statement timeout"]) {
        Some(ApiError::Unavailable(
            "the database did not finish the request within DB_STATEMENT_TIMEOUT_SECS; retry later".into(),
        ))
    } else if has(&["database is locked", "database table is locked"]) {
        Some(ApiError::Unavailable("the database is busy with other writes; retry shortly".into()))
    } else if has(&["attempt to write a readonly database", "read-only transaction"]) {
        // SQLITE_READONLY: the file or its filesystem is read-only; PostgreSQL 25006: a standby
        // or `default_transaction_read_only`. Reads still work.
        Some(ApiError::ReadOnly(
            "the database accepts no changes at the moment (it is read-only); reads still work, \
             retry the change later"
                .into(),
        ))
    } else if has(&["database or disk is full", "no space left on device"]) {
        // SQLITE_FULL, PostgreSQL 53100: the transaction is rolled back whole.
        Some(ApiError::StorageFull("the database's storage is full; nothing was changed".into()))
    } else if has(&["disk i/o error", "unable to open database file"]) {
        // SQLITE_IOERR, SQLITE_CANTOPEN: the storage failed a read or write (the transaction is
        // rolled back), or a file SQLite needs cannot be opened.
        Some(ApiError::Unavailable("the database could not use its storage; retry later".into()))
    } else if has(&["invalid byte sequence"]) {
        Some(ApiError::Unprocessable {
            code: "invalid-text",
            detail: "text must not contain NUL characters".into(),
        })
    } else if has(&["out of range"]) {
        Some(ApiError::Unprocessable {
            code: "out-of-range",
            detail: "a value is out of the range the database can store".into(),
        })
    } else if has(&["pattern too complex"]) {
        Some(ApiError::Unprocessable { code: "invalid-search", detail: "the search text is too long".into() })
    } else {
        None
    }
}

/// The field a unique violation is about. On PostgreSQL, from the constraint's name: our unique
/// indexes are named `<table>_<column>` in the migrations; a primary key (`<table>_pkey`) names
/// its columns only in the detail text `Key (code)=(X) already exists.`. SQLite reports neither
/// a constraint name nor a column apart from its message `UNIQUE constraint failed: contacts.no`.
fn violated_column(info: &dyn DatabaseErrorInformation) -> Option<String> {
    if let (Some(constraint), Some(table)) = (info.constraint_name(), info.table_name()) {
        if let Some(column) = constraint.strip_prefix(table).and_then(|rest| rest.strip_prefix('_')) {
            if column != "pkey" {
                return Some(column.to_owned());
            }
        }
    }
    if let Some(details) = info.details() {
        let start = details.find("Key (")? + 5;
        let end = start + details[start..].find(')')?;
        return Some(details[start..end].to_owned());
    }
    let columns = info.message().strip_prefix("UNIQUE constraint failed: ")?;
    let names: Vec<&str> = columns.split(", ").map(|c| c.rsplit('.').next().unwrap_or(c)).collect();
    Some(names.join(", "))
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        // The driver's message names the database host and port: logged, not answered.
        tracing::warn!(error = %e, "no database connection available");
        ApiError::Unavailable("no database connection is available; retry shortly".into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}

/// Renders JSON body errors: syntax 400, wrong shape 422, too large 413, not JSON 415.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            ApiError::PayloadTooLarge(format!("the body has {length} bytes; the limit is {limit}"))
        }
        JsonPayloadError::Overflow { limit } => {
            ApiError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("the body must be JSON (Content-Type: application/json)".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::Unprocessable {
            code: "invalid-body",
            detail: format!("the body does not match the expected shape: {e}"),
        },
        JsonPayloadError::Deserialize(e) => ApiError::BadRequest {
            code: "malformed-json",
            detail: format!("the body is not valid JSON: {e}"),
        },
        other => ApiError::BadRequest {
            code: "unreadable-body",
            detail: format!("the body could not be read: {other}"),
        },
    };
    api.into()
}

/// Renders query string errors as 400 problems.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest { code: "invalid-query", detail: format!("invalid query parameters: {err}") }.into()
}

/// Renders path parameter errors (a non-numeric id, say) as 404: no such resource exists.
pub fn path_error(_err: PathError, req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("no resource at {}", req.path())).into()
}

/// Turns an error answer made outside our handlers (unknown route, wrong method, actix's own
/// payload errors) into a problem document; our own problems pass through unchanged.
pub fn render_framework_error<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::middleware::ErrorHandlerResponse;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_CONTENT_TYPE.as_bytes());
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let what = format!("{} {}", res.request().method(), res.request().path());
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound(format!("no resource at {what}")),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(format!("{what} is not allowed")),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the body is too large".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("unsupported content type".into())
        }
        s if s.is_server_error() => ApiError::internal(format!("{what} answered {s}")),
        s => ApiError::BadRequest { code: "bad-request", detail: format!("{what} answered {s}") },
    };
    let mut response = error.error_response();
    // Keep the framework's status for statuses we have no variant for (e.g. 414, 431).
    *response.status_mut() = status;
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
