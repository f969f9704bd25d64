//! Scores as the API, the desk and the demo see them: the active scheme of a period run over
//! the metrics of a whole category (or a closed period's frozen rows), whose rows and
//! breakdowns an actor may read, and closing a period.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use minqing_protocol::{
    AdjustmentItem, CadreCategory, DemocraticPart, PeriodClosure, RaterGroup, RecordStatus,
    ScoreLine, ScoreRow, VetoItem,
};

use crate::db::models::{enum_text, parse_enum, UserRow};
use crate::db::scoring::{self as store, PeriodBounds, SchemeRow, SnapshotRow};
use crate::db::{new_id, org, users, DbConn};
use crate::domain::access::{authorize_record, reach, Action, Actor};
use crate::domain::people::{default_rater_group, default_staff_type};
use crate::domain::scoring::{
    consequences, default_schemes, grade, mean_of_quarters, points, rank, score_all, year_review,
    CadreInput, Metric, Period, PeriodKind, PreviousPeriod, Scheme, Score, VetoArea,
};
use crate::domain::workdays::start_of_local_day;
use crate::error::{ApiError, ApiResult};

const CATEGORIES: [CadreCategory; 3] = [
    CadreCategory::Leadership,
    CadreCategory::Organ,
    CadreCategory::Village,
];

fn parse_stored(row: &SchemeRow) -> ApiResult<Scheme> {
    let value: serde_json::Value = serde_json::from_str(&row.body)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored scheme {}: {e}", row.id)))?;
    Scheme::parse(&value).map_err(|_| {
        ApiError::Internal(anyhow::anyhow!("stored scheme {} no longer parses", row.id))
    })
}

pub fn scheme_row(id: String, version: i32, scheme: &Scheme, now: NaiveDateTime) -> SchemeRow {
    SchemeRow {
        id,
        name: scheme.name.clone(),
        cadre_category: enum_text(&scheme.cadre_category),
        period_kind: scheme.period.as_str().to_string(),
        version,
        body: scheme.to_json().to_string(),
        active: true,
        created_at: now,
        updated_at: now,
    }
}

/// Seeds the default schemes (DESIGN §2.5) into a database that has none.
pub fn seed_default_schemes(conn: &mut DbConn, now: DateTime<Utc>) -> ApiResult<()> {
    conn.write(|conn| {
        if store::any_scheme(conn)? {
            return Ok(());
        }
        for scheme in default_schemes() {
            store::save_scheme(conn, &scheme_row(new_id(), 1, &scheme, now.naive_utc()))?;
        }
        Ok(())
    })
}

/// A period's local days and instants in the town's time zone.
pub fn bounds(period: Period, tz: Tz, now: DateTime<Utc>) -> PeriodBounds {
    // Only at the edge of chrono's range is there no such instant; the date's own midnight
    // then stands in.
    let start_of = |d: chrono::NaiveDate| {
        start_of_local_day(d, tz)
            .map_or_else(|| d.and_time(chrono::NaiveTime::MIN), |t| t.naive_utc())
    };
    let (first, last) = (period.first_day(), period.last_day());
    let end = start_of(last.succ_opt().unwrap_or(last));
    PeriodBounds {
        first,
        last,
        start: start_of(first),
        end,
        cutoff: end.min(now.naive_utc()),
    }
}

/// The rows of one category for one period, ranked, with each cadre's unit path.
pub struct Ranked {
    pub rows: Vec<ScoreRow>,
    pub paths: HashMap<String, String>,
}

/// Scores a category for a period: frozen rows when the period is closed, else computed
/// now with the active scheme of the period's kind (or, for a year, the mean of the
/// quarters when the quarterly scheme says so).
pub fn scores_of(
    conn: &mut DbConn,
    category: CadreCategory,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Ranked> {
    let key = period.to_string();
    if store::closed_at(conn, &key)?.is_some() {
        let frozen = store::snapshots(conn, &key, &enum_text(&category))?;
        if !frozen.is_empty() {
            let rows = frozen
                .iter()
                .map(|s| {
                    serde_json::from_str::<ScoreRow>(&s.body).map_err(|e| {
                        ApiError::Internal(anyhow::anyhow!("snapshot of {}: {e}", s.user_id))
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            let mut ranked = Ranked {
                rows,
                paths: store::snapshot_paths(conn, &key, &enum_text(&category))?,
            };
            // Rows frozen before town ranks existed get them from the frozen totals.
            if ranked.rows.iter().all(|r| r.town_rank.is_none()) {
                add_town_ranks(conn, &mut ranked.rows, &ranked.paths)?;
            }
            return Ok(ranked);
        }
    }
    let category_text = enum_text(&category);
    if let Some(row) = store::active_scheme(conn, &category_text, period.kind().as_str())? {
        let scheme = parse_stored(&row)?;
        let live = live_scores(conn, &scheme, period, tz, now)?;
        let mut rows: Vec<ScoreRow> = live
            .scores
            .iter()
            .map(|s| score_row(s, &live.names, category, period, &row))
            .collect();
        add_year_review(conn, &scheme, period, &mut rows)?;
        add_town_ranks(conn, &mut rows, &live.paths)?;
        return Ok(Ranked {
            rows,
            paths: live.paths,
        });
    }
    if period.kind() == PeriodKind::Year {
        if let Some(row) = store::active_scheme(conn, &category_text, PeriodKind::Quarter.as_str())?
            .filter(|r| parse_stored(r).is_ok_and(|s| s.yearly_mean_of_quarters))
        {
            return mean_of_the_quarters(conn, category, period, &row, tz, now);
        }
    }
    Err(ApiError::NotFound(format!(
        "no active {} scheme for {} cadres",
        period.kind().as_str(),
        category_text
    )))
}

/// The subtree whose cadres' scores an actor reads as a list (`None`: every cadre).
pub fn scope(actor: &Actor) -> ApiResult<Option<String>> {
    Ok(reach(actor, Action::ReadScores)?.subtree()?)
}

/// A category's ranked rows for a period, only those of cadres under `within`; ranks stay
/// those among all the category's cadres, town ranks those within each town.
pub fn visible(
    conn: &mut DbConn,
    within: Option<&str>,
    category: CadreCategory,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Ranked> {
    let mut ranked = scores_of(conn, category, period, tz, now)?;
    if let Some(prefix) = within {
        let paths = &ranked.paths;
        ranked
            .rows
            .retain(|r| paths.get(&r.user_id).is_some_and(|p| p.starts_with(prefix)));
    }
    Ok(ranked)
}

/// One cadre's explained score (`GET /scores/{user_id}`): every indicator's value, target,
/// rule and points with the ids of the records it was counted from, the period's
/// adjustments (approved or waiting) and vetoes with their reasons. A cadre outside the
/// actor's reach answers as missing.
pub fn explained(
    conn: &mut DbConn,
    actor: &Actor,
    user_id: &str,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<ScoreRow> {
    let (user, path) =
        users::find_with_path(conn, user_id)?.ok_or_else(|| ApiError::not_found("cadre"))?;
    authorize_record(actor, Action::ReadScores, path.as_deref(), &user.id)?;
    let category: CadreCategory = match &user.cadre_category {
        Some(c) if user.role == "cadre" => parse_enum(c)?,
        _ => return Err(ApiError::NotFound("this user is not a scored cadre".into())),
    };
    let mut row = scores_of(conn, category, period, tz, now)?
        .rows
        .into_iter()
        .find(|r| r.user_id == user.id)
        .ok_or_else(|| ApiError::NotFound("no score for this cadre in that period".into()))?;
    let b = bounds(period, tz, now);
    for line in &mut row.breakdown {
        if let Some(metric) = Metric::parse(&line.metric) {
            line.record_ids = Some(store::evidence(conn, &user.id, metric, &b)?);
        }
    }
    let key = period.to_string();
    row.adjustment_items = store::adjustments_of_user(conn, &user.id, &key)?
        .into_iter()
        .map(|a| AdjustmentItem {
            points: points(a.centipoints),
            reason: a.reason,
            approved: a.approved_by.is_some(),
        })
        .collect();
    row.veto_items = store::vetoes_of_user(conn, &user.id, &key)?
        .into_iter()
        .map(|v| VetoItem {
            area: v.area,
            reason: v.reason,
        })
        .collect();
    Ok(row)
}

/// A town by its path and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Town {
    pub path: String,
    pub name: String,
}

/// The town of each ranked cadre (none for one outside every town), in one query.
pub fn towns_of(conn: &mut DbConn, ranked: &Ranked) -> ApiResult<HashMap<String, Town>> {
    let towns: HashMap<String, String> = org::list(
        conn,
        &org::OrgUnitFilter {
            kind: Some("town".into()),
            // A county has tens of towns; this is only a bound.
            limit: 10_000,
            ..Default::default()
        },
    )?
    .into_iter()
    .map(|u| (u.path, u.name))
    .collect();
    Ok(ranked
        .paths
        .iter()
        .filter_map(|(user, path)| {
            let town = town_of(path, |prefix| towns.contains_key(prefix))?;
            let name = towns.get(town)?.clone();
            Some((
                user.clone(),
                Town {
                    path: town.to_string(),
                    name,
                },
            ))
        })
        .collect())
}

/// Whether a period's scores are frozen or still moving.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Standing {
    /// Closed at this instant (UTC).
    Closed(NaiveDateTime),
    /// Scored live; the share of the period gone by (0..=1).
    Live(f64),
}

pub fn standing(
    conn: &mut DbConn,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Standing> {
    if let Some(at) = store::closed_at(conn, &period.to_string())? {
        return Ok(Standing::Closed(at));
    }
    let b = bounds(period, tz, now);
    let whole = (b.end - b.start).num_seconds();
    let gone = (b.cutoff - b.start).num_seconds();
    Ok(Standing::Live(if whole > 0 {
        (gone as f64 / whole as f64).clamp(0.0, 1.0)
    } else {
        1.0
    }))
}

struct Live {
    scores: Vec<Score>,
    names: HashMap<String, String>,
    paths: HashMap<String, String>,
}

fn live_scores(
    conn: &mut DbConn,
    scheme: &Scheme,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Live> {
    let key = period.to_string();
    let cadres = store::cadres_of(conn, &enum_text(&scheme.cadre_category))?;
    let who: HashSet<String> = cadres.iter().map(|c| c.0.clone()).collect();
    let mut metrics = store::metrics(conn, &who, &bounds(period, tz, now))?;
    let mut ratings: HashMap<String, Vec<(RaterGroup, f64)>> = HashMap::new();
    for (ratee, group, score) in store::ratings_of(conn, &key)? {
        if who.contains(&ratee) {
            ratings
                .entry(ratee)
                .or_default()
                .push((parse_enum(&group)?, score));
        }
    }
    let mut adjustments: HashMap<String, Vec<f64>> = HashMap::new();
    for (user, centi) in store::approved_adjustments(conn, &key)? {
        adjustments.entry(user).or_default().push(points(centi));
    }
    let mut vetoes: HashMap<String, Vec<VetoArea>> = HashMap::new();
    for (user, area) in store::vetoes_of(conn, &key)? {
        if let Some(area) = VetoArea::parse(&area) {
            vetoes.entry(user).or_default().push(area);
        }
    }
    let inputs: Vec<CadreInput> = cadres
        .iter()
        .map(|(id, _, _)| CadreInput {
            user_id: id.clone(),
            metrics: metrics.remove(id).unwrap_or_default(),
            ratings: ratings.remove(id).unwrap_or_default(),
            adjustments: adjustments.remove(id).unwrap_or_default(),
            vetoes: vetoes.remove(id).unwrap_or_default(),
        })
        .collect();
    Ok(Live {
        scores: score_all(scheme, &inputs),
        names: cadres
            .iter()
            .map(|(id, name, _)| (id.clone(), name.clone()))
            .collect(),
        paths: cadres.into_iter().map(|(id, _, path)| (id, path)).collect(),
    })
}

fn score_row(
    s: &Score,
    names: &HashMap<String, String>,
    category: CadreCategory,
    period: Period,
    scheme: &SchemeRow,
) -> ScoreRow {
    ScoreRow {
        user_id: s.user_id.clone(),
        name: names.get(&s.user_id).cloned().unwrap_or_default(),
        category,
        period: period.to_string(),
        total: points(s.total),
        rank: s.rank,
        of: s.of,
        town_rank: None,
        town_of: None,
        democratic: points(s.democratic.points),
        democratic_detail: DemocraticPart {
            score: s.democratic.score,
            points: points(s.democratic.points),
            raters: s.democratic.raters,
        },
        adjustments: points(s.adjustments),
        veto: !s.vetoes.is_empty(),
        veto_areas: s.vetoes.iter().map(|v| v.as_str().to_string()).collect(),
        adjustment_items: Vec::new(),
        veto_items: Vec::new(),
        grade: s.grade.as_str().to_string(),
        flags: s.flags.clone(),
        breakdown: s
            .lines
            .iter()
            .map(|l| ScoreLine {
                code: l.code.clone(),
                name: l.name.clone(),
                metric: l.metric.as_str().to_string(),
                value: l.value,
                target: l.target,
                rule: l.rule.as_str().to_string(),
                points: points(l.points),
                record_ids: None,
            })
            .collect(),
        quarters: None,
        scheme_id: scheme.id.clone(),
        scheme_version: scheme.version,
        frozen: false,
    }
}

/// A year scored as the mean of its quarters' totals, ranked on that mean.
fn mean_of_the_quarters(
    conn: &mut DbConn,
    category: CadreCategory,
    year: Period,
    scheme_row: &SchemeRow,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Ranked> {
    let scheme = parse_stored(scheme_row)?;
    let mut by_user: HashMap<String, (String, [Option<i64>; 4], bool)> = HashMap::new();
    let mut paths = HashMap::new();
    for (i, quarter) in year.quarters_of_year().into_iter().enumerate() {
        if quarter.first_day() > now.with_timezone(&tz).date_naive() {
            continue;
        }
        let ranked = scores_of(conn, category, quarter, tz, now)?;
        for row in ranked.rows {
            let entry = by_user
                .entry(row.user_id.clone())
                .or_insert_with(|| (row.name.clone(), [None; 4], false));
            entry.1[i] = Some((row.total * 100.0).round() as i64);
            entry.2 |= row.veto;
        }
        paths.extend(ranked.paths);
    }
    let year_vetoes: HashSet<String> = store::vetoes_of(conn, &year.to_string())?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    let totals: Vec<(String, i64)> = by_user
        .iter()
        .filter_map(|(id, (_, q, _))| mean_of_quarters(q).map(|m| (id.clone(), m)))
        .collect();
    let of = u32::try_from(totals.len()).unwrap_or(u32::MAX);
    // `rank` answers in the order it was given.
    let mut rows: Vec<ScoreRow> = totals
        .iter()
        .zip(rank(&totals))
        .filter_map(|((id, total), (_, r))| {
            let (name, quarters, vetoed_in_quarter) = by_user.get(id)?;
            let (id, total) = (id.clone(), *total);
            let vetoed = *vetoed_in_quarter || year_vetoes.contains(&id);
            Some(ScoreRow {
                user_id: id.clone(),
                name: name.clone(),
                category,
                period: year.to_string(),
                total: points(total),
                rank: r,
                of,
                town_rank: None,
                town_of: None,
                democratic: 0.0,
                democratic_detail: DemocraticPart {
                    score: 0.0,
                    points: 0.0,
                    raters: 0,
                },
                adjustments: 0.0,
                veto: vetoed,
                veto_areas: Vec::new(),
                adjustment_items: Vec::new(),
                veto_items: Vec::new(),
                grade: grade(&scheme.grades, total, vetoed).as_str().to_string(),
                flags: if vetoed {
                    vec!["veto".into()]
                } else {
                    Vec::new()
                },
                breakdown: Vec::new(),
                quarters: Some(quarters.iter().map(|q| q.map(points)).collect()),
                scheme_id: scheme_row.id.clone(),
                scheme_version: scheme_row.version,
                frozen: false,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.user_id.cmp(&b.user_id)));
    add_year_review(conn, &scheme, year, &mut rows)?;
    add_town_ranks(conn, &mut rows, &paths)?;
    Ok(Ranked { rows, paths })
}

/// The path of the town that a unit at `path` lies in: a town's path is a prefix of its
/// members' paths ending at a `/` (its villages and departments included).
fn town_of(path: &str, is_town: impl Fn(&str) -> bool) -> Option<&str> {
    path.match_indices('/')
        .map(|(i, _)| &path[..=i])
        .find(|prefix| is_town(prefix))
}

/// Ranks each row among the rows of its cadre's town (DESIGN §2.6: the town's villages and
/// departments included) with the county ranking's function, ties sharing a rank. A cadre
/// outside any town gets no town rank.
fn add_town_ranks(
    conn: &mut DbConn,
    rows: &mut [ScoreRow],
    paths: &HashMap<String, String>,
) -> ApiResult<()> {
    let towns = store::town_paths(conn)?;
    let mut by_town: HashMap<&str, Vec<(String, i64)>> = HashMap::new();
    for row in rows.iter() {
        let town = paths
            .get(&row.user_id)
            .and_then(|path| town_of(path, |prefix| towns.contains(prefix)));
        if let Some(town) = town {
            // Totals are whole centipoints shown as points: this gives them back exactly.
            let centipoints = (row.total * 100.0).round() as i64;
            by_town
                .entry(town)
                .or_default()
                .push((row.user_id.clone(), centipoints));
        }
    }
    let mut ranks: HashMap<String, (u32, u32)> = HashMap::new();
    for totals in by_town.values() {
        let of = u32::try_from(totals.len()).unwrap_or(u32::MAX);
        ranks.extend(rank(totals).into_iter().map(|(id, r)| (id, (r, of))));
    }
    for row in rows {
        let found = ranks.get(&row.user_id);
        row.town_rank = found.map(|f| f.0);
        row.town_of = found.map(|f| f.1);
    }
    Ok(())
}

/// The yearly rules of DESIGN §2.5 as flags on a year's rows.
fn add_year_review(
    conn: &mut DbConn,
    scheme: &Scheme,
    period: Period,
    rows: &mut [ScoreRow],
) -> ApiResult<()> {
    if period.kind() != PeriodKind::Year {
        return Ok(());
    }
    let counts = store::year_record_counts(conn, period.year())?;
    for row in rows {
        let (achievements, open_problems) = counts.get(&row.user_id).copied().unwrap_or_default();
        let review = year_review(achievements, open_problems, &scheme.consequences);
        if review.suggested_excellent {
            row.flags.push("suggested_excellent".into());
        }
        if review.major_contribution {
            row.flags.push("major_contribution".into());
        }
    }
    Ok(())
}

/// Closes a period (DESIGN §2.6): freezes every category's scores as they stand and writes
/// the consequences of each scheme — achievement records for the top, problem records (with
/// a date to rectify by) for the bottom, the statement list. Run it in a transaction.
pub fn close_period(
    conn: &mut DbConn,
    closed_by: &str,
    period: Period,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<PeriodClosure> {
    let key = period.to_string();
    let mut closure = PeriodClosure {
        period: key.clone(),
        closed_at: now,
        scores: 0,
        achievement_records: 0,
        problem_records: 0,
        statements: Vec::new(),
        position_adjustments: Vec::new(),
    };
    // Scored before the period is marked closed, so that the live numbers are what freezes.
    let mut snapshots = Vec::new();
    let mut records = Vec::new();
    let previous = period.previous().map(|p| p.to_string());
    let previous = PreviousPeriod {
        problem: match &previous {
            Some(p) => store::users_with_record(conn, p, "problem")?,
            None => HashSet::new(),
        },
        statement_streak: match &previous {
            Some(p) => store::bottom_streaks(conn, p)?,
            None => HashMap::new(),
        },
    };
    for category in CATEGORIES {
        let category_text = enum_text(&category);
        let Some(scheme_row) = store::active_scheme(conn, &category_text, period.kind().as_str())?
        else {
            // A year scored as the mean of its quarters is frozen, without consequences;
            // a category with no scheme for this kind of period has nothing to freeze.
            match scores_of(conn, category, period, tz, now) {
                Ok(ranked) => {
                    for row in ranked.rows {
                        snapshots.push(snapshot(&row, 0)?);
                    }
                }
                Err(ApiError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
            continue;
        };
        let scheme = parse_stored(&scheme_row)?;
        let live = live_scores(conn, &scheme, period, tz, now)?;
        let outcome = consequences(&scheme, period, &live.scores, &previous);
        let statements: HashSet<&String> = outcome.statements.iter().collect();
        let adjust: HashSet<&String> = outcome.position_adjustment.iter().collect();
        let mut rows: Vec<ScoreRow> = live
            .scores
            .iter()
            .map(|s| score_row(s, &live.names, category, period, &scheme_row))
            .collect();
        add_year_review(conn, &scheme, period, &mut rows)?;
        add_town_ranks(conn, &mut rows, &live.paths)?;
        for mut row in rows {
            row.frozen = true;
            if statements.contains(&row.user_id) {
                row.flags.push("statement".into());
            }
            if adjust.contains(&row.user_id) {
                row.flags.push("position_adjustment".into());
            }
            let streak = outcome
                .bottom_streaks
                .get(&row.user_id)
                .copied()
                .unwrap_or(0);
            snapshots.push(snapshot(&row, streak)?);
        }
        let rank_of: HashMap<&String, (u32, u32)> = live
            .scores
            .iter()
            .map(|s| (&s.user_id, (s.rank, s.of)))
            .collect();
        let reason = |user: &String, what: &str| {
            let (r, of) = rank_of.get(user).copied().unwrap_or_default();
            format!(
                "{what}: ranked {r} of {of} {category_text} cadres in {key} ({})",
                scheme.name
            )
        };
        for user in &outcome.achievements {
            records.push(record(
                user,
                "achievement",
                &key,
                reason(user, "实绩 achievement"),
                None,
                now,
            ));
        }
        for (user, by) in &outcome.problems {
            records.push(record(
                user,
                "problem",
                &key,
                reason(user, "问题痕迹 problem"),
                Some(*by),
                now,
            ));
        }
        closure.achievement_records += u32::try_from(outcome.achievements.len()).unwrap_or(0);
        closure.problem_records += u32::try_from(outcome.problems.len()).unwrap_or(0);
        closure.statements.extend(outcome.statements);
        closure
            .position_adjustments
            .extend(outcome.position_adjustment);
    }
    if !store::close_period(conn, &key, now.naive_utc(), closed_by)? {
        return Err(ApiError::Conflict(format!(
            "period {key} is closed already"
        )));
    }
    closure.scores = u32::try_from(snapshots.len()).unwrap_or(u32::MAX);
    store::insert_snapshots(conn, &snapshots)?;
    store::insert_records(conn, &records)?;
    let detail = serde_json::json!({"scores": closure.scores,
        "achievement_records": closure.achievement_records, "problem_records": closure.problem_records});
    crate::audit::record(
        conn,
        closed_by,
        crate::audit::Audited::PeriodClosed,
        Some(&key),
        Some(detail),
        now,
    )?;
    Ok(closure)
}

fn snapshot(row: &ScoreRow, bottom_streak: u32) -> ApiResult<SnapshotRow> {
    let mut frozen = row.clone();
    frozen.frozen = true;
    Ok(SnapshotRow {
        period: row.period.clone(),
        user_id: row.user_id.clone(),
        cadre_category: enum_text(&row.category),
        scheme_id: row.scheme_id.clone(),
        scheme_version: row.scheme_version,
        rank: i32::try_from(row.rank).unwrap_or(i32::MAX),
        bottom_streak: i32::try_from(bottom_streak).unwrap_or(i32::MAX),
        body: serde_json::to_string(&frozen)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("freezing a score: {e}")))?,
    })
}

fn record(
    user: &str,
    kind: &str,
    period: &str,
    reason: String,
    rectify_by: Option<chrono::NaiveDate>,
    now: DateTime<Utc>,
) -> store::RecordRow {
    store::RecordRow {
        id: new_id(),
        user_id: user.to_string(),
        kind: kind.into(),
        period: period.into(),
        reason,
        rectify_by,
        evidence: None,
        cleared_at: None,
        cleared_by: None,
        created_at: now.naive_utc(),
        status: enum_text(&RecordStatus::Open),
    }
}

/// The group a user's ratings count in: as set on the user, else from category and staff type.
pub fn rater_group_of(user: &UserRow) -> ApiResult<RaterGroup> {
    if let Some(group) = &user.rater_group {
        return parse_enum(group);
    }
    let category = match &user.cadre_category {
        Some(c) => parse_enum(c)?,
        None => CadreCategory::Organ,
    };
    let staff = match &user.staff_type {
        Some(s) => parse_enum(s)?,
        None => default_staff_type(category),
    };
    Ok(default_rater_group(category, staff))
}
