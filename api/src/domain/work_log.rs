//! The 工作日志 (DESIGN §2.1): a daily written record, one per cadre and day, written and
//! edited on its day only, read and commented (批阅) by the cadre's leaders.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::checkin::CheckinRules;
use super::Invalid;

pub const MIN_CONTENT_CHARS: usize = 20;
pub const MAX_CONTENT_CHARS: usize = 5000;
pub const MAX_COMMENT_CHARS: usize = 1000;
pub const MAX_PHOTOS: usize = 9;

/// A log's text: trimmed, 20 to 5,000 characters not counting white space — twenty spaces
/// or a line of dots is not a day's work.
pub fn parse_content(raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    let written = text.chars().filter(|c| !c.is_whitespace()).count();
    if written < MIN_CONTENT_CHARS {
        return Err(Invalid::new(
            "content",
            format!("write at least {MIN_CONTENT_CHARS} characters about the day's work"),
        ));
    }
    if text.chars().count() > MAX_CONTENT_CHARS {
        return Err(Invalid::new(
            "content",
            format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    let distinct: std::collections::HashSet<char> =
        text.chars().filter(|c| !c.is_whitespace()).collect();
    if distinct.len() < 5 {
        return Err(Invalid::new(
            "content",
            "say what was done: the text repeats a few characters",
        ));
    }
    Ok(text.to_string())
}

pub fn parse_comment(raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > MAX_COMMENT_CHARS {
        return Err(Invalid::new(
            "text",
            format!("write a comment of 1 to {MAX_COMMENT_CHARS} characters"),
        ));
    }
    Ok(text.to_string())
}

/// Whether the log of `date` may be written or changed at `now`: on its own local day, and
/// through the night that follows until the night window ends (06:00), as night work
/// after midnight belongs to the day before.
pub fn writable(date: NaiveDate, now: DateTime<Utc>, rules: &CheckinRules) -> bool {
    let local = now.with_timezone(&rules.timezone);
    let today = local.date_naive();
    date == today || (date == today - Duration::days(1) && local.time() < rules.night_end)
}

/// A month asked for as `YYYY-MM`: its first and last day.
pub fn parse_month(raw: &str) -> Result<(NaiveDate, NaiveDate), Invalid> {
    let invalid = || Invalid::new("month", "give a month as YYYY-MM between 2000 and 2100");
    let (y, m) = raw.split_once('-').ok_or_else(invalid)?;
    let (year, month) = (
        y.parse::<i32>().map_err(|_| invalid())?,
        m.parse::<u32>().map_err(|_| invalid())?,
    );
    if y.len() != 4 || m.len() != 2 || !(2000..=2100).contains(&year) {
        return Err(invalid());
    }
    let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(invalid)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .ok_or_else(invalid)?;
    Ok((first, next - Duration::days(1)))
}

/// The days of a month a log could have been written for by `today`: the whole month once
/// it is over, up to today while it runs, none before it starts.
pub fn days_due(first: NaiveDate, last: NaiveDate, today: NaiveDate) -> Vec<NaiveDate> {
    let end = last.min(today);
    first
        .iter_days()
        .take_while(|d| *d <= end)
        .filter(|d| d.month() == first.month())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn content_needs_twenty_written_characters() {
        assert!(parse_content("今天走访了三户村民，了解了灌溉用水问题并登记工单。").is_ok());
        assert_eq!(parse_content("今天开会。").unwrap_err().field, "content");
        assert!(parse_content(&" ".repeat(40)).is_err());
        assert!(parse_content(&"。".repeat(30)).is_err());
        assert!(parse_content(&"好".repeat(5001)).is_err());
        // Twenty characters spread over lines with spaces between still count as twenty.
        assert!(parse_content("上午 到村委会 开会，\n下午 走访 困难户 两户 并登记").is_ok());
    }

    #[test]
    fn a_log_is_written_on_its_day_and_the_night_after() {
        let rules = CheckinRules::default();
        let day = date(2026, 12, 3);
        // 09:00, 23:59 on the 3rd; 05:59 and 06:00 on the 4th (Shanghai).
        assert!(writable(day, at("2026-12-03T01:00:00Z"), &rules));
        assert!(writable(day, at("2026-12-03T15:59:00Z"), &rules));
        assert!(writable(day, at("2026-12-03T21:59:00Z"), &rules));
        assert!(!writable(day, at("2026-12-03T22:00:00Z"), &rules));
        // Not ahead of time either.
        assert!(!writable(
            date(2026, 12, 4),
            at("2026-12-03T10:00:00Z"),
            &rules
        ));
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(
            parse_month("2026-02").unwrap(),
            (date(2026, 2, 1), date(2026, 2, 28))
        );
        assert_eq!(
            parse_month("2026-12").unwrap(),
            (date(2026, 12, 1), date(2026, 12, 31))
        );
        for bad in ["2026-13", "2026-1", "26-01", "1999-12", "2026/01", ""] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days_due_stop_at_today() {
        let (first, last) = parse_month("2026-12").unwrap();
        assert_eq!(days_due(first, last, date(2026, 12, 3)).len(), 3);
        assert_eq!(days_due(first, last, date(2027, 1, 5)).len(), 31);
        assert!(days_due(first, last, date(2026, 11, 30)).is_empty());
    }

    proptest! {
        #[test]
        fn comments_are_trimmed_and_bounded(text in ".{0,1200}") {
            match parse_comment(&text) {
                Ok(c) => {
                    prop_assert_eq!(c.trim(), c.as_str());
                    prop_assert!(!c.is_empty() && c.chars().count() <= MAX_COMMENT_CHARS);
                }
                Err(e) => prop_assert_eq!(e.field, "text"),
            }
        }
    }
}
