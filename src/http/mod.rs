//! What speaks HTTP for every resource: routing with `Allow`, JSON body rules, pagination,
//! conditional requests, `Idempotency-Key`, file uploads, and resource URLs.

pub mod conditional;
pub mod download;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod routing;
pub mod upload;
pub mod urls;
