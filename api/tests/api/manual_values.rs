//! Manual values (人工录入, `metric: "manual"`): entered per cadre and period by a supervisor
//! of the cadre's town, signed off by a second one, counted only then; CSV import for a
//! town, all or nothing; closed periods refuse every step.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, Reply, TestApp, World, PASSWORD};
use crate::scoring::{last_month, this_month};
use crate::scoring_rules::scheme_of;

/// The seeded organ scheme with 重点工作 added (80 points at a target of 100). Its three
/// work-order rates score 0 without orders here instead of being left out, so that no line is
/// scaled up and every number below is the rule's own.
async fn with_manual_indicator(app: &TestApp) {
    let (id, mut scheme) = scheme_of(app, "organ", "month").await;
    let indicators = scheme["indicators"].as_array_mut().unwrap();
    for ind in indicators.iter_mut() {
        if ind["when_empty"] == "exclude" {
            ind["when_empty"] = json!("zero");
        }
    }
    indicators.push(
        json!({"code": "zdgz", "name": "重点工作", "metric": "manual",
        "rule": "ratio_to_target", "target": 100, "points": 80}),
    );
    let saved = app
        .put(&format!("/scoring/schemes/{id}"), &app.admin, scheme)
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let zdgz = &saved.body["scheme"]["indicators"][8];
    assert_eq!(zdgz["code"], "zdgz");
    assert_eq!(zdgz["when_empty"], "zero", "nothing entered earns nothing");
}

/// A second supervisor of town 1, signed in.
async fn second_supervisor(app: &TestApp, w: &World) -> String {
    app.user(
        json!({"name": "郑洁", "phone": "13900000003", "role": "supervisor",
        "org_unit_id": w.town1}),
    )
    .await;
    app.login("13900000003", PASSWORD).await
}

fn entry(user: &str, period: &str, code: &str, value: f64) -> Value {
    json!({"user_id": user, "period": period, "code": code, "value": value,
        "reason": "年度重点工作完成情况（县考核办通报）"})
}

/// The cadre's explained score: (the 重点工作 line, the total).
async fn zdgz_line(app: &TestApp, token: &str, user: &str, period: &str) -> (Value, f64) {
    let score = app
        .get(&format!("/scores/{user}?period={period}"), token)
        .await;
    assert_eq!(score.status, 200, "{:?}", score.body);
    let line = score.body["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "zdgz")
        .expect("the 重点工作 line")
        .clone();
    (line, score.body["total"].as_f64().unwrap())
}

async fn import(app: &TestApp, token: &str, query: &str, csv: &str) -> Reply {
    let response = app
        .client
        .post(format!("{}/scoring/manual-values/import?{query}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_string())
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn a_manual_value_counts_once_a_second_supervisor_signs_it_off() {
    let app = spawn_app().await;
    let w = app.world().await;
    with_manual_indicator(&app).await;
    let sup1b = second_supervisor(&app, &w).await;
    let month = this_month();

    // Entered: waiting, and the line scores nothing (nothing approved is nothing measured).
    let entered = app
        .put(
            "/scoring/manual-values",
            &w.sup1_token,
            entry(&w.cadre1, &month, "zdgz", 75.0),
        )
        .await;
    assert_eq!(entered.status, 200, "{:?}", entered.body);
    let id = entered.id();
    assert_eq!(entered.body["status"], "pending");
    assert_eq!(entered.body["entered_by"], w.sup1);
    assert_eq!(entered.body["approved_by"], Value::Null);
    assert_eq!(entered.body["photo_ids"], json!([]));
    let (line, before) = zdgz_line(&app, &w.sup1_token, &w.cadre1, &month).await;
    assert_eq!(line["points"], 0.0);
    assert_eq!(line["value"], Value::Null);
    assert_eq!(line["metric"], "manual");
    assert_eq!(line["record_ids"], json!([]));
    // Nothing else recorded: every other line is 0 too.
    assert_eq!(before, 0.0);

    // Four eyes: not the one who entered it; other towns do not see it.
    let approve = format!("/scoring/manual-values/{id}/approve");
    let own = app.post(&approve, &w.sup1_token, json!({})).await;
    assert_eq!(own.status, 403, "{:?}", own.body);
    let other_town = app.post(&approve, &w.sup2_token, json!({})).await;
    assert_eq!(other_town.status, 404, "{:?}", other_town.body);
    let cadre = app.post(&approve, &w.cadre1_token, json!({})).await;
    assert_eq!(cadre.status, 403);

    // Signed off: 80 × min(75 / 100, 1) = 60.00, and the total moves by exactly that.
    let approved = app.post(&approve, &sup1b, json!({})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["status"], "approved");
    assert!(approved.body["approved_by"]
        .as_str()
        .is_some_and(|by| by != w.sup1));
    let again = app.post(&approve, &sup1b, json!({})).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    let (line, after) = zdgz_line(&app, &w.sup1_token, &w.cadre1, &month).await;
    assert_eq!(line["points"], 60.0);
    assert_eq!(line["value"], 75.0);
    assert_eq!(line["target"], 100.0);
    assert_eq!(line["record_ids"], json!([id]));
    assert_eq!(after, before + 60.0);
    // The cadre reads it in their own breakdown and in the list of their values.
    let (own_line, _) = zdgz_line(&app, &w.cadre1_token, &w.cadre1, &month).await;
    assert_eq!(own_line["points"], 60.0);
    let mine = app
        .get(
            &format!("/scoring/manual-values?period={month}"),
            &w.cadre1_token,
        )
        .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.body["items"][0]["id"], id);

    // Entered again: the same record, waiting once more, and the line back to 0 meanwhile.
    let reentered = app
        .put(
            "/scoring/manual-values",
            &w.sup1_token,
            entry(&w.cadre1, &month, "zdgz", 90.0),
        )
        .await;
    assert_eq!(reentered.status, 200, "{:?}", reentered.body);
    assert_eq!(reentered.id(), id);
    assert_eq!(reentered.body["status"], "pending");
    assert_eq!(reentered.body["value"], 90.0);
    assert_eq!(reentered.body["approved_at"], Value::Null);
    let (line, total) = zdgz_line(&app, &w.sup1_token, &w.cadre1, &month).await;
    assert_eq!((line["points"].as_f64(), total), (Some(0.0), before));
    let pending = app
        .get(
            &format!("/scoring/manual-values?period={month}&status=pending"),
            &sup1b,
        )
        .await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 1);
    // 80 × 90 / 100 = 72.00 once signed off again.
    let approved = app.post(&approve, &sup1b, json!({})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    let (line, total) = zdgz_line(&app, &w.sup1_token, &w.cadre1, &month).await;
    assert_eq!(
        (line["points"].as_f64(), total),
        (Some(72.0), before + 72.0)
    );

    // Another town's supervisor cannot enter one, nor list this town's.
    let stranger = app
        .put(
            "/scoring/manual-values",
            &w.sup2_token,
            entry(&w.cadre1, &month, "zdgz", 10.0),
        )
        .await;
    assert_eq!(stranger.status, 404, "{:?}", stranger.body);
    let theirs = app
        .get(
            &format!("/scoring/manual-values?period={month}"),
            &w.sup2_token,
        )
        .await;
    assert_eq!(theirs.body["items"], json!([]));
    let all = app
        .get(
            &format!("/scoring/manual-values?period={month}&status=approved"),
            &app.admin,
        )
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_a_manual_indicator_takes_a_value_and_every_field_is_checked() {
    let app = spawn_app().await;
    let w = app.world().await;
    with_manual_indicator(&app).await;
    let month = this_month();
    let put = |body: Value| app.put("/scoring/manual-values", &w.sup1_token, body);

    // `fn` (四夜) is counted by the platform; `xyz` is no indicator at all.
    for code in ["fn", "xyz"] {
        let reply = put(entry(&w.cadre1, &month, code, 5.0)).await;
        assert_eq!(reply.status, 422, "{code}: {:?}", reply.body);
        assert_eq!(reply.error_fields(), ["code"]);
    }
    let reply = put(entry(&w.cadre1, &month, "zdgz", 100_000.5)).await;
    assert_eq!(
        (reply.status, reply.error_fields()),
        (422, vec!["value".to_string()])
    );
    let reply = put(entry(&w.cadre1, &month, "zdgz", -1.0)).await;
    assert_eq!(reply.error_fields(), ["value"]);
    let mut body = entry(&w.cadre1, &month, "zdgz", 5.0);
    body["reason"] = json!("   ");
    body["photo_ids"] = json!(["not-a-photo-of-mine"]);
    let reply = put(body).await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.error_fields(), ["reason"]);
    let mut body = entry(&w.cadre1, &month, "zdgz", 5.0);
    body["photo_ids"] = json!(["not-a-photo-of-mine"]);
    let reply = put(body).await;
    assert_eq!(reply.error_fields(), ["photo_ids[0]"]);
    let mut body = entry(&w.cadre1, &month, "zdgz", 5.0);
    body["reason"] = json!("长".repeat(501));
    assert_eq!(put(body).await.error_fields(), ["reason"]);
    // A village cadre's scheme has no 重点工作; a supervisor is not scored.
    let village = app
        .user(
            json!({"name": "村干部", "phone": "13900000044", "role": "cadre",
            "org_unit_id": w.village1, "cadre_category": "village"}),
        )
        .await;
    let reply = put(entry(&village, &month, "zdgz", 5.0)).await;
    assert_eq!(reply.error_fields(), ["code"]);
    let reply = put(entry(&w.sup1, &month, "zdgz", 5.0)).await;
    assert_eq!(reply.error_fields(), ["user_id"]);
    // Cadres and villagers never enter one.
    let reply = app
        .put(
            "/scoring/manual-values",
            &w.cadre1_token,
            entry(&w.cadre1, &month, "zdgz", 5.0),
        )
        .await;
    assert_eq!(reply.status, 403);
    let stored = app
        .get(
            &format!("/scoring/manual-values?period={month}"),
            &app.admin,
        )
        .await;
    assert_eq!(stored.body["items"], json!([]));
}

#[tokio::test]
async fn a_town_imports_its_values_from_csv_all_or_nothing() {
    let app = spawn_app().await;
    let w = app.world().await;
    with_manual_indicator(&app).await;
    let organ = |name: &str, phone: &str, unit: &str| {
        app.user(
            json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": unit,
            "cadre_category": "organ"}),
        )
    };
    let a2 = organ("钱进", "13900000041", &w.town1).await;
    let a3 = organ("吴磊", "13900000042", &w.village1).await;
    let month = this_month();
    let query = format!("period={month}&code=zdgz");

    // 13900000012 is a cadre of 云岭镇: not this supervisor's to score. Nothing is stored.
    let bad = "\u{feff}phone,value,reason\r\n13900000011,75,完成招商任务\r\n13900000012,80,完成\r\n139-0000-0042,100,超额完成\r\n";
    let refused = import(&app, &w.sup1_token, &query, bad).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.error_fields(), ["rows[1].phone"]);
    let stored = app
        .get(
            &format!("/scoring/manual-values?period={month}"),
            &app.admin,
        )
        .await;
    assert_eq!(stored.body["items"], json!([]));
    // Every cell is checked, each named by its row.
    let cells =
        "phone,value,reason\n1390000001,75,好\n13900000041,=1+1,好\n13900000042,5,@SUM(A1)\n";
    let refused = import(&app, &w.sup1_token, &query, cells).await;
    assert_eq!(
        refused.error_fields(),
        ["rows[0].phone", "rows[1].value", "rows[2].reason"]
    );
    let wrong_code = import(&app, &w.sup1_token, &format!("period={month}&code=fn"), bad).await;
    assert_eq!(wrong_code.error_fields(), ["code"], "{:?}", wrong_code.body);
    let json_body = app
        .post(
            &format!("/scoring/manual-values/import?{query}"),
            &w.sup1_token,
            json!({}),
        )
        .await;
    assert_eq!(json_body.status, 415, "{:?}", json_body.body);
    let cadre = import(&app, &w.cadre1_token, &query, bad).await;
    assert_eq!(cadre.status, 403);

    // Fixed: three rows, each waiting for sign-off.
    let good = "\u{feff}phone,value,reason\r\n13900000011,75,完成招商任务\r\n13900000041,50,完成一半\r\n139-0000-0042,100,超额完成\r\n";
    let imported = import(&app, &w.sup1_token, &query, good).await;
    assert_eq!(imported.status, 200, "{:?}", imported.body);
    assert_eq!(imported.body, json!({"imported": 3}));
    let stored = app
        .get(
            &format!("/scoring/manual-values?period={month}&status=pending"),
            &w.sup1_token,
        )
        .await;
    let mut values: Vec<(String, f64)> = stored.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["user_id"].as_str().unwrap().to_string(),
                v["value"].as_f64().unwrap(),
            )
        })
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![(w.cadre1.clone(), 75.0), (a2, 50.0), (a3, 100.0)];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(values, expected);
    // Pending: nothing counts yet.
    let (line, _) = zdgz_line(&app, &w.sup1_token, &w.cadre1, &month).await;
    assert_eq!(line["points"], 0.0);
}

#[tokio::test]
async fn a_closed_period_takes_no_manual_value() {
    let app = spawn_app().await;
    let w = app.world().await;
    with_manual_indicator(&app).await;
    let sup1b = second_supervisor(&app, &w).await;
    let (month, _) = last_month();
    let entered = app
        .put(
            "/scoring/manual-values",
            &w.sup1_token,
            entry(&w.cadre1, &month, "zdgz", 75.0),
        )
        .await;
    assert_eq!(entered.status, 200, "{:?}", entered.body);
    let closed = app
        .post(
            &format!("/scoring/periods/{month}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);

    let approve = format!("/scoring/manual-values/{}/approve", entered.id());
    let reply = app.post(&approve, &sup1b, json!({})).await;
    assert_eq!(reply.status, 409, "{:?}", reply.body);
    let reply = app
        .put(
            "/scoring/manual-values",
            &w.sup1_token,
            entry(&w.cadre1, &month, "zdgz", 90.0),
        )
        .await;
    assert_eq!(reply.status, 409, "{:?}", reply.body);
    let csv = "phone,value,reason\n13900000011,90,完成\n";
    let reply = import(
        &app,
        &w.sup1_token,
        &format!("period={month}&code=zdgz"),
        csv,
    )
    .await;
    assert_eq!(reply.status, 409, "{:?}", reply.body);
    // The frozen row kept the line at 0: the value was never approved.
    let (line, _) = zdgz_line(&app, &w.sup1_token, &w.cadre1, &month).await;
    assert_eq!(line["points"], 0.0);
}
