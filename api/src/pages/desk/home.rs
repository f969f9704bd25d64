//! The desk's start page: what needs a supervisor's attention now, counted in their reach.

use actix_web::web;
use askama::Template;
use chrono::Utc;

use super::orders::view::subtree;
use super::{Nav, Staff};
use crate::db::checkins;
use crate::db::work_orders::{count_open, OpenCount};
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
    open_orders: i64,
}

async fn home(state: State, staff: Staff) -> PageResult {
    let within = subtree(&list_scope(&staff.actor));
    let now = Utc::now().naive_utc();
    let (overdue, waiting, flagged, open_orders) = state
        .db
        .run(move |conn| {
            let within = within.as_deref();
            Ok((
                count_open(conn, within, OpenCount::PastDue(now))?,
                count_open(conn, within, OpenCount::Unassigned)?,
                checkins::count_waiting_review(conn, within)?,
                count_open(conn, within, OpenCount::All)?,
            ))
        })
        .await?;
    ok(&HomePage {
        nav: staff.nav("home"),
        overdue,
        waiting,
        flagged,
        open_orders,
    })
}
