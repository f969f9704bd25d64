//! 销号 (DESIGN §2.6): the cadre submits rectification evidence for a problem record by its
//! rectify-by date; a supervisor of the town approves it, which clears the record, or sends
//! it back. One service for the API and the desk; who may act is `domain::access`, what a
//! step does in which standing is `domain::scoring::record_step`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use minqing_protocol::{RecordAction, RecordEvent, RecordStatus, ScoringRecord};

use crate::audit::{self, Audited};
use crate::db::models::{enum_text, parse_enum, utc};
use crate::db::scoring::{self as store, RecordEventRow, RecordRow};
use crate::db::{media, new_id, users, DbConn};
use crate::domain::access::{reach, Action, Actor};
use crate::domain::scoring::{
    record_status, record_step, RecordFacts, RecordStep, StepRefusal, MAX_RECTIFY_PHOTOS,
};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::required_note;

/// A problem record's standing on `today` (`None` for achievement records).
pub fn status_on(row: &RecordRow, today: NaiveDate) -> ApiResult<Option<RecordStatus>> {
    if row.kind != "problem" {
        return Ok(None);
    }
    let stored = parse_enum(&row.status)?;
    Ok(Some(record_status(stored, row.rectify_by, today)))
}

/// The records as the API shows them, each with its history.
pub fn wire_all(
    conn: &mut DbConn,
    rows: Vec<RecordRow>,
    today: NaiveDate,
) -> ApiResult<Vec<ScoringRecord>> {
    let mut histories = histories(conn, &rows)?;
    rows.into_iter()
        .map(|row| {
            Ok(ScoringRecord {
                status: status_on(&row, today)?,
                history: histories.remove(&row.id).unwrap_or_default(),
                id: row.id,
                user_id: row.user_id,
                kind: row.kind,
                period: row.period,
                reason: row.reason,
                rectify_by: row.rectify_by,
                evidence: row.evidence,
                cleared_at: row.cleared_at.map(utc),
                created_at: utc(row.created_at),
            })
        })
        .collect()
}

/// Every step of these records, oldest first, by record id.
pub fn histories(
    conn: &mut DbConn,
    rows: &[RecordRow],
) -> ApiResult<HashMap<String, Vec<RecordEvent>>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut out: HashMap<String, Vec<RecordEvent>> = HashMap::new();
    for (event, actor_name) in store::record_events_of(conn, &ids)? {
        let shown = RecordEvent {
            at: utc(event.at),
            action: parse_enum(&event.action)?,
            photo_ids: event.photos(),
            actor_id: event.actor_id,
            actor_name,
            note: event.note,
            evidence: event.evidence,
        };
        out.entry(event.record_id).or_default().push(shown);
    }
    Ok(out)
}

/// The record and its owner's unit path, when the actor's `action` reaches it; otherwise it
/// answers as missing.
fn reachable(conn: &mut DbConn, actor: &Actor, action: Action, id: &str) -> ApiResult<RecordRow> {
    let within = reach(actor, action)?;
    let row = store::find_record(conn, id)?.ok_or_else(|| ApiError::not_found("record"))?;
    let path = users::find_with_path(conn, &row.user_id)?.and_then(|(_, p)| p);
    if !within.covers_record(path.as_deref(), &row.user_id) {
        return Err(ApiError::not_found("record"));
    }
    Ok(row)
}

fn refused(refusal: StepRefusal, row: &RecordRow) -> ApiError {
    match refusal {
        StepRefusal::NotOwner => {
            ApiError::Forbidden("only the record's owner submits its rectification".into())
        }
        StepRefusal::OwnRecord => {
            ApiError::Forbidden("nobody verifies the rectification of their own record".into())
        }
        StepRefusal::NoteRequired => {
            ApiError::invalid("note", "say what is missing when sending evidence back")
        }
        StepRefusal::NotProblem => {
            ApiError::Conflict("only problem-trace records are rectified and verified".into())
        }
        StepRefusal::Late => ApiError::Conflict(format!(
            "the time to rectify ended on {}; the record has expired",
            row.rectify_by
                .map_or_else(|| "its rectify-by date".to_string(), |d| d.to_string())
        )),
        StepRefusal::WrongStatus(status) => ApiError::Conflict(
            match status {
                RecordStatus::Open => "no rectification is waiting for verification",
                RecordStatus::PendingVerification => {
                    "the rectification submitted is waiting for verification"
                }
                RecordStatus::Cleared => "this record was cleared already",
                RecordStatus::Expired => "the time to rectify has ended; the record has expired",
            }
            .into(),
        ),
    }
}

/// The photos of a rectification: at most [`MAX_RECTIFY_PHOTOS`], each the cadre's own upload.
fn own_photos(conn: &mut DbConn, user_id: &str, ids: &[String]) -> ApiResult<()> {
    if ids.len() > MAX_RECTIFY_PHOTOS {
        return Err(ApiError::invalid(
            "photo_ids",
            format!("at most {MAX_RECTIFY_PHOTOS} photos"),
        ));
    }
    if ids.is_empty() {
        return Ok(());
    }
    let found = media::find_many(conn, ids)?;
    let errors: Vec<Invalid> = ids
        .iter()
        .enumerate()
        .filter(|(i, id)| {
            ids[..*i].contains(id)
                || !found
                    .iter()
                    .any(|m| &m.id == *id && m.uploader_id.as_deref() == Some(user_id))
        })
        .map(|(i, _)| {
            Invalid::new(
                format!("photo_ids[{i}]"),
                "no photo of yours with that id (or named twice)",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Moves the record and writes the step on its history; a record moved by someone else
/// meanwhile is a conflict.
fn take_step(
    conn: &mut DbConn,
    row: &RecordRow,
    to: RecordStatus,
    event: RecordEventRow,
) -> ApiResult<RecordRow> {
    let cleared = (to == RecordStatus::Cleared).then_some((event.actor_id.as_str(), event.at));
    let moved = store::move_record(
        conn,
        &row.id,
        (&row.status, &enum_text(&to)),
        event.evidence.as_deref(),
        cleared,
    )?;
    if !moved {
        return Err(ApiError::Conflict(
            "the record changed meanwhile; reload it".into(),
        ));
    }
    store::insert_record_event(conn, &event)?;
    store::find_record(conn, &row.id)?.ok_or_else(|| ApiError::not_found("record"))
}

/// The owner submits evidence (1–2000 characters, optional photos of their own) on or before
/// the rectify-by local date; the record then waits for verification.
pub fn rectify(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    (evidence, photo_ids): (&str, &[String]),
    now: DateTime<Utc>,
    today: NaiveDate,
) -> ApiResult<RecordRow> {
    let evidence = required_note("evidence", evidence)?;
    conn.write(|conn| {
        let row = reachable(conn, actor, Action::RectifyRecords, id)?;
        own_photos(conn, &actor.user_id, photo_ids)?;
        let facts = RecordFacts {
            owner_id: &row.user_id,
            actor_id: &actor.user_id,
            problem: row.kind == "problem",
            stored: parse_enum(&row.status)?,
            rectify_by: row.rectify_by,
            today,
            has_note: false,
        };
        let to = record_step(RecordStep::Rectify, &facts).map_err(|r| refused(r, &row))?;
        let photos = serde_json::to_string(photo_ids)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("photo ids: {e}")))?;
        let event = RecordEventRow {
            id: new_id(),
            record_id: row.id.clone(),
            at: now.naive_utc(),
            actor_id: actor.user_id.clone(),
            action: enum_text(&RecordAction::Rectified),
            note: None,
            evidence: Some(evidence.clone()),
            photo_ids: Some(photos),
        };
        audit::record(
            conn,
            &actor.user_id,
            Audited::RecordRectified,
            Some(&row.id),
            None,
            now,
        )?;
        take_step(conn, &row, to, event)
    })
}

/// A supervisor of the owner's town (never the owner) approves the evidence waiting for
/// verification, clearing the record, or sends it back with a note.
pub fn verify(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    (approve, note): (bool, Option<&str>),
    now: DateTime<Utc>,
    today: NaiveDate,
) -> ApiResult<RecordRow> {
    let note = note
        .filter(|n| !n.trim().is_empty())
        .map(|n| required_note("note", n))
        .transpose()?;
    conn.write(|conn| {
        let row = reachable(conn, actor, Action::VerifyRecords, id)?;
        let facts = RecordFacts {
            owner_id: &row.user_id,
            actor_id: &actor.user_id,
            problem: row.kind == "problem",
            stored: parse_enum(&row.status)?,
            rectify_by: row.rectify_by,
            today,
            has_note: note.is_some(),
        };
        let (step, action) = if approve {
            (RecordStep::Approve, RecordAction::Approved)
        } else {
            (RecordStep::SendBack, RecordAction::SentBack)
        };
        let to = record_step(step, &facts).map_err(|r| refused(r, &row))?;
        let event = RecordEventRow {
            id: new_id(),
            record_id: row.id.clone(),
            at: now.naive_utc(),
            actor_id: actor.user_id.clone(),
            action: enum_text(&action),
            note: note.clone(),
            evidence: None,
            photo_ids: None,
        };
        let detail = serde_json::json!({"approve": approve, "owner": row.user_id});
        audit::record(
            conn,
            &actor.user_id,
            Audited::RecordVerified,
            Some(&row.id),
            Some(detail),
            now,
        )?;
        take_step(conn, &row, to, event)
    })
}
