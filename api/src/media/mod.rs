//! Photo evidence: processing uploads (type from bytes, limits, EXIF, orientation, shrinking,
//! re-encoding) and storing them under their content hash.

#[cfg(test)]
mod photo_hash_measure;
pub mod process;
pub mod s3;
pub mod store;

use actix_web::web;
use chrono::{FixedOffset, TimeZone, Utc};
use minqing_protocol::{ExifInfo, MediaInfo};

use crate::db::media::{self, MediaRow};
use crate::db::models::utc;
use crate::db::{new_id, DbConn};
use crate::domain::access::Actor;
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::http::AppState;
use process::{process_photo, MediaError};

/// Processes and stores a photo (the image and its thumbnail in the photo store, its row in
/// the database) and answers what `POST /media` does. `uploader_id` is `None` for a villager
/// reporting without an account; only the code that stored such a photo can vouch for it
/// (see `crate::work_orders::file_order`).
pub async fn store_photo(
    state: &AppState,
    uploader_id: Option<String>,
    bytes: Vec<u8>,
) -> ApiResult<MediaInfo> {
    // Decoding holds a whole image in memory: a few at a time, whatever the load.
    let _slot = state
        .photo_slots
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))?;
    let store = state.photos.clone();
    let processed = web::block(move || -> ApiResult<_> {
        let photo = process_photo(&bytes).map_err(|e| match e {
            MediaError::TooLarge(m) => ApiError::PayloadTooLarge(m),
            MediaError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
            MediaError::Corrupt(m) => ApiError::invalid("file", m),
        })?;
        store
            .put(&format!("{}.jpg", photo.sha256), &photo.jpeg)
            .map_err(store_failed)?;
        store
            .put(&format!("{}.thumb.jpg", photo.sha256), &photo.thumb_jpeg)
            .map_err(store_failed)?;
        Ok(photo)
    })
    .await??;
    let exif = &processed.exif;
    let taken_at = exif
        .taken_at_local
        .and_then(|local| match exif.utc_offset_secs {
            Some(secs) => FixedOffset::east_opt(secs)
                .and_then(|tz| tz.from_local_datetime(&local).earliest())
                .map(|t| t.with_timezone(&Utc)),
            // Cameras write wall-clock time; without an offset it is the town's.
            None => state
                .rules
                .timezone
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
        });
    let row = MediaRow {
        id: new_id(),
        sha256: processed.sha256.clone(),
        uploader_id,
        width: processed.width as i32,
        height: processed.height as i32,
        bytes: processed.jpeg.len() as i64,
        exif_taken_at: taken_at.map(|t| t.naive_utc()),
        exif_lat: exif.lat,
        exif_lon: exif.lon,
        created_at: Utc::now().naive_utc(),
        photo_hashes: Some(crate::domain::photo_hash::to_text(&processed.hashes)),
    };
    let info = info_of(&row);
    state.db.run(move |conn| media::insert(conn, &row)).await?;
    Ok(info)
}

/// A stored photo as the API describes it.
/// A full disk is the server's state, not a bug: 507, said plainly, and nothing is stored
/// (the store writes aside and renames, the row is written only after both files).
fn store_failed(e: std::io::Error) -> ApiError {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            tracing::error!(error = %e, "the photo store is full");
            ApiError::InsufficientStorage(
                "the photo store is full; the photo was not stored — try again later".into(),
            )
        }
        _ => ApiError::Internal(e.into()),
    }
}

pub fn info_of(row: &MediaRow) -> MediaInfo {
    MediaInfo {
        id: row.id.clone(),
        sha256: row.sha256.clone(),
        width: row.width.max(0) as u32,
        height: row.height.max(0) as u32,
        bytes: row.bytes.max(0) as u64,
        exif: ExifInfo {
            taken_at: row.exif_taken_at.map(utc),
            lat: row.exif_lat,
            lon: row.exif_lon,
        },
    }
}

/// Photos named by id in a request: each must be the actor's own upload, or one of
/// `allowed` (already on the record being changed); duplicates are dropped, order kept.
pub fn own_photos(
    conn: &mut DbConn,
    actor: &Actor,
    ids: &[String],
    allowed: &[String],
    field: &str,
    max: usize,
) -> ApiResult<Vec<String>> {
    if ids.len() > max {
        return Err(ApiError::invalid(field, format!("at most {max} photos")));
    }
    let found = media::find_many(conn, ids)?;
    let mut errors = Vec::new();
    let mut kept = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mine = found
            .iter()
            .any(|m| &m.id == id && m.uploader_id.as_deref() == Some(actor.user_id.as_str()));
        if !(mine || allowed.contains(id)) {
            errors.push(Invalid::new(
                format!("{field}[{i}]"),
                "no photo of yours with that id",
            ));
        } else if !kept.contains(id) {
            kept.push(id.clone());
        }
    }
    if errors.is_empty() {
        Ok(kept)
    } else {
        Err(ApiError::Invalid(errors))
    }
}
