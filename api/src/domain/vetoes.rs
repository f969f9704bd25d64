//! 一票否决 as a four-eyes process (issue 11): the areas are data (the admin's list, seeded
//! with the four of the source material), a veto counts only once a second supervisor
//! approved it, and it is withdrawn by a request and another supervisor's approval.

use minqing_protocol::VetoStatus;

use super::Invalid;

/// The areas the migration seeds (`veto_areas`), as the label table names them; the labels
/// endpoint, which reads no database, shows these.
pub const SEEDED_AREAS: [(&str, &str); 4] = [
    ("family_planning", "计划生育"),
    ("public_security", "社会治安"),
    ("work_safety", "安全生产"),
    ("integrity", "党风廉政"),
];

/// An area code as the contract states it (`^[a-z][a-z0-9_]{1,39}$`).
pub const AREA_CODE_PATTERN: &str = "^[a-z][a-z0-9_]{1,39}$";
pub const MAX_AREA_NAME_CHARS: usize = 50;
pub const MAX_REASON_CHARS: usize = 2000;

/// An area code: 2–40 lower-case letters, digits and `_`, starting with a letter. Taken as
/// sent (no trimming), so that the code stored is the code asked for; `field` names it in
/// the refusal (`code` of a new area, `area` of a veto).
pub fn parse_area_code(field: &str, raw: &str) -> Result<String, Invalid> {
    let mut chars = raw.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && (2..=40).contains(&raw.len()) {
        Ok(raw.to_string())
    } else {
        Err(Invalid::new(
            field,
            "must be 2 to 40 lower-case letters, digits or '_', starting with a letter",
        ))
    }
}

/// An area's name, trimmed: 1–50 characters (as a category's name).
pub fn parse_area_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 {
        Err(Invalid::new("name", "must not be empty"))
    } else if count > MAX_AREA_NAME_CHARS {
        Err(Invalid::new(
            "name",
            format!("must be at most {MAX_AREA_NAME_CHARS} characters"),
        ))
    } else {
        Ok(name.to_string())
    }
}

/// What the stored signatures of a veto say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signatures {
    pub approved: bool,
    pub withdrawal_requested: bool,
    pub withdrawn: bool,
}

/// Where a veto stands, from its signatures.
pub fn status(s: Signatures) -> VetoStatus {
    if s.withdrawn {
        VetoStatus::Withdrawn
    } else if s.withdrawal_requested {
        VetoStatus::WithdrawalRequested
    } else if s.approved {
        VetoStatus::Approved
    } else {
        VetoStatus::Pending
    }
}

/// Whether a veto in this state bars the grade `excellent`: from its approval until its
/// withdrawal is approved.
pub fn counts(status: VetoStatus) -> bool {
    matches!(
        status,
        VetoStatus::Approved | VetoStatus::WithdrawalRequested
    )
}

/// Why a step of a veto's process is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VetoRefusal {
    /// The period's scores are frozen (409).
    PeriodClosed,
    /// The veto is not in the state this step starts from (409), e.g. approved already.
    Wrong(VetoStatus),
    /// Four eyes: the second signature is someone else's (403).
    SameSupervisor,
}

/// Whether `approver` may approve a proposed veto: once, by someone other than who proposed
/// it, while the period is open (the checks run in the order `check_adjustment_approval`
/// runs them).
pub fn check_approval(
    current: VetoStatus,
    proposed_by: &str,
    approver: &str,
    period_closed: bool,
) -> Result<(), VetoRefusal> {
    second_signature(
        VetoStatus::Pending,
        current,
        Some(proposed_by),
        approver,
        period_closed,
    )
}

/// The four-eyes rule of each signed step: the period open, the veto waiting for this step,
/// and the second signature not the first signer's.
fn second_signature(
    awaiting: VetoStatus,
    current: VetoStatus,
    first_signer: Option<&str>,
    approver: &str,
    period_closed: bool,
) -> Result<(), VetoRefusal> {
    if period_closed {
        Err(VetoRefusal::PeriodClosed)
    } else if current != awaiting {
        Err(VetoRefusal::Wrong(current))
    } else if first_signer == Some(approver) {
        Err(VetoRefusal::SameSupervisor)
    } else {
        Ok(())
    }
}

/// Whether a withdrawal may be asked for: of an approved veto, once, while the period is open.
pub fn check_withdrawal_request(
    current: VetoStatus,
    period_closed: bool,
) -> Result<(), VetoRefusal> {
    if period_closed {
        Err(VetoRefusal::PeriodClosed)
    } else if current != VetoStatus::Approved {
        Err(VetoRefusal::Wrong(current))
    } else {
        Ok(())
    }
}

/// Whether `approver` may approve a requested withdrawal: by someone other than who asked for
/// it, once, while the period is open.
pub fn check_withdrawal_approval(
    current: VetoStatus,
    requested_by: Option<&str>,
    approver: &str,
    period_closed: bool,
) -> Result<(), VetoRefusal> {
    second_signature(
        VetoStatus::WithdrawalRequested,
        current,
        requested_by,
        approver,
        period_closed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn sig(approved: bool, withdrawal_requested: bool, withdrawn: bool) -> Signatures {
        Signatures {
            approved,
            withdrawal_requested,
            withdrawn,
        }
    }

    #[test]
    fn a_veto_counts_from_its_approval_until_its_withdrawal() {
        let steps = [
            (sig(false, false, false), VetoStatus::Pending, false),
            (sig(true, false, false), VetoStatus::Approved, true),
            (
                sig(true, true, false),
                VetoStatus::WithdrawalRequested,
                true,
            ),
            (sig(true, true, true), VetoStatus::Withdrawn, false),
        ];
        for (signatures, expected, counted) in steps {
            assert_eq!(status(signatures), expected);
            assert_eq!(counts(expected), counted, "{expected:?}");
        }
    }

    #[test]
    fn four_eyes_once_while_the_period_is_open() {
        use VetoStatus::*;
        assert_eq!(check_approval(Pending, "a", "b", false), Ok(()));
        assert_eq!(
            check_approval(Pending, "a", "a", false),
            Err(VetoRefusal::SameSupervisor)
        );
        assert_eq!(
            check_approval(Approved, "a", "a", false),
            Err(VetoRefusal::Wrong(Approved)),
            "approved already, whoever asks"
        );
        assert_eq!(
            check_approval(Pending, "a", "b", true),
            Err(VetoRefusal::PeriodClosed)
        );
        assert_eq!(check_withdrawal_request(Approved, false), Ok(()));
        for state in [Pending, WithdrawalRequested, Withdrawn] {
            assert_eq!(
                check_withdrawal_request(state, false),
                Err(VetoRefusal::Wrong(state))
            );
        }
        assert_eq!(
            check_withdrawal_request(Approved, true),
            Err(VetoRefusal::PeriodClosed)
        );
        assert_eq!(
            check_withdrawal_approval(WithdrawalRequested, Some("a"), "b", false),
            Ok(())
        );
        assert_eq!(
            check_withdrawal_approval(WithdrawalRequested, Some("a"), "a", false),
            Err(VetoRefusal::SameSupervisor)
        );
        assert_eq!(
            check_withdrawal_approval(Withdrawn, Some("a"), "b", false),
            Err(VetoRefusal::Wrong(Withdrawn))
        );
        assert_eq!(
            check_withdrawal_approval(Approved, None, "b", false),
            Err(VetoRefusal::Wrong(Approved))
        );
        assert_eq!(
            check_withdrawal_approval(WithdrawalRequested, Some("a"), "b", true),
            Err(VetoRefusal::PeriodClosed)
        );
    }

    #[test]
    fn area_codes_and_names() {
        for code in ["work_safety", "ab", "x1", &format!("a{}", "b".repeat(39))] {
            assert_eq!(parse_area_code("code", code).as_deref(), Ok(code));
        }
        for code in [
            "",
            "a",
            "1ab",
            "_ab",
            "Work",
            "work-safety",
            " work",
            "信访",
            &format!("a{}", "b".repeat(40)),
        ] {
            assert!(parse_area_code("code", code).is_err(), "{code:?}");
        }
        assert_eq!(parse_area_name("  信访维稳 ").as_deref(), Ok("信访维稳"));
        assert_eq!(
            parse_area_name(&"治".repeat(50)).as_deref(),
            Ok("治".repeat(50).as_str())
        );
        for name in ["", "   ", &"治".repeat(51)] {
            assert_eq!(
                parse_area_name(name).map_err(|e| e.field),
                Err("name".into())
            );
        }
        // The seeded codes are codes.
        for (code, name) in SEEDED_AREAS {
            assert_eq!(parse_area_code("code", code).as_deref(), Ok(code));
            assert_eq!(parse_area_name(name).as_deref(), Ok(name));
        }
    }
}
