use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, PASSWORD};

#[tokio::test]
async fn admins_create_every_role_and_each_can_sign_in() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (phone, role) in [
        ("13900000001", "supervisor"),
        ("13900000011", "cadre"),
        ("13900000021", "villager"),
    ] {
        let reply = app.login_reply(phone, PASSWORD).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["user"]["role"], role);
    }
    let admin2 = app.post("/users", &app.admin, json!({"name": "二号管理员", "phone": "13800000002", "role": "admin", "password": PASSWORD})).await;
    assert_eq!(admin2.status, 201);
    assert_eq!(admin2.body["org_unit_id"], json!(null));
    let cadre = app.get(&format!("/users/{}", w.cadre1), &app.admin).await;
    assert_eq!(cadre.body["cadre_category"], "organ");
    assert_eq!(cadre.body["staff_type"], "established");
    assert_eq!(cadre.body["rater_group"], "established");
    assert!(cadre.body.get("password").is_none() && cadre.body.get("password_hash").is_none());
    let village_cadre = app.get(&format!("/users/{}", w.cadre2), &app.admin).await;
    assert_eq!(village_cadre.body["staff_type"], "non_established");
    assert_eq!(village_cadre.body["rater_group"], "non_established");
    let villager = app
        .get(&format!("/users/{}", w.villager1), &app.admin)
        .await;
    assert_eq!(villager.body["village_ids"], json!([w.village1]));
}

#[tokio::test]
async fn user_input_is_checked_field_by_field() {
    let app = spawn_app().await;
    let w = app.world().await;
    let bad = app
        .post("/users", &app.admin, json!({"name": "", "phone": "12345", "role": "cadre", "org_unit_id": w.town1, "password": "short"}))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_fields(), vec!["name", "phone", "password"]);
    let no_category = app
        .post("/users", &app.admin, json!({"name": "某", "phone": "13911111111", "role": "cadre", "org_unit_id": w.town1, "password": PASSWORD}))
        .await;
    assert_eq!(no_category.error_fields(), vec!["cadre_category"]);
    let villager_in_town = app
        .post("/users", &app.admin, json!({"name": "某", "phone": "13911111111", "role": "villager", "org_unit_id": w.town1, "password": PASSWORD}))
        .await;
    assert_eq!(villager_in_town.error_fields(), vec!["org_unit_id"]);
    let no_unit = app
        .post("/users", &app.admin, json!({"name": "某", "phone": "13911111111", "role": "supervisor", "password": PASSWORD}))
        .await;
    assert_eq!(no_unit.error_fields(), vec!["org_unit_id"]);
    let taken = app
        .post("/users", &app.admin, json!({"name": "某", "phone": "13900000011", "role": "supervisor", "org_unit_id": w.town1, "password": PASSWORD}))
        .await;
    assert_eq!(taken.status, 409);
    let middle = app
        .post("/users", &app.admin, json!({"name": "中层", "phone": "+86 139-1111-1111", "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "organ", "rater_group": "middle", "password": PASSWORD}))
        .await;
    assert_eq!(middle.status, 201);
    assert_eq!(middle.body["phone"], "13911111111");
    assert_eq!(middle.body["rater_group"], "middle");
}

#[tokio::test]
async fn supervisors_manage_cadres_and_villagers_of_their_own_town() {
    let app = spawn_app().await;
    let w = app.world().await;
    let cadre = app
        .post("/users", &w.sup1_token, json!({"name": "新干部", "phone": "13922222222", "role": "cadre", "org_unit_id": w.town1,
            "cadre_category": "village", "password": PASSWORD}))
        .await;
    assert_eq!(cadre.status, 201, "{:?}", cadre.body);
    let supervisor = app
        .post("/users", &w.sup1_token, json!({"name": "x", "phone": "13922222223", "role": "supervisor", "org_unit_id": w.town1, "password": PASSWORD}))
        .await;
    assert_eq!(supervisor.status, 403);
    let elsewhere = app
        .post(
            "/users",
            &w.sup1_token,
            json!({"name": "x", "phone": "13922222224", "role": "cadre", "org_unit_id": w.town2,
            "cadre_category": "organ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(elsewhere.status, 422);
    assert_eq!(elsewhere.error_fields(), vec!["org_unit_id"]);

    let list = app.get("/users", &w.sup1_token).await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&w.cadre1.as_str())
            && ids.contains(&w.villager1.as_str())
            && ids.contains(&w.sup1.as_str())
    );
    assert!(
        !ids.contains(&w.cadre2.as_str())
            && !ids.contains(&w.sup2.as_str())
            && !ids.contains(&w.villager2.as_str())
    );

    let promote = app
        .patch(
            &format!("/users/{}", w.cadre1),
            &w.sup1_token,
            json!({"role": "supervisor"}),
        )
        .await;
    assert_eq!(promote.status, 403);
    let rename = app
        .patch(
            &format!("/users/{}", w.cadre1),
            &w.sup1_token,
            json!({"name": "李明明"}),
        )
        .await;
    assert_eq!(rename.status, 200);
    assert_eq!(rename.body["name"], "李明明");
    assert_eq!(rename.body["cadre_category"], "organ");
    let peer = app
        .patch(
            &format!("/users/{}", w.sup1),
            &w.sup1_token,
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(peer.status, 403);
}

#[tokio::test]
async fn cadres_are_assigned_villages_of_reach() {
    let app = spawn_app().await;
    let w = app.world().await;
    let path = format!("/users/{}/villages", w.cadre1);
    let ok = app
        .put(
            &path,
            &w.sup1_token,
            json!({"village_ids": [w.village1, w.village1]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["village_ids"], json!([w.village1]));
    let other_town = app
        .put(
            &path,
            &w.sup1_token,
            json!({"village_ids": [w.village1, w.village2]}),
        )
        .await;
    assert_eq!(other_town.status, 422);
    assert_eq!(other_town.error_fields(), vec!["village_ids[1]"]);
    let not_village = app
        .put(&path, &app.admin, json!({"village_ids": [w.town1]}))
        .await;
    assert_eq!(not_village.error_fields(), vec!["village_ids[0]"]);
    let villager = app
        .put(
            &format!("/users/{}/villages", w.villager1),
            &app.admin,
            json!({"village_ids": [w.village1]}),
        )
        .await;
    assert_eq!(villager.status, 422);
    let cleared = app.put(&path, &app.admin, json!({"village_ids": []})).await;
    assert_eq!(cleared.body["village_ids"], json!([]));
}

#[tokio::test]
async fn patches_change_only_what_is_sent_and_keep_rules() {
    let app = spawn_app().await;
    let w = app.world().await;
    let path = format!("/users/{}", w.cadre1);
    let moved = app
        .patch(
            &path,
            &app.admin,
            json!({"org_unit_id": w.village1, "cadre_category": "village"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["org_unit_id"], w.village1);
    assert_eq!(moved.body["cadre_category"], "village");
    assert_eq!(moved.body["phone"], "13900000011");
    let password = app
        .patch(&path, &app.admin, json!({"password": "brand-new-password"}))
        .await;
    assert_eq!(password.status, 200);
    assert_eq!(app.login_reply("13900000011", PASSWORD).await.status, 401);
    assert_eq!(
        app.login_reply("13900000011", "brand-new-password")
            .await
            .status,
        200
    );
    let to_villager = app
        .patch(&path, &app.admin, json!({"role": "villager"}))
        .await;
    assert_eq!(to_villager.status, 200, "{:?}", to_villager.body);
    assert_eq!(to_villager.body["cadre_category"], json!(null));
    assert_eq!(to_villager.body["village_ids"], json!([w.village1]));

    let me = app.get("/me", &app.admin).await;
    let admin_id = me.body["id"].as_str().unwrap();
    let demote_self = app
        .patch(
            &format!("/users/{admin_id}"),
            &app.admin,
            json!({"role": "cadre"}),
        )
        .await;
    assert_eq!(demote_self.status, 422);
    let taken = app
        .patch(&path, &app.admin, json!({"phone": "13900000001"}))
        .await;
    assert_eq!(taken.status, 409);
}

#[tokio::test]
async fn user_lists_filter_and_page() {
    let app = spawn_app().await;
    let w = app.world().await;
    let cadres = app.get("/users?role=cadre", &app.admin).await;
    let ids: Vec<&str> = cadres.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![w.cadre1.as_str(), w.cadre2.as_str()]);
    let in_village = app
        .get(&format!("/users?org_unit_id={}", w.village1), &app.admin)
        .await;
    assert_eq!(in_village.body["items"].as_array().unwrap().len(), 1);
    let first = app.get("/users?limit=2", &app.admin).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/users?limit=2&cursor={cursor}"), &app.admin)
        .await;
    assert_ne!(first.body["items"][0]["id"], second.body["items"][0]["id"]);
    assert_eq!(app.get("/users?role=king", &app.admin).await.status, 422);
}

#[tokio::test]
async fn a_moved_supervisor_reaches_the_new_town_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    // The token is used once, so the server knows this supervisor.
    assert_eq!(
        app.get(&format!("/users/{}", w.cadre1), &w.sup1_token)
            .await
            .status,
        200
    );
    let moved = app
        .patch(
            &format!("/users/{}", w.sup1),
            &app.admin,
            json!({"org_unit_id": w.town2}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(
        app.get(&format!("/users/{}", w.cadre1), &w.sup1_token)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/users/{}", w.cadre2), &w.sup1_token)
            .await
            .status,
        200
    );
}

/// Everything a signed-in villager holds: an API access and refresh token, a page cookie.
struct Sessions {
    access: String,
    refresh: String,
    cookie: String,
}

fn origin(app: &TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_string()
}

/// A browser that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in_everywhere(app: &TestApp, phone: &str, password: &str) -> Sessions {
    let api = app.login_reply(phone, password).await;
    assert_eq!(api.status, 200, "{:?}", api.body);
    let page = browser()
        .post(format!("{}/login", origin(app)))
        .form(&[("phone", phone), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    let cookie = page.headers()[SET_COOKIE].to_str().unwrap();
    Sessions {
        access: api.body["access_token"].as_str().unwrap().to_string(),
        refresh: api.body["refresh_token"].as_str().unwrap().to_string(),
        cookie: cookie.split(';').next().unwrap().to_string(),
    }
}

async fn refresh(app: &TestApp, token: &str) -> u16 {
    app.call(
        Method::POST,
        "/auth/refresh",
        None,
        Some(json!({"refresh_token": token})),
    )
    .await
    .status
}

/// Where `/my` sends the cookie's holder: nowhere (200), or elsewhere (the Location).
async fn my_page(app: &TestApp, cookie: &str) -> Option<String> {
    let reply = browser()
        .get(format!("{}/my", origin(app)))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    reply
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
}

async fn assert_live(app: &TestApp, s: &Sessions) {
    assert_eq!(app.get("/me", &s.access).await.status, 200);
    assert_eq!(my_page(app, &s.cookie).await, None);
}

/// Every session `s` held is over: the access token, the refresh token and the page cookie.
async fn assert_ended(app: &TestApp, s: &Sessions, what: &str) {
    let me = app.get("/me", &s.access).await;
    assert_eq!(
        me.status, 401,
        "{what}: the old access token: {:?}",
        me.body
    );
    assert_eq!(
        refresh(app, &s.refresh).await,
        401,
        "{what}: the old refresh token"
    );
    assert_eq!(
        my_page(app, &s.cookie).await.as_deref(),
        Some("/login"),
        "{what}: the old page session"
    );
}

async fn patch_villager(app: &TestApp, id: &str, body: Value) {
    let reply = app.patch(&format!("/users/{id}"), &app.admin, body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn a_password_reset_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let w = app.world().await;
    let old = sign_in_everywhere(&app, "13900000021", PASSWORD).await;
    let other = sign_in_everywhere(&app, "13900000022", PASSWORD).await;
    assert_live(&app, &old).await;
    // Changes that are not a reset, disable or role change end nothing.
    patch_villager(&app, &w.villager1, json!({"name": "赵大伯"})).await;
    assert_live(&app, &old).await;

    patch_villager(&app, &w.villager1, json!({"password": "a-new-password-1"})).await;
    // Signed in again: the new token is cached, and still the old one is refused.
    let new = sign_in_everywhere(&app, "13900000021", "a-new-password-1").await;
    assert_live(&app, &new).await;
    assert_ended(&app, &old, "after a password reset").await;
    assert_live(&app, &new).await;
    assert_eq!(refresh(&app, &new.refresh).await, 200);
    // Other users keep their sessions.
    assert_live(&app, &other).await;
}

#[tokio::test]
async fn disabling_ends_every_session_for_good() {
    let app = spawn_app().await;
    let w = app.world().await;
    let old = sign_in_everywhere(&app, "13900000021", PASSWORD).await;
    assert_live(&app, &old).await;
    patch_villager(&app, &w.villager1, json!({"active": false})).await;
    assert_ended(&app, &old, "while disabled").await;
    // Enabled again, the account signs in anew; the sessions from before stay over.
    patch_villager(&app, &w.villager1, json!({"active": true})).await;
    assert_ended(&app, &old, "after enabling again").await;
    let new = sign_in_everywhere(&app, "13900000021", PASSWORD).await;
    assert_live(&app, &new).await;
}

#[tokio::test]
async fn a_role_change_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let w = app.world().await;
    let old = sign_in_everywhere(&app, "13900000021", PASSWORD).await;
    assert_live(&app, &old).await;
    patch_villager(
        &app,
        &w.villager1,
        json!({"role": "cadre", "cadre_category": "village"}),
    )
    .await;
    assert_ended(&app, &old, "after a role change").await;
    let cadre = app.login_reply("13900000021", PASSWORD).await;
    assert_eq!(cadre.body["user"]["role"], "cadre");
    let token = cadre.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/me", token).await.body["role"], "cadre");
}
