use actix_web::{get, web::Json, HttpResponse};
use minqing_protocol::Health;
use utoipa_actix_web::service_config::ServiceConfig;

use super::State;
use crate::db::Db;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health).service(openapi_json);
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
