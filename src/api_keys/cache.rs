//! Keys recently found active, so that a request with a key already seen does not query the
//! database (a read by id was one round trip for the key and one for the data). Bounded and
//! short-lived: a key revoked through this process is dropped at once; one revoked elsewhere
//! (another replica, the command line) is refused here within the time to live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::ApiScope;

/// Most keys remembered; past it the cache starts over (real deployments have a few keys).
const MAX_KEYS: usize = 1024;

#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    /// Key hash -> (name, scope, when it was found active).
    keys: Mutex<HashMap<String, (String, ApiScope, Instant)>>,
}

impl KeyCache {
    /// A cache whose entries live `ttl`; a zero `ttl` remembers nothing.
    pub fn new(ttl: Duration) -> Self {
        KeyCache { ttl, keys: Mutex::new(HashMap::new()) }
    }

    /// The name and scope of the key with this hash, if it was found active within the TTL.
    pub fn get(&self, hash: &str) -> Option<(String, ApiScope)> {
        let keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.get(hash)
            .filter(|(_, _, at)| at.elapsed() < self.ttl)
            .map(|(name, scope, _)| (name.clone(), *scope))
    }

    /// Remembers a key just found active.
    pub fn put(&self, hash: String, name: String, scope: ApiScope) {
        if self.ttl.is_zero() {
            return;
        }
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if keys.len() >= MAX_KEYS && !keys.contains_key(&hash) {
            keys.retain(|_, (_, _, at)| at.elapsed() < self.ttl);
            if keys.len() >= MAX_KEYS {
                keys.clear();
            }
        }
        keys.insert(hash, (name, scope, Instant::now()));
    }

    /// Forgets every key: after a revocation, whichever key it was.
    pub fn clear(&self) {
        self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_remembered_for_its_ttl_and_forgotten_on_clear() {
        let cache = KeyCache::new(Duration::from_millis(50));
        assert_eq!(cache.get("h"), None);
        cache.put("h".into(), "app".into(), ApiScope::Read);
        assert_eq!(cache.get("h"), Some(("app".into(), ApiScope::Read)));
        cache.clear();
        assert_eq!(cache.get("h"), None);
        cache.put("h".into(), "app".into(), ApiScope::Read);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("h"), None, "expired");
    }

    #[test]
    fn a_zero_ttl_remembers_nothing_and_the_size_is_bounded() {
        let off = KeyCache::new(Duration::ZERO);
        off.put("h".into(), "app".into(), ApiScope::Admin);
        assert_eq!(off.get("h"), None);
        let cache = KeyCache::new(Duration::from_secs(60));
        for i in 0..=MAX_KEYS {
            cache.put(format!("h{i}"), "app".into(), ApiScope::Read);
        }
        let size = cache.keys.lock().unwrap_or_else(|p| p.into_inner()).len();
        assert!(size <= MAX_KEYS, "{size}");
        assert!(cache.get(&format!("h{MAX_KEYS}")).is_some(), "the newest key is kept");
    }
}
