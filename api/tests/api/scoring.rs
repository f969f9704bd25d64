//! Performance scoring, end to end: a town built through the API with known check-ins,
//! orders, ratings, adjustments and a veto; every total, rank and line to the hundredth,
//! then the period closed, frozen, and its records rectified.

use std::time::{Duration as Wait, Instant};

use chrono::{Datelike, Duration, NaiveDate, Utc};
use minqing_e2e::photos::{jpeg, FixtureExif};
use serde_json::{json, Value};

use crate::helpers::clock::at;
use crate::helpers::{checkin, spawn_app, TestApp, World, CENTRE, PASSWORD};

fn scheme() -> Value {
    json!({"name": "青山镇机关干部月度考核", "cadre_category": "organ", "period": "month",
        "indicators": [
            {"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 4, "points": 40},
            {"code": "st", "name": "住夜", "metric": "stays", "rule": "per_item", "points": 10, "cap": 20},
            {"code": "on", "name": "按期办结率", "metric": "work_orders_on_time_rate", "rule": "rate", "points": 20, "when_empty": "zero"},
            {"code": "od", "name": "超期工单", "metric": "work_orders_overdue", "rule": "deduct_per_item", "points": 2, "cap": 10},
            {"code": "rj", "name": "被驳回打卡", "metric": "rejected_checkins", "rule": "deduct_per_item", "points": 1, "cap": 5}],
        "democratic": {"weight": 0.2, "rater_weights": {"leadership": 0.4, "middle": 0.3, "established": 0.2, "non_established": 0.1}},
        "consequences": {"achievement_top": 1, "problem_bottom": 1, "statement_bottom": 1, "rectify_quarters": 1},
        "grades": {"excellent": 65, "good": 50, "pass": 30}})
}

/// Last month (`YYYY-MM`) and its first day, in Shanghai.
pub fn last_month() -> (String, NaiveDate) {
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let first_this = today.with_day(1).unwrap();
    let first_last = (first_this - Duration::days(1)).with_day(1).unwrap();
    (first_last.format("%Y-%m").to_string(), first_last)
}

pub fn this_month() -> String {
    (Utc::now() + Duration::hours(8))
        .date_naive()
        .format("%Y-%m")
        .to_string()
}

/// Posts a check-in of `kind` at `night` `hh:mm` (+`days`) and has the supervisor decide it
/// when it was flagged (check-ins of last month arrive late, so they are).
async fn checked_in(
    app: &TestApp,
    token: &str,
    w: &World,
    kind: &str,
    (night, days, hh, mm): (NaiveDate, i64, u32, u32),
    decision: &str,
) -> String {
    let body = checkin(
        kind,
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night, days, hh, mm),
    );
    let reply = app.post("/checkins", token, body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let id = reply.id();
    if reply.body["status"] == "flagged" || decision == "reject" {
        let decided = app
            .post(
                &format!("/checkins/{id}/review"),
                &w.sup1_token,
                json!({"decision": decision, "reason": "已核实"}),
            )
            .await;
        assert_eq!(decided.status, 200, "{:?}", decided.body);
    }
    id
}

pub fn row<'a>(page: &'a Value, user: &str) -> &'a Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_id"] == user)
        .unwrap_or_else(|| panic!("no row for {user} in {page}"))
}

fn lines(row: &Value) -> Vec<(String, f64)> {
    row["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_string(),
                l["points"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn line(row: &Value, code: &str) -> Value {
    row["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_town_is_scored_ranked_closed_and_rectified() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    // The town's organ cadres A (李明, from the fixture), B and C, and a second supervisor L.
    let a = w.cadre1.clone();
    let b = app
        .user(
            json!({"name": "王芳", "phone": "13900000013", "role": "cadre", "org_unit_id": w.town1,
        "cadre_category": "organ", "rater_group": "non_established"}),
        )
        .await;
    let c = app
        .user(
            json!({"name": "张伟", "phone": "13900000014", "role": "cadre", "org_unit_id": w.town1,
        "cadre_category": "organ", "rater_group": "middle"}),
        )
        .await;
    let l = app.user(json!({"name": "孙书记", "phone": "13900000003", "role": "supervisor", "org_unit_id": w.town1,
        "rater_group": "leadership"})).await;
    for cadre in [&b, &c] {
        let villages = json!({"village_ids": [w.village1]});
        assert_eq!(
            app.put(&format!("/users/{cadre}/villages"), &app.admin, villages)
                .await
                .status,
            200
        );
    }
    let (b_token, c_token) = (
        app.login("13900000013", PASSWORD).await,
        app.login("13900000014", PASSWORD).await,
    );
    let l_token = app.login("13900000003", PASSWORD).await;

    // Schemes: checked field by field; the town's scheme becomes the active organ/month one.
    let mut bad = scheme();
    bad["indicators"][0]["metric"] = json!("night_walks");
    bad["indicators"][1]["points"] = json!("10");
    let refused = app.post("/scoring/schemes", &app.admin, bad).await;
    assert_eq!(refused.status, 422);
    let fields = refused.error_fields();
    assert!(
        fields.contains(&"indicators[0].metric".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"indicators[1].points".to_string()),
        "{fields:?}"
    );
    assert_eq!(
        app.post("/scoring/schemes", &w.sup1_token, scheme())
            .await
            .status,
        403
    );
    let created = app.post("/scoring/schemes", &app.admin, scheme()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let scheme_id = created.id();
    assert_eq!(created.body["version"], 1);
    let schemes = app.get("/scoring/schemes", &app.admin).await.body;
    let organ_month: Vec<&Value> = schemes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["scheme"]["cadre_category"] == "organ"
                && s["scheme"]["period"] == "month"
                && s["active"] == true
        })
        .collect();
    assert_eq!(
        organ_month.len(),
        1,
        "one active scheme per category and period kind"
    );
    assert_eq!(organ_month[0]["id"], scheme_id.as_str());

    // Last month's field work, synced late and approved by the supervisor.
    let (period, first) = last_month();
    let night = |n: i64| first + Duration::days(n);
    let a_token = w.cadre1_token.clone();
    for n in 0..5 {
        checked_in(
            &app,
            &a_token,
            &w,
            "night_visit",
            (night(n), 0, 20, 0),
            "approve",
        )
        .await;
    }
    checked_in(
        &app,
        &a_token,
        &w,
        "stay_start",
        (night(6), 0, 20, 30),
        "approve",
    )
    .await;
    checked_in(
        &app,
        &a_token,
        &w,
        "stay_end",
        (night(6), 1, 6, 30),
        "approve",
    )
    .await;
    let rejected = checked_in(
        &app,
        &a_token,
        &w,
        "night_help",
        (night(8), 0, 21, 0),
        "reject",
    )
    .await;
    for n in 0..2 {
        checked_in(
            &app,
            &b_token,
            &w,
            "night_visit",
            (night(n), 0, 20, 0),
            "approve",
        )
        .await;
    }
    for n in 0..3 {
        checked_in(
            &app,
            &c_token,
            &w,
            "night_visit",
            (night(n), 0, 20, 0),
            "approve",
        )
        .await;
        checked_in(
            &app,
            &c_token,
            &w,
            "stay_start",
            (night(10 + n * 2), 0, 20, 30),
            "approve",
        )
        .await;
        checked_in(
            &app,
            &c_token,
            &w,
            "stay_end",
            (night(10 + n * 2), 1, 6, 30),
            "approve",
        )
        .await;
    }

    // Democratic evaluation: L (leadership), C (middle), A (established), B (non-established).
    let rate = |token: String, ratee: String, score: f64| {
        let app = &app;
        let period = period.clone();
        async move {
            app.put(
                "/scoring/ratings",
                &token,
                json!({"period": period, "ratee_id": ratee, "score": score}),
            )
            .await
        }
    };
    let recusal = json!({"rater_id": c, "ratee_id": b, "reason": "夫妻关系，回避"});
    assert_eq!(
        app.put("/scoring/recusals", &w.cadre1_token, recusal.clone())
            .await
            .status,
        403
    );
    assert_eq!(
        app.put("/scoring/recusals", &w.sup2_token, recusal.clone())
            .await
            .status,
        404
    );
    assert_eq!(
        app.put("/scoring/recusals", &w.sup1_token, recusal)
            .await
            .status,
        200
    );
    assert_eq!(rate(l_token.clone(), a.clone(), 85.0).await.status, 200);
    let updated = rate(l_token.clone(), a.clone(), 90.0).await;
    assert_eq!(
        updated.status, 200,
        "a rating is updatable: {:?}",
        updated.body
    );
    assert_eq!(updated.body["rater_group"], "leadership");
    for (token, ratee, score) in [
        (&l_token, &b, 70.0),
        (&l_token, &c, 80.0),
        (&c_token, &a, 80.0),
        (&a_token, &c, 70.0),
        (&b_token, &a, 100.0),
        (&b_token, &c, 90.0),
        (&a_token, &b, 50.0),
    ] {
        let reply = rate(token.clone(), ratee.clone(), score).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    let recused = rate(c_token.clone(), b.clone(), 60.0).await;
    assert_eq!(recused.status, 422);
    assert_eq!(recused.error_fields(), vec!["ratee_id"]);
    assert_eq!(
        rate(a_token.clone(), a.clone(), 99.0).await.error_fields(),
        vec!["ratee_id"]
    );
    assert_eq!(
        rate(a_token.clone(), b.clone(), 101.0).await.error_fields(),
        vec!["score"]
    );
    assert_eq!(
        rate(a_token.clone(), w.cadre2.clone(), 60.0).await.status,
        404,
        "another town's cadre"
    );
    assert_eq!(rate(app.admin.clone(), a.clone(), 60.0).await.status, 403);

    // Adjustments count once a second supervisor signs them off; a veto bars excellence.
    let bonus = app
        .post(
            "/scoring/adjustments",
            &w.sup1_token,
            json!({"user_id": b, "period": period, "points": 3, "reason": "县级表彰"}),
        )
        .await;
    assert_eq!(bonus.status, 201, "{:?}", bonus.body);
    let waiting = app
        .get(
            &format!("/scoring/adjustments?period={period}&pending=true"),
            &l_token,
        )
        .await;
    assert_eq!(
        waiting.body["items"][0]["id"],
        bonus.id().as_str(),
        "{:?}",
        waiting.body
    );
    assert_eq!(
        app.get(
            &format!("/scoring/adjustments?period={period}"),
            &w.sup2_token
        )
        .await
        .body["items"],
        json!([]),
        "not another town's"
    );
    let approve = format!("/scoring/adjustments/{}/approve", bonus.id());
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
    let approved = app.post(&approve, &l_token, json!({})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["approved_by"], l.as_str());
    assert_eq!(app.post(&approve, &l_token, json!({})).await.status, 409);
    assert_eq!(
        app.get(
            &format!("/scoring/adjustments?period={period}&pending=true"),
            &l_token
        )
        .await
        .body["items"],
        json!([]),
        "nothing left to sign off"
    );
    let pending = app
        .post(
            "/scoring/adjustments",
            &w.sup1_token,
            json!({"user_id": c, "period": period, "points": -2, "reason": "会议缺席"}),
        )
        .await;
    assert_eq!(pending.status, 201);
    let bad_adjustment = app
        .post(
            "/scoring/adjustments",
            &w.sup1_token,
            json!({"user_id": c, "period": "2026-13", "points": 0, "reason": ""}),
        )
        .await;
    assert_eq!(
        bad_adjustment.error_fields(),
        vec!["period", "points", "reason"]
    );
    let veto = app
        .post("/scoring/vetoes", &w.sup1_token, json!({"user_id": a, "period": period, "area": "work_safety", "reason": "安全生产事故"}))
        .await;
    assert_eq!(veto.status, 201, "{:?}", veto.body);
    // Like an adjustment, a veto counts once another supervisor of the town signs it.
    let signed = app
        .post(
            &format!("/scoring/vetoes/{}/approve", veto.id()),
            &l_token,
            json!({}),
        )
        .await;
    assert_eq!(signed.body["status"], "approved", "{:?}", signed.body);
    let bad_veto = app
        .post(
            "/scoring/vetoes",
            &w.sup1_token,
            json!({"user_id": a, "period": period, "area": "traffic", "reason": "x"}),
        )
        .await;
    assert_eq!(bad_veto.error_fields(), vec!["area"]);

    // The live ranking, to the hundredth:
    //   A: nv 40.00 (5 of 4), st 10.00, on 0.00 (nothing to measure: zero), od 0.00, rj -1.00;
    //      democratic (0.4*90 + 0.3*80 + 0.1*100) / 0.8 = 87.50 -> 17.50; total 66.50, vetoed.
    //   C: nv 30.00, st 20.00 (3 stays, capped), democratic (0.4*80 + 0.2*70 + 0.1*90) / 0.7
    //      = 78.57 -> 15.71; the unapproved -2 does not count; total 65.71.
    //   B: nv 20.00; democratic (0.4*70 + 0.2*50) / 0.6 = 63.33 -> 12.67; +3.00; total 35.67.
    let query = format!("/scores?period={period}&category=organ");
    let live = app.get(&query, &w.sup1_token).await;
    assert_eq!(live.status, 200, "{:?}", live.body);
    let (ra, rb, rc) = (
        row(&live.body, &a),
        row(&live.body, &b),
        row(&live.body, &c),
    );
    assert_eq!(
        lines(ra),
        vec![
            ("nv".into(), 40.0),
            ("st".into(), 10.0),
            ("on".into(), 0.0),
            ("od".into(), 0.0),
            ("rj".into(), -1.0)
        ]
    );
    assert_eq!(line(ra, "nv")["value"], 5.0);
    assert_eq!(line(ra, "nv")["target"], 4.0);
    assert_eq!(line(ra, "nv")["rule"], "ratio_to_target");
    assert_eq!(line(ra, "on")["value"], Value::Null);
    assert_eq!(ra["democratic"], 17.5);
    assert_eq!(ra["democratic_detail"]["score"], 87.5);
    assert_eq!(ra["democratic_detail"]["raters"], 3);
    assert_eq!(ra["total"], 66.5);
    assert_eq!((ra["rank"].clone(), ra["of"].clone()), (json!(1), json!(3)));
    assert_eq!(ra["veto"], true);
    assert_eq!(ra["veto_areas"], json!(["work_safety"]));
    assert_eq!(ra["grade"], "good", "a veto bars excellent");
    assert_eq!(
        lines(rc),
        vec![
            ("nv".into(), 30.0),
            ("st".into(), 20.0),
            ("on".into(), 0.0),
            ("od".into(), 0.0),
            ("rj".into(), 0.0)
        ]
    );
    assert_eq!(rc["democratic"], 15.71);
    assert_eq!(rc["adjustments"], 0.0);
    assert_eq!(rc["total"], 65.71);
    assert_eq!(rc["rank"], 2);
    assert_eq!(rc["grade"], "excellent");
    assert!(rc["flags"]
        .as_array()
        .unwrap()
        .contains(&json!("capped:st")));
    assert_eq!(rb["democratic"], 12.67);
    assert_eq!(rb["adjustments"], 3.0);
    assert_eq!(rb["total"], 35.67);
    assert_eq!(rb["rank"], 3);
    assert_eq!(rb["grade"], "pass");
    assert_eq!(rb["frozen"], false);
    // All three are of one town: the town's ranking is the county's.
    for r in [ra, rb, rc] {
        assert_eq!(r["town_rank"], r["rank"], "{r}");
        assert_eq!(r["town_of"], 3, "{r}");
        assert_eq!(r["adjustment_items"], Value::Null, "only in the breakdown");
        assert_eq!(r["veto_items"], Value::Null, "only in the breakdown");
    }

    // Who sees what: a cadre only their own breakdown; another town's supervisor nothing.
    assert_eq!(app.get(&query, &w.cadre1_token).await.status, 403);
    assert_eq!(
        app.get(&query, &w.sup2_token).await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get(&format!("/scores/{b}?period={period}"), &w.cadre1_token)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/scores/{a}?period={period}"), &w.sup2_token)
            .await
            .status,
        404
    );
    let own = app
        .get(&format!("/scores/{a}?period={period}"), &w.cadre1_token)
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(
        line(&own.body, "nv")["record_ids"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        line(&own.body, "st")["record_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(line(&own.body, "rj")["record_ids"], json!([rejected]));
    // What the cadre's own page shows besides the lines: vetoes, adjustments, rank in town.
    assert_eq!(
        own.body["veto_items"],
        json!([{"area": "work_safety", "area_name": "安全生产", "reason": "安全生产事故", "status": "approved"}])
    );
    assert_eq!(own.body["adjustment_items"], Value::Null, "A has none");
    assert_eq!(
        (own.body["town_rank"].clone(), own.body["town_of"].clone()),
        (json!(1), json!(3))
    );
    let of_b = app
        .get(&format!("/scores/{b}?period={period}"), &w.sup1_token)
        .await
        .body;
    assert_eq!(
        of_b["adjustment_items"],
        json!([{"points": 3.0, "reason": "县级表彰", "approved": true}])
    );
    assert_eq!(of_b["veto_items"], Value::Null);
    let of_c = app
        .get(&format!("/scores/{c}?period={period}"), &w.sup1_token)
        .await
        .body;
    assert_eq!(
        of_c["adjustment_items"],
        json!([{"points": -2.0, "reason": "会议缺席", "approved": false}]),
        "waiting for a second sign-off, shown but not counted"
    );
    assert_eq!(of_c["adjustments"], 0.0);
    assert_eq!(
        app.get(&format!("{query}&limit=2"), &app.admin).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // CSV for the spreadsheets: UTF-8 with a byte-order mark.
    let csv = app
        .client
        .get(format!(
            "{}/scores/export?period={period}&category=organ&format=csv",
            app.base
        ))
        .bearer_auth(&w.sup1_token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = csv.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rows = text.lines();
    assert!(rows.next().unwrap().contains("总分 total"));
    assert_eq!(rows.next().unwrap(), format!("1,李明,{a},{period},66.50,17.50,0.00,work_safety,good,veto,40.00,10.00,0.00,0.00,-1.00"));
    assert_eq!(
        app.get(
            &format!("/scores/export?period={period}&category=organ&format=xlsx"),
            &w.sup1_token
        )
        .await
        .status,
        422
    );

    // A new version of the scheme scores the period until it closes; closing freezes it.
    let mut renamed = scheme();
    renamed["name"] = json!("青山镇机关干部月度考核（修订）");
    let v2 = app
        .put(
            &format!("/scoring/schemes/{scheme_id}"),
            &app.admin,
            renamed.clone(),
        )
        .await;
    assert_eq!(v2.body["version"], 2);
    let this = this_month();
    assert_eq!(
        app.post(
            &format!("/scoring/periods/{this}/close"),
            &app.admin,
            json!({})
        )
        .await
        .status,
        409,
        "not over yet"
    );
    assert_eq!(
        app.post(
            &format!("/scoring/periods/{period}/close"),
            &w.sup1_token,
            json!({})
        )
        .await
        .status,
        403
    );
    let closed = app
        .post(
            &format!("/scoring/periods/{period}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    // Three organ cadres and the other town's village cadre (scored by the seeded scheme).
    assert_eq!(closed.body["scores"], 4);
    // The other town's village cadre tops a ranking of one, graded 不合格: no 实绩档案,
    // and the answer says why.
    assert_eq!(closed.body["achievement_records"], 1, "{:?}", closed.body);
    let passed_over = &closed.body["passed_over"][0];
    assert_eq!(
        (passed_over["rank"].clone(), passed_over["of"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(passed_over["grade"], "fail");
    assert!(
        passed_over["why"]
            .as_str()
            .unwrap()
            .ends_with("农村干部第1名（共1人），但等次不合格，未达良好：不记实绩档案"),
        "{passed_over}"
    );
    assert_eq!(closed.body["problem_records"], 1);
    assert_eq!(closed.body["statements"], json!([b]));
    assert_eq!(
        app.post(
            &format!("/scoring/periods/{period}/close"),
            &app.admin,
            json!({})
        )
        .await
        .status,
        409
    );

    // Frozen: later records, ratings and new scheme versions change nothing, and a late
    // check-in of the closed month can no longer be approved.
    let body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0,
        CENTRE.1,
        &at(night(20), 0, 20, 0),
    );
    let late_visit = app.post("/checkins", &b_token, body).await;
    assert_eq!(
        late_visit.body["status"], "flagged",
        "{:?}",
        late_visit.body
    );
    let refused = app
        .post(
            &format!("/checkins/{}/review", late_visit.id()),
            &w.sup1_token,
            json!({"decision": "approve", "reason": "已核实"}),
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(rate(l_token.clone(), b.clone(), 100.0).await.status, 409);
    let late = app
        .post(
            "/scoring/adjustments",
            &w.sup1_token,
            json!({"user_id": b, "period": period, "points": 5, "reason": "补报"}),
        )
        .await;
    assert_eq!(late.status, 409);
    renamed["name"] = json!("第三版");
    assert_eq!(
        app.put(
            &format!("/scoring/schemes/{scheme_id}"),
            &app.admin,
            renamed
        )
        .await
        .body["version"],
        3
    );
    let frozen = app.get(&query, &w.sup1_token).await.body;
    let (fa, fb) = (row(&frozen, &a), row(&frozen, &b));
    assert_eq!(fb["total"], 35.67);
    assert_eq!(line(fb, "nv")["points"], 20.0);
    assert_eq!(fb["frozen"], true);
    assert_eq!(fb["scheme_version"], 2);
    assert!(fb["flags"]
        .as_array()
        .unwrap()
        .contains(&json!("statement")));
    assert_eq!(fa["total"], 66.5);
    assert_eq!(fa["rank"], 1);
    assert_eq!(
        (fa["town_rank"].clone(), fa["town_of"].clone()),
        (json!(1), json!(3))
    );
    let frozen_b = app
        .get(&format!("/scores/{b}?period={period}"), &b_token)
        .await
        .body;
    assert_eq!(frozen_b["frozen"], true);
    assert_eq!(frozen_b["town_rank"], 3);
    assert_eq!(
        frozen_b["adjustment_items"],
        json!([{"points": 3.0, "reason": "县级表彰", "approved": true}]),
        "the late 补报 was refused"
    );

    // Records: A's achievement, B's problem to rectify within a quarter.
    let records = app.get("/records", &w.sup1_token).await.body;
    let items = records["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{records}");
    let achievement = items.iter().find(|r| r["kind"] == "achievement").unwrap();
    let problem = items.iter().find(|r| r["kind"] == "problem").unwrap();
    assert_eq!(achievement["user_id"], a.as_str());
    assert_eq!(problem["user_id"], b.as_str());
    // By the end of the month one quarter after the period.
    let rectify_by = first.checked_add_months(chrono::Months::new(4)).unwrap() - Duration::days(1);
    assert_eq!(problem["rectify_by"], rectify_by.to_string());
    assert_eq!(
        app.get("/records", &b_token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get(&format!("/records?user_id={a}"), &b_token)
            .await
            .body["items"],
        json!([])
    );
    // The other town's supervisor sees none of these (and its own cadre got none).
    let other_town = app.get("/records", &w.sup2_token).await.body;
    assert_eq!(other_town["items"], json!([]), "{other_town}");
    let rectify = |id: &Value| format!("/records/{}/rectify", id.as_str().unwrap());
    let evidence = json!({"evidence": "已整改：补齐夜访记录并公示"});
    assert_eq!(
        app.post(&rectify(&problem["id"]), &a_token, evidence.clone())
            .await
            .status,
        404
    );
    assert_eq!(
        app.post(&rectify(&achievement["id"]), &a_token, evidence.clone())
            .await
            .status,
        409
    );

    // 销号 is a decision: B submits evidence (with a photo of B's own; A's is refused), a
    // supervisor of the town approves or sends it back; only an approval clears the record.
    let a_photo = upload_photo(&app, &a_token).await;
    let b_photo = upload_photo(&app, &b_token).await;
    let foreign = app
        .post(
            &rectify(&problem["id"]),
            &b_token,
            json!({"evidence": "已整改", "photo_ids": [a_photo]}),
        )
        .await;
    assert_eq!(foreign.status, 422, "{:?}", foreign.body);
    let submitted = app
        .post(
            &rectify(&problem["id"]),
            &b_token,
            json!({"evidence": "已整改：补齐夜访记录并公示", "photo_ids": [b_photo]}),
        )
        .await;
    assert_eq!(submitted.status, 200, "{:?}", submitted.body);
    assert_eq!(submitted.body["status"], "pending_verification");
    assert!(submitted.body["cleared_at"].is_null(), "not cleared yet");
    assert_eq!(submitted.body["history"][0]["action"], "rectified");
    assert_eq!(submitted.body["history"][0]["actor_name"], "王芳");
    assert_eq!(submitted.body["history"][0]["photo_ids"], json!([b_photo]));
    assert_eq!(
        app.post(&rectify(&problem["id"]), &b_token, evidence.clone())
            .await
            .status,
        409,
        "already waiting for verification"
    );
    let verify = format!("/records/{}/verify", problem["id"].as_str().unwrap());
    let approve = json!({"approve": true, "note": "材料属实"});
    assert_eq!(
        app.post(&verify, &w.sup2_token, approve.clone())
            .await
            .status,
        404,
        "another town's supervisor"
    );
    assert_eq!(
        app.post(&verify, &b_token, approve.clone()).await.status,
        403,
        "the cadre themself"
    );
    assert_eq!(
        app.post(
            &verify,
            &w.sup1_token,
            json!({"approve": false, "note": " "})
        )
        .await
        .status,
        422,
        "sending back needs a note"
    );
    let sent_back = app
        .post(
            &verify,
            &w.sup1_token,
            json!({"approve": false, "note": "缺少公示照片"}),
        )
        .await;
    assert_eq!(sent_back.status, 200, "{:?}", sent_back.body);
    assert_eq!(sent_back.body["status"], "open");
    assert!(sent_back.body["cleared_at"].is_null());
    let steps: Vec<&Value> = sent_back.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(steps.len(), 2, "{:?}", sent_back.body);
    assert_eq!(steps[1]["action"], "sent_back");
    assert_eq!(steps[1]["note"], "缺少公示照片");
    assert_eq!(steps[1]["actor_id"], json!(w.sup1));
    assert_eq!(
        app.post(&verify, &w.sup1_token, approve.clone())
            .await
            .status,
        409,
        "nothing waits for verification"
    );
    let again = app
        .post(
            &rectify(&problem["id"]),
            &b_token,
            json!({"evidence": "已补充公示照片"}),
        )
        .await;
    assert_eq!(
        again.body["status"], "pending_verification",
        "{:?}",
        again.body
    );
    // Any supervisor of the town may decide, here the second one.
    let cleared = app.post(&verify, &l_token, approve.clone()).await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(cleared.body["status"], "cleared");
    assert!(cleared.body["cleared_at"].is_string());
    let actions: Vec<&str> = cleared.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["rectified", "sent_back", "rectified", "approved"]);
    assert_eq!(
        app.post(&verify, &l_token, approve.clone()).await.status,
        409
    );
    assert_eq!(
        app.post(&rectify(&problem["id"]), &b_token, evidence.clone())
            .await
            .status,
        409
    );
    let mine = app.get("/records", &b_token).await.body;
    assert_eq!(mine["items"][0]["status"], "cleared");
    assert_eq!(mine["items"][0]["history"].as_array().unwrap().len(), 4);

    // Past its rectify-by date an open record has expired and evidence comes too late; and a
    // supervisor's own record is verified by someone else.
    let yesterday = (Utc::now() + Duration::hours(8)).date_naive() - Duration::days(1);
    let late = problem_record(&app, &b, &period, yesterday, "open");
    let own = problem_record(&app, &l, &period, yesterday, "pending_verification");
    let listed = app
        .get(&format!("/records?user_id={b}"), &w.sup1_token)
        .await
        .body;
    let shown = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == late.as_str())
        .unwrap();
    assert_eq!(shown["status"], "expired");
    let too_late = app
        .post(&format!("/records/{late}/rectify"), &b_token, evidence)
        .await;
    assert_eq!(too_late.status, 409);
    assert!(
        too_late.body["detail"]
            .as_str()
            .unwrap()
            .contains(&yesterday.to_string()),
        "{:?}",
        too_late.body
    );
    let own_verify = format!("/records/{own}/verify");
    assert_eq!(
        app.post(&own_verify, &l_token, approve.clone())
            .await
            .status,
        403
    );
    let by_other = app.post(&own_verify, &w.sup1_token, approve).await;
    assert_eq!(by_other.body["status"], "cleared", "{:?}", by_other.body);
}

/// Uploads a small photo as the holder of `token`; its media id.
async fn upload_photo(app: &TestApp, token: &str) -> String {
    let reply = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(jpeg(64, 48, &FixtureExif::default()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    reply.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Writes a problem record straight into the database, for dates and owners closing a
/// period does not produce; its id.
pub fn problem_record(
    app: &TestApp,
    user: &str,
    period: &str,
    rectify_by: NaiveDate,
    status: &str,
) -> String {
    use minqing_api::db::scoring::{insert_records, RecordRow};
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let id = minqing_api::db::new_id();
    let row = RecordRow {
        id: id.clone(),
        user_id: user.to_string(),
        kind: "problem".into(),
        period: period.to_string(),
        reason: "群众反映".into(),
        rectify_by: Some(rectify_by),
        evidence: (status != "open").then(|| "已整改".to_string()),
        cleared_at: None,
        cleared_by: None,
        created_at: Utc::now().naive_utc(),
        status: status.to_string(),
    };
    insert_records(&mut conn, &[row]).unwrap();
    id
}

/// This month's work orders feed the scores as they change: on time, overdue, and the
/// records behind each number.
#[tokio::test]
async fn work_orders_count_toward_this_months_score() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, scheme())
            .await
            .status,
        201
    );
    let file = || {
        app.post("/work-orders", &w.villager1_token, json!({"category": "road", "title": "路灯不亮",
            "description": "村口", "village_id": w.village1, "lat": CENTRE.0, "lon": CENTRE.1, "source": "villager"}))
    };
    let (on_time, late) = (file().await.id(), file().await.id());
    let assign = |id: String, due: Value| {
        let app = &app;
        let w = &w;
        async move {
            let mut body =
                json!({"unit_id": w.town1, "assignee_id": w.cadre1, "commitment": "尽快办"});
            body.as_object_mut()
                .unwrap()
                .extend(due.as_object().unwrap().clone());
            app.post(&format!("/work-orders/{id}/assign"), &w.sup1_token, body)
                .await
                .status
        }
    };
    assert_eq!(
        assign(on_time.clone(), json!({"due_in_working_days": 3})).await,
        200
    );
    let soon = Utc::now() + Duration::milliseconds(500);
    assert_eq!(
        assign(late.clone(), json!({"due_at": soon.to_rfc3339()})).await,
        200
    );
    for step in ["accept", "resolve"] {
        let body = json!({"resolution_note": "修好了"});
        let reply = app
            .post(
                &format!("/work-orders/{on_time}/{step}"),
                &w.cadre1_token,
                body,
            )
            .await;
        assert_eq!(reply.status, 200, "{step}: {:?}", reply.body);
    }

    let path = format!("/scores/{}?period={}", w.cadre1, this_month());
    let deadline = Instant::now() + Wait::from_secs(10);
    let score = loop {
        let reply = app.get(&path, &w.cadre1_token).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        if line(&reply.body, "od")["points"] == -2.0 || Instant::now() > deadline {
            break reply.body;
        }
        tokio::time::sleep(Wait::from_millis(100)).await;
    };
    assert_eq!(line(&score, "on")["value"], 1.0);
    assert_eq!(line(&score, "on")["points"], 20.0);
    assert_eq!(line(&score, "on")["record_ids"], json!([on_time]));
    assert_eq!(line(&score, "od")["value"], 1.0);
    assert_eq!(line(&score, "od")["points"], -2.0);
    assert_eq!(line(&score, "od")["record_ids"], json!([late]));
    assert_eq!(score["democratic"], 0.0);
    assert!(score["flags"]
        .as_array()
        .unwrap()
        .contains(&json!("no_ratings")));
    assert_eq!(score["total"], 18.0);
}

/// Town ranks: each cadre ranked among the category's cadres of their own town (its villages
/// and departments included), beside the county rank; a county cadre has none.
#[tokio::test]
async fn cadres_are_ranked_within_their_town_too() {
    let app = spawn_app().await;
    let w = app.world().await;
    let month = this_month();
    let office = app.unit("云岭镇党政办", "department", Some(&w.town2)).await;
    let cadre = |name: &str, phone: &str, unit: &str| {
        app.user(
            json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": unit,
            "cadre_category": "organ"}),
        )
    };
    let a1 = w.cadre1.clone();
    let a2 = cadre("钱进", "13900000041", &w.village1).await;
    let b1 = cadre("孙亮", "13900000042", &w.town2).await;
    let b2 = cadre("周红", "13900000043", &office).await;
    let county = cadre("郑县", "13900000044", &w.county).await;
    // Everyone starts from the same points (the seeded organ scheme, nothing recorded);
    // approved bonuses set them apart.
    let bonus = |user: String, points: f64, reason: &'static str, approver: Option<String>| {
        let app = &app;
        let month = month.clone();
        async move {
            let proposed = app
                .post(
                    "/scoring/adjustments",
                    &app.admin,
                    json!({"user_id": user, "period": month, "points": points, "reason": reason}),
                )
                .await;
            assert_eq!(proposed.status, 201, "{:?}", proposed.body);
            if let Some(token) = approver {
                let approve = format!("/scoring/adjustments/{}/approve", proposed.id());
                assert_eq!(app.post(&approve, &token, json!({})).await.status, 200);
            }
        }
    };
    let (sup1, sup2) = (Some(w.sup1_token.clone()), Some(w.sup2_token.clone()));
    bonus(a1.clone(), 5.0, "招商引资", sup1.clone()).await;
    bonus(a2.clone(), 5.0, "防汛抢险", sup1.clone()).await;
    bonus(b1.clone(), 4.0, "矛盾调处", sup2.clone()).await;
    bonus(b2.clone(), 1.0, "信息报送", sup2.clone()).await;
    bonus(b2.clone(), -0.5, "材料迟交", None).await;
    let veto = json!({"user_id": b1, "period": month, "area": "public_security", "reason": "辖区发生治安案件"});
    let veto = app.post("/scoring/vetoes", &w.sup2_token, veto).await;
    assert_eq!(veto.status, 201, "{:?}", veto.body);
    // The admin gives the second signature, as for adjustments.
    let approve = format!("/scoring/vetoes/{}/approve", veto.id());
    assert_eq!(app.post(&approve, &app.admin, json!({})).await.status, 200);

    let query = format!("/scores?period={month}&category=organ");
    let all = app.get(&query, &app.admin).await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let ranks = |page: &Value, user: &str| {
        let r = row(page, user);
        (
            r["rank"].clone(),
            r["of"].clone(),
            r["town_rank"].clone(),
            r["town_of"].clone(),
        )
    };
    assert_eq!(
        ranks(&all.body, &a1),
        (json!(1), json!(5), json!(1), json!(2))
    );
    assert_eq!(
        ranks(&all.body, &a2),
        (json!(1), json!(5), json!(1), json!(2)),
        "a tie"
    );
    assert_eq!(
        ranks(&all.body, &b1),
        (json!(3), json!(5), json!(1), json!(2))
    );
    assert_eq!(
        ranks(&all.body, &b2),
        (json!(4), json!(5), json!(2), json!(2))
    );
    assert_eq!(
        ranks(&all.body, &county),
        (json!(5), json!(5), Value::Null, Value::Null),
        "above any town"
    );
    let town2 = app.get(&query, &w.sup2_token).await.body;
    assert_eq!(town2["items"].as_array().unwrap().len(), 2);
    assert_eq!(ranks(&town2, &b2), (json!(4), json!(5), json!(2), json!(2)));

    let of_b2 = app
        .get(&format!("/scores/{b2}?period={month}"), &w.sup2_token)
        .await;
    assert_eq!(of_b2.status, 200, "{:?}", of_b2.body);
    assert_eq!(
        of_b2.body["adjustment_items"],
        json!([
            {"points": 1.0, "reason": "信息报送", "approved": true},
            {"points": -0.5, "reason": "材料迟交", "approved": false}
        ])
    );
    assert_eq!(of_b2.body["adjustments"], 1.0);
    assert_eq!(
        (
            of_b2.body["town_rank"].clone(),
            of_b2.body["town_of"].clone()
        ),
        (json!(2), json!(2))
    );
    let of_b1 = app
        .get(&format!("/scores/{b1}?period={month}"), &w.sup2_token)
        .await
        .body;
    assert_eq!(
        of_b1["veto_items"],
        json!([{"area": "public_security", "area_name": "社会治安", "reason": "辖区发生治安案件", "status": "approved"}])
    );
    assert_eq!(of_b1["veto_areas"], json!(["public_security"]));
}

/// The seeded leadership scheme is quarterly, its year the mean of the quarters so far.
#[tokio::test]
async fn a_year_can_be_the_mean_of_its_quarters() {
    let app = spawn_app().await;
    let w = app.world().await;
    let leader = app
        .user(json!({"name": "赵镇长", "phone": "13900000031", "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "leadership"}))
        .await;
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let year = today.year();
    let current_quarter = (today.month() - 1) / 3 + 1;
    let mut totals = Vec::new();
    for q in 1..=current_quarter {
        let page = app
            .get(
                &format!("/scores?period={year}-Q{q}&category=leadership"),
                &w.sup1_token,
            )
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        totals.push(row(&page.body, &leader)["total"].as_f64().unwrap());
    }
    let page = app
        .get(
            &format!("/scores?period={year}&category=leadership"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let yearly = row(&page.body, &leader);
    let quarters = yearly["quarters"].as_array().unwrap();
    assert_eq!(quarters.len(), 4);
    for (i, q) in quarters.iter().enumerate() {
        match totals.get(i) {
            Some(t) => assert_eq!(q.as_f64(), Some(*t)),
            None => assert!(q.is_null(), "quarter {} has not begun", i + 1),
        }
    }
    let mean = totals.iter().sum::<f64>() / totals.len() as f64;
    assert!(
        (yearly["total"].as_f64().unwrap() - mean).abs() < 0.006,
        "{yearly}"
    );
    assert_eq!(yearly["rank"], 1);
    // Organ cadres have only a monthly scheme: no yearly score to show.
    let none = app
        .get(
            &format!("/scores?period={year}&category=organ"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(none.status, 404);
}

/// The review's reproduction: on-the-spot orders a cadre files count as collected only once
/// a supervisor confirms them (or the reporter closes them with a good rating), and only in
/// the cadre's own villages.
#[tokio::test]
async fn self_made_on_the_spot_orders_count_only_once_confirmed() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    let mut scheme = scheme();
    scheme["indicators"].as_array_mut().unwrap().push(json!(
        {"code": "wc", "name": "收集民情", "metric": "work_orders_collected", "rule": "per_item", "points": 1, "cap": 20}));
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, scheme)
            .await
            .status,
        201
    );
    let on_spot = |village: &str| {
        app.post("/work-orders", &w.cadre1_token, json!({"category": "road", "title": "路灯不亮",
            "description": "村口", "village_id": village, "source": "visit", "reporter_name": "钱大伯",
            "resolved_on_spot": true, "resolution_note": "当场修好"}))
    };
    let mut own = Vec::new();
    for _ in 0..12 {
        let filed = on_spot(&w.village1).await;
        assert_eq!(filed.status, 201, "{:?}", filed.body);
        own.push(filed.body);
    }
    let elsewhere = on_spot(&w.village2).await;
    assert_eq!(elsewhere.status, 201, "{:?}", elsewhere.body);

    let collected = || async {
        let path = format!("/scores/{}?period={}", w.cadre1, this_month());
        let reply = app.get(&path, &w.sup1_token).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        line(&reply.body, "wc")
    };
    assert_eq!(collected().await["value"], 0.0);
    assert_eq!(collected().await["points"], 0.0);

    let confirm = |id: String, token: String| {
        let app = &app;
        async move {
            app.post(&format!("/work-orders/{id}/confirm"), &token, json!({}))
                .await
        }
    };
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    // The cadre cannot confirm their own order (it is not theirs to act on); the other town
    // does not see it.
    assert_eq!(
        confirm(id(&own[0]), w.cadre1_token.clone()).await.status,
        404
    );
    assert_eq!(confirm(id(&own[0]), w.sup2_token.clone()).await.status, 404);
    for order in &own[..2] {
        let reply = confirm(id(order), w.sup1_token.clone()).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    // Confirming again changes nothing and writes no second event.
    assert_eq!(confirm(id(&own[0]), w.sup1_token.clone()).await.status, 200);
    let detail = app
        .get(&format!("/work-orders/{}", id(&own[0])), &w.sup1_token)
        .await;
    let confirmed = detail.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "confirmed")
        .count();
    assert_eq!(confirmed, 1, "{:?}", detail.body);
    let wc = collected().await;
    assert_eq!(wc["value"], 2.0);
    assert_eq!(wc["record_ids"], json!([id(&own[0]), id(&own[1])]));

    // The reporter's good rating confirms one too.
    let rate = format!(
        "/work-orders/{}/rate?token={}",
        id(&own[2]),
        own[2]["tracking_token"].as_str().unwrap()
    );
    let rated = app
        .call(
            reqwest::Method::POST,
            &rate,
            None,
            Some(json!({"score": 90})),
        )
        .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    assert_eq!(collected().await["value"], 3.0);

    // Outside the cadre's villages it never counts, confirmed or not.
    let reply = confirm(id(&elsewhere.body), w.sup2_token.clone()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(collected().await["value"], 3.0);

    // Only on-the-spot orders are confirmed.
    let plain = app
        .post(
            "/work-orders",
            &w.villager1_token,
            json!({"category": "road", "title": "路灯不亮",
        "description": "村口", "village_id": w.village1, "source": "villager"}),
        )
        .await;
    assert_eq!(confirm(plain.id(), w.sup1_token.clone()).await.status, 409);
}
