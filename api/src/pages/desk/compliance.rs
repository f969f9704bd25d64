//! 履约统计 `/desk/compliance`: the rates of DESIGN §2.4 per unit, village or person for a
//! period, with a totals row from the summed counts, the period's headline numbers, the six
//! months' trend as a chart, and the same table as Excel. Counted by `crate::compliance`,
//! exactly as `GET /api/v1/compliance` counts them.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use minqing_protocol::ComplianceRow;
use serde::Deserialize;

use super::{Nav, Staff};
use crate::compliance::{self, Overview};
use crate::db::compliance::GroupBy;
use crate::domain::chart::{self, percent, Series};
use crate::domain::compliance::{rates, ComplianceCounts, ComplianceRates};
use crate::error::ApiError;
use crate::export::{self, Cell};
use crate::http::State;
use crate::pages::{html, ok, PageResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/compliance", web::get().to(page))
        .route("/desk/compliance/export", web::get().to(download));
}

/// One line of a compliance table: its counts and rates, shown as people read them.
pub struct Line {
    pub name: String,
    pub assigned: u64,
    pub resolved: u64,
    pub rates: ComplianceRates,
    pub overdue_open: u64,
    pub overdue_resolved: u64,
}

impl Line {
    pub fn of_row(row: &ComplianceRow) -> Line {
        Line {
            name: row.name.clone(),
            assigned: row.assigned,
            resolved: row.resolved,
            rates: ComplianceRates {
                response_rate: row.response_rate,
                resolution_rate: row.resolution_rate,
                on_time_rate: row.on_time_rate,
                satisfaction_rate: row.satisfaction_rate,
                avg_satisfaction: row.avg_satisfaction,
                reopen_rate: row.reopen_rate,
                avg_resolution_hours: row.avg_resolution_hours,
            },
            overdue_open: row.overdue_open,
            overdue_resolved: row.overdue_resolved,
        }
    }

    /// The totals line: the rates of the summed counts.
    pub fn of_total(counts: &ComplianceCounts) -> Line {
        Line {
            name: "合计".into(),
            assigned: counts.assigned,
            resolved: counts.first_resolved,
            rates: rates(counts),
            overdue_open: counts.overdue_open,
            overdue_resolved: counts.overdue_resolved,
        }
    }

    pub fn response(&self) -> String {
        percent(self.rates.response_rate)
    }
    pub fn resolution(&self) -> String {
        percent(self.rates.resolution_rate)
    }
    pub fn on_time(&self) -> String {
        percent(self.rates.on_time_rate)
    }
    pub fn satisfaction(&self) -> String {
        percent(self.rates.satisfaction_rate)
    }
    pub fn avg_satisfaction(&self) -> String {
        one_decimal(self.rates.avg_satisfaction)
    }
    pub fn reopen(&self) -> String {
        percent(self.rates.reopen_rate)
    }
    pub fn hours(&self) -> String {
        one_decimal(self.rates.avg_resolution_hours)
    }

    /// The line as spreadsheet cells: rates in percent with two decimals, `—` where there
    /// was nothing to measure, as on the page.
    fn cells(&self) -> Vec<Cell> {
        let rate = |r: Option<f64>| r.map_or(Cell::from("—"), |r| Cell::Points(r * 100.0));
        let plain = |v: Option<f64>| v.map_or(Cell::from("—"), Cell::Points);
        vec![
            self.name.clone().into(),
            Cell::Number(self.assigned as f64),
            Cell::Number(self.resolved as f64),
            rate(self.rates.response_rate),
            rate(self.rates.resolution_rate),
            rate(self.rates.on_time_rate),
            rate(self.rates.satisfaction_rate),
            plain(self.rates.avg_satisfaction),
            rate(self.rates.reopen_rate),
            Cell::Number(self.overdue_open as f64),
            Cell::Number(self.overdue_resolved as f64),
            plain(self.rates.avg_resolution_hours),
        ]
    }
}

/// A number to one decimal (`92.5`), or `—` when there was nothing to measure.
pub fn one_decimal(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map_or_else(|| "—".to_string(), |v| format!("{v:.1}"))
}

/// A local date with its year: `2026年11月1日`.
pub fn date_with_year(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// What a grouping is called on the page.
fn group_word(group_by: GroupBy) -> &'static str {
    match group_by {
        GroupBy::Unit => "责任单位",
        GroupBy::Village => "村",
        GroupBy::Assignee => "责任人",
    }
}

fn group_value(group_by: GroupBy) -> &'static str {
    match group_by {
        GroupBy::Unit => "unit",
        GroupBy::Village => "village",
        GroupBy::Assignee => "assignee",
    }
}

#[derive(Deserialize, Default)]
struct Query {
    group: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The period and grouping asked for, or what to say about the form.
struct Asked {
    group_by: GroupBy,
    from: NaiveDate,
    to: NaiveDate,
    /// What was typed, shown again in the form.
    from_text: String,
    to_text: String,
    error: Option<&'static str>,
}

/// Reads the form; empty dates mean this month so far.
fn asked(q: Query, today: NaiveDate) -> Asked {
    let group_by = match q.group.as_deref() {
        Some("village") => GroupBy::Village,
        Some("assignee") => GroupBy::Assignee,
        _ => GroupBy::Unit,
    };
    let first = today.with_day(1).unwrap_or(today);
    let text = |t: Option<String>| t.map(|t| t.trim().to_string()).unwrap_or_default();
    let (from_text, to_text) = (text(q.from), text(q.to));
    let date = |t: &str, default: NaiveDate| {
        if t.is_empty() {
            Some(default)
        } else {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
        }
    };
    let (from, to, error) = match (date(&from_text, first), date(&to_text, today)) {
        (Some(from), Some(to)) => match compliance::check_period(from, to) {
            Ok(()) => (from, to, None),
            Err(_) if from > to => (first, today, Some("开始日期不能晚于结束日期。")),
            Err(_) => (first, today, Some("统计期间最长三年。")),
        },
        _ => (first, today, Some("日期填写有误，请选择日期。")),
    };
    Asked {
        group_by,
        from_text: if error.is_some() {
            from_text
        } else {
            from.to_string()
        },
        to_text: if error.is_some() {
            to_text
        } else {
            to.to_string()
        },
        from,
        to,
        error,
    }
}

#[derive(Template)]
#[template(path = "desk/compliance.html")]
struct CompliancePage {
    nav: Nav,
    group: &'static str,
    group_word: &'static str,
    from_text: String,
    to_text: String,
    error: Option<&'static str>,
    period: String,
    headline: Line,
    lines: Vec<Line>,
    total: Line,
    differ: Option<String>,
    chart: String,
    export_link: String,
}

/// The sentence saying why the totals by village and by unit differ, with their numbers;
/// `None` when they agree.
pub fn totals_differ(by_unit: &ComplianceCounts, by_village: &ComplianceCounts) -> Option<String> {
    let key = |c: &ComplianceCounts| (c.created, c.assigned, c.first_resolved, c.overdue_open);
    if key(by_unit) == key(by_village) {
        return None;
    }
    Some(format!(
        "按村合计：新收 {} 件、受理 {} 件、办结 {} 件、当前超期 {} 件；按责任单位合计：新收 {} 件、受理 {} 件、办结 {} 件、当前超期 {} 件。\
         相差的是还没有责任单位的工单（当场解决的和尚未派单的），它们只计入所在的村。",
        by_village.created,
        by_village.assigned,
        by_village.first_resolved,
        by_village.overdue_open,
        by_unit.created,
        by_unit.assigned,
        by_unit.first_resolved,
        by_unit.overdue_open,
    ))
}

/// The trend of the three rates, one point a month.
pub fn trend_chart(months: &[(NaiveDate, ComplianceRates)]) -> String {
    let series = |name: &str, rate: fn(&ComplianceRates) -> Option<f64>| Series {
        name: name.into(),
        points: months
            .iter()
            .map(|(first, r)| (format!("{}月", first.month()), rate(r)))
            .collect(),
    };
    chart::rate_lines(
        "近六个月三率走势",
        &[
            series("响应率", |r| r.response_rate),
            series("按期办结率", |r| r.on_time_rate),
            series("满意率", |r| r.satisfaction_rate),
        ],
    )
}

async fn counted(
    state: &State,
    staff: &Staff,
    asked: &Asked,
    now: DateTime<Utc>,
) -> Result<Overview, ApiError> {
    let within = compliance::scope(&staff.actor)?;
    let tz = state.rules.timezone;
    let (group_by, period) = (asked.group_by, (asked.from, asked.to));
    state
        .db
        .run(move |conn| compliance::overview(conn, &within, group_by, period, tz, now))
        .await
}

async fn page(state: State, staff: Staff, query: web::Query<Query>) -> PageResult {
    let now = Utc::now();
    let asked = asked(
        query.into_inner(),
        compliance::today(state.rules.timezone, now),
    );
    let o = counted(&state, &staff, &asked, now).await?;
    let group = group_value(asked.group_by);
    let page = CompliancePage {
        nav: staff.nav("compliance"),
        group,
        group_word: group_word(asked.group_by),
        period: format!(
            "{}—{}",
            date_with_year(asked.from),
            date_with_year(asked.to)
        ),
        headline: Line::of_total(&o.by_village),
        lines: o.chosen.rows.iter().map(Line::of_row).collect(),
        total: Line::of_total(&o.chosen.total),
        differ: totals_differ(&o.by_unit, &o.by_village),
        chart: trend_chart(&o.months),
        export_link: format!(
            "/desk/compliance/export?group={group}&from={}&to={}",
            asked.from, asked.to
        ),
        from_text: asked.from_text,
        to_text: asked.to_text,
        error: asked.error,
    };
    if page.error.is_some() {
        html(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        ok(&page)
    }
}

/// The table on the page, totals row included, as an Excel workbook.
async fn download(state: State, staff: Staff, query: web::Query<Query>) -> PageResult {
    let now = Utc::now();
    let asked = asked(
        query.into_inner(),
        compliance::today(state.rules.timezone, now),
    );
    if asked.error.is_some() {
        return Err(ApiError::invalid("from", "not a period").into());
    }
    let o = counted(&state, &staff, &asked, now).await?;
    let mut rows: Vec<Vec<Cell>> = o
        .chosen
        .rows
        .iter()
        .map(|r| Line::of_row(r).cells())
        .collect();
    rows.push(Line::of_total(&o.chosen.total).cells());
    let headers = [
        group_word(asked.group_by),
        "受理",
        "办结",
        "响应率（%）",
        "办结率（%）",
        "按期办结率（%）",
        "满意率（%）",
        "平均满意度",
        "重办率（%）",
        "当前超期",
        "期内超期办结",
        "平均办理时长（小时）",
    ];
    let bytes = export::xlsx("履约统计", &headers, &rows)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"compliance-{}-{}-{}.xlsx\"",
                group_value(asked.group_by),
                asked.from,
                asked.to
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
