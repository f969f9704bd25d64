//! The supervisor's desk (督查办) at `/desk/`: server-rendered pages for supervisors (their
//! own subtree) and the admin, on the same page stack as the phone pages. Each page is a
//! module with its own routes and template under `web/templates/desk/`; this module holds
//! what they share: who may come in, the navigation, and the check on posted forms.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{self, ContentType};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use minqing_protocol::Role;

use super::{session, PageError};
use crate::db::models::UserRow;
use crate::domain::access::Actor;
use crate::error::ApiError;
use crate::http::State;

pub mod approvals;
pub mod bulletin;
pub mod cards;
pub mod close;
pub mod compliance;
pub mod home;
pub mod logs;
pub mod orders;
pub mod overdue;
pub mod records;
pub mod review;
pub mod scores;
pub mod sessions;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/desk",
        web::get().to(|| async { super::see_other("/desk/") }),
    )
    .configure(home::routes)
    .configure(overdue::routes)
    .configure(orders::routes)
    .configure(review::routes)
    .configure(approvals::routes)
    .configure(compliance::routes)
    .configure(scores::routes)
    .configure(records::routes)
    .configure(sessions::routes)
    .configure(logs::routes)
    .configure(close::routes)
    .configure(bulletin::routes)
    .configure(cards::routes);
}

/// A signed-in supervisor or admin. Extracting it answers for everyone else: no session →
/// the sign-in page (and back here after), a cadre or villager → 403 with a link to their own
/// pages. A posted form must come from this site (a form on another site cannot act here).
pub struct Staff {
    pub user: UserRow,
    pub actor: Actor,
    /// The name of the supervisor's org unit (the county for an admin without one).
    pub unit_name: String,
}

impl Staff {
    pub fn is_admin(&self) -> bool {
        self.actor.role == Role::Admin
    }

    /// The navigation bar of a page, with `active` marking the page's own link.
    pub fn nav(&self, active: &'static str) -> Nav {
        Nav {
            active,
            user_name: self.user.name.clone(),
            unit_name: self.unit_name.clone(),
            notice: None,
        }
    }
}

/// What `desk/layout.html` needs: the page's link, who is signed in, and a one-line notice
/// after an action ("已派单").
pub struct Nav {
    pub active: &'static str,
    pub user_name: String,
    pub unit_name: String,
    pub notice: Option<String>,
}

impl Nav {
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

#[derive(Debug)]
pub enum Refusal {
    SignIn { next: String },
    NotStaff { role: Role },
    Foreign,
    Failed(PageError),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[derive(Template)]
#[template(path = "desk/forbidden.html")]
struct ForbiddenPage {
    link: Option<(&'static str, &'static str)>,
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::SignIn { .. } => StatusCode::SEE_OTHER,
            Refusal::NotStaff { .. } | Refusal::Foreign => StatusCode::FORBIDDEN,
            Refusal::Failed(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Refusal::SignIn { next } => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/login?next={next}")))
                .finish(),
            Refusal::NotStaff { role } => {
                let link = match role {
                    Role::Cadre => Some(("/app/", "前往干部端")),
                    Role::Villager => Some(("/my", "查看我反映的问题")),
                    Role::Admin | Role::Supervisor => None,
                };
                HttpResponse::Forbidden()
                    .content_type(ContentType::html())
                    .body(ForbiddenPage { link }.render().unwrap_or_default())
            }
            Refusal::Foreign => PageError(ApiError::Forbidden(
                "a form posted from another site".into(),
            ))
            .error_response(),
            Refusal::Failed(e) => e.error_response(),
        }
    }
}

/// Only desk paths are passed back through the sign-in page, so `next` can never send a
/// person to another site.
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with("/desk/") || next == "/desk")
        .then_some(next)
        .filter(|n| !n.contains("//") && !n.contains('\\'))
}

/// A POST must name this server as its origin when the browser says where it came from.
fn posted_here(req: &HttpRequest) -> bool {
    if req.method() != Method::POST {
        return true;
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return true;
    };
    let host = req.connection_info().host().to_string();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

impl FromRequest for Staff {
    type Error = Refusal;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refusal>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if !posted_here(&req) {
                return Err(Refusal::Foreign);
            }
            let state = req.app_data::<State>().cloned().ok_or_else(|| {
                Refusal::Failed(ApiError::Internal(anyhow::anyhow!("app state missing")).into())
            })?;
            let Some((user, actor)) = session::current(&state, &req)
                .await
                .map_err(|e| Refusal::Failed(e.into()))?
            else {
                let next = if req.method() == Method::GET {
                    req.uri()
                        .path_and_query()
                        .map_or("/desk/", |p| p.as_str())
                        .to_string()
                } else {
                    "/desk/".to_string()
                };
                return Err(Refusal::SignIn {
                    next: percent_encode(&next),
                });
            };
            if !matches!(actor.role, Role::Supervisor | Role::Admin) {
                return Err(Refusal::NotStaff { role: actor.role });
            }
            let unit = user.org_unit_id.clone();
            let unit_name = state
                .db
                .run(move |conn| match unit {
                    Some(id) => Ok(crate::db::org::find(conn, &id)?.map(|u| u.name)),
                    None => Ok(None),
                })
                .await
                .map_err(|e| Refusal::Failed(e.into()))?
                .unwrap_or_else(|| "全县".to_string());
            Ok(Staff {
                user,
                actor,
                unit_name,
            })
        })
    }
}

/// Enough percent-encoding for a path and query carried in `next=`.
pub(super) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
