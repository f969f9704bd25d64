//! Webhooks (admin): where work-order events are delivered.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::Utc;
use minqing_protocol::{NewWebhook, Page, Problem, Webhook, WebhookChange};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Authenticated, JsonBody};
use super::paging::Paging;
use super::State;
use crate::audit::{self, Audited};
use crate::db::models::utc;
use crate::db::new_id;
use crate::db::webhooks::{self, WebhookRow};
use crate::domain::access::{reach, Action};
use crate::domain::webhook::check_webhook;
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(change_webhook);
}

fn to_wire(row: &WebhookRow) -> Webhook {
    Webhook {
        id: row.id.clone(),
        url: row.url.clone(),
        events: row.event_list(),
        active: row.active,
        created_at: utc(row.created_at),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct WebhookQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The webhooks (admin); secrets are not shown.
#[utoipa::path(tag = "webhooks", params(WebhookQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<Webhook>), (status = 403, body = Problem)))]
#[get("/webhooks")]
async fn list_webhooks(
    state: State,
    actor: Authenticated,
    query: web::Query<WebhookQuery>,
) -> ApiResult<web::Json<Page<Webhook>>> {
    reach(&actor.0, Action::ManageWebhooks)?;
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let (after, limit) = (paging.after.clone(), paging.fetch());
    let rows = state
        .db
        .run(move |conn| webhooks::list_webhooks(conn, after.as_deref(), limit))
        .await?;
    Ok(web::Json(
        paging.page(rows.iter().map(to_wire).collect(), |w| w.id.clone()),
    ))
}

/// Adds a webhook (admin). Events are POSTed as JSON `{event, work_order, at}`, signed with
/// the secret, with a stable `X-Minqing-Delivery` id, and retried with backoff until the
/// receiver answers 2xx. Loopback, private, link-local and other internal targets are
/// refused (422 naming `url`) unless listed in `MINQING_OUTBOUND_ALLOW`; redirects are not
/// followed.
#[utoipa::path(tag = "webhooks", request_body = NewWebhook, security(("bearer" = [])), responses(
    (status = 201, body = Webhook), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[post("/webhooks")]
async fn create_webhook(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewWebhook>,
) -> ApiResult<HttpResponse> {
    reach(&actor.0, Action::ManageWebhooks)?;
    let NewWebhook {
        url,
        secret,
        events,
    } = body.0;
    let url = url.trim().to_string();
    check_webhook(&url, &secret, &events)?;
    state
        .config
        .outbound_allow
        .check_target(&url)
        .await
        .map_err(|reason| ApiError::invalid("url", reason))?;
    let row = WebhookRow {
        id: new_id(),
        url,
        secret,
        events: serde_json::to_string(&events).unwrap_or_else(|_| "[]".into()),
        active: true,
        created_at: Utc::now().naive_utc(),
    };
    let shown = to_wire(&row);
    state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                webhooks::insert_webhook(conn, &row)?;
                // The address and events; never the secret.
                let detail = json!({"url": row.url, "events": row.events});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::WebhookSaved,
                    Some(&row.id),
                    Some(detail),
                    Utc::now(),
                )
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(shown))
}

/// Pauses or resumes a webhook (admin).
#[utoipa::path(tag = "webhooks", request_body = WebhookChange, security(("bearer" = [])), responses(
    (status = 200, body = Webhook), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[patch("/webhooks/{id}")]
async fn change_webhook(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<WebhookChange>,
) -> ApiResult<web::Json<Webhook>> {
    reach(&actor.0, Action::ManageWebhooks)?;
    let id = id.into_inner();
    let active = body.0.active;
    let row = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let row = webhooks::set_active(conn, &id, active)?;
                if row.is_some() {
                    let detail = json!({"active": active});
                    audit::record(
                        conn,
                        &actor.0.user_id,
                        Audited::WebhookSaved,
                        Some(&id),
                        Some(detail),
                        Utc::now(),
                    )?;
                }
                Ok(row)
            })
        })
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    Ok(web::Json(to_wire(&row)))
}
