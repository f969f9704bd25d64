//! 夜学夜议 `/desk/sessions`: the group sessions held at places of the supervisor's subtree in
//! a month, newest first — topic, place, organiser, who checked in (with the check-in's
//! standing and flags in words), the minutes (纪要) with their photos and, for a 夜议, the
//! villagers present. Sessions whose minutes did not come by the end of the next day are
//! marked, and their attendance waits on the review page.

use actix_web::web;
use askama::Template;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use minqing_protocol::{Session, SessionStatus};
use serde::Deserialize;

use super::{Nav, Staff};
use crate::db::models::enum_text;
use crate::db::night_sessions::SessionFilter;
use crate::domain::labels;
use crate::domain::work_log::parse_month;
use crate::http::paging::{time_key, Paging};
use crate::http::{AppState, State};
use crate::night_sessions;
use crate::pages::{ok, photo_links, PageResult, PhotoLink};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/sessions", web::get().to(sessions_page));
}

const PAGE_SIZE: i64 = 30;

struct Present {
    name: String,
    time: String,
    status: String,
    status_word: String,
    flags: Vec<String>,
}

struct Line {
    when: String,
    kind: String,
    topic: String,
    place: String,
    organiser: String,
    status: String,
    status_word: String,
    minutes_due: Option<String>,
    minutes: Option<String>,
    photos: Vec<PhotoLink>,
    villagers: Option<String>,
    attendees: Vec<Present>,
    counted: usize,
}

pub(super) struct MonthChoice {
    pub value: String,
    pub words: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "desk/sessions.html")]
struct SessionsPage {
    nav: Nav,
    months: Vec<MonthChoice>,
    month: String,
    lines: Vec<Line>,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SessionsQuery {
    month: Option<String>,
    cursor: Option<String>,
}

/// This month and the twelve before it, `chosen` marked.
pub(super) fn month_choices(today: NaiveDate, chosen: NaiveDate) -> Vec<MonthChoice> {
    std::iter::successors(today.with_day(1), |m| (*m - Duration::days(1)).with_day(1))
        .take(13)
        .map(|m| MonthChoice {
            value: m.format("%Y-%m").to_string(),
            words: format!("{}年{}月", m.year(), m.month()),
            selected: m == chosen,
        })
        .collect()
}

/// The month asked for (`YYYY-MM`), this month when none or a wrong one was given (with a
/// message saying so).
pub(super) fn chosen_month(
    raw: Option<&str>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate, Option<String>) {
    let this_month = || {
        let first = today.with_day(1).unwrap_or(today);
        parse_month(&first.format("%Y-%m").to_string()).unwrap_or((first, today))
    };
    match raw.filter(|m| !m.is_empty()).map(parse_month) {
        Some(Ok((first, last))) => (first, last, None),
        Some(Err(_)) => {
            let (first, last) = this_month();
            (first, last, Some("月份的格式不对，已显示本月。".into()))
        }
        None => {
            let (first, last) = this_month();
            (first, last, None)
        }
    }
}

fn line(state: &AppState, s: Session, now: DateTime<Utc>) -> Line {
    let tz = state.rules.timezone;
    let status_word = enum_text(&s.status);
    let attendees: Vec<Present> = s
        .attendees
        .iter()
        .map(|a| Present {
            name: a.name.clone(),
            time: labels::local_time(a.recorded_at, tz),
            status: labels::label_or_word("checkin_status", &enum_text(&a.status)),
            status_word: enum_text(&a.status),
            flags: a
                .flags
                .iter()
                .map(|f| labels::flag_text_in(&enum_text(&f.code), &f.value, tz))
                .collect(),
        })
        .collect();
    let counted = s
        .attendees
        .iter()
        .filter(|a| crate::domain::checkin::counts(a.status))
        .count();
    Line {
        when: labels::local_time(s.starts_at, tz),
        kind: labels::label_or_word("session_kind", &enum_text(&s.kind)),
        topic: s.topic,
        place: s.place_name,
        organiser: s.organiser_name,
        status: labels::label_or_word("session_status", &status_word),
        minutes_due: (s.status == SessionStatus::AwaitingMinutes)
            .then(|| labels::local_date(s.night_date + Duration::days(1))),
        status_word,
        minutes: s.minutes,
        photos: photo_links(state, &s.photo_ids, now),
        villagers: s.villagers_present.map(|v| {
            if v.names.is_empty() {
                format!("{} 人", v.count)
            } else {
                format!("{} 人：{}", v.count, v.names.join("、"))
            }
        }),
        attendees,
        counted,
    }
}

async fn sessions_page(state: State, staff: Staff, query: web::Query<SessionsQuery>) -> PageResult {
    let q = query.into_inner();
    let now = Utc::now();
    let tz = state.rules.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let (first, last, error) = chosen_month(q.month.as_deref(), today);
    let local_midnight = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.naive_utc())
    };
    let paging = Paging::parse(Some(PAGE_SIZE), q.cursor.as_deref())?;
    let filter = SessionFilter {
        within: None,
        involving: None,
        from: local_midnight(first),
        to: local_midnight(last + Duration::days(1)),
        after: paging.after_time()?,
        limit: paging.fetch(),
    };
    let actor = staff.actor.clone();
    let app = state.clone();
    let sessions = state
        .db
        .run(move |conn| night_sessions::list(conn, &actor, filter, None, now, &app.rules))
        .await?;
    let page = paging.page(sessions, |s| time_key(s.starts_at, &s.id));
    ok(&SessionsPage {
        nav: staff.nav("sessions"),
        months: month_choices(today, first),
        month: first.format("%Y-%m").to_string(),
        lines: page
            .items
            .into_iter()
            .map(|s| line(&state, s, now))
            .collect(),
        next: page.next_cursor,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_offered_are_this_one_and_twelve_before() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let chosen = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let months = month_choices(today, chosen);
        assert_eq!(months.len(), 13);
        assert_eq!(months[0].words, "2026年3月");
        assert_eq!(months[12].value, "2025-03");
        assert!(months[2].selected);
    }

    #[test]
    fn a_wrong_month_falls_back_to_this_one_and_says_so() {
        let today = NaiveDate::from_ymd_opt(2026, 2, 10).unwrap();
        let (first, last, error) = chosen_month(Some("2026-2"), today);
        assert_eq!(first, NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(last, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert!(error.is_some());
        let (first, _, error) = chosen_month(Some("2025-12"), today);
        assert_eq!((first.month(), error), (12, None));
    }
}
