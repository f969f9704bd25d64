use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};

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
