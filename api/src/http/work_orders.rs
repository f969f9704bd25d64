//! 民情工单: intake (signed in or anonymous), the life cycle steps, lists with the overdue
//! queue, details with the timeline, and public tracking by code and token.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use minqing_protocol::{
    AssignRequest, DuplicateCandidate, Extension, ExtensionDecision, ExtensionRequest,
    NewWorkOrder, OrgUnitKind, Page, Problem, ProgressRequest, RateRequest, RejectRequest,
    ResolveRequest, Role, TimelineEvent, TrackEvent, TrackView, WorkOrder, WorkOrderCreated,
    WorkOrderDetail, WorkOrderStatus,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{client_ip, required_note, Authenticated, JsonBody, MaybeAuthenticated};
use super::paging::{time_key, Paging};
use super::State;
use crate::auth::tokens::{hash_refresh_token, random_secret};
use crate::db::categories::{self, CategoryRow};
use crate::db::models::{enum_text, parse_enum, utc};
use crate::db::work_orders::{self, EventRow, ExtensionRow, OrderFilter, OrderScope, WorkOrderRow};
use crate::db::{media, new_id, org, users, webhooks, DbConn};
use crate::domain::access::{authorize, order_parties, Action, Actor};
use crate::domain::checkin::distance_m;
use crate::domain::coords::LatLon;
use crate::domain::intake::parse_new_order;
use crate::domain::work_order::{
    initial_status, next_status, order_code, parse_score, Party, Refusal, Step,
};
use crate::domain::workdays::{deadline_notice, due_at, DueSpec, WorkCalendar};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};

/// Open orders of the same category within this distance are offered as likely duplicates.
const DUPLICATE_RADIUS_M: f64 = 200.0;

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
        .service(request_extension)
        .service(decide_extension)
        .service(track_order);
}

fn event(
    order_id: &str,
    at: DateTime<Utc>,
    actor: Option<&Actor>,
    kind: &str,
    note: Option<String>,
    data: Option<serde_json::Value>,
    photos: &[String],
) -> EventRow {
    EventRow {
        id: new_id(),
        work_order_id: order_id.to_string(),
        at: at.naive_utc(),
        actor_id: actor.map(|a| a.user_id.clone()),
        actor_kind: if actor.is_some() { "user" } else { "reporter" }.into(),
        kind: kind.into(),
        note,
        data: data.map(|d| d.to_string()),
        photo_ids: (!photos.is_empty()).then(|| serde_json::to_string(photos).unwrap_or_default()),
    }
}

/// The working-day calendar around `at` (the year before, that year and the two after).
fn calendar_around(conn: &mut DbConn, at: DateTime<Utc>) -> ApiResult<WorkCalendar> {
    use chrono::Datelike;
    let y = at.year();
    let days = categories::days_of_years(conn, &[y - 1, y, y + 1, y + 2])?;
    let (holidays, workdays): (Vec<_>, Vec<_>) = days
        .into_iter()
        .partition(|(_, k)| k == categories::HOLIDAY);
    Ok(WorkCalendar::new(
        holidays.into_iter().map(|(d, _)| d),
        workdays.into_iter().map(|(d, _)| d),
    ))
}

/// Photos given with an order or a step must be the actor's own uploads.
fn own_photos(conn: &mut DbConn, uploader: Option<&str>, ids: &[String]) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = media::find_many(conn, ids)?;
    let errors: Vec<Invalid> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| {
            !found
                .iter()
                .any(|m| &m.id == *id && uploader.is_some() && m.uploader_id.as_deref() == uploader)
        })
        .map(|(i, _)| Invalid::new(format!("photo_ids[{i}]"), "no photo of yours with that id"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Reports an issue: a signed-in villager, a cadre during a visit (possibly solved on the
/// spot), a hotline operator, or anyone with a name and phone (rate-limited). Answers with
/// the order's code and a tracking token shown only this once.
#[utoipa::path(tag = "work orders", request_body = NewWorkOrder, responses(
    (status = 201, body = WorkOrderCreated), (status = 200, body = WorkOrderCreated, description = "a retry with the same client id"),
    (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
#[post("/work-orders")]
async fn create_order(
    state: State,
    req: HttpRequest,
    actor: MaybeAuthenticated,
    body: JsonBody<NewWorkOrder>,
) -> ApiResult<HttpResponse> {
    let actor = actor.0;
    let input = body.0;
    let valid = parse_new_order(&input, actor.as_ref().map(|a| a.role))?;
    let now = Utc::now();
    if actor.is_none() {
        let ip = client_ip(&req);
        state.limiters.report_ip.check(&ip, now)?;
        state.limiters.report_ip.record(&ip, now);
        if let Some(phone) = &valid.reporter_phone {
            state.limiters.report_phone.check(phone.as_str(), now)?;
            state.limiters.report_phone.record(phone.as_str(), now);
        }
    }
    let request_hash = hex::encode(Sha256::digest(
        serde_json::to_vec(&input).unwrap_or_default(),
    ));
    let app = state.clone();
    let tz = state.rules.timezone;
    let (created, fresh) = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                if let Some(id) = &valid.id {
                    if let Some(existing) = work_orders::find(conn, id)? {
                        let same = existing.request_hash.as_deref() == Some(request_hash.as_str())
                            && existing.created_by == actor.as_ref().map(|a| a.user_id.clone());
                        if !same {
                            return Err(ApiError::Conflict(
                                "another work order was filed with this id".into(),
                            ));
                        }
                        let category = categories::find(conn, &existing.category)?;
                        return Ok((
                            WorkOrderCreated {
                                id: existing.id,
                                code: existing.code,
                                status: parse_enum(&existing.status)?,
                                // The token is never stored in the clear; a retry does not get it again.
                                tracking_token: String::new(),
                                deadline_notice: deadline_notice(
                                    category
                                        .map_or(0, |c| c.default_due_working_days.max(0) as u32),
                                ),
                            },
                            false,
                        ));
                    }
                }
                let category = categories::find(conn, &valid.category)?
                    .filter(|c| c.active)
                    .ok_or_else(|| ApiError::invalid("category", "no such category"))?;
                let village = org::find(conn, &valid.village_id)?
                    .filter(|v| v.kind == enum_text(&OrgUnitKind::Village))
                    .ok_or_else(|| ApiError::invalid("village_id", "no village with that id"))?;
                if let Some(a) = &actor {
                    if a.role == Role::Villager
                        && a.org_unit_id.as_deref() != Some(village.id.as_str())
                    {
                        return Err(ApiError::invalid(
                            "village_id",
                            "villagers report issues of their own village",
                        ));
                    }
                }
                own_photos(
                    conn,
                    actor.as_ref().map(|a| a.user_id.as_str()),
                    &valid.photo_ids,
                )?;
                let local_date = now.with_timezone(&app.rules.timezone).date_naive();
                let seq = work_orders::next_in_sequence(conn, &format!("order-code-{local_date}"))?;
                let token = random_secret();
                let status = initial_status(valid.resolved_on_spot);
                let (reporter_name, reporter_phone) = match (&actor, valid.source) {
                    (Some(a), minqing_protocol::WorkOrderSource::Villager) => {
                        let me = users::find_with_path(conn, &a.user_id)?.map(|(u, _)| u);
                        (
                            valid
                                .reporter_name
                                .clone()
                                .or(me.as_ref().map(|u| u.name.clone())),
                            me.map(|u| u.phone),
                        )
                    }
                    _ => (
                        valid.reporter_name.clone(),
                        valid.reporter_phone.clone().map(|p| p.into_string()),
                    ),
                };
                let row = WorkOrderRow {
                    id: valid.id.clone().unwrap_or_else(new_id),
                    code: order_code(local_date, u32::try_from(seq).unwrap_or(u32::MAX)),
                    tracking_token_hash: hash_refresh_token(&token),
                    category: category.code.clone(),
                    title: valid.title.clone(),
                    description: valid.description.clone(),
                    village_id: village.id.clone(),
                    org_path: village.path.clone(),
                    lat: valid.position.map(|p| p.0),
                    lon: valid.position.map(|p| p.1),
                    address: valid.address.clone(),
                    source: enum_text(&valid.source),
                    reporter_id: actor
                        .as_ref()
                        .filter(|a| a.role == Role::Villager)
                        .map(|a| a.user_id.clone()),
                    reporter_name,
                    reporter_phone,
                    created_by: actor.as_ref().map(|a| a.user_id.clone()),
                    status: enum_text(&status),
                    resolved_on_spot: valid.resolved_on_spot,
                    unit_id: None,
                    assignee_id: None,
                    commitment: None,
                    assigned_at: None,
                    accepted_at: None,
                    due_at: None,
                    original_due_at: None,
                    first_resolved_at: valid.resolved_on_spot.then(|| now.naive_utc()),
                    resolved_at: valid.resolved_on_spot.then(|| now.naive_utc()),
                    rating: None,
                    rated_at: None,
                    reopen_count: 0,
                    request_hash: valid.id.as_ref().map(|_| request_hash.clone()),
                    created_at: now.naive_utc(),
                };
                work_orders::insert(conn, &row, &valid.photo_ids, tz)?;
                work_orders::add_event(
                    conn,
                    &event(
                        &row.id,
                        now,
                        actor.as_ref(),
                        "submitted",
                        None,
                        None,
                        &valid.photo_ids,
                    ),
                )?;
                webhooks::publish(conn, "created", &row, now)?;
                if valid.resolved_on_spot {
                    work_orders::add_event(
                        conn,
                        &event(
                            &row.id,
                            now,
                            actor.as_ref(),
                            "resolved_on_spot",
                            valid.resolution_note.clone(),
                            None,
                            &[],
                        ),
                    )?;
                }
                Ok((
                    WorkOrderCreated {
                        id: row.id,
                        code: row.code,
                        status,
                        tracking_token: token,
                        deadline_notice: deadline_notice(
                            category.default_due_working_days.max(0) as u32
                        ),
                    },
                    true,
                ))
            })
        })
        .await?;
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
    let scope = match actor.role {
        Role::Admin => OrderScope::Everything,
        Role::Supervisor => {
            OrderScope::Subtree(actor.org_path.clone().unwrap_or_else(|| "\u{0}".into()))
        }
        Role::Cadre => OrderScope::Member {
            user_id: actor.user_id.clone(),
            unit_id: actor.org_unit_id.clone(),
        },
        Role::Villager => OrderScope::Reporter(actor.user_id.clone()),
    };
    let now = Utc::now();
    let overdue = q.overdue == Some(true);
    let filter = OrderFilter {
        scope,
        status: q.status.map(|s| enum_text(&s)),
        village_id: q.village_id,
        unit_id: q.unit_id,
        assignee_id: q.assignee_id,
        category: q.category,
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
                    let full = order_parties(&actor, &r.facts()).contains(&Party::Supervisor);
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
            at: utc(e.at),
            kind: e.kind,
            actor_id: e.actor_id,
            actor_kind: e.actor_kind,
            note: e.note,
            photo_ids: e
                .photo_ids
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or_default(),
            data: e.data.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect()
}

/// Open orders of the same category within 200 m.
fn duplicates_of(conn: &mut DbConn, row: &WorkOrderRow) -> ApiResult<Vec<DuplicateCandidate>> {
    let (Some(lat), Some(lon)) = (row.lat, row.lon) else {
        return Ok(Vec::new());
    };
    // A box a little larger than the radius; the exact distance is measured below.
    let dlat = DUPLICATE_RADIUS_M / 110_000.0;
    let dlon = dlat / lat.to_radians().cos().max(0.01);
    let nearby = work_orders::open_nearby(
        conn,
        &row.category,
        (lat - dlat, lon - dlon, lat + dlat, lon + dlon),
        &row.id,
    )?;
    let here = LatLon { lat, lon };
    let mut found: Vec<DuplicateCandidate> = nearby
        .into_iter()
        .filter_map(|o| {
            let d = distance_m(
                here,
                LatLon {
                    lat: o.lat?,
                    lon: o.lon?,
                },
            );
            (d <= DUPLICATE_RADIUS_M).then(|| -> ApiResult<_> {
                Ok(DuplicateCandidate {
                    status: parse_enum(&o.status)?,
                    id: o.id,
                    code: o.code,
                    title: o.title,
                    distance_m: (d * 10.0).round() / 10.0,
                })
            })
        })
        .collect::<ApiResult<_>>()?;
    found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(found)
}

/// One order with its timeline; supervisors also get likely duplicates and the full phone.
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
            Ok(WorkOrderDetail {
                order: row.to_wire(photos, supervisor, now)?,
                timeline: timeline(work_orders::events_of(conn, &row.id)?),
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

/// What a step changes besides the status.
enum Change {
    Assign(AssignRequest),
    Accept,
    Progress(ProgressRequest),
    Resolve(ResolveRequest),
    Rate(RateRequest),
    Reject(RejectRequest),
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::WrongParty { .. } => ApiError::Forbidden(r.to_string()),
        Refusal::Illegal { .. } => ApiError::Conflict(r.to_string()),
    }
}

/// Takes one step of the life cycle as `actor` (or as the anonymous reporter holding the
/// order's tracking token): checks who may, checks the state machine, applies the change,
/// and appends the timeline event — all in one transaction.
fn take_step(
    conn: &mut DbConn,
    state: &crate::http::AppState,
    actor: Option<&Actor>,
    token: Option<&str>,
    id: &str,
    change: Change,
) -> ApiResult<WorkOrderRow> {
    let now = Utc::now();
    conn.write(|conn| {
        let mut row = work_orders::find(conn, id)?.ok_or_else(|| ApiError::not_found("work order"))?;
        let mut parties = actor.map(|a| order_parties(a, &row.facts())).unwrap_or_default();
        if token.is_some_and(|t| hash_refresh_token(t) == row.tracking_token_hash) {
            parties.push(Party::Reporter);
        }
        if parties.is_empty() {
            return Err(ApiError::not_found("work order"));
        }
        let step = match &change {
            Change::Assign(_) => Step::Assign,
            Change::Accept => Step::Accept,
            Change::Progress(_) => Step::Progress,
            Change::Resolve(_) => Step::Resolve,
            Change::Rate(r) => Step::Rate { score: parse_score(r.score)? },
            Change::Reject(_) => Step::Reject,
        };
        let party = if parties.contains(&step.party()) { step.party() } else { parties[0] };
        let from: WorkOrderStatus = parse_enum(&row.status)?;
        let to = next_status(from, step, party).map_err(refusal)?;
        let uploader = actor.map(|a| a.user_id.as_str());
        let (kind, note, data, photos) = match change {
            Change::Assign(a) => {
                let commitment = required_note("commitment", &a.commitment)?;
                let unit = org::find(conn, &a.unit_id)?
                    .filter(|u| actor.is_some_and(|act| authorize(act, Action::ReadOrgUnits, Some(&u.path)).is_ok()))
                    .ok_or_else(|| ApiError::invalid("unit_id", "no org unit with that id"))?;
                if let Some(assignee) = &a.assignee_id {
                    let member = users::find_with_path(conn, assignee)?
                        .filter(|(u, _)| u.active && u.org_unit_id.as_deref() == Some(unit.id.as_str()));
                    if member.is_none() {
                        return Err(ApiError::invalid("assignee_id", "no active member of that unit with that id"));
                    }
                }
                let spec = match (a.due_at, a.due_in_days, a.due_in_working_days) {
                    (Some(t), None, None) => DueSpec::At(t),
                    (None, Some(d), None) => DueSpec::Days(d),
                    (None, None, Some(d)) => DueSpec::WorkingDays(d),
                    (None, None, None) => {
                        let cat: Option<CategoryRow> = categories::find(conn, &row.category)?;
                        DueSpec::WorkingDays(cat.map_or(3, |c| c.default_due_working_days.max(1) as u32))
                    }
                    _ => return Err(ApiError::invalid("due_at", "give one of due_at, due_in_days or due_in_working_days")),
                };
                let calendar = calendar_around(conn, now)?;
                let due = due_at(spec, now, state.rules.timezone, &calendar)?;
                row.unit_id = Some(unit.id.clone());
                row.assignee_id = a.assignee_id.clone();
                row.commitment = Some(commitment.clone());
                row.assigned_at = Some(now.naive_utc());
                row.accepted_at = None;
                row.due_at = Some(due.naive_utc());
                // The first committed deadline is the one compliance is measured against.
                row.original_due_at = row.original_due_at.or(Some(due.naive_utc()));
                let data = serde_json::json!({"unit_id": unit.id, "assignee_id": a.assignee_id, "due_at": due});
                ("assigned", Some(commitment), Some(data), Vec::new())
            }
            Change::Accept => {
                // The first acceptance of an assignment is what the response rate measures.
                row.accepted_at = row.accepted_at.or(Some(now.naive_utc()));
                ("accepted", None, None, Vec::new())
            }
            Change::Progress(p) => {
                let note = required_note("note", &p.note)?;
                let photos = p.photo_ids.unwrap_or_default();
                own_photos(conn, uploader, &photos)?;
                ("progress", Some(note), None, photos)
            }
            Change::Resolve(r) => {
                let note = required_note("resolution_note", &r.resolution_note)?;
                let photos = r.photo_ids.unwrap_or_default();
                own_photos(conn, uploader, &photos)?;
                row.resolved_at = Some(now.naive_utc());
                row.first_resolved_at = row.first_resolved_at.or(Some(now.naive_utc()));
                ("resolved", Some(note), None, photos)
            }
            Change::Rate(r) => {
                let score = parse_score(r.score)?;
                let comment = r.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(|c| c.chars().take(2000).collect());
                row.rating = Some(i32::from(score));
                row.rated_at = Some(now.naive_utc());
                if to == WorkOrderStatus::Reopened {
                    // Back to the unit with a fresh deadline of the category's default length.
                    row.reopen_count += 1;
                    row.resolved_at = None;
                    let cat = categories::find(conn, &row.category)?;
                    let calendar = calendar_around(conn, now)?;
                    let days = cat.map_or(3, |c| c.default_due_working_days.max(1) as u32);
                    row.due_at = Some(due_at(DueSpec::WorkingDays(days), now, state.rules.timezone, &calendar)?.naive_utc());
                }
                let kind = if to == WorkOrderStatus::Reopened { "reopened" } else { "closed" };
                (kind, comment, Some(serde_json::json!({"score": score})), Vec::new())
            }
            Change::Reject(r) => {
                let reason = required_note("reason", &r.reason)?;
                let duplicate = match &r.duplicate_of {
                    Some(other) => Some(
                        work_orders::find(conn, other)?
                            .or(work_orders::find_by_code(conn, other)?)
                            .filter(|o| o.id != row.id)
                            .ok_or_else(|| ApiError::invalid("duplicate_of", "no work order with that id or code"))?
                            .code,
                    ),
                    None => None,
                };
                ("rejected", Some(reason), duplicate.map(|d| serde_json::json!({"duplicate_of": d})), Vec::new())
            }
        };
        row.status = enum_text(&to);
        work_orders::update(conn, &row, state.rules.timezone)?;
        work_orders::add_photos(conn, &row.id, &photos)?;
        work_orders::add_event(conn, &event(&row.id, now, actor, kind, note, data, &photos))?;
        webhooks::publish(conn, kind, &row, now)?;
        Ok(row)
    })
}

async fn step(
    state: State,
    actor: Option<Actor>,
    token: Option<String>,
    id: String,
    change: Change,
) -> ApiResult<web::Json<WorkOrder>> {
    let app = state.clone();
    let viewer = actor.clone();
    let order = state
        .db
        .run(move |conn| {
            let row = take_step(conn, &app, actor.as_ref(), token.as_deref(), &id, change)?;
            let full = viewer
                .as_ref()
                .is_some_and(|a| order_parties(a, &row.facts()).contains(&Party::Supervisor));
            let photos = work_orders::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default();
            row.to_wire(photos, full, Utc::now())
        })
        .await?;
    Ok(web::Json(order))
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
        None,
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
    step(state, Some(actor.0), None, id.into_inner(), Change::Accept).await
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
        None,
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
        None,
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
}

/// The reporter rates the answer 0–100: 60 or more closes the order, less reopens it.
/// An anonymous reporter passes the tracking token as `?token=`.
#[utoipa::path(tag = "work orders", params(TokenQuery), request_body = RateRequest, responses(
    (status = 200, body = WorkOrder), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/work-orders/{id}/rate")]
async fn rate_order(
    state: State,
    actor: MaybeAuthenticated,
    id: web::Path<String>,
    query: web::Query<TokenQuery>,
    body: JsonBody<RateRequest>,
) -> ApiResult<web::Json<WorkOrder>> {
    step(
        state,
        actor.0,
        query.into_inner().token,
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
        None,
        id.into_inner(),
        Change::Reject(body.0),
    )
    .await
}

/// Public progress of an order for whoever holds its tracking token: no names, phones or
/// internal notes — only the steps, and the resolution or rejection in words.
#[utoipa::path(tag = "work orders", params(TokenQuery), responses(
    (status = 200, body = TrackView), (status = 404, body = Problem)))]
#[get("/track/{code}")]
async fn track_order(
    state: State,
    code: web::Path<String>,
    query: web::Query<TokenQuery>,
) -> ApiResult<web::Json<TrackView>> {
    let token = query.into_inner().token.unwrap_or_default();
    let view = state
        .db
        .run(move |conn| {
            let row = work_orders::find_by_code(conn, &code)?
                .filter(|r| {
                    !token.is_empty() && hash_refresh_token(&token) == r.tracking_token_hash
                })
                .ok_or_else(|| ApiError::not_found("work order"))?;
            let category = categories::find(conn, &row.category)?;
            let events = work_orders::events_of(conn, &row.id)?;
            Ok(TrackView {
                code: row.code,
                category: category
                    .as_ref()
                    .map_or(row.category.clone(), |c| c.name.clone()),
                status: parse_enum(&row.status)?,
                created_at: utc(row.created_at),
                due_at: row.due_at.map(utc),
                resolved_at: row.resolved_at.map(utc),
                deadline_notice: deadline_notice(
                    category.map_or(0, |c| c.default_due_working_days.max(0) as u32),
                ),
                timeline: events
                    .into_iter()
                    .map(|e| TrackEvent {
                        at: utc(e.at),
                        // Only answers meant for the reporter are public; working notes are not.
                        note: matches!(
                            e.kind.as_str(),
                            "resolved" | "resolved_on_spot" | "rejected" | "assigned"
                        )
                        .then_some(e.note)
                        .flatten(),
                        kind: e.kind,
                    })
                    .collect(),
            })
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

/// The order if `party` may act on it: 404 when the actor may not see it, 403 when they
/// may see it but not in that capacity.
fn order_for(conn: &mut DbConn, actor: &Actor, id: &str, party: Party) -> ApiResult<WorkOrderRow> {
    let row = work_orders::find(conn, id)?.ok_or_else(|| ApiError::not_found("work order"))?;
    let parties = order_parties(actor, &row.facts());
    if parties.is_empty() {
        return Err(ApiError::not_found("work order"));
    }
    if !parties.contains(&party) {
        return Err(ApiError::Forbidden(format!(
            "only the order's {} may do this",
            party.name()
        )));
    }
    Ok(row)
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
    let now = Utc::now();
    let tz = state.rules.timezone;
    let extension = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let mut row = order_for(conn, &actor, &id, Party::Supervisor)?;
                let ext = work_orders::find_extension(conn, &row.id, &eid)?
                    .ok_or_else(|| ApiError::not_found("extension request"))?;
                let status = if approve { "approved" } else { "rejected" };
                if !work_orders::decide_extension(
                    conn,
                    &ext.id,
                    status,
                    &actor.user_id,
                    now.naive_utc(),
                )? {
                    return Err(ApiError::Conflict(format!(
                        "this request was already {}",
                        ext.status
                    )));
                }
                if approve {
                    row.due_at = Some(ext.due_at);
                    work_orders::update(conn, &row, tz)?;
                }
                let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
                let data = serde_json::json!({"extension_id": ext.id, "due_at": utc(ext.due_at)});
                work_orders::add_event(
                    conn,
                    &event(
                        &row.id,
                        now,
                        Some(&actor),
                        &format!("extension_{status}"),
                        note,
                        Some(data),
                        &[],
                    ),
                )?;
                webhooks::publish(conn, &format!("extension_{status}"), &row, now)?;
                let decided = work_orders::find_extension(conn, &row.id, &ext.id)?
                    .ok_or_else(|| ApiError::not_found("extension request"))?;
                Ok(extension_wire(decided))
            })
        })
        .await?;
    Ok(web::Json(extension))
}
