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
use crate::http::State;

/// Checks a phone and password for any sign-in (the API's and the pages'): the attempt is
/// counted per phone and address, per phone and per address before the password is checked
/// (429 once a limit is used up), the check waits for a hashing slot (429 when none frees up
/// in time; such an attempt is uncounted, as it guessed nothing), and a wrong phone, a wrong
/// password and a disabled account all look the same: whoever tries cannot learn which phone
/// numbers have accounts, enabled or not.
pub async fn sign_in(
    state: &State,
    phone: &str,
    password: String,
    client_ip: &str,
    now: DateTime<Utc>,
) -> ApiResult<UserRow> {
    let phone = Phone::parse(phone)?.as_str().to_string();
    let (app, ip) = (state.clone(), client_ip.to_string());
    let (counting, lookup, at) = (state.clone(), phone.clone(), ip.clone());
    let found = state
        .db
        .run(move |conn| {
            counting.limiters.count_login(conn, &lookup, &at, now)?;
            Ok(users::find_by_phone(conn, &lookup))
        })
        .await?;
    let checked = match found {
        Ok(user) => {
            let stored = user.as_ref().map(|u| u.password_hash.clone());
            let verified = state.limiters.passwords.verify(password, stored).await;
            verified.map(|matches| (user, matches))
        }
        Err(e) => Err(e),
    };
    let (user, matches) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            state
                .db
                .run(move |conn| app.limiters.login_not_checked(conn, &phone, &ip, now))
                .await?;
            return Err(e);
        }
    };
    // A disabled account counts as a failure too, so its limits behave like a wrong password's.
    let Some(user) = user.filter(|u| matches && u.active) else {
        return Err(ApiError::Unauthenticated(
            "wrong phone number or password".into(),
        ));
    };
    state
        .db
        .run(move |conn| app.limiters.login_succeeded(conn, &phone, &ip, now))
        .await?;
    Ok(user)
}
