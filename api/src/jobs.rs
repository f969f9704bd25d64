//! Background jobs, run by every server every `MINQING_JOB_INTERVAL_SECS`: reminders before
//! a deadline, escalation once an order is overdue, closing resolved orders nobody rated,
//! delivering queued webhook events, and sending the attendance of 夜学 / 夜议 sessions left
//! without minutes to review. Every server runs them, and each due item is handled once:
//! an alert (reminder, escalation, auto-close) is a row inserted once per order and deadline,
//! a 夜学 / 夜议 is marked incomplete by a conditional update, and a webhook delivery is
//! claimed for a lease before it is sent.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::future::join_all;
use minqing_protocol::WorkOrderStatus;

use crate::db::models::{enum_text, parse_enum, utc};
use crate::db::webhooks::{self, Attempt};
use crate::db::work_orders::{self, EventRow};
use crate::db::{attempts, new_id, DbConn};
use crate::domain::webhook::{backoff, signature, MAX_ATTEMPTS};
use crate::domain::work_order::{next_status, Party, Step, AUTO_CLOSE_AFTER_DAYS};
use crate::error::ApiResult;
use crate::http::State;
use crate::outbound::Outbound;

/// How long before its deadline an order's unit is reminded.
const REMIND_BEFORE_HOURS: i64 = 24;
/// Orders and deliveries handled per tick; the rest wait for the next one.
const BATCH: i64 = 200;
/// How long a claimed delivery belongs to the server that claimed it, in webhook timeouts:
/// longer than a send can take, so only a server that died mid-send loses its claim.
const LEASE_IN_TIMEOUTS: u32 = 3;
/// Attempt tallies are kept this long after their window began: longer than any limit's
/// window (the longest is a day).
const TALLIES_KEPT_HOURS: i64 = 48;

pub async fn run(state: State) {
    let client = match Outbound::new(&state.config.outbound_allow, state.config.webhook_timeout) {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = %err, "background jobs cannot start: no HTTP client");
            return;
        }
    };
    let mut ticker = tokio::time::interval(state.config.job_interval);
    loop {
        ticker.tick().await;
        let outcome = tick(&state, &client).await;
        state.metrics.job_ran(outcome.is_ok());
        if let Err(err) = outcome {
            tracing::warn!(error = %err, "background jobs: a tick failed; retrying next tick");
        }
    }
}

async fn tick(state: &State, client: &Outbound) -> ApiResult<()> {
    let now = Utc::now();
    let tz = state.rules.timezone;
    state
        .db
        .run(move |conn| conn.write(|conn| watch_deadlines(conn, now, tz)))
        .await?;
    let rules = state.rules.clone();
    state
        .db
        .run(move |conn| {
            crate::night_sessions::mark_overdue(conn, now, &rules)?;
            attempts::prune(conn, now - chrono::Duration::hours(TALLIES_KEPT_HOURS))
        })
        .await?;
    deliver(state, client, now).await
}

fn system_event(
    order_id: &str,
    at: DateTime<Utc>,
    kind: &str,
    data: Option<serde_json::Value>,
) -> EventRow {
    EventRow {
        id: new_id(),
        work_order_id: order_id.to_string(),
        at: at.naive_utc(),
        actor_id: None,
        actor_kind: "system".into(),
        kind: kind.into(),
        note: None,
        data: data.map(|d| d.to_string()),
        photo_ids: None,
    }
}

/// Raises reminders and escalations and closes unrated orders, as of `now`.
pub fn watch_deadlines(conn: &mut DbConn, now: DateTime<Utc>, tz: Tz) -> ApiResult<()> {
    let soon = (now + chrono::Duration::hours(REMIND_BEFORE_HOURS)).naive_utc();
    for row in webhooks::open_due_between(conn, Some(now.naive_utc()), soon, BATCH)? {
        let Some(due) = row.due_at else { continue };
        if webhooks::raise_alert(conn, &row.id, "due_soon", due, now.naive_utc())? {
            work_orders::add_event(
                conn,
                &system_event(
                    &row.id,
                    now,
                    "reminded",
                    Some(serde_json::json!({"due_at": utc(due)})),
                ),
            )?;
            webhooks::publish(conn, "due_soon", &row, now)?;
        }
    }
    for row in webhooks::open_due_between(conn, None, now.naive_utc(), BATCH)? {
        let Some(due) = row.due_at else { continue };
        if webhooks::raise_alert(conn, &row.id, "overdue", due, now.naive_utc())? {
            work_orders::add_event(
                conn,
                &system_event(
                    &row.id,
                    now,
                    "escalated",
                    Some(serde_json::json!({"due_at": utc(due)})),
                ),
            )?;
            webhooks::publish(conn, "overdue", &row, now)?;
        }
    }
    let unrated_since = (now - chrono::Duration::days(AUTO_CLOSE_AFTER_DAYS)).naive_utc();
    for mut row in webhooks::unrated_resolved_before(conn, unrated_since, BATCH)? {
        let Some(resolved_at) = row.resolved_at else {
            continue;
        };
        // An alert row keyed by the resolution is the claim: of servers closing the same order
        // at once, one inserts it and closes the order, the others find it taken.
        if !webhooks::raise_alert(conn, &row.id, "auto_closed", resolved_at, now.naive_utc())? {
            continue;
        }
        let from: WorkOrderStatus = parse_enum(&row.status)?;
        let Ok(to) = next_status(from, Step::AutoClose, Party::System) else {
            continue;
        };
        row.status = enum_text(&to);
        work_orders::update(conn, &row, tz)?;
        work_orders::add_event(
            conn,
            &system_event(
                &row.id,
                now,
                "closed",
                Some(serde_json::json!({"unrated": true})),
            ),
        )?;
        webhooks::publish(conn, "closed", &row, now)?;
    }
    Ok(())
}

/// Sends the due deliveries at once (a slow receiver delays only its own), then records
/// each attempt: delivered on 2xx, else retried with exponential backoff. A target the
/// outbound guard refuses is never contacted (the attempt fails with the reason), and a
/// redirect is not followed: it is a failed attempt like any other non-2xx answer.
async fn deliver(state: &State, client: &Outbound, now: DateTime<Utc>) -> ApiResult<()> {
    let lease = state.config.webhook_timeout * LEASE_IN_TIMEOUTS;
    let lease_until = (now
        + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(3)))
    .naive_utc();
    let due = state
        .db
        .run(move |conn| webhooks::claim_due_deliveries(conn, now.naive_utc(), lease_until, BATCH))
        .await?;
    if due.is_empty() {
        return Ok(());
    }
    let sends = due.iter().map(|(d, url, secret)| {
        let request = client.post(url).map(|request| {
            request
                .header("content-type", "application/json")
                .header(
                    "x-minqing-signature",
                    signature(secret, d.payload.as_bytes()),
                )
                .header("x-minqing-delivery", &d.id)
                .header("x-minqing-event", &d.event)
                .body(d.payload.clone())
        });
        async move {
            let request = match request {
                Ok(request) => request,
                Err(refused) => return (None, false, Some(refused)),
            };
            match request.send().await {
                Ok(reply) => (
                    Some(i32::from(reply.status().as_u16())),
                    reply.status().is_success(),
                    None,
                ),
                Err(err) => (None, false, Some(err.to_string())),
            }
        }
    });
    let outcomes = join_all(sends).await;
    let base = state.config.job_interval;
    state
        .db
        .run(move |conn| {
            let finished = Utc::now();
            for ((d, url, _), (status, ok, error)) in due.iter().zip(outcomes) {
                let attempts = d.attempts + 1;
                let retry_in = chrono::Duration::from_std(backoff(d.attempts, base)).unwrap_or(chrono::Duration::hours(1));
                if !ok {
                    tracing::warn!(delivery = %d.id, %url, ?status, ?error, attempts, "webhook delivery failed");
                }
                webhooks::record_attempt(
                    conn,
                    &d.id,
                    &Attempt {
                        status,
                        error: error.as_deref(),
                        delivered_at: ok.then(|| finished.naive_utc()),
                        next_attempt_at: (finished + retry_in).naive_utc(),
                        failed_at: (!ok && attempts >= MAX_ATTEMPTS).then(|| finished.naive_utc()),
                    },
                )?;
            }
            Ok(())
        })
        .await
}
