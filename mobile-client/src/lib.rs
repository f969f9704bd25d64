//! The phone client core of Minqing: API client, offline outbox, photo compression, sync.
//!
//! Only the shared wire types exist so far (re-exported here); the client itself is built
//! with the check-in work, which it needs to sync. [`app`] is the cadre's phone app (a PWA
//! in `app/`), embedded for the server to serve at `/app/`.

pub use minqing_protocol as protocol;

pub mod app;
