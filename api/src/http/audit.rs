//! The audit log, for the admin: who read personal data, who changed what.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use minqing_protocol::{AuditEntry, Page, Problem};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Authenticated;
use super::paging::{time_key, Paging};
use super::State;
use crate::db::audit::{self as store, AuditFilter};
use crate::db::models::utc;
use crate::db::users;
use crate::domain::access::{reach, Action};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_audit);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    actor_id: Option<String>,
    /// e.g. `user.read`.
    action: Option<String>,
    target_id: Option<String>,
    /// At or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The audit log, newest first (admin only).
#[utoipa::path(tag = "system", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<AuditEntry>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/audit")]
async fn list_audit(
    state: State,
    actor: Authenticated,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    reach(&actor.0, Action::ReadAudit)?;
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter {
        actor_id: q.actor_id,
        action: q.action,
        target_id: q.target_id,
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        after: paging.after_time()?,
        limit: paging.fetch(),
    };
    let entries = state
        .db
        .run(move |conn| {
            let rows = store::list(conn, &filter)?;
            let actors: Vec<String> = rows.iter().filter_map(|r| r.actor_id.clone()).collect();
            let names = users::names_of(conn, &actors)?;
            rows.into_iter()
                .map(|r| {
                    Ok(AuditEntry {
                        actor_name: r.actor_id.as_ref().and_then(|a| names.get(a).cloned()),
                        at: utc(r.at),
                        detail: r
                            .detail
                            .as_deref()
                            .map(serde_json::from_str)
                            .transpose()
                            .map_err(|e| ApiError::Internal(e.into()))?,
                        id: r.id,
                        actor_id: r.actor_id,
                        action: r.action,
                        target_kind: r.target_kind,
                        target_id: r.target_id,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(paging.page(entries, |e| time_key(e.at, &e.id))))
}
