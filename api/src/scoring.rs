//! Scores as the API, the desk and the demo see them: the active scheme of a period run over
//! the metrics of a whole category (or a closed period's frozen rows), whose rows and
//! breakdowns an actor may read, and closing a period.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use minqing_protocol::{
    AdjustmentItem, CadreCategory, DemocraticPart, PassedOver, PeriodClosure, RaterGroup,
    RecordStatus, ScoreGroup, ScoreLine, ScoreRow,
};

use crate::db::models::{enum_text, parse_enum, UserRow};
use crate::db::scoring::{self as store, PeriodBounds, SchemeRow, SnapshotRow};
use crate::db::{new_id, org, users, DbConn};
use crate::domain::access::{authorize_record, reach, Action, Actor};
use crate::domain::people::{default_rater_group, default_staff_type};
use crate::domain::scoring::{
    consequences, default_schemes, grade, mean_of_quarters, points, rank, score_all, year_review,
    CadreInput, Grade, Metric, OverdueCounting, Period, PeriodKind, PreviousPeriod, Scheme, Scope,
    Score,
};
use crate::domain::workdays::start_of_local_day;
use crate::error::{ApiError, ApiResult};

const CATEGORIES: [CadreCategory; 3] = [
    CadreCategory::Leadership,
    CadreCategory::Organ,
    CadreCategory::Village,
];

pub(crate) fn parse_stored(row: &SchemeRow) -> ApiResult<Scheme> {
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

/// Saves a scheme's new version as the active one: the active schemes it would score the
/// same cadres as (same category and kind of period, a staff type in common) stop being
/// active, so a category can run one scheme per staff type but never two for one cadre.
pub fn save_scheme(conn: &mut DbConn, row: &SchemeRow, scheme: &Scheme) -> ApiResult<()> {
    let mut replaces = Vec::new();
    for other in store::active_schemes(conn, &row.cadre_category, &row.period_kind)? {
        // One that no longer parses scored everyone: replace it.
        if other.id != row.id && parse_stored(&other).map_or(true, |o| o.overlaps(scheme)) {
            replaces.push(other.id);
        }
    }
    store::save_scheme(conn, row, &replaces)
}

/// Seeds the default schemes (DESIGN §2.5) into a database that has none.
pub fn seed_default_schemes(conn: &mut DbConn, now: DateTime<Utc>) -> ApiResult<()> {
    conn.write(|conn| {
        if store::any_scheme(conn)? {
            return Ok(());
        }
        for scheme in default_schemes() {
            save_scheme(
                conn,
                &scheme_row(new_id(), 1, &scheme, now.naive_utc()),
                &scheme,
            )?;
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
    // Schemes for different staff types each rank their own cadres.
    let schemes = store::active_schemes(conn, &category_text, period.kind().as_str())?;
    let mut all = Ranked {
        rows: Vec::new(),
        paths: HashMap::new(),
    };
    for row in &schemes {
        let scheme = parse_stored(row)?;
        let live = live_scores(conn, &scheme, period, tz, now)?;
        let gone = elapsed(period, tz, now);
        let mut rows: Vec<ScoreRow> = live
            .scores
            .iter()
            .map(|s| score_row(s, &live.names, category, period, gone, row))
            .collect();
        add_year_review(conn, &scheme, period, &mut rows)?;
        add_town_ranks(conn, &mut rows, &live.paths)?;
        all.rows.extend(rows);
        all.paths.extend(live.paths);
    }
    if !schemes.is_empty() {
        return Ok(all);
    }
    if period.kind() == PeriodKind::Year {
        let quarterly = store::active_schemes(conn, &category_text, PeriodKind::Quarter.as_str())?;
        let yearly: Vec<&SchemeRow> = quarterly
            .iter()
            .filter(|r| parse_stored(r).is_ok_and(|s| s.yearly_mean_of_quarters))
            .collect();
        for row in &yearly {
            let year = mean_of_the_quarters(conn, category, period, row, tz, now)?;
            all.rows.extend(year.rows);
            all.paths.extend(year.paths);
        }
        if !yearly.is_empty() {
            return Ok(all);
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
    let overdue_counting = match store::find_scheme(conn, &row.scheme_id)? {
        Some(scheme) => parse_stored(&scheme)?.overdue_counting,
        None => OverdueCounting::Once,
    };
    let key = period.to_string();
    for line in &mut row.breakdown {
        if let Some(metric) = Metric::parse(&line.metric) {
            let of = store::LineOf {
                metric,
                code: &line.code,
                period: &key,
            };
            let ids = store::evidence(conn, &user.id, of, &b, overdue_counting)?;
            line.record_ids = Some(ids);
        }
    }
    row.adjustment_items = store::adjustments_of_user(conn, &user.id, &key)?
        .into_iter()
        .map(|a| AdjustmentItem {
            points: points(a.centipoints),
            reason: a.reason,
            approved: a.approved_by.is_some(),
        })
        .collect();
    row.veto_items = crate::vetoes::items_of(conn, &user.id, &key)?;
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
    towns_of_paths(conn, &ranked.paths)
}

/// The town of each cadre, by the cadre's org path.
fn towns_of_paths(
    conn: &mut DbConn,
    paths: &HashMap<String, String>,
) -> ApiResult<HashMap<String, Town>> {
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
    Ok(paths
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
    /// Not begun yet.
    Ahead,
    /// Scored live; the share of the period's local days gone by ([`elapsed`]): below 1
    /// while it runs, 1 once it is over (and not closed yet).
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
    if now.with_timezone(&tz).date_naive() < period.first_day() {
        return Ok(Standing::Ahead);
    }
    Ok(Standing::Live(elapsed(period, tz, now)))
}

/// The share of a period's local days gone by at `now`, as live score rows carry it
/// (`ScoreRow::elapsed`).
pub fn elapsed(period: Period, tz: Tz, now: DateTime<Utc>) -> f64 {
    crate::domain::scoring::elapsed_share(
        period.first_day(),
        period.last_day(),
        now.with_timezone(&tz).date_naive(),
    )
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
    let category = scheme.cadre_category;
    let cadres: Vec<store::Cadre> = store::cadres_of(conn, &enum_text(&category))?
        .into_iter()
        .filter(|c| {
            let staff = c.3.as_deref().and_then(|t| parse_enum(t).ok());
            scheme.scores_staff_type(staff.unwrap_or_else(|| default_staff_type(category)))
        })
        .collect();
    let who: HashSet<String> = cadres.iter().map(|c| c.0.clone()).collect();
    let b = bounds(period, tz, now);
    let mut metrics = store::metrics(conn, &who, &b, scheme.overdue_counting)?;
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
    // Approved vetoes that were not withdrawn.
    let mut vetoes: HashMap<String, Vec<String>> = HashMap::new();
    for (user, area) in store::vetoes_of(conn, &key)? {
        vetoes.entry(user).or_default().push(area);
    }
    // Approved manual values (人工录入), the whole period's in one query.
    let mut manual: HashMap<String, HashMap<String, f64>> = HashMap::new();
    for (user, code, value) in crate::db::manual_values::approved_of_period(conn, &key)? {
        if who.contains(&user) {
            manual.entry(user).or_default().insert(code, value);
        }
    }
    let inputs: Vec<CadreInput> = cadres
        .iter()
        .map(|(id, _, _, _)| CadreInput {
            user_id: id.clone(),
            metrics: metrics.remove(id).unwrap_or_default(),
            ratings: ratings.remove(id).unwrap_or_default(),
            adjustments: adjustments.remove(id).unwrap_or_default(),
            vetoes: vetoes.remove(id).unwrap_or_default(),
            manual: manual.remove(id).unwrap_or_default(),
        })
        .collect();
    Ok(Live {
        scores: score_all(scheme, &inputs),
        names: cadres
            .iter()
            .map(|(id, name, _, _)| (id.clone(), name.clone()))
            .collect(),
        paths: cadres
            .into_iter()
            .map(|(id, _, path, _)| (id, path))
            .collect(),
    })
}

fn score_row(
    s: &Score,
    names: &HashMap<String, String>,
    category: CadreCategory,
    period: Period,
    elapsed: f64,
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
        veto_areas: s.vetoes.clone(),
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
                excluded: l.excluded,
                group: l.group.clone(),
                record_ids: None,
            })
            .collect(),
        groups: s
            .groups
            .iter()
            .map(|g| ScoreGroup {
                name: g.name.clone(),
                points: points(g.points),
                cap: g.cap.map(points),
            })
            .collect(),
        quarters: None,
        scheme_id: scheme.id.clone(),
        scheme_version: scheme.version,
        frozen: false,
        elapsed,
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
        // Quarters not begun, or over before the scheme took effect, do not pull the mean.
        let before_effect = scheme
            .effective_from
            .is_some_and(|from| quarter.last_day() < from);
        if quarter.first_day() > now.with_timezone(&tz).date_naive() || before_effect {
            continue;
        }
        let ranked = scores_of(conn, category, quarter, tz, now)?;
        for row in ranked
            .rows
            .into_iter()
            .filter(|r| r.scheme_id == scheme_row.id)
        {
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
                groups: Vec::new(),
                quarters: Some(quarters.iter().map(|q| q.map(points)).collect()),
                scheme_id: scheme_row.id.clone(),
                scheme_version: scheme_row.version,
                frozen: false,
                elapsed: elapsed(year, tz, now),
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
        let graded = Grade::parse(&row.grade).unwrap_or(Grade::Fail);
        let review = year_review(achievements, open_problems, graded, &scheme.consequences);
        if review.suggested_excellent {
            row.flags.push("suggested_excellent".into());
        }
        if review.major_contribution {
            row.flags.push("major_contribution".into());
        }
    }
    Ok(())
}

/// Longest reason for forcing a close, in characters.
pub const MAX_FORCE_REASON_CHARS: usize = 500;

/// The reason of a forced close, trimmed: 1 to 500 characters when `force` is set (else 422
/// naming `reason`); `None` for an ordinary close, whose reason, if any, is not kept.
pub fn force_reason(force: bool, reason: Option<&str>) -> ApiResult<Option<String>> {
    if !force {
        return Ok(None);
    }
    let reason = reason.unwrap_or_default().trim();
    if reason.is_empty() || reason.chars().count() > MAX_FORCE_REASON_CHARS {
        return Err(ApiError::invalid(
            "reason",
            "forcing a close needs a reason of 1 to 500 characters",
        ));
    }
    Ok(Some(reason.to_string()))
}

/// Why a change that would move a closed period's scores is refused.
pub fn frozen_words(period: Period) -> String {
    format!("period {period} is closed; its scores are frozen")
}

/// The 409 answering a change to a closed period's scores (ratings, adjustments, vetoes,
/// reviews of its check-ins).
pub fn closed_conflict(period: Period) -> ApiError {
    ApiError::Conflict(frozen_words(period))
}

/// The closed period, if any, whose scores count a check-in of this night: its month, its
/// quarter or its year (check-ins count by their night, as the metrics do).
pub fn closed_period_of_night(
    conn: &mut DbConn,
    night: chrono::NaiveDate,
) -> ApiResult<Option<Period>> {
    use chrono::Datelike;
    let month = Period::new(PeriodKind::Month, night.year(), night.month());
    let quarter = Period::new(PeriodKind::Quarter, night.year(), night.month().div_ceil(3));
    let year = Period::new(PeriodKind::Year, night.year(), 0);
    for period in [month, quarter, year].into_iter().flatten() {
        if store::closed_at(conn, &period.to_string())?.is_some() {
            return Ok(Some(period));
        }
    }
    Ok(None)
}

/// The nights of every closed period, first and last: their check-ins can no longer be
/// decided (those a forced close left flagged count as they stood when it froze).
pub fn closed_nights(conn: &mut DbConn) -> ApiResult<Vec<(chrono::NaiveDate, chrono::NaiveDate)>> {
    Ok(store::closed_periods(conn)?
        .iter()
        .filter_map(|p| Period::parse(p).ok())
        .map(|p| (p.first_day(), p.last_day()))
        .collect())
}

/// How many check-ins of a period's nights still wait for review, county-wide, in one query.
fn flagged_of(conn: &mut DbConn, b: &PeriodBounds, tz: Tz) -> ApiResult<i64> {
    // A night's check-ins are recorded on its local day or the next: from the period's start
    // until the start of the second day after its last.
    let until = b
        .last
        .checked_add_days(chrono::Days::new(2))
        .and_then(|d| start_of_local_day(d, tz))
        .map_or(b.end + chrono::Duration::days(2), |t| t.naive_utc());
    crate::db::checkins::count_flagged_of_nights(conn, (b.first, b.last), (b.start, until))
}

/// Closes a period (DESIGN §2.6): freezes every category's scores as they stand and writes
/// the consequences of each scheme — achievement records for the top, problem records (with
/// a date to rectify by) for the bottom, the statement list. While check-ins of the period
/// still wait for review it is refused (409) unless `forced` gives the reason (from
/// [`force_reason`]), which the audit log keeps with how many were left. Run it in a
/// transaction.
pub fn close_period(
    conn: &mut DbConn,
    closed_by: &str,
    period: Period,
    forced: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<PeriodClosure> {
    let key = period.to_string();
    if store::closed_at(conn, &key)?.is_some() {
        return Err(ApiError::Conflict(format!(
            "period {key} is closed already"
        )));
    }
    let flagged = flagged_of(conn, &bounds(period, tz, now), tz)?;
    if flagged > 0 && forced.is_none() {
        let (n, waits) = if flagged == 1 {
            ("1 flagged check-in".to_string(), "awaits")
        } else {
            (format!("{flagged} flagged check-ins"), "await")
        };
        return Err(ApiError::Conflict(format!(
            "{n} of {key} {waits} review; review them, or force the close with a reason"
        )));
    }
    let mut closure = PeriodClosure {
        period: key.clone(),
        closed_at: now,
        scores: 0,
        achievement_records: 0,
        problem_records: 0,
        statements: Vec::new(),
        position_adjustments: Vec::new(),
        passed_over: Vec::new(),
        forced_reason: forced.map(str::to_string),
        flagged_left: u32::try_from(flagged).unwrap_or(u32::MAX),
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
    // Each active scheme (one per set of staff types a category's schemes score) draws its
    // own consequences.
    let mut schemes = Vec::new();
    for category in CATEGORIES {
        let found = store::active_schemes(conn, &enum_text(&category), period.kind().as_str())?;
        if found.is_empty() {
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
        }
        schemes.extend(found.into_iter().map(|row| (category, row)));
    }
    for (category, scheme_row) in schemes {
        let category_text = enum_text(&category);
        let scheme = parse_stored(&scheme_row)?;
        let live = live_scores(conn, &scheme, period, tz, now)?;
        let towns = towns_of_paths(conn, &live.paths)?;
        let town_path = |user: &str| towns.get(user).map(|t| t.path.clone());
        let outcome = consequences(&scheme, period, &live.scores, town_path, &previous);
        let statements: HashSet<&String> = outcome.statements.iter().collect();
        let adjust: HashSet<&String> = outcome.position_adjustment.iter().collect();
        let mut rows: Vec<ScoreRow> = live
            .scores
            .iter()
            .map(|s| score_row(s, &live.names, category, period, 1.0, &scheme_row))
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
        // Why, in the words the record's owner and the desk read.
        let category_words = crate::domain::labels::label_or_word("cadre_category", &category_text);
        let period_words = crate::domain::labels::period_words(period);
        let ranking = |user: &String| {
            let (r, of) = outcome.standing.get(user).copied().unwrap_or_default();
            let within = match (scheme.scope, towns.get(user)) {
                (Scope::Town, Some(town)) => town.name.clone(),
                (Scope::Town, None) => "县直".to_string(),
                (Scope::County, _) => "全县".to_string(),
            };
            (
                r,
                of,
                format!("{period_words}{within}{category_words}第{r}名（共{of}人）"),
            )
        };
        let grades: HashMap<&String, Grade> =
            live.scores.iter().map(|s| (&s.user_id, s.grade)).collect();
        let grade_words = |user: &String| {
            let graded = grades.get(user).map_or("", |g| g.as_str());
            crate::domain::labels::label_or_word("grade", graded)
        };
        for user in &outcome.achievements {
            let (_, _, placed) = ranking(user);
            let why = format!("{placed}，等次{}（{}）", grade_words(user), scheme.name);
            records.push(record(user, "achievement", &key, why, None, now));
        }
        for (user, by) in &outcome.problems {
            let (_, _, placed) = ranking(user);
            let why = format!("{placed}，排名靠后（{}）", scheme.name);
            records.push(record(user, "problem", &key, why, Some(*by), now));
        }
        let min_words = crate::domain::labels::label_or_word(
            "grade",
            scheme.consequences.achievement_min_grade.as_str(),
        );
        for (user, graded) in &outcome.below_grade {
            let (rank, of, placed) = ranking(user);
            let graded_words = crate::domain::labels::label_or_word("grade", graded.as_str());
            closure.passed_over.push(PassedOver {
                user_id: user.clone(),
                rank,
                of,
                grade: graded.as_str().to_string(),
                why: format!("{placed}，但等次{graded_words}，未达{min_words}：不记实绩档案"),
            });
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
    let mut detail = serde_json::json!({"scores": closure.scores,
        "achievement_records": closure.achievement_records, "problem_records": closure.problem_records,
        "forced": forced.is_some(), "flagged_left": closure.flagged_left});
    if let Some(reason) = forced {
        detail["reason"] = reason.into();
    }
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
    frozen.elapsed = 1.0;
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

/// A staff member (cadre or supervisor) within the actor's reach for `action`, with their
/// unit path; others are answered as missing.
pub fn staff_within(
    conn: &mut DbConn,
    actor: &Actor,
    action: Action,
    user_id: &str,
) -> ApiResult<String> {
    let found = users::find_with_path(conn, user_id)?
        .filter(|(u, _)| matches!(u.role.as_str(), "cadre" | "supervisor"));
    let Some((user, path)) = found else {
        return Err(ApiError::not_found("staff member"));
    };
    authorize_record(actor, action, path.as_deref(), &user.id)?;
    path.ok_or_else(|| ApiError::not_found("staff member"))
}

/// The second signature of an adjustment (逐级把关签名), for `POST
/// /scoring/adjustments/{id}/approve` and the desk's 待签批: a supervisor of the cadre's town
/// other than the one who proposed it, once, while the period is open. One out of reach
/// answers as missing (404).
pub fn approve_adjustment(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    now: NaiveDateTime,
) -> ApiResult<store::AdjustmentRow> {
    use crate::domain::scoring::{check_adjustment_approval, ApprovalRefusal};
    reach(actor, Action::JudgeScores)?;
    conn.write(|conn| {
        let row =
            store::find_adjustment(conn, id)?.ok_or_else(|| ApiError::not_found("adjustment"))?;
        staff_within(conn, actor, Action::JudgeScores, &row.user_id)
            .map_err(|_| ApiError::not_found("adjustment"))?;
        let period = Period::parse(&row.period).map_err(|e| ApiError::Invalid(vec![e]))?;
        let closed = store::closed_at(conn, &row.period)?.is_some();
        check_adjustment_approval(
            &row.created_by,
            &actor.user_id,
            row.approved_by.is_some(),
            closed,
        )
        .map_err(|r| match r {
            ApprovalRefusal::SameSupervisor => {
                ApiError::Forbidden("an adjustment needs a second supervisor's sign-off".into())
            }
            ApprovalRefusal::AlreadyApproved => {
                ApiError::Conflict("this adjustment was approved already".into())
            }
            ApprovalRefusal::PeriodClosed => closed_conflict(period),
        })?;
        if !store::approve_adjustment(conn, &row.id, &actor.user_id, now)? {
            return Err(ApiError::Conflict(
                "this adjustment was approved already".into(),
            ));
        }
        let detail = serde_json::json!({"user_id": row.user_id, "period": row.period,
            "points": points(row.centipoints)});
        crate::audit::record(
            conn,
            &actor.user_id,
            crate::audit::Audited::AdjustmentApproved,
            Some(&row.id),
            Some(detail),
            crate::db::models::utc(now),
        )?;
        store::find_adjustment(conn, &row.id)?.ok_or_else(|| ApiError::not_found("adjustment"))
    })
}
