//! Every request's id, span, log line and metrics. The id is the client's `X-Request-Id` when
//! it is well formed, else a new one; it is echoed on the response, put in the problem document
//! of an error (so a user can quote it and an operator find the log line), and carried by the
//! request's tracing span into the database work it does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::metrics::METRICS;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client request id taken as it is.
const MAX_REQUEST_ID: usize = 128;

tokio::task_local! {
    /// The id of the request being answered, for the problem document of an error.
    static CURRENT: String;
}

/// The id of the request this task is answering, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Whether a client's request id is taken as it is: short, and of characters that are safe in
/// a header and a log line.
fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b))
}

/// A new request id: 32 hex digits, random (a process counter if the system has no randomness).
fn new_request_id() -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let n = FALLBACK.fetch_add(1, Ordering::Relaxed);
        bytes[..8].copy_from_slice(&std::process::id().to_be_bytes().repeat(2));
        bytes[8..].copy_from_slice(&n.to_be_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The middleware: gives the request its id and span, then echoes the id, counts and times the
/// request by route pattern (the pattern, not the path, keeps the metrics' cardinality bounded)
/// and logs one line. Our handlers and middleware answer errors as responses inside the span; an
/// `Err` from below is still counted and logged, and actix renders it.
pub async fn observe<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| well_formed(id))
        .map_or_else(new_request_id, str::to_owned);
    let method = req.method().clone();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("request", %method, %route, request_id = %id);
    let answer = CURRENT.scope(id.clone(), next.call(req).instrument(span.clone())).await;
    let status = match &answer {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let elapsed = started.elapsed();
    METRICS.http_requests.with_label_values(&[method.as_str(), &route, status.as_str()]).inc();
    METRICS.http_duration.with_label_values(&[method.as_str(), &route]).observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(status = status.as_u16(), latency_ms = elapsed.as_secs_f64() * 1000.0, "request")
    });
    let mut res = answer?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_request_id_is_taken_only_when_short_and_plain() {
        assert!(well_formed("3f2c-19ab_7.x:1/2+3=4@a"));
        assert!(well_formed(&"a".repeat(MAX_REQUEST_ID)));
        assert!(!well_formed(&"a".repeat(MAX_REQUEST_ID + 1)));
        assert!(!well_formed(""));
        assert!(!well_formed("two words"));
        assert!(!well_formed("line\nbreak"));
        assert!(!well_formed("é"));
    }

    #[test]
    fn new_request_ids_are_32_hex_digits_and_differ() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
