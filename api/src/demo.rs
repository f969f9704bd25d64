//! A demo county to explore: two towns, villages with boundaries, a supervisor per town,
//! cadres and villagers. Loaded by `minqing serve --demo`; loading twice changes nothing.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use minqing_protocol::{CadreCategory, CheckinKind, NewCheckin, OrgUnitKind, Role};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::auth::password::hash_password;
use crate::db::models::{enum_text, OrgUnitRow, UserRow};
use crate::db::org::{self, BoundaryUpdate, OrgUnitFilter};
use crate::db::{new_id, users, Db, DbConn};
use crate::domain::boundary::parse_boundary;
use crate::domain::checkin::CheckinRules;
use crate::domain::org::child_path;
use crate::domain::people::{default_rater_group, default_staff_type};
use crate::error::ApiResult;
use crate::http::checkins::{record_checkin, Recorder};
use crate::villages::BoundaryCache;

pub const DEMO_PASSWORD: &str = "minqing-demo";
const DEMO_COUNTY_CODE: &str = "DEMO";

struct DemoUser {
    phone: &'static str,
    name: &'static str,
    role: Role,
    unit: &'static str,
    category: Option<CadreCategory>,
    villages: &'static [&'static str],
}

const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        phone: "13900000001",
        name: "青山镇督查办 周敏",
        role: Role::Supervisor,
        unit: "DEMO-QS",
        category: None,
        villages: &[],
    },
    DemoUser {
        phone: "13900000002",
        name: "云岭镇督查办 吴刚",
        role: Role::Supervisor,
        unit: "DEMO-YL",
        category: None,
        villages: &[],
    },
    DemoUser {
        phone: "13900000011",
        name: "李明",
        role: Role::Cadre,
        unit: "DEMO-QS",
        category: Some(CadreCategory::Organ),
        villages: &["DEMO-QS-XK", "DEMO-QS-ZL"],
    },
    DemoUser {
        phone: "13900000012",
        name: "王芳",
        role: Role::Cadre,
        unit: "DEMO-QS-XK",
        category: Some(CadreCategory::Village),
        villages: &["DEMO-QS-XK"],
    },
    DemoUser {
        phone: "13900000013",
        name: "张强",
        role: Role::Cadre,
        unit: "DEMO-QS",
        category: Some(CadreCategory::Leadership),
        villages: &["DEMO-QS-XK", "DEMO-QS-ZL", "DEMO-QS-SQ"],
    },
    DemoUser {
        phone: "13900000014",
        name: "刘洋",
        role: Role::Cadre,
        unit: "DEMO-YL",
        category: Some(CadreCategory::Organ),
        villages: &["DEMO-YL-YL"],
    },
    DemoUser {
        phone: "13900000021",
        name: "赵大爷",
        role: Role::Villager,
        unit: "DEMO-QS-XK",
        category: None,
        villages: &["DEMO-QS-XK"],
    },
    DemoUser {
        phone: "13900000022",
        name: "陈阿姨",
        role: Role::Villager,
        unit: "DEMO-QS-ZL",
        category: None,
        villages: &["DEMO-QS-ZL"],
    },
];

fn square(lon: f64, lat: f64, half: f64) -> serde_json::Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]})
}

/// Loads the demo data unless it is there already; returns the logins to print.
pub fn load(db: &Db, timezone: chrono_tz::Tz) -> anyhow::Result<Vec<String>> {
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    let existing = org::list(
        &mut conn,
        &OrgUnitFilter {
            kind: Some(enum_text(&OrgUnitKind::County)),
            limit: 500,
            ..Default::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !existing
        .iter()
        .any(|u| u.code.as_deref() == Some(DEMO_COUNTY_CODE))
    {
        let password_hash = hash_password(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
        conn.write(|conn| {
            build(conn, &password_hash)?;
            nights_of_work(conn, timezone)
        })
        .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
    }
    Ok(DEMO_USERS
        .iter()
        .map(|u| format!("{:<10} {}  {}", enum_text(&u.role), u.phone, u.name))
        .collect())
}

fn build(conn: &mut DbConn, password_hash: &str) -> ApiResult<()> {
    let now = Utc::now().naive_utc();
    let mut units: Vec<OrgUnitRow> = Vec::new();
    let mut add = |conn: &mut DbConn,
                   name: &str,
                   kind: OrgUnitKind,
                   code: &str,
                   parent: Option<&str>,
                   boundary: Option<serde_json::Value>|
     -> ApiResult<()> {
        let parent =
            parent.and_then(|p| units.iter().find(|u| u.code.as_deref() == Some(p)).cloned());
        let id = new_id();
        let row = OrgUnitRow {
            path: child_path(parent.as_ref().map(|p| p.path.as_str()), &id),
            id,
            name: name.into(),
            kind: enum_text(&kind),
            parent_id: parent.map(|p| p.id),
            code: Some(code.into()),
            boundary: None,
            min_lon: None,
            min_lat: None,
            max_lon: None,
            max_lat: None,
            created_at: now,
            updated_at: now,
        };
        org::insert(conn, &row)?;
        if let Some(value) = boundary {
            let parsed = parse_boundary(&value)?;
            let json = parsed.to_json().to_string();
            org::set_boundary(
                conn,
                &row.id,
                &BoundaryUpdate {
                    json: &json,
                    bbox: parsed.bbox(),
                    now,
                },
            )?;
        }
        units.push(row);
        Ok(())
    };
    add(
        conn,
        "示范县",
        OrgUnitKind::County,
        DEMO_COUNTY_CODE,
        None,
        None,
    )?;
    add(
        conn,
        "青山镇",
        OrgUnitKind::Town,
        "DEMO-QS",
        Some(DEMO_COUNTY_CODE),
        None,
    )?;
    add(
        conn,
        "云岭镇",
        OrgUnitKind::Town,
        "DEMO-YL",
        Some(DEMO_COUNTY_CODE),
        None,
    )?;
    add(
        conn,
        "县农业农村局",
        OrgUnitKind::Department,
        "DEMO-NY",
        Some(DEMO_COUNTY_CODE),
        None,
    )?;
    add(
        conn,
        "溪口村",
        OrgUnitKind::Village,
        "DEMO-QS-XK",
        Some("DEMO-QS"),
        Some(square(119.650, 29.080, 0.008)),
    )?;
    add(
        conn,
        "竹林村",
        OrgUnitKind::Village,
        "DEMO-QS-ZL",
        Some("DEMO-QS"),
        Some(square(119.672, 29.092, 0.009)),
    )?;
    add(
        conn,
        "石桥村",
        OrgUnitKind::Village,
        "DEMO-QS-SQ",
        Some("DEMO-QS"),
        Some(json!({"center": {"lat": 29.066, "lon": 119.690}, "radius_m": 1200.0})),
    )?;
    add(
        conn,
        "云岭村",
        OrgUnitKind::Village,
        "DEMO-YL-YL",
        Some("DEMO-YL"),
        Some(json!({"center": {"lat": 29.150, "lon": 119.760}})),
    )?;

    let by_code = |code: &str| -> String {
        units
            .iter()
            .find(|u| u.code.as_deref() == Some(code))
            .map(|u| u.id.clone())
            .unwrap_or_default()
    };
    for demo in DEMO_USERS {
        let staff = demo.category.map(default_staff_type);
        let row = UserRow {
            id: new_id(),
            phone: demo.phone.into(),
            name: demo.name.into(),
            password_hash: password_hash.into(),
            role: enum_text(&demo.role),
            org_unit_id: Some(by_code(demo.unit)),
            cadre_category: demo.category.map(|c| enum_text(&c)),
            staff_type: staff.map(|s| enum_text(&s)),
            rater_group: demo
                .category
                .zip(staff)
                .map(|(c, s)| enum_text(&default_rater_group(c, s))),
            active: true,
            created_at: now,
            updated_at: now,
        };
        users::insert(conn, &row)?;
        let villages: Vec<String> = demo.villages.iter().map(|c| by_code(c)).collect();
        users::set_villages(conn, &row.id, &villages)?;
    }
    Ok(())
}

/// A month of night work for the demo cadres: visits, studies, stays twice a week, work logs,
/// and now and then something for a supervisor to review (outside the village, a vague fix,
/// a borrowed phone). Recorded through the same path as the API, so flags are real.
fn nights_of_work(conn: &mut DbConn, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let rules = CheckinRules {
        timezone,
        ..CheckinRules::default()
    };
    let boundaries = BoundaryCache::default();
    let mut rng = StdRng::seed_from_u64(2026);
    let villages = org::list(
        conn,
        &OrgUnitFilter {
            kind: Some(enum_text(&OrgUnitKind::Village)),
            limit: 500,
            ..Default::default()
        },
    )?;
    let today = Utc::now().with_timezone(&timezone).date_naive();
    for demo in DEMO_USERS.iter().filter(|u| u.role == Role::Cadre) {
        let Some(user) = users::find_by_phone(conn, demo.phone)? else {
            continue;
        };
        let places: Vec<(String, f64, f64)> = villages
            .iter()
            .filter(|v| {
                v.code
                    .as_deref()
                    .is_some_and(|c| demo.villages.contains(&c))
            })
            .filter_map(|v| {
                Some((
                    v.id.clone(),
                    (v.min_lat? + v.max_lat?) / 2.0,
                    (v.min_lon? + v.max_lon?) / 2.0,
                ))
            })
            .collect();
        for days_back in (2..=31).rev() {
            let night = today - Duration::days(days_back);
            let Some((village, lat, lon)) = places
                .get(rng.random_range(0..places.len().max(1)))
                .cloned()
            else {
                continue;
            };
            let mut work = vec![(CheckinKind::WorkLog, 1, 9, rng.random_range(0..50))];
            if rng.random_bool(0.7) {
                work.push((CheckinKind::NightVisit, 0, 19, rng.random_range(0..59)));
            }
            if rng.random_bool(0.25) {
                work.push((CheckinKind::NightStudy, 0, 20, rng.random_range(0..59)));
            }
            if rng.random_bool(0.15) {
                work.push((CheckinKind::NightDiscussion, 0, 20, rng.random_range(0..59)));
            }
            if rng.random_bool(0.1) {
                work.push((CheckinKind::NightHelp, 0, 21, rng.random_range(0..59)));
            }
            if rng.random_bool(0.3) {
                work.push((CheckinKind::StayStart, 0, 21, rng.random_range(30..59)));
                work.push((CheckinKind::StayEnd, 1, 6, rng.random_range(0..50)));
            }
            work.sort_by_key(|(_, day, h, m)| (*day, *h, *m));
            for (kind, day, hour, minute) in work {
                let Some(recorded_at) = local(timezone, night + Duration::days(day), hour, minute)
                else {
                    continue;
                };
                let odd = rng.random_range(0..40);
                let (mut dlat, mut accuracy, mut device) = (
                    rng.random_range(-0.002..0.002),
                    rng.random_range(5.0..40.0),
                    "demo-phone",
                );
                match odd {
                    0 => dlat = 0.03,
                    1 => accuracy = 160.0,
                    2 => device = "borrowed-phone",
                    _ => {}
                }
                let request = NewCheckin {
                    id: uuid::Uuid::new_v4().to_string(),
                    kind,
                    village_id: village.clone(),
                    lat: lat + dlat,
                    lon: lon + rng.random_range(-0.002..0.002),
                    crs: None,
                    accuracy_m: accuracy,
                    recorded_at,
                    device_id: Some(device.into()),
                    mock_location: None,
                    note: (kind == CheckinKind::NightVisit)
                        .then(|| "走访农户，了解冬季取暖和用水情况".into()),
                    household: (kind == CheckinKind::NightVisit).then(|| {
                        format!("{}组{}号", rng.random_range(1..9), rng.random_range(1..40))
                    }),
                    photo_ids: None,
                };
                let rec = Recorder {
                    rules: &rules,
                    boundaries: &boundaries,
                    now: recorded_at + Duration::minutes(3),
                };
                record_checkin(conn, &rec, &user.id, &request)?;
            }
        }
    }
    Ok(())
}

fn local(
    timezone: chrono_tz::Tz,
    date: NaiveDate,
    hour: u32,
    minute: u32,
) -> Option<chrono::DateTime<Utc>> {
    let naive = date.and_hms_opt(hour, minute, 0)?;
    timezone
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}
