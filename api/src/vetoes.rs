//! 一票否决 as the API and the pages see it (issue 11): the admin's list of areas, and each
//! veto's four-eyes process — proposed by a supervisor of the cadre's town, counted once
//! another approves it, withdrawn by a request and another's approval. Every step is in the
//! audit log; a closed period's vetoes no longer change (409).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use minqing_protocol::{NewVeto, Veto, VetoArea, VetoItem, VetoStatus};
use serde_json::json;

use crate::audit::{self, Audited};
use crate::db::models::utc;
use crate::db::scoring::{self as scoring_store, VetoRow};
use crate::db::vetoes::{self as store, VetoAreaRow, VetoFilter};
use crate::db::{new_id, users, DbConn};
use crate::domain::access::{authorize_record, Action, Actor};
use crate::domain::labels;
use crate::domain::scoring::Period;
use crate::domain::vetoes::{
    check_approval, check_withdrawal_approval, check_withdrawal_request, parse_area_code, status,
    Signatures, VetoRefusal,
};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::scoring::closed_conflict;

/// Where a stored veto stands.
pub fn status_of(row: &VetoRow) -> VetoStatus {
    status(Signatures {
        approved: row.approved_by.is_some(),
        withdrawal_requested: row.withdrawal_requested_by.is_some(),
        withdrawn: row.withdrawn_by.is_some(),
    })
}

/// Each area's stored name, by code.
pub fn area_names(conn: &mut DbConn) -> ApiResult<HashMap<String, String>> {
    Ok(store::areas(conn)?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect())
}

/// An area's name: the stored one, else the label table's, else the code itself.
pub fn name_of(names: &HashMap<String, String>, code: &str) -> String {
    names
        .get(code)
        .cloned()
        .unwrap_or_else(|| labels::label_or_word("veto_area", code))
}

pub fn wire(row: VetoRow, names: &HashMap<String, String>) -> Veto {
    let status = status_of(&row);
    Veto {
        area_name: name_of(names, &row.area),
        status,
        id: row.id,
        user_id: row.user_id,
        period: row.period,
        area: row.area,
        reason: row.reason,
        created_by: row.created_by,
        created_at: utc(row.created_at),
        approved_by: row.approved_by,
        approved_at: row.approved_at.map(utc),
        withdrawal_reason: row.withdrawal_reason,
        withdrawal_requested_by: row.withdrawal_requested_by,
        withdrawal_requested_at: row.withdrawal_requested_at.map(utc),
        withdrawn_by: row.withdrawn_by,
        withdrawn_at: row.withdrawn_at.map(utc),
    }
}

fn area_wire(row: VetoAreaRow) -> VetoArea {
    VetoArea {
        code: row.code,
        name: row.name,
        active: row.active,
    }
}

/// Every area, in code order.
pub fn areas(conn: &mut DbConn) -> ApiResult<Vec<VetoArea>> {
    Ok(store::areas(conn)?.into_iter().map(area_wire).collect())
}

/// Adds an area (the admin; code and name already checked); a taken code answers 409.
pub fn add_area(
    conn: &mut DbConn,
    actor_id: &str,
    code: String,
    name: String,
    now: NaiveDateTime,
) -> ApiResult<VetoArea> {
    conn.write(|conn| {
        if store::find_area(conn, &code)?.is_some() {
            return Err(ApiError::Conflict(
                "a veto area with this code exists".into(),
            ));
        }
        let row = VetoAreaRow {
            code,
            name,
            active: true,
            created_at: now,
        };
        store::insert_area(conn, &row).map_err(|e| match e {
            ApiError::Conflict(_) => ApiError::Conflict("a veto area with this code exists".into()),
            other => other,
        })?;
        let detail = json!({"name": row.name, "active": row.active});
        audit::record(
            conn,
            actor_id,
            Audited::VetoAreaSaved,
            Some(&row.code),
            Some(detail),
            utc(now),
        )?;
        Ok(area_wire(row))
    })
}

/// Renames an area, or retires it or brings it back (the admin; the name already checked).
pub fn change_area(
    conn: &mut DbConn,
    actor_id: &str,
    code: &str,
    name: Option<String>,
    active: Option<bool>,
    now: NaiveDateTime,
) -> ApiResult<VetoArea> {
    conn.write(|conn| {
        let mut row = store::find_area(conn, code)?
            .ok_or_else(|| ApiError::NotFound("no veto area with that code".into()))?;
        row.name = name.unwrap_or(row.name);
        row.active = active.unwrap_or(row.active);
        store::update_area(conn, &row)?;
        let detail = json!({"name": row.name, "active": row.active});
        audit::record(
            conn,
            actor_id,
            Audited::VetoAreaSaved,
            Some(&row.code),
            Some(detail),
            utc(now),
        )?;
        Ok(area_wire(row))
    })
}

/// A staff member within the actor's reach for judging scores; others answer as missing.
fn judged_staff(conn: &mut DbConn, actor: &Actor, user_id: &str) -> ApiResult<()> {
    let found = users::find_with_path(conn, user_id)?
        .filter(|(u, _)| matches!(u.role.as_str(), "cadre" | "supervisor"));
    let Some((user, path)) = found else {
        return Err(ApiError::not_found("staff member"));
    };
    authorize_record(actor, Action::JudgeScores, path.as_deref(), &user.id)?;
    if path.is_none() {
        return Err(ApiError::not_found("staff member"));
    }
    Ok(())
}

fn closed(conn: &mut DbConn, period: Period) -> ApiResult<bool> {
    Ok(scoring_store::closed_at(conn, &period.to_string())?.is_some())
}

/// The field problem of a reason, if it has one.
fn reason_problem(raw: &str) -> Result<String, Invalid> {
    match crate::http::extract::required_note("reason", raw) {
        Ok(reason) => Ok(reason),
        Err(ApiError::Invalid(mut list)) if !list.is_empty() => Err(list.remove(0)),
        Err(_) => Err(Invalid::new("reason", "is not a reason")),
    }
}

/// Proposes a veto (a supervisor of the cadre's town, or the admin): every field checked at
/// once (the area must be an active one of the list), then the cadre's reach (404) and the
/// period (409 once closed). It waits for a second signature.
pub fn propose(
    conn: &mut DbConn,
    actor: &Actor,
    input: NewVeto,
    now: NaiveDateTime,
) -> ApiResult<Veto> {
    let NewVeto {
        user_id,
        period,
        area,
        reason,
    } = input;
    conn.write(|conn| {
        let period = Period::parse(&period);
        let area = match parse_area_code("area", &area) {
            Ok(code) => match store::find_area(conn, &code)? {
                Some(a) if a.active => Ok(a),
                Some(_) => Err(Invalid::new(
                    "area",
                    format!("the veto area `{code}` is no longer in use"),
                )),
                None => Err(Invalid::new(
                    "area",
                    format!("no veto area `{code}`; GET /scoring/veto-areas lists them"),
                )),
            },
            Err(e) => Err(e),
        };
        let reason = reason_problem(&reason);
        let (period, area, reason) = match (period, area, reason) {
            (Ok(p), Ok(a), Ok(r)) => (p, a, r),
            (p, a, r) => {
                return Err(ApiError::Invalid(
                    [p.err(), a.err(), r.err()].into_iter().flatten().collect(),
                ))
            }
        };
        judged_staff(conn, actor, &user_id)?;
        if closed(conn, period)? {
            return Err(closed_conflict(period));
        }
        let row = VetoRow {
            id: new_id(),
            user_id,
            period: period.to_string(),
            area: area.code.clone(),
            reason,
            created_by: actor.user_id.clone(),
            created_at: now,
            approved_by: None,
            approved_at: None,
            withdrawal_reason: None,
            withdrawal_requested_by: None,
            withdrawal_requested_at: None,
            withdrawn_by: None,
            withdrawn_at: None,
        };
        scoring_store::insert_veto(conn, &row)?;
        let detail = json!({"user_id": row.user_id, "period": row.period, "area": row.area,
            "reason": row.reason});
        audit::record(
            conn,
            &actor.user_id,
            Audited::VetoProposed,
            Some(&row.id),
            Some(detail),
            utc(now),
        )?;
        let names = HashMap::from([(area.code, area.name)]);
        Ok(wire(row, &names))
    })
}

/// A step of a veto's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Approve,
    RequestWithdrawal,
    ApproveWithdrawal,
}

fn refusal(step: Step, refused: VetoRefusal, period: Period) -> ApiError {
    use VetoStatus::*;
    match (refused, step) {
        (VetoRefusal::PeriodClosed, _) => closed_conflict(period),
        (VetoRefusal::SameSupervisor, Step::ApproveWithdrawal) => {
            ApiError::Forbidden("withdrawing a veto needs a second supervisor's sign-off".into())
        }
        (VetoRefusal::SameSupervisor, _) => {
            ApiError::Forbidden("a veto needs a second supervisor's sign-off".into())
        }
        (VetoRefusal::Wrong(Withdrawn), _) => {
            ApiError::Conflict("this veto was withdrawn already".into())
        }
        (VetoRefusal::Wrong(_), Step::Approve) => {
            ApiError::Conflict("this veto was approved already".into())
        }
        (VetoRefusal::Wrong(Pending), Step::RequestWithdrawal) => ApiError::Conflict(
            "this veto is not approved yet: it does not count, there is nothing to withdraw".into(),
        ),
        (VetoRefusal::Wrong(_), Step::RequestWithdrawal) => {
            ApiError::Conflict("a withdrawal of this veto was asked for already".into())
        }
        (VetoRefusal::Wrong(_), Step::ApproveWithdrawal) => {
            ApiError::Conflict("nobody asked to withdraw this veto".into())
        }
    }
}

/// Takes one step of a veto's process (a supervisor of the cadre's town, or the admin): the
/// second signature of a proposal, a request to withdraw an approved veto (with `reason`),
/// or the second signature of that request. A veto out of reach answers as missing (404).
pub fn decide(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    step: Step,
    reason: Option<String>,
    now: NaiveDateTime,
) -> ApiResult<Veto> {
    conn.write(|conn| {
        let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("veto"))?;
        judged_staff(conn, actor, &row.user_id).map_err(|_| ApiError::not_found("veto"))?;
        let period = Period::parse(&row.period).map_err(|e| ApiError::Invalid(vec![e]))?;
        let period_closed = closed(conn, period)?;
        let current = status_of(&row);
        let me = actor.user_id.as_str();
        let checked = match step {
            Step::Approve => check_approval(current, &row.created_by, me, period_closed),
            Step::RequestWithdrawal => check_withdrawal_request(current, period_closed),
            Step::ApproveWithdrawal => check_withdrawal_approval(
                current,
                row.withdrawal_requested_by.as_deref(),
                me,
                period_closed,
            ),
        };
        checked.map_err(|r| refusal(step, r, period))?;
        let reason = reason.unwrap_or_default();
        let (done, what) = match step {
            Step::Approve => (store::approve(conn, id, me, now)?, Audited::VetoApproved),
            Step::RequestWithdrawal => (
                store::request_withdrawal(conn, id, &reason, me, now)?,
                Audited::VetoWithdrawalRequested,
            ),
            Step::ApproveWithdrawal => {
                (store::withdraw(conn, id, me, now)?, Audited::VetoWithdrawn)
            }
        };
        if !done {
            // Someone else took the step between reading and writing.
            let now_at = store::find(conn, id)?
                .map(|r| status_of(&r))
                .unwrap_or(VetoStatus::Withdrawn);
            return Err(refusal(step, VetoRefusal::Wrong(now_at), period));
        }
        let mut detail = json!({"user_id": row.user_id, "period": row.period, "area": row.area});
        if step == Step::RequestWithdrawal {
            detail["reason"] = json!(reason);
        }
        audit::record(conn, me, what, Some(&row.id), Some(detail), utc(now))?;
        let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("veto"))?;
        Ok(wire(row, &area_names(conn)?))
    })
}

/// Checks a withdrawal's reason (1–2000 characters once trimmed).
pub fn withdrawal_reason(raw: &str) -> ApiResult<String> {
    reason_problem(raw).map_err(|e| ApiError::Invalid(vec![e]))
}

/// A page of vetoes as the filter narrows them, with their areas' names.
pub fn list(conn: &mut DbConn, filter: &VetoFilter) -> ApiResult<Vec<Veto>> {
    let rows = store::list(conn, filter)?;
    let names = area_names(conn)?;
    Ok(rows.into_iter().map(|r| wire(r, &names)).collect())
}

/// A cadre's vetoes of a period as their score's breakdown shows them: all but the
/// withdrawn, in the order they were proposed, each with its area's name and status.
pub fn items_of(conn: &mut DbConn, user_id: &str, period: &str) -> ApiResult<Vec<VetoItem>> {
    let rows = scoring_store::vetoes_of_user(conn, user_id, period)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let names = area_names(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|v| {
            let status = status_of(&v);
            (status != VetoStatus::Withdrawn).then(|| VetoItem {
                area_name: name_of(&names, &v.area),
                area: v.area,
                reason: v.reason,
                status,
            })
        })
        .collect())
}
