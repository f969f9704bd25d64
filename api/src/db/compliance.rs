//! Deadline compliance counts, per unit, village or assignee, in one aggregate query.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use super::{db_run, DbConn};
use crate::domain::compliance::ComplianceCounts;
use crate::error::ApiResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Unit,
    Village,
    Assignee,
}

#[derive(Debug)]
pub struct ComplianceFilter {
    pub group_by: GroupBy,
    /// Only orders of villages in this subtree (a path prefix; "/" for all).
    pub within: String,
    pub unit_id: Option<String>,
    pub village_id: Option<String>,
    pub assignee_id: Option<String>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub now: NaiveDateTime,
}

#[derive(Debug, QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = BigInt)]
    assigned: i64,
    #[diesel(sql_type = BigInt)]
    accepted_within_24h: i64,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = BigInt)]
    created_resolved: i64,
    #[diesel(sql_type = BigInt)]
    first_resolved: i64,
    #[diesel(sql_type = BigInt)]
    first_resolved_on_time: i64,
    #[diesel(sql_type = BigInt)]
    reopened: i64,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = BigInt)]
    rated_satisfied: i64,
    #[diesel(sql_type = BigInt)]
    rating_sum: i64,
    #[diesel(sql_type = BigInt)]
    overdue_open: i64,
    #[diesel(sql_type = BigInt)]
    overdue_resolved: i64,
    #[diesel(sql_type = Double)]
    resolution_hours_sum: f64,
}

/// One group's key, display name and counts.
pub struct GroupCounts {
    pub key: String,
    pub name: String,
    pub counts: ComplianceCounts,
}

/// The counts of DESIGN §2.4 for every group, computed in the database: one scan of the
/// subtree's orders touching the period, conditional sums per metric.
pub fn counts(conn: &mut DbConn, f: &ComplianceFilter) -> ApiResult<Vec<GroupCounts>> {
    // Hours between two timestamps: the only piece of SQL that differs between the backends.
    let hours = |a: &str, b: &str| match conn {
        DbConn::Sqlite(..) => format!("((julianday({b}) - julianday({a})) * 24.0)"),
        DbConn::Pg(_) => format!("(EXTRACT(EPOCH FROM ({b} - {a})) / 3600.0)"),
    };
    let (key, name_join, name) = match f.group_by {
        GroupBy::Unit => (
            "w.unit_id",
            "LEFT JOIN org_units n ON n.id = w.unit_id",
            "n.name",
        ),
        GroupBy::Village => (
            "w.village_id",
            "LEFT JOIN org_units n ON n.id = w.village_id",
            "n.name",
        ),
        GroupBy::Assignee => (
            "w.assignee_id",
            "LEFT JOIN users n ON n.id = w.assignee_id",
            "n.name",
        ),
    };
    let in_period = |col: &str| format!("({col} >= $1 AND {col} < $2)");
    let open = "w.status IN ('submitted', 'assigned', 'in_progress', 'reopened')";
    let sql = format!(
        "SELECT {key} AS key, MAX({name}) AS name,
            SUM(CASE WHEN {assigned} THEN 1 ELSE 0 END) AS assigned,
            SUM(CASE WHEN {assigned} AND w.accepted_at IS NOT NULL AND {accept_hours} <= 24.0 THEN 1 ELSE 0 END) AS accepted_within_24h,
            SUM(CASE WHEN {created} THEN 1 ELSE 0 END) AS created,
            SUM(CASE WHEN {created} AND w.status IN ('resolved', 'closed') THEN 1 ELSE 0 END) AS created_resolved,
            SUM(CASE WHEN {first} THEN 1 ELSE 0 END) AS first_resolved,
            SUM(CASE WHEN {first} AND (w.original_due_at IS NULL OR w.first_resolved_at <= w.original_due_at) THEN 1 ELSE 0 END) AS first_resolved_on_time,
            SUM(CASE WHEN {first} AND w.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened,
            SUM(CASE WHEN {rated} THEN 1 ELSE 0 END) AS rated,
            SUM(CASE WHEN {rated} AND w.rating >= 80 THEN 1 ELSE 0 END) AS rated_satisfied,
            SUM(CASE WHEN {rated} THEN w.rating ELSE 0 END) AS rating_sum,
            SUM(CASE WHEN {open} AND w.due_at < $3 THEN 1 ELSE 0 END) AS overdue_open,
            SUM(CASE WHEN {first} AND w.first_resolved_at > w.original_due_at THEN 1 ELSE 0 END) AS overdue_resolved,
            CAST(COALESCE(SUM(CASE WHEN {first} THEN {resolve_hours} ELSE 0.0 END), 0.0) AS DOUBLE PRECISION) AS resolution_hours_sum
         FROM work_orders w {name_join}
         WHERE w.org_path LIKE $4 AND {key} IS NOT NULL
           AND ($5 IS NULL OR w.unit_id = $5) AND ($6 IS NULL OR w.village_id = $6) AND ($7 IS NULL OR w.assignee_id = $7)
           AND ({created} OR {assigned} OR {first} OR {rated} OR ({open} AND w.due_at < $3))
         GROUP BY {key}
         ORDER BY {key}",
        assigned = in_period("w.assigned_at"),
        created = in_period("w.created_at"),
        first = in_period("w.first_resolved_at"),
        rated = in_period("w.rated_at"),
        accept_hours = hours("w.assigned_at", "w.accepted_at"),
        resolve_hours = hours("w.created_at", "w.first_resolved_at"),
    );
    let rows: Vec<Row> = db_run!(conn, |c| diesel::sql_query(sql.as_str())
        .bind::<Timestamp, _>(f.from)
        .bind::<Timestamp, _>(f.to)
        .bind::<Timestamp, _>(f.now)
        .bind::<Text, _>(format!("{}%", f.within))
        .bind::<Nullable<Text>, _>(f.unit_id.as_deref())
        .bind::<Nullable<Text>, _>(f.village_id.as_deref())
        .bind::<Nullable<Text>, _>(f.assignee_id.as_deref())
        .load(c))?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(|r| GroupCounts {
            name: r.name.unwrap_or_default(),
            key: r.key,
            counts: ComplianceCounts {
                assigned: n(r.assigned),
                accepted_within_24h: n(r.accepted_within_24h),
                created: n(r.created),
                created_resolved: n(r.created_resolved),
                first_resolved: n(r.first_resolved),
                first_resolved_on_time: n(r.first_resolved_on_time),
                reopened: n(r.reopened),
                rated: n(r.rated),
                rated_satisfied: n(r.rated_satisfied),
                rating_sum: n(r.rating_sum),
                overdue_open: n(r.overdue_open),
                overdue_resolved: n(r.overdue_resolved),
                resolution_hours_sum: r.resolution_hours_sum,
            },
        })
        .collect())
}
