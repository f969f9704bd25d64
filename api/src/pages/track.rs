//! 进度查询 `/t`: an order's progress for whoever holds its code and 查询码 (or the long
//! tracking token of a link), its public photos behind signed links, and the reporter's rating.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use askama::Template;
use chrono::{DateTime, Utc};
use minqing_protocol::{TrackView, WorkOrderStatus};
use serde::Deserialize;

use super::{html, ok, photo_links, PageResult, PhotoLink};
use crate::db::work_orders::{self, WorkOrderRow};
use crate::domain::labels;
use crate::error::ApiError;
use crate::http::extract::client_ip;
use crate::http::{AppState, State};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t", web::get().to(track_link))
        .route("/t", web::post().to(track))
        .route("/t/rate", web::post().to(rate));
}

#[derive(Template)]
#[template(path = "track_form.html")]
struct TrackFormPage {
    code: String,
    error: Option<String>,
}

struct TimelineLine {
    at: String,
    what: String,
    note: Option<String>,
    photos: Vec<PhotoLink>,
}

struct TrackLines {
    code: String,
    title: String,
    category: String,
    village: String,
    status: String,
    status_word: String,
    created_at: String,
    due_at: Option<String>,
    resolved_at: Option<String>,
    deadline_notice: String,
    rating: Option<i32>,
    timeline: Vec<TimelineLine>,
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    t: TrackLines,
    query_code: String,
    can_rate: bool,
    notice: Option<String>,
    rate_error: Option<String>,
}

fn lines(state: &AppState, view: TrackView, now: DateTime<Utc>) -> TrackLines {
    let tz = state.rules.timezone;
    let status_word = crate::db::models::enum_text(&view.status);
    TrackLines {
        status: labels::label_or_word("work_order_status", &status_word),
        status_word,
        code: view.code,
        title: view.title,
        category: view.category,
        village: view.village,
        created_at: labels::local_time(view.created_at, tz),
        due_at: view.due_at.map(|t| labels::local_time(t, tz)),
        resolved_at: view.resolved_at.map(|t| labels::local_time(t, tz)),
        deadline_notice: view.deadline_notice,
        rating: view.rating,
        timeline: view
            .timeline
            .into_iter()
            .map(|e| TimelineLine {
                at: labels::local_time(e.at, tz),
                what: labels::label_or_word("timeline_event", &e.kind),
                note: e.note,
                photos: photo_links(state, &e.photo_ids, now),
            })
            .collect(),
    }
}

async fn show(
    state: &State,
    row: WorkOrderRow,
    query_code: String,
    notice: Option<String>,
    rate_error: Option<String>,
) -> PageResult {
    let view = state
        .db
        .run(move |conn| crate::work_orders::track_view(conn, &row))
        .await?;
    // Only the reporter holding the 查询码 rates; a link with the long token only reads.
    let can_rate = view.status == WorkOrderStatus::Resolved && !query_code.is_empty();
    ok(&TrackPage {
        t: lines(state, view, Utc::now()),
        query_code,
        can_rate,
        notice,
        rate_error,
    })
}

fn not_found_form(code: String) -> PageResult {
    html(
        StatusCode::NOT_FOUND,
        &TrackFormPage {
            code,
            error: Some("工单编号或查询码不对，请核对后再试。".into()),
        },
    )
}

fn too_many(code: String) -> PageResult {
    html(
        StatusCode::TOO_MANY_REQUESTS,
        &TrackFormPage {
            code,
            error: Some("查询次数太多，请一小时后再试。".into()),
        },
    )
}

#[derive(Deserialize)]
struct LinkQuery {
    code: Option<String>,
    token: Option<String>,
}

/// The form, or an order opened from a link carrying its tracking token.
async fn track_link(state: State, query: web::Query<LinkQuery>) -> PageResult {
    let LinkQuery { code, token } = query.into_inner();
    let (Some(code), Some(token)) = (code, token) else {
        return ok(&TrackFormPage {
            code: String::new(),
            error: None,
        });
    };
    let lookup = code.trim().to_string();
    let row = state
        .db
        .run(move |conn| work_orders::find_by_code(conn, &lookup))
        .await?
        .filter(|r| crate::auth::tokens::hash_refresh_token(&token) == r.tracking_token_hash);
    match row {
        Some(row) => show(&state, row, String::new(), None, None).await,
        None => not_found_form(code),
    }
}

#[derive(Deserialize)]
struct TrackForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    query_code: String,
}

async fn by_query_code(
    state: &State,
    req: &HttpRequest,
    code: &str,
    query_code: &str,
) -> Result<Option<WorkOrderRow>, ApiError> {
    let app = state.clone();
    let ip = client_ip(req);
    let (code, query_code) = (code.trim().to_string(), query_code.trim().to_string());
    let found = state
        .db
        .run(move |conn| {
            crate::work_orders::order_by_query_code(&app, conn, &code, &query_code, &ip, Utc::now())
        })
        .await;
    match found {
        Ok(row) => Ok(Some(row)),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn track(state: State, req: HttpRequest, form: web::Form<TrackForm>) -> PageResult {
    let TrackForm { code, query_code } = form.into_inner();
    match by_query_code(&state, &req, &code, &query_code).await {
        Ok(Some(row)) => show(&state, row, query_code, None, None).await,
        Ok(None) => not_found_form(code),
        Err(ApiError::TooManyRequests { .. }) => too_many(code),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct RateForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    query_code: String,
    score: Option<String>,
    #[serde(default)]
    comment: String,
}

/// The reporter's rating: 60 or more closes the order, less sends it back to the unit.
async fn rate(state: State, req: HttpRequest, form: web::Form<RateForm>) -> PageResult {
    let RateForm {
        code,
        query_code,
        score,
        comment,
    } = form.into_inner();
    let row = match by_query_code(&state, &req, &code, &query_code).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found_form(code),
        Err(ApiError::TooManyRequests { .. }) => return too_many(code),
        Err(e) => return Err(e.into()),
    };
    let Some(score) = score.and_then(|s| s.trim().parse::<i64>().ok()) else {
        return show(&state, row, query_code, None, Some("请选择满意度。".into())).await;
    };
    let comment = (!comment.trim().is_empty()).then_some(comment);
    let app = state.clone();
    let id = row.id.clone();
    let rated = state
        .db
        .run(move |conn| crate::work_orders::rate_as_reporter(conn, &app, &id, score, comment))
        .await;
    match rated {
        Ok(row) => {
            let notice = if row.status == "reopened" {
                "已收到您的评价。问题已重新交回办理，请留意进度。"
            } else {
                "感谢您的评价！"
            };
            show(&state, row, query_code, Some(notice.into()), None).await
        }
        Err(ApiError::Conflict(_)) => {
            show(
                &state,
                row,
                query_code,
                None,
                Some("这个工单现在不能评价。".into()),
            )
            .await
        }
        Err(ApiError::Invalid(_)) => {
            show(
                &state,
                row,
                query_code,
                None,
                Some("满意度填写有误。".into()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
