//! 夜学 / 夜议 as group sessions and the 工作日志 with its 批阅 (DESIGN §2.1), on SQLite and
//! (with `MINQING_TEST_POSTGRES`) PostgreSQL.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::helpers::{clock, flag_codes, spawn_app, TestApp, World, PASSWORD};

/// The town hall of 青山镇: a 300 m circle about 4.7 km east of village 1's centre.
pub const HALL: (f64, f64) = (29.08, 119.698);

/// Gives town 1 a centre and radius (the town hall), and adds two more organ cadres of the
/// town and a leadership cadre; returns their ids and tokens.
pub async fn town_with_hall(app: &TestApp) -> (World, Vec<(String, String)>, String) {
    let w = app.world().await;
    let hall = json!({"center": {"lat": HALL.0, "lon": HALL.1}, "radius_m": 300.0});
    let set = app
        .put(
            &format!("/org-units/{}/boundary", w.town1),
            &app.admin,
            hall,
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let mut cadres = vec![(w.cadre1.clone(), w.cadre1_token.clone())];
    for (name, phone) in [("王芳", "13900000031"), ("陈刚", "13900000032")] {
        let id = app
            .user(json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": w.town1, "cadre_category": "organ"}))
            .await;
        cadres.push((id, app.login(phone, PASSWORD).await));
    }
    app.user(json!({"name": "孙书记", "phone": "13900000039", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "leadership"}))
        .await;
    let leader = app.login("13900000039", PASSWORD).await;
    (w, cadres, leader)
}

pub fn attend(session: &str, kind: &str, lat: f64, lon: f64, at: &str) -> Value {
    // A real phone's accuracy differs a little each time (the same fix repeated is
    // `repeated_position`): 10 m and a few millimetres.
    static FIXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = FIXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000;
    json!({"id": uuid::Uuid::new_v4().to_string(), "kind": kind, "session_id": session,
           "lat": lat, "lon": lon, "accuracy_m": 10.0 + n as f64 / 1000.0, "recorded_at": at, "device_id": "phone-1"})
}

fn attendee<'a>(session: &'a Value, user: &str) -> &'a Value {
    session["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == user)
        .unwrap_or_else(|| panic!("{user} did not attend: {session}"))
}

fn breakdown_value(row: &Value, code: &str) -> f64 {
    row["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .and_then(|l| l["value"].as_f64())
        .unwrap_or_else(|| panic!("no {code} in {row}"))
}

#[tokio::test]
async fn a_study_at_the_town_hall_counts_for_each_attendee_in_place() {
    let app = spawn_app().await;
    let (w, cadres, _) = town_with_hall(&app).await;
    let night = clock::recent_night();
    let opened = app
        .post(
            "/sessions",
            &w.sup1_token,
            json!({"kind": "night_study", "place_id": w.town1, "topic": "学习乡村振兴政策",
                   "starts_at": clock::at(night, 0, 19, 30)}),
        )
        .await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    assert_eq!(opened.body["status"], "awaiting_minutes");
    assert_eq!(opened.body["place_name"], "青山镇");
    assert_eq!(opened.body["night_date"], night.to_string());
    let session = opened.id();

    // Two cadres at the hall, one 4.7 km away in village 1 — none of them assigned to it.
    let places = [HALL, (HALL.0 + 0.001, HALL.1), (29.08, 119.65)];
    for ((_, token), (lat, lon)) in cadres.iter().zip(places) {
        let r = app
            .post(
                "/checkins",
                token,
                attend(
                    &session,
                    "night_study",
                    lat,
                    lon,
                    &clock::at(night, 0, 19, 40),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let detail = app
        .get(&format!("/sessions/{session}"), &w.sup1_token)
        .await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["attendees"].as_array().unwrap().len(), 3);
    for (id, _) in &cadres[..2] {
        let a = attendee(&detail.body, id);
        assert_eq!(a["status"], "accepted", "{a}");
    }
    let outside = attendee(&detail.body, &cadres[2].0);
    assert_eq!(outside["status"], "flagged");
    assert_eq!(flag_codes(outside), ["outside_geofence"]);
    let metres = outside["flags"][0]["value"].as_f64().unwrap();
    assert!((4000.0..4400.0).contains(&metres), "{metres}");

    // The organiser's minutes complete it.
    let minutes = app
        .patch(
            &format!("/sessions/{session}"),
            &w.sup1_token,
            json!({"minutes": "传达县委文件精神，讨论本镇秸秆禁烧工作安排。"}),
        )
        .await;
    assert_eq!(minutes.status, 200, "{:?}", minutes.body);
    assert_eq!(minutes.body["status"], "complete");

    // Each attendee's check-in counts for them (四夜 in the organ scheme): 1, 1, 0.
    let period = night.format("%Y-%m").to_string();
    let scores = app
        .get(
            &format!("/scores?period={period}&category=organ"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(scores.status, 200, "{:?}", scores.body);
    let items = scores.body["items"].as_array().unwrap();
    let value_of = |user: &str| {
        let row = items.iter().find(|r| r["user_id"] == user).unwrap();
        breakdown_value(row, "fn")
    };
    assert_eq!(value_of(&cadres[0].0), 1.0);
    assert_eq!(value_of(&cadres[1].0), 1.0);
    assert_eq!(value_of(&cadres[2].0), 0.0);

    // The town's list shows it with its attendance; the cadre's own list too.
    let list = app
        .get(&format!("/sessions?town_id={}", w.town1), &w.sup1_token)
        .await;
    assert_eq!(list.body["items"][0]["id"], session);
    assert_eq!(
        list.body["items"][0]["attendees"].as_array().unwrap().len(),
        3
    );
    let mine = app.get("/sessions?mine=true", &cadres[1].1).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn attendance_is_for_the_towns_cadres_once_at_the_sessions_kind_and_night() {
    let app = spawn_app().await;
    let (w, cadres, _) = town_with_hall(&app).await;
    let night = clock::recent_night();
    let session = app
        .post(
            "/sessions",
            &cadres[0].1,
            json!({"kind": "night_study", "place_id": w.town1, "topic": "夜学",
                   "starts_at": clock::at(night, 0, 19, 30)}),
        )
        .await
        .id();
    let at = clock::at(night, 0, 19, 45);
    // Another town's cadre learns nothing about it.
    app.user(json!({"name": "外镇干部", "phone": "13900000041", "role": "cadre", "org_unit_id": w.town2, "cadre_category": "organ"}))
        .await;
    let outsider = app.login("13900000041", PASSWORD).await;
    let r = app
        .post(
            "/checkins",
            &outsider,
            attend(&session, "night_study", HALL.0, HALL.1, &at),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["session_id".to_string()])
    );
    let r = app
        .get(&format!("/sessions/{session}"), &w.sup2_token)
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .get(&format!("/sessions/{session}"), &w.villager1_token)
        .await;
    assert_eq!(r.status, 403);
    // The wrong kind, or another night, does not fit.
    let r = app
        .post(
            "/checkins",
            &cadres[1].1,
            attend(&session, "night_discussion", HALL.0, HALL.1, &at),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["kind".to_string()])
    );
    let other_night = clock::at(night - Duration::days(1), 0, 19, 45);
    let r = app
        .post(
            "/checkins",
            &cadres[1].1,
            attend(&session, "night_study", HALL.0, HALL.1, &other_night),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["session_id".to_string()])
    );
    // Village and session together, or a session for a visit, are refused.
    let mut both = attend(&session, "night_study", HALL.0, HALL.1, &at);
    both["village_id"] = json!(w.village1);
    let r = app.post("/checkins", &cadres[1].1, both).await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["village_id".to_string()])
    );
    let r = app
        .post(
            "/checkins",
            &cadres[1].1,
            attend(&session, "night_visit", HALL.0, HALL.1, &at),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["session_id".to_string()])
    );
    // Once per attendee: a retry is the same answer, a second check-in a conflict.
    let first = attend(&session, "night_study", HALL.0, HALL.1, &at);
    assert_eq!(
        app.post("/checkins", &cadres[1].1, first.clone())
            .await
            .status,
        201
    );
    assert_eq!(app.post("/checkins", &cadres[1].1, first).await.status, 200);
    let again = attend(&session, "night_study", HALL.0, HALL.1, &at);
    assert_eq!(app.post("/checkins", &cadres[1].1, again).await.status, 409);
    // Only the organiser or a supervisor writes the minutes.
    let r = app
        .patch(
            &format!("/sessions/{session}"),
            &cadres[1].1,
            json!({"minutes": "记录"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .patch(
            &format!("/sessions/{session}"),
            &w.sup2_token,
            json!({"minutes": "记录"}),
        )
        .await;
    assert_eq!(r.status, 404);
    // A place needs a boundary (town 2 has none), and must lie in the organiser's town.
    let r = app
        .post(
            "/sessions",
            &w.sup2_token,
            json!({"kind": "night_study", "place_id": w.town2, "topic": "夜学", "starts_at": at}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["place_id".to_string()])
    );
    let r = app
        .post(
            "/sessions",
            &cadres[0].1,
            json!({"kind": "night_study", "place_id": w.village2, "topic": "夜学", "starts_at": at}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["place_id".to_string()])
    );
    let r = app
        .post(
            "/sessions",
            &app.admin,
            json!({"kind": "night_study", "place_id": w.town1, "topic": "夜学", "starts_at": at}),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn a_discussion_with_villagers_and_a_session_left_without_minutes() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = clock::recent_night();
    // Cadre 1 holds a 夜议 in their village with the villagers.
    let session = app
        .post(
            "/sessions",
            &w.cadre1_token,
            json!({"kind": "night_discussion", "place_id": w.village1, "topic": "村道修缮议事",
                   "starts_at": clock::at(night, 0, 19, 0)}),
        )
        .await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    let session = session.id();
    let r = app
        .post(
            "/checkins",
            &w.cadre1_token,
            attend(
                &session,
                "night_discussion",
                29.08,
                119.65,
                &clock::at(night, 0, 19, 5),
            ),
        )
        .await;
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (201, json!("accepted"))
    );
    let checkin = r.id();
    let villagers = json!({"minutes": "议定村道修缮分三段施工，由村民代表监督。",
                           "villagers_present": {"names": ["张大伯", "李阿姨"], "count": 14}});
    let r = app
        .patch(&format!("/sessions/{session}"), &w.cadre1_token, villagers)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["villagers_present"],
        json!({"names": ["张大伯", "李阿姨"], "count": 14})
    );
    assert_eq!(r.body["status"], "complete");

    // A 夜学 has no villagers; fewer counted than named is wrong.
    let study = app
        .post(
            "/sessions",
            &w.cadre1_token,
            json!({"kind": "night_study", "place_id": w.village1, "topic": "学习",
                   "starts_at": clock::at(night, 0, 20, 0)}),
        )
        .await
        .id();
    let r = app
        .patch(
            &format!("/sessions/{study}"),
            &w.cadre1_token,
            json!({"villagers_present": {"names": [], "count": 3}}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["villagers_present".to_string()])
    );
    let r = app
        .patch(
            &format!("/sessions/{session}"),
            &w.cadre1_token,
            json!({"villagers_present": {"names": ["甲", "乙", "丙"], "count": 2}}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["villagers_present.count".to_string()])
    );

    // The study is attended but gets no minutes: two days on, its attendance goes to review.
    let studied = app
        .post(
            "/checkins",
            &w.cadre1_token,
            attend(
                &study,
                "night_study",
                29.08,
                119.65,
                &clock::at(night, 0, 20, 10),
            ),
        )
        .await;
    assert_eq!(studied.body["status"], "accepted", "{:?}", studied.body);
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let rules = minqing_api::domain::checkin::CheckinRules::default();
    let later = Utc::now() + Duration::days(3);
    let marked = minqing_api::night_sessions::mark_overdue(&mut conn, later, &rules).unwrap();
    assert_eq!(marked, 1, "only the study lacks minutes");
    assert_eq!(
        minqing_api::night_sessions::mark_overdue(&mut conn, later, &rules).unwrap(),
        0,
        "marked once"
    );
    let flagged = app
        .get(&format!("/checkins/{}", studied.id()), &w.sup1_token)
        .await;
    assert_eq!(flagged.body["status"], "flagged");
    assert_eq!(flag_codes(&flagged.body), ["session_incomplete"]);
    assert_eq!(flagged.body["flags"][0]["value"], study);
    let kept = app
        .get(&format!("/checkins/{checkin}"), &w.sup1_token)
        .await;
    assert_eq!(kept.body["status"], "accepted");
    // The supervisor decides it like any flagged check-in.
    let r = app
        .post(
            &format!("/checkins/{}/review", studied.id()),
            &w.sup1_token,
            json!({"decision": "approve", "reason": "纪要已线下补交"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

pub fn today_local() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

pub const LOG: &str = "上午到溪口村走访三户困难群众，了解冬季取暖情况；下午参加镇里安全生产会议。";

#[tokio::test]
async fn a_month_of_logs_read_and_commented_by_the_leaders() {
    let app = spawn_app().await;
    let (w, cadres, leader) = town_with_hall(&app).await;
    let today = today_local();
    let me = &w.cadre1_token;

    // Too short or empty: refused.
    for content in ["今天开会。", "                              ", ""] {
        let r = app
            .post("/work-logs", me, json!({"date": today, "content": content}))
            .await;
        assert_eq!(
            (r.status, r.error_fields()),
            (422, vec!["content".to_string()])
        );
    }
    // Not for a day long gone (only its day, till 06:00 the next morning).
    let r = app
        .post(
            "/work-logs",
            me,
            json!({"date": today - Duration::days(3), "content": LOG}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["date".to_string()])
    );

    let first = app
        .post("/work-logs", me, json!({"date": today, "content": LOG}))
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["editable"], true);
    let log = first.id();
    // Sent again: the same log, no new version.
    let again = app
        .post("/work-logs", me, json!({"date": today, "content": LOG}))
        .await;
    assert_eq!((again.status, again.id()), (200, log.clone()));
    assert_eq!(again.body["history"], json!([]));
    // Edited on its day: the earlier text is kept.
    let edited = format!("{LOG}晚上补记：走访中登记了一件灌溉渠堵塞的工单。");
    let r = app
        .post("/work-logs", me, json!({"date": today, "content": edited}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["content"], edited.as_str());
    assert_eq!(r.body["history"][0]["content"], LOG);

    // Last month's logs, written on their days (stored directly: the API takes a log on
    // its day only): days 1 to 5.
    let first_of_month = today.with_day(1).unwrap();
    let last_month_end = first_of_month - Duration::days(1);
    let last_month = last_month_end.format("%Y-%m").to_string();
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let old_logs = write_past_logs(&mut conn, &w.cadre1, last_month_end.with_day(1).unwrap(), 5);

    let month = app.get(&format!("/work-logs?month={last_month}"), me).await;
    assert_eq!(month.status, 200, "{:?}", month.body);
    let days_in_month = last_month_end.day() as i64;
    assert_eq!(month.body["days_with_log"], 5);
    assert_eq!(month.body["days_without_log"], days_in_month - 5);
    assert_eq!(
        month.body["days"].as_array().unwrap().len() as i64,
        days_in_month
    );
    // A day gone is not edited any more.
    let r = app
        .post(
            "/work-logs",
            me,
            json!({"date": last_month_end.with_day(1).unwrap(), "content": LOG}),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);

    // 批阅: the town's supervisor and the leadership comment; the writer reads them.
    let old = &old_logs[0];
    let r = app
        .post(
            &format!("/work-logs/{old}/comments"),
            &w.sup1_token,
            json!({"text": "走访记录详实，注意跟进取暖补贴发放。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["author_name"], "周敏");
    let r = app
        .post(
            &format!("/work-logs/{old}/comments"),
            &leader,
            json!({"text": "已阅。"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = app
        .post(
            &format!("/work-logs/{old}/comments"),
            me,
            json!({"text": "自评"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            &format!("/work-logs/{old}/comments"),
            &w.sup2_token,
            json!({"text": "外镇"}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = app
        .post(
            &format!("/work-logs/{old}/comments"),
            &w.sup1_token,
            json!({"text": "  "}),
        )
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["text".to_string()])
    );
    let month = app.get(&format!("/work-logs?month={last_month}"), me).await;
    let day1 = month.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["log"]["id"] == old.as_str())
        .unwrap();
    let texts: Vec<&str> = day1["log"]["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["走访记录详实，注意跟进取暖补贴发放。", "已阅。"]);
    assert_eq!(day1["log"]["editable"], false);

    // Who reads a cadre's month: the leaders yes; a colleague, another town, a villager no.
    let path = format!("/work-logs?user_id={}&month={last_month}", w.cadre1);
    assert_eq!(app.get(&path, &w.sup1_token).await.status, 200);
    assert_eq!(app.get(&path, &leader).await.status, 200);
    assert_eq!(app.get(&path, &app.admin).await.status, 200);
    assert_eq!(app.get(&path, &cadres[1].1).await.status, 404);
    assert_eq!(app.get(&path, &w.sup2_token).await.status, 404);
    assert_eq!(app.get(&path, &w.villager1_token).await.status, 403);
    let r = app.get("/work-logs?month=2026-13", me).await;
    assert_eq!(
        (r.status, r.error_fields()),
        (422, vec!["month".to_string()])
    );
}

/// Stores `n` logs of `user` from `first` on, each written on its day; returns their ids.
fn write_past_logs(
    conn: &mut minqing_api::db::DbConn,
    user: &str,
    first: NaiveDate,
    n: i64,
) -> Vec<String> {
    let (_, path) = minqing_api::db::users::find_with_path(conn, user)
        .unwrap()
        .unwrap();
    (0..n)
        .map(|i| {
            let date = first + Duration::days(i);
            let at = date.and_hms_opt(13, 0, 0).unwrap();
            let row = minqing_api::db::work_logs::WorkLogRow {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: user.to_string(),
                org_path: path.clone().unwrap(),
                log_date: date,
                content: format!("{LOG}（第{}天）", i + 1),
                created_at: at,
                updated_at: at,
            };
            minqing_api::db::work_logs::insert(conn, &row, &[]).unwrap();
            row.id
        })
        .collect()
}

#[tokio::test]
async fn work_log_days_count_logs_and_old_work_log_checkins_once_a_day() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let village_cadre = app
        .user(json!({"name": "何村官", "phone": "13900000051", "role": "cadre", "org_unit_id": w.village1, "cadre_category": "village"}))
        .await;
    let token = app.login("13900000051", PASSWORD).await;
    let today = today_local();
    let last_month_end = today.with_day(1).unwrap() - Duration::days(1);
    let first = last_month_end.with_day(1).unwrap();
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    write_past_logs(&mut conn, &village_cadre, first, 5);
    // Old clients still send `work_log` check-ins: one on a day with a log, one on day 10.
    for day in [2, 9] {
        let at = clock::at(first + Duration::days(day), 0, 21, 0);
        let r = app
            .post(
                "/checkins",
                &token,
                crate::helpers::checkin("work_log", &w.village1, 29.08, 119.65, &at),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        if r.body["status"] == "flagged" {
            let decided = app
                .post(
                    &format!("/checkins/{}/review", r.id()),
                    &w.sup1_token,
                    json!({"decision": "approve", "reason": "补传核实"}),
                )
                .await;
            assert_eq!(decided.status, 200, "{:?}", decided.body);
        }
    }
    let period = last_month_end.format("%Y-%m").to_string();
    let scores = app
        .get(
            &format!("/scores/{village_cadre}?period={period}"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(scores.status, 200, "{:?}", scores.body);
    assert_eq!(breakdown_value(&scores.body, "wl"), 6.0);
    let _ = token;
}
