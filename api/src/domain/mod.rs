//! The rules of Minqing as pure functions over plain types: no database, no HTTP, no clock.
//! Callers pass `now` in; everything here is unit- and property-tested.

pub mod access;
pub mod boundary;
pub mod category;
pub mod chart;
pub mod checkin;
pub mod compliance;
pub mod coords;
pub mod intake;
pub mod labels;
pub mod map;
pub mod night_session;
pub mod org;
pub mod people;
pub mod photo_hash;
pub mod scoring;
pub mod throttle;
pub mod vetoes;
pub mod webhook;
pub mod work_log;
pub mod work_order;
pub mod workdays;

/// A rule that an input broke, named by the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Whether `id` has the shape of a UUID (`8-4-4-4-12` hex digits), as phones make them for
/// records they may send more than once.
pub fn is_client_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::is_client_uuid;

    #[test]
    fn client_uuids() {
        assert!(is_client_uuid("0192f5a4-3b1c-7d2e-8f90-123456789ABC"));
        assert!(!is_client_uuid("0192f5a4-3b1c-7d2e-8f90-123456789ab"));
        assert!(!is_client_uuid("0192f5a4x3b1c-7d2e-8f90-123456789abc"));
        assert!(!is_client_uuid("不是-uuid"));
    }
}
