//! The pages as a browser without JavaScript sees them: plain HTML forms posted to the real
//! app. (The same flows with JavaScript, a camera photo and a phone's position run in
//! Chromium in `tests/tests/browser.rs`.)

use minqing_e2e::photos::{jpeg, FixtureExif};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::browsing::{self, browser, origin, text_of, visible_text};
use crate::helpers::{spawn_app, TestApp, World, CENTRE};

async fn page(app: &TestApp, path: &str) -> (u16, String, String) {
    let a = browsing::get(app, None, path).await;
    (a.status, a.kind.clone(), a.html())
}

/// An attribute's value as the browser reads it.
fn unescape(value: &str) -> String {
    value
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

async fn village_code(app: &TestApp, village: &str) -> String {
    let unit = app.get(&format!("/org-units/{village}"), &app.admin).await;
    unit.body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a village always has a code: {:?}", unit.body))
        .to_string()
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

fn report_form(id: &str, with_photo: bool) -> Form {
    let form = Form::new()
        .text("id", id.to_string())
        .text("category", "road")
        .text("title", "村口路灯坏了")
        .text("description", "晚上路口太黑，老人出门不安全")
        .text("lat", CENTRE.0.to_string())
        .text("lon", CENTRE.1.to_string())
        .text("accuracy_m", "20")
        .text("address", "")
        .text("reporter_name", "王秀英")
        .text("reporter_phone", "13712345678");
    if with_photo {
        let photo = jpeg(640, 480, &FixtureExif::default());
        form.part(
            "photo",
            Part::bytes(photo)
                .file_name("p.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
    } else {
        form.part("photo", Part::bytes(Vec::new()).file_name(""))
    }
}

async fn post_report(app: &TestApp, code: &str, form: Form) -> (u16, String) {
    let reply = browser()
        .post(format!("{}/v/{code}", origin(app)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let a = browsing::post(app, None, path, fields).await;
    (a.status, a.html())
}

#[tokio::test]
async fn home_styles_the_app_and_unknown_paths_are_served_as_people_and_programs_expect() {
    let app = spawn_app().await;
    let (status, kind, home) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    for link in ["我要反映", "进度查询", "干部登录", "督查办"] {
        assert!(home.contains(link), "the home page links {link}");
    }
    let css = browser()
        .get(format!("{}/static/site.css", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));

    let (status, kind, app_page) = page(&app, "/app/").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(app_page.contains("manifest"), "the PWA links its manifest");
    let sw = browser()
        .get(format!("{}/app/sw.js", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(sw.status(), 200);
    assert_eq!(sw.headers()[CACHE_CONTROL], "no-cache");
    assert!(!sw.text().await.unwrap().contains("__MINQING_APP_VERSION__"));
    let redirect = browser()
        .get(format!("{}/app", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 303);
    assert_eq!(redirect.headers()[LOCATION], "/app/");

    let (status, kind, missing) = page(&app, "/no-such-page").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(missing.contains("不存在"), "{missing}");
    let (status, kind, _) = page(&app, "/api/v1/no-such-route").await;
    assert_eq!(status, 404);
    assert_eq!(kind, "application/problem+json");
}

#[tokio::test]
async fn a_villager_reports_without_an_account_and_tracks_with_the_code_and_query_code() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let code = village_code(&app, &w.village1).await;

    let (status, _, village) = page(&app, &format!("/v/{code}")).await;
    assert_eq!(status, 200);
    assert!(
        village.contains("溪口村") && village.contains("青山镇"),
        "name and town"
    );
    assert!(village.contains("道路维修") && village.contains("3个工作日内办结"));
    for label in [
        "问题类别",
        "标题",
        "详细描述",
        "照片",
        "获取当前位置",
        "您的姓名",
        "手机号码",
        "提交",
    ] {
        assert!(village.contains(label), "the form has {label}");
    }
    // Lower-case or upper-case, the code printed on the card opens the same page.
    let (status, _, _) = page(&app, &format!("/v/{}", code.to_uppercase())).await;
    assert_eq!(status, 200);
    let (status, kind, _) = page(&app, "/v/nosuchvillage").await;
    assert_eq!((status, kind.starts_with("text/html")), (404, true));

    let id = uuid::Uuid::new_v4().to_string();
    let (status, receipt) = post_report(&app, &code, report_form(&id, true)).await;
    assert_eq!(status, 200, "{receipt}");
    let order_code = text_of(&receipt, "order-code").expect("the receipt shows the 工单编号");
    let query_code = text_of(&receipt, "query-code").expect("the receipt shows the 查询码");
    assert!(order_code.starts_with("MQ-"), "{order_code}");
    assert!(query_code.len() == 6 && query_code.chars().all(|c| c.is_ascii_digit()));

    // The same form sent again (a double tap) files nothing new and shows no 查询码.
    let (status, again) = post_report(&app, &code, report_form(&id, true)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        text_of(&again, "order-code").as_deref(),
        Some(order_code.as_str())
    );
    assert_eq!(text_of(&again, "query-code"), None);

    // The town's supervisor sees it with the villager's photo, name and phone.
    let list = app.get("/work-orders", &w.sup1_token).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", list.body);
    assert_eq!(items[0]["code"], order_code.as_str());
    assert_eq!(items[0]["reporter_name"], "王秀英");
    assert_eq!(items[0]["reporter_phone"], "13712345678");
    assert_eq!(items[0]["photo_ids"].as_array().unwrap().len(), 1);

    let (status, wrong) = post_form(
        &app,
        "/t",
        &[("code", &order_code), ("query_code", "000000")],
    )
    .await;
    assert_eq!(status, 404);
    assert!(wrong.contains("工单编号或查询码不对"));
    let (status, tracked) = post_form(
        &app,
        "/t",
        &[("code", &order_code), ("query_code", &query_code)],
    )
    .await;
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(text_of(&tracked, "order-status").as_deref(), Some("待派单"));
    assert!(tracked.contains("已提交"), "the timeline is in words");
    assert!(
        !visible_text(&tracked).contains("submitted"),
        "no machine words on the page"
    );
}

#[tokio::test]
async fn a_report_with_missing_fields_is_shown_again_with_what_to_fix() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let code = village_code(&app, &w.village1).await;
    let form = Form::new()
        .text("id", uuid::Uuid::new_v4().to_string())
        .text("category", "road")
        .text("title", "")
        .text("description", "路口太黑")
        .text("reporter_name", "王秀英")
        .text("reporter_phone", "12");
    let (status, page) = post_report(&app, &code, form).await;
    assert_eq!(status, 422);
    assert!(page.contains("请填写标题"), "{page}");
    assert!(page.contains("路口太黑"), "what was typed is kept");
    let form = Form::new()
        .text("id", uuid::Uuid::new_v4().to_string())
        .text("category", "road")
        .text("title", "路灯")
        .text("description", "路口太黑")
        .text("reporter_name", "王秀英")
        .text("reporter_phone", "12");
    let (status, page) = post_report(&app, &code, form).await;
    assert_eq!(status, 422);
    assert!(page.contains("手机号码：填写有误"), "{page}");
    assert_eq!(
        app.get("/work-orders", &w.sup1_token).await.body["items"],
        json!([])
    );
}

#[tokio::test]
async fn the_answer_with_its_photo_is_public_to_the_reporter_who_rates_it() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let code = village_code(&app, &w.village1).await;
    let (_, receipt) = post_report(
        &app,
        &code,
        report_form(&uuid::Uuid::new_v4().to_string(), false),
    )
    .await;
    let order_code = text_of(&receipt, "order-code").unwrap();
    let query_code = text_of(&receipt, "query-code").unwrap();
    let id = app.get("/work-orders", &w.sup1_token).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let assigned = app
        .post(&format!("/work-orders/{id}/assign"), &w.sup1_token,
            json!({"unit_id": w.town1, "assignee_id": w.cadre1, "due_in_working_days": 3, "commitment": "三个工作日内修好"}))
        .await;
    assert_eq!(assigned.status, 200, "{:?}", assigned.body);
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
    let photo = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(&w.cadre1_token)
        .header("content-type", "image/jpeg")
        .body(jpeg(320, 240, &FixtureExif::default()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let resolved = app
        .post(
            &format!("/work-orders/{id}/resolve"),
            &w.cadre1_token,
            json!({"resolution_note": "已更换灯泡", "photo_ids": [photo["id"]]}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{:?}", resolved.body);

    let (status, tracked) = post_form(
        &app,
        "/t",
        &[("code", &order_code), ("query_code", &query_code)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(text_of(&tracked, "order-status").as_deref(), Some("已办结"));
    assert!(tracked.contains("已更换灯泡") && tracked.contains("提交评价"));
    let link = tracked
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(unescape)
        .expect("the resolution photo is shown");
    let image = browser()
        .get(format!("{}{link}", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200, "{link}");
    assert_eq!(image.headers()[CONTENT_TYPE], "image/jpeg");
    let forged = link.replace("size=thumb", "size=full");
    let refused = browser()
        .get(format!("{}{forged}", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        404,
        "a link's signature covers what it shows"
    );

    let (status, rated) = post_form(
        &app,
        "/t/rate",
        &[
            ("code", &order_code),
            ("query_code", &query_code),
            ("score", "40"),
            ("comment", "灯还是时亮时不亮"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{rated}");
    assert_eq!(text_of(&rated, "order-status").as_deref(), Some("重新办理"));
    let detail = app.get(&format!("/work-orders/{id}"), &w.sup1_token).await;
    assert_eq!(detail.body["status"], "reopened");
    assert_eq!(detail.body["rating"], 40);
}

#[tokio::test]
async fn a_villager_signs_in_to_see_their_own_orders_and_signs_out() {
    let app = spawn_app().await;
    let w = road_world(&app).await;
    let mine = app
        .post("/work-orders", &w.villager1_token,
            json!({"category": "road", "title": "水渠堵了", "description": "下雨天水漫到路上", "village_id": w.village1, "source": "villager"}))
        .await;
    assert_eq!(mine.status, 201, "{:?}", mine.body);

    let reply = browser()
        .post(format!("{}/login", origin(&app)))
        .form(&[("phone", "13900000021"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    assert!(reply.text().await.unwrap().contains("手机号或密码不对"));

    let reply = browser()
        .post(format!("{}/login", origin(&app)))
        .form(&[
            ("phone", "13900000021"),
            ("password", crate::helpers::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    assert_eq!(reply.headers()[LOCATION], "/my");
    let cookie = reply.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let my = browser()
        .get(format!("{}/my", origin(&app)))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(my.status(), 200);
    let html = my.text().await.unwrap();
    assert!(
        html.contains("赵大爷") && html.contains("水渠堵了") && html.contains("待派单"),
        "{html}"
    );

    let out = browser()
        .post(format!("{}/logout", origin(&app)))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = browser()
        .get(format!("{}/my", origin(&app)))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303, "the old cookie no longer signs in");
    assert_eq!(after.headers()[LOCATION], "/login");
}
