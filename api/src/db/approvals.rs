//! What waits for a second supervisor's signature (待签批): adjustments, proposed vetoes, asked
//! withdrawals of vetoes and manual values of the cadres under a subtree, in periods still
//! open (a closed period's scores are frozen: nothing there can be signed any more), oldest
//! first.

use diesel::dsl::count_star;
use diesel::prelude::*;

use super::manual_values::ManualValueRow;
use super::schema::{
    manual_values, org_units, scoring_adjustments, scoring_periods, scoring_vetoes, users,
};
use super::scoring::{AdjustmentRow, VetoRow};
use super::{db_run, DbConn};
use crate::error::ApiResult;

/// The ids of the users whose unit lies under the path prefix `$prefix` (`path%`).
macro_rules! users_under {
    ($prefix:expr) => {
        users::table
            .inner_join(org_units::table)
            .filter(org_units::path.like($prefix))
            .select(users::id)
    };
}

/// The periods closed so far.
macro_rules! closed_periods {
    () => {
        scoring_periods::table.select(scoring_periods::period)
    };
}

fn prefix(within: Option<&str>) -> Option<String> {
    within.map(|p| format!("{p}%"))
}

/// Adjustments waiting for their second signature, in the order they were proposed.
pub fn adjustments(
    conn: &mut DbConn,
    within: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<AdjustmentRow>> {
    use scoring_adjustments as a;
    let prefix = prefix(within);
    Ok(db_run!(conn, |c| {
        let mut q = a::table
            .filter(a::approved_by.is_null())
            .filter(a::period.ne_all(closed_periods!()))
            .select(AdjustmentRow::as_select())
            .order(a::id)
            .limit(limit)
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(a::user_id.eq_any(users_under!(p)));
        }
        q.load(c)
    })?)
}

/// Proposed vetoes waiting for their second signature, in the order they were proposed.
pub fn vetoes(conn: &mut DbConn, within: Option<&str>, limit: i64) -> ApiResult<Vec<VetoRow>> {
    use scoring_vetoes as v;
    let prefix = prefix(within);
    Ok(db_run!(conn, |c| {
        let mut q = v::table
            .filter(v::approved_by.is_null())
            .filter(v::period.ne_all(closed_periods!()))
            .select(VetoRow::as_select())
            .order(v::id)
            .limit(limit)
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(v::user_id.eq_any(users_under!(p)));
        }
        q.load(c)
    })?)
}

/// Withdrawals of vetoes asked for and waiting for their second signature, in the order they
/// were asked for.
pub fn withdrawals(conn: &mut DbConn, within: Option<&str>, limit: i64) -> ApiResult<Vec<VetoRow>> {
    use scoring_vetoes as v;
    let prefix = prefix(within);
    Ok(db_run!(conn, |c| {
        let mut q = v::table
            .filter(v::withdrawal_requested_by.is_not_null())
            .filter(v::withdrawn_by.is_null())
            .filter(v::period.ne_all(closed_periods!()))
            .select(VetoRow::as_select())
            .order((v::withdrawal_requested_at, v::id))
            .limit(limit)
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(v::user_id.eq_any(users_under!(p)));
        }
        q.load(c)
    })?)
}

/// Manual values waiting for their sign-off, in the order they were first entered.
pub fn manual_values(
    conn: &mut DbConn,
    within: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<ManualValueRow>> {
    use manual_values as m;
    let prefix = prefix(within);
    Ok(db_run!(conn, |c| {
        let mut q = m::table
            .filter(m::approved_at.is_null())
            .filter(m::period.ne_all(closed_periods!()))
            .select(ManualValueRow::as_select())
            .order(m::id)
            .limit(limit)
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(m::user_id.eq_any(users_under!(p)));
        }
        q.load(c)
    })?)
}

/// How many items of all four kinds wait for a second signature under the subtree.
pub fn count(conn: &mut DbConn, within: Option<&str>) -> ApiResult<i64> {
    use manual_values as m;
    use scoring_adjustments as a;
    use scoring_vetoes as v;
    let prefix = prefix(within);
    let adjustments: i64 = db_run!(conn, |c| {
        let mut q = a::table
            .select(count_star())
            .filter(a::approved_by.is_null())
            .filter(a::period.ne_all(closed_periods!()))
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(a::user_id.eq_any(users_under!(p)));
        }
        q.get_result(c)
    })?;
    // A veto waits either for its approval or, once approved, for its withdrawal's.
    let vetoes: i64 = db_run!(conn, |c| {
        let mut q = v::table
            .select(count_star())
            .filter(
                v::approved_by.is_null().or(v::withdrawal_requested_by
                    .is_not_null()
                    .and(v::withdrawn_by.is_null())),
            )
            .filter(v::period.ne_all(closed_periods!()))
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(v::user_id.eq_any(users_under!(p)));
        }
        q.get_result(c)
    })?;
    let values: i64 = db_run!(conn, |c| {
        let mut q = m::table
            .select(count_star())
            .filter(m::approved_at.is_null())
            .filter(m::period.ne_all(closed_periods!()))
            .into_boxed();
        if let Some(p) = &prefix {
            q = q.filter(m::user_id.eq_any(users_under!(p)));
        }
        q.get_result(c)
    })?;
    Ok(adjustments + vetoes + values)
}
