//! The HTTP API under `/api/v1`: one module per resource, each handler thin
//! (parse → decide in `domain` → store through `db` → reply).

use std::sync::Arc;

use actix_web::web;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{ActorCache, Limiters, TokenKeys};
use crate::config::Config;
use crate::db::Db;
use crate::domain::checkin::CheckinRules;
use crate::error::ApiError;
use crate::media::store::PhotoStore;
use crate::villages::BoundaryCache;

pub mod audit;
pub mod auth;
pub mod categories;
pub mod checkins;
pub mod compliance;
pub mod contract;
pub mod extract;
pub mod health;
pub mod labels;
pub mod me;
pub mod media;
pub mod middleware;
pub mod org_units;
pub mod paging;
pub mod public;
pub mod scoring;
pub mod sessions;
pub mod users;
pub mod webhooks;
pub mod work_logs;
pub mod work_orders;

/// What every handler may reach.
pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub limiters: Limiters,
    pub actors: ActorCache,
    pub config: Arc<Config>,
    pub rules: CheckinRules,
    pub boundaries: BoundaryCache,
    pub photos: Arc<dyn PhotoStore>,
    /// Photos being decoded at once (each may hold a large image in memory).
    pub photo_slots: tokio::sync::Semaphore,
    /// What `/metrics` shows (counted only when `MINQING_METRICS` is not `off`).
    pub metrics: crate::metrics::Metrics,
}

pub type State = web::Data<AppState>;

/// The OpenAPI document's frame; paths are collected from the registered handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Minqing (民情) API",
        description = "Township field work: 四夜 check-ins, village stays, 民情工单 and performance scores."
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Registers every route of `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(health::routes)
        .configure(labels::routes)
        .configure(auth::routes)
        .configure(me::routes)
        .configure(org_units::routes)
        .configure(users::routes)
        .configure(checkins::routes)
        .configure(media::routes)
        .configure(categories::routes)
        .configure(work_orders::routes)
        .configure(compliance::routes)
        .configure(webhooks::routes)
        .configure(scoring::routes)
        .configure(sessions::routes)
        .configure(audit::routes)
        .configure(work_logs::routes)
        .configure(public::routes);
}

/// Query strings that do not parse answer 422 naming the problem, like bodies do.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = err.to_string();
        let field = message.split('`').nth(1).unwrap_or("query").to_string();
        ApiError::invalid(field, message).into()
    })
}
