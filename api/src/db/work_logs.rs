//! 工作日志: logs, their photos, earlier versions and leaders' comments.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{users, work_log_comments, work_log_photos, work_log_revisions, work_logs};
use super::{db_run, DbConn};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = work_logs)]
pub struct WorkLogRow {
    pub id: String,
    pub user_id: String,
    pub org_path: String,
    pub log_date: NaiveDate,
    pub content: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = work_log_revisions)]
pub struct RevisionRow {
    pub id: String,
    pub log_id: String,
    pub content: String,
    pub photo_ids: String,
    pub written_at: NaiveDateTime,
    pub replaced_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = work_log_comments)]
pub struct CommentRow {
    pub id: String,
    pub log_id: String,
    pub author_id: String,
    pub text: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, id: &str) -> ApiResult<Option<WorkLogRow>> {
    Ok(db_run!(conn, |c| work_logs::table
        .find(id)
        .select(WorkLogRow::as_select())
        .first(c)
        .optional())?)
}

pub fn find_of_day(
    conn: &mut DbConn,
    user_id: &str,
    date: NaiveDate,
) -> ApiResult<Option<WorkLogRow>> {
    Ok(db_run!(conn, |c| work_logs::table
        .filter(work_logs::user_id.eq(user_id))
        .filter(work_logs::log_date.eq(date))
        .select(WorkLogRow::as_select())
        .first(c)
        .optional())?)
}

/// One `work_log_photos` row as diesel inserts it.
type PhotoValues<'a> = (
    diesel::dsl::Eq<work_log_photos::log_id, &'a str>,
    diesel::dsl::Eq<work_log_photos::media_id, &'a String>,
);

fn photo_rows<'a>(log_id: &'a str, photos: &'a [String]) -> Vec<PhotoValues<'a>> {
    photos
        .iter()
        .map(|m| {
            (
                work_log_photos::log_id.eq(log_id),
                work_log_photos::media_id.eq(m),
            )
        })
        .collect()
}

pub fn insert(conn: &mut DbConn, row: &WorkLogRow, photos: &[String]) -> ApiResult<()> {
    let rows = photo_rows(&row.id, photos);
    db_run!(conn, |c| {
        diesel::insert_into(work_logs::table)
            .values(row)
            .execute(c)?;
        if !rows.is_empty() {
            diesel::insert_into(work_log_photos::table)
                .values(&rows)
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// Many logs at once (imports, benchmarks), without photos.
pub fn insert_many(conn: &mut DbConn, rows: &[WorkLogRow]) -> ApiResult<()> {
    for chunk in rows.chunks(1000) {
        db_run!(conn, |c| diesel::insert_into(work_logs::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Replaces a log's text and photos, keeping the version it replaces.
pub fn revise(
    conn: &mut DbConn,
    log: &WorkLogRow,
    earlier: &RevisionRow,
    photos: &[String],
) -> ApiResult<()> {
    let rows = photo_rows(&log.id, photos);
    db_run!(conn, |c| {
        diesel::insert_into(work_log_revisions::table)
            .values(earlier)
            .execute(c)?;
        diesel::update(work_logs::table.find(&log.id))
            .set((
                work_logs::content.eq(&log.content),
                work_logs::updated_at.eq(log.updated_at),
            ))
            .execute(c)?;
        diesel::delete(work_log_photos::table.filter(work_log_photos::log_id.eq(&log.id)))
            .execute(c)?;
        if !rows.is_empty() {
            diesel::insert_into(work_log_photos::table)
                .values(&rows)
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// A user's logs from `first` to `last`, by date.
pub fn of_user_between(
    conn: &mut DbConn,
    user_id: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> ApiResult<Vec<WorkLogRow>> {
    Ok(db_run!(conn, |c| work_logs::table
        .filter(work_logs::user_id.eq(user_id))
        .filter(work_logs::log_date.between(first, last))
        .order(work_logs::log_date)
        .select(WorkLogRow::as_select())
        .load(c))?)
}

pub fn photo_ids_of(conn: &mut DbConn, ids: &[String]) -> ApiResult<HashMap<String, Vec<String>>> {
    let pairs: Vec<(String, String)> = db_run!(conn, |c| work_log_photos::table
        .filter(work_log_photos::log_id.eq_any(ids))
        .order((work_log_photos::log_id, work_log_photos::media_id))
        .select((work_log_photos::log_id, work_log_photos::media_id))
        .load(c))?;
    let mut by_log: HashMap<String, Vec<String>> = HashMap::new();
    for (log, media) in pairs {
        by_log.entry(log).or_default().push(media);
    }
    Ok(by_log)
}

/// The comments on each of `ids` with their authors' names, oldest first.
pub fn comments_of(
    conn: &mut DbConn,
    ids: &[String],
) -> ApiResult<HashMap<String, Vec<(CommentRow, String)>>> {
    let rows: Vec<(CommentRow, String)> = db_run!(conn, |c| work_log_comments::table
        .inner_join(users::table.on(users::id.eq(work_log_comments::author_id)))
        .filter(work_log_comments::log_id.eq_any(ids))
        .order((work_log_comments::created_at, work_log_comments::id))
        .select((CommentRow::as_select(), users::name))
        .load(c))?;
    let mut by_log: HashMap<String, Vec<(CommentRow, String)>> = HashMap::new();
    for (row, name) in rows {
        by_log
            .entry(row.log_id.clone())
            .or_default()
            .push((row, name));
    }
    Ok(by_log)
}

pub fn revisions_of(
    conn: &mut DbConn,
    ids: &[String],
) -> ApiResult<HashMap<String, Vec<RevisionRow>>> {
    let rows: Vec<RevisionRow> = db_run!(conn, |c| work_log_revisions::table
        .filter(work_log_revisions::log_id.eq_any(ids))
        .order((work_log_revisions::replaced_at, work_log_revisions::id))
        .select(RevisionRow::as_select())
        .load(c))?;
    let mut by_log: HashMap<String, Vec<RevisionRow>> = HashMap::new();
    for row in rows {
        by_log.entry(row.log_id.clone()).or_default().push(row);
    }
    Ok(by_log)
}

pub fn insert_comment(conn: &mut DbConn, row: &CommentRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(work_log_comments::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// The writers of the logs a photo belongs to, with their unit paths (who may see it).
pub fn owners_with_photo(conn: &mut DbConn, media_id: &str) -> ApiResult<Vec<(String, String)>> {
    Ok(db_run!(conn, |c| work_log_photos::table
        .inner_join(work_logs::table)
        .filter(work_log_photos::media_id.eq(media_id))
        .select((work_logs::user_id, work_logs::org_path))
        .load(c))?)
}

#[derive(Debug, QueryableByName)]
pub struct CadreDays {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub unit: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub days: i64,
}

/// The active cadres whose unit lies under `within` (a path), by unit and name, each with
/// the days from `first` to `last` they wrote a log: one query, at most `limit` cadres.
pub fn cadres_with_days(
    conn: &mut DbConn,
    within: &str,
    first: NaiveDate,
    last: NaiveDate,
    limit: i64,
) -> ApiResult<Vec<CadreDays>> {
    use diesel::sql_types::{BigInt, Date, Text};
    let sql = "SELECT u.id AS id, u.name AS name, o.name AS unit, COALESCE(d.n, 0) AS days
        FROM users u JOIN org_units o ON o.id = u.org_unit_id
        LEFT JOIN (SELECT l.user_id AS user_id, COUNT(*) AS n FROM work_logs l
                   WHERE l.log_date >= $1 AND l.log_date <= $2 GROUP BY l.user_id) d
          ON d.user_id = u.id
        WHERE u.role = 'cadre' AND u.active AND o.path LIKE $3
        ORDER BY o.path, u.name, u.id LIMIT $4";
    Ok(db_run!(conn, |c| diesel::sql_query(sql)
        .bind::<Date, _>(first)
        .bind::<Date, _>(last)
        .bind::<Text, _>(format!("{within}%"))
        .bind::<BigInt, _>(limit)
        .load(c))?)
}
