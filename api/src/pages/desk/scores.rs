//! 考核排名 `/desk/scores`: a category's ranking for a month, quarter or year, one table per
//! town ranked within the town, each cadre's breakdown behind 明细, and the ranking as
//! Excel. Rows, ranks and breakdowns come from `crate::scoring`, as `GET /api/v1/scores` and
//! `GET /api/v1/scores/{user_id}` give them; the records behind a breakdown are counted only
//! for the cadre opened (`?open=`), since that takes a query per line.

pub use crate::domain::labels::period_words;
use std::collections::HashMap;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use minqing_protocol::{CadreCategory, ScoreLine, ScoreRow, UnitScore};
use serde::Deserialize;

use super::{Nav, Staff};
use crate::db::models::{enum_text, utc};
use crate::domain::chart::percent;
use crate::domain::labels;
use crate::domain::scoring::{Metric, Period, PeriodKind, Rule};
use crate::error::ApiError;
use crate::export::{self, Cell};
use crate::http::State;
use crate::pages::{html, ok, PageResult};
use crate::scoring::{self, Ranked, Standing, Town};
use crate::scoring_views::{self, UnitKind};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/scores", web::get().to(page))
        .route("/desk/scores/export", web::get().to(download));
}

pub const CATEGORIES: [CadreCategory; 3] = [
    CadreCategory::Leadership,
    CadreCategory::Organ,
    CadreCategory::Village,
];

fn period_noun(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "本月",
        PeriodKind::Quarter => "本季度",
        PeriodKind::Year => "本年",
    }
}

/// Whether a period's scores are frozen or live, in words.
pub fn standing_words(standing: Standing, period: Period, tz: Tz) -> String {
    match standing {
        Standing::Closed(at) => format!(
            "已结算（{}结算，分数已冻结）",
            labels::local_date_time_with_year(utc(at), tz)
        ),
        Standing::Ahead => "实时（尚未开始）".into(),
        Standing::Live(gone) if gone >= 1.0 => "实时（期间已结束，尚未结算）".into(),
        // Still running: the scores are not final, they move with every record.
        Standing::Live(gone) => format!(
            "{}进行中：已过 {}%，分数随记录变化",
            period_noun(period.kind()),
            (gone * 100.0).round()
        ),
    }
}

/// The period that holds `today`, of `kind`.
fn period_of(kind: PeriodKind, today: NaiveDate) -> Option<Period> {
    let index = match kind {
        PeriodKind::Month => today.month(),
        PeriodKind::Quarter => today.month().div_ceil(3),
        PeriodKind::Year => 0,
    };
    Period::new(kind, today.year(), index).ok()
}

/// Recent periods to choose from: six months, four quarters and two years, newest first.
fn recent(today: NaiveDate) -> Vec<Period> {
    [
        (PeriodKind::Month, 6),
        (PeriodKind::Quarter, 4),
        (PeriodKind::Year, 2),
    ]
    .into_iter()
    .flat_map(|(kind, n)| std::iter::successors(period_of(kind, today), |p| p.previous()).take(n))
    .collect()
}

#[derive(Deserialize, Default)]
struct Query {
    period: Option<String>,
    other: Option<String>,
    category: Option<String>,
    open: Option<String>,
}

struct Asked {
    period: Period,
    category: CadreCategory,
    other: String,
    error: Option<&'static str>,
    open: Option<String>,
}

/// Reads the form: a typed period wins over the chosen one; the default is this month's
/// ranking of organ staff.
fn asked(q: Query, today: NaiveDate) -> Result<Asked, ApiError> {
    let this_month = period_of(PeriodKind::Month, today).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("{today} lies outside the years scored"))
    })?;
    let other = q.other.unwrap_or_default().trim().to_string();
    let chosen = if other.is_empty() {
        q.period.unwrap_or_default().trim().to_string()
    } else {
        other.clone()
    };
    let (period, error) = if chosen.is_empty() {
        (this_month, None)
    } else {
        match Period::parse(&chosen) {
            Ok(p) => (p, None),
            Err(_) => (
                this_month,
                Some("期间请写成 2026-11（月）、2026-Q4（季度）或 2026（年）。"),
            ),
        }
    };
    let category = match q.category.as_deref() {
        Some("leadership") => CadreCategory::Leadership,
        Some("village") => CadreCategory::Village,
        _ => CadreCategory::Organ,
    };
    Ok(Asked {
        period,
        category,
        other: if error.is_some() {
            other
        } else {
            String::new()
        },
        error,
        open: q.open.filter(|o| !o.is_empty()),
    })
}

/// What the page shows, read in one go.
struct Loaded {
    /// `None` when the category has no scheme for this kind of period.
    ranked: Option<Ranked>,
    towns: HashMap<String, Town>,
    standing: Standing,
    opened: Option<ScoreRow>,
    /// 单位排名 of the same rows: by town, and by department.
    town_units: Vec<UnitScore>,
    department_units: Vec<UnitScore>,
    /// The veto areas' stored names, by code (the admin may add areas).
    area_names: HashMap<String, String>,
}

async fn load(
    state: &State,
    staff: &Staff,
    asked: &Asked,
    now: DateTime<Utc>,
) -> Result<Loaded, ApiError> {
    let within = scoring::scope(&staff.actor)?;
    let actor = staff.actor.clone();
    let tz = state.rules.timezone;
    let (category, period, open) = (asked.category, asked.period, asked.open.clone());
    state
        .db
        .run(move |conn| {
            let ranked = match scoring::visible(conn, within.as_deref(), category, period, tz, now)
            {
                Ok(r) => Some(r),
                Err(ApiError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let towns = match &ranked {
                Some(r) => scoring::towns_of(conn, r)?,
                None => HashMap::new(),
            };
            let (town_units, department_units) = match &ranked {
                Some(r) => (
                    scoring_views::by_unit(r, &scoring_views::units_of(conn, UnitKind::Town)?),
                    scoring_views::by_unit(
                        r,
                        &scoring_views::units_of(conn, UnitKind::Department)?,
                    ),
                ),
                None => (Vec::new(), Vec::new()),
            };
            let standing = scoring::standing(conn, period, tz, now)?;
            let area_names = crate::vetoes::area_names(conn)?;
            // A cadre not in this ranking, or out of reach, is simply not opened.
            let opened = match open {
                Some(user) => match scoring::explained(conn, &actor, &user, period, tz, now) {
                    Ok(row) => Some(row),
                    Err(ApiError::NotFound(_)) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            Ok(Loaded {
                ranked,
                towns,
                standing,
                opened,
                town_units,
                department_units,
                area_names,
            })
        })
        .await
}

/// One unit's line in 单位排名.
struct UnitRowView {
    unit_id: String,
    rank: String,
    name: String,
    cadres: String,
    mean: String,
    sum: String,
}

/// 单位排名 by one kind of unit.
struct UnitTable {
    /// `town` or `department`, for element ids.
    kind: &'static str,
    caption: &'static str,
    /// The first column's heading.
    unit_word: &'static str,
    rows: Vec<UnitRowView>,
}

/// The unit tables to show: by town always, by department when any cadre is in one.
fn unit_tables(loaded: &Loaded) -> Vec<UnitTable> {
    let view = |units: &[UnitScore]| {
        units
            .iter()
            .map(|u| UnitRowView {
                unit_id: u.unit_id.clone(),
                rank: format!("{} / {}", u.rank, u.of),
                name: u.name.clone(),
                cadres: u.cadres.to_string(),
                mean: points(u.mean),
                sum: points(u.sum),
            })
            .collect()
    };
    let mut tables = vec![UnitTable {
        kind: "town",
        caption: "按乡镇",
        unit_word: "乡镇",
        rows: view(&loaded.town_units),
    }];
    if !loaded.department_units.is_empty() {
        tables.push(UnitTable {
            kind: "department",
            caption: "按部门（只计属于部门的干部）",
            unit_word: "部门",
            rows: view(&loaded.department_units),
        });
    }
    tables
}

/// Points with two decimals.
fn points(p: f64) -> String {
    format!("{p:.2}")
}

/// Points added or taken: `+1.50`, `-2.00`, `0.00`.
fn signed(p: f64) -> String {
    if p > 0.0 {
        format!("+{p:.2}")
    } else {
        format!("{p:.2}")
    }
}

/// A count or target as written: `8`, `2.5`.
fn amount(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An indicator's value: a rate in percent, a count as a number, `—` with nothing measured.
/// A line scored by the `rate` rule is a rate whatever its metric: a manual value entered as
/// a share (0.85) reads 85.0% like the work-order rates.
fn value_text(line: &ScoreLine) -> String {
    let rate = Metric::parse(&line.metric).is_some_and(Metric::is_rate)
        || Rule::parse(&line.rule) == Some(Rule::Rate);
    match (rate, line.value) {
        (true, v) => percent(v),
        (false, Some(v)) => amount(v),
        (false, None) => "—".into(),
    }
}

fn join_or_dash(words: Vec<String>) -> String {
    if words.is_empty() {
        "—".into()
    } else {
        words.join("、")
    }
}

/// A row's flags in words (the veto has its own column); a capped indicator is named.
fn flag_words(row: &ScoreRow) -> Vec<String> {
    row.flags
        .iter()
        .filter(|f| f.as_str() != "veto")
        .map(|f| match f.strip_prefix("capped:") {
            Some(code) => {
                let name = row.breakdown.iter().find(|l| l.code == code);
                match name {
                    Some(line) => format!(
                        "{}（{}）",
                        labels::label_or_word("score_flag", f),
                        line.name
                    ),
                    None => labels::label_or_word("score_flag", f),
                }
            }
            None => labels::label_or_word("score_flag", f),
        })
        .collect()
}

/// The areas of a row's vetoes by their names (安全生产).
fn veto_words(row: &ScoreRow, names: &HashMap<String, String>) -> Vec<String> {
    row.veto_areas
        .iter()
        .map(|a| crate::vetoes::name_of(names, a))
        .collect()
}

struct LineView {
    /// Set on the first line of a 大项: its name, subtotal and cap in words.
    group_header: Option<String>,
    code: String,
    name: String,
    value: String,
    target: String,
    rule: String,
    points: String,
    /// How many records the line was counted from; `None` until the cadre is opened.
    records: Option<String>,
}

struct RowView {
    user_id: String,
    rank: String,
    name: String,
    total: String,
    democratic: String,
    adjustments: String,
    grade: String,
    veto: String,
    flags: String,
    lines: Vec<LineView>,
    /// A year scored as the mean of its quarters: each quarter's total.
    quarters: Option<String>,
    open: bool,
    open_link: String,
    adjustment_items: Vec<String>,
    veto_items: Vec<String>,
}

struct TownTable {
    name: String,
    rows: Vec<RowView>,
}

/// Evidence lists stop at this many ids (see `db::scoring::evidence`).
const EVIDENCE_LIMIT: usize = 500;

/// The breakdown's lines 大项 by 大项 (in the scheme's order, lines outside any last), each
/// group's first line carrying the group's header: `夜间工作 小计 25.00（上限 25.00）`.
fn grouped_lines(row: &ScoreRow) -> Vec<(Option<String>, &ScoreLine)> {
    let position = |l: &ScoreLine| {
        l.group
            .as_ref()
            .and_then(|g| row.groups.iter().position(|x| &x.name == g))
            .unwrap_or(usize::MAX)
    };
    let mut lines: Vec<&ScoreLine> = row.breakdown.iter().collect();
    lines.sort_by_key(|l| position(l));
    let mut seen = None;
    lines
        .into_iter()
        .map(|l| {
            let at = position(l);
            let header = (seen != Some(at))
                .then(|| row.groups.get(at))
                .flatten()
                .map(|g| {
                    let cap = g
                        .cap
                        .map(|c| format!("（上限 {}）", points(c)))
                        .unwrap_or_default();
                    format!("{} 小计 {}{cap}", g.name, points(g.points))
                });
            seen = Some(at);
            (header, l)
        })
        .collect()
}

fn row_view(
    row: &ScoreRow,
    opened: Option<&ScoreRow>,
    link: &str,
    names: &HashMap<String, String>,
) -> RowView {
    let open = opened.is_some();
    let shown = opened.unwrap_or(row);
    RowView {
        rank: row
            .town_rank
            .map_or_else(|| "—".to_string(), |r| r.to_string()),
        name: row.name.clone(),
        total: points(row.total),
        democratic: points(row.democratic),
        adjustments: signed(row.adjustments),
        grade: labels::label_or_word("grade", &row.grade),
        veto: join_or_dash(veto_words(row, names)),
        flags: join_or_dash(flag_words(row)),
        lines: grouped_lines(shown)
            .into_iter()
            .map(|(group_header, l)| LineView {
                group_header,
                code: l.code.clone(),
                name: l.name.clone(),
                value: if l.excluded {
                    "不适用".to_string()
                } else {
                    value_text(l)
                },
                target: l.target.map_or_else(|| "—".to_string(), amount),
                rule: if l.excluded {
                    "不计分，分值按比例计入其他指标".to_string()
                } else {
                    labels::label_or_word("rule", &l.rule)
                },
                points: if l.excluded {
                    "—".to_string()
                } else {
                    points(l.points)
                },
                records: l.record_ids.as_ref().map(|ids| {
                    if ids.len() >= EVIDENCE_LIMIT {
                        format!("{EVIDENCE_LIMIT} 条以上")
                    } else {
                        format!("{} 条", ids.len())
                    }
                }),
            })
            .collect(),
        quarters: row.quarters.as_ref().map(|qs| {
            qs.iter()
                .enumerate()
                .map(|(i, q)| {
                    let q = q.map_or_else(|| "—".to_string(), points);
                    format!(
                        "第{}季度 {q}",
                        ["一", "二", "三", "四"].get(i).unwrap_or(&"")
                    )
                })
                .collect::<Vec<_>>()
                .join("，")
        }),
        open,
        open_link: format!("{link}&open={}#c-{}", row.user_id, row.user_id),
        adjustment_items: shown
            .adjustment_items
            .iter()
            .map(|a| {
                let state = if a.approved { "已审批" } else { "待审批" };
                format!("{} 分（{state}）：{}", signed(a.points), a.reason)
            })
            .collect(),
        veto_items: shown
            .veto_items
            .iter()
            .map(|v| {
                // Older answers carry no name: the label table's, else the code.
                let area = if v.area_name.is_empty() {
                    labels::label_or_word("veto_area", &v.area)
                } else {
                    v.area_name.clone()
                };
                let status = labels::label_or_word("veto_status", &enum_text(&v.status));
                format!("{area}（{status}）：{}", v.reason)
            })
            .collect(),
        user_id: row.user_id.clone(),
    }
}

/// The rows by town (towns by name, cadres outside every town last), each ranked within
/// its town, ties sharing a rank.
fn by_town<'a>(
    rows: &'a [ScoreRow],
    towns: &HashMap<String, Town>,
) -> Vec<(String, Vec<&'a ScoreRow>)> {
    let mut grouped: HashMap<Option<&Town>, Vec<&ScoreRow>> = HashMap::new();
    for row in rows {
        grouped
            .entry(towns.get(&row.user_id))
            .or_default()
            .push(row);
    }
    let mut tables: Vec<(Option<&Town>, Vec<&ScoreRow>)> = grouped.into_iter().collect();
    tables.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => (&x.name, &x.path).cmp(&(&y.name, &y.path)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    tables
        .into_iter()
        .map(|(town, mut rows)| {
            rows.sort_by(|a, b| {
                (a.town_rank.unwrap_or(u32::MAX), &a.name, &a.user_id).cmp(&(
                    b.town_rank.unwrap_or(u32::MAX),
                    &b.name,
                    &b.user_id,
                ))
            });
            let name = town.map_or_else(|| "不属任何乡镇".to_string(), |t| t.name.clone());
            (name, rows)
        })
        .collect()
}

struct PeriodChoice {
    value: String,
    label: String,
    selected: bool,
}

struct CategoryChoice {
    value: String,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "desk/scores.html")]
struct ScoresPage {
    nav: Nav,
    periods: Vec<PeriodChoice>,
    categories: Vec<CategoryChoice>,
    other: String,
    error: Option<&'static str>,
    title: String,
    standing: String,
    frozen: bool,
    no_scheme: bool,
    towns: Vec<TownTable>,
    export_link: String,
    unit_tables: Vec<UnitTable>,
}

fn category_word(c: CadreCategory) -> String {
    labels::label_or_word("cadre_category", &enum_text(&c))
}

async fn page(state: State, staff: Staff, query: web::Query<Query>) -> PageResult {
    let now = Utc::now();
    let tz = state.rules.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let asked = asked(query.into_inner(), today)?;
    let loaded = load(&state, &staff, &asked, now).await?;
    let link = format!(
        "/desk/scores?period={}&category={}",
        asked.period,
        enum_text(&asked.category)
    );
    let towns = match &loaded.ranked {
        Some(ranked) => by_town(&ranked.rows, &loaded.towns)
            .into_iter()
            .map(|(name, rows)| TownTable {
                name,
                rows: rows
                    .into_iter()
                    .map(|r| {
                        let opened = loaded.opened.as_ref().filter(|o| o.user_id == r.user_id);
                        row_view(r, opened, &link, &loaded.area_names)
                    })
                    .collect(),
            })
            .collect(),
        None => Vec::new(),
    };
    let mut periods = recent(today);
    if !periods.contains(&asked.period) {
        periods.insert(0, asked.period);
    }
    let page = ScoresPage {
        nav: staff.nav("scores"),
        periods: periods
            .into_iter()
            .map(|p| PeriodChoice {
                value: p.to_string(),
                label: period_words(p),
                selected: p == asked.period,
            })
            .collect(),
        categories: CATEGORIES
            .into_iter()
            .map(|c| CategoryChoice {
                value: enum_text(&c),
                label: match c {
                    CadreCategory::Leadership => "班子成员",
                    CadreCategory::Organ => "机关干部",
                    CadreCategory::Village => "农村干部",
                },
                selected: c == asked.category,
            })
            .collect(),
        other: asked.other.clone(),
        error: asked.error,
        title: format!(
            "{} {}考核排名",
            period_words(asked.period),
            category_word(asked.category)
        ),
        standing: standing_words(loaded.standing, asked.period, tz),
        frozen: matches!(loaded.standing, Standing::Closed(_)),
        no_scheme: loaded.ranked.is_none(),
        towns,
        export_link: link.replace("/desk/scores?", "/desk/scores/export?"),
        unit_tables: unit_tables(&loaded),
    };
    if page.error.is_some() {
        html(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        ok(&page)
    }
}

/// The ranking on the page, town by town, as an Excel workbook with each indicator's points.
async fn download(state: State, staff: Staff, query: web::Query<Query>) -> PageResult {
    let now = Utc::now();
    let today = now.with_timezone(&state.rules.timezone).date_naive();
    let mut asked = asked(query.into_inner(), today)?;
    if asked.error.is_some() {
        return Err(ApiError::invalid("period", "must be YYYY-MM, YYYY-Qn or YYYY").into());
    }
    asked.open = None;
    let loaded = load(&state, &staff, &asked, now).await?;
    let ranked = loaded
        .ranked
        .ok_or_else(|| ApiError::NotFound("no scheme for this ranking".into()))?;
    let indicators: Vec<(String, String)> = ranked
        .rows
        .first()
        .map(|r| {
            r.breakdown
                .iter()
                .map(|l| (l.code.clone(), l.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut headers: Vec<String> = [
        "乡镇",
        "镇内排名",
        "姓名",
        "总分",
        "民主测评",
        "加减分",
        "等次",
        "一票否决",
        "标记",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    headers.extend(indicators.iter().map(|(_, name)| name.clone()));
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for (town, members) in by_town(&ranked.rows, &loaded.towns) {
        for r in members {
            let mut cells = vec![
                Cell::from(town.clone()),
                r.town_rank
                    .map(|n| Cell::Number(f64::from(n)))
                    .unwrap_or(Cell::Empty),
                r.name.clone().into(),
                Cell::Points(r.total),
                Cell::Points(r.democratic),
                Cell::Points(r.adjustments),
                labels::label_or_word("grade", &r.grade).into(),
                veto_words(r, &loaded.area_names).join("、").into(),
                flag_words(r).join("、").into(),
            ];
            cells.extend(indicators.iter().map(|(code, _)| {
                r.breakdown
                    .iter()
                    .find(|l| &l.code == code)
                    .map_or(Cell::Empty, |l| Cell::Points(l.points))
            }));
            rows.push(cells);
        }
    }
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let bytes = export::xlsx("考核排名", &headers, &rows)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"scores-{}-{}.xlsx\"",
                asked.period,
                enum_text(&asked.category)
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
