//! The server's one error type, mapped once to `application/problem+json` (RFC 9457).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use minqing_protocol::{FieldError, Problem};

use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body parsed but broke a rule; every broken rule is listed.
    #[error("the request is invalid")]
    Invalid(Vec<Invalid>),
    /// The body or query could not be read at all (malformed JSON, bad encoding).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// No route matches the path and method; distinct from a missing record so clients can tell.
    #[error("no such route")]
    NoSuchRoute,
    /// The path exists but not for this method; `allow` lists those it takes (`GET, POST`).
    #[error("this path does not take this method; it takes {allow}")]
    MethodNotAllowed { allow: String },
    /// The body did not arrive within the configured time.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// The disk (or photo store) has no room left: nothing was stored.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![Invalid::new(field, message)])
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("no {what} with that id"))
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "validation",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::NoSuchRoute => "no-such-route",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::RequestTimeout(_) => "request-timeout",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::InsufficientStorage(_) => "insufficient-storage",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            // Internal details go to the log, never to the client.
            ApiError::Internal(_) => Some("an internal error occurred; it has been logged".into()),
            ApiError::Invalid(_) => {
                Some("one or more fields are invalid; see `errors`".to_string())
            }
            other => Some(other.to_string()),
        };
        let errors = match self {
            ApiError::Invalid(list) => Some(
                list.iter()
                    .map(|i| FieldError {
                        field: i.field.clone(),
                        message: i.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        Problem {
            type_: format!("urn:minqing:problem:{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// When a client should try again after a 503: a lost database usually comes back within
/// seconds (a restart, a failover).
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoSuchRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(err) = self {
            tracing::error!(error = ?err, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS.to_string()));
            }
            ApiError::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            // The rest of a late body is not worth waiting for: the connection ends here.
            ApiError::RequestTimeout(_) => {
                response.force_close();
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ApiError::NotFound("not found".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::Conflict("a record with the same unique value already exists".into())
            }
            // The database went away under the connection: the server's state, not a bug.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                tracing::warn!(error = %info.message(), "the database connection was lost");
                ApiError::Unavailable(
                    "the database is not available right now; retry shortly".into(),
                )
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "no database connection available");
        ApiError::Unavailable("the database is not available right now; retry shortly".into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

impl From<Vec<Invalid>> for ApiError {
    fn from(list: Vec<Invalid>) -> Self {
        ApiError::Invalid(list)
    }
}

impl From<Invalid> for ApiError {
    fn from(one: Invalid) -> Self {
        ApiError::Invalid(vec![one])
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::domain::access::Denial> for ApiError {
    fn from(denial: crate::domain::access::Denial) -> Self {
        use crate::domain::access::Denial;
        match denial {
            Denial::Forbidden => ApiError::Forbidden("your role may not do this".into()),
            // Indistinguishable from a record that does not exist.
            Denial::Hidden => ApiError::NotFound("no such record".into()),
        }
    }
}
