//! One integration-test binary: every test runs over HTTP against the real app, once per backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // not every helper is used by every milestone
mod helpers;
#[allow(dead_code)] // the delivery tests will use all of it
mod smtp;

mod attachments;
mod cli;
mod code_tables;
mod contacts;
mod contract;
mod criteria;
mod criteria_properties;
mod delivery;
mod deployment;
mod disconnects;
mod documents;
mod exports;
mod faults;
mod foundation;
mod idempotency;
mod import;
mod logging;
mod mail;
mod merge;
mod openapi;
mod operations;
mod segments;
mod templates;
