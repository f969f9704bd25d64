//! Webhooks, their durable outbox of deliveries, and the alerts background jobs raised.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{webhook_deliveries, webhooks, work_order_alerts, work_orders};
use super::work_orders::{is_open_sql, WorkOrderRow};
use super::{db_run, new_id, DbConn};
use crate::domain::webhook::subscribed;
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl WebhookRow {
    pub fn event_list(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub work_order_id: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub delivered_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

pub fn insert_webhook(conn: &mut DbConn, row: &WebhookRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(webhooks::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn list_webhooks(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<WebhookRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = webhooks::table
            .select(WebhookRow::as_select())
            .order(webhooks::id)
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(webhooks::id.gt(after));
        }
        q.load(c)
    })?)
}

/// Pauses or resumes a webhook; `None` when there is no such webhook.
pub fn set_active(conn: &mut DbConn, id: &str, active: bool) -> ApiResult<Option<WebhookRow>> {
    Ok(db_run!(conn, |c| {
        diesel::update(webhooks::table.find(id))
            .set(webhooks::active.eq(active))
            .execute(c)?;
        webhooks::table
            .find(id)
            .select(WebhookRow::as_select())
            .first(c)
            .optional()
    })?)
}

/// Queues `event` for every active webhook that wants it, in the caller's transaction: the
/// event is stored exactly when the change it reports is.
pub fn enqueue(
    conn: &mut DbConn,
    event: &str,
    order_id: &str,
    payload: &serde_json::Value,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let hooks: Vec<WebhookRow> = db_run!(conn, |c| webhooks::table
        .filter(webhooks::active.eq(true))
        .select(WebhookRow::as_select())
        .load(c))?;
    let rows: Vec<DeliveryRow> = hooks
        .iter()
        .filter(|h| subscribed(&h.event_list(), event))
        .map(|h| DeliveryRow {
            id: new_id(),
            webhook_id: h.id.clone(),
            event: event.to_string(),
            work_order_id: order_id.to_string(),
            payload: payload.to_string(),
            created_at: now,
            next_attempt_at: now,
            attempts: 0,
            delivered_at: None,
            failed_at: None,
            last_status: None,
            last_error: None,
        })
        .collect();
    if !rows.is_empty() {
        db_run!(conn, |c| diesel::insert_into(webhook_deliveries::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

/// The outbox's depth: deliveries to active webhooks neither delivered nor given up, due or
/// not (what the jobs still have to send; a count over the `webhook_deliveries_pending` index).
pub fn outbox_depth(conn: &mut DbConn) -> ApiResult<i64> {
    Ok(db_run!(conn, |c| webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhooks::active.eq(true))
        .filter(webhook_deliveries::delivered_at.is_null())
        .filter(webhook_deliveries::failed_at.is_null())
        .count()
        .get_result(c))?)
}

/// Claims up to `limit` due deliveries to active webhooks, with each webhook's URL and
/// secret: a claimed delivery is not due again before `lease_until`, so another server
/// ticking at the same moment cannot claim it too, and a server that dies mid-send leaves it
/// to be sent again once the lease ends.
pub fn claim_due_deliveries(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> ApiResult<Vec<(DeliveryRow, String, String)>> {
    conn.write(|conn| {
        let due: Vec<(DeliveryRow, String, String)> = db_run!(conn, |c| webhook_deliveries::table
            .inner_join(webhooks::table)
            .filter(webhooks::active.eq(true))
            .filter(webhook_deliveries::delivered_at.is_null())
            .filter(webhook_deliveries::failed_at.is_null())
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .order(webhook_deliveries::next_attempt_at)
            .limit(limit)
            .select((DeliveryRow::as_select(), webhooks::url, webhooks::secret))
            .load(c))?;
        let mut claimed = Vec::with_capacity(due.len());
        for delivery in due {
            // Re-checked in the statement itself: on PostgreSQL a concurrent claimer waits
            // for the row, then finds it no longer due.
            let taken = db_run!(conn, |c| diesel::update(
                webhook_deliveries::table.find(&delivery.0.id)
            )
            .filter(webhook_deliveries::delivered_at.is_null())
            .filter(webhook_deliveries::failed_at.is_null())
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .set(webhook_deliveries::next_attempt_at.eq(lease_until))
            .execute(c))?;
            if taken == 1 {
                claimed.push(delivery);
            }
        }
        Ok(claimed)
    })
}

pub struct Attempt<'a> {
    pub status: Option<i32>,
    pub error: Option<&'a str>,
    pub delivered_at: Option<NaiveDateTime>,
    pub next_attempt_at: NaiveDateTime,
    pub failed_at: Option<NaiveDateTime>,
}

pub fn record_attempt(conn: &mut DbConn, id: &str, attempt: &Attempt) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_status.eq(attempt.status),
            webhook_deliveries::last_error.eq(attempt.error),
            webhook_deliveries::delivered_at.eq(attempt.delivered_at),
            webhook_deliveries::next_attempt_at.eq(attempt.next_attempt_at),
            webhook_deliveries::failed_at.eq(attempt.failed_at),
        ))
        .execute(c))?;
    Ok(())
}

/// Records an alert unless it was raised already; true when it is new.
pub fn raise_alert(
    conn: &mut DbConn,
    order_id: &str,
    kind: &str,
    due_at: NaiveDateTime,
    now: NaiveDateTime,
) -> ApiResult<bool> {
    let inserted = db_run!(conn, |c| diesel::insert_into(work_order_alerts::table)
        .values((
            work_order_alerts::work_order_id.eq(order_id),
            work_order_alerts::kind.eq(kind),
            work_order_alerts::due_at.eq(due_at),
            work_order_alerts::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Open orders due before `until` (and, for reminders, not yet due at `from`).
pub fn open_due_between(
    conn: &mut DbConn,
    from: Option<NaiveDateTime>,
    until: NaiveDateTime,
    limit: i64,
) -> ApiResult<Vec<WorkOrderRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = work_orders::table
            .filter(is_open_sql())
            .filter(work_orders::due_at.lt(until))
            .select(WorkOrderRow::as_select())
            .order(work_orders::due_at)
            .limit(limit)
            .into_boxed();
        if let Some(from) = from {
            q = q.filter(work_orders::due_at.ge(from));
        }
        q.load(c)
    })?)
}

/// Resolved orders nobody rated since `before`.
pub fn unrated_resolved_before(
    conn: &mut DbConn,
    before: NaiveDateTime,
    limit: i64,
) -> ApiResult<Vec<WorkOrderRow>> {
    Ok(db_run!(conn, |c| work_orders::table
        .filter(work_orders::status.eq("resolved"))
        .filter(work_orders::resolved_at.le(before))
        .select(WorkOrderRow::as_select())
        .limit(limit)
        .load(c))?)
}

/// Queues a work-order event (`kind` without the `work_order.` prefix) with the order as
/// receivers see it: the reporter's phone masked.
pub fn publish(
    conn: &mut DbConn,
    kind: &str,
    row: &WorkOrderRow,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    let event = format!("work_order.{kind}");
    let photos = super::work_orders::photo_ids_of(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    let payload = serde_json::json!({"event": event, "work_order": row.to_wire(photos, false, now)?, "at": now});
    enqueue(conn, &event, &row.id, &payload, now.naive_utc())
}
