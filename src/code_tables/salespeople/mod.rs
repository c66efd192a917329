//! `/v1/salespeople`: the salesperson code table (code, name, email, phone).

pub mod handlers;
pub mod model;
pub mod repo;
