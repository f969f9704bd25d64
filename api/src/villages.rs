//! Parsed village boundaries, kept in memory: a check-in needs its village's geometry, and
//! parsing a large polygon for every check-in would waste the CPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use crate::db::models::OrgUnitRow;
use crate::domain::boundary::{parse_boundary, Boundary};
use crate::error::{ApiError, ApiResult};

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
