//! Counting attempts in a fixed window, for login-failure and registration limits.

use chrono::{DateTime, Duration, Utc};

/// At most `max` attempts in any `window` that starts at the first counted attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// The attempts counted so far for one key (a phone number, an IP address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub window_start: DateTime<Utc>,
    pub count: u32,
}

impl Limit {
    /// `Err(seconds to wait)` when the key has used up its attempts.
    pub fn check(&self, tally: Option<&Tally>, now: DateTime<Utc>) -> Result<(), u64> {
        match tally {
            Some(t) if t.count >= self.max && now < t.window_start + self.window => {
                let wait = (t.window_start + self.window - now).num_seconds();
                Err(wait.max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    /// The tally after one more attempt at `now`.
    pub fn record(&self, tally: Option<Tally>, now: DateTime<Utc>) -> Tally {
        match tally {
            Some(t) if now < t.window_start + self.window => Tally {
                window_start: t.window_start,
                count: t.count.saturating_add(1),
            },
            _ => Tally {
                window_start: now,
                count: 1,
            },
        }
    }

    /// Whether a tally no longer affects anything and can be forgotten.
    pub fn expired(&self, tally: &Tally, now: DateTime<Utc>) -> bool {
        now >= tally.window_start + self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limit() -> Limit {
        Limit {
            max: 3,
            window: Duration::minutes(15),
        }
    }

    #[test]
    fn blocks_after_max_then_reopens() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let l = limit();
        let mut tally = None;
        for i in 0..3 {
            assert!(l.check(tally.as_ref(), t0 + Duration::seconds(i)).is_ok());
            tally = Some(l.record(tally, t0 + Duration::seconds(i)));
        }
        let wait = l
            .check(tally.as_ref(), t0 + Duration::minutes(5))
            .unwrap_err();
        assert_eq!(wait, 600);
        assert!(l.check(tally.as_ref(), t0 + Duration::minutes(15)).is_ok());
        let fresh = l.record(tally, t0 + Duration::minutes(16));
        assert_eq!(fresh.count, 1);
        assert!(l.expired(&fresh, t0 + Duration::minutes(31)));
    }

    proptest! {
        #[test]
        fn never_more_than_max_attempts_pass_in_one_window(offsets in proptest::collection::vec(0i64..900, 1..40)) {
            let t0 = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z").unwrap().with_timezone(&Utc);
            let mut sorted = offsets.clone();
            sorted.sort();
            let l = limit();
            let mut tally = None;
            let mut passed = 0;
            for s in sorted {
                let now = t0 + Duration::seconds(s);
                if l.check(tally.as_ref(), now).is_ok() {
                    passed += 1;
                    tally = Some(l.record(tally, now));
                }
            }
            prop_assert!(passed <= 3);
        }
    }
}
