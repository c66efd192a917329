//! What speaks HTTP for every resource: routing with `Allow`, JSON body rules, pagination,
//! conditional requests, `Idempotency-Key`, file uploads, resource URLs, and the middleware
//! every request passes (request id and metrics, CORS, rate limit).

pub mod conditional;
pub mod cors;
pub mod download;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod rate_limit;
pub mod requests;
pub mod routing;
pub mod stream;
pub mod upload;
pub mod urls;
