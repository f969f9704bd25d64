//! Not built yet: its link in the desk's navigation answers 404 until it is.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
