//! 档案 `/desk/records`: the achievement (实绩档案) and problem-trace (问题痕迹档案) records
//! that closing a period wrote for the cadres of the supervisor's subtree, newest first,
//! filtered by kind and period, each with its 销号 history. Evidence waiting for
//! verification is shown with its photos and a form to approve it (通过销号) or send it back
//! (退回整改), through the same service as `POST /api/v1/records/{id}/verify`.

use actix_web::web;
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use minqing_protocol::{RecordAction, RecordEvent, RecordStatus, Role};
use serde::Deserialize;

use super::close::{date_words, period_choices, period_words, PeriodChoice};
use super::{Nav, Staff};
use crate::db::models::enum_text;
use crate::db::scoring::{self as store, RecordFilter, RecordRow};
use crate::domain::access::{reach, Action};
use crate::domain::labels;
use crate::domain::scoring::Period;
use crate::error::ApiError;
use crate::http::paging::Paging;
use crate::http::{AppState, State};
use crate::pages::{ok, photo_links, see_other, PageResult, PhotoLink};
use crate::records;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/records", web::get().to(records_page))
        .route("/desk/records/{id}/verify", web::post().to(verify_posted));
}

const PAGE_SIZE: i64 = 50;
const KINDS: [&str; 2] = ["achievement", "problem"];

/// One step of a record's history in words: when, who, what, and the note or evidence.
struct Step {
    when: String,
    who: String,
    what: String,
    text: Option<String>,
}

struct Line {
    id: String,
    cadre: String,
    unit: String,
    kind_word: String,
    kind: String,
    period: String,
    reason: String,
    rectify_by: Option<String>,
    evidence: Option<String>,
    status_word: String,
    status: Option<String>,
    /// The photos of the evidence waiting for verification.
    photos: Vec<PhotoLink>,
    history: Vec<Step>,
    /// Evidence waits for verification and this reader may decide it (not their own record).
    may_verify: bool,
    /// Evidence waits, but the record is the reader's own.
    own_pending: bool,
}

struct KindChoice {
    value: &'static str,
    words: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "desk/records.html")]
struct RecordsPage {
    nav: Nav,
    kinds: Vec<KindChoice>,
    periods: Vec<PeriodChoice>,
    lines: Vec<Line>,
    /// The filters as a query string for the next page's link.
    filters: String,
    next: Option<String>,
    error: Option<String>,
    max_note: usize,
}

#[derive(Deserialize)]
struct RecordsQuery {
    kind: Option<String>,
    period: Option<String>,
    cursor: Option<String>,
    /// What the verification form did: `cleared` or `sent_back`.
    done: Option<String>,
}

/// The reason closing a period wrote before it wrote Chinese (`实绩 achievement: ranked 2 of
/// 9 organ cadres in 2026-11 (机关干部月度考核)`) in words; any other reason as it was written.
fn reason_words(reason: &str) -> String {
    let parsed = (|| {
        let (_, rest) = reason.split_once(": ranked ")?;
        let (rank, rest) = rest.split_once(" of ")?;
        let (of, rest) = rest.split_once(' ')?;
        let (category, rest) = rest.split_once(" cadres in ")?;
        let (_, scheme) = rest.split_once(" (")?;
        let scheme = scheme.strip_suffix(')')?;
        let (rank, of) = (rank.parse::<u32>().ok()?, of.parse::<u32>().ok()?);
        Some(format!(
            "{scheme}：{}第 {rank} 名（共 {of} 人）",
            labels::label_or_word("cadre_category", category)
        ))
    })();
    parsed.unwrap_or_else(|| reason.to_string())
}

fn step_words(event: &RecordEvent, tz: Tz) -> Step {
    let text = match event.action {
        RecordAction::Rectified => event.evidence.clone(),
        RecordAction::Approved | RecordAction::SentBack => event.note.clone(),
    };
    Step {
        when: labels::local_time(event.at, tz),
        who: event.actor_name.clone(),
        what: labels::label_or_word("record_action", &enum_text(&event.action)),
        text,
    }
}

/// A record as the page shows it; `reader` is the signed-in person, who may verify evidence
/// waiting on someone else's record when they are a supervisor.
struct Shown<'a> {
    state: &'a AppState,
    reader: &'a Staff,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl Shown<'_> {
    fn line(
        &self,
        (row, cadre, unit): (RecordRow, String, String),
        history: Vec<RecordEvent>,
    ) -> Result<Line, ApiError> {
        let status = records::status_on(&row, self.today)?;
        let pending = status == Some(RecordStatus::PendingVerification);
        let own = row.user_id == self.reader.user.id;
        let photos = history
            .iter()
            .rev()
            .find(|e| e.action == RecordAction::Rectified)
            .and_then(|e| e.photo_ids.clone())
            .map(|ids| photo_links(self.state, &ids, self.now))
            .unwrap_or_default();
        let tz = self.state.rules.timezone;
        let status_word = status.as_ref().map(enum_text).unwrap_or_default();
        Ok(Line {
            id: row.id,
            cadre,
            unit,
            kind: labels::label_or_word("record_kind", &row.kind),
            period: Period::parse(&row.period).map_or_else(|_| row.period.clone(), period_words),
            reason: reason_words(&row.reason),
            rectify_by: row.rectify_by.map(date_words),
            evidence: row.evidence,
            status: status.map(|s| labels::label_or_word("record_status", &enum_text(&s))),
            status_word,
            kind_word: row.kind,
            photos: if pending { photos } else { Vec::new() },
            history: history.iter().map(|e| step_words(e, tz)).collect(),
            may_verify: pending && !own && self.reader.actor.role == Role::Supervisor,
            own_pending: pending && own,
        })
    }
}

/// The notice after the verification form: what became of the record.
fn notice(done: Option<&str>) -> Option<String> {
    match done {
        Some("cleared") => Some("已销号。".into()),
        Some("sent_back") => Some("已退回，待干部重新提交整改材料。".into()),
        _ => None,
    }
}

async fn records_page(state: State, staff: Staff, query: web::Query<RecordsQuery>) -> PageResult {
    let q = query.into_inner();
    let within = reach(&staff.actor, Action::ReadScores)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?;
    let today = Utc::now().with_timezone(&state.rules.timezone).date_naive();
    let kind = q.kind.filter(|k| KINDS.contains(&k.as_str()));
    let (period, error) = match q
        .period
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(Period::parse)
    {
        Some(Ok(p)) => (Some(p), None),
        Some(Err(_)) => (
            None,
            Some("考核期的格式不对，已显示全部考核期。".to_string()),
        ),
        None => (None, None),
    };
    let paging = Paging::parse(Some(PAGE_SIZE), q.cursor.as_deref())?;
    let filter = RecordFilter {
        kind: kind.clone(),
        period: period.map(|p| p.to_string()),
        within,
        before: paging.after.clone(),
        limit: paging.fetch(),
    };
    let (rows, mut histories) = state
        .db
        .run(move |conn| {
            let rows = store::records_with_names(conn, &filter)?;
            let plain: Vec<RecordRow> = rows.iter().map(|(r, _, _)| r.clone()).collect();
            let histories = records::histories(conn, &plain)?;
            Ok((rows, histories))
        })
        .await?;
    let page = paging.page(rows, |(r, _, _)| r.id.clone());
    let shown = Shown {
        state: &state,
        reader: &staff,
        today,
        now: Utc::now(),
    };
    let lines = page
        .items
        .into_iter()
        .map(|item| {
            let history = histories.remove(&item.0.id).unwrap_or_default();
            shown.line(item, history)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut filters = String::new();
    if let Some(k) = &kind {
        filters.push_str(&format!("kind={k}&"));
    }
    if let Some(p) = period {
        filters.push_str(&format!("period={p}&"));
    }
    ok(&RecordsPage {
        nav: staff.nav("records").with_notice(notice(q.done.as_deref())),
        kinds: KINDS
            .iter()
            .map(|k| KindChoice {
                value: k,
                words: labels::label_or_word("record_kind", k),
                selected: kind.as_deref() == Some(*k),
            })
            .collect(),
        periods: period_choices(today, period),
        lines,
        filters,
        next: page.next_cursor,
        error,
        max_note: MAX_NOTE_CHARS,
    })
}

const MAX_NOTE_CHARS: usize = 2000;

#[derive(Deserialize)]
struct VerifyForm {
    /// `approve` (通过销号) or `send_back` (退回整改).
    decision: String,
    #[serde(default)]
    note: String,
}

/// Decides the evidence waiting on a record, as `POST /api/v1/records/{id}/verify` does, and
/// goes back to the list with what became of it.
async fn verify_posted(
    state: State,
    staff: Staff,
    id: web::Path<String>,
    form: web::Form<VerifyForm>,
) -> PageResult {
    let VerifyForm { decision, note } = form.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "send_back" => false,
        _ => {
            return Err(ApiError::invalid("decision", "press 通过销号 or 退回整改").into());
        }
    };
    let actor = staff.actor.clone();
    let id = id.into_inner();
    let now = Utc::now();
    let today = now.with_timezone(&state.rules.timezone).date_naive();
    state
        .db
        .run(move |conn| records::verify(conn, &actor, &id, (approve, Some(&note)), now, today))
        .await?;
    let done = if approve { "cleared" } else { "sent_back" };
    Ok(see_other(&format!("/desk/records?done={done}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_written_by_closing_read_in_words() {
        assert_eq!(
            reason_words(
                "实绩 achievement: ranked 2 of 9 organ cadres in 2026-11 (机关干部月度考核)"
            ),
            "机关干部月度考核：机关干部第 2 名（共 9 人）"
        );
        assert_eq!(
            reason_words(
                "问题痕迹 problem: ranked 9 of 9 village cadres in 2026-Q4 (村干部 (试行))"
            ),
            "村干部 (试行)：农村干部第 9 名（共 9 人）"
        );
        assert_eq!(reason_words("群众联名表扬"), "群众联名表扬");
    }

    #[test]
    fn what_the_form_did_reads_as_a_notice() {
        assert_eq!(notice(Some("cleared")).as_deref(), Some("已销号。"));
        assert!(notice(Some("sent_back")).is_some_and(|n| n.starts_with("已退回")));
        assert_eq!(notice(Some("other")), None);
    }
}
