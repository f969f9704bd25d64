//! Deadline compliance (the "three rates" and more) by unit, village or assignee.

use actix_web::{get, web};
use chrono::{Duration, NaiveDate, Utc};
use minqing_protocol::{ComplianceRow, Problem};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Authenticated;
use super::State;
use crate::db::compliance::GroupBy;
use crate::error::ApiResult;

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
    #[param(inline)]
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
    let within = crate::compliance::scope(&actor.0)?;
    let q = query.into_inner();
    let (tz, now) = (state.rules.timezone, Utc::now());
    let to = q.to.unwrap_or_else(|| crate::compliance::today(tz, now));
    let from = q.from.unwrap_or(to - Duration::days(29));
    crate::compliance::check_period(from, to)?;
    let group_by = match q.group_by.unwrap_or(Grouping::Unit) {
        Grouping::Unit => GroupBy::Unit,
        Grouping::Village => GroupBy::Village,
        Grouping::Assignee => GroupBy::Assignee,
    };
    let mut filter = crate::compliance::filter(group_by, &within, (from, to), tz, now);
    filter.unit_id = q.unit_id;
    filter.village_id = q.village_id;
    filter.assignee_id = q.assignee_id;
    let grouped = state
        .db
        .run(move |conn| crate::compliance::grouped(conn, &filter))
        .await?;
    Ok(web::Json(grouped.rows))
}
