//! The supervisor's desk pages for review, contact cards, records and closing, as a browser
//! without JavaScript uses them: signed in through `/login`, plain forms posted to the real
//! app; the data is built, and the outcome checked, through the JSON API.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use minqing_e2e::photos::{jpeg, FixtureExif};
use serde_json::{json, Value};

use crate::browsing::{self, browser, origin, visible_text};
use crate::helpers::clock::{at, last_night};
use crate::helpers::{
    checkin, spawn_app, TestApp, World, ADMIN_PASSWORD, ADMIN_PHONE, CENTRE, PASSWORD,
};

/// Signs in through the sign-in form; the `mq_session` cookie to send with later requests.
async fn sign_in(app: &TestApp, phone: &str, password: &str) -> String {
    browsing::sign_in(app, phone, password).await
}

async fn page(app: &TestApp, session: &str, path: &str) -> (u16, String) {
    let a = browsing::get(app, Some(session), path).await;
    (a.status, a.html())
}

/// Posts a form; (status, where it redirects to, body).
async fn post(
    app: &TestApp,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let a = browsing::post(app, Some(session), path, fields).await;
    (a.status, a.location.clone(), a.html())
}

/// The inner text of the element with `id`, tags removed.
fn section(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[at..];
    let end = rest
        .find("</li>")
        .or_else(|| rest.find("</p>"))
        .unwrap_or(rest.len());
    visible_text(&rest[rest.find('>').unwrap() + 1..end])
}

/// Posts a night visit `lat_offset` degrees north of the village centre; its receipt.
async fn visit(
    app: &TestApp,
    w: &World,
    lat_offset: f64,
    recorded_at: &str,
    photos: &[String],
) -> Value {
    let mut body = checkin(
        "night_visit",
        &w.village1,
        CENTRE.0 + lat_offset,
        CENTRE.1,
        recorded_at,
    );
    body["household"] = json!("张家");
    if !photos.is_empty() {
        body["photo_ids"] = json!(photos);
    }
    let reply = app.post("/checkins", &w.cadre1_token, body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

async fn photo(app: &TestApp, token: &str) -> String {
    let reply = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(jpeg(320, 240, &FixtureExif::default()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    reply.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn id_of(receipt: &Value) -> String {
    receipt["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_supervisor_approves_and_rejects_several_flagged_checkins_from_one_page() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let picture = photo(&app, &w.cadre1_token).await;
    // About 3.3 km north of a village 1.5 km in radius: outside its boundary.
    let a = visit(
        &app,
        &w,
        0.03,
        &at(night, 0, 19, 0),
        std::slice::from_ref(&picture),
    )
    .await;
    let b = visit(&app, &w, 0.03, &at(night, 0, 20, 0), &[]).await;
    let c = visit(&app, &w, 0.03, &at(night, 0, 21, 0), &[]).await;
    let d = visit(&app, &w, 0.03, &at(night, 0, 22, 0), &[]).await;
    let clean = visit(&app, &w, 0.0, &at(night, 0, 23, 0), &[]).await;
    for flagged in [&a, &b, &c, &d] {
        assert_eq!(flagged["status"], "flagged", "{flagged}");
    }
    assert_eq!(clean["status"], "accepted", "{clean}");
    let (a, b, c, d, clean) = (id_of(&a), id_of(&b), id_of(&c), id_of(&d), id_of(&clean));

    let sup1 = sign_in(&app, "13900000001", PASSWORD).await;
    let (status, html) = page(&app, &sup1, "/desk/review").await;
    assert_eq!(status, 200);
    let text = visible_text(&html);
    for words in [
        "李明",
        "夜访",
        "溪口村",
        "距村界",
        "公里",
        "选择",
        "理由",
        "通过",
        "不通过",
        "走访户",
        "张家",
    ] {
        assert!(
            text.contains(words),
            "the review page shows {words}: {text}"
        );
    }
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "a map for each flagged check-in"
    );
    assert!(html.contains("class=\"map-point\"") && html.contains("class=\"map-village\""));
    // Oldest first; the clean check-in waits for nothing.
    let positions: Vec<usize> = [&a, &b, &c, &d]
        .iter()
        .map(|id| {
            html.find(&format!("value=\"{id}\""))
                .expect("a checkbox for each")
        })
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{positions:?}");
    assert!(!html.contains(&clean));
    for id in [&a, &b, &c, &d] {
        assert!(!text.contains(id.as_str()), "no id is shown to people");
    }
    // The photo is behind a signed link that opens it for the supervisor's browser.
    let thumb = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| {
            s.replace("&amp;", "&")
                .replace("&#x2f;", "/")
                .replace("&#38;", "&")
        })
        .expect("a thumbnail");
    assert!(
        thumb.starts_with("/photo/") && thumb.contains("size=thumb"),
        "{thumb}"
    );
    let image = browser()
        .get(format!("{}{thumb}", origin(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/jpeg");

    // Mistakes are shown again in words, with what was ticked still ticked.
    let (status, _, html) = post(
        &app,
        &sup1,
        "/desk/review",
        &[("id", &a), ("reason", " "), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("请填写理由"), "{html}");
    assert!(
        html.contains(&format!("value=\"{a}\" id=\"pick-1\" checked")),
        "{html}"
    );
    let (status, _, html) = post(
        &app,
        &sup1,
        "/desk/review",
        &[("reason", "已核实"), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("请至少选择一条打卡"), "{html}");
    assert_eq!(
        app.get(&format!("/checkins/{a}"), &w.sup1_token).await.body["status"],
        "flagged"
    );

    // Another town's supervisor neither sees them nor decides them.
    let sup2 = sign_in(&app, "13900000002", PASSWORD).await;
    let (status, html) = page(&app, &sup2, "/desk/review").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains(&a) && html.contains("没有待审核的打卡"),
        "{html}"
    );
    let (status, _, html) = post(
        &app,
        &sup2,
        "/desk/review",
        &[("id", &d), ("reason", "越权"), ("decision", "reject")],
    )
    .await;
    assert_eq!(status, 404);
    assert!(html.contains("不存在"), "{html}");
    assert_eq!(
        app.get(&format!("/checkins/{d}"), &w.sup1_token).await.body["status"],
        "flagged"
    );

    // Two approved in one post, one rejected in another.
    let (status, location, _) = post(
        &app,
        &sup1,
        "/desk/review",
        &[
            ("id", &a),
            ("id", &b),
            ("reason", "已电话核实，在村民家中"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/desk/review?approved=2");
    let (_, html) = page(&app, &sup1, &location).await;
    assert!(html.contains("已通过 2 条"), "{html}");
    let (status, location, _) = post(
        &app,
        &sup1,
        "/desk/review",
        &[("id", &c), ("reason", "不在村里"), ("decision", "reject")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = page(&app, &sup1, &location).await;
    assert!(html.contains("已驳回 1 条"), "{html}");
    assert!(
        !html.contains(&a) && !html.contains(&c) && html.contains(&d),
        "only d waits"
    );

    for (id, status, reason) in [
        (&a, "approved", "已电话核实，在村民家中"),
        (&b, "approved", "已电话核实，在村民家中"),
        (&c, "rejected", "不在村里"),
    ] {
        let checkin = app
            .get(&format!("/checkins/{id}"), &w.sup1_token)
            .await
            .body;
        assert_eq!(checkin["status"], status, "{checkin}");
        assert_eq!(checkin["review"]["reason"], reason);
        assert_eq!(checkin["review"]["reviewed_by"], w.sup1);
    }

    // Deciding one decided meanwhile leaves it alone and says so.
    let (status, location, _) = post(
        &app,
        &sup1,
        "/desk/review",
        &[
            ("id", &c),
            ("id", &d),
            ("reason", "核实无误"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/desk/review?approved=1&skipped=1");
    assert_eq!(
        app.get(&format!("/checkins/{c}"), &w.sup1_token).await.body["status"],
        "rejected"
    );
    assert_eq!(
        app.get(&format!("/checkins/{d}"), &w.sup1_token).await.body["status"],
        "approved"
    );
    let (_, html) = page(&app, &sup1, &location).await;
    assert!(html.contains("1 条已由他人审核"), "{html}");

    // A cadre has no desk.
    let cadre = sign_in(&app, "13900000011", PASSWORD).await;
    let (status, _) = page(&app, &cadre, "/desk/review").await;
    assert_eq!(status, 403);
}

async fn village_code(app: &TestApp, village: &str) -> String {
    app.get(&format!("/org-units/{village}"), &app.admin)
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn contact_cards_carry_each_village_its_cadres_and_a_qr_code() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let village3 = app.unit("东坡村", "village", Some(&w.town1)).await;
    let cadre3 = app
        .user(json!({"name": "王芳", "phone": "13900000013", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "village"}))
        .await;
    let assign = app
        .put(
            &format!("/users/{cadre3}/villages"),
            &app.admin,
            json!({"village_ids": [village3, w.village1]}),
        )
        .await;
    assert_eq!(assign.status, 200);

    let sup1 = sign_in(&app, "13900000001", PASSWORD).await;
    let (status, html) = page(&app, &sup1, "/desk/cards").await;
    assert_eq!(status, 200);
    let text = visible_text(&html);
    for words in [
        "便民联系卡",
        "溪口村",
        "东坡村",
        "青山镇",
        "李明",
        "13900000011",
        "王芳",
        "13900000013",
        "扫码反映问题",
    ] {
        assert!(text.contains(words), "the cards show {words}");
    }
    assert!(
        !text.contains("云岭村"),
        "another town's village is not the supervisor's"
    );
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "one QR code for each village"
    );
    assert_eq!(html.matches("class=\"qr\"").count(), 2);
    for village in [&w.village1, &village3] {
        let url = format!("{}/v/{}", origin(&app), village_code(&app, village).await);
        assert!(text.contains(&url), "the card prints {url}");
    }
    assert!(
        html.contains("@media print") || html.contains("desk.css"),
        "printed with the desk's print styles"
    );

    let admin = sign_in(&app, ADMIN_PHONE, ADMIN_PASSWORD).await;
    let (_, html) = page(&app, &admin, "/desk/cards").await;
    assert_eq!(
        html.matches("class=\"qr\"").count(),
        3,
        "the admin prints every village"
    );
    assert!(visible_text(&html).contains("云岭村"));
}

/// Last month (`YYYY-MM`) and its first day, in Shanghai.
fn last_month() -> (String, NaiveDate) {
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let first_last = (today.with_day(1).unwrap() - Duration::days(1))
        .with_day(1)
        .unwrap();
    (first_last.format("%Y-%m").to_string(), first_last)
}

fn this_month() -> String {
    (Utc::now() + Duration::hours(8))
        .date_naive()
        .format("%Y-%m")
        .to_string()
}

/// A month scored from the democratic evaluation alone: one achievement, one problem record.
fn rated_scheme() -> Value {
    json!({"name": "青山镇机关干部月度考核", "cadre_category": "organ", "period": "month",
        "indicators": [{"code": "nv", "name": "夜访", "metric": "night_visit", "rule": "ratio_to_target", "target": 4, "points": 10}],
        "democratic": {"weight": 1.0, "rater_weights": {"leadership": 0.4, "middle": 0.3, "established": 0.2, "non_established": 0.1}},
        "consequences": {"achievement_top": 1, "problem_bottom": 1, "statement_bottom": 1, "rectify_quarters": 1},
        "grades": {"excellent": 60, "good": 40, "pass": 20}})
}

#[tokio::test]
async fn records_of_a_closed_month_are_listed_for_the_town() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (period, first) = last_month();
    let other = app
        .user(json!({"name": "王芳", "phone": "13900000013", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "organ"}))
        .await;
    assert_eq!(
        app.post("/scoring/schemes", &app.admin, rated_scheme())
            .await
            .status,
        201
    );
    for (ratee, score) in [(&w.cadre1, 90.0), (&other, 10.0)] {
        let rated = app
            .put(
                "/scoring/ratings",
                &w.sup1_token,
                json!({"period": period, "ratee_id": ratee, "score": score}),
            )
            .await;
        assert_eq!(rated.status, 200, "{:?}", rated.body);
    }
    let closed = app
        .post(
            &format!("/scoring/periods/{period}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    // 李明 at the top of the town's organ cadres, 王芳 at the bottom (and the other town's
    // village cadre, scored by the seeded scheme, wherever that puts them).
    assert!(
        closed.body["achievement_records"].as_u64() >= Some(1),
        "{:?}",
        closed.body
    );
    assert!(
        closed.body["problem_records"].as_u64() >= Some(1),
        "{:?}",
        closed.body
    );

    let sup1 = sign_in(&app, "13900000001", PASSWORD).await;
    let (status, html) = page(&app, &sup1, "/desk/records").await;
    assert_eq!(status, 200);
    let text = visible_text(&html);
    let month = format!("{}年{}月", first.year(), first.month());
    for words in [
        "实绩档案",
        "问题痕迹档案",
        "李明",
        "王芳",
        month.as_str(),
        "待整改",
        "青山镇机关干部第1名（共2人），等次",
        "青山镇机关干部第2名（共2人），排名靠后",
        "青山镇",
        "未提交",
    ] {
        assert!(
            text.contains(words),
            "the records page shows {words}: {text}"
        );
    }
    assert!(
        !text.contains("achievement") && !text.contains("organ"),
        "no machine words: {text}"
    );
    // Rectify by the end of the month a quarter after the period.
    let by = (first + chrono::Months::new(4)).pred_opt().unwrap();
    assert!(
        text.contains(&format!("{}年{}月{}日", by.year(), by.month(), by.day())),
        "{text}"
    );

    let (_, html) = page(
        &app,
        &sup1,
        &format!("/desk/records?kind=problem&period={period}"),
    )
    .await;
    let text = visible_text(&html);
    assert!(text.contains("王芳") && !text.contains("李明"), "{text}");
    let (_, html) = page(&app, &sup1, "/desk/records?kind=achievement&period=2020-01").await;
    assert!(html.contains("没有符合条件的档案"));

    let sup2 = sign_in(&app, "13900000002", PASSWORD).await;
    let (status, html) = page(&app, &sup2, "/desk/records").await;
    assert_eq!(status, 200);
    let text = visible_text(&html);
    // 刘洋 alone in 云岭镇's village ranking tops it graded 不合格: no record at all there.
    assert!(
        text.contains("没有符合条件的档案") && !text.contains("李明") && !text.contains("王芳"),
        "{text}"
    );
}

#[tokio::test]
async fn the_close_checklist_counts_what_waits_and_only_the_admin_closes() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let (period, first) = last_month();
    // Recorded last month, it arrives more than two days late: flagged for review.
    let late = visit(&app, &w, 0.0, &at(first + Duration::days(9), 0, 21, 0), &[]).await;
    assert_eq!(late["status"], "flagged", "{late}");

    let sup1 = sign_in(&app, "13900000001", PASSWORD).await;
    let (_, html) = page(&app, &sup1, "/desk/review").await;
    let text = visible_text(&html);
    assert!(
        text.contains("才上传") && text.contains("补传晚"),
        "a late check-in says when it came: {text}"
    );
    let (status, html) = page(&app, &sup1, &format!("/desk/close?period={period}")).await;
    assert_eq!(status, 200);
    let waiting = section(&html, "check-review");
    assert!(waiting.contains("还有 1 条打卡等待审核"), "{waiting}");
    assert!(html.contains("href=\"/desk/review\""));
    // The seeded organ scheme has a democratic part and nobody rated 李明.
    let ratings = section(&html, "check-ratings");
    assert!(
        ratings.contains("李明") && !ratings.contains("刘洋"),
        "{ratings}"
    );
    assert!(section(&html, "check-adjustments").contains("没有等待复核签字的加减分"));
    assert!(section(&html, "close-status").contains("已结束"));
    assert!(
        html.contains("只有管理员可以结算")
            && !html.contains("method=\"post\" action=\"/desk/close\"")
    );

    let (status, _, html) = post(&app, &sup1, "/desk/close", &[("period", &period)]).await;
    assert_eq!(status, 403);
    assert!(html.contains("只有管理员可以结算"), "{html}");
    let (_, other) = page(
        &app,
        &sign_in(&app, "13900000002", PASSWORD).await,
        &format!("/desk/close?period={period}"),
    )
    .await;
    assert!(
        section(&other, "check-review").contains("没有等待审核"),
        "another town's count"
    );

    let admin = sign_in(&app, ADMIN_PHONE, ADMIN_PASSWORD).await;
    let (_, html) = page(&app, &admin, &format!("/desk/close?period={period}")).await;
    assert!(
        html.contains("method=\"post\" action=\"/desk/close\"") && html.contains(">结算</button>")
    );
    let this = this_month();
    let (status, _, html) = post(&app, &admin, "/desk/close", &[("period", &this)]).await;
    assert_eq!(status, 409);
    assert!(html.contains("还没有结束"), "{html}");
    let (_, html) = page(&app, &admin, &format!("/desk/close?period={this}")).await;
    assert!(
        !html.contains(">结算</button>"),
        "no button before the period is over"
    );

    // The late check-in still waits: closing is refused, and forcing it needs a reason.
    let (status, _, html) = post(&app, &admin, "/desk/close", &[("period", &period)]).await;
    assert_eq!(status, 409);
    assert!(html.contains("还有打卡等待审核，不能结算"), "{html}");
    assert!(section(&html, "close-force").contains("还有 1 条打卡等待审核"));
    let force = [("period", period.as_str()), ("force", "1"), ("reason", " ")];
    let (status, _, html) = post(&app, &admin, "/desk/close", &force).await;
    assert_eq!(status, 422);
    assert!(html.contains("强制结算须写明理由"), "{html}");
    let force = [
        ("period", period.as_str()),
        ("force", "1"),
        ("reason", "月底前电话核实过"),
    ];
    let (status, location, _) = post(&app, &admin, "/desk/close", &force).await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with(&format!("/desk/close?period={period}&frozen=")),
        "{location}"
    );
    let (_, html) = page(&app, &admin, &location).await;
    let text = visible_text(&html);
    assert!(
        text.contains(&format!(
            "{}年{}月已结算：冻结",
            first.year(),
            first.month()
        )),
        "{text}"
    );
    assert!(section(&html, "close-status").contains("已结算"));
    assert!(!html.contains(">结算</button>"));
    let again = app
        .post(
            &format!("/scoring/periods/{period}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(
        again.status, 409,
        "closed through the same service as the API"
    );
    let (status, _, html) = post(&app, &admin, "/desk/close", &[("period", &period)]).await;
    assert_eq!(status, 409);
    assert!(html.contains("已经结算过"));
}

/// The number in the desk home's 待审核打卡 tile.
async fn flagged_tile(app: &TestApp, session: &str) -> String {
    let (status, html) = page(app, session, "/desk/").await;
    assert_eq!(status, 200);
    let rest = &html[html.find("id=\"flagged-count\">").expect("the tile") + 19..];
    rest[..rest.find('<').unwrap()].to_string()
}

#[tokio::test]
async fn a_checkin_in_another_town_is_reviewed_by_the_cadres_own_supervisor() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    // Cadre 1 (青山镇) checks in at 云岭村 of 云岭镇, a village not assigned to them.
    let away = app
        .post(
            "/checkins",
            &w.cadre1_token,
            checkin(
                "night_visit",
                &w.village2,
                29.5,
                119.9,
                &at(night, 0, 20, 0),
            ),
        )
        .await;
    assert_eq!(away.body["status"], "flagged", "{:?}", away.body);
    let id = id_of(&away.body);
    let listed = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str())
    };

    // Both towns may read it.
    for token in [&w.sup1_token, &w.sup2_token] {
        assert!(listed(&app.get("/checkins", token).await.body));
        assert!(listed(
            &app.get("/checkins?status=flagged", token).await.body
        ));
        assert_eq!(app.get(&format!("/checkins/{id}"), token).await.status, 200);
    }

    // The cadre's own supervisor has it on the desk, the village's town does not.
    let sup1 = sign_in(&app, "13900000001", PASSWORD).await;
    let sup2 = sign_in(&app, "13900000002", PASSWORD).await;
    assert_eq!(flagged_tile(&app, &sup1).await, "1");
    assert_eq!(flagged_tile(&app, &sup2).await, "0");
    let (_, html) = page(&app, &sup1, "/desk/review").await;
    assert!(html.contains(&id), "{html}");
    let (_, html) = page(&app, &sup2, "/desk/review").await;
    assert!(!html.contains(&id), "{html}");

    // The village's town may not decide it; on the desk either.
    let review = format!("/checkins/{id}/review");
    let refused = app
        .post(
            &review,
            &w.sup2_token,
            json!({"decision": "approve", "reason": "在我镇"}),
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let (status, _, _) = post(
        &app,
        &sup2,
        "/desk/review",
        &[("id", &id), ("reason", "在我镇"), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, 403);

    let (status, location, _) = post(
        &app,
        &sup1,
        "/desk/review",
        &[
            ("id", &id),
            ("reason", "临时支援云岭村"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/desk/review?approved=1")
    );
    let decided = app
        .get(&format!("/checkins/{id}"), &w.sup2_token)
        .await
        .body;
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["review"]["reviewed_by"], w.sup1);
    assert_eq!(flagged_tile(&app, &sup1).await, "0");
}

#[tokio::test]
async fn nobody_reviews_a_checkin_of_their_own() {
    let app = spawn_app().await;
    let w = app.checkin_world().await;
    let night = last_night();
    let flagged = visit(&app, &w, 0.03, &at(night, 0, 20, 0), &[]).await;
    let id = id_of(&flagged);
    // The cadre becomes a supervisor of their own town.
    let promoted = app
        .patch(
            &format!("/users/{}", w.cadre1),
            &app.admin,
            json!({"role": "supervisor"}),
        )
        .await;
    assert_eq!(promoted.status, 200, "{:?}", promoted.body);
    let token = app.login("13900000011", PASSWORD).await;
    assert_eq!(
        app.get(&format!("/checkins/{id}"), &token).await.status,
        200
    );
    let own = app
        .post(
            &format!("/checkins/{id}/review"),
            &token,
            json!({"decision": "approve", "reason": "我自己去的"}),
        )
        .await;
    assert_eq!(own.status, 403, "{:?}", own.body);
    let approved = app
        .post(
            &format!("/checkins/{id}/review"),
            &w.sup1_token,
            json!({"decision": "approve", "reason": "已核实"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
}
