//! Photos' metadata; the bytes live in a `PhotoStore` under their content hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::media;
use super::{db_run, DbConn};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: String,
    pub sha256: String,
    pub uploader_id: Option<String>,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub exif_taken_at: Option<NaiveDateTime>,
    pub exif_lat: Option<f64>,
    pub exif_lon: Option<f64>,
    pub created_at: NaiveDateTime,
    /// `domain::photo_hash::to_text` of the photo's hashes; NULL when stored before hashes were kept.
    pub photo_hashes: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &MediaRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(media::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<MediaRow>> {
    Ok(db_run!(conn, |c| media::table
        .find(id)
        .select(MediaRow::as_select())
        .first(c)
        .optional())?)
}

pub fn find_many(conn: &mut DbConn, ids: &[String]) -> ApiResult<Vec<MediaRow>> {
    Ok(db_run!(conn, |c| media::table
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load(c))?)
}
