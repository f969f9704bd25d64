//! The append-only audit log: written, listed, never changed (triggers refuse it).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_log;
use super::{db_run, DbConn};
use crate::error::ApiResult;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub detail: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> ApiResult<()> {
    db_run!(conn, |c| diesel::insert_into(audit_log::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Entries, newest first, one page.
pub fn list(conn: &mut DbConn, f: &AuditFilter) -> ApiResult<Vec<AuditRow>> {
    Ok(db_run!(conn, |c| {
        let mut q = audit_log::table
            .select(AuditRow::as_select())
            .order((audit_log::at.desc(), audit_log::id.desc()))
            .limit(f.limit)
            .into_boxed();
        if let Some(v) = &f.actor_id {
            q = q.filter(audit_log::actor_id.eq(v));
        }
        if let Some(v) = &f.action {
            q = q.filter(audit_log::action.eq(v));
        }
        if let Some(v) = &f.target_id {
            q = q.filter(audit_log::target_id.eq(v));
        }
        if let Some(v) = f.from {
            q = q.filter(audit_log::at.ge(v));
        }
        if let Some(v) = f.to {
            q = q.filter(audit_log::at.lt(v));
        }
        if let Some((at, id)) = &f.after {
            q = q.filter(
                audit_log::at
                    .lt(*at)
                    .or(audit_log::at.eq(*at).and(audit_log::id.lt(id))),
            );
        }
        q.load(c)
    })?)
}
