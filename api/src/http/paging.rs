//! Keyset pagination: the cursor is the opaque encoding of the last row's id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use minqing_protocol::Page;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: i64,
    pub after: Option<String>,
}

impl Paging {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        // An empty cursor (`?cursor=`, as a form sends a blank field) is the first page.
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| {
                        ApiError::invalid("cursor", "is not a cursor this server gave out")
                    })
            })
            .transpose()?;
        Ok(Paging { limit, after })
    }

    /// The position after which a time-ordered list continues: the last row's time and id,
    /// as written by [`time_key`].
    pub fn after_time(&self) -> ApiResult<Option<(chrono::NaiveDateTime, String)>> {
        self.after
            .as_deref()
            .map(|text| {
                text.split_once('|')
                    .and_then(|(micros, id)| {
                        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
                        Some((at.naive_utc(), id.to_string()))
                    })
                    .ok_or_else(|| {
                        ApiError::invalid("cursor", "is not a cursor this server gave out")
                    })
            })
            .transpose()
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// The cursor key of a row in a time-ordered list (see [`Paging::after_time`]).
pub fn time_key(at: chrono::DateTime<chrono::Utc>, id: &str) -> String {
    format!("{}|{id}", at.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_cursors() {
        let paging = Paging::parse(Some(2), None).unwrap();
        let page = paging.page(vec!["a".to_string(), "b".into(), "c".into()], |s| s.clone());
        assert_eq!(page.items, vec!["a", "b"]);
        let cursor = page.next_cursor.unwrap();
        let next = Paging::parse(Some(2), Some(&cursor)).unwrap();
        assert_eq!(next.after.as_deref(), Some("b"));
        let last = next.page(vec!["c".to_string()], |s| s.clone());
        assert!(last.next_cursor.is_none());
        assert!(Paging::parse(Some(0), None).is_err());
        assert!(Paging::parse(Some(501), None).is_err());
        assert!(Paging::parse(None, Some("!!")).is_err());
        assert_eq!(Paging::parse(None, None).unwrap().limit, 50);
        assert!(Paging::parse(None, Some("")).unwrap().after.is_none());
    }

    #[test]
    fn time_cursors_round_trip() {
        let at = chrono::DateTime::from_timestamp_micros(1_763_700_000_123_456).unwrap();
        let cursor = URL_SAFE_NO_PAD.encode(time_key(at, "id-1"));
        let paging = Paging::parse(None, Some(&cursor)).unwrap();
        assert_eq!(
            paging.after_time().unwrap(),
            Some((at.naive_utc(), "id-1".into()))
        );
        let bad = Paging::parse(None, Some(&URL_SAFE_NO_PAD.encode("nonsense"))).unwrap();
        assert!(bad.after_time().is_err());
    }
}
