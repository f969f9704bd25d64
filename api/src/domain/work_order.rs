//! The life cycle of a 民情工单 (work order) as an explicit state machine.
//!
//! `submitted` → `assigned` → `in_progress` → `resolved` → `closed`, plus `rejected` (not
//! ours, a duplicate) and `reopened` (the reporter rated the result below
//! [`SATISFIED_FROM`]; the unit works on it again). Every change of status goes through
//! [`next_status`], so handlers, jobs and the error messages they give all follow one table.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use minqing_protocol::WorkOrderStatus;

use super::Invalid;

/// A rating below this reopens the order; at or above it closes it.
pub const SATISFIED_FROM: u8 = 60;

/// A resolved order that the reporter has not rated after this many days closes as unrated.
pub const AUTO_CLOSE_AFTER_DAYS: i64 = 7;

/// Who acts on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Supervisor,
    Assignee,
    Reporter,
    System,
}

impl Party {
    /// The name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Party::Supervisor => "supervisor",
            Party::Assignee => "assignee",
            Party::Reporter => "reporter",
            Party::System => "system",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Assign,
    Accept,
    Progress,
    Resolve,
    Rate { score: u8 },
    Reject,
    AutoClose,
}

impl Step {
    /// The name used in the API (`allowed_steps`) and in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Step::Assign => "assign",
            Step::Accept => "accept",
            Step::Progress => "progress",
            Step::Resolve => "resolve",
            Step::Rate { .. } => "rate",
            Step::Reject => "reject",
            Step::AutoClose => "auto_close",
        }
    }

    /// The one party that takes this step: each step belongs to exactly one role, whatever
    /// the order's status.
    pub fn party(self) -> Party {
        match self {
            Step::Assign | Step::Reject => Party::Supervisor,
            Step::Accept | Step::Progress | Step::Resolve => Party::Assignee,
            Step::Rate { .. } => Party::Reporter,
            Step::AutoClose => Party::System,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This party never takes this step (HTTP 403).
    WrongParty {
        step: &'static str,
        party: &'static str,
    },
    /// Not from the current status (HTTP 409); message names the status and what is possible.
    Illegal {
        from: WorkOrderStatus,
        step: &'static str,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::WrongParty { step, party } => {
                write!(f, "the {party} cannot {step} a work order")?;
                match owner_of(step) {
                    Some(owner) => write!(f, "; only the {owner} can"),
                    None => Ok(()),
                }
            }
            Refusal::Illegal { from, step } => {
                let possible = steps_from(*from);
                write!(
                    f,
                    "cannot {step} a work order that is {}; ",
                    status_name(*from)
                )?;
                if possible.is_empty() {
                    write!(f, "it is final and takes no further steps")
                } else {
                    write!(f, "possible steps: {}", possible.join(", "))
                }
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// The party that owns a step, by the step's name (for the message of a `WrongParty`).
fn owner_of(step: &str) -> Option<&'static str> {
    let all = [
        Step::Assign,
        Step::Accept,
        Step::Progress,
        Step::Resolve,
        Step::Rate { score: 0 },
        Step::Reject,
        Step::AutoClose,
    ];
    all.iter()
        .find(|s| s.name() == step)
        .map(|s| s.party().name())
}

/// The status's name as the API spells it (its serde name).
pub fn status_name(status: WorkOrderStatus) -> &'static str {
    match status {
        WorkOrderStatus::Submitted => "submitted",
        WorkOrderStatus::Assigned => "assigned",
        WorkOrderStatus::InProgress => "in_progress",
        WorkOrderStatus::Resolved => "resolved",
        WorkOrderStatus::Closed => "closed",
        WorkOrderStatus::Rejected => "rejected",
        WorkOrderStatus::Reopened => "reopened",
    }
}

/// The status after `party` takes `step` on an order in `from`.
///
/// The party is checked before the status, so a role that may never take a step gets the
/// same 403 whatever the order's state (and learns nothing about it).
/// A `Rate` score is taken as given: check it with [`parse_score`] first.
pub fn next_status(
    from: WorkOrderStatus,
    step: Step,
    party: Party,
) -> Result<WorkOrderStatus, Refusal> {
    use WorkOrderStatus::*;

    if party != step.party() {
        return Err(Refusal::WrongParty {
            step: step.name(),
            party: party.name(),
        });
    }
    let to = match (step, from) {
        // Reassigning an assigned order is how a supervisor corrects a wrong unit.
        (Step::Assign, Submitted | Assigned | Reopened) => Assigned,
        // Once someone has started work, the order is ours: no rejecting it then.
        (Step::Reject, Submitted | Assigned) => Rejected,
        (Step::Accept, Assigned | Reopened) => InProgress,
        (Step::Progress, InProgress) => InProgress,
        // A reopened order may be resolved directly when the fix needs no new visit.
        (Step::Resolve, InProgress | Reopened) => Resolved,
        (Step::Rate { score }, Resolved) if score >= SATISFIED_FROM => Closed,
        (Step::Rate { .. }, Resolved) => Reopened,
        (Step::AutoClose, Resolved) => Closed,
        _ => {
            return Err(Refusal::Illegal {
                from,
                step: step.name(),
            })
        }
    };
    Ok(to)
}

/// Which steps are possible from a status (for error messages and the API's `allowed_steps`).
///
/// Kept in step with [`next_status`] by a test. Includes `auto_close`, which only the system
/// takes; a client that lists steps for a person may want to leave it out.
pub fn steps_from(from: WorkOrderStatus) -> &'static [&'static str] {
    match from {
        WorkOrderStatus::Submitted => &["assign", "reject"],
        WorkOrderStatus::Assigned => &["assign", "accept", "reject"],
        WorkOrderStatus::InProgress => &["progress", "resolve"],
        WorkOrderStatus::Resolved => &["rate", "auto_close"],
        WorkOrderStatus::Reopened => &["assign", "accept", "resolve"],
        WorkOrderStatus::Closed | WorkOrderStatus::Rejected => &[],
    }
}

/// What can be solved on the spot starts out resolved (and has no deadline); everything
/// else waits for a supervisor.
pub fn initial_status(resolved_on_spot: bool) -> WorkOrderStatus {
    if resolved_on_spot {
        WorkOrderStatus::Resolved
    } else {
        WorkOrderStatus::Submitted
    }
}

/// Still needs work: submitted, assigned, in_progress, reopened.
pub fn is_open(status: WorkOrderStatus) -> bool {
    matches!(
        status,
        WorkOrderStatus::Submitted
            | WorkOrderStatus::Assigned
            | WorkOrderStatus::InProgress
            | WorkOrderStatus::Reopened
    )
}

/// Takes no further steps: closed or rejected.
pub fn is_terminal(status: WorkOrderStatus) -> bool {
    matches!(status, WorkOrderStatus::Closed | WorkOrderStatus::Rejected)
}

/// Overdue = past due and not yet resolved (resolved, closed and rejected orders are never
/// overdue). An order due at exactly `now` is not yet late, matching "resolved at or before
/// the due time" counting as on time. No due time means it can never be overdue.
pub fn is_overdue(
    status: WorkOrderStatus,
    due_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    is_open(status) && due_at.is_some_and(|due| now > due)
}

/// Whether a resolved order has waited [`AUTO_CLOSE_AFTER_DAYS`] or more for its rating.
/// Without a resolution time there is nothing to count from, so it stays open for rating
/// rather than closing by guess.
pub fn should_auto_close(
    status: WorkOrderStatus,
    resolved_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    status == WorkOrderStatus::Resolved
        && resolved_at.is_some_and(|at| {
            // The difference of two `DateTime`s always fits a `TimeDelta`; adding the days
            // to `at` instead could overflow at the far end of the calendar.
            now.signed_duration_since(at) >= Duration::days(AUTO_CLOSE_AFTER_DAYS)
        })
}

/// Checks a rating: 0..=100 (field `score`).
pub fn parse_score(raw: i64) -> Result<u8, Invalid> {
    u8::try_from(raw)
        .ok()
        .filter(|score| *score <= 100)
        .ok_or_else(|| Invalid::new("score", "must be a whole number from 0 to 100"))
}

/// Human code: "MQ-20261121-0007" from the local date and the day's sequence number
/// (1-based, at least 4 digits; a busy day simply gets longer codes).
pub fn order_code(local_date: NaiveDate, seq: u32) -> String {
    format!(
        "MQ-{:04}{:02}{:02}-{seq:04}",
        local_date.year(),
        local_date.month(),
        local_date.day()
    )
}

/// The timeline kind of a staff member's internal note: a working record that the reporter
/// never sees, neither on public tracking nor in their own order's timeline.
pub const INTERNAL_NOTE: &str = "internal_note";

/// Who may write an internal note: the order's supervisors and its assigned unit. A party
/// who is only the reporter may not (notes are about the work, not for them).
pub fn may_write_internal_note(parties: &[Party]) -> bool {
    parties
        .iter()
        .any(|p| matches!(p, Party::Supervisor | Party::Assignee))
}

/// Whether a viewer who is only the order's reporter sees a timeline entry of `kind`.
pub fn reporter_sees(kind: &str) -> bool {
    kind != INTERNAL_NOTE
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use WorkOrderStatus::*;

    #[test]
    fn internal_notes_are_staff_only() {
        assert!(may_write_internal_note(&[Party::Supervisor]));
        assert!(may_write_internal_note(&[Party::Reporter, Party::Assignee]));
        assert!(!may_write_internal_note(&[Party::Reporter]));
        assert!(!may_write_internal_note(&[]));
        assert!(!reporter_sees(INTERNAL_NOTE));
        assert!(reporter_sees("progress") && reporter_sees("resolved"));
    }

    const STATUSES: [WorkOrderStatus; 7] = [
        Submitted, Assigned, InProgress, Resolved, Closed, Rejected, Reopened,
    ];
    const PARTIES: [Party; 4] = [
        Party::Supervisor,
        Party::Assignee,
        Party::Reporter,
        Party::System,
    ];

    /// Every step, with ratings on both sides of the threshold and at its edges.
    fn all_steps() -> Vec<Step> {
        let mut steps = vec![
            Step::Assign,
            Step::Accept,
            Step::Progress,
            Step::Resolve,
            Step::Reject,
            Step::AutoClose,
        ];
        steps.extend([0, 59, 60, 79, 80, 100].map(|score| Step::Rate { score }));
        steps
    }

    /// The legal transitions, written out independently of `next_status`.
    fn legal(from: WorkOrderStatus, step: Step, party: Party) -> Option<WorkOrderStatus> {
        let table: &[(WorkOrderStatus, &str, Party, WorkOrderStatus)] = &[
            (Submitted, "assign", Party::Supervisor, Assigned),
            (Assigned, "assign", Party::Supervisor, Assigned),
            (Reopened, "assign", Party::Supervisor, Assigned),
            (Submitted, "reject", Party::Supervisor, Rejected),
            (Assigned, "reject", Party::Supervisor, Rejected),
            (Assigned, "accept", Party::Assignee, InProgress),
            (Reopened, "accept", Party::Assignee, InProgress),
            (InProgress, "progress", Party::Assignee, InProgress),
            (InProgress, "resolve", Party::Assignee, Resolved),
            (Reopened, "resolve", Party::Assignee, Resolved),
            (Resolved, "auto_close", Party::System, Closed),
        ];
        if let Step::Rate { score } = step {
            return (from == Resolved && party == Party::Reporter).then_some(if score >= 60 {
                Closed
            } else {
                Reopened
            });
        }
        table
            .iter()
            .find(|(f, s, p, _)| *f == from && *s == step.name() && *p == party)
            .map(|(_, _, _, to)| *to)
    }

    /// Who owns each step, written out independently of `Step::party`.
    fn owner(step: Step) -> Party {
        match step.name() {
            "assign" | "reject" => Party::Supervisor,
            "accept" | "progress" | "resolve" => Party::Assignee,
            "rate" => Party::Reporter,
            _ => Party::System,
        }
    }

    #[test]
    fn happy_path_submitted_to_closed() {
        let mut s = initial_status(false);
        assert_eq!(s, Submitted);
        for (step, party, want) in [
            (Step::Assign, Party::Supervisor, Assigned),
            (Step::Accept, Party::Assignee, InProgress),
            (Step::Progress, Party::Assignee, InProgress),
            (Step::Resolve, Party::Assignee, Resolved),
            (Step::Rate { score: 90 }, Party::Reporter, Closed),
        ] {
            s = next_status(s, step, party).unwrap();
            assert_eq!(s, want, "after {step:?}");
        }
    }

    #[test]
    fn every_legal_transition() {
        let cases = [
            (Submitted, Step::Assign, Party::Supervisor, Assigned),
            (Assigned, Step::Assign, Party::Supervisor, Assigned),
            (Reopened, Step::Assign, Party::Supervisor, Assigned),
            (Submitted, Step::Reject, Party::Supervisor, Rejected),
            (Assigned, Step::Reject, Party::Supervisor, Rejected),
            (Assigned, Step::Accept, Party::Assignee, InProgress),
            (Reopened, Step::Accept, Party::Assignee, InProgress),
            (InProgress, Step::Progress, Party::Assignee, InProgress),
            (InProgress, Step::Resolve, Party::Assignee, Resolved),
            (Reopened, Step::Resolve, Party::Assignee, Resolved),
            (Resolved, Step::Rate { score: 100 }, Party::Reporter, Closed),
            (Resolved, Step::Rate { score: 60 }, Party::Reporter, Closed),
            (
                Resolved,
                Step::Rate { score: 59 },
                Party::Reporter,
                Reopened,
            ),
            (Resolved, Step::Rate { score: 0 }, Party::Reporter, Reopened),
            (Resolved, Step::AutoClose, Party::System, Closed),
        ];
        for (from, step, party, to) in cases {
            assert_eq!(
                next_status(from, step, party),
                Ok(to),
                "{from:?} {step:?} by {party:?}"
            );
        }
    }

    #[test]
    fn rating_threshold_is_satisfied_from() {
        assert_eq!(SATISFIED_FROM, 60);
        for score in 0..=100u8 {
            let want = if score >= SATISFIED_FROM {
                Closed
            } else {
                Reopened
            };
            assert_eq!(
                next_status(Resolved, Step::Rate { score }, Party::Reporter),
                Ok(want)
            );
        }
    }

    #[test]
    fn every_other_combination_is_refused_with_the_right_kind() {
        let mut refused = 0;
        for from in STATUSES {
            for step in all_steps() {
                for party in PARTIES {
                    let got = next_status(from, step, party);
                    match legal(from, step, party) {
                        Some(to) => assert_eq!(got, Ok(to), "{from:?} {step:?} {party:?}"),
                        None if party != owner(step) => {
                            refused += 1;
                            assert_eq!(
                                got,
                                Err(Refusal::WrongParty {
                                    step: step.name(),
                                    party: party.name()
                                }),
                                "{from:?} {step:?} {party:?}"
                            );
                        }
                        None => {
                            refused += 1;
                            assert_eq!(
                                got,
                                Err(Refusal::Illegal {
                                    from,
                                    step: step.name()
                                }),
                                "{from:?} {step:?} {party:?}"
                            );
                        }
                    }
                }
            }
        }
        // 7 statuses × 12 steps × 4 parties, less the 11 legal non-rating cells and the
        // 6 legal rating cells (one per score, from Resolved by the reporter).
        assert_eq!(refused, 7 * 12 * 4 - 11 - 6);
    }

    #[test]
    fn party_is_checked_before_status() {
        // A reporter may never assign, even where no one could (a closed order).
        assert_eq!(
            next_status(Closed, Step::Assign, Party::Reporter),
            Err(Refusal::WrongParty {
                step: "assign",
                party: "reporter"
            })
        );
    }

    #[test]
    fn terminal_statuses_take_no_steps() {
        for from in [Closed, Rejected] {
            assert!(is_terminal(from));
            assert!(steps_from(from).is_empty());
            for step in all_steps() {
                assert!(next_status(from, step, step.party()).is_err());
            }
        }
    }

    #[test]
    fn steps_from_agrees_with_next_status() {
        for from in STATUSES {
            for step in all_steps() {
                let listed = steps_from(from).contains(&step.name());
                let works = next_status(from, step, step.party()).is_ok();
                assert_eq!(listed, works, "{from:?} {step:?}");
            }
        }
    }

    #[test]
    fn status_names_match_the_serde_names() {
        for s in STATUSES {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(status_name(s))
            );
        }
    }

    #[test]
    fn refusal_messages_say_what_is_possible() {
        let illegal = next_status(Submitted, Step::Resolve, Party::Assignee).unwrap_err();
        assert_eq!(
            illegal.to_string(),
            "cannot resolve a work order that is submitted; possible steps: assign, reject"
        );
        let terminal = next_status(Closed, Step::Assign, Party::Supervisor).unwrap_err();
        assert_eq!(
            terminal.to_string(),
            "cannot assign a work order that is closed; it is final and takes no further steps"
        );
        let wrong = next_status(Resolved, Step::Rate { score: 90 }, Party::Assignee).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "the assignee cannot rate a work order; only the reporter can"
        );
    }

    #[test]
    fn on_the_spot_orders_start_resolved() {
        assert_eq!(initial_status(true), Resolved);
        assert_eq!(initial_status(false), Submitted);
        assert!(!is_open(initial_status(true)));
        assert!(is_open(initial_status(false)));
    }

    #[test]
    fn open_statuses() {
        let open: Vec<_> = STATUSES.into_iter().filter(|s| is_open(*s)).collect();
        assert_eq!(open, vec![Submitted, Assigned, InProgress, Reopened]);
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn overdue_rules() {
        let due = at("2026-11-21T18:00:00Z");
        let before = at("2026-11-21T17:59:59Z");
        let after = at("2026-11-21T18:00:01Z");
        for s in [Submitted, Assigned, InProgress, Reopened] {
            assert!(is_overdue(s, Some(due), after), "{s:?}");
            assert!(!is_overdue(s, Some(due), due), "{s:?} exactly at due");
            assert!(!is_overdue(s, Some(due), before), "{s:?}");
            assert!(!is_overdue(s, None, after), "{s:?} without due time");
        }
        for s in [Resolved, Closed, Rejected] {
            assert!(!is_overdue(s, Some(due), after), "{s:?}");
            assert!(!is_overdue(s, None, after), "{s:?}");
        }
    }

    #[test]
    fn auto_close_at_exactly_seven_days() {
        let resolved = at("2026-11-21T10:00:00Z");
        let seven = resolved + Duration::days(7);
        assert!(!should_auto_close(
            Resolved,
            Some(resolved),
            seven - Duration::seconds(1)
        ));
        assert!(should_auto_close(Resolved, Some(resolved), seven));
        assert!(should_auto_close(
            Resolved,
            Some(resolved),
            seven + Duration::days(30)
        ));
        assert!(!should_auto_close(Resolved, None, seven));
        for s in [Submitted, Assigned, InProgress, Closed, Rejected, Reopened] {
            assert!(!should_auto_close(s, Some(resolved), seven), "{s:?}");
        }
        // A resolution time in the future (clock skew) never closes.
        assert!(!should_auto_close(Resolved, Some(seven), resolved));
    }

    #[test]
    fn auto_close_never_panics_at_calendar_ends() {
        let resolved = DateTime::<Utc>::MAX_UTC;
        assert!(!should_auto_close(
            Resolved,
            Some(resolved),
            DateTime::<Utc>::MIN_UTC
        ));
        assert!(should_auto_close(
            Resolved,
            Some(DateTime::<Utc>::MIN_UTC),
            resolved
        ));
    }

    #[test]
    fn order_codes() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert_eq!(order_code(d, 7), "MQ-20261121-0007");
        assert_eq!(order_code(d, 1), "MQ-20261121-0001");
        assert_eq!(order_code(d, 9999), "MQ-20261121-9999");
        assert_eq!(order_code(d, 12345), "MQ-20261121-12345");
        let jan = NaiveDate::from_ymd_opt(2027, 1, 2).unwrap();
        assert_eq!(order_code(jan, 42), "MQ-20270102-0042");
    }

    #[test]
    fn score_bounds() {
        assert_eq!(parse_score(0), Ok(0));
        assert_eq!(parse_score(59), Ok(59));
        assert_eq!(parse_score(100), Ok(100));
        for bad in [-1, 101, 255, 256, i64::MIN, i64::MAX] {
            let err = parse_score(bad).unwrap_err();
            assert_eq!(err.field, "score", "{bad}");
        }
    }

    fn any_status() -> impl Strategy<Value = WorkOrderStatus> {
        proptest::sample::select(STATUSES.to_vec())
    }

    fn any_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Assign),
            Just(Step::Accept),
            Just(Step::Progress),
            Just(Step::Resolve),
            any::<u8>().prop_map(|score| Step::Rate { score }),
            Just(Step::Reject),
            Just(Step::AutoClose),
        ]
    }

    /// A step and who tries it: the right party about half the time, so walks get far.
    fn any_attempt() -> impl Strategy<Value = (Step, Party)> {
        (
            any_step(),
            any::<bool>(),
            proptest::sample::select(PARTIES.to_vec()),
        )
            .prop_map(|(step, right, party)| (step, if right { step.party() } else { party }))
    }

    proptest! {
        #[test]
        fn walks_never_leave_a_terminal_state(attempts in proptest::collection::vec(any_attempt(), 0..60)) {
            let mut status = initial_status(false);
            let mut ended = false;
            for (step, party) in attempts {
                match next_status(status, step, party) {
                    Ok(next) => {
                        prop_assert!(!ended, "{status:?} left by {step:?}");
                        prop_assert_eq!(Some(next), legal(status, step, party));
                        status = next;
                    }
                    Err(_) => prop_assert!(legal(status, step, party).is_none()),
                }
                ended |= is_terminal(status);
                prop_assert_eq!(ended, is_terminal(status));
            }
        }

        #[test]
        fn next_status_matches_the_table(from in any_status(), step in any_step(), party in proptest::sample::select(PARTIES.to_vec())) {
            let got = next_status(from, step, party);
            match legal(from, step, party) {
                Some(to) => prop_assert_eq!(got, Ok(to)),
                None => prop_assert!(got.is_err()),
            }
        }

        #[test]
        fn scores_in_range_parse_and_others_do_not(raw in any::<i64>()) {
            prop_assert_eq!(parse_score(raw).is_ok(), (0..=100).contains(&raw));
        }
    }
}
