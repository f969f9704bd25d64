//! The append-only audit log: who read personal data and who changed users, scores, records
//! and settings, readable by the admin only.

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

fn entries(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor_name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn reads_of_personal_data_and_changes_are_on_record_for_the_admin() {
    let app = spawn_app().await;
    let w = app.world().await;
    // The supervisor reads a cadre's record (phone) and lists the town's people.
    assert_eq!(
        app.get(&format!("/users/{}", w.cadre1), &w.sup1_token)
            .await
            .status,
        200
    );
    assert_eq!(app.get("/users", &w.sup1_token).await.status, 200);
    // The admin resets the cadre's password and moves nothing else.
    let reset = app
        .patch(
            &format!("/users/{}", w.cadre1),
            &app.admin,
            json!({"password": "a-new-password-2026"}),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    // A score adjustment proposed by the admin and approved by the supervisor.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let proposed = app
        .post(
            "/scoring/adjustments",
            &app.admin,
            json!({"user_id": w.cadre1, "period": month, "points": 2, "reason": "抗洪表彰"}),
        )
        .await
        .id();
    let approved = app
        .post(
            &format!("/scoring/adjustments/{proposed}/approve"),
            &w.sup1_token,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);

    let log = app.get("/audit?limit=50", &app.admin).await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    let seen = entries(&log.body);
    for (action, who) in [
        ("user.read", "周敏"),
        ("users.list", "周敏"),
        ("user.update", ""),
        ("adjustment.propose", ""),
        ("adjustment.approve", "周敏"),
        ("user.create", ""),
    ] {
        assert!(
            seen.iter()
                .any(|(a, n)| a == action && (who.is_empty() || n == who)),
            "{action} by {who:?} in {seen:?}"
        );
    }
    let text = log.body.to_string();
    assert!(!text.contains("a-new-password-2026"), "never a password");
    let update = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.update")
        .unwrap();
    assert_eq!(update["target_id"], w.cadre1.as_str());
    assert_eq!(update["detail"]["password_reset"], true);
    // Filters, newest first, and only for the admin.
    let reads = app
        .get(
            &format!("/audit?action=user.read&target_id={}", w.cadre1),
            &app.admin,
        )
        .await;
    assert_eq!(
        reads.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        reads.body
    );
    assert_eq!(app.get("/audit", &w.sup1_token).await.status, 403);
    // (The cadre's old sessions ended with the reset.)
    assert_eq!(app.get("/audit", &w.cadre1_token).await.status, 401);
    let cadre = app.login("13900000011", "a-new-password-2026").await;
    assert_eq!(app.get("/audit", &cadre).await.status, 403);
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed_or_emptied() {
    let app = spawn_app().await;
    let w = app.world().await;
    assert_eq!(
        app.get(&format!("/users/{}", w.cadre1), &w.sup1_token)
            .await
            .status,
        200
    );
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let refused = |sql: &str, conn: &mut minqing_api::db::DbConn| match conn {
        minqing_api::db::DbConn::Sqlite(c, _) => diesel::sql_query(sql).execute(&mut **c).is_err(),
        minqing_api::db::DbConn::Pg(c) => diesel::sql_query(sql).execute(&mut **c).is_err(),
    };
    assert!(refused(
        "UPDATE audit_log SET action = 'nothing'",
        &mut conn
    ));
    assert!(refused("DELETE FROM audit_log", &mut conn));
    let log = app.get("/audit", &app.admin).await;
    assert!(entries(&log.body).iter().any(|(a, _)| a == "user.read"));
}
