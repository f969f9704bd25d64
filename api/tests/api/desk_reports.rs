//! The desk's reports — 履约统计, 考核排名, 督查通报 — as a supervisor's browser gets them
//! (signed in through the sign-in form, no JavaScript), checked number by number against
//! the JSON API for the same period and subtree, their Excel downloads opened as workbooks.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::browsing::{self, sign_in, text_of};
use crate::helpers::{
    checkin, spawn_app, TestApp, World, ADMIN_PASSWORD, ADMIN_PHONE, CENTRE, PASSWORD,
};

async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, String, Vec<u8>) {
    let a = browsing::get(app, Some(cookie), path).await;
    (a.status, a.kind, a.body)
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let (status, kind, body) = get(app, cookie, path).await;
    let html = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{path}: {html}");
    assert!(kind.starts_with("text/html"), "{kind}");
    html
}

fn cell(html: &str, id: &str) -> String {
    text_of(html, id).unwrap_or_else(|| panic!("no #{id} on the page"))
}

/// The rows of a downloaded workbook's sheet.
fn sheet(bytes: Vec<u8>, name: &str) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx workbook");
    let range = book.worksheet_range(name).expect("the sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

fn data_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => panic!("unexpected cell {other:?}"),
    }
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// Today in the towns' zone (Asia/Shanghai, no daylight saving).
fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn month_of(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

fn last_month() -> NaiveDate {
    (today().with_day(1).unwrap() - Duration::days(1))
        .with_day(1)
        .unwrap()
}

/// A rate as the page shows it.
fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".to_string(), |r| format!("{:.1}%", r * 100.0))
}

fn one_decimal(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".to_string(), |x| format!("{x:.1}"))
}

/// An API compliance row in the page's column order.
fn api_line(r: &Value) -> Vec<String> {
    vec![
        r["name"].as_str().unwrap().to_string(),
        r["assigned"].to_string(),
        r["resolved"].to_string(),
        pct(&r["response_rate"]),
        pct(&r["resolution_rate"]),
        pct(&r["on_time_rate"]),
        pct(&r["satisfaction_rate"]),
        one_decimal(&r["avg_satisfaction"]),
        pct(&r["reopen_rate"]),
        r["overdue_open"].to_string(),
        r["overdue_resolved"].to_string(),
        one_decimal(&r["avg_resolution_hours"]),
    ]
}

const COLUMNS: [&str; 11] = [
    "assigned",
    "resolved",
    "response",
    "resolution",
    "on-time",
    "satisfaction",
    "avg-satisfaction",
    "reopen",
    "overdue-open",
    "overdue-resolved",
    "hours",
];

/// The page's table rows (name first), in the page's order.
fn page_lines(html: &str) -> Vec<Vec<String>> {
    (0..)
        .map_while(|i| {
            let name = text_of(html, &format!("row-{i}-name"))?;
            let mut line = vec![name];
            line.extend(COLUMNS.iter().map(|c| cell(html, &format!("row-{i}-{c}"))));
            Some(line)
        })
        .collect()
}

fn total_line(html: &str) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| cell(html, &format!("total-{c}")))
        .collect()
}

fn sorted(mut lines: Vec<Vec<String>>) -> Vec<Vec<String>> {
    lines.sort();
    lines
}

async fn road_world(app: &TestApp) -> World {
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    w
}

async fn file(app: &TestApp, token: &str, village: &str, title: &str) -> Value {
    let reply = app
        .post(
            "/work-orders",
            token,
            json!({"category": "road", "title": title, "description": "晚上路口太黑，老人出门不安全",
                   "village_id": village, "lat": CENTRE.0, "lon": CENTRE.1, "source": "villager"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

async fn step(app: &TestApp, token: &str, id: &str, what: &str, body: Value) {
    let reply = app
        .post(&format!("/work-orders/{id}/{what}"), token, body)
        .await;
    assert_eq!(reply.status, 200, "{what}: {:?}", reply.body);
}

async fn assign_to(app: &TestApp, token: &str, id: &str, unit: &str, assignee: Option<&str>) {
    step(
        app,
        token,
        id,
        "assign",
        json!({"unit_id": unit, "assignee_id": assignee, "due_in_working_days": 3, "commitment": "三个工作日内办好"}),
    )
    .await;
}

/// 青山镇's month: two orders of the town office handled and rated (90, and 40 which sends
/// it back), three of 农业办 of which one was taken on, one never assigned, one solved on
/// the spot; and one order of 云岭镇.
async fn a_month_of_orders(app: &TestApp, w: &World) {
    let office = app.unit("农业办", "department", Some(&w.town1)).await;
    app.user(json!({"name": "赵刚", "phone": "13900000031", "role": "cadre", "org_unit_id": office, "cadre_category": "organ"}))
        .await;
    let clerk = app.login("13900000031", PASSWORD).await;
    for score in [90, 40] {
        let id = file(app, &w.villager1_token, &w.village1, "路灯坏了").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        assign_to(app, &w.sup1_token, &id, &w.town1, Some(&w.cadre1)).await;
        step(app, &w.cadre1_token, &id, "accept", json!({})).await;
        step(
            app,
            &w.cadre1_token,
            &id,
            "resolve",
            json!({"resolution_note": "修好了"}),
        )
        .await;
        step(
            app,
            &w.villager1_token,
            &id,
            "rate",
            json!({"score": score}),
        )
        .await;
    }
    for taken in [false, false, true] {
        let id = file(app, &w.villager1_token, &w.village1, "水渠堵了").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        assign_to(app, &w.sup1_token, &id, &office, None).await;
        if taken {
            step(app, &clerk, &id, "accept", json!({})).await;
        }
    }
    file(app, &w.villager1_token, &w.village1, "还没派单").await;
    let mut spot = json!({"category": "road", "title": "当场修好", "description": "走访时发现路灯松了",
        "village_id": w.village1, "source": "visit", "resolved_on_spot": true, "resolution_note": "当场拧紧"});
    spot["lat"] = json!(CENTRE.0);
    spot["lon"] = json!(CENTRE.1);
    assert_eq!(
        app.post("/work-orders", &w.cadre1_token, spot).await.status,
        201
    );
    let villager2 = app.login("13900000022", PASSWORD).await;
    let far = file(app, &villager2, &w.village2, "云岭村的路").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assign_to(app, &w.sup2_token, &far, &w.town2, None).await;
}

#[tokio::test]
async fn the_compliance_page_and_its_excel_count_as_the_api_does() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    a_month_of_orders(&app, &w).await;
    let (from, to) = (today().with_day(1).unwrap(), today());
    let cookie = sign_in(&app, "13900000001", PASSWORD).await;

    for group in ["unit", "village", "assignee"] {
        let api = app
            .get(
                &format!("/compliance?group_by={group}&from={from}&to={to}"),
                &w.sup1_token,
            )
            .await;
        assert_eq!(api.status, 200, "{:?}", api.body);
        let api_lines: Vec<Vec<String>> =
            api.body.as_array().unwrap().iter().map(api_line).collect();
        let html = page(
            &app,
            &cookie,
            &format!("/desk/compliance?group={group}&from={from}&to={to}"),
        )
        .await;
        assert_eq!(
            sorted(page_lines(&html)),
            sorted(api_lines.clone()),
            "{group}"
        );
        // Totals are the sums of the API's counts; rates are recomputed from summed parts.
        let sum = |key: &str| -> u64 {
            api.body
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[key].as_u64().unwrap())
                .sum()
        };
        let total = total_line(&html);
        assert_eq!(total[0], sum("assigned").to_string(), "{group}");
        assert_eq!(total[1], sum("resolved").to_string(), "{group}");
        assert_eq!(total[8], sum("overdue_open").to_string(), "{group}");

        // The download holds the same rows and the totals row.
        let (status, kind, bytes) = get(
            &app,
            &cookie,
            &format!("/desk/compliance/export?group={group}&from={from}&to={to}"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(kind.contains("spreadsheetml"), "{kind}");
        let rows = sheet(bytes, "履约统计");
        assert_eq!(data_text(&rows[0][1]), "受理");
        let shown = page_lines(&html);
        assert_eq!(rows.len(), shown.len() + 2, "header, rows, totals");
        let mut expected = shown.clone();
        let mut with_total = vec!["合计".to_string()];
        with_total.extend(total.clone());
        expected.push(with_total);
        for (row, want) in rows[1..].iter().zip(&expected) {
            let got: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, d)| match (i, d) {
                    (_, Data::String(s)) => s.clone(),
                    // 受理, 办结 and the overdue counts are whole numbers.
                    (1 | 2 | 9 | 10, d) => format!("{}", number(d)),
                    // Rates are kept in percent, averages as they are.
                    (7 | 11, d) => format!("{:.1}", number(d)),
                    (_, d) => format!("{:.1}%", number(d)),
                })
                .collect();
            assert_eq!(&got, want, "{group}");
        }
    }

    // By unit: 青山镇 answered both orders within a day, 农业办 one of three. The totals row
    // is 3 of 5 (60%), not the mean of 100% and 33.3%.
    let html = page(&app, &cookie, "/desk/compliance").await;
    let by_unit = page(
        &app,
        &cookie,
        &format!("/desk/compliance?group=unit&from={from}&to={to}"),
    )
    .await;
    assert_eq!(
        page_lines(&html),
        page_lines(&by_unit),
        "this month so far by unit is the default"
    );
    assert_eq!(
        total_line(&html),
        ["5", "2", "60.0%", "20.0%", "100.0%", "50.0%", "65.0", "50.0%", "0", "0", "0.0"]
    );
    // The headline counts every order of the villages: the one solved on the spot too.
    assert_eq!(cell(&html, "headline-assigned"), "5");
    assert_eq!(cell(&html, "headline-resolved"), "3");
    assert_eq!(cell(&html, "headline-satisfaction"), "65.0");
    let differ = cell(&html, "totals-differ");
    for part in [
        "按村合计：新收 7 件、受理 5 件、办结 3 件",
        "按责任单位合计：新收 5 件、受理 5 件、办结 2 件",
    ] {
        assert!(differ.contains(part), "{differ}");
    }
    let month = format!(">{}月<", today().month());
    assert!(
        html.contains("<svg") && html.contains(&month),
        "the trend chart"
    );
    for label in ["分组", "开始日期", "结束日期", "查询", "导出Excel"] {
        assert!(html.contains(label), "{label}");
    }

    // A wrong date is said so, and the page still answers.
    let (status, _, body) = get(&app, &cookie, "/desk/compliance?from=2026-13-01").await;
    assert_eq!(status, 422);
    assert!(String::from_utf8(body).unwrap().contains("日期填写有误"));

    // 云岭镇's supervisor sees their own order and nothing of 青山镇.
    let other = sign_in(&app, "13900000002", PASSWORD).await;
    let theirs = page(&app, &other, "/desk/compliance").await;
    let lines = page_lines(&theirs);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0][0], "云岭镇");
    assert!(!theirs.contains("青山镇") && !theirs.contains("农业办"));
}

/// Three organ cadres of 青山镇 and two of 云岭镇, told apart by their colleagues' ratings.
async fn rated_cadres(app: &TestApp, w: &World, period: &str) -> [String; 5] {
    let cadre = |name: &str, phone: &str, town: &str| json!({"name": name, "phone": phone, "role": "cadre", "org_unit_id": town, "cadre_category": "organ"});
    let b = app.user(cadre("王芳", "13900000033", &w.town1)).await;
    let c = app.user(cadre("陈静", "13900000034", &w.town1)).await;
    let d = app.user(cadre("孙伟", "13900000035", &w.town2)).await;
    let e = app.user(cadre("周杰", "13900000036", &w.town2)).await;
    let a = w.cadre1.clone();
    for (token, ratee, score) in [
        (&w.sup1_token, &a, 90),
        (&w.sup1_token, &b, 60),
        (&w.sup1_token, &c, 75),
        (&w.sup2_token, &d, 80),
        (&w.sup2_token, &e, 70),
    ] {
        let reply = app
            .put(
                "/scoring/ratings",
                token,
                json!({"period": period, "ratee_id": ratee, "score": score}),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    [a, b, c, d, e]
}

fn items(reply: &crate::helpers::Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

fn id_of(row: &Value) -> String {
    row["user_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_ranking_page_ranks_within_each_town_as_the_api_does() {
    let app = spawn_app().await;
    let w = app.world().await;
    let month = month_of(today());
    let [a, b, c, d, e] = rated_cadres(&app, &w, &month).await;
    let query = format!("period={month}&category=organ");
    // A manual indicator scored as a rate: its value is a share (0.85) and reads as a percent,
    // as the work-order rates do.
    let (scheme, mut body) = crate::scoring_rules::scheme_of(&app, "organ", "month").await;
    body["indicators"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "dj",
        "name": "党建考评", "metric": "manual", "rule": "rate", "points": 10}));
    let saved = app
        .put(&format!("/scoring/schemes/{scheme}"), &app.admin, body)
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let entered = app
        .put(
            "/scoring/manual-values",
            &w.sup1_token,
            json!({"user_id": a, "period": month, "code": "dj", "value": 0.85,
                "reason": "党建考评（县委组织部通报）"}),
        )
        .await;
    assert_eq!(entered.status, 200, "{:?}", entered.body);
    let approve = format!("/scoring/manual-values/{}/approve", entered.id());
    let approved = app.post(&approve, &app.admin, json!({})).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);

    let mine = items(&app.get(&format!("/scores?{query}"), &w.sup1_token).await);
    let mut ours: Vec<String> = mine.iter().map(id_of).collect();
    ours.sort();
    let mut want = vec![a.clone(), b.clone(), c.clone()];
    want.sort();
    assert_eq!(ours, want, "a supervisor's list is their town");
    let cookie = sign_in(&app, "13900000001", PASSWORD).await;
    let html = page(&app, &cookie, &format!("/desk/scores?{query}")).await;
    for row in &mine {
        let id = id_of(row);
        assert_eq!(
            cell(&html, &format!("rank-{id}")),
            row["town_rank"].to_string()
        );
        assert_eq!(
            cell(&html, &format!("total-{id}")),
            format!("{:.2}", row["total"].as_f64().unwrap())
        );
    }
    // Ranked by the ratings within the town, best first on the page.
    let rank = |id: &str| cell(&html, &format!("rank-{id}"));
    assert_eq!(
        (rank(&a), rank(&c), rank(&b)),
        ("1".into(), "2".into(), "3".into())
    );
    let at = |id: &str| html.find(&format!("id=\"rank-{id}\"")).unwrap();
    assert!(at(&a) < at(&c) && at(&c) < at(&b));
    assert!(
        text_of(&html, &format!("total-{d}")).is_none(),
        "nothing of 云岭镇"
    );
    let standing = cell(&html, "standing");
    assert!(
        standing.starts_with("本月进行中：已过") && standing.ends_with("%，分数随记录变化"),
        "{standing}"
    );
    for label in ["期间", "类别", "查询", "导出Excel", "明细"] {
        assert!(html.contains(label), "{label}");
    }

    // The admin sees each town ranked within itself.
    let admin = sign_in(&app, ADMIN_PHONE, ADMIN_PASSWORD).await;
    let county = page(&app, &admin, &format!("/desk/scores?{query}")).await;
    assert!(county.contains("青山镇（共 3 人") && county.contains("云岭镇（共 2 人"));
    let all = items(&app.get(&format!("/scores?{query}"), &app.admin).await);
    for row in &all {
        let id = id_of(row);
        assert_eq!(
            cell(&county, &format!("rank-{id}")),
            row["town_rank"].to_string()
        );
        assert_eq!(
            cell(&county, &format!("total-{id}")),
            format!("{:.2}", row["total"].as_f64().unwrap())
        );
    }
    assert_eq!(cell(&county, &format!("rank-{d}")), "1");
    assert_eq!(cell(&county, &format!("rank-{e}")), "2");

    // Opening a cadre counts the records behind each line, as the API's breakdown lists them.
    let opened = page(&app, &cookie, &format!("/desk/scores?{query}&open={a}")).await;
    let explained = app
        .get(&format!("/scores/{a}?period={month}"), &w.sup1_token)
        .await;
    assert_eq!(explained.status, 200, "{:?}", explained.body);
    for line in explained.body["breakdown"].as_array().unwrap() {
        let code = line["code"].as_str().unwrap();
        let n = line["record_ids"].as_array().unwrap().len();
        assert_eq!(
            cell(&opened, &format!("records-{a}-{code}")),
            format!("{n} 条")
        );
    }
    assert!(opened.contains("<details open>"));
    assert_eq!(cell(&opened, &format!("value-{a}-dj")), "85.0%");
    assert!(
        !html.contains("class=\"sc-records\""),
        "rows not opened cost no queries"
    );

    // The download is the ranking on the page.
    let (status, kind, bytes) = get(&app, &cookie, &format!("/desk/scores/export?{query}")).await;
    assert_eq!(status, 200);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    let rows = sheet(bytes, "考核排名");
    assert_eq!(
        rows[0][..4].iter().map(data_text).collect::<Vec<_>>(),
        ["乡镇", "镇内排名", "姓名", "总分"]
    );
    assert_eq!(rows.len(), 4);
    let names: Vec<String> = rows[1..].iter().map(|r| data_text(&r[2])).collect();
    assert_eq!(names, ["李明", "陈静", "王芳"]);
    for r in &rows[1..] {
        let api = mine.iter().find(|m| m["name"] == data_text(&r[2])).unwrap();
        assert_eq!(data_text(&r[0]), "青山镇");
        assert_eq!(number(&r[1]), api["town_rank"].as_f64().unwrap());
        assert!((number(&r[3]) - api["total"].as_f64().unwrap()).abs() < 1e-9);
    }

    // 云岭镇's supervisor sees only their own.
    let other = sign_in(&app, "13900000002", PASSWORD).await;
    let theirs = page(&app, &other, &format!("/desk/scores?{query}")).await;
    assert!(text_of(&theirs, &format!("total-{a}")).is_none());
    assert_eq!(cell(&theirs, &format!("rank-{e}")), "2");
}

/// A check-in far outside the village, so that it is flagged.
async fn flagged_checkin(app: &TestApp, w: &World) -> String {
    let body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0 + 0.2,
        CENTRE.1,
        &(Utc::now() - Duration::minutes(2)).to_rfc3339(),
    );
    let reply = app.post("/checkins", &w.cadre1_token, body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "flagged");
    reply.id()
}

/// Moves an order's deadline back as the clock would move forward.
fn due_ago(app: &TestApp, id: &str, ago: Duration) {
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let zone = minqing_api::config::Config::default().timezone;
    let mut row = minqing_api::db::work_orders::find(&mut conn, id)
        .unwrap()
        .unwrap();
    row.due_at = Some((Utc::now() - ago).naive_utc());
    row.original_due_at = row.due_at;
    conn.write(|conn| minqing_api::db::work_orders::update(conn, &row, zone))
        .unwrap();
}

#[tokio::test]
async fn the_bulletin_counts_as_the_api_and_names_the_overdue_and_the_bottom() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    // A scheme whose consequences reach one cadre each way, so that two in a town are enough.
    let scheme = json!({"name": "通报测试考核", "cadre_category": "organ", "period": "month",
        "indicators": [{"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 4, "points": 40}],
        "democratic": {"weight": 0.2, "rater_weights": {"leadership": 0.4, "middle": 0.3, "established": 0.2, "non_established": 0.1}},
        "consequences": {"achievement_top": 1, "problem_bottom": 1, "statement_bottom": 1, "rectify_quarters": 1}});
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, scheme)
            .await
            .status,
        201
    );
    let last = month_of(last_month());
    let [a, b, c, _, _] = rated_cadres(&app, &w, &last).await;
    let closed = app
        .post(
            &format!("/scoring/periods/{last}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);

    a_month_of_orders(&app, &w).await;
    // Two orders past their deadline: three days and two hours ago, and an hour ago.
    let mut late = Vec::new();
    for ago in [Duration::hours(74), Duration::hours(1)] {
        let order = file(&app, &w.villager1_token, &w.village1, "超期的路").await;
        let id = order["id"].as_str().unwrap().to_string();
        assign_to(&app, &w.sup1_token, &id, &w.town1, Some(&w.cadre1)).await;
        due_ago(&app, &id, ago);
        late.push(order["code"].as_str().unwrap().to_string());
    }
    let first = flagged_checkin(&app, &w).await;
    flagged_checkin(&app, &w).await;
    let decided = app
        .post(
            &format!("/checkins/{first}/review"),
            &w.sup1_token,
            json!({"decision": "approve", "reason": "已电话核实"}),
        )
        .await;
    assert_eq!(decided.status, 200, "{:?}", decided.body);

    // This month's bulletin: the API's rates for the same days, by unit and by village.
    let this = today();
    let (from, to) = (
        this.with_day(1).unwrap(),
        (this.with_day(1).unwrap() + Duration::days(32))
            .with_day(1)
            .unwrap()
            - Duration::days(1),
    );
    let cookie = sign_in(&app, "13900000001", PASSWORD).await;
    let html = page(
        &app,
        &cookie,
        &format!("/desk/bulletin?month={}", month_of(this)),
    )
    .await;
    assert_eq!(
        cell(&html, "bulletin-issue"),
        format!("{}年第{}期", this.year(), this.month())
    );
    for (group, kind) in [("unit", "unit"), ("village", "village")] {
        let api = app
            .get(
                &format!("/compliance?group_by={group}&from={from}&to={to}"),
                &w.sup1_token,
            )
            .await
            .body;
        let api = api.as_array().unwrap();
        let shown: Vec<Vec<String>> = (0..)
            .map_while(|i| {
                let name = text_of(&html, &format!("{kind}-{i}-name"))?;
                let mut line = vec![name];
                for c in [
                    "assigned",
                    "resolved",
                    "response",
                    "on-time",
                    "satisfaction",
                ] {
                    line.push(cell(&html, &format!("{kind}-{i}-{c}")));
                }
                Some(line)
            })
            .collect();
        let wanted: Vec<Vec<String>> = api
            .iter()
            .map(|r| {
                vec![
                    r["name"].as_str().unwrap().to_string(),
                    r["assigned"].to_string(),
                    r["resolved"].to_string(),
                    pct(&r["response_rate"]),
                    pct(&r["on_time_rate"]),
                    pct(&r["satisfaction_rate"]),
                ]
            })
            .collect();
        assert_eq!(sorted(shown), sorted(wanted), "{group}");
        let assigned: u64 = api.iter().map(|r| r["assigned"].as_u64().unwrap()).sum();
        assert_eq!(
            cell(&html, &format!("{kind}-total-assigned")),
            assigned.to_string()
        );
    }
    assert_eq!(
        cell(&html, "unit-total-response"),
        "42.9%",
        "3 of 7 taken on within a day"
    );
    // The overdue list: most overdue first, whole days begun.
    assert_eq!(cell(&html, "bl-overdue-count"), "2");
    assert_eq!(cell(&html, "overdue-0-code"), late[0]);
    assert_eq!(cell(&html, "overdue-0-days"), "4");
    assert_eq!(cell(&html, "overdue-1-code"), late[1]);
    assert_eq!(cell(&html, "overdue-1-days"), "1");
    let api_overdue = app.get("/work-orders?overdue=true", &w.sup1_token).await;
    let codes: Vec<&str> = api_overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [late[0].as_str(), late[1].as_str()]);
    assert_eq!(cell(&html, "bl-flagged"), "2");
    assert_eq!(cell(&html, "bl-waiting"), "1");
    assert!(cell(&html, "bl-statements").contains("尚未结算"));

    // Last month's bulletin: closed, with the rankings' top and bottom and the statements.
    let closed_month = page(&app, &cookie, &format!("/desk/bulletin?month={last}")).await;
    let ranked = items(
        &app.get(
            &format!("/scores?period={last}&category=organ"),
            &w.sup1_token,
        )
        .await,
    );
    let name = |id: &str| {
        ranked
            .iter()
            .find(|r| r["user_id"] == id)
            .map(|r| r["name"].as_str().unwrap().to_string())
            .unwrap()
    };
    let statements: Vec<String> = ranked
        .iter()
        .filter(|r| {
            r["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "statement")
        })
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statements, [name(&b)], "the bottom of 青山镇");
    assert!(closed_month.contains(&format!("class=\"bl-statement-name\">{}<", name(&b))));
    assert!(!closed_month.contains("孙伟") && !closed_month.contains("周杰"));
    let ranking_at = closed_month
        .find("青山镇 · 机关干部（共 3 人）")
        .expect("the ranking");
    let ranking = &closed_month[ranking_at..];
    let (top, bottom) = ranking.split_at(ranking.find("后三名").unwrap());
    // Three cadres are all the top three; nobody is in both lists.
    assert!(top.contains(&name(&a)) && top.contains(&name(&c)) && top.contains(&name(&b)));
    assert!(bottom[..bottom.find("</table>").unwrap()].contains("人数不足"));
    assert!(cell(&closed_month, "bl-statements").contains("后进表态"));

    // 云岭镇's supervisor reads their own bulletin: none of 青山镇's rows, orders or people.
    let other = sign_in(&app, "13900000002", PASSWORD).await;
    let theirs = page(
        &app,
        &other,
        &format!("/desk/bulletin?month={}", month_of(this)),
    )
    .await;
    assert_eq!(cell(&theirs, "unit-0-name"), "云岭镇");
    assert!(text_of(&theirs, "unit-1-name").is_none());
    assert!(!theirs.contains("青山镇") && !theirs.contains(&late[0]));
    assert_eq!(cell(&theirs, "bl-flagged"), "0");
    // The statement list is the API's: the engine ranks each town for it, so 云岭镇's own
    // bottom is listed there, and none of 青山镇's.
    let their_last = page(&app, &other, &format!("/desk/bulletin?month={last}")).await;
    let their_statements: Vec<String> = items(
        &app.get(
            &format!("/scores?period={last}&category=organ"),
            &w.sup2_token,
        )
        .await,
    )
    .into_iter()
    .filter(|r| {
        r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "statement")
    })
    .map(|r| r["name"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(their_statements, ["周杰"]);
    assert!(their_last.contains("class=\"bl-statement-name\">周杰<"));
    assert!(!their_last.contains(&name(&b)) && their_last.contains("孙伟"));
    assert_eq!(name(&a), "李明");
}
