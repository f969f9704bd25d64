//! 待审核打卡 `/desk/review`: the flagged check-ins of the supervisor's subtree, oldest
//! first, each with its photos, its flags in words and a map; several are approved or
//! rejected at once with one reason, through the same service as the API's review.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use minqing_protocol::ReviewDecision;
use serde::Deserialize;

use super::{Nav, Staff};
use crate::checkins::{decide, review_reason, MAX_REASON_CHARS};
use crate::db::checkins::{self, CheckinRow};
use crate::db::models::{utc, OrgUnitRow};
use crate::db::org;
use crate::domain::access::{reach, Action};
use crate::domain::coords::LatLon;
use crate::domain::labels;
use crate::domain::map::{checkin_map, MapInput};
use crate::error::ApiError;
use crate::http::paging::{time_key, Paging};
use crate::http::{AppState, State};
use crate::pages::{html, ok, photo_links, see_other, PageError, PageResult, PhotoLink};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/review", web::get().to(review_page))
        .route("/desk/review", web::post().to(decide_chosen));
}

/// Cards on one page: each carries a map and photos, so a page stays light.
const PAGE_SIZE: i64 = 20;
/// Most check-ins decided in one post (a page shows fewer; more is a forged form).
const MAX_CHOSEN: usize = 100;
/// A check-in that reached the server this much after it was recorded shows when it did.
const LATE_AFTER: Duration = Duration::minutes(60);

struct Card {
    id: String,
    cadre: String,
    kind: String,
    village: String,
    recorded: String,
    received: Option<String>,
    accuracy: String,
    household: Option<String>,
    note: Option<String>,
    flags: Vec<String>,
    photos: Vec<PhotoLink>,
    map: String,
    has_boundary: bool,
    has_previous: bool,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "desk/review.html")]
struct ReviewPage {
    nav: Nav,
    cards: Vec<Card>,
    /// The page's own cursor, posted back so that the same page shows after a decision.
    cursor: String,
    next: Option<String>,
    reason: String,
    errors: Vec<String>,
    max_reason: usize,
}

/// A flag as stored: read loosely, so that a flag code newer than this page still shows.
#[derive(Deserialize)]
struct StoredFlag {
    code: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// A time in the towns' zone, with the year when it is not this year's.
fn when(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    if t.with_timezone(&tz).year() == now.with_timezone(&tz).year() {
        labels::local_time(t, tz)
    } else {
        labels::local_date_time_with_year(t, tz)
    }
}

/// What the database gives for one card.
struct Loaded {
    row: CheckinRow,
    cadre: String,
    village: Option<OrgUnitRow>,
    photos: Vec<String>,
    previous: Option<(f64, f64)>,
}

fn card(
    state: &AppState,
    l: Loaded,
    chosen: &HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Card, ApiError> {
    let tz = state.rules.timezone;
    let row = l.row;
    let flags: Vec<StoredFlag> = serde_json::from_str(&row.flags)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored flags of {}: {e}", row.id)))?;
    let boundary = match &l.village {
        Some(v) => state.boundaries.boundary_of(v)?,
        None => None,
    };
    let previous = l.previous.map(|(lat, lon)| LatLon { lat, lon });
    let map = checkin_map(&MapInput {
        boundary: boundary.as_deref(),
        point: LatLon {
            lat: row.lat,
            lon: row.lon,
        },
        previous,
    });
    let (recorded, received) = (utc(row.recorded_at), utc(row.received_at));
    Ok(Card {
        chosen: chosen.contains(&row.id),
        cadre: l.cadre,
        kind: labels::label_or_word("checkin_kind", &row.kind),
        village: l
            .village
            .map_or_else(|| "（村已删除）".to_string(), |v| v.name),
        recorded: when(recorded, tz, now),
        received: (received - recorded > LATE_AFTER).then(|| when(received, tz, now)),
        accuracy: format!("{:.0} 米", row.accuracy_m),
        household: row.household,
        note: row.note,
        flags: flags
            .iter()
            .map(|f| labels::flag_text_in(&f.code, &f.value, tz))
            .collect(),
        photos: photo_links(state, &l.photos, now),
        map,
        has_boundary: boundary.is_some(),
        has_previous: previous.is_some(),
        id: row.id,
    })
}

/// The page of cards after `cursor`, with `chosen` ticked, and the cursor of the next page.
async fn cards(
    state: &State,
    staff: &Staff,
    cursor: Option<&str>,
    chosen: &HashSet<String>,
) -> Result<(Vec<Card>, Option<String>), PageError> {
    let within = reach(&staff.actor, Action::ReviewCheckins)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?;
    let paging = Paging::parse(Some(PAGE_SIZE), cursor)?;
    let after = paging.after_time()?;
    let (loaded, next) = state
        .db
        .run(move |conn| {
            let closed = crate::scoring::closed_nights(conn)?;
            let rows = checkins::flagged_oldest_first(
                conn,
                within.as_deref(),
                after.as_ref(),
                &closed,
                paging.fetch(),
            )?;
            let page = paging.page(rows, |(r, _)| time_key(utc(r.recorded_at), &r.id));
            let ids: Vec<String> = page.items.iter().map(|(r, _)| r.id.clone()).collect();
            let village_ids: Vec<String> = page
                .items
                .iter()
                .map(|(r, _)| r.village_id.clone())
                .collect();
            let villages = org::find_many(conn, &village_ids)?;
            let mut photos = checkins::photo_ids_of(conn, &ids)?;
            let loaded = page
                .items
                .into_iter()
                .map(|(row, cadre)| {
                    let previous =
                        checkins::position_before(conn, &row.user_id, row.recorded_at, &row.id)?;
                    Ok(Loaded {
                        village: villages.iter().find(|v| v.id == row.village_id).cloned(),
                        photos: photos.remove(&row.id).unwrap_or_default(),
                        previous,
                        cadre,
                        row,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok((loaded, page.next_cursor))
        })
        .await?;
    let now = Utc::now();
    let cards = loaded
        .into_iter()
        .map(|l| card(state, l, chosen, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((cards, next))
}

#[derive(Deserialize)]
struct ReviewQuery {
    cursor: Option<String>,
    approved: Option<u32>,
    rejected: Option<u32>,
    skipped: Option<u32>,
}

/// What was done, from the numbers the post sent back here.
fn notice(q: &ReviewQuery) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(n) = q.approved {
        parts.push(format!("已通过 {n} 条"));
    }
    if let Some(n) = q.rejected {
        parts.push(format!("已驳回 {n} 条"));
    }
    if let Some(n) = q.skipped.filter(|n| *n > 0) {
        parts.push(format!("{n} 条已由他人审核或所属考核期已结算，未改动"));
    }
    (!parts.is_empty()).then(|| format!("{}。", parts.join("；")))
}

async fn review_page(state: State, staff: Staff, query: web::Query<ReviewQuery>) -> PageResult {
    let q = query.into_inner();
    let (cards, next) = cards(&state, &staff, q.cursor.as_deref(), &HashSet::new()).await?;
    ok(&ReviewPage {
        nav: staff.nav("review").with_notice(notice(&q)),
        cards,
        cursor: q.cursor.unwrap_or_default(),
        next,
        reason: String::new(),
        errors: Vec::new(),
        max_reason: MAX_REASON_CHARS,
    })
}

/// The posted form: the ticked check-ins (`id`, repeated), `reason`, the button pressed
/// (`decision`) and the page it came from (`cursor`).
#[derive(Default)]
struct Chosen {
    ids: Vec<String>,
    reason: String,
    decision: Option<ReviewDecision>,
    cursor: String,
}

impl Chosen {
    fn read(fields: Vec<(String, String)>) -> Chosen {
        let mut chosen = Chosen::default();
        for (name, value) in fields {
            match name.as_str() {
                "id" if !chosen.ids.contains(&value) => chosen.ids.push(value),
                "reason" => chosen.reason = value,
                "decision" => {
                    chosen.decision = match value.as_str() {
                        "approve" => Some(ReviewDecision::Approve),
                        "reject" => Some(ReviewDecision::Reject),
                        _ => None,
                    }
                }
                "cursor" => chosen.cursor = value,
                _ => {}
            }
        }
        chosen
    }
}

/// Decides every ticked check-in with one reason, in one transaction: a check-in outside
/// the subtree fails the whole post as missing (404), one it may only read as forbidden
/// (403), one decided meanwhile is left alone.
async fn decide_chosen(
    state: State,
    staff: Staff,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let chosen = Chosen::read(form.into_inner());
    let mut errors = Vec::new();
    if chosen.decision.is_none() {
        errors.push("请点击“通过”或“不通过”。".to_string());
    }
    if chosen.ids.is_empty() {
        errors.push("请至少选择一条打卡。".to_string());
    } else if chosen.ids.len() > MAX_CHOSEN {
        errors.push(format!("一次最多审核 {MAX_CHOSEN} 条。"));
    }
    let reason = match review_reason(&staff.actor, &chosen.reason) {
        Ok(reason) => Some(reason),
        Err(ApiError::Invalid(_)) if chosen.reason.trim().is_empty() => {
            errors.push("请填写理由。".to_string());
            None
        }
        Err(ApiError::Invalid(_)) => {
            errors.push(format!("理由不能超过 {MAX_REASON_CHARS} 字。"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    // A cursor is only carried back when it is one this page gave out.
    let cursor = Some(chosen.cursor.as_str())
        .filter(|c| !c.is_empty() && Paging::parse(Some(PAGE_SIZE), Some(c)).is_ok());
    let (Some(decision), Some(reason), true) = (chosen.decision, reason, errors.is_empty()) else {
        let ticked: HashSet<String> = chosen.ids.iter().cloned().collect();
        let (cards, next) = cards(&state, &staff, cursor, &ticked).await?;
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ReviewPage {
                nav: staff.nav("review"),
                cards,
                cursor: cursor.unwrap_or_default().to_string(),
                next,
                reason: chosen.reason,
                errors,
                max_reason: MAX_REASON_CHARS,
            },
        );
    };
    let actor = staff.actor.clone();
    let ids = chosen.ids;
    let now = Utc::now().naive_utc();
    let (decided, skipped) = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                let (mut decided, mut skipped) = (0u32, 0u32);
                for id in &ids {
                    match decide(conn, &actor, id, decision, &reason, now) {
                        Ok(_) => decided += 1,
                        Err(ApiError::Conflict(_)) => skipped += 1,
                        Err(e) => return Err(e),
                    }
                }
                Ok((decided, skipped))
            })
        })
        .await?;
    let done = match decision {
        ReviewDecision::Approve => "approved",
        ReviewDecision::Reject => "rejected",
    };
    let mut location = format!("/desk/review?{done}={decided}");
    if skipped > 0 {
        location.push_str(&format!("&skipped={skipped}"));
    }
    if let Some(c) = cursor {
        location.push_str(&format!("&cursor={c}"));
    }
    Ok(see_other(&location))
}
