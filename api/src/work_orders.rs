//! 民情工单 as a service the JSON API and the server-rendered pages share: filing an order,
//! the steps of its life cycle, finding one by its code and 查询码, and what its reporter may
//! see of it.

use chrono::{DateTime, Utc};
use minqing_protocol::{
    AssignRequest, NewWorkOrder, OrgUnitKind, ProgressRequest, RateRequest, RejectRequest,
    ResolveRequest, Role, TrackEvent, TrackView, WorkOrderCreated, WorkOrderSource,
    WorkOrderStatus,
};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::auth::tokens::{hash_refresh_token, random_secret};
use crate::db::categories::{self, CategoryRow};
use crate::db::models::{enum_text, parse_enum, utc};
use crate::db::work_orders::{self, EventRow, ExtensionRow, OrderScope, WorkOrderRow};
use crate::db::{media, new_id, org, users, webhooks, DbConn};
use crate::domain::access::{authorize, order_parties, Action, Actor};
use crate::domain::checkin::distance_m;
use crate::domain::coords::LatLon;
use crate::domain::intake::{parse_new_order, ValidOrder};
use crate::domain::work_order::{
    initial_status, is_overdue, may_write_internal_note, next_status, order_code, parse_score,
    reporter_sees, Party, Refusal, Step, INTERNAL_NOTE,
};
use crate::domain::workdays::{deadline_notice, due_at, DueSpec, WorkCalendar};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::required_note;
use crate::http::{AppState, State};

/// Timeline entries whose note and photos are answers to the reporter, shown on public
/// tracking; the rest (acceptance, extensions, ratings) are working records.
const PUBLIC_KINDS: [&str; 5] = [
    "assigned",
    "progress",
    "resolved",
    "resolved_on_spot",
    "rejected",
];

/// The same answer for an unknown order code and a wrong 查询码, so neither can be probed.
const NO_SUCH_ORDER: &str = "no work order with that code and 查询码";

/// One timeline entry; `actor` none means the anonymous reporter.
pub fn event(
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

/// Photos given with an order or a step must be the actor's own uploads.
pub fn own_photos(conn: &mut DbConn, uploader: Option<&str>, ids: &[String]) -> ApiResult<()> {
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

/// What is kept of a 查询码: hex SHA-256 of `"{order_id}:{code}"`, so the same six digits
/// give different hashes on different orders.
fn hash_query_code(order_id: &str, query_code: &str) -> String {
    hex::encode(Sha256::digest(format!("{order_id}:{query_code}")))
}

/// Files an issue: a signed-in villager, a cadre during a visit (possibly solved on the
/// spot), a hotline operator, or anyone with a name and phone (rate-limited per address and
/// phone, counted before any work). A retry with the same client id answers the first order
/// again (`false`: not newly created) without its token and 查询码, which are never stored.
///
/// `vouched_photo_ids` are photos the caller itself has just stored for this report with no
/// uploader (`crate::media::store_photo` with `None`); they are attached besides
/// `input.photo_ids`, which must be the actor's own uploads.
pub async fn file_order(
    state: &State,
    actor: Option<Actor>,
    client_ip: &str,
    input: NewWorkOrder,
    vouched_photo_ids: Vec<String>,
) -> ApiResult<(WorkOrderCreated, bool)> {
    let valid = parse_new_order(&input, actor.as_ref().map(|a| a.role))?;
    let now = Utc::now();
    if actor.is_none() {
        let (app, ip) = (state.clone(), client_ip.to_string());
        let phone = valid
            .reporter_phone
            .as_ref()
            .map(|p| p.as_str().to_string());
        state
            .db
            .run(move |conn| {
                app.limiters.report_ip.take(conn, &ip, now)?;
                match phone {
                    Some(phone) => app.limiters.report_phone.take(conn, &phone, now),
                    None => Ok(()),
                }
            })
            .await?;
    }
    let request_hash = hex::encode(Sha256::digest(
        serde_json::to_vec(&input).unwrap_or_default(),
    ));
    let tz = state.rules.timezone;
    state
        .db
        .run(move |conn| {
            let file = |conn: &mut DbConn| {
                conn.write(|conn| {
                    file_in(
                        conn,
                        &valid,
                        &actor,
                        &request_hash,
                        &vouched_photo_ids,
                        now,
                        tz,
                    )
                })
            };
            // Identical retries racing each other (a phone resending while the first is still
            // in flight): the losers' inserts break the unique id, and the second attempt finds
            // the winner's order and answers it like any retry. Another body is still 409.
            match file(conn) {
                Err(ApiError::Conflict(_)) => file(conn),
                other => other,
            }
        })
        .await
}

/// One attempt at filing `valid`, in one transaction (see [`file_order`]).
fn file_in(
    conn: &mut DbConn,
    valid: &ValidOrder,
    actor: &Option<Actor>,
    request_hash: &str,
    vouched_photo_ids: &[String],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> ApiResult<(WorkOrderCreated, bool)> {
    if let Some(id) = &valid.id {
        if let Some(existing) = work_orders::find(conn, id)? {
            let same = existing.request_hash.as_deref() == Some(request_hash)
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
                    // Neither is stored in the clear; a retry does not get them again.
                    tracking_token: String::new(),
                    query_code: String::new(),
                    deadline_notice: deadline_notice(
                        category.map_or(0, |c| c.default_due_working_days.max(0) as u32),
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
        if a.role == Role::Villager && a.org_unit_id.as_deref() != Some(village.id.as_str()) {
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
    let mut photos = valid.photo_ids.clone();
    let mut vouched: Vec<String> = Vec::new();
    for id in vouched_photo_ids {
        if !photos.contains(id) && !vouched.contains(id) {
            vouched.push(id.clone());
        }
    }
    if !vouched.is_empty() {
        let found = media::find_many(conn, &vouched)?;
        let anonymous = vouched
            .iter()
            .all(|id| found.iter().any(|m| &m.id == id && m.uploader_id.is_none()));
        if !anonymous {
            // The caller's own mistake, never the reporter's.
            return Err(ApiError::Internal(anyhow::anyhow!(
                "vouched photos {vouched:?} are not all anonymous uploads"
            )));
        }
        photos.extend(vouched);
    }
    let local_date = now.with_timezone(&tz).date_naive();
    let seq = work_orders::next_in_sequence(conn, &format!("order-code-{local_date}"))?;
    let token = random_secret();
    let query_code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let status = initial_status(valid.resolved_on_spot);
    let (reporter_name, reporter_phone) = match (&actor, valid.source) {
        (Some(a), WorkOrderSource::Villager) => {
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
        request_hash: valid.id.as_ref().map(|_| request_hash.to_string()),
        created_at: now.naive_utc(),
    };
    work_orders::insert(conn, &row, &photos, tz)?;
    work_orders::set_query_code_hash(conn, &row.id, &hash_query_code(&row.id, &query_code))?;
    work_orders::add_event(
        conn,
        &event(
            &row.id,
            now,
            actor.as_ref(),
            "submitted",
            None,
            None,
            &photos,
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
            query_code,
            deadline_notice: deadline_notice(category.default_due_working_days.max(0) as u32),
        },
        true,
    ))
}

/// The order with `code` (`MQ-20261202-0001`, any case) if `query_code` is its 查询码.
/// Wrong tries are limited per order code (10 an hour) and per client address (30 an hour);
/// the limits are checked before comparing, so a key over its limit gets 429 even with the
/// right code, and only wrong tries count. An unknown code is a wrong try like any other,
/// and answers the same 404 as a wrong 查询码.
pub fn order_by_query_code(
    state: &AppState,
    conn: &mut DbConn,
    code: &str,
    query_code: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> ApiResult<WorkOrderRow> {
    let code = code.trim().to_ascii_uppercase();
    state.limiters.query_code_order.check(conn, &code, now)?;
    state.limiters.query_code_ip.check(conn, client_ip, now)?;
    let matched = match work_orders::find_by_code(conn, &code)? {
        Some(row) => {
            let stored = work_orders::query_code_hash(conn, &row.id)?;
            let given = hash_query_code(&row.id, query_code.trim());
            (stored.as_deref() == Some(given.as_str())).then_some(row)
        }
        None => None,
    };
    match matched {
        Some(row) => Ok(row),
        None => {
            state.limiters.query_code_order.record(conn, &code, now)?;
            state.limiters.query_code_ip.record(conn, client_ip, now)?;
            Err(ApiError::NotFound(NO_SUCH_ORDER.into()))
        }
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

/// What a step changes besides the status.
pub enum Change {
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

/// How an anonymous reporter shows that an order is theirs.
pub enum ReporterProof {
    None,
    /// The tracking token given when the order was filed.
    Token(String),
    /// The 6-digit 查询码 given when the order was filed (limited per order and address).
    QueryCode {
        query_code: String,
        client_ip: String,
    },
    /// The caller has checked the token or 查询码 already (`order_by_query_code`).
    Checked,
}

/// Takes one step of the life cycle as `actor` (or as the anonymous reporter holding the
/// order's tracking token or 查询码; with a 查询码, `id` may also be the order's code): checks
/// who may, checks the state machine, applies the change, and appends the timeline event —
/// all in one transaction.
pub fn take_step(
    conn: &mut DbConn,
    state: &AppState,
    actor: Option<&Actor>,
    proof: &ReporterProof,
    id: &str,
    change: Change,
) -> ApiResult<WorkOrderRow> {
    let now = Utc::now();
    conn.write(|conn| {
        let found = work_orders::find(conn, id)?;
        let (mut row, reporter) = match proof {
            ReporterProof::QueryCode { query_code, client_ip } => {
                let code = found.map_or_else(|| id.to_string(), |r| r.code);
                (order_by_query_code(state, conn, &code, query_code, client_ip, now)?, true)
            }
            ReporterProof::Token(token) => {
                let row = found.ok_or_else(|| ApiError::not_found("work order"))?;
                let reporter = hash_refresh_token(token) == row.tracking_token_hash;
                (row, reporter)
            }
            ReporterProof::Checked => (found.ok_or_else(|| ApiError::not_found("work order"))?, true),
            ReporterProof::None => (found.ok_or_else(|| ApiError::not_found("work order"))?, false),
        };
        let mut parties = actor.map(|a| order_parties(a, &row.facts())).unwrap_or_default();
        if reporter {
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
                            // Another town's order answers as missing, so none can be probed.
                            .filter(|o| actor.is_some_and(|a| order_parties(a, &o.facts()).contains(&Party::Supervisor)))
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

/// Adds a staff member's internal note to order `id` (its supervisors and assigned unit may;
/// anyone else gets 404, a reporter 403). The status does not change and no webhook fires:
/// the note is a working record, never shown to the reporter (see [`track_view`]).
pub fn add_internal_note(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    note: &str,
) -> ApiResult<EventRow> {
    let note = required_note("note", note)?;
    conn.write(|conn| {
        let row = work_orders::find(conn, id)?.ok_or_else(|| ApiError::not_found("work order"))?;
        let parties = order_parties(actor, &row.facts());
        if parties.is_empty() {
            return Err(ApiError::not_found("work order"));
        }
        if !may_write_internal_note(&parties) {
            return Err(ApiError::Forbidden(
                "only the order's supervisors and assigned unit write internal notes".into(),
            ));
        }
        let entry = event(
            &row.id,
            Utc::now(),
            Some(actor),
            INTERNAL_NOTE,
            Some(note),
            None,
            &[],
        );
        work_orders::add_event(conn, &entry)?;
        Ok(entry)
    })
}

/// The reporter rates order `id` 0–100 (60 or more closes it, less reopens it with a fresh
/// deadline), once the caller has checked their 查询码 or token (`order_by_query_code`).
pub fn rate_as_reporter(
    conn: &mut DbConn,
    state: &AppState,
    id: &str,
    score: i64,
    comment: Option<String>,
) -> ApiResult<WorkOrderRow> {
    take_step(
        conn,
        state,
        None,
        &ReporterProof::Checked,
        id,
        Change::Rate(RateRequest { score, comment }),
    )
}

/// Which orders a list may show `actor`: supervisors their subtree's, admins all, cadres
/// those assigned to them or their unit, villagers their own.
pub fn list_scope(actor: &Actor) -> OrderScope {
    match actor.role {
        Role::Admin => OrderScope::Everything,
        // A supervisor without a unit matches no path at all.
        Role::Supervisor => {
            OrderScope::Subtree(actor.org_path.clone().unwrap_or_else(|| "\u{0}".into()))
        }
        Role::Cadre => OrderScope::Member {
            user_id: actor.user_id.clone(),
            unit_id: actor.org_unit_id.clone(),
        },
        Role::Villager => OrderScope::Reporter(actor.user_id.clone()),
    }
}

/// Open orders of the same category within this distance are offered as likely duplicates.
pub const DUPLICATE_RADIUS_M: f64 = 200.0;

/// Open orders of `row`'s category within [`DUPLICATE_RADIUS_M`], nearest first, each with
/// its distance in metres (to a tenth): the likely duplicates a supervisor is offered.
pub fn likely_duplicates(
    conn: &mut DbConn,
    row: &WorkOrderRow,
) -> ApiResult<Vec<(WorkOrderRow, f64)>> {
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
    let mut found: Vec<(WorkOrderRow, f64)> = nearby
        .into_iter()
        .filter_map(|o| {
            let there = LatLon {
                lat: o.lat?,
                lon: o.lon?,
            };
            let d = distance_m(here, there);
            (d <= DUPLICATE_RADIUS_M).then_some((o, (d * 10.0).round() / 10.0))
        })
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1));
    Ok(found)
}

/// The order if `party` may act on it: 404 when the actor may not see it, 403 when they
/// may see it but not in that capacity.
pub fn order_for(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    party: Party,
) -> ApiResult<WorkOrderRow> {
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

/// A supervisor of the order's subtree confirms an order resolved on the spot: only then
/// (or once its reporter closes it with a rating of 60 or more) does it count as collected
/// by the cadre who filed it, so nobody raises their own score alone. Confirming again
/// changes nothing; the filer may not confirm their own order.
pub fn confirm_on_spot(conn: &mut DbConn, actor: &Actor, id: &str) -> ApiResult<WorkOrderRow> {
    let now = Utc::now();
    conn.write(|conn| {
        let row = order_for(conn, actor, id, Party::Supervisor)?;
        if row.created_by.as_deref() == Some(actor.user_id.as_str()) {
            return Err(ApiError::Forbidden(
                "nobody confirms an order they filed themselves".into(),
            ));
        }
        if !row.resolved_on_spot || row.status == enum_text(&WorkOrderStatus::Rejected) {
            return Err(ApiError::Conflict(
                "only an order resolved on the spot, and not rejected, is confirmed".into(),
            ));
        }
        if work_orders::confirm(conn, &row.id, &actor.user_id, now.naive_utc())? {
            work_orders::add_event(
                conn,
                &event(&row.id, now, Some(actor), "confirmed", None, None, &[]),
            )?;
        }
        Ok(row)
    })
}

/// A supervisor of the order approves (the deadline moves; the original one stays for
/// compliance) or rejects a pending extension request, with an optional note, in one
/// transaction with its timeline event. Returns the decided request.
pub fn decide_extension(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Actor,
    order_id: &str,
    extension_id: &str,
    approve: bool,
    note: Option<String>,
) -> ApiResult<ExtensionRow> {
    let now = Utc::now();
    conn.write(|conn| {
        let mut row = order_for(conn, actor, order_id, Party::Supervisor)?;
        let ext = work_orders::find_extension(conn, &row.id, extension_id)?
            .ok_or_else(|| ApiError::not_found("extension request"))?;
        if ext.requested_by == actor.user_id {
            return Err(ApiError::Forbidden(
                "nobody decides an extension they asked for themselves".into(),
            ));
        }
        let status = if approve { "approved" } else { "rejected" };
        if !work_orders::decide_extension(conn, &ext.id, status, &actor.user_id, now.naive_utc())? {
            return Err(ApiError::Conflict(format!(
                "this request was already {}",
                ext.status
            )));
        }
        if approve {
            row.due_at = Some(ext.due_at);
            work_orders::update(conn, &row, state.rules.timezone)?;
        }
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        let data = serde_json::json!({"extension_id": ext.id, "due_at": utc(ext.due_at)});
        let kind = format!("extension_{status}");
        work_orders::add_event(
            conn,
            &event(&row.id, now, Some(actor), &kind, note, Some(data), &[]),
        )?;
        webhooks::publish(conn, &kind, &row, now)?;
        work_orders::find_extension(conn, &row.id, &ext.id)?
            .ok_or_else(|| ApiError::not_found("extension request"))
    })
}

/// Whether an order missed its deadline: first resolved after its first committed deadline
/// (as compliance counts it), or open past its current one now (a reopened order too).
pub fn was_late(row: &WorkOrderRow, now: DateTime<Utc>) -> ApiResult<bool> {
    let resolved_late = row
        .first_resolved_at
        .zip(row.original_due_at)
        .is_some_and(|(first, due)| first > due);
    Ok(resolved_late || is_overdue(parse_enum(&row.status)?, row.due_at.map(utc), now))
}

fn is_public(event: &EventRow) -> bool {
    PUBLIC_KINDS.contains(&event.kind.as_str())
}

/// What the reporter sees of an order: no names, phones or working notes — the steps, and
/// the answers meant for them with their photos.
pub fn track_view(conn: &mut DbConn, row: &WorkOrderRow) -> ApiResult<TrackView> {
    let category = categories::find(conn, &row.category)?;
    let village = org::find(conn, &row.village_id)?.map_or_else(String::new, |v| v.name);
    let events = work_orders::events_of(conn, &row.id)?;
    Ok(TrackView {
        code: row.code.clone(),
        title: row.title.clone(),
        village,
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
        rating: row.rating,
        timeline: events
            .into_iter()
            // Internal notes are not even listed: that staff wrote one is a working record too.
            .filter(|e| reporter_sees(&e.kind))
            .map(|e| {
                let public = is_public(&e);
                TrackEvent {
                    at: utc(e.at),
                    photo_ids: if public { e.photos() } else { Vec::new() },
                    note: if public { e.note } else { None },
                    kind: e.kind,
                }
            })
            .collect(),
    })
}

/// Every photo the public timeline of an order shows (`track_view`), each once: the only
/// photos of the order a page may serve to its reporter.
pub fn public_photo_ids(conn: &mut DbConn, row: &WorkOrderRow) -> ApiResult<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for event in work_orders::events_of(conn, &row.id)?
        .iter()
        .filter(|e| is_public(e))
    {
        for id in event.photos() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_code_hashes_depend_on_the_order() {
        let a = hash_query_code("order-a", "123456");
        // sha256("order-a:123456"), as any other tool computes it.
        assert_eq!(
            a,
            "f1baa15838c0e84c5503271f761fb79d09cbeb837848b28512c7a8166930aab9"
        );
        assert_ne!(a, hash_query_code("order-b", "123456"));
        assert_ne!(a, hash_query_code("order-a", "123457"));
    }
}
