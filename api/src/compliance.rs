//! Deadline compliance (DESIGN §2.4) as the API and the desk both compute it: whose orders
//! an actor counts, the instant a period's open orders are judged at, a grouping's rows,
//! totals from summed counts, the monthly trend, and the orders overdue at a cutoff.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use minqing_protocol::ComplianceRow;

use crate::db::compliance::{self as store, ComplianceFilter, GroupBy, GroupCounts};
use crate::db::work_orders::{self, OrderFilter};
use crate::db::{org, users, DbConn};
use crate::domain::access::{reach, Action, Actor};
use crate::domain::compliance::{rates, ComplianceCounts, ComplianceRates, DailyCounts};
use crate::domain::workdays::start_of_local_day;
use crate::error::{ApiError, ApiResult};

/// The subtree whose orders an actor's compliance reports count ("/" for the county).
pub fn scope(actor: &Actor) -> ApiResult<String> {
    Ok(reach(actor, Action::ReadCompliance)?
        .subtree()?
        .unwrap_or_else(|| "/".into()))
}

/// The towns' date at `now`.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// A period is its first and last local date, in that order, at most three years apart.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> ApiResult<()> {
    if from > to {
        return Err(ApiError::invalid("from", "must not be after `to`"));
    }
    if to - from > Duration::days(3 * 366) {
        return Err(ApiError::invalid("from", "a period is at most three years"));
    }
    Ok(())
}

/// Counting `group_by` over the local days `from..=to` of the orders under `within`, with
/// open orders judged overdue at `now`; narrow it by unit, village or assignee afterwards.
pub fn filter(
    group_by: GroupBy,
    within: &str,
    (from, to): (NaiveDate, NaiveDate),
    tz: Tz,
    now: DateTime<Utc>,
) -> ComplianceFilter {
    let today = today(tz, now);
    ComplianceFilter {
        group_by,
        within: within.to_string(),
        unit_id: None,
        village_id: None,
        assignee_id: None,
        from,
        to,
        now: now.naive_utc(),
        today,
        today_began: start_of_local_day(today, tz).map_or(now.naive_utc(), |t| t.naive_utc()),
    }
}

/// A grouping's rows as `GET /compliance` answers them, and the sum of their counts.
pub struct Grouped {
    pub rows: Vec<ComplianceRow>,
    pub total: ComplianceCounts,
}

pub fn grouped(conn: &mut DbConn, f: &ComplianceFilter) -> ApiResult<Grouped> {
    let groups = store::counts(conn, f)?;
    Ok(Grouped {
        rows: groups.iter().map(|g| row(f.group_by, g)).collect(),
        total: total(&groups),
    })
}

fn row(group_by: GroupBy, g: &GroupCounts) -> ComplianceRow {
    let r = rates(&g.counts);
    let key = Some(g.key.clone());
    ComplianceRow {
        unit_id: key.clone().filter(|_| group_by == GroupBy::Unit),
        village_id: key.clone().filter(|_| group_by == GroupBy::Village),
        assignee_id: key.filter(|_| group_by == GroupBy::Assignee),
        name: g.name.clone(),
        assigned: g.counts.assigned,
        resolved: g.counts.first_resolved,
        response_rate: r.response_rate,
        resolution_rate: r.resolution_rate,
        on_time_rate: r.on_time_rate,
        satisfaction_rate: r.satisfaction_rate,
        avg_satisfaction: r.avg_satisfaction,
        reopen_rate: r.reopen_rate,
        overdue_open: g.counts.overdue_open,
        overdue_resolved: g.counts.overdue_resolved,
        avg_resolution_hours: r.avg_resolution_hours,
    }
}

/// The groups' counts added up: a totals row's rates are rates of these sums, never a mean
/// of the groups' rates (a unit with two orders weighs less than one with two hundred).
fn total(groups: &[GroupCounts]) -> ComplianceCounts {
    groups.iter().fold(ComplianceCounts::default(), |mut t, g| {
        let c = &g.counts;
        t.assigned += c.assigned;
        t.accepted_within_24h += c.accepted_within_24h;
        t.created += c.created;
        t.created_resolved += c.created_resolved;
        t.first_resolved += c.first_resolved;
        t.first_resolved_on_time += c.first_resolved_on_time;
        t.reopened += c.reopened;
        t.rated += c.rated;
        t.rated_satisfied += c.rated_satisfied;
        t.rating_sum += c.rating_sum;
        t.overdue_open += c.overdue_open;
        t.overdue_resolved += c.overdue_resolved;
        t.resolution_hours_sum += c.resolution_hours_sum;
        t
    })
}

/// The rates of every order under `within` for each of the `months` months that end with
/// `to`'s month (that one only up to `to`), oldest first, each with its first day.
pub fn monthly(
    conn: &mut DbConn,
    within: &str,
    to: NaiveDate,
    months: u32,
) -> ApiResult<Vec<(NaiveDate, ComplianceRates)>> {
    let last = to.with_day(1).unwrap_or(to);
    let firsts: Vec<NaiveDate> = (0..months)
        .rev()
        .filter_map(|back| last.checked_sub_months(Months::new(back)))
        .collect();
    let Some(&start) = firsts.first() else {
        return Ok(Vec::new());
    };
    let mut sums = vec![DailyCounts::default(); firsts.len()];
    for (day, counts) in store::days(conn, within, start, to)? {
        // The last month that began on or before the day holds it.
        if let Some(i) = firsts.iter().rposition(|first| *first <= day) {
            sums[i].add(&counts, 1);
        }
    }
    Ok(firsts
        .into_iter()
        .zip(sums)
        .map(|(first, days)| (first, rates(&days.into_counts(0))))
        .collect())
}

/// What the desk's 履约统计 shows: the chosen grouping, the totals by unit and by village
/// (they differ by the orders that have no unit), and the six months' trend.
pub struct Overview {
    pub chosen: Grouped,
    pub by_unit: ComplianceCounts,
    pub by_village: ComplianceCounts,
    pub months: Vec<(NaiveDate, ComplianceRates)>,
}

/// Months in the desk's trend chart.
pub const TREND_MONTHS: u32 = 6;

pub fn overview(
    conn: &mut DbConn,
    within: &str,
    group_by: GroupBy,
    period: (NaiveDate, NaiveDate),
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Overview> {
    let chosen = grouped(conn, &filter(group_by, within, period, tz, now))?;
    let mut total_by = |by: GroupBy| -> ApiResult<ComplianceCounts> {
        if by == group_by {
            Ok(chosen.total)
        } else {
            Ok(grouped(conn, &filter(by, within, period, tz, now))?.total)
        }
    };
    let by_unit = total_by(GroupBy::Unit)?;
    let by_village = total_by(GroupBy::Village)?;
    let months = monthly(conn, within, period.1, TREND_MONTHS)?;
    Ok(Overview {
        chosen,
        by_unit,
        by_village,
        months,
    })
}

/// An order past due at a cutoff and still open, with the names a person reads.
pub struct OverdueOrder {
    pub code: String,
    pub title: String,
    pub village: String,
    pub unit: Option<String>,
    pub assignee: Option<String>,
    pub due_at: NaiveDateTime,
    pub days: i64,
}

/// Whole days an order due at `due` is late at `at`, a day begun counting as one.
pub fn days_overdue(due: NaiveDateTime, at: NaiveDateTime) -> i64 {
    const DAY: i64 = 24 * 3600;
    let late = (at - due).num_seconds();
    if late <= 0 {
        0
    } else {
        (late + DAY - 1) / DAY
    }
}

/// The open orders an actor may list that were past due at `cutoff` (a month's end, or now
/// while it runs), most overdue first, as `GET /work-orders?overdue=true` lists them then.
pub fn overdue_at(
    conn: &mut DbConn,
    actor: &Actor,
    cutoff: NaiveDateTime,
    limit: i64,
) -> ApiResult<Vec<OverdueOrder>> {
    let rows = work_orders::list(
        conn,
        &OrderFilter {
            overdue_at: Some(cutoff),
            ..OrderFilter::new(crate::work_orders::list_scope(actor), limit)
        },
    )?;
    let mut unit_ids: Vec<String> = rows
        .iter()
        .flat_map(|r| [Some(r.village_id.clone()), r.unit_id.clone()])
        .flatten()
        .collect();
    unit_ids.sort();
    unit_ids.dedup();
    let units: HashMap<String, String> = org::find_many(conn, &unit_ids)?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let people: Vec<String> = rows.iter().filter_map(|r| r.assignee_id.clone()).collect();
    let people = users::names_of(conn, &people)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let due_at = r.due_at?;
            Some(OverdueOrder {
                village: units.get(&r.village_id).cloned().unwrap_or_default(),
                unit: r.unit_id.and_then(|u| units.get(&u).cloned()),
                assignee: r.assignee_id.and_then(|a| people.get(&a).cloned()),
                days: days_overdue(due_at, cutoff),
                code: r.code,
                title: r.title,
                due_at,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn a_day_begun_counts_as_a_day_late() {
        assert_eq!(days_overdue(at(10, 9), at(10, 9)), 0);
        assert_eq!(days_overdue(at(10, 9), at(9, 9)), 0);
        assert_eq!(days_overdue(at(10, 9), at(10, 10)), 1);
        assert_eq!(days_overdue(at(10, 9), at(11, 9)), 1);
        assert_eq!(days_overdue(at(10, 9), at(13, 8)), 3);
        assert_eq!(days_overdue(at(10, 9), at(13, 10)), 4);
    }

    #[test]
    fn totals_are_sums_of_counts_not_means_of_rates() {
        let group = |assigned, quick| GroupCounts {
            key: String::new(),
            name: String::new(),
            counts: ComplianceCounts {
                assigned,
                accepted_within_24h: quick,
                ..Default::default()
            },
        };
        let t = total(&[group(2, 0), group(198, 198)]);
        assert_eq!((t.assigned, t.accepted_within_24h), (200, 198));
        assert_eq!(rates(&t).response_rate, Some(0.99));
    }
}
