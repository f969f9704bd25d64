//! Attempt limiters (per phone, per IP) and the password-hashing slots. Tallies live in the
//! database (see `db::attempts`), so servers behind a load balancer share every count.

use chrono::{DateTime, Duration, Utc};

use super::password::PasswordSlots;
use crate::db::{attempts, DbConn};
use crate::domain::throttle::Limit;
use crate::error::{ApiError, ApiResult};

pub struct AttemptLimiter {
    /// The tallies' name in the database; each limiter counts apart.
    name: &'static str,
    limit: Limit,
}

impl AttemptLimiter {
    pub fn new(name: &'static str, max: u32, window: Duration) -> Self {
        AttemptLimiter {
            name,
            limit: Limit { max, window },
        }
    }

    /// 429 with the wait when `key` has used up its attempts.
    pub fn check(&self, conn: &mut DbConn, key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        let tally = attempts::tally(conn, self.name, key)?;
        self.limit
            .check(tally.as_ref(), now)
            .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
    }

    pub fn record(&self, conn: &mut DbConn, key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        attempts::count(conn, self.name, key, self.limit, None, now)?;
        Ok(())
    }

    /// Counts an attempt unless `key` has used up its attempts (429). Checked and counted
    /// in one statement, so concurrent attempts, on any server, cannot all pass the check
    /// before any counts.
    pub fn take(&self, conn: &mut DbConn, key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        if attempts::count(conn, self.name, key, self.limit, Some(self.limit.max), now)? {
            return Ok(());
        }
        self.check(conn, key, now)?;
        // The window ended between the two statements: the next attempt starts a new one.
        Err(ApiError::TooManyRequests {
            retry_after_secs: 1,
        })
    }

    /// Uncounts one attempt `take` counted in the current window (it was not a failure).
    pub fn give_back(&self, conn: &mut DbConn, key: &str, now: DateTime<Utc>) -> ApiResult<()> {
        attempts::uncount(conn, self.name, key, self.limit, now)
    }

    pub fn forget(&self, conn: &mut DbConn, key: &str) -> ApiResult<()> {
        attempts::forget(conn, self.name, key)
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
            login_pair: AttemptLimiter::new("login_pair", 5, Duration::minutes(15)),
            login_phone: AttemptLimiter::new("login_phone", 20, Duration::minutes(15)),
            login_ip: AttemptLimiter::new("login_ip", 30, Duration::minutes(15)),
            passwords: PasswordSlots::sized_to_cores(),
            register_ip: AttemptLimiter::new("register_ip", 10, Duration::hours(1)),
            report_ip: AttemptLimiter::new("report_ip", 20, Duration::hours(1)),
            report_phone: AttemptLimiter::new("report_phone", 5, Duration::hours(24)),
            query_code_order: AttemptLimiter::new("query_code_order", 10, Duration::hours(1)),
            query_code_ip: AttemptLimiter::new("query_code_ip", 30, Duration::hours(1)),
        }
    }
}

impl Limiters {
    /// Counts a sign-in attempt before its password is checked (429 when a limit is used
    /// up), so that concurrent guesses cannot outrun the count. Call
    /// [`Limiters::login_succeeded`] when the password matches.
    pub fn count_login(
        &self,
        conn: &mut DbConn,
        phone: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let pair = pair_key(phone, ip);
        self.login_pair.take(conn, &pair, now)?;
        if let Err(e) = self.login_phone.take(conn, phone, now) {
            self.login_pair.give_back(conn, &pair, now)?;
            return Err(e);
        }
        if let Err(e) = self.login_ip.take(conn, ip, now) {
            self.login_pair.give_back(conn, &pair, now)?;
            self.login_phone.give_back(conn, phone, now)?;
            return Err(e);
        }
        Ok(())
    }

    /// A matching password: it was no failure, and this address's failures for this phone
    /// are forgiven. Failures from other addresses still count against the phone.
    pub fn login_succeeded(
        &self,
        conn: &mut DbConn,
        phone: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        self.login_pair.forget(conn, &pair_key(phone, ip))?;
        self.login_phone.give_back(conn, phone, now)?;
        self.login_ip.give_back(conn, ip, now)
    }

    /// The password was never checked (no hashing slot in time, the database failed): no
    /// guess was made, so a busy server does not lock anybody out.
    pub fn login_not_checked(
        &self,
        conn: &mut DbConn,
        phone: &str,
        ip: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        self.login_pair.give_back(conn, &pair_key(phone, ip), now)?;
        self.login_phone.give_back(conn, phone, now)?;
        self.login_ip.give_back(conn, ip, now)
    }
}

fn pair_key(phone: &str, ip: &str) -> String {
    format!("{phone}@{ip}")
}
