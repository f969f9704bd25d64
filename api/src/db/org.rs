//! Org units: the county/town/village tree, its materialised paths and village boundaries.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use super::models::OrgUnitRow;
use super::schema::{org_units, user_villages, users};
use super::{db_run, substr, DbConn};
use crate::error::ApiResult;

diesel::define_sql_function! {
    /// SQL `lower(text)`: the same on SQLite and PostgreSQL for the ASCII that codes are made of.
    fn lower(text: Nullable<Text>) -> Nullable<Text>;
}

/// Filters of `GET /org-units`; rows come in id order after `after`.
#[derive(Debug, Default)]
pub struct OrgUnitFilter {
    pub parent_id: Option<String>,
    pub kind: Option<String>,
    /// Only units inside this subtree (a path prefix).
    pub within: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

pub fn insert(conn: &mut DbConn, row: &OrgUnitRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(org_units::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<OrgUnitRow>> {
    Ok(db_run!(conn, |c| org_units::table
        .find(id)
        .select(OrgUnitRow::as_select())
        .first(c)
        .optional())?)
}

/// The village with `code`, whatever the case of its letters (the unique index
/// `org_units_code_lower` makes that at most one, and serves this lookup).
pub fn find_village_by_code(conn: &mut DbConn, code: &str) -> ApiResult<Option<OrgUnitRow>> {
    let code = code.to_ascii_lowercase();
    Ok(db_run!(conn, |c| org_units::table
        .filter(lower(org_units::code).eq(&code))
        .filter(org_units::kind.eq("village"))
        .select(OrgUnitRow::as_select())
        .first(c)
        .optional())?)
}

/// The ids of villages that have no code yet.
pub fn villages_without_code(conn: &mut DbConn) -> ApiResult<Vec<String>> {
    Ok(db_run!(conn, |c| org_units::table
        .filter(org_units::kind.eq("village"))
        .filter(org_units::code.is_null())
        .order(org_units::id)
        .select(org_units::id)
        .load(c))?)
}

/// Gives a unit a code unless it got one meanwhile; whether it did.
pub fn set_missing_code(
    conn: &mut DbConn,
    id: &str,
    code: &str,
    now: NaiveDateTime,
) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        org_units::table.find(id).filter(org_units::code.is_null())
    )
    .set((org_units::code.eq(code), org_units::updated_at.eq(now)))
    .execute(c))?;
    Ok(changed == 1)
}

/// (name, phone) of the active cadres responsible for a village.
pub fn cadres_of_village(conn: &mut DbConn, village_id: &str) -> ApiResult<Vec<(String, String)>> {
    Ok(cadres_of_villages(conn, &[village_id.to_string()])?
        .remove(village_id)
        .unwrap_or_default())
}

/// The active cadres (name, phone) responsible for each of `village_ids`, in one query.
pub fn cadres_of_villages(
    conn: &mut DbConn,
    village_ids: &[String],
) -> ApiResult<HashMap<String, Vec<(String, String)>>> {
    let rows: Vec<(String, String, String)> = db_run!(conn, |c| users::table
        .inner_join(user_villages::table)
        .filter(user_villages::village_id.eq_any(village_ids))
        .filter(users::role.eq("cadre"))
        .filter(users::active.eq(true))
        .select((user_villages::village_id, users::name, users::phone))
        .load(c))?;
    let mut by_village: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (village, name, phone) in rows {
        by_village.entry(village).or_default().push((name, phone));
    }
    Ok(by_village)
}

pub fn find_many(conn: &mut DbConn, ids: &[String]) -> ApiResult<Vec<OrgUnitRow>> {
    Ok(db_run!(conn, |c| org_units::table
        .filter(org_units::id.eq_any(ids))
        .order(org_units::id)
        .select(OrgUnitRow::as_select())
        .load(c))?)
}

pub fn list(conn: &mut DbConn, filter: &OrgUnitFilter) -> ApiResult<Vec<OrgUnitRow>> {
    Ok(db_run!(conn, |c| {
        let mut query = org_units::table
            .select(OrgUnitRow::as_select())
            .order(org_units::id)
            .limit(filter.limit)
            .into_boxed();
        if let Some(parent) = &filter.parent_id {
            query = query.filter(org_units::parent_id.eq(parent));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(org_units::kind.eq(kind));
        }
        if let Some(prefix) = &filter.within {
            query = query.filter(org_units::path.like(format!("{prefix}%")));
        }
        if let Some(after) = &filter.after {
            query = query.filter(org_units::id.gt(after));
        }
        query.load(c)
    })?)
}

pub fn update_name_and_code(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    code: Option<&str>,
    now: NaiveDateTime,
) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(org_units::table.find(id))
        .set((
            org_units::name.eq(name),
            org_units::code.eq(code),
            org_units::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// Moves a unit under a new parent: rewrites the path prefix of the whole subtree in one statement.
pub fn move_subtree(
    conn: &mut DbConn,
    id: &str,
    new_parent_id: &str,
    old_path: &str,
    new_path: &str,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let old_len = old_path.chars().count() as i32;
    db_run!(conn, |c| {
        diesel::update(org_units::table.find(id))
            .set(org_units::parent_id.eq(new_parent_id))
            .execute(c)?;
        diesel::update(org_units::table.filter(org_units::path.like(format!("{old_path}%"))))
            .set((
                org_units::path.eq(new_path
                    .into_sql::<Text>()
                    .concat(substr(org_units::path, old_len + 1))),
                org_units::updated_at.eq(now),
            ))
            .execute(c)
    })?;
    Ok(())
}

pub struct BoundaryUpdate<'a> {
    pub json: &'a str,
    /// (min_lon, min_lat, max_lon, max_lat)
    pub bbox: (f64, f64, f64, f64),
    pub now: NaiveDateTime,
}

pub fn set_boundary(conn: &mut DbConn, id: &str, update: &BoundaryUpdate) -> ApiResult<()> {
    let (min_lon, min_lat, max_lon, max_lat) = update.bbox;
    db_run!(conn, |c| diesel::update(org_units::table.find(id))
        .set((
            org_units::boundary.eq(update.json),
            org_units::min_lon.eq(min_lon),
            org_units::min_lat.eq(min_lat),
            org_units::max_lon.eq(max_lon),
            org_units::max_lat.eq(max_lat),
            org_units::updated_at.eq(update.now),
        ))
        .execute(c))?;
    Ok(())
}

/// Sets (or with `None` clears) a town's list of check-in kinds that need a photo.
pub fn set_photo_required_kinds(conn: &mut DbConn, id: &str, kinds: Option<&str>) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(org_units::table.find(id))
        .set(org_units::photo_required_kinds.eq(kinds))
        .execute(c))?;
    Ok(())
}

/// The list of check-in kinds needing a photo of the town on `path` (a village's path runs
/// through its town), if that town has its own; the outer `None` when there is no town.
pub fn town_photo_required_kinds(
    conn: &mut DbConn,
    path: &str,
) -> ApiResult<Option<Option<String>>> {
    let ids: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    Ok(db_run!(conn, |c| org_units::table
        .filter(org_units::id.eq_any(&ids))
        .filter(org_units::kind.eq("town"))
        .select(org_units::photo_required_kinds)
        .first::<Option<String>>(c)
        .optional())?)
}

/// The path of the town a unit at `path` belongs to (the unit itself when it is one), or
/// the unit's own path when it lies above any town (county staff).
pub fn town_path(conn: &mut DbConn, path: &str) -> ApiResult<String> {
    let ids: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let town: Option<String> = db_run!(conn, |c| org_units::table
        .filter(org_units::id.eq_any(&ids))
        .filter(org_units::kind.eq("town"))
        .select(org_units::path)
        .first(c)
        .optional())?;
    Ok(town.unwrap_or_else(|| path.to_string()))
}
