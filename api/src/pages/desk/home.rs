//! The desk's start page: what needs a supervisor's attention now.

use actix_web::web;
use askama::Template;

use super::{Nav, Staff};
use crate::pages::{ok, PageResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/", web::get().to(home));
}

#[derive(Template)]
#[template(path = "desk/home.html")]
struct HomePage {
    nav: Nav,
    overdue: i64,
    flagged: i64,
    open_orders: i64,
}

async fn home(staff: Staff) -> PageResult {
    ok(&HomePage {
        nav: staff.nav("home"),
        overdue: 0,
        flagged: 0,
        open_orders: 0,
    })
}
