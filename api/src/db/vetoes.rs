//! 一票否决: the areas (`veto_areas`), and a veto's signatures and lists (`scoring_vetoes`;
//! the rows themselves and what scoring reads are in `db::scoring`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use minqing_protocol::VetoStatus;

use super::schema::{org_units, scoring_vetoes, users, veto_areas};
use super::scoring::VetoRow;
use super::{db_run, DbConn};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = veto_areas)]
pub struct VetoAreaRow {
    pub code: String,
    pub name: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// Every area, in code order (a county has a handful).
pub fn areas(conn: &mut DbConn) -> ApiResult<Vec<VetoAreaRow>> {
    Ok(db_run!(conn, |c| veto_areas::table
        .order(veto_areas::code)
        .select(VetoAreaRow::as_select())
        .load(c))?)
}

pub fn find_area(conn: &mut DbConn, code: &str) -> ApiResult<Option<VetoAreaRow>> {
    Ok(db_run!(conn, |c| veto_areas::table
        .find(code)
        .select(VetoAreaRow::as_select())
        .first(c)
        .optional())?)
}

/// Adds an area; a taken code is a conflict (409).
pub fn insert_area(conn: &mut DbConn, row: &VetoAreaRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(veto_areas::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// Saves an area's name and standing.
pub fn update_area(conn: &mut DbConn, row: &VetoAreaRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(veto_areas::table.find(&row.code))
        .set((
            veto_areas::name.eq(&row.name),
            veto_areas::active.eq(row.active)
        ))
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<VetoRow>> {
    Ok(db_run!(conn, |c| scoring_vetoes::table
        .find(id)
        .select(VetoRow::as_select())
        .first(c)
        .optional())?)
}

/// The second signature; false when someone signed already.
pub fn approve(conn: &mut DbConn, id: &str, by: &str, at: NaiveDateTime) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        scoring_vetoes::table
            .find(id)
            .filter(scoring_vetoes::approved_by.is_null())
    )
    .set((
        scoring_vetoes::approved_by.eq(by),
        scoring_vetoes::approved_at.eq(at),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// Asks to withdraw an approved veto; false when it is not approved or a withdrawal was
/// asked for already.
pub fn request_withdrawal(
    conn: &mut DbConn,
    id: &str,
    reason: &str,
    by: &str,
    at: NaiveDateTime,
) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        scoring_vetoes::table
            .find(id)
            .filter(scoring_vetoes::approved_by.is_not_null())
            .filter(scoring_vetoes::withdrawal_requested_by.is_null())
    )
    .set((
        scoring_vetoes::withdrawal_reason.eq(reason),
        scoring_vetoes::withdrawal_requested_by.eq(by),
        scoring_vetoes::withdrawal_requested_at.eq(at),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// The withdrawal's second signature; false when there is no request or it was approved.
pub fn withdraw(conn: &mut DbConn, id: &str, by: &str, at: NaiveDateTime) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        scoring_vetoes::table
            .find(id)
            .filter(scoring_vetoes::withdrawal_requested_by.is_not_null())
            .filter(scoring_vetoes::withdrawn_by.is_null())
    )
    .set((
        scoring_vetoes::withdrawn_by.eq(by),
        scoring_vetoes::withdrawn_at.eq(at),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// What a list of vetoes is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct VetoFilter {
    pub period: Option<String>,
    /// The cadre's own vetoes only, or one the client named.
    pub user_id: Option<String>,
    /// Cadres under this org path (`None`: everywhere).
    pub within: Option<String>,
    pub status: Option<VetoStatus>,
    pub after: Option<String>,
    pub limit: i64,
}

/// Vetoes in id order (the order they were proposed).
pub fn list(conn: &mut DbConn, f: &VetoFilter) -> ApiResult<Vec<VetoRow>> {
    let within = f.within.as_ref().map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = scoring_vetoes::table
            .select(VetoRow::as_select())
            .order(scoring_vetoes::id)
            .limit(f.limit)
            .into_boxed();
        if let Some(period) = &f.period {
            q = q.filter(scoring_vetoes::period.eq(period));
        }
        if let Some(user) = &f.user_id {
            q = q.filter(scoring_vetoes::user_id.eq(user));
        }
        if let Some(prefix) = &within {
            q = q.filter(
                scoring_vetoes::user_id.eq_any(
                    users::table
                        .inner_join(org_units::table)
                        .filter(org_units::path.like(prefix))
                        .select(users::id),
                ),
            );
        }
        q = match f.status {
            None => q,
            Some(VetoStatus::Pending) => q.filter(scoring_vetoes::approved_by.is_null()),
            Some(VetoStatus::Approved) => q
                .filter(scoring_vetoes::approved_by.is_not_null())
                .filter(scoring_vetoes::withdrawal_requested_by.is_null()),
            Some(VetoStatus::WithdrawalRequested) => q
                .filter(scoring_vetoes::withdrawal_requested_by.is_not_null())
                .filter(scoring_vetoes::withdrawn_by.is_null()),
            Some(VetoStatus::Withdrawn) => q.filter(scoring_vetoes::withdrawn_by.is_not_null()),
        };
        if let Some(after) = &f.after {
            q = q.filter(scoring_vetoes::id.gt(after));
        }
        q.load(c)
    })?)
}
