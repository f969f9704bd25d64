//! Server-wide settings kept in the database (e.g. the generated JWT secret).

use diesel::prelude::*;

use super::schema::settings;
use super::{db_run, DbConn};
use crate::error::ApiResult;

/// Stores `value` under `key` unless a value is there already; returns the stored value.
pub fn get_or_insert(conn: &mut DbConn, key: &str, value: &str) -> ApiResult<String> {
    db_run!(conn, |c| {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .on_conflict_do_nothing()
            .execute(c)?;
        Ok(settings::table
            .find(key)
            .select(settings::value)
            .first::<String>(c)?)
    })
}
