//! Rows as stored, and their conversion to the wire types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::schema::{org_units, refresh_tokens, users};
use crate::error::{ApiError, ApiResult};
use minqing_protocol as wire;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = org_units)]
pub struct OrgUnitRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub code: Option<String>,
    pub path: String,
    pub boundary: Option<String>,
    pub min_lon: Option<f64>,
    pub min_lat: Option<f64>,
    pub max_lon: Option<f64>,
    pub max_lat: Option<f64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A town's check-in kinds that need a photo, a JSON list; NULL follows the server's setting.
    pub photo_required_kinds: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserRow {
    pub id: String,
    pub phone: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub org_unit_id: Option<String>,
    pub cadre_category: Option<String>,
    pub staff_type: Option<String>,
    pub rater_group: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Enums are stored as their wire names (`"night_visit"`, `"supervisor"`).
pub fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub fn parse_enum<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        ApiError::Internal(anyhow::anyhow!("unexpected value {text:?} in the database"))
    })
}

fn parse_opt_enum<T: DeserializeOwned>(text: Option<&str>) -> ApiResult<Option<T>> {
    text.map(parse_enum).transpose()
}

pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

impl OrgUnitRow {
    pub fn kind(&self) -> ApiResult<wire::OrgUnitKind> {
        parse_enum(&self.kind)
    }

    /// The town's own list of kinds that need a photo, if it has one.
    pub fn photo_required_kinds(&self) -> ApiResult<Option<Vec<wire::CheckinKind>>> {
        self.photo_required_kinds
            .as_deref()
            .map(|text| {
                serde_json::from_str(text).map_err(|e| {
                    ApiError::Internal(anyhow::anyhow!(
                        "stored photo_required_kinds of {} is not a list of kinds: {e}",
                        self.id
                    ))
                })
            })
            .transpose()
    }

    pub fn to_wire(&self) -> ApiResult<wire::OrgUnit> {
        let boundary = match &self.boundary {
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!(
                    "stored boundary of {} is not JSON: {e}",
                    self.id
                ))
            })?),
            None => None,
        };
        Ok(wire::OrgUnit {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind()?,
            parent_id: self.parent_id.clone(),
            code: self.code.clone(),
            boundary,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            photo_required_kinds: self.photo_required_kinds()?,
        })
    }
}

impl UserRow {
    pub fn role(&self) -> ApiResult<wire::Role> {
        parse_enum(&self.role)
    }

    pub fn to_wire(&self, village_ids: Vec<String>) -> ApiResult<wire::User> {
        Ok(wire::User {
            id: self.id.clone(),
            name: self.name.clone(),
            phone: self.phone.clone(),
            role: self.role()?,
            org_unit_id: self.org_unit_id.clone(),
            cadre_category: parse_opt_enum(self.cadre_category.as_deref())?,
            staff_type: parse_opt_enum(self.staff_type.as_deref())?,
            rater_group: parse_opt_enum(self.rater_group.as_deref())?,
            active: self.active,
            village_ids,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_protocol::{Role, StaffType};

    #[test]
    fn enums_round_trip_through_text() {
        assert_eq!(enum_text(&StaffType::NonEstablished), "non_established");
        assert_eq!(parse_enum::<Role>("supervisor").unwrap(), Role::Supervisor);
        assert!(parse_enum::<Role>("king").is_err());
    }
}
