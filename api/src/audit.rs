//! Who read personal data, and who changed scores, records, users and settings: one line
//! each in the append-only audit log, written in the same transaction as the change (a
//! change that rolls back leaves no line), read by the admin at `GET /api/v1/audit`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::audit::{self as store, AuditRow};
use crate::db::{new_id, DbConn};
use crate::error::ApiResult;

/// What was done, as the log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audited {
    /// Personal data shown: a user's record (phone), a list of users, an order's reporter.
    UserRead,
    UsersListed,
    ReporterRead,
    /// The ledger downloaded as a spreadsheet, reporters' phones included.
    OrdersExported,
    UserCreated,
    UserChanged,
    VillagesAssigned,
    SchemeSaved,
    AdjustmentProposed,
    AdjustmentApproved,
    /// A manual indicator's value entered (or entered again), one by one or by CSV import.
    ManualValueEntered,
    ManualValueApproved,
    ManualValuesImported,
    VetoProposed,
    VetoApproved,
    VetoWithdrawalRequested,
    VetoWithdrawn,
    /// A veto area added, renamed, retired or brought back.
    VetoAreaSaved,
    RecusalRecorded,
    PeriodClosed,
    RecordRectified,
    RecordVerified,
    OrgUnitSaved,
    BoundarySet,
    CategorySaved,
    CalendarSet,
    WebhookSaved,
}

impl Audited {
    pub fn word(self) -> &'static str {
        match self {
            Audited::UserRead => "user.read",
            Audited::UsersListed => "users.list",
            Audited::ReporterRead => "work_order.reporter_read",
            Audited::OrdersExported => "work_orders.export",
            Audited::UserCreated => "user.create",
            Audited::UserChanged => "user.update",
            Audited::VillagesAssigned => "user.villages",
            Audited::SchemeSaved => "scheme.save",
            Audited::AdjustmentProposed => "adjustment.propose",
            Audited::AdjustmentApproved => "adjustment.approve",
            Audited::ManualValueEntered => "manual_value.enter",
            Audited::ManualValueApproved => "manual_value.approve",
            Audited::ManualValuesImported => "manual_values.import",
            Audited::VetoProposed => "veto.propose",
            Audited::VetoApproved => "veto.approve",
            Audited::VetoWithdrawalRequested => "veto.withdrawal_request",
            Audited::VetoWithdrawn => "veto.withdraw",
            Audited::VetoAreaSaved => "veto_area.save",
            Audited::RecusalRecorded => "recusal.record",
            Audited::PeriodClosed => "period.close",
            Audited::RecordRectified => "record.rectify",
            Audited::RecordVerified => "record.verify",
            Audited::OrgUnitSaved => "org_unit.save",
            Audited::BoundarySet => "org_unit.boundary",
            Audited::CategorySaved => "category.save",
            Audited::CalendarSet => "calendar.set",
            Audited::WebhookSaved => "webhook.save",
        }
    }

    /// What the entry is about.
    fn target_kind(self) -> &'static str {
        match self {
            Audited::UserRead
            | Audited::UsersListed
            | Audited::UserCreated
            | Audited::UserChanged
            | Audited::VillagesAssigned => "user",
            Audited::ReporterRead | Audited::OrdersExported => "work_order",
            Audited::SchemeSaved => "scheme",
            Audited::AdjustmentProposed | Audited::AdjustmentApproved => "adjustment",
            Audited::ManualValueEntered
            | Audited::ManualValueApproved
            | Audited::ManualValuesImported => "manual_value",
            Audited::VetoProposed
            | Audited::VetoApproved
            | Audited::VetoWithdrawalRequested
            | Audited::VetoWithdrawn => "veto",
            Audited::VetoAreaSaved => "veto_area",
            Audited::RecusalRecorded => "recusal",
            Audited::PeriodClosed => "period",
            Audited::RecordRectified | Audited::RecordVerified => "record",
            Audited::OrgUnitSaved | Audited::BoundarySet => "org_unit",
            Audited::CategorySaved => "category",
            Audited::CalendarSet => "calendar",
            Audited::WebhookSaved => "webhook",
        }
    }
}

/// Appends one entry: the user `actor_id` did `what` to the target `id` (`detail`: what
/// matters about it, never a secret).
pub fn record(
    conn: &mut DbConn,
    actor_id: &str,
    what: Audited,
    id: Option<&str>,
    detail: Option<Value>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    store::insert(
        conn,
        &AuditRow {
            id: new_id(),
            at: now.naive_utc(),
            actor_id: Some(actor_id.to_string()),
            action: what.word().into(),
            target_kind: what.target_kind().into(),
            target_id: id.map(str::to_string),
            detail: detail.map(|d| d.to_string()),
        },
    )
}
