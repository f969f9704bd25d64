//! Deadline compliance counts, per unit, village or assignee: kept per local day as orders
//! change, summed over a period's days when asked.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};
use diesel::upsert::excluded;

use super::schema::{
    org_units, settings, users, work_order_daily, work_order_open_due, work_orders,
};
use super::work_orders::{WorkOrderRow, OPEN_STATUSES};
use super::{db_run, DbConn};
use crate::domain::compliance::{daily_counts, ComplianceCounts, DailyCounts, OrderTimes};
use crate::error::ApiResult;

/// The settings key naming the time zone whose local days `work_order_daily` is kept in.
const DAILY_ZONE: &str = "work_order_daily_tz";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Unit,
    Village,
    Assignee,
}

#[derive(Debug)]
pub struct ComplianceFilter {
    pub group_by: GroupBy,
    /// Only orders of villages in this subtree (a path prefix; "/" for all).
    pub within: String,
    pub unit_id: Option<String>,
    pub village_id: Option<String>,
    pub assignee_id: Option<String>,
    /// First and last local day of the period, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub now: NaiveDateTime,
    /// Today's local date and the UTC instant it began: orders due on earlier days and not
    /// resolved are overdue; of today's, those whose time has passed.
    pub today: NaiveDate,
    pub today_began: NaiveDateTime,
}

/// The period counts of a group, summed over its days.
#[derive(Debug, QueryableByName)]
struct Sums {
    #[diesel(sql_type = BigInt)]
    assigned: i64,
    #[diesel(sql_type = BigInt)]
    accepted_within_24h: i64,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = BigInt)]
    created_resolved: i64,
    #[diesel(sql_type = BigInt)]
    first_resolved: i64,
    #[diesel(sql_type = BigInt)]
    first_resolved_on_time: i64,
    #[diesel(sql_type = BigInt)]
    reopened: i64,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = BigInt)]
    rated_satisfied: i64,
    #[diesel(sql_type = BigInt)]
    rating_sum: i64,
    #[diesel(sql_type = BigInt)]
    overdue_resolved: i64,
    #[diesel(sql_type = BigInt)]
    resolution_seconds: i64,
}

impl Sums {
    const COLUMNS: [&'static str; 12] = [
        "assigned",
        "accepted_within_24h",
        "created",
        "created_resolved",
        "first_resolved",
        "first_resolved_on_time",
        "reopened",
        "rated",
        "rated_satisfied",
        "rating_sum",
        "overdue_resolved",
        "resolution_seconds",
    ];

    /// The SELECT list summing every column of `work_order_daily d`.
    fn select_list() -> String {
        Self::COLUMNS
            .map(|c| format!("CAST(COALESCE(SUM(d.{c}), 0) AS BIGINT) AS {c}"))
            .join(", ")
    }

    fn days(self) -> DailyCounts {
        DailyCounts {
            assigned: self.assigned,
            accepted_within_24h: self.accepted_within_24h,
            created: self.created,
            created_resolved: self.created_resolved,
            first_resolved: self.first_resolved,
            first_resolved_on_time: self.first_resolved_on_time,
            reopened: self.reopened,
            rated: self.rated,
            rated_satisfied: self.rated_satisfied,
            rating_sum: self.rating_sum,
            overdue_resolved: self.overdue_resolved,
            resolution_seconds: self.resolution_seconds,
        }
    }
}

#[derive(Debug, QueryableByName)]
struct PeriodRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(embed)]
    sums: Sums,
}

#[derive(Debug, QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(embed)]
    sums: Sums,
}

#[derive(Debug, QueryableByName)]
struct OverdueRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

#[derive(Debug, QueryableByName)]
struct DueToday {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
}

/// One group's key, display name and counts.
pub struct GroupCounts {
    pub key: String,
    pub name: String,
    pub counts: ComplianceCounts,
}

/// The counts of DESIGN §2.4 for every group: the period's days summed in one query, the
/// open orders due on earlier days in another, today's past their time in a third, the
/// groups' names in a fourth — none of them reads more than a day of orders.
pub fn counts(conn: &mut DbConn, f: &ComplianceFilter) -> ApiResult<Vec<GroupCounts>> {
    let key = match f.group_by {
        GroupBy::Unit => "unit_id",
        GroupBy::Village => "village_id",
        GroupBy::Assignee => "assignee_id",
    };
    let sums = Sums::select_list();
    // The subtree is found through the villages' paths, so a village moved to another town
    // takes its history along.
    let period_sql = format!(
        "SELECT d.{key} AS key, {sums}
         FROM work_order_daily d JOIN org_units v ON v.id = d.village_id
         WHERE v.path LIKE $1 AND d.day >= $2 AND d.day <= $3 AND d.{key} <> ''
           AND ($4 IS NULL OR d.unit_id = $4) AND ($5 IS NULL OR d.village_id = $5)
           AND ($6 IS NULL OR d.assignee_id = $6)
         GROUP BY d.{key}"
    );
    let overdue_sql = format!(
        "SELECT o.{key} AS key, CAST(COALESCE(SUM(o.open_orders), 0) AS BIGINT) AS overdue
         FROM work_order_open_due o JOIN org_units v ON v.id = o.village_id
         WHERE v.path LIKE $1 AND o.due_day < $2 AND o.{key} <> ''
           AND ($3 IS NULL OR o.unit_id = $3) AND ($4 IS NULL OR o.village_id = $4)
           AND ($5 IS NULL OR o.assignee_id = $5)
         GROUP BY o.{key}"
    );
    // Not grouped in SQL: a GROUP BY tempts SQLite to walk an index in group order through
    // every order instead of today's few.
    let due_today_sql = format!(
        "SELECT w.{key} AS key FROM work_orders w
         WHERE w.status IN ('submitted', 'assigned', 'in_progress', 'reopened')
           AND w.due_at >= $1 AND w.due_at < $2 AND w.org_path LIKE $3
           AND ($4 IS NULL OR w.unit_id = $4) AND ($5 IS NULL OR w.village_id = $5)
           AND ($6 IS NULL OR w.assignee_id = $6)"
    );
    let within = format!("{}%", f.within);
    let (unit, village, assignee) = (
        f.unit_id.as_deref(),
        f.village_id.as_deref(),
        f.assignee_id.as_deref(),
    );
    let (period, overdue, due_today): (Vec<PeriodRow>, Vec<OverdueRow>, Vec<DueToday>) =
        db_run!(conn, |c| {
            let period = diesel::sql_query(period_sql.as_str())
                .bind::<Text, _>(&within)
                .bind::<Date, _>(f.from)
                .bind::<Date, _>(f.to)
                .bind::<Nullable<Text>, _>(unit)
                .bind::<Nullable<Text>, _>(village)
                .bind::<Nullable<Text>, _>(assignee)
                .load(c)?;
            let overdue = diesel::sql_query(overdue_sql.as_str())
                .bind::<Text, _>(&within)
                .bind::<Date, _>(f.today)
                .bind::<Nullable<Text>, _>(unit)
                .bind::<Nullable<Text>, _>(village)
                .bind::<Nullable<Text>, _>(assignee)
                .load(c)?;
            let due_today = diesel::sql_query(due_today_sql.as_str())
                .bind::<Timestamp, _>(f.today_began)
                .bind::<Timestamp, _>(f.now)
                .bind::<Text, _>(&within)
                .bind::<Nullable<Text>, _>(unit)
                .bind::<Nullable<Text>, _>(village)
                .bind::<Nullable<Text>, _>(assignee)
                .load(c)?;
            Ok::<_, diesel::result::Error>((period, overdue, due_today))
        })?;

    let mut groups: HashMap<String, (DailyCounts, u64)> = HashMap::new();
    for r in period {
        groups.entry(r.key).or_default().0 = r.sums.days();
    }
    for r in overdue {
        groups.entry(r.key).or_default().1 += u64::try_from(r.overdue).unwrap_or(0);
    }
    for key in due_today.into_iter().filter_map(|r| r.key) {
        groups.entry(key).or_default().1 += 1;
    }
    // Days whose contributions cancelled out leave rows of zeros behind: not a group.
    groups.retain(|_, (days, overdue)| *days != DailyCounts::default() || *overdue > 0);
    let keys: Vec<String> = groups.keys().cloned().collect();
    let names: HashMap<String, String> = match f.group_by {
        GroupBy::Unit | GroupBy::Village => db_run!(conn, |c| org_units::table
            .filter(org_units::id.eq_any(&keys))
            .select((org_units::id, org_units::name))
            .load::<(String, String)>(c))?,
        GroupBy::Assignee => db_run!(conn, |c| users::table
            .filter(users::id.eq_any(&keys))
            .select((users::id, users::name))
            .load::<(String, String)>(c))?,
    }
    .into_iter()
    .collect();
    let mut rows: Vec<GroupCounts> = groups
        .into_iter()
        .map(|(key, (days, overdue))| GroupCounts {
            name: names.get(&key).cloned().unwrap_or_default(),
            counts: days.into_counts(overdue),
            key,
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(rows)
}

/// The period counts of every local day `from..=to` with orders of villages in the subtree
/// `within`, whatever their unit or assignee, in one query: a trend is these days summed
/// into longer spans.
pub fn days(
    conn: &mut DbConn,
    within: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<(NaiveDate, DailyCounts)>> {
    let sql = format!(
        "SELECT d.day AS day, {}
         FROM work_order_daily d JOIN org_units v ON v.id = d.village_id
         WHERE v.path LIKE $1 AND d.day >= $2 AND d.day <= $3
         GROUP BY d.day",
        Sums::select_list()
    );
    let within = format!("{within}%");
    let rows: Vec<DayRow> = db_run!(conn, |c| diesel::sql_query(sql.as_str())
        .bind::<Text, _>(&within)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .load(c))?;
    Ok(rows.into_iter().map(|r| (r.day, r.sums.days())).collect())
}

/// A group on a local day: (village, day, unit or '', assignee or '').
type DayKey = (String, NaiveDate, String, String);

/// The daily rows an order's changes touch, each with the sum of what changed there: the
/// period counts, and the open orders by the day they are due. Kept in key order, so that
/// concurrent transactions lock shared rows in the same order and cannot deadlock.
#[derive(Default)]
pub struct DailyChanges {
    days: BTreeMap<DayKey, DailyCounts>,
    open_due: BTreeMap<DayKey, i64>,
}

impl DailyChanges {
    /// Counts `row` in (`sign` 1) or out (`sign` -1) of the days it touches.
    pub fn add(&mut self, row: &WorkOrderRow, sign: i64, tz: Tz) {
        let times = OrderTimes {
            created_at: row.created_at,
            assigned_at: row.assigned_at,
            accepted_at: row.accepted_at,
            first_resolved_at: row.first_resolved_at,
            original_due_at: row.original_due_at,
            rated_at: row.rated_at,
            rating: row.rating,
            done: matches!(row.status.as_str(), "resolved" | "closed"),
            reopened: row.reopen_count > 0,
        };
        let key = |day: NaiveDate| {
            (
                row.village_id.clone(),
                day,
                row.unit_id.clone().unwrap_or_default(),
                row.assignee_id.clone().unwrap_or_default(),
            )
        };
        for (day, counts) in daily_counts(&times, tz) {
            self.days.entry(key(day)).or_default().add(&counts, sign);
        }
        if let Some(due) = row
            .due_at
            .filter(|_| OPEN_STATUSES.contains(&row.status.as_str()))
        {
            let day = tz.from_utc_datetime(&due).date_naive();
            *self.open_due.entry(key(day)).or_default() += sign;
        }
    }

    /// Adds the changes to the stored days (in the caller's transaction).
    pub fn store(self, conn: &mut DbConn) -> ApiResult<()> {
        let rows: Vec<_> = self
            .days
            .into_iter()
            .filter(|(_, c)| *c != DailyCounts::default())
            .map(|((village_id, day, unit_id, assignee_id), c)| {
                use work_order_daily::dsl as d;
                (
                    d::village_id.eq(village_id),
                    d::day.eq(day),
                    d::unit_id.eq(unit_id),
                    d::assignee_id.eq(assignee_id),
                    (
                        d::assigned.eq(c.assigned),
                        d::accepted_within_24h.eq(c.accepted_within_24h),
                        d::created.eq(c.created),
                        d::created_resolved.eq(c.created_resolved),
                        d::first_resolved.eq(c.first_resolved),
                        d::first_resolved_on_time.eq(c.first_resolved_on_time),
                        d::reopened.eq(c.reopened),
                        d::rated.eq(c.rated),
                        d::rated_satisfied.eq(c.rated_satisfied),
                        d::rating_sum.eq(c.rating_sum),
                        d::overdue_resolved.eq(c.overdue_resolved),
                        d::resolution_seconds.eq(c.resolution_seconds),
                    ),
                )
            })
            .collect();
        // 16 columns × 500 rows stays under both backends' bind-parameter limits.
        for chunk in rows.chunks(500) {
            use work_order_daily::dsl as d;
            db_run!(conn, |c| diesel::insert_into(d::work_order_daily)
                .values(chunk)
                .on_conflict((d::village_id, d::day, d::unit_id, d::assignee_id))
                .do_update()
                .set((
                    d::assigned.eq(d::assigned + excluded(d::assigned)),
                    d::accepted_within_24h
                        .eq(d::accepted_within_24h + excluded(d::accepted_within_24h)),
                    d::created.eq(d::created + excluded(d::created)),
                    d::created_resolved.eq(d::created_resolved + excluded(d::created_resolved)),
                    d::first_resolved.eq(d::first_resolved + excluded(d::first_resolved)),
                    d::first_resolved_on_time
                        .eq(d::first_resolved_on_time + excluded(d::first_resolved_on_time)),
                    d::reopened.eq(d::reopened + excluded(d::reopened)),
                    d::rated.eq(d::rated + excluded(d::rated)),
                    d::rated_satisfied.eq(d::rated_satisfied + excluded(d::rated_satisfied)),
                    d::rating_sum.eq(d::rating_sum + excluded(d::rating_sum)),
                    d::overdue_resolved.eq(d::overdue_resolved + excluded(d::overdue_resolved)),
                    d::resolution_seconds
                        .eq(d::resolution_seconds + excluded(d::resolution_seconds)),
                ))
                .execute(c))?;
        }
        let open: Vec<_> = self.open_due.into_iter().filter(|(_, n)| *n != 0).collect();
        let rows: Vec<_> = open
            .iter()
            .map(|((village_id, day, unit_id, assignee_id), n)| {
                use work_order_open_due::dsl as o;
                (
                    o::village_id.eq(village_id),
                    o::due_day.eq(*day),
                    o::unit_id.eq(unit_id),
                    o::assignee_id.eq(assignee_id),
                    o::open_orders.eq(*n),
                )
            })
            .collect();
        for chunk in rows.chunks(1000) {
            use work_order_open_due::dsl as o;
            db_run!(conn, |c| diesel::insert_into(o::work_order_open_due)
                .values(chunk)
                .on_conflict((o::village_id, o::due_day, o::unit_id, o::assignee_id))
                .do_update()
                .set(o::open_orders.eq(o::open_orders + excluded(o::open_orders)))
                .execute(c))?;
        }
        // A day whose last open order closed is dropped, so that the table holds only days
        // with open orders.
        for ((village_id, day, unit_id, assignee_id), _) in open.iter().filter(|(_, n)| *n < 0) {
            use work_order_open_due::dsl as o;
            db_run!(conn, |c| diesel::delete(
                o::work_order_open_due
                    .find((village_id, *day, unit_id, assignee_id))
                    .filter(o::open_orders.le(0))
            )
            .execute(c))?;
        }
        Ok(())
    }
}

/// Makes sure the daily counts are kept in `tz`'s local days: when the server's time zone is
/// not the one they were counted in (or they were never counted, as after the migration
/// that added them), they are counted again from every order, in one transaction.
pub fn keep_daily_counts_in(conn: &mut DbConn, tz: Tz) -> ApiResult<()> {
    conn.write(|conn| {
        let counted_in: Option<String> = db_run!(conn, |c| settings::table
            .find(DAILY_ZONE)
            .select(settings::value)
            .first(c)
            .optional())?;
        if counted_in.as_deref() == Some(tz.name()) {
            return Ok(());
        }
        db_run!(conn, |c| {
            diesel::delete(work_order_daily::table).execute(c)?;
            diesel::delete(work_order_open_due::table).execute(c)
        })?;
        // Summed in memory (a row per group and day, far fewer than orders), then written
        // once: each row is inserted, never updated.
        let mut changes = DailyChanges::default();
        let mut after = String::new();
        loop {
            let page: Vec<WorkOrderRow> = db_run!(conn, |c| work_orders::table
                .filter(work_orders::id.gt(&after))
                .order(work_orders::id)
                .limit(5_000)
                .select(WorkOrderRow::as_select())
                .load(c))?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            for row in &page {
                changes.add(row, 1, tz);
            }
        }
        changes.store(conn)?;
        db_run!(conn, |c| diesel::insert_into(settings::table)
            .values((settings::key.eq(DAILY_ZONE), settings::value.eq(tz.name())))
            .on_conflict(settings::key)
            .do_update()
            .set(settings::value.eq(tz.name()))
            .execute(c))?;
        Ok(())
    })
}
