//! What anyone may read without an account: a village's public page data by its code.

use actix_web::{get, web};
use minqing_protocol::{Problem, PublicVillage};
use utoipa_actix_web::service_config::ServiceConfig;

use super::State;
use crate::error::{ApiError, ApiResult};
use crate::villages::public_village;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_public_village);
}

/// A village by its public code (any case), as its QR-code page `/v/{code}` shows it: name,
/// town, the categories one may report, and the responsible cadres with their phones.
#[utoipa::path(tag = "public", responses(
    (status = 200, body = PublicVillage), (status = 404, body = Problem)))]
#[get("/public/villages/{code}")]
async fn get_public_village(
    state: State,
    code: web::Path<String>,
) -> ApiResult<web::Json<PublicVillage>> {
    let village = state
        .db
        .run(move |conn| {
            public_village(conn, &code)?
                .ok_or_else(|| ApiError::NotFound("no village with that code".into()))
        })
        .await?;
    Ok(web::Json(village))
}
