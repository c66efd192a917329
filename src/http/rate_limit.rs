//! A per-API-key rate limit on `/v1`: a token bucket per key (governor's keyed limiter; the
//! actix-governor crate is GPL), answering 429 with `Retry-After` when a key's bucket is empty.
//! A request without a key is limited by its peer address, so that a flood of unauthenticated
//! requests cannot starve anyone else either.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// `RATE_LIMIT_PER_SEC` and `RATE_LIMIT_BURST`: requests a key may make per second on
/// average, and at once after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

/// Checks a bucket per caller.
pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<[u8; 16]>,
    checks: AtomicU64,
}

/// Buckets are swept of full (idle) keys every so many checks, bounding the memory that many
/// distinct keys or addresses take.
const SWEEP_EVERY: u64 = 4096;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        RateLimiter { limiter: governor::RateLimiter::keyed(quota), checks: AtomicU64::new(0) }
    }

    /// Takes a token from `caller`'s bucket, or answers in how many whole seconds one is due.
    pub fn check(&self, caller: &[u8; 16]) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(caller).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Rounded up: a client that waits what Retry-After says finds a token.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

/// Who a request counts against: its bearer key (hashed, the key itself is not kept), else its
/// peer address.
fn caller(req: &ServiceRequest) -> [u8; 16] {
    let mut hash = Sha256::new();
    match req.headers().get(AUTHORIZATION) {
        Some(authorization) => {
            hash.update(b"key:");
            hash.update(authorization.as_bytes());
        }
        None => {
            hash.update(b"peer:");
            hash.update(req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default());
        }
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&hash.finalize()[..16]);
    key
}

/// The middleware: passes a request with a token, answers 429 without one.
pub async fn throttle<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limited = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.rate_limiter.as_ref())
        .map(|limiter| limiter.check(&caller(&req)));
    match limited {
        Some(Err(retry_after)) => {
            let response = ApiError::TooManyRequests { retry_after }.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
        _ => Ok(next.call(req).await?.map_into_left_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_the_next_token_is_due() {
        let one = NonZeroU32::MIN;
        let limiter = RateLimiter::new(RateLimit { per_second: one, burst: NonZeroU32::new(3).unwrap() });
        let (a, b) = ([1u8; 16], [2u8; 16]);
        assert_eq!((0..3).map(|_| limiter.check(&a)).collect::<Vec<_>>(), [Ok(()), Ok(()), Ok(())]);
        assert_eq!(limiter.check(&a), Err(1));
        // Another caller has a bucket of its own.
        assert_eq!(limiter.check(&b), Ok(()));
    }
}
