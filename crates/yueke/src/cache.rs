//! Rendered answers of the read APIs (getSeats, getSchedules), kept per catalogue snapshot:
//! a new catalogue (a `catalog apply`) or the entry's own deadline (a schedule crossing its
//! `stopSellingTime`) makes an entry stale.

use boxoffice_core::catalog::Catalog;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Most entries kept; the cache starts afresh beyond it.
const MAX_ENTRIES: usize = 4096;

struct Entry {
    catalog: Arc<Catalog>,
    until_ms: i64,
    body: Bytes,
}

/// Rendered response bodies by request key.
#[derive(Default)]
pub struct ResponseCache {
    map: Mutex<HashMap<String, Entry>>,
}

impl ResponseCache {
    /// A body rendered from this catalogue snapshot that is still valid at `now_ms`.
    pub fn get(&self, key: &str, catalog: &Arc<Catalog>, now_ms: i64) -> Option<Bytes> {
        let map = self.map.lock();
        let e = map.get(key)?;
        (Arc::ptr_eq(&e.catalog, catalog) && now_ms < e.until_ms).then(|| e.body.clone())
    }

    /// Keeps a body rendered from `catalog`, valid until `until_ms`.
    pub fn put(&self, key: String, catalog: Arc<Catalog>, until_ms: i64, body: Bytes) {
        let mut map = self.map.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                catalog,
                until_ms,
                body,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_the_catalogue_and_their_deadline() {
        let cache = ResponseCache::default();
        let a = Arc::new(Catalog::default());
        let b = Arc::new(Catalog::default());
        cache.put("k".into(), a.clone(), 100, Bytes::from_static(b"x"));
        assert_eq!(cache.get("k", &a, 99).as_deref(), Some(&b"x"[..]));
        assert!(cache.get("k", &a, 100).is_none(), "past its deadline");
        assert!(cache.get("k", &b, 50).is_none(), "another catalogue");
        assert!(cache.get("other", &a, 50).is_none());
    }
}
