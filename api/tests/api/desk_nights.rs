//! The desk's 夜学夜议 and 工作日志 pages, as a browser without JavaScript uses them.

use serde_json::json;

use crate::browsing::{self, visible_text};
use crate::helpers::{clock, PASSWORD};
use crate::helpers::{spawn_app, TestApp};
use crate::sessions::{attend, today_local, town_with_hall, HALL, LOG};

async fn page(app: &TestApp, session: &str, path: &str) -> String {
    let a = browsing::get(app, Some(session), path).await;
    assert_eq!(a.status, 200, "{path}: {}", a.html());
    a.html()
}

#[tokio::test]
async fn the_desk_shows_a_months_sessions_with_attendance_in_words() {
    let app = spawn_app().await;
    let (w, cadres, _) = town_with_hall(&app).await;
    let night = clock::last_night();
    let session = app
        .post(
            "/sessions",
            &w.sup1_token,
            json!({"kind": "night_study", "place_id": w.town1, "topic": "学习秸秆禁烧文件",
                   "starts_at": clock::at(night, 0, 19, 30)}),
        )
        .await
        .id();
    for ((_, token), (lat, lon)) in cadres.iter().zip([HALL, (29.08, 119.65)]) {
        let r = app
            .post(
                "/checkins",
                token,
                attend(
                    &session,
                    "night_study",
                    lat,
                    lon,
                    &clock::at(night, 0, 19, 40),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    app.patch(
        &format!("/sessions/{session}"),
        &w.sup1_token,
        json!({"minutes": "传达县委文件，布置各村巡查。"}),
    )
    .await;
    let month = night.format("%Y-%m").to_string();
    let sup1 = browsing::sign_in(&app, "13900000001", PASSWORD).await;
    let html = page(&app, &sup1, &format!("/desk/sessions?month={month}")).await;
    let text = visible_text(&html);
    for words in [
        "夜学",
        "学习秸秆禁烧文件",
        "青山镇",
        "发起人 周敏",
        "已完成",
        "参会干部 2 人，计入 1 人",
        "李明",
        "有效",
        "待审核",
        "距村界",
        "传达县委文件，布置各村巡查。",
    ] {
        assert!(text.contains(words), "the page shows {words}: {text}");
    }
    let sup2 = browsing::sign_in(&app, "13900000002", PASSWORD).await;
    let other = visible_text(&page(&app, &sup2, &format!("/desk/sessions?month={month}")).await);
    assert!(
        !other.contains("学习秸秆禁烧文件"),
        "another town sees nothing: {other}"
    );
    let wrong = visible_text(&page(&app, &sup1, "/desk/sessions?month=2026-99").await);
    assert!(wrong.contains("月份的格式不对"), "{wrong}");
}

#[tokio::test]
async fn a_supervisor_reads_a_cadres_month_of_logs_and_comments() {
    let app = spawn_app().await;
    let w = app.world().await;
    let today = today_local();
    let log = app
        .post(
            "/work-logs",
            &w.cadre1_token,
            json!({"date": today, "content": LOG}),
        )
        .await;
    assert_eq!(log.status, 201, "{:?}", log.body);
    let log = log.id();
    let month = today.format("%Y-%m").to_string();
    let sup1 = browsing::sign_in(&app, "13900000001", PASSWORD).await;
    let list = visible_text(&page(&app, &sup1, "/desk/logs").await);
    assert!(list.contains("李明"), "{list}");
    let due = chrono::Datelike::day(&today);
    assert!(list.contains(&format!("1/{due} 天")), "{list}");

    let path = format!("/desk/logs?user_id={}&month={month}", w.cadre1);
    let html = page(&app, &sup1, &path).await;
    let text = visible_text(&html);
    assert!(text.contains("李明 的工作日志"), "{text}");
    assert!(text.contains(LOG), "{text}");
    assert!(html.contains(&format!("id=\"comment-{log}\"")), "{html}");
    if due > 1 {
        assert!(text.contains("未填写"), "{text}");
    }
    let posted = browsing::post(
        &app,
        Some(&sup1),
        &format!("/desk/logs/{log}/comment"),
        &[
            ("text", "记录清楚，继续跟进。"),
            ("user_id", &w.cadre1),
            ("month", &month),
        ],
    )
    .await;
    assert_eq!(posted.status, 303);
    assert_eq!(
        posted.location,
        format!(
            "/desk/logs?user_id={}&month={month}&done=commented",
            w.cadre1
        )
    );
    let after = visible_text(&page(&app, &sup1, &posted.location).await);
    assert!(after.contains("批阅意见已保存"), "{after}");
    assert!(after.contains("周敏"), "{after}");
    // The cadre sees it.
    let mine = app
        .get(&format!("/work-logs?month={month}"), &w.cadre1_token)
        .await;
    let comments = mine.body["days"][0]["log"]["comments"].clone();
    assert_eq!(comments[0]["text"], "记录清楚，继续跟进。", "{}", mine.body);
    // Another town's supervisor can neither read nor comment.
    let sup2 = browsing::sign_in(&app, "13900000002", PASSWORD).await;
    let other = browsing::get(&app, Some(&sup2), &path).await;
    assert_eq!(other.status, 404);
    let refused = browsing::post(
        &app,
        Some(&sup2),
        &format!("/desk/logs/{log}/comment"),
        &[("text", "外镇"), ("user_id", &w.cadre1), ("month", &month)],
    )
    .await;
    assert_eq!(refused.status, 404);
}
