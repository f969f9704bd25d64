//! 督查通报 `/desk/bulletin`: the monthly bulletin (第N期, N the month's number) on one
//! printable page — the three rates by unit and by village, the top and bottom of each
//! ranking, the orders overdue at the month's end, flagged check-ins and the 后进表态 list.
//! Every number comes from the services the API answers with (`crate::compliance`,
//! `crate::scoring`), for the same period and the reader's own subtree.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use minqing_protocol::{CadreCategory, ScoreRow};
use serde::Deserialize;

use super::compliance::{date_with_year, Line};
use super::scores::{period_words, standing_words, CATEGORIES};
use super::{Nav, Staff};
use crate::compliance::{self, Grouped, OverdueOrder};
use crate::db::checkins;
use crate::db::compliance::GroupBy;
use crate::db::models::{enum_text, utc};
use crate::domain::access::{reach, Action};
use crate::domain::labels;
use crate::domain::scoring::{Period, PeriodKind};
use crate::error::ApiError;
use crate::http::State;
use crate::pages::{html, ok, PageResult};
use crate::scoring::{self, bounds, Standing, Town};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/bulletin", web::get().to(page));
}

/// How many of the top and of the bottom of a ranking the bulletin names.
const NAMED: usize = 3;
/// The overdue list names at most this many, most overdue first (the page says when it stopped).
const OVERDUE_SHOWN: i64 = 50;

#[derive(Deserialize, Default)]
struct Query {
    month: Option<String>,
}

/// The month asked for (last month by default), or what to say about the form.
fn asked(q: Query, today: NaiveDate) -> Result<(Period, String, Option<&'static str>), ApiError> {
    let first = today.with_day(1).unwrap_or(today);
    let last_month = first.pred_opt().unwrap_or(first);
    let default =
        Period::new(PeriodKind::Month, last_month.year(), last_month.month()).map_err(|_| {
            ApiError::Internal(anyhow::anyhow!("{today} lies outside the years scored"))
        })?;
    let typed = q.month.unwrap_or_default().trim().to_string();
    if typed.is_empty() {
        return Ok((default, default.to_string(), None));
    }
    match Period::parse(&typed) {
        Ok(p) if p.kind() == PeriodKind::Month => Ok((p, typed, None)),
        _ => Ok((default, typed, Some("月份请写成 2026-11 这样的年-月。"))),
    }
}

/// A ranked cadre as the bulletin names them.
struct Named {
    rank: String,
    name: String,
    total: String,
    grade: String,
}

impl Named {
    fn of(row: &ScoreRow) -> Named {
        Named {
            rank: row
                .town_rank
                .map_or_else(|| "—".to_string(), |r| r.to_string()),
            name: row.name.clone(),
            total: format!("{:.2}", row.total),
            grade: labels::label_or_word("grade", &row.grade),
        }
    }
}

/// One town's ranking of one category: its top and its bottom (nobody in both).
struct Ranking {
    title: String,
    of: usize,
    top: Vec<Named>,
    bottom: Vec<Named>,
}

struct Statement {
    town: String,
    category: String,
    name: String,
    rank: String,
}

struct OverdueLine {
    code: String,
    title: String,
    village: String,
    unit: String,
    assignee: String,
    due: String,
    days: i64,
}

fn category_word(c: CadreCategory) -> String {
    labels::label_or_word("cadre_category", &enum_text(&c))
}

/// Each category's rankings town by town, best first, and who must make a statement.
fn rankings(
    scored: &[(CadreCategory, Vec<ScoreRow>, HashMap<String, Town>)],
) -> (Vec<Ranking>, Vec<Statement>) {
    let mut out = Vec::new();
    let mut statements = Vec::new();
    for (category, rows, towns) in scored {
        let mut by_town: HashMap<Option<&Town>, Vec<&ScoreRow>> = HashMap::new();
        for row in rows {
            by_town
                .entry(towns.get(&row.user_id))
                .or_default()
                .push(row);
        }
        let mut by_town: Vec<_> = by_town.into_iter().collect();
        // Towns by name, cadres outside every town last.
        by_town.sort_by_key(|(town, _)| (town.is_none(), town.map(|t| (&t.name, &t.path))));
        for (town, mut members) in by_town {
            members.sort_by(|a, b| {
                (a.town_rank.unwrap_or(u32::MAX), &a.name)
                    .cmp(&(b.town_rank.unwrap_or(u32::MAX), &b.name))
            });
            let town_name = town.map_or_else(|| "不属任何乡镇".to_string(), |t| t.name.clone());
            let top = members.len().min(NAMED);
            let bottom_from = members.len().saturating_sub(NAMED).max(top);
            for row in members
                .iter()
                .filter(|r| r.flags.iter().any(|f| f == "statement"))
            {
                statements.push(Statement {
                    town: town_name.clone(),
                    category: category_word(*category),
                    name: row.name.clone(),
                    rank: Named::of(row).rank,
                });
            }
            out.push(Ranking {
                title: format!("{town_name} · {}", category_word(*category)),
                of: members.len(),
                top: members[..top].iter().map(|r| Named::of(r)).collect(),
                bottom: members[bottom_from..]
                    .iter()
                    .map(|r| Named::of(r))
                    .collect(),
            });
        }
    }
    (out, statements)
}

/// Everything the bulletin counts, read in one go.
struct Counted {
    by_unit: Grouped,
    by_village: Grouped,
    scored: Vec<(CadreCategory, Vec<ScoreRow>, HashMap<String, Town>)>,
    unscored: Vec<CadreCategory>,
    standing: Standing,
    overdue: Vec<OverdueOrder>,
    /// Check-ins of the month that were flagged, and of those still waiting for review.
    flagged: (i64, i64),
}

async fn count(
    state: &State,
    staff: &Staff,
    month: Period,
    now: DateTime<Utc>,
) -> Result<Counted, ApiError> {
    let orders_within = compliance::scope(&staff.actor)?;
    let scores_within = scoring::scope(&staff.actor)?;
    let checkins_within = reach(&staff.actor, Action::ReviewCheckins)?.subtree()?;
    let actor = staff.actor.clone();
    let tz = state.rules.timezone;
    state
        .db
        .run(move |conn| {
            let days = (month.first_day(), month.last_day());
            let by_unit = compliance::grouped(
                conn,
                &compliance::filter(GroupBy::Unit, &orders_within, days, tz, now),
            )?;
            let by_village = compliance::grouped(
                conn,
                &compliance::filter(GroupBy::Village, &orders_within, days, tz, now),
            )?;
            let mut scored = Vec::new();
            let mut unscored = Vec::new();
            for category in CATEGORIES {
                match scoring::visible(conn, scores_within.as_deref(), category, month, tz, now) {
                    Ok(ranked) => {
                        let towns = scoring::towns_of(conn, &ranked)?;
                        scored.push((category, ranked.rows, towns));
                    }
                    Err(ApiError::NotFound(_)) => unscored.push(category),
                    Err(e) => return Err(e),
                }
            }
            let cutoff = bounds(month, tz, now).cutoff;
            Ok(Counted {
                by_unit,
                by_village,
                scored,
                unscored,
                standing: scoring::standing(conn, month, tz, now)?,
                overdue: compliance::overdue_at(conn, &actor, cutoff, OVERDUE_SHOWN)?,
                flagged: checkins::flagged_and_waiting(
                    conn,
                    checkins_within.as_deref(),
                    days.0,
                    days.1,
                )?,
            })
        })
        .await
}

#[derive(Template)]
#[template(path = "desk/bulletin.html")]
struct BulletinPage {
    nav: Nav,
    month_text: String,
    error: Option<&'static str>,
    issue: String,
    month_words: String,
    issuer: String,
    period: String,
    made: String,
    standing: String,
    closed: bool,
    headline: Line,
    units: Vec<Line>,
    unit_total: Line,
    villages: Vec<Line>,
    village_total: Line,
    rankings: Vec<Ranking>,
    unscored: String,
    statements: Vec<Statement>,
    overdue_at: String,
    overdue: Vec<OverdueLine>,
    overdue_cut: bool,
    flagged: i64,
    waiting: i64,
}

async fn page(state: State, staff: Staff, query: web::Query<Query>) -> PageResult {
    let now = Utc::now();
    let tz = state.rules.timezone;
    let (month, month_text, error) = asked(query.into_inner(), compliance::today(tz, now))?;
    let c = count(&state, &staff, month, now).await?;
    let (rankings, statements) = rankings(&c.scored);
    // While the month runs its overdue orders are those of now, after it those of its end.
    let b = bounds(month, tz, now);
    let overdue_cut = i64::try_from(c.overdue.len()).unwrap_or(i64::MAX) >= OVERDUE_SHOWN;
    let page = BulletinPage {
        issue: format!("{}年第{}期", month.year(), month.index()),
        month_words: period_words(month),
        issuer: format!("{}督查办", staff.unit_name),
        period: format!(
            "{}—{}",
            date_with_year(month.first_day()),
            date_with_year(month.last_day())
        ),
        made: labels::local_date_time_with_year(now, tz),
        standing: standing_words(c.standing, month, tz),
        closed: matches!(c.standing, Standing::Closed(_)),
        headline: Line::of_total(&c.by_village.total),
        units: c.by_unit.rows.iter().map(Line::of_row).collect(),
        unit_total: Line::of_total(&c.by_unit.total),
        villages: c.by_village.rows.iter().map(Line::of_row).collect(),
        village_total: Line::of_total(&c.by_village.total),
        rankings,
        unscored: c
            .unscored
            .iter()
            .map(|c| category_word(*c))
            .collect::<Vec<_>>()
            .join("、"),
        statements,
        overdue_at: if b.cutoff < b.end {
            labels::local_date_time_with_year(now, tz)
        } else {
            date_with_year(month.last_day())
        },
        overdue: c
            .overdue
            .into_iter()
            .map(|o| OverdueLine {
                due: labels::local_date_time_with_year(utc(o.due_at), tz),
                unit: o.unit.unwrap_or_else(|| "—".into()),
                assignee: o.assignee.unwrap_or_else(|| "—".into()),
                code: o.code,
                title: o.title,
                village: o.village,
                days: o.days,
            })
            .collect(),
        overdue_cut,
        flagged: c.flagged.0,
        waiting: c.flagged.1,
        nav: staff.nav("bulletin"),
        month_text,
        error,
    };
    if page.error.is_some() {
        html(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        ok(&page)
    }
}
