//! 待签批 on the desk, as a browser without JavaScript uses it: what one supervisor of a town
//! put forward through the API (a veto, a manual value, an adjustment, a veto's withdrawal)
//! waits on the page for another supervisor of the town, who signs it there; the proposer
//! sees it without a button, another town does not see it at all.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::browsing::{self, text_of, visible_text};
use crate::helpers::{spawn_app, TestApp, World, ADMIN_PASSWORD, ADMIN_PHONE, PASSWORD};
use crate::scoring::{last_month, this_month};
use crate::scoring_rules::scheme_of;

async fn sign_in(app: &TestApp, phone: &str) -> String {
    browsing::sign_in(app, phone, PASSWORD).await
}

async fn page(app: &TestApp, session: &str, path: &str) -> String {
    let a = browsing::get(app, Some(session), path).await;
    assert_eq!(a.status, 200, "{path}");
    a.html()
}

/// Presses 签批 on one item; (status, where it redirects to, the page answered).
async fn sign(app: &TestApp, session: &str, kind: &str, id: &str) -> (u16, String, String) {
    let a = browsing::post(
        app,
        Some(session),
        &format!("/desk/approvals/{kind}/{id}"),
        &[],
    )
    .await;
    let html = a.html();
    (a.status, a.location, html)
}

fn form_of(kind: &str, id: &str) -> String {
    format!("action=\"/desk/approvals/{kind}/{id}\"")
}

/// The organ scheme with 党建考评, a manual rate (a share from 0 to 1).
async fn with_manual_rate(app: &TestApp) {
    let (id, mut scheme) = scheme_of(app, "organ", "month").await;
    scheme["indicators"].as_array_mut().unwrap().push(
        json!({"code": "dj", "name": "党建考评", "metric": "manual", "rule": "rate", "points": 10}),
    );
    let saved = app
        .put(&format!("/scoring/schemes/{id}"), &app.admin, scheme)
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
}

/// The item of a list endpoint with this id.
async fn item(app: &TestApp, token: &str, path: &str, id: &str) -> Value {
    let list = app.get(path, token).await;
    assert_eq!(list.status, 200, "{path}: {:?}", list.body);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {path}: {}", list.body))
}

struct Proposed {
    veto: String,
    value: String,
    adjustment: String,
}

/// 周敏 (supervisor A of 青山镇) puts forward a veto, a manual value and a deduction for 李明.
async fn proposed_by_a(app: &TestApp, w: &World, month: &str) -> Proposed {
    let veto = app
        .post(
            "/scoring/vetoes",
            &w.sup1_token,
            json!({"user_id": w.cadre1, "period": month, "area": "work_safety",
                "reason": "辖区企业发生安全生产事故"}),
        )
        .await;
    assert_eq!(veto.status, 201, "{:?}", veto.body);
    let value = app
        .put(
            "/scoring/manual-values",
            &w.sup1_token,
            json!({"user_id": w.cadre1, "period": month, "code": "dj", "value": 0.85,
                "reason": "镇党委季度党建考评"}),
        )
        .await;
    assert_eq!(value.status, 200, "{:?}", value.body);
    let adjustment = app
        .post(
            "/scoring/adjustments",
            &w.sup1_token,
            json!({"user_id": w.cadre1, "period": month, "points": -1.5,
                "reason": "防汛值班脱岗"}),
        )
        .await;
    assert_eq!(adjustment.status, 201, "{:?}", adjustment.body);
    Proposed {
        veto: veto.id(),
        value: value.id(),
        adjustment: adjustment.id(),
    }
}

#[tokio::test]
async fn a_second_supervisor_of_the_town_signs_on_the_approvals_page() {
    let app = spawn_app().await;
    let w = app.world().await;
    with_manual_rate(&app).await;
    app.user(
        json!({"name": "孙丽", "phone": "13900000003", "role": "supervisor",
        "org_unit_id": w.town1}),
    )
    .await;
    let sup1b_token = app.login("13900000003", PASSWORD).await;
    let month = this_month();
    let a = sign_in(&app, "13900000001").await;
    let b = sign_in(&app, "13900000003").await;
    let other_town = sign_in(&app, "13900000002").await;

    // Nothing yet: a friendly empty page, and 0 on the desk's start page.
    let empty = page(&app, &a, "/desk/approvals").await;
    assert!(visible_text(&empty).contains("暂无待签批事项"), "{empty}");
    assert!(empty.contains("href=\"/desk/approvals\" aria-current=\"page\""));
    assert_eq!(
        text_of(&page(&app, &a, "/desk/").await, "approvals-count").as_deref(),
        Some("0")
    );

    let p = proposed_by_a(&app, &w, &month).await;
    assert_eq!(
        text_of(&page(&app, &b, "/desk/").await, "approvals-count").as_deref(),
        Some("3")
    );
    let today = (Utc::now() + Duration::hours(8))
        .format("%-m月%-d日")
        .to_string();
    let year_month = format!("{}年{}月", &month[..4], month[5..].trim_start_matches('0'));

    // A proposed them: they show, without a button.
    let html = page(&app, &a, "/desk/approvals").await;
    let text = visible_text(&html);
    for words in [
        "一票否决",
        "安全生产",
        "辖区企业发生安全生产事故",
        "人工录入",
        "党建考评：85.0%",
        "加减分",
        "扣分 -1.5 分",
        "防汛值班脱岗",
        "李明",
        "周敏",
        &year_month,
        &today,
        "需另一位督查员签批",
    ] {
        assert!(text.contains(words), "A's page shows {words}: {text}");
    }
    assert_eq!(text.matches("需另一位督查员签批").count(), 3, "{text}");
    for (kind, id) in [
        ("veto", &p.veto),
        ("manual", &p.value),
        ("adjustment", &p.adjustment),
    ] {
        assert!(
            html.contains(&format!("id=\"{kind}-{id}\"")),
            "{kind} listed"
        );
        assert!(
            !html.contains(&form_of(kind, id)),
            "no button for A on {kind}"
        );
    }
    // Pressing it anyway: the service refuses, the page says why (never a 500).
    let (status, _, refused) = sign(&app, &a, "veto", &p.veto).await;
    assert_eq!(status, 403);
    let said = text_of(&refused, "approvals-error").unwrap_or_default();
    assert!(said.starts_with("需另一位督查员签批"), "{said}");

    // Another town's supervisor sees none of it, and cannot sign it.
    let theirs = page(&app, &other_town, "/desk/approvals").await;
    assert!(visible_text(&theirs).contains("暂无待签批事项"), "{theirs}");
    assert!(!theirs.contains(&p.veto));
    let (status, _, refused) = sign(&app, &other_town, "veto", &p.veto).await;
    assert_eq!(status, 404);
    assert!(text_of(&refused, "approvals-error")
        .unwrap_or_default()
        .contains("不在您的辖区"));

    // A form posted from another site does nothing.
    let forged = browsing::browser()
        .post(format!(
            "{}/desk/approvals/veto/{}",
            browsing::origin(&app),
            p.veto
        ))
        .header("cookie", &b)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);

    // B, of the same town, signs each of them on the page.
    let html = page(&app, &b, "/desk/approvals").await;
    for (kind, id) in [
        ("veto", &p.veto),
        ("manual", &p.value),
        ("adjustment", &p.adjustment),
    ] {
        assert!(html.contains(&form_of(kind, id)), "B may sign the {kind}");
    }
    assert!(!visible_text(&html).contains("需另一位督查员签批：本人"));
    for (kind, id, notice) in [
        ("veto", &p.veto, "已签批一票否决"),
        ("manual", &p.value, "已签批人工录入值"),
        ("adjustment", &p.adjustment, "已签批加减分"),
    ] {
        let (status, location, _) = sign(&app, &b, kind, id).await;
        assert_eq!(status, 303, "{kind}");
        assert_eq!(location, format!("/desk/approvals?done={kind}"));
        let after = page(&app, &b, &location).await;
        assert!(visible_text(&after).contains(notice), "{after}");
        assert!(!after.contains(&form_of(kind, id)), "{kind} signed");
    }
    let veto = item(
        &app,
        &w.sup1_token,
        &format!("/scoring/vetoes?period={month}"),
        &p.veto,
    )
    .await;
    assert_eq!(veto["status"], "approved", "{veto}");
    assert_ne!(veto["approved_by"], Value::Null);
    assert_ne!(veto["approved_by"], w.sup1.as_str());
    let value = item(
        &app,
        &w.sup1_token,
        &format!("/scoring/manual-values?period={month}"),
        &p.value,
    )
    .await;
    assert_eq!(value["status"], "approved", "{value}");
    let adjustment = item(
        &app,
        &w.sup1_token,
        &format!("/scoring/adjustments?period={month}"),
        &p.adjustment,
    )
    .await;
    assert!(adjustment["approved_by"].is_string(), "{adjustment}");
    assert!(
        visible_text(&page(&app, &a, "/desk/approvals").await).contains("暂无待签批事项"),
        "nothing waits any more"
    );

    // Signing again: the service says it is done, in words.
    let (status, _, again) = sign(&app, &b, "veto", &p.veto).await;
    assert_eq!(status, 409);
    assert!(text_of(&again, "approvals-error")
        .unwrap_or_default()
        .contains("已由其他督查员签批"));

    // B asks to withdraw the veto (API): now A signs, B waits.
    let asked = app
        .post(
            &format!("/scoring/vetoes/{}/withdrawal", p.veto),
            &sup1b_token,
            json!({"reason": "经复核，事故责任不在本人"}),
        )
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    let html = page(&app, &b, "/desk/approvals").await;
    let text = visible_text(&html);
    assert!(text.contains("撤销一票否决"), "{text}");
    assert!(text.contains("经复核，事故责任不在本人"), "{text}");
    assert!(
        text.contains("原否决理由：辖区企业发生安全生产事故"),
        "{text}"
    );
    assert!(text.contains("需另一位督查员签批"), "{text}");
    assert!(!html.contains(&form_of("withdrawal", &p.veto)));
    let html = page(&app, &a, "/desk/approvals").await;
    assert!(html.contains(&form_of("withdrawal", &p.veto)), "{html}");
    let (status, location, _) = sign(&app, &a, "withdrawal", &p.veto).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/desk/approvals?done=withdrawal")
    );
    let veto = item(
        &app,
        &w.sup1_token,
        &format!("/scoring/vetoes?period={month}"),
        &p.veto,
    )
    .await;
    assert_eq!(veto["status"], "withdrawn", "{veto}");
}

#[tokio::test]
async fn the_admin_signs_what_a_supervisor_proposed_and_a_closed_month_is_not_listed() {
    let app = spawn_app().await;
    let w = app.world().await;
    with_manual_rate(&app).await;
    let (month, _) = last_month();
    let p = proposed_by_a(&app, &w, &month).await;
    let admin = browsing::sign_in(&app, ADMIN_PHONE, ADMIN_PASSWORD).await;
    let html = page(&app, &admin, "/desk/approvals").await;
    assert!(
        html.contains(&form_of("adjustment", &p.adjustment)),
        "{html}"
    );
    let (status, location, _) = sign(&app, &admin, "adjustment", &p.adjustment).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/desk/approvals?done=adjustment")
    );

    // Once the month is closed, what still waits can no longer be signed: it is not listed.
    let closed = app
        .post(
            &format!("/scoring/periods/{month}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    let html = page(&app, &admin, "/desk/approvals").await;
    assert!(visible_text(&html).contains("暂无待签批事项"), "{html}");
    let (status, _, refused) = sign(&app, &admin, "veto", &p.veto).await;
    assert_eq!(status, 409);
    let said = text_of(&refused, "approvals-error").unwrap_or_default();
    assert!(said.contains("已结算"), "{said}");
}
