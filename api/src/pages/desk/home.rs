//! The desk's start page: what needs a supervisor's attention now, counted in their reach.

use actix_web::web;
use askama::Template;
use chrono::Utc;

use super::orders::view::subtree;
use super::{Nav, Staff};
use crate::db::work_orders::{count_open, OpenCount};
use crate::db::{approvals, checkins};
use crate::domain::access::{reach, Action};
use crate::http::State;
use crate::pages::{ok, PageResult};
use crate::work_orders::list_scope;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/", web::get().to(home));
}

#[derive(Template)]
#[template(path = "desk/home.html")]
struct HomePage {
    nav: Nav,
    overdue: i64,
    waiting: i64,
    flagged: i64,
    /// What waits for a second supervisor's signature (待签批).
    approvals: i64,
    open_orders: i64,
}

async fn home(state: State, staff: Staff) -> PageResult {
    let within = subtree(&list_scope(&staff.actor));
    // A reader who may not sign scores (none such today) has nothing waiting for them.
    let judged = reach(&staff.actor, Action::JudgeScores)
        .and_then(|r| r.subtree())
        .ok();
    let now = Utc::now().naive_utc();
    let (overdue, waiting, flagged, approvals, open_orders) = state
        .db
        .run(move |conn| {
            let within = within.as_deref();
            Ok((
                count_open(conn, within, OpenCount::PastDue(now))?,
                count_open(conn, within, OpenCount::Unassigned)?,
                {
                    let closed = crate::scoring::closed_nights(conn)?;
                    checkins::count_waiting_review(conn, within, &closed)?
                },
                match &judged {
                    Some(judged) => approvals::count(conn, judged.as_deref())?,
                    None => 0,
                },
                count_open(conn, within, OpenCount::All)?,
            ))
        })
        .await?;
    ok(&HomePage {
        nav: staff.nav("home"),
        overdue,
        waiting,
        flagged,
        approvals,
        open_orders,
    })
}
