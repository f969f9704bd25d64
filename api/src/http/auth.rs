//! Sign-in, token rotation, sign-out and villager self-registration.

use actix_web::{post, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use minqing_protocol::{
    LoginRequest, OrgUnitKind, Problem, RefreshRequest, RegisterRequest, RegistrationReceived,
    Role, TokenResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{client_ip, Authenticated, JsonBody};
use super::{AppState, State};
use crate::auth::sign_in;
use crate::auth::tokens::{hash_refresh_token, random_secret};
use crate::db::models::{enum_text, RefreshTokenRow, UserRow};
use crate::db::{new_id, org, tokens, users, DbConn};
use crate::domain::people::{check_password, parse_person_name, Phone};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(register);
}

/// Issues an access token and a new refresh token (in `family`, or a new family for a new
/// sign-in), in the caller's write transaction; 401 when `user` was reset, disabled or
/// given another role since it was read.
fn issue_session(
    conn: &mut DbConn,
    state: &AppState,
    user: &UserRow,
    family: Option<String>,
    now: DateTime<Utc>,
) -> ApiResult<TokenResponse> {
    let epoch = users::session_epoch(conn, user)?.ok_or_else(|| {
        ApiError::Unauthenticated("the account changed while signing in; sign in again".into())
    })?;
    let refresh_token = random_secret();
    tokens::insert(
        conn,
        &RefreshTokenRow {
            id: new_id(),
            user_id: user.id.clone(),
            family_id: family.unwrap_or_else(new_id),
            token_hash: hash_refresh_token(&refresh_token),
            expires_at: (now + Duration::days(state.config.refresh_ttl_days)).naive_utc(),
            used_at: None,
            revoked_at: None,
            created_at: now.naive_utc(),
        },
    )?;
    let villages = users::village_ids_of(conn, std::slice::from_ref(&user.id))?
        .remove(&user.id)
        .unwrap_or_default();
    Ok(TokenResponse {
        access_token: state.keys.issue(&user.id, &user.role, epoch, now)?,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: state.keys.access_ttl_secs,
        user: user.to_wire(villages)?,
    })
}

/// Signs in with phone and password. Failures are limited per phone and address, per phone
/// and per address (429); so is waiting for a password-hashing slot (429 after 2 s).
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = Problem), (status = 422, body = Problem),
    (status = 429, body = Problem, description = "too many failures, or hashing busy; see Retry-After")))]
#[post("/auth/login")]
async fn login(
    state: State,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { phone, password } = body.0;
    let now = Utc::now();
    let user = sign_in(&state, &phone, password, &client_ip(&req), now).await?;
    let app = state.clone();
    let session = state
        .db
        .run(move |conn| conn.write(|conn| issue_session(conn, &app, &user, None, now)))
        .await?;
    Ok(HttpResponse::Ok().json(session))
}

/// Swaps a refresh token for a new pair. A token used twice revokes its whole family.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = Problem)))]
#[post("/auth/refresh")]
async fn refresh(state: State, body: JsonBody<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = hash_refresh_token(&body.0.refresh_token);
    let now = Utc::now();
    let app = state.clone();
    let outcome = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let Some(row) = tokens::find_by_hash(conn, &hash)? else {
                    return Ok(Err("the refresh token is not valid"));
                };
                if row.revoked_at.is_some() {
                    return Ok(Err("the refresh token has been revoked; sign in again"));
                }
                if row.used_at.is_some() || !tokens::spend(conn, &row.id, now.naive_utc())? {
                    // A spent token coming back means it leaked: end every session of that sign-in.
                    tokens::revoke_family(conn, &row.family_id, now.naive_utc())?;
                    return Ok(Err(
                        "the refresh token was already used; all its sessions are revoked",
                    ));
                }
                if row.expires_at <= now.naive_utc() {
                    return Ok(Err("the refresh token has expired; sign in again"));
                }
                match users::find_with_path(conn, &row.user_id)? {
                    Some((user, _)) if user.active => {
                        issue_session(conn, &app, &user, Some(row.family_id), now).map(Ok)
                    }
                    _ => Ok(Err("the account no longer exists or is disabled")),
                }
            })
        })
        .await?;
    match outcome {
        Ok(session) => Ok(HttpResponse::Ok().json(session)),
        Err(reason) => Err(ApiError::Unauthenticated(reason.into())),
    }
}

/// Signs out: revokes the refresh token's family. Answers 204 whether or not it was still valid.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, security(("bearer" = [])), responses(
    (status = 204), (status = 401, body = Problem)))]
#[post("/auth/logout")]
async fn logout(
    state: State,
    actor: Authenticated,
    body: JsonBody<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = hash_refresh_token(&body.0.refresh_token);
    let user_id = actor.0.user_id;
    state
        .db
        .run(move |conn| {
            if let Some(row) = tokens::find_by_hash(conn, &hash)? {
                if row.user_id == user_id {
                    tokens::revoke_family(conn, &row.family_id, Utc::now().naive_utc())?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A villager creates their own account in their village (rate-limited per IP). The answer
/// never tells whether the phone number already had an account: same status, same body, and
/// the password is hashed either way, so it takes as long.
#[utoipa::path(tag = "auth", request_body = RegisterRequest, responses(
    (status = 202, body = RegistrationReceived, description = "the registration was received. \
If the phone number had no account, the villager's account now exists and they sign in with \
`POST /auth/login`; if it already had one, nothing changed. The answer is the same in both \
cases, so it does not reveal which phone numbers have accounts: a villager who cannot sign in \
afterwards asks their village cadre."),
    (status = 422, body = Problem), (status = 429, body = Problem)))]
#[post("/auth/register")]
async fn register(
    state: State,
    req: HttpRequest,
    body: JsonBody<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let now = Utc::now();
    let ip = client_ip(&req);
    let (app, counted_ip) = (state.clone(), ip.clone());
    state
        .db
        .run(move |conn| app.limiters.register_ip.take(conn, &counted_ip, now))
        .await?;

    let input = body.0;
    let mut errors = Vec::new();
    let phone = Phone::parse(&input.phone).map_err(|e| errors.push(e)).ok();
    let name = parse_person_name(&input.name)
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(e) = check_password(&input.password, phone.as_ref().map(Phone::as_str)) {
        errors.push(e);
    }
    let (Some(phone), Some(name), true) = (phone, name, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let village_id = input.village_id;
    let village = state
        .db
        .run(move |conn| {
            org::find(conn, &village_id)?
                .filter(|v| v.kind == enum_text(&OrgUnitKind::Village))
                .ok_or_else(|| ApiError::invalid("village_id", "no village with that id"))
        })
        .await?;
    let password_hash = state.limiters.passwords.hash(input.password).await?;
    let user = UserRow {
        id: new_id(),
        phone: phone.into_string(),
        name,
        password_hash,
        role: enum_text(&Role::Villager),
        org_unit_id: Some(village.id.clone()),
        cadre_category: None,
        staff_type: None,
        rater_group: None,
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    let added = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                users::insert(conn, &user)?;
                users::set_villages(conn, &user.id, std::slice::from_ref(&village.id))
            })
        })
        .await;
    match added {
        // A taken phone number: the account stays as it was, and the answer is the same.
        Ok(()) | Err(ApiError::Conflict(_)) => {}
        Err(other) => return Err(other),
    }
    Ok(HttpResponse::Accepted().json(RegistrationReceived {
        status: "received".into(),
        detail: "registration received; sign in with your phone number and password".into(),
    }))
}
