//! In-memory attempt limiters (per phone, per IP) and the password-hashing slots. They live
//! in one server process; behind a load balancer each instance counts on its own, which
//! still bounds guessing.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::password::PasswordSlots;
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

    /// Counts an attempt unless `key` has used up its attempts (429). Checked and counted
    /// under one lock, so concurrent attempts cannot all pass the check before any counts.
    pub fn take(&self, key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        self.with_tallies(|t| {
            self.limit
                .check(t.get(key), now)
                .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
            let next = self.limit.record(t.get(key).copied(), now);
            t.insert(key.to_string(), next);
            if t.len() > PRUNE_ABOVE {
                t.retain(|_, tally| !self.limit.expired(tally, now));
            }
            Ok(())
        })
    }

    /// Uncounts one attempt `take` counted in the current window (it was not a failure).
    pub fn give_back(&self, key: &str, now: DateTime<Utc>) {
        self.with_tallies(|t| {
            if let Some(tally) = t.get_mut(key) {
                if !self.limit.expired(tally, now) {
                    tally.count = tally.count.saturating_sub(1);
                }
            }
        })
    }

    pub fn forget(&self, key: &str) {
        self.with_tallies(|t| t.remove(key));
    }
}

/// The limits of the public endpoints.
pub struct Limiters {
    /// Failed logins per phone and client IP together: the first to bite, so one address
    /// guessing at a phone locks out only itself.
    login_pair: AttemptLimiter,
    /// Failed logins per phone from any address: bounds guessing spread over many addresses,
    /// high enough that one address alone cannot reach it.
    login_phone: AttemptLimiter,
    /// Failed logins per client IP, whatever the phone.
    login_ip: AttemptLimiter,
    /// Every password hash and check a request causes.
    pub passwords: PasswordSlots,
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
            login_pair: AttemptLimiter::new(5, Duration::minutes(15)),
            login_phone: AttemptLimiter::new(20, Duration::minutes(15)),
            login_ip: AttemptLimiter::new(30, Duration::minutes(15)),
            passwords: PasswordSlots::sized_to_cores(),
            register_ip: AttemptLimiter::new(10, Duration::hours(1)),
            report_ip: AttemptLimiter::new(20, Duration::hours(1)),
            report_phone: AttemptLimiter::new(5, Duration::hours(24)),
            query_code_order: AttemptLimiter::new(10, Duration::hours(1)),
            query_code_ip: AttemptLimiter::new(30, Duration::hours(1)),
        }
    }
}

impl Limiters {
    /// Counts a sign-in attempt before its password is checked (429 when a limit is used
    /// up), so that concurrent guesses cannot outrun the count. Call
    /// [`Limiters::login_succeeded`] when the password matches.
    pub fn count_login(&self, phone: &str, ip: &str, now: DateTime<Utc>) -> ApiResult<()> {
        let pair = pair_key(phone, ip);
        self.login_pair.take(&pair, now)?;
        if let Err(e) = self.login_phone.take(phone, now) {
            self.login_pair.give_back(&pair, now);
            return Err(e);
        }
        if let Err(e) = self.login_ip.take(ip, now) {
            self.login_pair.give_back(&pair, now);
            self.login_phone.give_back(phone, now);
            return Err(e);
        }
        Ok(())
    }

    /// A matching password: it was no failure, and this address's failures for this phone
    /// are forgiven. Failures from other addresses still count against the phone.
    pub fn login_succeeded(&self, phone: &str, ip: &str, now: DateTime<Utc>) {
        self.login_pair.forget(&pair_key(phone, ip));
        self.login_phone.give_back(phone, now);
        self.login_ip.give_back(ip, now);
    }

    /// The password was never checked (no hashing slot in time, the database failed): no
    /// guess was made, so a busy server does not lock anybody out.
    pub fn login_not_checked(&self, phone: &str, ip: &str, now: DateTime<Utc>) {
        self.login_pair.give_back(&pair_key(phone, ip), now);
        self.login_phone.give_back(phone, now);
        self.login_ip.give_back(ip, now);
    }
}

fn pair_key(phone: &str, ip: &str) -> String {
    format!("{phone}@{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_per_pair_then_per_phone_then_per_address() {
        let limits = Limiters::default();
        let now = Utc::now();
        for _ in 0..5 {
            limits.count_login("13900000001", "10.0.0.1", now).unwrap();
        }
        assert!(limits.count_login("13900000001", "10.0.0.1", now).is_err());
        // The same phone from elsewhere, and another phone from that address, still try.
        limits.count_login("13900000001", "10.0.0.2", now).unwrap();
        limits.count_login("13900000002", "10.0.0.1", now).unwrap();
        // 20 failures for one phone from any addresses lock that phone everywhere.
        for i in 3..=6 {
            for _ in 0..5 {
                let _ = limits.count_login("13900000001", &format!("10.0.0.{i}"), now);
            }
        }
        let refused = limits.count_login("13900000001", "10.0.0.99", now);
        assert!(matches!(refused, Err(ApiError::TooManyRequests { .. })));
        // A refused attempt counts nowhere: 10.0.0.99 has no failures.
        for i in 0..30 {
            limits
                .count_login(&format!("1370000{i:04}"), "10.0.0.99", now)
                .unwrap();
        }
        assert!(limits.count_login("13799999999", "10.0.0.99", now).is_err());
    }

    #[test]
    fn a_success_is_not_a_failure_and_forgives_its_address() {
        let limits = Limiters::default();
        let now = Utc::now();
        for _ in 0..4 {
            limits.count_login("13900000001", "10.0.0.1", now).unwrap();
        }
        limits.count_login("13900000001", "10.0.0.1", now).unwrap();
        limits.login_succeeded("13900000001", "10.0.0.1", now);
        for _ in 0..5 {
            limits.count_login("13900000001", "10.0.0.1", now).unwrap();
        }
        // Many signed-in colleagues behind one address never reach its limit.
        for i in 0..40 {
            let phone = format!("1370000{i:04}");
            limits.count_login(&phone, "10.0.0.2", now).unwrap();
            limits.login_succeeded(&phone, "10.0.0.2", now);
        }
    }

    #[test]
    fn an_attempt_never_checked_counts_nowhere() {
        let limits = Limiters::default();
        let now = Utc::now();
        for _ in 0..40 {
            limits.count_login("13900000001", "10.0.0.1", now).unwrap();
            limits.login_not_checked("13900000001", "10.0.0.1", now);
        }
    }
}
