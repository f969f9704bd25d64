//! Public codes of villages (`/v/{code}`) and the public read of a village, with no account.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, start, test_config, TestApp, PASSWORD};

const ALPHABET: &str = "abcdefghjkmnpqrstuvwxyz23456789";

async fn code_of(app: &TestApp, unit: &str) -> Value {
    let reply = app.get(&format!("/org-units/{unit}"), &app.admin).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["code"].clone()
}

async fn public(app: &TestApp, base: Option<&str>, code: &str) -> crate::helpers::Reply {
    match base {
        None => {
            app.call(Method::GET, &format!("/public/villages/{code}"), None, None)
                .await
        }
        Some(base) => {
            let reply = app
                .client
                .get(format!("{base}/public/villages/{code}"))
                .send()
                .await
                .unwrap();
            crate::helpers::Reply {
                status: reply.status().as_u16(),
                headers: reply.headers().clone(),
                body: reply.json().await.unwrap_or(Value::Null),
            }
        }
    }
}

#[tokio::test]
async fn villages_get_unique_codes_unless_an_admin_gives_one() {
    let app = spawn_app().await;
    let county = app.unit("示范县", "county", None).await;
    let town = app.unit("青山镇", "town", Some(&county)).await;
    let mut codes = Vec::new();
    for name in ["溪口村", "竹林村", "石桥村"] {
        let village = app.unit(name, "village", Some(&town)).await;
        let code = code_of(&app, &village).await;
        let code = code.as_str().expect("a generated code").to_string();
        assert_eq!(code.len(), 6, "{code}");
        assert!(code.chars().all(|c| ALPHABET.contains(c)), "{code}");
        codes.push(code);
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert_eq!(
        code_of(&app, &town).await,
        Value::Null,
        "only villages get one"
    );

    // An admin's code is kept as given, and is unique whatever its case.
    let given = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "东山村", "kind": "village", "parent_id": town, "code": "DongShan"}),
        )
        .await;
    assert_eq!(given.status, 201, "{:?}", given.body);
    assert_eq!(given.body["code"], "DongShan");
    let taken = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "东山村二", "kind": "village", "parent_id": town, "code": "dongshan"}),
        )
        .await;
    assert_eq!(taken.status, 409, "{:?}", taken.body);
    let renamed = app
        .patch(
            &format!("/org-units/{}", given.id()),
            &app.admin,
            json!({"code": "xikou"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["code"], "xikou");
    let other = app.unit("西山村", "village", Some(&town)).await;
    assert_eq!(
        app.patch(
            &format!("/org-units/{other}"),
            &app.admin,
            json!({"code": "XIKOU"})
        )
        .await
        .status,
        409
    );
    // The existing rules for codes still hold.
    assert_eq!(
        app.post(
            "/org-units",
            &app.admin,
            json!({"name": "坏码村", "kind": "village", "parent_id": town, "code": "a b"})
        )
        .await
        .error_fields(),
        vec!["code"]
    );
}

#[tokio::test]
async fn start_up_gives_a_code_to_every_village_without_one() {
    let app = spawn_app().await;
    let county = app.unit("示范县", "county", None).await;
    let town = app.unit("青山镇", "town", Some(&county)).await;
    let village = app.unit("溪口村", "village", Some(&town)).await;
    // A village from before codes were generated.
    let db = minqing_api::db::Db::connect(&app.db.url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    minqing_api::db::org::update_name_and_code(
        &mut conn,
        &village,
        "溪口村",
        None,
        chrono::Utc::now().naive_utc(),
    )
    .unwrap();
    assert_eq!(code_of(&app, &village).await, Value::Null);

    let restarted = start(test_config(&app.db));
    let code = minqing_api::db::org::find(&mut conn, &village)
        .unwrap()
        .unwrap()
        .code
        .expect("a code given at start-up");
    assert_eq!(code.len(), 6, "{code}");
    assert!(code.chars().all(|c| ALPHABET.contains(c)), "{code}");
    assert_eq!(
        minqing_api::db::org::find(&mut conn, &town)
            .unwrap()
            .unwrap()
            .code,
        None
    );
    let read = public(&app, Some(&restarted), &code).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["name"], "溪口村");
}

#[tokio::test]
async fn anyone_reads_a_village_by_its_code() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (code, name) in [
        ("road", "道路维修"),
        ("water", "饮水安全"),
        ("old", "旧类别"),
    ] {
        let body =
            json!({"code": code, "name": name, "group": "民生", "default_due_working_days": 3});
        assert_eq!(app.post("/categories", &app.admin, body).await.status, 201);
    }
    assert_eq!(
        app.patch("/categories/old", &app.admin, json!({"active": false}))
            .await
            .status,
        200
    );
    // Cadres of the village: two active (listed by name), one inactive, one of another village.
    let wang = app
        .user(json!({"name": "王芳", "phone": "13900000031", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "village"}))
        .await;
    let gone = app
        .user(json!({"name": "赵离", "phone": "13900000032", "role": "cadre", "org_unit_id": w.town1, "cadre_category": "village"}))
        .await;
    for cadre in [&w.cadre1, &wang, &gone] {
        let reply = app
            .put(
                &format!("/users/{cadre}/villages"),
                &app.admin,
                json!({"village_ids": [w.village1]}),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    assert_eq!(
        app.patch(
            &format!("/users/{gone}"),
            &app.admin,
            json!({"active": false})
        )
        .await
        .status,
        200
    );
    app.put(
        &format!("/users/{}/villages", w.cadre2),
        &app.admin,
        json!({"village_ids": [w.village2]}),
    )
    .await;
    assert_eq!(
        app.patch(
            &format!("/org-units/{}", w.village1),
            &app.admin,
            json!({"code": "XiKou"})
        )
        .await
        .status,
        200
    );

    for code in ["XiKou", "xikou", "XIKOU"] {
        let read = public(&app, None, code).await;
        assert_eq!(read.status, 200, "{code}: {:?}", read.body);
        assert_eq!(read.body["id"], w.village1);
        assert_eq!(read.body["code"], "XiKou", "stored as given");
        assert_eq!(read.body["name"], "溪口村");
        assert_eq!(read.body["town"], "青山镇");
    }
    let read = public(&app, None, "xikou").await.body;
    let categories: Vec<&str> = read["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(categories, vec!["road", "water"]);
    assert_eq!(read["categories"][0]["name"], "道路维修");
    assert_eq!(
        read["cadres"],
        json!([{"name": "李明", "phone": "13900000011"}, {"name": "王芳", "phone": "13900000031"}])
    );

    let unknown = public(&app, None, "nosuch").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["type"], "urn:minqing:problem:not-found");
    assert_eq!(unknown.headers["content-type"], "application/problem+json");
    // A town's code names no village.
    app.patch(
        &format!("/org-units/{}", w.town1),
        &app.admin,
        json!({"code": "qingshan"}),
    )
    .await;
    assert_eq!(public(&app, None, "qingshan").await.status, 404);
    // Signed in or not, the same answer.
    let token = app.login("13900000021", PASSWORD).await;
    assert_eq!(app.get("/public/villages/xikou", &token).await.body, read);
}
