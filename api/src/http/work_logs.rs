//! 工作日志: a cadre's daily written record, read by month and commented (批阅) by leaders.

use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use minqing_protocol::{NewComment, NewWorkLog, Problem, WorkLog, WorkLogComment, WorkLogMonth};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Authenticated, JsonBody};
use super::State;
use crate::error::ApiResult;
use crate::work_logs;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(write_log)
        .service(month_of_logs)
        .service(comment_log);
}

/// Writes the day's log (at least 20 characters), or edits it on its day — until 06:00 the
/// next morning — keeping the earlier version. 201 when new, 200 when edited or resent.
#[utoipa::path(tag = "work-logs", request_body = NewWorkLog, security(("bearer" = [])), responses(
    (status = 201, body = WorkLog), (status = 200, body = WorkLog, description = "edited on its day, or sent again"),
    (status = 403, body = Problem), (status = 409, body = Problem, description = "the log's day is over"),
    (status = 422, body = Problem)))]
#[post("/work-logs")]
async fn write_log(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewWorkLog>,
) -> ApiResult<HttpResponse> {
    let app = state.clone();
    let (log, created) = state
        .db
        .run(move |conn| work_logs::write(conn, &actor.0, &body.0, Utc::now(), &app.rules))
        .await?;
    Ok(if created {
        HttpResponse::Created().json(log)
    } else {
        HttpResponse::Ok().json(log)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MonthQuery {
    /// The cadre (default: the signed-in cadre).
    user_id: Option<String>,
    /// `YYYY-MM` (default: this month).
    #[param(pattern = r"^\d{4}-\d{2}$")]
    month: Option<String>,
}

/// A month of a cadre's logs: every day so far, with its log (comments and earlier versions)
/// or none. The cadre, the town's supervisors and leadership, and the admin read it.
#[utoipa::path(tag = "work-logs", params(MonthQuery), security(("bearer" = [])), responses(
    (status = 200, body = WorkLogMonth), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[get("/work-logs")]
async fn month_of_logs(
    state: State,
    actor: Authenticated,
    query: web::Query<MonthQuery>,
) -> ApiResult<web::Json<WorkLogMonth>> {
    let q = query.into_inner();
    let app = state.clone();
    let month = state
        .db
        .run(move |conn| {
            let now = Utc::now();
            let month = q.month.unwrap_or_else(|| {
                now.with_timezone(&app.rules.timezone)
                    .format("%Y-%m")
                    .to_string()
            });
            work_logs::month(
                conn,
                &actor.0,
                q.user_id.as_deref(),
                &month,
                now,
                &app.rules,
            )
        })
        .await?;
    Ok(web::Json(month))
}

/// A leader's comment on a log (批阅): the town's supervisors and the cadre's leadership.
#[utoipa::path(tag = "work-logs", request_body = NewComment, security(("bearer" = [])), responses(
    (status = 201, body = WorkLogComment), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[post("/work-logs/{id}/comments")]
async fn comment_log(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<NewComment>,
) -> ApiResult<HttpResponse> {
    let comment = state
        .db
        .run(move |conn| work_logs::comment(conn, &actor.0, &id, &body.0.text, Utc::now()))
        .await?;
    Ok(HttpResponse::Created().json(comment))
}
