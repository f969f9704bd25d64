//! Process and transparency (issue #11): the colleagues a staff member is asked to rate in a
//! period (民主测评 to do), and the results of towns and departments (单位排名) from the rows
//! `GET /scores` ranks — every number worked out by hand.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::browsing::{self, text_of, visible_text};
use crate::helpers::{spawn_app, TestApp, World, ADMIN_PASSWORD, ADMIN_PHONE, PASSWORD};

fn this_month() -> String {
    (Utc::now() + Duration::hours(8))
        .date_naive()
        .format("%Y-%m")
        .to_string()
}

/// Puts one rating; it must be taken.
async fn rate(app: &TestApp, token: &str, period: &str, ratee: &str, score: f64) {
    let reply = app
        .put(
            "/scoring/ratings",
            token,
            json!({"period": period, "ratee_id": ratee, "score": score}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// Each task as (name, cadre category, rated, score).
fn tasks(body: &Value) -> Vec<(String, Value, bool, Value)> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["cadre_category"].clone(),
                t["rated"].as_bool().unwrap_or_default(),
                t["score"].clone(),
            )
        })
        .collect()
}

fn task(name: &str, category: Value, rated: bool, score: Value) -> (String, Value, bool, Value) {
    (name.to_string(), category, rated, score)
}

#[tokio::test]
async fn rating_tasks_list_the_towns_colleagues_but_oneself_and_recusals() {
    let app = spawn_app().await;
    let w = app.world().await;
    // 青山镇's staff: 周敏 (supervisor) and 李明 (organ cadre) from the fixture; 王芳 in the
    // town, 张伟 (village cadre) in its village, 孙丽 in its department 党政办.
    let office = app.unit("党政办", "department", Some(&w.town1)).await;
    let wang = app
        .user(json!({"name": "王芳", "phone": "13900000013", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "organ"}))
        .await;
    let zhang = app
        .user(json!({"name": "张伟", "phone": "13900000014", "role": "cadre", "org_unit_id": w.village1, "cadre_category": "village"}))
        .await;
    let sun = app
        .user(json!({"name": "孙丽", "phone": "13900000015", "role": "cadre", "org_unit_id": office, "cadre_category": "organ"}))
        .await;
    // A month: ratings go only to periods a scheme scores (the seeded ones are monthly).
    let month = "2026-11";

    // 李明 rates 王芳 and is then recused from her; rates 张伟 and 周敏 this month, and 孙丽
    // only in another month.
    rate(&app, &w.cadre1_token, month, &wang, 70.0).await;
    let recusal = json!({"rater_id": w.cadre1, "ratee_id": wang, "reason": "亲属，回避"});
    assert_eq!(
        app.put("/scoring/recusals", &w.sup1_token, recusal)
            .await
            .status,
        200
    );
    rate(&app, &w.cadre1_token, month, &zhang, 80.0).await;
    rate(&app, &w.cadre1_token, month, &w.sup1, 90.0).await;
    rate(&app, &w.cadre1_token, "2026-10", &sun, 60.0).await;

    let path = format!("/scoring/rating-tasks?period={month}");
    let mine = app.get(&path, &w.cadre1_token).await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.body["period"], month);
    assert_eq!(
        (&mine.body["done"], &mine.body["total"]),
        (&json!(2), &json!(3))
    );
    // By name (code points: 周 5468, 孙 5B59, 张 5F20); not 李明 himself, not 王芳 (回避), not
    // the villager or the other town's cadre.
    assert_eq!(
        tasks(&mine.body),
        vec![
            task("周敏", Value::Null, true, json!(90.0)),
            task("孙丽", json!("organ"), false, Value::Null),
            task("张伟", json!("village"), true, json!(80.0)),
        ]
    );
    let ids: Vec<&str> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![w.sup1.as_str(), sun.as_str(), zhang.as_str()]);

    // The supervisor rates the town's four cadres: none done yet (孙 5B59, 张 5F20, 李 674E,
    // 王 738B).
    let sup = app.get(&path, &w.sup1_token).await;
    assert_eq!(sup.status, 200, "{:?}", sup.body);
    assert_eq!(
        (&sup.body["done"], &sup.body["total"]),
        (&json!(0), &json!(4))
    );
    assert_eq!(
        tasks(&sup.body),
        vec![
            task("孙丽", json!("organ"), false, Value::Null),
            task("张伟", json!("village"), false, Value::Null),
            task("李明", json!("organ"), false, Value::Null),
            task("王芳", json!("organ"), false, Value::Null),
        ]
    );
    // The other town's supervisor has only that town's cadre.
    let other = app.get(&path, &w.sup2_token).await;
    assert_eq!(other.status, 200, "{:?}", other.body);
    assert_eq!(
        tasks(&other.body),
        vec![task("刘洋", json!("village"), false, Value::Null)]
    );
    assert_eq!(
        (&other.body["done"], &other.body["total"]),
        (&json!(0), &json!(1))
    );

    // Nobody else rates; the period must be one.
    assert_eq!(app.get(&path, &app.admin).await.status, 403);
    assert_eq!(app.get(&path, &w.villager1_token).await.status, 403);
    let anonymous = app
        .call(reqwest::Method::GET, &path, None, None)
        .await
        .status;
    assert_eq!(anonymous, 401);
    let bad = app
        .get("/scoring/rating-tasks?period=2026-13", &w.cadre1_token)
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
}

/// A month scored from the democratic evaluation alone (weight 1): with one rater, each
/// cadre's total is the score given.
fn rated_scheme() -> Value {
    json!({"name": "机关干部月度考核", "cadre_category": "organ", "period": "month",
        "indicators": [{"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 4, "points": 10}],
        "democratic": {"weight": 1.0, "rater_weights": {"leadership": 0.4, "middle": 0.3, "established": 0.2, "non_established": 0.1}},
        "consequences": {"achievement_top": 1, "problem_bottom": 1, "statement_bottom": 1, "rectify_quarters": 1}})
}

/// Two towns' organ cadres with known totals this month:
/// 青山镇 — 李明 90 (the town), 王芳 70.5 (党政办), 张伟 61.25 (a village), 孙丽 74 (财政所);
/// 云岭镇 — 陈静 80 (the town), 赵强 74 (农业办). The departments' ids: (党政办, 财政所, 农业办).
async fn scored_towns(app: &TestApp, w: &World) -> (String, String, String) {
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, rated_scheme())
            .await
            .status,
        201
    );
    let office = app.unit("党政办", "department", Some(&w.town1)).await;
    let finance = app.unit("财政所", "department", Some(&w.town1)).await;
    let farming = app.unit("农业办", "department", Some(&w.town2)).await;
    let cadre = |name: &str, phone: &str, unit: &str| {
        let body = json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": unit, "cadre_category": "organ"});
        async move { app.user(body).await }
    };
    let wang = cadre("王芳", "13900000013", &office).await;
    let zhang = cadre("张伟", "13900000014", &w.village1).await;
    let sun = cadre("孙丽", "13900000015", &finance).await;
    let chen = cadre("陈静", "13900000016", &w.town2).await;
    let zhao = cadre("赵强", "13900000017", &farming).await;
    let month = this_month();
    for (ratee, score) in [
        (&w.cadre1, 90.0),
        (&wang, 70.5),
        (&zhang, 61.25),
        (&sun, 74.0),
    ] {
        rate(app, &w.sup1_token, &month, ratee, score).await;
    }
    for (ratee, score) in [(&chen, 80.0), (&zhao, 74.0)] {
        rate(app, &w.sup2_token, &month, ratee, score).await;
    }
    (office, finance, farming)
}

fn unit(
    id: &str,
    name: &str,
    cadres: u32,
    (mean, sum): (f64, f64),
    (rank, of): (u32, u32),
) -> Value {
    json!({"unit_id": id, "name": name, "cadres": cadres, "mean": mean, "sum": sum, "rank": rank, "of": of})
}

#[tokio::test]
async fn unit_results_rank_towns_and_departments_by_their_cadres_mean() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (office, finance, farming) = scored_towns(&app, &w).await;
    let month = this_month();

    // The rows the units are made of: each total is the score given.
    let scores = app
        .get(
            &format!("/scores?period={month}&category=organ"),
            &app.admin,
        )
        .await;
    assert_eq!(scores.status, 200, "{:?}", scores.body);
    let mut totals: Vec<f64> = scores.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_f64().unwrap())
        .collect();
    totals.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(totals, vec![90.0, 80.0, 74.0, 74.0, 70.5, 61.25]);

    // 青山镇: 90 + 70.5 + 61.25 + 74 = 295.75, mean 73.9375 → 73.94; 云岭镇: 80 + 74 = 154,
    // mean 77. The village cadre of 云岭镇 is not an organ cadre.
    let towns = app
        .get(
            &format!("/scores/units?period={month}&category=organ&group_by=town"),
            &app.admin,
        )
        .await;
    assert_eq!(towns.status, 200, "{:?}", towns.body);
    assert_eq!(
        towns.body,
        json!([
            unit(&w.town2, "云岭镇", 2, (77.0, 154.0), (1, 2)),
            unit(&w.town1, "青山镇", 4, (73.94, 295.75), (2, 2)),
        ])
    );
    let by_default = app
        .get(
            &format!("/scores/units?period={month}&category=organ"),
            &app.admin,
        )
        .await;
    assert_eq!(by_default.body, towns.body, "group_by defaults to town");

    // Departments: 农业办 74 and 财政所 74 share the first rank (by name: 农 519C before 财
    // 8D22), 党政办 70.5 is third; 李明, 张伟 and 陈静 are in no department.
    let departments = app
        .get(
            &format!("/scores/units?period={month}&category=organ&group_by=department"),
            &app.admin,
        )
        .await;
    assert_eq!(departments.status, 200, "{:?}", departments.body);
    assert_eq!(
        departments.body,
        json!([
            unit(&farming, "农业办", 1, (74.0, 74.0), (1, 3)),
            unit(&finance, "财政所", 1, (74.0, 74.0), (1, 3)),
            unit(&office, "党政办", 1, (70.5, 70.5), (3, 3)),
        ])
    );

    // A category with no scheme for the kind of period, and a period that is none.
    let no_scheme = app
        .get("/scores/units?period=2026-Q4&category=organ", &app.admin)
        .await;
    assert_eq!(no_scheme.status, 404, "{:?}", no_scheme.body);
    let bad = app
        .get("/scores/units?period=2026-13&category=organ", &app.admin)
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
}

#[tokio::test]
async fn unit_results_are_for_supervisors_of_their_subtree_and_the_admin() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (office, finance, farming) = scored_towns(&app, &w).await;
    let month = this_month();
    let path =
        |group: &str| format!("/scores/units?period={month}&category=organ&group_by={group}");

    // 青山镇's supervisor: only 青山镇 and its departments, ranked among themselves.
    let towns = app.get(&path("town"), &w.sup1_token).await;
    assert_eq!(towns.status, 200, "{:?}", towns.body);
    assert_eq!(
        towns.body,
        json!([unit(&w.town1, "青山镇", 4, (73.94, 295.75), (1, 1))])
    );
    let departments = app.get(&path("department"), &w.sup1_token).await;
    assert_eq!(
        departments.body,
        json!([
            unit(&finance, "财政所", 1, (74.0, 74.0), (1, 2)),
            unit(&office, "党政办", 1, (70.5, 70.5), (2, 2)),
        ])
    );
    // 云岭镇's supervisor: only 云岭镇.
    assert_eq!(
        app.get(&path("town"), &w.sup2_token).await.body,
        json!([unit(&w.town2, "云岭镇", 2, (77.0, 154.0), (1, 1))])
    );
    assert_eq!(
        app.get(&path("department"), &w.sup2_token).await.body,
        json!([unit(&farming, "农业办", 1, (74.0, 74.0), (1, 1))])
    );

    // Cadres and villagers do not read rankings; strangers sign in first.
    assert_eq!(app.get(&path("town"), &w.cadre1_token).await.status, 403);
    assert_eq!(app.get(&path("town"), &w.villager1_token).await.status, 403);
    let anonymous = app
        .call(reqwest::Method::GET, &path("town"), None, None)
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn the_desk_ranks_units_as_the_api_does() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (office, finance, _) = scored_towns(&app, &w).await;
    let month = this_month();
    let path = format!("/desk/scores?period={month}&category=organ");

    let sup1 = browsing::sign_in(&app, "13900000001", PASSWORD).await;
    let page = browsing::get(&app, Some(&sup1), &path).await;
    assert_eq!(page.status, 200);
    let html = page.html();
    assert!(visible_text(&html).contains("单位排名"));
    let cell = |what: &str, id: &str| text_of(&html, &format!("unit-{what}-{id}"));
    assert_eq!(cell("name", &w.town1).as_deref(), Some("青山镇"));
    assert_eq!(cell("rank", &w.town1).as_deref(), Some("1 / 1"));
    assert_eq!(cell("cadres", &w.town1).as_deref(), Some("4"));
    assert_eq!(cell("mean", &w.town1).as_deref(), Some("73.94"));
    assert_eq!(cell("sum", &w.town1).as_deref(), Some("295.75"));
    assert_eq!(cell("rank", &finance).as_deref(), Some("1 / 2"));
    assert_eq!(cell("mean", &finance).as_deref(), Some("74.00"));
    assert_eq!(cell("rank", &office).as_deref(), Some("2 / 2"));
    assert_eq!(cell("mean", &office).as_deref(), Some("70.50"));
    assert_eq!(cell("name", &w.town2), None, "not the other town");

    // The admin's desk ranks both towns.
    let admin = browsing::sign_in(&app, ADMIN_PHONE, ADMIN_PASSWORD).await;
    let html = browsing::get(&app, Some(&admin), &path).await.html();
    assert_eq!(
        text_of(&html, &format!("unit-rank-{}", w.town2)).as_deref(),
        Some("1 / 2")
    );
    assert_eq!(
        text_of(&html, &format!("unit-rank-{}", w.town1)).as_deref(),
        Some("2 / 2")
    );
    assert_eq!(
        text_of(&html, &format!("unit-mean-{}", w.town2)).as_deref(),
        Some("77.00")
    );
}
