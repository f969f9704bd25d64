//! Attempt tallies kept in the database, so that every server counts the same attempts.
//! Each change is one conditional statement, atomic on both backends: on PostgreSQL a
//! concurrent writer waits for the row and re-checks the condition, on SQLite writers queue.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::attempt_tallies as t;
use super::{db_run, DbConn};
use crate::domain::throttle::{Limit, Tally};
use crate::error::ApiResult;

/// The tally of `key` under `limiter`, if any attempt was ever counted.
pub fn tally(conn: &mut DbConn, limiter: &str, key: &str) -> ApiResult<Option<Tally>> {
    let row: Option<(NaiveDateTime, i32)> = db_run!(conn, |c| t::table
        .find((limiter, key))
        .select((t::window_start, t::count))
        .first(c)
        .optional())?;
    Ok(row.map(|(start, count)| Tally {
        window_start: start.and_utc(),
        count: u32::try_from(count).unwrap_or(0),
    }))
}

/// Counts one attempt: `Ok(true)` when counted, `Ok(false)` when `only_below` was given and
/// the key had used up that many attempts in its window (nothing counted then).
pub fn count(
    conn: &mut DbConn,
    limiter: &str,
    key: &str,
    limit: Limit,
    only_below: Option<u32>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let at = now.naive_utc();
    let window_began_after = (now - limit.window).naive_utc();
    let below = only_below.map_or(i32::MAX, |max| i32::try_from(max).unwrap_or(i32::MAX));
    conn.write(|conn| {
        db_run!(conn, |c| {
            diesel::insert_into(t::table)
                .values((
                    t::limiter.eq(limiter),
                    t::key.eq(key),
                    t::window_start.eq(at),
                    t::count.eq(0),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
            let mine = t::table.find((limiter, key));
            let counted = diesel::update(mine)
                .filter(t::window_start.gt(window_began_after))
                .filter(t::count.lt(below))
                .set(t::count.eq(t::count + 1))
                .execute(c)?;
            if counted == 1 {
                return Ok(true);
            }
            // The window ended: this attempt opens a new one.
            let reopened = diesel::update(mine)
                .filter(t::window_start.le(window_began_after))
                .set((t::window_start.eq(at), t::count.eq(1)))
                .execute(c)?;
            Ok(reopened == 1)
        })
    })
}

/// Uncounts one attempt of the current window (it turned out not to be a failure).
pub fn uncount(
    conn: &mut DbConn,
    limiter: &str,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let window_began_after = (now - limit.window).naive_utc();
    conn.write(|conn| {
        db_run!(conn, |c| diesel::update(t::table.find((limiter, key)))
            .filter(t::window_start.gt(window_began_after))
            .filter(t::count.gt(0))
            .set(t::count.eq(t::count - 1))
            .execute(c))?;
        Ok(())
    })
}

pub fn forget(conn: &mut DbConn, limiter: &str, key: &str) -> ApiResult<()> {
    conn.write(|conn| {
        db_run!(conn, |c| diesel::delete(t::table.find((limiter, key)))
            .execute(c))?;
        Ok(())
    })
}

/// Removes the tallies whose window began before `before`; they no longer limit anything.
pub fn prune(conn: &mut DbConn, before: DateTime<Utc>) -> ApiResult<usize> {
    let before = before.naive_utc();
    conn.write(|conn| {
        Ok(db_run!(conn, |c| diesel::delete(
            t::table.filter(t::window_start.lt(before))
        )
        .execute(c))?)
    })
}
