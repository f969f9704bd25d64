//! Performance scoring (DESIGN §2.5–2.6): schemes, democratic evaluation, adjustments,
//! vetoes, ranked scores with their explanation, closing a period, records, CSV export.

use actix_web::http::header;
use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use minqing_protocol::{
    Adjustment, CadreCategory, NewAdjustment, NewRating, NewVeto, Page, PeriodClosure, Problem,
    Rating, RecordVerification, Rectification, Recusal, ScoreRow, ScoringRecord, ScoringScheme,
    Veto,
};
use minqing_protocol::{RatingTasks, UnitScore};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::MaybeJsonBody;
use super::extract::{required_note, Authenticated, JsonBody};
use super::paging::Paging;
use super::State;
use crate::audit::{self, Audited};
use crate::db::models::{enum_text, utc};
use crate::db::scoring::{self as store, SchemeRow};
use crate::db::{new_id, org, users, DbConn};
use crate::domain::access::{reach, Action, Actor};
use crate::domain::scoring::{
    check_adjustment_points, check_rating, points, Period, RatingRefusal, Scheme,
};
use crate::error::{ApiError, ApiResult};
use crate::export::{self, Cell};
use crate::records;
use crate::scoring::{rater_group_of, scheme_row};
use crate::scoring_views::{self, UnitKind};
use minqing_protocol::ClosePeriodRequest;
use minqing_protocol::{ManualImport, ManualValue, ManualValueStatus, NewManualValue};

use crate::manual_values;
use actix_web::{HttpMessage, HttpRequest};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_schemes)
        .service(create_scheme)
        .service(get_scheme)
        .service(put_scheme)
        .service(put_rating)
        .service(put_recusal)
        .service(list_adjustments)
        .service(create_adjustment)
        .service(approve_adjustment)
        .service(put_manual_value)
        .service(list_manual_values)
        .service(import_manual_values)
        .service(approve_manual_value)
        .service(create_veto)
        .service(list_vetoes)
        .service(approve_veto)
        .service(request_veto_withdrawal)
        .service(approve_veto_withdrawal)
        .service(list_veto_areas)
        .service(create_veto_area)
        .service(patch_veto_area)
        .service(close_period)
        .service(export_scores)
        .service(list_unit_scores)
        .service(list_rating_tasks)
        .service(list_scores)
        .service(get_score)
        .service(list_records)
        .service(rectify_record)
        .service(verify_record);
}

// ---- Schemes ----

fn scheme_wire(row: &SchemeRow) -> ApiResult<ScoringScheme> {
    Ok(ScoringScheme {
        id: row.id.clone(),
        version: row.version,
        active: row.active,
        scheme: serde_json::from_str(&row.body)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored scheme {}: {e}", row.id)))?,
        updated_at: utc(row.updated_at),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Scoring schemes (admin), in id order.
#[utoipa::path(tag = "scoring", params(ListQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<ScoringScheme>), (status = 403, body = Problem)))]
#[get("/scoring/schemes")]
async fn list_schemes(
    state: State,
    actor: Authenticated,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<ScoringScheme>>> {
    reach(&actor.0, Action::ManageScoring)?;
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let (after, limit) = (paging.after.clone(), paging.fetch());
    let rows = state
        .db
        .run(move |conn| store::list_schemes(conn, after.as_deref(), limit))
        .await?;
    let items = rows
        .iter()
        .map(scheme_wire)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(web::Json(paging.page(items, |s| s.id.clone())))
}

/// Adds a scheme (admin), checked field by field; it becomes the active one of its cadre
/// category and period kind.
#[utoipa::path(tag = "scoring", request_body = Object, security(("bearer" = [])), responses(
    (status = 201, body = ScoringScheme), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[post("/scoring/schemes")]
async fn create_scheme(
    state: State,
    actor: Authenticated,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    reach(&actor.0, Action::ManageScoring)?;
    let scheme = Scheme::parse(&body.0).map_err(ApiError::Invalid)?;
    let row = scheme_row(new_id(), 1, &scheme, Utc::now().naive_utc());
    let shown = scheme_wire(&row)?;
    state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                crate::scoring::save_scheme(conn, &row, &scheme)?;
                let detail = json!({"name": row.name, "version": row.version});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::SchemeSaved,
                    Some(&row.id),
                    Some(detail),
                    Utc::now(),
                )
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(shown))
}

#[utoipa::path(tag = "scoring", security(("bearer" = [])), responses(
    (status = 200, body = ScoringScheme), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/scoring/schemes/{id}")]
async fn get_scheme(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<ScoringScheme>> {
    reach(&actor.0, Action::ManageScoring)?;
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| store::find_scheme(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("scheme"))?;
    Ok(web::Json(scheme_wire(&row)?))
}

/// Replaces a scheme (admin) with a new version, which becomes active; periods closed
/// already keep the version they were scored with.
#[utoipa::path(tag = "scoring", request_body = Object, security(("bearer" = [])), responses(
    (status = 200, body = ScoringScheme), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[put("/scoring/schemes/{id}")]
async fn put_scheme(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<web::Json<ScoringScheme>> {
    reach(&actor.0, Action::ManageScoring)?;
    let scheme = Scheme::parse(&body.0).map_err(ApiError::Invalid)?;
    let id = id.into_inner();
    let now = Utc::now().naive_utc();
    let row = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let old =
                    store::find_scheme(conn, &id)?.ok_or_else(|| ApiError::not_found("scheme"))?;
                let mut row = scheme_row(id.clone(), old.version + 1, &scheme, now);
                row.created_at = old.created_at;
                crate::scoring::save_scheme(conn, &row, &scheme)?;
                let detail = json!({"name": row.name, "version": row.version});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::SchemeSaved,
                    Some(&row.id),
                    Some(detail),
                    Utc::now(),
                )?;
                Ok(row)
            })
        })
        .await?;
    Ok(web::Json(scheme_wire(&row)?))
}

// ---- Ratings, recusals, adjustments, vetoes ----

fn parse_period(text: &str) -> ApiResult<Period> {
    Period::parse(text).map_err(|e| ApiError::Invalid(vec![e]))
}

fn period_closed(conn: &mut DbConn, period: Period) -> ApiResult<bool> {
    Ok(store::closed_at(conn, &period.to_string())?.is_some())
}

use crate::scoring::{closed_conflict, staff_within};

/// Checks that an adjustment or veto may be recorded: the cadre is within the supervisor's
/// reach and the period still open.
fn judged(conn: &mut DbConn, actor: &Actor, user_id: &str, period: Period) -> ApiResult<()> {
    staff_within(conn, actor, Action::JudgeScores, user_id)?;
    if period_closed(conn, period)? {
        return Err(closed_conflict(period));
    }
    Ok(())
}

/// A required reason, its problem added to `errors` so that every field is reported at once.
fn reason_of(raw: &str, errors: &mut Vec<crate::domain::Invalid>) -> Option<String> {
    match required_note("reason", raw) {
        Ok(reason) => Some(reason),
        Err(ApiError::Invalid(list)) => {
            errors.extend(list);
            None
        }
        Err(_) => None,
    }
}

/// Refuses (422 `period`) a rating for a period that no active scheme scores the ratee's
/// cadre category by: it would count nowhere. A year scored as the mean of its quarters has
/// no scheme of its own, so its ratings belong to the quarters. A ratee who is not a scored
/// cadre (a supervisor) is not checked.
fn scored_by_a_scheme(conn: &mut DbConn, ratee_id: &str, period: Period) -> ApiResult<()> {
    use crate::domain::scoring::PeriodKind;
    let category = users::find_with_path(conn, ratee_id)?
        .and_then(|(u, _)| u.cadre_category.filter(|_| u.role == "cadre"));
    let Some(category) = category else {
        return Ok(());
    };
    let kind = period.kind();
    if store::active_scheme(conn, &category, kind.as_str())?.is_some() {
        return Ok(());
    }
    let mut message = format!("no scheme scores {category} cadres by {}", kind.as_str());
    if kind == PeriodKind::Year
        && store::active_scheme(conn, &category, PeriodKind::Quarter.as_str())?.is_some()
    {
        message.push_str("; rate them for a quarter");
    }
    Err(ApiError::invalid("period", message))
}

/// Rates a colleague of one's town for a period (民主测评), 0–100; a second rating by the
/// same rater replaces the first until the period closes.
#[utoipa::path(tag = "scoring", request_body = NewRating, security(("bearer" = [])), responses(
    (status = 200, body = Rating), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[put("/scoring/ratings")]
async fn put_rating(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewRating>,
) -> ApiResult<web::Json<Rating>> {
    let actor = actor.0;
    reach(&actor, Action::RateColleagues)?;
    let NewRating {
        period,
        ratee_id,
        score,
    } = body.0;
    let period = parse_period(&period)?;
    let now = Utc::now().naive_utc();
    let rating = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let (rater, rater_path) = users::find_with_path(conn, &actor.user_id)?
                    .ok_or_else(|| ApiError::not_found("user"))?;
                let town = org::town_path(conn, rater_path.as_deref().unwrap_or("/"))?;
                if store::staff_in(conn, &ratee_id, &town)?.is_none() {
                    return Err(ApiError::NotFound(
                        "no colleague of your town with that id".into(),
                    ));
                }
                let recused = store::is_recused(conn, &rater.id, &ratee_id)?;
                let closed = period_closed(conn, period)?;
                check_rating(&rater.id, &ratee_id, score, recused, closed).map_err(
                    |r| match r {
                        RatingRefusal::SelfRating => {
                            ApiError::invalid("ratee_id", "nobody rates themselves")
                        }
                        RatingRefusal::Recused => ApiError::invalid(
                            "ratee_id",
                            "you are recused from rating this colleague (回避)",
                        ),
                        RatingRefusal::OutOfRange => {
                            ApiError::invalid("score", "must be a number from 0 to 100")
                        }
                        RatingRefusal::PeriodClosed => closed_conflict(period),
                    },
                )?;
                scored_by_a_scheme(conn, &ratee_id, period)?;
                let group = rater_group_of(&rater)?;
                let row = store::RatingRow {
                    period: period.to_string(),
                    ratee_id,
                    rater_id: rater.id.clone(),
                    rater_group: enum_text(&group),
                    score,
                    updated_at: now,
                };
                store::save_rating(conn, &row)?;
                Ok(Rating {
                    period: row.period,
                    rater_id: row.rater_id,
                    ratee_id: row.ratee_id,
                    rater_group: group,
                    score,
                    updated_at: utc(now),
                })
            })
        })
        .await?;
    Ok(web::Json(rating))
}

/// Recuses a rater from rating a ratee (回避), e.g. relatives (supervisor).
#[utoipa::path(tag = "scoring", request_body = Recusal, security(("bearer" = [])), responses(
    (status = 200, body = Recusal), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[put("/scoring/recusals")]
async fn put_recusal(
    state: State,
    actor: Authenticated,
    body: JsonBody<Recusal>,
) -> ApiResult<web::Json<Recusal>> {
    let actor = actor.0;
    reach(&actor, Action::JudgeScores)?;
    let Recusal {
        rater_id,
        ratee_id,
        reason,
    } = body.0;
    let reason = required_note("reason", &reason)?;
    if rater_id == ratee_id {
        return Err(ApiError::invalid(
            "ratee_id",
            "nobody rates themselves in the first place",
        ));
    }
    let now = Utc::now().naive_utc();
    let saved = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                staff_within(conn, &actor, Action::JudgeScores, &rater_id)?;
                staff_within(conn, &actor, Action::JudgeScores, &ratee_id)?;
                store::save_recusal(conn, (&rater_id, &ratee_id), &reason, &actor.user_id, now)?;
                let detail = json!({"rater_id": rater_id, "reason": reason});
                audit::record(
                    conn,
                    &actor.user_id,
                    Audited::RecusalRecorded,
                    Some(&ratee_id),
                    Some(detail),
                    utc(now),
                )?;
                Ok(Recusal {
                    rater_id,
                    ratee_id,
                    reason,
                })
            })
        })
        .await?;
    Ok(web::Json(saved))
}

fn adjustment_wire(row: store::AdjustmentRow) -> Adjustment {
    Adjustment {
        id: row.id,
        user_id: row.user_id,
        period: row.period,
        points: points(row.centipoints),
        reason: row.reason,
        created_by: row.created_by,
        created_at: utc(row.created_at),
        approved_by: row.approved_by,
        approved_at: row.approved_at.map(utc),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AdjustmentsQuery {
    period: String,
    /// Only those waiting for a second supervisor's sign-off.
    pending: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The adjustments of a period in the supervisor's subtree, e.g. those waiting for their
/// sign-off (`pending=true`).
#[utoipa::path(tag = "scoring", params(AdjustmentsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<Adjustment>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/scoring/adjustments")]
async fn list_adjustments(
    state: State,
    actor: Authenticated,
    query: web::Query<AdjustmentsQuery>,
) -> ApiResult<web::Json<Page<Adjustment>>> {
    let within = reach(&actor.0, Action::JudgeScores)?.subtree()?;
    let q = query.into_inner();
    let period = parse_period(&q.period)?.to_string();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let (after, limit, pending) = (
        paging.after.clone(),
        paging.fetch(),
        q.pending.unwrap_or(false),
    );
    let rows = state
        .db
        .run(move |conn| {
            store::list_adjustments(
                conn,
                &period,
                within.as_deref(),
                pending,
                after.as_deref(),
                limit,
            )
        })
        .await?;
    Ok(web::Json(paging.page(
        rows.into_iter().map(adjustment_wire).collect(),
        |a| a.id.clone(),
    )))
}

/// Proposes a bonus (加分, positive points) or deduction (扣分, negative) with its reason
/// (supervisor); it counts once another supervisor approves it.
#[utoipa::path(tag = "scoring", request_body = NewAdjustment, security(("bearer" = [])), responses(
    (status = 201, body = Adjustment), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/scoring/adjustments")]
async fn create_adjustment(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewAdjustment>,
) -> ApiResult<HttpResponse> {
    let actor = actor.0;
    reach(&actor, Action::JudgeScores)?;
    let NewAdjustment {
        user_id,
        period,
        points: proposed,
        reason,
    } = body.0;
    let mut errors = Vec::new();
    let period = Period::parse(&period).map_err(|e| errors.push(e)).ok();
    let centipoints = check_adjustment_points(proposed)
        .map_err(|e| errors.push(e))
        .ok();
    let reason = reason_of(&reason, &mut errors);
    let (Some(period), Some(centipoints), Some(reason)) = (period, centipoints, reason) else {
        return Err(ApiError::Invalid(errors));
    };
    let now = Utc::now().naive_utc();
    let row = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                judged(conn, &actor, &user_id, period)?;
                let row = store::AdjustmentRow {
                    id: new_id(),
                    user_id,
                    period: period.to_string(),
                    centipoints,
                    reason,
                    created_by: actor.user_id.clone(),
                    created_at: now,
                    approved_by: None,
                    approved_at: None,
                };
                store::insert_adjustment(conn, &row)?;
                let detail = json!({"user_id": row.user_id, "period": row.period,
                    "points": points(row.centipoints), "reason": row.reason});
                audit::record(
                    conn,
                    &actor.user_id,
                    Audited::AdjustmentProposed,
                    Some(&row.id),
                    Some(detail),
                    utc(now),
                )?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(adjustment_wire(row)))
}

/// Approves an adjustment (逐级把关签名): by a supervisor other than the one who proposed it.
#[utoipa::path(tag = "scoring", security(("bearer" = [])), responses(
    (status = 200, body = Adjustment), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem)))]
#[post("/scoring/adjustments/{id}/approve")]
async fn approve_adjustment(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<Adjustment>> {
    let (actor, id) = (actor.0, id.into_inner());
    let now = Utc::now().naive_utc();
    let row = state
        .db
        .run(move |conn| crate::scoring::approve_adjustment(conn, &actor, &id, now))
        .await?;
    Ok(web::Json(adjustment_wire(row)))
}

/// Proposes a veto (一票否决) in one area of `GET /scoring/veto-areas` for a period
/// (supervisor): it is `pending` and counts once another supervisor of the town approves it
/// (`/scoring/vetoes/{id}/approve`); then the cadre's total stands, but the grade cannot be
/// excellent. An unknown or retired area answers 422 naming `area`.
#[utoipa::path(tag = "scoring", request_body = NewVeto, security(("bearer" = [])), responses(
    (status = 201, body = Veto), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/scoring/vetoes")]
async fn create_veto(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewVeto>,
) -> ApiResult<HttpResponse> {
    let actor = actor.0;
    reach(&actor, Action::JudgeScores)?;
    let input = body.0;
    let now = Utc::now().naive_utc();
    let veto = state
        .db
        .run(move |conn| vetoes::propose(conn, &actor, input, now))
        .await?;
    Ok(HttpResponse::Created().json(veto))
}

// ---- Scores ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ScoresQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    period: String,
    category: CadreCategory,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The rows of a category the actor may see (their subtree), best first.
async fn visible_scores(
    state: &State,
    actor: &Actor,
    period: &str,
    category: CadreCategory,
) -> ApiResult<Vec<ScoreRow>> {
    let within = crate::scoring::scope(actor)?;
    let period = parse_period(period)?;
    let tz = state.rules.timezone;
    let ranked = state
        .db
        .run(move |conn| {
            crate::scoring::visible(conn, within.as_deref(), category, period, tz, Utc::now())
        })
        .await?;
    Ok(ranked.rows)
}

/// A category's ranked scores for a period (supervisor: their subtree; ranks are among all
/// the category's cadres).
#[utoipa::path(tag = "scoring", params(ScoresQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<ScoreRow>), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[get("/scores")]
async fn list_scores(
    state: State,
    actor: Authenticated,
    query: web::Query<ScoresQuery>,
) -> ApiResult<web::Json<Page<ScoreRow>>> {
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let key = |r: &ScoreRow| format!("{:010}|{}", r.rank, r.user_id);
    let rows: Vec<ScoreRow> = visible_scores(&state, &actor.0, &q.period, q.category)
        .await?
        .into_iter()
        .filter(|r| paging.after.as_ref().is_none_or(|after| key(r) > *after))
        .take(usize::try_from(paging.fetch()).unwrap_or(usize::MAX))
        .collect();
    Ok(web::Json(paging.page(rows, key)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    period: String,
    category: CadreCategory,
    /// `csv` (the default).
    format: Option<String>,
}

/// A category's ranked scores as CSV (UTF-8 with a byte-order mark, so that Excel shows
/// Chinese correctly): one row per cadre, one column per indicator's points.
#[utoipa::path(tag = "scoring", params(ExportQuery), security(("bearer" = [])), responses(
    (status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem),
    (status = 404, body = Problem), (status = 422, body = Problem)))]
#[get("/scores/export")]
async fn export_scores(
    state: State,
    actor: Authenticated,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    if q.format.as_deref().is_some_and(|f| f != "csv") {
        return Err(ApiError::invalid("format", "only csv is offered"));
    }
    let rows = visible_scores(&state, &actor.0, &q.period, q.category).await?;
    let indicators: Vec<(String, String)> = rows
        .first()
        .map(|r| {
            r.breakdown
                .iter()
                .map(|l| (l.code.clone(), l.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut header: Vec<String> = [
        "排名 rank",
        "姓名 name",
        "user_id",
        "期间 period",
        "总分 total",
        "民主测评 democratic",
        "加减分 adjustments",
        "一票否决 veto",
        "等次 grade",
        "标记 flags",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(
        indicators
            .iter()
            .map(|(code, name)| format!("{name} {code}")),
    );
    let records: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            let mut record = vec![
                Cell::Number(f64::from(r.rank)),
                r.name.clone().into(),
                r.user_id.clone().into(),
                r.period.clone().into(),
                Cell::Points(r.total),
                Cell::Points(r.democratic),
                Cell::Points(r.adjustments),
                r.veto_areas.join(" ").into(),
                r.grade.clone().into(),
                r.flags.join(" ").into(),
            ];
            record.extend(r.breakdown.iter().map(|l| Cell::Points(l.points)));
            record
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let bytes = export::csv(&header, &records)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"scores-{}-{}.csv\"",
                q.period,
                enum_text(&q.category)
            ),
        ))
        .body(bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ScoreQuery {
    period: String,
}

/// One cadre's explained score: every indicator's value, target, rule and points with the
/// ids of the records it was counted from, the period's adjustments (approved or waiting)
/// and vetoes with their reasons, and the rank in the cadre's town (the cadre themselves,
/// or a supervisor).
#[utoipa::path(tag = "scoring", params(ScoreQuery), security(("bearer" = [])), responses(
    (status = 200, body = ScoreRow), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[get("/scores/{user_id}")]
async fn get_score(
    state: State,
    actor: Authenticated,
    user_id: web::Path<String>,
    query: web::Query<ScoreQuery>,
) -> ApiResult<web::Json<ScoreRow>> {
    let actor = actor.0;
    reach(&actor, Action::ReadScores)?;
    let period = parse_period(&query.period)?;
    let user_id = user_id.into_inner();
    let tz = state.rules.timezone;
    let row = state
        .db
        .run(move |conn| crate::scoring::explained(conn, &actor, &user_id, period, tz, Utc::now()))
        .await?;
    Ok(web::Json(row))
}

/// Closes a period that has ended (admin): freezes every category's scores as they stand
/// and writes the consequences of each scheme — achievement records for the top, problem
/// records (with a date to rectify by) for the bottom, the statement list. While flagged
/// check-ins of the period (county-wide) still await review it is refused (409, saying how
/// many) unless the body says `force` with a `reason`; the audit log keeps that reason and
/// how many were left. The body is optional: none is an ordinary close.
#[utoipa::path(tag = "scoring", request_body = Option<ClosePeriodRequest>, security(("bearer" = [])), responses(
    (status = 200, body = PeriodClosure), (status = 403, body = Problem),
    (status = 409, body = Problem, description = "not over yet, closed already, or flagged check-ins of the period await review"),
    (status = 422, body = Problem)))]
#[post("/scoring/periods/{period}/close")]
async fn close_period(
    state: State,
    actor: Authenticated,
    period: web::Path<String>,
    body: MaybeJsonBody<ClosePeriodRequest>,
) -> ApiResult<web::Json<PeriodClosure>> {
    let actor = actor.0;
    reach(&actor, Action::ManageScoring)?;
    let period = parse_period(&period)?;
    let request = body.0.unwrap_or_default();
    let forced = crate::scoring::force_reason(request.force, request.reason.as_deref())?;
    let tz = state.rules.timezone;
    let now = Utc::now();
    if period.last_day() >= now.with_timezone(&tz).date_naive() {
        return Err(ApiError::Conflict(format!(
            "period {period} has not ended yet"
        )));
    }
    let closure = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                crate::scoring::close_period(
                    conn,
                    &actor.user_id,
                    period,
                    forced.as_deref(),
                    tz,
                    now,
                )
            })
        })
        .await?;
    Ok(web::Json(closure))
}

// ---- Records ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    user_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Achievement (实绩档案) and problem-trace (问题痕迹档案) records with their 销号 status and
/// history: a cadre's own, or those of a supervisor's subtree.
#[utoipa::path(tag = "scoring", params(RecordsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<ScoringRecord>), (status = 403, body = Problem)))]
#[get("/records")]
async fn list_records(
    state: State,
    actor: Authenticated,
    query: web::Query<RecordsQuery>,
) -> ApiResult<web::Json<Page<ScoringRecord>>> {
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let Some((within, user)) = reach(&actor.0, Action::ReadScores)?.scope_owned(q.user_id) else {
        return Ok(web::Json(
            paging.page(Vec::new(), |r: &ScoringRecord| r.id.clone()),
        ));
    };
    let (after, limit) = (paging.after.clone(), paging.fetch());
    let today = Utc::now().with_timezone(&state.rules.timezone).date_naive();
    let records = state
        .db
        .run(move |conn| {
            let rows = store::list_records(
                conn,
                user.as_deref(),
                within.as_deref(),
                after.as_deref(),
                limit,
            )?;
            records::wire_all(conn, rows, today)
        })
        .await?;
    Ok(web::Json(paging.page(records, |r| r.id.clone())))
}

/// Answers one record after a step, as `GET /records` shows it.
async fn record_answer(
    state: &State,
    step: impl FnOnce(&mut DbConn, DateTime<Utc>, NaiveDate) -> ApiResult<store::RecordRow>
        + Send
        + 'static,
) -> ApiResult<web::Json<ScoringRecord>> {
    let now = Utc::now();
    let today = now.with_timezone(&state.rules.timezone).date_naive();
    let mut shown = state
        .db
        .run(move |conn| {
            let row = step(conn, now, today)?;
            records::wire_all(conn, vec![row], today)
        })
        .await?;
    shown
        .pop()
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("record"))
}

/// Submits rectification evidence for one's own problem record (the cadre), on or before
/// its `rectify_by` local date: the record waits for a supervisor's verification
/// (`pending_verification`); it is not cleared yet. Late → 409 (the record has expired).
#[utoipa::path(tag = "scoring", request_body = Rectification, security(("bearer" = [])), responses(
    (status = 200, body = ScoringRecord), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/records/{id}/rectify")]
async fn rectify_record(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<Rectification>,
) -> ApiResult<web::Json<ScoringRecord>> {
    let actor = actor.0;
    reach(&actor, Action::RectifyRecords)?;
    let id = id.into_inner();
    let Rectification {
        evidence,
        photo_ids,
    } = body.0;
    record_answer(&state, move |conn, now, today| {
        records::rectify(conn, &actor, &id, (&evidence, &photo_ids), now, today)
    })
    .await
}

/// Verifies the rectification waiting on a problem record (销号; a supervisor whose subtree
/// holds the record's owner, never the owner): `approve` clears it (`cleared_at`); otherwise
/// it goes back to the cadre with the `note` (required then), to submit again by the date.
#[utoipa::path(tag = "scoring", request_body = RecordVerification, security(("bearer" = [])), responses(
    (status = 200, body = ScoringRecord), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/records/{id}/verify")]
async fn verify_record(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<RecordVerification>,
) -> ApiResult<web::Json<ScoringRecord>> {
    let actor = actor.0;
    reach(&actor, Action::VerifyRecords)?;
    let id = id.into_inner();
    let RecordVerification { approve, note } = body.0;
    record_answer(&state, move |conn, now, today| {
        records::verify(conn, &actor, &id, (approve, note.as_deref()), now, today)
    })
    .await
}

// ---- Process and transparency: rating tasks, unit results ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RatingTasksQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    period: String,
}

/// The colleagues of one's town one is asked to rate in a period (民主测评 to do; cadres and
/// supervisors): every staff member of the town but oneself and those one is recused from
/// (回避), by name, each with whether and how one rated them, and how many are done.
#[utoipa::path(tag = "scoring", params(RatingTasksQuery), security(("bearer" = [])), responses(
    (status = 200, body = RatingTasks), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[get("/scoring/rating-tasks")]
async fn list_rating_tasks(
    state: State,
    actor: Authenticated,
    query: web::Query<RatingTasksQuery>,
) -> ApiResult<web::Json<RatingTasks>> {
    let rater = scoring_views::rater(&actor.0)?;
    let period = parse_period(&query.period)?;
    let tasks = state
        .db
        .run(move |conn| scoring_views::rating_tasks(conn, &rater, period))
        .await?;
    Ok(web::Json(tasks))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum UnitGrouping {
    Town,
    Department,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct UnitScoresQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    period: String,
    category: CadreCategory,
    /// `town` (default) or `department`.
    #[param(inline)]
    group_by: Option<UnitGrouping>,
}

/// A category's results by unit for a period (单位排名; supervisor: their subtree): the
/// cadres `GET /scores` lists grouped by their town or by their department (cadres outside
/// every department are left out then), with the mean and sum of their totals, ranked by
/// the mean (ties share a rank), best first.
#[utoipa::path(tag = "scoring", params(UnitScoresQuery), security(("bearer" = [])), responses(
    (status = 200, body = Vec<UnitScore>), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[get("/scores/units")]
async fn list_unit_scores(
    state: State,
    actor: Authenticated,
    query: web::Query<UnitScoresQuery>,
) -> ApiResult<web::Json<Vec<UnitScore>>> {
    let within = crate::scoring::scope(&actor.0)?;
    let q = query.into_inner();
    let period = parse_period(&q.period)?;
    let kind = match q.group_by.unwrap_or(UnitGrouping::Town) {
        UnitGrouping::Town => UnitKind::Town,
        UnitGrouping::Department => UnitKind::Department,
    };
    let (category, tz) = (q.category, state.rules.timezone);
    let results = state
        .db
        .run(move |conn| {
            scoring_views::unit_results(
                conn,
                within.as_deref(),
                (category, period),
                kind,
                tz,
                Utc::now(),
            )
        })
        .await?;
    Ok(web::Json(results))
}

// ---- Manual values (人工录入) ----

/// Enters a cadre's value for a manual indicator (`metric: "manual"`) of the scheme that
/// scores them for the period's kind (supervisor of the cadre's town), with a reason and
/// optional photos of one's own; entering it again replaces it. It counts once another
/// supervisor approves it.
#[utoipa::path(tag = "scoring", request_body = NewManualValue, security(("bearer" = [])), responses(
    (status = 200, body = ManualValue), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[put("/scoring/manual-values")]
async fn put_manual_value(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewManualValue>,
) -> ApiResult<web::Json<ManualValue>> {
    let (actor, input) = (actor.0, body.0);
    let row = state
        .db
        .run(move |conn| manual_values::enter(conn, &actor, input, Utc::now()))
        .await?;
    Ok(web::Json(manual_values::wire(row)?))
}

/// Signs a manual value off (逐级把关签名): a supervisor reaching the cadre's town other than
/// the one who entered it.
#[utoipa::path(tag = "scoring", security(("bearer" = [])), responses(
    (status = 200, body = ManualValue), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem)))]
#[post("/scoring/manual-values/{id}/approve")]
async fn approve_manual_value(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<ManualValue>> {
    let (actor, id) = (actor.0, id.into_inner());
    let row = state
        .db
        .run(move |conn| manual_values::approve(conn, &actor, &id, Utc::now()))
        .await?;
    Ok(web::Json(manual_values::wire(row)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ManualValuesQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    period: Option<String>,
    user_id: Option<String>,
    /// `pending` (waiting for sign-off) or `approved`.
    #[param(inline)]
    status: Option<ManualValueStatus>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Manual values in id order (supervisor: their subtree; admin: all; cadre: their own),
/// e.g. those of a period waiting for sign-off (`status=pending`).
#[utoipa::path(tag = "scoring", params(ManualValuesQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<ManualValue>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/scoring/manual-values")]
async fn list_manual_values(
    state: State,
    actor: Authenticated,
    query: web::Query<ManualValuesQuery>,
) -> ApiResult<web::Json<Page<ManualValue>>> {
    let actor = actor.0;
    let q = query.into_inner();
    let period = q.period.as_deref().map(parse_period).transpose()?;
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let request = manual_values::ListRequest {
        period,
        user_id: q.user_id,
        status: q.status,
        after: paging.after.clone(),
        limit: paging.fetch(),
    };
    let rows = state
        .db
        .run(move |conn| manual_values::list(conn, &actor, request))
        .await?;
    let items = rows
        .into_iter()
        .map(manual_values::wire)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(web::Json(paging.page(items, |v| v.id.clone())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ManualImportQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    period: String,
    /// The code of a manual indicator.
    code: String,
}

/// Reads a `text/csv` body within the JSON bodies' size limit.
async fn csv_body(req: &HttpRequest, payload: web::Payload) -> ApiResult<Vec<u8>> {
    let is_csv = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.type_() == "text" && m.subtype() == "csv");
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType(
            "send the rows as text/csv (UTF-8)".into(),
        ));
    }
    super::extract::read_limited(payload, super::extract::declared_length(req)).await
}

/// Imports a manual indicator's values for cadres of one's town from a CSV (UTF-8, a BOM
/// allowed): the header `phone,value,reason`, then up to 2000 rows, a cadre by their phone.
/// All or nothing: any bad row answers 422 naming it (`rows[1].phone`) and nothing is
/// stored; else every row is entered, replacing what was there, and waits for sign-off.
#[utoipa::path(tag = "scoring", params(ManualImportQuery), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv",
        description = "`phone,value,reason` and a row per cadre, e.g. `13900000011,75,完成年度重点工作`"),
    responses((status = 200, body = ManualImport), (status = 403, body = Problem),
    (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
    (status = 422, body = Problem)))]
#[post("/scoring/manual-values/import")]
async fn import_manual_values(
    state: State,
    actor: Authenticated,
    query: web::Query<ManualImportQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<web::Json<ManualImport>> {
    let actor = actor.0;
    reach(&actor, Action::JudgeScores)?;
    let body = csv_body(&req, payload).await?;
    let q = query.into_inner();
    let imported = state
        .db
        .run(move |conn| {
            manual_values::import(conn, &actor, (&q.period, &q.code), &body, Utc::now())
        })
        .await?;
    Ok(web::Json(ManualImport { imported }))
}

// ---- Vetoes: their areas, second signatures, withdrawals (issue 11) ----

use crate::db::vetoes::VetoFilter;
use crate::domain::vetoes::{parse_area_code, parse_area_name};
use crate::vetoes::{self, Step};
use actix_web::patch;
use minqing_protocol::{
    NewVetoArea, VetoArea, VetoAreaList, VetoAreaPatch, VetoStatus, VetoWithdrawal,
};

/// The areas vetoes are made in (一票否决事项), in code order, retired ones too (any staff).
#[utoipa::path(tag = "scoring", security(("bearer" = [])), responses(
    (status = 200, body = VetoAreaList), (status = 403, body = Problem)))]
#[get("/scoring/veto-areas")]
async fn list_veto_areas(state: State, actor: Authenticated) -> ApiResult<web::Json<VetoAreaList>> {
    reach(&actor.0, Action::ReadScores)?;
    let items = state.db.run(vetoes::areas).await?;
    Ok(web::Json(VetoAreaList { items }))
}

/// Adds a veto area (admin): `code` `^[a-z][a-z0-9_]{1,39}$`, `name` 1–50 characters; a
/// taken code answers 409.
#[utoipa::path(tag = "scoring", request_body = NewVetoArea, security(("bearer" = [])), responses(
    (status = 201, body = VetoArea), (status = 403, body = Problem), (status = 409, body = Problem),
    (status = 422, body = Problem)))]
#[post("/scoring/veto-areas")]
async fn create_veto_area(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewVetoArea>,
) -> ApiResult<HttpResponse> {
    let actor = actor.0;
    reach(&actor, Action::ManageScoring)?;
    let NewVetoArea { code, name } = body.0;
    let (code, name) = match (parse_area_code("code", &code), parse_area_name(&name)) {
        (Ok(code), Ok(name)) => (code, name),
        (c, n) => {
            return Err(ApiError::Invalid(
                [c.err(), n.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let now = Utc::now().naive_utc();
    let area = state
        .db
        .run(move |conn| vetoes::add_area(conn, &actor.user_id, code, name, now))
        .await?;
    Ok(HttpResponse::Created().json(area))
}

/// Renames a veto area, or retires it (`active: false`: no new vetoes in it; those made
/// keep it) or brings it back (admin).
#[utoipa::path(tag = "scoring", request_body = VetoAreaPatch, security(("bearer" = [])), responses(
    (status = 200, body = VetoArea), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[patch("/scoring/veto-areas/{code}")]
async fn patch_veto_area(
    state: State,
    actor: Authenticated,
    code: web::Path<String>,
    body: JsonBody<VetoAreaPatch>,
) -> ApiResult<web::Json<VetoArea>> {
    let actor = actor.0;
    reach(&actor, Action::ManageScoring)?;
    let VetoAreaPatch { name, active } = body.0;
    let name = name
        .as_deref()
        .map(parse_area_name)
        .transpose()
        .map_err(|e| ApiError::Invalid(vec![e]))?;
    let code = code.into_inner();
    let now = Utc::now().naive_utc();
    let area = state
        .db
        .run(move |conn| vetoes::change_area(conn, &actor.user_id, &code, name, active, now))
        .await?;
    Ok(web::Json(area))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct VetoesQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`; all periods when absent.
    period: Option<String>,
    /// One cadre's vetoes (a cadre sees only their own).
    user_id: Option<String>,
    status: Option<VetoStatus>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Vetoes in the order they were proposed: a supervisor's of their subtree, the admin's of
/// everyone, a cadre's own; e.g. those waiting for a signature (`status=pending`,
/// `status=withdrawal_requested`).
#[utoipa::path(tag = "scoring", params(VetoesQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<Veto>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/scoring/vetoes")]
async fn list_vetoes(
    state: State,
    actor: Authenticated,
    query: web::Query<VetoesQuery>,
) -> ApiResult<web::Json<Page<Veto>>> {
    let scope = reach(&actor.0, Action::ReadScores)?;
    let q = query.into_inner();
    let period = q
        .period
        .as_deref()
        .map(parse_period)
        .transpose()?
        .map(|p| p.to_string());
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let Some((within, user_id)) = scope.scope_owned(q.user_id) else {
        return Ok(web::Json(paging.page(Vec::new(), |v: &Veto| v.id.clone())));
    };
    let filter = VetoFilter {
        period,
        user_id,
        within,
        status: q.status,
        after: paging.after.clone(),
        limit: paging.fetch(),
    };
    let items = state
        .db
        .run(move |conn| vetoes::list(conn, &filter))
        .await?;
    Ok(web::Json(paging.page(items, |v| v.id.clone())))
}

async fn veto_step(
    state: State,
    actor: Authenticated,
    id: String,
    step: Step,
    reason: Option<String>,
) -> ApiResult<web::Json<Veto>> {
    let actor = actor.0;
    reach(&actor, Action::JudgeScores)?;
    let now = Utc::now().naive_utc();
    let veto = state
        .db
        .run(move |conn| vetoes::decide(conn, &actor, &id, step, reason, now))
        .await?;
    Ok(web::Json(veto))
}

/// Approves a proposed veto (逐级把关签名): a supervisor of the cadre's town other than the
/// one who proposed it; from then on it counts (`approved`).
#[utoipa::path(tag = "scoring", security(("bearer" = [])), responses(
    (status = 200, body = Veto), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem)))]
#[post("/scoring/vetoes/{id}/approve")]
async fn approve_veto(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<Veto>> {
    veto_step(state, actor, id.into_inner(), Step::Approve, None).await
}

/// Asks to withdraw an approved veto, with the reason (a supervisor of the cadre's town); it
/// counts until another supervisor approves the withdrawal (`withdrawal_requested`).
#[utoipa::path(tag = "scoring", request_body = VetoWithdrawal, security(("bearer" = [])), responses(
    (status = 200, body = Veto), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/scoring/vetoes/{id}/withdrawal")]
async fn request_veto_withdrawal(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<VetoWithdrawal>,
) -> ApiResult<web::Json<Veto>> {
    reach(&actor.0, Action::JudgeScores)?;
    let reason = vetoes::withdrawal_reason(&body.0.reason)?;
    veto_step(
        state,
        actor,
        id.into_inner(),
        Step::RequestWithdrawal,
        Some(reason),
    )
    .await
}

/// Approves a requested withdrawal: a supervisor of the cadre's town other than the one who
/// asked; the veto no longer counts (`withdrawn`).
#[utoipa::path(tag = "scoring", security(("bearer" = [])), responses(
    (status = 200, body = Veto), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem)))]
#[post("/scoring/vetoes/{id}/withdrawal/approve")]
async fn approve_veto_withdrawal(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<Veto>> {
    veto_step(state, actor, id.into_inner(), Step::ApproveWithdrawal, None).await
}
