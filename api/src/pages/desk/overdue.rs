//! 超期工单: open orders past their committed deadline, most overdue first, each with its
//! 派单 form and any extension request waiting for a decision; below them 待派单, the new
//! orders nobody has assigned yet, oldest first.

use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::orders::view::{notice, subtree, AssignForm, Choices, ExtensionLine, Names, OrderLine};
use super::{Nav, Staff};
use crate::db::models::utc;
use crate::db::work_orders::{self, OrderFilter, WorkOrderRow};
use crate::http::paging::{time_key, Paging};
use crate::http::State;
use crate::pages::{ok, PageResult};
use crate::work_orders::list_scope;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/overdue", web::get().to(overdue));
}

/// Rows per table and page: each carries a form, so pages stay short.
const QUEUE_ROWS: i64 = 20;

/// Where the forms on this page come back to.
const BACK: &str = "/desk/overdue";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueueQuery {
    /// The overdue table's page.
    cursor: String,
    /// The 待派单 table's page.
    waiting_cursor: String,
    done: String,
}

struct QueueRow {
    line: OrderLine,
    /// None when the order's state allows no 派单 (work has started on it).
    form: Option<AssignForm>,
    extension: Option<ExtensionLine>,
}

#[derive(Template)]
#[template(path = "desk/overdue.html")]
struct OverduePage {
    nav: Nav,
    overdue: Vec<QueueRow>,
    overdue_next: Option<String>,
    waiting: Vec<QueueRow>,
    waiting_next: Option<String>,
    choices: Choices,
}

fn cursor(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

async fn overdue(state: State, staff: Staff, query: web::Query<QueueQuery>) -> PageResult {
    let q = query.into_inner();
    let late_paging = Paging::parse(Some(QUEUE_ROWS), cursor(&q.cursor))?;
    let waiting_paging = Paging::parse(Some(QUEUE_ROWS), cursor(&q.waiting_cursor))?;
    let (late_after, waiting_after) = (late_paging.after_time()?, waiting_paging.after_time()?);
    let scope = list_scope(&staff.actor);
    let within = subtree(&scope);
    let tz = state.rules.timezone;
    let now = Utc::now();
    let page = state
        .db
        .run(move |conn| {
            let mut filter = OrderFilter::new(scope, late_paging.fetch());
            filter.overdue_at = Some(now.naive_utc());
            filter.after = late_after;
            let late = late_paging.page(work_orders::list(conn, &filter)?, |r| {
                time_key(utc(r.due_at.unwrap_or(r.created_at)), &r.id)
            });
            let waiting = work_orders::awaiting_assignment(
                conn,
                within.as_deref(),
                waiting_after.as_ref(),
                waiting_paging.fetch(),
            )?;
            let waiting = waiting_paging.page(waiting, |r| time_key(utc(r.created_at), &r.id));
            let ids: Vec<String> = late.items.iter().map(|r| r.id.clone()).collect();
            let mut extensions = work_orders::pending_extensions_of(conn, &ids)?;
            let askers = extensions
                .values()
                .map(|e| e.requested_by.clone())
                .collect();
            let all: Vec<WorkOrderRow> = late.items.iter().chain(&waiting.items).cloned().collect();
            let names = Names::load(conn, &all, askers)?;
            let mut row = |r: &WorkOrderRow| -> Result<QueueRow, crate::error::ApiError> {
                Ok(QueueRow {
                    line: OrderLine::new(r, &names, tz, now)?,
                    form: AssignForm::for_order(r, &names, BACK)?,
                    extension: extensions
                        .remove(&r.id)
                        .map(|e| ExtensionLine::new(&e, &r.code, &names, BACK, tz)),
                })
            };
            let overdue = late.items.iter().map(&mut row).collect::<Result<_, _>>()?;
            let waiting_rows = waiting
                .items
                .iter()
                .map(&mut row)
                .collect::<Result<_, _>>()?;
            Ok(OverduePage {
                nav: staff.nav("overdue").with_notice(notice(&q.done)),
                overdue,
                overdue_next: late.next_cursor.map(|c| format!("{BACK}?cursor={c}")),
                waiting: waiting_rows,
                waiting_next: waiting
                    .next_cursor
                    .map(|c| format!("{BACK}?waiting_cursor={c}#waiting")),
                choices: Choices::load(conn, within.as_deref())?,
            })
        })
        .await?;
    ok(&page)
}
