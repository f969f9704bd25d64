//! The "three rates" (响应率, 办结率, 按时办结率) and the rest of a unit's scorecard,
//! from counts that SQL computes per group (unit, village or assignee) for a period.
//!
//! Rates are fractions in 0..=1, or `None` when there was nothing to measure (a unit with
//! no orders has no rate, which is not the same as a rate of 0). Nothing is rounded here:
//! callers format for display.
//!
//! The counts come from separate queries that can disagree at the edges (an order resolved
//! while the queries ran, a back-dated import), so a numerator may exceed its denominator.
//! Rather than show 103 %, each rate is clamped to 1.0 and each average to its range.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Tz;

/// Counts for one group over one period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ComplianceCounts {
    /// Orders assigned in the period.
    pub assigned: u64,
    /// Of those, accepted within 24 h of assignment.
    pub accepted_within_24h: u64,
    /// Orders created in the period.
    pub created: u64,
    /// Of those, now resolved or closed.
    pub created_resolved: u64,
    /// Orders first resolved in the period.
    pub first_resolved: u64,
    /// Of those, first resolved at or before the ORIGINAL due time.
    pub first_resolved_on_time: u64,
    /// Of `first_resolved`, reopened by an unsatisfied reporter.
    pub reopened: u64,
    /// Orders rated in the period.
    pub rated: u64,
    /// Of those, rated >= 80.
    pub rated_satisfied: u64,
    /// Sum of those ratings (0..100 each).
    pub rating_sum: u64,
    /// Open and past due now.
    pub overdue_open: u64,
    /// Resolved in the period after their original due time.
    pub overdue_resolved: u64,
    /// Sum over `first_resolved` of hours from creation to first resolution.
    pub resolution_hours_sum: f64,
}

/// The rates for one group; `None` where the denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ComplianceRates {
    /// `accepted_within_24h / assigned`.
    pub response_rate: Option<f64>,
    /// `created_resolved / created`.
    pub resolution_rate: Option<f64>,
    /// `first_resolved_on_time / first_resolved`.
    pub on_time_rate: Option<f64>,
    /// `rated_satisfied / rated`.
    pub satisfaction_rate: Option<f64>,
    /// `rating_sum / rated`, on the 0..=100 scale.
    pub avg_satisfaction: Option<f64>,
    /// `reopened / first_resolved`.
    pub reopen_rate: Option<f64>,
    /// `resolution_hours_sum / first_resolved`.
    pub avg_resolution_hours: Option<f64>,
}

/// Turns counts into rates. Inconsistent counts are clamped, not rejected (see the module
/// docs): a fraction never exceeds 1.0, the average rating never exceeds 100, and the
/// average resolution time is never negative (a clock set wrong on a device can make a
/// resolution look earlier than its creation). A resolution-hours sum that is not a finite
/// number gives `None`, since no clamp could make it meaningful.
pub fn rates(c: &ComplianceCounts) -> ComplianceRates {
    ComplianceRates {
        response_rate: fraction(c.accepted_within_24h, c.assigned),
        resolution_rate: fraction(c.created_resolved, c.created),
        on_time_rate: fraction(c.first_resolved_on_time, c.first_resolved),
        satisfaction_rate: fraction(c.rated_satisfied, c.rated),
        avg_satisfaction: average_rating(c.rating_sum, c.rated),
        reopen_rate: fraction(c.reopened, c.first_resolved),
        avg_resolution_hours: average_hours(c.resolution_hours_sum, c.first_resolved),
    }
}

/// `part / whole`, clamped to 1.0; `None` when there is no whole to measure against.
fn fraction(part: u64, whole: u64) -> Option<f64> {
    if whole == 0 {
        return None;
    }
    if part >= whole {
        return Some(1.0);
    }
    Some(part as f64 / whole as f64)
}

fn average_rating(sum: u64, n: u64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    Some((sum as f64 / n as f64).min(100.0))
}

fn average_hours(sum: f64, n: u64) -> Option<f64> {
    if n == 0 || !sum.is_finite() {
        return None;
    }
    Some((sum / n as f64).max(0.0))
}

/// An order's times and outcome, as far as compliance counts see them (UTC times).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderTimes {
    pub created_at: NaiveDateTime,
    pub assigned_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub first_resolved_at: Option<NaiveDateTime>,
    pub original_due_at: Option<NaiveDateTime>,
    pub rated_at: Option<NaiveDateTime>,
    pub rating: Option<i32>,
    /// Resolved or closed now.
    pub done: bool,
    /// Reopened at least once by an unsatisfied reporter.
    pub reopened: bool,
}

/// The period counts of one group on one local day. Kept per day in the database, so a
/// period's counts are the sum of its days instead of a pass over every order; signed,
/// because a change to an order is stored as its old contribution taken away and its new
/// one added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DailyCounts {
    pub assigned: i64,
    pub accepted_within_24h: i64,
    pub created: i64,
    pub created_resolved: i64,
    pub first_resolved: i64,
    pub first_resolved_on_time: i64,
    pub reopened: i64,
    pub rated: i64,
    pub rated_satisfied: i64,
    pub rating_sum: i64,
    pub overdue_resolved: i64,
    /// Seconds from creation to first resolution: whole numbers, so that taking an old
    /// contribution away leaves no rounding behind.
    pub resolution_seconds: i64,
}

impl DailyCounts {
    pub fn add(&mut self, other: &DailyCounts, sign: i64) {
        self.assigned += sign * other.assigned;
        self.accepted_within_24h += sign * other.accepted_within_24h;
        self.created += sign * other.created;
        self.created_resolved += sign * other.created_resolved;
        self.first_resolved += sign * other.first_resolved;
        self.first_resolved_on_time += sign * other.first_resolved_on_time;
        self.reopened += sign * other.reopened;
        self.rated += sign * other.rated;
        self.rated_satisfied += sign * other.rated_satisfied;
        self.rating_sum += sign * other.rating_sum;
        self.overdue_resolved += sign * other.overdue_resolved;
        self.resolution_seconds += sign * other.resolution_seconds;
    }

    /// The counts of a period from the sum of its days, with the live count of open orders
    /// past due (which belongs to no day).
    pub fn into_counts(self, overdue_open: u64) -> ComplianceCounts {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        ComplianceCounts {
            assigned: n(self.assigned),
            accepted_within_24h: n(self.accepted_within_24h),
            created: n(self.created),
            created_resolved: n(self.created_resolved),
            first_resolved: n(self.first_resolved),
            first_resolved_on_time: n(self.first_resolved_on_time),
            reopened: n(self.reopened),
            rated: n(self.rated),
            rated_satisfied: n(self.rated_satisfied),
            rating_sum: n(self.rating_sum),
            overdue_open,
            overdue_resolved: n(self.overdue_resolved),
            resolution_hours_sum: self.resolution_seconds as f64 / 3600.0,
        }
    }
}

/// What one order adds to the counts of each local day it touches: the day it was created,
/// assigned, first resolved and rated (in `tz`), as DESIGN §2.4 defines each rate.
pub fn daily_counts(o: &OrderTimes, tz: Tz) -> Vec<(NaiveDate, DailyCounts)> {
    let day = |at: NaiveDateTime| tz.from_utc_datetime(&at).date_naive();
    let mut days: Vec<(NaiveDate, DailyCounts)> = Vec::with_capacity(4);
    let mut on = |at: NaiveDateTime, fill: &dyn Fn(&mut DailyCounts)| {
        let d = day(at);
        let i = match days.iter().position(|(k, _)| *k == d) {
            Some(i) => i,
            None => {
                days.push((d, DailyCounts::default()));
                days.len() - 1
            }
        };
        fill(&mut days[i].1);
    };
    on(o.created_at, &|c| {
        c.created += 1;
        c.created_resolved += i64::from(o.done);
    });
    if let Some(assigned) = o.assigned_at {
        let quick = o
            .accepted_at
            .is_some_and(|a| a - assigned <= TimeDelta::hours(24));
        on(assigned, &|c| {
            c.assigned += 1;
            c.accepted_within_24h += i64::from(quick);
        });
    }
    if let Some(first) = o.first_resolved_at {
        let late = o.original_due_at.is_some_and(|due| first > due);
        on(first, &|c| {
            c.first_resolved += 1;
            c.first_resolved_on_time += i64::from(!late);
            c.reopened += i64::from(o.reopened);
            c.overdue_resolved += i64::from(late);
            c.resolution_seconds += (first - o.created_at).num_seconds();
        });
    }
    if let (Some(rated), Some(rating)) = (o.rated_at, o.rating) {
        on(rated, &|c| {
            c.rated += 1;
            c.rated_satisfied += i64::from(rating >= 80);
            c.rating_sum += i64::from(rating);
        });
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn empty_counts_give_no_rates() {
        let r = rates(&ComplianceCounts::default());
        assert_eq!(
            r,
            ComplianceRates {
                response_rate: None,
                resolution_rate: None,
                on_time_rate: None,
                satisfaction_rate: None,
                avg_satisfaction: None,
                reopen_rate: None,
                avg_resolution_hours: None,
            }
        );
    }

    #[test]
    fn worked_example() {
        // A township office's month: 40 orders assigned, 36 accepted within a day; 50
        // created, 45 of them resolved; 44 first resolved, 40 on time, 2 reopened; 20 rated,
        // 15 of those >= 80, ratings adding up to 1_650; 132 hours to resolve in all.
        let c = ComplianceCounts {
            assigned: 40,
            accepted_within_24h: 36,
            created: 50,
            created_resolved: 45,
            first_resolved: 44,
            first_resolved_on_time: 40,
            reopened: 2,
            rated: 20,
            rated_satisfied: 15,
            rating_sum: 1_650,
            overdue_open: 3,
            overdue_resolved: 4,
            resolution_hours_sum: 132.0,
        };
        let r = rates(&c);
        assert!(close(r.response_rate, 0.9));
        assert!(close(r.resolution_rate, 0.9));
        assert!(close(r.on_time_rate, 40.0 / 44.0));
        assert!(close(r.satisfaction_rate, 0.75));
        assert!(close(r.avg_satisfaction, 82.5));
        assert!(close(r.reopen_rate, 2.0 / 44.0));
        assert!(close(r.avg_resolution_hours, 3.0));
    }

    #[test]
    fn each_rate_is_none_only_when_its_own_denominator_is_zero() {
        let r = rates(&ComplianceCounts {
            created: 3,
            created_resolved: 0,
            ..Default::default()
        });
        assert_eq!(r.resolution_rate, Some(0.0));
        assert_eq!(r.response_rate, None);
        assert_eq!(r.on_time_rate, None);
        assert_eq!(r.satisfaction_rate, None);
        assert_eq!(r.avg_satisfaction, None);
        assert_eq!(r.reopen_rate, None);
        assert_eq!(r.avg_resolution_hours, None);
    }

    #[test]
    fn inconsistent_counts_are_clamped() {
        let r = rates(&ComplianceCounts {
            assigned: 10,
            accepted_within_24h: 11,
            created: 1,
            created_resolved: u64::MAX,
            first_resolved: 2,
            first_resolved_on_time: 3,
            reopened: 5,
            rated: 2,
            rated_satisfied: 9,
            rating_sum: 1_000,
            resolution_hours_sum: -4.0,
            ..Default::default()
        });
        assert_eq!(r.response_rate, Some(1.0));
        assert_eq!(r.resolution_rate, Some(1.0));
        assert_eq!(r.on_time_rate, Some(1.0));
        assert_eq!(r.satisfaction_rate, Some(1.0));
        assert_eq!(r.avg_satisfaction, Some(100.0));
        assert_eq!(r.reopen_rate, Some(1.0));
        assert_eq!(r.avg_resolution_hours, Some(0.0));
    }

    #[test]
    fn huge_rating_counts_do_not_overflow() {
        let r = rates(&ComplianceCounts {
            rated: u64::MAX,
            rating_sum: u64::MAX,
            ..Default::default()
        });
        let avg = r.avg_satisfaction.unwrap();
        assert!((0.0..=100.0).contains(&avg));
    }

    #[test]
    fn non_finite_hours_give_no_average() {
        for sum in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let r = rates(&ComplianceCounts {
                first_resolved: 3,
                resolution_hours_sum: sum,
                ..Default::default()
            });
            assert_eq!(r.avg_resolution_hours, None, "{sum}");
        }
    }

    #[test]
    fn rates_serialize_as_numbers_or_null() {
        let r = rates(&ComplianceCounts {
            assigned: 4,
            accepted_within_24h: 1,
            ..Default::default()
        });
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json["response_rate"], serde_json::json!(0.25));
        assert_eq!(json["resolution_rate"], serde_json::Value::Null);
    }

    fn check(r: &ComplianceRates) -> Result<(), TestCaseError> {
        for (name, rate) in [
            ("response_rate", r.response_rate),
            ("resolution_rate", r.resolution_rate),
            ("on_time_rate", r.on_time_rate),
            ("satisfaction_rate", r.satisfaction_rate),
            ("reopen_rate", r.reopen_rate),
        ] {
            if let Some(v) = rate {
                prop_assert!((0.0..=1.0).contains(&v), "{name} = {v}");
            }
        }
        if let Some(v) = r.avg_satisfaction {
            prop_assert!((0.0..=100.0).contains(&v), "avg_satisfaction = {v}");
        }
        if let Some(v) = r.avg_resolution_hours {
            prop_assert!(v.is_finite() && v >= 0.0, "avg_resolution_hours = {v}");
        }
        Ok(())
    }

    /// Counts as SQL would give them: every part within its whole, ratings within 0..=100.
    fn consistent_counts() -> impl Strategy<Value = ComplianceCounts> {
        (
            (0u64..10_000, 0.0f64..=1.0),
            (0u64..10_000, 0.0f64..=1.0),
            (0u64..10_000, 0.0f64..=1.0, 0.0f64..=1.0),
            (0u64..10_000, 0.0f64..=1.0, 0.0f64..=1.0),
            (0u64..1_000, 0u64..1_000, 0.0f64..=500.0),
        )
            .prop_map(
                |(
                    (assigned, acc),
                    (created, res),
                    (first, on_time, reopen),
                    (rated, sat, avg),
                    (overdue_open, overdue_resolved, hours),
                )| {
                    let part = |whole: u64, f: f64| (whole as f64 * f).floor() as u64;
                    ComplianceCounts {
                        assigned,
                        accepted_within_24h: part(assigned, acc),
                        created,
                        created_resolved: part(created, res),
                        first_resolved: first,
                        first_resolved_on_time: part(first, on_time),
                        reopened: part(first, reopen),
                        rated,
                        rated_satisfied: part(rated, sat),
                        rating_sum: part(rated * 100, avg),
                        overdue_open,
                        overdue_resolved,
                        resolution_hours_sum: first as f64 * hours,
                    }
                },
            )
    }

    /// Anything at all, including parts larger than their wholes and odd hour sums.
    fn arbitrary_counts() -> impl Strategy<Value = ComplianceCounts> {
        (
            (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
            (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
            (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
            any::<f64>(),
        )
            .prop_map(|((a, b, c, d), (e, f, g, h), (i, j, k, l), hours)| {
                ComplianceCounts {
                    assigned: a,
                    accepted_within_24h: b,
                    created: c,
                    created_resolved: d,
                    first_resolved: e,
                    first_resolved_on_time: f,
                    reopened: g,
                    rated: h,
                    rated_satisfied: i,
                    rating_sum: j,
                    overdue_open: k,
                    overdue_resolved: l,
                    resolution_hours_sum: hours,
                }
            })
    }

    /// Small numbers so that parts often exceed wholes and zeros are common.
    fn small_inconsistent_counts() -> impl Strategy<Value = ComplianceCounts> {
        (
            (0u64..5, 0u64..5, 0u64..5, 0u64..5),
            (0u64..5, 0u64..5, 0u64..5, 0u64..5),
            (0u64..5, 0u64..1_000),
            -100.0f64..100.0,
        )
            .prop_map(
                |((a, b, c, d), (e, f, g, h), (i, j), hours)| ComplianceCounts {
                    assigned: a,
                    accepted_within_24h: b,
                    created: c,
                    created_resolved: d,
                    first_resolved: e,
                    first_resolved_on_time: f,
                    reopened: g,
                    rated: h,
                    rated_satisfied: i,
                    rating_sum: j,
                    resolution_hours_sum: hours,
                    ..Default::default()
                },
            )
    }

    fn order_times() -> impl Strategy<Value = OrderTimes> {
        let at = || {
            (0i64..60 * 24 * 60).prop_map(|m| {
                NaiveDate::from_ymd_opt(2026, 3, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    + TimeDelta::minutes(m)
            })
        };
        (
            at(),
            proptest::option::of(at()),
            proptest::option::of(0i64..3_000),
            proptest::option::of(at()),
            proptest::option::of(at()),
            proptest::option::of((at(), 0i32..=100)),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(
                    created_at,
                    assigned_at,
                    accept_after,
                    first_resolved_at,
                    original_due_at,
                    rated,
                    done,
                    reopened,
                )| OrderTimes {
                    created_at,
                    assigned_at,
                    accepted_at: assigned_at
                        .zip(accept_after)
                        .map(|(a, m)| a + TimeDelta::minutes(m)),
                    first_resolved_at,
                    original_due_at,
                    rated_at: rated.map(|r| r.0),
                    rating: rated.map(|r| r.1),
                    done,
                    reopened,
                },
            )
    }

    proptest! {
            #[test]
            fn consistent_counts_give_rates_in_range(c in consistent_counts()) {
                let r = rates(&c);
                check(&r)?;
                // With consistent counts nothing needed clamping: the plain quotient comes back.
                if c.assigned > 0 {
                    let want = c.accepted_within_24h as f64 / c.assigned as f64;
                    prop_assert!((r.response_rate.unwrap() - want).abs() < 1e-12);
                }
                if c.rated > 0 {
                    let want = c.rating_sum as f64 / c.rated as f64;
                    prop_assert!((r.avg_satisfaction.unwrap() - want).abs() < 1e-9);
                }
            }

            #[test]
            fn arbitrary_counts_give_rates_in_range(c in arbitrary_counts()) {
                check(&rates(&c))?;
            }

            #[test]
            fn small_inconsistent_counts_give_rates_in_range(c in small_inconsistent_counts()) {
                check(&rates(&c))?;
            }

            #[test]
            fn a_rate_is_none_exactly_when_its_denominator_is_zero(c in small_inconsistent_counts()) {
                let r = rates(&c);
                prop_assert_eq!(r.response_rate.is_none(), c.assigned == 0);
                prop_assert_eq!(r.resolution_rate.is_none(), c.created == 0);
                prop_assert_eq!(r.on_time_rate.is_none(), c.first_resolved == 0);
                prop_assert_eq!(r.reopen_rate.is_none(), c.first_resolved == 0);
                prop_assert_eq!(r.satisfaction_rate.is_none(), c.rated == 0);
                prop_assert_eq!(r.avg_satisfaction.is_none(), c.rated == 0);
                prop_assert_eq!(r.avg_resolution_hours.is_none(), c.first_resolved == 0);
            }

            /// Summing the days of a period gives what DESIGN §2.4 counts over the period's
            /// instants, in any time zone.
            #[test]
            fn a_periods_days_add_up_to_its_counts(
                orders in proptest::collection::vec(order_times(), 0..30),
                first in 0i64..40,
                length in 0i64..20,
                zone in prop_oneof![Just(chrono_tz::Asia::Shanghai), Just(chrono_tz::America::New_York), Just(chrono_tz::UTC)],
            ) {
                let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
                let (from, to) = (base + TimeDelta::days(first), base + TimeDelta::days(first + length));
                let start = |d: NaiveDate| zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().naive_utc();
                let (lo, hi) = (start(from), start(to + TimeDelta::days(1)));
                let inside = |t: Option<NaiveDateTime>| t.is_some_and(|t| t >= lo && t < hi);
                let mut summed = DailyCounts::default();
                let mut direct = DailyCounts::default();
                for o in &orders {
                    for (day, c) in daily_counts(o, zone) {
                        if day >= from && day <= to {
                            summed.add(&c, 1);
                        }
                    }
                    if inside(Some(o.created_at)) {
                        direct.created += 1;
                        direct.created_resolved += i64::from(o.done);
                    }
                    if inside(o.assigned_at) {
                        direct.assigned += 1;
                        let quick = o.accepted_at.zip(o.assigned_at).is_some_and(|(a, b)| (a - b).num_seconds() <= 86_400);
                        direct.accepted_within_24h += i64::from(quick);
                    }
                    if let Some(f) = o.first_resolved_at.filter(|_| inside(o.first_resolved_at)) {
                        direct.first_resolved += 1;
                        let on_time = o.original_due_at.is_none_or(|d| f <= d);
                        direct.first_resolved_on_time += i64::from(on_time);
                        direct.overdue_resolved += i64::from(!on_time);
                        direct.reopened += i64::from(o.reopened);
                        direct.resolution_seconds += (f - o.created_at).num_seconds();
                    }
                    if let Some(r) = o.rating.filter(|_| inside(o.rated_at)) {
                        direct.rated += 1;
                        direct.rated_satisfied += i64::from(r >= 80);
                        direct.rating_sum += i64::from(r);
                    }
                }
                prop_assert_eq!(summed, direct);
            }
    }
}
