//! 工作日志 as a service the API, the phone app and the desk share: a cadre writes the day's
//! log (edits on its day keep the earlier versions), leaders read a month of it and comment
//! (批阅), and the cadre reads the comments.

use chrono::{DateTime, NaiveDate, Utc};
use minqing_protocol::{
    NewWorkLog, WorkLog, WorkLogComment, WorkLogDay, WorkLogMonth, WorkLogRevision,
};

use crate::db::models::utc;
use crate::db::work_logs::{self as store, CommentRow, RevisionRow, WorkLogRow};
use crate::db::{new_id, users, DbConn};
use crate::domain::access::{reach, Action, Actor, Denial, LogReader};
use crate::domain::checkin::CheckinRules;
use crate::domain::work_log::{
    days_due, parse_comment, parse_content, parse_month, writable, MAX_PHOTOS,
};
use crate::error::{ApiError, ApiResult};
use crate::media::own_photos;
use crate::night_sessions::staff_facts;

fn refused(denial: Denial, what: &str) -> ApiError {
    match denial {
        Denial::Hidden => ApiError::not_found(what),
        Denial::Forbidden => ApiError::Forbidden("your role may not read work logs".into()),
    }
}

/// Writes the actor's log of a day, or edits it on its day. `true` when it is new; the same
/// text and photos sent again change nothing.
pub fn write(
    conn: &mut DbConn,
    actor: &Actor,
    req: &NewWorkLog,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<(WorkLog, bool)> {
    reach(actor, Action::SubmitCheckins)
        .map_err(|_| ApiError::Forbidden("work logs are written by cadres".into()))?;
    let content = parse_content(&req.content)?;
    let org_path = actor
        .org_path
        .clone()
        .ok_or_else(|| ApiError::Forbidden("only a cadre of a unit writes work logs".into()))?;
    match write_once(conn, actor, req, &content, &org_path, now, rules) {
        // Two sends of the same day's log raced: the second finds the first's row.
        Err(ApiError::Conflict(_)) => write_once(conn, actor, req, &content, &org_path, now, rules),
        other => other,
    }
}

fn write_once(
    conn: &mut DbConn,
    actor: &Actor,
    req: &NewWorkLog,
    content: &str,
    org_path: &str,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<(WorkLog, bool)> {
    conn.write(|conn| {
        let existing = store::find_of_day(conn, &actor.user_id, req.date)?;
        let earlier_photos = match &existing {
            Some(log) => store::photo_ids_of(conn, std::slice::from_ref(&log.id))?
                .remove(&log.id)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let photos = own_photos(
            conn,
            actor,
            req.photo_ids.as_deref().unwrap_or_default(),
            &earlier_photos,
            "photo_ids",
            MAX_PHOTOS,
        )?;
        if !writable(req.date, now, rules) {
            return Err(match existing {
                Some(_) => ApiError::Conflict(format!(
                    "the log of {} can no longer be changed: a log is edited on its day",
                    req.date
                )),
                None => ApiError::invalid(
                    "date",
                    "a log is written on its day (until 06:00 the next morning)",
                ),
            });
        }
        let now_naive = now.naive_utc();
        let (row, created) = match existing {
            Some(log) if log.content == content && earlier_photos == photos => (log, false),
            Some(log) => {
                let earlier = RevisionRow {
                    id: new_id(),
                    log_id: log.id.clone(),
                    content: log.content.clone(),
                    photo_ids: serde_json::to_string(&earlier_photos)
                        .map_err(|e| ApiError::Internal(e.into()))?,
                    written_at: log.updated_at,
                    replaced_at: now_naive,
                };
                let revised = WorkLogRow {
                    content: content.to_string(),
                    updated_at: now_naive,
                    ..log
                };
                store::revise(conn, &revised, &earlier, &photos)?;
                (revised, false)
            }
            None => {
                let row = WorkLogRow {
                    id: new_id(),
                    user_id: actor.user_id.clone(),
                    org_path: org_path.to_string(),
                    log_date: req.date,
                    content: content.to_string(),
                    created_at: now_naive,
                    updated_at: now_naive,
                };
                store::insert(conn, &row, &photos)?;
                (row, true)
            }
        };
        let log = wire_all(conn, vec![row], now, rules)?
            .pop()
            .ok_or_else(|| ApiError::not_found("work log"))?;
        Ok((log, created))
    })
}

/// A month of a cadre's logs (the actor's own when `user_id` is `None`): every day due so
/// far, with its log or none. The writer, the town's supervisors, the cadre's leadership
/// and the admin read it; anyone else gets 404.
pub fn month(
    conn: &mut DbConn,
    actor: &Actor,
    user_id: Option<&str>,
    month: &str,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<WorkLogMonth> {
    let (first, last) = parse_month(month)?;
    let target = user_id.unwrap_or(&actor.user_id);
    let (user, path) = users::find_with_path(conn, target)?
        .filter(|(u, _)| u.role == "cadre")
        .ok_or_else(|| ApiError::not_found("cadre"))?;
    let facts = staff_facts(conn, actor)?;
    facts
        .of(actor)
        .log_reader(&user.id, path.as_deref().unwrap_or_default())
        .map_err(|d| refused(d, "cadre"))?;
    let rows = store::of_user_between(conn, &user.id, first, last)?;
    let mut logs = wire_all(conn, rows, now, rules)?;
    let today = now.with_timezone(&rules.timezone).date_naive();
    let days: Vec<WorkLogDay> = days_due(first, last, today)
        .into_iter()
        .rev()
        .map(|date| WorkLogDay {
            log: logs
                .iter()
                .position(|l| l.date == date)
                .map(|i| logs.swap_remove(i)),
            date,
        })
        .collect();
    let with = days.iter().filter(|d| d.log.is_some()).count() as i32;
    Ok(WorkLogMonth {
        days_without_log: days.len() as i32 - with,
        days_with_log: with,
        month: first.format("%Y-%m").to_string(),
        user_id: user.id,
        name: user.name,
        days,
    })
}

/// A leader's comment (批阅) on a log: supervisors of the writer's town and the cadre's
/// leadership; the writer reads comments but does not write them.
pub fn comment(
    conn: &mut DbConn,
    actor: &Actor,
    log_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> ApiResult<WorkLogComment> {
    let text = parse_comment(text)?;
    let log = store::find(conn, log_id)?.ok_or_else(|| ApiError::not_found("work log"))?;
    let facts = staff_facts(conn, actor)?;
    match facts
        .of(actor)
        .log_reader(&log.user_id, &log.org_path)
        .map_err(|d| refused(d, "work log"))?
    {
        LogReader::Leader => {}
        LogReader::Writer | LogReader::Auditor => {
            return Err(ApiError::Forbidden(
                "a log is commented by the writer's leaders".into(),
            ))
        }
    }
    let row = CommentRow {
        id: new_id(),
        log_id: log.id,
        author_id: actor.user_id.clone(),
        text,
        created_at: now.naive_utc(),
    };
    store::insert_comment(conn, &row)?;
    let author_name = users::names_of(conn, std::slice::from_ref(&actor.user_id))?
        .remove(&actor.user_id)
        .unwrap_or_default();
    Ok(WorkLogComment {
        id: row.id,
        author_id: row.author_id,
        author_name,
        text: row.text,
        created_at: utc(row.created_at),
    })
}

/// Logs as the API shows them: photos, comments and earlier versions read in one query
/// each.
pub fn wire_all(
    conn: &mut DbConn,
    rows: Vec<WorkLogRow>,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> ApiResult<Vec<WorkLog>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut photos = store::photo_ids_of(conn, &ids)?;
    let mut comments = store::comments_of(conn, &ids)?;
    let mut revisions = store::revisions_of(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let history = revisions
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    Ok(WorkLogRevision {
                        photo_ids: serde_json::from_str(&r.photo_ids)
                            .map_err(|e| ApiError::Internal(e.into()))?,
                        content: r.content,
                        written_at: utc(r.written_at),
                        replaced_at: utc(r.replaced_at),
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(WorkLog {
                editable: writable(row.log_date, now, rules),
                photo_ids: photos.remove(&row.id).unwrap_or_default(),
                comments: comments
                    .remove(&row.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(c, name)| WorkLogComment {
                        id: c.id,
                        author_id: c.author_id,
                        author_name: name,
                        text: c.text,
                        created_at: utc(c.created_at),
                    })
                    .collect(),
                history,
                created_at: utc(row.created_at),
                updated_at: utc(row.updated_at),
                id: row.id,
                user_id: row.user_id,
                date: row.log_date,
                content: row.content,
            })
        })
        .collect()
}

/// The local date a log written now would be for by default: today.
pub fn today(now: DateTime<Utc>, rules: &CheckinRules) -> NaiveDate {
    now.with_timezone(&rules.timezone).date_naive()
}
