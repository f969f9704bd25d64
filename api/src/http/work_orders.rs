//! 民情工单: intake (signed in or anonymous), the life cycle steps, lists with the overdue
//! queue, details with the timeline, and public tracking by code and token or 查询码.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use minqing_protocol::{
    AssignRequest, DuplicateCandidate, Extension, ExtensionDecision, ExtensionRequest,
    InternalNoteRequest, NewWorkOrder, Page, Problem, ProgressRequest, RateRequest, RejectRequest,
    ResolveRequest, TimelineEvent, TrackView, WorkOrder, WorkOrderCreated, WorkOrderDetail,
    WorkOrderStatus,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{client_ip, required_note, Authenticated, JsonBody, MaybeAuthenticated};
use super::paging::{time_key, Paging};
use super::State;
use crate::audit::{self, Audited};
use crate::auth::tokens::hash_refresh_token;
use crate::db::models::{enum_text, parse_enum, utc};
use crate::db::work_orders::{self, EventRow, ExtensionRow, OrderFilter, WorkOrderRow};
use crate::db::{new_id, webhooks, DbConn};
use crate::domain::access::{order_parties, Actor};
use crate::domain::work_order::{may_write_internal_note, reporter_sees, Party};
use crate::error::{ApiError, ApiResult};
use crate::work_orders::{
    add_internal_note, confirm_on_spot, event, file_order, likely_duplicates, list_scope,
    order_by_query_code, order_for, take_step, track_view, Change, ReporterProof,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_order)
        .service(list_orders)
        .service(get_order)
        .service(assign_order)
        .service(accept_order)
        .service(progress_order)
        .service(resolve_order)
        .service(rate_order)
        .service(reject_order)
        .service(confirm_order)
        .service(add_note)
        .service(request_extension)
        .service(decide_extension)
        .service(track_order);
}

/// Reports an issue: a signed-in villager, a cadre during a visit (possibly solved on the
/// spot), a hotline operator, or anyone with a name and phone (rate-limited). Answers with
/// the order's code, and a tracking token and a 6-digit 查询码 shown only this once.
#[utoipa::path(tag = "work orders", request_body = NewWorkOrder, security((), ("bearer" = [])), responses(
    (status = 201, body = WorkOrderCreated), (status = 200, body = WorkOrderCreated, description = "a retry with the same client id"),
    (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
#[post("/work-orders")]
async fn create_order(
    state: State,
    req: HttpRequest,
    actor: MaybeAuthenticated,
    body: JsonBody<NewWorkOrder>,
) -> ApiResult<HttpResponse> {
    let (created, fresh) =
        file_order(&state, actor.0, &client_ip(&req), body.0, Vec::new()).await?;
    Ok(if fresh {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(created))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct OrderQuery {
    status: Option<WorkOrderStatus>,
    village_id: Option<String>,
    unit_id: Option<String>,
    assignee_id: Option<String>,
    category: Option<String>,
    /// `true`: only orders past their due time and not resolved, most overdue first.
    overdue: Option<bool>,
    /// Created at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The reporter's full phone is for supervisors of the order's subtree and for the staff
/// member it is assigned to by name (who calls back, 回访). Other members of the assigned
/// unit are assignees too in `order_parties`, but see it masked, like reporters.
fn sees_full_phone(actor: &Actor, row: &WorkOrderRow) -> bool {
    let parties = order_parties(actor, &row.facts());
    parties.contains(&Party::Supervisor)
        || (parties.contains(&Party::Assignee)
            && row.assignee_id.as_deref() == Some(actor.user_id.as_str()))
}

/// Work orders: supervisors see their subtree's, assignees their unit's, reporters their own.
/// Newest first; with `overdue=true`, most overdue first.
#[utoipa::path(tag = "work orders", params(OrderQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<WorkOrder>), (status = 422, body = Problem)))]
#[get("/work-orders")]
async fn list_orders(
    state: State,
    actor: Authenticated,
    query: web::Query<OrderQuery>,
) -> ApiResult<web::Json<Page<WorkOrder>>> {
    let actor = actor.0;
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let after = paging.after_time()?;
    let now = Utc::now();
    let overdue = q.overdue == Some(true);
    let filter = OrderFilter {
        scope: list_scope(&actor),
        status: q.status.map(|s| enum_text(&s)),
        village_id: q.village_id,
        unit_id: q.unit_id,
        assignee_id: q.assignee_id,
        category: q.category,
        source: None,
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        overdue_at: overdue.then(|| now.naive_utc()),
        after,
        limit: paging.fetch(),
    };
    let list = state
        .db
        .run(move |conn| {
            let rows = work_orders::list(conn, &filter)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut photos = work_orders::photo_ids_of(conn, &ids)?;
            rows.iter()
                .map(|r| {
                    let full = sees_full_phone(&actor, r);
                    r.to_wire(photos.remove(&r.id).unwrap_or_default(), full, now)
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    let key = move |o: &WorkOrder| {
        let at = if overdue {
            o.due_at.unwrap_or(o.created_at)
        } else {
            o.created_at
        };
        time_key(at, &o.id)
    };
    Ok(web::Json(paging.page(list, key)))
}

fn timeline(rows: Vec<EventRow>) -> Vec<TimelineEvent> {
    rows.into_iter()
        .map(|e| TimelineEvent {
            photo_ids: e.photos(),
            at: utc(e.at),
            kind: e.kind,
            actor_id: e.actor_id,
            actor_kind: e.actor_kind,
            note: e.note,
            data: e.data.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect()
}

/// Open orders of the same category within 200 m.
fn duplicates_of(conn: &mut DbConn, row: &WorkOrderRow) -> ApiResult<Vec<DuplicateCandidate>> {
    likely_duplicates(conn, row)?
        .into_iter()
        .map(|(o, distance_m)| {
            Ok(DuplicateCandidate {
                status: parse_enum(&o.status)?,
                id: o.id,
                code: o.code,
                title: o.title,
                distance_m,
            })
        })
        .collect()
}

/// One order with its timeline; supervisors also get likely duplicates, and they and the
/// assignee the reporter's full phone.
#[utoipa::path(tag = "work orders", security(("bearer" = [])), responses(
    (status = 200, body = WorkOrderDetail), (status = 404, body = Problem)))]
#[get("/work-orders/{id}")]
async fn get_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<WorkOrderDetail>> {
    let actor = actor.0;
    let now = Utc::now();
    let detail = state
        .db
        .run(move |conn| {
            let row =
                work_orders::find(conn, &id)?.ok_or_else(|| ApiError::not_found("work order"))?;
            let parties = order_parties(&actor, &row.facts());
            if parties.is_empty() {
                return Err(ApiError::not_found("work order"));
            }
            let supervisor = parties.contains(&Party::Supervisor);
            let photos = work_orders::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default();
            let full_phone = sees_full_phone(&actor, &row);
            if full_phone && row.reporter_phone.is_some() {
                conn.write(|conn| {
                    audit::record(
                        conn,
                        &actor.user_id,
                        Audited::ReporterRead,
                        Some(&row.id),
                        None,
                        now,
                    )
                })?;
            }
            Ok(WorkOrderDetail {
                order: row.to_wire(photos, full_phone, now)?,
                timeline: timeline(
                    work_orders::events_of(conn, &row.id)?
                        .into_iter()
                        // Staff see internal notes; a viewer who is only the reporter does not.
                        .filter(|e| may_write_internal_note(&parties) || reporter_sees(&e.kind))
                        .collect(),
                ),
                possible_duplicates: if supervisor {
                    Some(duplicates_of(conn, &row)?)
                } else {
                    None
                },
            })
        })
        .await?;
    Ok(web::Json(detail))
}

async fn step(
    state: State,
    actor: Option<Actor>,
    proof: ReporterProof,
    id: String,
    change: Change,
) -> ApiResult<web::Json<WorkOrder>> {
    let app = state.clone();
    let viewer = actor.clone();
    let order = state
        .db
        .run(move |conn| {
            let row = take_step(conn, &app, actor.as_ref(), &proof, &id, change)?;
            let full = viewer.as_ref().is_some_and(|a| sees_full_phone(a, &row));
            let photos = work_orders::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default();
            row.to_wire(photos, full, Utc::now())
        })
        .await?;
    Ok(web::Json(order))
}

/// The order's supervisors or assigned unit write an internal note for colleagues. It stays
/// in the staff's timeline and is never shown to the reporter: not on public tracking
/// (`/track/{code}`, the `/t` page) and not in the reporter's own view of the order. What
/// the reporter does see: the commitment (assign), progress notes, the resolution and a
/// rejection's reason.
#[utoipa::path(tag = "work orders", request_body = InternalNoteRequest, security(("bearer" = [])), responses(
    (status = 201, body = TimelineEvent), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[post("/work-orders/{id}/notes")]
async fn add_note(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<InternalNoteRequest>,
) -> ApiResult<HttpResponse> {
    let entry = state
        .db
        .run(move |conn| add_internal_note(conn, &actor.0, &id, &body.0.note))
        .await?;
    let wire = timeline(vec![entry])
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a note without its timeline entry")))?;
    Ok(HttpResponse::Created().json(wire))
}

/// A supervisor assigns the order to a unit (and optionally a person) with a committed
/// deadline: `due_at`, `due_in_days` or `due_in_working_days` (default: the category's).
#[utoipa::path(tag = "work orders", request_body = AssignRequest, security(("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/work-orders/{id}/assign")]
async fn assign_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<AssignRequest>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        Some(actor.0),
        ReporterProof::None,
        id.into_inner(),
        Change::Assign(body.0),
    )
    .await
}

/// A member of the assigned unit accepts the order.
#[utoipa::path(tag = "work orders", security(("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/work-orders/{id}/accept")]
async fn accept_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        Some(actor.0),
        ReporterProof::None,
        id.into_inner(),
        Change::Accept,
    )
    .await
}

/// A member of the assigned unit reports progress.
#[utoipa::path(tag = "work orders", request_body = ProgressRequest, security(("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/work-orders/{id}/progress")]
async fn progress_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<ProgressRequest>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        Some(actor.0),
        ReporterProof::None,
        id.into_inner(),
        Change::Progress(body.0),
    )
    .await
}

/// A member of the assigned unit resolves the order.
#[utoipa::path(tag = "work orders", request_body = ResolveRequest, security(("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/work-orders/{id}/resolve")]
async fn resolve_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<ResolveRequest>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        Some(actor.0),
        ReporterProof::None,
        id.into_inner(),
        Change::Resolve(body.0),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    /// The tracking token given when the order was filed.
    token: Option<String>,
    /// Instead of the token: the 6-digit 查询码 given when the order was filed. At most 10
    /// wrong tries per order and 30 per address an hour (then 429 with `Retry-After`).
    query_code: Option<String>,
}

impl TokenQuery {
    /// The token if given, else the 查询码.
    fn proof(self, req: &HttpRequest) -> ReporterProof {
        match (self.token, self.query_code) {
            (Some(token), _) => ReporterProof::Token(token),
            (None, Some(query_code)) => ReporterProof::QueryCode {
                query_code,
                client_ip: client_ip(req),
            },
            (None, None) => ReporterProof::None,
        }
    }
}

/// The reporter rates the answer 0–100: 60 or more closes the order, less reopens it.
/// An anonymous reporter passes the tracking token as `?token=`, or the 查询码 as
/// `?query_code=` (then `{id}` may be the order's code).
#[utoipa::path(tag = "work orders", params(TokenQuery), request_body = RateRequest, security((), ("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
    (status = 429, body = Problem, description = "too many wrong 查询码")))]
#[post("/work-orders/{id}/rate")]
async fn rate_order(
    state: State,
    req: HttpRequest,
    actor: MaybeAuthenticated,
    id: web::Path<String>,
    query: web::Query<TokenQuery>,
    body: JsonBody<RateRequest>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        actor.0,
        query.into_inner().proof(&req),
        id.into_inner(),
        Change::Rate(body.0),
    )
    .await
}

/// A supervisor rejects the order (not ours, or a duplicate of another) with a reason.
#[utoipa::path(tag = "work orders", request_body = RejectRequest, security(("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/work-orders/{id}/reject")]
async fn reject_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<RejectRequest>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        Some(actor.0),
        ReporterProof::None,
        id.into_inner(),
        Change::Reject(body.0),
    )
    .await
}

/// A supervisor of the order's subtree (not the cadre who filed it) confirms an order
/// resolved on the spot, which only then counts as collected by that cadre; idempotent.
#[utoipa::path(tag = "work orders", security(("bearer" = [])), responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem, description = "not resolved on the spot, or rejected")))]
#[post("/work-orders/{id}/confirm")]
async fn confirm_order(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<WorkOrder>> {
    let actor = actor.0;
    let order = state
        .db
        .run(move |conn| {
            let row = confirm_on_spot(conn, &actor, &id)?;
            let full = sees_full_phone(&actor, &row);
            let photos = work_orders::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default();
            row.to_wire(photos, full, Utc::now())
        })
        .await?;
    Ok(web::Json(order))
}

/// Public progress of an order for whoever holds its tracking token (`?token=`) or its
/// 查询码 (`?query_code=`): no names, phones or internal notes — only the steps, and the
/// answers meant for the reporter (progress, resolution, rejection) in words and photos.
#[utoipa::path(tag = "work orders", params(TokenQuery), responses(
    (status = 200, body = TrackView), (status = 404, body = Problem),
    (status = 429, body = Problem, description = "too many wrong 查询码")))]
#[get("/track/{code}")]
async fn track_order(
    state: State,
    req: HttpRequest,
    code: web::Path<String>,
    query: web::Query<TokenQuery>,
) -> ApiResult<web::Json<TrackView>> {
    let proof = query.into_inner().proof(&req);
    let app = state.clone();
    let view = state
        .db
        .run(move |conn| {
            let row = match proof {
                ReporterProof::QueryCode {
                    query_code,
                    client_ip,
                } => order_by_query_code(&app, conn, &code, &query_code, &client_ip, Utc::now())?,
                ReporterProof::Token(token) => work_orders::find_by_code(conn, &code)?
                    .filter(|r| hash_refresh_token(&token) == r.tracking_token_hash)
                    .ok_or_else(|| ApiError::not_found("work order"))?,
                ReporterProof::None | ReporterProof::Checked => {
                    return Err(ApiError::not_found("work order"))
                }
            };
            track_view(conn, &row)
        })
        .await?;
    Ok(web::Json(view))
}

fn extension_wire(row: ExtensionRow) -> Extension {
    Extension {
        requested_at: utc(row.requested_at),
        due_at: utc(row.due_at),
        decided_at: row.decided_at.map(utc),
        id: row.id,
        work_order_id: row.work_order_id,
        requested_by: row.requested_by,
        reason: row.reason,
        status: row.status,
        decided_by: row.decided_by,
    }
}

/// The assignee asks for a later deadline, with a reason; it moves only when a supervisor
/// approves, and compliance keeps measuring against the original one.
#[utoipa::path(tag = "work orders", request_body = ExtensionRequest, security(("bearer" = [])), responses(
    (status = 201, body = Extension), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem, description = "not being worked on, or a request is pending"), (status = 422, body = Problem)))]
#[post("/work-orders/{id}/extensions")]
async fn request_extension(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<ExtensionRequest>,
) -> ApiResult<HttpResponse> {
    let actor = actor.0;
    let ExtensionRequest {
        due_at: wanted,
        reason,
    } = body.0;
    let reason = required_note("reason", &reason)?;
    let now = Utc::now();
    let extension = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let row = order_for(conn, &actor, &id, Party::Assignee)?;
                let status: WorkOrderStatus = parse_enum(&row.status)?;
                let current = row.due_at.filter(|_| {
                    matches!(
                        status,
                        WorkOrderStatus::Assigned
                            | WorkOrderStatus::InProgress
                            | WorkOrderStatus::Reopened
                    )
                });
                let Some(current) = current else {
                    return Err(ApiError::Conflict(
                        "only an order being worked on, with a deadline, can be extended".into(),
                    ));
                };
                if wanted.naive_utc() <= current || wanted > now + chrono::Duration::days(366) {
                    return Err(ApiError::invalid(
                        "due_at",
                        "must be later than the current deadline and within a year",
                    ));
                }
                if work_orders::pending_extension(conn, &row.id)?.is_some() {
                    return Err(ApiError::Conflict(
                        "a request to extend this order waits for a decision".into(),
                    ));
                }
                let ext = ExtensionRow {
                    id: new_id(),
                    work_order_id: row.id.clone(),
                    requested_by: actor.user_id.clone(),
                    requested_at: now.naive_utc(),
                    due_at: wanted.naive_utc(),
                    reason: reason.clone(),
                    status: "pending".into(),
                    decided_by: None,
                    decided_at: None,
                };
                work_orders::insert_extension(conn, &ext)?;
                let data = serde_json::json!({"extension_id": ext.id, "due_at": wanted});
                work_orders::add_event(
                    conn,
                    &event(
                        &row.id,
                        now,
                        Some(&actor),
                        "extension_requested",
                        Some(reason),
                        Some(data),
                        &[],
                    ),
                )?;
                webhooks::publish(conn, "extension_requested", &row, now)?;
                Ok(extension_wire(ext))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(extension))
}

/// A supervisor approves (the deadline moves) or rejects a pending extension request.
#[utoipa::path(tag = "work orders", request_body = ExtensionDecision, security(("bearer" = [])), responses(
    (status = 200, body = Extension), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/work-orders/{id}/extensions/{eid}/decision")]
async fn decide_extension(
    state: State,
    actor: Authenticated,
    path: web::Path<(String, String)>,
    body: JsonBody<ExtensionDecision>,
) -> ApiResult<web::Json<Extension>> {
    let actor = actor.0;
    let (id, eid) = path.into_inner();
    let ExtensionDecision { approve, note } = body.0;
    let app = state.clone();
    let extension = state
        .db
        .run(move |conn| {
            crate::work_orders::decide_extension(conn, &app, &actor, &id, &eid, approve, note)
        })
        .await?;
    Ok(web::Json(extension_wire(extension)))
}
