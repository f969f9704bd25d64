//! Sign-in for the server-rendered pages: an HttpOnly cookie holding a random session
//! secret, stored hashed beside the API's refresh tokens (its own family), so signing out,
//! expiry and revocation work the same way for both.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use chrono::{DateTime, Duration, Utc};

use crate::auth::tokens::{hash_refresh_token, random_secret};
use crate::db::models::{RefreshTokenRow, UserRow};
use crate::db::{new_id, tokens, users};
use crate::domain::access::Actor;
use crate::error::{ApiError, ApiResult};
use crate::http::AppState;

pub const COOKIE: &str = "mq_session";

/// Starts a session for `user` and returns the cookie that carries it; 401 when `user` was
/// reset, disabled or given another role since it was read (see `users::session_epoch`).
pub async fn start(
    state: &AppState,
    user: &UserRow,
    secure: bool,
    now: DateTime<Utc>,
) -> ApiResult<Cookie<'static>> {
    let secret = random_secret();
    let days = state.config.refresh_ttl_days;
    let user = user.clone();
    let row = RefreshTokenRow {
        id: new_id(),
        user_id: user.id.clone(),
        family_id: new_id(),
        token_hash: hash_refresh_token(&secret),
        expires_at: (now + Duration::days(days)).naive_utc(),
        used_at: None,
        revoked_at: None,
        created_at: now.naive_utc(),
    };
    state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                users::session_epoch(conn, &user)?.ok_or_else(|| {
                    ApiError::Unauthenticated(
                        "the account changed while signing in; sign in again".into(),
                    )
                })?;
                tokens::insert(conn, &row)
            })
        })
        .await?;
    Ok(Cookie::build(COOKIE, secret)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(days))
        .finish())
}

/// The signed-in user of a page request, if the cookie holds a live session of an active user.
pub async fn current(state: &AppState, req: &HttpRequest) -> ApiResult<Option<(UserRow, Actor)>> {
    let Some(cookie) = req.cookie(COOKIE) else {
        return Ok(None);
    };
    let hash = hash_refresh_token(cookie.value());
    let now = Utc::now().naive_utc();
    state
        .db
        .run(move |conn| {
            let Some(session) = tokens::find_by_hash(conn, &hash)? else {
                return Ok(None);
            };
            if session.revoked_at.is_some()
                || session.used_at.is_some()
                || session.expires_at <= now
            {
                return Ok(None);
            }
            let Some((user, org_path)) = users::find_with_path(conn, &session.user_id)? else {
                return Ok(None);
            };
            if !user.active {
                return Ok(None);
            }
            let actor = Actor {
                role: user.role()?,
                user_id: user.id.clone(),
                org_unit_id: user.org_unit_id.clone(),
                org_path,
            };
            Ok(Some((user, actor)))
        })
        .await
}

/// Ends the request's session (if any) and returns a cookie that removes it from the browser.
pub async fn end(state: &AppState, req: &HttpRequest) -> ApiResult<Cookie<'static>> {
    if let Some(cookie) = req.cookie(COOKIE) {
        let hash = hash_refresh_token(cookie.value());
        let now = Utc::now().naive_utc();
        state
            .db
            .run(move |conn| {
                if let Some(session) = tokens::find_by_hash(conn, &hash)? {
                    tokens::revoke_family(conn, &session.family_id, now)?;
                }
                Ok(())
            })
            .await?;
    }
    let mut gone = Cookie::build(COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(gone)
}

/// Cookies are marked Secure when the page was reached over HTTPS (directly or via a proxy).
pub fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}
