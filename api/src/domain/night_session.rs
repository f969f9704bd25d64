//! 夜学 and 夜议 as group sessions (DESIGN §2.1): what opening one takes, when its minutes
//! (纪要) are due, and where it stands.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use minqing_protocol::{CheckinKind, NewSession, SessionKind, SessionStatus, VillagersPresent};

use super::checkin::{night_date, CheckinRules};
use super::Invalid;

pub const MAX_TOPIC_CHARS: usize = 200;
pub const MAX_MINUTES_CHARS: usize = 5000;
pub const MAX_VILLAGER_NAMES: usize = 500;
pub const MAX_VILLAGER_COUNT: i32 = 10_000;
/// A session is opened for tonight or a night within a month either way (planned, or
/// recorded after the fact by an organiser whose phone was offline).
pub const MAX_DAYS_AWAY: i64 = 31;

/// A session request that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSession {
    pub kind: SessionKind,
    pub place_id: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub night_date: NaiveDate,
}

pub fn checkin_kind(kind: SessionKind) -> CheckinKind {
    match kind {
        SessionKind::NightStudy => CheckinKind::NightStudy,
        SessionKind::NightDiscussion => CheckinKind::NightDiscussion,
    }
}

pub fn parse_session(
    req: &NewSession,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> Result<ValidSession, Vec<Invalid>> {
    let mut errors = Vec::new();
    let topic = req.topic.trim();
    if topic.is_empty() || topic.chars().count() > MAX_TOPIC_CHARS {
        errors.push(Invalid::new(
            "topic",
            format!("give a topic of 1 to {MAX_TOPIC_CHARS} characters"),
        ));
    }
    if (req.starts_at - now).num_days().abs() > MAX_DAYS_AWAY {
        errors.push(Invalid::new(
            "starts_at",
            format!("must lie within {MAX_DAYS_AWAY} days of today"),
        ));
    }
    if req.place_id.trim().is_empty() {
        errors.push(Invalid::new("place_id", "name the place"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidSession {
        kind: req.kind,
        place_id: req.place_id.trim().to_string(),
        topic: topic.to_string(),
        starts_at: req.starts_at,
        night_date: night_date(checkin_kind(req.kind), req.starts_at, rules),
    })
}

/// Minutes as written: trimmed, 1 to 5,000 characters.
pub fn parse_minutes(raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > MAX_MINUTES_CHARS {
        return Err(Invalid::new(
            "minutes",
            format!("write the minutes in 1 to {MAX_MINUTES_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

/// The villagers present at a 夜议: names trimmed (empty ones dropped), at least as many in
/// the count as there are names.
pub fn parse_villagers(
    kind: SessionKind,
    present: &VillagersPresent,
) -> Result<VillagersPresent, Invalid> {
    let field = "villagers_present";
    if kind != SessionKind::NightDiscussion {
        return Err(Invalid::new(
            field,
            "only a 夜议 (night_discussion) is held with villagers",
        ));
    }
    let names: Vec<String> = present
        .names
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if names.len() > MAX_VILLAGER_NAMES || names.iter().any(|n| n.chars().count() > 50) {
        return Err(Invalid::new(
            format!("{field}.names"),
            format!("at most {MAX_VILLAGER_NAMES} names of up to 50 characters"),
        ));
    }
    if !(0..=MAX_VILLAGER_COUNT).contains(&present.count) || (present.count as usize) < names.len()
    {
        return Err(Invalid::new(
            format!("{field}.count"),
            "must be between the number of names given and 10000",
        ));
    }
    Ok(VillagersPresent {
        names,
        count: present.count,
    })
}

/// When the minutes of a session held on `night_date` are due: the end of the next local
/// day.
pub fn minutes_due_at(night_date: NaiveDate, rules: &CheckinRules) -> DateTime<Utc> {
    let day_after_next = night_date + Duration::days(2);
    rules
        .timezone
        .from_local_datetime(&day_after_next.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day_after_next.and_time(NaiveTime::MIN).and_utc())
}

pub fn status(
    has_minutes: bool,
    night_date: NaiveDate,
    now: DateTime<Utc>,
    rules: &CheckinRules,
) -> SessionStatus {
    if has_minutes {
        SessionStatus::Complete
    } else if now >= minutes_due_at(night_date, rules) {
        SessionStatus::Incomplete
    } else {
        SessionStatus::AwaitingMinutes
    }
}

/// The latest night date whose sessions are overdue for minutes at `now`.
pub fn last_overdue_night(now: DateTime<Utc>, rules: &CheckinRules) -> NaiveDate {
    let today = now.with_timezone(&rules.timezone).date_naive();
    today - Duration::days(2)
}

/// Why an attendee's check-in does not fit the session, if it does not.
pub fn attendance_mismatch(
    session_kind: SessionKind,
    session_night: NaiveDate,
    checkin_kind_sent: CheckinKind,
    checkin_night: NaiveDate,
) -> Option<Invalid> {
    if checkin_kind(session_kind) != checkin_kind_sent {
        return Some(Invalid::new(
            "kind",
            "must be the session's kind (night_study or night_discussion)",
        ));
    }
    (checkin_night != session_night).then(|| {
        Invalid::new(
            "session_id",
            format!(
                "that session was held on the night of {}",
                session_night.format("%Y-%m-%d")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn request(topic: &str, starts_at: &str) -> NewSession {
        NewSession {
            kind: SessionKind::NightStudy,
            place_id: "town-1".into(),
            topic: topic.into(),
            starts_at: at(starts_at),
        }
    }

    #[test]
    fn a_session_counts_for_its_night_and_trims_its_topic() {
        let rules = CheckinRules::default();
        let now = at("2026-12-03T10:00:00Z");
        // 19:30 in Shanghai on 3 December.
        let s = parse_session(
            &request("  学习党的二十届四中全会精神 ", "2026-12-03T11:30:00Z"),
            now,
            &rules,
        )
        .unwrap();
        assert_eq!(s.topic, "学习党的二十届四中全会精神");
        assert_eq!(s.night_date, NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        // 00:30 on 4 December still belongs to the night of the 3rd.
        let late = parse_session(&request("夜学", "2026-12-03T16:30:00Z"), now, &rules).unwrap();
        assert_eq!(
            late.night_date,
            NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
        );
    }

    #[test]
    fn empty_topics_and_far_dates_are_refused() {
        let rules = CheckinRules::default();
        let now = at("2026-12-03T10:00:00Z");
        let errors =
            parse_session(&request("  ", "2027-03-01T11:00:00Z"), now, &rules).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["topic", "starts_at"]);
    }

    #[test]
    fn minutes_are_due_by_the_end_of_the_next_local_day() {
        let rules = CheckinRules::default();
        let night = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        // Midnight starting 5 December in Shanghai is 16:00 UTC on the 4th.
        assert_eq!(minutes_due_at(night, &rules), at("2026-12-04T16:00:00Z"));
        let before = at("2026-12-04T15:59:59Z");
        let after = at("2026-12-04T16:00:00Z");
        assert_eq!(
            status(false, night, before, &rules),
            SessionStatus::AwaitingMinutes
        );
        assert_eq!(
            status(false, night, after, &rules),
            SessionStatus::Incomplete
        );
        assert_eq!(status(true, night, after, &rules), SessionStatus::Complete);
        assert_eq!(last_overdue_night(after, &rules), night);
        assert!(last_overdue_night(before, &rules) < night);
    }

    #[test]
    fn villagers_belong_to_a_discussion_and_are_counted_at_least_by_name() {
        let present = VillagersPresent {
            names: vec![" 张大伯 ".into(), "".into(), "李阿姨".into()],
            count: 12,
        };
        let parsed = parse_villagers(SessionKind::NightDiscussion, &present).unwrap();
        assert_eq!(parsed.names, ["张大伯", "李阿姨"]);
        assert!(parse_villagers(SessionKind::NightStudy, &present).is_err());
        let too_few = VillagersPresent {
            names: vec!["张大伯".into(), "李阿姨".into()],
            count: 1,
        };
        assert_eq!(
            parse_villagers(SessionKind::NightDiscussion, &too_few)
                .unwrap_err()
                .field,
            "villagers_present.count"
        );
    }

    #[test]
    fn attendance_must_match_the_sessions_kind_and_night() {
        let night = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert!(attendance_mismatch(
            SessionKind::NightStudy,
            night,
            CheckinKind::NightStudy,
            night
        )
        .is_none());
        assert_eq!(
            attendance_mismatch(
                SessionKind::NightStudy,
                night,
                CheckinKind::NightDiscussion,
                night
            )
            .unwrap()
            .field,
            "kind"
        );
        assert_eq!(
            attendance_mismatch(
                SessionKind::NightStudy,
                night,
                CheckinKind::NightStudy,
                night.succ_opt().unwrap()
            )
            .unwrap()
            .field,
            "session_id"
        );
    }
}
