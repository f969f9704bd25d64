//! Signed-in users as authorization sees them, kept briefly in memory: every request needs
//! its actor, and loading it from the database each time costs a round trip per request.
//! Changes made through this server (role, org unit, disabling) evict the entry at once;
//! on other servers an entry lives at most `TTL`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::access::Actor;

const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 50_000;

#[derive(Default)]
pub struct ActorCache {
    entries: Mutex<HashMap<String, (Instant, Actor)>>,
}

impl ActorCache {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, (Instant, Actor)>) -> R) -> R {
        f(&mut self.entries.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn get(&self, user_id: &str) -> Option<Actor> {
        self.with(|m| match m.get(user_id) {
            Some((at, actor)) if at.elapsed() < TTL => Some(actor.clone()),
            _ => None,
        })
    }

    pub fn put(&self, actor: Actor) {
        self.with(|m| {
            if m.len() >= MAX_ENTRIES {
                m.retain(|_, (at, _)| at.elapsed() < TTL);
                if m.len() >= MAX_ENTRIES {
                    m.clear();
                }
            }
            m.insert(actor.user_id.clone(), (Instant::now(), actor));
        })
    }

    pub fn evict(&self, user_id: &str) {
        self.with(|m| m.remove(user_id));
    }

    /// After a change that can touch many users (an org unit moved).
    pub fn clear(&self) {
        self.with(HashMap::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_protocol::Role;

    #[test]
    fn put_get_evict() {
        let cache = ActorCache::default();
        let actor = Actor {
            user_id: "u".into(),
            role: Role::Cadre,
            org_unit_id: None,
            org_path: None,
        };
        assert!(cache.get("u").is_none());
        cache.put(actor.clone());
        assert_eq!(cache.get("u"), Some(actor.clone()));
        cache.evict("u");
        assert!(cache.get("u").is_none());
        cache.put(actor);
        cache.clear();
        assert!(cache.get("u").is_none());
    }
}
