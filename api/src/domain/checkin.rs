//! 四夜 and 住夜 check-ins: what a check-in counts for (its night date), what a supervisor
//! must look at (flags with measured values), and what a stay amounts to.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use geo::{Distance, Geodesic, Point};
use minqing_protocol::{CheckinKind, CheckinStatus, Crs, Flag, FlagCode, NewCheckin, StayStatus};
use serde_json::{json, Value};

use super::boundary::Boundary;
use super::coords::{self, LatLon};
use super::photo_hash::Reuse;
use super::Invalid;

/// The thresholds of DESIGN §2.1–2.2; every one is a setting with the given default.
#[derive(Debug, Clone)]
pub struct CheckinRules {
    pub timezone: Tz,
    /// 四夜 window, wrapping midnight: 18:00–06:00.
    pub night_start: NaiveTime,
    pub night_end: NaiveTime,
    /// A stay starts 18:00–23:59 and ends the next morning 05:00–10:00, ≥ 6 h later.
    pub stay_start_from: NaiveTime,
    pub stay_start_until: NaiveTime,
    pub stay_end_from: NaiveTime,
    pub stay_end_until: NaiveTime,
    pub min_stay: Duration,
    /// A stay with no end by this local time the next day is incomplete.
    pub stay_deadline: NaiveTime,
    /// The reported accuracy forgiven at a geofence edge is capped at this.
    pub accuracy_cap_m: f64,
    pub low_accuracy_m: f64,
    pub max_speed_kmh: f64,
    /// Moves shorter than this are GPS noise, whatever the implied speed.
    pub speed_min_distance_m: f64,
    pub late_sync: Duration,
    pub future_tolerance: Duration,
    pub exif_far_m: f64,
    pub exif_time: Duration,
    /// A fix repeated after at least this long is `repeated_position`; a phone lying still
    /// may hand out its last fix again for a few minutes.
    pub repeat_after: Duration,
    /// Check-in kinds that need a photo in towns without their own list.
    pub photo_required_kinds: Vec<CheckinKind>,
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Default for CheckinRules {
    fn default() -> Self {
        CheckinRules {
            timezone: chrono_tz::Asia::Shanghai,
            night_start: hm(18, 0),
            night_end: hm(6, 0),
            stay_start_from: hm(18, 0),
            stay_start_until: NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
            stay_end_from: hm(5, 0),
            stay_end_until: hm(10, 0),
            min_stay: Duration::hours(6),
            stay_deadline: hm(12, 0),
            accuracy_cap_m: 200.0,
            low_accuracy_m: 100.0,
            max_speed_kmh: 120.0,
            speed_min_distance_m: 200.0,
            late_sync: Duration::hours(48),
            future_tolerance: Duration::minutes(5),
            exif_far_m: 500.0,
            exif_time: Duration::hours(2),
            repeat_after: Duration::minutes(30),
            photo_required_kinds: Vec::new(),
        }
    }
}

/// A check-in request that has passed every shape rule, position converted to WGS-84.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCheckin {
    pub id: String,
    pub kind: CheckinKind,
    pub place: CheckinPlace,
    pub position: LatLon,
    pub reported: LatLon,
    pub crs: Crs,
    pub accuracy_m: f64,
    pub recorded_at: DateTime<Utc>,
    pub device_id: Option<String>,
    pub mock_location: bool,
    pub note: Option<String>,
    pub household: Option<String>,
    pub photo_ids: Vec<String>,
}

pub const MAX_PHOTOS: usize = 9;

/// Where a check-in was made: in a village, or at a 夜学 / 夜议 session (whose place and
/// boundary the server looks up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckinPlace {
    Village(String),
    Session(String),
}

/// Whether a kind of night work is held as a group session.
pub fn is_session_kind(kind: CheckinKind) -> bool {
    matches!(kind, CheckinKind::NightStudy | CheckinKind::NightDiscussion)
}

fn optional_text(
    field: &str,
    value: &Option<String>,
    max: usize,
    errors: &mut Vec<Invalid>,
) -> Option<String> {
    let text = value.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if text.chars().count() > max {
        errors.push(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(text.to_string())
}

/// Checks a check-in's shape and converts its position to WGS-84.
pub fn parse_checkin(req: &NewCheckin) -> Result<ValidCheckin, Vec<Invalid>> {
    let mut errors = Vec::new();
    if !super::is_client_uuid(&req.id) {
        errors.push(Invalid::new("id", "must be a UUID made by the client"));
    }
    if !(req.lat.is_finite() && (-90.0..=90.0).contains(&req.lat)) {
        errors.push(Invalid::new("lat", "must be between -90 and 90"));
    }
    if !(req.lon.is_finite() && (-180.0..=180.0).contains(&req.lon)) {
        errors.push(Invalid::new("lon", "must be between -180 and 180"));
    }
    if !(req.accuracy_m.is_finite() && (0.0..=100_000.0).contains(&req.accuracy_m)) {
        errors.push(Invalid::new(
            "accuracy_m",
            "must be between 0 and 100000 metres",
        ));
    }
    let note = optional_text("note", &req.note, 2000, &mut errors);
    let household = optional_text("household", &req.household, 200, &mut errors);
    let device_id = optional_text("device_id", &req.device_id, 128, &mut errors);
    let place = match (&req.village_id, &req.session_id) {
        (Some(village), None) => Some(CheckinPlace::Village(village.clone())),
        (None, Some(session)) if is_session_kind(req.kind) => {
            Some(CheckinPlace::Session(session.clone()))
        }
        (None, Some(_)) => {
            errors.push(Invalid::new(
                "session_id",
                "only night_study and night_discussion are held as sessions",
            ));
            None
        }
        (Some(_), Some(_)) => {
            errors.push(Invalid::new(
                "village_id",
                "leave it out when checking in to a session: the session's place counts",
            ));
            None
        }
        (None, None) => {
            errors.push(Invalid::new(
                "village_id",
                "name the village (or a session_id)",
            ));
            None
        }
    };
    let photo_ids = req.photo_ids.clone().unwrap_or_default();
    if photo_ids.len() > MAX_PHOTOS {
        errors.push(Invalid::new(
            "photo_ids",
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    let Some(place) = place.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let crs = req.crs.unwrap_or(Crs::Wgs84);
    let reported = LatLon {
        lat: req.lat,
        lon: req.lon,
    };
    let system = match crs {
        Crs::Wgs84 => coords::Crs::Wgs84,
        Crs::Gcj02 => coords::Crs::Gcj02,
        Crs::Bd09 => coords::Crs::Bd09,
    };
    let mut unique_photos = Vec::with_capacity(photo_ids.len());
    for id in photo_ids {
        if !unique_photos.contains(&id) {
            unique_photos.push(id);
        }
    }
    Ok(ValidCheckin {
        id: req.id.to_ascii_lowercase(),
        kind: req.kind,
        place,
        position: coords::to_wgs84(reported, system),
        reported,
        crs,
        accuracy_m: req.accuracy_m,
        recorded_at: req.recorded_at,
        device_id,
        mock_location: req.mock_location.unwrap_or(false),
        note,
        household,
        photo_ids: unique_photos,
    })
}

pub fn is_night_work(kind: CheckinKind) -> bool {
    matches!(
        kind,
        CheckinKind::NightStudy
            | CheckinKind::NightVisit
            | CheckinKind::NightDiscussion
            | CheckinKind::NightHelp
    )
}

/// The local date a check-in counts for: before noon, night work and stays belong to the
/// night before; a work log belongs to its own day.
pub fn night_date(
    kind: CheckinKind,
    recorded_at: DateTime<Utc>,
    rules: &CheckinRules,
) -> NaiveDate {
    let local = recorded_at.with_timezone(&rules.timezone);
    let date = local.date_naive();
    if kind != CheckinKind::WorkLog && local.time() < hm(12, 0) {
        date.pred_opt().unwrap_or(date)
    } else {
        date
    }
}

/// Whether `t` lies in `[from, until]`, a window that may wrap midnight.
fn in_window(t: NaiveTime, from: NaiveTime, until: NaiveTime) -> bool {
    if from <= until {
        from <= t && t <= until
    } else {
        t >= from || t <= until
    }
}

/// What a photo attached to a check-in shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoEvidence {
    pub media_id: String,
    /// An earlier check-in holds the same photo: identical bytes, or a near copy by its
    /// perceptual hash (`domain::photo_hash`).
    pub reused: Option<Reuse>,
    pub exif_position: Option<LatLon>,
    pub exif_taken_at: Option<DateTime<Utc>>,
}

/// An earlier check-in of the same cadre at the same reported position, to within a
/// metre or so (the database narrows; [`assess`] decides).
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierFix {
    pub checkin_id: String,
    pub reported: LatLon,
    pub accuracy_m: f64,
    pub recorded_at: DateTime<Utc>,
}

/// The same fix: latitude and longitude equal to 1e-6°, accuracy to the millimetre (phones
/// report it with decimals to spare; a spoofer repeats one number).
fn same_fix(a: LatLon, a_accuracy: f64, b: LatLon, b_accuracy: f64) -> bool {
    let micro = |x: f64| (x * 1e6).round();
    micro(a.lat) == micro(b.lat)
        && micro(a.lon) == micro(b.lon)
        && (a_accuracy * 1000.0).round() == (b_accuracy * 1000.0).round()
}

/// An earlier check-in named in a flag: which, and when (RFC 3339, UTC).
fn earlier(checkin_id: &str, recorded_at: DateTime<Utc>) -> Value {
    json!({"checkin_id": checkin_id, "recorded_at": recorded_at.to_rfc3339_opts(SecondsFormat::Secs, true)})
}

/// Everything known about a check-in when it arrives.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    pub checkin: &'a ValidCheckin,
    pub received_at: DateTime<Utc>,
    pub assigned: bool,
    pub boundary: Option<&'a Boundary>,
    pub usual_device_id: Option<&'a str>,
    /// The cadre's check-in recorded just before this one: where and when.
    pub previous: Option<(LatLon, DateTime<Utc>)>,
    pub photos: &'a [PhotoEvidence],
    /// For a `stay_end` that closes a stay: when the stay started.
    pub stay_started_at: Option<DateTime<Utc>>,
    /// The cadre's earlier check-ins reported at (nearly) the same position.
    pub earlier_fixes: &'a [EarlierFix],
    /// The town's own list of kinds that need a photo, when it has one.
    pub town_photo_kinds: Option<&'a [CheckinKind]>,
    /// Attendance at a session whose minutes did not come by their deadline.
    pub session_incomplete: bool,
}

fn point(p: LatLon) -> Point<f64> {
    Point::new(p.lon, p.lat)
}

pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    Geodesic.distance(point(a), point(b))
}

fn round1(x: f64) -> Value {
    json!((x * 10.0).round() / 10.0)
}

fn hours(d: Duration) -> Value {
    round1(d.num_seconds() as f64 / 3600.0)
}

/// The flags a check-in raises, in code order, each with its measured value.
pub fn assess(e: &Evidence, rules: &CheckinRules) -> Vec<Flag> {
    let c = e.checkin;
    let mut flags = Vec::new();
    let mut raise = |code: FlagCode, value: Value| flags.push(Flag { code, value });

    if let Some(boundary) = e.boundary {
        let outside = boundary.distance_outside_m(point(c.position));
        if outside > c.accuracy_m.min(rules.accuracy_cap_m) {
            raise(FlagCode::OutsideGeofence, round1(outside));
        }
    }
    if !e.assigned {
        if let CheckinPlace::Village(village) = &c.place {
            raise(FlagCode::NotAssignedVillage, json!(village));
        }
    }
    let local = c.recorded_at.with_timezone(&rules.timezone).time();
    let window = match c.kind {
        k if is_night_work(k) => Some((rules.night_start, rules.night_end)),
        CheckinKind::StayStart => Some((rules.stay_start_from, rules.stay_start_until)),
        CheckinKind::StayEnd => Some((rules.stay_end_from, rules.stay_end_until)),
        _ => None,
    };
    if let Some((from, until)) = window {
        if !in_window(local, from, until) {
            raise(
                FlagCode::OutsideNightWindow,
                json!(local.format("%H:%M").to_string()),
            );
        }
    }
    if c.accuracy_m > rules.low_accuracy_m {
        raise(FlagCode::LowAccuracy, round1(c.accuracy_m));
    }
    if let Some((previous, at)) = e.previous {
        let metres = distance_m(previous, c.position);
        let seconds = (c.recorded_at - at).num_seconds().abs().max(1) as f64;
        let kmh = metres / 1000.0 / (seconds / 3600.0);
        if metres > rules.speed_min_distance_m && kmh > rules.max_speed_kmh {
            raise(FlagCode::ImplausibleSpeed, round1(kmh));
        }
    }
    if c.mock_location {
        raise(FlagCode::MockLocation, json!(true));
    }
    if let (Some(device), Some(usual)) = (c.device_id.as_deref(), e.usual_device_id) {
        if device != usual {
            raise(FlagCode::UnusualDevice, json!(device));
        }
    }
    if e.received_at - c.recorded_at > rules.late_sync {
        raise(FlagCode::LateSync, hours(e.received_at - c.recorded_at));
    }
    if c.recorded_at - e.received_at > rules.future_tolerance {
        raise(FlagCode::FutureTime, hours(c.recorded_at - e.received_at));
    }
    for photo in e.photos {
        if let Some(r) = &photo.reused {
            let mut value = earlier(&r.checkin_id, r.recorded_at);
            value["distance"] = json!(r.distance);
            raise(FlagCode::PhotoReused, value);
        }
    }
    for photo in e.photos {
        if let Some(at) = photo.exif_position {
            let metres = distance_m(at, c.position);
            if metres > rules.exif_far_m {
                raise(FlagCode::PhotoExifFar, round1(metres));
            }
        }
    }
    for photo in e.photos {
        if let Some(taken) = photo.exif_taken_at {
            let gap = (taken - c.recorded_at).abs();
            if gap > rules.exif_time {
                raise(FlagCode::PhotoExifTime, hours(gap));
            }
        }
    }
    if let Some(started) = e.stay_started_at {
        let length = c.recorded_at - started;
        if length < rules.min_stay {
            raise(FlagCode::ShortStay, hours(length));
        }
    }
    let repeated = e
        .earlier_fixes
        .iter()
        .filter(|f| f.recorded_at <= c.recorded_at - rules.repeat_after)
        .filter(|f| same_fix(f.reported, f.accuracy_m, c.reported, c.accuracy_m))
        .max_by_key(|f| (f.recorded_at, &f.checkin_id));
    if let Some(fix) = repeated {
        raise(
            FlagCode::RepeatedPosition,
            earlier(&fix.checkin_id, fix.recorded_at),
        );
    }
    let required = e.town_photo_kinds.unwrap_or(&rules.photo_required_kinds);
    if c.photo_ids.is_empty() && required.contains(&c.kind) {
        raise(FlagCode::PhotoMissing, json!(true));
    }
    if let (true, CheckinPlace::Session(session)) = (e.session_incomplete, &c.place) {
        raise(FlagCode::SessionIncomplete, json!(session));
    }
    flags
}

pub fn status_for(flags: &[Flag]) -> CheckinStatus {
    if flags.is_empty() {
        CheckinStatus::Accepted
    } else {
        CheckinStatus::Flagged
    }
}

/// Whether a check-in counts (toward stays and scores): accepted, or approved on review.
pub fn counts(status: CheckinStatus) -> bool {
    matches!(status, CheckinStatus::Accepted | CheckinStatus::Approved)
}

/// When a stay of `night_date` must have its morning check-in.
pub fn stay_deadline(night_date: NaiveDate, rules: &CheckinRules) -> DateTime<Utc> {
    let next_day = night_date.succ_opt().unwrap_or(night_date);
    next_day
        .and_time(rules.stay_deadline)
        .and_local_timezone(rules.timezone)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| next_day.and_time(rules.stay_deadline).and_utc())
}

/// A stay's standing from its two check-ins' statuses.
pub fn stay_status(
    start: CheckinStatus,
    end: Option<CheckinStatus>,
    night_date: NaiveDate,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> StayStatus {
    let Some(end) = end else {
        return if start == CheckinStatus::Rejected {
            StayStatus::Rejected
        } else if now > stay_deadline(night_date, rules) {
            StayStatus::Incomplete
        } else {
            StayStatus::Open
        };
    };
    if start == CheckinStatus::Rejected || end == CheckinStatus::Rejected {
        StayStatus::Rejected
    } else if counts(start) && counts(end) {
        StayStatus::Valid
    } else {
        StayStatus::Flagged
    }
}

/// Whether a review may decide this check-in: only flagged ones wait for a decision.
pub fn reviewable(status: CheckinStatus) -> bool {
    status == CheckinStatus::Flagged
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn request(kind: CheckinKind, recorded_at: &str) -> NewCheckin {
        NewCheckin {
            id: "0192f5a4-3b1c-7d2e-8f90-123456789abc".into(),
            kind,
            village_id: Some("v1".into()),
            session_id: None,
            lat: 29.08,
            lon: 119.65,
            crs: None,
            accuracy_m: 15.0,
            recorded_at: at(recorded_at),
            device_id: Some("phone-1".into()),
            mock_location: None,
            note: None,
            household: None,
            photo_ids: None,
        }
    }

    fn village() -> Boundary {
        Boundary::Circle {
            center: Point::new(119.65, 29.08),
            radius_m: 1500.0,
        }
    }

    fn evidence<'a>(c: &'a ValidCheckin, b: &'a Boundary, received: &str) -> Evidence<'a> {
        Evidence {
            checkin: c,
            received_at: at(received),
            assigned: true,
            boundary: Some(b),
            usual_device_id: Some("phone-1"),
            previous: None,
            photos: &[],
            stay_started_at: None,
            session_incomplete: false,
            earlier_fixes: &[],
            town_photo_kinds: None,
        }
    }

    fn codes(flags: &[Flag]) -> Vec<FlagCode> {
        flags.iter().map(|f| f.code).collect()
    }

    // 20:00 in Shanghai is 12:00 UTC.
    const EVENING: &str = "2026-11-20T12:00:00Z";

    #[test]
    fn a_clean_night_visit_raises_nothing() {
        let c = parse_checkin(&request(CheckinKind::NightVisit, EVENING)).unwrap();
        let b = village();
        let flags = assess(
            &evidence(&c, &b, "2026-11-20T12:00:05Z"),
            &CheckinRules::default(),
        );
        assert!(flags.is_empty(), "{flags:?}");
        assert_eq!(status_for(&flags), CheckinStatus::Accepted);
    }

    #[test]
    fn every_flag_carries_its_measure() {
        let mut req = request(CheckinKind::NightVisit, "2026-11-20T07:20:00Z"); // 15:20 local
        req.lat = 29.08 + 0.03; // ~3.3 km north of the centre: ~1.8 km outside
        req.accuracy_m = 150.0;
        req.mock_location = Some(true);
        req.device_id = Some("phone-2".into());
        let c = parse_checkin(&req).unwrap();
        let b = village();
        let photos = [PhotoEvidence {
            media_id: "m1".into(),
            reused: Some(Reuse {
                checkin_id: "c0".into(),
                recorded_at: at("2026-11-19T12:15:00Z"),
                distance: 3,
            }),
            exif_position: Some(LatLon {
                lat: 29.0,
                lon: 119.65,
            }),
            exif_taken_at: Some(at("2026-11-20T01:20:00Z")),
        }];
        let e = Evidence {
            assigned: false,
            previous: Some((
                LatLon {
                    lat: 30.08,
                    lon: 119.65,
                },
                at("2026-11-20T07:00:00Z"),
            )),
            photos: &photos,
            ..evidence(&c, &b, "2026-11-22T08:00:00Z")
        };
        let flags = assess(&e, &CheckinRules::default());
        assert_eq!(
            codes(&flags),
            vec![
                FlagCode::OutsideGeofence,
                FlagCode::NotAssignedVillage,
                FlagCode::OutsideNightWindow,
                FlagCode::LowAccuracy,
                FlagCode::ImplausibleSpeed,
                FlagCode::MockLocation,
                FlagCode::UnusualDevice,
                FlagCode::LateSync,
                FlagCode::PhotoReused,
                FlagCode::PhotoExifFar,
                FlagCode::PhotoExifTime,
            ]
        );
        let value = |code| flags.iter().find(|f| f.code == code).unwrap().value.clone();
        let outside = value(FlagCode::OutsideGeofence).as_f64().unwrap();
        assert!((1800.0..1900.0).contains(&outside), "{outside}");
        assert_eq!(value(FlagCode::OutsideNightWindow), json!("15:20"));
        // 1 degree of latitude (~111 km) in 20 minutes: ~333 km/h.
        let kmh = value(FlagCode::ImplausibleSpeed).as_f64().unwrap();
        assert!((320.0..345.0).contains(&kmh), "{kmh}");
        assert_eq!(value(FlagCode::UnusualDevice), json!("phone-2"));
        assert_eq!(value(FlagCode::LateSync), json!(48.7));
        assert_eq!(value(FlagCode::PhotoExifTime), json!(6.0));
        assert_eq!(
            value(FlagCode::PhotoReused),
            json!({"checkin_id": "c0", "recorded_at": "2026-11-19T12:15:00Z", "distance": 3})
        );
    }

    #[test]
    fn a_fix_repeated_after_half_an_hour_is_flagged_naming_the_earlier_checkin() {
        let c = parse_checkin(&request(CheckinKind::NightVisit, EVENING)).unwrap();
        let b = village();
        let fix = |id: &str, lat: f64, accuracy_m: f64, when: &str| EarlierFix {
            checkin_id: id.into(),
            reported: LatLon { lat, lon: 119.65 },
            accuracy_m,
            recorded_at: at(when),
        };
        let rules = CheckinRules::default();
        let flags_with = |fixes: &[EarlierFix]| {
            assess(
                &Evidence {
                    earlier_fixes: fixes,
                    ..evidence(&c, &b, EVENING)
                },
                &rules,
            )
        };
        // The same numbers 31 minutes and a day before: the latest such one is named.
        let flags = flags_with(&[
            fix("yesterday", 29.08, 15.0, "2026-11-19T12:00:00Z"),
            fix("earlier", 29.080_000_4, 15.0, "2026-11-20T11:29:00Z"),
        ]);
        assert_eq!(codes(&flags), vec![FlagCode::RepeatedPosition]);
        assert_eq!(
            flags[0].value,
            json!({"checkin_id": "earlier", "recorded_at": "2026-11-20T11:29:00Z"})
        );
        // A few minutes before: a phone lying still repeats its last fix.
        assert!(flags_with(&[fix("just-now", 29.08, 15.0, "2026-11-20T11:45:00Z")]).is_empty());
        // A step away (about 1 m), or another accuracy: a new fix.
        assert!(flags_with(&[fix("walk", 29.080_01, 15.0, "2026-11-19T12:00:00Z")]).is_empty());
        assert!(flags_with(&[fix("other", 29.08, 15.002, "2026-11-19T12:00:00Z")]).is_empty());
    }

    #[test]
    fn a_required_photo_missing_is_flagged_by_the_towns_list_or_the_default() {
        let bare = parse_checkin(&request(CheckinKind::NightVisit, EVENING)).unwrap();
        let mut with_photo = request(CheckinKind::NightVisit, EVENING);
        with_photo.photo_ids = Some(vec!["m1".into()]);
        let with_photo = parse_checkin(&with_photo).unwrap();
        let b = village();
        let visits = [CheckinKind::NightVisit];
        let stays = [CheckinKind::StayStart];
        let default_visits = CheckinRules {
            photo_required_kinds: visits.to_vec(),
            ..CheckinRules::default()
        };
        let flags = |c: &ValidCheckin, town: Option<&[CheckinKind]>, rules: &CheckinRules| {
            let e = Evidence {
                town_photo_kinds: town,
                ..evidence(c, &b, EVENING)
            };
            codes(&assess(&e, rules))
        };
        let none = CheckinRules::default();
        assert_eq!(flags(&bare, None, &none), vec![]);
        assert_eq!(
            flags(&bare, Some(&visits), &none),
            vec![FlagCode::PhotoMissing]
        );
        assert_eq!(
            flags(&bare, None, &default_visits),
            vec![FlagCode::PhotoMissing]
        );
        // The town's own list wins over the default, an empty one included.
        assert_eq!(flags(&bare, Some(&stays), &default_visits), vec![]);
        assert_eq!(flags(&bare, Some(&[]), &default_visits), vec![]);
        assert_eq!(flags(&with_photo, Some(&visits), &none), vec![]);
    }

    #[test]
    fn accuracy_forgives_the_geofence_edge_up_to_a_cap() {
        let mut req = request(CheckinKind::NightVisit, EVENING);
        req.lat = 29.08 + 0.0145; // ~1608 m from the centre: ~108 m outside
        req.accuracy_m = 120.0;
        let c = parse_checkin(&req).unwrap();
        let b = village();
        let flags = assess(&evidence(&c, &b, EVENING), &CheckinRules::default());
        assert!(
            !codes(&flags).contains(&FlagCode::OutsideGeofence),
            "{flags:?}"
        );
        req.accuracy_m = 50.0;
        let c = parse_checkin(&req).unwrap();
        assert!(codes(&assess(
            &evidence(&c, &b, EVENING),
            &CheckinRules::default()
        ))
        .contains(&FlagCode::OutsideGeofence));
        // A huge accuracy does not excuse 500 m: the cap is 200 m.
        req.lat = 29.08 + 0.018;
        req.accuracy_m = 900.0;
        let c = parse_checkin(&req).unwrap();
        assert!(codes(&assess(
            &evidence(&c, &b, EVENING),
            &CheckinRules::default()
        ))
        .contains(&FlagCode::OutsideGeofence));
    }

    #[test]
    fn future_times_are_flagged_beyond_five_minutes() {
        let c = parse_checkin(&request(CheckinKind::NightHelp, "2026-11-20T12:10:00Z")).unwrap();
        let b = village();
        let flags = assess(&evidence(&c, &b, EVENING), &CheckinRules::default());
        assert_eq!(codes(&flags), vec![FlagCode::FutureTime]);
        let c = parse_checkin(&request(CheckinKind::NightHelp, "2026-11-20T12:04:00Z")).unwrap();
        assert!(assess(&evidence(&c, &b, EVENING), &CheckinRules::default()).is_empty());
    }

    #[test]
    fn night_dates_after_midnight_belong_to_the_night_before() {
        let rules = CheckinRules::default();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 01:30 local on the 21st.
        assert_eq!(
            night_date(CheckinKind::NightVisit, at("2026-11-20T17:30:00Z"), &rules),
            d("2026-11-20")
        );
        // 07:30 local on the 21st: a stay's morning end.
        assert_eq!(
            night_date(CheckinKind::StayEnd, at("2026-11-20T23:30:00Z"), &rules),
            d("2026-11-20")
        );
        // 20:00 local.
        assert_eq!(
            night_date(CheckinKind::StayStart, at(EVENING), &rules),
            d("2026-11-20")
        );
        // A work log at 09:00 is that day's.
        assert_eq!(
            night_date(CheckinKind::WorkLog, at("2026-11-21T01:00:00Z"), &rules),
            d("2026-11-21")
        );
    }

    #[test]
    fn stay_windows_and_length() {
        let rules = CheckinRules::default();
        let b = village();
        // A stay start at 17:00 local is outside its window.
        let c = parse_checkin(&request(CheckinKind::StayStart, "2026-11-20T09:00:00Z")).unwrap();
        assert_eq!(
            codes(&assess(&evidence(&c, &b, "2026-11-20T09:00:00Z"), &rules)),
            vec![FlagCode::OutsideNightWindow]
        );
        // An end at 04:00 local, 5 h after a 23:00 start: outside its window and short.
        let end = parse_checkin(&request(CheckinKind::StayEnd, "2026-11-20T20:00:00Z")).unwrap();
        let e = Evidence {
            stay_started_at: Some(at("2026-11-20T15:00:00Z")),
            session_incomplete: false,
            ..evidence(&end, &b, "2026-11-20T20:00:00Z")
        };
        let flags = assess(&e, &rules);
        assert_eq!(
            codes(&flags),
            vec![FlagCode::OutsideNightWindow, FlagCode::ShortStay]
        );
        assert_eq!(flags[1].value, json!(5.0));
        // An end at 06:30 local after a 20:00 start is a clean stay.
        let end = parse_checkin(&request(CheckinKind::StayEnd, "2026-11-20T22:30:00Z")).unwrap();
        let e = Evidence {
            stay_started_at: Some(at(EVENING)),
            session_incomplete: false,
            ..evidence(&end, &b, "2026-11-20T22:30:00Z")
        };
        assert!(assess(&e, &rules).is_empty());
    }

    #[test]
    fn stay_statuses() {
        let rules = CheckinRules::default();
        let night = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        use CheckinStatus::*;
        // The deadline is noon local on the 21st = 04:00 UTC.
        assert_eq!(stay_deadline(night, &rules), at("2026-11-21T04:00:00Z"));
        assert_eq!(
            stay_status(Accepted, None, night, at("2026-11-21T03:59:00Z"), &rules),
            StayStatus::Open
        );
        assert_eq!(
            stay_status(Accepted, None, night, at("2026-11-21T04:01:00Z"), &rules),
            StayStatus::Incomplete
        );
        assert_eq!(
            stay_status(
                Accepted,
                Some(Approved),
                night,
                at("2026-11-21T04:01:00Z"),
                &rules
            ),
            StayStatus::Valid
        );
        assert_eq!(
            stay_status(
                Flagged,
                Some(Accepted),
                night,
                at("2026-11-21T04:01:00Z"),
                &rules
            ),
            StayStatus::Flagged
        );
        assert_eq!(
            stay_status(
                Accepted,
                Some(Rejected),
                night,
                at("2026-11-21T04:01:00Z"),
                &rules
            ),
            StayStatus::Rejected
        );
    }

    #[test]
    fn shape_rules_name_fields_and_positions_are_converted() {
        let mut req = request(CheckinKind::NightStudy, EVENING);
        req.id = "not-a-uuid".into();
        req.lat = 95.0;
        req.accuracy_m = f64::NAN;
        req.photo_ids = Some((0..10).map(|i| i.to_string()).collect());
        let errors = parse_checkin(&req).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["id", "lat", "accuracy_m", "photo_ids"]);

        let mut req = request(CheckinKind::NightStudy, EVENING);
        req.crs = Some(Crs::Gcj02);
        let c = parse_checkin(&req).unwrap();
        let shift = distance_m(c.position, c.reported);
        assert!((100.0..1000.0).contains(&shift), "GCJ-02 offset {shift} m");
        assert_eq!(
            c.reported,
            LatLon {
                lat: 29.08,
                lon: 119.65
            }
        );
    }

    proptest! {
        #[test]
        fn night_dates_are_the_local_date_or_the_day_before(secs in 0i64..400_000_000) {
            let rules = CheckinRules::default();
            let t = DateTime::from_timestamp(1_600_000_000 + secs, 0).unwrap();
            let local = t.with_timezone(&rules.timezone).date_naive();
            let d = night_date(CheckinKind::NightVisit, t, &rules);
            prop_assert!(d == local || Some(d) == local.pred_opt());
            prop_assert_eq!(night_date(CheckinKind::WorkLog, t, &rules), local);
        }

        #[test]
        fn more_evidence_never_removes_a_flag(accuracy in 0.0..500.0f64, dlat in -0.05..0.05f64, mock in any::<bool>()) {
            let mut req = request(CheckinKind::NightVisit, EVENING);
            req.accuracy_m = accuracy;
            req.lat += dlat;
            req.mock_location = Some(mock);
            let c = parse_checkin(&req).unwrap();
            let b = village();
            let base = assess(&evidence(&c, &b, EVENING), &CheckinRules::default());
            let unassigned = assess(&Evidence { assigned: false, ..evidence(&c, &b, EVENING) }, &CheckinRules::default());
            for flag in &base {
                prop_assert!(unassigned.contains(flag));
            }
            prop_assert_eq!(unassigned.len(), base.len() + 1);
        }
    }
}
