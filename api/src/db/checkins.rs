//! Check-ins, their photos, and stays.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{checkin_photos, checkins, media, org_units, stays, user_villages, users};
use super::{db_run, DbConn};
use crate::domain::photo_hash::{self, bands, to_stored, BANDS};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkins)]
pub struct CheckinRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub village_id: String,
    pub org_path: String,
    pub lat: f64,
    pub lon: f64,
    pub crs: String,
    pub reported_lat: f64,
    pub reported_lon: f64,
    pub accuracy_m: f64,
    pub recorded_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub night_date: NaiveDate,
    pub device_id: Option<String>,
    pub mock_location: bool,
    pub note: Option<String>,
    pub household: Option<String>,
    pub status: String,
    pub flags: String,
    pub request_hash: String,
    pub stay_id: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<NaiveDateTime>,
    pub review_reason: Option<String>,
    /// The 夜学 / 夜议 session an attendee checked in to.
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stays)]
pub struct StayRow {
    pub id: String,
    pub user_id: String,
    pub village_id: String,
    pub org_path: String,
    pub night_date: NaiveDate,
    pub start_id: String,
    pub end_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<CheckinRow>> {
    Ok(db_run!(conn, |c| checkins::table
        .find(id)
        .select(CheckinRow::as_select())
        .first(c)
        .optional())?)
}

/// A check-in with the path of its cadre's own unit, which reviews it.
pub fn find_with_cadre_path(
    conn: &mut DbConn,
    id: &str,
) -> ApiResult<Option<(CheckinRow, Option<String>)>> {
    Ok(db_run!(conn, |c| checkins::table
        .inner_join(users::table.on(users::id.eq(checkins::user_id)))
        .left_join(org_units::table.on(users::org_unit_id.eq(org_units::id.nullable())))
        .filter(checkins::id.eq(id))
        .select((CheckinRow::as_select(), org_units::path.nullable()))
        .first(c)
        .optional())?)
}

/// The users whose own unit lies under the path `prefix` (ending in `%`): a subquery over
/// `org_units_path` and `users_org_unit_id`, so check-ins can be filtered by their cadre's
/// subtree through `checkins_user_recorded`.
macro_rules! cadres_under {
    ($prefix:expr) => {
        users::table
            .inner_join(org_units::table)
            .filter(org_units::path.like($prefix))
            .select(users::id)
    };
}

/// A check-in's photo as stored: its content hash, and its own perceptual hash with the
/// bands that index it (`domain::photo_hash`), NULL for a blank or an old photo.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = checkin_photos)]
struct CheckinPhotoRow<'a> {
    checkin_id: &'a str,
    media_id: &'a str,
    sha256: &'a str,
    hash_high: Option<i64>,
    hash_low: Option<i64>,
    band0: Option<i32>,
    band1: Option<i32>,
    band2: Option<i32>,
    band3: Option<i32>,
    band4: Option<i32>,
    band5: Option<i32>,
    band6: Option<i32>,
    band7: Option<i32>,
}

/// Stores a check-in and its photos (`(media id, sha256)`); each photo's own perceptual
/// hash is read from its media row and indexed by band.
pub fn insert(conn: &mut DbConn, row: &CheckinRow, photos: &[(String, String)]) -> ApiResult<()> {
    let ids: Vec<&str> = photos.iter().map(|(id, _)| id.as_str()).collect();
    let stored: HashMap<String, Option<String>> = if ids.is_empty() {
        HashMap::new()
    } else {
        db_run!(conn, |c| media::table
            .filter(media::id.eq_any(&ids))
            .select((media::id, media::photo_hashes))
            .load::<(String, Option<String>)>(c))?
        .into_iter()
        .collect()
    };
    let photo_rows: Vec<CheckinPhotoRow> = photos
        .iter()
        .map(|(media_id, sha)| {
            let own = stored
                .get(media_id)
                .and_then(|text| text.as_deref())
                .and_then(|text| photo_hash::from_text(text).first().copied());
            let (high, low) = own.map(to_stored).unzip();
            let band = |k: usize| own.map(|h| i32::from(bands(h)[k]));
            CheckinPhotoRow {
                checkin_id: &row.id,
                media_id,
                sha256: sha,
                hash_high: high,
                hash_low: low,
                band0: band(0),
                band1: band(1),
                band2: band(2),
                band3: band(3),
                band4: band(4),
                band5: band(5),
                band6: band(6),
                band7: band(7),
            }
        })
        .collect();
    db_run!(conn, |c| {
        diesel::insert_into(checkins::table)
            .values(row)
            .execute(c)?;
        if !photo_rows.is_empty() {
            diesel::insert_into(checkin_photos::table)
                .values(&photo_rows)
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// Where and when the user's check-in recorded just before `at` was made.
pub fn previous_position(
    conn: &mut DbConn,
    user_id: &str,
    at: NaiveDateTime,
) -> ApiResult<Option<(f64, f64, NaiveDateTime)>> {
    Ok(db_run!(conn, |c| checkins::table
        .filter(checkins::user_id.eq(user_id))
        .filter(checkins::recorded_at.le(at))
        .order((checkins::recorded_at.desc(), checkins::id.desc()))
        .select((checkins::lat, checkins::lon, checkins::recorded_at))
        .first(c)
        .optional())?)
}

pub fn is_assigned(conn: &mut DbConn, user_id: &str, village_id: &str) -> ApiResult<bool> {
    Ok(db_run!(conn, |c| diesel::select(diesel::dsl::exists(
        user_villages::table
            .filter(user_villages::user_id.eq(user_id))
            .filter(user_villages::village_id.eq(village_id))
    ))
    .get_result::<bool>(c))?)
}

/// A photo some check-in holds: the check-in, the photo's content hash and own perceptual
/// hash (high and low halves), as a candidate for `photo_reused`.
pub type HeldPhoto = (String, String, Option<i64>, Option<i64>);

/// Check-in photos with the content hash `sha256`, or whose band `k` is one of `probes[k]`
/// (multi-index hashing: each band column has its own index, so this is a handful of index
/// lookups however many photos are stored). The caller checks the full distance.
pub fn photos_like(
    conn: &mut DbConn,
    sha256: &str,
    probes: &[Vec<u16>; BANDS],
) -> ApiResult<Vec<HeldPhoto>> {
    let values = |k: usize| -> Vec<i32> { probes[k].iter().map(|v| i32::from(*v)).collect() };
    let lists: [Vec<i32>; BANDS] = std::array::from_fn(values);
    let hashed = lists.iter().any(|l| !l.is_empty());
    Ok(db_run!(conn, |c| {
        let mut q = checkin_photos::table
            .select((
                checkin_photos::checkin_id,
                checkin_photos::sha256,
                checkin_photos::hash_high,
                checkin_photos::hash_low,
            ))
            .filter(checkin_photos::sha256.eq(sha256))
            .into_boxed();
        if hashed {
            q = q
                .or_filter(checkin_photos::band0.eq_any(&lists[0]))
                .or_filter(checkin_photos::band1.eq_any(&lists[1]))
                .or_filter(checkin_photos::band2.eq_any(&lists[2]))
                .or_filter(checkin_photos::band3.eq_any(&lists[3]))
                .or_filter(checkin_photos::band4.eq_any(&lists[4]))
                .or_filter(checkin_photos::band5.eq_any(&lists[5]))
                .or_filter(checkin_photos::band6.eq_any(&lists[6]))
                .or_filter(checkin_photos::band7.eq_any(&lists[7]));
        }
        q.load(c)
    })?)
}

/// When each of these check-ins was recorded.
pub fn recorded_at_of(
    conn: &mut DbConn,
    ids: &[String],
) -> ApiResult<HashMap<String, NaiveDateTime>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pairs: Vec<(String, NaiveDateTime)> = db_run!(conn, |c| checkins::table
        .filter(checkins::id.eq_any(ids))
        .select((checkins::id, checkins::recorded_at))
        .load(c))?;
    Ok(pairs.into_iter().collect())
}

/// A check-in's fix: its id, reported latitude and longitude, accuracy, and time.
pub type Fix = (String, f64, f64, f64, NaiveDateTime);

/// The user's check-ins recorded at or before `until` whose reported position lies within
/// 1e-6° of `(lat, lon)`, newest first (at most 20): candidates for `repeated_position`,
/// found through `checkins_user_fix`.
pub fn same_position(
    conn: &mut DbConn,
    user_id: &str,
    (lat, lon): (f64, f64),
    until: NaiveDateTime,
) -> ApiResult<Vec<Fix>> {
    const NEAR: f64 = 1e-6;
    Ok(db_run!(conn, |c| checkins::table
        .filter(checkins::user_id.eq(user_id))
        .filter(checkins::reported_lat.between(lat - NEAR, lat + NEAR))
        .filter(checkins::reported_lon.between(lon - NEAR, lon + NEAR))
        .filter(checkins::recorded_at.le(until))
        .order((checkins::recorded_at.desc(), checkins::id.desc()))
        .limit(20)
        .select((
            checkins::id,
            checkins::reported_lat,
            checkins::reported_lon,
            checkins::accuracy_m,
            checkins::recorded_at,
        ))
        .load(c))?)
}

pub fn usual_device(conn: &mut DbConn, user_id: &str) -> ApiResult<Option<String>> {
    Ok(db_run!(conn, |c| users::table
        .find(user_id)
        .select(users::usual_device_id)
        .first::<Option<String>>(c))?)
}

pub fn set_usual_device(conn: &mut DbConn, user_id: &str, device: &str) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(
        users::table
            .find(user_id)
            .filter(users::usual_device_id.is_null())
    )
    .set(users::usual_device_id.eq(device))
    .execute(c))?;
    Ok(())
}

pub fn stay_of_night(
    conn: &mut DbConn,
    user_id: &str,
    night: NaiveDate,
) -> ApiResult<Option<StayRow>> {
    Ok(db_run!(conn, |c| stays::table
        .filter(stays::user_id.eq(user_id))
        .filter(stays::night_date.eq(night))
        .select(StayRow::as_select())
        .first(c)
        .optional())?)
}

pub fn insert_stay(conn: &mut DbConn, row: &StayRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(stays::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn close_stay(conn: &mut DbConn, stay_id: &str, end_id: &str) -> ApiResult<()> {
    db_run!(conn, |c| diesel::update(stays::table.find(stay_id))
        .set(stays::end_id.eq(end_id))
        .execute(c))?;
    Ok(())
}

pub struct ReviewUpdate<'a> {
    pub status: &'a str,
    pub reviewed_by: &'a str,
    pub reviewed_at: NaiveDateTime,
    pub reason: &'a str,
}

/// Records a decision on a flagged check-in; false if it was decided meanwhile.
pub fn review(conn: &mut DbConn, id: &str, update: &ReviewUpdate) -> ApiResult<bool> {
    let changed = db_run!(conn, |c| diesel::update(
        checkins::table
            .find(id)
            .filter(checkins::status.eq("flagged"))
    )
    .set((
        checkins::status.eq(update.status),
        checkins::reviewed_by.eq(update.reviewed_by),
        checkins::reviewed_at.eq(update.reviewed_at),
        checkins::review_reason.eq(update.reason),
    ))
    .execute(c))?;
    Ok(changed == 1)
}

/// Filters of `GET /checkins`; rows come newest first, after the `after` position.
#[derive(Debug, Default)]
pub struct CheckinFilter {
    pub user_id: Option<String>,
    pub village_id: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Only check-ins made in this subtree (a path prefix) or by one of its cadres.
    pub within: Option<String>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConn, f: &CheckinFilter) -> ApiResult<Vec<CheckinRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = checkins::table
            .select(CheckinRow::as_select())
            .order((checkins::recorded_at.desc(), checkins::id.desc()))
            .limit(f.limit)
            .into_boxed();
        if let Some(v) = &f.user_id {
            q = q.filter(checkins::user_id.eq(v));
        }
        if let Some(v) = &f.village_id {
            q = q.filter(checkins::village_id.eq(v));
        }
        if let Some(v) = &f.kind {
            q = q.filter(checkins::kind.eq(v));
        }
        if let Some(v) = &f.status {
            q = q.filter(checkins::status.eq(v));
        }
        if let Some(v) = f.from {
            q = q.filter(checkins::recorded_at.ge(v));
        }
        if let Some(v) = f.to {
            q = q.filter(checkins::recorded_at.lt(v));
        }
        if let Some(prefix) = &f.within {
            let prefix = format!("{prefix}%");
            q = q.filter(
                checkins::org_path
                    .like(prefix.clone())
                    .or(checkins::user_id.eq_any(cadres_under!(prefix))),
            );
        }
        if let Some((at, id)) = &f.after {
            q = q.filter(
                checkins::recorded_at
                    .lt(*at)
                    .or(checkins::recorded_at.eq(*at).and(checkins::id.lt(id))),
            );
        }
        q.load(c)
    })?)
}

/// The photos of each of `checkin_ids`, in one query.
pub fn photo_ids_of(
    conn: &mut DbConn,
    checkin_ids: &[String],
) -> ApiResult<HashMap<String, Vec<String>>> {
    let pairs: Vec<(String, String)> = db_run!(conn, |c| checkin_photos::table
        .filter(checkin_photos::checkin_id.eq_any(checkin_ids))
        .order((checkin_photos::checkin_id, checkin_photos::media_id))
        .select((checkin_photos::checkin_id, checkin_photos::media_id))
        .load(c))?;
    let mut by_checkin: HashMap<String, Vec<String>> = HashMap::new();
    for (checkin, media) in pairs {
        by_checkin.entry(checkin).or_default().push(media);
    }
    Ok(by_checkin)
}

/// Where the check-ins that use a photo are filed, whose they are, and their cadre's unit path.
pub fn photo_owners(
    conn: &mut DbConn,
    media_id: &str,
) -> ApiResult<Vec<(String, String, Option<String>)>> {
    Ok(db_run!(conn, |c| checkin_photos::table
        .inner_join(checkins::table)
        .inner_join(users::table.on(users::id.eq(checkins::user_id)))
        .left_join(org_units::table.on(users::org_unit_id.eq(org_units::id.nullable())))
        .filter(checkin_photos::media_id.eq(media_id))
        .select((
            checkins::org_path,
            checkins::user_id,
            org_units::path.nullable(),
        ))
        .load(c))?)
}

#[derive(Debug, Default)]
pub struct StayFilter {
    pub user_id: Option<String>,
    pub village_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub within: Option<String>,
    pub after: Option<(NaiveDate, String)>,
    pub limit: i64,
}

pub fn list_stays(conn: &mut DbConn, f: &StayFilter) -> ApiResult<Vec<StayRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = stays::table
            .select(StayRow::as_select())
            .order((stays::night_date.desc(), stays::id.desc()))
            .limit(f.limit)
            .into_boxed();
        if let Some(v) = &f.user_id {
            q = q.filter(stays::user_id.eq(v));
        }
        if let Some(v) = &f.village_id {
            q = q.filter(stays::village_id.eq(v));
        }
        if let Some(v) = f.from {
            q = q.filter(stays::night_date.ge(v));
        }
        if let Some(v) = f.to {
            q = q.filter(stays::night_date.le(v));
        }
        if let Some(prefix) = &f.within {
            q = q.filter(stays::org_path.like(format!("{prefix}%")));
        }
        if let Some((night, id)) = &f.after {
            q = q.filter(
                stays::night_date
                    .lt(*night)
                    .or(stays::night_date.eq(*night).and(stays::id.lt(id))),
            );
        }
        q.load(c)
    })?)
}

/// Status and recorded time of each of `ids`, in one query.
pub fn statuses(
    conn: &mut DbConn,
    ids: &[String],
) -> ApiResult<HashMap<String, (String, NaiveDateTime)>> {
    let rows: Vec<(String, String, NaiveDateTime)> = db_run!(conn, |c| checkins::table
        .filter(checkins::id.eq_any(ids))
        .select((checkins::id, checkins::status, checkins::recorded_at))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(id, status, at)| (id, (status, at)))
        .collect())
}

/// Inserts many stays in multi-row statements (bulk loads: benchmarks).
pub fn insert_stays(conn: &mut DbConn, rows: &[StayRow]) -> ApiResult<()> {
    for chunk in rows.chunks(1000) {
        db_run!(conn, |c| diesel::insert_into(stays::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Inserts many check-ins in multi-row statements (bulk loads: demo data, benchmarks).
pub fn insert_many(conn: &mut DbConn, rows: &[CheckinRow]) -> ApiResult<()> {
    // 25 columns × 1000 rows stays under both backends' bind-parameter limits.
    for chunk in rows.chunks(1000) {
        db_run!(conn, |c| diesel::insert_into(checkins::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// A page of the flagged check-ins waiting for review of the cadres of a subtree (all when `None`),
/// oldest first after `after`, each with its cadre's name; none of the nights in `closed`
/// (first and last night of each closed period), which can no longer be decided.
pub fn flagged_oldest_first(
    conn: &mut DbConn,
    within: Option<&str>,
    after: Option<&(NaiveDateTime, String)>,
    closed: &[(NaiveDate, NaiveDate)],
    limit: i64,
) -> ApiResult<Vec<(CheckinRow, String)>> {
    let within = within.map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = checkins::table
            .inner_join(users::table.on(users::id.eq(checkins::user_id)))
            .filter(checkins::status.eq("flagged"))
            .select((CheckinRow::as_select(), users::name))
            .order((checkins::recorded_at.asc(), checkins::id.asc()))
            .limit(limit)
            .into_boxed();
        for (first, last) in closed {
            q = q.filter(checkins::night_date.not_between(*first, *last));
        }
        if let Some(prefix) = &within {
            q = q.filter(
                users::org_unit_id.eq_any(
                    org_units::table
                        .filter(org_units::path.like(prefix))
                        .select(org_units::id.nullable()),
                ),
            );
        }
        if let Some((at, id)) = after {
            q = q.filter(
                checkins::recorded_at
                    .gt(*at)
                    .or(checkins::recorded_at.eq(*at).and(checkins::id.gt(id))),
            );
        }
        q.load(c)
    })?)
}

/// Where the user's check-in recorded just before this one (by time, then id) was made.
pub fn position_before(
    conn: &mut DbConn,
    user_id: &str,
    at: NaiveDateTime,
    id: &str,
) -> ApiResult<Option<(f64, f64)>> {
    Ok(db_run!(conn, |c| checkins::table
        .filter(checkins::user_id.eq(user_id))
        .filter(
            checkins::recorded_at
                .lt(at)
                .or(checkins::recorded_at.eq(at).and(checkins::id.lt(id)))
        )
        .order((checkins::recorded_at.desc(), checkins::id.desc()))
        .select((checkins::lat, checkins::lon))
        .first(c)
        .optional())?)
}

/// How many check-ins of nights `first..=last` by the cadres of a subtree (all when `None`) still wait
/// for review.
pub fn count_flagged(
    conn: &mut DbConn,
    within: Option<&str>,
    first: NaiveDate,
    last: NaiveDate,
) -> ApiResult<i64> {
    let within = within.map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = checkins::table
            .filter(checkins::status.eq("flagged"))
            .filter(checkins::night_date.ge(first))
            .filter(checkins::night_date.le(last))
            .count()
            .into_boxed();
        if let Some(prefix) = &within {
            q = q.filter(checkins::user_id.eq_any(cadres_under!(prefix)));
        }
        q.get_result(c)
    })?)
}

/// How many check-ins of nights `first..=last` still wait for review in the whole county, in
/// one COUNT. `recorded` must hold every instant such a check-in can be recorded at (a
/// night's are recorded on its own local day or the next): bounding `recorded_at` as well
/// lets the index on (status, recorded_at) find the flagged ones without reading the rest.
pub fn count_flagged_of_nights(
    conn: &mut DbConn,
    (first, last): (NaiveDate, NaiveDate),
    recorded: (NaiveDateTime, NaiveDateTime),
) -> ApiResult<i64> {
    Ok(db_run!(conn, |c| checkins::table
        .filter(checkins::status.eq("flagged"))
        .filter(checkins::recorded_at.ge(recorded.0))
        .filter(checkins::recorded_at.lt(recorded.1))
        .filter(checkins::night_date.ge(first))
        .filter(checkins::night_date.le(last))
        .count()
        .get_result::<i64>(c))?)
}

#[derive(Debug, QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Of the check-ins of nights `first..=last` by the cadres of a subtree (all when `None`), how many
/// were flagged (a review only ever decides a flagged one) and how many of those still
/// wait for review, in one query.
pub fn flagged_and_waiting(
    conn: &mut DbConn,
    within: Option<&str>,
    first: NaiveDate,
    last: NaiveDate,
) -> ApiResult<(i64, i64)> {
    use diesel::sql_types::{Date, Nullable, Text};
    let within = within.map(|p| format!("{p}%"));
    let rows: Vec<StatusCount> = db_run!(conn, |c| diesel::sql_query(
        "SELECT status, COUNT(*) AS n FROM checkins
         WHERE status IN ('flagged', 'approved', 'rejected')
           AND night_date >= $1 AND night_date <= $2
           AND ($3 IS NULL OR user_id IN (SELECT u.id FROM users u
                JOIN org_units o ON o.id = u.org_unit_id WHERE o.path LIKE $3))
         GROUP BY status"
    )
    .bind::<Date, _>(first)
    .bind::<Date, _>(last)
    .bind::<Nullable<Text>, _>(within.as_deref())
    .load(c))?;
    let flagged = rows.iter().map(|r| r.n).sum();
    let waiting = rows
        .iter()
        .filter(|r| r.status == "flagged")
        .map(|r| r.n)
        .sum();
    Ok((flagged, waiting))
}

/// How many check-ins by the cadres of a subtree (all when `None`) wait for review now, of any
/// night but those in `closed` (as [`flagged_oldest_first`]): the desk's start page. One count
/// over `checkins_status_recorded`.
pub fn count_waiting_review(
    conn: &mut DbConn,
    within: Option<&str>,
    closed: &[(NaiveDate, NaiveDate)],
) -> ApiResult<i64> {
    let within = within.map(|p| format!("{p}%"));
    Ok(db_run!(conn, |c| {
        let mut q = checkins::table
            .filter(checkins::status.eq("flagged"))
            .count()
            .into_boxed();
        for (first, last) in closed {
            q = q.filter(checkins::night_date.not_between(*first, *last));
        }
        if let Some(prefix) = &within {
            q = q.filter(checkins::user_id.eq_any(cadres_under!(prefix)));
        }
        q.get_result(c)
    })?)
}
