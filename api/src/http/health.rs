use actix_web::{get, web::Json, HttpResponse};
use minqing_protocol::{Health, Problem};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::State;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(openapi_json);
}

/// The server can take traffic: every dependency answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// Always `ready`.
    #[schema(example = "ready")]
    pub status: String,
}

/// Readiness: the database answers a trivial query and the photo store can be reached. For
/// a load balancer or orchestrator deciding whether to send this server requests; the 503
/// problem's `detail` names what failed (the details go to the log).
#[utoipa::path(tag = "system", responses(
    (status = 200, body = Ready),
    (status = 503, body = Problem,
     description = "Not ready: `detail` names the dependency that failed (the database, the photo store); retry after `Retry-After` seconds.")))]
#[get("/ready")]
async fn ready(state: State) -> ApiResult<Json<Ready>> {
    let mut failed = Vec::new();
    if let Err(err) = state.db.run(Db::ping).await {
        tracing::warn!(error = %err, "readiness: the database does not answer");
        failed.push("the database");
    }
    let photos = state.photos.clone();
    match actix_web::web::block(move || photos.check()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: the photo store is not available");
            failed.push("the photo store");
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness: checking the photo store failed");
            failed.push("the photo store");
        }
    }
    if failed.is_empty() {
        return Ok(Json(Ready {
            status: "ready".into(),
        }));
    }
    let verb = if failed.len() == 1 { "is" } else { "are" };
    Err(ApiError::Unavailable(format!(
        "not ready: {} {verb} not available",
        failed.join(" and ")
    )))
}

/// Liveness and database reachability.
#[utoipa::path(tag = "system", responses(
    (status = 200, body = Health),
    (status = 503, body = Health, description = "the database does not answer")))]
#[get("/health")]
async fn health(state: State) -> HttpResponse {
    match state.db.run(Db::ping).await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ok".into(),
            db: "ok".into(),
        }),
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unavailable");
            HttpResponse::ServiceUnavailable()
                .insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    crate::error::UNAVAILABLE_RETRY_SECS.to_string(),
                ))
                .json(Health {
                    status: "unavailable".into(),
                    db: "error".into(),
                })
        }
    }
}

/// This API's OpenAPI 3 description.
#[utoipa::path(tag = "system", responses((status = 200, description = "the OpenAPI document", content_type = "application/json")))]
#[get("/openapi.json")]
async fn openapi_json(
    doc: actix_web::web::Data<utoipa::openapi::OpenApi>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(doc.get_ref().clone())
}
