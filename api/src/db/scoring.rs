//! Scoring: schemes and their versions, ratings, recusals, adjustments, vetoes, closed
//! periods with their frozen rows, records, and the metrics of DESIGN §2.6 — one query per
//! family of numbers for a whole category.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};

use super::schema::{
    record_events, score_snapshots, scoring_adjustments, scoring_periods, scoring_ratings,
    scoring_records, scoring_recusals, scoring_scheme_versions, scoring_schemes, scoring_vetoes,
    users,
};
use super::{db_run, DbConn};
use crate::domain::compliance::{rates, DailyCounts};
use crate::domain::scoring::{Metric, MetricValues, OverdueCounting};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scoring_schemes)]
pub struct SchemeRow {
    pub id: String,
    pub name: String,
    pub cadre_category: String,
    pub period_kind: String,
    pub version: i32,
    pub body: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Stores a scheme's current version (new or changed) and keeps that version for the
/// periods scored with it. An active scheme retires the one active before it for the same
/// category and period kind.
/// Saves a scheme's new version; the schemes in `replaces` (active ones that would score the
/// same cadres) stop being active.
pub fn save_scheme(conn: &mut DbConn, row: &SchemeRow, replaces: &[String]) -> ApiResult<()> {
    db_run!(conn, |c| {
        if row.active && !replaces.is_empty() {
            diesel::update(
                scoring_schemes::table
                    .filter(scoring_schemes::id.eq_any(replaces))
                    .filter(scoring_schemes::id.ne(&row.id)),
            )
            .set(scoring_schemes::active.eq(false))
            .execute(c)?;
        }
        diesel::insert_into(scoring_schemes::table)
            .values(row)
            .on_conflict(scoring_schemes::id)
            .do_update()
            .set(row)
            .execute(c)?;
        diesel::insert_into(scoring_scheme_versions::table)
            .values((
                scoring_scheme_versions::scheme_id.eq(&row.id),
                scoring_scheme_versions::version.eq(row.version),
                scoring_scheme_versions::body.eq(&row.body),
                scoring_scheme_versions::created_at.eq(row.updated_at),
            ))
            .execute(c)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

pub fn find_scheme(conn: &mut DbConn, id: &str) -> ApiResult<Option<SchemeRow>> {
    Ok(db_run!(conn, |c| scoring_schemes::table
        .find(id)
        .select(SchemeRow::as_select())
        .first(c)
        .optional())?)
}

pub fn list_schemes(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<SchemeRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = scoring_schemes::table
            .select(SchemeRow::as_select())
            .order(scoring_schemes::id)
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(scoring_schemes::id.gt(after));
        }
        q.load(c)
    })?)
}

/// Some active scheme of a category and kind of period (there may be one per staff type).
pub fn active_scheme(
    conn: &mut DbConn,
    category: &str,
    period_kind: &str,
) -> ApiResult<Option<SchemeRow>> {
    Ok(active_schemes(conn, category, period_kind)?
        .into_iter()
        .next())
}

/// The active schemes of a category and kind of period, oldest first: one per set of staff
/// types they score.
pub fn active_schemes(
    conn: &mut DbConn,
    category: &str,
    period_kind: &str,
) -> ApiResult<Vec<SchemeRow>> {
    Ok(db_run!(conn, |c| scoring_schemes::table
        .filter(scoring_schemes::cadre_category.eq(category))
        .filter(scoring_schemes::period_kind.eq(period_kind))
        .filter(scoring_schemes::active.eq(true))
        .order((scoring_schemes::created_at, scoring_schemes::id))
        .select(SchemeRow::as_select())
        .load(c))?)
}

pub fn any_scheme(conn: &mut DbConn) -> ApiResult<bool> {
    Ok(db_run!(conn, |c| diesel::select(diesel::dsl::exists(
        scoring_schemes::table.select(scoring_schemes::id)
    ))
    .get_result(c))?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scoring_ratings)]
pub struct RatingRow {
    pub period: String,
    pub ratee_id: String,
    pub rater_id: String,
    pub rater_group: String,
    pub score: f64,
    pub updated_at: NaiveDateTime,
}

pub fn save_rating(conn: &mut DbConn, row: &RatingRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(scoring_ratings::table)
        .values(row)
        .on_conflict((
            scoring_ratings::period,
            scoring_ratings::ratee_id,
            scoring_ratings::rater_id
        ))
        .do_update()
        .set(row)
        .execute(c))?;
    Ok(())
}

/// Inserts many new ratings in multi-row statements (bulk loads: benchmarks).
pub fn insert_ratings(conn: &mut DbConn, rows: &[RatingRow]) -> ApiResult<()> {
    for chunk in rows.chunks(1000) {
        db_run!(conn, |c| diesel::insert_into(scoring_ratings::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Every rating of a period: (ratee, rater group, score).
pub fn ratings_of(conn: &mut DbConn, period: &str) -> ApiResult<Vec<(String, String, f64)>> {
    Ok(db_run!(conn, |c| scoring_ratings::table
        .filter(scoring_ratings::period.eq(period))
        .select((
            scoring_ratings::ratee_id,
            scoring_ratings::rater_group,
            scoring_ratings::score
        ))
        .load(c))?)
}

pub fn is_recused(conn: &mut DbConn, rater_id: &str, ratee_id: &str) -> ApiResult<bool> {
    Ok(db_run!(conn, |c| diesel::select(diesel::dsl::exists(
        scoring_recusals::table.find((rater_id, ratee_id))
    ))
    .get_result(c))?)
}

pub fn save_recusal(
    conn: &mut DbConn,
    (rater_id, ratee_id): (&str, &str),
    reason: &str,
    by: &str,
    at: NaiveDateTime,
) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(scoring_recusals::table)
        .values((
            scoring_recusals::rater_id.eq(rater_id),
            scoring_recusals::ratee_id.eq(ratee_id),
            scoring_recusals::reason.eq(reason),
            scoring_recusals::created_by.eq(by),
            scoring_recusals::created_at.eq(at),
        ))
        .on_conflict((scoring_recusals::rater_id, scoring_recusals::ratee_id))
        .do_update()
        .set((
            scoring_recusals::reason.eq(reason),
            scoring_recusals::created_by.eq(by),
            scoring_recusals::created_at.eq(at),
        ))
        .execute(c))?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scoring_adjustments)]
pub struct AdjustmentRow {
    pub id: String,
    pub user_id: String,
    pub period: String,
    pub centipoints: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
}

pub fn insert_adjustment(conn: &mut DbConn, row: &AdjustmentRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(scoring_adjustments::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn find_adjustment(conn: &mut DbConn, id: &str) -> ApiResult<Option<AdjustmentRow>> {
    Ok(db_run!(conn, |c| scoring_adjustments::table
        .find(id)
        .select(AdjustmentRow::as_select())
        .first(c)
        .optional())?)
}

/// Adjustments of a period for users under a subtree (path prefix; all when `None`), pending
/// ones only or all, in id order.
pub fn list_adjustments(
    conn: &mut DbConn,
    period: &str,
    within: Option<&str>,
    pending_only: bool,
    after: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<AdjustmentRow>> {
    use super::schema::org_units;
    let within = within.map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = scoring_adjustments::table
            .filter(scoring_adjustments::period.eq(period))
            .select(AdjustmentRow::as_select())
            .order(scoring_adjustments::id)
            .limit(limit)
            .into_boxed();
        if let Some(prefix) = &within {
            q = q.filter(
                scoring_adjustments::user_id.eq_any(
                    users::table
                        .inner_join(org_units::table)
                        .filter(org_units::path.like(prefix))
                        .select(users::id),
                ),
            );
        }
        if pending_only {
            q = q.filter(scoring_adjustments::approved_by.is_null());
        }
        if let Some(after) = after {
            q = q.filter(scoring_adjustments::id.gt(after));
        }
        q.load(c)
    })?)
}

/// Signs an adjustment off; false when someone did already.
pub fn approve_adjustment(
    conn: &mut DbConn,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        scoring_adjustments::table
            .find(id)
            .filter(scoring_adjustments::approved_by.is_null())
    )
    .set((
        scoring_adjustments::approved_by.eq(by),
        scoring_adjustments::approved_at.eq(at),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// The approved adjustments of a period: (user, centipoints).
pub fn approved_adjustments(conn: &mut DbConn, period: &str) -> ApiResult<Vec<(String, i64)>> {
    Ok(db_run!(conn, |c| scoring_adjustments::table
        .filter(scoring_adjustments::period.eq(period))
        .filter(scoring_adjustments::approved_by.is_not_null())
        .select((
            scoring_adjustments::user_id,
            scoring_adjustments::centipoints
        ))
        .load(c))?)
}

/// One user's adjustments of a period, approved or not, in the order they were proposed.
pub fn adjustments_of_user(
    conn: &mut DbConn,
    user_id: &str,
    period: &str,
) -> ApiResult<Vec<AdjustmentRow>> {
    Ok(db_run!(conn, |c| scoring_adjustments::table
        .filter(scoring_adjustments::user_id.eq(user_id))
        .filter(scoring_adjustments::period.eq(period))
        .order((scoring_adjustments::created_at, scoring_adjustments::id))
        .select(AdjustmentRow::as_select())
        .load(c))?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scoring_vetoes)]
pub struct VetoRow {
    pub id: String,
    pub user_id: String,
    pub period: String,
    pub area: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// The second signature: counted from then on.
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub withdrawal_reason: Option<String>,
    pub withdrawal_requested_by: Option<String>,
    pub withdrawal_requested_at: Option<NaiveDateTime>,
    /// The withdrawal's second signature: no longer counted.
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
}

pub fn insert_veto(conn: &mut DbConn, row: &VetoRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(scoring_vetoes::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// The vetoes of a period that count — approved and not withdrawn: (user, area).
pub fn vetoes_of(conn: &mut DbConn, period: &str) -> ApiResult<Vec<(String, String)>> {
    Ok(db_run!(conn, |c| scoring_vetoes::table
        .filter(scoring_vetoes::period.eq(period))
        .filter(scoring_vetoes::approved_by.is_not_null())
        .filter(scoring_vetoes::withdrawn_by.is_null())
        .select((scoring_vetoes::user_id, scoring_vetoes::area))
        .load(c))?)
}

/// One user's vetoes of a period in every state, in the order they were proposed.
pub fn vetoes_of_user(conn: &mut DbConn, user_id: &str, period: &str) -> ApiResult<Vec<VetoRow>> {
    Ok(db_run!(conn, |c| scoring_vetoes::table
        .filter(scoring_vetoes::user_id.eq(user_id))
        .filter(scoring_vetoes::period.eq(period))
        .order((scoring_vetoes::created_at, scoring_vetoes::id))
        .select(VetoRow::as_select())
        .load(c))?)
}

/// When the period was closed, if it was.
pub fn closed_at(conn: &mut DbConn, period: &str) -> ApiResult<Option<NaiveDateTime>> {
    Ok(db_run!(conn, |c| scoring_periods::table
        .find(period)
        .select(scoring_periods::closed_at)
        .first(c)
        .optional())?)
}

/// Every period closed so far (a few a year).
pub fn closed_periods(conn: &mut DbConn) -> ApiResult<Vec<String>> {
    Ok(db_run!(conn, |c| scoring_periods::table
        .select(scoring_periods::period)
        .load(c))?)
}

/// Marks the period closed; false when it already was.
pub fn close_period(
    conn: &mut DbConn,
    period: &str,
    at: NaiveDateTime,
    by: &str,
) -> ApiResult<bool> {
    let inserted = db_run!(conn, |c| diesel::insert_into(scoring_periods::table)
        .values((
            scoring_periods::period.eq(period),
            scoring_periods::closed_at.eq(at),
            scoring_periods::closed_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = score_snapshots)]
pub struct SnapshotRow {
    pub period: String,
    pub user_id: String,
    pub cadre_category: String,
    pub scheme_id: String,
    pub scheme_version: i32,
    pub rank: i32,
    pub bottom_streak: i32,
    pub body: String,
}

pub fn insert_snapshots(conn: &mut DbConn, rows: &[SnapshotRow]) -> ApiResult<()> {
    for chunk in rows.chunks(500) {
        db_run!(conn, |c| diesel::insert_into(score_snapshots::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// A closed period's frozen rows of one category, best first.
pub fn snapshots(conn: &mut DbConn, period: &str, category: &str) -> ApiResult<Vec<SnapshotRow>> {
    Ok(db_run!(conn, |c| score_snapshots::table
        .filter(score_snapshots::period.eq(period))
        .filter(score_snapshots::cadre_category.eq(category))
        .order((score_snapshots::rank, score_snapshots::user_id))
        .select(SnapshotRow::as_select())
        .load(c))?)
}

/// The unit paths of the cadres frozen in a closed period's rows of one category.
pub fn snapshot_paths(
    conn: &mut DbConn,
    period: &str,
    category: &str,
) -> ApiResult<HashMap<String, String>> {
    use super::schema::org_units;
    Ok(db_run!(conn, |c| score_snapshots::table
        .inner_join(users::table.inner_join(org_units::table))
        .filter(score_snapshots::period.eq(period))
        .filter(score_snapshots::cadre_category.eq(category))
        .select((score_snapshots::user_id, org_units::path))
        .load::<(String, String)>(c))?
    .into_iter()
    .collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scoring_records)]
pub struct RecordRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub period: String,
    pub reason: String,
    pub rectify_by: Option<NaiveDate>,
    pub evidence: Option<String>,
    pub cleared_at: Option<NaiveDateTime>,
    pub cleared_by: Option<String>,
    pub created_at: NaiveDateTime,
    /// open, pending_verification or cleared (expired is read from the date).
    pub status: String,
}

pub fn insert_records(conn: &mut DbConn, rows: &[RecordRow]) -> ApiResult<()> {
    for chunk in rows.chunks(500) {
        db_run!(conn, |c| diesel::insert_into(scoring_records::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

pub fn find_record(conn: &mut DbConn, id: &str) -> ApiResult<Option<RecordRow>> {
    Ok(db_run!(conn, |c| scoring_records::table
        .find(id)
        .select(RecordRow::as_select())
        .first(c)
        .optional())?)
}

/// Records of one user, or of every user under a subtree (path prefix), in id order.
pub fn list_records(
    conn: &mut DbConn,
    user_id: Option<&str>,
    within: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<RecordRow>> {
    let within = within.map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = scoring_records::table
            .select(RecordRow::as_select())
            .order(scoring_records::id)
            .limit(limit)
            .into_boxed();
        if let Some(user) = user_id {
            q = q.filter(scoring_records::user_id.eq(user));
        }
        if let Some(prefix) = &within {
            q = q.filter(
                scoring_records::user_id.eq_any(
                    users::table
                        .inner_join(super::schema::org_units::table)
                        .filter(super::schema::org_units::path.like(prefix))
                        .select(users::id),
                ),
            );
        }
        if let Some(after) = after {
            q = q.filter(scoring_records::id.gt(after));
        }
        q.load(c)
    })?)
}

/// Moves a record from status `from` to `to`, with the evidence submitted (rectified) or the
/// clearing (approved); false when someone moved it meanwhile.
pub fn move_record(
    conn: &mut DbConn,
    id: &str,
    (from, to): (&str, &str),
    evidence: Option<&str>,
    cleared: Option<(&str, NaiveDateTime)>,
) -> ApiResult<bool> {
    let target = scoring_records::table
        .find(id)
        .filter(scoring_records::status.eq(from));
    let changed = db_run!(conn, |c| match (evidence, cleared) {
        (Some(evidence), _) => diesel::update(target)
            .set((
                scoring_records::status.eq(to),
                scoring_records::evidence.eq(evidence),
            ))
            .execute(c),
        (None, Some((by, at))) => diesel::update(target)
            .set((
                scoring_records::status.eq(to),
                scoring_records::cleared_at.eq(at),
                scoring_records::cleared_by.eq(by),
            ))
            .execute(c),
        (None, None) => diesel::update(target)
            .set(scoring_records::status.eq(to))
            .execute(c),
    })?;
    Ok(changed == 1)
}

/// One step of a record's 销号, never changed once written.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = record_events)]
pub struct RecordEventRow {
    pub id: String,
    pub record_id: String,
    pub at: NaiveDateTime,
    pub actor_id: String,
    pub action: String,
    pub note: Option<String>,
    pub evidence: Option<String>,
    /// A JSON array of media ids.
    pub photo_ids: Option<String>,
}

impl RecordEventRow {
    pub fn photos(&self) -> Option<Vec<String>> {
        self.photo_ids
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
    }
}

pub fn insert_record_event(conn: &mut DbConn, row: &RecordEventRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(record_events::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// The steps of these records with their actor's name, oldest first.
pub fn record_events_of(
    conn: &mut DbConn,
    record_ids: &[String],
) -> ApiResult<Vec<(RecordEventRow, String)>> {
    if record_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(db_run!(conn, |c| record_events::table
        .inner_join(users::table)
        .filter(record_events::record_id.eq_any(record_ids))
        .order((record_events::at, record_events::id))
        .select((RecordEventRow::as_select(), users::name))
        .load(c))?)
}

/// Users with a record of `kind` for `period`.
pub fn users_with_record(
    conn: &mut DbConn,
    period: &str,
    kind: &str,
) -> ApiResult<HashSet<String>> {
    Ok(db_run!(conn, |c| scoring_records::table
        .filter(scoring_records::period.eq(period))
        .filter(scoring_records::kind.eq(kind))
        .select(scoring_records::user_id)
        .load::<String>(c))?
    .into_iter()
    .collect())
}

/// Per user, over the periods of `year`: (achievement records, problem records not cleared).
pub fn year_record_counts(conn: &mut DbConn, year: i32) -> ApiResult<HashMap<String, (u32, u32)>> {
    let rows: Vec<(String, String, Option<NaiveDateTime>)> =
        db_run!(conn, |c| scoring_records::table
            .filter(scoring_records::period.like(format!("{year}%")))
            .select((
                scoring_records::user_id,
                scoring_records::kind,
                scoring_records::cleared_at
            ))
            .load(c))?;
    let mut counts: HashMap<String, (u32, u32)> = HashMap::new();
    for (user, kind, cleared) in rows {
        let entry = counts.entry(user).or_default();
        match kind.as_str() {
            "achievement" => entry.0 += 1,
            "problem" if cleared.is_none() => entry.1 += 1,
            _ => {}
        }
    }
    Ok(counts)
}

/// The previous closed period's bottom streaks, for the consecutive-statement rule.
pub fn bottom_streaks(conn: &mut DbConn, period: &str) -> ApiResult<HashMap<String, u32>> {
    Ok(db_run!(conn, |c| score_snapshots::table
        .filter(score_snapshots::period.eq(period))
        .filter(score_snapshots::bottom_streak.gt(0))
        .select((score_snapshots::user_id, score_snapshots::bottom_streak))
        .load::<(String, i32)>(c))?
    .into_iter()
    .map(|(u, n)| (u, u32::try_from(n).unwrap_or(0)))
    .collect())
}

/// The cadres of a category, as scored: (id, name, org unit path).
/// The active cadres of a category: (id, name, unit path, staff type as set).
pub fn cadres_of(conn: &mut DbConn, category: &str) -> ApiResult<Vec<Cadre>> {
    use super::schema::org_units;
    Ok(db_run!(conn, |c| users::table
        .inner_join(org_units::table)
        .filter(users::role.eq("cadre"))
        .filter(users::active.eq(true))
        .filter(users::cadre_category.eq(category))
        .order(users::id)
        .select((users::id, users::name, org_units::path, users::staff_type))
        .load(c))?)
}

pub type Cadre = (String, String, String, Option<String>);

/// The paths of every town: a cadre whose unit path starts with one belongs to that town
/// (its villages, communities and departments included).
pub fn town_paths(conn: &mut DbConn) -> ApiResult<HashSet<String>> {
    use super::schema::org_units;
    Ok(db_run!(conn, |c| org_units::table
        .filter(org_units::kind.eq("town"))
        .select(org_units::path)
        .load::<String>(c))?
    .into_iter()
    .collect())
}

/// The bounds of a period: its local days, the UTC instants of their start and end, and the
/// instant "overdue" is judged at (the period's end, or now while it runs).
#[derive(Debug, Clone, Copy)]
pub struct PeriodBounds {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub cutoff: NaiveDateTime,
}

#[derive(Debug, QueryableByName)]
struct CheckinCount {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    standing: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug, QueryableByName)]
struct UserCount {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug, QueryableByName)]
struct AssigneeDays {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = BigInt)]
    assigned: i64,
    #[diesel(sql_type = BigInt)]
    accepted_within_24h: i64,
    #[diesel(sql_type = BigInt)]
    first_resolved: i64,
    #[diesel(sql_type = BigInt)]
    first_resolved_on_time: i64,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = BigInt)]
    rating_sum: i64,
    #[diesel(sql_type = BigInt)]
    overdue_resolved: i64,
}

const COUNTS: &str = "('accepted', 'approved')";

/// Orders assigned to a cadre that were overdue at the cutoff: due before it and not resolved
/// by then (or open again now, reopened by an unsatisfied reporter).
const OVERDUE_AT_CUTOFF: &str = "w.assignee_id IS NOT NULL AND w.due_at < $1
    AND w.status <> 'rejected'
    AND (w.first_resolved_at IS NULL OR w.first_resolved_at > $1
         OR w.status IN ('submitted', 'assigned', 'in_progress', 'reopened'))";

/// Orders assigned to a cadre whose deadline passed from `$1` to the cutoff `$2` without
/// them resolved by it: each counts once, in the period its deadline passed in.
const WENT_OVERDUE: &str = "w.assignee_id IS NOT NULL AND w.due_at >= $1 AND w.due_at < $2
    AND w.status <> 'rejected'
    AND (w.resolved_at IS NULL OR w.resolved_at > w.due_at
         OR w.status IN ('submitted', 'assigned', 'in_progress', 'reopened'))";

/// The days each user kept a work log from `$1` to `$2`: a 工作日志 entry, or a counting
/// `work_log` check-in of the older clients — one day counted once.
const LOG_DAYS: &str = "SELECT l.user_id AS user_id, l.log_date AS day FROM work_logs l
        WHERE l.log_date >= $1 AND l.log_date <= $2
    UNION
    SELECT c.user_id AS user_id, c.night_date AS day FROM checkins c
        WHERE c.kind = 'work_log' AND c.status IN ('accepted', 'approved')
          AND c.night_date >= $1 AND c.night_date <= $2";

/// Which orders filed by `w.created_by` count as collected: an order resolved on the spot
/// only once confirmed by a supervisor or closed by its reporter's rating of 60 or more, and
/// only in one of the filer's own villages — else anyone could file their way up the ranks.
const COLLECTED_COUNTS: &str = "(NOT w.resolved_on_spot OR (
        (w.confirmed_at IS NOT NULL OR (w.status = 'closed' AND w.rating >= 60))
        AND EXISTS (SELECT 1 FROM user_villages uv
                    WHERE uv.user_id = w.created_by AND uv.village_id = w.village_id)))";

/// The metrics of DESIGN §2.6 for every user in `who`, one query per family: check-ins,
/// stays, orders collected, orders handled (from the daily counts), orders overdue.
pub fn metrics(
    conn: &mut DbConn,
    who: &HashSet<String>,
    b: &PeriodBounds,
    overdue_counting: OverdueCounting,
) -> ApiResult<HashMap<String, MetricValues>> {
    let every_period = overdue_counting == OverdueCounting::EveryPeriod;
    let checkins_sql = format!(
        "SELECT c.user_id AS user_id, c.kind AS kind,
                CASE WHEN c.status IN {COUNTS} THEN 'counts' ELSE c.status END AS standing,
                COUNT(*) AS n
         FROM checkins c WHERE c.night_date >= $1 AND c.night_date <= $2
         GROUP BY c.user_id, c.kind, CASE WHEN c.status IN {COUNTS} THEN 'counts' ELSE c.status END"
    );
    let stays_sql = format!(
        "SELECT s.user_id AS user_id, COUNT(*) AS n
         FROM stays s JOIN checkins a ON a.id = s.start_id JOIN checkins e ON e.id = s.end_id
         WHERE s.night_date >= $1 AND s.night_date <= $2 AND a.status IN {COUNTS} AND e.status IN {COUNTS}
         GROUP BY s.user_id"
    );
    let collected_sql = format!(
        "SELECT w.created_by AS user_id, COUNT(*) AS n FROM work_orders w
         WHERE w.created_at >= $1 AND w.created_at < $2 AND w.created_by IS NOT NULL
           AND {COLLECTED_COUNTS}
         GROUP BY w.created_by"
    );
    let sum = |c: &str| format!("CAST(COALESCE(SUM(d.{c}), 0) AS BIGINT) AS {c}");
    let handled_sql = format!(
        "SELECT d.assignee_id AS user_id, {}, {}, {}, {}, {}, {}, {}
         FROM work_order_daily d WHERE d.day >= $1 AND d.day <= $2 AND d.assignee_id <> ''
         GROUP BY d.assignee_id",
        sum("assigned"),
        sum("accepted_within_24h"),
        sum("first_resolved"),
        sum("first_resolved_on_time"),
        sum("rated"),
        sum("rating_sum"),
        sum("overdue_resolved"),
    );
    let overdue_sql = if every_period {
        format!(
            "SELECT w.assignee_id AS user_id, COUNT(*) AS n FROM work_orders w
             WHERE {OVERDUE_AT_CUTOFF} GROUP BY w.assignee_id"
        )
    } else {
        format!(
            "SELECT w.assignee_id AS user_id, COUNT(*) AS n FROM work_orders w
             WHERE {WENT_OVERDUE} GROUP BY w.assignee_id"
        )
    };
    let logged_sql = format!(
        "SELECT d.user_id AS user_id, COUNT(*) AS n FROM ({LOG_DAYS}) d GROUP BY d.user_id"
    );
    let (checkins, stays, collected, handled, overdue, logged) = db_run!(conn, |c| {
        let checkins: Vec<CheckinCount> = diesel::sql_query(checkins_sql.as_str())
            .bind::<Date, _>(b.first)
            .bind::<Date, _>(b.last)
            .load(c)?;
        let stays: Vec<UserCount> = diesel::sql_query(stays_sql.as_str())
            .bind::<Date, _>(b.first)
            .bind::<Date, _>(b.last)
            .load(c)?;
        let collected: Vec<UserCount> = diesel::sql_query(collected_sql.as_str())
            .bind::<Timestamp, _>(b.start)
            .bind::<Timestamp, _>(b.end)
            .load(c)?;
        let handled: Vec<AssigneeDays> = diesel::sql_query(handled_sql.as_str())
            .bind::<Date, _>(b.first)
            .bind::<Date, _>(b.last)
            .load(c)?;
        let overdue: Vec<UserCount> = if every_period {
            diesel::sql_query(overdue_sql.as_str())
                .bind::<Timestamp, _>(b.cutoff)
                .load(c)?
        } else {
            diesel::sql_query(overdue_sql.as_str())
                .bind::<Timestamp, _>(b.start)
                .bind::<Timestamp, _>(b.cutoff)
                .load(c)?
        };
        let logged: Vec<UserCount> = diesel::sql_query(logged_sql.as_str())
            .bind::<Date, _>(b.first)
            .bind::<Date, _>(b.last)
            .load(c)?;
        Ok::<_, diesel::result::Error>((checkins, stays, collected, handled, overdue, logged))
    })?;

    let mut values: HashMap<String, MetricValues> = who
        .iter()
        .map(|u| (u.clone(), MetricValues::default()))
        .collect();
    let count = |n: i64| Some(n as f64);
    let mut add = |user: &str, metric: Metric, n: f64| {
        if let Some(v) = values.get_mut(user) {
            let before = v.get(metric).unwrap_or(0.0);
            v.set(metric, Some(before + n));
        }
    };
    for r in &checkins {
        let night = match r.kind.as_str() {
            "night_study" => Some(Metric::NightStudy),
            "night_visit" => Some(Metric::NightVisit),
            "night_discussion" => Some(Metric::NightDiscussion),
            "night_help" => Some(Metric::NightHelp),
            _ => None,
        };
        match (r.standing.as_str(), night, r.kind.as_str()) {
            ("counts", Some(metric), _) => {
                add(&r.user_id, metric, r.n as f64);
                add(&r.user_id, Metric::FourNights, r.n as f64);
            }
            ("rejected", _, _) => add(&r.user_id, Metric::RejectedCheckins, r.n as f64),
            _ => {}
        }
    }
    for r in &stays {
        add(&r.user_id, Metric::Stays, r.n as f64);
    }
    for r in &logged {
        add(&r.user_id, Metric::WorkLogDays, r.n as f64);
    }
    for r in &collected {
        add(&r.user_id, Metric::WorkOrdersCollected, r.n as f64);
    }
    for r in &overdue {
        add(&r.user_id, Metric::WorkOrdersOverdue, r.n as f64);
    }
    for r in &handled {
        let Some(v) = values.get_mut(&r.user_id) else {
            continue;
        };
        let days = DailyCounts {
            assigned: r.assigned,
            accepted_within_24h: r.accepted_within_24h,
            first_resolved: r.first_resolved,
            first_resolved_on_time: r.first_resolved_on_time,
            rated: r.rated,
            rating_sum: r.rating_sum,
            overdue_resolved: r.overdue_resolved,
            ..DailyCounts::default()
        };
        let rates = rates(&days.into_counts(0));
        v.set(Metric::WorkOrdersResolved, count(r.first_resolved));
        v.set(Metric::WorkOrdersOnTimeRate, rates.on_time_rate);
        v.set(Metric::ResponseRate, rates.response_rate);
        v.set(
            Metric::AvgSatisfaction,
            rates.avg_satisfaction.map(|s| s / 100.0),
        );
        if every_period {
            let overdue = v.get(Metric::WorkOrdersOverdue).unwrap_or(0.0);
            v.set(
                Metric::WorkOrdersOverdue,
                Some(overdue + r.overdue_resolved as f64),
            );
        }
    }
    Ok(values)
}

#[derive(Debug, QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The line of a breakdown whose records are asked for: its metric, and for a manual
/// indicator its code and the period the value was entered for.
#[derive(Debug, Clone, Copy)]
pub struct LineOf<'a> {
    pub metric: Metric,
    pub code: &'a str,
    /// `2026-11`, `2026-Q4`, `2026`.
    pub period: &'a str,
}

/// The ids of the records one line of one user was counted from (at most 500): check-ins,
/// stays, logs, orders, or the approved manual value of the line's code.
pub fn evidence(
    conn: &mut DbConn,
    user_id: &str,
    line: LineOf<'_>,
    b: &PeriodBounds,
    overdue_counting: OverdueCounting,
) -> ApiResult<Vec<String>> {
    let metric = line.metric;
    if metric == Metric::Manual {
        return super::manual_values::approved_ids(conn, user_id, line.period, line.code);
    }
    let checkins = |kinds: &str, statuses: &str| {
        format!(
            "SELECT c.id AS id FROM checkins c WHERE c.user_id = $1 AND c.night_date >= $2
             AND c.night_date <= $3 AND c.kind IN {kinds} AND c.status IN {statuses}
             ORDER BY c.recorded_at, c.id LIMIT 500"
        )
    };
    let orders = |condition: &str| {
        format!(
            "SELECT w.id AS id FROM work_orders w WHERE w.assignee_id = $1 AND {condition}
             ORDER BY w.created_at, w.id LIMIT 500"
        )
    };
    enum Binds {
        Days,
        Instants,
        Cutoff,
        Lapsed,
    }
    let all_nights = "('night_study', 'night_visit', 'night_discussion', 'night_help')";
    let (sql, binds) = match metric {
        Metric::NightStudy => (checkins("('night_study')", COUNTS), Binds::Days),
        Metric::NightVisit => (checkins("('night_visit')", COUNTS), Binds::Days),
        Metric::NightDiscussion => (checkins("('night_discussion')", COUNTS), Binds::Days),
        Metric::NightHelp => (checkins("('night_help')", COUNTS), Binds::Days),
        Metric::FourNights => (checkins(all_nights, COUNTS), Binds::Days),
        Metric::WorkLogDays => (
            format!(
                "SELECT l.id AS id FROM work_logs l WHERE l.user_id = $1 AND l.log_date >= $2
                 AND l.log_date <= $3
                 UNION ALL
                 SELECT c.id AS id FROM checkins c WHERE c.user_id = $1 AND c.night_date >= $2
                 AND c.night_date <= $3 AND c.kind = 'work_log' AND c.status IN {COUNTS}
                 LIMIT 500"
            ),
            Binds::Days,
        ),
        Metric::RejectedCheckins => (
            "SELECT c.id AS id FROM checkins c WHERE c.user_id = $1 AND c.night_date >= $2
             AND c.night_date <= $3 AND c.status = 'rejected' ORDER BY c.recorded_at, c.id LIMIT 500"
                .to_string(),
            Binds::Days,
        ),
        Metric::Stays => (
            format!(
                "SELECT s.id AS id FROM stays s JOIN checkins a ON a.id = s.start_id
                 JOIN checkins e ON e.id = s.end_id WHERE s.user_id = $1 AND s.night_date >= $2
                 AND s.night_date <= $3 AND a.status IN {COUNTS} AND e.status IN {COUNTS}
                 ORDER BY s.night_date, s.id LIMIT 500"
            ),
            Binds::Days,
        ),
        Metric::WorkOrdersCollected => (
            format!(
                "SELECT w.id AS id FROM work_orders w WHERE w.created_by = $1 AND w.created_at >= $2
                 AND w.created_at < $3 AND {COLLECTED_COUNTS} ORDER BY w.created_at, w.id LIMIT 500"
            ),
            Binds::Instants,
        ),
        Metric::WorkOrdersResolved | Metric::WorkOrdersOnTimeRate => (
            orders("w.first_resolved_at >= $2 AND w.first_resolved_at < $3"),
            Binds::Instants,
        ),
        Metric::ResponseRate => (
            orders("w.assigned_at >= $2 AND w.assigned_at < $3"),
            Binds::Instants,
        ),
        Metric::AvgSatisfaction => (
            orders("w.rated_at >= $2 AND w.rated_at < $3 AND w.rating IS NOT NULL"),
            Binds::Instants,
        ),
        Metric::WorkOrdersOverdue if overdue_counting == OverdueCounting::Once => (
            format!(
                "SELECT w.id AS id FROM work_orders w WHERE {WENT_OVERDUE} AND w.assignee_id = $3
                 ORDER BY w.created_at, w.id LIMIT 500"
            ),
            Binds::Lapsed,
        ),
        Metric::WorkOrdersOverdue => (
            // SQLite numbers `$n` parameters in order of first appearance: keep them in order.
            format!(
                "SELECT w.id AS id FROM work_orders w WHERE (({OVERDUE_AT_CUTOFF})
                 OR (w.first_resolved_at >= $2 AND w.first_resolved_at < $3
                     AND w.first_resolved_at > w.original_due_at))
                 AND w.assignee_id = $4
                 ORDER BY w.created_at, w.id LIMIT 500"
            ),
            Binds::Cutoff,
        ),
        Metric::Manual => return Ok(Vec::new()),
    };
    let ids: Vec<Id> = db_run!(conn, |c| match binds {
        Binds::Days => diesel::sql_query(sql.as_str())
            .bind::<Text, _>(user_id)
            .bind::<Date, _>(b.first)
            .bind::<Date, _>(b.last)
            .load(c),
        Binds::Instants => diesel::sql_query(sql.as_str())
            .bind::<Text, _>(user_id)
            .bind::<Timestamp, _>(b.start)
            .bind::<Timestamp, _>(b.end)
            .load(c),
        Binds::Cutoff => diesel::sql_query(sql.as_str())
            .bind::<Timestamp, _>(b.cutoff)
            .bind::<Timestamp, _>(b.start)
            .bind::<Timestamp, _>(b.end)
            .bind::<Text, _>(user_id)
            .load(c),
        Binds::Lapsed => diesel::sql_query(sql.as_str())
            .bind::<Timestamp, _>(b.start)
            .bind::<Timestamp, _>(b.cutoff)
            .bind::<Text, _>(user_id)
            .load(c),
    })?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

/// A staff member (cadre or supervisor) whose unit lies under `town_path`: (role, rater group,
/// unit path); `None` when there is no such person there.
pub fn staff_in(
    conn: &mut DbConn,
    user_id: &str,
    town_path: &str,
) -> ApiResult<Option<(String, Option<String>, String)>> {
    use super::schema::org_units;
    let prefix = format!("{town_path}%");
    Ok(db_run!(conn, |c| users::table
        .inner_join(org_units::table)
        .filter(users::id.eq(user_id))
        .filter(users::role.eq_any(["cadre", "supervisor"]))
        .filter(users::active.eq(true))
        .filter(org_units::path.like(&prefix))
        .select((users::role, users::rater_group, org_units::path))
        .first::<(String, Option<String>, String)>(c)
        .optional())?)
}

/// Filters of the desk's list of records; rows come newest first, before `before`.
#[derive(Debug, Default)]
pub struct RecordFilter {
    pub kind: Option<String>,
    pub period: Option<String>,
    /// Only records of users whose unit lies in this subtree (a path prefix).
    pub within: Option<String>,
    pub before: Option<String>,
    pub limit: i64,
}

/// Records with their cadre's name and unit name, for people to read.
pub fn records_with_names(
    conn: &mut DbConn,
    f: &RecordFilter,
) -> ApiResult<Vec<(RecordRow, String, String)>> {
    use super::schema::org_units;
    let within = f.within.as_ref().map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = scoring_records::table
            .inner_join(users::table.on(users::id.eq(scoring_records::user_id)))
            .inner_join(org_units::table.on(users::org_unit_id.eq(org_units::id.nullable())))
            .select((RecordRow::as_select(), users::name, org_units::name))
            .order(scoring_records::id.desc())
            .limit(f.limit)
            .into_boxed();
        if let Some(kind) = &f.kind {
            q = q.filter(scoring_records::kind.eq(kind));
        }
        if let Some(period) = &f.period {
            q = q.filter(scoring_records::period.eq(period));
        }
        if let Some(prefix) = &within {
            q = q.filter(org_units::path.like(prefix));
        }
        if let Some(before) = &f.before {
            q = q.filter(scoring_records::id.lt(before));
        }
        q.load(c)
    })?)
}

/// The staff (cadres and supervisors, active) whose unit lies under `town_path` — the people
/// `PUT /scoring/ratings` accepts as ratees there (see `staff_in`): (id, name, cadre category).
pub fn staff_of_town(
    conn: &mut DbConn,
    town_path: &str,
) -> ApiResult<Vec<(String, String, Option<String>)>> {
    use super::schema::org_units;
    let prefix = format!("{town_path}%");
    Ok(db_run!(conn, |c| users::table
        .inner_join(org_units::table)
        .filter(users::role.eq_any(["cadre", "supervisor"]))
        .filter(users::active.eq(true))
        .filter(org_units::path.like(&prefix))
        .order(users::id)
        .select((users::id, users::name, users::cadre_category))
        .load(c))?)
}

/// The ratings one rater gave in a period: (ratee, score).
pub fn ratings_by(
    conn: &mut DbConn,
    rater_id: &str,
    period: &str,
) -> ApiResult<Vec<(String, f64)>> {
    Ok(db_run!(conn, |c| scoring_ratings::table
        .filter(scoring_ratings::rater_id.eq(rater_id))
        .filter(scoring_ratings::period.eq(period))
        .select((scoring_ratings::ratee_id, scoring_ratings::score))
        .load(c))?)
}

/// The colleagues one rater is recused from rating (回避).
pub fn recused_from(conn: &mut DbConn, rater_id: &str) -> ApiResult<HashSet<String>> {
    Ok(db_run!(conn, |c| scoring_recusals::table
        .filter(scoring_recusals::rater_id.eq(rater_id))
        .select(scoring_recusals::ratee_id)
        .load::<String>(c))?
    .into_iter()
    .collect())
}

/// Every org unit of a kind (`town`, `department`): (id, name, path).
pub fn units_of_kind(conn: &mut DbConn, kind: &str) -> ApiResult<Vec<(String, String, String)>> {
    use super::schema::org_units;
    Ok(db_run!(conn, |c| org_units::table
        .filter(org_units::kind.eq(kind))
        .order(org_units::id)
        .select((org_units::id, org_units::name, org_units::path))
        .load(c))?)
}
