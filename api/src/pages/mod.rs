//! The pages people open (DESIGN §5): server-rendered HTML from the templates in `web/`,
//! the stylesheet and scripts embedded at compile time, and the cadre's PWA from the
//! `minqing-client` crate. Handlers are thin like the API's: parse → decide (services and
//! `domain`) → render. Everything a person reads is Chinese and in local time.

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::domain::labels;
use crate::error::ApiError;
use crate::http::{AppState, State};

pub mod desk;
pub mod session;
pub mod track;
pub mod villager;

/// A short hash of the embedded stylesheet and scripts: links carry it, so a browser fetches
/// a changed file at once and may cache an unchanged one for long.
pub fn asset_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for file in STATIC_FILES {
            hash.update(file.bytes);
        }
        hex::encode(&hash.finalize()[..6])
    })
}

/// Registers the pages beside `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/static/{file}", web::get().to(static_file))
        .route("/app", web::get().to(app_root))
        .route("/app/{path:.*}", web::get().to(app_file))
        .route("/photo/{id}", web::get().to(photo))
        .configure(villager::routes)
        .configure(desk::routes)
        .configure(track::routes);
}

/// A page that could not be shown, rendered as a Chinese HTML page with the API's status.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(err) = &self.0 {
            tracing::error!(error = ?err, "internal error on a page");
        }
        let status = self.status_code();
        let message = match &self.0 {
            ApiError::NotFound(_) | ApiError::NoSuchRoute => "您要找的页面或记录不存在。",
            ApiError::TooManyRequests { .. } => "操作太频繁，请稍后再试。",
            ApiError::PayloadTooLarge(_) => "上传的内容太大，照片请不要超过 15 MB。",
            ApiError::UnsupportedMediaType(_) => "照片格式不支持，请使用 JPG、PNG 或 WebP 照片。",
            ApiError::Internal(_) | ApiError::Unavailable(_) => "系统暂时出了问题，请稍后再试。",
            _ => "请求无法完成，请返回重试。",
        };
        let mut response = HttpResponse::build(status);
        if let ApiError::TooManyRequests { retry_after_secs } = &self.0 {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        let page = MessagePage {
            title: labels::problem_title(status.as_u16()),
            message,
        };
        response
            .content_type(ContentType::html())
            .body(page.render().unwrap_or_default())
    }
}

pub type PageResult = Result<HttpResponse, PageError>;

/// Renders a template as a page that is never cached (pages carry personal data and codes).
pub fn html(status: StatusCode, page: &impl Template) -> PageResult {
    let body = page
        .render()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub fn ok(page: &impl Template) -> PageResult {
    html(StatusCode::OK, page)
}

/// A redirect after a form post, so a reload never posts twice.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage;

async fn home() -> PageResult {
    ok(&HomePage)
}

/// The answer for a path nobody serves: JSON under `/api/`, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") || req.path().starts_with("/open311/") {
        ApiError::NoSuchRoute.error_response()
    } else {
        PageError(ApiError::NoSuchRoute).error_response()
    }
}

struct StaticFile {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const STATIC_FILES: &[StaticFile] = &[
    StaticFile {
        name: "site.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../../web/static/site.css"),
    },
    StaticFile {
        name: "desk.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../../web/static/desk.css"),
    },
    StaticFile {
        name: "village.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../../web/static/village.js"),
    },
];

async fn static_file(file: web::Path<String>) -> PageResult {
    let found = STATIC_FILES
        .iter()
        .find(|f| f.name == file.as_str())
        .ok_or(ApiError::NoSuchRoute)?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        // Links carry `asset_version()`, so a cached copy is never stale.
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(found.bytes))
}

async fn app_root() -> HttpResponse {
    see_other("/app/")
}

/// The cadre's PWA. The page and the service worker are revalidated on every start so an
/// update reaches phones; the rest is versioned by the service worker's cache.
async fn app_file(path: web::Path<String>) -> PageResult {
    let path = path.into_inner();
    let asset = minqing_client::app::asset(&path).ok_or(ApiError::NoSuchRoute)?;
    let cache = if path.is_empty() || path.ends_with(".html") || path == "sw.js" {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    let mut response = HttpResponse::Ok();
    response
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, cache));
    if path == "sw.js" {
        response.insert_header(("Service-Worker-Allowed", "/app/"));
    }
    Ok(response.body(asset.bytes.into_owned()))
}

/// How long a photo link on a page stays valid.
const PHOTO_LINK_HOURS: i64 = 12;

/// A link to a photo that the page's server-side checks have already allowed this reader to
/// see (a public answer on a tracking page, a check-in a supervisor reviews). The signature
/// covers the photo, the size and the expiry, so the link opens nothing else.
pub fn signed_photo_link(state: &AppState, id: &str, thumb: bool, now: DateTime<Utc>) -> String {
    let expires = (now + Duration::hours(PHOTO_LINK_HOURS)).timestamp();
    let size = if thumb { "thumb" } else { "full" };
    let sig = state
        .keys
        .sign_link(&format!("photo:{id}:{size}:{expires}"));
    format!("/photo/{id}?size={size}&exp={expires}&sig={sig}")
}

/// A photo on a page: its thumbnail and the full picture, both behind signed links.
pub struct PhotoLink {
    pub thumb: String,
    pub full: String,
}

/// The signed links of `ids`, for a reader the page has already allowed to see them.
pub fn photo_links(state: &AppState, ids: &[String], now: DateTime<Utc>) -> Vec<PhotoLink> {
    ids.iter()
        .map(|id| PhotoLink {
            thumb: signed_photo_link(state, id, true, now),
            full: signed_photo_link(state, id, false, now),
        })
        .collect()
}

#[derive(Deserialize)]
struct PhotoQuery {
    size: String,
    exp: i64,
    sig: String,
}

async fn photo(state: State, id: web::Path<String>, query: web::Query<PhotoQuery>) -> PageResult {
    let id = id.into_inner();
    let q = query.into_inner();
    let thumb = match q.size.as_str() {
        "thumb" => true,
        "full" => false,
        _ => return Err(ApiError::NoSuchRoute.into()),
    };
    let genuine = state
        .keys
        .verify_link(&format!("photo:{id}:{}:{}", q.size, q.exp), &q.sig);
    if !genuine || q.exp < Utc::now().timestamp() {
        return Err(ApiError::not_found("photo").into());
    }
    let app = state.clone();
    let bytes = state
        .db
        .run(move |conn| {
            let media =
                crate::db::media::find(conn, &id)?.ok_or_else(|| ApiError::not_found("photo"))?;
            let name = if thumb {
                format!("{}.thumb.jpg", media.sha256)
            } else {
                format!("{}.jpg", media.sha256)
            };
            app.photos
                .get(&name)
                .map_err(|e| ApiError::Internal(e.into()))?
                .ok_or_else(|| ApiError::not_found("photo"))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(bytes))
}
