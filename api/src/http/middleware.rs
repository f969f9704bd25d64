//! What every request and response goes through, whatever its route: a deadline on reading
//! the body, the headers no response may lack, one log line per request, and the answer for
//! a known path asked with the wrong method.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::Stream;
use utoipa::openapi::OpenApi;

use super::State;
use crate::error::ApiError;

/// Every response: `X-Content-Type-Options: nosniff`, so no browser runs an upload or a JSON
/// answer as script or page; and `Cache-Control: no-store` unless the handler chose a policy
/// (static assets, labels and photos do), since answers carry tokens and personal data.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// One line per answered request, inside its span (method, route, redacted target, request
/// id; see `telemetry`).
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(status = status.as_u16(), elapsed_ms, "request");
    outcome
}

/// The whole body must arrive within `Config::body_timeout` of the request's head, whoever
/// reads it (JSON, multipart and raw photos, page forms): a client trickling a byte now and
/// then would otherwise hold a connection and a worker's attention for as long as it likes.
/// A late body answers 408 and the connection is closed.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let timeout = req.app_data::<State>().map(|s| s.config.body_timeout);
    let payload = req.take_payload();
    let Some(timeout) = timeout.filter(|_| !matches!(payload, Payload::None)) else {
        req.set_payload(payload);
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let late = Rc::new(Cell::new(false));
    let deadline = Deadline {
        inner: payload,
        at: tokio::time::Instant::now() + timeout,
        timer: None,
        late: late.clone(),
    };
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(deadline);
    req.set_payload(Payload::from(stream));
    let response = next.call(req).await;
    let timed_out = || {
        ApiError::RequestTimeout(format!(
            "the request body did not arrive within {} s",
            timeout.as_secs()
        ))
    };
    if !late.get() {
        return Ok(response?.map_into_left_body());
    }
    // Whatever the reader made of the cut-off body (400, 422…), the answer is 408.
    let (request, _) = response.map_err(|_| timed_out())?.into_parts();
    Ok(ServiceResponse::new(request, timed_out().error_response()).map_into_right_body())
}

/// A request body that ends in an error once its deadline has passed.
struct Deadline {
    inner: Payload,
    at: tokio::time::Instant,
    /// Made when the body first has to be waited for; most bodies never need it.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    late: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.late.get() {
            return Poll::Ready(None);
        }
        let expired = |late: &Cell<bool>| {
            late.set(true);
            Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body took too long",
            )))))
        };
        if tokio::time::Instant::now() >= this.at {
            return expired(&this.late);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => {}
            ready => return ready,
        }
        let at = this.at;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => expired(&this.late),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The pages' paths and the methods each takes. Pages register one route per method, which
/// actix cannot list afterwards, so they are written out here; the `hardening` tests check
/// every row against the running server. A path missing here answers 404 as before.
pub const PAGE_ROUTES: &[(&str, &[&str])] = &[
    ("/", &["GET"]),
    ("/static/{file}", &["GET"]),
    ("/app", &["GET"]),
    ("/app/{path:.*}", &["GET"]),
    ("/photo/{id}", &["GET"]),
    ("/v", &["GET"]),
    ("/v/{code}", &["GET", "POST"]),
    ("/login", &["GET", "POST"]),
    ("/logout", &["POST"]),
    ("/my", &["GET"]),
    ("/t", &["GET", "POST"]),
    ("/t/rate", &["POST"]),
    ("/desk", &["GET"]),
    ("/desk/", &["GET"]),
    ("/desk/overdue", &["GET"]),
    ("/desk/orders", &["GET"]),
    ("/desk/orders/export", &["GET"]),
    ("/desk/orders/{key}", &["GET"]),
    ("/desk/orders/{key}/assign", &["POST"]),
    ("/desk/orders/{key}/reject", &["POST"]),
    ("/desk/orders/{key}/extensions/{eid}/decision", &["POST"]),
    ("/desk/review", &["GET", "POST"]),
    ("/desk/compliance", &["GET"]),
    ("/desk/compliance/export", &["GET"]),
    ("/desk/scores", &["GET"]),
    ("/desk/scores/export", &["GET"]),
    ("/desk/records", &["GET"]),
    ("/desk/records/{id}/verify", &["POST"]),
    ("/desk/sessions", &["GET"]),
    ("/desk/logs", &["GET"]),
    ("/desk/logs/{id}/comment", &["POST"]),
    ("/desk/close", &["GET", "POST"]),
    ("/desk/bulletin", &["GET"]),
    ("/desk/cards", &["GET"]),
];

/// Every path template the server serves and the methods it takes there: the API's from its
/// OpenAPI document (which lists every API route), the pages' from [`PAGE_ROUTES`].
pub struct KnownRoutes(Vec<(Vec<String>, Vec<String>)>);

impl KnownRoutes {
    pub fn new(api: &OpenApi) -> Self {
        let mut routes: Vec<(Vec<String>, Vec<String>)> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                    ("HEAD", &item.head),
                    ("OPTIONS", &item.options),
                    ("TRACE", &item.trace),
                ]
                .into_iter()
                .filter(|(_, operation)| operation.is_some())
                .map(|(method, _)| method.to_string())
                .collect();
                (segments(path), methods)
            })
            .collect();
        routes.extend(PAGE_ROUTES.iter().map(|(path, methods)| {
            (
                segments(path),
                methods.iter().map(ToString::to_string).collect(),
            )
        }));
        KnownRoutes(routes)
    }

    /// The methods `path` takes (`GET, POST`), if any template matches it. As in OpenAPI, a
    /// path is the most concrete of the templates it matches: `/checkins/batch` is not also
    /// `/checkins/{id}`.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let path: Vec<&str> = path.split('/').collect();
        let literals =
            |template: &[String]| template.iter().filter(|s| !s.starts_with('{')).count();
        let matching: Vec<_> = self
            .0
            .iter()
            .filter(|(template, _)| matches_template(template, &path))
            .collect();
        let concrete = matching.iter().map(|(t, _)| literals(t)).max();
        let mut methods: Vec<&str> = Vec::new();
        for (template, allowed) in matching {
            if Some(literals(template)) == concrete {
                methods.extend(allowed.iter().map(String::as_str));
            }
        }
        const ORDER: [&str; 8] = [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
        ];
        methods.sort_by_key(|m| ORDER.iter().position(|o| o == m));
        methods.dedup();
        (!methods.is_empty()).then(|| methods.join(", "))
    }
}

fn segments(template: &str) -> Vec<String> {
    template.split('/').map(str::to_string).collect()
}

/// `{name}` takes one non-empty segment, `{name:.*}` as the last one takes the rest.
fn matches_template(template: &[String], path: &[&str]) -> bool {
    let rest = template
        .last()
        .is_some_and(|s| s.starts_with('{') && s.ends_with(":.*}"));
    if rest {
        let fixed = &template[..template.len() - 1];
        return path.len() >= fixed.len()
            && fixed.iter().zip(path).all(|(t, p)| segment_matches(t, p));
    }
    template.len() == path.len()
        && template
            .iter()
            .zip(path)
            .all(|(t, p)| segment_matches(t, p))
}

fn segment_matches(template: &str, segment: &str) -> bool {
    if template.starts_with('{') && template.ends_with('}') {
        !segment.is_empty()
    } else {
        template == segment
    }
}

/// The answer when no route took the request: 405 with `Allow` when the path is served for
/// other methods, otherwise the 404 of `pages::not_found`.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<actix_web::web::Data<KnownRoutes>>()
        .filter(|_| req.resource_map().has_resource(req.path()))
        .and_then(|routes| routes.allowed(req.path()))
        // A listed method that still reached here was not routed for another reason.
        .filter(|allow| !allow.split(", ").any(|m| m == req.method().as_str()));
    match allowed {
        Some(allow) => ApiError::MethodNotAllowed { allow }.error_response(),
        None => crate::pages::not_found(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> KnownRoutes {
        let doc: OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/v1/me": {"get": {"responses": {}}},
                "/api/v1/work-orders": {"get": {"responses": {}}, "post": {"responses": {}}},
                "/api/v1/work-orders/{id}": {"get": {"responses": {}}},
                "/api/v1/work-orders/{id}/assign": {"post": {"responses": {}}},
                "/api/v1/checkins/{id}": {"get": {"responses": {}}},
                "/api/v1/checkins/batch": {"post": {"responses": {}}},
            }
        }))
        .unwrap();
        KnownRoutes::new(&doc)
    }

    #[test]
    fn methods_come_from_the_most_concrete_matching_templates() {
        let routes = routes();
        assert_eq!(routes.allowed("/api/v1/me").as_deref(), Some("GET"));
        assert_eq!(
            routes.allowed("/api/v1/work-orders").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(
            routes.allowed("/api/v1/work-orders/abc/assign").as_deref(),
            Some("POST")
        );
        assert_eq!(routes.allowed("/api/v1/work-orders/").as_deref(), None);
        assert_eq!(
            routes.allowed("/api/v1/checkins/batch").as_deref(),
            Some("POST")
        );
        assert_eq!(routes.allowed("/api/v1/checkins/x").as_deref(), Some("GET"));
        assert_eq!(routes.allowed("/api/v1/nothing").as_deref(), None);
        assert_eq!(routes.allowed("/login").as_deref(), Some("GET, POST"));
        assert_eq!(
            routes.allowed("/desk/orders/export").as_deref(),
            Some("GET")
        );
        assert_eq!(routes.allowed("/app/sw.js").as_deref(), Some("GET"));
        assert_eq!(routes.allowed("/app/icons/a.png").as_deref(), Some("GET"));
    }
}
