//! What every handler can reach: the pool and the settings (the Rust registry server's `App`).

use std::sync::Arc;

use crate::api_keys::cache::KeyCache;
use crate::config::Settings;
use crate::db::Pool;
use crate::delivery::Wakeup;
use crate::http::rate_limit::RateLimiter;

/// What every handler can reach.
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    /// SHA-256 of `CRM_ADMIN_KEY`, when set.
    pub admin_key_hash: Option<String>,
    /// Wakes this process's delivery worker when deliveries are queued.
    pub deliveries: Arc<Wakeup>,
    /// Buckets of the per-key rate limit, when one is set.
    pub rate_limiter: Option<RateLimiter>,
    /// API keys recently found active.
    pub api_keys: KeyCache,
}
