//! 工单台账: every order in the supervisor's reach with filters, 50 to a page, and the same
//! list as an Excel download; one order's page with its photos, timeline, likely
//! duplicates and what a supervisor does to it (派单, 驳回, deciding an extension).

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use minqing_protocol::{RejectRequest, WorkOrderSource, WorkOrderStatus};
use serde::Deserialize;

use super::{Nav, Staff};
use crate::audit::{self, Audited};
use crate::db::models::{parse_enum, utc};
use crate::db::work_orders::{self, OrderFilter, OrderScope, WorkOrderRow};
use crate::db::DbConn;
use crate::domain::labels;
use crate::domain::work_order::Party;
use crate::domain::workdays::start_of_local_day;
use crate::error::ApiError;
use crate::export;
use crate::http::paging::{time_key, Paging};
use crate::http::{AppState, State};
use crate::pages::{html, photo_links, see_other, PageError, PageResult, PhotoLink};
use crate::work_orders::{likely_duplicates, list_scope, order_for, take_step, Change};

pub(super) mod view;

use view::{
    back_to, event_details, notice, order_href, query_string, refusal_words, subtree, AssignForm,
    AssignInput, Choice, Choices, ExtensionLine, Names, OrderLine,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The download before `{key}`, which would take "export" for an order's code.
    cfg.route("/desk/orders", web::get().to(ledger))
        .route("/desk/orders/export", web::get().to(download))
        .route("/desk/orders/{key}", web::get().to(detail))
        .route("/desk/orders/{key}/assign", web::post().to(assign))
        .route("/desk/orders/{key}/reject", web::post().to(reject))
        .route(
            "/desk/orders/{key}/extensions/{eid}/decision",
            web::post().to(decide_extension),
        );
}

/// Rows on one page of the ledger.
const PAGE_ROWS: i64 = 50;
/// The most rows one download holds; the page says so, and a capped file says so in its name.
const EXPORT_CAP: usize = 50_000;

/// Statuses and sources in the order a person thinks of them, for the filter selects.
const STATUSES: [&str; 7] = [
    "submitted",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "reopened",
];
const SOURCES: [&str; 4] = ["villager", "visit", "hotline", "open311"];

/// The ledger's filters as the form sends them; empty means "all".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct LedgerQuery {
    status: String,
    village_id: String,
    unit_id: String,
    assignee_id: String,
    category: String,
    source: String,
    /// Local dates, both included.
    from: String,
    to: String,
    cursor: String,
}

fn given(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl LedgerQuery {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("status", self.status.as_str()),
            ("village_id", &self.village_id),
            ("unit_id", &self.unit_id),
            ("assignee_id", &self.assignee_id),
            ("category", &self.category),
            ("source", &self.source),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    /// The filter over `scope` it asks for, or what is wrong with it in words. The dates are
    /// the town's local days: from the start of `from` to the end of `to`.
    fn filter(&self, scope: OrderScope, tz: Tz) -> Result<OrderFilter, Vec<String>> {
        let mut errors = Vec::new();
        let mut word = |field: &str, text: &str, known: bool| {
            if !known {
                errors.push(format!(
                    "{}：填写有误，请重新选择。",
                    labels::label_or_word("field", field)
                ));
            }
            given(text).filter(|_| known)
        };
        let status = word(
            "status",
            &self.status,
            self.status.is_empty() || parse_enum::<WorkOrderStatus>(&self.status).is_ok(),
        );
        let source = word(
            "source",
            &self.source,
            self.source.is_empty() || parse_enum::<WorkOrderSource>(&self.source).is_ok(),
        );
        let mut day = |field: &str, text: &str| -> Option<NaiveDate> {
            let text = given(text)?;
            let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
            if parsed.is_none() {
                errors.push(format!(
                    "{}：请选择一个日期。",
                    labels::label_or_word("field", field)
                ));
            }
            parsed
        };
        let (first, last) = (day("from", &self.from), day("to", &self.to));
        if first.zip(last).is_some_and(|(f, l)| f > l) {
            errors.push("开始日期不能晚于结束日期。".to_string());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut filter = OrderFilter::new(scope, PAGE_ROWS);
        filter.status = status;
        filter.source = source;
        filter.village_id = given(&self.village_id);
        filter.unit_id = given(&self.unit_id);
        filter.assignee_id = given(&self.assignee_id);
        filter.category = given(&self.category);
        filter.from = first
            .and_then(|d| start_of_local_day(d, tz))
            .map(|t| t.naive_utc());
        filter.to = last
            .and_then(|d| d.succ_opt())
            .and_then(|d| start_of_local_day(d, tz))
            .map(|t| t.naive_utc());
        Ok(filter)
    }
}

fn labelled(family: &str, words: &[&str]) -> Vec<Choice> {
    words
        .iter()
        .map(|w| Choice {
            value: w.to_string(),
            name: labels::label_or_word(family, w),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "desk/orders.html")]
struct LedgerPage {
    nav: Nav,
    q: LedgerQuery,
    errors: Vec<String>,
    statuses: Vec<Choice>,
    sources: Vec<Choice>,
    categories: Vec<Choice>,
    choices: Choices,
    lines: Vec<OrderLine>,
    next: Option<String>,
    export: String,
    cap: usize,
}

async fn ledger(state: State, staff: Staff, query: web::Query<LedgerQuery>) -> PageResult {
    show_ledger(&state, staff, query.into_inner()).await
}

/// The ledger's page: the filters, and the page of orders they give.
async fn show_ledger(state: &State, staff: Staff, q: LedgerQuery) -> PageResult {
    let tz = state.rules.timezone;
    let scope = list_scope(&staff.actor);
    let within = subtree(&scope);
    let paging = Paging::parse(Some(PAGE_ROWS), given(&q.cursor).as_deref())?;
    let after = paging.after_time()?;
    let asked = q.filter(scope, tz);
    let errors = asked.as_ref().err().cloned().unwrap_or_default();
    let now = Utc::now();
    let (lines, next, choices, categories) = state
        .db
        .run(move |conn| {
            let rows = match asked {
                Ok(mut filter) => {
                    filter.after = after;
                    filter.limit = paging.fetch();
                    work_orders::list(conn, &filter)?
                }
                Err(_) => Vec::new(),
            };
            let page = paging.page(rows, |r| time_key(utc(r.created_at), &r.id));
            let names = Names::load(conn, &page.items, Vec::new())?;
            let lines = page
                .items
                .iter()
                .map(|r| OrderLine::new(r, &names, tz, now))
                .collect::<Result<Vec<_>, _>>()?;
            let choices = Choices::load(conn, within.as_deref())?;
            Ok((lines, page.next_cursor, choices, names.category_choices()))
        })
        .await?;
    let export = format!("/desk/orders/export{}", query_string(&q.pairs()));
    let next = next.map(|cursor| {
        let mut pairs = q.pairs();
        pairs.push(("cursor", &cursor));
        format!("/desk/orders{}", query_string(&pairs))
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html(
        status,
        &LedgerPage {
            nav: staff.nav("orders"),
            errors,
            statuses: labelled("work_order_status", &STATUSES),
            sources: labelled("work_order_source", &SOURCES),
            categories,
            choices,
            lines,
            next,
            export,
            cap: EXPORT_CAP,
            q,
        },
    )
}

/// The filtered ledger, all of it up to [`EXPORT_CAP`] rows, as an Excel file.
async fn download(state: State, staff: Staff, query: web::Query<LedgerQuery>) -> PageResult {
    let q = query.into_inner();
    let tz = state.rules.timezone;
    let mut filter = match q.filter(list_scope(&staff.actor), tz) {
        Ok(filter) => filter,
        // Filters that do not parse are shown on the ledger with what to fix.
        Err(_) => return show_ledger(&state, staff, q).await,
    };
    let now = Utc::now();
    let actor_id = staff.actor.user_id.clone();
    let (rows, capped) = state
        .db
        .run(move |conn| {
            let exported = view::export_rows(conn, &mut filter, EXPORT_CAP, tz, now)?;
            let detail = serde_json::json!({"rows": exported.0.len()});
            conn.write(|conn| {
                audit::record(
                    conn,
                    &actor_id,
                    Audited::OrdersExported,
                    None,
                    Some(detail),
                    now,
                )
            })?;
            Ok(exported)
        })
        .await?;
    let bytes = export::xlsx("工单台账", &view::EXPORT_HEADERS, &rows)?;
    let day = now.with_timezone(&tz).format("%Y%m%d").to_string();
    let name = if capped {
        format!("工单台账-{day}-前{EXPORT_CAP}条.xlsx")
    } else {
        format!("工单台账-{day}.xlsx")
    };
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"minqing-orders-{day}.xlsx\"; filename*=UTF-8''{}",
                view::percent_encode(&name)
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// The order a desk path names by its code (or id), if the staff member supervises it:
/// anything outside their subtree is not found.
fn find_supervised(conn: &mut DbConn, staff: &Staff, key: &str) -> Result<WorkOrderRow, ApiError> {
    let by_code = work_orders::find_by_code(conn, &key.trim().to_ascii_uppercase())?;
    let id = by_code.map_or_else(|| key.to_string(), |r| r.id);
    order_for(conn, &staff.actor, &id, Party::Supervisor).map_err(|e| match e {
        ApiError::Forbidden(_) => ApiError::not_found("work order"),
        other => other,
    })
}

struct TimelineLine {
    at: String,
    what: String,
    who: String,
    details: Option<String>,
    note: Option<String>,
    photos: Vec<PhotoLink>,
}

struct DuplicateLine {
    code: String,
    href: String,
    title: String,
    status: String,
    distance: String,
    reason: String,
}

/// What one order's page shows besides its line.
struct OrderFacts {
    description: String,
    address: String,
    reporter: String,
    phone: String,
    commitment: String,
    assigned_at: String,
    accepted_at: String,
    /// The first committed deadline, when an extension has moved it.
    original_due_at: Option<String>,
    rating: String,
    reopened: i32,
    on_spot: bool,
}

#[derive(Template)]
#[template(path = "desk/order.html")]
struct OrderPage {
    nav: Nav,
    line: OrderLine,
    facts: OrderFacts,
    photos: Vec<PhotoLink>,
    timeline: Vec<TimelineLine>,
    extension: Option<ExtensionLine>,
    form: Option<AssignForm>,
    choices: Choices,
    can_reject: bool,
    reject_action: String,
    reason: String,
    duplicates: Vec<DuplicateLine>,
    error: Option<String>,
}

/// What a page shown again after a posted form carries: the notice or error, and what was
/// typed.
#[derive(Default)]
struct Flash {
    notice: Option<String>,
    error: Option<String>,
    assign: Option<AssignInput>,
    reason: String,
}

#[derive(Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn detail(
    state: State,
    staff: Staff,
    key: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    let flash = Flash {
        notice: notice(&query.done),
        ..Flash::default()
    };
    show_order(&state, staff, key.into_inner(), StatusCode::OK, flash).await
}

async fn show_order(
    state: &State,
    staff: Staff,
    key: String,
    status: StatusCode,
    flash: Flash,
) -> PageResult {
    let app = state.clone();
    let tz = state.rules.timezone;
    let now = Utc::now();
    let within = subtree(&list_scope(&staff.actor));
    let nav = staff.nav("orders").with_notice(flash.notice);
    let page = state
        .db
        .run(move |conn| {
            let row = find_supervised(conn, &staff, &key)?;
            if row.reporter_phone.is_some() {
                conn.write(|conn| {
                    let id = Some(row.id.as_str());
                    audit::record(
                        conn,
                        &staff.actor.user_id,
                        Audited::ReporterRead,
                        id,
                        None,
                        now,
                    )
                })?;
            }
            let events = work_orders::events_of(conn, &row.id)?;
            let extension = work_orders::pending_extension(conn, &row.id)?;
            let photos = work_orders::photo_ids_of(conn, std::slice::from_ref(&row.id))?
                .remove(&row.id)
                .unwrap_or_default();
            // Likely duplicates in another town are not this supervisor's to see.
            let duplicates: Vec<(WorkOrderRow, f64)> = likely_duplicates(conn, &row)?
                .into_iter()
                .filter(|(o, _)| {
                    crate::domain::access::order_parties(&staff.actor, &o.facts())
                        .contains(&Party::Supervisor)
                })
                .collect();
            let mut people: Vec<String> =
                events.iter().filter_map(|e| e.actor_id.clone()).collect();
            people.extend(extension.iter().map(|e| e.requested_by.clone()));
            let names = Names::load(conn, std::slice::from_ref(&row), people)?;
            let back = order_href(&row.code);
            let form = AssignForm::for_order(&row, &names, &back)?;
            let form = match (form, &flash.assign) {
                (Some(form), Some(typed)) => Some(form.with_input(typed)),
                (form, _) => form,
            };
            let choices = Choices::load(conn, within.as_deref())?;
            let can_reject = view::may(&row, "reject")?;
            let timeline = events
                .iter()
                .map(|e| TimelineLine {
                    at: labels::local_time(utc(e.at), tz),
                    what: labels::label_or_word("timeline_event", &e.kind),
                    who: match e.actor_kind.as_str() {
                        "user" => Some(names.person(e.actor_id.as_deref()))
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| labels::label_or_word("timeline_actor", "user")),
                        kind => labels::label_or_word("timeline_actor", kind),
                    },
                    details: event_details(&e.kind, e.data.as_deref(), &names, tz),
                    note: e.note.clone(),
                    photos: photo_links(&app, &e.photos(), now),
                })
                .collect();
            let duplicates = duplicates
                .iter()
                .map(|(o, metres)| DuplicateLine {
                    code: o.code.clone(),
                    href: order_href(&o.code),
                    title: o.title.clone(),
                    status: labels::label_or_word("work_order_status", &o.status),
                    distance: format!("{metres:.0} 米"),
                    reason: format!("与 {} 反映的是同一问题", o.code),
                })
                .collect();
            let original_due_at = row
                .original_due_at
                .filter(|o| Some(*o) != row.due_at)
                .map(|t| labels::local_time(utc(t), tz));
            let local = |t: Option<chrono::NaiveDateTime>| {
                t.map(|t| labels::local_time(utc(t), tz))
                    .unwrap_or_default()
            };
            let facts = OrderFacts {
                description: row.description.clone(),
                address: row.address.clone().unwrap_or_default(),
                reporter: row.reporter_name.clone().unwrap_or_default(),
                phone: row.reporter_phone.clone().unwrap_or_default(),
                commitment: row.commitment.clone().unwrap_or_default(),
                assigned_at: local(row.assigned_at),
                accepted_at: local(row.accepted_at),
                original_due_at,
                rating: row.rating.map(|r| format!("{r} 分")).unwrap_or_default(),
                reopened: row.reopen_count,
                on_spot: row.resolved_on_spot,
            };
            Ok(OrderPage {
                line: OrderLine::new(&row, &names, tz, now)?,
                facts,
                photos: photo_links(&app, &photos, now),
                timeline,
                extension: extension
                    .as_ref()
                    .map(|e| ExtensionLine::new(e, &row.code, &names, &back, tz)),
                form,
                choices,
                can_reject,
                reject_action: format!("{back}/reject"),
                reason: flash.reason,
                duplicates,
                error: flash.error,
                nav,
            })
        })
        .await?;
    html(status, &page)
}

/// A posted form: the desk page it came from, the `done` word of its notice, what it tried
/// in words (派单, 驳回), and what to show again if it is refused.
struct Posted {
    back: String,
    done: &'static str,
    step: &'static str,
    flash: Flash,
}

/// Runs a supervisor's step on the order at `key`, and answers as the desk does: back to
/// where the form came from with `done`, or the order's page again with the refusal in
/// words.
/// A life-cycle step the signed-in supervisor takes on the order, for `act`.
fn supervisor_step(
    change: Change,
) -> impl FnOnce(&mut DbConn, &AppState, &Staff, &WorkOrderRow) -> Result<(), ApiError> + Send + 'static
{
    move |conn, app, staff, row| {
        let proof = crate::work_orders::ReporterProof::None;
        take_step(conn, app, Some(&staff.actor), &proof, &row.id, change).map(|_| ())
    }
}

async fn act(
    state: State,
    staff: Staff,
    key: String,
    posted: Posted,
    change: impl FnOnce(&mut DbConn, &AppState, &Staff, &WorkOrderRow) -> Result<(), ApiError>
        + Send
        + 'static,
) -> PageResult {
    let Posted {
        back,
        done,
        step,
        flash,
    } = posted;
    let app = state.clone();
    let (staff, row, outcome) = state
        .db
        .run(move |conn| {
            let row = find_supervised(conn, &staff, &key)?;
            let outcome = change(conn, &app, &staff, &row);
            Ok((staff, row, outcome))
        })
        .await?;
    let err = match outcome {
        Ok(()) => return Ok(see_other(&back_to(&back, &order_href(&row.code), done))),
        Err(err) => err,
    };
    let words = match (&err, done) {
        (ApiError::Conflict(_), "extension_approved" | "extension_rejected") => {
            Some("这个延期申请已经处理过了。".to_string())
        }
        _ => refusal_words(&err, &row, step),
    };
    match words {
        Some(words) => {
            let status = actix_web::ResponseError::status_code(&err);
            let flash = Flash {
                error: Some(words),
                ..flash
            };
            show_order(&state, staff, row.code, status, flash).await
        }
        None => Err(PageError(err)),
    }
}

async fn assign(
    state: State,
    staff: Staff,
    key: web::Path<String>,
    form: web::Form<AssignInput>,
) -> PageResult {
    let typed = form.into_inner();
    let flash = Flash {
        assign: Some(typed.clone()),
        ..Flash::default()
    };
    let request = match typed.request(state.rules.timezone) {
        Ok(request) => request,
        Err(words) => {
            let flash = Flash {
                error: Some(words),
                ..flash
            };
            return show_order(
                &state,
                staff,
                key.into_inner(),
                StatusCode::UNPROCESSABLE_ENTITY,
                flash,
            )
            .await;
        }
    };
    act(
        state,
        staff,
        key.into_inner(),
        Posted {
            back: typed.back,
            done: "assigned",
            step: "派单",
            flash,
        },
        supervisor_step(Change::Assign(request)),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RejectInput {
    reason: String,
    /// The code of the order this one repeats.
    duplicate_of: String,
    back: String,
}

async fn reject(
    state: State,
    staff: Staff,
    key: web::Path<String>,
    form: web::Form<RejectInput>,
) -> PageResult {
    let RejectInput {
        reason,
        duplicate_of,
        back,
    } = form.into_inner();
    let flash = Flash {
        reason: reason.clone(),
        ..Flash::default()
    };
    let request = RejectRequest {
        reason,
        duplicate_of: given(&duplicate_of),
    };
    act(
        state,
        staff,
        key.into_inner(),
        Posted {
            back,
            done: "rejected",
            step: "驳回",
            flash,
        },
        supervisor_step(Change::Reject(request)),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecisionInput {
    /// `true` from 同意延期, `false` from 不同意延期.
    approve: String,
    back: String,
}

async fn decide_extension(
    state: State,
    staff: Staff,
    path: web::Path<(String, String)>,
    form: web::Form<DecisionInput>,
) -> PageResult {
    let (key, eid) = path.into_inner();
    let DecisionInput { approve, back } = form.into_inner();
    let approve = match approve.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(ApiError::BadRequest("approve must be true or false".into()).into()),
    };
    let done = if approve {
        "extension_approved"
    } else {
        "extension_rejected"
    };
    act(
        state,
        staff,
        key,
        Posted {
            back,
            done,
            step: "审批延期",
            flash: Flash::default(),
        },
        move |conn, app, staff, row| {
            crate::work_orders::decide_extension(
                conn,
                app,
                &staff.actor,
                &row.id,
                &eid,
                approve,
                None,
            )
            .map(|_| ())
        },
    )
    .await
}
