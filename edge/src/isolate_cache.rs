//! A small time-bounded cache kept in the isolate's memory, for lookups nearly every request
//! repeats (API keys, registered origins, the BIN provider's records). An isolate serves many
//! requests, so most skip D1; every isolate keeps its own copy, so a change reaches all of them
//! within the time to live.

use std::collections::HashMap;

pub struct TtlCache<V> {
    entries: HashMap<String, (i64, V)>,
    ttl_seconds: i64,
    capacity: usize,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl_seconds: i64, capacity: usize) -> Self {
        TtlCache {
            entries: HashMap::new(),
            ttl_seconds,
            capacity,
        }
    }

    /// The value stored for `key` less than the time to live before `now` (Unix seconds).
    pub fn get(&self, key: &str, now: i64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(stored_at, _)| now - stored_at < self.ttl_seconds && now >= *stored_at)
            .map(|(_, value)| value.clone())
    }

    /// Stores `value`; when full, expired entries go first, and everything if none had expired
    /// (a flood of distinct keys must not grow the isolate's memory).
    pub fn insert(&mut self, key: String, value: V, now: i64) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let ttl = self.ttl_seconds;
            self.entries
                .retain(|_, (stored_at, _)| now - *stored_at < ttl && now >= *stored_at);
            if self.entries.len() >= self.capacity {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (now, value));
    }

    /// Drops what is known of `key`, after this isolate changed it.
    pub fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_live_for_their_time_only() {
        let mut cache = TtlCache::new(30, 10);
        cache.insert("k".into(), 1, 100);
        assert_eq!(cache.get("k", 100), Some(1));
        assert_eq!(cache.get("k", 129), Some(1));
        assert_eq!(cache.get("k", 130), None);
        cache.remove("k");
        assert_eq!(
            cache.get("k", 99),
            None,
            "a clock that went back trusts nothing"
        );
        assert_eq!(cache.get("other", 100), None);
    }

    #[test]
    fn a_flood_of_keys_never_grows_it_past_its_capacity() {
        let mut cache = TtlCache::new(30, 3);
        for n in 0..100 {
            cache.insert(format!("k{n}"), n, 100);
            assert!(cache.entries.len() <= 3);
        }
        assert_eq!(cache.get("k99", 100), Some(99));

        let mut full = TtlCache::new(30, 2);
        full.insert("old".into(), 1, 100);
        full.insert("fresh".into(), 2, 125);
        full.insert("new".into(), 3, 140);
        assert_eq!(full.get("old", 140), None, "the expired entry went first");
        assert_eq!(full.get("fresh", 140), Some(2), "a live entry was kept");
        assert_eq!(full.get("new", 140), Some(3));
    }
}
