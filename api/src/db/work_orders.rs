//! Work orders, their append-only timeline and photos, and the daily code counter.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use minqing_protocol::{WorkOrder, WorkOrderStatus};

use super::compliance::DailyChanges;
use super::models::{parse_enum, utc};
use super::schema::{
    daily_counters, org_units, users, work_order_confirmations, work_order_events,
    work_order_extensions, work_order_photos, work_order_secrets, work_orders,
};
use super::{db_run, substr_len, DbConn};
use crate::domain::access::OrderFacts;
use crate::domain::people::mask_phone;
use crate::domain::work_order::is_overdue;
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = work_orders, treat_none_as_null = true)]
pub struct WorkOrderRow {
    pub id: String,
    pub code: String,
    pub tracking_token_hash: String,
    pub category: String,
    pub title: String,
    pub description: String,
    pub village_id: String,
    pub org_path: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub source: String,
    pub reporter_id: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub created_by: Option<String>,
    pub status: String,
    pub resolved_on_spot: bool,
    pub unit_id: Option<String>,
    pub assignee_id: Option<String>,
    pub commitment: Option<String>,
    pub assigned_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub original_due_at: Option<NaiveDateTime>,
    pub first_resolved_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub rating: Option<i32>,
    pub rated_at: Option<NaiveDateTime>,
    pub reopen_count: i32,
    pub request_hash: Option<String>,
    pub created_at: NaiveDateTime,
}

impl WorkOrderRow {
    /// The order as the API shows it; the reporter's phone is masked unless `full_phone`.
    pub fn to_wire(
        &self,
        photo_ids: Vec<String>,
        full_phone: bool,
        now: DateTime<Utc>,
    ) -> ApiResult<WorkOrder> {
        let row = self;
        let status: WorkOrderStatus = parse_enum(&row.status)?;
        Ok(WorkOrder {
            id: row.id.clone(),
            code: row.code.clone(),
            category: row.category.clone(),
            title: row.title.clone(),
            description: row.description.clone(),
            village_id: row.village_id.clone(),
            lat: row.lat,
            lon: row.lon,
            address: row.address.clone(),
            source: parse_enum(&row.source)?,
            status,
            resolved_on_spot: row.resolved_on_spot,
            unit_id: row.unit_id.clone(),
            assignee_id: row.assignee_id.clone(),
            commitment: row.commitment.clone(),
            due_at: row.due_at.map(utc),
            original_due_at: row.original_due_at.map(utc),
            overdue: is_overdue(status, row.due_at.map(utc), now),
            reporter_name: row.reporter_name.clone(),
            reporter_phone: row.reporter_phone.as_deref().map(|p| {
                if full_phone {
                    p.to_string()
                } else {
                    mask_phone(p)
                }
            }),
            photo_ids,
            created_at: utc(row.created_at),
            resolved_at: row.resolved_at.map(utc),
            rating: row.rating.and_then(|r| u8::try_from(r).ok()),
        })
    }

    /// The people the order concerns, for authorization.
    pub fn facts(&self) -> OrderFacts<'_> {
        OrderFacts {
            org_path: &self.org_path,
            unit_id: self.unit_id.as_deref(),
            assignee_id: self.assignee_id.as_deref(),
            reporter_id: self.reporter_id.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = work_order_events)]
pub struct EventRow {
    pub id: String,
    pub work_order_id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_kind: String,
    pub kind: String,
    pub note: Option<String>,
    pub data: Option<String>,
    pub photo_ids: Option<String>,
}

impl EventRow {
    /// The photos the step came with (stored as a JSON array).
    pub fn photos(&self) -> Vec<String> {
        self.photo_ids
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }
}

/// Stores a new order and counts it in its days' compliance counts.
pub fn insert(
    conn: &mut DbConn,
    row: &WorkOrderRow,
    photo_ids: &[String],
    tz: Tz,
) -> ApiResult<()> {
    let photos: Vec<_> = photo_ids
        .iter()
        .map(|m| {
            (
                work_order_photos::work_order_id.eq(&row.id),
                work_order_photos::media_id.eq(m),
            )
        })
        .collect();
    db_run!(conn, |c| {
        diesel::insert_into(work_orders::table)
            .values(row)
            .execute(c)?;
        if !photos.is_empty() {
            diesel::insert_into(work_order_photos::table)
                .values(&photos)
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    let mut days = DailyChanges::default();
    days.add(row, 1, tz);
    days.store(conn)
}

pub fn add_photos(conn: &mut DbConn, order_id: &str, photo_ids: &[String]) -> ApiResult<()> {
    if photo_ids.is_empty() {
        return Ok(());
    }
    let photos: Vec<_> = photo_ids
        .iter()
        .map(|m| {
            (
                work_order_photos::work_order_id.eq(order_id),
                work_order_photos::media_id.eq(m),
            )
        })
        .collect();
    db_run!(conn, |c| diesel::insert_into(work_order_photos::table)
        .values(&photos)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Stores an order's new state and moves its compliance counts from the days and group of
/// its old state to those of the new one.
pub fn update(conn: &mut DbConn, row: &WorkOrderRow, tz: Tz) -> ApiResult<()> {
    let mut days = DailyChanges::default();
    if let Some(old) = find(conn, &row.id)? {
        days.add(&old, -1, tz);
    }
    days.add(row, 1, tz);
    db_run!(conn, |c| diesel::update(work_orders::table.find(&row.id))
        .set(row)
        .execute(c))?;
    days.store(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<WorkOrderRow>> {
    Ok(db_run!(conn, |c| work_orders::table
        .find(id)
        .select(WorkOrderRow::as_select())
        .first(c)
        .optional())?)
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> ApiResult<Option<WorkOrderRow>> {
    Ok(db_run!(conn, |c| work_orders::table
        .filter(work_orders::code.eq(code))
        .select(WorkOrderRow::as_select())
        .first(c)
        .optional())?)
}

/// Keeps the hash of an order's 查询码 (see `crate::work_orders`).
pub fn set_query_code_hash(conn: &mut DbConn, order_id: &str, hash: &str) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(
        work_order_secrets::table.find(order_id)
    )
    .set(work_order_secrets::query_code_hash.eq(hash))
    .execute(c))?;
    Ok(())
}

/// The hash of an order's 查询码; none for orders filed before there were any.
pub fn query_code_hash(conn: &mut DbConn, order_id: &str) -> ApiResult<Option<String>> {
    Ok(db_run!(conn, |c| work_order_secrets::table
        .find(order_id)
        .select(work_order_secrets::query_code_hash)
        .first::<Option<String>>(c)
        .optional())?
    .flatten())
}

/// Records a supervisor's confirmation of an order; false if it was confirmed already.
pub fn confirm(conn: &mut DbConn, order_id: &str, by: &str, at: NaiveDateTime) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        work_order_confirmations::table
            .find(order_id)
            .filter(work_order_confirmations::confirmed_at.is_null())
    )
    .set((
        work_order_confirmations::confirmed_at.eq(at),
        work_order_confirmations::confirmed_by.eq(by),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// The next number of a named counter (e.g. one per day for order codes), inside the caller's transaction.
pub fn next_in_sequence(conn: &mut DbConn, name: &str) -> ApiResult<i64> {
    db_run!(conn, |c| {
        let bumped = diesel::update(daily_counters::table.find(name))
            .set(daily_counters::value.eq(daily_counters::value + 1))
            .execute(c)?;
        if bumped == 0 {
            diesel::insert_into(daily_counters::table)
                .values((
                    daily_counters::name.eq(name),
                    daily_counters::value.eq(1i64),
                ))
                .execute(c)?;
        }
        daily_counters::table
            .find(name)
            .select(daily_counters::value)
            .first::<i64>(c)
    })
    .map_err(Into::into)
}

pub fn add_event(conn: &mut DbConn, event: &EventRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(work_order_events::table)
        .values(event)
        .execute(c))?;
    Ok(())
}

pub fn events_of(conn: &mut DbConn, order_id: &str) -> ApiResult<Vec<EventRow>> {
    Ok(db_run!(conn, |c| work_order_events::table
        .filter(work_order_events::work_order_id.eq(order_id))
        .order((work_order_events::at, work_order_events::id))
        .select(EventRow::as_select())
        .load(c))?)
}

/// The photos of each of `order_ids`, in one query.
pub fn photo_ids_of(
    conn: &mut DbConn,
    order_ids: &[String],
) -> ApiResult<HashMap<String, Vec<String>>> {
    let pairs: Vec<(String, String)> = db_run!(conn, |c| work_order_photos::table
        .filter(work_order_photos::work_order_id.eq_any(order_ids))
        .order((
            work_order_photos::work_order_id,
            work_order_photos::media_id
        ))
        .select((
            work_order_photos::work_order_id,
            work_order_photos::media_id
        ))
        .load(c))?;
    let mut by_order: HashMap<String, Vec<String>> = HashMap::new();
    for (order, media) in pairs {
        by_order.entry(order).or_default().push(media);
    }
    Ok(by_order)
}

/// The orders a photo is attached to.
pub fn orders_with_photo(conn: &mut DbConn, media_id: &str) -> ApiResult<Vec<WorkOrderRow>> {
    Ok(db_run!(conn, |c| work_orders::table
        .inner_join(work_order_photos::table)
        .filter(work_order_photos::media_id.eq(media_id))
        .select(WorkOrderRow::as_select())
        .load(c))?)
}

/// Which orders a list may show.
#[derive(Debug, Clone)]
pub enum OrderScope {
    Everything,
    Subtree(String),
    /// Orders assigned to this user or to their unit.
    Member {
        user_id: String,
        unit_id: Option<String>,
    },
    Reporter(String),
}

#[derive(Debug)]
pub struct OrderFilter {
    pub scope: OrderScope,
    pub status: Option<String>,
    pub village_id: Option<String>,
    pub unit_id: Option<String>,
    pub assignee_id: Option<String>,
    pub category: Option<String>,
    pub source: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Only orders past due and not resolved at this time, most overdue first.
    pub overdue_at: Option<NaiveDateTime>,
    /// Keyset position: (created_at or due_at, id) of the last row seen.
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

impl OrderFilter {
    /// Every order of `scope`, newest first, `limit` at a time: narrow it field by field.
    pub fn new(scope: OrderScope, limit: i64) -> Self {
        OrderFilter {
            scope,
            status: None,
            village_id: None,
            unit_id: None,
            assignee_id: None,
            category: None,
            source: None,
            from: None,
            to: None,
            overdue_at: None,
            after: None,
            limit,
        }
    }
}

pub const OPEN_STATUSES: [&str; 4] = ["submitted", "assigned", "in_progress", "reopened"];

/// "The order is open", written with literal values: the databases use the partial index
/// `work_orders_open_due` only when a query states its condition with constants.
pub fn is_open_sql() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "work_orders.status IN ('submitted', 'assigned', 'in_progress', 'reopened')",
    )
}

pub fn list(conn: &mut DbConn, f: &OrderFilter) -> ApiResult<Vec<WorkOrderRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = work_orders::table
            .select(WorkOrderRow::as_select())
            .limit(f.limit)
            .into_boxed();
        q = match &f.scope {
            OrderScope::Everything => q,
            // Compared as a prefix, not with LIKE: a town holds a large share of all orders, and
            // walking an index in the list's own order (deadline or creation) with the path
            // checked per row stops after one page, where a path range would sort them all.
            OrderScope::Subtree(prefix) => {
                let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
                q.filter(substr_len(work_orders::org_path, 1, length).eq(prefix.clone()))
            }
            OrderScope::Member {
                user_id,
                unit_id: Some(unit),
            } => q.filter(
                work_orders::assignee_id
                    .eq(user_id.clone())
                    .or(work_orders::unit_id.eq(unit.clone())),
            ),
            OrderScope::Member {
                user_id,
                unit_id: None,
            } => q.filter(work_orders::assignee_id.eq(user_id.clone())),
            OrderScope::Reporter(user) => q.filter(work_orders::reporter_id.eq(user.clone())),
        };
        if let Some(v) = &f.status {
            q = q.filter(work_orders::status.eq(v));
        }
        if let Some(v) = &f.village_id {
            q = q.filter(work_orders::village_id.eq(v));
        }
        if let Some(v) = &f.unit_id {
            q = q.filter(work_orders::unit_id.eq(v));
        }
        if let Some(v) = &f.assignee_id {
            q = q.filter(work_orders::assignee_id.eq(v));
        }
        if let Some(v) = &f.category {
            q = q.filter(work_orders::category.eq(v));
        }
        if let Some(v) = &f.source {
            q = q.filter(work_orders::source.eq(v));
        }
        if let Some(v) = f.from {
            q = q.filter(work_orders::created_at.ge(v));
        }
        if let Some(v) = f.to {
            q = q.filter(work_orders::created_at.lt(v));
        }
        match f.overdue_at {
            Some(now) => {
                q = q
                    .filter(is_open_sql())
                    .filter(work_orders::due_at.lt(now))
                    .order((work_orders::due_at.asc(), work_orders::id.asc()));
                if let Some((due, id)) = &f.after {
                    q = q.filter(
                        work_orders::due_at
                            .gt(*due)
                            .or(work_orders::due_at.eq(*due).and(work_orders::id.gt(id))),
                    );
                }
            }
            None => {
                q = q.order((work_orders::created_at.desc(), work_orders::id.desc()));
                if let Some((at, id)) = &f.after {
                    q = q.filter(
                        work_orders::created_at
                            .lt(*at)
                            .or(work_orders::created_at.eq(*at).and(work_orders::id.lt(id))),
                    );
                }
            }
        }
        q.load(c)
    })?)
}

/// Submitted orders waiting for a supervisor to assign them, oldest first, under the subtree
/// at `within` (everywhere when `None`), after the keyset position (created_at, id).
/// They have no deadline yet, so the partial index `work_orders_open_due` holds them all
/// under a NULL `due_at`: the sort covers only the orders waiting, never the town's history.
pub fn awaiting_assignment(
    conn: &mut DbConn,
    within: Option<&str>,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> ApiResult<Vec<WorkOrderRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = work_orders::table
            // Written out, so the planner sees the partial index `work_orders_awaiting`'s
            // condition (a bound parameter would hide it).
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "work_orders.status = 'submitted'",
            ))
            .filter(work_orders::due_at.is_null())
            .select(WorkOrderRow::as_select())
            .order((work_orders::created_at.asc(), work_orders::id.asc()))
            .limit(limit)
            .into_boxed();
        if let Some(prefix) = within {
            let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
            q = q.filter(substr_len(work_orders::org_path, 1, length).eq(prefix.to_string()));
        }
        if let Some((at, id)) = after {
            q = q.filter(
                work_orders::created_at
                    .gt(*at)
                    .or(work_orders::created_at.eq(*at).and(work_orders::id.gt(id))),
            );
        }
        q.load(c)
    })?)
}

/// Which open orders [`count_open`] counts.
#[derive(Debug, Clone, Copy)]
pub enum OpenCount {
    All,
    /// Past their deadline at this time.
    PastDue(NaiveDateTime),
    /// Submitted, with no deadline yet: waiting to be assigned.
    Unassigned,
}

/// How many open orders of a kind lie under the subtree at `within` (everywhere when
/// `None`): one count over the partial index `work_orders_open_due`.
pub fn count_open(conn: &mut DbConn, within: Option<&str>, which: OpenCount) -> ApiResult<i64> {
    Ok(db_run!(conn, |c| {
        let mut q = work_orders::table
            .filter(is_open_sql())
            .count()
            .into_boxed();
        if let Some(prefix) = within {
            let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
            q = q.filter(substr_len(work_orders::org_path, 1, length).eq(prefix.to_string()));
        }
        q = match which {
            OpenCount::All => q,
            OpenCount::PastDue(now) => q.filter(work_orders::due_at.lt(now)),
            OpenCount::Unassigned => q
                .filter(work_orders::due_at.is_null())
                .filter(work_orders::status.eq("submitted")),
        };
        q.get_result::<i64>(c)
    })?)
}

/// The names of the people an order list mentions (assignees, actors of its timeline), by id.
pub fn people_names(conn: &mut DbConn, ids: &[String]) -> ApiResult<HashMap<String, String>> {
    let pairs: Vec<(String, String)> = db_run!(conn, |c| users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load(c))?;
    Ok(pairs.into_iter().collect())
}

/// Someone an order may be assigned to: an active cadre or supervisor and their unit.
#[derive(Debug, Clone, Queryable)]
pub struct Assignable {
    pub user_id: String,
    pub name: String,
    pub unit_id: String,
}

/// The active cadres and supervisors of the units under `within` (everyone's when `None`),
/// by name: the people a supervisor may name as 责任人.
pub fn assignable_people(conn: &mut DbConn, within: Option<&str>) -> ApiResult<Vec<Assignable>> {
    Ok(db_run!(conn, |c| {
        let mut q = users::table
            .inner_join(org_units::table)
            .filter(users::active.eq(true))
            .filter(users::role.eq_any(["cadre", "supervisor"]))
            .select((users::id, users::name, org_units::id))
            .order((users::name, users::id))
            .into_boxed();
        if let Some(prefix) = within {
            q = q.filter(org_units::path.like(format!("{prefix}%")));
        }
        q.load(c)
    })?)
}

/// Open orders of `category` inside a box around a point (the caller measures the distance).
pub fn open_nearby(
    conn: &mut DbConn,
    category: &str,
    (min_lat, min_lon, max_lat, max_lon): (f64, f64, f64, f64),
    except: &str,
) -> ApiResult<Vec<WorkOrderRow>> {
    Ok(db_run!(conn, |c| work_orders::table
        .filter(work_orders::category.eq(category))
        .filter(work_orders::status.eq_any(OPEN_STATUSES))
        .filter(work_orders::id.ne(except))
        .filter(work_orders::lat.between(min_lat, max_lat))
        .filter(work_orders::lon.between(min_lon, max_lon))
        .select(WorkOrderRow::as_select())
        .limit(20)
        .load(c))?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = work_order_extensions)]
pub struct ExtensionRow {
    pub id: String,
    pub work_order_id: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub reason: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn insert_extension(conn: &mut DbConn, row: &ExtensionRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(work_order_extensions::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn find_extension(
    conn: &mut DbConn,
    order_id: &str,
    id: &str,
) -> ApiResult<Option<ExtensionRow>> {
    Ok(db_run!(conn, |c| work_order_extensions::table
        .find(id)
        .filter(work_order_extensions::work_order_id.eq(order_id))
        .select(ExtensionRow::as_select())
        .first(c)
        .optional())?)
}

pub fn pending_extension(conn: &mut DbConn, order_id: &str) -> ApiResult<Option<ExtensionRow>> {
    Ok(db_run!(conn, |c| work_order_extensions::table
        .filter(work_order_extensions::work_order_id.eq(order_id))
        .filter(work_order_extensions::status.eq("pending"))
        .select(ExtensionRow::as_select())
        .first(c)
        .optional())?)
}

/// The pending extension request of each of `order_ids` that has one, in one query.
pub fn pending_extensions_of(
    conn: &mut DbConn,
    order_ids: &[String],
) -> ApiResult<HashMap<String, ExtensionRow>> {
    let rows: Vec<ExtensionRow> = db_run!(conn, |c| work_order_extensions::table
        .filter(work_order_extensions::work_order_id.eq_any(order_ids))
        .filter(work_order_extensions::status.eq("pending"))
        .select(ExtensionRow::as_select())
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|e| (e.work_order_id.clone(), e))
        .collect())
}

/// Decides a pending request; false if it was decided meanwhile.
pub fn decide_extension(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    by: &str,
    at: NaiveDateTime,
) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        work_order_extensions::table
            .find(id)
            .filter(work_order_extensions::status.eq("pending"))
    )
    .set((
        work_order_extensions::status.eq(status),
        work_order_extensions::decided_by.eq(by),
        work_order_extensions::decided_at.eq(at),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// Inserts many orders in multi-row statements (bulk loads: benchmarks).
pub fn insert_many(conn: &mut DbConn, rows: &[WorkOrderRow], tz: Tz) -> ApiResult<()> {
    // 32 columns × 500 rows stays under both backends' bind-parameter limits.
    for chunk in rows.chunks(500) {
        db_run!(conn, |c| diesel::insert_into(work_orders::table)
            .values(chunk)
            .execute(c))?;
    }
    let mut days = DailyChanges::default();
    for row in rows {
        days.add(row, 1, tz);
    }
    days.store(conn)
}
