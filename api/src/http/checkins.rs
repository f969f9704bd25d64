//! 四夜 and 住夜 check-ins (idempotent by client id, one by one or in offline batches),
//! their review by supervisors, and the stays they make.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use minqing_protocol::{
    BatchItem, Checkin, CheckinKind, CheckinReceipt, CheckinStatus, Flag, NewCheckin, OrgUnitKind,
    Page, Problem, ReportedPosition, Review, ReviewRequest, Stay,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{parse_json, Authenticated, JsonBody};
use super::paging::{time_key, Paging};
use super::State;
use crate::checkins::{decide, find_reachable, review_reason};
use crate::db::checkins::{self, CheckinFilter, CheckinRow, StayFilter, StayRow};
use crate::db::models::{enum_text, parse_enum, utc};
use crate::db::{media, new_id, org, DbConn};
use crate::domain::access::{reach, Action};
use crate::domain::checkin::{
    assess, night_date, parse_checkin, status_for, stay_status, CheckinPlace, CheckinRules,
    Evidence, PhotoEvidence,
};
use crate::domain::coords::LatLon;
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::night_sessions;
use crate::villages::BoundaryCache;

/// Most check-ins in one batch.
pub const MAX_BATCH: usize = 500;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_checkin)
        .service(batch_checkins)
        .service(list_checkins)
        .service(get_checkin)
        .service(review_checkin)
        .service(list_stays);
}

fn receipt_of(row: &CheckinRow) -> ApiResult<CheckinReceipt> {
    Ok(CheckinReceipt {
        id: row.id.clone(),
        status: parse_enum(&row.status)?,
        flags: parse_flags(&row.flags)?,
        stay_id: row.stay_id.clone(),
    })
}

fn parse_flags(text: &str) -> ApiResult<Vec<Flag>> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored flags: {e}")))
}

fn to_wire(row: CheckinRow, photo_ids: Vec<String>) -> ApiResult<Checkin> {
    let review = match (&row.reviewed_by, row.reviewed_at) {
        (Some(by), Some(at)) => Some(Review {
            reviewed_by: by.clone(),
            reviewed_at: utc(at),
            reason: row.review_reason.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Checkin {
        kind: parse_enum(&row.kind)?,
        status: parse_enum(&row.status)?,
        flags: parse_flags(&row.flags)?,
        reported: ReportedPosition {
            lat: row.reported_lat,
            lon: row.reported_lon,
            crs: parse_enum(&row.crs)?,
        },
        recorded_at: utc(row.recorded_at),
        received_at: utc(row.received_at),
        photo_ids,
        review,
        id: row.id,
        user_id: row.user_id,
        village_id: row.village_id,
        lat: row.lat,
        lon: row.lon,
        accuracy_m: row.accuracy_m,
        night_date: row.night_date,
        device_id: row.device_id,
        mock_location: row.mock_location,
        note: row.note,
        household: row.household,
        stay_id: row.stay_id,
        session_id: row.session_id,
    })
}

/// Everything recording needs besides the connection.
pub struct Recorder<'a> {
    pub rules: &'a CheckinRules,
    pub boundaries: &'a BoundaryCache,
    pub now: DateTime<Utc>,
}

/// The answer for a check-in id seen before: the same request gets the first answer.
fn seen_before(
    existing: &CheckinRow,
    user_id: &str,
    request_hash: &str,
) -> ApiResult<(CheckinReceipt, bool)> {
    if existing.user_id == user_id && existing.request_hash == request_hash {
        Ok((receipt_of(existing)?, false))
    } else {
        Err(ApiError::Conflict(
            "another check-in was recorded with this id".into(),
        ))
    }
}

/// What the database knows that bears on a new check-in, read before taking the write lock.
struct Gathered {
    /// The village, or the place of the session attended.
    place: crate::db::models::OrgUnitRow,
    session: Option<crate::night_sessions::Attendance>,
    boundary: Option<std::sync::Arc<crate::domain::boundary::Boundary>>,
    assigned: bool,
    usual_device: Option<String>,
    previous: Option<(LatLon, DateTime<Utc>)>,
    photos: Vec<crate::db::media::MediaRow>,
    photo_evidence: Vec<PhotoEvidence>,
    recycling: crate::evidence::Recycling,
}

fn gather(
    conn: &mut DbConn,
    rec: &Recorder,
    user_id: &str,
    valid: &crate::domain::checkin::ValidCheckin,
) -> ApiResult<Gathered> {
    let (place, session, assigned) = match &valid.place {
        CheckinPlace::Village(id) => {
            let village = org::find(conn, id)?
                .filter(|v| v.kind == enum_text(&OrgUnitKind::Village))
                .ok_or_else(|| ApiError::invalid("village_id", "no village with that id"))?;
            let assigned = checkins::is_assigned(conn, user_id, &village.id)?;
            (village, None, assigned)
        }
        // Attendance is by the session, not by the villages a cadre is responsible for.
        CheckinPlace::Session(id) => {
            let attendance = night_sessions::attendance(conn, user_id, valid, id, rec.rules)?;
            (attendance.place.clone(), Some(attendance), true)
        }
    };
    let boundary = rec.boundaries.boundary_of(&place)?;
    let usual_device = checkins::usual_device(conn, user_id)?;
    let previous = checkins::previous_position(conn, user_id, valid.recorded_at.naive_utc())?
        .map(|(lat, lon, at)| (LatLon { lat, lon }, utc(at)));
    let found = if valid.photo_ids.is_empty() {
        Vec::new()
    } else {
        media::find_many(conn, &valid.photo_ids)?
    };
    let mut photos = Vec::with_capacity(valid.photo_ids.len());
    let mut errors = Vec::new();
    for (i, id) in valid.photo_ids.iter().enumerate() {
        match found
            .iter()
            .find(|m| &m.id == id && m.uploader_id.as_deref() == Some(user_id))
        {
            Some(m) => photos.push(m.clone()),
            None => errors.push(Invalid::new(
                format!("photo_ids[{i}]"),
                "no photo of yours with that id",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let recycling = crate::evidence::gather(conn, rec.rules, user_id, valid, &place.path, &photos)?;
    let photo_evidence = photos
        .iter()
        .zip(&recycling.reuses)
        .map(|(m, reused)| PhotoEvidence {
            media_id: m.id.clone(),
            reused: reused.clone(),
            exif_position: m
                .exif_lat
                .zip(m.exif_lon)
                .map(|(lat, lon)| LatLon { lat, lon }),
            exif_taken_at: m.exif_taken_at.map(utc),
        })
        .collect();
    Ok(Gathered {
        place,
        session,
        boundary,
        assigned,
        usual_device,
        previous,
        photos,
        photo_evidence,
        recycling,
    })
}

/// Records one check-in for `user_id` (or finds the identical one recorded before):
/// parse → gather evidence → decide flags → store, pairing stays. `true` when new.
///
/// Evidence is read outside the write transaction, so concurrent check-ins only queue for
/// the few statements that must be atomic: the id check, stay pairing and the inserts.
pub fn record_checkin(
    conn: &mut DbConn,
    rec: &Recorder,
    user_id: &str,
    req: &NewCheckin,
) -> ApiResult<(CheckinReceipt, bool)> {
    let valid = parse_checkin(req)?;
    let request_hash = hex::encode(Sha256::digest(serde_json::to_vec(req).unwrap_or_default()));
    if let Some(existing) = checkins::find(conn, &valid.id)? {
        return seen_before(&existing, user_id, &request_hash);
    }
    let g = gather(conn, rec, user_id, &valid)?;
    conn.write(|conn| {
        if let Some(existing) = checkins::find(conn, &valid.id)? {
            return seen_before(&existing, user_id, &request_hash);
        }
        let recorded = valid.recorded_at.naive_utc();
        let night = night_date(valid.kind, valid.recorded_at, rec.rules);
        let stay = match valid.kind {
            CheckinKind::StayStart | CheckinKind::StayEnd => {
                checkins::stay_of_night(conn, user_id, night)?
            }
            _ => None,
        };
        // A morning check-in closes the same village's open stay begun before it.
        let closing = match (&stay, valid.kind) {
            (Some(s), CheckinKind::StayEnd) if s.end_id.is_none() && s.village_id == g.place.id => {
                checkins::statuses(conn, std::slice::from_ref(&s.start_id))?
                    .remove(&s.start_id)
                    .filter(|(_, started)| *started < recorded)
                    .map(|(_, started)| (s.id.clone(), utc(started)))
            }
            _ => None,
        };
        let evidence = Evidence {
            checkin: &valid,
            received_at: rec.now,
            assigned: g.assigned,
            boundary: g.boundary.as_deref(),
            usual_device_id: g.usual_device.as_deref(),
            previous: g.previous,
            photos: &g.photo_evidence,
            stay_started_at: closing.as_ref().map(|(_, at)| *at),
            earlier_fixes: &g.recycling.earlier_fixes,
            town_photo_kinds: g.recycling.town_photo_kinds.as_deref(),
            session_incomplete: g.session.as_ref().is_some_and(|a| a.incomplete),
        };
        let flags = assess(&evidence, rec.rules);
        let status = status_for(&flags);
        let stay_id = match valid.kind {
            CheckinKind::StayStart if stay.is_none() => Some(new_id()),
            CheckinKind::StayEnd => closing.as_ref().map(|(id, _)| id.clone()),
            _ => None,
        };
        let row = CheckinRow {
            id: valid.id.clone(),
            user_id: user_id.to_string(),
            kind: enum_text(&valid.kind),
            village_id: g.place.id.clone(),
            org_path: g.place.path.clone(),
            lat: valid.position.lat,
            lon: valid.position.lon,
            crs: enum_text(&valid.crs),
            reported_lat: valid.reported.lat,
            reported_lon: valid.reported.lon,
            accuracy_m: valid.accuracy_m,
            recorded_at: recorded,
            received_at: rec.now.naive_utc(),
            night_date: night,
            device_id: valid.device_id.clone(),
            mock_location: valid.mock_location,
            note: valid.note.clone(),
            household: valid.household.clone(),
            status: enum_text(&status),
            flags: serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()),
            request_hash: request_hash.clone(),
            stay_id: stay_id.clone(),
            reviewed_by: None,
            reviewed_at: None,
            review_reason: None,
            session_id: g.session.as_ref().map(|a| a.session.id.clone()),
        };
        let photo_rows: Vec<(String, String)> = g
            .photos
            .iter()
            .map(|m| (m.id.clone(), m.sha256.clone()))
            .collect();
        checkins::insert(conn, &row, &photo_rows)?;
        match (valid.kind, &stay_id) {
            (CheckinKind::StayStart, Some(id)) => checkins::insert_stay(
                conn,
                &StayRow {
                    id: id.clone(),
                    user_id: user_id.to_string(),
                    village_id: g.place.id.clone(),
                    org_path: g.place.path.clone(),
                    night_date: night,
                    start_id: row.id.clone(),
                    end_id: None,
                    created_at: rec.now.naive_utc(),
                },
            )?,
            (CheckinKind::StayEnd, Some(id)) => checkins::close_stay(conn, id, &row.id)?,
            _ => {}
        }
        if let (None, Some(device)) = (&g.usual_device, &valid.device_id) {
            checkins::set_usual_device(conn, user_id, device)?;
        }
        Ok((
            CheckinReceipt {
                id: row.id,
                status,
                flags,
                stay_id,
            },
            true,
        ))
    })
}

/// Two phones racing with the same id: the loser's insert conflicts; once more finds the winner's row.
fn record_once_more(
    conn: &mut DbConn,
    rec: &Recorder,
    user_id: &str,
    req: &NewCheckin,
) -> ApiResult<(CheckinReceipt, bool)> {
    match record_checkin(conn, rec, user_id, req) {
        Err(ApiError::Conflict(_)) => record_checkin(conn, rec, user_id, req),
        other => other,
    }
}

/// Records a check-in: 201 with its status and flags, 200 with the same answer when the
/// same id and body come again, 409 when the same id comes with another body.
#[utoipa::path(tag = "checkins", request_body = NewCheckin, security(("bearer" = [])), responses(
    (status = 201, body = CheckinReceipt), (status = 200, body = CheckinReceipt, description = "a retry of an earlier check-in"),
    (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/checkins")]
async fn create_checkin(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewCheckin>,
) -> ApiResult<HttpResponse> {
    reach(&actor.0, Action::SubmitCheckins)?;
    let app = state.clone();
    let (receipt, created) = state
        .db
        .run(move |conn| {
            let rec = Recorder {
                rules: &app.rules,
                boundaries: &app.boundaries,
                now: Utc::now(),
            };
            record_once_more(conn, &rec, &actor.0.user_id, &body.0)
        })
        .await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(receipt))
}

/// Records up to 500 check-ins from an offline phone in one call, in the order they were
/// recorded, and answers for each one as if it had come alone.
#[utoipa::path(tag = "checkins", request_body(content = Vec<serde_json::Value>, description = "Up to 500 `NewCheckin`s. Each is read on its own: one that does not fit gets its 422 in the answer's list, and the others are still recorded."), security(("bearer" = [])), responses(
    (status = 200, body = Vec<BatchItem>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[post("/checkins/batch")]
async fn batch_checkins(
    state: State,
    actor: Authenticated,
    body: JsonBody<Vec<serde_json::Value>>,
) -> ApiResult<web::Json<Vec<BatchItem>>> {
    reach(&actor.0, Action::SubmitCheckins)?;
    let items = body.0;
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "body",
            format!("at most {MAX_BATCH} check-ins in one batch"),
        ));
    }
    let app = state.clone();
    let answers = state
        .db
        .run(move |conn| {
            let mut parsed: Vec<(usize, Result<NewCheckin, ApiError>)> = items
                .iter()
                .enumerate()
                .map(|(i, v)| (i, parse_json::<NewCheckin>(v.to_string().as_bytes())))
                .collect();
            parsed.sort_by_key(|(i, p)| (p.as_ref().ok().map(|c| c.recorded_at), *i));
            let rec = Recorder {
                rules: &app.rules,
                boundaries: &app.boundaries,
                now: Utc::now(),
            };
            // One transaction for the batch, one savepoint per item: a bad item spoils only itself.
            let mut answers = conn.write(|conn| {
                Ok(parsed
                    .into_iter()
                    .map(|(index, item)| {
                        let id = item.as_ref().ok().map(|c| c.id.clone());
                        let outcome =
                            item.and_then(|c| record_checkin(conn, &rec, &actor.0.user_id, &c));
                        match outcome {
                            Ok((receipt, created)) => BatchItem {
                                index,
                                id,
                                status: if created { 201 } else { 200 },
                                receipt: Some(receipt),
                                problem: None,
                            },
                            Err(err) => {
                                let problem = err.problem();
                                BatchItem {
                                    index,
                                    id,
                                    status: problem.status,
                                    receipt: None,
                                    problem: Some(problem),
                                }
                            }
                        }
                    })
                    .collect::<Vec<_>>())
            })?;
            answers.sort_by_key(|a| a.index);
            Ok(answers)
        })
        .await?;
    Ok(web::Json(answers))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CheckinQuery {
    user_id: Option<String>,
    village_id: Option<String>,
    kind: Option<CheckinKind>,
    status: Option<CheckinStatus>,
    /// Recorded at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Recorded before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Check-ins, newest first: cadres see their own, supervisors their subtree's.
#[utoipa::path(tag = "checkins", params(CheckinQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<Checkin>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/checkins")]
async fn list_checkins(
    state: State,
    actor: Authenticated,
    query: web::Query<CheckinQuery>,
) -> ApiResult<web::Json<Page<Checkin>>> {
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = CheckinFilter {
        user_id: q.user_id,
        village_id: q.village_id,
        kind: q.kind.map(|k| enum_text(&k)),
        status: q.status.map(|s| enum_text(&s)),
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        within: None,
        after: paging.after_time()?,
        limit: paging.fetch(),
    };
    let Some((within, user_id)) =
        reach(&actor.0, Action::ReadCheckins)?.scope_owned(filter.user_id.take())
    else {
        return Ok(web::Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    (filter.within, filter.user_id) = (within, user_id);
    let list = state
        .db
        .run(move |conn| {
            let rows = checkins::list(conn, &filter)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut photos = checkins::photo_ids_of(conn, &ids)?;
            rows.into_iter()
                .map(|r| {
                    let p = photos.remove(&r.id).unwrap_or_default();
                    to_wire(r, p)
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(
        paging.page(list, |c| time_key(c.recorded_at, &c.id)),
    ))
}

/// One check-in with its flags, photos and review.
#[utoipa::path(tag = "checkins", security(("bearer" = [])), responses(
    (status = 200, body = Checkin), (status = 404, body = Problem)))]
#[get("/checkins/{id}")]
async fn get_checkin(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<Checkin>> {
    reach(&actor.0, Action::ReadCheckins)?;
    let checkin = state
        .db
        .run(move |conn| {
            let row = find_reachable(conn, &actor.0, Action::ReadCheckins, &id)?;
            let photos = checkins::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default();
            to_wire(row, photos)
        })
        .await?;
    Ok(web::Json(checkin))
}

/// A supervisor approves or rejects a flagged check-in, with a reason; only accepted and
/// approved check-ins count. A check-in whose night lies in a closed period (its month,
/// quarter or year) is no longer decided: those scores are frozen.
#[utoipa::path(tag = "checkins", request_body = ReviewRequest, security(("bearer" = [])), responses(
    (status = 200, body = Checkin), (status = 404, body = Problem),
    (status = 409, body = Problem, description = "not flagged, decided already, or its night lies in a closed period"), (status = 422, body = Problem)))]
#[post("/checkins/{id}/review")]
async fn review_checkin(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<ReviewRequest>,
) -> ApiResult<web::Json<Checkin>> {
    let ReviewRequest { decision, reason } = body.0;
    let reason = review_reason(&actor.0, &reason)?;
    let now = Utc::now().naive_utc();
    let checkin = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let row = decide(conn, &actor.0, &id, decision, &reason, now)?;
                let photos = checkins::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                    .remove(&row.id)
                    .unwrap_or_default();
                to_wire(row, photos)
            })
        })
        .await?;
    Ok(web::Json(checkin))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct StayQuery {
    user_id: Option<String>,
    village_id: Option<String>,
    /// First night (local date), inclusive.
    from: Option<NaiveDate>,
    /// Last night (local date), inclusive.
    to: Option<NaiveDate>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Stays (住夜), latest night first, with their standing: open, valid, incomplete, flagged or rejected.
#[utoipa::path(tag = "checkins", params(StayQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<Stay>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/stays")]
async fn list_stays(
    state: State,
    actor: Authenticated,
    query: web::Query<StayQuery>,
) -> ApiResult<web::Json<Page<Stay>>> {
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let after = paging
        .after
        .as_deref()
        .map(|text| {
            text.split_once('|')
                .and_then(|(night, id)| Some((night.parse::<NaiveDate>().ok()?, id.to_string())))
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this server gave out"))
        })
        .transpose()?;
    let mut filter = StayFilter {
        user_id: q.user_id,
        village_id: q.village_id,
        from: q.from,
        to: q.to,
        within: None,
        after,
        limit: paging.fetch(),
    };
    let Some((within, user_id)) =
        reach(&actor.0, Action::ReadCheckins)?.scope_owned(filter.user_id.take())
    else {
        return Ok(web::Json(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    (filter.within, filter.user_id) = (within, user_id);
    let app = state.clone();
    let stays = state
        .db
        .run(move |conn| {
            let rows = checkins::list_stays(conn, &filter)?;
            let ids: Vec<String> = rows
                .iter()
                .flat_map(|s| std::iter::once(s.start_id.clone()).chain(s.end_id.clone()))
                .collect();
            let found = checkins::statuses(conn, &ids)?;
            let now = Utc::now();
            rows.into_iter()
                .map(|s| {
                    let (start_status, start_at) = found.get(&s.start_id).ok_or_else(|| {
                        ApiError::Internal(anyhow::anyhow!("stay {} lost its start", s.id))
                    })?;
                    let end = s.end_id.as_ref().and_then(|e| found.get(e));
                    let start_status: CheckinStatus = parse_enum(start_status)?;
                    let end_status: Option<CheckinStatus> =
                        end.map(|(st, _)| parse_enum(st)).transpose()?;
                    Ok(Stay {
                        status: stay_status(
                            start_status,
                            end_status,
                            s.night_date,
                            now,
                            &app.rules,
                        ),
                        start: utc(*start_at),
                        end: end.map(|(_, at)| utc(*at)),
                        id: s.id,
                        user_id: s.user_id,
                        village_id: s.village_id,
                        night_date: s.night_date,
                        start_id: s.start_id,
                        end_id: s.end_id,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(
        paging.page(stays, |s| format!("{}|{}", s.night_date, s.id)),
    ))
}
