//! Users (admins everywhere; supervisors the cadres and villagers of their subtree)
//! and the villages each cadre is responsible for.

use std::collections::BTreeSet;

use actix_web::{get, patch, post, put, web, HttpResponse};
use chrono::Utc;
use minqing_protocol::{
    NewUser, OrgUnitKind, Page, Problem, Role, User, UserPatch, VillageAssignment,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Authenticated, JsonBody};
use super::paging::Paging;
use super::State;
use crate::audit::{self, Audited};
use crate::db::models::{enum_text, parse_enum, utc, OrgUnitRow, UserRow};
use crate::db::users::{self, UserFilter};
use crate::db::{new_id, org, tokens, DbConn};
use crate::domain::access::{authorize, may_manage_role, reach, Action, Actor};
use crate::domain::people::{
    check_password, check_profile, parse_person_name, Phone, ProfileRequest,
};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};

/// Most villages one cadre can be responsible for.
const MAX_VILLAGES: usize = 200;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(patch_user)
        .service(put_user_villages);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct UserQuery {
    role: Option<Role>,
    org_unit_id: Option<String>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
    cursor: Option<String>,
}

fn with_villages(conn: &mut DbConn, rows: &[UserRow]) -> ApiResult<Vec<User>> {
    let ids: Vec<String> = rows.iter().map(|u| u.id.clone()).collect();
    let mut villages = users::village_ids_of(conn, &ids)?;
    rows.iter()
        .map(|u| u.to_wire(villages.remove(&u.id).unwrap_or_default()))
        .collect()
}

/// Users in id order; supervisors see those of their subtree.
#[utoipa::path(tag = "users", params(UserQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<User>), (status = 403, body = Problem)))]
#[get("/users")]
async fn list_users(
    state: State,
    actor: Authenticated,
    query: web::Query<UserQuery>,
) -> ApiResult<web::Json<Page<User>>> {
    let within = reach(&actor.0, Action::ReadUsers)?.subtree()?;
    let query = query.into_inner();
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let filter = UserFilter {
        role: query.role.map(|r| enum_text(&r)),
        org_unit_id: query.org_unit_id,
        within,
        after: paging.after.clone(),
        limit: paging.fetch(),
    };
    let list = state
        .db
        .run(move |conn| {
            let rows = users::list(conn, &filter)?;
            // Phones of a page of people: who looked is on record.
            conn.write(|conn| {
                let detail = json!({"count": rows.len(), "role": filter.role, "org_unit_id": filter.org_unit_id});
                audit::record(conn, &actor.0.user_id, Audited::UsersListed, None, Some(detail), Utc::now())
            })?;
            with_villages(conn, &rows)
        })
        .await?;
    Ok(web::Json(paging.page(list, |u| u.id.clone())))
}

/// The org unit a user is to be filed under, if the actor may file people there.
fn reachable_unit(conn: &mut DbConn, actor: &Actor, id: &str) -> ApiResult<OrgUnitRow> {
    org::find(conn, id)?
        .filter(|unit| authorize(actor, Action::ManageUsers, Some(&unit.path)).is_ok())
        .ok_or_else(|| ApiError::invalid("org_unit_id", "no org unit with that id"))
}

fn phone_taken(err: ApiError) -> ApiError {
    match err {
        ApiError::Conflict(_) => ApiError::Conflict("another user has this phone number".into()),
        other => other,
    }
}

/// Creates a user. Supervisors may create cadres and villagers in their subtree.
#[utoipa::path(tag = "users", request_body = NewUser, security(("bearer" = [])), responses(
    (status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem, description = "phone already used"),
    (status = 422, body = Problem),
    (status = 429, body = Problem, description = "password hashing busy; see Retry-After")))]
#[post("/users")]
async fn create_user(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewUser>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    reach(&actor.0, Action::ManageUsers)?;
    may_manage_role(&actor.0, input.role)?;
    let mut errors = Vec::new();
    let name = parse_person_name(&input.name)
        .map_err(|e| errors.push(e))
        .ok();
    let phone = Phone::parse(&input.phone).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_password(&input.password, phone.as_ref().map(Phone::as_str)) {
        errors.push(e);
    }
    let (Some(name), Some(phone), true) = (name, phone, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let password_hash = state
        .limiters
        .passwords
        .hash(input.password.clone())
        .await?;
    let now = Utc::now().naive_utc();
    let user = state
        .db
        .run(move |conn| {
            let unit = input
                .org_unit_id
                .as_deref()
                .map(|id| reachable_unit(conn, &actor.0, id))
                .transpose()?;
            let profile = check_profile(ProfileRequest {
                role: input.role,
                org_kind: unit.as_ref().map(|u| u.kind()).transpose()?,
                cadre_category: input.cadre_category,
                staff_type: input.staff_type,
                rater_group: input.rater_group,
            })?;
            let row = UserRow {
                id: new_id(),
                phone: phone.into_string(),
                name,
                password_hash,
                role: enum_text(&input.role),
                org_unit_id: unit.as_ref().map(|u| u.id.clone()),
                cadre_category: profile.cadre_category.map(|v| enum_text(&v)),
                staff_type: profile.staff_type.map(|v| enum_text(&v)),
                rater_group: profile.rater_group.map(|v| enum_text(&v)),
                active: true,
                created_at: now,
                updated_at: now,
            };
            conn.write(|conn| {
                users::insert(conn, &row).map_err(phone_taken)?;
                let own_village: Vec<String> = unit
                    .filter(|_| input.role == Role::Villager)
                    .map(|u| u.id)
                    .into_iter()
                    .collect();
                users::set_villages(conn, &row.id, &own_village)?;
                let detail =
                    json!({"name": row.name, "role": row.role, "org_unit_id": row.org_unit_id});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::UserCreated,
                    Some(&row.id),
                    Some(detail),
                    utc(now),
                )?;
                row.to_wire(own_village)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Loads a user the actor may act on; anything else is "not found".
fn find_reachable(
    conn: &mut DbConn,
    actor: &Actor,
    action: Action,
    id: &str,
) -> ApiResult<UserRow> {
    let (user, path) =
        users::find_with_path(conn, id)?.ok_or_else(|| ApiError::not_found("user"))?;
    authorize(actor, action, path.as_deref()).map_err(|_| ApiError::not_found("user"))?;
    Ok(user)
}

/// One user (admin; supervisors within their subtree).
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = User), (status = 404, body = Problem)))]
#[get("/users/{id}")]
async fn get_user(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<User>> {
    reach(&actor.0, Action::ReadUsers)?;
    let user = state
        .db
        .run(move |conn| {
            let row = find_reachable(conn, &actor.0, Action::ReadUsers, &id)?;
            conn.write(|conn| {
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::UserRead,
                    Some(&row.id),
                    None,
                    Utc::now(),
                )
            })?;
            Ok(with_villages(conn, std::slice::from_ref(&row))?.remove(0))
        })
        .await?;
    Ok(web::Json(user))
}

/// Changes a user; only the fields sent change. A new password, `active: false` or another
/// role ends every session of that user (access tokens, refresh tokens, page sessions).
#[utoipa::path(tag = "users", request_body = UserPatch, security(("bearer" = [])), responses(
    (status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem),
    (status = 429, body = Problem, description = "password hashing busy; see Retry-After")))]
#[patch("/users/{id}")]
async fn patch_user(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<UserPatch>,
) -> ApiResult<web::Json<User>> {
    reach(&actor.0, Action::ManageUsers)?;
    let patch = body.0;
    let mut errors = Vec::new();
    let name = patch
        .name
        .as_deref()
        .map(parse_person_name)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let phone = patch
        .phone
        .as_deref()
        .map(Phone::parse)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    // The phone rule is checked again below against the stored phone when none is sent.
    if let Some(Err(e)) = patch
        .password
        .as_deref()
        .map(|p| check_password(p, phone.as_ref().map(Phone::as_str)))
    {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let password_hash = match patch.password.clone() {
        Some(p) => Some(state.limiters.passwords.hash(p).await?),
        None => None,
    };
    let now = Utc::now().naive_utc();
    let user = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let mut row = find_reachable(conn, &actor.0, Action::ManageUsers, &id)?;
                let old_role: Role = row.role()?;
                let role = patch.role.unwrap_or(old_role);
                may_manage_role(&actor.0, old_role)?;
                may_manage_role(&actor.0, role)?;
                if row.id == actor.0.user_id && (role != old_role || patch.active == Some(false)) {
                    return Err(Invalid::new(
                        "role",
                        "you cannot change your own role or disable yourself",
                    )
                    .into());
                }
                let unit = match patch.org_unit_id.as_deref().or(row.org_unit_id.as_deref()) {
                    Some(unit_id) if Some(unit_id) != row.org_unit_id.as_deref() => {
                        Some(reachable_unit(conn, &actor.0, unit_id)?)
                    }
                    Some(unit_id) => org::find(conn, unit_id)?,
                    None => None,
                };
                // Fields not sent keep their values; a role change drops cadre fields that no longer apply.
                let keep = matches!(role, Role::Cadre | Role::Supervisor);
                let profile = check_profile(ProfileRequest {
                    role,
                    org_kind: unit.as_ref().map(|u| u.kind()).transpose()?,
                    cadre_category: patch.cadre_category.or(kept(&row.cadre_category, keep)?),
                    staff_type: patch.staff_type.or(kept(&row.staff_type, keep)?),
                    rater_group: patch.rater_group.or(kept(&row.rater_group, keep)?),
                })?;
                row.name = name.unwrap_or(row.name);
                row.phone = phone.map(Phone::into_string).unwrap_or(row.phone);
                if let Some(password) = patch.password.as_deref() {
                    check_password(password, Some(&row.phone))?;
                }
                let new_password = password_hash.is_some();
                row.password_hash = password_hash.unwrap_or(row.password_hash);
                row.role = enum_text(&role);
                row.org_unit_id = unit.as_ref().map(|u| u.id.clone());
                row.cadre_category = profile.cadre_category.map(|v| enum_text(&v));
                row.staff_type = profile.staff_type.map(|v| enum_text(&v));
                row.rater_group = profile.rater_group.map(|v| enum_text(&v));
                row.active = patch.active.unwrap_or(row.active);
                row.updated_at = now;
                users::update(conn, &row).map_err(phone_taken)?;
                // What changed, never the password itself.
                let detail = json!({"name": patch.name, "phone": patch.phone, "role": patch.role,
                    "org_unit_id": patch.org_unit_id, "active": patch.active,
                    "password_reset": new_password});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::UserChanged,
                    Some(&row.id),
                    Some(detail),
                    utc(now),
                )?;
                // A reset, a disable or a role change ends every session the user has: older
                // access tokens fail the epoch check, refresh tokens and page sessions are revoked.
                if new_password || patch.active == Some(false) || role != old_role {
                    users::bump_token_epoch(conn, &row.id)?;
                    tokens::revoke_user(conn, &row.id, now)?;
                }
                match role {
                    Role::Villager => users::set_villages(
                        conn,
                        &row.id,
                        &row.org_unit_id.iter().cloned().collect::<Vec<_>>(),
                    )?,
                    Role::Admin | Role::Supervisor => users::set_villages(conn, &row.id, &[])?,
                    Role::Cadre => {}
                }
                Ok(with_villages(conn, std::slice::from_ref(&row))?.remove(0))
            })
        })
        .await?;
    state.actors.evict(&user.id);
    Ok(web::Json(user))
}

fn kept<T: serde::de::DeserializeOwned>(
    stored: &Option<String>,
    keep: bool,
) -> ApiResult<Option<T>> {
    stored
        .as_deref()
        .filter(|_| keep)
        .map(parse_enum)
        .transpose()
}

/// Sets the villages a cadre is responsible for (replacing the previous list).
#[utoipa::path(tag = "users", request_body = VillageAssignment, security(("bearer" = [])), responses(
    (status = 200, body = User), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/users/{id}/villages")]
async fn put_user_villages(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<VillageAssignment>,
) -> ApiResult<web::Json<User>> {
    reach(&actor.0, Action::ManageUsers)?;
    let requested = body.0.village_ids;
    if requested.len() > MAX_VILLAGES {
        return Err(ApiError::invalid(
            "village_ids",
            format!("at most {MAX_VILLAGES} villages"),
        ));
    }
    let wanted: Vec<String> = requested
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let user = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let row = find_reachable(conn, &actor.0, Action::ManageUsers, &id)?;
                if row.role()? != Role::Cadre {
                    return Err(ApiError::invalid(
                        "village_ids",
                        "only cadres are assigned villages",
                    ));
                }
                let found = org::find_many(conn, &wanted)?;
                let usable = |v: &OrgUnitRow| {
                    v.kind == enum_text(&OrgUnitKind::Village)
                        && authorize(&actor.0, Action::ManageUsers, Some(&v.path)).is_ok()
                };
                let errors: Vec<Invalid> = requested
                    .iter()
                    .enumerate()
                    .filter(|(_, id)| !found.iter().any(|v| &v.id == *id && usable(v)))
                    .map(|(i, _)| {
                        Invalid::new(format!("village_ids[{i}]"), "no village with that id")
                    })
                    .collect();
                if !errors.is_empty() {
                    return Err(ApiError::Invalid(errors));
                }
                users::set_villages(conn, &row.id, &wanted)?;
                let detail = json!({"village_ids": wanted});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::VillagesAssigned,
                    Some(&row.id),
                    Some(detail),
                    Utc::now(),
                )?;
                Ok(with_villages(conn, std::slice::from_ref(&row))?.remove(0))
            })
        })
        .await?;
    Ok(web::Json(user))
}
