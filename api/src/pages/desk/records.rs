//! 档案 `/desk/records`: the achievement (实绩档案) and problem-trace (问题痕迹档案) records
//! that closing a period wrote for the cadres of the supervisor's subtree, newest first,
//! filtered by kind and period.

use actix_web::web;
use askama::Template;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::close::{date_words, period_choices, period_words, PeriodChoice};
use super::{Nav, Staff};
use crate::db::scoring::{self as store, RecordFilter, RecordRow};
use crate::domain::access::{reach, Action};
use crate::domain::labels;
use crate::domain::scoring::Period;
use crate::error::ApiError;
use crate::http::paging::Paging;
use crate::http::State;
use crate::pages::{ok, PageResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/records", web::get().to(records_page));
}

const PAGE_SIZE: i64 = 50;
const KINDS: [&str; 2] = ["achievement", "problem"];

struct Line {
    cadre: String,
    unit: String,
    kind_word: String,
    kind: String,
    period: String,
    reason: String,
    rectify_by: Option<String>,
    evidence: Option<String>,
    status_word: &'static str,
    status: Option<String>,
}

struct KindChoice {
    value: &'static str,
    words: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "desk/records.html")]
struct RecordsPage {
    nav: Nav,
    kinds: Vec<KindChoice>,
    periods: Vec<PeriodChoice>,
    lines: Vec<Line>,
    /// The filters as a query string for the next page's link.
    filters: String,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct RecordsQuery {
    kind: Option<String>,
    period: Option<String>,
    cursor: Option<String>,
}

/// A record's standing: a problem record is open until cleared (销号), and expired once the
/// date to rectify by has passed; an achievement record has none.
fn status_of(row: &RecordRow, today: NaiveDate) -> &'static str {
    match (row.kind.as_str(), row.cleared_at, row.rectify_by) {
        ("problem", Some(_), _) => "cleared",
        ("problem", None, Some(by)) if by < today => "expired",
        ("problem", None, _) => "open",
        _ => "",
    }
}

/// The reason closing a period writes (`实绩 achievement: ranked 2 of 9 organ cadres in
/// 2026-11 (机关干部月度考核)`) in words; any other reason as it was written.
fn reason_words(reason: &str) -> String {
    let parsed = (|| {
        let (_, rest) = reason.split_once(": ranked ")?;
        let (rank, rest) = rest.split_once(" of ")?;
        let (of, rest) = rest.split_once(' ')?;
        let (category, rest) = rest.split_once(" cadres in ")?;
        let (_, scheme) = rest.split_once(" (")?;
        let scheme = scheme.strip_suffix(')')?;
        let (rank, of) = (rank.parse::<u32>().ok()?, of.parse::<u32>().ok()?);
        Some(format!(
            "{scheme}：{}第 {rank} 名（共 {of} 人）",
            labels::label_or_word("cadre_category", category)
        ))
    })();
    parsed.unwrap_or_else(|| reason.to_string())
}

fn line(row: RecordRow, cadre: String, unit: String, today: NaiveDate) -> Line {
    let status_word = status_of(&row, today);
    Line {
        cadre,
        unit,
        kind: labels::label_or_word("record_kind", &row.kind),
        period: Period::parse(&row.period).map_or_else(|_| row.period.clone(), period_words),
        reason: reason_words(&row.reason),
        rectify_by: row.rectify_by.map(date_words),
        evidence: row.evidence,
        status: (!status_word.is_empty())
            .then(|| labels::label_or_word("record_status", status_word)),
        status_word,
        kind_word: row.kind,
    }
}

async fn records_page(state: State, staff: Staff, query: web::Query<RecordsQuery>) -> PageResult {
    let q = query.into_inner();
    let within = reach(&staff.actor, Action::ReadScores)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?;
    let today = Utc::now().with_timezone(&state.rules.timezone).date_naive();
    let kind = q.kind.filter(|k| KINDS.contains(&k.as_str()));
    let (period, error) = match q
        .period
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(Period::parse)
    {
        Some(Ok(p)) => (Some(p), None),
        Some(Err(_)) => (
            None,
            Some("考核期的格式不对，已显示全部考核期。".to_string()),
        ),
        None => (None, None),
    };
    let paging = Paging::parse(Some(PAGE_SIZE), q.cursor.as_deref())?;
    let filter = RecordFilter {
        kind: kind.clone(),
        period: period.map(|p| p.to_string()),
        within,
        before: paging.after.clone(),
        limit: paging.fetch(),
    };
    let rows = state
        .db
        .run(move |conn| store::records_with_names(conn, &filter))
        .await?;
    let page = paging.page(rows, |(r, _, _)| r.id.clone());
    let mut filters = String::new();
    if let Some(k) = &kind {
        filters.push_str(&format!("kind={k}&"));
    }
    if let Some(p) = period {
        filters.push_str(&format!("period={p}&"));
    }
    ok(&RecordsPage {
        nav: staff.nav("records"),
        kinds: KINDS
            .iter()
            .map(|k| KindChoice {
                value: k,
                words: labels::label_or_word("record_kind", k),
                selected: kind.as_deref() == Some(*k),
            })
            .collect(),
        periods: period_choices(today, period),
        lines: page
            .items
            .into_iter()
            .map(|(row, cadre, unit)| line(row, cadre, unit, today))
            .collect(),
        filters,
        next: page.next_cursor,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_written_by_closing_read_in_words() {
        assert_eq!(
            reason_words(
                "实绩 achievement: ranked 2 of 9 organ cadres in 2026-11 (机关干部月度考核)"
            ),
            "机关干部月度考核：机关干部第 2 名（共 9 人）"
        );
        assert_eq!(
            reason_words(
                "问题痕迹 problem: ranked 9 of 9 village cadres in 2026-Q4 (村干部 (试行))"
            ),
            "村干部 (试行)：农村干部第 9 名（共 9 人）"
        );
        assert_eq!(reason_words("群众联名表扬"), "群众联名表扬");
    }

    fn record(kind: &str, cleared: bool, by: Option<NaiveDate>) -> RecordRow {
        RecordRow {
            id: "r".into(),
            user_id: "u".into(),
            kind: kind.into(),
            period: "2026-11".into(),
            reason: String::new(),
            rectify_by: by,
            evidence: None,
            cleared_at: cleared.then(|| Utc::now().naive_utc()),
            cleared_by: None,
            created_at: Utc::now().naive_utc(),
        }
    }

    #[test]
    fn standing_of_records() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let by = NaiveDate::from_ymd_opt(2027, 2, 28);
        let later = NaiveDate::from_ymd_opt(2027, 3, 31);
        assert_eq!(status_of(&record("problem", false, later), today), "open");
        assert_eq!(status_of(&record("problem", false, by), today), "expired");
        assert_eq!(status_of(&record("problem", true, by), today), "cleared");
        assert_eq!(status_of(&record("achievement", false, None), today), "");
    }
}
