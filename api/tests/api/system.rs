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
    ("get", "/api/v1/ready"),
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
    ("put", "/api/v1/scoring/manual-values"),
    ("get", "/api/v1/scoring/manual-values"),
    ("post", "/api/v1/scoring/manual-values/{id}/approve"),
    ("post", "/api/v1/scoring/manual-values/import"),
    ("post", "/api/v1/scoring/vetoes"),
    ("get", "/api/v1/scoring/vetoes"),
    ("post", "/api/v1/scoring/vetoes/{id}/approve"),
    ("post", "/api/v1/scoring/vetoes/{id}/withdrawal"),
    ("post", "/api/v1/scoring/vetoes/{id}/withdrawal/approve"),
    ("get", "/api/v1/scoring/veto-areas"),
    ("post", "/api/v1/scoring/veto-areas"),
    ("patch", "/api/v1/scoring/veto-areas/{code}"),
    ("put", "/api/v1/scoring/ratings"),
    ("put", "/api/v1/scoring/recusals"),
    ("get", "/api/v1/scores"),
    ("get", "/api/v1/scores/{user_id}"),
    ("get", "/api/v1/scores/export"),
    ("get", "/api/v1/scores/units"),
    ("get", "/api/v1/scoring/rating-tasks"),
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

/// What `.ci/schemathesis` holds the server to, in the parts that must not slip without it:
/// every operation documents its errors as `application/problem+json`, paging and body
/// fields carry their bounds, and every reference resolves.
#[tokio::test]
async fn the_openapi_document_states_errors_and_bounds() {
    let app = spawn_app().await;
    let doc = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let problem = serde_json::json!({"$ref": "#/components/schemas/Problem"});
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            let mut expected = vec!["500"];
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if secured {
                expected.extend(["401", "403"]);
            }
            if op.get("requestBody").is_some() {
                expected.extend(["400", "408", "413", "415", "422"]);
            }
            if path.contains('{') {
                expected.push("404");
            }
            for status in expected {
                assert_eq!(
                    responses
                        .get(status)
                        .map(|r| &r["content"]["application/problem+json"]["schema"]),
                    Some(&problem),
                    "{at} documents no problem+json {status}"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/json"]["schema"] != problem,
                        "{at}: its {status} is sent as application/problem+json"
                    );
                }
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                match param["name"].as_str() {
                    Some("limit") => {
                        assert_eq!(param["schema"]["minimum"], 1, "{at} limit");
                        assert_eq!(param["schema"]["maximum"], 500, "{at} limit");
                    }
                    Some("cursor") => {
                        assert!(param["schema"]["pattern"].is_string(), "{at} cursor")
                    }
                    _ => {}
                }
            }
        }
    }

    let schemas = &doc["components"]["schemas"];
    for (schema, property) in minqing_api::http::contract::bounded_fields() {
        let field = &schemas[schema]["properties"][property];
        let bounded = [
            "minLength",
            "maxLength",
            "pattern",
            "minimum",
            "maximum",
            "maxItems",
            "minItems",
            "enum",
        ]
        .iter()
        .any(|k| field.get(k).is_some());
        assert!(
            bounded,
            "{schema}.{property} is not in the document with its bounds"
        );
    }
    // A flag's value is whatever was measured: a number, a string, an object.
    assert!(schemas["Flag"]["properties"]["value"].get("type").is_none());

    fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    found.push(r);
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a schema reference");
        assert!(schemas.get(name).is_some(), "{r} does not resolve");
    }
}
