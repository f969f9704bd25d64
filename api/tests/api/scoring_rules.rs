//! Scoring as towns run it (issue #11): consequences drawn within each town and only at a
//! grade, indicators left out when they do not apply, years that start counting when the
//! scheme does, and overdue orders deducted once. Every number is worked out by hand.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::scoring::{last_month, row};

/// The id of the active scheme for a category and period kind (the seeded ones).
pub async fn scheme_of(app: &TestApp, category: &str, period: &str) -> (String, Value) {
    let list = app.get("/scoring/schemes", &app.admin).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let found = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["active"] == true
                && s["scheme"]["cadre_category"] == category
                && s["scheme"]["period"] == period
        })
        .unwrap_or_else(|| panic!("no active {category} {period} scheme: {}", list.body))
        .clone();
    (
        found["id"].as_str().unwrap().to_string(),
        found["scheme"].clone(),
    )
}

/// A bonus proposed by the admin and signed off by `approver`.
async fn bonus(app: &TestApp, user: &str, period: &str, points: f64, approver: &str) {
    let proposed = app
        .post(
            "/scoring/adjustments",
            &app.admin,
            json!({"user_id": user, "period": period, "points": points, "reason": "专项工作"}),
        )
        .await;
    assert_eq!(proposed.status, 201, "{:?}", proposed.body);
    let approve = format!("/scoring/adjustments/{}/approve", proposed.id());
    let approved = app.post(&approve, approver, json!({})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
}

fn previous_month(month: NaiveDate) -> (String, NaiveDate) {
    let first = (month - Duration::days(1)).with_day(1).unwrap();
    (first.format("%Y-%m").to_string(), first)
}

fn sorted(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn consequences_are_drawn_within_each_town_and_need_the_grade() {
    let app = spawn_app().await;
    let w = app.world().await;
    let organ = |name: &str, phone: &str, unit: &str| {
        app.user(
            json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": unit,
            "cadre_category": "organ"}),
        )
    };
    let a1 = w.cadre1.clone();
    let a2 = organ("钱进", "13900000041", &w.town1).await;
    let a3 = organ("吴刚", "13900000042", &w.village1).await;
    let b1 = organ("孙亮", "13900000043", &w.town2).await;
    let b2 = organ("周红", "13900000044", &w.town2).await;

    // The seeded organ scheme, with nothing recorded: every line 0 (the work-order rates
    // left out), so each total is the bonus alone. Grades at 5 / 3 / 1.5; top 1 and
    // bottom 1 of each town.
    let (id, mut scheme) = scheme_of(&app, "organ", "month").await;
    scheme["grades"] = json!({"excellent": 5, "good": 3, "pass": 1.5});
    scheme["consequences"]["achievement_top"] = json!(1);
    scheme["consequences"]["problem_bottom"] = json!(1);
    scheme["consequences"]["statement_bottom"] = json!(1);
    let put = app
        .put(
            &format!("/scoring/schemes/{id}"),
            &app.admin,
            scheme.clone(),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);

    let (month, first) = last_month();
    let (before, _) = previous_month(first);
    for period in [&month, &before] {
        for (user, points, approver) in [
            (&a1, 6.0, &w.sup1_token),
            (&a2, 4.0, &w.sup1_token),
            (&a3, 2.0, &w.sup1_token),
            (&b1, 2.0, &w.sup2_token),
            (&b2, 1.0, &w.sup2_token),
        ] {
            bonus(&app, user, period, points, approver).await;
        }
    }

    // 青山镇: a1 6 (优秀) tops it, a3 2 (合格) is last. 云岭镇: b1 2 tops it but only
    // 合格 — no 实绩档案, and the answer says why; b2 1 (不合格) is last.
    let closed = app
        .post(
            &format!("/scoring/periods/{month}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let c = &closed.body;
    assert_eq!(
        (
            c["achievement_records"].clone(),
            c["problem_records"].clone()
        ),
        (json!(1), json!(2))
    );
    let mut last = vec![a3.clone(), b2.clone()];
    last.sort();
    assert_eq!(sorted(&c["statements"]), last);
    // b1, and the other town's village cadre (alone in their ranking, 不合格).
    let passed_over = c["passed_over"].as_array().unwrap();
    assert_eq!(passed_over.len(), 2, "{c}");
    let passed = passed_over
        .iter()
        .find(|p| p["user_id"] == b1.as_str())
        .unwrap();
    assert_eq!(passed["user_id"], b1.as_str());
    assert_eq!(
        (
            passed["rank"].clone(),
            passed["of"].clone(),
            passed["grade"].clone()
        ),
        (json!(1), json!(2), json!("pass"))
    );
    let month_words = format!("{}年{}月", first.year(), first.month());
    assert_eq!(
        passed["why"],
        format!("{month_words}云岭镇机关干部第1名（共2人），但等次合格，未达良好：不记实绩档案")
    );
    let records = app.get("/records", &app.admin).await.body;
    let mine = |user: &str| -> Vec<(String, String)> {
        records["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["user_id"] == user && r["period"] == month.as_str())
            .map(|r| {
                (
                    r["kind"].as_str().unwrap().into(),
                    r["reason"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(
        mine(&a1),
        [(
            "achievement".to_string(),
            format!("{month_words}青山镇机关干部第1名（共3人），等次优秀（机关干部月度考核）")
        )]
    );
    assert_eq!(
        mine(&a3),
        [(
            "problem".to_string(),
            format!("{month_words}青山镇机关干部第3名（共3人），排名靠后（机关干部月度考核）")
        )]
    );
    assert!(mine(&b1).is_empty() && mine(&a2).is_empty());
    assert_eq!(mine(&b2)[0].0, "problem");

    // The county as one ranking (the month before): a1 on top, b2 alone at the bottom.
    scheme["scope"] = json!("county");
    let put = app
        .put(&format!("/scoring/schemes/{id}"), &app.admin, scheme)
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let closed = app
        .post(
            &format!("/scoring/periods/{before}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let c = &closed.body;
    assert_eq!(
        (
            c["achievement_records"].clone(),
            c["problem_records"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(c["statements"], json!([b2]));
    // In the county's organ ranking, b1 (2, 合格) ties a3 for third: not on top.
    let passed_over = c["passed_over"].as_array().unwrap();
    assert!(
        passed_over.iter().all(|p| p["user_id"] != b1.as_str()),
        "{c}"
    );
}

#[tokio::test]
async fn a_cadre_without_work_orders_is_scored_on_the_rest() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (month, _) = last_month();
    // The seeded organ scheme: 四夜 20, 夜访 10, 住夜 10, three work-order rates 40 (left out
    // when there are no orders), two deductions. Nothing recorded but a 4-point bonus.
    bonus(&app, &w.cadre1, &month, 4.0, &w.sup1_token).await;
    let score = app
        .get(
            &format!("/scores/{}?period={month}", w.cadre1),
            &w.sup1_token,
        )
        .await;
    assert_eq!(score.status, 200, "{:?}", score.body);
    let lines = score.body["breakdown"].as_array().unwrap();
    let excluded: Vec<&str> = lines
        .iter()
        .filter(|l| l["excluded"] == true)
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(excluded, ["on", "rr", "sa"]);
    assert!(lines.iter().all(|l| l["points"] == 0.0));
    assert_eq!(score.body["total"], 4.0);
    // The breakdown is grouped: 夜间工作, 民情办理, 作风纪律.
    let groups: Vec<&str> = score.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["夜间工作", "民情办理", "作风纪律"]);
    assert_eq!(lines[0]["group"], "夜间工作");
}

#[tokio::test]
async fn a_year_counts_the_quarters_from_when_its_scheme_took_effect() {
    let app = spawn_app().await;
    let w = app.world().await;
    let leader = app
        .user(json!({"name": "赵镇长", "phone": "13900000031", "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "leadership"}))
        .await;
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let year = today.year();
    let current = (today.month() - 1) / 3 + 1;
    // Nothing recorded: each quarter's total is its bonus (the seeded 千分制 scheme's lines
    // all 0). 10 this quarter, and 50 in the first when this is not the first.
    bonus(
        &app,
        &leader,
        &format!("{year}-Q{current}"),
        10.0,
        &w.sup1_token,
    )
    .await;
    if current > 1 {
        bonus(&app, &leader, &format!("{year}-Q1"), 50.0, &w.sup1_token).await;
    }
    let yearly = || async {
        let page = app
            .get(
                &format!("/scores?period={year}&category=leadership"),
                &w.sup1_token,
            )
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        row(&page.body, &leader).clone()
    };
    let all_quarters = if current > 1 {
        60.0 / f64::from(current)
    } else {
        10.0
    };
    let before = yearly().await;
    assert!(
        (before["total"].as_f64().unwrap() - all_quarters).abs() < 0.006,
        "{before}"
    );

    // The scheme took effect this quarter: the earlier ones no longer count.
    let (id, mut scheme) = scheme_of(&app, "leadership", "quarter").await;
    let start = NaiveDate::from_ymd_opt(year, (current - 1) * 3 + 1, 1).unwrap();
    scheme["effective_from"] = json!(start.to_string());
    let put = app
        .put(&format!("/scoring/schemes/{id}"), &app.admin, scheme)
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let after = yearly().await;
    assert_eq!(after["total"], 10.0, "{after}");
    let quarters = after["quarters"].as_array().unwrap();
    for (i, q) in quarters.iter().enumerate() {
        let want = if i + 1 == current as usize {
            json!(10.0)
        } else {
            Value::Null
        };
        assert_eq!(q, &want, "quarter {}", i + 1);
    }
}

#[tokio::test]
async fn an_order_overdue_for_months_is_deducted_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    let order = app
        .post(
            "/work-orders",
            &w.sup1_token,
            json!({"category": "road", "title": "路灯不亮",
            "description": "村口路灯坏了两个月", "village_id": w.village1, "source": "hotline",
            "reporter_name": "张大伯", "reporter_phone": "13700000001"}),
        )
        .await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let id = order.id();
    let assigned = app
        .post(&format!("/work-orders/{id}/assign"), &w.sup1_token,
            json!({"unit_id": w.town1, "assignee_id": w.cadre1, "due_in_days": 3, "commitment": "尽快修复"}))
        .await;
    assert_eq!(assigned.status, 200, "{:?}", assigned.body);

    // Its deadline passed on the 10th of the month before last, and it is still open.
    let (last, first_of_last) = last_month();
    let (two_back, first_of_two_back) = previous_month(first_of_last);
    let due = chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .from_local_datetime(
            &first_of_two_back
                .with_day(10)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap(),
        )
        .unwrap()
        .with_timezone(&Utc);
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let zone = minqing_api::config::Config::default().timezone;
    let mut row = minqing_api::db::work_orders::find(&mut conn, &id)
        .unwrap()
        .unwrap();
    row.due_at = Some(due.naive_utc());
    row.original_due_at = row.due_at;
    conn.write(|conn| minqing_api::db::work_orders::update(conn, &row, zone))
        .unwrap();

    let overdue_line = |period: String| {
        let app = &app;
        let user = w.cadre1.clone();
        let token = w.sup1_token.clone();
        async move {
            let score = app
                .get(&format!("/scores/{user}?period={period}"), &token)
                .await;
            assert_eq!(score.status, 200, "{:?}", score.body);
            score.body["breakdown"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["code"] == "od")
                .cloned()
                .unwrap()
        }
    };
    let this = crate::scoring::this_month();
    // The seeded scheme deducts 2 a time: once, in the month the deadline passed.
    let od = overdue_line(two_back.clone()).await;
    assert_eq!(
        (od["value"].clone(), od["points"].clone()),
        (json!(1.0), json!(-2.0))
    );
    assert_eq!(od["record_ids"], json!([id]));
    for period in [last.clone(), this.clone()] {
        let od = overdue_line(period.clone()).await;
        assert_eq!(
            (od["value"].clone(), od["points"].clone()),
            (json!(0.0), json!(0.0)),
            "{period}"
        );
    }

    // A scheme that says otherwise deducts it at the end of every month it stays open.
    let (scheme_id, mut scheme) = scheme_of(&app, "organ", "month").await;
    scheme["overdue_counting"] = json!("every_period");
    let put = app
        .put(&format!("/scoring/schemes/{scheme_id}"), &app.admin, scheme)
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    for period in [two_back, last, this] {
        let od = overdue_line(period.clone()).await;
        assert_eq!(od["value"], 1.0, "{period}");
        assert_eq!(od["record_ids"], json!([id]), "{period}");
    }
}

#[tokio::test]
async fn schemes_for_staff_types_rank_their_own_cadres() {
    let app = spawn_app().await;
    let w = app.world().await;
    let organ = |name: &str, phone: &str, staff: &str| {
        app.user(
            json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "organ", "staff_type": staff}),
        )
    };
    // w.cadre1 is an organ cadre, 在编 by default.
    let e2 = organ("钱进", "13900000041", "established").await;
    let n1 = organ("吴刚", "13900000042", "non_established").await;
    let n2 = organ("孙亮", "13900000043", "non_established").await;
    let (month, _) = last_month();
    for (user, points) in [(&w.cadre1, 3.0), (&e2, 1.0), (&n1, 2.0), (&n2, 5.0)] {
        bonus(&app, user, &month, points, &w.sup1_token).await;
    }
    // The seeded organ scheme keeps the 在编; a scheme of its own for the 不在编.
    let (seeded, mut scheme) = scheme_of(&app, "organ", "month").await;
    scheme["staff_types"] = json!(["established", "instructor"]);
    let put = app
        .put(
            &format!("/scoring/schemes/{seeded}"),
            &app.admin,
            scheme.clone(),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let mut own = scheme.clone();
    own["name"] = json!("不在编人员月度考核");
    own["staff_types"] = json!(["non_established"]);
    let created = app.post("/scoring/schemes", &app.admin, own.clone()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let own_id = created.id();

    let page = app
        .get(
            &format!("/scores?period={month}&category=organ"),
            &w.sup1_token,
        )
        .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let standing = |user: &str| {
        let r = row(&page.body, user);
        (
            r["rank"].clone(),
            r["of"].clone(),
            r["scheme_id"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(standing(&w.cadre1), (json!(1), json!(2), seeded.clone()));
    assert_eq!(standing(&e2), (json!(2), json!(2), seeded.clone()));
    assert_eq!(standing(&n2), (json!(1), json!(2), own_id.clone()));
    assert_eq!(standing(&n1), (json!(2), json!(2), own_id.clone()));
    assert_eq!(page.body["items"].as_array().unwrap().len(), 4);

    // A new scheme for 在编 replaces the seeded one, and leaves the 不在编 one alone.
    let mut replacement = scheme;
    replacement["name"] = json!("在编人员月度考核");
    replacement["staff_types"] = json!(["established"]);
    let created = app.post("/scoring/schemes", &app.admin, replacement).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let list = app.get("/scoring/schemes", &app.admin).await.body;
    let active: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["active"] == true && s["scheme"]["cadre_category"] == "organ")
        .map(|s| s["scheme"]["name"].as_str().unwrap())
        .collect();
    let mut active = active;
    active.sort();
    assert_eq!(active, ["不在编人员月度考核", "在编人员月度考核"]);
    // 社区指导员 now has no organ scheme: nobody of that type is scored.
    let bad = app
        .post("/scoring/schemes", &app.admin, {
            let mut v = own;
            v["staff_types"] = json!(["non_established", "nobody"]);
            v
        })
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), ["staff_types[1]"]);
}
