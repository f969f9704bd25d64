//! Performance scoring (以实绩论英雄): schemes, the engine, periods and the consequences of closing one.
//!
//! Points are held as centipoints (hundredths, `i64`, each line rounded half away from zero)
//! so that a total is exactly the sum of its lines; [`points`] turns them into the
//! two-decimal figure people see. Pure: callers pass periods, records and decisions in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::RangeInclusive;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use minqing_protocol::{CadreCategory, RaterGroup, RecordStatus, StaffType};

use crate::domain::Invalid;

/// Centipoints as the two-decimal points shown to people.
pub fn points(c: i64) -> f64 {
    c as f64 / 100.0
}

/// Points to centipoints, half away from zero. The product is first snapped to a millionth
/// of a centipoint so that e.g. 1.005 rounds as the decimal it was written as; `as`
/// saturates, so absurd inputs cannot panic.
fn centi(x: f64) -> i64 {
    ((x * 1e8).round() / 1e6).round() as i64
}

/// `n / d` rounded half away from zero, clamped to `i64`; `d` must be positive.
fn round_div(n: i128, d: i128) -> i64 {
    let (q, r) = (n / d, n % d);
    let q = if 2 * r.abs() >= d { q + n.signum() } else { q };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An enum named in snake_case on the wire, with `ALL`, `as_str` and `parse`; one list of
/// names serves serde and the scheme validator alike.
macro_rules! named {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// `None` for an unknown name: the caller knows which field it came from.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// Periods

named! {
    pub enum PeriodKind {
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
}

const YEARS: RangeInclusive<i32> = 2000..=2100;

/// A month (`2026-03`), quarter (`2026-Q1`) or year (`2026`).
///
/// The fields are private so that every `Period` is one `parse` accepts (years 2000–2100,
/// index in range): its dates then always exist and its `Display` parses back. Ordering is
/// chronological among periods of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    kind: PeriodKind,
    year: i32,
    index: u32,
}

impl Period {
    /// `index` is the month 1–12, the quarter 1–4, or 0 for a year.
    pub fn new(kind: PeriodKind, year: i32, index: u32) -> Result<Period, Invalid> {
        if !YEARS.contains(&year) {
            return Err(Invalid::new("period", "year must be from 2000 to 2100"));
        }
        let (indices, message) = match kind {
            PeriodKind::Month => (1..=12, "month must be from 01 to 12"),
            PeriodKind::Quarter => (1..=4, "quarter must be from Q1 to Q4"),
            PeriodKind::Year => (0..=0, "a year has index 0"),
        };
        if !indices.contains(&index) {
            return Err(Invalid::new("period", message));
        }
        Ok(Period { kind, year, index })
    }

    /// Only the canonical forms: `YYYY-MM`, `YYYY-Qn`, `YYYY`.
    pub fn parse(s: &str) -> Result<Period, Invalid> {
        let bad = || Invalid::new("period", "must be YYYY-MM, YYYY-Qn or YYYY");
        // Checked by hand: `str::parse` would also take "+1".
        let digits = |t: &str, len: usize| t.len() == len && t.bytes().all(|b| b.is_ascii_digit());
        let (y, rest) = match s.split_once('-') {
            Some((y, rest)) => (y, Some(rest)),
            None => (s, None),
        };
        if !digits(y, 4) {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let (kind, index) = match rest {
            None => (PeriodKind::Year, "0"),
            Some(rest) => match rest.strip_prefix('Q') {
                Some(q) if digits(q, 1) => (PeriodKind::Quarter, q),
                Some(_) => return Err(bad()),
                None if digits(rest, 2) => (PeriodKind::Month, rest),
                None => return Err(bad()),
            },
        };
        Period::new(kind, year, index.parse().map_err(|_| bad())?)
    }

    pub fn kind(self) -> PeriodKind {
        self.kind
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn index(self) -> u32 {
        self.index
    }

    /// First and last month of the period.
    fn months(self) -> (u32, u32) {
        match self.kind {
            PeriodKind::Month => (self.index, self.index),
            PeriodKind::Quarter => (3 * self.index - 2, 3 * self.index),
            PeriodKind::Year => (1, 12),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        // A valid period's first day always exists; MIN is never reached.
        NaiveDate::from_ymd_opt(self.year, self.months().0, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        month_end(i64::from(self.year) * 12 + i64::from(self.months().1) - 1)
    }

    /// The period of the same kind just before; `None` before 2000.
    pub fn previous(self) -> Option<Period> {
        let (year, index) = match (self.kind, self.index) {
            (PeriodKind::Month, 1) => (self.year - 1, 12),
            (PeriodKind::Quarter, 1) => (self.year - 1, 4),
            (PeriodKind::Year, _) => (self.year - 1, 0),
            (_, i) => (self.year, i - 1),
        };
        Period::new(self.kind, year, index).ok()
    }

    /// The four quarters of this period's year.
    pub fn quarters_of_year(self) -> [Period; 4] {
        [1, 2, 3, 4].map(|index| Period {
            kind: PeriodKind::Quarter,
            year: self.year,
            index,
        })
    }

    /// Deadline to rectify a problem found in this period: the last day of the month
    /// `3 × quarters` months after the period's last month (NaiveDate::MAX past chrono's range).
    pub fn rectify_by(self, quarters: u32) -> NaiveDate {
        let last = i64::from(self.year) * 12 + i64::from(self.months().1) - 1;
        month_end(last + 3 * i64::from(quarters))
    }
}

/// Last day of the month numbered `months` since January of year 0.
fn month_end(months: i64) -> NaiveDate {
    let month = u32::try_from(months.rem_euclid(12) + 1).unwrap_or(1);
    i32::try_from(months.div_euclid(12))
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, 1))
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(f, "{}-{:02}", self.year, self.index),
            PeriodKind::Quarter => write!(f, "{}-Q{}", self.year, self.index),
            PeriodKind::Year => write!(f, "{}", self.year),
        }
    }
}

/// The share of a period's local days `first..=last` gone by on the local day `today`, to
/// the hundredth (half up): the days before `today` over all the period's days. 0 before
/// the period and on its first day, 1 once it is over; a period still running never reads
/// 1 (364 of 365 days is 0.99), so that 1 means over.
pub fn elapsed_share(first: NaiveDate, last: NaiveDate, today: NaiveDate) -> f64 {
    let days = (last - first).num_days() + 1;
    if today > last || days <= 0 {
        return 1.0;
    }
    let gone = (today - first).num_days().clamp(0, days);
    let hundredths = ((gone * 200 + days) / (2 * days)).min(99);
    hundredths as f64 / 100.0
}

#[cfg(test)]
mod elapsed_share_tests {
    use super::elapsed_share;
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_days_gone_by_before_today() {
        let (first, last) = (day("2026-11-01"), day("2026-11-30"));
        let share = |today| elapsed_share(first, last, day(today));
        assert_eq!(share("2026-10-20"), 0.0, "not begun");
        assert_eq!(share("2026-11-01"), 0.0, "today is not gone yet");
        assert_eq!(share("2026-11-02"), 0.03, "1 of 30 days");
        assert_eq!(share("2026-11-13"), 0.4, "12 of 30 days");
        assert_eq!(share("2026-11-16"), 0.5, "15 of 30 days");
        assert_eq!(share("2026-11-30"), 0.97, "29 of 30 days: 0.9667");
        assert_eq!(share("2026-12-01"), 1.0, "over");
        assert_eq!(share("2027-03-01"), 1.0, "long over");
    }

    #[test]
    fn halves_round_up_and_a_running_period_is_never_whole() {
        // 1 of 8 days is 0.125.
        assert_eq!(
            elapsed_share(day("2026-11-01"), day("2026-11-08"), day("2026-11-02")),
            0.13
        );
        // 364 of 365 days is 0.9973: still running, so 0.99.
        assert_eq!(
            elapsed_share(day("2026-01-01"), day("2026-12-31"), day("2026-12-31")),
            0.99
        );
        // A quarter: 45 of 92 days is 0.4891.
        assert_eq!(
            elapsed_share(day("2026-10-01"), day("2026-12-31"), day("2026-11-15")),
            0.49
        );
    }
}

// ---------------------------------------------------------------------------------------
// Vocabulary

named! {
    /// What the platform measures for a cadre over a period.
    pub enum Metric {
        NightStudy = "night_study",
        NightVisit = "night_visit",
        NightDiscussion = "night_discussion",
        NightHelp = "night_help",
        FourNights = "four_nights",
        Stays = "stays",
        WorkLogDays = "work_log_days",
        WorkOrdersCollected = "work_orders_collected",
        WorkOrdersResolved = "work_orders_resolved",
        WorkOrdersOnTimeRate = "work_orders_on_time_rate",
        ResponseRate = "response_rate",
        WorkOrdersOverdue = "work_orders_overdue",
        AvgSatisfaction = "avg_satisfaction",
        RejectedCheckins = "rejected_checkins",
        /// A value a supervisor entered for the cadre, period and indicator code (人工录入),
        /// counted once a second supervisor approved it: read from [`CadreInput::manual`],
        /// not from [`MetricValues`]. A count-like value (≥ 0) for `ratio_to_target`,
        /// `per_item` and `deduct_per_item`, a share (0..=1) for `rate`. Nothing approved is
        /// nothing to measure, and a manual indicator's `when_empty` defaults to `zero`: no
        /// free points for what nobody entered.
        Manual = "manual",
    }
}

impl Metric {
    /// Rates lie in 0..=1 and may have nothing to measure; every other metric is a count.
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Metric::WorkOrdersOnTimeRate | Metric::ResponseRate | Metric::AvgSatisfaction
        )
    }
}

named! {
    /// How an indicator turns its metric into points.
    pub enum Rule {
        /// points × min(value / target, 1)
        RatioToTarget = "ratio_to_target",
        /// points × value, for a rate
        Rate = "rate",
        /// points × value, at most `cap`
        PerItem = "per_item",
        /// −points × value, at least −`cap`
        DeductPerItem = "deduct_per_item",
    }
}

named! {
    /// What an indicator scores when its rate has nothing to measure (e.g. no work orders):
    /// `full`, its best, so nobody loses points for having nothing to do; or `zero`.
    pub enum WhenEmpty {
        Full = "full",
        Zero = "zero",
        /// Left out: the scheme's other indicator points are scaled up to the same maximum,
        /// so nobody earns or loses points for work they were never given.
        Exclude = "exclude",
    }
}

named! {
    /// How `work_orders_overdue` counts an order whose deadline passed.
    pub enum OverdueCounting {
        /// Once, in the period its deadline passed in (resolved late or still open).
        Once = "once",
        /// In every period whose end finds it still overdue, plus once when resolved late.
        EveryPeriod = "every_period",
    }
}

named! {
    /// Who a scheme ranks together, and writes consequences among (DESIGN §2.6).
    pub enum Scope {
        /// Within each town (its villages and departments); cadres outside every town
        /// form one group of their own.
        Town = "town",
        County = "county",
    }
}

named! {
    pub enum Grade {
        Excellent = "excellent",
        Good = "good",
        Pass = "pass",
        Fail = "fail",
    }
}

impl Grade {
    /// Whether this grade is `min` or better (`Grade`'s variants run best first).
    pub fn at_least(self, min: Grade) -> bool {
        self <= min
    }
}

fn category(s: &str) -> Option<CadreCategory> {
    [
        CadreCategory::Leadership,
        CadreCategory::Organ,
        CadreCategory::Village,
    ]
    .into_iter()
    .find(|&c| category_name(c) == s)
}

fn category_name(c: CadreCategory) -> &'static str {
    match c {
        CadreCategory::Leadership => "leadership",
        CadreCategory::Organ => "organ",
        CadreCategory::Village => "village",
    }
}

const RATER_GROUPS: [RaterGroup; 4] = [
    RaterGroup::Leadership,
    RaterGroup::Middle,
    RaterGroup::Established,
    RaterGroup::NonEstablished,
];

fn group_name(g: RaterGroup) -> &'static str {
    match g {
        RaterGroup::Leadership => "leadership",
        RaterGroup::Middle => "middle",
        RaterGroup::Established => "established",
        RaterGroup::NonEstablished => "non_established",
    }
}

// ---------------------------------------------------------------------------------------
// Schemes

const MAX_INDICATORS: usize = 200;
/// Bound on an indicator's points and cap: far beyond any 千分制 line, and it keeps sums of
/// lines well inside `i64` centipoints.
const MAX_POINTS: f64 = 100_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub metric: Metric,
    pub rule: Rule,
    pub points: f64,
    /// Set for `ratio_to_target` only.
    pub target: Option<f64>,
    /// For `per_item` and `deduct_per_item` only.
    pub cap: Option<f64>,
    pub when_empty: WhenEmpty,
    /// The 大项 it belongs to (`"group": "党建"`), whose lines may share a cap.
    pub group: Option<String>,
}

/// A 大项: indicators shown together, their points together at most `cap`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorGroup {
    pub name: String,
    pub cap: Option<f64>,
}

impl Indicator {
    /// The most this line can add, in centipoints. An uncapped `per_item` counts one item:
    /// the scheme sets no ceiling, so one item is taken as the expectation.
    fn best(&self) -> i64 {
        match self.rule {
            Rule::RatioToTarget | Rule::Rate => centi(self.points),
            Rule::PerItem => centi(self.cap.unwrap_or(self.points)),
            Rule::DeductPerItem => 0,
        }
    }
}

/// Weights of the rater groups in the democratic score; a group left out weighs 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaterWeights {
    pub leadership: f64,
    pub middle: f64,
    pub established: f64,
    pub non_established: f64,
}

impl RaterWeights {
    pub fn of(&self, g: RaterGroup) -> f64 {
        match g {
            RaterGroup::Leadership => self.leadership,
            RaterGroup::Middle => self.middle,
            RaterGroup::Established => self.established,
            RaterGroup::NonEstablished => self.non_established,
        }
    }
}

/// 民主测评: `weight` (0..=1) turns the 0..100 democratic score into points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemocraticRule {
    pub weight: f64,
    pub rater_weights: RaterWeights,
}

/// What closing a period does, and the yearly thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsequenceSettings {
    /// No achievement record, and no `suggested_excellent`, below this grade.
    pub achievement_min_grade: Grade,
    pub achievement_top: u32,
    pub problem_bottom: u32,
    pub statement_bottom: u32,
    /// Periods running in the statement bottom before a cadre is listed (班子成员: 2).
    pub statement_consecutive: u32,
    pub rectify_quarters: u32,
    pub excellent_achievements: u32,
    pub major_contribution_achievements: u32,
}

impl Default for ConsequenceSettings {
    fn default() -> Self {
        Self {
            achievement_min_grade: Grade::Good,
            achievement_top: 3,
            problem_bottom: 3,
            statement_bottom: 5,
            statement_consecutive: 1,
            rectify_quarters: 1,
            excellent_achievements: 2,
            major_contribution_achievements: 3,
        }
    }
}

impl ConsequenceSettings {
    /// Each setting by its JSON name, so parsing and `to_json` share one list.
    fn fields_mut(&mut self) -> [(&'static str, &mut u32); 7] {
        [
            ("achievement_top", &mut self.achievement_top),
            ("problem_bottom", &mut self.problem_bottom),
            ("statement_bottom", &mut self.statement_bottom),
            ("statement_consecutive", &mut self.statement_consecutive),
            ("rectify_quarters", &mut self.rectify_quarters),
            ("excellent_achievements", &mut self.excellent_achievements),
            (
                "major_contribution_achievements",
                &mut self.major_contribution_achievements,
            ),
        ]
    }
}

/// Minimum totals for each grade, in centipoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradeThresholds {
    pub excellent: i64,
    pub good: i64,
    pub pass: i64,
}

/// A scoring scheme (考核方案). Build it with [`Scheme::parse`]: the engine never panics on
/// a hand-built one, but only a parsed one is sure to make sense.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheme {
    pub name: String,
    pub cadre_category: CadreCategory,
    pub period: PeriodKind,
    /// `"yearly": "mean_of_quarters"`: the year's score is the mean of its quarterly totals.
    pub yearly_mean_of_quarters: bool,
    pub scope: Scope,
    /// The staff types it scores (在编 / 社区指导员 / 不在编); `None`: all of the category.
    pub staff_types: Option<Vec<StaffType>>,
    pub overdue_counting: OverdueCounting,
    /// When the scheme starts to count: a year scored as the mean of its quarters uses only
    /// the quarters that end on or after it.
    pub effective_from: Option<NaiveDate>,
    pub indicators: Vec<Indicator>,
    /// The groups indicators name, in the order they first appear, with their caps.
    pub groups: Vec<IndicatorGroup>,
    pub democratic: Option<DemocraticRule>,
    pub consequences: ConsequenceSettings,
    pub grades: GradeThresholds,
}

type Errors = Vec<Invalid>;

/// A key's value; `null` counts as absent.
fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn need<'a>(v: Option<&'a Value>, field: &str, e: &mut Errors) -> Option<&'a Value> {
    if v.is_none() {
        e.push(Invalid::new(field, "is required"));
    }
    v
}

fn object<'a>(v: &'a Value, field: &str, e: &mut Errors) -> Option<&'a Map<String, Value>> {
    let o = v.as_object();
    if o.is_none() {
        e.push(Invalid::new(field, "must be an object"));
    }
    o
}

fn unknown_keys(o: &Map<String, Value>, prefix: &str, known: &[&str], e: &mut Errors) {
    for key in o.keys().filter(|k| !known.contains(&k.as_str())) {
        let field = match prefix {
            "" => key.clone(),
            _ => format!("{prefix}.{key}"),
        };
        e.push(Invalid::new(field, "unknown field"));
    }
}

/// A required, trimmed, non-empty string of at most `max` characters ("" when invalid).
fn text(v: Option<&Value>, field: &str, max: usize, e: &mut Errors) -> String {
    match need(v, field, e).map(|v| v.as_str().map(str::trim)) {
        Some(None) => e.push(Invalid::new(field, "must be a string")),
        Some(Some("")) => e.push(Invalid::new(field, "must not be empty")),
        Some(Some(t)) if t.chars().count() > max => {
            e.push(Invalid::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        Some(Some(t)) => return t.to_string(),
        None => {}
    }
    String::new()
}

/// A required name from a fixed list; an unknown one is reported as e.g. "unknown metric `x`".
fn choice<T>(
    v: Option<&Value>,
    field: &str,
    parse: fn(&str) -> Option<T>,
    e: &mut Errors,
) -> Option<T> {
    let Some(s) = need(v, field, e)?.as_str() else {
        e.push(Invalid::new(field, "must be a string"));
        return None;
    };
    let found = parse(s);
    if found.is_none() {
        let what = field.rsplit('.').next().unwrap_or(field);
        e.push(Invalid::new(field, format!("unknown {what} `{s}`")));
    }
    found
}

fn number(
    v: &Value,
    field: &str,
    ok: impl Fn(f64) -> bool,
    rule: &str,
    e: &mut Errors,
) -> Option<f64> {
    match v.as_f64() {
        Some(x) if ok(x) => Some(x),
        x => {
            let message = if x.is_some() {
                rule
            } else {
                "must be a number"
            };
            e.push(Invalid::new(field, message));
            None
        }
    }
}

fn indicator(i: usize, v: &Value, seen: &mut HashSet<String>, e: &mut Errors) -> Option<Indicator> {
    let at = format!("indicators[{i}]");
    let o = object(v, &at, e)?;
    let f = |key: &str| format!("{at}.{key}");
    let keys = [
        "code",
        "name",
        "metric",
        "rule",
        "points",
        "target",
        "cap",
        "when_empty",
        "group",
    ];
    unknown_keys(o, &at, &keys, e);
    let code = text(get(o, "code"), &f("code"), 50, e);
    if !code.is_empty() && !seen.insert(code.clone()) {
        e.push(Invalid::new(f("code"), format!("duplicate code `{code}`")));
    }
    let name = text(get(o, "name"), &f("name"), 100, e);
    let metric = choice(get(o, "metric"), &f("metric"), Metric::parse, e);
    let rule = choice(get(o, "rule"), &f("rule"), Rule::parse, e);
    let in_points = |x: f64| (0.0..=MAX_POINTS).contains(&x);
    let points_rule = "must be from 0 to 100000";
    let points = need(get(o, "points"), &f("points"), e)
        .and_then(|v| number(v, &f("points"), in_points, points_rule, e));
    let target =
        get(o, "target").and_then(|v| number(v, &f("target"), |x| x > 0.0, "must be above 0", e));
    let cap = get(o, "cap").and_then(|v| number(v, &f("cap"), in_points, points_rule, e));
    let when_empty = match get(o, "when_empty") {
        // What nobody entered earns nothing by default.
        None if metric == Some(Metric::Manual) => Some(WhenEmpty::Zero),
        None => Some(WhenEmpty::Full),
        v => choice(v, &f("when_empty"), WhenEmpty::parse, e),
    };
    let group = get(o, "group").map(|v| text(Some(v), &f("group"), 50, e));
    if rule == Some(Rule::RatioToTarget) && get(o, "target").is_none() {
        e.push(Invalid::new(f("target"), "is required for ratio_to_target"));
    }
    let (metric, rule) = (metric?, rule?);
    let counted = matches!(rule, Rule::PerItem | Rule::DeductPerItem);
    if rule == Rule::Rate && !metric.is_rate() && metric != Metric::Manual {
        e.push(Invalid::new(f("rule"), "rate needs a rate metric"));
    } else if counted && metric.is_rate() {
        let message = format!("{} needs a count metric", rule.as_str());
        e.push(Invalid::new(f("rule"), message));
    }
    Some(Indicator {
        code,
        name,
        metric,
        rule,
        points: points?,
        target: target.filter(|_| rule == Rule::RatioToTarget),
        cap: cap.filter(|_| counted),
        when_empty: when_empty?,
        group: group.filter(|g| !g.is_empty()),
    })
}

/// `"groups": {"党建": {"cap": 20}}`: each named group must hold an indicator.
fn indicator_groups(v: &Value, indicators: &[Indicator], e: &mut Errors) -> Vec<IndicatorGroup> {
    let mut groups: Vec<IndicatorGroup> = Vec::new();
    for name in indicators.iter().filter_map(|i| i.group.as_ref()) {
        if !groups.iter().any(|g| &g.name == name) {
            groups.push(IndicatorGroup {
                name: name.clone(),
                cap: None,
            });
        }
    }
    let Some(o) = object(v, "groups", e) else {
        return groups;
    };
    for (name, settings) in o {
        let at = format!("groups.{name}");
        let Some(settings) = object(settings, &at, e) else {
            continue;
        };
        unknown_keys(settings, &at, &["cap"], e);
        let cap = get(settings, "cap").and_then(|v| {
            let ok = |x: f64| (0.0..=MAX_POINTS).contains(&x);
            number(v, &format!("{at}.cap"), ok, "must be from 0 to 100000", e)
        });
        match groups.iter_mut().find(|g| &g.name == name) {
            Some(g) => g.cap = cap,
            None => e.push(Invalid::new(at, "no indicator is in this group")),
        }
    }
    groups
}

const STAFF_TYPES: [StaffType; 3] = [
    StaffType::Established,
    StaffType::Instructor,
    StaffType::NonEstablished,
];

fn staff_type_name(t: StaffType) -> &'static str {
    match t {
        StaffType::Established => "established",
        StaffType::Instructor => "instructor",
        StaffType::NonEstablished => "non_established",
    }
}

/// `"staff_types": ["established", "instructor"]`: a non-empty list without repeats.
fn staff_type_list(v: &Value, e: &mut Errors) -> Option<Vec<StaffType>> {
    let field = "staff_types";
    let Some(list) = v.as_array().filter(|l| !l.is_empty()) else {
        e.push(Invalid::new(
            field,
            "must be a non-empty list of staff types",
        ));
        return None;
    };
    let mut types = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let parse = |s: &str| STAFF_TYPES.into_iter().find(|&t| staff_type_name(t) == s);
        match choice(Some(item), &at, parse, e) {
            Some(t) if types.contains(&t) => e.push(Invalid::new(at, "is listed twice")),
            Some(t) => types.push(t),
            None => {}
        }
    }
    Some(types)
}

fn democratic_rule(v: &Value, e: &mut Errors) -> Option<DemocraticRule> {
    let o = object(v, "democratic", e)?;
    unknown_keys(o, "democratic", &["weight", "rater_weights"], e);
    let weight = need(get(o, "weight"), "democratic.weight", e).and_then(|v| {
        let ok = |x: f64| (0.0..=1.0).contains(&x);
        number(v, "democratic.weight", ok, "must be from 0 to 1", e)
    });
    let field = "democratic.rater_weights";
    let o = need(get(o, "rater_weights"), field, e).and_then(|v| object(v, field, e))?;
    let mut w = [0.0; 4];
    let before = e.len();
    for (key, v) in o {
        let at = format!("{field}.{key}");
        match RATER_GROUPS.iter().position(|&g| group_name(g) == key) {
            None => e.push(Invalid::new(at, "unknown rater group")),
            Some(i) => {
                let ok = |x: f64| (0.0..=1000.0).contains(&x);
                w[i] = number(v, &at, ok, "must be from 0 to 1000", e).unwrap_or(0.0);
            }
        }
    }
    if e.len() == before && w.iter().all(|&x| x == 0.0) {
        e.push(Invalid::new(field, "at least one weight must be above 0"));
    }
    let [leadership, middle, established, non_established] = w;
    let rater_weights = RaterWeights {
        leadership,
        middle,
        established,
        non_established,
    };
    Some(DemocraticRule {
        weight: weight?,
        rater_weights,
    })
}

fn consequence_settings(v: &Value, e: &mut Errors) -> ConsequenceSettings {
    let mut s = ConsequenceSettings::default();
    let Some(o) = object(v, "consequences", e) else {
        return s;
    };
    let mut fields = s.fields_mut();
    let mut min_grade = None;
    for (key, v) in o.iter().filter(|(_, v)| !v.is_null()) {
        let at = format!("consequences.{key}");
        if key == "achievement_min_grade" {
            min_grade = choice(Some(v), &at, Grade::parse, e);
            continue;
        }
        let Some((_, slot)) = fields.iter_mut().find(|(k, _)| k == key) else {
            e.push(Invalid::new(at, "unknown field"));
            continue;
        };
        let min = u64::from(key == "statement_consecutive");
        match v.as_u64().filter(|n| (min..=1000).contains(n)) {
            Some(n) => **slot = u32::try_from(n).unwrap_or(u32::MAX),
            None => e.push(Invalid::new(
                at,
                format!("must be a whole number from {min} to 1000"),
            )),
        }
    }
    if let Some(grade) = min_grade {
        s.achievement_min_grade = grade;
    }
    s
}

fn grade_thresholds(v: &Value, e: &mut Errors) -> Option<GradeThresholds> {
    let o = object(v, "grades", e)?;
    unknown_keys(o, "grades", &["excellent", "good", "pass"], e);
    let mut min_total = |key: &str| {
        let at = format!("grades.{key}");
        let v = need(get(o, key), &at, e)?;
        number(v, &at, f64::is_finite, "must be a number", e).map(centi)
    };
    let (excellent, good, pass) = (min_total("excellent"), min_total("good"), min_total("pass"));
    let (excellent, good, pass) = (excellent?, good?, pass?);
    if good > excellent {
        e.push(Invalid::new(
            "grades.good",
            "must not be above grades.excellent",
        ));
    }
    if pass > good {
        e.push(Invalid::new("grades.pass", "must not be above grades.good"));
    }
    Some(GradeThresholds {
        excellent,
        good,
        pass,
    })
}

/// A whole number as a JSON integer (`20`, not `20.0`).
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

impl Scheme {
    /// Checks a scheme given as JSON, collecting every error, each named by its JSON path.
    pub fn parse(v: &Value) -> Result<Scheme, Vec<Invalid>> {
        let mut e = Vec::new();
        let Some(o) = object(v, "body", &mut e) else {
            return Err(e);
        };
        let keys = ["name", "cadre_category", "period", "yearly", "indicators"];
        let more = ["democratic", "consequences", "grades", "scope"];
        let rest = [
            "effective_from",
            "groups",
            "overdue_counting",
            "staff_types",
        ];
        unknown_keys(o, "", &[&keys[..], &more, &rest].concat(), &mut e);
        let scope = match get(o, "scope") {
            None => Some(Scope::Town),
            v => choice(v, "scope", Scope::parse, &mut e),
        };
        let staff_types = get(o, "staff_types").and_then(|v| staff_type_list(v, &mut e));
        let overdue_counting = match get(o, "overdue_counting") {
            None => Some(OverdueCounting::Once),
            v => choice(v, "overdue_counting", OverdueCounting::parse, &mut e),
        };
        let effective_from = get(o, "effective_from").and_then(|v| {
            let date = v
                .as_str()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if date.is_none() {
                e.push(Invalid::new(
                    "effective_from",
                    "must be a date like 2026-10-01",
                ));
            }
            date
        });
        let name = text(get(o, "name"), "name", 100, &mut e);
        let cadre_category = choice(get(o, "cadre_category"), "cadre_category", category, &mut e);
        let period = choice(get(o, "period"), "period", PeriodKind::parse, &mut e);
        let yearly_mean_of_quarters = get(o, "yearly").is_some();
        match get(o, "yearly").map(Value::as_str) {
            Some(Some("mean_of_quarters")) if period.is_some_and(|p| p != PeriodKind::Quarter) => {
                e.push(Invalid::new(
                    "yearly",
                    "mean_of_quarters needs period quarter",
                ));
            }
            None | Some(Some("mean_of_quarters")) => {}
            Some(_) => e.push(Invalid::new("yearly", "must be mean_of_quarters or absent")),
        }
        let mut indicators = Vec::new();
        match need(get(o, "indicators"), "indicators", &mut e).map(Value::as_array) {
            None => {}
            Some(None) => e.push(Invalid::new("indicators", "must be a list")),
            Some(Some(list)) if list.is_empty() => {
                e.push(Invalid::new("indicators", "must not be empty"));
            }
            Some(Some(list)) if list.len() > MAX_INDICATORS => {
                let message = format!("must hold at most {MAX_INDICATORS} indicators");
                e.push(Invalid::new("indicators", message));
            }
            Some(Some(list)) => {
                let mut seen = HashSet::new();
                for (i, v) in list.iter().enumerate() {
                    indicators.extend(indicator(i, v, &mut seen, &mut e));
                }
            }
        }
        let groups = match get(o, "groups") {
            Some(v) => indicator_groups(v, &indicators, &mut e),
            None => indicator_groups(&json!({}), &indicators, &mut e),
        };
        let democratic = get(o, "democratic").and_then(|v| democratic_rule(v, &mut e));
        let consequences = get(o, "consequences").map(|v| consequence_settings(v, &mut e));
        let grades = get(o, "grades").and_then(|v| grade_thresholds(v, &mut e));
        let (Some(cadre_category), Some(period), Some(scope), Some(overdue_counting), true) = (
            cadre_category,
            period,
            scope,
            overdue_counting,
            e.is_empty(),
        ) else {
            return Err(e);
        };
        let mut scheme = Scheme {
            name,
            cadre_category,
            period,
            yearly_mean_of_quarters,
            scope,
            staff_types,
            overdue_counting,
            effective_from,
            indicators,
            groups,
            democratic,
            consequences: consequences.unwrap_or_default(),
            grades: GradeThresholds {
                excellent: 0,
                good: 0,
                pass: 0,
            },
        };
        let max = i128::from(scheme.max_total_centi());
        scheme.grades = grades.unwrap_or(GradeThresholds {
            excellent: round_div(max * 90, 100),
            good: round_div(max * 80, 100),
            pass: round_div(max * 60, 100),
        });
        Ok(scheme)
    }

    /// Whether this scheme scores a cadre of staff type `t` (of its category).
    pub fn scores_staff_type(&self, t: StaffType) -> bool {
        self.staff_types
            .as_ref()
            .is_none_or(|types| types.contains(&t))
    }

    /// Whether both schemes would score some cadre for the same kind of period: only one of
    /// them may be active.
    pub fn overlaps(&self, other: &Scheme) -> bool {
        self.cadre_category == other.cadre_category
            && self.period == other.period
            && STAFF_TYPES
                .iter()
                .any(|&t| self.scores_staff_type(t) && other.scores_staff_type(t))
    }

    fn max_total_centi(&self) -> i64 {
        let democratic = centi(self.democratic.map_or(0.0, |d| d.weight) * 100.0);
        let bests: Vec<i64> = self.indicators.iter().map(Indicator::best).collect();
        self.grouped_sum(&bests).0.saturating_add(democratic)
    }

    /// Σ of per-indicator centipoints (in indicator order), each group's part at most its
    /// cap; with the groups' own sums (after the cap) and whether the cap cut them.
    fn grouped_sum(&self, line_points: &[i64]) -> (i64, Vec<(i64, bool)>) {
        let mut total = 0i64;
        let mut groups = vec![0i64; self.groups.len()];
        for (ind, &p) in self.indicators.iter().zip(line_points) {
            match ind
                .group
                .as_ref()
                .and_then(|name| self.groups.iter().position(|g| &g.name == name))
            {
                Some(i) => groups[i] = groups[i].saturating_add(p),
                None => total = total.saturating_add(p),
            }
        }
        let groups: Vec<(i64, bool)> = groups
            .into_iter()
            .zip(&self.groups)
            .map(|(sum, g)| match g.cap.map(centi) {
                Some(cap) if sum > cap => (cap, true),
                _ => (sum, false),
            })
            .collect();
        let total = groups.iter().map(|g| g.0).fold(total, i64::saturating_add);
        (total, groups)
    }

    /// The best total without adjustments: every non-deducting line at its best (an
    /// uncapped `per_item` counting one item's points) plus the democratic weight × 100.
    pub fn max_total(&self) -> f64 {
        points(self.max_total_centi())
    }

    /// Canonical JSON with every default filled in; `Scheme::parse` reads it back unchanged.
    pub fn to_json(&self) -> Value {
        let indicators: Vec<Value> = self
            .indicators
            .iter()
            .map(|ind| {
                let mut v = json!({
                    "code": ind.code, "name": ind.name, "metric": ind.metric.as_str(),
                    "rule": ind.rule.as_str(), "points": num(ind.points),
                    "when_empty": ind.when_empty.as_str(),
                });
                if let (Some(group), Some(o)) = (&ind.group, v.as_object_mut()) {
                    o.insert("group".into(), json!(group));
                }
                for (key, x) in [("target", ind.target), ("cap", ind.cap)] {
                    if let (Some(x), Some(o)) = (x, v.as_object_mut()) {
                        o.insert(key.into(), num(x));
                    }
                }
                v
            })
            .collect();
        let mut consequences = self.consequences;
        let min_grade = consequences.achievement_min_grade.as_str();
        let mut consequences: Map<String, Value> = consequences
            .fields_mut()
            .into_iter()
            .map(|(k, n)| (k.into(), json!(*n)))
            .collect();
        consequences.insert("achievement_min_grade".into(), json!(min_grade));
        let g = self.grades;
        let mut v = json!({
            "name": self.name,
            "cadre_category": category_name(self.cadre_category),
            "period": self.period.as_str(),
            "scope": self.scope.as_str(),
            "overdue_counting": self.overdue_counting.as_str(),
            "indicators": indicators,
            "consequences": consequences,
            "grades": {
                "excellent": num(points(g.excellent)),
                "good": num(points(g.good)),
                "pass": num(points(g.pass)),
            },
        });
        let Some(o) = v.as_object_mut() else { return v };
        if self.yearly_mean_of_quarters {
            o.insert("yearly".into(), json!("mean_of_quarters"));
        }
        if let Some(from) = self.effective_from {
            o.insert("effective_from".into(), json!(from.to_string()));
        }
        if let Some(types) = &self.staff_types {
            let names: Vec<&str> = types.iter().map(|&t| staff_type_name(t)).collect();
            o.insert("staff_types".into(), json!(names));
        }
        let caps: Map<String, Value> = self
            .groups
            .iter()
            .filter_map(|g| Some((g.name.clone(), json!({"cap": num(g.cap?)}))))
            .collect();
        if !caps.is_empty() {
            o.insert("groups".into(), Value::Object(caps));
        }
        if let Some(d) = self.democratic {
            let weights: Map<String, Value> = RATER_GROUPS
                .iter()
                .map(|&g| (group_name(g).into(), num(d.rater_weights.of(g))))
                .collect();
            o.insert(
                "democratic".into(),
                json!({"weight": num(d.weight), "rater_weights": weights}),
            );
        }
        v
    }
}

/// Serialises to the canonical JSON of [`Scheme::to_json`].
impl Serialize for Scheme {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}
// ---------------------------------------------------------------------------------------
// The engine

/// A cadre's measured values. Counts read as 0 when absent; a rate is `None` when there
/// was nothing to measure. `set` clamps to each metric's domain: rates to 0..=1 (a
/// non-finite rate counts as nothing to measure), counts to ≥ 0 (non-finite counts as 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricValues([Option<f64>; Metric::ALL.len()]);

impl MetricValues {
    pub fn get(&self, m: Metric) -> Option<f64> {
        // `ALL` lists the variants in declaration order, so `m as usize` indexes it.
        let v = self.0[m as usize];
        if m.is_rate() {
            v
        } else {
            Some(v.unwrap_or(0.0))
        }
    }

    pub fn set(&mut self, m: Metric, v: Option<f64>) {
        let v = v.filter(|x| x.is_finite());
        self.0[m as usize] = if m.is_rate() {
            v.map(|x| x.clamp(0.0, 1.0))
        } else {
            Some(v.map_or(0.0, |x| x.max(0.0)))
        };
    }
}

/// One cadre's record for a period, as the caller gathered it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CadreInput {
    pub user_id: String,
    pub metrics: MetricValues,
    /// 0..=100 each; non-finite ratings are ignored and others clamped.
    pub ratings: Vec<(RaterGroup, f64)>,
    /// Approved adjustments only, in points.
    pub adjustments: Vec<f64>,
    /// The codes of the areas of the approved, not withdrawn, vetoes (一票否决); the areas
    /// are data (`domain::vetoes`), checked when a veto is made.
    pub vetoes: Vec<String>,
    /// Approved manual values, by indicator code (`metric: "manual"`); an absent code is
    /// nothing to measure.
    pub manual: HashMap<String, f64>,
}

/// One indicator's contribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub metric: Metric,
    /// The value scored (after clamping); `None` when a rate had nothing to measure.
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub rule: Rule,
    /// Centipoints, after scaling for excluded lines (before any group cap).
    pub points: i64,
    pub empty: bool,
    /// Left out (`when_empty: "exclude"` with nothing to measure): 0 points, and the other
    /// lines scaled up.
    pub excluded: bool,
    pub group: Option<String>,
}

/// A 大项's part of a score.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPart {
    pub name: String,
    /// Centipoints: its lines' sum, at most `cap`.
    pub points: i64,
    pub cap: Option<i64>,
    pub capped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Democratic {
    /// 0..100, two decimals.
    pub score: f64,
    /// Centipoints: the scheme's weight × `score`.
    pub points: i64,
    pub raters: u32,
    /// (group, raters, mean rating to two decimals) for each group that rated.
    pub by_group: Vec<(RaterGroup, u32, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub user_id: String,
    /// Centipoints: Σ lines + democratic points + adjustments.
    pub total: i64,
    /// Competition rank within the scored set (1, 2, 2, 4).
    pub rank: u32,
    pub of: u32,
    pub lines: Vec<Line>,
    pub groups: Vec<GroupPart>,
    pub democratic: Democratic,
    pub adjustments: i64,
    /// Area codes, sorted, each once.
    pub vetoes: Vec<String>,
    pub grade: Grade,
    /// `veto`, `no_ratings`, `capped:<code>`.
    pub flags: Vec<String>,
}

/// A manual indicator's value for a cadre, clamped to its rule's domain: 0..=1 for `rate`,
/// ≥ 0 otherwise; absent (or not finite) is nothing to measure.
fn manual_value(ind: &Indicator, manual: &HashMap<String, f64>) -> Option<f64> {
    let v = manual.get(&ind.code).copied().filter(|x| x.is_finite())?;
    Some(match ind.rule {
        Rule::Rate => v.clamp(0.0, 1.0),
        _ => v.max(0.0),
    })
}

/// Scores one indicator; the flag says whether its cap cut the points.
fn line(ind: &Indicator, c: &CadreInput) -> (Line, bool) {
    let value = match ind.metric {
        Metric::Manual => manual_value(ind, &c.manual),
        metric => c.metrics.get(metric),
    };
    let cap = ind.cap.map(centi);
    let (points, capped) = match value {
        None if ind.when_empty == WhenEmpty::Full => (ind.best(), false),
        None => (0, false),
        Some(v) => match ind.rule {
            // Parse guarantees a positive target; without one the target counts as met.
            Rule::RatioToTarget => {
                let ratio = ind
                    .target
                    .filter(|t| *t > 0.0)
                    .map_or(1.0, |t| (v / t).min(1.0));
                (centi(ind.points * ratio), false)
            }
            Rule::Rate => (centi(ind.points * v), false),
            Rule::PerItem => match (centi(ind.points * v), cap) {
                (raw, Some(cap)) if raw > cap => (cap, true),
                (raw, _) => (raw, false),
            },
            Rule::DeductPerItem => match (centi(-ind.points * v), cap) {
                (raw, Some(cap)) if raw < -cap => (-cap, true),
                (raw, _) => (raw, false),
            },
        },
    };
    let excluded = value.is_none() && ind.when_empty == WhenEmpty::Exclude;
    let line = Line {
        code: ind.code.clone(),
        name: ind.name.clone(),
        metric: ind.metric,
        value,
        target: ind.target,
        rule: ind.rule,
        points,
        empty: value.is_none(),
        excluded,
        group: ind.group.clone(),
    };
    (line, capped)
}

/// Scales the scoring lines up when some are excluded, so that the scheme's maximum stays
/// what it is: each line that can add points gets × (Σ best of all lines ÷ Σ best of the
/// lines kept); deductions stay as they are.
fn scale_for_excluded(scheme: &Scheme, lines: &mut [Line]) {
    let bests: Vec<i64> = scheme.indicators.iter().map(Indicator::best).collect();
    let all: i128 = bests.iter().map(|&b| i128::from(b)).sum();
    let kept: i128 = lines
        .iter()
        .zip(&bests)
        .filter(|(l, _)| !l.excluded)
        .map(|(_, &b)| i128::from(b))
        .sum();
    if kept <= 0 || kept == all {
        return;
    }
    for (line, &best) in lines.iter_mut().zip(&bests) {
        if best > 0 && !line.excluded {
            line.points = round_div(i128::from(line.points) * all, kept);
        }
    }
}

/// Σ group weight × group mean ÷ Σ weights of the groups that rated. Groups the scheme
/// weighs 0 do not count; with no counted rating (or no democratic rule) the score is 0.
fn democratic(rule: Option<&DemocraticRule>, ratings: &[(RaterGroup, f64)]) -> Democratic {
    let mut groups: HashMap<RaterGroup, (u32, f64)> = HashMap::new();
    for &(g, r) in ratings.iter().filter(|(_, r)| r.is_finite()) {
        let (n, sum) = groups.entry(g).or_default();
        *n = n.saturating_add(1);
        *sum += r.clamp(0.0, 100.0);
    }
    let means: Vec<(RaterGroup, u32, f64)> = RATER_GROUPS
        .iter()
        .filter_map(|g| groups.get(g).map(|&(n, sum)| (*g, n, sum / f64::from(n))))
        .collect();
    let (weighted, weights) = rule.map_or((0.0, 0.0), |d| {
        means.iter().fold((0.0, 0.0), |(s, w), &(g, _, mean)| {
            let gw = d.rater_weights.of(g);
            (s + gw * mean, w + gw)
        })
    });
    let score = if weights > 0.0 {
        points(centi(weighted / weights))
    } else {
        0.0
    };
    Democratic {
        score,
        points: rule.map_or(0, |d| centi(d.weight * score)),
        raters: means.iter().fold(0, |n, g| n.saturating_add(g.1)),
        by_group: means
            .iter()
            .map(|&(g, n, mean)| (g, n, points(centi(mean))))
            .collect(),
    }
}

/// The grade a total earns; a vetoed cadre is never `excellent`.
pub fn grade(t: &GradeThresholds, total: i64, vetoed: bool) -> Grade {
    if total >= t.excellent && !vetoed {
        Grade::Excellent
    } else if total >= t.good {
        Grade::Good
    } else if total >= t.pass {
        Grade::Pass
    } else {
        Grade::Fail
    }
}

fn score(scheme: &Scheme, c: &CadreInput) -> Score {
    let mut capped = Vec::new();
    let mut lines: Vec<Line> = scheme
        .indicators
        .iter()
        .map(|ind| {
            let (line, hit) = line(ind, c);
            if hit {
                capped.push(format!("capped:{}", ind.code));
            }
            line
        })
        .collect();
    scale_for_excluded(scheme, &mut lines);
    let line_points: Vec<i64> = lines.iter().map(|l| l.points).collect();
    let (indicator_total, group_sums) = scheme.grouped_sum(&line_points);
    let groups: Vec<GroupPart> = scheme
        .groups
        .iter()
        .zip(group_sums)
        .map(|(g, (points, hit))| {
            if hit {
                capped.push(format!("capped:{}", g.name));
            }
            GroupPart {
                name: g.name.clone(),
                points,
                cap: g.cap.map(centi),
                capped: hit,
            }
        })
        .collect();
    let democratic = democratic(scheme.democratic.as_ref(), &c.ratings);
    let adjustments = c
        .adjustments
        .iter()
        .filter(|a| a.is_finite())
        .map(|&a| centi(a))
        .fold(0, i64::saturating_add);
    let total = indicator_total
        .saturating_add(democratic.points)
        .saturating_add(adjustments);
    let mut vetoes = c.vetoes.clone();
    vetoes.sort_unstable();
    vetoes.dedup();
    let mut flags = Vec::new();
    if !vetoes.is_empty() {
        flags.push("veto".to_string());
    }
    if let Some(d) = scheme.democratic.filter(|d| d.weight > 0.0) {
        if !democratic
            .by_group
            .iter()
            .any(|g| d.rater_weights.of(g.0) > 0.0)
        {
            flags.push("no_ratings".to_string());
        }
    }
    flags.extend(capped);
    Score {
        user_id: c.user_id.clone(),
        total,
        rank: 0,
        of: 0,
        lines,
        groups,
        grade: grade(&scheme.grades, total, !vetoes.is_empty()),
        democratic,
        adjustments,
        vetoes,
        flags,
    }
}

/// Scores and ranks one category's cadres for one period; sorted by rank, then user id.
pub fn score_all(scheme: &Scheme, cadres: &[CadreInput]) -> Vec<Score> {
    let mut scores: Vec<Score> = cadres.iter().map(|c| score(scheme, c)).collect();
    let totals: Vec<(String, i64)> = scores
        .iter()
        .map(|s| (s.user_id.clone(), s.total))
        .collect();
    let of = count_u32(scores.len());
    for (s, (_, r)) in scores.iter_mut().zip(rank(&totals)) {
        s.rank = r;
        s.of = of;
    }
    scores.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.user_id.cmp(&b.user_id)));
    scores
}

/// Competition ranking (1, 2, 2, 4): 1 + the number of strictly greater totals. In input order.
pub fn rank(totals: &[(String, i64)]) -> Vec<(String, u32)> {
    let mut desc: Vec<i64> = totals.iter().map(|t| t.1).collect();
    desc.sort_unstable_by(|a, b| b.cmp(a));
    totals
        .iter()
        .map(|(id, t)| {
            let above = desc.partition_point(|x| x > t);
            (id.clone(), count_u32(above).saturating_add(1))
        })
        .collect()
}

/// The yearly total as the mean of the quarters that were scored (a quarter the cadre
/// was not scored in does not drag the mean down), rounded half away from zero;
/// `None` when no quarter was scored.
pub fn mean_of_quarters(quarter_totals: &[Option<i64>]) -> Option<i64> {
    let scored: Vec<i128> = quarter_totals
        .iter()
        .flatten()
        .map(|&t| i128::from(t))
        .collect();
    let n = i128::try_from(scored.len()).ok().filter(|&n| n > 0)?;
    Some(round_div(scored.iter().sum(), n))
}

// ---------------------------------------------------------------------------------------
// Closing a period

/// What the previous period left behind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviousPeriod {
    /// Cadres with a problem-trace record in the previous period.
    pub problem: HashSet<String>,
    /// Consecutive earlier periods each cadre spent in the statement bottom.
    pub statement_streak: HashMap<String, u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consequences {
    /// 实绩档案 records, in rank order within each ranking.
    pub achievements: Vec<String>,
    /// 问题追踪 records with their rectify-by date.
    pub problems: Vec<(String, NaiveDate)>,
    /// 表态发言 list.
    pub statements: Vec<String>,
    /// Problem records two periods running: 调整岗位 is to be considered.
    pub position_adjustment: Vec<String>,
    /// Streak including this period of everyone in the statement bottom; store it for the
    /// next close (absent = 0).
    pub bottom_streaks: HashMap<String, u32>,
    /// Ranked within the top but graded below `achievement_min_grade`: no record.
    pub below_grade: Vec<(String, Grade)>,
    /// Each cadre's (rank, of) within the ranking the consequences were drawn from.
    pub standing: HashMap<String, (u32, u32)>,
}

/// What closing `period` writes, from its scores: within each town (`scope: "town"`, with
/// `town_of` naming a cadre's town; those in none rank together) or the whole county.
///
/// Top N is everyone ranked ≤ N, so ties are never split; an achievement record needs
/// `achievement_min_grade` as well. Bottom N is everyone whose tie group reaches into the
/// last N positions, so ties at that boundary are all in. In a small ranking the two can
/// overlap: the top wins, and a cadre in it gets no problem record and no statement.
pub fn consequences(
    scheme: &Scheme,
    period: Period,
    scores: &[Score],
    town_of: impl Fn(&str) -> Option<String>,
    previous: &PreviousPeriod,
) -> Consequences {
    let mut rankings: BTreeMap<Option<String>, Vec<&Score>> = BTreeMap::new();
    for s in scores {
        let key = match scheme.scope {
            Scope::Town => town_of(&s.user_id),
            Scope::County => None,
        };
        rankings.entry(key).or_default().push(s);
    }
    let mut out = Consequences::default();
    for ranking in rankings.values() {
        consequences_within(scheme, period, ranking, previous, &mut out);
    }
    out
}

fn consequences_within(
    scheme: &Scheme,
    period: Period,
    ranking: &[&Score],
    previous: &PreviousPeriod,
    out: &mut Consequences,
) {
    let s = &scheme.consequences;
    let totals: Vec<(String, i64)> = ranking
        .iter()
        .map(|c| (c.user_id.clone(), c.total))
        .collect();
    let mut order: Vec<(u32, &Score)> = rank(&totals)
        .into_iter()
        .zip(ranking.iter().copied())
        .map(|((_, r), c)| (r, c))
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.user_id.cmp(&b.1.user_id)));
    let of = order.len();
    let bottom = |rank: u32, n: u32| {
        // The last position of the rank's tie group, 1-based.
        let last = order.partition_point(|o| o.0 <= rank);
        last + n as usize > of
    };
    let rectify_by = period.rectify_by(s.rectify_quarters);
    for &(rank, c) in &order {
        let id = &c.user_id;
        out.standing.insert(id.clone(), (rank, count_u32(of)));
        if rank <= s.achievement_top {
            if c.grade.at_least(s.achievement_min_grade) {
                out.achievements.push(id.clone());
            } else {
                out.below_grade.push((id.clone(), c.grade));
            }
            continue;
        }
        if bottom(rank, s.problem_bottom) {
            out.problems.push((id.clone(), rectify_by));
            if previous.problem.contains(id) {
                out.position_adjustment.push(id.clone());
            }
        }
        if bottom(rank, s.statement_bottom) {
            let streak = previous
                .statement_streak
                .get(id)
                .map_or(1, |n| n.saturating_add(1));
            out.bottom_streaks.insert(id.clone(), streak);
            if streak >= s.statement_consecutive {
                out.statements.push(id.clone());
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearReview {
    pub suggested_excellent: bool,
    pub major_contribution: bool,
}

/// The year's verdict from its achievement and still-uncleared problem records, for a
/// cadre graded `grade` this year: nobody below `achievement_min_grade` is suggested.
pub fn year_review(
    achievements: u32,
    uncleared_problems: u32,
    grade: Grade,
    settings: &ConsequenceSettings,
) -> YearReview {
    let clear = uncleared_problems == 0 && grade.at_least(settings.achievement_min_grade);
    YearReview {
        suggested_excellent: clear && achievements >= settings.excellent_achievements,
        major_contribution: clear && achievements >= settings.major_contribution_achievements,
    }
}

// ---------------------------------------------------------------------------------------
// 销号: rectifying a problem record and verifying it

/// The most photos one rectification may carry.
pub const MAX_RECTIFY_PHOTOS: usize = 9;

/// A record's standing as people see it on `today`: the stored one, except that an open
/// record whose rectify-by date has passed is expired. Evidence submitted in time stays
/// pending after the date: the supervisor's delay is not held against the cadre.
pub fn record_status(
    stored: RecordStatus,
    rectify_by: Option<NaiveDate>,
    today: NaiveDate,
) -> RecordStatus {
    match (stored, rectify_by) {
        (RecordStatus::Open, Some(by)) if today > by => RecordStatus::Expired,
        _ => stored,
    }
}

/// A step someone asks to take on a problem record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStep {
    /// The owner submits evidence.
    Rectify,
    /// A supervisor approves the evidence.
    Approve,
    /// A supervisor sends the evidence back, with a note.
    SendBack,
}

/// The facts a 销号 step is judged on. Whether the actor may act on the record at all (their
/// role, the owner's town) is decided by `access` before this.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    pub owner_id: &'a str,
    pub actor_id: &'a str,
    pub problem: bool,
    pub stored: RecordStatus,
    pub rectify_by: Option<NaiveDate>,
    pub today: NaiveDate,
    pub has_note: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefusal {
    /// Only the record's owner rectifies it.
    NotOwner,
    /// Nobody verifies their own record.
    OwnRecord,
    /// Sending back needs a note saying what is missing.
    NoteRequired,
    /// Achievement records have no 销号.
    NotProblem,
    /// The step does not apply to the record's standing.
    WrongStatus(RecordStatus),
    /// The rectify-by date has passed.
    Late,
}

/// Whether `step` may be taken, and the record's stored status after it.
pub fn record_step(step: RecordStep, f: &RecordFacts) -> Result<RecordStatus, StepRefusal> {
    let owner = f.owner_id == f.actor_id;
    match step {
        RecordStep::Rectify if !owner => return Err(StepRefusal::NotOwner),
        RecordStep::Approve | RecordStep::SendBack if owner => return Err(StepRefusal::OwnRecord),
        RecordStep::SendBack if !f.has_note => return Err(StepRefusal::NoteRequired),
        _ => {}
    }
    if !f.problem {
        return Err(StepRefusal::NotProblem);
    }
    match (step, record_status(f.stored, f.rectify_by, f.today)) {
        (RecordStep::Rectify, RecordStatus::Open) => Ok(RecordStatus::PendingVerification),
        (RecordStep::Rectify, RecordStatus::Expired) => Err(StepRefusal::Late),
        (RecordStep::Approve, RecordStatus::PendingVerification) => Ok(RecordStatus::Cleared),
        (RecordStep::SendBack, RecordStatus::PendingVerification) => Ok(RecordStatus::Open),
        (_, now) => Err(StepRefusal::WrongStatus(now)),
    }
}

// ---------------------------------------------------------------------------------------
// Ratings and adjustments

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingRefusal {
    SelfRating,
    Recused,
    OutOfRange,
    PeriodClosed,
}

/// Whether a democratic rating may be recorded. A closed period is reported first: nothing
/// else about the rating can be fixed then.
pub fn check_rating(
    rater_id: &str,
    ratee_id: &str,
    score: f64,
    recused: bool,
    period_closed: bool,
) -> Result<(), RatingRefusal> {
    if period_closed {
        Err(RatingRefusal::PeriodClosed)
    } else if rater_id == ratee_id {
        Err(RatingRefusal::SelfRating)
    } else if recused {
        Err(RatingRefusal::Recused)
    } else if !(0.0..=100.0).contains(&score) {
        // NaN is not contained either.
        Err(RatingRefusal::OutOfRange)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    SameSupervisor,
    AlreadyApproved,
    PeriodClosed,
}

/// Whether `approver` may approve an adjustment: four eyes, once, while the period is open.
pub fn check_adjustment_approval(
    created_by: &str,
    approver: &str,
    already_approved: bool,
    period_closed: bool,
) -> Result<(), ApprovalRefusal> {
    if period_closed {
        Err(ApprovalRefusal::PeriodClosed)
    } else if already_approved {
        Err(ApprovalRefusal::AlreadyApproved)
    } else if created_by == approver {
        Err(ApprovalRefusal::SameSupervisor)
    } else {
        Ok(())
    }
}

/// An adjustment's points as centipoints: finite, non-zero, within ±1000, two decimals at most.
pub fn check_adjustment_points(points: f64) -> Result<i64, Invalid> {
    let refuse = |m: &str| Err(Invalid::new("points", m));
    if !points.is_finite() {
        refuse("must be a number")
    } else if points == 0.0 {
        refuse("must not be zero")
    } else if points.abs() > 1000.0 {
        refuse("must be from -1000 to 1000")
    } else if ((points * 100.0) - (points * 100.0).round()).abs() > 1e-6 {
        refuse("must have at most two decimals")
    } else {
        Ok(centi(points))
    }
}

// ---------------------------------------------------------------------------------------
// Manual values (人工录入)

/// The most a manual value may be: as far as an indicator's points go.
pub const MAX_MANUAL_VALUE: f64 = MAX_POINTS;
/// The longest reason a manual value may carry, in characters.
pub const MAX_MANUAL_REASON_CHARS: usize = 500;
/// The most rows one CSV import may hold.
pub const MAX_MANUAL_IMPORT_ROWS: usize = 2000;

impl Scheme {
    /// The scheme's manual indicator (`metric: "manual"`) with this code.
    pub fn manual_indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators
            .iter()
            .find(|i| i.metric == Metric::Manual && i.code == code)
    }
}

/// A value entered for a manual indicator: finite, 0..=100000, and at most 1 for a `rate`
/// (a share). `field` names it in the error (`value`, `rows[3].value`).
pub fn check_manual_value(ind: &Indicator, value: f64, field: &str) -> Result<f64, Invalid> {
    if !value.is_finite() {
        Err(Invalid::new(field, "must be a number"))
    } else if ind.rule == Rule::Rate && !(0.0..=1.0).contains(&value) {
        Err(Invalid::new(
            field,
            format!("`{}` is a rate: the value must be from 0 to 1", ind.code),
        ))
    } else if !(0.0..=MAX_MANUAL_VALUE).contains(&value) {
        Err(Invalid::new(field, "must be from 0 to 100000"))
    } else {
        Ok(value)
    }
}

// ---------------------------------------------------------------------------------------
// Seed schemes

fn ratio(code: &str, name: &str, metric: &str, target: u32, points: u32) -> Value {
    json!({"code": code, "name": name, "metric": metric, "rule": "ratio_to_target",
        "target": target, "points": points})
}

/// The seeded rates are all of work orders: a cadre given none is scored on the rest.
fn rate(code: &str, name: &str, metric: &str, points: u32) -> Value {
    json!({"code": code, "name": name, "metric": metric, "rule": "rate", "points": points,
        "when_empty": "exclude"})
}

/// The seeded schemes' 大项, by indicator code.
fn grouped(mut indicators: Vec<Value>) -> Value {
    for ind in &mut indicators {
        let group = match ind["code"].as_str() {
            Some("fn" | "nv" | "st" | "wl") => "夜间工作",
            Some("wc" | "on" | "rr" | "sa" | "od") => "民情办理",
            _ => "作风纪律",
        };
        ind["group"] = json!(group);
    }
    Value::Array(indicators)
}

fn deduct(code: &str, name: &str, metric: &str, points: u32, cap: u32) -> Value {
    json!({"code": code, "name": name, "metric": metric, "rule": "deduct_per_item",
        "points": points, "cap": cap})
}

const STANDARD_RATERS: [(&str, f64); 4] = [
    ("leadership", 0.4),
    ("middle", 0.3),
    ("established", 0.2),
    ("non_established", 0.1),
];

/// The three schemes a new township starts with, built through `Scheme::parse` so they
/// pass the same validation as any admin's: 机关 and 村 monthly on 100 points, 班子成员
/// quarterly on 1000 (千分制).
pub fn default_schemes() -> Vec<Scheme> {
    let raters: Map<String, Value> = STANDARD_RATERS
        .iter()
        .map(|&(g, w)| (g.to_string(), json!(w)))
        .collect();
    let organ = json!({
        "name": "机关干部月度考核", "cadre_category": "organ", "period": "month",
        "indicators": grouped(vec![
            ratio("fn", "四夜", "four_nights", 12, 20),
            ratio("nv", "夜访", "night_visit", 8, 10),
            ratio("st", "驻村住夜", "stays", 8, 10),
            rate("on", "工单按期办结率", "work_orders_on_time_rate", 15),
            rate("rr", "响应率", "response_rate", 10),
            rate("sa", "群众满意度", "avg_satisfaction", 15),
            deduct("od", "超期工单", "work_orders_overdue", 2, 10),
            deduct("rc", "打卡被驳回", "rejected_checkins", 1, 5)]),
        "democratic": {"weight": 0.2, "rater_weights": raters},
        "consequences": {"statement_bottom": 5}});
    let village = json!({
        "name": "村干部月度考核", "cadre_category": "village", "period": "month",
        "indicators": grouped(vec![
            ratio("fn", "四夜", "four_nights", 12, 20),
            ratio("wl", "工作日志", "work_log_days", 20, 10),
            ratio("wc", "收集民情", "work_orders_collected", 5, 10),
            rate("on", "工单按期办结率", "work_orders_on_time_rate", 15),
            rate("rr", "响应率", "response_rate", 10),
            rate("sa", "群众满意度", "avg_satisfaction", 15),
            deduct("od", "超期工单", "work_orders_overdue", 2, 10),
            deduct("rc", "打卡被驳回", "rejected_checkins", 1, 5)]),
        "democratic": {"weight": 0.2, "rater_weights": raters},
        "consequences": {"statement_bottom": 3}});
    let leadership = json!({
        "name": "班子成员季度考核（千分制）", "cadre_category": "leadership", "period": "quarter",
        "yearly": "mean_of_quarters",
        "indicators": grouped(vec![
            ratio("fn", "四夜", "four_nights", 36, 200),
            ratio("nv", "夜访", "night_visit", 24, 100),
            ratio("st", "驻村住夜", "stays", 12, 100),
            ratio("wl", "工作日志", "work_log_days", 60, 100),
            rate("on", "工单按期办结率", "work_orders_on_time_rate", 150),
            rate("rr", "响应率", "response_rate", 100),
            rate("sa", "群众满意度", "avg_satisfaction", 150),
            deduct("od", "超期工单", "work_orders_overdue", 10, 100),
            deduct("rc", "打卡被驳回", "rejected_checkins", 5, 50)]),
        "democratic": {"weight": 1.0, "rater_weights": raters},
        "consequences": {"statement_bottom": 1, "statement_consecutive": 2}});
    [organ, village, leadership]
        .iter()
        .filter_map(|v| Scheme::parse(v).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use Metric::{
        NightVisit as Nv, Stays, WorkOrdersOnTimeRate as OnTime, WorkOrdersOverdue as Od,
    };

    fn scheme(v: Value) -> Scheme {
        Scheme::parse(&v).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn merge(v: &mut Value, extra: Value) {
        for (k, x) in extra.as_object().into_iter().flatten() {
            v[k] = x.clone();
        }
    }

    /// A monthly organ scheme; `extra` is merged into it.
    fn organ_with(indicators: Value, extra: Value) -> Value {
        let mut v = json!({"name": "t", "cadre_category": "organ", "period": "month"});
        v["indicators"] = indicators;
        merge(&mut v, extra);
        v
    }

    /// One indicator `x`, with `extra` merged into it.
    fn single(metric: &str, rule: &str, points: f64, extra: Value) -> Scheme {
        let mut ind = json!({"code": "x", "name": "n", "metric": metric, "rule": rule});
        ind["points"] = json!(points);
        merge(&mut ind, extra);
        scheme(organ_with(json!([ind]), json!({})))
    }

    fn stays() -> Value {
        json!([{"code": "s", "name": "驻村", "metric": "stays", "rule": "per_item", "points": 1}])
    }

    fn cadre(id: &str, values: &[(Metric, Option<f64>)]) -> CadreInput {
        let mut metrics = MetricValues::default();
        for &(m, v) in values {
            metrics.set(m, v);
        }
        let user_id = id.to_string();
        CadreInput {
            user_id,
            metrics,
            ..CadreInput::default()
        }
    }

    fn one(s: &Scheme, c: CadreInput) -> Score {
        score_all(s, &[c]).remove(0)
    }

    /// The first line's centipoints, and whether a cap cut them.
    fn line_points(s: &Scheme, metric: Metric, value: Option<f64>) -> (i64, bool) {
        let score = one(s, cadre("a", &[(metric, value)]));
        let capped = score.flags.iter().any(|f| f.starts_with("capped:"));
        (score.lines[0].points, capped)
    }

    fn errors(v: Value) -> Vec<(String, String)> {
        let e = Scheme::parse(&v).err().unwrap_or_default();
        let mut e: Vec<_> = e.into_iter().map(|i| (i.field, i.message)).collect();
        e.sort();
        e
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = list.iter().map(|&(f, m)| (f.into(), m.into())).collect();
        v.sort();
        v
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_rule_scores_its_line() {
        let ratio = single("night_visit", "ratio_to_target", 20.0, json!({"target": 8}));
        let rate = |when| {
            single(
                "work_orders_on_time_rate",
                "rate",
                20.0,
                json!({"when_empty": when}),
            )
        };
        let per = |cap| single("work_orders_overdue", "per_item", 2.0, json!({"cap": cap}));
        let deduct = |cap| {
            single(
                "work_orders_overdue",
                "deduct_per_item",
                2.0,
                json!({"cap": cap}),
            )
        };
        let (zero, full) = (rate("zero"), rate("full"));
        let cases = [
            (&ratio, Nv, Some(5.0), (1250, false)),
            (&ratio, Nv, Some(12.0), (2000, false)),
            (&ratio, Nv, None, (0, false)), // an absent count is 0
            (&zero, OnTime, Some(0.75), (1500, false)),
            (&full, OnTime, None, (2000, false)),
            (&zero, OnTime, None, (0, false)),
            (&per(json!(5)), Od, Some(3.0), (500, true)),
            (&per(json!(10)), Od, Some(3.0), (600, false)),
            (&per(Value::Null), Od, Some(30.0), (6000, false)),
            (&deduct(json!(10)), Od, Some(7.0), (-1000, true)),
            (&deduct(json!(10)), Od, Some(4.0), (-800, false)),
            (&deduct(Value::Null), Od, Some(0.0), (0, false)),
        ];
        for (i, (s, metric, value, want)) in cases.into_iter().enumerate() {
            assert_eq!(line_points(s, metric, value), want, "case {i}");
        }
        let line = &one(&zero, cadre("a", &[])).lines[0];
        assert!(line.empty && line.value.is_none() && line.target.is_none());
        let line = &one(&ratio, cadre("a", &[(Nv, Some(5.0))])).lines[0];
        assert_eq!(
            (line.value, line.target, line.empty),
            (Some(5.0), Some(8.0), false)
        );
        assert_eq!(
            one(&per(json!(5)), cadre("a", &[(Od, Some(3.0))])).flags,
            ["capped:x"]
        );
    }

    #[test]
    fn lines_round_half_away_from_zero() {
        let eighth = |rule| single("stays", rule, 0.125, json!({}));
        assert_eq!(line_points(&eighth("per_item"), Stays, Some(1.0)).0, 13);
        assert_eq!(
            line_points(&eighth("deduct_per_item"), Stays, Some(1.0)).0,
            -13
        );
        let third = single("stays", "ratio_to_target", 10.0, json!({"target": 3}));
        assert_eq!(line_points(&third, Stays, Some(1.0)).0, 333);
        assert_eq!(
            (centi(1.005), centi(-1.005), points(-1250)),
            (101, -101, -12.5)
        );
    }

    #[test]
    fn metric_values_clamp_to_each_metric_domain() {
        let mut v = MetricValues::default();
        assert_eq!(
            (v.get(Stays), v.get(Metric::ResponseRate)),
            (Some(0.0), None)
        );
        v.set(Metric::ResponseRate, Some(1.5));
        v.set(Metric::AvgSatisfaction, Some(f64::NAN));
        v.set(Stays, Some(-3.0));
        v.set(Metric::NightHelp, None);
        assert_eq!(v.get(Metric::ResponseRate), Some(1.0));
        assert_eq!(v.get(Metric::AvgSatisfaction), None);
        assert_eq!(
            (v.get(Stays), v.get(Metric::NightHelp)),
            (Some(0.0), Some(0.0))
        );
    }

    fn rated(weights: Value, ratings: &[(RaterGroup, f64)]) -> Score {
        let democratic = json!({"democratic": {"weight": 0.2, "rater_weights": weights}});
        let s = scheme(organ_with(stays(), democratic));
        let mut c = cadre("a", &[(Stays, Some(3.0))]);
        c.ratings = ratings.to_vec();
        one(&s, c)
    }

    #[test]
    fn democratic_score_weighs_the_groups_that_rated() {
        use RaterGroup::{Established, Leadership};
        let w =
            json!({"leadership": 0.4, "middle": 0.3, "established": 0.2, "non_established": 0.1});
        let s = rated(
            w,
            &[(Leadership, 90.0), (Leadership, 80.0), (Established, 70.0)],
        );
        let d = &s.democratic;
        assert_eq!((d.score, d.points, d.raters), (80.0, 1600, 3));
        assert_eq!(d.by_group, [(Leadership, 2, 85.0), (Established, 1, 70.0)]);
        assert_eq!((s.total, s.flags.len()), (300 + 1600, 0));
    }

    #[test]
    fn nobody_rating_scores_zero_and_is_flagged() {
        let w = json!({"leadership": 1, "middle": 0});
        let s = rated(w.clone(), &[]);
        assert_eq!((s.democratic.score, s.democratic.points), (0.0, 0));
        assert_eq!(s.flags, ["no_ratings"]);
        // Ratings only from a group the scheme weighs 0 count for nothing.
        let s = rated(w, &[(RaterGroup::Middle, 90.0)]);
        assert_eq!((s.democratic.points, s.democratic.raters), (0, 1));
        assert_eq!(s.flags, ["no_ratings"]);
        let without = scheme(organ_with(stays(), json!({})));
        assert!(one(&without, cadre("a", &[])).flags.is_empty());
    }

    fn perfect_organ_cadre() -> CadreInput {
        use Metric::{AvgSatisfaction, FourNights, ResponseRate};
        let rates = [OnTime, ResponseRate, AvgSatisfaction].map(|m| (m, Some(1.0)));
        let counts = [
            (FourNights, Some(12.0)),
            (Nv, Some(8.0)),
            (Stays, Some(8.0)),
        ];
        let mut c = cadre("a", &[&rates[..], &counts[..]].concat());
        c.ratings = RATER_GROUPS.iter().map(|&g| (g, 100.0)).collect();
        c
    }

    #[test]
    fn totals_add_lines_democratic_points_and_adjustments_and_grade_them() {
        let organ = &default_schemes()[0];
        let best = one(organ, perfect_organ_cadre());
        assert_eq!((best.total, best.grade), (10000, Grade::Excellent));
        let mut c = perfect_organ_cadre();
        c.metrics.set(Od, Some(3.0));
        c.adjustments = vec![-15.5, 2.25];
        let s = one(organ, c);
        let lines: i64 = s.lines.iter().map(|l| l.points).sum();
        assert_eq!(
            (s.adjustments, s.total, s.grade),
            (-1325, 8075, Grade::Good)
        );
        assert_eq!(s.total, lines + s.democratic.points + s.adjustments);
        let mut vetoed = perfect_organ_cadre();
        vetoed.vetoes = vec!["work_safety".into(), "work_safety".into()];
        let s = one(organ, vetoed);
        // A veto leaves the total alone but bars `excellent`.
        assert_eq!(
            (s.total, s.grade, s.flags),
            (10000, Grade::Good, ids(&["veto"]))
        );
        assert_eq!(s.vetoes, ["work_safety"]);
        // The seeded rates are left out with no orders (the rest, all 0 here, scaled up),
        // capped check-in deductions −5, nobody rated.
        let poor = one(organ, cadre("a", &[(Metric::RejectedCheckins, Some(9.0))]));
        assert_eq!((poor.total, poor.grade), (-500, Grade::Fail));
    }

    #[test]
    fn ranks_share_ties_and_scores_sort_by_rank_then_user() {
        let s = scheme(organ_with(stays(), json!({})));
        let c = |id, n| cadre(id, &[(Stays, Some(n))]);
        let scores = score_all(&s, &[c("d", 1.0), c("c", 5.0), c("b", 5.0), c("a", 9.0)]);
        let got: Vec<_> = scores
            .iter()
            .map(|s| (s.user_id.as_str(), s.rank, s.of))
            .collect();
        assert_eq!(got, [("a", 1, 4), ("b", 2, 4), ("c", 2, 4), ("d", 4, 4)]);
        let totals = [("x", 5), ("y", 7), ("z", 5)].map(|(id, t)| (id.to_string(), t));
        let ranks: Vec<u32> = rank(&totals).into_iter().map(|r| r.1).collect();
        assert_eq!(ranks, [2, 1, 2]);
        assert!(score_all(&s, &[]).is_empty());
    }

    #[test]
    fn yearly_mean_uses_the_scored_quarters_and_rounds_half_away() {
        let max = Some(i64::MAX);
        let cases = [
            (vec![Some(8000), Some(9000), None, Some(8501)], Some(8500)),
            (vec![Some(1), Some(2)], Some(2)),
            (vec![Some(-1), Some(-2)], Some(-2)),
            (vec![max, max, max, max], max),
            (vec![None, None], None),
        ];
        for (quarters, want) in cases {
            assert_eq!(mean_of_quarters(&quarters), want, "{quarters:?}");
        }
    }

    #[test]
    fn validation_names_every_bad_field() {
        let got = errors(
            json!({"name": " ", "cadre_category": "organ", "period": "month", "colour": "red",
            "indicators": [
                {"code": "a", "name": "A", "metric": "foo", "rule": "rate", "points": 20},
                {"code": "b", "name": "B", "metric": "stays", "rule": "per_item", "points": 2,
                    "weight": 3},
                {"code": "a", "name": "C", "metric": "night_visit", "rule": "ratio_to_target",
                    "points": "20"},
                {"code": "d", "name": "D", "metric": "stays", "rule": "rate", "points": 5,
                    "cap": -1}],
            "democratic": {"weight": 1.5, "rater_weights": {"middle": -1, "elders": 1}},
            "consequences": {"statement_consecutive": 0, "problem_bottom": 2.5, "extra": 1},
            "grades": {"excellent": 80, "good": 90, "pass": 60}}),
        );
        let want = [
            ("name", "must not be empty"),
            ("colour", "unknown field"),
            ("indicators[0].metric", "unknown metric `foo`"),
            ("indicators[1].weight", "unknown field"),
            ("indicators[2].code", "duplicate code `a`"),
            ("indicators[2].points", "must be a number"),
            ("indicators[2].target", "is required for ratio_to_target"),
            ("indicators[3].cap", "must be from 0 to 100000"),
            ("indicators[3].rule", "rate needs a rate metric"),
            ("democratic.weight", "must be from 0 to 1"),
            ("democratic.rater_weights.elders", "unknown rater group"),
            ("democratic.rater_weights.middle", "must be from 0 to 1000"),
            ("consequences.extra", "unknown field"),
            (
                "consequences.problem_bottom",
                "must be a whole number from 0 to 1000",
            ),
            (
                "consequences.statement_consecutive",
                "must be a whole number from 1 to 1000",
            ),
            ("grades.good", "must not be above grades.excellent"),
        ];
        assert_eq!(got, pairs(&want));
    }

    #[test]
    fn validation_of_shapes_and_combinations() {
        assert_eq!(errors(json!([])), pairs(&[("body", "must be an object")]));
        let required =
            ["name", "cadre_category", "period", "indicators"].map(|f| (f, "is required"));
        assert_eq!(errors(json!({"name": null})), pairs(&required));
        let too_many: Vec<Value> = (0..=MAX_INDICATORS).map(|i| json!({"code": i})).collect();
        let no_weight = json!({"weight": 0.2, "rater_weights": {"leadership": 0}});
        let cases = [
            (
                json!({"yearly": "mean_of_quarters"}),
                "yearly",
                "mean_of_quarters needs period quarter",
            ),
            (
                json!({"yearly": "sum"}),
                "yearly",
                "must be mean_of_quarters or absent",
            ),
            (
                json!({"cadre_category": "county"}),
                "cadre_category",
                "unknown cadre_category `county`",
            ),
            (json!({"period": 3}), "period", "must be a string"),
            (json!({"indicators": []}), "indicators", "must not be empty"),
            (json!({"indicators": {}}), "indicators", "must be a list"),
            (
                json!({"indicators": [3]}),
                "indicators[0]",
                "must be an object",
            ),
            (
                json!({"indicators": too_many}),
                "indicators",
                "must hold at most 200 indicators",
            ),
            (
                json!({"democratic": no_weight}),
                "democratic.rater_weights",
                "at least one weight must be above 0",
            ),
            (
                json!({"grades": {"excellent": 90, "good": 80}}),
                "grades.pass",
                "is required",
            ),
            (
                json!({"name": "长".repeat(101)}),
                "name",
                "must be at most 100 characters",
            ),
        ];
        for (extra, field, message) in cases {
            assert_eq!(
                errors(organ_with(stays(), extra)),
                pairs(&[(field, message)])
            );
        }
        let quarterly = json!({"yearly": "mean_of_quarters", "period": "quarter"});
        assert!(
            Scheme::parse(&organ_with(stays(), quarterly)).is_ok_and(|s| s.yearly_mean_of_quarters)
        );
        let bad = organ_with(
            json!([
            {"code": "r", "name": "n", "metric": "response_rate", "rule": "per_item", "points": 1},
            {"code": "t", "name": "n", "metric": "stays", "rule": "per_item", "points": 1,
                "target": 0, "when_empty": "maybe"},
            {"code": "", "name": "n", "metric": "stays", "rule": "ratio_to_target", "points": 1,
                "target": -2}]),
            json!({}),
        );
        let want = [
            ("indicators[0].rule", "per_item needs a count metric"),
            ("indicators[1].target", "must be above 0"),
            ("indicators[1].when_empty", "unknown when_empty `maybe`"),
            ("indicators[2].code", "must not be empty"),
            ("indicators[2].target", "must be above 0"),
        ];
        assert_eq!(errors(bad), pairs(&want));
        // A target or cap where the rule has no use for it is checked, then dropped.
        let s = single("response_rate", "rate", 5.0, json!({"target": 2, "cap": 3}));
        assert_eq!((s.indicators[0].target, s.indicators[0].cap), (None, None));
    }

    #[test]
    fn seed_schemes_and_default_grades() {
        let [organ, village, leadership] = <[Scheme; 3]>::try_from(default_schemes()).unwrap();
        let max = [&organ, &village, &leadership].map(Scheme::max_total);
        assert_eq!(max, [100.0, 100.0, 1000.0]);
        let g = organ.grades;
        assert_eq!([g.excellent, g.good, g.pass], [9000, 8000, 6000]);
        assert_eq!(leadership.grades.excellent, 90000);
        let statement = [&organ, &village, &leadership].map(|s| s.consequences.statement_bottom);
        assert_eq!(statement, [5, 3, 1]);
        assert_eq!(leadership.consequences.statement_consecutive, 2);
        assert!(leadership.yearly_mean_of_quarters && leadership.period == PeriodKind::Quarter);
        let capped = single("stays", "per_item", 2.0, json!({"cap": 7}));
        assert_eq!(capped.max_total(), 7.0);
    }

    #[test]
    fn schemes_round_trip_through_canonical_json() {
        for s in default_schemes() {
            assert_eq!(Scheme::parse(&s.to_json()), Ok(s.clone()));
            let text = serde_json::to_string(&s).unwrap();
            assert_eq!(Scheme::parse(&serde_json::from_str(&text).unwrap()), Ok(s));
        }
        let v = default_schemes()[0].to_json();
        assert_eq!(v["indicators"][0]["points"], json!(20));
        assert_eq!(v["consequences"]["rectify_quarters"], json!(1));
        assert_eq!(
            v["grades"],
            json!({"excellent": 90, "good": 80, "pass": 60})
        );
    }

    #[test]
    fn names_agree_with_serde() {
        let name = |v: Value| v.as_str().map(str::to_string);
        for (i, &m) in Metric::ALL.iter().enumerate() {
            let wire = serde_json::to_value(m).unwrap();
            assert_eq!((name(wire), m as usize), (Some(m.as_str().into()), i));
            assert_eq!(Metric::parse(m.as_str()), Some(m));
        }
        assert_eq!(Metric::ALL.iter().filter(|m| m.is_rate()).count(), 3);
        for c in [
            CadreCategory::Leadership,
            CadreCategory::Organ,
            CadreCategory::Village,
        ] {
            assert_eq!(category(category_name(c)), Some(c));
            assert_eq!(
                name(serde_json::to_value(c).unwrap()),
                Some(category_name(c).into())
            );
        }
        for g in RATER_GROUPS {
            assert_eq!(
                name(serde_json::to_value(g).unwrap()),
                Some(group_name(g).into())
            );
        }
        assert_eq!(
            serde_json::to_value(Grade::Excellent).unwrap(),
            json!("excellent")
        );
    }

    #[test]
    fn periods_parse_only_their_canonical_forms() {
        for text in [
            "2026-03", "2026-12", "2026-Q1", "2026-Q4", "2026", "2000-01", "2100",
        ] {
            assert_eq!(
                Period::parse(text).map(|p| p.to_string()),
                Ok(text.to_string())
            );
        }
        let p = Period::parse("2026-Q2").unwrap();
        assert_eq!(
            (p.kind(), p.year(), p.index()),
            (PeriodKind::Quarter, 2026, 2)
        );
        assert_eq!(Period::parse("2026").unwrap().index(), 0);
        let bad = [
            "2026-13", "2026-Q5", "2026-1", "2026-00", "2026-Q0", "2026-q1", "1999",
        ];
        let junk = [
            "2101-01",
            "",
            "abcd",
            "2026-03-01",
            "+202-01",
            "2026-Q12",
            " 2026",
            "２０２６",
        ];
        for text in bad.into_iter().chain(junk) {
            let field = Period::parse(text).map_err(|e| e.field);
            assert_eq!(field, Err("period".into()), "{text}");
        }
        assert!(Period::new(PeriodKind::Year, 2026, 1).is_err());
        assert!(Period::parse("2026-02").unwrap() < Period::parse("2026-10").unwrap());
    }

    #[test]
    fn period_boundaries() {
        let p = |s: &str| Period::parse(s).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let spans = [
            ("2028-02", "2028-02-01", "2028-02-29"),
            ("2026-Q1", "2026-01-01", "2026-03-31"),
            ("2026-Q4", "2026-10-01", "2026-12-31"),
            ("2026", "2026-01-01", "2026-12-31"),
        ];
        for (period, first, last) in spans {
            assert_eq!(
                (p(period).first_day(), p(period).last_day()),
                (d(first), d(last))
            );
        }
        let before = [
            ("2026-01", "2025-12"),
            ("2026-07", "2026-06"),
            ("2026-Q1", "2025-Q4"),
        ];
        for (period, previous) in before.into_iter().chain([("2026", "2025")]) {
            assert_eq!(p(period).previous(), Some(p(previous)));
        }
        assert_eq!(p("2000-01").previous(), None);
        let quarters = p("2026").quarters_of_year().map(|q| q.to_string());
        assert_eq!(quarters, ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
        assert_eq!(p("2026-05").quarters_of_year()[1], p("2026-Q2"));
        let deadlines = [
            ("2026-11", 1, "2027-02-28"),
            ("2026-Q4", 1, "2027-03-31"),
            ("2026", 1, "2027-03-31"),
            ("2026-03", 0, "2026-03-31"),
            ("2026-Q1", 4, "2027-03-31"),
        ];
        for (period, quarters, by) in deadlines {
            assert_eq!(p(period).rectify_by(quarters), d(by), "{period}");
        }
        assert_eq!(p("2026").rectify_by(u32::MAX), NaiveDate::MAX);
    }

    /// Scores whose totals are each cadre's stays.
    fn ranked(settings: Value, totals: &[(&str, f64)]) -> (Scheme, Vec<Score>) {
        let s = scheme(organ_with(stays(), json!({"consequences": settings})));
        let cadres: Vec<_> = totals
            .iter()
            .map(|&(id, n)| cadre(id, &[(Stays, Some(n))]))
            .collect();
        let scores = score_all(&s, &cadres);
        (s, scores)
    }

    fn close(settings: Value, totals: &[(&str, f64)], previous: &PreviousPeriod) -> Consequences {
        let (s, scores) = ranked(settings, totals);
        consequences(
            &s,
            Period::parse("2026-11").unwrap(),
            &scores,
            |_| None,
            previous,
        )
    }

    #[test]
    fn closing_never_splits_ties() {
        let totals = [
            ("a", 10.0),
            ("b", 9.0),
            ("c", 9.0),
            ("d", 8.0),
            ("e", 7.0),
            ("f", 7.0),
        ];
        let settings = json!({"achievement_top": 2, "problem_bottom": 1, "statement_bottom": 3});
        let ranks: Vec<u32> = ranked(settings.clone(), &totals)
            .1
            .iter()
            .map(|s| s.rank)
            .collect();
        assert_eq!(ranks, [1, 2, 2, 4, 5, 5]);
        let out = close(settings, &totals, &PreviousPeriod::default());
        let by = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        assert_eq!(out.achievements, ids(&["a", "b", "c"]));
        assert_eq!(out.problems, [("e".to_string(), by), ("f".to_string(), by)]);
        assert_eq!(out.statements, ids(&["d", "e", "f"]));
        assert!(out.position_adjustment.is_empty());
        let streaks = HashMap::from([("d".into(), 1), ("e".into(), 1), ("f".into(), 1)]);
        assert_eq!(out.bottom_streaks, streaks);
    }

    #[test]
    fn with_few_cadres_the_top_wins() {
        let none = PreviousPeriod::default();
        let two = [("a", 3.0), ("b", 1.0)];
        let out = close(json!({}), &two, &none);
        assert_eq!(out.achievements, ids(&["a", "b"]));
        assert!(
            out.problems.is_empty() && out.statements.is_empty() && out.bottom_streaks.is_empty()
        );
        let out = close(json!({"achievement_top": 1}), &two, &none);
        assert_eq!(
            (out.achievements, out.statements),
            (ids(&["a"]), ids(&["b"]))
        );
        assert_eq!(close(json!({}), &[], &none), Consequences::default());
        let nothing = json!({"achievement_top": 0, "problem_bottom": 0, "statement_bottom": 0});
        let out = close(nothing, &two, &none);
        assert!(
            out.achievements.is_empty() && out.problems.is_empty() && out.statements.is_empty()
        );
        assert_eq!(out.standing["b"], (2, 2));
    }

    #[test]
    fn streaks_list_statements_and_repeat_problems_flag_position_adjustment() {
        let settings = json!({"achievement_top": 1, "problem_bottom": 1, "statement_bottom": 1,
            "statement_consecutive": 2});
        let totals = [("a", 10.0), ("b", 5.0), ("c", 1.0)];
        let first = close(settings.clone(), &totals, &PreviousPeriod::default());
        assert!(first.statements.is_empty() && first.position_adjustment.is_empty());
        assert_eq!(first.bottom_streaks, HashMap::from([("c".into(), 1)]));
        let problem = first
            .problems
            .iter()
            .map(|p| p.0.clone())
            .chain(["b".into()])
            .collect();
        let previous = PreviousPeriod {
            problem,
            statement_streak: first.bottom_streaks,
        };
        let second = close(settings, &totals, &previous);
        assert_eq!(
            second.problems.iter().map(|p| &p.0).collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(
            (second.statements, second.position_adjustment),
            (ids(&["c"]), ids(&["c"]))
        );
        assert_eq!(second.bottom_streaks, HashMap::from([("c".into(), 2)]));
    }

    #[test]
    fn year_review_uses_the_scheme_thresholds() {
        let review = |achievements, problems, s: &ConsequenceSettings| {
            let y = year_review(achievements, problems, Grade::Excellent, s);
            (y.suggested_excellent, y.major_contribution)
        };
        let d = ConsequenceSettings::default();
        let got = [(1, 0), (2, 0), (3, 0), (4, 1)].map(|(a, p)| review(a, p, &d));
        assert_eq!(
            got,
            [(false, false), (true, false), (true, true), (false, false)]
        );
        let strict = ConsequenceSettings {
            excellent_achievements: 3,
            ..d
        };
        assert_eq!(review(2, 0, &strict), (false, false));
        // Below the achievement grade (良好 by default), nobody is suggested.
        let graded = |g| year_review(3, 0, g, &d).suggested_excellent;
        assert_eq!(
            [Grade::Excellent, Grade::Good, Grade::Pass, Grade::Fail].map(graded),
            [true, true, false, false]
        );
        let pass_ok = ConsequenceSettings {
            achievement_min_grade: Grade::Pass,
            ..d
        };
        assert!(year_review(3, 0, Grade::Pass, &pass_ok).major_contribution);
    }

    /// Nine cadres in two towns (t1: a–e, t2: f–i) and one outside every town (z), whose
    /// totals are their stays; grades: ≥ 9 excellent, ≥ 6 good, ≥ 3 pass.
    fn two_towns(settings: Value, scope: &str) -> Consequences {
        let extra = json!({"consequences": settings, "scope": scope,
            "grades": {"excellent": 9, "good": 6, "pass": 3}});
        let s = scheme(organ_with(stays(), extra));
        let totals = [
            ("a", 10.0),
            ("b", 8.0),
            ("c", 5.0),
            ("d", 2.0),
            ("e", 1.0),
            ("f", 4.0),
            ("g", 3.0),
            ("h", 2.0),
            ("i", 0.0),
            ("z", 7.0),
        ];
        let cadres: Vec<_> = totals
            .iter()
            .map(|&(id, n)| cadre(id, &[(Stays, Some(n))]))
            .collect();
        let town = |id: &str| match id {
            "a" | "b" | "c" | "d" | "e" => Some("t1".to_string()),
            "z" => None,
            _ => Some("t2".to_string()),
        };
        let period = Period::parse("2026-11").unwrap();
        let scores = score_all(&s, &cadres);
        consequences(&s, period, &scores, town, &PreviousPeriod::default())
    }

    #[test]
    fn each_town_ranks_its_own_and_achievements_need_the_grade() {
        let settings = json!({"achievement_top": 2, "problem_bottom": 1, "statement_bottom": 2});
        let out = two_towns(settings.clone(), "town");
        // t1: a 10 (优秀) b 8 (良好) on top; e last, d and e in the statement bottom.
        // t2: f 4 and g 3 on top but only 合格: no record; i last. z ranks alone: top.
        let mut achievements = out.achievements.clone();
        achievements.sort();
        assert_eq!(achievements, ids(&["a", "b", "z"]));
        let mut below = out.below_grade.clone();
        below.sort();
        assert_eq!(
            below,
            [
                ("f".to_string(), Grade::Pass),
                ("g".to_string(), Grade::Pass)
            ]
        );
        let mut problems: Vec<&str> = out.problems.iter().map(|p| p.0.as_str()).collect();
        problems.sort();
        assert_eq!(problems, ["e", "i"]);
        let mut statements = out.statements.clone();
        statements.sort();
        assert_eq!(statements, ids(&["d", "e", "h", "i"]));
        assert_eq!(out.standing["g"], (2, 4));
        assert_eq!(out.standing["c"], (3, 5));
        assert_eq!(out.standing["z"], (1, 1));

        // The county ranks all ten together: a, b on top; i last.
        let out = two_towns(settings, "county");
        assert_eq!(out.achievements, ids(&["a", "b"]));
        assert_eq!(
            out.problems
                .iter()
                .map(|p| p.0.as_str())
                .collect::<Vec<_>>(),
            ["i"]
        );
        assert_eq!(out.standing["z"], (3, 10));
        // A lower bar lets 合格 through.
        let pass = json!({"achievement_top": 2, "achievement_min_grade": "pass"});
        let out = two_towns(pass, "town");
        assert!(out.achievements.contains(&"f".to_string()) && out.below_grade.is_empty());
    }

    #[test]
    fn in_a_small_town_nobody_is_both_top_and_bottom() {
        // t2 has four cadres; top 3 and bottom 3 overlap in f, g, h: the top wins, and only
        // i is at the bottom.
        let settings = json!({"achievement_top": 3, "problem_bottom": 3, "statement_bottom": 3,
            "achievement_min_grade": "fail"});
        let out = two_towns(settings, "town");
        let t2_problems: Vec<&str> = out
            .problems
            .iter()
            .map(|p| p.0.as_str())
            .filter(|id| ["f", "g", "h", "i"].contains(id))
            .collect();
        assert_eq!(t2_problems, ["i"]);
        for id in ["f", "g", "h"] {
            assert!(out.achievements.contains(&id.to_string()), "{id}");
            assert!(!out.statements.contains(&id.to_string()), "{id}");
        }
    }

    #[test]
    fn excluded_rates_scale_the_other_lines_up() {
        let s = scheme(organ_with(
            json!([
                {"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 8, "points": 20},
                {"code": "on", "name": "按期", "metric": "work_orders_on_time_rate", "rule": "rate", "points": 20, "when_empty": "exclude"},
                {"code": "od", "name": "超期", "metric": "work_orders_overdue", "rule": "deduct_per_item", "points": 2, "cap": 10}]),
            json!({}),
        ));
        assert_eq!(s.max_total(), 40.0);
        // No work orders: 夜访 4 of 8 = 10 points, × 40/20 = 20; 1 overdue −2; total 18.
        let none = one(&s, cadre("a", &[(Nv, Some(4.0)), (Od, Some(1.0))]));
        let points_of: Vec<i64> = none.lines.iter().map(|l| l.points).collect();
        assert_eq!(points_of, [2000, 0, -200]);
        assert!(none.lines[1].excluded && !none.lines[0].excluded);
        assert_eq!(none.total, 1800);
        // Half on time: 10 + 10, nothing scaled.
        let half = one(&s, cadre("b", &[(Nv, Some(4.0)), (OnTime, Some(0.5))]));
        assert_eq!(half.total, 2000);
        assert!(!half.lines[1].excluded);
        // A third of the points kept: × 3, rounded half away from zero (3.33 × 3 = 9.99 → 10).
        let thirds = scheme(organ_with(
            json!([
                {"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 3, "points": 10},
                {"code": "on", "name": "按期", "metric": "work_orders_on_time_rate", "rule": "rate", "points": 20, "when_empty": "exclude"}]),
            json!({}),
        ));
        assert_eq!(one(&thirds, cadre("c", &[(Nv, Some(1.0))])).total, 999);
    }

    #[test]
    fn groups_show_together_and_keep_to_their_cap() {
        let s = scheme(organ_with(
            json!([
                {"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 8, "points": 20, "group": "夜间工作"},
                {"code": "st", "name": "住夜", "metric": "stays", "rule": "ratio_to_target", "target": 4, "points": 10, "group": "夜间工作"},
                {"code": "wl", "name": "日志", "metric": "work_log_days", "rule": "ratio_to_target", "target": 20, "points": 10}]),
            json!({"groups": {"夜间工作": {"cap": 25}}}),
        ));
        assert_eq!(s.max_total(), 35.0);
        let full = one(
            &s,
            cadre(
                "a",
                &[
                    (Nv, Some(8.0)),
                    (Stays, Some(4.0)),
                    (Metric::WorkLogDays, Some(10.0)),
                ],
            ),
        );
        // 20 + 10 in the group, capped at 25; the log 5 outside it.
        assert_eq!(full.total, 3000);
        assert_eq!(
            full.groups,
            [GroupPart {
                name: "夜间工作".into(),
                points: 2500,
                cap: Some(2500),
                capped: true
            }]
        );
        assert_eq!(full.flags, ["capped:夜间工作"]);
        assert_eq!(full.lines[1].group.as_deref(), Some("夜间工作"));
        let under = one(&s, cadre("b", &[(Nv, Some(4.0))]));
        assert_eq!((under.total, under.groups[0].capped), (1000, false));
        assert_eq!(Scheme::parse(&s.to_json()), Ok(s.clone()));
        let mut v = s.to_json();
        v["groups"] = json!({"党建": {"cap": 10}, "夜间工作": {"cap": -1}});
        assert_eq!(
            errors(v),
            pairs(&[
                ("groups.党建", "no indicator is in this group"),
                ("groups.夜间工作.cap", "must be from 0 to 100000"),
            ])
        );
    }

    #[test]
    fn scope_effective_from_and_min_grade_parse_and_round_trip() {
        let v = organ_with(
            stays(),
            json!({"scope": "county", "effective_from": "2026-10-01",
                   "overdue_counting": "every_period",
                   "consequences": {"achievement_min_grade": "excellent"}}),
        );
        let s = scheme(v);
        assert_eq!(
            (s.scope, s.overdue_counting),
            (Scope::County, OverdueCounting::EveryPeriod)
        );
        assert_eq!(s.effective_from, NaiveDate::from_ymd_opt(2026, 10, 1));
        assert_eq!(s.consequences.achievement_min_grade, Grade::Excellent);
        assert_eq!(Scheme::parse(&s.to_json()), Ok(s.clone()));
        let only = |types: Value| scheme(organ_with(stays(), json!({"staff_types": types})));
        let (established, others) = (
            only(json!(["established"])),
            only(json!(["instructor", "non_established"])),
        );
        assert!(!established.overlaps(&others) && !others.overlaps(&established));
        assert!(s.overlaps(&established) && established.scores_staff_type(StaffType::Established));
        assert!(!established.scores_staff_type(StaffType::Instructor));
        assert_eq!(Scheme::parse(&others.to_json()), Ok(others.clone()));
        let defaults = scheme(organ_with(stays(), json!({})));
        assert_eq!(
            (
                defaults.scope,
                defaults.effective_from,
                defaults.consequences.achievement_min_grade
            ),
            (Scope::Town, None, Grade::Good)
        );
        let bad = organ_with(
            stays(),
            json!({"scope": "world", "effective_from": "soon",
                   "consequences": {"achievement_min_grade": "best"}}),
        );
        assert_eq!(
            errors(bad),
            pairs(&[
                (
                    "consequences.achievement_min_grade",
                    "unknown achievement_min_grade `best`"
                ),
                ("effective_from", "must be a date like 2026-10-01"),
                ("scope", "unknown scope `world`"),
            ])
        );
    }

    #[test]
    fn rating_and_adjustment_decisions() {
        use ApprovalRefusal as A;
        use RatingRefusal as R;
        assert_eq!(check_rating("r", "c", 85.5, false, false), Ok(()));
        assert_eq!(check_rating("r", "c", 100.0, false, false), Ok(()));
        assert_eq!(
            check_rating("c", "c", 80.0, false, false),
            Err(R::SelfRating)
        );
        assert_eq!(check_rating("r", "c", 80.0, true, false), Err(R::Recused));
        for bad in [-0.5, 100.5, f64::NAN, f64::INFINITY] {
            assert_eq!(
                check_rating("r", "c", bad, false, false),
                Err(R::OutOfRange)
            );
        }
        assert_eq!(
            check_rating("c", "c", 80.0, true, true),
            Err(R::PeriodClosed)
        );
        assert_eq!(check_adjustment_approval("s1", "s2", false, false), Ok(()));
        assert_eq!(
            check_adjustment_approval("s1", "s1", false, false),
            Err(A::SameSupervisor)
        );
        assert_eq!(
            check_adjustment_approval("s1", "s2", true, false),
            Err(A::AlreadyApproved)
        );
        assert_eq!(
            check_adjustment_approval("s1", "s1", true, true),
            Err(A::PeriodClosed)
        );
        let ok = [(-2.5, -250), (0.07, 7), (1000.0, 100_000)];
        for (points, centipoints) in ok {
            assert_eq!(check_adjustment_points(points), Ok(centipoints));
        }
        for bad in [0.0, 1000.01, -1001.0, 1.005, f64::NAN, f64::NEG_INFINITY] {
            let field = check_adjustment_points(bad).map_err(|e| e.field);
            assert_eq!(field, Err("points".into()), "{bad}");
        }
    }

    fn indicator_json() -> impl Strategy<Value = Value> {
        let amounts = (0u32..=5000, 1u32..=5000, proptest::option::of(0u32..=5000));
        (
            0..Rule::ALL.len(),
            any::<prop::sample::Index>(),
            amounts,
            any::<bool>(),
        )
            .prop_map(|(r, m, (points, target, cap), zero)| {
                let rule = Rule::ALL[r];
                let fits: Vec<Metric> = Metric::ALL
                    .iter()
                    .copied()
                    .filter(|m| match rule {
                        Rule::Rate => m.is_rate() || *m == Metric::Manual,
                        Rule::PerItem | Rule::DeductPerItem => !m.is_rate(),
                        Rule::RatioToTarget => true,
                    })
                    .collect();
                let when = if zero { "zero" } else { "full" };
                let (points, target) = (f64::from(points) / 100.0, f64::from(target) / 100.0);
                let mut v = json!({"name": "指标", "metric": m.get(&fits).as_str(),
                    "rule": rule.as_str(), "points": points, "target": target, "when_empty": when});
                if let Some(c) = cap {
                    v["cap"] = json!(f64::from(c) / 100.0);
                }
                v
            })
    }

    fn scheme_json() -> impl Strategy<Value = Value> {
        let democratic = proptest::option::of((0u32..=100, prop::array::uniform4(0u32..=10)));
        (vec(indicator_json(), 1..6), democratic).prop_map(|(mut indicators, democratic)| {
            for (i, ind) in indicators.iter_mut().enumerate() {
                ind["code"] = json!(format!("i{i}"));
            }
            let mut v = organ_with(json!(indicators), json!({"cadre_category": "village"}));
            if let Some((w, [a, b, c, d])) = democratic {
                let weights = json!({"leadership": a + 1, "middle": b, "established": c,
                    "non_established": f64::from(d) / 10.0});
                v["democratic"] = json!({"weight": f64::from(w) / 100.0, "rater_weights": weights});
            }
            v
        })
    }

    fn cadre_input() -> impl Strategy<Value = CadreInput> {
        let values = vec((any::<bool>(), 0u32..=50, 0u32..=100), Metric::ALL.len());
        let ratings = vec((0usize..4, 0u32..=10_000), 0..8);
        let adjustments = vec(-100_000i32..=100_000, 0..3);
        // Manual values of the codes `scheme_json` gives (i0..i5), some absent.
        let manual = vec(proptest::option::of(0u32..=20_000), 6);
        (values, ratings, adjustments, any::<bool>(), manual).prop_map(
            |(values, ratings, adj, vetoed, manual)| {
                let mut metrics = MetricValues::default();
                for (&m, (empty, count, pct)) in Metric::ALL.iter().zip(values) {
                    let rate = (!empty).then(|| f64::from(pct) / 100.0);
                    metrics.set(
                        m,
                        if m.is_rate() {
                            rate
                        } else {
                            Some(f64::from(count))
                        },
                    );
                }
                let rating = |(g, r): (usize, u32)| (RATER_GROUPS[g], f64::from(r) / 100.0);
                CadreInput {
                    user_id: String::new(),
                    metrics,
                    ratings: ratings.into_iter().map(rating).collect(),
                    adjustments: adj.into_iter().map(|a| f64::from(a) / 100.0).collect(),
                    vetoes: if vetoed {
                        vec!["integrity".to_string()]
                    } else {
                        vec![]
                    },
                    manual: manual
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, v)| Some((format!("i{i}"), f64::from(v?) / 100.0)))
                        .collect(),
                }
            },
        )
    }

    proptest! {
        #[test]
        fn totals_are_exact_sums_and_lines_keep_their_bounds(
            v in scheme_json(),
            cadres in vec(cadre_input(), 0..6),
        ) {
            let s = Scheme::parse(&v).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let cadres: Vec<_> = cadres.into_iter().enumerate()
                .map(|(i, c)| CadreInput { user_id: format!("u{i}"), ..c })
                .collect();
            let scores = score_all(&s, &cadres);
            prop_assert_eq!(scores.len(), cadres.len());
            for sc in &scores {
                let lines: i64 = sc.lines.iter().map(|l| l.points).sum();
                prop_assert_eq!(sc.total, lines + sc.democratic.points + sc.adjustments);
                prop_assert!(sc.vetoes.is_empty() || sc.grade != Grade::Excellent);
                let input = cadres.iter().find(|c| c.user_id == sc.user_id).unwrap();
                for (l, ind) in sc.lines.iter().zip(&s.indicators) {
                    let (lo, hi) = match ind.rule {
                        Rule::RatioToTarget | Rule::Rate => (0, centi(ind.points)),
                        Rule::PerItem => (0, ind.cap.map_or(i64::MAX, centi)),
                        Rule::DeductPerItem => (ind.cap.map_or(i64::MIN, |c| -centi(c)), 0),
                    };
                    prop_assert!((lo..=hi).contains(&l.points), "{} not in {lo}..={hi}", l.points);
                    let measured = match ind.metric {
                        Metric::Manual => input.manual.get(&ind.code).copied(),
                        m => input.metrics.get(m),
                    };
                    prop_assert_eq!(l.empty, measured.is_none());
                    if l.empty {
                        let full = ind.when_empty == WhenEmpty::Full;
                        prop_assert_eq!(l.points, if full { ind.best() } else { 0 });
                    }
                }
            }
        }

        #[test]
        fn ranks_follow_totals(totals in vec(-4i64..4, 0..12)) {
            let named: Vec<(String, i64)> =
                totals.iter().enumerate().map(|(i, &t)| (format!("u{i}"), t)).collect();
            let ranks = rank(&named);
            for (i, (_, r)) in ranks.iter().enumerate() {
                prop_assert_eq!(*r as usize, 1 + totals.iter().filter(|&&t| t > totals[i]).count());
                for (j, (_, other)) in ranks.iter().enumerate() {
                    prop_assert_eq!(totals[i] == totals[j], r == other);
                }
            }
        }

        #[test]
        fn democratic_score_lies_between_the_ratings(
            given in vec((0usize..4, 0u32..=10_000), 1..12),
            w in prop::array::uniform4(1u32..=10),
        ) {
            let ratings: Vec<_> =
                given.iter().map(|&(g, r)| (RATER_GROUPS[g], f64::from(r) / 100.0)).collect();
            let [leadership, middle, established, non_established] = w.map(f64::from);
            let rater_weights = RaterWeights { leadership, middle, established, non_established };
            let d = democratic(Some(&DemocraticRule { weight: 0.5, rater_weights }), &ratings);
            let lo = ratings.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
            let hi = ratings.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
            let within = d.score >= lo - 0.005 && d.score <= hi + 0.005;
            prop_assert!(within, "{} not in {lo}..={hi}", d.score);
            prop_assert_eq!(d.raters as usize, ratings.len());
            prop_assert_eq!(d.points, centi(0.5 * d.score));
        }

        #[test]
        fn schemes_round_trip(v in scheme_json()) {
            let s = Scheme::parse(&v).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(Scheme::parse(&s.to_json()), Ok(s.clone()));
            let text = serde_json::to_string(&s).unwrap();
            prop_assert_eq!(Scheme::parse(&serde_json::from_str(&text).unwrap()), Ok(s));
        }
    }

    fn facts(actor: &str, stored: RecordStatus, today: NaiveDate) -> RecordFacts<'static> {
        RecordFacts {
            owner_id: "cadre",
            actor_id: if actor == "cadre" { "cadre" } else { "sup" },
            problem: true,
            stored,
            rectify_by: NaiveDate::from_ymd_opt(2027, 2, 28),
            today,
            has_note: true,
        }
    }

    #[test]
    fn every_status_action_and_date_of_xiaohao() {
        use RecordStatus::{Cleared, Expired, Open, PendingVerification as Pending};
        use RecordStep::{Approve, Rectify, SendBack};
        use StepRefusal::{Late, WrongStatus};
        let before = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        let after = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        // (stored, step, day, who, outcome): the owner rectifies, a supervisor decides.
        let table = [
            (Open, Rectify, before, "cadre", Ok(Pending)),
            (Open, Rectify, after, "cadre", Err(Late)),
            (Open, Approve, before, "sup", Err(WrongStatus(Open))),
            (Open, Approve, after, "sup", Err(WrongStatus(Expired))),
            (Open, SendBack, before, "sup", Err(WrongStatus(Open))),
            (Open, SendBack, after, "sup", Err(WrongStatus(Expired))),
            (Pending, Rectify, before, "cadre", Err(WrongStatus(Pending))),
            (Pending, Rectify, after, "cadre", Err(WrongStatus(Pending))),
            (Pending, Approve, before, "sup", Ok(Cleared)),
            (Pending, Approve, after, "sup", Ok(Cleared)),
            (Pending, SendBack, before, "sup", Ok(Open)),
            (Pending, SendBack, after, "sup", Ok(Open)),
            (Cleared, Rectify, before, "cadre", Err(WrongStatus(Cleared))),
            (Cleared, Rectify, after, "cadre", Err(WrongStatus(Cleared))),
            (Cleared, Approve, before, "sup", Err(WrongStatus(Cleared))),
            (Cleared, Approve, after, "sup", Err(WrongStatus(Cleared))),
            (Cleared, SendBack, before, "sup", Err(WrongStatus(Cleared))),
            (Cleared, SendBack, after, "sup", Err(WrongStatus(Cleared))),
        ];
        for (stored, step, day, who, outcome) in table {
            assert_eq!(
                record_step(step, &facts(who, stored, day)),
                outcome,
                "{stored:?} {step:?} on {day} by {who}"
            );
        }
        // A record sent back after its date reads as expired: the cadre is too late.
        let sent_back = record_step(SendBack, &facts("sup", Pending, after)).unwrap();
        assert_eq!(record_status(sent_back, Some(before), after), Expired);
        assert_eq!(record_status(Open, Some(before), before), Open);
        assert_eq!(record_status(Open, None, after), Open);
    }

    #[test]
    fn only_the_owner_rectifies_and_never_verifies() {
        let today = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let open = facts("sup", RecordStatus::Open, today);
        assert_eq!(
            record_step(RecordStep::Rectify, &open),
            Err(StepRefusal::NotOwner)
        );
        for step in [RecordStep::Approve, RecordStep::SendBack] {
            let own = facts("cadre", RecordStatus::PendingVerification, today);
            assert_eq!(record_step(step, &own), Err(StepRefusal::OwnRecord));
        }
        let silent = RecordFacts {
            has_note: false,
            ..facts("sup", RecordStatus::PendingVerification, today)
        };
        assert_eq!(
            record_step(RecordStep::SendBack, &silent),
            Err(StepRefusal::NoteRequired)
        );
        assert_eq!(
            record_step(RecordStep::Approve, &silent),
            Ok(RecordStatus::Cleared),
            "approving needs no note"
        );
        let achievement = RecordFacts {
            problem: false,
            rectify_by: None,
            ..facts("cadre", RecordStatus::Open, today)
        };
        assert_eq!(
            record_step(RecordStep::Rectify, &achievement),
            Err(StepRefusal::NotProblem)
        );
    }

    /// A cadre with these approved manual values (code → value).
    fn entered(values: &[(&str, f64)]) -> CadreInput {
        CadreInput {
            user_id: "a".into(),
            manual: values.iter().map(|&(c, v)| (c.to_string(), v)).collect(),
            ..CadreInput::default()
        }
    }

    #[test]
    fn manual_indicators_score_the_value_entered_for_their_code() {
        let s = scheme(organ_with(
            json!([
                {"code": "zdgz", "name": "重点工作", "metric": "manual", "rule": "ratio_to_target", "target": 100, "points": 80},
                {"code": "zs", "name": "招商引资", "metric": "manual", "rule": "per_item", "points": 5, "cap": 20},
                {"code": "aq", "name": "安全事故", "metric": "manual", "rule": "deduct_per_item", "points": 3, "cap": 9},
                {"code": "dj", "name": "党建考评", "metric": "manual", "rule": "rate", "points": 10}]),
            json!({}),
        ));
        // 80 × 75/100 = 60; 5 × 3 = 15; −3 × 2 = −6; 10 × 0.85 = 8.5.
        let score = one(
            &s,
            entered(&[("zdgz", 75.0), ("zs", 3.0), ("aq", 2.0), ("dj", 0.85)]),
        );
        let points: Vec<i64> = score.lines.iter().map(|l| l.points).collect();
        assert_eq!(points, [6000, 1500, -600, 850]);
        assert_eq!(score.total, 7750);
        assert_eq!(score.lines[0].value, Some(75.0));
        assert_eq!(score.lines[0].metric, Metric::Manual);
        // Capped like any count: 5 × 6 = 30 → 20; −3 × 5 = −15 → −9; above target counts as met.
        let capped = one(&s, entered(&[("zdgz", 130.0), ("zs", 6.0), ("aq", 5.0)]));
        let points: Vec<i64> = capped.lines.iter().map(|l| l.points).collect();
        assert_eq!(points, [8000, 2000, -900, 0]);
        assert_eq!(capped.flags, ["capped:zs", "capped:aq"]);
        // Another code's value, or a metric's, is not this indicator's.
        let mut other = entered(&[("zdgz2", 100.0)]);
        other.metrics.set(Metric::NightVisit, Some(100.0));
        let line = &one(&s, other).lines[0];
        assert!(line.empty && line.value.is_none());
        assert_eq!(line.points, 0);
        // Out of domain: clamped to the rule's (a share at most 1, a count at least 0).
        let odd = one(
            &s,
            entered(&[("dj", 1.5), ("zs", -2.0), ("zdgz", f64::NAN)]),
        );
        assert_eq!(odd.lines[3].points, 1000);
        assert_eq!(odd.lines[1].points, 0);
        assert!(odd.lines[0].empty);
    }

    #[test]
    fn nothing_entered_is_zero_unless_the_scheme_says_otherwise() {
        let ind = |extra: Value| {
            let mut v = json!({"code": "zdgz", "name": "重点工作", "metric": "manual",
                "rule": "ratio_to_target", "target": 100, "points": 80});
            merge(&mut v, extra);
            v
        };
        let plain = scheme(organ_with(json!([ind(json!({}))]), json!({})));
        assert_eq!(plain.indicators[0].when_empty, WhenEmpty::Zero);
        assert_eq!(plain.to_json()["indicators"][0]["when_empty"], "zero");
        assert_eq!(Scheme::parse(&plain.to_json()), Ok(plain.clone()));
        let line = &one(&plain, entered(&[])).lines[0];
        assert_eq!((line.points, line.empty, line.excluded), (0, true, false));
        let full = scheme(organ_with(
            json!([ind(json!({"when_empty": "full"}))]),
            json!({}),
        ));
        assert_eq!(one(&full, entered(&[])).lines[0].points, 8000);
        // Excluded: the other line scales up to the scheme's maximum (20 × 100/20 = 100).
        let both = json!([ind(json!({"when_empty": "exclude"})),
            {"code": "s", "name": "驻村", "metric": "stays", "rule": "ratio_to_target", "target": 10, "points": 20}]);
        let s = scheme(organ_with(both, json!({})));
        let mut c = entered(&[]);
        c.metrics.set(Metric::Stays, Some(10.0));
        let score = one(&s, c);
        assert!(score.lines[0].excluded);
        assert_eq!(score.total, 10_000);
    }

    #[test]
    fn manual_indicators_take_every_rule_and_values_are_checked_against_theirs() {
        let s = single("manual", "rate", 10.0, json!({}));
        assert_eq!(s.indicators[0].rule, Rule::Rate);
        for rule in ["per_item", "deduct_per_item"] {
            assert_eq!(
                single("manual", rule, 2.0, json!({"cap": 6})).indicators[0].cap,
                Some(6.0)
            );
        }
        let bad = organ_with(
            json!([{"code": "m", "name": "n", "metric": "manual", "rule": "ratio_to_target", "points": 5}]),
            json!({}),
        );
        assert_eq!(
            errors(bad),
            pairs(&[("indicators[0].target", "is required for ratio_to_target")])
        );
        assert!(s.manual_indicator("x").is_some());
        let counted = single("stays", "per_item", 1.0, json!({}));
        assert!(
            counted.manual_indicator("x").is_none(),
            "not a manual metric"
        );
        assert!(s.manual_indicator("y").is_none());
        let rate = &s.indicators[0];
        let count = &single("manual", "per_item", 1.0, json!({})).indicators[0];
        assert_eq!(check_manual_value(rate, 0.85, "value"), Ok(0.85));
        assert_eq!(check_manual_value(count, 100_000.0, "value"), Ok(100_000.0));
        assert_eq!(check_manual_value(count, 0.0, "value"), Ok(0.0));
        let field = |ind, v| check_manual_value(ind, v, "rows[2].value").map_err(|e| e.field);
        for (ind, v) in [
            (rate, 1.01),
            (rate, -0.1),
            (count, -1.0),
            (count, 100_000.5),
            (count, f64::NAN),
            (count, f64::INFINITY),
        ] {
            assert_eq!(field(ind, v), Err("rows[2].value".into()), "{v}");
        }
    }
}
