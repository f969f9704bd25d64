//! 夜学 / 夜议 group sessions: opened by a cadre or supervisor at a place of the town,
//! attended by check-ins with `session_id`, completed with minutes (纪要).

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use minqing_protocol::{NewSession, Page, Problem, Session, SessionUpdate};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Authenticated, JsonBody};
use super::paging::{time_key, Paging};
use super::State;
use crate::db::night_sessions::SessionFilter;
use crate::error::ApiResult;
use crate::night_sessions;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(open_session)
        .service(list_sessions)
        .service(get_session)
        .service(amend_session);
}

/// Opens a 夜学 or 夜议 at a place of the organiser's town (a village, or a unit with a
/// boundary such as the town hall or a village committee).
#[utoipa::path(tag = "sessions", request_body = NewSession, security(("bearer" = [])), responses(
    (status = 201, body = Session), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[post("/sessions")]
async fn open_session(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewSession>,
) -> ApiResult<HttpResponse> {
    let app = state.clone();
    let session = state
        .db
        .run(move |conn| {
            conn.write(|conn| night_sessions::open(conn, &actor.0, &body.0, Utc::now(), &app.rules))
        })
        .await?;
    Ok(HttpResponse::Created().json(session))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SessionQuery {
    /// Sessions at places of this town (default: all the actor may see).
    town_id: Option<String>,
    /// Only sessions the signed-in user organised or attended.
    mine: Option<bool>,
    /// Starting at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Starting before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Sessions of the actor's town (the admin: of every town), newest first, each with its
/// attendance.
#[utoipa::path(tag = "sessions", params(SessionQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<Session>), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/sessions")]
async fn list_sessions(
    state: State,
    actor: Authenticated,
    query: web::Query<SessionQuery>,
) -> ApiResult<web::Json<Page<Session>>> {
    let q = query.into_inner();
    let paging = Paging::parse(q.limit, q.cursor.as_deref())?;
    let filter = SessionFilter {
        within: None,
        involving: q.mine.unwrap_or(false).then(|| actor.0.user_id.clone()),
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        after: paging.after_time()?,
        limit: paging.fetch(),
    };
    let app = state.clone();
    let list = state
        .db
        .run(move |conn| {
            night_sessions::list(
                conn,
                &actor.0,
                filter,
                q.town_id.as_deref(),
                Utc::now(),
                &app.rules,
            )
        })
        .await?;
    Ok(web::Json(
        paging.page(list, |s| time_key(s.starts_at, &s.id)),
    ))
}

/// One session with its minutes and attendance.
#[utoipa::path(tag = "sessions", security(("bearer" = [])), responses(
    (status = 200, body = Session), (status = 404, body = Problem)))]
#[get("/sessions/{id}")]
async fn get_session(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
) -> ApiResult<web::Json<Session>> {
    let app = state.clone();
    let session = state
        .db
        .run(move |conn| {
            let row = night_sessions::find_visible(conn, &actor.0, &id)?;
            let mut all = night_sessions::wire_all(conn, vec![row], Utc::now(), &app.rules)?;
            all.pop()
                .ok_or_else(|| crate::error::ApiError::not_found("session"))
        })
        .await?;
    Ok(web::Json(session))
}

/// Adds the minutes (纪要), their photos and, for a 夜议, the villagers present: the
/// organiser or a supervisor of the town.
#[utoipa::path(tag = "sessions", request_body = SessionUpdate, security(("bearer" = [])), responses(
    (status = 200, body = Session), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
#[patch("/sessions/{id}")]
async fn amend_session(
    state: State,
    actor: Authenticated,
    id: web::Path<String>,
    body: JsonBody<SessionUpdate>,
) -> ApiResult<web::Json<Session>> {
    let app = state.clone();
    let session = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                night_sessions::amend(conn, &actor.0, &id, &body.0, Utc::now(), &app.rules)
            })
        })
        .await?;
    Ok(web::Json(session))
}
