//! What every handler can reach: the pool and the settings (the Rust registry server's `App`).

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Pool;

/// What every handler can reach.
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    /// SHA-256 of `CRM_ADMIN_KEY`, when set.
    pub admin_key_hash: Option<String>,
}
