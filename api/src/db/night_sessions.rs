//! 夜学 / 夜议 sessions, their photos, and the check-ins of their attendees.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{checkins, night_session_photos, night_sessions, org_units, users};
use super::{db_run, DbConn};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = night_sessions)]
pub struct SessionRow {
    pub id: String,
    pub kind: String,
    pub place_id: String,
    pub org_path: String,
    pub organiser_id: String,
    pub topic: String,
    pub starts_at: NaiveDateTime,
    pub night_date: NaiveDate,
    pub minutes: Option<String>,
    pub minutes_at: Option<NaiveDateTime>,
    pub villager_names: Option<String>,
    pub villager_count: Option<i32>,
    pub incomplete_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An attendee's check-in as a session shows it.
#[derive(Debug, Clone, Queryable)]
pub struct AttendanceRow {
    pub session_id: String,
    pub checkin_id: String,
    pub user_id: String,
    pub name: String,
    pub recorded_at: NaiveDateTime,
    pub status: String,
    pub flags: String,
}

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(night_sessions::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<SessionRow>> {
    Ok(db_run!(conn, |c| night_sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(c)
        .optional())?)
}

/// The minutes, their photos (replacing earlier ones) and the villagers present.
pub struct MinutesUpdate<'a> {
    pub minutes: Option<&'a str>,
    pub photo_ids: Option<&'a [String]>,
    pub villager_names: Option<String>,
    pub villager_count: Option<i32>,
    pub now: NaiveDateTime,
}

pub fn amend(conn: &mut DbConn, id: &str, u: &MinutesUpdate) -> ApiResult<()> {
    db_run!(conn, |c| {
        if let Some(minutes) = u.minutes {
            diesel::update(night_sessions::table.find(id))
                .set((
                    night_sessions::minutes.eq(minutes),
                    night_sessions::minutes_at.eq(u.now),
                ))
                .execute(c)?;
        }
        if let (Some(names), Some(count)) = (&u.villager_names, u.villager_count) {
            diesel::update(night_sessions::table.find(id))
                .set((
                    night_sessions::villager_names.eq(names),
                    night_sessions::villager_count.eq(count),
                ))
                .execute(c)?;
        }
        if let Some(photos) = u.photo_ids {
            diesel::delete(
                night_session_photos::table.filter(night_session_photos::session_id.eq(id)),
            )
            .execute(c)?;
            let rows: Vec<_> = photos
                .iter()
                .map(|m| {
                    (
                        night_session_photos::session_id.eq(id),
                        night_session_photos::media_id.eq(m),
                    )
                })
                .collect();
            if !rows.is_empty() {
                diesel::insert_into(night_session_photos::table)
                    .values(&rows)
                    .execute(c)?;
            }
        }
        diesel::update(night_sessions::table.find(id))
            .set(night_sessions::updated_at.eq(u.now))
            .execute(c)
    })?;
    Ok(())
}

pub struct SessionFilter {
    /// Places under this path (`None`: everywhere).
    pub within: Option<String>,
    /// Sessions this user organised or attended.
    pub involving: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Sessions, newest first, one page.
pub fn list(conn: &mut DbConn, f: &SessionFilter) -> ApiResult<Vec<SessionRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = night_sessions::table
            .select(SessionRow::as_select())
            .order((night_sessions::starts_at.desc(), night_sessions::id.desc()))
            .limit(f.limit)
            .into_boxed();
        if let Some(prefix) = &f.within {
            q = q.filter(night_sessions::org_path.like(format!("{prefix}%")));
        }
        if let Some(user) = &f.involving {
            let attended = checkins::table
                .filter(checkins::user_id.eq(user.clone()))
                .filter(checkins::session_id.is_not_null())
                .select(checkins::session_id.assume_not_null());
            q = q.filter(
                night_sessions::organiser_id
                    .eq(user.clone())
                    .or(night_sessions::id.eq_any(attended)),
            );
        }
        if let Some(v) = f.from {
            q = q.filter(night_sessions::starts_at.ge(v));
        }
        if let Some(v) = f.to {
            q = q.filter(night_sessions::starts_at.lt(v));
        }
        if let Some((at, id)) = &f.after {
            q = q.filter(
                night_sessions::starts_at
                    .lt(*at)
                    .or(night_sessions::starts_at
                        .eq(*at)
                        .and(night_sessions::id.lt(id))),
            );
        }
        q.load(c)
    })?)
}

/// The attendance of each of `ids`, in one query, earliest check-in first.
pub fn attendance_of(
    conn: &mut DbConn,
    ids: &[String],
) -> ApiResult<HashMap<String, Vec<AttendanceRow>>> {
    let rows: Vec<AttendanceRow> = db_run!(conn, |c| checkins::table
        .inner_join(users::table.on(users::id.eq(checkins::user_id)))
        .filter(checkins::session_id.eq_any(ids))
        .order((checkins::recorded_at, checkins::id))
        .select((
            checkins::session_id.assume_not_null(),
            checkins::id,
            checkins::user_id,
            users::name,
            checkins::recorded_at,
            checkins::status,
            checkins::flags,
        ))
        .load(c))?;
    let mut by_session: HashMap<String, Vec<AttendanceRow>> = HashMap::new();
    for row in rows {
        by_session
            .entry(row.session_id.clone())
            .or_default()
            .push(row);
    }
    Ok(by_session)
}

/// The photos of each of `ids`, in one query.
pub fn photo_ids_of(conn: &mut DbConn, ids: &[String]) -> ApiResult<HashMap<String, Vec<String>>> {
    let pairs: Vec<(String, String)> = db_run!(conn, |c| night_session_photos::table
        .filter(night_session_photos::session_id.eq_any(ids))
        .order((
            night_session_photos::session_id,
            night_session_photos::media_id
        ))
        .select((
            night_session_photos::session_id,
            night_session_photos::media_id
        ))
        .load(c))?;
    let mut by_session: HashMap<String, Vec<String>> = HashMap::new();
    for (session, media) in pairs {
        by_session.entry(session).or_default().push(media);
    }
    Ok(by_session)
}

/// The names of places and people a page of sessions mentions, in one query each.
pub fn place_names(conn: &mut DbConn, ids: &[String]) -> ApiResult<HashMap<String, String>> {
    Ok(db_run!(conn, |c| org_units::table
        .filter(org_units::id.eq_any(ids))
        .select((org_units::id, org_units::name))
        .load::<(String, String)>(c))?
    .into_iter()
    .collect())
}

/// The paths of the places of sessions a photo belongs to (who may see it).
pub fn paths_with_photo(conn: &mut DbConn, media_id: &str) -> ApiResult<Vec<String>> {
    Ok(db_run!(conn, |c| night_session_photos::table
        .inner_join(night_sessions::table)
        .filter(night_session_photos::media_id.eq(media_id))
        .select(night_sessions::org_path)
        .load(c))?)
}

/// Sessions of nights up to `last_night` still without minutes and not yet marked.
pub fn overdue_for_minutes(
    conn: &mut DbConn,
    last_night: NaiveDate,
    limit: i64,
) -> ApiResult<Vec<String>> {
    Ok(db_run!(conn, |c| night_sessions::table
        .filter(night_sessions::minutes.is_null())
        .filter(night_sessions::incomplete_at.is_null())
        .filter(night_sessions::night_date.le(last_night))
        .order(night_sessions::night_date)
        .limit(limit)
        .select(night_sessions::id)
        .load(c))?)
}

/// Marks a session incomplete, unless its minutes arrived meanwhile. `true` when marked.
pub fn mark_incomplete(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> ApiResult<bool> {
    let n = db_run!(conn, |c| diesel::update(
        night_sessions::table
            .find(id)
            .filter(night_sessions::minutes.is_null())
            .filter(night_sessions::incomplete_at.is_null())
    )
    .set(night_sessions::incomplete_at.eq(now))
    .execute(c))?;
    Ok(n == 1)
}

/// The check-ins of a session: id, status and flags (JSON).
pub fn attendee_checkins(
    conn: &mut DbConn,
    session_id: &str,
) -> ApiResult<Vec<(String, String, String)>> {
    Ok(db_run!(conn, |c| checkins::table
        .filter(checkins::session_id.eq(session_id))
        .select((checkins::id, checkins::status, checkins::flags))
        .load(c))?)
}

/// Sends one check-in to review with new flags, if it has not been decided meanwhile.
pub fn flag_checkin(conn: &mut DbConn, id: &str, flags: &str) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(
        checkins::table
            .find(id)
            .filter(checkins::status.eq_any(["accepted", "flagged"]))
    )
    .set((checkins::status.eq("flagged"), checkins::flags.eq(flags)))
    .execute(c))?;
    Ok(())
}

/// Whether this user already checked in to this session (with another check-in id).
pub fn attended_by(conn: &mut DbConn, session_id: &str, user_id: &str) -> ApiResult<bool> {
    Ok(db_run!(conn, |c| diesel::select(diesel::dsl::exists(
        checkins::table
            .filter(checkins::session_id.eq(session_id))
            .filter(checkins::user_id.eq(user_id))
    ))
    .get_result::<bool>(c))?)
}
