//! What operators and their tools read: readiness (`/api/v1/ready`) and the Prometheus
//! metrics at `/metrics` as `MINQING_METRICS` allows them.

use minqing_api::config::MetricsMode;
use reqwest::Method;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

const SECRET: &str = "metrics-secret-0123456789";

impl TestApp {
    /// The server's origin, without `/api/v1`.
    fn origin(&self) -> &str {
        self.base.trim_end_matches("/api/v1")
    }

    /// `GET /metrics` with `token` as bearer, if any: status and body text.
    async fn metrics(&self, token: Option<&str>) -> (u16, String, String) {
        let mut request = self.client.get(format!("{}/metrics", self.origin()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = request.send().await.expect("the server answers");
        let status = reply.status().as_u16();
        let content_type = reply
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, reply.text().await.unwrap())
    }
}

#[tokio::test]
async fn ready_when_the_database_and_the_photo_store_answer() {
    let app = spawn_app().await;
    let reply = app.call(Method::GET, "/ready", None, None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body, serde_json::json!({"status": "ready"}));
}

#[tokio::test]
async fn not_ready_names_the_photo_store_when_it_is_gone() {
    let app = spawn_app().await;
    let photos = app.db.dir().join("data").join("photos");
    std::fs::remove_dir_all(&photos).unwrap();
    std::fs::write(&photos, b"not a directory").unwrap();
    let reply = app.call(Method::GET, "/ready", None, None).await;
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(reply.headers["retry-after"], "5");
    assert_eq!(reply.body["type"], "urn:minqing:problem:unavailable");
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(detail.contains("the photo store"), "{detail}");
    assert!(!detail.contains("database"), "{detail}");
    // Liveness is not readiness: the process and its database still answer.
    assert_eq!(
        app.call(Method::GET, "/health", None, None).await.status,
        200
    );
}

#[tokio::test]
async fn both_are_documented_and_metrics_are_not() {
    let app = spawn_app().await;
    let doc = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let ready = &doc["paths"]["/api/v1/ready"]["get"]["responses"];
    assert!(ready["200"].is_object(), "{ready}");
    assert_eq!(
        ready["503"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    assert!(doc["paths"]["/api/v1/health"]["get"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.keys().all(|p| !p.contains("metrics")), "{paths:?}");
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    let (status, _, _) = app.metrics(None).await;
    assert_eq!(status, 404);
    let (status, _, _) = app.metrics(Some(SECRET)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn with_a_token_only_its_bearer_reads_the_metrics() {
    let app = spawn_app_with(|c| c.metrics = MetricsMode::Token(SECRET.into())).await;
    // Without the token the endpoint looks like no endpoint at all.
    let unknown = app
        .client
        .get(format!("{}/no-such-page", app.origin()))
        .send()
        .await
        .unwrap();
    let (status, content_type, body) = app.metrics(None).await;
    assert_eq!(status, 404);
    assert_eq!(
        Some(content_type.as_str()),
        unknown
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap())
    );
    assert!(!body.contains("minqing_"));
    let (status, _, body) = app.metrics(Some("metrics-secret-012345678X")).await;
    assert_eq!(status, 404);
    assert!(!body.contains("minqing_"));

    assert_eq!(
        app.call(Method::GET, "/health", None, None).await.status,
        200
    );
    let order = "/work-orders/00000000-0000-0000-0000-000000000000";
    assert_eq!(app.get(order, &app.admin).await.status, 404);
    let (status, content_type, text) = app.metrics(Some(SECRET)).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let has = |prefix: &str| text.lines().any(|l| l.starts_with(prefix));
    for prefix in [
        r#"minqing_http_requests_total{method="GET",route="/api/v1/health",status="200"} "#,
        r#"minqing_http_requests_total{method="GET",route="/api/v1/work-orders/{id}",status="404"} "#,
        r#"minqing_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} "#,
        r#"minqing_http_requests_total{method="GET",route="/metrics",status="404"} "#,
        r#"minqing_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/health"} "#,
        r#"minqing_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/health"} 1"#,
        r#"minqing_http_request_duration_seconds_count{method="GET",route="/api/v1/health"} 1"#,
        "minqing_db_pool_in_use ",
        "minqing_db_pool_idle ",
        "minqing_db_pool_max 4",
        "minqing_webhook_outbox_depth 0",
        "minqing_database_up 1",
        "minqing_job_runs_total ",
        "minqing_job_failures_total ",
    ] {
        assert!(has(prefix), "no line {prefix}… in\n{text}");
    }
    // Routes are patterns, never raw paths: no id ever becomes a label.
    assert!(!text.contains("00000000-0000"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn open_metrics_need_no_token() {
    let app = spawn_app_with(|c| c.metrics = MetricsMode::Open).await;
    let (status, _, text) = app.metrics(None).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("minqing_http_requests_total"), "{text}");
}
