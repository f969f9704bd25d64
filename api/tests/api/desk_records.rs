//! 销号 on the desk's 档案 page, as a browser without JavaScript uses it: the evidence a cadre
//! submitted through the API, verified through the page's form by a supervisor of the town.

use chrono::{Duration, Utc};
use minqing_e2e::photos::{jpeg, FixtureExif};
use serde_json::{json, Value};

use crate::browsing::{self, visible_text};
use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::scoring::problem_record;

async fn sign_in(app: &TestApp, phone: &str) -> String {
    browsing::sign_in(app, phone, PASSWORD).await
}

async fn page(app: &TestApp, session: &str, path: &str) -> String {
    let a = browsing::get(app, Some(session), path).await;
    assert_eq!(a.status, 200, "{path}");
    a.html()
}

/// Posts the verification form; (status, where it redirects to).
async fn verify(
    app: &TestApp,
    session: &str,
    record: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let path = format!("/desk/records/{record}/verify");
    let a = browsing::post(app, Some(session), &path, fields).await;
    (a.status, a.location)
}

async fn record(app: &TestApp, token: &str, id: &str) -> Value {
    let page = app.get("/records", token).await.body;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no record {id} in {page}"))
}

#[tokio::test]
async fn a_supervisor_verifies_rectification_on_the_records_page() {
    let app = spawn_app().await;
    let w = app.world().await;
    let by = (Utc::now() + Duration::hours(8)).date_naive() + Duration::days(30);
    let problem = problem_record(&app, &w.cadre1, "2026-11", by, "open");
    // The supervisor's own record, evidence waiting: someone else verifies it.
    let own = problem_record(&app, &w.sup1, "2026-11", by, "pending_verification");

    let photo = app
        .client
        .post(format!("{}/media", app.base))
        .bearer_auth(&w.cadre1_token)
        .header("content-type", "image/jpeg")
        .body(jpeg(64, 48, &FixtureExif::default()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rectify = format!("/records/{problem}/rectify");
    let submitted = app
        .post(
            &rectify,
            &w.cadre1_token,
            json!({"evidence": "已补齐夜访台账", "photo_ids": [photo]}),
        )
        .await;
    assert_eq!(submitted.status, 200, "{:?}", submitted.body);

    let sup1 = sign_in(&app, "13900000001").await;
    let html = page(&app, &sup1, "/desk/records").await;
    let text = visible_text(&html);
    for words in [
        "待核实",
        "已补齐夜访台账",
        "李明 提交整改材料",
        "核实意见",
        "通过销号",
        "退回整改",
    ] {
        assert!(text.contains(words), "the page shows {words}: {text}");
    }
    assert!(html.contains(&format!("id=\"verify-{problem}\"")), "{html}");
    assert!(html.contains("/photo/"), "the evidence photo is linked");
    assert!(
        !html.contains(&format!("id=\"verify-{own}\"")),
        "no form on one's own record"
    );
    assert_eq!(
        verify(&app, &sup1, &own, &[("decision", "approve"), ("note", "")])
            .await
            .0,
        403,
        "nobody verifies their own record"
    );
    let sup2 = sign_in(&app, "13900000002").await;
    assert_eq!(
        verify(
            &app,
            &sup2,
            &problem,
            &[("decision", "approve"), ("note", "")]
        )
        .await
        .0,
        404,
        "another town's supervisor"
    );
    assert_eq!(
        verify(
            &app,
            &sup1,
            &problem,
            &[("decision", "send_back"), ("note", "")]
        )
        .await
        .0,
        422,
        "sending back needs a note"
    );

    let (status, location) = verify(
        &app,
        &sup1,
        &problem,
        &[("decision", "send_back"), ("note", "照片看不清")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/desk/records?done=sent_back")
    );
    let text = visible_text(&page(&app, &sup1, &location).await);
    assert!(text.contains("已退回"), "{text}");
    assert!(text.contains("周敏 退回整改：照片看不清"), "{text}");
    assert!(text.contains("待整改"), "{text}");
    assert_eq!(
        record(&app, &w.cadre1_token, &problem).await["status"],
        "open"
    );

    let again = app
        .post(&rectify, &w.cadre1_token, json!({"evidence": "已重新拍照"}))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    let (status, location) = verify(
        &app,
        &sup1,
        &problem,
        &[("decision", "approve"), ("note", "材料属实")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/desk/records?done=cleared")
    );
    let text = visible_text(&page(&app, &sup1, &location).await);
    assert!(text.contains("已销号"), "{text}");
    assert!(text.contains("周敏 通过销号：材料属实"), "{text}");
    let cleared = record(&app, &w.cadre1_token, &problem).await;
    assert_eq!(cleared["status"], "cleared");
    assert!(cleared["cleared_at"].is_string());
    assert_eq!(cleared["history"].as_array().unwrap().len(), 4);
}
