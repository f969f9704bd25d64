//! Authentication: argon2id passwords, short-lived HS256 access tokens, and opaque refresh
//! tokens that rotate on use (reuse of a spent one revokes its whole family).

pub mod actors;
pub mod limits;
pub mod password;
pub mod tokens;

pub use actors::ActorCache;
pub use limits::{AttemptLimiter, Limiters};
pub use tokens::{AccessClaims, TokenKeys};

use chrono::{DateTime, Utc};

use crate::db::models::UserRow;
use crate::db::users;
use crate::domain::people::Phone;
use crate::error::{ApiError, ApiResult};
use crate::http::AppState;

/// Checks a phone and password for any sign-in (the API's and the pages'): failures are
/// limited per phone and per address (429), a wrong phone and a wrong password look the same,
/// and a disabled account is refused after the password matched.
pub async fn sign_in(
    state: &AppState,
    phone: &str,
    password: String,
    client_ip: &str,
    now: DateTime<Utc>,
) -> ApiResult<UserRow> {
    let phone = Phone::parse(phone)?;
    state.limiters.login_phone.check(phone.as_str(), now)?;
    state.limiters.login_ip.check(client_ip, now)?;
    let lookup = phone.as_str().to_string();
    let user = state
        .db
        .run(move |conn| users::find_by_phone(conn, &lookup))
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches =
        actix_web::web::block(move || password::verify_password(&password, stored.as_deref()))
            .await?;
    let user = match user {
        Some(user) if matches => user,
        _ => {
            state.limiters.login_phone.record(phone.as_str(), now);
            state.limiters.login_ip.record(client_ip, now);
            return Err(ApiError::Unauthenticated(
                "wrong phone number or password".into(),
            ));
        }
    };
    if !user.active {
        return Err(ApiError::Forbidden("this account is disabled".into()));
    }
    state.limiters.login_phone.forget(phone.as_str());
    Ok(user)
}
