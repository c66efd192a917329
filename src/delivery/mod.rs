//! Delivery of logged interactions to their recipients: email over SMTP.

pub mod mail;
