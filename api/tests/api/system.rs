use reqwest::Method;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_checks_the_database() {
    let app = spawn_app().await;
    let reply = app.call(Method::GET, "/health", None, None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, serde_json::json!({"status": "ok", "db": "ok"}));
    assert!(reply.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn unknown_routes_answer_a_problem() {
    let app = spawn_app().await;
    let reply = app.call(Method::GET, "/no/such/thing", None, None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(reply.body["type"], "urn:minqing:problem:no-such-route");
}

/// The routes of DESIGN §4 that exist so far; each must be in the OpenAPI document.
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("get", "/api/v1/labels"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/register"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/org-units"),
    ("post", "/api/v1/org-units"),
    ("get", "/api/v1/org-units/{id}"),
    ("patch", "/api/v1/org-units/{id}"),
    ("put", "/api/v1/villages/{id}/boundary"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("put", "/api/v1/users/{id}/villages"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/checkins"),
    ("post", "/api/v1/checkins/batch"),
    ("get", "/api/v1/checkins"),
    ("post", "/api/v1/checkins/{id}/review"),
    ("get", "/api/v1/stays"),
    ("post", "/api/v1/media"),
    ("get", "/api/v1/media/{id}"),
    ("get", "/api/v1/media/{id}/thumb"),
    ("get", "/api/v1/media/{id}/meta"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories"),
    ("patch", "/api/v1/categories/{code}"),
    ("put", "/api/v1/calendar/{year}"),
    ("post", "/api/v1/work-orders"),
    ("get", "/api/v1/work-orders"),
    ("get", "/api/v1/work-orders/{id}"),
    ("post", "/api/v1/work-orders/{id}/assign"),
    ("post", "/api/v1/work-orders/{id}/accept"),
    ("post", "/api/v1/work-orders/{id}/progress"),
    ("post", "/api/v1/work-orders/{id}/resolve"),
    ("post", "/api/v1/work-orders/{id}/rate"),
    ("post", "/api/v1/work-orders/{id}/reject"),
    ("post", "/api/v1/work-orders/{id}/confirm"),
    ("get", "/api/v1/track/{code}"),
    ("get", "/api/v1/compliance"),
    ("post", "/api/v1/work-orders/{id}/extensions"),
    ("post", "/api/v1/work-orders/{id}/extensions/{eid}/decision"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("patch", "/api/v1/webhooks/{id}"),
    ("get", "/api/v1/scoring/schemes"),
    ("post", "/api/v1/scoring/schemes"),
    ("get", "/api/v1/scoring/schemes/{id}"),
    ("put", "/api/v1/scoring/schemes/{id}"),
    ("post", "/api/v1/scoring/adjustments"),
    ("post", "/api/v1/scoring/adjustments/{id}/approve"),
    ("post", "/api/v1/scoring/vetoes"),
    ("put", "/api/v1/scoring/ratings"),
    ("put", "/api/v1/scoring/recusals"),
    ("get", "/api/v1/scores"),
    ("get", "/api/v1/scores/{user_id}"),
    ("get", "/api/v1/scores/export"),
    ("post", "/api/v1/scoring/periods/{period}/close"),
    ("get", "/api/v1/records"),
    ("post", "/api/v1/records/{id}/rectify"),
    ("post", "/api/v1/records/{id}/verify"),
    ("post", "/api/v1/sessions"),
    ("get", "/api/v1/sessions"),
    ("get", "/api/v1/sessions/{id}"),
    ("patch", "/api/v1/sessions/{id}"),
    ("post", "/api/v1/work-logs"),
    ("get", "/api/v1/work-logs"),
    ("post", "/api/v1/work-logs/{id}/comments"),
    ("put", "/api/v1/org-units/{id}/boundary"),
    ("get", "/api/v1/audit"),
];

#[tokio::test]
async fn the_openapi_document_and_the_routes_match() {
    let app = spawn_app().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().expect("paths");

    for (method, path) in CONTRACT {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is not documented"
        );
    }

    // Every documented operation is served: nothing answers "no such route".
    let origin = app.base.trim_end_matches("/api/v1");
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let url = format!(
                "{origin}{}",
                path.replace("{id}", "00000000-0000-0000-0000-000000000000")
            );
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = app
                .client
                .request(method.clone(), &url)
                .bearer_auth(&app.admin)
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = reply.json().await.unwrap_or_default();
            assert_ne!(
                body["type"], "urn:minqing:problem:no-such-route",
                "{method} {path} is documented but not served"
            );
        }
    }
}
