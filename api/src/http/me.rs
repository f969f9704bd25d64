use actix_web::{get, web::Json};
use minqing_protocol::{Me, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Authenticated;
use super::State;
use crate::db::{org, users};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(me);
}

/// The signed-in user with their role, org unit and villages.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Me), (status = 401, body = Problem)))]
#[get("/me")]
async fn me(state: State, actor: Authenticated) -> ApiResult<Json<Me>> {
    let user_id = actor.0.user_id;
    let me = state
        .db
        .run(move |conn| {
            let (user, _) = users::find_with_path(conn, &user_id)?
                .ok_or_else(|| ApiError::Unauthenticated("the account no longer exists".into()))?;
            let village_ids = users::village_ids_of(conn, std::slice::from_ref(&user.id))?
                .remove(&user.id)
                .unwrap_or_default();
            let org_unit = match &user.org_unit_id {
                Some(id) => org::find(conn, id)?.map(|u| u.to_wire()).transpose()?,
                None => None,
            };
            let villages = org::find_many(conn, &village_ids)?
                .iter()
                .map(|v| v.to_wire())
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(Me {
                user: user.to_wire(village_ids)?,
                org_unit,
                villages,
            })
        })
        .await?;
    Ok(Json(me))
}
