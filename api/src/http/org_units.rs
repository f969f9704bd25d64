//! The org tree and village boundaries (admins write; supervisors read their subtree).

use actix_web::{get, patch, post, put, web, HttpResponse};
use chrono::Utc;
use minqing_protocol::{NewOrgUnit, OrgUnit, OrgUnitKind, OrgUnitPatch, Page, Problem};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Authenticated, JsonBody};
use super::paging::Paging;
use super::State;
use crate::audit::{self, Audited};
use crate::db::models::{enum_text, utc, OrgUnitRow};
use crate::db::org::{self, BoundaryUpdate, OrgUnitFilter};
use crate::db::{new_id, DbConn};
use crate::domain::access::{authorize, reach, Action};
use crate::domain::boundary::parse_boundary;
use crate::domain::org::{check_parent, child_path, in_subtree, parse_code, parse_unit_name};
use crate::domain::Invalid;
use crate::error::{ApiError, ApiResult};
use crate::villages;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_org_units)
        .service(create_org_unit)
        .service(get_org_unit)
        .service(patch_org_unit)
        .service(put_village_boundary)
        .service(put_unit_boundary);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct OrgUnitQuery {
    parent_id: Option<String>,
    kind: Option<OrgUnitKind>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Org units in id order; supervisors see their own subtree.
#[utoipa::path(tag = "org", params(OrgUnitQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<OrgUnit>), (status = 403, body = Problem)))]
#[get("/org-units")]
async fn list_org_units(
    state: State,
    actor: Authenticated,
    query: web::Query<OrgUnitQuery>,
) -> ApiResult<web::Json<Page<OrgUnit>>> {
    let within = reach(&actor.0, Action::ReadOrgUnits)?.subtree()?;
    let query = query.into_inner();
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let filter = OrgUnitFilter {
        parent_id: query.parent_id,
        kind: query.kind.map(|k| enum_text(&k)),
        within,
        after: paging.after.clone(),
        limit: paging.fetch(),
    };
    let rows = state.db.run(move |conn| org::list(conn, &filter)).await?;
    let units = rows
        .iter()
        .map(OrgUnitRow::to_wire)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(web::Json(paging.page(units, |u| u.id.clone())))
}

/// Loads a unit the actor may act on; anything else is "not found".
fn find_reachable(
    conn: &mut DbConn,
    actor: &crate::domain::access::Actor,
    action: Action,
    id: &str,
) -> ApiResult<OrgUnitRow> {
    let unit = org::find(conn, id)?.ok_or_else(|| ApiError::not_found("org unit"))?;
    authorize(actor, action, Some(&unit.path)).map_err(|_| ApiError::not_found("org unit"))?;
    Ok(unit)
}

/// Creates a county, town, community, village or department (admin). A village given no
/// `code` gets a generated one (6 letters and digits) for its public page `/v/{code}`.
#[utoipa::path(tag = "org", request_body = NewOrgUnit, security(("bearer" = [])), responses(
    (status = 201, body = OrgUnit), (status = 403, body = Problem), (status = 409, body = Problem, description = "code already used"),
    (status = 422, body = Problem)))]
#[post("/org-units")]
async fn create_org_unit(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewOrgUnit>,
) -> ApiResult<HttpResponse> {
    reach(&actor.0, Action::ManageOrgUnits)?;
    let input = body.0;
    let mut errors = Vec::new();
    let name = parse_unit_name("name", &input.name)
        .map_err(|e| errors.push(e))
        .ok();
    let code = match input.code.as_deref().map(parse_code).transpose() {
        Ok(code) => code,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let now = Utc::now().naive_utc();
    let unit = state
        .db
        .run(move |conn| {
            let parent =
                match &input.parent_id {
                    Some(id) => Some(org::find(conn, id)?.ok_or_else(|| {
                        ApiError::invalid("parent_id", "no org unit with that id")
                    })?),
                    None => None,
                };
            check_parent(input.kind, parent.as_ref().map(|p| p.kind()).transpose()?)?;
            let id = new_id();
            let mut row = OrgUnitRow {
                path: child_path(parent.as_ref().map(|p| p.path.as_str()), &id),
                id,
                name,
                kind: enum_text(&input.kind),
                parent_id: input.parent_id,
                code,
                boundary: None,
                min_lon: None,
                min_lat: None,
                max_lon: None,
                max_lat: None,
                created_at: now,
                updated_at: now,
                photo_required_kinds: None,
            };
            conn.write(|conn| {
                villages::insert_unit(conn, &mut row).map_err(code_taken)?;
                let detail =
                    json!({"name": row.name, "kind": row.kind, "parent_id": row.parent_id});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::OrgUnitSaved,
                    Some(&row.id),
                    Some(detail),
                    utc(now),
                )
            })?;
            row.to_wire()
        })
        .await?;
    Ok(HttpResponse::Created().json(unit))
}

fn code_taken(err: ApiError) -> ApiError {
    match err {
        ApiError::Conflict(_) => ApiError::Conflict("another org unit has this code".into()),
        other => other,
    }
}

/// One org unit (admin; supervisors within their subtree).
#[utoipa::path(tag = "org", security(("bearer" = [])), responses(
    (status = 200, body = OrgUnit), (status = 404, body = Problem)))]
#[get("/org-units/{id}")]
async fn get_org_unit(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<OrgUnit>> {
    reach(&actor.0, Action::ReadOrgUnits)?;
    let unit = state
        .db
        .run(move |conn| find_reachable(conn, &actor.0, Action::ReadOrgUnits, &id)?.to_wire())
        .await?;
    Ok(web::Json(unit))
}

/// Renames, recodes or moves a unit (admin). A move carries the whole subtree along.
#[utoipa::path(tag = "org", request_body = OrgUnitPatch, security(("bearer" = [])), responses(
    (status = 200, body = OrgUnit), (status = 404, body = Problem), (status = 409, body = Problem),
    (status = 422, body = Problem)))]
#[patch("/org-units/{id}")]
async fn patch_org_unit(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<OrgUnitPatch>,
) -> ApiResult<web::Json<OrgUnit>> {
    reach(&actor.0, Action::ManageOrgUnits)?;
    let patch = body.0;
    let name = patch
        .name
        .as_deref()
        .map(|n| parse_unit_name("name", n))
        .transpose()?;
    let code = patch.code.as_deref().map(parse_code).transpose()?;
    let now = Utc::now().naive_utc();
    let unit = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let unit = find_reachable(conn, &actor.0, Action::ManageOrgUnits, &id)?;
                let name = name.unwrap_or_else(|| unit.name.clone());
                let code = code.or_else(|| unit.code.clone());
                org::update_name_and_code(conn, &unit.id, &name, code.as_deref(), now)
                    .map_err(code_taken)?;
                if let Some(kinds) = &patch.photo_required_kinds {
                    if unit.kind != enum_text(&OrgUnitKind::Town) {
                        return Err(ApiError::invalid(
                            "photo_required_kinds",
                            "only a town requires photos",
                        ));
                    }
                    let text = kinds.as_ref().map(serde_json::to_string).transpose();
                    let text = text.map_err(|e| ApiError::Internal(e.into()))?;
                    org::set_photo_required_kinds(conn, &unit.id, text.as_deref())?;
                }
                let detail = json!({"name": name, "code": code, "parent_id": patch.parent_id});
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::OrgUnitSaved,
                    Some(&unit.id),
                    Some(detail),
                    utc(now),
                )?;
                if let Some(parent_id) = patch
                    .parent_id
                    .filter(|p| Some(p) != unit.parent_id.as_ref())
                {
                    let parent = org::find(conn, &parent_id)?.ok_or_else(|| {
                        ApiError::invalid("parent_id", "no org unit with that id")
                    })?;
                    if in_subtree(&parent.path, &unit.path) {
                        return Err(Invalid::new(
                            "parent_id",
                            "a unit cannot move under itself or its own subtree",
                        )
                        .into());
                    }
                    check_parent(unit.kind()?, Some(parent.kind()?))?;
                    let new_path = child_path(Some(&parent.path), &unit.id);
                    org::move_subtree(conn, &unit.id, &parent.id, &unit.path, &new_path, now)?;
                }
                org::find(conn, &unit.id)?
                    .ok_or_else(|| ApiError::not_found("org unit"))?
                    .to_wire()
            })
        })
        .await?;
    // A move changes the paths that authorize everyone in the subtree.
    state.actors.clear();
    Ok(web::Json(unit))
}

/// Sets a village's boundary: a GeoJSON Polygon/MultiPolygon (WGS-84, ≤ 10,000 vertices)
/// or `{"center": {"lat", "lon"}, "radius_m"}` (radius default 1500 m).
#[utoipa::path(tag = "org", security(("bearer" = [])),
    request_body(content = Object, description = "GeoJSON Polygon or MultiPolygon, or {center:{lat,lon}, radius_m}"),
    responses((status = 200, body = OrgUnit), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/villages/{id}/boundary")]
async fn put_village_boundary(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<web::Json<OrgUnit>> {
    set_boundary(state, actor, id.into_inner(), body.0, true).await
}

/// Sets the boundary or centre of any unit below the county — the town hall, a village
/// committee, a department's meeting room — where 夜学 / 夜议 sessions are held; the same
/// shapes as a village's.
#[utoipa::path(tag = "org", security(("bearer" = [])),
    request_body(content = Object, description = "GeoJSON Polygon or MultiPolygon, or {center:{lat,lon}, radius_m}"),
    responses((status = 200, body = OrgUnit), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/org-units/{id}/boundary")]
async fn put_unit_boundary(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<serde_json::Value>,
) -> ApiResult<web::Json<OrgUnit>> {
    set_boundary(state, actor, id.into_inner(), body.0, false).await
}

async fn set_boundary(
    state: State,
    actor: Authenticated,
    id: String,
    value: serde_json::Value,
    villages_only: bool,
) -> ApiResult<web::Json<OrgUnit>> {
    reach(&actor.0, Action::ManageOrgUnits)?;
    let what = if villages_only { "village" } else { "org unit" };
    // Validating a large polygon checks every pair of edges: keep it off the async workers.
    let boundary = web::block(move || parse_boundary(&value)).await??;
    let json = boundary.to_json().to_string();
    let bbox = boundary.bbox();
    let now = Utc::now().naive_utc();
    let unit = state
        .db
        .run(move |conn| {
            let unit = find_reachable(conn, &actor.0, Action::ManageOrgUnits, &id)?;
            let kind_fits = if villages_only {
                unit.kind == enum_text(&OrgUnitKind::Village)
            } else {
                unit.kind != enum_text(&OrgUnitKind::County)
            };
            if !kind_fits {
                return Err(ApiError::not_found(what));
            }
            audit::record(
                conn,
                &actor.0.user_id,
                Audited::BoundarySet,
                Some(&unit.id),
                None,
                utc(now),
            )?;
            org::set_boundary(
                conn,
                &unit.id,
                &BoundaryUpdate {
                    json: &json,
                    bbox,
                    now,
                },
            )?;
            org::find(conn, &unit.id)?
                .ok_or_else(|| ApiError::not_found(what))?
                .to_wire()
        })
        .await?;
    Ok(web::Json(unit))
}
