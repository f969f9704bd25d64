//! Prometheus metrics at `/metrics`, outside `/api/v1` and outside the OpenAPI document, as
//! `MINQING_METRICS` allows (see [`MetricsMode`]): requests and their latency per route
//! pattern, the database pool, the webhook outbox and the background jobs. The pool and the
//! outbox are read at scrape time; the rest is counted as it happens.
//!
//! Routes are labelled with the matched resource pattern (`/api/v1/work-orders/{id}`), never
//! the raw path, so ids never multiply the series; a request no route matched is `unmatched`.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use sha2::{Digest, Sha256};

use crate::config::MetricsMode;
use crate::http::State;

/// The OpenMetrics text format, which Prometheus asks for and reads.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets in seconds: the Prometheus defaults, from 5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: Cow<'static, str>,
    route: Cow<'static, str>,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: Cow<'static, str>,
    route: Cow<'static, str>,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Every metric the server keeps, and the registry that writes them out.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    pool_in_use: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    outbox: Gauge,
    database_up: Gauge,
    job_runs: Counter,
    job_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("minqing");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status code",
            requests.clone(),
        );
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (until the response head), by method and route pattern",
            Unit::Seconds,
            latency.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let pool_in_use = gauge(
            &mut registry,
            "db_pool_in_use",
            "Database connections lent out right now",
        );
        let pool_idle = gauge(
            &mut registry,
            "db_pool_idle",
            "Database connections open and waiting in the pool",
        );
        let pool_max = gauge(
            &mut registry,
            "db_pool_max",
            "The most database connections the pool opens (MINQING_DB_POOL_SIZE)",
        );
        let outbox = gauge(
            &mut registry,
            "webhook_outbox_depth",
            "Webhook deliveries to active webhooks not yet delivered nor given up",
        );
        let database_up = gauge(
            &mut registry,
            "database_up",
            "1 when the database answered this scrape's outbox count, else 0",
        );
        let job_runs = Counter::default();
        registry.register(
            "job_runs",
            "Background job ticks run (reminders, escalation, auto-close, webhook delivery)",
            job_runs.clone(),
        );
        let job_failures = Counter::default();
        registry.register(
            "job_failures",
            "Background job ticks that failed (retried the next tick)",
            job_failures.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool_in_use,
            pool_idle,
            pool_max,
            outbox,
            database_up,
            job_runs,
            job_failures,
        }
    }

    /// One background job tick has run; `ok` is false when it failed.
    pub fn job_ran(&self, ok: bool) {
        self.job_runs.inc();
        if !ok {
            self.job_failures.inc();
        }
    }

    fn observe(&self, method: &Method, route: Option<String>, status: u16, took: Duration) {
        let method = method_label(method);
        let route: Cow<'static, str> = route.map_or(Cow::Borrowed("unmatched"), Cow::Owned);
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// The exposition, with the pool as `(in use, idle, max)` and the outbox depth (`None`
    /// when the database did not answer).
    fn encode(&self, pool: (u32, u32, u32), outbox: Option<i64>) -> String {
        let (in_use, idle, max) = pool;
        self.pool_in_use.set(in_use.into());
        self.pool_idle.set(idle.into());
        self.pool_max.set(max.into());
        if let Some(depth) = outbox {
            self.outbox.set(depth);
        }
        self.database_up.set(i64::from(outbox.is_some()));
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %err, "encoding the metrics failed");
        }
        text
    }
}

/// The standard methods by name; anything else is `other`, so made-up methods add no series.
fn method_label(method: &Method) -> Cow<'static, str> {
    Cow::Borrowed(match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    })
}

/// Counts every request and its time, when metrics are on.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let on = req
        .app_data::<State>()
        .filter(|state| !matches!(state.config.metrics, MetricsMode::Off))
        .cloned();
    let Some(state) = on else {
        return next.call(req).await;
    };
    let route = req.match_pattern();
    let method = req.method().clone();
    let started = Instant::now();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    state
        .metrics
        .observe(&method, route, status.as_u16(), started.elapsed());
    outcome
}

/// Registers `GET /metrics` unless `mode` is off (then the path is unknown: 404).
pub fn routes(cfg: &mut actix_web::web::ServiceConfig, mode: &MetricsMode) {
    if !matches!(mode, MetricsMode::Off) {
        cfg.route("/metrics", actix_web::web::get().to(serve));
    }
}

/// `GET /metrics`: registered only when `MINQING_METRICS` is not `off`. In token mode a
/// request without the right `Authorization: Bearer` answers the same 404 as an unknown
/// path, so the endpoint does not reveal itself.
pub async fn serve(req: HttpRequest, state: State) -> HttpResponse {
    let allowed = match &state.config.metrics {
        MetricsMode::Off => false,
        MetricsMode::Open => true,
        MetricsMode::Token(secret) => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|given| same_secret(given.trim(), secret)),
    };
    if !allowed {
        return crate::pages::not_found(req).await;
    }
    // The pool before the outbox count, which borrows a connection of its own.
    let pool = state.db.pool_state();
    let outbox = match state.db.run(crate::db::webhooks::outbox_depth).await {
        Ok(depth) => Some(depth),
        Err(err) => {
            tracing::warn!(error = %err, "metrics: counting the webhook outbox failed");
            None
        }
    };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(state.metrics.encode(pool, outbox))
}

/// Compares digests, so neither the secret's content nor its length shows in the time taken.
fn same_secret(given: &str, secret: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(secret.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_routes_by_pattern() {
        let metrics = Metrics::new();
        metrics.observe(
            &Method::GET,
            Some("/api/v1/work-orders/{id}".into()),
            200,
            Duration::from_millis(7),
        );
        metrics.observe(
            &Method::from_bytes(b"BREW").unwrap(),
            None,
            404,
            Duration::ZERO,
        );
        metrics.job_ran(true);
        metrics.job_ran(false);
        let text = metrics.encode((1, 2, 4), Some(3));
        for line in [
            r#"minqing_http_requests_total{method="GET",route="/api/v1/work-orders/{id}",status="200"} 1"#,
            r#"minqing_http_requests_total{method="other",route="unmatched",status="404"} 1"#,
            r#"minqing_http_request_duration_seconds_bucket{le="0.01",method="GET",route="/api/v1/work-orders/{id}"} 1"#,
            "minqing_db_pool_in_use 1",
            "minqing_db_pool_idle 2",
            "minqing_db_pool_max 4",
            "minqing_webhook_outbox_depth 3",
            "minqing_database_up 1",
            "minqing_job_runs_total 2",
            "minqing_job_failures_total 1",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc-def-ghi-jkl-mno", "abc-def-ghi-jkl-mno"));
        assert!(!same_secret("abc-def-ghi-jkl-mn", "abc-def-ghi-jkl-mno"));
        assert!(!same_secret("", "abc-def-ghi-jkl-mno"));
    }
}
