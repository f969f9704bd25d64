//! The desk's order pages (超期工单, 工单台账, one order's page) as a supervisor's browser
//! without JavaScript uses them: signed in through `/login`, plain forms posted to the real
//! app; the data is built, and the outcome checked, through the JSON API.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, Utc};
use chrono_tz::Asia::Shanghai;
use minqing_e2e::photos::{jpeg, FixtureExif};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{json, Value};

use crate::browsing::{self, browser, origin, visible_text};
use crate::helpers::{spawn_app, TestApp, World, CENTRE, PASSWORD};

/// Signs in through the sign-in form; the `mq_session` cookie to send with later requests.
async fn sign_in(app: &TestApp, phone: &str) -> String {
    browsing::sign_in(app, phone, PASSWORD).await
}

/// (status, Location, body) of a page.
async fn page(app: &TestApp, session: &str, path: &str) -> (u16, String, String) {
    let a = browsing::get(app, Some(session), path).await;
    (a.status, a.location.clone(), a.html())
}

/// Posts a form; (status, Location, body).
async fn post(
    app: &TestApp,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let a = browsing::post(app, Some(session), path, fields).await;
    (a.status, a.location.clone(), a.html())
}

/// Whether `text` holds something shaped like a UUID (8-4-4-4-12 hex digits).
fn has_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(35)).any(|i| {
        b[i..i + 36].iter().enumerate().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}

/// The HTML of the element that starts at `id="{id}"` up to `end`.
fn part<'a>(html: &'a str, id: &str, end: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[at..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The world with a `road` category (3 working days) and a boundary around village 1.
async fn road_world(app: &TestApp) -> World {
    let w = app.checkin_world().await;
    let category = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    assert_eq!(
        app.post("/categories", &app.admin, category).await.status,
        201
    );
    w
}

/// Files an order as `token` (a villager, or a supervisor taking a hotline call); (id, code).
async fn file(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let filed = app.post("/work-orders", token, body).await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    (filed.id(), filed.body["code"].as_str().unwrap().to_string())
}

fn villager_report(village: &str, title: &str, lat_offset: f64) -> Value {
    json!({"category": "road", "title": title, "description": "晚上路口太黑，老人出门不安全",
           "village_id": village, "lat": CENTRE.0 + lat_offset, "lon": CENTRE.1, "source": "villager"})
}

fn hotline_call(village: &str, title: &str, reporter: &str) -> Value {
    json!({"category": "road", "title": title, "description": "热线来电反映",
           "village_id": village, "source": "hotline", "reporter_name": reporter,
           "reporter_phone": "13712345678"})
}

async fn assign_by_api(app: &TestApp, token: &str, id: &str, unit: &str, person: &str) {
    let reply = app
        .post(&format!("/work-orders/{id}/assign"), token,
            json!({"unit_id": unit, "assignee_id": person, "due_in_working_days": 3, "commitment": "三个工作日内修好"}))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// Moves an order's deadline `days` into the past, as the clock moving on would.
fn due_days_ago(app: &TestApp, id: &str, days: i64) {
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let zone = minqing_api::config::Config::default().timezone;
    let mut row = minqing_api::db::work_orders::find(&mut conn, id)
        .unwrap()
        .unwrap();
    let due = (Utc::now() - Duration::days(days) - Duration::seconds(1)).naive_utc();
    row.due_at = Some(due);
    row.original_due_at = Some(due);
    conn.write(|conn| minqing_api::db::work_orders::update(conn, &row, zone))
        .unwrap();
}

#[tokio::test]
async fn a_supervisor_sees_their_towns_overdue_orders_most_overdue_first_with_names() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let (late2, code2) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "桥面裂缝", 0.0),
    )
    .await;
    let (late5, code5) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "路灯不亮", 0.01),
    )
    .await;
    let (fresh, code_fresh) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "水沟堵塞", 0.02),
    )
    .await;
    let (other, code_other) = file(
        &app,
        &w.sup2_token,
        hotline_call(&w.village2, "云岭村道路塌方", "陈阿姨"),
    )
    .await;
    for id in [&late2, &late5, &fresh] {
        assign_by_api(&app, &w.sup1_token, id, &w.town1, &w.cadre1).await;
    }
    assign_by_api(&app, &w.sup2_token, &other, &w.town2, &w.cadre2).await;
    due_days_ago(&app, &late2, 2);
    due_days_ago(&app, &late5, 5);
    due_days_ago(&app, &other, 7);
    let (_, code_waiting) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "垃圾无人清运", 0.03),
    )
    .await;

    let session = sign_in(&app, "13900000001").await;
    let (status, _, html) = page(&app, &session, "/desk/overdue").await;
    assert_eq!(status, 200, "{html}");
    let table = part(&html, "overdue", "</table>");
    let text = visible_text(table);
    assert!(!text.contains(&code_other), "another town's order: {text}");
    assert!(!text.contains(&code_fresh), "not overdue yet: {text}");
    let (at5, at2) = (text.find(&code5).unwrap(), text.find(&code2).unwrap());
    assert!(at5 < at2, "most overdue first: {text}");
    for words in [
        "超期 5 天",
        "超期 2 天",
        "李明",
        "青山镇",
        "溪口村",
        "道路维修",
        "路灯不亮",
    ] {
        assert!(text.contains(words), "{words} in {text}");
    }
    assert!(
        table.contains(&format!("/desk/orders/{code5}/assign")),
        "each row has its 派单 form"
    );
    for label in ["责任单位", "责任人", "工作日", "截止日期", "承诺", "派单"] {
        assert!(table.contains(label), "{label}");
    }
    // The new order waits in 待派单, not among the overdue.
    let queue = visible_text(part(&html, "waiting-orders", "</table>"));
    assert!(
        queue.contains(&code_waiting) && queue.contains("垃圾无人清运"),
        "{queue}"
    );
    assert!(!text.contains(&code_waiting));
    assert!(!has_uuid(&visible_text(&html)), "no ids on the page");

    // The start page counts the same: 2 overdue, 1 waiting, 4 open in all.
    let (_, _, home) = page(&app, &session, "/desk/").await;
    for (id, n) in [
        ("overdue-count", 2),
        ("waiting-count", 1),
        ("open-count", 4),
    ] {
        let tile = part(&home, id, "</strong>");
        assert!(tile.ends_with(&format!(">{n}")), "{tile}");
    }

    // The other town's supervisor sees only theirs.
    let session2 = sign_in(&app, "13900000002").await;
    let (_, _, html2) = page(&app, &session2, "/desk/overdue").await;
    let text2 = visible_text(&html2);
    assert!(text2.contains(&code_other) && text2.contains("超期 7 天") && text2.contains("刘洋"));
    assert!(!text2.contains(&code5) && !text2.contains(&code2));
}

#[tokio::test]
async fn assigning_from_the_page_sets_the_committed_deadline() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let (id, code) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "路灯不亮", 0.0),
    )
    .await;
    let session = sign_in(&app, "13900000001").await;
    let action = format!("/desk/orders/{code}/assign");
    let local_day = |days: i64| {
        (Utc::now().with_timezone(&Shanghai) + Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let in_ten_days = local_day(10);

    // Both kinds of deadline at once, or a day gone by, are refused in words.
    let both = [
        ("unit_id", w.town1.as_str()),
        ("assignee_id", w.cadre1.as_str()),
        ("working_days", "5"),
        ("due_date", in_ten_days.as_str()),
        ("commitment", "五个工作日内修好"),
        ("back", "/desk/overdue"),
    ];
    let (status, _, html) = post(&app, &session, &action, &both).await;
    assert_eq!(status, 422);
    assert!(html.contains("工作日和截止日期只需填写一项"), "{html}");
    assert!(html.contains("五个工作日内修好"), "what was typed is kept");
    let yesterday = local_day(-1);
    let past = [
        ("unit_id", w.town1.as_str()),
        ("due_date", yesterday.as_str()),
        ("commitment", "马上修"),
    ];
    let (status, _, html) = post(&app, &session, &action, &past).await;
    assert_eq!(status, 422);
    assert!(html.contains("截止日期：须晚于现在"), "{html}");
    let (status, _, html) = post(
        &app,
        &session,
        &action,
        &[("unit_id", w.town1.as_str()), ("commitment", " ")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("承诺：请填写"), "{html}");
    assert_eq!(
        app.get(&format!("/work-orders/{id}"), &w.sup1_token)
            .await
            .body["status"],
        "submitted"
    );

    let by_date = [
        ("unit_id", w.town1.as_str()),
        ("assignee_id", w.cadre1.as_str()),
        ("working_days", ""),
        ("due_date", in_ten_days.as_str()),
        ("commitment", "十日内修好"),
        ("back", "/desk/overdue"),
    ];
    let (status, location, _) = post(&app, &session, &action, &by_date).await;
    assert_eq!(status, 303);
    assert_eq!(location, "/desk/overdue?done=assigned");
    let (_, _, after) = page(&app, &session, &location).await;
    assert!(after.contains("已派单"), "the notice");
    let order = app
        .get(&format!("/work-orders/{id}"), &w.sup1_token)
        .await
        .body;
    assert_eq!(order["status"], "assigned");
    assert_eq!(order["assignee_id"], w.cadre1.as_str());
    assert_eq!(order["commitment"], "十日内修好");
    let due: chrono::DateTime<Utc> = order["due_at"].as_str().unwrap().parse().unwrap();
    let local = due.with_timezone(&Shanghai);
    assert_eq!(
        local.format("%Y-%m-%d %H:%M:%S").to_string(),
        format!("{in_ten_days} 23:59:59")
    );

    // Again in working days, to the unit alone: the deadline follows the calendar.
    let by_days = [
        ("unit_id", w.town1.as_str()),
        ("assignee_id", ""),
        ("working_days", "5"),
        ("due_date", ""),
        ("commitment", "五个工作日内修好"),
    ];
    let (status, location, _) = post(&app, &session, &action, &by_days).await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/desk/orders/{code}?done=assigned"));
    let order = app
        .get(&format!("/work-orders/{id}"), &w.sup1_token)
        .await
        .body;
    let due: chrono::DateTime<Utc> = order["due_at"].as_str().unwrap().parse().unwrap();
    assert!(
        due > Utc::now() + Duration::days(4) && due < Utc::now() + Duration::days(12),
        "{due}"
    );
    assert_eq!(order["assignee_id"], Value::Null);

    // Once the unit works on it, the page says why it cannot be assigned again.
    assign_by_api(&app, &w.sup1_token, &id, &w.town1, &w.cadre1).await;
    assert_eq!(
        app.post(
            &format!("/work-orders/{id}/accept"),
            &w.cadre1_token,
            json!({})
        )
        .await
        .status,
        200
    );
    let (status, _, html) = post(&app, &session, &action, &by_days).await;
    assert_eq!(status, 409);
    assert!(html.contains("这个工单现在是“办理中”，不能派单"), "{html}");

    // An extension request shows on the overdue row; 同意延期 moves the deadline.
    due_days_ago(&app, &id, 1);
    let later = (Utc::now() + Duration::days(20)).to_rfc3339();
    let asked = app
        .post(
            &format!("/work-orders/{id}/extensions"),
            &w.cadre1_token,
            json!({"due_at": later, "reason": "需要等配件到货"}),
        )
        .await;
    assert_eq!(asked.status, 201, "{:?}", asked.body);
    let (_, _, html) = page(&app, &session, "/desk/overdue").await;
    let row = part(&html, "overdue", "</table>");
    assert!(
        row.contains("需要等配件到货") && row.contains("同意延期") && row.contains("不同意延期"),
        "{row}"
    );
    assert!(row.contains("超期 1 天"));
    let decide = format!("/desk/orders/{code}/extensions/{}/decision", asked.id());
    let (status, location, _) = post(
        &app,
        &session,
        &decide,
        &[("approve", "true"), ("back", "/desk/overdue")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/desk/overdue?done=extension_approved")
    );
    let order = app
        .get(&format!("/work-orders/{id}"), &w.sup1_token)
        .await
        .body;
    let due: chrono::DateTime<Utc> = order["due_at"].as_str().unwrap().parse().unwrap();
    assert!(due > Utc::now() + Duration::days(19), "{due}");
    assert_eq!(order["overdue"], false);
    let (status, _, html) = post(&app, &session, &decide, &[("approve", "false")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("这个延期申请已经处理过了"), "{html}");
}

#[tokio::test]
async fn the_desk_is_for_signed_in_supervisors_of_the_orders_town() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let (_, code) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "路灯不亮", 0.0),
    )
    .await;
    let order_page = format!("/desk/orders/{code}");
    let paths = [
        "/desk/",
        "/desk/overdue",
        "/desk/orders?status=submitted",
        order_page.as_str(),
        "/desk/orders/export",
    ];

    for path in paths {
        let (status, location, _) = page(&app, "", path).await;
        assert_eq!(status, 303, "{path}");
        assert!(
            location.starts_with("/login?next=%2Fdesk")
                || location.starts_with("/login?next=/desk"),
            "{path}: {location}"
        );
    }
    let (_, location, _) = page(&app, "", "/desk/orders?status=submitted").await;
    assert_eq!(location, "/login?next=/desk/orders%3Fstatus%3Dsubmitted");
    for phone in ["13900000011", "13900000021"] {
        let session = sign_in(&app, phone).await;
        for path in paths {
            let (status, _, _) = page(&app, &session, path).await;
            assert_eq!(status, 403, "{phone} {path}");
        }
        let (status, _, _) = post(
            &app,
            &session,
            &format!("{order_page}/reject"),
            &[("reason", "不归我们管")],
        )
        .await;
        assert_eq!(status, 403, "{phone} posts");
    }
    // Another town's supervisor: as if the order did not exist.
    let other = sign_in(&app, "13900000002").await;
    let (status, _, html) = page(&app, &other, &order_page).await;
    assert_eq!(status, 404);
    assert!(html.contains("不存在"));
    let (status, _, _) = post(
        &app,
        &other,
        &format!("{order_page}/reject"),
        &[("reason", "不归我们管")],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = post(
        &app,
        &other,
        &format!("{order_page}/assign"),
        &[("unit_id", w.town2.as_str()), ("commitment", "好")],
    )
    .await;
    assert_eq!(status, 404);
    let (_, _, ledger) = page(&app, &other, "/desk/orders").await;
    assert!(!ledger.contains(&code));
    // A form posted from another site is refused.
    let session = sign_in(&app, "13900000001").await;
    let reply = browser()
        .post(format!("{}{order_page}/reject", origin(&app)))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 403);
}

/// The `{code}` links of the ledger table, in order.
fn ledger_codes(html: &str) -> Vec<String> {
    if !html.contains("id=\"orders\"") {
        return Vec::new();
    }
    part(html, "orders", "</table>")
        .split("<td class=\"code\"><a href=\"/desk/orders/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn the_ledger_filters_pages_and_downloads_the_same_list_as_excel() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let mut villager_codes = Vec::new();
    for i in 0..52 {
        let (_, code) = file(
            &app,
            &w.villager1_token,
            villager_report(&w.village1, &format!("路面坑洼{i}"), 0.0),
        )
        .await;
        villager_codes.push(code);
    }
    let (hot_id, hot_code) = file(
        &app,
        &w.sup1_token,
        hotline_call(
            &w.village1,
            "路灯线路老化",
            "=HYPERLINK(\"http://x\",\"点我\")",
        ),
    )
    .await;
    assign_by_api(&app, &w.sup1_token, &hot_id, &w.town1, &w.cadre1).await;
    let (_, other_code) = file(
        &app,
        &w.sup2_token,
        hotline_call(&w.village2, "云岭村道路塌方", "陈阿姨"),
    )
    .await;
    let session = sign_in(&app, "13900000001").await;

    // Newest first, 50 to a page, then 下一页.
    let (status, _, first) = page(&app, &session, "/desk/orders").await;
    assert_eq!(status, 200);
    for label in [
        "状态",
        "村",
        "责任单位",
        "责任人",
        "类别",
        "来源",
        "开始日期",
        "结束日期",
        "导出Excel",
    ] {
        assert!(first.contains(label), "{label}");
    }
    let mut listed = ledger_codes(&first);
    assert_eq!(listed.len(), 50);
    assert_eq!(listed[0], hot_code, "newest first");
    let next = next_link(&first).expect("下一页");
    let (_, _, second) = page(&app, &session, &next).await;
    listed.extend(ledger_codes(&second));
    assert_eq!(listed.len(), 53);
    assert!(next_link(&second).is_none());
    assert!(!listed.contains(&other_code), "another town's order");
    assert!(!has_uuid(&visible_text(&first)));

    // Filters narrow the list and the 下一页 link keeps them.
    let (_, _, hot) = page(&app, &session, "/desk/orders?source=hotline").await;
    assert_eq!(ledger_codes(&hot), vec![hot_code.clone()]);
    let (_, _, assigned) = page(
        &app,
        &session,
        &format!("/desk/orders?status=assigned&assignee_id={}", w.cadre1),
    )
    .await;
    assert_eq!(ledger_codes(&assigned), vec![hot_code.clone()]);
    let (_, _, villagers) = page(
        &app,
        &session,
        &format!("/desk/orders?source=villager&village_id={}", w.village1),
    )
    .await;
    assert_eq!(ledger_codes(&villagers).len(), 50);
    assert!(next_link(&villagers).unwrap().contains("source=villager"));
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let tomorrow = today + Duration::days(1);
    let (_, _, none) = page(&app, &session, &format!("/desk/orders?from={tomorrow}")).await;
    assert!(ledger_codes(&none).is_empty() && none.contains("没有符合条件的工单"));
    let (_, _, all_today) = page(
        &app,
        &session,
        &format!("/desk/orders?from={today}&to={today}&source=hotline"),
    )
    .await;
    assert_eq!(ledger_codes(&all_today), vec![hot_code.clone()]);
    let (status, _, bad) = page(&app, &session, "/desk/orders?status=paused&from=tomorrow").await;
    assert_eq!(status, 422);
    assert!(
        bad.contains("状态：填写有误") && bad.contains("开始日期：请选择一个日期"),
        "{bad}"
    );

    // The download is the whole filtered list, every page of it.
    let reply = browser()
        .get(format!(
            "{}/desk/orders/export?village_id={}",
            origin(&app),
            w.village1
        ))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers()[CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(reply.headers()[CACHE_CONTROL], "no-store");
    let disposition = reply.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E5%B7%A5%E5%8D%95%E5%8F%B0%E8%B4%A6-"),
        "{disposition}"
    );
    let bytes = reply.bytes().await.unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(rows[0][..4], ["工单编号", "标题", "类别", "村"]);
    assert_eq!(rows[0].len(), 15);
    assert_eq!(rows[0][7], "联系电话");
    let codes: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(codes, listed, "the same list, in the same order");
    let hot_row = &rows[1];
    assert!(
        hot_row[6].starts_with("'=HYPERLINK"),
        "a formula is text: {:?}",
        hot_row[6]
    );
    assert_eq!(hot_row[7], "13712345678", "supervisors see the full phone");
    assert_eq!(
        (
            hot_row[2].as_str(),
            hot_row[3].as_str(),
            hot_row[4].as_str(),
            hot_row[5].as_str()
        ),
        ("道路维修", "溪口村", "热线", "已派单")
    );
    assert_eq!(
        (
            hot_row[9].as_str(),
            hot_row[10].as_str(),
            hot_row[13].as_str()
        ),
        ("青山镇", "李明", "否")
    );
    assert!(
        hot_row[8].contains('年') && hot_row[11].contains("23:59"),
        "{hot_row:?}"
    );
    let filtered = browser()
        .get(format!(
            "{}/desk/orders/export?source=hotline",
            origin(&app)
        ))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(filtered.to_vec())).unwrap();
    assert_eq!(
        book.worksheet_range_at(0).unwrap().unwrap().height(),
        2,
        "header and the one hotline order"
    );
}

#[tokio::test]
async fn an_orders_page_reads_in_chinese_and_rejects_a_duplicate() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let photo = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(&w.villager1_token)
        .header("content-type", "image/jpeg")
        .body(jpeg(640, 480, &FixtureExif::default()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let mut first_report = villager_report(&w.village1, "村口路灯坏了", 0.0);
    first_report["photo_ids"] = json!([photo["id"]]);
    let (first_id, first_code) = file(&app, &w.villager1_token, first_report).await;
    assign_by_api(&app, &w.sup1_token, &first_id, &w.town1, &w.cadre1).await;
    // The same lamp, reported again 50 m away.
    let (second_id, second_code) = file(
        &app,
        &w.villager1_token,
        villager_report(&w.village1, "路灯不亮", 0.00045),
    )
    .await;
    let session = sign_in(&app, "13900000001").await;

    let (status, _, html) = page(&app, &session, &format!("/desk/orders/{first_code}")).await;
    assert_eq!(status, 200, "{html}");
    let text = visible_text(&html);
    for words in [
        "村口路灯坏了",
        "溪口村",
        "道路维修",
        "村民反映",
        "已派单",
        "赵大爷",
        "13900000021",
        "李明",
        "青山镇",
        "三个工作日内修好",
    ] {
        assert!(text.contains(words), "{words} in {text}");
    }
    let timeline = visible_text(part(&html, "timeline", "</ol>"));
    assert!(
        timeline.contains("已提交") && timeline.contains("赵大爷"),
        "{timeline}"
    );
    assert!(
        timeline.contains("已派单")
            && timeline.contains("周敏")
            && timeline.contains("责任人：李明"),
        "{timeline}"
    );
    assert!(
        timeline.contains("月") && timeline.contains(':'),
        "local times: {timeline}"
    );
    assert!(!has_uuid(&text), "no ids: {text}");
    for word in ["submitted", "assigned", "villager", "road", "UTC"] {
        assert!(!text.contains(word), "no machine word {word}: {text}");
    }
    // The photo, a thumbnail linking to the full size.
    let thumb = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&").replace("&#38;", "&"))
        .expect("a thumbnail");
    assert!(thumb.contains("size=thumb"), "{thumb}");
    let image = browser()
        .get(format!("{}{thumb}", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()[CONTENT_TYPE], "image/jpeg");

    // The second report lists the first as a likely duplicate; a plain 驳回 needs a reason.
    let second_page = format!("/desk/orders/{second_code}");
    let (_, _, html) = page(&app, &session, &second_page).await;
    let duplicates = part(&html, "duplicates", "</section>");
    assert!(
        duplicates.contains(&first_code) && duplicates.contains("驳回为重复"),
        "{duplicates}"
    );
    assert!(visible_text(duplicates).contains("米"));
    let (status, _, refused) = post(
        &app,
        &session,
        &format!("{second_page}/reject"),
        &[("reason", "  ")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(refused.contains("理由：请填写"), "{refused}");
    let (status, location, _) = post(
        &app,
        &session,
        &format!("{second_page}/reject"),
        &[
            ("reason", "与前一单反映的是同一盏路灯"),
            ("duplicate_of", first_code.as_str()),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("{second_page}?done=rejected").as_str())
    );
    let order = app
        .get(&format!("/work-orders/{second_id}"), &w.sup1_token)
        .await
        .body;
    assert_eq!(order["status"], "rejected");
    let event = order["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(event["data"]["duplicate_of"], first_code.as_str());
    let (_, _, html) = page(&app, &session, &location).await;
    let text = visible_text(&html);
    assert!(
        text.contains("已驳回")
            && text.contains("不予受理")
            && text.contains(&format!("与 {first_code} 重复")),
        "{text}"
    );
    assert!(
        !html.contains("驳回为重复"),
        "a rejected order takes no more steps"
    );
    // Again: the state machine refuses, in words.
    let (status, _, again) = post(
        &app,
        &session,
        &format!("{second_page}/reject"),
        &[("reason", "再驳回")],
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        again.contains("这个工单现在是“不予受理”，不能驳回"),
        "{again}"
    );
}
