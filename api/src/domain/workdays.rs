//! Working days and committed deadlines for work orders (民情工单).
//!
//! A day is a local date in the town's time zone. Monday–Friday are worked and
//! Saturday/Sunday are off, unless the admin's yearly calendar says otherwise:
//! listed holidays are off, and listed 调休 make-up workdays (weekend days) are worked.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included};

use chrono::{DateTime, Datelike, Days, NaiveDate, Offset, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::Invalid;

/// Holidays and make-up workdays, for any number of years.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// A date listed in both is a holiday: `parse_year_calendar` refuses such input,
    /// and reading it as a day off never shortens a committed deadline.
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
            workdays: workdays.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.holidays.contains(&day) {
            false
        } else {
            self.workdays.contains(&day) || is_weekday(day)
        }
    }

    /// The `n`-th working day after `from` (not counting `from`); n = 0 gives `from`.
    ///
    /// Exact for any calendar: only listed dates differ from the weekly pattern, so
    /// the answer is found by a bounded search over `working_days_between`, not by
    /// walking day by day. Should `n` working days not fit before chrono's last date
    /// (year 262142, reachable only with absurd `n`), that last date is returned.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return from;
        }
        let at = |offset: i64| {
            from.checked_add_days(Days::new(offset.unsigned_abs()))
                .unwrap_or(NaiveDate::MAX)
        };
        let span = NaiveDate::MAX.signed_duration_since(from).num_days();
        // Invariant: fewer than n working days in (from, at(lo)], at least n in (from, at(hi)].
        // Galloping first keeps the searched range, and so the listed dates scanned, small.
        let mut lo = 0_i64;
        let mut hi = (i64::from(n) * 2).max(14).min(span);
        while self.working_days_between(from, at(hi)) < n {
            if hi >= span {
                return NaiveDate::MAX;
            }
            lo = hi;
            hi = hi.saturating_mul(2).min(span);
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.working_days_between(from, at(mid)) >= n {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        // The first date reaching n is itself a working day: the count rose on it.
        at(hi)
    }

    /// Working days in (from, to]: 0 when to <= from.
    ///
    /// Counts weekdays arithmetically, then corrects for the listed dates in range,
    /// so the cost does not grow with the length of the range.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        if to <= from {
            return 0;
        }
        let days = to.signed_duration_since(from).num_days();
        let first = i64::from(from.weekday().num_days_from_monday());
        let partial = (1..=days % 7).filter(|k| (first + k) % 7 < 5).count();
        let mut count = (days / 7) * 5 + partial as i64;
        let range = (Excluded(from), Included(to));
        for &day in self.holidays.range(range) {
            if is_weekday(day) {
                count -= 1;
            }
        }
        for &day in self.workdays.range(range) {
            if !is_weekday(day) && !self.holidays.contains(&day) {
                count += 1;
            }
        }
        // chrono's whole date range holds about 1.4e8 weekdays, well within u32.
        u32::try_from(count.max(0)).unwrap_or(u32::MAX)
    }
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A year's calendar as an admin sends it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    pub year: i32,
    /// Sorted, deduplicated.
    pub holidays: Vec<NaiveDate>,
    /// Sorted, deduplicated; all Saturdays or Sundays.
    pub workdays: Vec<NaiveDate>,
}

/// Enough for every day of a leap year; more can only be a mistake.
const MAX_ENTRIES: usize = 366;

/// Checks a year's calendar, reporting every broken rule (see `YearCalendar`):
/// year in 2000..=2100; each date within that year (`holidays[i]` / `workdays[i]`,
/// `i` indexing the input list); no date both a holiday and a workday (reported on
/// the workday); make-up workdays on weekends; duplicates merged silently; at most
/// 366 entries per list (reported on `holidays` / `workdays`).
pub fn parse_year_calendar(
    year: i32,
    holidays: &[NaiveDate],
    workdays: &[NaiveDate],
) -> Result<YearCalendar, Vec<Invalid>> {
    let mut errors = Vec::new();
    if !(2000..=2100).contains(&year) {
        errors.push(Invalid::new("year", "must be between 2000 and 2100"));
    }
    let not_in_year = || format!("must be a date in {year}");

    // An oversized list is refused whole; checking each entry too would only flood
    // the response with one error per date.
    if holidays.len() > MAX_ENTRIES {
        errors.push(Invalid::new("holidays", "at most 366 dates"));
    } else {
        for (i, day) in holidays.iter().enumerate() {
            if day.year() != year {
                errors.push(Invalid::new(format!("holidays[{i}]"), not_in_year()));
            }
        }
    }
    let holiday_set: BTreeSet<NaiveDate> = holidays.iter().copied().collect();

    if workdays.len() > MAX_ENTRIES {
        errors.push(Invalid::new("workdays", "at most 366 dates"));
    } else {
        for (i, day) in workdays.iter().enumerate() {
            let field = format!("workdays[{i}]");
            if day.year() != year {
                errors.push(Invalid::new(field.clone(), not_in_year()));
            }
            if is_weekday(*day) {
                errors.push(Invalid::new(
                    field.clone(),
                    "a make-up workday is a weekend day",
                ));
            }
            if holiday_set.contains(day) {
                errors.push(Invalid::new(
                    field,
                    "a date cannot be both a holiday and a make-up workday",
                ));
            }
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let workday_set: BTreeSet<NaiveDate> = workdays.iter().copied().collect();
    Ok(YearCalendar {
        year,
        holidays: holiday_set.into_iter().collect(),
        workdays: workday_set.into_iter().collect(),
    })
}

/// How a supervisor states a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueSpec {
    At(DateTime<Utc>),
    Days(u32),
    WorkingDays(u32),
}

const MAX_AHEAD_DAYS: i64 = 366;
const MAX_DAYS: u32 = 365;
const MAX_WORKING_DAYS: u32 = 250;
const OUT_OF_RANGE: &str = "the deadline falls outside the supported dates";

/// The committed deadline for an order assigned at `assigned_at`:
/// - `At(t)`: `t` itself; refused if `t <= assigned_at` or more than 366 days later (field `due_at`).
/// - `Days(n)`: the end (23:59:59 local) of the local date `n` days after the
///   assignment's local date; `n` in 1..=365 (field `due_in_days`).
/// - `WorkingDays(n)`: the end (23:59:59 local) of the `n`-th working day after the
///   assignment's local date; `n` in 1..=250 (field `due_in_working_days`).
///
/// Days are local dates in `tz`, so an order assigned at 23:30 local still gets the
/// whole next day.
pub fn due_at(
    spec: DueSpec,
    assigned_at: DateTime<Utc>,
    tz: Tz,
    calendar: &WorkCalendar,
) -> Result<DateTime<Utc>, Invalid> {
    match spec {
        DueSpec::At(t) => {
            if t <= assigned_at {
                return Err(Invalid::new("due_at", "a deadline in the past is refused"));
            }
            // No upper limit to exceed when adding would leave chrono's range.
            let limit = assigned_at.checked_add_signed(TimeDelta::days(MAX_AHEAD_DAYS));
            if limit.is_some_and(|limit| t > limit) {
                return Err(Invalid::new(
                    "due_at",
                    "a deadline more than 366 days ahead is refused",
                ));
            }
            Ok(t)
        }
        DueSpec::Days(n) => {
            let field = "due_in_days";
            if !(1..=MAX_DAYS).contains(&n) {
                return Err(Invalid::new(field, "must be between 1 and 365"));
            }
            local_date(assigned_at, tz)
                .and_then(|day| day.checked_add_days(Days::new(u64::from(n))))
                .and_then(|day| end_of_local_day(day, tz))
                .ok_or_else(|| Invalid::new(field, OUT_OF_RANGE))
        }
        DueSpec::WorkingDays(n) => {
            let field = "due_in_working_days";
            if !(1..=MAX_WORKING_DAYS).contains(&n) {
                return Err(Invalid::new(field, "must be between 1 and 250"));
            }
            local_date(assigned_at, tz)
                .map(|day| calendar.add_working_days(day, n))
                .and_then(|day| end_of_local_day(day, tz))
                .ok_or_else(|| Invalid::new(field, OUT_OF_RANGE))
        }
    }
}

/// The local date of `at` in `tz`; `None` only at the very edge of chrono's range,
/// where `date_naive` would panic.
fn local_date(at: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc().checked_add_offset(offset).map(|t| t.date())
}

/// The first instant of local `day` in `tz`, as UTC: where a period of local dates begins.
///
/// When a DST gap swallows midnight the day begins when the clock resumes, found by stepping
/// forward a minute at a time; a date skipped entirely begins where the next one does.
/// `None` only at the edge of chrono's range.
pub fn start_of_local_day(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let mut day = day;
    for _ in 0..3 {
        let mut t = day.and_hms_opt(0, 0, 0)?;
        while t.date() == day {
            if let Some(local) = tz.from_local_datetime(&t).earliest() {
                return Some(local.with_timezone(&Utc));
            }
            t = t.checked_add_signed(TimeDelta::minutes(1))?;
        }
        day = day.succ_opt()?;
    }
    None
}

/// 23:59:59 local on `day`, as UTC.
///
/// When the clock is set back across it, the first occurrence counts (`earliest`).
/// When a DST gap swallows it, the last second before the gap is the end of the day,
/// found by stepping back a minute at a time. A date skipped entirely (Samoa had no
/// 2011-12-30) rolls to the next date, so a deadline never lands before its day.
fn end_of_local_day(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let mut day = day;
    for _ in 0..3 {
        let mut t = day.and_hms_opt(23, 59, 59)?;
        while t.date() == day {
            if let Some(local) = tz.from_local_datetime(&t).earliest() {
                return Some(local.with_timezone(&Utc));
            }
            t = t.checked_sub_signed(TimeDelta::minutes(1))?;
        }
        day = day.succ_opt()?;
    }
    None
}

/// Words for a category's default deadline, shown to reporters and as the Open311
/// `service_notice`: Chinese, as every word a person reads.
pub fn deadline_notice(working_days: u32) -> String {
    match working_days {
        // Not a deadline `due_at` accepts, but a category may still be configured so.
        0 => "当日办结".to_string(),
        1 => "1个工作日内办结".to_string(),
        n => format!("{n}个工作日内办结"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    /// The National Day week as given: Oct 1–7 (Thu–Wed) off, Sun Sep 27 and
    /// Sat Oct 10 worked.
    fn national_day_2026() -> WorkCalendar {
        WorkCalendar::new(
            (1..=7).map(|day| d(2026, 10, day)),
            [d(2026, 9, 27), d(2026, 10, 10)],
        )
    }

    #[test]
    fn weekdays_work_and_weekends_rest_by_default() {
        let cal = WorkCalendar::default();
        // 2026-03-02 is a Monday.
        for day in 2..=6 {
            assert!(cal.is_working_day(d(2026, 3, day)), "March {day}");
        }
        assert!(!cal.is_working_day(d(2026, 3, 7)));
        assert!(!cal.is_working_day(d(2026, 3, 8)));
    }

    #[test]
    fn a_weekday_holiday_is_off_and_a_make_up_saturday_is_on() {
        let cal = WorkCalendar::new([d(2026, 5, 1)], [d(2026, 5, 9)]);
        assert_eq!(d(2026, 5, 1).weekday(), Weekday::Fri);
        assert!(!cal.is_working_day(d(2026, 5, 1)));
        assert_eq!(d(2026, 5, 9).weekday(), Weekday::Sat);
        assert!(cal.is_working_day(d(2026, 5, 9)));
        assert!(!cal.is_working_day(d(2026, 5, 10)));
    }

    #[test]
    fn a_date_listed_as_both_is_a_holiday() {
        let cal = WorkCalendar::new([d(2026, 5, 9)], [d(2026, 5, 9)]);
        assert!(!cal.is_working_day(d(2026, 5, 9)));
        assert_eq!(cal.working_days_between(d(2026, 5, 8), d(2026, 5, 10)), 0);
    }

    #[test]
    fn national_day_week_counts_the_make_up_days() {
        let cal = national_day_2026();
        assert_eq!(d(2026, 9, 30).weekday(), Weekday::Wed);
        assert_eq!(d(2026, 10, 1).weekday(), Weekday::Thu);
        assert!(cal.is_working_day(d(2026, 9, 27)));
        assert!((1..=7).all(|day| !cal.is_working_day(d(2026, 10, day))));
        // After Wed Sep 30: Oct 1–7 off, then Thu 8 (1st), Fri 9 (2nd) and the make-up
        // Sat 10 (3rd). So 3 working days end on Oct 10, not Oct 9 as the brief's
        // example said: that count forgot the make-up Saturday.
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 1), d(2026, 10, 8));
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 2), d(2026, 10, 9));
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 3), d(2026, 10, 10));
        // Sun Oct 11 is an ordinary Sunday, so the 4th is Mon Oct 12.
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 4), d(2026, 10, 12));
        // From Fri Sep 25: Sun 27 (make-up), Mon 28, Tue 29, Wed 30.
        assert_eq!(cal.add_working_days(d(2026, 9, 25), 1), d(2026, 9, 27));
        assert_eq!(cal.add_working_days(d(2026, 9, 25), 4), d(2026, 9, 30));
        assert_eq!(cal.add_working_days(d(2026, 9, 25), 5), d(2026, 10, 8));
        assert_eq!(cal.working_days_between(d(2026, 9, 25), d(2026, 10, 12)), 8);
    }

    #[test]
    fn national_day_due_at_is_the_end_of_the_third_working_day() {
        // 10:00 Shanghai on Wed Sep 30; due 23:59:59 Shanghai on Sat Oct 10.
        let due = due_at(
            DueSpec::WorkingDays(3),
            utc("2026-09-30T02:00:00Z"),
            SHANGHAI,
            &national_day_2026(),
        );
        assert_eq!(due, Ok(utc("2026-10-10T15:59:59Z")));
    }

    #[test]
    fn working_days_use_the_local_date_of_the_assignment() {
        // 17:00Z on Wed Sep 30 is already 01:00 Thu Oct 1 in Shanghai: the count starts
        // from Oct 1, which lands on the same days as from Sep 30 because the holidays
        // in between add none.
        let due = due_at(
            DueSpec::WorkingDays(1),
            utc("2026-09-30T17:00:00Z"),
            SHANGHAI,
            &national_day_2026(),
        );
        assert_eq!(due, Ok(utc("2026-10-08T15:59:59Z")));
        // 15:00Z Fri Oct 9 is 23:00 Fri in Shanghai; the next working day is Sat Oct 10.
        let due = due_at(
            DueSpec::WorkingDays(1),
            utc("2026-10-09T15:00:00Z"),
            SHANGHAI,
            &national_day_2026(),
        );
        assert_eq!(due, Ok(utc("2026-10-10T15:59:59Z")));
    }

    #[test]
    fn days_count_from_the_local_date() {
        // 15:30Z is 23:30 Shanghai on Nov 21, so one day later is the end of Nov 22.
        let due = due_at(
            DueSpec::Days(1),
            utc("2026-11-21T15:30:00Z"),
            SHANGHAI,
            &WorkCalendar::default(),
        );
        assert_eq!(due, Ok(utc("2026-11-22T15:59:59Z")));
        // 16:30Z is already 00:30 on Nov 22 in Shanghai.
        let due = due_at(
            DueSpec::Days(1),
            utc("2026-11-21T16:30:00Z"),
            SHANGHAI,
            &WorkCalendar::default(),
        );
        assert_eq!(due, Ok(utc("2026-11-23T15:59:59Z")));
    }

    #[test]
    fn days_ignore_the_calendar() {
        let due = due_at(
            DueSpec::Days(2),
            utc("2026-09-30T02:00:00Z"),
            SHANGHAI,
            &national_day_2026(),
        );
        assert_eq!(due, Ok(utc("2026-10-02T15:59:59Z")));
    }

    #[test]
    fn at_is_kept_within_bounds() {
        let now = utc("2026-06-01T08:00:00Z");
        let cal = WorkCalendar::default();
        let later = utc("2026-06-03T09:00:00Z");
        assert_eq!(due_at(DueSpec::At(later), now, SHANGHAI, &cal), Ok(later));
        let past = Invalid::new("due_at", "a deadline in the past is refused");
        assert_eq!(
            due_at(
                DueSpec::At(utc("2026-05-31T08:00:00Z")),
                now,
                SHANGHAI,
                &cal
            ),
            Err(past.clone())
        );
        assert_eq!(due_at(DueSpec::At(now), now, SHANGHAI, &cal), Err(past));
        let edge = now + TimeDelta::days(366);
        assert_eq!(due_at(DueSpec::At(edge), now, SHANGHAI, &cal), Ok(edge));
        let too_far = due_at(
            DueSpec::At(edge + TimeDelta::seconds(1)),
            now,
            SHANGHAI,
            &cal,
        );
        assert_eq!(too_far.map_err(|e| e.field), Err("due_at".to_string()));
    }

    #[test]
    fn day_counts_out_of_range_are_refused() {
        let now = utc("2026-06-01T08:00:00Z");
        let cal = WorkCalendar::default();
        let field = |spec| due_at(spec, now, SHANGHAI, &cal).map_err(|e| e.field);
        assert_eq!(field(DueSpec::Days(0)), Err("due_in_days".into()));
        assert_eq!(field(DueSpec::Days(366)), Err("due_in_days".into()));
        assert!(field(DueSpec::Days(365)).is_ok());
        assert_eq!(
            field(DueSpec::WorkingDays(0)),
            Err("due_in_working_days".into())
        );
        assert_eq!(
            field(DueSpec::WorkingDays(251)),
            Err("due_in_working_days".into())
        );
        assert!(field(DueSpec::WorkingDays(250)).is_ok());
    }

    #[test]
    fn end_of_day_in_a_zone_with_dst() {
        let cal = WorkCalendar::default();
        let ny = chrono_tz::America::New_York;
        // Summer: EDT, UTC-4.
        let due = due_at(DueSpec::Days(1), utc("2026-07-01T12:00:00Z"), ny, &cal);
        assert_eq!(due, Ok(utc("2026-07-03T03:59:59Z")));
        // Winter: EST, UTC-5.
        let due = due_at(DueSpec::Days(1), utc("2026-01-05T12:00:00Z"), ny, &cal);
        assert_eq!(due, Ok(utc("2026-01-07T04:59:59Z")));
    }

    #[test]
    fn end_of_day_when_the_clock_falls_back_at_midnight() {
        // Santiago left DST at 24:00 on Sat 2026-04-04: 23:00–23:59 happened twice.
        // The first 23:59:59 (UTC-3) counts.
        let santiago = chrono_tz::America::Santiago;
        let local = d(2026, 4, 4).and_hms_opt(23, 59, 59).unwrap();
        assert!(santiago.from_local_datetime(&local).single().is_none());
        assert_eq!(
            end_of_local_day(d(2026, 4, 4), santiago),
            Some(utc("2026-04-05T02:59:59Z"))
        );
    }

    #[test]
    fn end_of_day_when_a_dst_gap_swallows_midnight() {
        // Nuuk (UTC-2) springs forward at 23:00 on Sat 2026-03-28, straight to 00:00 Sunday
        // (UTC-1): that Saturday's last second is 22:59:59 local.
        let nuuk = chrono_tz::America::Nuuk;
        assert_eq!(
            end_of_local_day(d(2026, 3, 28), nuuk),
            Some(utc("2026-03-29T00:59:59Z"))
        );
        let due = due_at(
            DueSpec::Days(1),
            utc("2026-03-27T12:00:00Z"),
            nuuk,
            &WorkCalendar::default(),
        );
        assert_eq!(due, Ok(utc("2026-03-29T00:59:59Z")));
    }

    #[test]
    fn a_local_day_begins_at_midnight_or_when_the_clock_resumes() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            start_of_local_day(d(2026, 7, 1), ny),
            Some(utc("2026-07-01T04:00:00Z"))
        );
        // Santiago springs forward at 24:00 on Sat 2026-09-05: Sunday begins at 01:00 (UTC-3).
        let santiago = chrono_tz::America::Santiago;
        let midnight = d(2026, 9, 6).and_hms_opt(0, 0, 0).unwrap();
        assert!(santiago.from_local_datetime(&midnight).earliest().is_none());
        assert_eq!(
            start_of_local_day(d(2026, 9, 6), santiago),
            Some(utc("2026-09-06T04:00:00Z"))
        );
        // Samoa skipped 2011-12-30: it begins where 2011-12-31 does (UTC+14).
        assert_eq!(
            start_of_local_day(d(2011, 12, 30), chrono_tz::Pacific::Apia),
            Some(utc("2011-12-30T10:00:00Z"))
        );
    }

    #[test]
    fn a_skipped_date_rolls_to_the_next() {
        // Samoa jumped from the end of 2011-12-29 straight to 2011-12-31 (UTC+14).
        let apia = chrono_tz::Pacific::Apia;
        assert_eq!(
            end_of_local_day(d(2011, 12, 30), apia),
            Some(utc("2011-12-31T09:59:59Z"))
        );
        let due = due_at(
            DueSpec::Days(1),
            utc("2011-12-30T09:00:00Z"), // 23:00 on Dec 29 in Apia (UTC-10)
            apia,
            &WorkCalendar::default(),
        );
        assert_eq!(due, Ok(utc("2011-12-31T09:59:59Z")));
    }

    #[test]
    fn extreme_instants_give_errors_not_panics() {
        let cal = WorkCalendar::default();
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            for spec in [
                DueSpec::Days(1),
                DueSpec::Days(365),
                DueSpec::WorkingDays(250),
                DueSpec::At(DateTime::<Utc>::MAX_UTC),
            ] {
                let _ = due_at(spec, at, SHANGHAI, &cal);
                let _ = due_at(spec, at, chrono_tz::America::New_York, &cal);
            }
        }
        assert_eq!(
            due_at(DueSpec::Days(1), DateTime::<Utc>::MAX_UTC, SHANGHAI, &cal).map_err(|e| e.field),
            Err("due_in_days".into())
        );
    }

    #[test]
    fn add_working_days_saturates_at_the_end_of_time() {
        let cal = WorkCalendar::default();
        assert_eq!(
            cal.add_working_days(d(2026, 1, 1), u32::MAX),
            NaiveDate::MAX
        );
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 0), NaiveDate::MAX);
        // Large but reachable counts are exact.
        let far = cal.add_working_days(d(2026, 1, 1), 1_000_000);
        assert_eq!(cal.working_days_between(d(2026, 1, 1), far), 1_000_000);
        assert!(cal.is_working_day(far));
    }

    #[test]
    fn working_days_between_is_zero_backwards() {
        let cal = national_day_2026();
        assert_eq!(cal.working_days_between(d(2026, 10, 9), d(2026, 10, 9)), 0);
        assert_eq!(cal.working_days_between(d(2026, 10, 9), d(2026, 9, 1)), 0);
        assert_eq!(
            cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX),
            cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX)
        );
    }

    #[test]
    fn a_valid_year_is_sorted_and_deduplicated() {
        let holidays: Vec<_> = [7, 1, 3, 3, 2, 4, 5, 6]
            .iter()
            .map(|&x| d(2026, 10, x))
            .collect();
        let workdays = [d(2026, 10, 10), d(2026, 9, 27), d(2026, 10, 10)];
        let year = parse_year_calendar(2026, &holidays, &workdays).unwrap();
        assert_eq!(year.year, 2026);
        assert_eq!(
            year.holidays,
            (1..=7).map(|x| d(2026, 10, x)).collect::<Vec<_>>()
        );
        assert_eq!(year.workdays, vec![d(2026, 9, 27), d(2026, 10, 10)]);
        assert_eq!(
            WorkCalendar::new(year.holidays, year.workdays),
            national_day_2026()
        );
    }

    #[test]
    fn an_empty_year_is_fine() {
        let year = parse_year_calendar(2030, &[], &[]).unwrap();
        assert!(year.holidays.is_empty() && year.workdays.is_empty());
    }

    #[test]
    fn year_calendar_errors_name_the_input_index() {
        let holidays = [d(2026, 10, 1), d(2025, 12, 31), d(2026, 10, 2)];
        let workdays = [
            d(2026, 10, 10), // fine
            d(2026, 10, 2),  // a holiday, and a Friday
            d(2027, 1, 2),   // a Saturday, but not in 2026
            d(2026, 10, 12), // a Monday
        ];
        let errors = parse_year_calendar(2026, &holidays, &workdays).unwrap_err();
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("holidays[1]", "must be a date in 2026"),
                ("workdays[1]", "a make-up workday is a weekend day"),
                (
                    "workdays[1]",
                    "a date cannot be both a holiday and a make-up workday"
                ),
                ("workdays[2]", "must be a date in 2026"),
                ("workdays[3]", "a make-up workday is a weekend day"),
            ]
        );
    }

    #[test]
    fn year_calendar_limits() {
        let fields = |year, h: &[NaiveDate], w: &[NaiveDate]| {
            parse_year_calendar(year, h, w)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(1999, &[], &[]), vec!["year"]);
        assert_eq!(fields(2101, &[], &[]), vec!["year"]);
        assert!(parse_year_calendar(2000, &[], &[]).is_ok());
        assert!(parse_year_calendar(2100, &[], &[]).is_ok());

        // 367 entries, all duplicates of one valid date: still too many.
        let many = vec![d(2026, 10, 1); 367];
        let sats = vec![d(2026, 10, 10); 367];
        assert_eq!(
            fields(2026, &many, &sats),
            vec!["holidays".to_string(), "workdays".to_string()]
        );
        assert!(parse_year_calendar(2026, &many[..366], &sats[..366]).is_ok());
        // A leap year's every day fits.
        let all: Vec<_> = d(2028, 1, 1).iter_days().take(366).collect();
        assert_eq!(
            parse_year_calendar(2028, &all, &[]).map(|y| y.holidays.len()),
            Ok(366)
        );
    }

    #[test]
    fn notices() {
        assert_eq!(deadline_notice(3), "3个工作日内办结");
        assert_eq!(deadline_notice(1), "1个工作日内办结");
        assert_eq!(deadline_notice(0), "当日办结");
        assert_eq!(deadline_notice(15), "15个工作日内办结");
    }

    fn naive_count(cal: &WorkCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|day| *day <= to)
            .filter(|day| cal.is_working_day(*day))
            .count() as u32
    }

    fn date_in(lo: i32, hi: i32) -> impl Strategy<Value = NaiveDate> {
        let start = d(lo, 1, 1);
        let days = d(hi, 12, 31).signed_duration_since(start).num_days() as u64;
        (0..=days).prop_map(move |k| start + Days::new(k))
    }

    /// Calendars dense around 2026, including dates listed as both.
    fn calendar() -> impl Strategy<Value = WorkCalendar> {
        (
            prop::collection::vec(date_in(2025, 2027), 0..300),
            prop::collection::vec(date_in(2025, 2027), 0..120),
        )
            .prop_map(|(h, w)| WorkCalendar::new(h, w))
    }

    fn instant(lo: i32, hi: i32) -> impl Strategy<Value = DateTime<Utc>> {
        let start = d(lo, 1, 1)
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        let end = d(hi, 12, 31)
            .and_hms_opt(23, 59, 59)
            .unwrap()
            .and_utc()
            .timestamp();
        (start..=end).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            chrono_tz::Asia::Shanghai,
            chrono_tz::Asia::Urumqi,
            chrono_tz::UTC,
            chrono_tz::America::New_York,
            chrono_tz::America::Santiago,
            chrono_tz::Europe::London,
            chrono_tz::America::Nuuk,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Pacific::Apia,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Pago_Pago,
        ])
    }

    proptest! {
        #[test]
        fn add_working_days_lands_on_the_nth_working_day(
            cal in calendar(),
            from in date_in(2024, 2027),
            n in 1u32..800,
        ) {
            let due = cal.add_working_days(from, n);
            prop_assert!(due > from);
            prop_assert!(cal.is_working_day(due));
            prop_assert_eq!(cal.working_days_between(from, due), n);
            // It is the first such day.
            prop_assert_eq!(cal.working_days_between(from, due.pred_opt().unwrap()), n - 1);
        }

        #[test]
        fn working_days_between_matches_counting_day_by_day(
            cal in calendar(),
            from in date_in(2024, 2028),
            to in date_in(2024, 2028),
        ) {
            prop_assert_eq!(cal.working_days_between(from, to), naive_count(&cal, from, to));
        }

        #[test]
        fn add_zero_is_identity(cal in calendar(), from in date_in(2000, 2100)) {
            prop_assert_eq!(cal.add_working_days(from, 0), from);
        }

        #[test]
        fn day_deadlines_are_after_assignment_and_end_a_local_day(
            cal in calendar(),
            at in instant(2000, 2100),
            tz in zone(),
            n in 1u32..=365,
            working in any::<bool>(),
        ) {
            let n = if working { n.min(MAX_WORKING_DAYS) } else { n };
            let spec = if working { DueSpec::WorkingDays(n) } else { DueSpec::Days(n) };
            let due = due_at(spec, at, tz, &cal);
            prop_assert!(due.is_ok(), "{:?}", due);
            let due = due.unwrap();
            prop_assert!(due > at);
            let local = due.with_timezone(&tz);
            prop_assert!(local.date_naive() > at.with_timezone(&tz).date_naive());
            if tz == SHANGHAI {
                prop_assert_eq!(local.time(), chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap());
                if working {
                    prop_assert!(cal.is_working_day(local.date_naive()));
                }
            }
        }

        #[test]
        fn due_at_never_panics(
            at in any::<i64>(),
            target in any::<i64>(),
            n in any::<u32>(),
            kind in 0u8..3,
            tz in zone(),
            cal in calendar(),
        ) {
            let at = DateTime::from_timestamp(at % 8_000_000_000_000, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
            let target = DateTime::from_timestamp(target % 8_000_000_000_000, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
            let spec = match kind {
                0 => DueSpec::At(target),
                1 => DueSpec::Days(n % 400),
                _ => DueSpec::WorkingDays(n % 300),
            };
            let _ = due_at(spec, at, tz, &cal);
        }

        #[test]
        fn at_accepts_exactly_the_next_366_days(
            at in instant(2000, 2100),
            secs in -100_000_000i64..100_000_000,
        ) {
            let t = at + TimeDelta::seconds(secs);
            let ok = secs > 0 && secs <= 366 * 86_400;
            let due = due_at(DueSpec::At(t), at, SHANGHAI, &WorkCalendar::default());
            prop_assert_eq!(due.is_ok(), ok);
        }

        #[test]
        fn parse_year_calendar_accepts_clean_input(
            year in 2000i32..=2100,
            holidays in prop::collection::vec(0u64..365, 0..40),
            workdays in prop::collection::vec(0u64..365, 0..40),
        ) {
            let start = d(year, 1, 1);
            let holidays: Vec<_> = holidays.iter().map(|k| start + Days::new(*k)).collect();
            let workdays: Vec<_> = workdays
                .iter()
                .map(|k| start + Days::new(*k))
                .filter(|day| !is_weekday(*day) && !holidays.contains(day))
                .collect();
            let parsed = parse_year_calendar(year, &holidays, &workdays);
            prop_assert!(parsed.is_ok(), "{:?}", parsed);
            let parsed = parsed.unwrap();
            prop_assert!(parsed.holidays.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(parsed.workdays.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(holidays.iter().all(|h| parsed.holidays.binary_search(h).is_ok()));
            prop_assert!(workdays.iter().all(|w| parsed.workdays.binary_search(w).is_ok()));
        }

        #[test]
        fn parse_year_calendar_errors_point_into_the_input(
            year in 1990i32..=2110,
            holidays in prop::collection::vec(date_in(1995, 2105), 0..20),
            workdays in prop::collection::vec(date_in(1995, 2105), 0..20),
        ) {
            if let Err(errors) = parse_year_calendar(year, &holidays, &workdays) {
                prop_assert!(!errors.is_empty());
                for e in errors {
                    let ok = e.field == "year"
                        || e.field.strip_prefix("holidays[").and_then(|r| r.strip_suffix(']'))
                            .and_then(|i| i.parse::<usize>().ok()).is_some_and(|i| i < holidays.len())
                        || e.field.strip_prefix("workdays[").and_then(|r| r.strip_suffix(']'))
                            .and_then(|i| i.parse::<usize>().ok()).is_some_and(|i| i < workdays.len());
                    prop_assert!(ok, "{:?}", e);
                }
            }
        }
    }
}
