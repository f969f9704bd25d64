//! The rules of Minqing as pure functions over plain types: no database, no HTTP, no clock.
//! Callers pass `now` in; everything here is unit- and property-tested.

pub mod access;
pub mod boundary;
pub mod category;
pub mod checkin;
pub mod compliance;
pub mod coords;
pub mod intake;
pub mod org;
pub mod people;
pub mod throttle;
pub mod webhook;
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
