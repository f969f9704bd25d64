//! Process and transparency over scoring: the colleagues a staff member is asked to rate in a
//! period (民主测评 to do), and the results of units (单位排名) — towns or departments — taken
//! from the same ranked rows as `GET /scores`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minqing_protocol::{CadreCategory, RatingTask, RatingTasks, UnitScore};

use crate::db::models::parse_enum;
use crate::db::scoring as store;
use crate::db::{org, users, DbConn};
use crate::domain::access::{reach, Action, Actor};
use crate::domain::scoring::{points, rank, Period};
use crate::error::{ApiError, ApiResult};
use crate::scoring::{visible, Ranked};

// ---- 民主测评 to do ----

/// The staff member who rates: the actor, when their role takes part in democratic
/// evaluation (cadres and supervisors; the admin and villagers are refused).
pub fn rater(actor: &Actor) -> ApiResult<String> {
    reach(actor, Action::RateColleagues)?;
    Ok(actor.user_id.clone())
}

/// The colleagues of the rater's town they are asked to rate in `period`: every staff member
/// `PUT /scoring/ratings` accepts as their ratee, except themselves and those they are
/// recused from, with what they gave so far. Three queries: colleagues, the rater's ratings
/// of the period, the rater's recusals.
pub fn rating_tasks(conn: &mut DbConn, rater_id: &str, period: Period) -> ApiResult<RatingTasks> {
    let (rater, path) =
        users::find_with_path(conn, rater_id)?.ok_or_else(|| ApiError::not_found("user"))?;
    // The rater's town, as `PUT /scoring/ratings` finds it.
    let town = org::town_path(conn, path.as_deref().unwrap_or("/"))?;
    let key = period.to_string();
    let staff = store::staff_of_town(conn, &town)?
        .into_iter()
        .map(|(id, name, category)| {
            let category = category
                .as_deref()
                .map(parse_enum::<CadreCategory>)
                .transpose()?;
            Ok((id, name, category))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let given: HashMap<String, f64> = store::ratings_by(conn, &rater.id, &key)?
        .into_iter()
        .collect();
    let recused = store::recused_from(conn, &rater.id)?;
    Ok(tasks(&key, &rater.id, staff, &given, &recused))
}

/// The rating tasks from the town's staff: not oneself, not those one is recused from; by
/// name (then id), each with the score given in the period, if any.
pub fn tasks(
    period: &str,
    rater_id: &str,
    staff: Vec<(String, String, Option<CadreCategory>)>,
    given: &HashMap<String, f64>,
    recused: &HashSet<String>,
) -> RatingTasks {
    let mut items: Vec<RatingTask> = staff
        .into_iter()
        .filter(|(id, _, _)| id != rater_id && !recused.contains(id))
        .map(|(user_id, name, cadre_category)| {
            let score = given.get(&user_id).copied();
            RatingTask {
                user_id,
                name,
                cadre_category,
                rated: score.is_some(),
                score,
            }
        })
        .collect();
    items.sort_by(|a, b| (&a.name, &a.user_id).cmp(&(&b.name, &b.user_id)));
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    RatingTasks {
        period: period.to_string(),
        total: count(items.len()),
        done: count(items.iter().filter(|t| t.rated).count()),
        items,
    }
}

// ---- 单位排名 ----

/// The kind of unit cadres are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// The cadre's town, its villages, communities and departments included.
    Town,
    /// The department the cadre belongs to; cadres outside every department are left out.
    Department,
}

impl UnitKind {
    fn as_str(self) -> &'static str {
        match self {
            UnitKind::Town => "town",
            UnitKind::Department => "department",
        }
    }
}

/// An org unit cadres are grouped under: those whose unit path starts with its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub path: String,
}

/// Every unit of a kind, in one query.
pub fn units_of(conn: &mut DbConn, kind: UnitKind) -> ApiResult<Vec<Unit>> {
    Ok(store::units_of_kind(conn, kind.as_str())?
        .into_iter()
        .map(|(id, name, path)| Unit { id, name, path })
        .collect())
}

/// The units' results of a category for a period from the rows the actor sees (`within`, as
/// `GET /scores` confines them), ranked among the units that have any such cadre.
pub fn unit_results(
    conn: &mut DbConn,
    within: Option<&str>,
    (category, period): (CadreCategory, Period),
    kind: UnitKind,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Vec<UnitScore>> {
    let ranked = visible(conn, within, category, period, tz, now)?;
    let units = units_of(conn, kind)?;
    Ok(by_unit(&ranked, &units))
}

/// Groups ranked rows by the unit each cadre lies in (the deepest unit whose path is a
/// prefix of the cadre's unit path; cadres in none are left out): per unit the number of
/// cadres, the sum and the mean of their totals (to the hundredth, half away from zero),
/// ranked by the mean with ties sharing a rank; best first, ties by name.
pub fn by_unit(ranked: &Ranked, units: &[Unit]) -> Vec<UnitScore> {
    let by_path: HashMap<&str, &Unit> = units.iter().map(|u| (u.path.as_str(), u)).collect();
    // Per unit id: the unit, its cadres, the sum of their totals in centipoints.
    let mut groups: HashMap<&str, (&Unit, i64, i64)> = HashMap::new();
    for row in &ranked.rows {
        let Some(path) = ranked.paths.get(&row.user_id) else {
            continue;
        };
        let unit = path
            .match_indices('/')
            .filter_map(|(i, _)| by_path.get(&path[..=i]))
            .next_back();
        if let Some(unit) = unit {
            // Totals are whole centipoints shown as points: this gives them back exactly.
            let centipoints = (row.total * 100.0).round() as i64;
            let entry = groups.entry(unit.id.as_str()).or_insert((unit, 0, 0));
            entry.1 += 1;
            entry.2 = entry.2.saturating_add(centipoints);
        }
    }
    let means: Vec<(String, i64)> = groups
        .values()
        .map(|(unit, n, sum)| (unit.id.clone(), mean(*sum, *n)))
        .collect();
    let of = u32::try_from(means.len()).unwrap_or(u32::MAX);
    let mut results: Vec<UnitScore> = means
        .iter()
        .zip(rank(&means))
        .filter_map(|((id, mean_centi), (_, r))| {
            let (unit, n, sum) = groups.get(id.as_str())?;
            Some(UnitScore {
                unit_id: unit.id.clone(),
                name: unit.name.clone(),
                cadres: u32::try_from(*n).unwrap_or(u32::MAX),
                mean: points(*mean_centi),
                sum: points(*sum),
                rank: r,
                of,
            })
        })
        .collect();
    results.sort_by(|a, b| (a.rank, &a.name, &a.unit_id).cmp(&(b.rank, &b.name, &b.unit_id)));
    results
}

/// `sum / n` rounded half away from zero (`n` > 0).
fn mean(sum: i64, n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    let (sum, n) = (i128::from(sum), i128::from(n));
    let magnitude = (2 * sum.abs() + n) / (2 * n);
    i64::try_from(sum.signum() * magnitude).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use minqing_protocol::ScoreRow;

    use super::*;

    /// A ranked row with only what grouping reads; the rest as a frozen row would hold it.
    fn row(user: &str, total: f64) -> ScoreRow {
        let shown = serde_json::json!({"user_id": user, "name": user, "category": "organ",
            "period": "2026-11", "total": total, "rank": 1, "of": 1, "democratic": 0.0,
            "democratic_detail": {"score": 0.0, "points": 0.0, "raters": 0}, "adjustments": 0.0,
            "veto": false, "veto_areas": [], "grade": "pass", "flags": [], "breakdown": [],
            "scheme_id": "s", "scheme_version": 1, "frozen": false});
        match serde_json::from_value(shown) {
            Ok(row) => row,
            Err(e) => panic!("a score row: {e}"),
        }
    }

    fn unit(id: &str, name: &str, path: &str) -> Unit {
        Unit {
            id: id.into(),
            name: name.into(),
            path: path.into(),
        }
    }

    fn ranked(rows: &[(&str, f64, &str)]) -> Ranked {
        Ranked {
            rows: rows.iter().map(|(u, t, _)| row(u, *t)).collect(),
            paths: rows
                .iter()
                .map(|(u, _, p)| (u.to_string(), p.to_string()))
                .collect(),
        }
    }

    #[test]
    fn units_are_ranked_by_the_mean_of_their_cadres() {
        let towns = [
            unit("a", "青山镇", "/c/a/"),
            unit("b", "云岭镇", "/c/b/"),
            unit("d", "白沙镇", "/c/d/"),
            unit("e", "空镇", "/c/e/"),
        ];
        let ranked = ranked(&[
            // 青山镇: 80.5 + 70.25 + 60 = 210.75, mean 70.25.
            ("a1", 80.5, "/c/a/"),
            ("a2", 70.25, "/c/a/v1/"),
            ("a3", 60.0, "/c/a/dept/"),
            // 云岭镇: 90 + 50.5 = 140.5, mean 70.25: ties with 青山镇.
            ("b1", 90.0, "/c/b/"),
            ("b2", 50.5, "/c/b/v2/"),
            // 白沙镇: 10.01 + 10.02 = 20.03, mean 10.015 → 10.02.
            ("d1", 10.01, "/c/d/"),
            ("d2", 10.02, "/c/d/"),
            // Outside every town: left out.
            ("x", 99.0, "/c/"),
        ]);
        let results = by_unit(&ranked, &towns);
        let shown: Vec<(&str, u32, f64, f64, u32, u32)> = results
            .iter()
            .map(|u| (u.name.as_str(), u.cadres, u.mean, u.sum, u.rank, u.of))
            .collect();
        // Ties share a rank and go by name: 云 (U+4E91) before 青 (U+9752).
        assert_eq!(
            shown,
            vec![
                ("云岭镇", 2, 70.25, 140.5, 1, 3),
                ("青山镇", 3, 70.25, 210.75, 1, 3),
                ("白沙镇", 2, 10.02, 20.03, 3, 3),
            ]
        );
        assert_eq!(results[0].unit_id, "b");
    }

    #[test]
    fn departments_hold_only_their_own_cadres() {
        let departments = [unit("p", "党政办", "/c/a/p/"), unit("q", "农业办", "/c/q/")];
        let ranked = ranked(&[
            ("p1", 81.0, "/c/a/p/"),
            ("p2", 80.0, "/c/a/p/"),
            ("q1", -3.5, "/c/q/"),
            ("t1", 99.0, "/c/a/"),
            ("v1", 99.0, "/c/a/v/"),
        ]);
        let results = by_unit(&ranked, &departments);
        let shown: Vec<(&str, u32, f64, f64, u32)> = results
            .iter()
            .map(|u| (u.unit_id.as_str(), u.cadres, u.mean, u.sum, u.rank))
            .collect();
        assert_eq!(
            shown,
            vec![("p", 2, 80.5, 161.0, 1), ("q", 1, -3.5, -3.5, 2)]
        );
        assert!(by_unit(&ranked, &[]).is_empty());
    }

    #[test]
    fn means_round_half_away_from_zero() {
        assert_eq!(mean(5, 2), 3);
        assert_eq!(mean(-5, 2), -3);
        assert_eq!(mean(4, 3), 1);
        assert_eq!(mean(5, 3), 2);
        assert_eq!(mean(0, 4), 0);
        assert_eq!(mean(7, 0), 0);
    }

    #[test]
    fn tasks_leave_out_oneself_and_recusals_and_count_what_is_done() {
        let staff = vec![
            ("me".to_string(), "周敏".to_string(), None),
            ("b".into(), "王芳".into(), Some(CadreCategory::Organ)),
            ("c".into(), "李明".into(), Some(CadreCategory::Village)),
            ("d".into(), "张伟".into(), Some(CadreCategory::Organ)),
            ("e".into(), "孙书记".into(), None),
        ];
        let given = HashMap::from([("b".to_string(), 80.0), ("x".to_string(), 10.0)]);
        let recused = HashSet::from(["d".to_string()]);
        let t = tasks("2026-Q4", "me", staff, &given, &recused);
        assert_eq!((t.period.as_str(), t.total, t.done), ("2026-Q4", 3, 1));
        let names: Vec<(&str, bool, Option<f64>)> = t
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.rated, i.score))
            .collect();
        // By code point: 孙 U+5B59, 李 U+674E, 王 U+738B.
        assert_eq!(
            names,
            vec![
                ("孙书记", false, None),
                ("李明", false, None),
                ("王芳", true, Some(80.0)),
            ]
        );
    }
}
