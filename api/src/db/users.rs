//! Users and the villages cadres are responsible for.

use std::collections::HashMap;

use diesel::prelude::*;

use super::models::UserRow;
use super::schema::{org_units, user_villages, users};
use super::{db_run, DbConn};
use crate::error::ApiResult;

/// Filters of `GET /users`; rows come in id order after `after`.
#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub org_unit_id: Option<String>,
    /// Only users whose org unit lies in this subtree (a path prefix).
    pub within: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

pub fn insert(conn: &mut DbConn, row: &UserRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(users::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// Inserts many users in multi-row statements (bulk loads: demo data, benchmarks).
pub fn insert_many(conn: &mut DbConn, rows: &[UserRow]) -> ApiResult<()> {
    for chunk in rows.chunks(1000) {
        db_run!(conn, |c| diesel::insert_into(users::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// A user with the materialised path of their org unit (for authorization).
pub fn find_with_path(conn: &mut DbConn, id: &str) -> ApiResult<Option<(UserRow, Option<String>)>> {
    Ok(db_run!(conn, |c| users::table
        .left_join(org_units::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), org_units::path.nullable()))
        .first(c)
        .optional())?)
}

/// A user with their org unit's path and their token epoch (what a signed-in request checks).
pub fn find_with_epoch(
    conn: &mut DbConn,
    id: &str,
) -> ApiResult<Option<(UserRow, Option<String>, i32)>> {
    Ok(db_run!(conn, |c| users::table
        .left_join(org_units::table)
        .filter(users::id.eq(id))
        .select((
            UserRow::as_select(),
            org_units::path.nullable(),
            users::token_epoch,
        ))
        .first(c)
        .optional())?)
}

/// The token epoch to start a session in, if the user is still as `seen` when their password
/// was checked (same hash and role, active); `None` when a reset, disable or role change came
/// in between. The no-op update holds the user's row until the caller's transaction ends, so
/// such a change waits for the new session and then revokes it too (PostgreSQL; SQLite has
/// one writer at a time anyway).
pub fn session_epoch(conn: &mut DbConn, seen: &UserRow) -> ApiResult<Option<i32>> {
    Ok(db_run!(conn, |c| {
        let held = diesel::update(
            users::table
                .find(&seen.id)
                .filter(users::password_hash.eq(&seen.password_hash))
                .filter(users::role.eq(&seen.role))
                .filter(users::active.eq(true)),
        )
        .set(users::token_epoch.eq(users::token_epoch))
        .execute(c)?;
        if held == 0 {
            Ok(None)
        } else {
            users::table
                .find(&seen.id)
                .select(users::token_epoch)
                .first(c)
                .map(Some)
        }
    })?)
}

/// Ends the user's access tokens: those of older epochs are refused from now on.
pub fn bump_token_epoch(conn: &mut DbConn, id: &str) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(users::table.find(id))
        .set(users::token_epoch.eq(users::token_epoch + 1))
        .execute(c))?;
    Ok(())
}

pub fn find_by_phone(conn: &mut DbConn, phone: &str) -> ApiResult<Option<UserRow>> {
    Ok(db_run!(conn, |c| users::table
        .filter(users::phone.eq(phone))
        .select(UserRow::as_select())
        .first(c)
        .optional())?)
}

pub fn list(conn: &mut DbConn, filter: &UserFilter) -> ApiResult<Vec<UserRow>> {
    Ok(db_run!(conn, |c| {
        let mut query = users::table
            .left_join(org_units::table)
            .select(UserRow::as_select())
            .order(users::id)
            .limit(filter.limit)
            .into_boxed();
        if let Some(role) = &filter.role {
            query = query.filter(users::role.eq(role));
        }
        if let Some(unit) = &filter.org_unit_id {
            query = query.filter(users::org_unit_id.eq(unit));
        }
        if let Some(prefix) = &filter.within {
            query = query.filter(org_units::path.like(format!("{prefix}%")));
        }
        if let Some(after) = &filter.after {
            query = query.filter(users::id.gt(after));
        }
        query.load(c)
    })?)
}

pub fn update(conn: &mut DbConn, row: &UserRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(users::table.find(&row.id))
        .set(row)
        .execute(c))?;
    Ok(())
}

pub fn any_admin(conn: &mut DbConn) -> ApiResult<bool> {
    Ok(db_run!(conn, |c| diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq("admin"))
    ))
    .get_result::<bool>(c))?)
}

/// The villages of each of `user_ids`, in one query.
pub fn village_ids_of(
    conn: &mut DbConn,
    user_ids: &[String],
) -> ApiResult<HashMap<String, Vec<String>>> {
    let pairs: Vec<(String, String)> = db_run!(conn, |c| user_villages::table
        .filter(user_villages::user_id.eq_any(user_ids))
        .order((user_villages::user_id, user_villages::village_id))
        .select((user_villages::user_id, user_villages::village_id))
        .load(c))?;
    let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
    for (user, village) in pairs {
        by_user.entry(user).or_default().push(village);
    }
    Ok(by_user)
}

/// Replaces the villages a user is responsible for.
pub fn set_villages(conn: &mut DbConn, user_id: &str, village_ids: &[String]) -> ApiResult<()> {
    let rows: Vec<_> = village_ids
        .iter()
        .map(|v| {
            (
                user_villages::user_id.eq(user_id),
                user_villages::village_id.eq(v),
            )
        })
        .collect();
    conn.write(|conn| {
        db_run!(conn, |c| {
            diesel::delete(user_villages::table.filter(user_villages::user_id.eq(user_id)))
                .execute(c)?;
            diesel::insert_into(user_villages::table)
                .values(&rows)
                .execute(c)
        })?;
        Ok(())
    })
}

/// The names of `ids`, in one query.
pub fn names_of(conn: &mut DbConn, ids: &[String]) -> ApiResult<HashMap<String, String>> {
    Ok(db_run!(conn, |c| users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load::<(String, String)>(c))?
    .into_iter()
    .collect())
}
