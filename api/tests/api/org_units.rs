use serde_json::json;

use crate::helpers::{spawn_app, square};

#[tokio::test]
async fn admins_build_a_county_town_village_tree() {
    let app = spawn_app().await;
    let county = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "示范县", "kind": "county", "code": "330782"}),
        )
        .await;
    assert_eq!(county.status, 201);
    assert_eq!(county.body["kind"], "county");
    assert_eq!(county.body["parent_id"], json!(null));
    let town = app.unit("青山镇", "town", Some(&county.id())).await;
    let village = app.unit("溪口村", "village", Some(&town)).await;
    let dept = app
        .unit("县农业农村局", "department", Some(&county.id()))
        .await;

    let got = app.get(&format!("/org-units/{village}"), &app.admin).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["parent_id"], town);
    assert_eq!(got.body["name"], "溪口村");

    let children = app
        .get(&format!("/org-units?parent_id={}", county.id()), &app.admin)
        .await;
    let ids: Vec<&str> = children.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&town.as_str()) && ids.contains(&dept.as_str()));
    let villages = app.get("/org-units?kind=village", &app.admin).await;
    assert_eq!(villages.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_tree_keeps_its_shape() {
    let app = spawn_app().await;
    let county = app.unit("县", "county", None).await;
    let village_under_county = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "村", "kind": "village", "parent_id": county}),
        )
        .await;
    assert_eq!(village_under_county.status, 422);
    assert_eq!(village_under_county.error_fields(), vec!["parent_id"]);
    let orphan_town = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "镇", "kind": "town"}),
        )
        .await;
    assert_eq!(orphan_town.status, 422);
    let unknown_parent = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "镇", "kind": "town", "parent_id": "nope"}),
        )
        .await;
    assert_eq!(unknown_parent.status, 422);
    assert_eq!(unknown_parent.error_fields(), vec!["parent_id"]);
}

#[tokio::test]
async fn codes_are_unique() {
    let app = spawn_app().await;
    let first = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "A县", "kind": "county", "code": "330782"}),
        )
        .await;
    assert_eq!(first.status, 201);
    let second = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "B县", "kind": "county", "code": "330782"}),
        )
        .await;
    assert_eq!(second.status, 409);
    let bad = app
        .post(
            "/org-units",
            &app.admin,
            json!({"name": "C县", "kind": "county", "code": "has space"}),
        )
        .await;
    assert_eq!(bad.error_fields(), vec!["code"]);
}

#[tokio::test]
async fn moving_a_town_carries_its_subtree_and_cycles_are_refused() {
    let app = spawn_app().await;
    let county1 = app.unit("一县", "county", None).await;
    let county2 = app.unit("二县", "county", None).await;
    let town = app.unit("镇", "town", Some(&county1)).await;
    let village = app.unit("村", "village", Some(&town)).await;
    // A supervisor of county 2 cannot see the village before the move…
    let sup = app
        .user(json!({"name": "督查", "phone": "13900000009", "role": "supervisor", "org_unit_id": county2}))
        .await;
    let _ = sup;
    let token = app.login("13900000009", crate::helpers::PASSWORD).await;
    assert_eq!(
        app.get(&format!("/org-units/{village}"), &token)
            .await
            .status,
        404
    );

    let moved = app
        .patch(
            &format!("/org-units/{town}"),
            &app.admin,
            json!({"parent_id": county2, "name": "新镇"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["parent_id"], county2);
    assert_eq!(moved.body["name"], "新镇");
    // …and can after it: the village's path moved along.
    assert_eq!(
        app.get(&format!("/org-units/{village}"), &token)
            .await
            .status,
        200
    );

    let cycle = app
        .patch(
            &format!("/org-units/{county2}"),
            &app.admin,
            json!({"parent_id": village}),
        )
        .await;
    assert_eq!(cycle.status, 422);
    let wrong_kind = app
        .patch(
            &format!("/org-units/{village}"),
            &app.admin,
            json!({"parent_id": county1}),
        )
        .await;
    assert_eq!(wrong_kind.status, 422);
    assert_eq!(wrong_kind.error_fields(), vec!["parent_id"]);
}

#[tokio::test]
async fn village_boundaries_are_validated_and_stored() {
    let app = spawn_app().await;
    let county = app.unit("县", "county", None).await;
    let town = app.unit("镇", "town", Some(&county)).await;
    let village = app.unit("村", "village", Some(&town)).await;
    let path = format!("/villages/{village}/boundary");

    let polygon = app
        .put(&path, &app.admin, square(119.65, 29.08, 0.01))
        .await;
    assert_eq!(polygon.status, 200, "{:?}", polygon.body);
    assert_eq!(polygon.body["boundary"]["type"], "Polygon");
    assert_eq!(
        polygon.body["boundary"]["coordinates"][0]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let circle = app
        .put(
            &path,
            &app.admin,
            json!({"center": {"lat": 29.08, "lon": 119.65}}),
        )
        .await;
    assert_eq!(circle.status, 200);
    assert_eq!(circle.body["boundary"]["radius_m"], 1500.0);
    assert_eq!(
        app.get(&format!("/org-units/{village}"), &app.admin)
            .await
            .body["boundary"]["center"]["lat"],
        29.08
    );

    let open_ring = app
        .put(&path, &app.admin, json!({"type": "Polygon", "coordinates": [[[119.6, 29.0], [119.7, 29.0], [119.7, 29.1], [119.6, 29.1]]]}))
        .await;
    assert_eq!(open_ring.status, 422);
    assert_eq!(open_ring.error_fields(), vec!["coordinates[0]"]);

    let out_of_range = app
        .put(&path, &app.admin, json!({"type": "Polygon", "coordinates": [[[190.0, 29.0], [119.7, 29.0], [119.7, 29.1], [190.0, 29.0]]]}))
        .await;
    assert_eq!(out_of_range.status, 422);
    assert!(out_of_range
        .error_fields()
        .iter()
        .any(|f| f.starts_with("coordinates[0][0]")));

    let ring: Vec<[f64; 2]> = (0..10_001)
        .map(|i| {
            let a = i as f64 / 10_000.0 * std::f64::consts::TAU;
            [119.65 + 0.01 * a.cos(), 29.08 + 0.01 * a.sin()]
        })
        .collect();
    let too_many = app
        .put(
            &path,
            &app.admin,
            json!({"type": "Polygon", "coordinates": [ring]}),
        )
        .await;
    assert_eq!(too_many.status, 422);
    assert_eq!(too_many.error_fields(), vec!["coordinates"]);

    let point = app
        .put(
            &path,
            &app.admin,
            json!({"type": "Point", "coordinates": [119.6, 29.0]}),
        )
        .await;
    assert_eq!(point.error_fields(), vec!["type"]);

    let on_a_town = app
        .put(
            &format!("/villages/{town}/boundary"),
            &app.admin,
            square(119.65, 29.08, 0.01),
        )
        .await;
    assert_eq!(on_a_town.status, 404);
}

#[tokio::test]
async fn org_unit_lists_are_paged_by_cursor() {
    let app = spawn_app().await;
    let county = app.unit("县", "county", None).await;
    let mut created = vec![county.clone()];
    for i in 0..6 {
        created.push(app.unit(&format!("镇{i}"), "town", Some(&county)).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/org-units?limit=3&cursor={c}"),
            None => "/org-units?limit=3".to_string(),
        };
        let page = app.get(&path, &app.admin).await;
        assert_eq!(page.status, 200);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, created, "every unit once, in creation order");
}
