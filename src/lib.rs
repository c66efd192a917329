//! crm-segments: contact segmentation and interaction logging over a JSON REST API.

pub mod api_keys;
pub mod auth;
pub mod code_tables;
pub mod config;
pub mod contacts;
pub mod criteria;
pub mod db;
pub mod delivery;
pub mod documents;
pub mod domain;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod http;
pub mod import;
pub mod interaction_log;
pub mod logged_segments;
pub mod logging;
pub mod merge;
pub mod metrics;
pub mod openapi;
pub mod saved_criteria;
pub mod segments;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod templates;
