//! Refresh tokens, stored only as hashes and grouped in families (one family per login).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::RefreshTokenRow;
use super::schema::refresh_tokens;
use super::{db_run, DbConn};
use crate::error::ApiResult;

pub fn insert(conn: &mut DbConn, row: &RefreshTokenRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> ApiResult<Option<RefreshTokenRow>> {
    Ok(db_run!(conn, |c| refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .first(c)
        .optional())?)
}

/// Spends a token; false when it was already spent or revoked (a concurrent refresh lost the race).
pub fn spend(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null())
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(c))?;
    Ok(changed == 1)
}

pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: NaiveDateTime) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null())
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?;
    Ok(())
}

/// Revokes every live refresh token of a user: all their API sessions and page sessions.
pub fn revoke_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null())
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?;
    Ok(())
}
