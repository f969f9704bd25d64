//! A demo county to explore: two towns, villages with boundaries, their supervisors (two in
//! 青山镇, so that its two-signature steps have a second signer), at least eight organ and
//! four village cadres per town, villagers, field work and work orders from the first of last
//! month, and last month's scores closed with every consequence of the rules (DESIGN §2.6):
//! achievement and problem records, statements, one problem record cleared (销号). Loaded by
//! `minqing serve --demo`; loading twice changes nothing.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use minqing_protocol::{
    CadreCategory, CheckinKind, NewCheckin, NewManualValue, NewSession, NewVeto, OrgUnitKind,
    RaterGroup, ReviewDecision, Role, SessionKind, SessionUpdate, StaffType, VillagersPresent,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::auth::password::hash_password;
use crate::auth::tokens::{hash_refresh_token, random_secret};
use crate::db::categories::{self, CategoryRow};
use crate::db::models::{enum_text, parse_enum, OrgUnitRow, UserRow};
use crate::db::org::{self, BoundaryUpdate, OrgUnitFilter};
use crate::db::scoring::{self, AdjustmentRow, RatingRow};
use crate::db::work_logs::{self, WorkLogRow};
use crate::db::work_orders::{self, EventRow, WorkOrderRow};
use crate::db::{new_id, users, Db, DbConn};
use crate::domain::access::Actor;
use crate::domain::boundary::parse_boundary;
use crate::domain::checkin::CheckinRules;
use crate::domain::org::child_path;
use crate::domain::people::{default_rater_group, default_staff_type};
use crate::domain::scoring::Period;
use crate::domain::work_order::order_code;
use crate::domain::workdays::{due_at, DueSpec, WorkCalendar};
use crate::error::ApiResult;
use crate::http::checkins::{record_checkin, Recorder};
use crate::night_sessions;
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
    // A second supervisor of 青山镇: vetoes, like adjustments, take a second signature.
    DemoUser {
        phone: "13900000003",
        name: "青山镇督查办 孙丽",
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
        villages: &["xikou", "zhulin"],
    },
    DemoUser {
        phone: "13900000012",
        name: "王芳",
        role: Role::Cadre,
        unit: "xikou",
        category: Some(CadreCategory::Village),
        villages: &["xikou"],
    },
    DemoUser {
        phone: "13900000013",
        name: "张强",
        role: Role::Cadre,
        unit: "DEMO-QS",
        category: Some(CadreCategory::Leadership),
        villages: &["xikou", "zhulin", "shiqiao"],
    },
    DemoUser {
        phone: "13900000014",
        name: "刘洋",
        role: Role::Cadre,
        unit: "DEMO-YL",
        category: Some(CadreCategory::Organ),
        villages: &["yunling"],
    },
    DemoUser {
        phone: "13900000021",
        name: "赵大爷",
        role: Role::Villager,
        unit: "xikou",
        category: None,
        villages: &["xikou"],
    },
    DemoUser {
        phone: "13900000022",
        name: "陈阿姨",
        role: Role::Villager,
        unit: "zhulin",
        category: None,
        villages: &["zhulin"],
    },
];

/// How a town cadre stands among the staff: their 编制 and the group their ratings count in.
#[derive(Clone, Copy)]
enum Staff {
    /// 在编, rating as a middle manager (中层).
    Middle,
    /// 在编.
    Established,
    /// 社区指导员.
    Instructor,
    /// 不在编.
    NonEstablished,
}

/// The rest of each town's cadres (issue #11): at least eight organ and four village cadres
/// per town, so that a closed month ranks each town and category with a top and a bottom.
/// Phones continue the demo's scheme: 3x and 4x are 青山镇's organ and village cadres, 5x and
/// 6x 云岭镇's. `diligence` (0–1) is how much field work, how prompt a hand with 民情工单 and
/// how well rated by colleagues their history makes them: it is what sets them apart.
struct TownCadre {
    phone: &'static str,
    name: &'static str,
    unit: &'static str,
    category: CadreCategory,
    staff: Staff,
    villages: &'static [&'static str],
    diligence: f64,
}

const fn organ(
    phone: &'static str,
    name: &'static str,
    town: &'static str,
    staff: Staff,
    villages: &'static [&'static str],
    diligence: f64,
) -> TownCadre {
    TownCadre {
        phone,
        name,
        unit: town,
        category: CadreCategory::Organ,
        staff,
        villages,
        diligence,
    }
}

/// A village cadre works in (and belongs to) one village.
const fn village(
    phone: &'static str,
    name: &'static str,
    village: &'static [&'static str; 1],
    diligence: f64,
) -> TownCadre {
    TownCadre {
        phone,
        name,
        unit: village[0],
        category: CadreCategory::Village,
        staff: Staff::NonEstablished,
        villages: village,
        diligence,
    }
}

#[rustfmt::skip]
const TOWN_CADRES: &[TownCadre] = &[
    organ("13900000031", "陈晓燕", "DEMO-QS", Staff::Middle, &["xikou", "zhulin"], 0.95),
    organ("13900000032", "黄志刚", "DEMO-QS", Staff::Established, &["zhulin", "shiqiao"], 0.85),
    organ("13900000033", "林建华", "DEMO-QS", Staff::Established, &["shiqiao"], 0.75),
    organ("13900000034", "何丽娟", "DEMO-QS", Staff::Instructor, &["xikou"], 0.62),
    organ("13900000035", "郭伟", "DEMO-QS", Staff::Established, &["zhulin"], 0.5),
    organ("13900000036", "马俊", "DEMO-QS", Staff::NonEstablished, &["shiqiao"], 0.38),
    organ("13900000037", "罗志勇", "DEMO-QS", Staff::NonEstablished, &["xikou"], 0.25),
    village("13900000041", "徐春梅", &["zhulin"], 0.92),
    village("13900000042", "高建国", &["shiqiao"], 0.6),
    village("13900000043", "胡小军", &["xikou"], 0.3),
    organ("13900000051", "朱红", "DEMO-YL", Staff::Middle, &["yunling"], 0.93),
    organ("13900000052", "郑海涛", "DEMO-YL", Staff::Established, &["yunling"], 0.82),
    organ("13900000053", "谢明辉", "DEMO-YL", Staff::Established, &["yunling"], 0.7),
    organ("13900000054", "宋佳", "DEMO-YL", Staff::Instructor, &["yunling"], 0.58),
    organ("13900000055", "唐亮", "DEMO-YL", Staff::Established, &["yunling"], 0.46),
    organ("13900000056", "韩冬梅", "DEMO-YL", Staff::NonEstablished, &["yunling"], 0.35),
    organ("13900000057", "冯志强", "DEMO-YL", Staff::NonEstablished, &["yunling"], 0.22),
    village("13900000061", "董秀兰", &["yunling"], 0.9),
    village("13900000062", "曹勇", &["yunling"], 0.68),
    village("13900000063", "彭桂英", &["yunling"], 0.48),
    village("13900000064", "曾德明", &["yunling"], 0.28),
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
            nights_of_work(conn, timezone)?;
            sessions_and_logs(conn, timezone)?;
            people_s_cases(conn, timezone)?;
            the_towns_at_work(conn, timezone)?;
            performance(conn, timezone)
        })
        .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
    }
    let cadre = enum_text(&Role::Cadre);
    Ok(DEMO_USERS
        .iter()
        .map(|u| format!("{:<10} {}  {}", enum_text(&u.role), u.phone, u.name))
        .chain(
            TOWN_CADRES
                .iter()
                .map(|c| format!("{cadre:<10} {}  {}", c.phone, c.name)),
        )
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
            photo_required_kinds: None,
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
    // The town hall of 青山镇, where its 夜学 are held.
    add(
        conn,
        "青山镇",
        OrgUnitKind::Town,
        "DEMO-QS",
        Some(DEMO_COUNTY_CODE),
        Some(json!({"center": {"lat": TOWN_HALL.0, "lon": TOWN_HALL.1}, "radius_m": 300.0})),
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
        "xikou",
        Some("DEMO-QS"),
        Some(square(119.650, 29.080, 0.008)),
    )?;
    add(
        conn,
        "竹林村",
        OrgUnitKind::Village,
        "zhulin",
        Some("DEMO-QS"),
        Some(square(119.672, 29.092, 0.009)),
    )?;
    add(
        conn,
        "石桥村",
        OrgUnitKind::Village,
        "shiqiao",
        Some("DEMO-QS"),
        Some(json!({"center": {"lat": 29.066, "lon": 119.690}, "radius_m": 1200.0})),
    )?;
    add(
        conn,
        "云岭村",
        OrgUnitKind::Village,
        "yunling",
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
    for cadre in TOWN_CADRES {
        let (staff, rater) = match cadre.staff {
            Staff::Middle => (StaffType::Established, Some(RaterGroup::Middle)),
            Staff::Established => (StaffType::Established, None),
            Staff::Instructor => (StaffType::Instructor, None),
            Staff::NonEstablished => (StaffType::NonEstablished, None),
        };
        let row = UserRow {
            id: new_id(),
            phone: cadre.phone.into(),
            name: cadre.name.into(),
            password_hash: password_hash.into(),
            role: enum_text(&Role::Cadre),
            org_unit_id: Some(by_code(cadre.unit)),
            cadre_category: Some(enum_text(&cadre.category)),
            staff_type: Some(enum_text(&staff)),
            rater_group: Some(enum_text(
                &rater.unwrap_or_else(|| default_rater_group(cadre.category, staff)),
            )),
            active: true,
            created_at: now,
            updated_at: now,
        };
        users::insert(conn, &row)?;
        let villages: Vec<String> = cadre.villages.iter().map(|c| by_code(c)).collect();
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
            // 夜学 and 夜议 are group sessions (see `sessions_and_logs`), logs are written.
            let mut work = Vec::new();
            if rng.random_bool(0.7) {
                work.push((CheckinKind::NightVisit, 0, 19, rng.random_range(0..59)));
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
                    village_id: Some(village.clone()),
                    session_id: None,
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

/// Where 青山镇's town hall stands (its 夜学 are held there).
const TOWN_HALL: (f64, f64) = (29.085, 119.668);

/// The signed-in form of a demo user, as the services expect it.
fn demo_actor(conn: &mut DbConn, phone: &str) -> ApiResult<Option<Actor>> {
    match users::find_by_phone(conn, phone)? {
        Some(user) => actor_of(conn, &user.id),
        None => Ok(None),
    }
}

/// The signed-in form of a user, by id.
fn actor_of(conn: &mut DbConn, user_id: &str) -> ApiResult<Option<Actor>> {
    let Some((user, path)) = users::find_with_path(conn, user_id)? else {
        return Ok(None);
    };
    Ok(Some(Actor {
        role: parse_enum(&user.role)?,
        org_unit_id: user.org_unit_id,
        org_path: path,
        user_id: user.id,
    }))
}

const DEMO_LOGS: &[&str] = &[
    "上午在镇里参加安全生产例会，下午到溪口村走访困难户两户，登记取暖需求。",
    "到竹林村查看村道修缮进度，与施工方核对工期，督促年底前完成路面硬化。",
    "整理本周民情工单，电话回访三位反映问题的村民，两件已办结，一件仍在协调。",
    "参加镇夜学，学习基层治理文件；会后与村干部商量下周入户走访安排。",
    "陪同县农业农村局到石桥村调研冬季种植情况，收集农户对技术培训的意见。",
];

/// 夜学 at the town hall each week, organised by the town's supervisor and attended by its
/// cadres; 夜议 in the villages with villagers; a 工作日志 on most days, some commented by
/// the supervisor or the leadership. Through the same services as the API, so the flags,
/// counts and the missing-minutes rule are real: the latest study still waits for minutes,
/// one earlier study never got them.
fn sessions_and_logs(conn: &mut DbConn, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let rules = CheckinRules {
        timezone,
        ..CheckinRules::default()
    };
    let boundaries = BoundaryCache::default();
    let mut rng = StdRng::seed_from_u64(14);
    let today = Utc::now().with_timezone(&timezone).date_naive();
    let (Some(supervisor), Some(leader)) = (
        demo_actor(conn, "13900000001")?,
        demo_actor(conn, "13900000013")?,
    ) else {
        return Ok(());
    };
    let mut town_cadres = Vec::new();
    for phone in ["13900000011", "13900000012", "13900000013"] {
        town_cadres.extend(demo_actor(conn, phone)?);
    }
    let Some(xikou) = org::find_village_by_code(conn, "xikou")? else {
        return Ok(());
    };
    let studies = [25, 18, 11, 4, 1];
    for (n, days_back) in studies.into_iter().enumerate() {
        let night = today - Duration::days(days_back);
        let Some(starts_at) = local(timezone, night, 19, 30) else {
            continue;
        };
        let topic = [
            "学习乡村振兴政策",
            "学习基层治理文件",
            "冬季防火安全部署",
            "学习信访工作条例",
            "年终考核工作部署",
        ][n];
        let session = night_sessions::open(
            conn,
            &supervisor,
            &NewSession {
                kind: SessionKind::NightStudy,
                // The supervisor's unit is the town: its hall.
                place_id: supervisor.org_unit_id.clone().unwrap_or_default(),
                topic: topic.into(),
                starts_at,
            },
            starts_at - Duration::hours(2),
            &rules,
        )?;
        for (i, cadre) in town_cadres.iter().enumerate() {
            // Now and then a cadre checks in from home, 2 km away.
            let far = rng.random_range(0..8) == 0;
            let request = NewCheckin {
                id: uuid::Uuid::new_v4().to_string(),
                kind: CheckinKind::NightStudy,
                village_id: None,
                session_id: Some(session.id.clone()),
                lat: TOWN_HALL.0
                    + if far {
                        0.02
                    } else {
                        rng.random_range(-0.0008..0.0008)
                    },
                lon: TOWN_HALL.1 + rng.random_range(-0.0008..0.0008),
                crs: None,
                accuracy_m: rng.random_range(5.0..30.0),
                recorded_at: starts_at + Duration::minutes(5 + i as i64),
                device_id: Some("demo-phone".into()),
                mock_location: None,
                note: None,
                household: None,
                photo_ids: None,
            };
            let rec = Recorder {
                rules: &rules,
                boundaries: &boundaries,
                now: request.recorded_at + Duration::minutes(2),
            };
            record_checkin(conn, &rec, &cadre.user_id, &request)?;
        }
        // The latest study still has a day for its minutes; the one before last got none.
        if n + 2 != studies.len() && n + 1 != studies.len() {
            night_sessions::amend(
                conn,
                &supervisor,
                &session.id,
                &SessionUpdate {
                    minutes: Some(format!(
                        "{topic}：传达上级文件精神，各村汇报本周工作，布置下周入户走访。"
                    )),
                    photo_ids: None,
                    villagers_present: None,
                },
                starts_at + Duration::hours(15),
                &rules,
            )?;
        }
    }
    // A 夜议 in 溪口村 each fortnight, held by 李明 with the villagers.
    if let Some(li) = town_cadres.first() {
        for days_back in [20, 6] {
            let night = today - Duration::days(days_back);
            let Some(starts_at) = local(timezone, night, 19, 0) else {
                continue;
            };
            let session = night_sessions::open(
                conn,
                li,
                &NewSession {
                    kind: SessionKind::NightDiscussion,
                    place_id: xikou.id.clone(),
                    topic: "村道修缮与路灯安装议事".into(),
                    starts_at,
                },
                starts_at - Duration::hours(3),
                &rules,
            )?;
            let (lat, lon) = (29.080, 119.650);
            let request = NewCheckin {
                id: uuid::Uuid::new_v4().to_string(),
                kind: CheckinKind::NightDiscussion,
                village_id: None,
                session_id: Some(session.id.clone()),
                lat: lat + rng.random_range(-0.001..0.001),
                lon: lon + rng.random_range(-0.001..0.001),
                crs: None,
                accuracy_m: 12.0,
                recorded_at: starts_at + Duration::minutes(3),
                device_id: Some("demo-phone".into()),
                mock_location: None,
                note: None,
                household: None,
                photo_ids: None,
            };
            let rec = Recorder {
                rules: &rules,
                boundaries: &boundaries,
                now: request.recorded_at + Duration::minutes(2),
            };
            record_checkin(conn, &rec, &li.user_id, &request)?;
            night_sessions::amend(
                conn,
                li,
                &session.id,
                &SessionUpdate {
                    minutes: Some(
                        "议定村道分三段修缮，由村民代表监督施工；路灯安装位置张榜公示后再定。"
                            .into(),
                    ),
                    photo_ids: None,
                    villagers_present: Some(VillagersPresent {
                        names: vec!["赵大爷".into(), "钱大伯".into(), "孙阿姨".into()],
                        count: 17,
                    }),
                },
                starts_at + Duration::hours(3),
                &rules,
            )?;
        }
    }
    // The logs: most days of the last four weeks, written in the evening of their day.
    for cadre in &town_cadres {
        let Some(path) = cadre.org_path.clone() else {
            continue;
        };
        for days_back in 1..=28 {
            if rng.random_range(0..6) == 0 {
                continue;
            }
            let date = today - Duration::days(days_back);
            let Some(written) = local(timezone, date, 21, rng.random_range(0..59)) else {
                continue;
            };
            let row = WorkLogRow {
                id: new_id(),
                user_id: cadre.user_id.clone(),
                org_path: path.clone(),
                log_date: date,
                content: DEMO_LOGS[rng.random_range(0..DEMO_LOGS.len())].into(),
                created_at: written.naive_utc(),
                updated_at: written.naive_utc(),
            };
            work_logs::insert(conn, &row, &[])?;
            let reader = if cadre.user_id == leader.user_id {
                &supervisor
            } else {
                &leader
            };
            if days_back % 5 == 0 {
                crate::work_logs::comment(
                    conn,
                    reader,
                    &row.id,
                    "已阅。走访情况记录清楚，请跟进群众反映的问题。",
                    written + Duration::hours(12),
                )?;
            }
        }
    }
    // The study left without minutes is past its deadline: its attendance goes to review.
    night_sessions::mark_overdue(conn, Utc::now(), &rules)?;
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

const DEMO_CATEGORIES: &[(&str, &str, &str, i32)] = &[
    ("road", "道路维修", "基础设施", 5),
    ("water", "饮水安全", "民生保障", 3),
    ("environment", "环境卫生", "人居环境", 3),
    ("dispute", "邻里纠纷", "平安建设", 5),
    ("social", "社保医保", "民生保障", 5),
    ("farming", "农业生产", "产业发展", 7),
];

const DEMO_ISSUES: &[(&str, &str)] = &[
    ("road", "村道坑洼积水"),
    ("road", "桥头路灯不亮"),
    ("water", "自来水浑浊"),
    ("water", "水管冻裂漏水"),
    ("environment", "垃圾桶满了没人清"),
    ("environment", "河道漂浮垃圾"),
    ("dispute", "宅基地边界争议"),
    ("dispute", "养狗扰民"),
    ("social", "医保报销材料咨询"),
    ("social", "低保申请进度"),
    ("farming", "灌溉渠堵塞"),
    ("farming", "茶园病虫害求助"),
];

/// Two months of 民情工单 across the demo villages, through every part of the life cycle:
/// answered on the spot, on time, late, reopened by an unsatisfied villager, still open and
/// overdue. Timestamps and timeline events are consistent with each other.
fn people_s_cases(conn: &mut DbConn, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let now = Utc::now();
    for (code, name, group, days) in DEMO_CATEGORIES {
        categories::insert(
            conn,
            &CategoryRow {
                code: (*code).into(),
                name: (*name).into(),
                category_group: (*group).into(),
                default_due_working_days: *days,
                active: true,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            },
        )?;
    }
    let mut rng = StdRng::seed_from_u64(12345);
    let villages = org::list(
        conn,
        &OrgUnitFilter {
            kind: Some(enum_text(&OrgUnitKind::Village)),
            limit: 500,
            ..Default::default()
        },
    )?;
    let calendar = WorkCalendar::default();
    for _ in 0..300 {
        let Some(village) = villages.get(rng.random_range(0..villages.len().max(1))) else {
            break;
        };
        let town = match &village.parent_id {
            Some(parent) => org::find(conn, parent)?,
            None => None,
        };
        let Some(town) = town else { continue };
        let Some(town_code) = town.code.as_deref() else {
            continue;
        };
        let cadre = DEMO_USERS
            .iter()
            .filter(|u| u.role == Role::Cadre && u.unit == town_code)
            .nth(rng.random_range(0..2));
        let assignee = match cadre {
            Some(c) => users::find_by_phone(conn, c.phone)?,
            None => None,
        };
        let (category, title) = DEMO_ISSUES[rng.random_range(0..DEMO_ISSUES.len())];
        let days = DEMO_CATEGORIES
            .iter()
            .find(|c| c.0 == category)
            .map_or(3, |c| c.3 as u32);
        let created = now - Duration::minutes(rng.random_range(60..60 * 24 * 60));
        let local_date = created.with_timezone(&timezone).date_naive();
        let seq = work_orders::next_in_sequence(conn, &format!("order-code-{local_date}"))?;
        let on_spot = rng.random_bool(0.1);
        let source = if on_spot {
            "visit"
        } else {
            ["villager", "villager", "visit", "hotline"][rng.random_range(0..4)]
        };
        let mut row = WorkOrderRow {
            id: new_id(),
            code: order_code(local_date, seq as u32),
            tracking_token_hash: hash_refresh_token(&random_secret()),
            category: category.into(),
            title: title.into(),
            description: format!("{}，请尽快处理。", title),
            village_id: village.id.clone(),
            org_path: village.path.clone(),
            lat: village
                .min_lat
                .zip(village.max_lat)
                .map(|(a, b)| (a + b) / 2.0 + rng.random_range(-0.003..0.003)),
            lon: village
                .min_lon
                .zip(village.max_lon)
                .map(|(a, b)| (a + b) / 2.0 + rng.random_range(-0.003..0.003)),
            address: Some(format!("{}{}组", village.name, rng.random_range(1..9))),
            source: source.into(),
            reporter_id: None,
            reporter_name: Some(
                ["赵大爷", "钱阿姨", "孙师傅", "李大姐", "周老伯"][rng.random_range(0..5)].into(),
            ),
            reporter_phone: Some(format!(
                "139{:08}",
                rng.random_range(10_000_000..99_999_999u32)
            )),
            created_by: None,
            status: "submitted".into(),
            resolved_on_spot: on_spot,
            unit_id: None,
            assignee_id: None,
            commitment: None,
            assigned_at: None,
            accepted_at: None,
            due_at: None,
            original_due_at: None,
            first_resolved_at: None,
            resolved_at: None,
            rating: None,
            rated_at: None,
            reopen_count: 0,
            request_hash: None,
            created_at: created.naive_utc(),
        };
        let mut story = Story {
            order_id: row.id.clone(),
            at: created,
            now,
            events: vec![demo_event(&row.id, created, "submitted", None, None)],
        };
        if on_spot {
            row.status = "resolved".into();
            row.first_resolved_at = Some(created.naive_utc());
            row.resolved_at = Some(created.naive_utc());
            story.events.push(demo_event(
                &row.id,
                created,
                "resolved_on_spot",
                Some("走访时当场协调解决".into()),
                None,
            ));
        } else if let Some(assigned) =
            story.next(&mut rng, 30, "assigned", Some("按承诺时限办结"), None)
        {
            let due = due_at(DueSpec::WorkingDays(days), assigned, timezone, &calendar)
                .unwrap_or(assigned + Duration::days(days.into()));
            row.status = "assigned".into();
            row.unit_id = Some(town.id.clone());
            row.assignee_id = assignee.as_ref().map(|u| u.id.clone());
            row.commitment = Some("按承诺时限办结".into());
            row.assigned_at = Some(assigned.naive_utc());
            row.due_at = Some(due.naive_utc());
            row.original_due_at = Some(due.naive_utc());
            // Most units answer within a day; a few are slow, and some orders are still waiting.
            let slow = rng.random_bool(0.15);
            if let Some(accepted) =
                story.next(&mut rng, if slow { 60 } else { 12 }, "accepted", None, None)
            {
                row.status = "in_progress".into();
                row.accepted_at = Some(accepted.naive_utc());
                let late = rng.random_bool(0.2);
                let hours = if late {
                    48 * i64::from(days)
                } else {
                    12 * i64::from(days)
                };
                if let Some(resolved) =
                    story.next(&mut rng, hours, "resolved", Some("已办结，回访群众"), None)
                {
                    row.status = "resolved".into();
                    row.first_resolved_at = Some(resolved.naive_utc());
                    row.resolved_at = Some(resolved.naive_utc());
                    let score: i32 = if rng.random_bool(0.08) {
                        rng.random_range(20..59)
                    } else {
                        rng.random_range(80..101)
                    };
                    let kind = if score < 60 { "reopened" } else { "closed" };
                    if let Some(rated) =
                        story.next(&mut rng, 72, kind, None, Some(json!({"score": score})))
                    {
                        row.rating = Some(score);
                        row.rated_at = Some(rated.naive_utc());
                        row.status = if score < 60 { "reopened" } else { "closed" }.into();
                        if score < 60 {
                            row.reopen_count = 1;
                            row.resolved_at = None;
                            row.due_at = Some(
                                due_at(DueSpec::WorkingDays(days), rated, timezone, &calendar)
                                    .unwrap_or(rated)
                                    .naive_utc(),
                            );
                        }
                    }
                }
            }
        }
        work_orders::insert(conn, &row, &[], timezone)?;
        for event in &story.events {
            work_orders::add_event(conn, event)?;
        }
    }
    Ok(())
}

/// An order's timeline as it is being made up: each step some random time after the last,
/// and only if that is already in the past.
struct Story {
    order_id: String,
    at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
    events: Vec<EventRow>,
}

impl Story {
    fn next(
        &mut self,
        rng: &mut StdRng,
        within_hours: i64,
        kind: &str,
        note: Option<&str>,
        data: Option<serde_json::Value>,
    ) -> Option<chrono::DateTime<Utc>> {
        let next = self.at + Duration::minutes(rng.random_range(10..within_hours.max(1) * 60));
        if next >= self.now {
            return None;
        }
        self.at = next;
        self.events.push(demo_event(
            &self.order_id,
            next,
            kind,
            note.map(String::from),
            data,
        ));
        Some(next)
    }
}

fn demo_event(
    order_id: &str,
    at: chrono::DateTime<Utc>,
    kind: &str,
    note: Option<String>,
    data: Option<serde_json::Value>,
) -> EventRow {
    EventRow {
        id: new_id(),
        work_order_id: order_id.to_string(),
        at: at.naive_utc(),
        actor_id: None,
        actor_kind: "system".into(),
        kind: kind.into(),
        note,
        data: data.map(|d| d.to_string()),
        photo_ids: None,
    }
}

/// The first day of last month, local.
fn first_of_last_month(today: NaiveDate) -> Option<NaiveDate> {
    today.with_day(1)?.pred_opt()?.with_day(1)
}

/// The town cadres' history from the first of last month, each in measure of their
/// diligence: nights in their villages (visits, stays, now and then 夜帮; the least diligent
/// now and then check in from a borrowed phone), work logs, and 民情工单 assigned to them —
/// answered promptly or not, done on time, late or not at all, rated well or reopened — some
/// of a village cadre's collected by the cadre on a visit. Check-ins go through the same path
/// as the API, so their flags are real; order timelines agree with their timestamps.
fn the_towns_at_work(conn: &mut DbConn, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let rules = CheckinRules {
        timezone,
        ..CheckinRules::default()
    };
    let boundaries = BoundaryCache::default();
    let calendar = WorkCalendar::default();
    let now = Utc::now();
    let today = now.with_timezone(&timezone).date_naive();
    let Some(first) = first_of_last_month(today) else {
        return Ok(());
    };
    let villages = org::list(
        conn,
        &OrgUnitFilter {
            kind: Some(enum_text(&OrgUnitKind::Village)),
            limit: 500,
            ..Default::default()
        },
    )?;
    let centre = |v: &OrgUnitRow| {
        Some((
            (v.min_lat? + v.max_lat?) / 2.0,
            (v.min_lon? + v.max_lon?) / 2.0,
        ))
    };
    let window_days = (today - first).num_days().max(2);
    let mut logs = Vec::new();
    for (n, cadre) in TOWN_CADRES.iter().enumerate() {
        let Some(id) = users::find_by_phone(conn, cadre.phone)?.map(|u| u.id) else {
            continue;
        };
        let Some((user, Some(path))) = users::find_with_path(conn, &id)? else {
            continue;
        };
        let places: Vec<(&OrgUnitRow, f64, f64)> = villages
            .iter()
            .filter(|v| {
                v.code
                    .as_deref()
                    .is_some_and(|c| cadre.villages.contains(&c))
            })
            .filter_map(|v| centre(v).map(|(lat, lon)| (v, lat, lon)))
            .collect();
        if places.is_empty() {
            continue;
        }
        let d = cadre.diligence;
        let (visits, stays) = match cadre.category {
            CadreCategory::Village => (0.55, 0.15),
            _ => (0.42, 0.33),
        };
        let mut rng = StdRng::seed_from_u64(1100 + n as u64);
        let mut night = first;
        while night <= today - Duration::days(2) {
            let (village, lat, lon) = places[rng.random_range(0..places.len())];
            let mut work = Vec::new();
            // The keenest reach the monthly targets of the seeded schemes (12 nights of
            // 四夜, 8 visits, 8 stays for organ cadres) with a little to spare, the least a
            // third of them; village cadres live there: more visits, fewer stays.
            if rng.random_bool(visits * d) {
                work.push((CheckinKind::NightVisit, 0, 19, rng.random_range(0..59)));
            }
            if rng.random_bool(0.05) {
                work.push((CheckinKind::NightHelp, 0, 20, rng.random_range(0..59)));
            }
            if rng.random_bool(stays * d) {
                work.push((CheckinKind::StayStart, 0, 21, rng.random_range(30..59)));
                work.push((CheckinKind::StayEnd, 1, 6, rng.random_range(0..50)));
            }
            for (kind, day, hour, minute) in work {
                let Some(recorded_at) = local(timezone, night + Duration::days(day), hour, minute)
                else {
                    continue;
                };
                let borrowed =
                    (d < 0.4 && rng.random_range(0..5) == 0) || rng.random_range(0..60) == 0;
                let request = NewCheckin {
                    id: uuid::Uuid::new_v4().to_string(),
                    kind,
                    village_id: Some(village.id.clone()),
                    session_id: None,
                    lat: lat + rng.random_range(-0.002..0.002),
                    lon: lon + rng.random_range(-0.002..0.002),
                    crs: None,
                    accuracy_m: rng.random_range(5.0..40.0),
                    recorded_at,
                    device_id: Some(
                        if borrowed {
                            "borrowed-phone"
                        } else {
                            "demo-phone"
                        }
                        .into(),
                    ),
                    mock_location: None,
                    note: (kind == CheckinKind::NightVisit)
                        .then(|| "入户走访，听取群众对村里工作的意见".into()),
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
            if rng.random_bool(0.2 + 0.75 * d) {
                if let Some(written) = local(timezone, night, 21, rng.random_range(0..59)) {
                    logs.push(WorkLogRow {
                        id: new_id(),
                        user_id: user.id.clone(),
                        org_path: path.clone(),
                        log_date: night,
                        content: DEMO_LOGS[rng.random_range(0..DEMO_LOGS.len())].into(),
                        created_at: written.naive_utc(),
                        updated_at: written.naive_utc(),
                    });
                }
            }
            night += Duration::days(1);
        }
        // About one order a week; a village cadre collects some on visits, more the keener.
        let collected = match cadre.category {
            CadreCategory::Village => ((1.0 + 6.0 * d) * window_days as f64 / 30.0).round() as i64,
            _ => 0,
        };
        let orders = (window_days / 6).max(3).max(collected);
        let start = local(timezone, first, 8, 0).unwrap_or(now);
        for k in 0..orders {
            let (village, lat, lon) = places[rng.random_range(0..places.len())];
            let latest = (now - start).num_minutes() - 24 * 60;
            let created = start + Duration::minutes(rng.random_range(0..latest.max(1)));
            let by_cadre = k < collected;
            assigned_order(
                conn,
                &mut rng,
                (&user, d, by_cadre),
                (village, lat, lon),
                created,
                (now, timezone, &calendar),
            )?;
        }
    }
    work_logs::insert_many(conn, &logs)
}

/// One 民情工单 of a town cadre's (see [`the_towns_at_work`]): reported in `village` at
/// `created` (by the cadre on a visit when `by_cadre`), assigned to them by the town, and as
/// far through its life as the cadre's diligence `d` and the time till `now` take it.
fn assigned_order(
    conn: &mut DbConn,
    rng: &mut StdRng,
    (cadre, d, by_cadre): (&UserRow, f64, bool),
    (village, lat, lon): (&OrgUnitRow, f64, f64),
    created: chrono::DateTime<Utc>,
    (now, timezone, calendar): (chrono::DateTime<Utc>, chrono_tz::Tz, &WorkCalendar),
) -> ApiResult<()> {
    let (category, title) = DEMO_ISSUES[rng.random_range(0..DEMO_ISSUES.len())];
    let days = DEMO_CATEGORIES
        .iter()
        .find(|c| c.0 == category)
        .map_or(3, |c| c.3 as u32);
    let local_date = created.with_timezone(&timezone).date_naive();
    let seq = work_orders::next_in_sequence(conn, &format!("order-code-{local_date}"))?;
    let mut row = WorkOrderRow {
        id: new_id(),
        code: order_code(local_date, seq as u32),
        tracking_token_hash: hash_refresh_token(&random_secret()),
        category: category.into(),
        title: title.into(),
        description: format!("{title}，请尽快处理。"),
        village_id: village.id.clone(),
        org_path: village.path.clone(),
        lat: Some(lat + rng.random_range(-0.003..0.003)),
        lon: Some(lon + rng.random_range(-0.003..0.003)),
        address: Some(format!("{}{}组", village.name, rng.random_range(1..9))),
        source: if by_cadre { "visit" } else { "villager" }.into(),
        reporter_id: None,
        reporter_name: Some(
            ["赵大爷", "钱阿姨", "孙师傅", "李大姐", "周老伯"][rng.random_range(0..5)].into(),
        ),
        reporter_phone: Some(format!(
            "139{:08}",
            rng.random_range(10_000_000..99_999_999u32)
        )),
        created_by: by_cadre.then(|| cadre.id.clone()),
        status: "submitted".into(),
        resolved_on_spot: false,
        unit_id: None,
        assignee_id: None,
        commitment: None,
        assigned_at: None,
        accepted_at: None,
        due_at: None,
        original_due_at: None,
        first_resolved_at: None,
        resolved_at: None,
        rating: None,
        rated_at: None,
        reopen_count: 0,
        request_hash: None,
        created_at: created.naive_utc(),
    };
    let mut events = vec![demo_event(&row.id, created, "submitted", None, None)];
    // Each step happens only if its time has come; an order stops where `now` is.
    let assigned = created + Duration::minutes(rng.random_range(20..240));
    let due = due_at(DueSpec::WorkingDays(days), assigned, timezone, calendar)
        .unwrap_or(assigned + Duration::days(days.into()));
    let accepted = assigned
        + Duration::minutes(if rng.random_bool(0.3 + 0.7 * d) {
            rng.random_range(30..20 * 60)
        } else {
            rng.random_range(26 * 60..60 * 60)
        });
    let on_time = rng.random_bool(0.2 + 0.8 * d);
    let abandoned = rng.random_bool(0.3 * (1.0 - d));
    let resolved = if on_time && due > accepted + Duration::hours(2) {
        accepted + (due - accepted) * rng.random_range(10..90) / 100
    } else {
        due.max(accepted) + Duration::hours(rng.random_range(6..96))
    };
    let score = (55.0 + 45.0 * d + rng.random_range(-12.0..12.0)).clamp(30.0, 100.0) as i32;
    let rated = resolved + Duration::hours(rng.random_range(2..72));
    if assigned < now {
        row.status = "assigned".into();
        row.unit_id = village.parent_id.clone();
        row.assignee_id = Some(cadre.id.clone());
        row.commitment = Some("按承诺时限办结".into());
        row.assigned_at = Some(assigned.naive_utc());
        row.due_at = Some(due.naive_utc());
        row.original_due_at = Some(due.naive_utc());
        let note = Some("按承诺时限办结".to_string());
        events.push(demo_event(&row.id, assigned, "assigned", note, None));
    }
    if row.assignee_id.is_some() && accepted < now {
        row.status = "in_progress".into();
        row.accepted_at = Some(accepted.naive_utc());
        events.push(demo_event(&row.id, accepted, "accepted", None, None));
    }
    if row.accepted_at.is_some() && !abandoned && resolved < now {
        row.status = "resolved".into();
        row.first_resolved_at = Some(resolved.naive_utc());
        row.resolved_at = Some(resolved.naive_utc());
        let note = Some("已办结，回访群众".to_string());
        events.push(demo_event(&row.id, resolved, "resolved", note, None));
    }
    if row.resolved_at.is_some() && rated < now {
        let kind = if score < 60 { "reopened" } else { "closed" };
        let data = Some(json!({"score": score}));
        events.push(demo_event(&row.id, rated, kind, None, data));
        row.rating = Some(score);
        row.rated_at = Some(rated.naive_utc());
        row.status = kind.into();
        if score < 60 {
            row.reopen_count = 1;
            row.resolved_at = None;
            row.due_at = Some(
                due_at(DueSpec::WorkingDays(days), rated, timezone, calendar)
                    .unwrap_or(rated)
                    .naive_utc(),
            );
        }
    }
    work_orders::insert(conn, &row, &[], timezone)?;
    for event in &events {
        work_orders::add_event(conn, event)?;
    }
    Ok(())
}

/// 民主测评 in both towns for last month; 重点工作 added to the organ scheme, its values entered
/// by one supervisor of 青山镇 and signed off by the other; a bonus and a deduction, each
/// signed by both; the month's flagged check-ins decided; then last month closed: frozen
/// scores, achievement and problem records, statements. One problem record is then rectified
/// by its cadre and cleared (销号) by a supervisor of the town; this month has an approved
/// veto and a value waiting for sign-off.
fn performance(conn: &mut DbConn, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let now = Utc::now();
    crate::scoring::seed_default_schemes(conn, now)?;
    key_work_indicator(conn, now)?;
    let today = now.with_timezone(&timezone).date_naive();
    let (Some(last_month), Ok(this_month)) = (
        first_of_last_month(today).and_then(|d| Period::parse(&d.format("%Y-%m").to_string()).ok()),
        Period::parse(&today.format("%Y-%m").to_string()),
    ) else {
        return Ok(());
    };
    let mut person = |phone: &str| users::find_by_phone(conn, phone);
    let (Some(zhou), Some(sun), Some(li), Some(wang), Some(zhang)) = (
        person("13900000001")?,
        person("13900000003")?,
        person("13900000011")?,
        person("13900000012")?,
        person("13900000013")?,
    ) else {
        return Ok(());
    };
    let ratings: Vec<RatingRow> = [
        (&zhou, &li, 88.0),
        (&zhou, &wang, 85.0),
        (&zhou, &zhang, 92.0),
        (&li, &wang, 80.0),
        (&li, &zhang, 90.0),
        (&zhang, &li, 86.0),
        (&zhang, &wang, 83.0),
        (&wang, &li, 90.0),
        (&wang, &zhang, 95.0),
    ]
    .into_iter()
    .map(|(rater, ratee, score)| rating(last_month, rater, ratee, score, now))
    .collect::<ApiResult<_>>()?;
    scoring::insert_ratings(conn, &ratings)?;
    town_ratings(conn, last_month, &zhou, now)?;
    // Each adjustment is proposed by one supervisor of the cadre's town and approved by the
    // other (逐级把关签名).
    signed_adjustment(
        conn,
        (&li, last_month, 200),
        "民情日记获县级优秀",
        (&zhou, &sun),
        now,
    )?;
    if let Some(luo) = users::find_by_phone(conn, "13900000037")? {
        signed_adjustment(
            conn,
            (&luo, last_month, -150),
            "防汛值班期间脱岗，被县督查组通报",
            (&sun, &zhou),
            now,
        )?;
    }
    key_work_values(conn, (last_month, this_month), now)?;
    review_before_closing(conn, last_month, timezone)?;
    crate::scoring::close_period(conn, &zhou.id, last_month, None, timezone, now)?;
    one_problem_cleared(conn, last_month, timezone)?;
    this_month_s_veto(conn, &wang, this_month)?;
    one_waiting_review(conn, timezone)
}

fn rating(
    period: Period,
    rater: &UserRow,
    ratee: &UserRow,
    score: f64,
    now: chrono::DateTime<Utc>,
) -> ApiResult<RatingRow> {
    Ok(RatingRow {
        period: period.to_string(),
        ratee_id: ratee.id.clone(),
        rater_id: rater.id.clone(),
        rater_group: enum_text(&crate::scoring::rater_group_of(rater)?),
        score,
        updated_at: now.naive_utc(),
    })
}

/// The town a demo unit belongs to.
fn town_of_unit(unit: &str) -> &'static str {
    match unit {
        "DEMO-YL" | "yunling" => "DEMO-YL",
        _ => "DEMO-QS",
    }
}

/// 民主测评 of the town cadres: every staff member of their town rates each of them (and 李明,
/// 王芳 and 刘洋, whom only the first four rated so far), higher the more diligent; 徐春梅 and
/// 黄志刚 are married, so recused from rating each other (回避).
fn town_ratings(
    conn: &mut DbConn,
    period: Period,
    supervisor: &UserRow,
    now: chrono::DateTime<Utc>,
) -> ApiResult<()> {
    let mut rng = StdRng::seed_from_u64(88);
    // (user, town, diligence when rated, one of the first four rated among themselves).
    let mut staff: Vec<(UserRow, &str, Option<f64>, bool)> = Vec::new();
    for demo in DEMO_USERS.iter().filter(|u| u.role != Role::Villager) {
        let rated = match demo.category {
            Some(CadreCategory::Organ | CadreCategory::Village) => Some(0.75),
            _ => None,
        };
        let first_four = town_of_unit(demo.unit) == "DEMO-QS" && demo.phone != "13900000003";
        if let Some(user) = users::find_by_phone(conn, demo.phone)? {
            staff.push((user, town_of_unit(demo.unit), rated, first_four));
        }
    }
    for cadre in TOWN_CADRES {
        if let Some(user) = users::find_by_phone(conn, cadre.phone)? {
            staff.push((user, town_of_unit(cadre.unit), Some(cadre.diligence), false));
        }
    }
    let by_phone = |phone: &str| staff.iter().find(|s| s.0.phone == phone).map(|s| &s.0);
    let mut recused = Vec::new();
    if let (Some(xu), Some(huang)) = (by_phone("13900000041"), by_phone("13900000032")) {
        recused.push((xu.id.clone(), huang.id.clone()));
        recused.push((huang.id.clone(), xu.id.clone()));
    }
    for (rater, ratee) in &recused {
        scoring::save_recusal(
            conn,
            (rater, ratee),
            "夫妻关系，回避",
            &supervisor.id,
            now.naive_utc(),
        )?;
        crate::audit::record(
            conn,
            &supervisor.id,
            crate::audit::Audited::RecusalRecorded,
            Some(ratee),
            Some(json!({"rater_id": rater, "reason": "夫妻关系，回避"})),
            now,
        )?;
    }
    let mut rows = Vec::new();
    for (ratee, town, diligence, ratee_first) in &staff {
        let Some(d) = diligence else { continue };
        for (rater, rater_town, _, rater_first) in &staff {
            let pair = (rater.id.clone(), ratee.id.clone());
            if rater.id == ratee.id
                || rater_town != town
                || (*ratee_first && *rater_first)
                || recused.contains(&pair)
            {
                continue;
            }
            let score = (58.0 + 37.0 * d + rng.random_range(-6.0..6.0)).clamp(0.0, 100.0);
            rows.push(rating(period, rater, ratee, score.round(), now)?);
        }
    }
    scoring::insert_ratings(conn, &rows)
}

/// An adjustment of `centipoints` proposed by the first supervisor and approved by the
/// second, both of the cadre's town, as `POST /scoring/adjustments` and its approval record
/// them.
fn signed_adjustment(
    conn: &mut DbConn,
    (cadre, period, centipoints): (&UserRow, Period, i64),
    reason: &str,
    (proposer, approver): (&UserRow, &UserRow),
    now: chrono::DateTime<Utc>,
) -> ApiResult<()> {
    use crate::audit::{record, Audited};
    let row = AdjustmentRow {
        id: new_id(),
        user_id: cadre.id.clone(),
        period: period.to_string(),
        centipoints,
        reason: reason.into(),
        created_by: proposer.id.clone(),
        created_at: now.naive_utc(),
        approved_by: None,
        approved_at: None,
    };
    scoring::insert_adjustment(conn, &row)?;
    let points = crate::domain::scoring::points(centipoints);
    let detail = json!({"user_id": row.user_id, "period": row.period, "points": points,
        "reason": row.reason});
    record(
        conn,
        &proposer.id,
        Audited::AdjustmentProposed,
        Some(&row.id),
        Some(detail),
        now,
    )?;
    scoring::approve_adjustment(conn, &row.id, &approver.id, now.naive_utc())?;
    let detail = json!({"user_id": row.user_id, "period": row.period, "points": points});
    record(
        conn,
        &approver.id,
        Audited::AdjustmentApproved,
        Some(&row.id),
        Some(detail),
        now,
    )
}

/// The county adds 重点工作 to the organ scheme (a new version, as `PUT /scoring/schemes/{id}`
/// saves it), its 10 points taken from 四夜, so the scheme still counts 100: a score out of
/// 100 the town's supervisors enter for each cadre. A cadre without one is scored on the
/// other indicators, scaled up (`when_empty: exclude`).
fn key_work_indicator(conn: &mut DbConn, now: chrono::DateTime<Utc>) -> ApiResult<()> {
    let category = enum_text(&CadreCategory::Organ);
    let Some(old) = scoring::active_scheme(conn, &category, "month")? else {
        return Ok(());
    };
    let mut body: serde_json::Value = serde_json::from_str(&old.body)
        .map_err(|e| crate::error::ApiError::Internal(anyhow::anyhow!("stored scheme: {e}")))?;
    let Some(indicators) = body["indicators"].as_array_mut() else {
        return Ok(());
    };
    for four_nights in indicators.iter_mut().filter(|i| i["code"] == "fn") {
        four_nights["points"] = json!(10);
    }
    indicators.push(
        json!({"code": "zdgz", "name": "重点工作", "metric": "manual",
        "rule": "ratio_to_target", "target": 100, "points": 10, "when_empty": "exclude",
        "group": "重点工作"}),
    );
    let scheme =
        crate::domain::scoring::Scheme::parse(&body).map_err(crate::error::ApiError::Invalid)?;
    let mut row =
        crate::scoring::scheme_row(old.id.clone(), old.version + 1, &scheme, now.naive_utc());
    row.created_at = old.created_at;
    crate::scoring::save_scheme(conn, &row, &scheme)
}

/// 青山镇's organ cadres' 重点工作 scores of last month: entered by 周敏, signed off by 孙丽
/// (through the service of `PUT /scoring/manual-values` and its approval); 陈晓燕's of this
/// month still waits for 孙丽.
fn key_work_values(
    conn: &mut DbConn,
    (last_month, this_month): (Period, Period),
    now: chrono::DateTime<Utc>,
) -> ApiResult<()> {
    let (Some(zhou), Some(sun)) = (
        demo_actor(conn, "13900000001")?,
        demo_actor(conn, "13900000003")?,
    ) else {
        return Ok(());
    };
    let values = [
        ("13900000011", 90.0),
        ("13900000031", 96.0),
        ("13900000032", 88.0),
        ("13900000033", 82.0),
        ("13900000034", 75.0),
        ("13900000035", 68.0),
        ("13900000036", 60.0),
        ("13900000037", 45.0),
    ];
    let enter = |conn: &mut DbConn, user_id: String, period: Period, value: f64| {
        crate::manual_values::enter(
            conn,
            &zhou,
            NewManualValue {
                user_id,
                period: period.to_string(),
                code: "zdgz".into(),
                value,
                reason: "县重点工作专班月度评分：项目推进、矛盾化解和信息报送".into(),
                photo_ids: Vec::new(),
            },
            now,
        )
    };
    for (phone, value) in values {
        let Some(user) = users::find_by_phone(conn, phone)? else {
            continue;
        };
        let entered = enter(conn, user.id, last_month, value)?;
        crate::manual_values::approve(conn, &sun, &entered.id, now)?;
    }
    if let Some(chen) = users::find_by_phone(conn, "13900000031")? {
        enter(conn, chen.id, this_month, 92.0)?;
    }
    Ok(())
}

/// 销号 of one of 青山镇's problem records of the closed month: its cadre submits the
/// rectification and 孙丽 verifies it, through the services of `POST /records/{id}/rectify`
/// and `/verify`, so its history holds both steps.
fn one_problem_cleared(conn: &mut DbConn, month: Period, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let Some(sun) = demo_actor(conn, "13900000003")? else {
        return Ok(());
    };
    let Some(town) = sun.org_path.clone() else {
        return Ok(());
    };
    let record = scoring::list_records(conn, None, Some(&town), None, 1000)?
        .into_iter()
        .find(|r| r.kind == "problem" && r.period == month.to_string());
    let Some(record) = record else {
        return Ok(());
    };
    let Some(owner) = actor_of(conn, &record.user_id)? else {
        return Ok(());
    };
    let now = Utc::now();
    let today = now.with_timezone(&timezone).date_naive();
    crate::records::rectify(
        conn,
        &owner,
        &record.id,
        (
            "已对照问题逐项整改：补足夜访和住夜，超期工单全部办结并逐户回访，群众满意。",
            &[],
        ),
        now,
        today,
    )?;
    crate::records::verify(
        conn,
        &sun,
        &record.id,
        (true, Some("经电话回访和实地查看，整改到位，同意销号。")),
        now,
        today,
    )?;
    Ok(())
}

/// A veto (一票否决) of this month: 周敏 proposed it and 孙丽, the town's other supervisor,
/// approved it (through the services of `POST /scoring/vetoes` and its approval), so 王芳
/// cannot be graded excellent this month whatever her score.
fn this_month_s_veto(conn: &mut DbConn, cadre: &UserRow, month: Period) -> ApiResult<()> {
    let (Some(proposer), Some(second)) = (
        demo_actor(conn, "13900000001")?,
        demo_actor(conn, "13900000003")?,
    ) else {
        return Ok(());
    };
    let now = Utc::now().naive_utc();
    let veto = crate::vetoes::propose(
        conn,
        &proposer,
        NewVeto {
            user_id: cadre.id.clone(),
            period: month.to_string(),
            area: "work_safety".into(),
            reason: "所包村农房施工发生安全事故，未按规定及时上报".into(),
        },
        now,
    )?;
    crate::vetoes::decide(
        conn,
        &second,
        &veto.id,
        crate::vetoes::Step::Approve,
        None,
        now,
    )?;
    Ok(())
}

/// Something of the open month for the desk to review whatever the day (last month's were
/// decided before it closed): 李明's work log of today, sent from outside 溪口村.
fn one_waiting_review(conn: &mut DbConn, timezone: chrono_tz::Tz) -> ApiResult<()> {
    let Some(user) = users::find_by_phone(conn, "13900000011")? else {
        return Ok(());
    };
    let village = org::list(
        conn,
        &OrgUnitFilter {
            kind: Some(enum_text(&OrgUnitKind::Village)),
            limit: 500,
            ..Default::default()
        },
    )?
    .into_iter()
    .find(|v| v.code.as_deref() == Some("xikou"));
    let centre_lon = |v: &OrgUnitRow| v.min_lon.zip(v.max_lon).map(|(w, e)| (w + e) / 2.0);
    let Some((village, Some(lat), Some(lon))) =
        village.map(|v| (v.id.clone(), v.max_lat, centre_lon(&v)))
    else {
        return Ok(());
    };
    let now = Utc::now();
    // A minute ago, but today (local): a work log counts on its own day.
    let today_start = crate::domain::workdays::start_of_local_day(
        now.with_timezone(&timezone).date_naive(),
        timezone,
    )
    .unwrap_or(now);
    let recorded_at = (now - Duration::minutes(1)).max(today_start);
    let request = NewCheckin {
        id: uuid::Uuid::new_v4().to_string(),
        kind: CheckinKind::WorkLog,
        village_id: Some(village),
        session_id: None,
        // North of the village's northern edge.
        lat: lat + 0.03,
        lon,
        crs: None,
        accuracy_m: 12.0,
        recorded_at,
        device_id: Some("demo-phone".into()),
        mock_location: None,
        note: Some("在镇政府整理本周走访记录".into()),
        household: None,
        photo_ids: None,
    };
    let rules = CheckinRules {
        timezone,
        ..CheckinRules::default()
    };
    let boundaries = BoundaryCache::default();
    let rec = Recorder {
        rules: &rules,
        boundaries: &boundaries,
        now,
    };
    record_checkin(conn, &rec, &user.id, &request)?;
    Ok(())
}

/// The town supervisors decide the month's flagged check-ins before it is closed (a close
/// waits for them), as the desk's 结算 checklist asks; this month's still wait on the desk.
/// Most are approved; those of the least diligent town cadres could not be verified and are
/// rejected (they count against them).
fn review_before_closing(
    conn: &mut DbConn,
    month: Period,
    timezone: chrono_tz::Tz,
) -> ApiResult<()> {
    let now = Utc::now();
    let b = crate::scoring::bounds(month, timezone, now);
    let filter = crate::db::checkins::CheckinFilter {
        status: Some("flagged".into()),
        from: Some(b.start),
        // A night's check-ins are recorded on its day or the next.
        to: Some(b.end + Duration::days(2)),
        limit: 100_000,
        ..Default::default()
    };
    let reviewers: Vec<Actor> = ["13900000001", "13900000002"]
        .into_iter()
        .map(|phone| demo_actor(conn, phone))
        .collect::<ApiResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut doubtful = Vec::new();
    for cadre in TOWN_CADRES.iter().filter(|c| c.diligence < 0.4) {
        doubtful.extend(users::find_by_phone(conn, cadre.phone)?.map(|u| u.id));
    }
    for row in crate::db::checkins::list(conn, &filter)? {
        if row.night_date < b.first || row.night_date > b.last {
            continue;
        }
        let (decision, reason) = if doubtful.contains(&row.user_id) {
            (
                ReviewDecision::Reject,
                "电话核实无果，无法确认本人在村，不予认定",
            )
        } else {
            (ReviewDecision::Approve, "已电话核实，确在村里")
        };
        // Each check-in is decided by its cadre's own town's supervisor.
        for reviewer in &reviewers {
            let decided =
                crate::checkins::decide(conn, reviewer, &row.id, decision, reason, now.naive_utc());
            if decided.is_ok() {
                break;
            }
        }
    }
    Ok(())
}
