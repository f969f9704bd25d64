//! Manual values (人工录入, DESIGN §2.6 `metric: "manual"`): what the platform cannot count —
//! the county's assessment share, 招商引资, 重点工作 — entered per cadre, period and indicator
//! code by a supervisor of the cadre's town, with a reason and optional photos, and counted
//! only once a second supervisor signed it off (like adjustments). Entering a value again
//! replaces it and it waits for sign-off once more. A town's values may come as one CSV
//! (`phone,value,reason`), stored all or nothing.
//!
//! Who may act is `domain::access` (the `JudgeScores` reach, as for adjustments; reading is
//! `ReadScores`); what a value may be is `domain::scoring::check_manual_value`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use minqing_protocol::{CadreCategory, ManualValue, ManualValueStatus, NewManualValue, StaffType};
use serde_json::json;

use crate::audit::{self, Audited};
use crate::db::manual_values::{self as store, ManualValueFilter, ManualValueRow};
use crate::db::models::{parse_enum, utc, UserRow};
use crate::db::scoring as scoring_store;
use crate::db::{new_id, users, DbConn};
use crate::domain::access::{authorize_record, reach, Action, Actor};
use crate::domain::people::{default_staff_type, Phone};
use crate::domain::scoring::{
    check_adjustment_approval, check_manual_value, ApprovalRefusal, Period, Scheme,
    MAX_MANUAL_IMPORT_ROWS, MAX_MANUAL_REASON_CHARS, MAX_MANUAL_VALUE, MAX_RECTIFY_PHOTOS,
};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::scoring::{closed_conflict, parse_stored};

/// The most photos one manual value may carry.
pub const MAX_PHOTOS: usize = MAX_RECTIFY_PHOTOS;
/// The longest indicator code (as schemes allow).
const MAX_CODE_CHARS: usize = 50;

/// A stored value as the API shows it.
pub fn wire(row: ManualValueRow) -> ApiResult<ManualValue> {
    let photo_ids: Vec<String> = serde_json::from_str(&row.photo_ids).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("photo ids of manual value {}: {e}", row.id))
    })?;
    Ok(ManualValue {
        status: if row.approved_at.is_some() {
            ManualValueStatus::Approved
        } else {
            ManualValueStatus::Pending
        },
        id: row.id,
        user_id: row.user_id,
        period: row.period,
        code: row.code,
        value: row.value,
        reason: row.reason,
        photo_ids,
        entered_by: row.entered_by,
        entered_at: utc(row.entered_at),
        approved_by: row.approved_by,
        approved_at: row.approved_at.map(utc),
    })
}

/// A reason as a person typed it: trimmed, 1–500 characters, no control characters but line
/// breaks (a CRLF read as one break).
fn reason_of(raw: &str, field: &str, errors: &mut Vec<Invalid>) -> Option<String> {
    let text = raw.replace("\r\n", "\n");
    let text = text.trim();
    let problem = if text.is_empty() {
        Some("must not be empty".to_string())
    } else if text.chars().count() > MAX_MANUAL_REASON_CHARS {
        Some(format!(
            "must be at most {MAX_MANUAL_REASON_CHARS} characters"
        ))
    } else if text.chars().any(|c| c.is_control() && c != '\n') {
        Some("must not hold control characters".to_string())
    } else {
        None
    };
    match problem {
        Some(message) => {
            errors.push(Invalid::new(field, message));
            None
        }
        None => Some(text.to_string()),
    }
}

/// The value's first check, before its indicator is known: finite, 0..=100000.
fn plain_value(value: f64, errors: &mut Vec<Invalid>) -> Option<f64> {
    if !value.is_finite() || !(0.0..=MAX_MANUAL_VALUE).contains(&value) {
        errors.push(Invalid::new("value", "must be a number from 0 to 100000"));
        return None;
    }
    Some(value)
}

fn code_of(raw: &str, errors: &mut Vec<Invalid>) -> Option<String> {
    let code = raw.trim();
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        errors.push(Invalid::new(
            "code",
            "must be the code of a manual indicator (1 to 50 characters)",
        ));
        return None;
    }
    Some(code.to_string())
}

/// The active schemes of each (category, staff type) a cadre may have, for one kind of
/// period: read once per category however many cadres ask.
#[derive(Default)]
struct Schemes(HashMap<CadreCategory, Vec<Scheme>>);

impl Schemes {
    /// The scheme that scores this cadre for the period's kind, if any.
    fn of(
        &mut self,
        conn: &mut DbConn,
        cadre: &Cadre,
        period: Period,
    ) -> ApiResult<Option<&Scheme>> {
        let list = match self.0.entry(cadre.category) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let rows = scoring_store::active_schemes(
                    conn,
                    &crate::db::models::enum_text(&cadre.category),
                    period.kind().as_str(),
                )?;
                e.insert(
                    rows.iter()
                        .map(parse_stored)
                        .collect::<ApiResult<Vec<_>>>()?,
                )
            }
        };
        Ok(list.iter().find(|s| s.scores_staff_type(cadre.staff_type)))
    }
}

/// A scored cadre: their category and staff type.
struct Cadre {
    id: String,
    category: CadreCategory,
    staff_type: StaffType,
}

/// `Some` for an active cadre with a category (only they are scored).
fn scored(user: &UserRow) -> ApiResult<Option<Cadre>> {
    let (true, true, Some(category)) = (
        user.role == "cadre",
        user.active,
        user.cadre_category.as_deref(),
    ) else {
        return Ok(None);
    };
    let category: CadreCategory = parse_enum(category)?;
    let staff_type = match user.staff_type.as_deref() {
        Some(t) => parse_enum(t)?,
        None => default_staff_type(category),
    };
    Ok(Some(Cadre {
        id: user.id.clone(),
        category,
        staff_type,
    }))
}

/// The manual indicator `code` of the scheme that scores this cadre for the period, checked
/// against `value`; each problem is pushed onto `errors` naming `fields` (code, value).
fn indicator_value(
    schemes: &mut Schemes,
    conn: &mut DbConn,
    (cadre, period, code, value): (&Cadre, Period, &str, f64),
    (code_field, value_field): (&str, &str),
    errors: &mut Vec<Invalid>,
) -> ApiResult<Option<f64>> {
    let Some(scheme) = schemes.of(conn, cadre, period)? else {
        errors.push(Invalid::new(
            code_field,
            format!(
                "no active {} scheme scores this cadre",
                period.kind().as_str()
            ),
        ));
        return Ok(None);
    };
    let Some(ind) = scheme.manual_indicator(code) else {
        errors.push(Invalid::new(
            code_field,
            format!(
                "`{code}` is not a manual indicator of the scheme `{}`",
                scheme.name
            ),
        ));
        return Ok(None);
    };
    Ok(check_manual_value(ind, value, value_field)
        .map_err(|e| errors.push(e))
        .ok())
}

/// The indicator of each stored value (by the value's id) in the scheme that scores its cadre
/// for the period: its name, and its rule (a `rate` is a share, shown in percent). A value
/// whose cadre or indicator is no longer scored has none.
pub fn indicators_of(
    conn: &mut DbConn,
    rows: &[ManualValueRow],
) -> ApiResult<HashMap<String, crate::domain::scoring::Indicator>> {
    let mut by_kind: HashMap<&'static str, Schemes> = HashMap::new();
    let mut found = HashMap::new();
    for row in rows {
        let Ok(period) = Period::parse(&row.period) else {
            continue;
        };
        let Some(cadre) = users::find_with_path(conn, &row.user_id)?
            .map(|(user, _)| scored(&user))
            .transpose()?
            .flatten()
        else {
            continue;
        };
        let schemes = by_kind.entry(period.kind().as_str()).or_default();
        if let Some(ind) = schemes
            .of(conn, &cadre, period)?
            .and_then(|s| s.manual_indicator(&row.code))
        {
            found.insert(row.id.clone(), ind.clone());
        }
    }
    Ok(found)
}

/// The cadre a value is about, when the actor may judge their scores (else 404).
fn reachable_user(conn: &mut DbConn, actor: &Actor, user_id: &str) -> ApiResult<UserRow> {
    let (user, path) =
        users::find_with_path(conn, user_id)?.ok_or_else(|| ApiError::not_found("cadre"))?;
    authorize_record(actor, Action::JudgeScores, path.as_deref(), &user.id)?;
    if path.is_none() {
        return Err(ApiError::not_found("cadre"));
    }
    Ok(user)
}

fn ensure_open(conn: &mut DbConn, period: Period) -> ApiResult<()> {
    if scoring_store::closed_at(conn, &period.to_string())?.is_some() {
        return Err(closed_conflict(period));
    }
    Ok(())
}

fn photos_json(ids: &[String]) -> ApiResult<String> {
    serde_json::to_string(ids).map_err(|e| ApiError::Internal(anyhow::anyhow!("photo ids: {e}")))
}

/// `PUT /scoring/manual-values`: enters (or enters again) a cadre's value for a manual
/// indicator; it waits for a second supervisor's sign-off.
pub fn enter(
    conn: &mut DbConn,
    actor: &Actor,
    input: NewManualValue,
    now: DateTime<Utc>,
) -> ApiResult<ManualValueRow> {
    reach(actor, Action::JudgeScores)?;
    let NewManualValue {
        user_id,
        period,
        code,
        value,
        reason,
        photo_ids,
    } = input;
    let mut errors = Vec::new();
    let period = Period::parse(&period).map_err(|e| errors.push(e)).ok();
    let code = code_of(&code, &mut errors);
    let value = plain_value(value, &mut errors);
    let reason = reason_of(&reason, "reason", &mut errors);
    if photo_ids.len() > MAX_PHOTOS {
        errors.push(Invalid::new(
            "photo_ids",
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    let (Some(period), Some(code), Some(value), Some(reason), true) =
        (period, code, value, reason, errors.is_empty())
    else {
        return Err(ApiError::Invalid(errors));
    };
    conn.write(|conn| {
        let user = reachable_user(conn, actor, &user_id)?;
        ensure_open(conn, period)?;
        let Some(cadre) = scored(&user)? else {
            return Err(ApiError::invalid(
                "user_id",
                "is not a scored cadre (only active cadres with a category are)",
            ));
        };
        let mut errors = Vec::new();
        let mut schemes = Schemes::default();
        let checked = indicator_value(
            &mut schemes,
            conn,
            (&cadre, period, &code, value),
            ("code", "value"),
            &mut errors,
        )?;
        // Photos already on the value stay allowed when someone enters it again.
        let existing: Vec<String> = store::list(
            conn,
            &ManualValueFilter {
                period: Some(period.to_string()),
                user_id: Some(cadre.id.clone()),
                limit: 1000,
                ..ManualValueFilter::default()
            },
        )?
        .into_iter()
        .filter(|r| r.code == code)
        .flat_map(|r| serde_json::from_str::<Vec<String>>(&r.photo_ids).unwrap_or_default())
        .collect();
        let photos = match crate::media::own_photos(
            conn,
            actor,
            &photo_ids,
            &existing,
            "photo_ids",
            MAX_PHOTOS,
        ) {
            Ok(photos) => Some(photos),
            Err(ApiError::Invalid(list)) => {
                errors.extend(list);
                None
            }
            Err(e) => return Err(e),
        };
        let (Some(value), Some(photos), true) = (checked, photos, errors.is_empty()) else {
            return Err(ApiError::Invalid(errors));
        };
        let row = store::upsert(
            conn,
            &ManualValueRow {
                id: new_id(),
                user_id: cadre.id,
                period: period.to_string(),
                code,
                value,
                reason,
                photo_ids: photos_json(&photos)?,
                entered_by: actor.user_id.clone(),
                entered_at: now.naive_utc(),
                approved_by: None,
                approved_at: None,
            },
        )?;
        let detail = json!({"user_id": row.user_id, "period": row.period, "code": row.code,
            "value": row.value, "reason": row.reason});
        audit::record(
            conn,
            &actor.user_id,
            Audited::ManualValueEntered,
            Some(&row.id),
            Some(detail),
            now,
        )?;
        Ok(row)
    })
}

/// `POST /scoring/manual-values/{id}/approve`: a second supervisor of the cadre's town (not
/// the one who entered it) signs the value off; from then on it counts.
pub fn approve(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<ManualValueRow> {
    reach(actor, Action::JudgeScores)?;
    conn.write(|conn| {
        let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("manual value"))?;
        reachable_user(conn, actor, &row.user_id)
            .map_err(|_| ApiError::not_found("manual value"))?;
        let period = Period::parse(&row.period).map_err(|_| {
            ApiError::Internal(anyhow::anyhow!(
                "manual value {} has period {:?}",
                row.id,
                row.period
            ))
        })?;
        let closed = scoring_store::closed_at(conn, &row.period)?.is_some();
        let already = || ApiError::Conflict("this value was approved already".into());
        check_adjustment_approval(
            &row.entered_by,
            &actor.user_id,
            row.approved_at.is_some(),
            closed,
        )
        .map_err(|r| match r {
            ApprovalRefusal::SameSupervisor => ApiError::Forbidden(
                "a manual value needs a second supervisor's sign-off: not the one who entered it"
                    .into(),
            ),
            ApprovalRefusal::AlreadyApproved => already(),
            ApprovalRefusal::PeriodClosed => closed_conflict(period),
        })?;
        if !store::approve(conn, &row, &actor.user_id, now.naive_utc())? {
            return Err(ApiError::Conflict(
                "this value was approved or entered again meanwhile; reload it".into(),
            ));
        }
        let detail = json!({"user_id": row.user_id, "period": row.period, "code": row.code,
            "value": row.value});
        audit::record(
            conn,
            &actor.user_id,
            Audited::ManualValueApproved,
            Some(&row.id),
            Some(detail),
            now,
        )?;
        store::find(conn, &row.id)?.ok_or_else(|| ApiError::not_found("manual value"))
    })
}

/// What `GET /scoring/manual-values` asks for.
#[derive(Debug, Default)]
pub struct ListRequest {
    pub period: Option<Period>,
    pub user_id: Option<String>,
    pub status: Option<ManualValueStatus>,
    pub after: Option<String>,
    pub limit: i64,
}

/// The values an actor may read, in id order: a supervisor's subtree, the admin's whole
/// county, a cadre's own.
pub fn list(conn: &mut DbConn, actor: &Actor, q: ListRequest) -> ApiResult<Vec<ManualValueRow>> {
    let Some((within, user_id)) = reach(actor, Action::ReadScores)?.scope_owned(q.user_id) else {
        return Ok(Vec::new());
    };
    store::list(
        conn,
        &ManualValueFilter {
            period: q.period.map(|p| p.to_string()),
            user_id,
            approved: q.status.map(|s| s == ManualValueStatus::Approved),
            within,
            after: q.after,
            limit: q.limit,
        },
    )
}

// ---------------------------------------------------------------------------------------
// CSV import

/// One row of an import as it was read, before the people are looked up.
struct Row {
    index: usize,
    phone: String,
    value: f64,
    reason: String,
}

/// A decimal as people type it in a spreadsheet: digits with an optional fraction, nothing
/// else (no sign, exponent or formula).
fn decimal(cell: &str) -> Option<f64> {
    let (whole, fraction) = cell.split_once('.').unwrap_or((cell, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(whole) && digits(fraction)) || cell.len() > 20 {
        return None;
    }
    cell.parse::<f64>().ok()
}

/// A cell a spreadsheet would run as a formula.
fn formula(cell: &str) -> bool {
    matches!(cell.chars().next(), Some('=' | '+' | '-' | '@'))
}

/// Reads the CSV: UTF-8 (a BOM is dropped), the header `phone,value,reason`, then at most
/// 2000 rows of three cells; rows whose cells are all empty are skipped (but keep their
/// number). Every problem is named `rows[i].phone` / `.value` / `.reason`, `rows[i]` or
/// `body`.
fn read_rows(body: &[u8]) -> Result<Vec<Row>, Vec<Invalid>> {
    let refuse = |field: &str, message: &str| Err(vec![Invalid::new(field, message)]);
    let Ok(text) = std::str::from_utf8(body) else {
        return refuse("body", "must be UTF-8 text");
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(_)) => return refuse("body", "is not readable as CSV"),
        None => return refuse("body", "must hold the header phone,value,reason and rows"),
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    if names != ["phone", "value", "reason"] {
        return refuse(
            "body",
            "the first line must be the header phone,value,reason",
        );
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, record) in records.enumerate() {
        if index >= MAX_MANUAL_IMPORT_ROWS {
            return refuse(
                "rows",
                &format!("at most {MAX_MANUAL_IMPORT_ROWS} rows in one import"),
            );
        }
        let at = |cell: &str| format!("rows[{index}].{cell}");
        let Ok(record) = record else {
            errors.push(Invalid::new(
                format!("rows[{index}]"),
                "is not readable as CSV",
            ));
            continue;
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != 3 {
            errors.push(Invalid::new(
                format!("rows[{index}]"),
                format!(
                    "must have 3 cells (phone,value,reason), not {}",
                    record.len()
                ),
            ));
            continue;
        }
        let (phone, value, reason) = (record[0].trim(), record[1].trim(), &record[2]);
        let phone = match Phone::parse(phone) {
            Ok(p) => {
                let p = p.into_string();
                if let Some(first) = seen.insert(p.clone(), index) {
                    errors.push(Invalid::new(
                        at("phone"),
                        format!("is listed twice (also rows[{first}])"),
                    ));
                }
                Some(p)
            }
            Err(e) => {
                errors.push(Invalid::new(at("phone"), e.message));
                None
            }
        };
        let value = match decimal(value) {
            Some(v) if v <= MAX_MANUAL_VALUE => Some(v),
            _ => {
                errors.push(Invalid::new(
                    at("value"),
                    "must be a number from 0 to 100000, such as 75 or 0.85",
                ));
                None
            }
        };
        let reason = if formula(reason.trim()) {
            errors.push(Invalid::new(
                at("reason"),
                "must not start with =, +, - or @ (a spreadsheet formula)",
            ));
            None
        } else {
            reason_of(reason, &at("reason"), &mut errors)
        };
        if let (Some(phone), Some(value), Some(reason)) = (phone, value, reason) {
            rows.push(Row {
                index,
                phone,
                value,
                reason,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if rows.is_empty() {
        return refuse("rows", "the file holds no rows");
    }
    Ok(rows)
}

/// Whether some active scheme for the period's kind has the manual indicator `code`.
fn any_scheme_has(conn: &mut DbConn, period: Period, code: &str) -> ApiResult<bool> {
    for category in [
        CadreCategory::Leadership,
        CadreCategory::Organ,
        CadreCategory::Village,
    ] {
        let rows = scoring_store::active_schemes(
            conn,
            &crate::db::models::enum_text(&category),
            period.kind().as_str(),
        )?;
        for row in &rows {
            if parse_stored(row)?.manual_indicator(code).is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `POST /scoring/manual-values/import?period=&code=`: a CSV of `phone,value,reason` for
/// cadres within the actor's reach (a supervisor's own town), stored all or nothing: any bad
/// row and nothing is, else every row is entered (replacing what was there) and waits for
/// sign-off. Answers how many rows were stored.
pub fn import(
    conn: &mut DbConn,
    actor: &Actor,
    (period, code): (&str, &str),
    body: &[u8],
    now: DateTime<Utc>,
) -> ApiResult<u32> {
    reach(actor, Action::JudgeScores)?;
    let mut errors = Vec::new();
    let period = Period::parse(period).map_err(|e| errors.push(e)).ok();
    let code = code_of(code, &mut errors);
    let rows = read_rows(body).map_err(|list| errors.extend(list)).ok();
    let (Some(period), Some(code), Some(rows), true) = (period, code, rows, errors.is_empty())
    else {
        return Err(ApiError::Invalid(errors));
    };
    conn.write(|conn| {
        ensure_open(conn, period)?;
        if !any_scheme_has(conn, period, &code)? {
            return Err(ApiError::invalid(
                "code",
                format!(
                    "`{code}` is not a manual indicator of any active {} scheme",
                    period.kind().as_str()
                ),
            ));
        }
        let phones: Vec<String> = rows.iter().map(|r| r.phone.clone()).collect();
        let people: HashMap<String, (UserRow, Option<String>)> =
            store::users_by_phones(conn, &phones)?
                .into_iter()
                .map(|(u, path)| (u.phone.clone(), (u, path)))
                .collect();
        let mut schemes = Schemes::default();
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        for row in &rows {
            let phone_field = format!("rows[{}].phone", row.index);
            let cadre = match people.get(&row.phone) {
                Some((user, path))
                    if path.is_some()
                        && authorize_record(
                            actor,
                            Action::JudgeScores,
                            path.as_deref(),
                            &user.id,
                        )
                        .is_ok() =>
                {
                    scored(user)?
                }
                _ => None,
            };
            let Some(cadre) = cadre else {
                errors.push(Invalid::new(
                    phone_field,
                    "is not the phone of a scored cadre of your town",
                ));
                continue;
            };
            let value_field = format!("rows[{}].value", row.index);
            if let Some(value) = indicator_value(
                &mut schemes,
                conn,
                (&cadre, period, &code, row.value),
                (&phone_field, &value_field),
                &mut errors,
            )? {
                entries.push((cadre.id, value, row.reason.clone()));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let no_photos = photos_json(&[])?;
        for (user_id, value, reason) in entries {
            store::upsert(
                conn,
                &ManualValueRow {
                    id: new_id(),
                    user_id,
                    period: period.to_string(),
                    code: code.clone(),
                    value,
                    reason,
                    photo_ids: no_photos.clone(),
                    entered_by: actor.user_id.clone(),
                    entered_at: now.naive_utc(),
                    approved_by: None,
                    approved_at: None,
                },
            )?;
        }
        let imported = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        audit::record(
            conn,
            &actor.user_id,
            Audited::ManualValuesImported,
            None,
            Some(json!({"period": period.to_string(), "code": code, "rows": imported})),
            now,
        )?;
        Ok(imported)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<String> {
        match read_rows(body.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|i| i.field).collect(),
        }
    }

    #[test]
    fn csv_rows_are_read_with_every_cell_checked() {
        let body = "\u{feff}phone,value,reason\r\n13900000011,75,完成重点工作\r\n\r\n,,\r\n\"139 0000 0012\",0.85,\"两行\r\n理由\"\r\n";
        let rows = read_rows(body.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].index, rows[0].value), (0, 75.0));
        assert_eq!(rows[1].phone, "13900000012");
        assert_eq!((rows[1].index, rows[1].reason.as_str()), (2, "两行\n理由"));
        let bad = "phone,value,reason\n1390000001,75,好\n13900000012,-1,好\n13900000013,1e3,好\n13900000014,=1+1,好\n13900000015,5,=HYPERLINK(\"x\")\n13900000016,5,\n13900000016,5,好\n13900000017,5\n";
        assert_eq!(
            fields(bad),
            [
                "rows[0].phone",
                "rows[1].value",
                "rows[2].value",
                "rows[3].value",
                "rows[4].reason",
                "rows[5].reason",
                "rows[6].phone",
                "rows[7]",
            ]
        );
        assert_eq!(fields("name,value,reason\n13900000011,1,a\n"), ["body"]);
        assert_eq!(fields("phone,value,reason\n"), ["rows"]);
        assert_eq!(fields(""), ["body"]);
        let ctrl = "phone,value,reason\n13900000011,1,a\u{7}b\n";
        assert_eq!(fields(ctrl), ["rows[0].reason"]);
        let long = format!("phone,value,reason\n13900000011,1,{}\n", "长".repeat(501));
        assert_eq!(fields(&long), ["rows[0].reason"]);
        let mut many = String::from("phone,value,reason\n");
        for i in 0..=MAX_MANUAL_IMPORT_ROWS {
            many.push_str(&format!("1390{i:07},1,a\n"));
        }
        assert_eq!(fields(&many), ["rows"]);
        let not_utf8 = read_rows(b"phone,value,reason\n\xff,1,a\n")
            .err()
            .unwrap_or_default();
        assert_eq!(not_utf8.first().map(|e| e.field.as_str()), Some("body"));
    }

    #[test]
    fn decimals_are_plain() {
        assert_eq!(decimal("75"), Some(75.0));
        assert_eq!(decimal("0.85"), Some(0.85));
        for bad in [
            "", ".5", "5.", "-1", "+1", "1e3", "1,5", "NaN", "inf", "７５", "1.2.3",
        ] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
    }
}
