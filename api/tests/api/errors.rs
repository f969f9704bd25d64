//! A client's mistake is answered with a problem naming it, never a 500.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_and_mistyped_bodies_name_the_problem() {
    let app = spawn_app().await;
    let url = format!("{}/org-units", app.base);
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&app.admin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let malformed = send(r#"{"name": "镇", "kind": "#, "application/json")
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(problem["status"], 400);
    assert_eq!(problem["type"], "urn:minqing:problem:bad-request");

    let wrong_type = send(r#"{"name": 12, "kind": "county"}"#, "application/json")
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 422);
    let problem: serde_json::Value = wrong_type.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "name");

    let unknown_enum = send(r#"{"name": "x", "kind": "planet"}"#, "application/json")
        .await
        .unwrap();
    let problem: serde_json::Value = unknown_enum.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "kind");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("county"));

    let unknown_field = send(
        r#"{"name": "x", "kind": "county", "colour": "red"}"#,
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(unknown_field.status(), 422);

    let missing = send(r#"{"kind": "county"}"#, "application/json")
        .await
        .unwrap();
    let problem: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "name");

    let not_json = send("name=x", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"name": "{}", "kind": "county"}}"#,
        "x".repeat(1_100_000)
    );
    let reply = app
        .client
        .post(format!("{}/org-units", app.base))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 413);
}

#[tokio::test]
async fn bad_query_strings_are_422() {
    let app = spawn_app().await;
    for path in [
        "/users?limit=0",
        "/users?limit=501",
        "/users?limit=ten",
        "/users?cursor=%21%21",
        "/org-units?kind=planet",
        "/users?bogus=1",
    ] {
        let reply = app.get(path, &app.admin).await;
        assert_eq!(reply.status, 422, "{path}: {:?}", reply.body);
        assert_eq!(reply.headers["content-type"], "application/problem+json");
    }
}

#[tokio::test]
async fn deep_nesting_and_odd_input_do_not_crash_the_server() {
    let app = spawn_app().await;
    let county = app.unit("县", "county", None).await;
    let town = app.unit("镇", "town", Some(&county)).await;
    let village = app.unit("村", "village", Some(&town)).await;
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let reply = app
        .client
        .put(format!("{}/villages/{village}/boundary", app.base))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body(format!(r#"{{"type":"Polygon","coordinates":{nested}}}"#))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_client_error(), "{}", reply.status());
    let weird = app
        .put(
            &format!("/villages/{village}/boundary"),
            &app.admin,
            json!([1, 2, 3]),
        )
        .await;
    assert_eq!(weird.status, 422);
    assert_eq!(app.get("/health", &app.admin).await.status, 200);
}
