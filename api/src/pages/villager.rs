//! The villager's pages: the village page `/v/{code}` with its report form (no account
//! needed), the receipt with 工单编号 and 查询码, and signed-in villagers' own orders.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use futures_util::StreamExt;
use minqing_protocol::{NewWorkOrder, PublicVillage, Role, WorkOrderSource};
use serde::Deserialize;

use super::{html, ok, see_other, session, PageError, PageResult};
use crate::db::work_orders::{self, OrderFilter, OrderScope};
use crate::domain::labels;
use crate::error::ApiError;
use crate::http::extract::client_ip;
use crate::http::State;
use crate::media::process::MAX_UPLOAD_BYTES;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v", web::get().to(choose_village))
        .route("/v/{code}", web::get().to(village_page))
        .route("/v/{code}", web::post().to(report))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/my", web::get().to(my_orders));
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "choose_village.html")]
struct ChooseVillagePage {
    code: String,
    not_found: bool,
}

/// Without a QR code: the villager types the code printed on the 便民联系卡.
async fn choose_village(state: State, query: web::Query<CodeQuery>) -> PageResult {
    let Some(code) = query.into_inner().code.map(|c| c.trim().to_string()) else {
        return ok(&ChooseVillagePage {
            code: String::new(),
            not_found: false,
        });
    };
    if find_village(&state, &code).await?.is_some() {
        return Ok(see_other(&format!("/v/{}", url_segment(&code))));
    }
    html(
        StatusCode::NOT_FOUND,
        &ChooseVillagePage {
            code,
            not_found: true,
        },
    )
}

/// Codes are letters and digits; anything else is dropped so it can sit in a path.
fn url_segment(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

async fn find_village(state: &State, code: &str) -> Result<Option<PublicVillage>, PageError> {
    let code = code.to_string();
    Ok(state
        .db
        .run(move |conn| crate::villages::public_village(conn, &code))
        .await?)
}

struct CategoryChoice {
    code: String,
    name: String,
    deadline: String,
}

struct VillageView {
    code: String,
    name: String,
    town: Option<String>,
    cadres: Vec<minqing_protocol::PublicCadre>,
    categories: Vec<CategoryChoice>,
}

impl From<PublicVillage> for VillageView {
    fn from(v: PublicVillage) -> Self {
        VillageView {
            code: v.code,
            name: v.name,
            town: v.town,
            cadres: v.cadres,
            categories: v
                .categories
                .into_iter()
                .filter(|c| c.active)
                .map(|c| CategoryChoice {
                    code: c.code,
                    name: c.name,
                    deadline: c.deadline_notice,
                })
                .collect(),
        }
    }
}

/// What the villager typed, kept to fill the form again after a mistake.
#[derive(Default)]
struct ReportForm {
    id: String,
    category: String,
    title: String,
    description: String,
    lat: String,
    lon: String,
    accuracy_m: String,
    address: String,
    reporter_name: String,
    reporter_phone: String,
}

#[derive(Template)]
#[template(path = "village.html")]
struct VillagePage {
    village: VillageView,
    form: ReportForm,
    errors: Vec<String>,
}

async fn village_page(state: State, code: web::Path<String>) -> PageResult {
    let village = find_village(&state, &code)
        .await?
        .ok_or_else(|| ApiError::not_found("village"))?;
    ok(&VillagePage {
        village: village.into(),
        form: ReportForm {
            // The report's client id: a double tap or a resent form files it once.
            id: uuid::Uuid::new_v4().to_string(),
            ..ReportForm::default()
        },
        errors: Vec::new(),
    })
}

/// Text fields of the form are short; the photo may be up to the photo limit.
const MAX_FIELD_BYTES: usize = 16 * 1024;

/// Reads the multipart report: its text fields and at most one photo.
async fn read_report(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(ReportForm, Option<Vec<u8>>), ApiError> {
    let mut form = ReportForm::default();
    let mut photo = None;
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| ApiError::BadRequest(format!("reading the form: {e}")))?;
        let name = part.name().unwrap_or_default().to_string();
        let limit = if name == "photo" {
            MAX_UPLOAD_BYTES
        } else {
            MAX_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::BadRequest(format!("reading the form: {e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge(format!("{name} is too large")));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "photo" {
            // A form without a chosen file still sends an empty part.
            photo = (!bytes.is_empty()).then_some(bytes);
            continue;
        }
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        match name.as_str() {
            "id" => form.id = text,
            "category" => form.category = text,
            "title" => form.title = text,
            "description" => form.description = text,
            "lat" => form.lat = text,
            "lon" => form.lon = text,
            "accuracy_m" => form.accuracy_m = text,
            "address" => form.address = text,
            "reporter_name" => form.reporter_name = text,
            "reporter_phone" => form.reporter_phone = text,
            _ => {}
        }
    }
    Ok((form, photo))
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// The report as the API would receive it; positions that do not parse are left out (the
/// villager may always report without one).
fn new_order(form: &ReportForm, village_id: &str) -> NewWorkOrder {
    let position = form
        .lat
        .parse::<f64>()
        .ok()
        .zip(form.lon.parse::<f64>().ok());
    NewWorkOrder {
        id: uuid::Uuid::parse_str(&form.id).ok().map(|u| u.to_string()),
        category: form.category.clone(),
        title: form.title.clone(),
        description: form.description.clone(),
        village_id: village_id.to_string(),
        lat: position.map(|p| p.0),
        lon: position.map(|p| p.1),
        address: optional(&form.address),
        photo_ids: None,
        reporter_name: optional(&form.reporter_name),
        reporter_phone: optional(&form.reporter_phone),
        source: WorkOrderSource::Villager,
        resolved_on_spot: None,
        resolution_note: None,
    }
}

/// Each refused field in words: the field's name and what to do about it.
fn field_errors(err: &ApiError) -> Option<Vec<String>> {
    match err {
        ApiError::Invalid(list) => Some(
            list.iter()
                .map(|e| {
                    let field = e.field.split(['[', '.']).next().unwrap_or_default();
                    format!(
                        "{}：填写有误，请检查",
                        labels::label_or_word("field", field)
                    )
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Files a villager's report: the photo goes through the same pipeline as every photo, the
/// order through the same service as the API's; the answer shows the code and 查询码 once.
async fn report(
    state: State,
    req: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> PageResult {
    let village = find_village(&state, &code)
        .await?
        .ok_or_else(|| ApiError::not_found("village"))?;
    let (form, photo) = read_report(&req, payload).await?;
    let ip = client_ip(&req);
    let now = Utc::now();
    let mut errors = Vec::new();
    for (value, field) in [
        (&form.category, "category"),
        (&form.title, "title"),
        (&form.description, "description"),
        (&form.reporter_name, "reporter_name"),
        (&form.reporter_phone, "reporter_phone"),
    ] {
        if value.is_empty() {
            errors.push(format!("请填写{}", labels::label_or_word("field", field)));
        }
    }
    let input = new_order(&form, &village.id);
    if errors.is_empty() {
        // Refuse an over-limit reporter before the photo costs any work.
        let (app, at, phone) = (state.clone(), ip.clone(), form.reporter_phone.clone());
        state
            .db
            .run(move |conn| {
                app.limiters.report_ip.check(conn, &at, now)?;
                app.limiters.report_phone.check(conn, &phone, now)
            })
            .await?;
        let mut photos = Vec::new();
        if let Some(bytes) = photo {
            match crate::media::store_photo(&state, None, bytes).await {
                Ok(stored) => photos.push(stored.id),
                Err(ApiError::Invalid(_)) => errors.push("照片无法读取，请换一张照片".into()),
                Err(e) => return Err(e.into()),
            }
        }
        if errors.is_empty() {
            let village_name = village.name.clone();
            match crate::work_orders::file_order(&state, None, &ip, input, photos).await {
                Ok((created, fresh)) => {
                    return ok(&ReportedPage {
                        village: village_name,
                        village_code: village.code.clone(),
                        code: created.code,
                        query_code: fresh.then_some(created.query_code),
                        deadline_notice: created.deadline_notice,
                    });
                }
                Err(e) => match field_errors(&e) {
                    Some(list) => errors.extend(list),
                    None => return Err(e.into()),
                },
            }
        }
    }
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &VillagePage {
            village: village.into(),
            form,
            errors,
        },
    )
}

#[derive(Template)]
#[template(path = "reported.html")]
struct ReportedPage {
    village: String,
    village_code: String,
    code: String,
    query_code: Option<String>,
    deadline_notice: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    phone: String,
    next: String,
    error: Option<String>,
}

/// Where a signed-in person of `role` starts, or the desk page they were sent from.
fn landing(role: Role, next: &str) -> String {
    match role {
        Role::Villager => "/my".into(),
        Role::Cadre => "/app/".into(),
        Role::Supervisor | Role::Admin => super::desk::safe_next(next).unwrap_or("/desk/").into(),
    }
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn login_page(state: State, req: HttpRequest, query: web::Query<NextQuery>) -> PageResult {
    let next = query.into_inner().next;
    if let Some((_, actor)) = session::current(&state, &req).await? {
        return Ok(see_other(&landing(actor.role, &next)));
    }
    ok(&LoginPage {
        phone: String::new(),
        next,
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(state: State, req: HttpRequest, form: web::Form<LoginForm>) -> PageResult {
    let LoginForm {
        phone,
        password,
        next,
    } = form.into_inner();
    let now = Utc::now();
    let refused = |message: &str| {
        html(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                phone: phone.clone(),
                next: next.clone(),
                error: Some(message.to_string()),
            },
        )
    };
    let user = match crate::auth::sign_in(&state, &phone, password, &client_ip(&req), now).await {
        Ok(user) => user,
        Err(ApiError::TooManyRequests { retry_after_secs }) => {
            // Too many failures, or every password check busy: either way, wait and retry.
            let mut page = html(
                StatusCode::TOO_MANY_REQUESTS,
                &LoginPage {
                    phone: phone.clone(),
                    next: next.clone(),
                    error: Some(format!(
                        "登录太频繁或系统繁忙，请 {retry_after_secs} 秒后再试。"
                    )),
                },
            )?;
            page.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs),
            );
            return Ok(page);
        }
        // A disabled account answers like a wrong password (see `sign_in`).
        Err(ApiError::Invalid(_) | ApiError::Unauthenticated(_)) => {
            return refused("手机号或密码不对。")
        }
        Err(e) => return Err(e.into()),
    };
    let target = landing(user.role()?, &next);
    let cookie = session::start(&state, &user, session::is_https(&req), now).await?;
    let mut response = see_other(&target);
    response
        .add_cookie(&cookie)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("setting the session cookie: {e}")))?;
    Ok(response)
}

async fn logout(state: State, req: HttpRequest) -> PageResult {
    let gone = session::end(&state, &req).await?;
    let mut response = see_other("/");
    response
        .add_cookie(&gone)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("removing the session cookie: {e}")))?;
    Ok(response)
}

struct OrderLine {
    code: String,
    title: String,
    status: String,
    status_word: String,
    created_at: String,
    due_at: Option<String>,
}

#[derive(Template)]
#[template(path = "my.html")]
struct MyPage {
    name: String,
    village_code: Option<String>,
    orders: Vec<OrderLine>,
}

/// How many of their own orders a villager sees on one page: plenty for one household.
const MY_ORDERS: i64 = 100;

/// A signed-in villager's own orders, newest first.
async fn my_orders(state: State, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let Some((user, actor)) = session::current(&state, &req).await? else {
        return Ok(see_other("/login"));
    };
    if actor.role != Role::Villager {
        return Ok(see_other(if actor.role == Role::Cadre {
            "/app/"
        } else {
            "/desk/"
        }));
    }
    let tz = state.rules.timezone;
    let village_id = user.org_unit_id.clone();
    let user_id = user.id.clone();
    let (rows, village_code) = state
        .db
        .run(move |conn| {
            let rows = work_orders::list(
                conn,
                &OrderFilter::new(OrderScope::Reporter(user_id), MY_ORDERS),
            )?;
            let code = match village_id {
                Some(id) => crate::db::org::find(conn, &id)?.and_then(|v| v.code),
                None => None,
            };
            Ok((rows, code))
        })
        .await?;
    let orders = rows
        .into_iter()
        .map(|r| OrderLine {
            status: labels::label_or_word("work_order_status", &r.status),
            status_word: r.status.clone(),
            created_at: labels::local_time(crate::db::models::utc(r.created_at), tz),
            due_at: r
                .due_at
                .map(|d| labels::local_time(crate::db::models::utc(d), tz)),
            code: r.code,
            title: r.title,
        })
        .collect();
    ok(&MyPage {
        name: user.name,
        village_code,
        orders,
    })
}
