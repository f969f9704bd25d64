//! 工作日志 `/desk/logs`: the cadres of the supervisor's subtree with the days they wrote a
//! log this month, and one cadre's month — each day's log with its photos, earlier versions
//! and comments, days without a log marked — with a form to comment (批阅), through the same
//! service as `POST /api/v1/work-logs/{id}/comments`.

use actix_web::web;
use askama::Template;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::sessions::{chosen_month, month_choices, MonthChoice};
use super::{percent_encode, Nav, Staff};
use crate::db::work_logs::{self as store, CadreDays};
use crate::domain::access::{reach, Action};
use crate::domain::labels;
use crate::domain::work_log::{days_due, MAX_COMMENT_CHARS};
use crate::error::ApiError;
use crate::http::{AppState, State};
use crate::pages::{ok, photo_links, see_other, PageResult, PhotoLink};
use crate::work_logs;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/logs", web::get().to(logs_page))
        .route("/desk/logs/{id}/comment", web::post().to(comment_posted));
}

/// Most cadres listed at once; a county admin picks a town's supervisor view for more.
const MAX_CADRES: i64 = 500;

struct Cadre {
    id: String,
    name: String,
    unit: String,
    days: i64,
    due: usize,
    selected: bool,
}

struct Comment {
    who: String,
    when: String,
    text: String,
}

struct Day {
    date: String,
    log: Option<Log>,
}

struct Log {
    id: String,
    content: String,
    written: String,
    edits: usize,
    photos: Vec<PhotoLink>,
    comments: Vec<Comment>,
}

struct Month {
    user_id: String,
    name: String,
    with: i32,
    without: i32,
    days: Vec<Day>,
}

#[derive(Template)]
#[template(path = "desk/logs.html")]
struct LogsPage {
    nav: Nav,
    months: Vec<MonthChoice>,
    month: String,
    cadres: Vec<Cadre>,
    truncated: bool,
    chosen: Option<Month>,
    may_comment: bool,
    max_comment: usize,
    error: Option<String>,
}

#[derive(Deserialize)]
struct LogsQuery {
    user_id: Option<String>,
    month: Option<String>,
    done: Option<String>,
}

fn day_words(d: NaiveDate) -> String {
    const WEEK: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    use chrono::Datelike;
    format!(
        "{}（周{}）",
        labels::local_date(d),
        WEEK[d.weekday().num_days_from_monday() as usize]
    )
}

fn month_shown(state: &AppState, m: minqing_protocol::WorkLogMonth) -> Month {
    let tz = state.rules.timezone;
    let now = Utc::now();
    Month {
        user_id: m.user_id,
        name: m.name,
        with: m.days_with_log,
        without: m.days_without_log,
        days: m
            .days
            .into_iter()
            .map(|d| Day {
                date: day_words(d.date),
                log: d.log.map(|l| Log {
                    written: labels::local_time(l.updated_at, tz),
                    edits: l.history.len(),
                    photos: photo_links(state, &l.photo_ids, now),
                    comments: l
                        .comments
                        .into_iter()
                        .map(|c| Comment {
                            who: c.author_name,
                            when: labels::local_time(c.created_at, tz),
                            text: c.text,
                        })
                        .collect(),
                    id: l.id,
                    content: l.content,
                }),
            })
            .collect(),
    }
}

async fn logs_page(state: State, staff: Staff, query: web::Query<LogsQuery>) -> PageResult {
    let q = query.into_inner();
    let now = Utc::now();
    let today = now.with_timezone(&state.rules.timezone).date_naive();
    let (first, last, error) = chosen_month(q.month.as_deref(), today);
    let month = first.format("%Y-%m").to_string();
    let within = reach(&staff.actor, Action::ReadUsers)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?
        .unwrap_or_else(|| "/".into());
    let actor = staff.actor.clone();
    let app = state.clone();
    let chosen_id = q.user_id.clone().filter(|u| !u.is_empty());
    let wanted = month.clone();
    let (cadres, chosen): (Vec<CadreDays>, _) = state
        .db
        .run(move |conn| {
            let cadres = store::cadres_with_days(conn, &within, first, last, MAX_CADRES + 1)?;
            let chosen = chosen_id
                .map(|id| work_logs::month(conn, &actor, Some(&id), &wanted, now, &app.rules))
                .transpose()?;
            Ok((cadres, chosen))
        })
        .await?;
    let due = days_due(first, last, today).len();
    let truncated = cadres.len() as i64 > MAX_CADRES;
    let selected = q.user_id.as_deref().unwrap_or_default();
    let notice = (q.done.as_deref() == Some("commented")).then(|| "批阅意见已保存。".to_string());
    ok(&LogsPage {
        nav: staff.nav("logs").with_notice(notice),
        months: month_choices(today, first),
        cadres: cadres
            .into_iter()
            .take(MAX_CADRES as usize)
            .map(|c| Cadre {
                selected: c.id == selected,
                id: c.id,
                name: c.name,
                unit: c.unit,
                days: c.days,
                due,
            })
            .collect(),
        truncated,
        chosen: chosen.map(|m| month_shown(&state, m)),
        may_comment: !staff.is_admin(),
        max_comment: MAX_COMMENT_CHARS,
        month,
        error,
    })
}

#[derive(Deserialize)]
struct CommentForm {
    text: String,
    user_id: String,
    month: String,
}

/// A leader's comment from the desk, then back to the same cadre and month.
async fn comment_posted(
    state: State,
    staff: Staff,
    id: web::Path<String>,
    form: web::Form<CommentForm>,
) -> PageResult {
    let CommentForm {
        text,
        user_id,
        month,
    } = form.into_inner();
    let actor = staff.actor.clone();
    let id = id.into_inner();
    state
        .db
        .run(move |conn| work_logs::comment(conn, &actor, &id, &text, Utc::now()))
        .await?;
    Ok(see_other(&format!(
        "/desk/logs?user_id={}&month={}&done=commented",
        percent_encode(&user_id),
        percent_encode(&month)
    )))
}
