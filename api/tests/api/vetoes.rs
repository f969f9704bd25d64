//! 一票否决 (issue 11): the areas are a list the admin keeps; a veto counts only once a
//! second supervisor of the cadre's town approved it, and stops counting once another
//! approved its withdrawal; closed periods no longer change; lists filter and page.

use serde_json::{json, Value};

use crate::browsing;
use crate::helpers::{spawn_app, TestApp, World, PASSWORD};
use crate::scoring::{last_month, this_month};

/// One indicator worth 100 points, full with nothing to measure: every cadre scores 100 and
/// is excellent (≥ 90) unless vetoed, then good.
fn full_marks() -> Value {
    json!({"name": "一票否决考核", "cadre_category": "organ", "period": "month",
        "indicators": [{"code": "on", "name": "按期办结率", "metric": "work_orders_on_time_rate",
            "rule": "rate", "points": 100, "when_empty": "full"}]})
}

/// The town's second supervisor (孙书记, 青山镇): their id and token.
async fn second_supervisor(app: &TestApp, w: &World) -> (String, String) {
    let id = app
        .user(
            json!({"name": "孙书记", "phone": "13900000003", "role": "supervisor",
            "org_unit_id": w.town1}),
        )
        .await;
    (id, app.login("13900000003", PASSWORD).await)
}

async fn propose(app: &TestApp, token: &str, user: &str, period: &str, area: &str) -> Value {
    let reply = app
        .post(
            "/scoring/vetoes",
            token,
            json!({"user_id": user, "period": period, "area": area, "reason": "越级上访处置不力"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// The ids of a page's items.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(id_of)
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn the_areas_are_a_list_the_admin_keeps() {
    let app = spawn_app().await;
    let w = app.world().await;
    let seeded = json!([
        {"code": "family_planning", "name": "计划生育", "active": true},
        {"code": "integrity", "name": "党风廉政", "active": true},
        {"code": "public_security", "name": "社会治安", "active": true},
        {"code": "work_safety", "name": "安全生产", "active": true},
    ]);
    for token in [&app.admin, &w.sup1_token, &w.cadre1_token] {
        let list = app.get("/scoring/veto-areas", token).await;
        assert_eq!(list.status, 200, "{:?}", list.body);
        assert_eq!(list.body, json!({"items": seeded}));
    }
    assert_eq!(
        app.get("/scoring/veto-areas", &w.villager1_token)
            .await
            .status,
        403
    );

    let area = json!({"code": "petition", "name": " 信访维稳 "});
    assert_eq!(
        app.post("/scoring/veto-areas", &w.sup1_token, area.clone())
            .await
            .status,
        403
    );
    let added = app
        .post("/scoring/veto-areas", &app.admin, area.clone())
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(
        added.body,
        json!({"code": "petition", "name": "信访维稳", "active": true})
    );
    assert_eq!(
        app.post("/scoring/veto-areas", &app.admin, area)
            .await
            .status,
        409,
        "a taken code"
    );
    let bad = app
        .post(
            "/scoring/veto-areas",
            &app.admin,
            json!({"code": "Petition!", "name": "  "}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), vec!["code", "name"]);
    let long = app
        .post(
            "/scoring/veto-areas",
            &app.admin,
            json!({"code": "p", "name": "信".repeat(51)}),
        )
        .await;
    assert_eq!(long.error_fields(), vec!["code", "name"]);

    let renamed = app
        .patch(
            "/scoring/veto-areas/petition",
            &app.admin,
            json!({"name": "信访稳定"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(
        renamed.body,
        json!({"code": "petition", "name": "信访稳定", "active": true})
    );
    let retired = app
        .patch(
            "/scoring/veto-areas/petition",
            &app.admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(
        retired.body,
        json!({"code": "petition", "name": "信访稳定", "active": false})
    );
    assert_eq!(
        app.patch(
            "/scoring/veto-areas/petition",
            &w.sup1_token,
            json!({"active": true})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.patch(
            "/scoring/veto-areas/traffic",
            &app.admin,
            json!({"active": true})
        )
        .await
        .status,
        404
    );
    let empty = app
        .patch(
            "/scoring/veto-areas/petition",
            &app.admin,
            json!({"name": ""}),
        )
        .await;
    assert_eq!(empty.error_fields(), vec!["name"]);
    let list = app.get("/scoring/veto-areas", &w.cadre1_token).await.body;
    let codes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "family_planning",
            "integrity",
            "petition",
            "public_security",
            "work_safety"
        ]
    );
    assert_eq!(list["items"][2]["active"], false);
    // The labels (no database) keep the four seeded names.
    let labels = app.get("/labels?lang=zh-CN", &w.cadre1_token).await.body;
    assert_eq!(labels["labels"]["veto_area"]["integrity"], "党风廉政");
    assert_eq!(
        labels["labels"]["veto_status"]["withdrawal_requested"],
        "撤销待审批"
    );
    // Every change is on record.
    let log = app
        .get(
            "/audit?action=veto_area.save&target_id=petition",
            &app.admin,
        )
        .await;
    assert_eq!(
        log.body["items"].as_array().unwrap().len(),
        3,
        "{}",
        log.body
    );
}

#[tokio::test]
async fn a_veto_counts_from_a_second_signature_until_its_withdrawal_is_signed() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (l, l_token) = second_supervisor(&app, &w).await;
    let month = this_month();
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, full_marks())
            .await
            .status,
        201
    );
    let added = app
        .post(
            "/scoring/veto-areas",
            &app.admin,
            json!({"code": "petition", "name": "信访维稳"}),
        )
        .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let score = |token: String| {
        let app = &app;
        let path = format!("/scores/{}?period={month}", w.cadre1);
        async move {
            let reply = app.get(&path, &token).await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            reply.body
        }
    };
    let before = score(w.sup1_token.clone()).await;
    assert_eq!(
        (before["total"].clone(), before["grade"].clone()),
        (json!(100.0), json!("excellent"))
    );

    // Proposed: pending, not counted.
    let cadre_may_not = app
        .post(
            "/scoring/vetoes",
            &w.cadre1_token,
            json!({"user_id": w.cadre1, "period": month, "area": "petition", "reason": "x"}),
        )
        .await;
    assert_eq!(cadre_may_not.status, 403);
    let other_town = app
        .post(
            "/scoring/vetoes",
            &w.sup2_token,
            json!({"user_id": w.cadre1, "period": month, "area": "petition", "reason": "x"}),
        )
        .await;
    assert_eq!(other_town.status, 404, "another town's cadre");
    let veto = propose(&app, &w.sup1_token, &w.cadre1, &month, "petition").await;
    let id = id_of(&veto);
    assert_eq!(veto["status"], "pending");
    assert_eq!(veto["area"], "petition");
    assert_eq!(veto["area_name"], "信访维稳");
    assert_eq!(veto["created_by"], w.sup1.as_str());
    assert_eq!(veto["approved_by"], Value::Null);
    let pending = score(w.sup1_token.clone()).await;
    assert_eq!(pending["veto"], false);
    assert_eq!(pending["veto_areas"], json!([]));
    assert_eq!(pending["grade"], "excellent");
    assert_eq!(pending["flags"], json!([]));
    assert_eq!(
        pending["veto_items"],
        json!([{"area": "petition", "area_name": "信访维稳", "reason": "越级上访处置不力", "status": "pending"}])
    );

    // The second signature: not the proposer, not another town, not a cadre.
    let approve = format!("/scoring/vetoes/{id}/approve");
    assert_eq!(
        app.post(&approve, &w.sup1_token, json!({})).await.status,
        403,
        "not one's own"
    );
    assert_eq!(
        app.post(&approve, &w.sup2_token, json!({})).await.status,
        404,
        "not another town's"
    );
    assert_eq!(
        app.post(&approve, &w.cadre1_token, json!({})).await.status,
        403
    );
    assert_eq!(
        app.post(&approve, &w.villager1_token, json!({}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("/scoring/vetoes/no-such-veto/approve", &l_token, json!({}))
            .await
            .status,
        404
    );
    let approved = app.post(&approve, &l_token, json!({})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["approved_by"], l.as_str());
    assert!(approved.body["approved_at"].is_string());
    assert_eq!(app.post(&approve, &l_token, json!({})).await.status, 409);
    assert_eq!(
        app.post(&approve, &w.sup1_token, json!({})).await.status,
        409
    );

    // Counted: the total stands, excellent is barred, the area shows by its name.
    let vetoed = score(w.cadre1_token.clone()).await;
    assert_eq!(vetoed["veto"], true);
    assert_eq!(vetoed["veto_areas"], json!(["petition"]));
    assert_eq!(vetoed["total"], 100.0);
    assert_eq!(vetoed["grade"], "good", "never excellent");
    assert_eq!(vetoed["flags"], json!(["veto"]));
    assert_eq!(vetoed["veto_items"][0]["area_name"], "信访维稳");
    assert_eq!(vetoed["veto_items"][0]["status"], "approved");
    let ranking = app
        .get(
            &format!("/scores?period={month}&category=organ"),
            &w.sup1_token,
        )
        .await
        .body;
    assert_eq!(ranking["items"][0]["user_id"], w.cadre1.as_str());
    assert_eq!(ranking["items"][0]["veto"], true);
    assert_eq!(ranking["items"][0]["grade"], "good");
    // The desk names the area as stored, with the veto's status.
    let cookie = browsing::sign_in(&app, "13900000001", PASSWORD).await;
    let opened = browsing::get(
        &app,
        Some(&cookie),
        &format!(
            "/desk/scores?period={month}&category=organ&open={}",
            w.cadre1
        ),
    )
    .await;
    assert_eq!(opened.status, 200);
    let desk = String::from_utf8(opened.body).unwrap();
    assert!(
        desk.contains("信访维稳（已生效）：越级上访处置不力"),
        "{desk}"
    );

    // Withdrawal: asked for with a reason by a supervisor of the town, signed by another.
    let withdraw = format!("/scoring/vetoes/{id}/withdrawal");
    let reason = json!({"reason": "经复核，上访事件已妥善化解"});
    assert_eq!(
        app.post(&withdraw, &w.sup2_token, reason.clone())
            .await
            .status,
        404
    );
    assert_eq!(
        app.post(&withdraw, &w.cadre1_token, reason.clone())
            .await
            .status,
        403
    );
    let no_reason = app
        .post(&withdraw, &w.sup1_token, json!({"reason": " "}))
        .await;
    assert_eq!(no_reason.error_fields(), vec!["reason"]);
    let asked = app.post(&withdraw, &w.sup1_token, reason.clone()).await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    assert_eq!(asked.body["status"], "withdrawal_requested");
    assert_eq!(asked.body["withdrawal_requested_by"], w.sup1.as_str());
    assert_eq!(
        asked.body["withdrawal_reason"],
        "经复核，上访事件已妥善化解"
    );
    assert_eq!(
        app.post(&withdraw, &l_token, reason.clone()).await.status,
        409,
        "asked for already"
    );
    let still = score(w.sup1_token.clone()).await;
    assert_eq!(
        still["veto"], true,
        "counted until the withdrawal is signed"
    );
    assert_eq!(still["veto_items"][0]["status"], "withdrawal_requested");
    let sign = format!("/scoring/vetoes/{id}/withdrawal/approve");
    assert_eq!(
        app.post(&sign, &w.sup1_token, json!({})).await.status,
        403,
        "not who asked"
    );
    assert_eq!(app.post(&sign, &w.sup2_token, json!({})).await.status, 404);
    let withdrawn = app.post(&sign, &l_token, json!({})).await;
    assert_eq!(withdrawn.status, 200, "{:?}", withdrawn.body);
    assert_eq!(withdrawn.body["status"], "withdrawn");
    assert_eq!(withdrawn.body["withdrawn_by"], l.as_str());
    assert_eq!(app.post(&sign, &l_token, json!({})).await.status, 409);
    assert_eq!(app.post(&approve, &l_token, json!({})).await.status, 409);
    assert_eq!(app.post(&withdraw, &w.sup1_token, reason).await.status, 409);
    let after = score(w.sup1_token.clone()).await;
    assert_eq!(after["veto"], false);
    assert_eq!(after["veto_areas"], json!([]));
    assert_eq!(after["grade"], "excellent");
    assert_eq!(after["veto_items"], Value::Null, "withdrawn: gone");

    // Every step is on record, newest first.
    let log = app
        .get(&format!("/audit?target_id={id}"), &app.admin)
        .await
        .body;
    let steps: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("veto.withdraw", "孙书记"),
            ("veto.withdrawal_request", "周敏"),
            ("veto.approve", "孙书记"),
            ("veto.propose", "周敏"),
        ]
    );
}

#[tokio::test]
async fn a_closed_period_takes_no_vetoes_and_no_signatures() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, l_token) = second_supervisor(&app, &w).await;
    let (period, _) = last_month();
    let pending = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &period, "work_safety").await);
    let approved = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &period, "integrity").await);
    let asked = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &period, "public_security").await);
    for id in [&approved, &asked] {
        let signed = app
            .post(
                &format!("/scoring/vetoes/{id}/approve"),
                &l_token,
                json!({}),
            )
            .await;
        assert_eq!(signed.status, 200, "{:?}", signed.body);
    }
    let reason = json!({"reason": "复核不属实"});
    assert_eq!(
        app.post(
            &format!("/scoring/vetoes/{asked}/withdrawal"),
            &w.sup1_token,
            reason.clone()
        )
        .await
        .status,
        200
    );
    let closed = app
        .post(
            &format!("/scoring/periods/{period}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);

    let refused = app
        .post(
            "/scoring/vetoes",
            &w.sup1_token,
            json!({"user_id": w.cadre1, "period": period, "area": "work_safety", "reason": "晚了"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("is closed"),
        "{:?}",
        refused.body
    );
    let steps = [
        (format!("/scoring/vetoes/{pending}/approve"), json!({})),
        (format!("/scoring/vetoes/{approved}/withdrawal"), reason),
        (
            format!("/scoring/vetoes/{asked}/withdrawal/approve"),
            json!({}),
        ),
    ];
    for (path, body) in steps {
        let reply = app.post(&path, &l_token, body).await;
        assert_eq!(reply.status, 409, "{path}: {:?}", reply.body);
    }
    // Nothing moved.
    let listed = app
        .get(&format!("/scoring/vetoes?period={period}"), &w.sup1_token)
        .await
        .body;
    let statuses: Vec<(String, String)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (id_of(v), v["status"].as_str().unwrap().to_string()))
        .collect();
    let mut expected = vec![
        (pending, "pending".to_string()),
        (approved, "approved".to_string()),
        (asked, "withdrawal_requested".to_string()),
    ];
    expected.sort();
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn vetoes_are_listed_by_reach_filtered_and_paged() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, l_token) = second_supervisor(&app, &w).await;
    let month = this_month();
    let (last, _) = last_month();
    let v1 = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &month, "work_safety").await);
    let v2 = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &month, "integrity").await);
    let v3 = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &month, "family_planning").await);
    let v4 = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &last, "work_safety").await);
    let v5 = id_of(&propose(&app, &w.sup2_token, &w.cadre2, &month, "public_security").await);
    for id in [&v2, &v3] {
        let path = format!("/scoring/vetoes/{id}/approve");
        assert_eq!(app.post(&path, &l_token, json!({})).await.status, 200);
    }
    let path = format!("/scoring/vetoes/{v3}/withdrawal");
    let asked = app
        .post(&path, &l_token, json!({"reason": "重复报送"}))
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);

    let list = |query: &str, token: &str| {
        let app = &app;
        let path = format!("/scoring/vetoes{query}");
        let token = token.to_string();
        async move {
            let reply = app.get(&path, &token).await;
            assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
            reply.body
        }
    };
    let town1 = sorted(vec![v1.clone(), v2.clone(), v3.clone(), v4.clone()]);
    let everyone = sorted(vec![
        v1.clone(),
        v2.clone(),
        v3.clone(),
        v4.clone(),
        v5.clone(),
    ]);
    // Who sees what: the admin all, a supervisor their town, a cadre their own.
    assert_eq!(ids(&list("", &app.admin).await), everyone);
    assert_eq!(ids(&list("", &w.sup1_token).await), town1);
    assert_eq!(ids(&list("", &w.sup2_token).await), vec![v5.clone()]);
    assert_eq!(ids(&list("", &w.cadre1_token).await), town1);
    assert_eq!(
        ids(&list(&format!("?user_id={}", w.cadre2), &w.cadre1_token).await),
        Vec::<String>::new(),
        "not another's"
    );
    assert_eq!(
        ids(&list(&format!("?user_id={}", w.cadre1), &w.sup2_token).await),
        Vec::<String>::new(),
        "not another town's"
    );
    assert_eq!(
        app.get("/scoring/vetoes", &w.villager1_token).await.status,
        403
    );
    // Filters.
    assert_eq!(
        ids(&list(&format!("?user_id={}", w.cadre2), &app.admin).await),
        vec![v5.clone()]
    );
    assert_eq!(
        ids(&list(&format!("?period={month}"), &w.sup1_token).await),
        sorted(vec![v1.clone(), v2.clone(), v3.clone()])
    );
    assert_eq!(
        ids(&list(&format!("?period={last}"), &w.sup1_token).await),
        vec![v4.clone()]
    );
    assert_eq!(
        ids(&list("?status=pending", &w.sup1_token).await),
        sorted(vec![v1.clone(), v4.clone()])
    );
    assert_eq!(
        ids(&list("?status=approved", &w.sup1_token).await),
        vec![v2.clone()]
    );
    assert_eq!(
        ids(&list("?status=withdrawal_requested", &w.sup1_token).await),
        vec![v3.clone()]
    );
    assert_eq!(
        ids(&list("?status=withdrawn", &app.admin).await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&list(&format!("?status=pending&period={month}"), &app.admin).await),
        sorted(vec![v1.clone(), v5.clone()])
    );
    let one = list(&format!("?period={month}&status=approved"), &w.cadre1_token).await;
    assert_eq!(one["items"][0]["area_name"], "党风廉政");
    assert_eq!(one["items"][0]["user_id"], w.cadre1.as_str());
    // Pages of two, keyset by id.
    let first = list("?limit=2", &w.sup1_token).await;
    assert_eq!(ids(&first), town1[..2]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = list(&format!("?limit=2&cursor={cursor}"), &w.sup1_token).await;
    assert_eq!(ids(&second), town1[2..]);
    assert_eq!(second["next_cursor"], Value::Null);
    // Refused queries.
    for query in [
        "?limit=0",
        "?status=cancelled",
        "?period=2026-13",
        "?cursor=%21",
    ] {
        let reply = app
            .get(&format!("/scoring/vetoes{query}"), &w.sup1_token)
            .await;
        assert_eq!(reply.status, 422, "{query}: {:?}", reply.body);
    }
}

#[tokio::test]
async fn only_an_active_area_of_the_list_takes_a_veto() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, l_token) = second_supervisor(&app, &w).await;
    let month = this_month();
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, full_marks())
            .await
            .status,
        201
    );
    let veto =
        |area: &str| json!({"user_id": w.cadre1, "period": month, "area": area, "reason": "事故"});
    // A veto made in an area that is then retired keeps it and still counts.
    let made = id_of(&propose(&app, &w.sup1_token, &w.cadre1, &month, "work_safety").await);
    let path = format!("/scoring/vetoes/{made}/approve");
    assert_eq!(app.post(&path, &l_token, json!({})).await.status, 200);
    for code in ["integrity", "work_safety"] {
        let retired = app
            .patch(
                &format!("/scoring/veto-areas/{code}"),
                &app.admin,
                json!({"active": false}),
            )
            .await;
        assert_eq!(retired.status, 200, "{:?}", retired.body);
    }
    for area in ["integrity", "traffic", "Work Safety", ""] {
        let refused = app.post("/scoring/vetoes", &w.sup1_token, veto(area)).await;
        assert_eq!(refused.status, 422, "{area}: {:?}", refused.body);
        assert_eq!(refused.error_fields(), vec!["area"], "{area}");
    }
    let all_wrong = app
        .post(
            "/scoring/vetoes",
            &w.sup1_token,
            json!({"user_id": w.cadre1, "period": "2026-13", "area": "integrity", "reason": " "}),
        )
        .await;
    assert_eq!(all_wrong.error_fields(), vec!["period", "area", "reason"]);
    let score = app
        .get(
            &format!("/scores/{}?period={month}", w.cadre1),
            &w.sup1_token,
        )
        .await
        .body;
    assert_eq!(score["veto"], true);
    assert_eq!(score["grade"], "good");
    assert_eq!(score["veto_items"][0]["area_name"], "安全生产");
    // Brought back, it takes vetoes again.
    let back = app
        .patch(
            "/scoring/veto-areas/integrity",
            &app.admin,
            json!({"active": true}),
        )
        .await;
    assert_eq!(back.body["active"], true);
    let again = app
        .post("/scoring/vetoes", &w.sup1_token, veto("integrity"))
        .await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(again.body["status"], "pending");
}
