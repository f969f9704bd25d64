//! 结算 `/desk/close`: closing a scoring period, with a checklist of what is still open for
//! that period in the supervisor's scope — flagged check-ins waiting for review, cadres no
//! one has rated in the democratic evaluation, adjustments waiting for their second
//! signature. Only the admin closes, once the period is over, through the same service as
//! `POST /api/v1/scoring/periods/{period}/close`.

pub(super) use crate::domain::labels::period_words;
use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{Datelike, NaiveDate, Utc};
use minqing_protocol::CadreCategory;
use serde::Deserialize;

use super::{Nav, Staff};
use crate::db::checkins;
use crate::db::models::{enum_text, utc};
use crate::db::scoring as store;
use crate::db::DbConn;
use crate::domain::access::{reach, Action};
use crate::domain::labels;
use crate::domain::scoring::{Period, PeriodKind, Scheme};
use crate::error::{ApiError, ApiResult};
use crate::http::State;
use crate::pages::{html, see_other, PageError, PageResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/close", web::get().to(close_page))
        .route("/desk/close", web::post().to(close));
}

/// A date with its year: `2027年2月28日`.
pub(super) fn date_words(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// The periods offered in a choice: this month and the twelve before, this quarter and the
/// four before, this year and the two before.
pub(super) fn recent_periods(today: NaiveDate) -> Vec<Period> {
    let month = Period::new(PeriodKind::Month, today.year(), today.month()).ok();
    let quarter = Period::new(PeriodKind::Quarter, today.year(), today.month().div_ceil(3)).ok();
    let year = Period::new(PeriodKind::Year, today.year(), 0).ok();
    let back = |start: Option<Period>, n: usize| {
        std::iter::successors(start, |p| p.previous()).take(n + 1)
    };
    back(month, 12)
        .chain(back(quarter, 4))
        .chain(back(year, 2))
        .collect()
}

pub(super) struct PeriodChoice {
    pub value: String,
    pub words: String,
    pub selected: bool,
}

/// The choices of [`recent_periods`], with `chosen` marked (and added when it is older).
pub(super) fn period_choices(today: NaiveDate, chosen: Option<Period>) -> Vec<PeriodChoice> {
    let mut periods = recent_periods(today);
    if let Some(p) = chosen.filter(|p| !periods.contains(p)) {
        periods.push(p);
    }
    periods
        .into_iter()
        .map(|p| PeriodChoice {
            value: p.to_string(),
            words: period_words(p),
            selected: Some(p) == chosen,
        })
        .collect()
}

/// What is still open in a period, in the actor's scope.
struct Checklist {
    waiting_checkins: i64,
    /// Names of cadres scored with a democratic part whom nobody rated.
    unrated: Vec<String>,
    pending_adjustments: usize,
    closed_at: Option<String>,
}

/// Most adjustments counted one by one; past it the page says "more than".
const ADJUSTMENTS_COUNTED: i64 = 500;

const CATEGORIES: [CadreCategory; 3] = [
    CadreCategory::Leadership,
    CadreCategory::Organ,
    CadreCategory::Village,
];

/// Cadres of the scope in categories whose active scheme for this kind of period has a
/// democratic part, and whom nobody has rated for the period.
fn unrated_cadres(
    conn: &mut DbConn,
    within: Option<&str>,
    period: Period,
) -> ApiResult<Vec<String>> {
    let rated: HashSet<String> = store::ratings_of(conn, &period.to_string())?
        .into_iter()
        .map(|(ratee, _, _)| ratee)
        .collect();
    let mut names = Vec::new();
    for category in CATEGORIES {
        let category = enum_text(&category);
        let Some(row) = store::active_scheme(conn, &category, period.kind().as_str())? else {
            continue;
        };
        // A stored scheme that no longer parses is the scores page's error to show.
        let rated_part = serde_json::from_str(&row.body)
            .ok()
            .and_then(|v| Scheme::parse(&v).ok())
            .and_then(|s| s.democratic)
            .is_some_and(|d| d.weight > 0.0);
        if !rated_part {
            continue;
        }
        names.extend(
            store::cadres_of(conn, &category)?
                .into_iter()
                .filter(|(id, _, path, _)| {
                    within.is_none_or(|w| path.starts_with(w)) && !rated.contains(id)
                })
                .map(|(_, name, _, _)| name),
        );
    }
    names.sort();
    Ok(names)
}

fn checklist(
    conn: &mut DbConn,
    within: Option<&str>,
    period: Period,
    first: NaiveDate,
    last: NaiveDate,
    tz: chrono_tz::Tz,
) -> ApiResult<Checklist> {
    let key = period.to_string();
    Ok(Checklist {
        waiting_checkins: checkins::count_flagged(conn, within, first, last)?,
        unrated: unrated_cadres(conn, within, period)?,
        pending_adjustments: store::list_adjustments(
            conn,
            &key,
            within,
            true,
            None,
            ADJUSTMENTS_COUNTED + 1,
        )?
        .len(),
        closed_at: store::closed_at(conn, &key)?
            .map(|at| labels::local_date_time_with_year(utc(at), tz)),
    })
}

#[derive(Template)]
#[template(path = "desk/close.html")]
struct ClosePage {
    nav: Nav,
    choices: Vec<PeriodChoice>,
    period: String,
    period_words: String,
    last_day: String,
    over: bool,
    list: Checklist,
    many_adjustments: bool,
    admin: bool,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct CloseQuery {
    period: Option<String>,
    frozen: Option<u32>,
    achievement: Option<u32>,
    problem: Option<u32>,
    statements: Option<u32>,
    adjust: Option<u32>,
}

/// What closing wrote, from the numbers the post sent back here.
fn written(q: &CloseQuery, period: Period) -> Option<String> {
    let frozen = q.frozen?;
    let mut text = format!(
        "{}已结算：冻结 {frozen} 名干部的得分，写入实绩档案 {} 份、问题痕迹档案 {} 份",
        period_words(period),
        q.achievement.unwrap_or(0),
        q.problem.unwrap_or(0),
    );
    if let Some(n) = q.statements.filter(|n| *n > 0) {
        text.push_str(&format!("，{n} 人列入后进表态名单"));
    }
    if let Some(n) = q.adjust.filter(|n| *n > 0) {
        text.push_str(&format!("，{n} 人建议调整岗位"));
    }
    text.push('。');
    Some(text)
}

/// The period asked for, or last month; a malformed one is reported and last month shown.
/// `None` only for a clock outside the years periods cover.
fn chosen_period(text: Option<&str>, today: NaiveDate, errors: &mut Vec<String>) -> Option<Period> {
    match text.map(Period::parse) {
        Some(Ok(p)) => return Some(p),
        Some(Err(_)) => errors.push("考核期的格式不对，应为 2026-11、2026-Q4 或 2026。".into()),
        None => {}
    }
    Period::new(PeriodKind::Month, today.year(), today.month())
        .ok()
        .and_then(|p| p.previous())
}

fn no_period() -> PageError {
    PageError(ApiError::Internal(anyhow::anyhow!(
        "today lies outside the years scoring periods cover"
    )))
}

async fn render(
    state: &State,
    staff: &Staff,
    period: Period,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<String>,
) -> PageResult {
    let within = reach(&staff.actor, Action::ReadScores)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?;
    let tz = state.rules.timezone;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let bounds = crate::scoring::bounds(period, tz, now);
    let list = state
        .db
        .run(move |conn| {
            checklist(
                conn,
                within.as_deref(),
                period,
                bounds.first,
                bounds.last,
                tz,
            )
        })
        .await?;
    html(
        status,
        &ClosePage {
            nav: staff.nav("close").with_notice(notice),
            choices: period_choices(today, Some(period)),
            period: period.to_string(),
            period_words: period_words(period),
            last_day: date_words(period.last_day()),
            over: period.last_day() < today,
            many_adjustments: list.pending_adjustments as i64 > ADJUSTMENTS_COUNTED,
            list,
            admin: staff.is_admin(),
            errors,
        },
    )
}

async fn close_page(state: State, staff: Staff, query: web::Query<CloseQuery>) -> PageResult {
    let q = query.into_inner();
    let today = Utc::now().with_timezone(&state.rules.timezone).date_naive();
    let mut errors = Vec::new();
    let period = chosen_period(q.period.as_deref(), today, &mut errors).ok_or_else(no_period)?;
    let notice = written(&q, period);
    render(&state, &staff, period, StatusCode::OK, notice, errors).await
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    period: String,
    /// Ticked (强制结算): close although check-ins still await review, for `reason`.
    force: Option<String>,
    #[serde(default)]
    reason: String,
}

/// Closes the period (admin, once it is over), then shows what was written.
async fn close(state: State, staff: Staff, form: web::Form<CloseForm>) -> PageResult {
    let tz = state.rules.timezone;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let mut errors = Vec::new();
    let period = chosen_period(Some(&form.period), today, &mut errors).ok_or_else(no_period)?;
    if !errors.is_empty() {
        return render(
            &state,
            &staff,
            period,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            errors,
        )
        .await;
    }
    if reach(&staff.actor, Action::ManageScoring).is_err() {
        let refused = vec!["只有管理员可以结算。请把检查结果报给管理员。".to_string()];
        return render(&state, &staff, period, StatusCode::FORBIDDEN, None, refused).await;
    }
    // The same rule as the API's: a period is closed only once it is over.
    if period.last_day() >= today {
        let early = vec![format!(
            "{}还没有结束，{}之后才能结算。",
            period_words(period),
            date_words(period.last_day())
        )];
        return render(&state, &staff, period, StatusCode::CONFLICT, None, early).await;
    }
    let Ok(forced) = crate::scoring::force_reason(form.force.is_some(), Some(&form.reason)) else {
        let missing = vec!["强制结算须写明理由（1 至 500 字）。".to_string()];
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render(&state, &staff, period, status, None, missing).await;
    };
    let by = staff.actor.user_id.clone();
    let closed = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                crate::scoring::close_period(conn, &by, period, forced.as_deref(), tz, now)
            })
        })
        .await;
    let closure = match closed {
        Ok(closure) => closure,
        Err(ApiError::Conflict(_)) => {
            // Closed already, or check-ins of the period still await review.
            let key = period.to_string();
            let at = state
                .db
                .run(move |conn| store::closed_at(conn, &key))
                .await?;
            let refused = vec![if at.is_some() {
                format!("{}已经结算过，得分已冻结。", period_words(period))
            } else {
                format!(
                    "{}还有打卡等待审核，不能结算。请先审核；确需现在结算，请勾选“强制结算”并写明理由。",
                    period_words(period)
                )
            }];
            return render(&state, &staff, period, StatusCode::CONFLICT, None, refused).await;
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(see_other(&format!(
        "/desk/close?period={period}&frozen={}&achievement={}&problem={}&statements={}&adjust={}",
        closure.scores,
        closure.achievement_records,
        closure.problem_records,
        closure.statements.len(),
        closure.position_adjustments.len(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_words() {
        let words = |s: &str| period_words(Period::parse(s).unwrap());
        assert_eq!(words("2026-11"), "2026年11月");
        assert_eq!(words("2026-03"), "2026年3月");
        assert_eq!(words("2026-Q4"), "2026年第四季度");
        assert_eq!(words("2026"), "2026年");
    }

    #[test]
    fn recent_periods_reach_back_over_the_new_year() {
        let today = NaiveDate::from_ymd_opt(2027, 2, 10).unwrap();
        let texts: Vec<String> = recent_periods(today)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(&texts[..3], ["2027-02", "2027-01", "2026-12"]);
        assert!(texts.contains(&"2026-02".to_string()) && !texts.contains(&"2026-01".to_string()));
        assert!(texts.contains(&"2027-Q1".to_string()) && texts.contains(&"2026-Q1".to_string()));
        assert!(texts.contains(&"2025".to_string()) && !texts.contains(&"2024".to_string()));
        let old = Period::parse("2020-05").unwrap();
        let choices = period_choices(today, Some(old));
        assert!(choices.iter().any(|c| c.value == "2020-05" && c.selected));
        assert_eq!(choices.iter().filter(|c| c.selected).count(), 1);
    }

    #[test]
    fn last_month_unless_another_is_asked_for() {
        let today = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        let mut errors = Vec::new();
        let mut chosen = |text| chosen_period(text, today, &mut errors).map(|p| p.to_string());
        assert_eq!(chosen(None).as_deref(), Some("2026-12"));
        assert_eq!(chosen(Some("2026-Q3")).as_deref(), Some("2026-Q3"));
        assert_eq!(chosen(Some("十一月")).as_deref(), Some("2026-12"));
        assert_eq!(errors.len(), 1);
        let mut none = Vec::new();
        assert!(chosen_period(
            None,
            NaiveDate::from_ymd_opt(2000, 1, 9).unwrap(),
            &mut none
        )
        .is_none());
    }
}
