//! Villages: their public codes (`/v/{code}`) and public page data, and their parsed
//! boundaries kept in memory — a check-in needs its village's geometry, and parsing a large
//! polygon for every check-in would waste the CPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, Utc};
use minqing_protocol::{Category, OrgUnitKind, PublicCadre, PublicVillage};

use crate::db::categories::{self, CategoryRow};
use crate::db::models::{enum_text, OrgUnitRow};
use crate::db::{org, DbConn};
use crate::domain::boundary::{parse_boundary, Boundary};
use crate::domain::org::generate_village_code;
use crate::error::{ApiError, ApiResult};

/// Generated codes tried before giving up; with 31⁶ (about 887 million) codes, even a
/// second try is rare.
const CODE_ATTEMPTS: usize = 8;

/// Tries generated codes with `store` until one is free (the unique index on the lower-cased
/// code tells), each try in a savepoint of its own so that a collision leaves the caller's
/// transaction usable.
fn with_fresh_code<T>(
    conn: &mut DbConn,
    mut store: impl FnMut(&mut DbConn, &str) -> ApiResult<T>,
) -> ApiResult<T> {
    let mut rng = rand::rng();
    for _ in 0..CODE_ATTEMPTS {
        let code = generate_village_code(&mut rng);
        match conn.write(|conn| store(conn, &code)) {
            Err(ApiError::Conflict(_)) => continue,
            other => return other,
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "no free village code after {CODE_ATTEMPTS} tries"
    )))
}

/// Stores a new org unit; a village given no code gets a generated one, set in `row`.
/// A code that is taken (in any case) answers 409.
pub fn insert_unit(conn: &mut DbConn, row: &mut OrgUnitRow) -> ApiResult<()> {
    if row.code.is_some() || row.kind != enum_text(&OrgUnitKind::Village) {
        return org::insert(conn, row);
    }
    with_fresh_code(conn, |conn, code| {
        row.code = Some(code.to_string());
        org::insert(conn, row)
    })
}

/// Gives every village without a code a generated one (start-up: villages made before codes
/// were generated). Returns how many got one.
pub fn give_villages_codes(conn: &mut DbConn) -> ApiResult<usize> {
    let mut given = 0;
    for id in org::villages_without_code(conn)? {
        let now = Utc::now().naive_utc();
        // Another server starting at the same time may have given it one already.
        if with_fresh_code(conn, |conn, code| {
            org::set_missing_code(conn, &id, code, now)
        })? {
            given += 1;
        }
    }
    Ok(given)
}

/// The village whose code is `code`, compared without regard to the case of its letters
/// (codes are stored as given).
pub fn village_by_code(conn: &mut DbConn, code: &str) -> ApiResult<Option<OrgUnitRow>> {
    org::find_village_by_code(conn, code)
}

/// The active work-order categories, in code order.
fn active_categories(conn: &mut DbConn) -> ApiResult<Vec<Category>> {
    const PAGE: i64 = 500;
    let mut active = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let rows = categories::list(conn, after.as_deref(), PAGE)?;
        let more = rows.len() as i64 == PAGE;
        after = rows.last().map(|c| c.code.clone());
        active.extend(
            rows.into_iter()
                .filter(|c| c.active)
                .map(CategoryRow::to_wire),
        );
        if !more {
            return Ok(active);
        }
    }
}

/// What anyone may read of a village by its code, with no account: its name and town, what
/// can be reported, and whom to call. `None` for an unknown code.
pub fn public_village(conn: &mut DbConn, code: &str) -> ApiResult<Option<PublicVillage>> {
    let Some(village) = village_by_code(conn, code)? else {
        return Ok(None);
    };
    let above: Vec<String> = village
        .path
        .split('/')
        .filter(|id| !id.is_empty() && *id != village.id)
        .map(str::to_string)
        .collect();
    let town = org::find_many(conn, &above)?
        .into_iter()
        .find(|u| u.kind == enum_text(&OrgUnitKind::Town))
        .map(|u| u.name);
    let mut cadres = org::cadres_of_village(conn, &village.id)?;
    // Sorted here, not in SQL: the databases' collations order Chinese names differently.
    cadres.sort();
    Ok(Some(PublicVillage {
        id: village.id,
        code: village.code.unwrap_or_default(),
        name: village.name,
        town,
        categories: active_categories(conn)?,
        cadres: cadres
            .into_iter()
            .map(|(name, phone)| PublicCadre { name, phone })
            .collect(),
    }))
}

/// A village's parsed boundary (none set: `None`) as of the unit's `updated_at`.
type Parsed = (NaiveDateTime, Option<Arc<Boundary>>);

#[derive(Default)]
pub struct BoundaryCache {
    /// Keyed by village id; an entry is used only while the unit's `updated_at` matches,
    /// so a changed boundary (on this or another server) is parsed again.
    parsed: Mutex<HashMap<String, Parsed>>,
}

impl BoundaryCache {
    pub fn boundary_of(&self, village: &OrgUnitRow) -> ApiResult<Option<Arc<Boundary>>> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, boundary)) = parsed.get(&village.id) {
            if *at == village.updated_at {
                return Ok(boundary.clone());
            }
        }
        let boundary = match &village.boundary {
            Some(text) => {
                let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                    ApiError::Internal(anyhow::anyhow!("stored boundary of {}: {e}", village.id))
                })?;
                let boundary = parse_boundary(&value).map_err(|errors| {
                    ApiError::Internal(anyhow::anyhow!(
                        "stored boundary of {} is invalid: {errors:?}",
                        village.id
                    ))
                })?;
                Some(Arc::new(boundary))
            }
            None => None,
        };
        parsed.insert(village.id.clone(), (village.updated_at, boundary.clone()));
        Ok(boundary)
    }
}
