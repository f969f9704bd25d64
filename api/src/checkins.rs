//! Check-in review as a service the JSON API and the supervisor's desk share: the same
//! rules decide a flagged check-in whether it comes from `POST /checkins/{id}/review` or
//! from several chosen at once on `/desk/review`.

use chrono::NaiveDateTime;
use minqing_protocol::{CheckinStatus, ReviewDecision};

use crate::db::checkins::{self, CheckinRow, ReviewUpdate};
use crate::db::models::enum_text;
use crate::db::DbConn;
use crate::domain::access::{authorize_checkin, reach, Action, Actor, CheckinFacts, Denial};
use crate::error::{ApiError, ApiResult};

/// Longest review reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A check-in the actor may act on; one outside their reach answers as missing, one they may
/// read but not review (the village's town, or their own) as forbidden.
pub fn find_reachable(
    conn: &mut DbConn,
    actor: &Actor,
    action: Action,
    id: &str,
) -> ApiResult<CheckinRow> {
    let (row, cadre_path) =
        checkins::find_with_cadre_path(conn, id)?.ok_or_else(|| ApiError::not_found("check-in"))?;
    let facts = CheckinFacts {
        village_path: &row.org_path,
        cadre_path: cadre_path.as_deref(),
        owner: &row.user_id,
    };
    match authorize_checkin(actor, action, &facts) {
        Ok(()) => Ok(row),
        Err(Denial::Hidden) => Err(ApiError::not_found("check-in")),
        Err(Denial::Forbidden) => Err(ApiError::Forbidden(
            "a check-in is decided in its cadre's own town, and never by the cadre".into(),
        )),
    }
}

/// Whether the actor may review at all (403 otherwise), and the reason trimmed: 1 to 500
/// characters. Checked before any check-in is looked at.
pub fn review_reason(actor: &Actor, raw: &str) -> ApiResult<String> {
    reach(actor, Action::ReviewCheckins)?;
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::invalid(
            "reason",
            "give a reason of 1 to 500 characters",
        ));
    }
    Ok(reason.to_string())
}

/// Approves or rejects one flagged check-in by a cadre of the actor's subtree (404 outside
/// it, 403 when the actor may only read it, 409 when it is not flagged or was decided meanwhile,
/// or when its night lies in a closed period, whose scores are frozen) and answers the row as decided. `reason`
/// comes from [`review_reason`]. Run it in a write transaction.
pub fn decide(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    decision: ReviewDecision,
    reason: &str,
    now: NaiveDateTime,
) -> ApiResult<CheckinRow> {
    let row = find_reachable(conn, actor, Action::ReviewCheckins, id)?;
    // A decision would change the scores of the check-in's night, which a closed period has
    // frozen.
    if let Some(period) = crate::scoring::closed_period_of_night(conn, row.night_date)? {
        return Err(ApiError::Conflict(format!(
            "this check-in counts toward the night of {}, and {}",
            row.night_date,
            crate::scoring::frozen_words(period)
        )));
    }
    let status = match decision {
        ReviewDecision::Approve => CheckinStatus::Approved,
        ReviewDecision::Reject => CheckinStatus::Rejected,
    };
    let update = ReviewUpdate {
        status: &enum_text(&status),
        reviewed_by: &actor.user_id,
        reviewed_at: now,
        reason,
    };
    if !checkins::review(conn, &row.id, &update)? {
        return Err(ApiError::Conflict(format!(
            "this check-in is {} and waits for no decision",
            row.status
        )));
    }
    checkins::find(conn, &row.id)?.ok_or_else(|| ApiError::not_found("check-in"))
}
