use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, World, CENTRE, PASSWORD};

/// The world with a `road` category (3 working days) and boundaries.
async fn order_world(app: &TestApp) -> World {
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    w
}

fn report(village: &str, lat: f64, lon: f64) -> Value {
    json!({"category": "road", "title": "村口路灯坏了", "description": "晚上路口太黑，老人出门不安全",
           "village_id": village, "lat": lat, "lon": lon, "source": "villager"})
}

async fn assign(
    app: &TestApp,
    token: &str,
    id: &str,
    unit: &str,
    assignee: &str,
) -> crate::helpers::Reply {
    app.post(&format!("/work-orders/{id}/assign"), token,
        json!({"unit_id": unit, "assignee_id": assignee, "due_in_working_days": 3, "commitment": "三个工作日内修好"})).await
}

fn kinds(detail: &Value) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_order_goes_from_report_to_closed() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let filed = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    assert_eq!(filed.body["status"], "submitted");
    let code = filed.body["code"].as_str().unwrap();
    assert!(code.starts_with("MQ-") && code.ends_with("-0001"), "{code}");
    assert!(filed.body["tracking_token"].as_str().unwrap().len() > 20);
    assert!(filed.body["deadline_notice"]
        .as_str()
        .unwrap()
        .contains('3'));
    let id = filed.id();

    let assigned = assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre1).await;
    assert_eq!(assigned.status, 200, "{:?}", assigned.body);
    assert_eq!(assigned.body["status"], "assigned");
    assert_eq!(assigned.body["unit_id"], w.town1);
    assert_eq!(assigned.body["assignee_id"], w.cadre1);
    assert!(assigned.body["due_at"].is_string());
    assert_eq!(assigned.body["due_at"], assigned.body["original_due_at"]);
    assert_eq!(assigned.body["overdue"], false);

    let path = |step: &str| format!("/work-orders/{id}/{step}");
    assert_eq!(
        app.post(&path("accept"), &w.cadre1_token, json!({}))
            .await
            .body["status"],
        "in_progress"
    );
    let progress = app
        .post(
            &path("progress"),
            &w.cadre1_token,
            json!({"note": "已联系电工，明天上午维修"}),
        )
        .await;
    assert_eq!(progress.body["status"], "in_progress");
    let resolved = app
        .post(
            &path("resolve"),
            &w.cadre1_token,
            json!({"resolution_note": "更换了灯泡和线路"}),
        )
        .await;
    assert_eq!(resolved.body["status"], "resolved");
    assert!(resolved.body["resolved_at"].is_string());
    let rated = app
        .post(
            &path("rate"),
            &w.villager1_token,
            json!({"score": 95, "comment": "修得很快"}),
        )
        .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    assert_eq!(rated.body["status"], "closed");
    assert_eq!(rated.body["rating"], 95);

    let detail = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    assert_eq!(
        kinds(&detail.body),
        vec![
            "submitted",
            "assigned",
            "accepted",
            "progress",
            "resolved",
            "closed"
        ]
    );
    assert_eq!(detail.body["timeline"][1]["actor_id"], w.sup1);
    assert_eq!(detail.body["timeline"][1]["note"], "三个工作日内修好");
    assert_eq!(detail.body["reporter_name"], "赵大爷");
    assert_eq!(detail.body["reporter_phone"], "13900000021");
    // The assignee calls back (回访) on the full phone; the reporter sees theirs masked.
    assert_eq!(
        app.get(&format!("/work-orders/{id}"), &w.cadre1_token)
            .await
            .body["reporter_phone"],
        "13900000021"
    );
    assert_eq!(
        app.get(&format!("/work-orders/{id}"), &w.villager1_token)
            .await
            .body["reporter_phone"],
        "139****0021"
    );
}

#[tokio::test]
async fn only_legal_steps_by_the_right_people() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let id = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await
        .id();
    let path = |step: &str| format!("/work-orders/{id}/{step}");
    // Resolving what nobody accepted; rating what is not resolved.
    assert_eq!(
        app.post(
            &path("resolve"),
            &w.sup1_token,
            json!({"resolution_note": "x"})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.post(&path("rate"), &w.villager1_token, json!({"score": 90}))
            .await
            .status,
        409
    );
    // The reporter cannot assign; another town's supervisor cannot see it; a cadre of no unit of it neither.
    assert_eq!(
        assign(&app, &w.villager1_token, &id, &w.town1, &w.cadre1)
            .await
            .status,
        403
    );
    assert_eq!(
        assign(&app, &w.sup2_token, &id, &w.town2, &w.cadre2)
            .await
            .status,
        404
    );
    assert_eq!(
        app.post(&path("accept"), &w.cadre1_token, json!({}))
            .await
            .status,
        404
    );
    // A unit out of the supervisor's reach, a person not of that unit, a deadline in the past.
    assert_eq!(
        assign(&app, &w.sup1_token, &id, &w.town2, &w.cadre2)
            .await
            .error_fields(),
        vec!["unit_id"]
    );
    assert_eq!(
        assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre2)
            .await
            .error_fields(),
        vec!["assignee_id"]
    );
    let past = app
        .post(
            &path("assign"),
            &w.sup1_token,
            json!({"unit_id": w.town1, "due_at": "2020-01-01T00:00:00Z", "commitment": "x"}),
        )
        .await;
    assert_eq!(past.error_fields(), vec!["due_at"]);
    let two = app.post(&path("assign"), &w.sup1_token,
        json!({"unit_id": w.town1, "due_in_days": 2, "due_in_working_days": 2, "commitment": "x"})).await;
    assert_eq!(two.status, 422);
    // Without a deadline the category's default applies.
    let default = app
        .post(
            &path("assign"),
            &w.sup1_token,
            json!({"unit_id": w.town1, "commitment": "按期办结"}),
        )
        .await;
    assert_eq!(default.status, 200, "{:?}", default.body);
    assert!(default.body["due_at"].is_string());
    assert_eq!(
        app.post(&path("accept"), &w.cadre1_token, json!({}))
            .await
            .status,
        200,
        "a member of the unit accepts"
    );
    assert_eq!(
        app.post(&path("accept"), &w.cadre1_token, json!({}))
            .await
            .status,
        409
    );
    assert_eq!(
        app.post(&path("reject"), &w.sup1_token, json!({"reason": "x"}))
            .await
            .status,
        409
    );
    assert_eq!(
        app.post(&path("rate"), &w.villager1_token, json!({"score": 101}))
            .await
            .error_fields(),
        vec!["score"]
    );
}

#[tokio::test]
async fn an_unsatisfied_reporter_reopens_with_a_new_deadline() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let id = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await
        .id();
    let path = |step: &str| format!("/work-orders/{id}/{step}");
    let first = assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre1).await;
    app.post(&path("accept"), &w.cadre1_token, json!({})).await;
    app.post(
        &path("resolve"),
        &w.cadre1_token,
        json!({"resolution_note": "处理了"}),
    )
    .await;
    let reopened = app
        .post(
            &path("rate"),
            &w.villager1_token,
            json!({"score": 40, "comment": "灯还是不亮"}),
        )
        .await;
    assert_eq!(reopened.body["status"], "reopened");
    assert_eq!(
        reopened.body["original_due_at"], first.body["original_due_at"],
        "compliance keeps the first deadline"
    );
    assert_eq!(reopened.body["resolved_at"], Value::Null);
    assert_eq!(
        app.post(
            &path("resolve"),
            &w.cadre1_token,
            json!({"resolution_note": "换了整套线路"})
        )
        .await
        .body["status"],
        "resolved"
    );
    assert_eq!(
        app.post(&path("rate"), &w.villager1_token, json!({"score": 80}))
            .await
            .body["status"],
        "closed"
    );
    let detail = app
        .get(&format!("/work-orders/{id}"), &w.villager1_token)
        .await;
    assert_eq!(
        kinds(&detail.body),
        vec![
            "submitted",
            "assigned",
            "accepted",
            "resolved",
            "reopened",
            "resolved",
            "closed"
        ]
    );
    assert!(
        detail.body.get("possible_duplicates").is_none(),
        "only supervisors see duplicates"
    );
}

#[tokio::test]
async fn anonymous_reporters_track_and_rate_with_their_token() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let mut body = report(&w.village1, CENTRE.0, CENTRE.1);
    body["reporter_name"] = json!("孙婆婆");
    body["reporter_phone"] = json!("13655556666");
    let filed = app
        .call(Method::POST, "/work-orders", None, Some(body.clone()))
        .await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let (id, code, token) = (
        filed.id(),
        filed.body["code"].as_str().unwrap().to_string(),
        filed.body["tracking_token"].as_str().unwrap().to_string(),
    );

    let track = app
        .call(
            Method::GET,
            &format!("/track/{code}?token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(track.status, 200);
    assert_eq!(track.body["status"], "submitted");
    assert_eq!(track.body["category"], "道路维修");
    let text = track.body.to_string();
    assert!(
        !text.contains("13655556666") && !text.contains("孙婆婆"),
        "{text}"
    );
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/track/{code}?token=wrong"),
            None,
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.call(Method::GET, &format!("/track/{code}"), None, None)
            .await
            .status,
        404
    );

    // Supervisors of the subtree and the assignee see the phone; another member of the
    // assigned unit (an assignee too, for the state machine) sees it masked.
    assert_eq!(
        app.get(&format!("/work-orders/{id}"), &w.sup1_token)
            .await
            .body["reporter_phone"],
        "13655556666"
    );
    app.user(json!({"name": "王芳", "phone": "13900000013", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "organ"}))
        .await;
    let colleague = app.login("13900000013", PASSWORD).await;
    assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre1).await;
    let phone_seen_by = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            let one = app.get(&format!("/work-orders/{id}"), &token).await;
            let list = app.get("/work-orders", &token).await;
            assert_eq!(list.body["items"][0]["id"], id.as_str());
            assert_eq!(
                one.body["reporter_phone"],
                list.body["items"][0]["reporter_phone"]
            );
            one.body["reporter_phone"].clone()
        }
    };
    assert_eq!(phone_seen_by(w.cadre1_token.clone()).await, "13655556666");
    assert_eq!(phone_seen_by(colleague.clone()).await, "136****6666");
    let accepted = app
        .post(&format!("/work-orders/{id}/accept"), &colleague, json!({}))
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(accepted.body["reporter_phone"], "136****6666");
    let resolved = app
        .post(
            &format!("/work-orders/{id}/resolve"),
            &w.cadre1_token,
            json!({"resolution_note": "已修复"}),
        )
        .await;
    assert_eq!(resolved.body["reporter_phone"], "13655556666");
    let track = app
        .call(
            Method::GET,
            &format!("/track/{code}?token={token}"),
            None,
            None,
        )
        .await;
    let notes: Vec<&Value> = track.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["note"])
        .collect();
    assert!(notes.contains(&&json!("已修复")));

    let wrong = app
        .call(
            Method::POST,
            &format!("/work-orders/{id}/rate?token=nope"),
            None,
            Some(json!({"score": 90})),
        )
        .await;
    assert_eq!(wrong.status, 404);
    let rated = app
        .call(
            Method::POST,
            &format!("/work-orders/{id}/rate?token={token}"),
            None,
            Some(json!({"score": 90})),
        )
        .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    assert_eq!(rated.body["status"], "closed");

    // Five reports a day per phone without an account.
    for i in 0..4 {
        let mut again = body.clone();
        again["title"] = json!(format!("第{i}个问题"));
        assert_eq!(
            app.call(Method::POST, "/work-orders", None, Some(again))
                .await
                .status,
            201
        );
    }
    assert_eq!(
        app.call(Method::POST, "/work-orders", None, Some(body.clone()))
            .await
            .status,
        429
    );
    body.as_object_mut().unwrap().remove("reporter_phone");
    assert_eq!(
        app.call(Method::POST, "/work-orders", None, Some(body))
            .await
            .error_fields(),
        vec!["reporter_phone"]
    );
}

#[tokio::test]
async fn cadres_record_visits_solved_on_the_spot() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let mut body = report(&w.village1, CENTRE.0, CENTRE.1);
    body["source"] = json!("visit");
    body["resolved_on_spot"] = json!(true);
    body["resolution_note"] = json!("当场联系电工修好");
    body["reporter_name"] = json!("钱大伯");
    let filed = app.post("/work-orders", &w.cadre1_token, body).await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    assert_eq!(filed.body["status"], "resolved");
    let detail = app
        .get(&format!("/work-orders/{}", filed.id()), &w.sup1_token)
        .await;
    assert_eq!(detail.body["due_at"], Value::Null);
    assert_eq!(detail.body["resolved_on_spot"], true);
    assert_eq!(kinds(&detail.body), vec!["submitted", "resolved_on_spot"]);
    let mut villager_visit = report(&w.village1, CENTRE.0, CENTRE.1);
    villager_visit["source"] = json!("visit");
    assert_eq!(
        app.post("/work-orders", &w.villager1_token, villager_visit)
            .await
            .error_fields(),
        vec!["source"]
    );
    assert_eq!(
        app.post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village2, 29.5, 119.9)
        )
        .await
        .error_fields(),
        vec!["village_id"]
    );
}

#[tokio::test]
async fn client_ids_make_filing_idempotent() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let mut body = report(&w.village1, CENTRE.0, CENTRE.1);
    body["id"] = json!(uuid::Uuid::new_v4().to_string());
    let first = app
        .post("/work-orders", &w.villager1_token, body.clone())
        .await;
    assert_eq!(first.status, 201);
    let retry = app
        .post("/work-orders", &w.villager1_token, body.clone())
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.body["code"], first.body["code"]);
    assert_eq!(first.body["query_code"].as_str().unwrap().len(), 6);
    assert_eq!(retry.body["query_code"], "", "shown only once");
    assert_eq!(retry.body["tracking_token"], "");
    body["title"] = json!("另一件事");
    assert_eq!(
        app.post("/work-orders", &w.villager1_token, body)
            .await
            .status,
        409
    );
    let mine = app.get("/work-orders", &w.villager1_token).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn supervisors_see_likely_duplicates_and_reject_them() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let first = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await
        .id();
    // About 55 m away, and one about 1 km away.
    let near = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0 + 0.0005, CENTRE.1),
        )
        .await
        .id();
    app.post(
        "/work-orders",
        &w.villager1_token,
        report(&w.village1, CENTRE.0 + 0.009, CENTRE.1),
    )
    .await;
    let detail = app
        .get(&format!("/work-orders/{near}"), &w.sup1_token)
        .await;
    let dups = detail.body["possible_duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0]["id"], first.as_str());
    let metres = dups[0]["distance_m"].as_f64().unwrap();
    assert!((50.0..60.0).contains(&metres), "{metres}");

    let code = app
        .get(&format!("/work-orders/{first}"), &w.sup1_token)
        .await
        .body["code"]
        .clone();
    let rejected = app
        .post(
            &format!("/work-orders/{near}/reject"),
            &w.sup1_token,
            json!({"reason": "重复反映", "duplicate_of": code}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{:?}", rejected.body);
    assert_eq!(rejected.body["status"], "rejected");
    let after = app
        .get(&format!("/work-orders/{first}"), &w.sup1_token)
        .await;
    assert_eq!(
        after.body["possible_duplicates"],
        json!([]),
        "a rejected order is no longer open"
    );
}

#[tokio::test]
async fn the_overdue_queue_puts_the_most_overdue_first() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let mut ids = Vec::new();
    for millis in [1200, 900] {
        let id = app
            .post(
                "/work-orders",
                &w.villager1_token,
                report(&w.village1, CENTRE.0, CENTRE.1),
            )
            .await
            .id();
        let due = chrono::Utc::now() + chrono::Duration::milliseconds(millis);
        let reply = app
            .post(
                &format!("/work-orders/{id}/assign"),
                &w.sup1_token,
                json!({"unit_id": w.town1, "due_at": due.to_rfc3339(), "commitment": "尽快"}),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        ids.push(id);
    }
    let on_time = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await
        .id();
    assign(&app, &w.sup1_token, &on_time, &w.town1, &w.cadre1).await;

    // Poll (with a deadline) until both short deadlines have passed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let overdue = loop {
        let page = app.get("/work-orders?overdue=true", &w.sup1_token).await;
        if page.body["items"].as_array().unwrap().len() == 2 || std::time::Instant::now() > deadline
        {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let listed: Vec<&str> = overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![ids[1].as_str(), ids[0].as_str()]);
    assert!(overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["overdue"] == true));
    assert_eq!(
        app.get("/work-orders?overdue=true", &w.sup2_token)
            .await
            .body["items"],
        json!([])
    );
    let all = app
        .get(
            &format!("/work-orders?village_id={}&status=assigned", w.village1),
            &w.sup1_token,
        )
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let by_assignee = app
        .get(
            &format!("/work-orders?assignee_id={}", w.cadre1),
            &w.sup1_token,
        )
        .await;
    assert_eq!(by_assignee.body["items"].as_array().unwrap().len(), 1);
    // The assignee's unit sees its orders; another villager sees none.
    assert_eq!(
        app.get("/work-orders", &w.cadre1_token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn compliance_rates_follow_the_definitions() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let app = &app;
    let file = || {
        app.post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
    };
    let step = |id: String, s: &'static str, token: String, body: Value| async move {
        let reply = app
            .post(&format!("/work-orders/{id}/{s}"), &token, body)
            .await;
        assert_eq!(reply.status, 200, "{s}: {:?}", reply.body);
    };
    // A: accepted, resolved on time, rated 90 (closed). B: the same, rated 40 (reopened).
    let (a, b) = (file().await.id(), file().await.id());
    for (id, score) in [(&a, 90), (&b, 40)] {
        assert_eq!(
            assign(app, &w.sup1_token, id, &w.town1, &w.cadre1)
                .await
                .status,
            200
        );
        step(id.clone(), "accept", w.cadre1_token.clone(), json!({})).await;
        step(
            id.clone(),
            "resolve",
            w.cadre1_token.clone(),
            json!({"resolution_note": "办好了"}),
        )
        .await;
        step(
            id.clone(),
            "rate",
            w.villager1_token.clone(),
            json!({"score": score}),
        )
        .await;
    }
    // C: assigned with a deadline about to pass, never accepted. D: never assigned.
    let c = file().await.id();
    let due = chrono::Utc::now() + chrono::Duration::milliseconds(800);
    step(c.clone(), "assign", w.sup1_token.clone(), json!({"unit_id": w.town1, "assignee_id": w.cadre1, "due_at": due.to_rfc3339(), "commitment": "马上办"})).await;
    file().await;
    // E: solved on the spot during a visit.
    let mut spot = report(&w.village1, CENTRE.0, CENTRE.1);
    spot["source"] = json!("visit");
    spot["resolved_on_spot"] = json!(true);
    spot["resolution_note"] = json!("当场解决");
    assert_eq!(
        app.post("/work-orders", &w.cadre1_token, spot).await.status,
        201
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let by_unit = loop {
        let reply = app.get("/compliance", &w.sup1_token).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        if reply.body[0]["overdue_open"] == 1 || std::time::Instant::now() > deadline {
            break reply.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let unit = &by_unit[0];
    assert_eq!(by_unit.as_array().unwrap().len(), 1, "{by_unit}");
    assert_eq!(unit["unit_id"], w.town1);
    assert_eq!(unit["name"], "青山镇");
    assert_eq!(unit["assigned"], 3);
    assert_eq!(unit["resolved"], 2);
    let rate = |v: &Value| v.as_f64().unwrap();
    assert!((rate(&unit["response_rate"]) - 2.0 / 3.0).abs() < 1e-9);
    assert!((rate(&unit["resolution_rate"]) - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(unit["on_time_rate"], 1.0);
    assert_eq!(unit["reopen_rate"], 0.5);
    assert_eq!(unit["satisfaction_rate"], 0.5);
    assert_eq!(unit["avg_satisfaction"], 65.0);
    assert_eq!(unit["overdue_open"], 1);
    assert_eq!(unit["overdue_resolved"], 0);
    assert!(rate(&unit["avg_resolution_hours"]) >= 0.0);

    let by_village = app
        .get("/compliance?group_by=village", &w.sup1_token)
        .await
        .body;
    let village = &by_village[0];
    assert_eq!(village["village_id"], w.village1);
    assert_eq!(village["resolved"], 3, "the on-the-spot order counts");
    assert!((rate(&village["resolution_rate"]) - 2.0 / 5.0).abs() < 1e-9);
    assert_eq!(village["on_time_rate"], 1.0);
    let by_assignee = app
        .get("/compliance?group_by=assignee", &w.sup1_token)
        .await
        .body;
    assert_eq!(by_assignee[0]["assignee_id"], w.cadre1);
    assert_eq!(by_assignee[0]["assigned"], 3);

    assert_eq!(app.get("/compliance", &w.sup2_token).await.body, json!([]));
    assert_eq!(app.get("/compliance", &w.cadre1_token).await.status, 403);
    let empty_period = app
        .get("/compliance?from=2020-01-01&to=2020-01-31", &w.sup1_token)
        .await
        .body;
    assert_eq!(
        empty_period[0]["assigned"], 0,
        "open overdue orders still show: {empty_period}"
    );
    assert_eq!(empty_period[0]["response_rate"], Value::Null);
    assert_eq!(
        app.get("/compliance?from=2026-02-01&to=2026-01-01", &w.sup1_token)
            .await
            .status,
        422
    );

    // The daily counts kept as orders changed equal a count from scratch (as the server
    // makes after a change of time zone).
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    for zone in [
        chrono_tz::UTC,
        minqing_api::config::Config::default().timezone,
    ] {
        minqing_api::db::compliance::keep_daily_counts_in(&mut conn, zone).unwrap();
    }
    for (query, before) in [
        ("/compliance", &by_unit),
        ("/compliance?group_by=village", &by_village),
        ("/compliance?group_by=assignee", &by_assignee),
    ] {
        assert_eq!(&app.get(query, &w.sup1_token).await.body, before, "{query}");
    }
}

#[tokio::test]
async fn extensions_move_the_deadline_only_when_approved() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let id = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await
        .id();
    let path = format!("/work-orders/{id}/extensions");
    let later = (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339();
    let ask = json!({"due_at": later, "reason": "需要等配件到货"});
    assert_eq!(
        app.post(&path, &w.cadre1_token, ask.clone()).await.status,
        404,
        "not the cadre's order yet"
    );
    let assigned = assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre1).await;
    let original = assigned.body["due_at"].clone();
    app.post(
        &format!("/work-orders/{id}/accept"),
        &w.cadre1_token,
        json!({}),
    )
    .await;

    assert_eq!(
        app.post(&path, &w.villager1_token, ask.clone())
            .await
            .status,
        403,
        "the reporter sees the order but does not ask"
    );
    let earlier = app
        .post(
            &path,
            &w.cadre1_token,
            json!({"due_at": chrono::Utc::now().to_rfc3339(), "reason": "x"}),
        )
        .await;
    assert_eq!(earlier.error_fields(), vec!["due_at"]);
    let first = app.post(&path, &w.cadre1_token, ask.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["status"], "pending");
    assert_eq!(
        app.post(&path, &w.cadre1_token, ask.clone()).await.status,
        409,
        "one pending request at a time"
    );
    let eid = first.id();
    let decision = format!("{path}/{eid}/decision");

    assert_eq!(
        app.post(&decision, &w.cadre1_token, json!({"approve": true}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post(&decision, &w.sup2_token, json!({"approve": true}))
            .await
            .status,
        404
    );
    let rejected = app
        .post(
            &decision,
            &w.sup1_token,
            json!({"approve": false, "note": "配件可先借用"}),
        )
        .await;
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(
        app.get(&format!("/work-orders/{id}"), &w.sup1_token)
            .await
            .body["due_at"],
        original
    );
    assert_eq!(
        app.post(&decision, &w.sup1_token, json!({"approve": true}))
            .await
            .status,
        409
    );

    let second = app.post(&path, &w.cadre1_token, ask).await.id();
    let approved = app
        .post(
            &format!("{path}/{second}/decision"),
            &w.sup1_token,
            json!({"approve": true}),
        )
        .await;
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["decided_by"], w.sup1);
    let order = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    assert_ne!(order.body["due_at"], original);
    assert_eq!(
        order.body["original_due_at"], original,
        "the original deadline is kept for compliance"
    );
    assert!(kinds(&order.body).ends_with(&[
        "extension_requested".to_string(),
        "extension_rejected".into(),
        "extension_requested".into(),
        "extension_approved".into()
    ]));
}

/// Orders due on earlier days are counted from the open orders kept per due day; resolving
/// one takes it out, and a day with nothing open left is dropped.
#[tokio::test]
async fn orders_due_on_earlier_days_count_as_overdue_until_resolved() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let id = app
        .post(
            "/work-orders",
            &w.villager1_token,
            report(&w.village1, CENTRE.0, CENTRE.1),
        )
        .await
        .id();
    assert_eq!(
        assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre1)
            .await
            .status,
        200
    );
    // Three days pass: the deadline moves back as the clock would move forward.
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let zone = minqing_api::config::Config::default().timezone;
    let mut row = minqing_api::db::work_orders::find(&mut conn, &id)
        .unwrap()
        .unwrap();
    row.due_at = Some((chrono::Utc::now() - chrono::Duration::days(3)).naive_utc());
    row.original_due_at = row.due_at;
    conn.write(|conn| minqing_api::db::work_orders::update(conn, &row, zone))
        .unwrap();
    let overdue = |body: &Value| body[0]["overdue_open"].clone();
    let by_unit = app.get("/compliance", &w.sup1_token).await.body;
    assert_eq!(overdue(&by_unit), 1, "{by_unit}");
    let by_assignee = app
        .get("/compliance?group_by=assignee", &w.sup1_token)
        .await
        .body;
    assert_eq!(overdue(&by_assignee), 1, "{by_assignee}");
    for (step, body) in [
        ("accept", json!({})),
        ("resolve", json!({"resolution_note": "修好了"})),
    ] {
        let reply = app
            .post(&format!("/work-orders/{id}/{step}"), &w.cadre1_token, body)
            .await;
        assert_eq!(reply.status, 200, "{step}: {:?}", reply.body);
    }
    let after = app.get("/compliance", &w.sup1_token).await.body;
    assert_eq!(overdue(&after), 0, "{after}");
    assert_eq!(after[0]["overdue_resolved"], 1, "{after}");
    // The counts kept equal a count from scratch.
    minqing_api::db::compliance::keep_daily_counts_in(&mut conn, chrono_tz::UTC).unwrap();
    minqing_api::db::compliance::keep_daily_counts_in(&mut conn, zone).unwrap();
    assert_eq!(app.get("/compliance", &w.sup1_token).await.body, after);
}

/// Files an order with no account; returns (id, code, query code).
async fn file_anonymously(app: &TestApp, w: &World, phone: &str) -> (String, String, String) {
    let mut body = report(&w.village1, CENTRE.0, CENTRE.1);
    body["reporter_name"] = json!("孙婆婆");
    body["reporter_phone"] = json!(phone);
    let filed = app
        .call(Method::POST, "/work-orders", None, Some(body))
        .await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let query_code = filed.body["query_code"].as_str().unwrap().to_string();
    assert!(
        query_code.len() == 6 && query_code.bytes().all(|b| b.is_ascii_digit()),
        "{query_code}"
    );
    (
        filed.id(),
        filed.body["code"].as_str().unwrap().to_string(),
        query_code,
    )
}

/// A 查询码 that is certainly not `right`.
fn wrong(right: &str) -> String {
    let n: u32 = right.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn track(app: &TestApp, code: &str, query_code: &str) -> crate::helpers::Reply {
    app.call(
        Method::GET,
        &format!("/track/{code}?query_code={query_code}"),
        None,
        None,
    )
    .await
}

#[tokio::test]
async fn anonymous_reporters_track_and_rate_with_their_query_code() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let (id, code, query_code) = file_anonymously(&app, &w, "13655556666").await;

    let tracked = track(&app, &code, &query_code).await;
    assert_eq!(tracked.status, 200, "{:?}", tracked.body);
    assert_eq!(tracked.body["code"], code.as_str());
    assert_eq!(tracked.body["title"], "村口路灯坏了");
    assert_eq!(tracked.body["village"], "溪口村");
    assert_eq!(tracked.body["status"], "submitted");
    assert_eq!(tracked.body["rating"], Value::Null);
    assert_eq!(
        track(&app, &code.to_lowercase(), &query_code).await.status,
        200,
        "the order code in any case"
    );
    // A wrong 查询码 and an unknown order code answer alike.
    let wrong_code = track(&app, &code, &wrong(&query_code)).await;
    let unknown = track(&app, "MQ-20200101-0001", &query_code).await;
    assert_eq!(wrong_code.status, 404);
    assert_eq!(unknown.status, 404);
    assert_eq!(wrong_code.body, unknown.body);
    assert_eq!(
        wrong_code.body["detail"],
        "no work order with that code and 查询码"
    );

    // The cadre's answers, with their photos, are what the reporter reads.
    assign(&app, &w.sup1_token, &id, &w.town1, &w.cadre1).await;
    let photo = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(&w.cadre1_token)
        .header("content-type", "image/jpeg")
        .body(minqing_e2e::photos::jpeg(
            64,
            48,
            &minqing_e2e::photos::FixtureExif::default(),
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (step, body) in [
        ("accept", json!({})),
        ("progress", json!({"note": "已联系电工，明天上午维修"})),
        (
            "resolve",
            json!({"resolution_note": "更换了灯泡", "photo_ids": [photo]}),
        ),
    ] {
        let reply = app
            .post(&format!("/work-orders/{id}/{step}"), &w.cadre1_token, body)
            .await;
        assert_eq!(reply.status, 200, "{step}: {:?}", reply.body);
    }
    let tracked = track(&app, &code, &query_code).await.body;
    let entry = |kind: &str| {
        tracked["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {tracked}"))
            .clone()
    };
    assert_eq!(entry("progress")["note"], "已联系电工，明天上午维修");
    assert_eq!(entry("resolved")["note"], "更换了灯泡");
    assert_eq!(entry("resolved")["photo_ids"], json!([photo]));
    assert_eq!(entry("accepted")["photo_ids"], json!([]));
    let text = tracked.to_string();
    assert!(
        !text.contains("13655556666") && !text.contains("孙婆婆"),
        "{text}"
    );

    // Rating by order code and 查询码: below 60 reopens, as with the token.
    let wrong_rate = app
        .call(
            Method::POST,
            &format!("/work-orders/{code}/rate?query_code={}", wrong(&query_code)),
            None,
            Some(json!({"score": 50})),
        )
        .await;
    assert_eq!(wrong_rate.status, 404);
    let rated = app
        .call(
            Method::POST,
            &format!("/work-orders/{code}/rate?query_code={query_code}"),
            None,
            Some(json!({"score": 50, "comment": "灯还是忽明忽暗"})),
        )
        .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    assert_eq!(rated.body["status"], "reopened");
    assert_eq!(rated.body["rating"], 50);
    assert_eq!(
        rated.body["reporter_phone"], "136****6666",
        "the reporter gets no one's full phone"
    );
    let tracked = track(&app, &code, &query_code).await.body;
    assert_eq!(tracked["status"], "reopened");
    assert_eq!(tracked["rating"], 50);
    // By id as well.
    app.post(
        &format!("/work-orders/{id}/resolve"),
        &w.cadre1_token,
        json!({"resolution_note": "换了整套线路"}),
    )
    .await;
    let closed = app
        .call(
            Method::POST,
            &format!("/work-orders/{id}/rate?query_code={query_code}"),
            None,
            Some(json!({"score": 90})),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    assert_eq!(closed.body["status"], "closed");
}

#[tokio::test]
async fn wrong_query_codes_are_limited_per_order_and_per_address() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(file_anonymously(&app, &w, "13655556666").await);
    }
    let (_, code, query_code) = &orders[0];
    for _ in 0..10 {
        assert_eq!(track(&app, code, &wrong(query_code)).await.status, 404);
    }
    // The 11th try within the hour waits, even with the right 查询码, tracking or rating.
    let limited = track(&app, code, query_code).await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    assert_eq!(
        app.call(
            Method::POST,
            &format!("/work-orders/{code}/rate?query_code={query_code}"),
            None,
            Some(json!({"score": 90})),
        )
        .await
        .status,
        429
    );
    // Other orders are not held up, and right codes do not count.
    let (_, code2, query_code2) = &orders[1];
    for _ in 0..3 {
        assert_eq!(track(&app, code2, query_code2).await.status, 200);
    }
    // 30 wrong tries from one address in an hour stop it on every order.
    for (_, code, query_code) in &orders[1..3] {
        for _ in 0..10 {
            assert_eq!(track(&app, code, &wrong(query_code)).await.status, 404);
        }
    }
    let (_, code4, query_code4) = &orders[3];
    assert_eq!(track(&app, code4, query_code4).await.status, 429);
}

#[tokio::test]
async fn nobody_approves_their_own_request() {
    let app = spawn_app().await;
    let w = order_world(&app).await;
    let file = |village: String, token: String| {
        let app = &app;
        async move {
            app.post("/work-orders", &token, report(&village, CENTRE.0, CENTRE.1))
                .await
                .id()
        }
    };
    // A supervisor who works an order of their own town asks for more time…
    let id = file(w.village1.clone(), w.villager1_token.clone()).await;
    let assigned = assign(&app, &w.sup1_token, &id, &w.town1, &w.sup1).await;
    assert_eq!(assigned.status, 200, "{:?}", assigned.body);
    let accepted = app
        .post(
            &format!("/work-orders/{id}/accept"),
            &w.sup1_token,
            json!({}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    let later = (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339();
    let path = format!("/work-orders/{id}/extensions");
    let asked = app
        .post(
            &path,
            &w.sup1_token,
            json!({"due_at": later, "reason": "等配件"}),
        )
        .await;
    assert_eq!(asked.status, 201, "{:?}", asked.body);
    let decision = format!("{path}/{}/decision", asked.id());
    // …and may not grant it; the admin may.
    let own = app
        .post(&decision, &w.sup1_token, json!({"approve": true}))
        .await;
    assert_eq!(own.status, 403, "{:?}", own.body);
    let granted = app
        .post(&decision, &app.admin, json!({"approve": true}))
        .await;
    assert_eq!(granted.status, 200, "{:?}", granted.body);

    // An order of another town is no duplicate to point at: it answers as missing.
    let villager2 = app.login("13900000022", PASSWORD).await;
    let theirs = file(w.village2.clone(), villager2).await;
    let ours = file(w.village1.clone(), w.villager1_token.clone()).await;
    let code = app
        .get(&format!("/work-orders/{theirs}"), &app.admin)
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_string();
    for other in [&theirs, &code] {
        let refused = app
            .post(
                &format!("/work-orders/{ours}/reject"),
                &w.sup1_token,
                json!({"reason": "重复", "duplicate_of": other}),
            )
            .await;
        assert_eq!(
            refused.error_fields(),
            vec!["duplicate_of"],
            "{:?}",
            refused.body
        );
    }
    let status = app
        .get(&format!("/work-orders/{ours}"), &w.sup1_token)
        .await
        .body["status"]
        .clone();
    assert_eq!(status, "submitted");
}
