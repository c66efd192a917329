//! Keys recently found active, so that a request with a key already seen does not query the
//! database (a read by id was one round trip for the key and one for the data). Bounded and
//! short-lived: a key revoked through this process is dropped at once; one revoked elsewhere
//! (another replica, the command line) is refused here within the time to live.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Bumped by every `clear`: a lookup that began before a revocation must not put back
    /// what it found (the key may be the one just revoked).
    generation: AtomicU64,
}

impl KeyCache {
    /// A cache whose entries live `ttl`; a zero `ttl` remembers nothing.
    pub fn new(ttl: Duration) -> Self {
        KeyCache { ttl, keys: Mutex::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    /// The name and scope of the key with this hash, if it was found active within the TTL.
    pub fn get(&self, hash: &str) -> Option<(String, ApiScope)> {
        let keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.get(hash)
            .filter(|(_, _, at)| at.elapsed() < self.ttl)
            .map(|(name, scope, _)| (name.clone(), *scope))
    }

    /// The generation to pass to `put` for a lookup that starts now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Remembers a key found active by a lookup that started at `generation`, unless the cache
    /// was cleared since.
    pub fn put(&self, generation: u64, hash: String, name: String, scope: ApiScope) {
        if self.ttl.is_zero() {
            return;
        }
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Checked under the lock that `clear` takes, so a clear cannot slip in between.
        if self.generation() != generation {
            return;
        }
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
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_remembered_for_its_ttl_and_forgotten_on_clear() {
        let cache = KeyCache::new(Duration::from_millis(50));
        assert_eq!(cache.get("h"), None);
        cache.put(cache.generation(), "h".into(), "app".into(), ApiScope::Read);
        assert_eq!(cache.get("h"), Some(("app".into(), ApiScope::Read)));
        cache.clear();
        assert_eq!(cache.get("h"), None);
        cache.put(cache.generation(), "h".into(), "app".into(), ApiScope::Read);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("h"), None, "expired");
    }

    #[test]
    fn a_lookup_that_began_before_a_revocation_does_not_put_its_key_back() {
        let cache = KeyCache::new(Duration::from_secs(60));
        let began = cache.generation();
        cache.clear(); // a revocation commits while the lookup runs
        cache.put(began, "h".into(), "app".into(), ApiScope::Read);
        assert_eq!(cache.get("h"), None);
    }

    #[test]
    fn a_zero_ttl_remembers_nothing_and_the_size_is_bounded() {
        let off = KeyCache::new(Duration::ZERO);
        off.put(off.generation(), "h".into(), "app".into(), ApiScope::Admin);
        assert_eq!(off.get("h"), None);
        let cache = KeyCache::new(Duration::from_secs(60));
        for i in 0..=MAX_KEYS {
            cache.put(cache.generation(), format!("h{i}"), "app".into(), ApiScope::Read);
        }
        let size = cache.keys.lock().unwrap_or_else(|p| p.into_inner()).len();
        assert!(size <= MAX_KEYS, "{size}");
        assert!(cache.get(&format!("h{MAX_KEYS}")).is_some(), "the newest key is kept");
    }
}
