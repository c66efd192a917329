//! crm-segments: contact segmentation and interaction logging over a JSON REST API.

pub mod api_keys;
pub mod auth;
pub mod code_tables;
pub mod conditional;
pub mod config;
pub mod contacts;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod json;
pub mod money;
pub mod number_series;
pub mod openapi;
pub mod pagination;
pub mod patch;
pub mod routing;
pub mod segments;
pub mod startup;
pub mod telemetry;
pub mod templates;
pub mod validation;
