//! Signed-in users as authorization sees them, kept briefly in memory: every request needs
//! its actor, and loading it from the database each time costs a round trip per request.
//! An entry holds the user's token epoch too and answers only a token of that epoch, so a
//! token older than a reset, disable or role change never passes through the cache.
//! Changes made through this server evict the entry at once. Only a server that is alone
//! on its database keeps the cache (SQLite): on PostgreSQL other servers may change a user
//! at any moment, so every request reads the user afresh and a disable, a role change or a
//! reset takes effect on every server at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::access::Actor;

const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 50_000;

struct Entry {
    at: Instant,
    actor: Actor,
    epoch: i32,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    /// Counts evictions, so that an actor loaded before one is not put back after it.
    evictions: u64,
}

#[derive(Default)]
pub struct ActorCache {
    entries: Mutex<Entries>,
    /// Off when other servers may share the database.
    off: bool,
}

/// When an actor is about to be loaded: `put` keeps it only if nothing was evicted since.
#[derive(Debug, Clone, Copy)]
pub struct Loading(u64);

impl ActorCache {
    /// A cache for a server alone on its database, or none (`shared`).
    pub fn new(shared: bool) -> Self {
        ActorCache {
            off: shared,
            ..ActorCache::default()
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Entries) -> R) -> R {
        f(&mut self.entries.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The cached actor of a token of `epoch`; none when absent, stale, or of another epoch.
    pub fn get(&self, user_id: &str, epoch: i32) -> Option<Actor> {
        if self.off {
            return None;
        }
        self.with(|e| match e.map.get(user_id) {
            Some(entry) if entry.at.elapsed() < TTL && entry.epoch == epoch => {
                Some(entry.actor.clone())
            }
            _ => None,
        })
    }

    /// Call before loading an actor from the database, and hand the answer to `put`.
    pub fn loading(&self) -> Loading {
        self.with(|e| Loading(e.evictions))
    }

    /// Caches an actor loaded since `loading`, unless an eviction came in between (the
    /// loaded row may predate the change that caused it).
    pub fn put(&self, actor: Actor, epoch: i32, since: Loading) {
        self.with(|e| {
            if self.off || e.evictions != since.0 {
                return;
            }
            if e.map.len() >= MAX_ENTRIES {
                e.map.retain(|_, entry| entry.at.elapsed() < TTL);
                if e.map.len() >= MAX_ENTRIES {
                    e.map.clear();
                }
            }
            let entry = Entry {
                at: Instant::now(),
                actor,
                epoch,
            };
            e.map.insert(entry.actor.user_id.clone(), entry);
        })
    }

    pub fn evict(&self, user_id: &str) {
        self.with(|e| {
            e.evictions += 1;
            e.map.remove(user_id);
        })
    }

    /// After a change that can touch many users (an org unit moved).
    pub fn clear(&self) {
        self.with(|e| {
            e.evictions += 1;
            e.map.clear();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_protocol::Role;

    fn actor() -> Actor {
        Actor {
            user_id: "u".into(),
            role: Role::Cadre,
            org_unit_id: None,
            org_path: None,
        }
    }

    #[test]
    fn put_get_evict() {
        let cache = ActorCache::new(false);
        assert!(cache.get("u", 0).is_none());
        cache.put(actor(), 0, cache.loading());
        assert_eq!(cache.get("u", 0), Some(actor()));
        cache.evict("u");
        assert!(cache.get("u", 0).is_none());
        cache.put(actor(), 0, cache.loading());
        cache.clear();
        assert!(cache.get("u", 0).is_none());
    }

    #[test]
    fn only_a_token_of_the_cached_epoch_is_answered() {
        let cache = ActorCache::new(false);
        cache.put(actor(), 2, cache.loading());
        assert!(cache.get("u", 1).is_none(), "an older token");
        assert!(
            cache.get("u", 3).is_none(),
            "a newer token: the entry may be stale"
        );
        assert_eq!(cache.get("u", 2), Some(actor()));
    }

    #[test]
    fn an_actor_loaded_before_an_eviction_is_not_cached() {
        let cache = ActorCache::new(false);
        let since = cache.loading();
        cache.evict("u");
        cache.put(actor(), 0, since);
        assert!(cache.get("u", 0).is_none());
    }

    #[test]
    fn a_server_sharing_its_database_keeps_nothing() {
        let cache = ActorCache::new(true);
        cache.put(actor(), 0, cache.loading());
        assert!(cache.get("u", 0).is_none());
    }
}
