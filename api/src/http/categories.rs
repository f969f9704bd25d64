//! Work-order categories (anyone reads; admins write) and the working-day calendar.

use actix_web::{get, patch, post, put, web, HttpResponse};
use chrono::Utc;
use minqing_protocol::{
    CalendarInput, CalendarYear, Category, CategoryPatch, NewCategory, Page, Problem,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Authenticated, JsonBody};
use super::paging::Paging;
use super::State;
use crate::audit::{self, Audited};
use crate::db::categories::{self, CategoryRow, HOLIDAY};
use crate::db::models::utc;
use crate::domain::access::{reach, Action};
use crate::domain::category::{check_default_days, parse_category_code, parse_label};
use crate::domain::workdays::parse_year_calendar;
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_categories)
        .service(create_category)
        .service(patch_category)
        .service(get_calendar)
        .service(put_calendar);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CategoryQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Work-order categories in code order, with their default deadlines. No sign-in needed.
#[utoipa::path(tag = "work orders", params(CategoryQuery), responses((status = 200, body = Page<Category>)))]
#[get("/categories")]
async fn list_categories(
    state: State,
    query: web::Query<CategoryQuery>,
) -> ApiResult<web::Json<Page<Category>>> {
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let (after, limit) = (paging.after.clone(), paging.fetch());
    let rows = state
        .db
        .run(move |conn| categories::list(conn, after.as_deref(), limit))
        .await?;
    Ok(web::Json(paging.page(
        rows.into_iter().map(CategoryRow::to_wire).collect(),
        |c| c.code.clone(),
    )))
}

fn category_taken(err: ApiError) -> ApiError {
    match err {
        ApiError::Conflict(_) => ApiError::Conflict("a category with this code exists".into()),
        other => other,
    }
}

/// Adds a category (admin).
#[utoipa::path(tag = "work orders", request_body = NewCategory, security(("bearer" = [])), responses(
    (status = 201, body = Category), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/categories")]
async fn create_category(
    state: State,
    actor: Authenticated,
    body: JsonBody<NewCategory>,
) -> ApiResult<HttpResponse> {
    reach(&actor.0, Action::ManageCategories)?;
    let input = body.0;
    let checks = (
        parse_category_code(&input.code),
        parse_label("name", &input.name),
        parse_label("group", &input.group),
        check_default_days(input.default_due_working_days),
    );
    let (Ok(code), Ok(name), Ok(group), Ok(days)) = checks.clone() else {
        let (a, b, c, d) = checks;
        return Err(ApiError::Invalid(
            [a.err(), b.err(), c.err(), d.err()]
                .into_iter()
                .flatten()
                .collect(),
        ));
    };
    let now = Utc::now().naive_utc();
    let row = CategoryRow {
        code,
        name,
        category_group: group,
        default_due_working_days: days as i32,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                categories::insert(conn, &stored).map_err(category_taken)?;
                let detail = json!({"name": stored.name, "default_due_working_days": stored.default_due_working_days});
                audit::record(conn, &actor.0.user_id, Audited::CategorySaved, Some(&stored.code), Some(detail), utc(now))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(row.to_wire()))
}

/// Changes a category's name, group, default deadline, or retires it (`active: false`).
#[utoipa::path(tag = "work orders", request_body = CategoryPatch, security(("bearer" = [])), responses(
    (status = 200, body = Category), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[patch("/categories/{code}")]
async fn patch_category(
    state: State,
    actor: Authenticated,
    code: web::Path<String>,
    body: JsonBody<CategoryPatch>,
) -> ApiResult<web::Json<Category>> {
    reach(&actor.0, Action::ManageCategories)?;
    let patch = body.0;
    let name = patch
        .name
        .as_deref()
        .map(|n| parse_label("name", n))
        .transpose()?;
    let group = patch
        .group
        .as_deref()
        .map(|g| parse_label("group", g))
        .transpose()?;
    let days = patch
        .default_due_working_days
        .map(check_default_days)
        .transpose()?;
    let row = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let mut row = categories::find(conn, &code)?
                    .ok_or_else(|| ApiError::not_found("category"))?;
                row.name = name.unwrap_or(row.name);
                row.category_group = group.unwrap_or(row.category_group);
                row.default_due_working_days =
                    days.map_or(row.default_due_working_days, |d| d as i32);
                row.active = patch.active.unwrap_or(row.active);
                row.updated_at = Utc::now().naive_utc();
                categories::update(conn, &row)?;
                let detail = json!({"name": row.name, "default_due_working_days": row.default_due_working_days, "active": row.active});
                audit::record(conn, &actor.0.user_id, Audited::CategorySaved, Some(&row.code), Some(detail), utc(row.updated_at))?;
                Ok(row)
            })
        })
        .await?;
    Ok(web::Json(row.to_wire()))
}

fn year_of(path: &str) -> ApiResult<i32> {
    path.parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| ApiError::invalid("year", "must be a year between 2000 and 2100"))
}

/// A year's holidays and make-up workdays (any signed-in user).
#[utoipa::path(tag = "work orders", security(("bearer" = [])), responses(
    (status = 200, body = CalendarYear), (status = 422, body = Problem)))]
#[get("/calendar/{year}")]
async fn get_calendar(
    state: State,
    _actor: Authenticated,
    year: web::Path<String>,
) -> ApiResult<web::Json<CalendarYear>> {
    let year = year_of(&year)?;
    let days = state
        .db
        .run(move |conn| categories::days_of_years(conn, &[year]))
        .await?;
    let (holidays, workdays): (Vec<_>, Vec<_>) =
        days.into_iter().partition(|(_, kind)| kind == HOLIDAY);
    Ok(web::Json(CalendarYear {
        year,
        holidays: holidays.into_iter().map(|(d, _)| d).collect(),
        workdays: workdays.into_iter().map(|(d, _)| d).collect(),
    }))
}

/// Sets a year's official holidays and 调休 make-up workdays (admin); replaces what was there.
/// Working days are Monday to Friday except holidays, plus the make-up workdays.
#[utoipa::path(tag = "work orders", request_body = CalendarInput, security(("bearer" = [])), responses(
    (status = 200, body = CalendarYear), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[put("/calendar/{year}")]
async fn put_calendar(
    state: State,
    actor: Authenticated,
    year: web::Path<String>,
    body: JsonBody<CalendarInput>,
) -> ApiResult<web::Json<CalendarYear>> {
    reach(&actor.0, Action::ManageCalendar)?;
    let year = year_of(&year)?;
    let checked = parse_year_calendar(year, &body.0.holidays, &body.0.workdays)?;
    let stored = checked.clone();
    state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                categories::replace_year(conn, stored.year, &stored.holidays, &stored.workdays)?;
                let detail =
                    json!({"holidays": stored.holidays.len(), "workdays": stored.workdays.len()});
                let year = stored.year.to_string();
                audit::record(
                    conn,
                    &actor.0.user_id,
                    Audited::CalendarSet,
                    Some(&year),
                    Some(detail),
                    Utc::now(),
                )
            })
        })
        .await?;
    Ok(web::Json(CalendarYear {
        year: checked.year,
        holidays: checked.holidays,
        workdays: checked.workdays,
    }))
}
