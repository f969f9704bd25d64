use serde_json::{json, Value};

use crate::helpers::clock::{at, last_night};
use crate::helpers::{checkin, flag_codes, flag_value, spawn_app, CENTRE, PASSWORD};

#[tokio::test]
async fn a_clean_night_visit_is_accepted_and_retries_are_idempotent() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 20, 0),
    );
    let first = app.post("/checkins", &w.cadre1_token, body.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["status"], "accepted");
    assert_eq!(first.body["flags"], json!([]));
    assert_eq!(first.body["id"], body["id"]);

    let retry = app.post("/checkins", &w.cadre1_token, body.clone()).await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.body, first.body);

    let mut other = body.clone();
    other["note"] = json!("a different body");
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, other).await.status,
        409
    );

    let list = app.get("/checkins", &w.cadre1_token).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "never a second row"
    );
    let stored = &list.body["items"][0];
    assert_eq!(stored["user_id"], w.cadre1);
    assert_eq!(stored["night_date"], night.to_string());
    assert_eq!(stored["kind"], "night_visit");
}

#[tokio::test]
async fn each_flag_is_raised_with_its_measured_value() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let post = |body: Value| app.post("/checkins", &w.cadre1_token, body);

    // The first check-in fixes the usual device.
    let base = post(checkin(
        "night_study",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 19, 0),
    ))
    .await;
    assert_eq!(base.body["status"], "accepted", "{:?}", base.body);

    // ~3.3 km north of the centre: ~1.8 km outside the 1500 m circle.
    let far = post(checkin(
        "night_study",
        &w.village1,
        CENTRE.0 + 0.03,
        CENTRE.1,
        &at(night, 0, 21, 0),
    ))
    .await;
    assert_eq!(far.body["status"], "flagged");
    assert!(flag_codes(&far.body).contains(&"outside_geofence".to_string()));
    let metres = flag_value(&far.body, "outside_geofence").as_f64().unwrap();
    assert!((1750.0..1900.0).contains(&metres), "{metres}");

    let unassigned = post(checkin(
        "night_help",
        &w.village2,
        29.5,
        119.9,
        &at(night, 0, 22, 0),
    ))
    .await;
    assert!(
        flag_codes(&unassigned.body).contains(&"not_assigned_village".to_string()),
        "{:?}",
        unassigned.body
    );

    let afternoon = post(checkin(
        "night_discussion",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 15, 20),
    ))
    .await;
    assert_eq!(
        flag_value(&afternoon.body, "outside_night_window"),
        json!("15:20")
    );

    let mut vague = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 23, 0),
    );
    vague["accuracy_m"] = json!(180.0);
    assert_eq!(
        flag_value(&post(vague).await.body, "low_accuracy"),
        json!(180.0)
    );

    let mut mocked = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 23, 10),
    );
    mocked["mock_location"] = json!(true);
    assert_eq!(
        flag_value(&post(mocked).await.body, "mock_location"),
        json!(true)
    );

    let mut other_phone = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 23, 20),
    );
    other_phone["device_id"] = json!("borrowed-phone");
    assert_eq!(
        flag_value(&post(other_phone).await.body, "unusual_device"),
        json!("borrowed-phone")
    );

    // 1 degree of latitude (~111 km) ten minutes after the last one: ~666 km/h.
    let jump = post(checkin(
        "night_visit",
        &w.village1,
        CENTRE.0 + 1.0,
        CENTRE.1,
        &at(night, 0, 23, 30),
    ))
    .await;
    let kmh = flag_value(&jump.body, "implausible_speed")
        .as_f64()
        .unwrap_or(0.0);
    assert!((600.0..700.0).contains(&kmh), "{:?}", jump.body);

    let old = post(checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, -5, 20, 0),
    ))
    .await;
    let hours = flag_value(&old.body, "late_sync").as_f64().unwrap_or(0.0);
    assert!(hours > 48.0, "{:?}", old.body);

    let future = chrono::Utc::now() + chrono::Duration::hours(2);
    let ahead = post(checkin(
        "work_log",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &future.to_rfc3339(),
    ))
    .await;
    assert!(
        flag_codes(&ahead.body).contains(&"future_time".to_string()),
        "{:?}",
        ahead.body
    );
}

#[tokio::test]
async fn chinese_map_coordinates_are_converted_to_wgs84() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let mut body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(last_night(), 0, 20, 0),
    );
    body["crs"] = json!("gcj02");
    let reply = app.post("/checkins", &w.cadre1_token, body.clone()).await;
    assert_eq!(reply.status, 201);
    let stored = app
        .get(
            &format!("/checkins/{}", body["id"].as_str().unwrap()),
            &w.cadre1_token,
        )
        .await;
    assert_eq!(
        stored.body["reported"],
        json!({"lat": CENTRE.0, "lon": CENTRE.1, "crs": "gcj02"})
    );
    let (dlat, dlon) = (
        stored.body["lat"].as_f64().unwrap() - CENTRE.0,
        stored.body["lon"].as_f64().unwrap() - CENTRE.1,
    );
    // GCJ-02 is offset by a few hundred metres here.
    assert!(
        dlat.abs() + dlon.abs() > 0.001 && dlat.abs() + dlon.abs() < 0.02,
        "{dlat} {dlon}"
    );
}

#[tokio::test]
async fn a_stay_pairs_an_evening_start_with_the_next_mornings_end() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let start = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "stay_start",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(night, 0, 20, 30),
            ),
        )
        .await;
    assert_eq!(start.status, 201);
    let stay_id = start.body["stay_id"]
        .as_str()
        .expect("a stay begins")
        .to_string();
    let end = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "stay_end",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(night, 1, 6, 40),
            ),
        )
        .await;
    assert_eq!(end.body["stay_id"], stay_id.as_str());
    assert_eq!(end.body["status"], "accepted", "{:?}", end.body);

    let stays = app.get("/stays", &w.cadre1_token).await;
    let stay = &stays.body["items"][0];
    assert_eq!(stay["id"], stay_id.as_str());
    assert_eq!(stay["night_date"], night.to_string());
    assert_eq!(stay["village_id"], w.village1);
    assert_eq!(stay["start_id"], start.body["id"]);
    assert_eq!(stay["end_id"], end.body["id"]);
    assert_eq!(stay["status"], "valid");
    assert_eq!(
        app.get("/stays", &w.sup1_token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/stays", &w.sup2_token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn stays_without_an_end_short_stays_and_other_villages() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let old_night = last_night() - chrono::Duration::days(10);
    let open = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "stay_start",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(old_night, 0, 21, 0),
            ),
        )
        .await;
    assert_eq!(open.status, 201);

    // 23:30 to 05:00 is 5.5 h: shorter than the 6 h a stay needs.
    let night = last_night();
    let late = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "stay_start",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(night, 0, 23, 30),
            ),
        )
        .await;
    let short = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "stay_end",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(night, 1, 5, 0),
            ),
        )
        .await;
    assert_eq!(flag_value(&short.body, "short_stay"), json!(5.5));
    assert_eq!(short.body["stay_id"], late.body["stay_id"]);

    // A morning check-in in another village closes nothing.
    let night2 = night - chrono::Duration::days(1);
    app.post(
        "/checkins",
        &w.cadre1_token,
        checkin(
            "stay_start",
            &w.village1,
            CENTRE.0,
            CENTRE.1,
            &at(night2, 0, 20, 0),
        ),
    )
    .await;
    let elsewhere = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin("stay_end", &w.village2, 29.5, 119.9, &at(night2, 1, 7, 0)),
        )
        .await;
    assert_eq!(elsewhere.status, 201);
    assert_eq!(elsewhere.body["stay_id"], Value::Null);

    let stays = app.get("/stays", &w.cadre1_token).await;
    let by_night = |d: chrono::NaiveDate| {
        stays.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["night_date"] == d.to_string())
            .cloned()
            .unwrap()
    };
    assert_eq!(by_night(old_night)["status"], "incomplete");
    assert_eq!(by_night(night)["status"], "flagged");
    assert_eq!(by_night(night2)["end_id"], Value::Null);
    let ranged = app
        .get(&format!("/stays?from={night}&to={night}"), &w.cadre1_token)
        .await;
    assert_eq!(ranged.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn supervisors_review_flagged_checkins_of_their_subtree() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let start = checkin(
        "stay_start",
        &w.village1,
        CENTRE.0 + 0.03,
        CENTRE.1,
        &at(night, 0, 20, 0),
    );
    let flagged = app.post("/checkins", &w.cadre1_token, start.clone()).await;
    assert_eq!(flagged.body["status"], "flagged");
    let end = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "stay_end",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(night, 1, 6, 30),
            ),
        )
        .await;
    assert_eq!(end.body["status"], "accepted");
    let path = format!("/checkins/{}/review", start["id"].as_str().unwrap());
    let stay_status =
        || async { app.get("/stays", &w.cadre1_token).await.body["items"][0]["status"].clone() };
    assert_eq!(stay_status().await, "flagged");

    assert_eq!(
        app.post(
            &path,
            &w.cadre1_token,
            json!({"decision": "approve", "reason": "x"})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.post(
            &path,
            &w.sup2_token,
            json!({"decision": "approve", "reason": "x"})
        )
        .await
        .status,
        404
    );
    let no_reason = app
        .post(
            &path,
            &w.sup1_token,
            json!({"decision": "approve", "reason": " "}),
        )
        .await;
    assert_eq!(no_reason.error_fields(), vec!["reason"]);

    let approved = app
        .post(
            &path,
            &w.sup1_token,
            json!({"decision": "approve", "reason": "村边新开的农户，已核实"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["review"]["reviewed_by"], w.sup1);
    assert_eq!(approved.body["review"]["reason"], "村边新开的农户，已核实");
    assert_eq!(stay_status().await, "valid");

    assert_eq!(
        app.post(
            &path,
            &w.sup1_token,
            json!({"decision": "reject", "reason": "again"})
        )
        .await
        .status,
        409
    );
    let clean = format!("/checkins/{}/review", end.body["id"].as_str().unwrap());
    assert_eq!(
        app.post(
            &clean,
            &w.sup1_token,
            json!({"decision": "reject", "reason": "x"})
        )
        .await
        .status,
        409
    );

    let mut far = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0 + 0.05,
        CENTRE.1,
        &at(night, 0, 21, 0),
    );
    far["device_id"] = json!("phone-1");
    let far = app.post("/checkins", &w.cadre1_token, far).await;
    let rejected = app
        .post(
            &format!("/checkins/{}/review", far.body["id"].as_str().unwrap()),
            &w.sup1_token,
            json!({"decision": "reject", "reason": "不在村里"}),
        )
        .await;
    assert_eq!(rejected.body["status"], "rejected");
    let filtered = app.get("/checkins?status=rejected", &w.sup1_token).await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn offline_batches_answer_per_item_in_recorded_order() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let end = checkin(
        "stay_end",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 1, 6, 30),
    );
    let start = checkin(
        "stay_start",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 20, 0),
    );
    let mut broken = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 21, 0),
    );
    broken["lat"] = json!("north");
    let batch = json!([end, broken, start]);
    let reply = app
        .post("/checkins/batch", &w.cadre1_token, batch.clone())
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let items = reply.body.as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![201, 422, 201]
    );
    assert_eq!(items[1]["problem"]["errors"][0]["field"], "lat");
    // Sent end first, recorded start first: they still pair.
    assert_eq!(
        items[0]["receipt"]["stay_id"],
        items[2]["receipt"]["stay_id"]
    );
    assert!(items[0]["receipt"]["stay_id"].is_string());

    let again = app.post("/checkins/batch", &w.cadre1_token, batch).await;
    let statuses: Vec<u64> = again
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![200, 422, 200]);
    assert_eq!(
        app.get("/checkins", &w.cadre1_token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let too_many: Vec<Value> = (0..501)
        .map(|_| {
            checkin(
                "work_log",
                &w.village1,
                CENTRE.0,
                CENTRE.1,
                &at(night, 1, 9, 0),
            )
        })
        .collect();
    assert_eq!(
        app.post("/checkins/batch", &w.cadre1_token, json!(too_many))
            .await
            .status,
        422
    );
}

#[tokio::test]
async fn who_sees_which_checkins() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let mine = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, 0, 20, 0),
    );
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, mine.clone())
            .await
            .status,
        201
    );
    let cadre2_token = app.login("13900000012", PASSWORD).await;
    let theirs = checkin(
        "night_visit",
        &w.village2,
        29.5,
        119.9,
        &at(night, 0, 20, 0),
    );
    assert_eq!(
        app.post("/checkins", &cadre2_token, theirs.clone())
            .await
            .status,
        201
    );

    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&app.get("/checkins", &w.cadre1_token).await.body),
        vec![mine["id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/checkins?user_id={}", w.cadre2), &w.cadre1_token)
            .await
            .body),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&app.get("/checkins", &w.sup1_token).await.body),
        vec![mine["id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(&app.get("/checkins", &w.sup2_token).await.body),
        vec![theirs["id"].as_str().unwrap()]
    );
    assert_eq!(ids(&app.get("/checkins", &app.admin).await.body).len(), 2);
    assert_eq!(
        app.get(
            &format!("/checkins/{}", theirs["id"].as_str().unwrap()),
            &w.cadre1_token
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get(
            &format!("/checkins/{}", theirs["id"].as_str().unwrap()),
            &w.sup1_token
        )
        .await
        .status,
        404
    );
    assert_eq!(app.get("/checkins", &w.villager1_token).await.status, 403);
    assert_eq!(app.get("/stays", &w.villager1_token).await.status, 403);
    assert_eq!(
        app.post("/checkins", &w.sup1_token, mine.clone())
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("/checkins", &w.villager1_token, mine).await.status,
        403
    );
}

#[tokio::test]
async fn checkin_lists_filter_and_page_newest_first() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let mut sent = Vec::new();
    for minute in 0..7 {
        let body = checkin(
            "night_visit",
            &w.village1,
            CENTRE.0,
            CENTRE.1,
            &at(night, 0, 20, minute),
        );
        app.post("/checkins", &w.cadre1_token, body.clone()).await;
        sent.push(body["id"].as_str().unwrap().to_string());
    }
    app.post(
        "/checkins",
        &w.cadre1_token,
        checkin(
            "work_log",
            &w.village1,
            CENTRE.0,
            CENTRE.1,
            &at(night, 1, 9, 0),
        ),
    )
    .await;
    sent.reverse();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!("/checkins?kind=night_visit&limit=3{cursor}"),
                &w.sup1_token,
            )
            .await;
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, sent);
    let from = at(night, 0, 20, 5).replace('+', "%2B");
    let recent = app
        .get(
            &format!("/checkins?kind=night_visit&from={from}"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(recent.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get(
            &format!("/checkins?village_id={}", w.village2),
            &w.sup1_token
        )
        .await
        .body["items"],
        json!([])
    );
    assert_eq!(
        app.get("/checkins?kind=night_party", &w.sup1_token)
            .await
            .status,
        422
    );
}

#[tokio::test]
async fn malformed_checkins_name_their_fields() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let mut body = checkin(
        "night_visit",
        &w.village1,
        95.0,
        CENTRE.1,
        &at(last_night(), 0, 20, 0),
    );
    body["id"] = json!("123");
    let reply = app.post("/checkins", &w.cadre1_token, body).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_fields(), vec!["id", "lat"]);
    let unknown_village = checkin(
        "night_visit",
        "nowhere",
        CENTRE.0,
        CENTRE.1,
        &at(last_night(), 0, 20, 0),
    );
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, unknown_village)
            .await
            .error_fields(),
        vec!["village_id"]
    );
    let mut bad_kind = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(last_night(), 0, 20, 0),
    );
    bad_kind["kind"] = json!("night_party");
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, bad_kind)
            .await
            .error_fields(),
        vec!["kind"]
    );
}
