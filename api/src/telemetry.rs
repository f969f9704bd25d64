//! Structured logs through `tracing`; every request gets a request id (see `startup`) and one
//! log line when it is answered, with its query string redacted.

use std::borrow::Cow;
use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default level (info). Text logs
/// are coloured only on a terminal: in a file or a journal the escape codes are noise.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
    };
    // A second init (tests building several apps) keeps the first subscriber.
    drop(installed);
}

/// Query parameters whose names contain one of these carry secrets (tracking tokens, 查询码,
/// order codes, API keys, tickets) and are logged as [`REDACTED`].
const SECRET_NAMES: &[&str] = &[
    "token", "code", "secret", "password", "passwd", "key", "sig", "ticket", "auth", "session",
    "cookie", "otp",
];

pub const REDACTED: &str = "REDACTED";

/// `path?query` with the value of every secret-looking parameter replaced by [`REDACTED`].
/// Names are compared decoded and without regard to case, as the server reads them
/// (`%74oken=` is `token=`); a parameter whose name cannot be decoded is redacted too.
pub fn redact_target(target: &str) -> Cow<'_, str> {
    let Some((path, query)) = target.split_once('?') else {
        return Cow::Borrowed(target);
    };
    let mut redacted = false;
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let secret = decode_name(name).is_none_or(|name| {
                let name = name.to_lowercase();
                SECRET_NAMES.iter().any(|s| name.contains(s))
            });
            if secret && !value.is_empty() {
                redacted = true;
                Cow::Owned(format!("{name}={REDACTED}"))
            } else {
                Cow::Borrowed(pair)
            }
        })
        .collect();
    if !redacted {
        return Cow::Borrowed(target);
    }
    Cow::Owned(format!("{path}?{}", pairs.join("&")))
}

/// A query parameter's name as `application/x-www-form-urlencoded` decodes it.
fn decode_name(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The request span of `tracing-actix-web` with the fields of its default, but a redacted
/// `http.target`: tracking tokens and 查询码 travel in query strings and must never be logged.
pub struct RedactedSpans;

impl RootSpanBuilder for RedactedSpans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let method = request.method().as_str();
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let target = request.uri().path_and_query().map_or("", |p| p.as_str());
        let user_agent = request
            .headers()
            .get("User-Agent")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let connection = request.connection_info();
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = ?request.version(),
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %connection.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %redact_target(target),
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_query_strings_are_redacted() {
        assert_eq!(
            redact_target("/api/v1/track/MQ-1?token=abc123"),
            "/api/v1/track/MQ-1?token=REDACTED"
        );
        assert_eq!(
            redact_target("/t?code=MQ-20261202-0001&query_code=123456&lang=zh"),
            "/t?code=REDACTED&query_code=REDACTED&lang=zh"
        );
        assert_eq!(
            redact_target("/api/v1/work-orders/x/rate?Token=s3cret&x=1"),
            "/api/v1/work-orders/x/rate?Token=REDACTED&x=1"
        );
        assert_eq!(
            redact_target("/open311/v2/requests.json?api_key=k&jurisdiction_id=1"),
            "/open311/v2/requests.json?api_key=REDACTED&jurisdiction_id=1"
        );
        assert_eq!(
            redact_target("/media/1?ticket=t&sig=s&expires=9"),
            "/media/1?ticket=REDACTED&sig=REDACTED&expires=9"
        );
    }

    #[test]
    fn encoded_or_undecodable_names_are_redacted_too() {
        assert_eq!(redact_target("/t?%74oken=abc"), "/t?%74oken=REDACTED");
        assert_eq!(redact_target("/t?to%6Ben=abc"), "/t?to%6Ben=REDACTED");
        assert_eq!(redact_target("/t?%zz=abc"), "/t?%zz=REDACTED");
    }

    #[test]
    fn other_targets_are_kept_as_they_are() {
        for target in [
            "/api/v1/work-orders?status=submitted&limit=50&cursor=abc",
            "/api/v1/health",
            "/t?token=",
            "/desk/orders?category=road&village_id=v1",
            "",
        ] {
            assert!(
                matches!(redact_target(target), Cow::Borrowed(_)),
                "{target}"
            );
            assert_eq!(redact_target(target), target);
        }
    }
}
