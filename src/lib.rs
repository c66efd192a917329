//! crm-segments: contact segmentation and interaction logging over a JSON REST API.

pub mod api_keys;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod health;
pub mod openapi;
pub mod startup;
pub mod telemetry;
