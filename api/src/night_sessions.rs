//! 夜学 / 夜议 sessions as a service the API, the phone app, the desk and the background jobs
//! share: opening one at a place of the town, attendance (check-ins with `session_id`),
//! minutes, and sending the attendance of sessions left without minutes to review.

use chrono::{DateTime, Utc};
use minqing_protocol::{
    Attendee, FlagCode, NewSession, OrgUnitKind, Role, Session, SessionKind, SessionUpdate,
    VillagersPresent,
};
use serde_json::json;

use crate::db::models::{enum_text, parse_enum, utc, OrgUnitRow};
use crate::db::night_sessions::{self as store, MinutesUpdate, SessionFilter, SessionRow};
use crate::db::{new_id, org, users, DbConn};
use crate::domain::access::{Actor, Denial, TownStaff};
use crate::domain::checkin::{CheckinRules, ValidCheckin};
use crate::domain::night_session::{
    attendance_mismatch, last_overdue_night, minutes_due_at, parse_minutes, parse_session,
    parse_villagers, status,
};
use crate::error::{ApiError, ApiResult};

/// Most photos with the minutes.
pub const MAX_MINUTES_PHOTOS: usize = 9;
/// Sessions handled per run of the deadline job; the rest wait for the next run.
const OVERDUE_BATCH: i64 = 200;

/// Where the actor works, as the sessions and logs of a town see it.
pub struct StaffFacts {
    pub town: Option<String>,
    pub leadership: bool,
}

impl StaffFacts {
    pub fn of<'a>(&'a self, actor: &'a Actor) -> TownStaff<'a> {
        TownStaff {
            actor,
            town: self.town.as_deref(),
            leadership: self.leadership,
        }
    }
}

/// The town a cadre works in (the town above their unit), a supervisor's own subtree, and
/// whether a cadre belongs to the town's leadership.
pub fn staff_facts(conn: &mut DbConn, actor: &Actor) -> ApiResult<StaffFacts> {
    let town = match (actor.role, actor.org_path.as_deref()) {
        (Role::Supervisor, Some(path)) => Some(path.to_string()),
        (Role::Cadre, Some(path)) => Some(org::town_path(conn, path)?),
        _ => None,
    };
    let leadership = actor.role == Role::Cadre
        && users::find_with_path(conn, &actor.user_id)?
            .and_then(|(u, _)| u.cadre_category)
            .is_some_and(|c| c == "leadership");
    Ok(StaffFacts { town, leadership })
}

fn hidden_or(denial: Denial, forbidden: &str) -> ApiError {
    match denial {
        Denial::Hidden => ApiError::not_found("session"),
        Denial::Forbidden => ApiError::Forbidden(forbidden.into()),
    }
}

/// Opens a session at a place of the organiser's town: a village, or any unit of the town
/// with a boundary or centre (the town hall, a village committee).
pub fn open(
    conn: &mut DbConn,
    actor: &Actor,
    req: &NewSession,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<Session> {
    let facts = staff_facts(conn, actor)?;
    let staff = facts.of(actor);
    if actor.role == Role::Admin || staff.sessions_reach().is_err() {
        return Err(ApiError::Forbidden(
            "sessions are opened by the cadres and supervisors of a town".into(),
        ));
    }
    let valid = parse_session(req, now, rules)?;
    let unknown = || ApiError::invalid("place_id", "no place with that id in your town");
    let place = org::find(conn, &valid.place_id)?
        .filter(|p| p.kind != enum_text(&OrgUnitKind::County))
        .ok_or_else(unknown)?;
    staff.may_organise(&place.path).map_err(|_| unknown())?;
    if place.kind != enum_text(&OrgUnitKind::Village) && place.boundary.is_none() {
        return Err(ApiError::invalid(
            "place_id",
            "this place has no boundary or centre yet: the admin sets it first",
        ));
    }
    let row = SessionRow {
        id: new_id(),
        kind: enum_text(&valid.kind),
        place_id: place.id.clone(),
        org_path: place.path.clone(),
        organiser_id: actor.user_id.clone(),
        topic: valid.topic,
        starts_at: valid.starts_at.naive_utc(),
        night_date: valid.night_date,
        minutes: None,
        minutes_at: None,
        villager_names: None,
        villager_count: None,
        incomplete_at: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    store::insert(conn, &row)?;
    one(conn, row, now, rules)
}

/// A session the actor may read (staff of its town); 404 otherwise.
pub fn find_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> ApiResult<SessionRow> {
    let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("session"))?;
    let facts = staff_facts(conn, actor)?;
    facts
        .of(actor)
        .may_read(&row.org_path)
        .map_err(|d| hidden_or(d, "only the staff of a town see its sessions"))?;
    Ok(row)
}

/// Adds or replaces the minutes, their photos and the villagers present: the organiser, or
/// a supervisor over the place.
pub fn amend(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    update: &SessionUpdate,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<Session> {
    let row = find_visible(conn, actor, id)?;
    let facts = staff_facts(conn, actor)?;
    facts
        .of(actor)
        .may_amend(&row.org_path, &row.organiser_id)
        .map_err(|d| {
            hidden_or(
                d,
                "the organiser or a supervisor of the town adds the minutes",
            )
        })?;
    if update.minutes.is_none() && update.photo_ids.is_none() && update.villagers_present.is_none()
    {
        return Err(ApiError::invalid(
            "minutes",
            "give the minutes, their photos or the villagers present",
        ));
    }
    let kind: SessionKind = parse_enum(&row.kind)?;
    let minutes = update.minutes.as_deref().map(parse_minutes).transpose()?;
    let villagers = update
        .villagers_present
        .as_ref()
        .map(|v| parse_villagers(kind, v))
        .transpose()?;
    let existing = store::photo_ids_of(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    let photos = update
        .photo_ids
        .as_deref()
        .map(|ids| {
            crate::media::own_photos(conn, actor, ids, &existing, "photo_ids", MAX_MINUTES_PHOTOS)
        })
        .transpose()?;
    if minutes.is_none() && row.minutes.is_none() && photos.as_ref().is_some_and(|p| !p.is_empty())
    {
        return Err(ApiError::invalid(
            "minutes",
            "photos come with the minutes: write the minutes too",
        ));
    }
    let names = villagers
        .as_ref()
        .map(|v| serde_json::to_string(&v.names))
        .transpose()
        .map_err(|e| ApiError::Internal(e.into()))?;
    store::amend(
        conn,
        &row.id,
        &MinutesUpdate {
            minutes: minutes.as_deref(),
            photo_ids: photos.as_deref(),
            villager_names: names,
            villager_count: villagers.as_ref().map(|v| v.count),
            now: now.naive_utc(),
        },
    )?;
    let row = store::find(conn, &row.id)?.ok_or_else(|| ApiError::not_found("session"))?;
    one(conn, row, now, rules)
}

/// Sessions in the actor's reach (their town; the admin's: everywhere), newest first.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    mut filter: SessionFilter,
    town_id: Option<&str>,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<Vec<Session>> {
    let facts = staff_facts(conn, actor)?;
    let reach = facts
        .of(actor)
        .sessions_reach()
        .map_err(|d| hidden_or(d, "only the staff of a town see its sessions"))?;
    filter.within = match town_id {
        Some(id) => {
            let town = org::find(conn, id)?;
            match town {
                Some(t) if reach.covers(Some(&t.path)) => Some(t.path),
                _ => return Ok(Vec::new()),
            }
        }
        None => reach.subtree().unwrap_or(None),
    };
    let rows = store::list(conn, &filter)?;
    wire_all(conn, rows, now, rules)
}

fn one(
    conn: &mut DbConn,
    row: SessionRow,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<Session> {
    wire_all(conn, vec![row], now, rules)?
        .pop()
        .ok_or_else(|| ApiError::not_found("session"))
}

/// Sessions as the API shows them, with places, organisers, photos and attendance read in
/// one query each.
pub fn wire_all(
    conn: &mut DbConn,
    rows: Vec<SessionRow>,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<Vec<Session>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let places: Vec<String> = rows.iter().map(|r| r.place_id.clone()).collect();
    let organisers: Vec<String> = rows.iter().map(|r| r.organiser_id.clone()).collect();
    let place_names = store::place_names(conn, &places)?;
    let organiser_names = users::names_of(conn, &organisers)?;
    let mut photos = store::photo_ids_of(conn, &ids)?;
    let mut attendance = store::attendance_of(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let attendees = attendance
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| {
                    Ok(Attendee {
                        status: parse_enum(&a.status)?,
                        flags: serde_json::from_str(&a.flags)
                            .map_err(|e| ApiError::Internal(e.into()))?,
                        recorded_at: utc(a.recorded_at),
                        user_id: a.user_id,
                        name: a.name,
                        checkin_id: a.checkin_id,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            let villagers_present = match (&row.villager_names, row.villager_count) {
                (Some(names), Some(count)) => Some(VillagersPresent {
                    names: serde_json::from_str(names).map_err(|e| ApiError::Internal(e.into()))?,
                    count,
                }),
                _ => None,
            };
            Ok(Session {
                kind: parse_enum(&row.kind)?,
                place_name: place_names.get(&row.place_id).cloned().unwrap_or_default(),
                organiser_name: organiser_names
                    .get(&row.organiser_id)
                    .cloned()
                    .unwrap_or_default(),
                status: status(row.minutes.is_some(), row.night_date, now, rules),
                minutes_due_at: minutes_due_at(row.night_date, rules),
                photo_ids: photos.remove(&row.id).unwrap_or_default(),
                starts_at: utc(row.starts_at),
                minutes_at: row.minutes_at.map(utc),
                created_at: utc(row.created_at),
                villagers_present,
                attendees,
                id: row.id,
                place_id: row.place_id,
                organiser_id: row.organiser_id,
                topic: row.topic,
                night_date: row.night_date,
                minutes: row.minutes,
            })
        })
        .collect()
}

/// A check-in's session, once it is known that `user_id` may attend it with this check-in.
pub struct Attendance {
    pub session: SessionRow,
    pub place: OrgUnitRow,
    /// No minutes came by the deadline: the attendance goes to review.
    pub incomplete: bool,
}

/// Checks that a cadre may check in to a session: one of their town's, of the check-in's
/// kind and night, not attended by them already. Refusals are about the request's fields
/// (422), or 409 for a second check-in to the same session.
pub fn attendance(
    conn: &mut DbConn,
    user_id: &str,
    valid: &ValidCheckin,
    session_id: &str,
    rules: &CheckinRules,
) -> ApiResult<Attendance> {
    let unknown = || ApiError::invalid("session_id", "no session with that id in your town");
    let session = store::find(conn, session_id)?.ok_or_else(unknown)?;
    let (user, path) = users::find_with_path(conn, user_id)?.ok_or_else(unknown)?;
    let cadre = Actor {
        user_id: user.id.clone(),
        role: parse_enum(&user.role)?,
        org_unit_id: user.org_unit_id.clone(),
        org_path: path,
    };
    let facts = staff_facts(conn, &cadre)?;
    facts
        .of(&cadre)
        .may_attend(&session.org_path)
        .map_err(|_| unknown())?;
    let night = crate::domain::checkin::night_date(valid.kind, valid.recorded_at, rules);
    if let Some(invalid) = attendance_mismatch(
        parse_enum(&session.kind)?,
        session.night_date,
        valid.kind,
        night,
    ) {
        return Err(ApiError::Invalid(vec![invalid]));
    }
    if store::attended_by(conn, &session.id, user_id)? {
        return Err(ApiError::Conflict(
            "you checked in to this session already".into(),
        ));
    }
    let place = org::find(conn, &session.place_id)?.ok_or_else(unknown)?;
    Ok(Attendance {
        incomplete: session.incomplete_at.is_some() && session.minutes.is_none(),
        session,
        place,
    })
}

/// Sends the attendance of sessions left without minutes past their deadline to review:
/// each attendee's check-in gets the `session_incomplete` flag (an accepted one becomes
/// flagged). Runs in the background jobs; returns how many sessions it marked.
pub fn mark_overdue(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<usize> {
    let ids = store::overdue_for_minutes(conn, last_overdue_night(now, rules), OVERDUE_BATCH)?;
    let mut marked = 0;
    for id in ids {
        conn.write(|conn| {
            if !store::mark_incomplete(conn, &id, now.naive_utc())? {
                return Ok(());
            }
            marked += 1;
            for (checkin, checkin_status, flags) in store::attendee_checkins(conn, &id)? {
                if !matches!(checkin_status.as_str(), "accepted" | "flagged") {
                    continue;
                }
                let mut list: Vec<minqing_protocol::Flag> =
                    serde_json::from_str(&flags).map_err(|e| ApiError::Internal(e.into()))?;
                if list.iter().any(|f| f.code == FlagCode::SessionIncomplete) {
                    continue;
                }
                list.push(minqing_protocol::Flag {
                    code: FlagCode::SessionIncomplete,
                    value: json!(id),
                });
                list.sort_by_key(|f| f.code);
                let text =
                    serde_json::to_string(&list).map_err(|e| ApiError::Internal(e.into()))?;
                store::flag_checkin(conn, &checkin, &text)?;
            }
            Ok(())
        })?;
    }
    Ok(marked)
}
