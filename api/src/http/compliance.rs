//! Deadline compliance (the "three rates" and more) by unit, village or assignee.

use actix_web::{get, web};
use chrono::{Duration, NaiveDate, Utc};
use minqing_protocol::{ComplianceRow, Problem};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Authenticated;
use super::State;
use crate::db::compliance::{self, ComplianceFilter, GroupBy};
use crate::domain::access::{reach, Action};
use crate::domain::compliance::rates;
use crate::domain::workdays::start_of_local_day;
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_compliance);
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum Grouping {
    Unit,
    Village,
    Assignee,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ComplianceQuery {
    unit_id: Option<String>,
    village_id: Option<String>,
    assignee_id: Option<String>,
    /// First local date of the period (default: 30 days before `to`).
    from: Option<NaiveDate>,
    /// Last local date of the period, inclusive (default: today).
    to: Option<NaiveDate>,
    /// `unit` (default), `village` or `assignee`.
    group_by: Option<Grouping>,
}

/// The rates of DESIGN §2.4 per group for a period, over the orders of the caller's subtree.
#[utoipa::path(tag = "work orders", params(ComplianceQuery), security(("bearer" = [])), responses(
    (status = 200, body = Vec<ComplianceRow>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/compliance")]
async fn get_compliance(
    state: State,
    actor: Authenticated,
    query: web::Query<ComplianceQuery>,
) -> ApiResult<web::Json<Vec<ComplianceRow>>> {
    let within = reach(&actor.0, Action::ReadCompliance)?
        .subtree()?
        .unwrap_or_else(|| "/".into());
    let q = query.into_inner();
    let tz = state.rules.timezone;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let today_began = start_of_local_day(today, tz).map_or(now.naive_utc(), |t| t.naive_utc());
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(ApiError::invalid("from", "must not be after `to`"));
    }
    if to - from > Duration::days(3 * 366) {
        return Err(ApiError::invalid("from", "a period is at most three years"));
    }
    let group_by = match q.group_by.unwrap_or(Grouping::Unit) {
        Grouping::Unit => GroupBy::Unit,
        Grouping::Village => GroupBy::Village,
        Grouping::Assignee => GroupBy::Assignee,
    };
    let filter = ComplianceFilter {
        group_by,
        within,
        unit_id: q.unit_id,
        village_id: q.village_id,
        assignee_id: q.assignee_id,
        from,
        to,
        now: now.naive_utc(),
        today,
        today_began,
    };
    let groups = state
        .db
        .run(move |conn| compliance::counts(conn, &filter))
        .await?;
    Ok(web::Json(
        groups
            .into_iter()
            .map(|g| {
                let r = rates(&g.counts);
                let key = Some(g.key);
                ComplianceRow {
                    unit_id: key.clone().filter(|_| group_by == GroupBy::Unit),
                    village_id: key.clone().filter(|_| group_by == GroupBy::Village),
                    assignee_id: key.filter(|_| group_by == GroupBy::Assignee),
                    name: g.name,
                    assigned: g.counts.assigned,
                    resolved: g.counts.first_resolved,
                    response_rate: r.response_rate,
                    resolution_rate: r.resolution_rate,
                    on_time_rate: r.on_time_rate,
                    satisfaction_rate: r.satisfaction_rate,
                    avg_satisfaction: r.avg_satisfaction,
                    reopen_rate: r.reopen_rate,
                    overdue_open: g.counts.overdue_open,
                    overdue_resolved: g.counts.overdue_resolved,
                    avg_resolution_hours: r.avg_resolution_hours,
                }
            })
            .collect(),
    ))
}
