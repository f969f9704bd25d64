use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn admins_define_categories_that_anyone_can_read() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = json!({"code": "road", "name": "道路维修", "group": "基础设施", "default_due_working_days": 3});
    let created = app.post("/categories", &app.admin, body.clone()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["group"], "基础设施");
    assert_eq!(created.body["active"], true);
    assert!(created.body["deadline_notice"]
        .as_str()
        .unwrap()
        .contains('3'));
    assert_eq!(app.post("/categories", &app.admin, body).await.status, 409);
    assert_eq!(
        app.post(
            "/categories",
            &w.sup1_token,
            json!({"code": "water", "name": "饮水", "group": "民生", "default_due_working_days": 5})
        )
        .await
        .status,
        403
    );
    let bad = app
        .post(
            "/categories",
            &app.admin,
            json!({"code": "Water!", "name": "", "group": "民生", "default_due_working_days": 0}),
        )
        .await;
    assert_eq!(
        bad.error_fields(),
        vec!["code", "name", "default_due_working_days"]
    );

    let anonymous = app.call(Method::GET, "/categories", None, None).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.body["items"][0]["code"], "road");

    let patched = app
        .patch(
            "/categories/road",
            &app.admin,
            json!({"default_due_working_days": 5, "active": false}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["default_due_working_days"], 5);
    assert_eq!(patched.body["active"], false);
    assert_eq!(patched.body["name"], "道路维修");
    assert_eq!(
        app.patch("/categories/none", &app.admin, json!({"active": false}))
            .await
            .status,
        404
    );
    assert_eq!(
        app.patch("/categories/road", &w.sup1_token, json!({"active": true}))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_working_day_calendar_is_set_per_year() {
    let app = spawn_app().await;
    let w = app.world().await;
    // National Day 2026: 1–7 October off; Sunday 27 September and Saturday 10 October worked.
    let body = json!({"holidays": ["2026-10-07", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06"],
                      "workdays": ["2026-10-10", "2026-09-27"]});
    let put = app.put("/calendar/2026", &app.admin, body).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["holidays"][0], "2026-10-01");
    assert_eq!(put.body["workdays"], json!(["2026-09-27", "2026-10-10"]));
    let got = app.get("/calendar/2026", &w.cadre1_token).await;
    assert_eq!(got.body["holidays"].as_array().unwrap().len(), 7);

    let replaced = app
        .put(
            "/calendar/2026",
            &app.admin,
            json!({"holidays": ["2026-01-01"], "workdays": []}),
        )
        .await;
    assert_eq!(replaced.status, 200);
    assert_eq!(
        app.get("/calendar/2026", &app.admin).await.body["holidays"],
        json!(["2026-01-01"])
    );

    let weekday_workday = app
        .put(
            "/calendar/2026",
            &app.admin,
            json!({"holidays": [], "workdays": ["2026-10-08"]}),
        )
        .await;
    assert_eq!(weekday_workday.error_fields(), vec!["workdays[0]"]);
    let other_year = app
        .put(
            "/calendar/2026",
            &app.admin,
            json!({"holidays": ["2026-05-01", "2027-01-01"], "workdays": []}),
        )
        .await;
    assert_eq!(other_year.error_fields(), vec!["holidays[1]"]);
    assert_eq!(
        app.put(
            "/calendar/1066",
            &app.admin,
            json!({"holidays": [], "workdays": []})
        )
        .await
        .status,
        422
    );
    assert_eq!(
        app.put(
            "/calendar/2026",
            &w.sup1_token,
            json!({"holidays": [], "workdays": []})
        )
        .await
        .status,
        403
    );
}
