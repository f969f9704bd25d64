//! Authentication: argon2id passwords, short-lived HS256 access tokens, and opaque refresh
//! tokens that rotate on use (reuse of a spent one revokes its whole family).

pub mod actors;
pub mod limits;
pub mod password;
pub mod tokens;

pub use actors::ActorCache;
pub use limits::{AttemptLimiter, Limiters};
pub use tokens::{AccessClaims, TokenKeys};
