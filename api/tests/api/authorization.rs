//! Every endpoint × every role, on records of the supervisor's own town and of another town.
//! Roles that may never act get 403; records outside a supervisor's subtree answer 404.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::clock::{at, last_night};
use crate::helpers::{allow_loopback, checkin, spawn_app, spawn_app_with, square, PASSWORD};

const ACTORS: [&str; 6] = [
    "admin",
    "supervisor (own town)",
    "supervisor (other town)",
    "cadre",
    "villager",
    "anonymous",
];

#[tokio::test]
async fn every_endpoint_for_every_role() {
    // Its webhooks name a loopback target, refused unless MINQING_OUTBOUND_ALLOW lists it.
    let app = spawn_app_with(allow_loopback).await;
    let w = app.checkin_world().await;
    // A flagged check-in of town 1 (outside the village) to read and review.
    let night = last_night();
    let flagged = checkin(
        "night_visit",
        &w.village1,
        29.2,
        119.65,
        &at(night, 0, 20, 0),
    );
    let flagged_id = flagged["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post("/checkins", &w.cadre1_token, flagged).await.body["status"],
        "flagged"
    );
    let tokens: [Option<&str>; 6] = [
        Some(&app.admin),
        Some(&w.sup1_token),
        Some(&w.sup2_token),
        Some(&w.cadre1_token),
        Some(&w.villager1_token),
        None,
    ];
    let webhook = app
        .post(
            "/webhooks",
            &app.admin,
            json!({"url": "http://127.0.0.1:9/hook", "secret": "a-receiver-secret-0123", "events": ["*"]}),
        )
        .await
        .id();
    // Scoring: a colleague of the town's cadre to rate, an adjustment the admin proposed (so
    // that a supervisor may approve it), a scheme to read and replace.
    let colleague = app
        .user(json!({"name": "同事", "phone": "13700000099", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "organ"}))
        .await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let proposed = app
        .post(
            "/scoring/adjustments",
            &app.admin,
            json!({"user_id": w.cadre1, "period": month, "points": 1, "reason": "表彰"}),
        )
        .await
        .id();
    // Vetoes the admin proposed (so that a supervisor may sign them): one pending, one
    // approved by the town's supervisor, one whose withdrawal the admin then asked for.
    let veto =
        |area: &str| json!({"user_id": w.cadre1, "period": month, "area": area, "reason": "违纪"});
    let pending_veto = app
        .post("/scoring/vetoes", &app.admin, veto("integrity"))
        .await
        .id();
    let mut signed_vetoes = Vec::new();
    for area in ["work_safety", "public_security"] {
        let id = app
            .post("/scoring/vetoes", &app.admin, veto(area))
            .await
            .id();
        let approve = format!("/scoring/vetoes/{id}/approve");
        assert_eq!(
            app.post(&approve, &w.sup1_token, json!({})).await.status,
            200
        );
        signed_vetoes.push(id);
    }
    let (approved_veto, asked_veto) = (signed_vetoes[0].clone(), signed_vetoes[1].clone());
    let withdrawal = json!({"reason": "复核不属实"});
    let asked = app
        .post(
            &format!("/scoring/vetoes/{asked_veto}/withdrawal"),
            &app.admin,
            withdrawal.clone(),
        )
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    let scheme_body = json!({"name": "考核", "cadre_category": "organ", "period": "month",
        "indicators": [{"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 8, "points": 100},
            {"code": "zdgz", "name": "重点工作", "metric": "manual", "rule": "ratio_to_target", "target": 100, "points": 80}]});
    let scheme = app
        .post("/scoring/schemes", &app.admin, scheme_body.clone())
        .await
        .id();
    // A manual value the admin entered for the colleague, for a supervisor to sign off.
    let manual_value = |user: &str| json!({"user_id": user, "period": month, "code": "zdgz", "value": 50, "reason": "重点工作"});
    let entered = app
        .put(
            "/scoring/manual-values",
            &app.admin,
            manual_value(&colleague),
        )
        .await
        .id();
    let town1 = w.town1.clone();
    let new_cadre = move |i: usize| {
        json!({"name": "新人", "phone": format!("1370000000{i}"), "role": "cadre",
        "org_unit_id": town1, "cadre_category": "organ", "password": PASSWORD})
    };
    let village_code = app
        .get(&format!("/org-units/{}", w.village1), &app.admin)
        .await
        .body["code"]
        .as_str()
        .expect("a village code")
        .to_string();
    // An order cadre 1 resolved on the spot, for a supervisor of town 1 to confirm.
    let category =
        json!({"code": "spot", "name": "当场", "group": "组", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    let on_spot = app
        .post(
            "/work-orders",
            &w.cadre1_token,
            json!({"category": "spot", "title": "路灯", "description": "村口", "village_id": w.village1,
                "source": "visit", "reporter_name": "钱大伯", "resolved_on_spot": true, "resolution_note": "修好"}),
        )
        .await
        .id();
    // A 夜学 of town 1 that cadre 1 organised, and cadre 1's log of today.
    let session_body = json!({"kind": "night_study", "place_id": w.village1, "topic": "夜学",
        "starts_at": at(night, 0, 19, 30)});
    let session = app
        .post("/sessions", &w.cadre1_token, session_body.clone())
        .await
        .id();
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let log_body =
        json!({"date": today, "content": "走访三户村民，了解冬季取暖与用水情况并登记工单。"});
    let log = app
        .post("/work-logs", &w.cadre1_token, log_body.clone())
        .await
        .id();
    type Body = Box<dyn Fn(usize) -> Option<Value>>;
    let none: fn(usize) -> Option<Value> = |_| None;
    let cases: Vec<(Method, String, Body, [u16; 6])> = vec![
        (
            Method::GET,
            "/org-units".into(),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::POST,
            "/org-units".into(),
            Box::new({
                let c = w.county.clone();
                move |_| Some(json!({"name": "新镇", "kind": "town", "parent_id": c}))
            }),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/org-units/{}", w.village1),
            Box::new(none),
            [200, 200, 404, 403, 403, 401],
        ),
        (
            Method::PATCH,
            format!("/org-units/{}", w.village1),
            Box::new(|_| Some(json!({"name": "溪口村"}))),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            format!("/villages/{}/boundary", w.village1),
            Box::new(|_| Some(square(119.65, 29.08, 0.01))),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/users".into(),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::POST,
            "/users".into(),
            Box::new(move |i| Some(new_cadre(i))),
            [201, 201, 422, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/users/{}", w.cadre1),
            Box::new(none),
            [200, 200, 404, 403, 403, 401],
        ),
        (
            Method::PATCH,
            format!("/users/{}", w.cadre1),
            Box::new(|_| Some(json!({"name": "李明"}))),
            [200, 200, 404, 403, 403, 401],
        ),
        (
            Method::PUT,
            format!("/users/{}/villages", w.cadre1),
            Box::new({
                let v = w.village1.clone();
                move |_| Some(json!({"village_ids": [v]}))
            }),
            [200, 200, 404, 403, 403, 401],
        ),
        (
            Method::GET,
            "/labels?lang=zh-CN".into(),
            Box::new(none),
            [200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/me".into(),
            Box::new(none),
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            "/checkins".into(),
            Box::new({
                let v = w.village1.clone();
                move |i| {
                    Some(checkin(
                        "work_log",
                        &v,
                        29.08,
                        119.65,
                        &at(night, 0, 21, i as u32),
                    ))
                }
            }),
            [403, 403, 403, 201, 403, 401],
        ),
        (
            Method::POST,
            "/checkins/batch".into(),
            Box::new(|_| Some(json!([]))),
            [403, 403, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            "/checkins".into(),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/checkins/{flagged_id}"),
            Box::new(none),
            [200, 200, 404, 200, 403, 401],
        ),
        // The admin decides first; the town's supervisor then finds it decided (409).
        (
            Method::POST,
            format!("/checkins/{flagged_id}/review"),
            Box::new(|_| Some(json!({"decision": "approve", "reason": "已核实"}))),
            [200, 409, 404, 403, 403, 401],
        ),
        (
            Method::GET,
            "/stays".into(),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            "/media".into(),
            Box::new(|_| Some(json!({}))),
            [415, 415, 415, 415, 415, 401],
        ),
        (
            Method::GET,
            format!("/media/{}", uuid::Uuid::nil()),
            Box::new(none),
            [404, 404, 404, 404, 404, 401],
        ),
        (
            Method::GET,
            "/categories".into(),
            Box::new(none),
            [200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/public/villages/{village_code}"),
            Box::new(none),
            [200, 200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/categories".into(),
            Box::new(|i| {
                Some(
                    json!({"code": format!("c{i}"), "name": "类别", "group": "组", "default_due_working_days": 3}),
                )
            }),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            "/calendar/2026".into(),
            Box::new(|_| Some(json!({"holidays": ["2026-10-01"], "workdays": []}))),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/calendar/2026".into(),
            Box::new(none),
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            "/work-orders".into(),
            Box::new(none),
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            format!("/work-orders/{on_spot}/confirm"),
            Box::new(none),
            [200, 200, 404, 404, 404, 401],
        ),
        (
            Method::GET,
            "/compliance".into(),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::GET,
            "/webhooks".into(),
            Box::new(none),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "/webhooks".into(),
            Box::new(|_| {
                Some(
                    json!({"url": "http://127.0.0.1:9/hook", "secret": "a-receiver-secret-0123", "events": ["*"]}),
                )
            }),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            Method::PATCH,
            format!("/webhooks/{webhook}"),
            Box::new(|_| Some(json!({"active": true}))),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/scoring/schemes".into(),
            Box::new(none),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "/scoring/schemes".into(),
            Box::new({
                let body = scheme_body.clone();
                move |_| Some(body.clone())
            }),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scoring/schemes/{scheme}"),
            Box::new(none),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            format!("/scoring/schemes/{scheme}"),
            Box::new({
                let body = scheme_body.clone();
                move |_| Some(body.clone())
            }),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            "/scoring/ratings".into(),
            Box::new({
                let (month, colleague) = (month.clone(), colleague.clone());
                move |_| Some(json!({"period": month, "ratee_id": colleague, "score": 80}))
            }),
            [403, 200, 404, 200, 403, 401],
        ),
        (
            Method::PUT,
            "/scoring/recusals".into(),
            Box::new({
                let (cadre, colleague) = (w.cadre1.clone(), colleague.clone());
                move |_| Some(json!({"rater_id": cadre, "ratee_id": colleague, "reason": "亲属"}))
            }),
            [200, 200, 404, 403, 403, 401],
        ),
        (
            Method::POST,
            "/scoring/adjustments".into(),
            Box::new({
                let (month, cadre) = (month.clone(), w.cadre1.clone());
                move |_| {
                    Some(json!({"user_id": cadre, "period": month, "points": -1, "reason": "迟到"}))
                }
            }),
            [201, 201, 404, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scoring/adjustments?period={month}&pending=true"),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::POST,
            format!("/scoring/adjustments/{proposed}/approve"),
            Box::new(none),
            [403, 200, 404, 403, 403, 401],
        ),
        (
            Method::PUT,
            "/scoring/manual-values".into(),
            Box::new({
                let body = manual_value(&w.cadre1);
                move |_| Some(body.clone())
            }),
            [200, 200, 404, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scoring/manual-values?period={month}&status=pending"),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            format!("/scoring/manual-values/{entered}/approve"),
            Box::new(none),
            [403, 200, 404, 403, 403, 401],
        ),
        (
            Method::POST,
            "/scoring/vetoes".into(),
            Box::new({
                let (month, cadre) = (month.clone(), w.cadre1.clone());
                move |_| {
                    Some(
                        json!({"user_id": cadre, "period": month, "area": "integrity", "reason": "违纪"}),
                    )
                }
            }),
            [201, 201, 404, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scoring/vetoes?period={month}&status=pending"),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        // The admin proposed it: the town's supervisor signs; then it is approved already.
        (
            Method::POST,
            format!("/scoring/vetoes/{pending_veto}/approve"),
            Box::new(none),
            [403, 200, 404, 403, 403, 401],
        ),
        // The admin asks first; the town's supervisor then finds it asked for (409).
        (
            Method::POST,
            format!("/scoring/vetoes/{approved_veto}/withdrawal"),
            Box::new(move |_| Some(withdrawal.clone())),
            [200, 409, 404, 403, 403, 401],
        ),
        // The admin asked: the town's supervisor signs.
        (
            Method::POST,
            format!("/scoring/vetoes/{asked_veto}/withdrawal/approve"),
            Box::new(none),
            [403, 200, 404, 403, 403, 401],
        ),
        (
            Method::GET,
            "/scoring/veto-areas".into(),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            "/scoring/veto-areas".into(),
            Box::new(|i| Some(json!({"code": format!("area{i}"), "name": "信访维稳"}))),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            Method::PATCH,
            "/scoring/veto-areas/integrity".into(),
            Box::new(|_| Some(json!({"name": "党风廉政"}))),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scores?period={month}&category=organ"),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scores/export?period={month}&category=organ"),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scores/units?period={month}&category=organ"),
            Box::new(none),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/scoring/rating-tasks?period={month}"),
            Box::new(none),
            [403, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/scores/{}?period={month}", w.cadre1),
            Box::new(none),
            [200, 200, 404, 200, 403, 401],
        ),
        (
            Method::POST,
            "/scoring/periods/2020-01/close".into(),
            Box::new(none),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/records".into(),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            "/records/no-such-record/rectify".into(),
            Box::new(|_| Some(json!({"evidence": "已整改"}))),
            [403, 404, 404, 404, 403, 401],
        ),
        (
            Method::POST,
            "/records/no-such-record/verify".into(),
            Box::new(|_| Some(json!({"approve": true, "note": "属实"}))),
            [403, 404, 404, 403, 403, 401],
        ),
        (
            Method::POST,
            "/sessions".into(),
            Box::new(move |_| Some(session_body.clone())),
            [403, 201, 422, 201, 403, 401],
        ),
        (
            Method::GET,
            "/sessions".into(),
            Box::new(none),
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/sessions/{session}"),
            Box::new(none),
            [200, 200, 404, 200, 403, 401],
        ),
        (
            Method::PATCH,
            format!("/sessions/{session}"),
            Box::new(|_| Some(json!({"minutes": "学习了县里的文件"}))),
            [403, 200, 404, 200, 403, 401],
        ),
        (
            Method::POST,
            "/work-logs".into(),
            Box::new(move |_| Some(log_body.clone())),
            [403, 403, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/work-logs?user_id={}", w.cadre1),
            Box::new(none),
            [200, 200, 404, 200, 403, 401],
        ),
        (
            Method::POST,
            format!("/work-logs/{log}/comments"),
            Box::new(|_| Some(json!({"text": "已阅"}))),
            [403, 201, 404, 403, 403, 401],
        ),
        (
            Method::PUT,
            format!("/org-units/{}/boundary", w.town1),
            Box::new(|_| Some(json!({"center": {"lat": 29.08, "lon": 119.7}, "radius_m": 300}))),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/audit".into(),
            Box::new(none),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "/auth/logout".into(),
            Box::new(|_| Some(json!({"refresh_token": "unknown"}))),
            [204, 204, 204, 204, 204, 401],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in &cases {
        for (i, token) in tokens.iter().enumerate() {
            let reply = app.call(method.clone(), path, *token, body(i)).await;
            if reply.status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {}: expected {}, got {} {:?}",
                    ACTORS[i], expected[i], reply.status, reply.body
                ));
            }
        }
    }
    // The CSV import takes text/csv: the other town's supervisor is told the phone is not of
    // a cadre of theirs (they cannot tell it from a stranger's).
    let import = format!(
        "{}/scoring/manual-values/import?period={month}&code=zdgz",
        app.base
    );
    for (i, token) in tokens.iter().enumerate() {
        let mut request = app
            .client
            .post(&import)
            .header("content-type", "text/csv")
            .body("phone,value,reason\n13900000011,60,重点工作\n");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let status = request
            .send()
            .await
            .expect("the server answers")
            .status()
            .as_u16();
        let expected = [200, 200, 422, 403, 403, 401][i];
        if status != expected {
            failures.push(format!(
                "POST {import} as {}: expected {expected}, got {status}",
                ACTORS[i]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_supervisor_cannot_tell_other_towns_records_from_missing_ones() {
    let app = spawn_app().await;
    let w = app.world().await;
    let other = app
        .get(&format!("/users/{}", w.cadre2), &w.sup1_token)
        .await;
    let missing = app.get("/users/does-not-exist", &w.sup1_token).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.body["detail"], missing.body["detail"]);
    let admin = app.get("/me", &app.admin).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/users/{admin}"), &w.sup1_token)
            .await
            .status,
        404
    );
    let units = app.get("/org-units", &w.sup1_token).await;
    let ids: Vec<&str> = units.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![w.town1.as_str(), w.village1.as_str()]);
}
