//! In-memory attempt limiters (per phone, per IP). They live in one server process; behind
//! a load balancer each instance counts on its own, which still bounds guessing.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::domain::throttle::{Limit, Tally};
use crate::error::{ApiError, ApiResult};

/// Tallies beyond this many keys are pruned of expired ones, bounding memory.
const PRUNE_ABOVE: usize = 10_000;

pub struct AttemptLimiter {
    limit: Limit,
    tallies: Mutex<HashMap<String, Tally>>,
}

impl AttemptLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        AttemptLimiter {
            limit: Limit { max, window },
            tallies: Mutex::new(HashMap::new()),
        }
    }

    fn with_tallies<R>(&self, f: impl FnOnce(&mut HashMap<String, Tally>) -> R) -> R {
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut guard = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// 429 with the wait when `key` has used up its attempts.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        self.with_tallies(|t| self.limit.check(t.get(key), now))
            .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
    }

    pub fn record(&self, key: &str, now: DateTime<Utc>) {
        self.with_tallies(|t| {
            let next = self.limit.record(t.get(key).copied(), now);
            t.insert(key.to_string(), next);
            if t.len() > PRUNE_ABOVE {
                t.retain(|_, tally| !self.limit.expired(tally, now));
            }
        })
    }

    pub fn forget(&self, key: &str) {
        self.with_tallies(|t| t.remove(key));
    }
}

/// The limits of the public endpoints.
pub struct Limiters {
    /// Failed logins per phone.
    pub login_phone: AttemptLimiter,
    /// Failed logins per client IP.
    pub login_ip: AttemptLimiter,
    /// Villager registrations per client IP.
    pub register_ip: AttemptLimiter,
    /// Work orders filed without an account, per client IP and per reporter phone.
    pub report_ip: AttemptLimiter,
    pub report_phone: AttemptLimiter,
    /// Wrong 查询码 per work-order code and per client IP: six digits must not be guessable.
    pub query_code_order: AttemptLimiter,
    pub query_code_ip: AttemptLimiter,
}

impl Default for Limiters {
    fn default() -> Self {
        Limiters {
            login_phone: AttemptLimiter::new(5, Duration::minutes(15)),
            login_ip: AttemptLimiter::new(30, Duration::minutes(15)),
            register_ip: AttemptLimiter::new(10, Duration::hours(1)),
            report_ip: AttemptLimiter::new(20, Duration::hours(1)),
            report_phone: AttemptLimiter::new(5, Duration::hours(24)),
            query_code_order: AttemptLimiter::new(10, Duration::hours(1)),
            query_code_ip: AttemptLimiter::new(30, Duration::hours(1)),
        }
    }
}
