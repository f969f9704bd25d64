//! Photos: upload (raw image body or multipart `file`), and the image, thumbnail and
//! metadata, shown only to those who may see what the photo is attached to.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use minqing_protocol::{MediaInfo, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Authenticated;
use super::State;
use crate::db::media::{self, MediaRow};
use crate::db::{checkins, night_sessions, work_logs, work_orders, DbConn};
use crate::domain::access::{authorize_checkin, order_parties, reach, Action, Actor, CheckinFacts};
use crate::error::{ApiError, ApiResult};
use crate::media::process::MAX_UPLOAD_BYTES;
use crate::media::{info_of, store_photo};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(upload_media)
        .service(get_media)
        .service(get_thumb)
        .service(get_meta);
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "a photo may be at most {} MB",
        MAX_UPLOAD_BYTES / (1024 * 1024)
    ))
}

/// Reads a stream of chunks, refusing it as soon as it passes the upload limit.
async fn read_limited<S, E>(mut stream: S) -> ApiResult<Vec<u8>>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?;
        if body.len() + chunk.len() > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn upload_bytes(req: &HttpRequest, payload: web::Payload) -> ApiResult<Vec<u8>> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES + 64 * 1024) {
        return Err(too_large());
    }
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return read_limited(payload).await;
    }
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let field = field.map_err(|e| ApiError::BadRequest(format!("reading the form: {e}")))?;
        if field.name() == Some("file") {
            return read_limited(field).await;
        }
    }
    Err(ApiError::invalid(
        "file",
        "send the photo in a form field named `file`",
    ))
}

/// Uploads a photo (JPEG, PNG or WebP, ≤ 15 MB, ≤ 50 megapixels). The type is read from the
/// bytes; the photo is re-encoded without EXIF, but its EXIF time and position are kept.
#[utoipa::path(tag = "media", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "the image itself, or multipart/form-data with a `file` field"),
    responses((status = 201, body = MediaInfo), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
#[post("/media")]
async fn upload_media(
    state: State,
    actor: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    reach(&actor.0, Action::UploadMedia)?;
    let bytes = upload_bytes(&req, payload).await?;
    let info = store_photo(&state, Some(actor.0.user_id.clone()), bytes).await?;
    Ok(HttpResponse::Created().json(info))
}

/// A photo the actor may see: their own upload, or one attached to a check-in or work order they may see.
fn find_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> ApiResult<MediaRow> {
    let row = media::find(conn, id)?.ok_or_else(|| ApiError::not_found("photo"))?;
    if row.uploader_id.as_deref() == Some(actor.user_id.as_str()) {
        return Ok(row);
    }
    let on_checkin =
        checkins::photo_owners(conn, &row.id)?
            .iter()
            .any(|(path, owner, cadre_path)| {
                let facts = CheckinFacts {
                    village_path: path,
                    cadre_path: cadre_path.as_deref(),
                    owner,
                };
                authorize_checkin(actor, Action::ReadCheckins, &facts).is_ok()
            });
    let visible = on_checkin
        || work_orders::orders_with_photo(conn, &row.id)?
            .iter()
            .any(|o| !order_parties(actor, &o.facts()).is_empty())
        || on_session_or_log(conn, actor, &row.id)?;
    if visible {
        Ok(row)
    } else {
        Err(ApiError::not_found("photo"))
    }
}

/// Minutes photos are seen by the staff of the session's town; log photos by the log's
/// readers (the writer, the town's leaders).
fn on_session_or_log(conn: &mut DbConn, actor: &Actor, media_id: &str) -> ApiResult<bool> {
    let sessions = night_sessions::paths_with_photo(conn, media_id)?;
    let logs = work_logs::owners_with_photo(conn, media_id)?;
    if sessions.is_empty() && logs.is_empty() {
        return Ok(false);
    }
    let facts = crate::night_sessions::staff_facts(conn, actor)?;
    let staff = facts.of(actor);
    Ok(sessions.iter().any(|path| staff.may_read(path).is_ok())
        || logs
            .iter()
            .any(|(owner, path)| staff.log_reader(owner, path).is_ok()))
}

async fn image(
    state: State,
    actor: Actor,
    id: String,
    suffix: &'static str,
) -> ApiResult<HttpResponse> {
    let row = state
        .db
        .run(move |conn| find_visible(conn, &actor, &id))
        .await?;
    let store = state.photos.clone();
    let key = format!("{}{suffix}", row.sha256);
    let bytes = web::block(move || store.get(&key))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "photo {} is missing from the store",
                row.id
            ))
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/jpeg"))
        // Content-addressed: the bytes behind this id never change.
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ))
        .insert_header((header::ETAG, format!("\"{}\"", row.sha256)))
        .body(bytes))
}

/// The photo (JPEG, longest side ≤ 2048 px, no EXIF).
#[utoipa::path(tag = "media", security(("bearer" = [])), responses(
    (status = 200, content_type = "image/jpeg", description = "the photo"), (status = 404, body = Problem)))]
#[get("/media/{id}")]
async fn get_media(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    image(state, actor.0, id.into_inner(), ".jpg").await
}

/// The thumbnail (JPEG, longest side ≤ 320 px).
#[utoipa::path(tag = "media", security(("bearer" = [])), responses(
    (status = 200, content_type = "image/jpeg", description = "the thumbnail"), (status = 404, body = Problem)))]
#[get("/media/{id}/thumb")]
async fn get_thumb(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    image(state, actor.0, id.into_inner(), ".thumb.jpg").await
}

/// Size, hash and the EXIF evidence kept from the original.
#[utoipa::path(tag = "media", security(("bearer" = [])), responses(
    (status = 200, body = MediaInfo), (status = 404, body = Problem)))]
#[get("/media/{id}/meta")]
async fn get_meta(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<MediaInfo>> {
    let row = state
        .db
        .run(move |conn| find_visible(conn, &actor.0, &id))
        .await?;
    Ok(web::Json(info_of(&row)))
}
