//! Manual values (人工录入, `metric: "manual"`): one row per cadre, period and indicator code,
//! counted once a second supervisor approved it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::UserRow;
use super::schema::{manual_values, org_units, users};
use super::{db_run, DbConn};
use crate::error::ApiResult;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = manual_values)]
pub struct ManualValueRow {
    pub id: String,
    pub user_id: String,
    pub period: String,
    pub code: String,
    pub value: f64,
    pub reason: String,
    /// A JSON array of media ids.
    pub photo_ids: String,
    pub entered_by: String,
    pub entered_at: NaiveDateTime,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
}

/// Enters a value: a new row, or the cadre's value of that period and code replaced (its id
/// kept) with the approval cleared. Answers the stored row.
pub fn upsert(conn: &mut DbConn, row: &ManualValueRow) -> ApiResult<ManualValueRow> {
    use manual_values as m;
    Ok(db_run!(conn, |c| {
        diesel::insert_into(m::table)
            .values(row)
            .on_conflict((m::user_id, m::period, m::code))
            .do_update()
            .set((
                m::value.eq(row.value),
                m::reason.eq(&row.reason),
                m::photo_ids.eq(&row.photo_ids),
                m::entered_by.eq(&row.entered_by),
                m::entered_at.eq(row.entered_at),
                m::approved_by.eq(None::<String>),
                m::approved_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        m::table
            .filter(m::user_id.eq(&row.user_id))
            .filter(m::period.eq(&row.period))
            .filter(m::code.eq(&row.code))
            .select(ManualValueRow::as_select())
            .first(c)
    })?)
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<ManualValueRow>> {
    Ok(db_run!(conn, |c| manual_values::table
        .find(id)
        .select(ManualValueRow::as_select())
        .first(c)
        .optional())?)
}

/// Signs off the value as `entered` shows it; false when someone did already, or when it was
/// entered again meanwhile (that value has not been seen by the approver).
pub fn approve(
    conn: &mut DbConn,
    entered: &ManualValueRow,
    by: &str,
    at: NaiveDateTime,
) -> ApiResult<bool> {
    use manual_values as m;
    let changed = db_run!(conn, |c| diesel::update(
        m::table
            .find(&entered.id)
            .filter(m::approved_by.is_null())
            .filter(m::entered_by.eq(&entered.entered_by))
            .filter(m::entered_at.eq(entered.entered_at))
    )
    .set((m::approved_by.eq(by), m::approved_at.eq(at)))
    .execute(c))?;
    Ok(changed == 1)
}

/// Filters of `GET /scoring/manual-values`; rows come in id order after `after`.
#[derive(Debug, Default)]
pub struct ManualValueFilter {
    pub period: Option<String>,
    pub user_id: Option<String>,
    /// `Some(true)`: approved only; `Some(false)`: waiting only.
    pub approved: Option<bool>,
    /// Only values of cadres whose unit lies in this subtree (a path prefix).
    pub within: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConn, f: &ManualValueFilter) -> ApiResult<Vec<ManualValueRow>> {
    use manual_values as m;
    let within = f.within.as_ref().map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = m::table
            .select(ManualValueRow::as_select())
            .order(m::id)
            .limit(f.limit)
            .into_boxed();
        if let Some(period) = &f.period {
            q = q.filter(m::period.eq(period));
        }
        if let Some(user) = &f.user_id {
            q = q.filter(m::user_id.eq(user));
        }
        match f.approved {
            Some(true) => q = q.filter(m::approved_at.is_not_null()),
            Some(false) => q = q.filter(m::approved_at.is_null()),
            None => {}
        }
        if let Some(prefix) = &within {
            q = q.filter(
                m::user_id.eq_any(
                    users::table
                        .inner_join(org_units::table)
                        .filter(org_units::path.like(prefix))
                        .select(users::id),
                ),
            );
        }
        if let Some(after) = &f.after {
            q = q.filter(m::id.gt(after));
        }
        q.load(c)
    })?)
}

/// The approved values of a period, for everyone: (user, code, value).
pub fn approved_of_period(
    conn: &mut DbConn,
    period: &str,
) -> ApiResult<Vec<(String, String, f64)>> {
    use manual_values as m;
    Ok(db_run!(conn, |c| m::table
        .filter(m::period.eq(period))
        .filter(m::approved_at.is_not_null())
        .select((m::user_id, m::code, m::value))
        .load(c))?)
}

/// The approved value behind one cadre's manual line (its id, or none).
pub fn approved_ids(
    conn: &mut DbConn,
    user_id: &str,
    period: &str,
    code: &str,
) -> ApiResult<Vec<String>> {
    use manual_values as m;
    Ok(db_run!(conn, |c| m::table
        .filter(m::user_id.eq(user_id))
        .filter(m::period.eq(period))
        .filter(m::code.eq(code))
        .filter(m::approved_at.is_not_null())
        .select(m::id)
        .load(c))?)
}

/// The active users with these phones, with their unit's path.
pub fn users_by_phones(
    conn: &mut DbConn,
    phones: &[String],
) -> ApiResult<Vec<(UserRow, Option<String>)>> {
    let mut found = Vec::with_capacity(phones.len());
    // Bound each statement's parameters (SQLite's limit is far above, but stay modest).
    for chunk in phones.chunks(500) {
        found.extend(db_run!(conn, |c| users::table
            .left_join(org_units::table)
            .filter(users::phone.eq_any(chunk))
            .filter(users::active.eq(true))
            .select((UserRow::as_select(), org_units::path.nullable()))
            .load::<(UserRow, Option<String>)>(c))?);
    }
    Ok(found)
}
