//! 待签批 `/desk/approvals`: everything of the supervisor's subtree that waits for a second
//! supervisor's signature (逐级把关签名, DESIGN §2.5–2.6) — adjustments (加减分), proposed vetoes
//! and asked withdrawals of vetoes (一票否决), manual values (人工录入) — oldest first, in
//! periods still open. Each is signed (签批) through the same service as the API's
//! `…/approve`; what its first signer put forward waits for someone else, and a refusal of
//! the service is shown in words on the page.

use actix_web::http::StatusCode;
use actix_web::{web, ResponseError};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use chrono_tz::Tz;
use minqing_protocol::VetoStatus;
use serde::Deserialize;

use super::{Nav, Staff};
use crate::db::manual_values::ManualValueRow;
use crate::db::models::utc;
use crate::db::scoring::{AdjustmentRow, VetoRow};
use crate::db::{approvals as store, users};
use crate::domain::access::{reach, Action};
use crate::domain::chart::percent;
use crate::domain::labels;
use crate::domain::scoring::{
    check_adjustment_approval, points, ApprovalRefusal, Indicator, Period, Rule,
};
use crate::domain::vetoes::{check_approval, check_withdrawal_approval, VetoRefusal};
use crate::error::ApiError;
use crate::http::State;
use crate::pages::{html, see_other, PageError, PageResult};
use crate::vetoes::Step;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/desk/approvals", web::get().to(approvals_page))
        .route("/desk/approvals/{kind}/{id}", web::post().to(sign));
}

/// Most items of one kind on the page; past it the page says so (the oldest come first, so
/// signing them brings the rest up).
const CAP: i64 = 200;

/// What waits for a second signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Adjustment,
    Veto,
    Withdrawal,
    Manual,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Adjustment, Kind::Veto, Kind::Withdrawal, Kind::Manual];

    /// The word in the form's path and in `?done=`.
    fn slug(self) -> &'static str {
        match self {
            Kind::Adjustment => "adjustment",
            Kind::Veto => "veto",
            Kind::Withdrawal => "withdrawal",
            Kind::Manual => "manual",
        }
    }

    fn parse(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    fn words(self) -> &'static str {
        match self {
            Kind::Adjustment => "加减分",
            Kind::Veto => "一票否决",
            Kind::Withdrawal => "撤销一票否决",
            Kind::Manual => "人工录入",
        }
    }

    /// The notice after signing one.
    fn done(self) -> &'static str {
        match self {
            Kind::Adjustment => "已签批加减分，计入该干部本期得分。",
            Kind::Veto => "已签批一票否决，该干部本期不能评为优秀。",
            Kind::Withdrawal => "已签批撤销一票否决，该否决不再生效。",
            Kind::Manual => "已签批人工录入值，计入该干部本期得分。",
        }
    }
}

/// Whether the reader may sign an item, by the four-eyes rule of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    May,
    /// The reader is its first signer: someone else signs.
    Own,
    /// Another reason the service would refuse (it is not waiting any more).
    No,
}

struct Line {
    kind: &'static str,
    kind_words: &'static str,
    id: String,
    cadre: String,
    period: String,
    content: String,
    /// More about the content: the reason of the veto a withdrawal would lift.
    detail: Option<String>,
    reason: String,
    proposer: String,
    when: String,
    signing: Signing,
    /// For the order: when the first signature was given.
    at: NaiveDateTime,
}

impl Line {
    fn may_sign(&self) -> bool {
        self.signing == Signing::May
    }

    fn own(&self) -> bool {
        self.signing == Signing::Own
    }
}

#[derive(Template)]
#[template(path = "desk/approvals.html")]
struct ApprovalsPage {
    nav: Nav,
    lines: Vec<Line>,
    /// The kinds with more than [`CAP`] waiting, in words.
    capped: Vec<&'static str>,
    cap: i64,
    error: Option<String>,
}

/// A time in the towns' zone, with the year when it is not this year's.
fn when(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    if t.with_timezone(&tz).year() == now.with_timezone(&tz).year() {
        labels::local_time(t, tz)
    } else {
        labels::local_date_time_with_year(t, tz)
    }
}

/// A number as written: `8`, `2.5`, `-1.25`.
fn amount(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An adjustment's points in words with their sign: `加分 +2 分`, `扣分 -1.5 分`.
fn points_words(centipoints: i64) -> String {
    let p = points(centipoints);
    if p > 0.0 {
        format!("加分 +{} 分", amount(p))
    } else {
        format!("扣分 {} 分", amount(p))
    }
}

/// A manual value with its indicator's name: a rate in percent (`党建考评：85.0%`), else the
/// number (`重点工作：92`); the code when the indicator is no longer in the scheme.
fn value_words(row: &ManualValueRow, indicator: Option<&Indicator>) -> String {
    match indicator {
        Some(ind) if ind.rule == Rule::Rate => {
            format!("{}：{}", ind.name, percent(Some(row.value)))
        }
        Some(ind) => format!("{}：{}", ind.name, amount(row.value)),
        None => format!("{}：{}", row.code, amount(row.value)),
    }
}

fn period_words(period: &str) -> String {
    Period::parse(period).map_or_else(|_| period.to_string(), labels::period_words)
}

fn adjustment_signing(first: &str, me: &str) -> Signing {
    match check_adjustment_approval(first, me, false, false) {
        Ok(()) => Signing::May,
        Err(ApprovalRefusal::SameSupervisor) => Signing::Own,
        Err(_) => Signing::No,
    }
}

fn veto_signing(checked: Result<(), VetoRefusal>) -> Signing {
    match checked {
        Ok(()) => Signing::May,
        Err(VetoRefusal::SameSupervisor) => Signing::Own,
        Err(_) => Signing::No,
    }
}

/// What the page shows: every kind's waiting items (at most [`CAP`] each), with the names
/// of the people, the veto areas and the manual indicators.
struct Loaded {
    adjustments: Vec<AdjustmentRow>,
    vetoes: Vec<VetoRow>,
    withdrawals: Vec<VetoRow>,
    values: Vec<ManualValueRow>,
    names: std::collections::HashMap<String, String>,
    areas: std::collections::HashMap<String, String>,
    indicators: std::collections::HashMap<String, Indicator>,
    capped: Vec<&'static str>,
}

/// Keeps the first [`CAP`] of a list fetched with one more, noting the kind when it had more.
fn capped<T>(mut rows: Vec<T>, kind: Kind, capped: &mut Vec<&'static str>) -> Vec<T> {
    if rows.len() > CAP as usize {
        rows.truncate(CAP as usize);
        capped.push(kind.words());
    }
    rows
}

async fn load(state: &State, staff: &Staff) -> Result<Loaded, PageError> {
    let within = reach(&staff.actor, Action::JudgeScores)
        .and_then(|r| r.subtree())
        .map_err(ApiError::from)?;
    let loaded = state
        .db
        .run(move |conn| {
            let within = within.as_deref();
            let mut over = Vec::new();
            let adjustments = capped(
                store::adjustments(conn, within, CAP + 1)?,
                Kind::Adjustment,
                &mut over,
            );
            let vetoes = capped(store::vetoes(conn, within, CAP + 1)?, Kind::Veto, &mut over);
            let withdrawals = capped(
                store::withdrawals(conn, within, CAP + 1)?,
                Kind::Withdrawal,
                &mut over,
            );
            let values = capped(
                store::manual_values(conn, within, CAP + 1)?,
                Kind::Manual,
                &mut over,
            );
            let mut ids: Vec<String> = Vec::new();
            ids.extend(
                adjustments
                    .iter()
                    .flat_map(|a| [a.user_id.clone(), a.created_by.clone()]),
            );
            ids.extend(
                vetoes
                    .iter()
                    .flat_map(|v| [v.user_id.clone(), v.created_by.clone()]),
            );
            ids.extend(withdrawals.iter().flat_map(|v| {
                [Some(v.user_id.clone()), v.withdrawal_requested_by.clone()]
                    .into_iter()
                    .flatten()
            }));
            ids.extend(
                values
                    .iter()
                    .flat_map(|m| [m.user_id.clone(), m.entered_by.clone()]),
            );
            ids.sort();
            ids.dedup();
            let names = users::names_of(conn, &ids)?;
            let areas = if vetoes.is_empty() && withdrawals.is_empty() {
                Default::default()
            } else {
                crate::vetoes::area_names(conn)?
            };
            let indicators = crate::manual_values::indicators_of(conn, &values)?;
            Ok(Loaded {
                adjustments,
                vetoes,
                withdrawals,
                values,
                names,
                areas,
                indicators,
                capped: over,
            })
        })
        .await?;
    Ok(loaded)
}

/// The lines of every kind, oldest first, as the reader may act on them.
fn lines(state: &State, staff: &Staff, l: Loaded) -> Vec<Line> {
    let tz = state.rules.timezone;
    let now = Utc::now();
    let me = staff.user.id.as_str();
    let name = |id: &str| {
        l.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "（已删除）".to_string())
    };
    let line = |kind: Kind, id: &str, cadre: &str, period: &str, at: NaiveDateTime| Line {
        kind: kind.slug(),
        kind_words: kind.words(),
        id: id.to_string(),
        cadre: name(cadre),
        period: period_words(period),
        content: String::new(),
        detail: None,
        reason: String::new(),
        proposer: String::new(),
        when: when(utc(at), tz, now),
        signing: Signing::No,
        at,
    };
    let mut out = Vec::new();
    for a in &l.adjustments {
        out.push(Line {
            content: points_words(a.centipoints),
            reason: a.reason.clone(),
            proposer: name(&a.created_by),
            signing: adjustment_signing(&a.created_by, me),
            ..line(Kind::Adjustment, &a.id, &a.user_id, &a.period, a.created_at)
        });
    }
    for v in &l.vetoes {
        out.push(Line {
            content: crate::vetoes::name_of(&l.areas, &v.area),
            reason: v.reason.clone(),
            proposer: name(&v.created_by),
            signing: veto_signing(check_approval(
                VetoStatus::Pending,
                &v.created_by,
                me,
                false,
            )),
            ..line(Kind::Veto, &v.id, &v.user_id, &v.period, v.created_at)
        });
    }
    for v in &l.withdrawals {
        let (Some(by), Some(at)) = (&v.withdrawal_requested_by, v.withdrawal_requested_at) else {
            continue;
        };
        out.push(Line {
            content: crate::vetoes::name_of(&l.areas, &v.area),
            detail: Some(format!("原否决理由：{}", v.reason)),
            reason: v.withdrawal_reason.clone().unwrap_or_default(),
            proposer: name(by),
            signing: veto_signing(check_withdrawal_approval(
                VetoStatus::WithdrawalRequested,
                Some(by),
                me,
                false,
            )),
            ..line(Kind::Withdrawal, &v.id, &v.user_id, &v.period, at)
        });
    }
    for m in &l.values {
        out.push(Line {
            content: value_words(m, l.indicators.get(&m.id)),
            reason: m.reason.clone(),
            proposer: name(&m.entered_by),
            signing: adjustment_signing(&m.entered_by, me),
            ..line(Kind::Manual, &m.id, &m.user_id, &m.period, m.entered_at)
        });
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    out
}

async fn render(
    state: &State,
    staff: &Staff,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let mut loaded = load(state, staff).await?;
    let capped = std::mem::take(&mut loaded.capped);
    html(
        status,
        &ApprovalsPage {
            nav: staff.nav("approvals").with_notice(notice),
            lines: lines(state, staff, loaded),
            capped,
            cap: CAP,
            error,
        },
    )
}

#[derive(Deserialize)]
struct ApprovalsQuery {
    /// What was just signed: a kind's slug.
    done: Option<String>,
}

async fn approvals_page(
    state: State,
    staff: Staff,
    query: web::Query<ApprovalsQuery>,
) -> PageResult {
    let notice = query
        .done
        .as_deref()
        .and_then(Kind::parse)
        .map(|k| k.done().to_string());
    render(&state, &staff, StatusCode::OK, notice, None).await
}

/// What a refusal of the signing service means, in words; `closed` is the item's period when
/// it is closed.
fn refusal_words(kind: Kind, error: &ApiError, closed: Option<&str>) -> Option<String> {
    Some(match error {
        ApiError::Forbidden(_) if kind == Kind::Withdrawal => {
            "需另一位督查员签批：撤销一票否决须由申请撤销者以外的督查员签批。".to_string()
        }
        ApiError::Forbidden(_) => "需另一位督查员签批：本人提出的事项不能由本人签批。".to_string(),
        ApiError::NotFound(_) => "找不到这项待签批事项，或它不在您的辖区内。".to_string(),
        ApiError::Conflict(_) => match closed {
            Some(period) => format!("{}已结算，得分已冻结，不能再签批。", period_words(period)),
            None if kind == Kind::Manual => {
                "这项人工录入值已由其他督查员签批，或已被重新录入，请看下面的最新列表。".to_string()
            }
            None => format!("这项{}已由其他督查员签批，无需再签。", kind.words()),
        },
        _ => return None,
    })
}

/// The period of an item, when it is closed.
fn closed_period_of(
    conn: &mut crate::db::DbConn,
    kind: Kind,
    id: &str,
) -> crate::error::ApiResult<Option<String>> {
    let period = match kind {
        Kind::Adjustment => crate::db::scoring::find_adjustment(conn, id)?.map(|a| a.period),
        Kind::Veto | Kind::Withdrawal => crate::db::vetoes::find(conn, id)?.map(|v| v.period),
        Kind::Manual => crate::db::manual_values::find(conn, id)?.map(|m| m.period),
    };
    Ok(match period {
        Some(p) if crate::db::scoring::closed_at(conn, &p)?.is_some() => Some(p),
        _ => None,
    })
}

/// 签批: the second signature of one item, through the API's own service; back to the list
/// with what was done, or the list with the service's refusal in words.
async fn sign(state: State, staff: Staff, path: web::Path<(String, String)>) -> PageResult {
    let (kind, id) = path.into_inner();
    let kind = Kind::parse(&kind).ok_or(ApiError::NoSuchRoute)?;
    reach(&staff.actor, Action::JudgeScores).map_err(ApiError::from)?;
    let actor = staff.actor.clone();
    let item = id.clone();
    let now = Utc::now();
    let signed = state
        .db
        .run(move |conn| {
            let at = now.naive_utc();
            match kind {
                Kind::Adjustment => {
                    crate::scoring::approve_adjustment(conn, &actor, &item, at).map(drop)
                }
                Kind::Veto => {
                    crate::vetoes::decide(conn, &actor, &item, Step::Approve, None, at).map(drop)
                }
                Kind::Withdrawal => {
                    crate::vetoes::decide(conn, &actor, &item, Step::ApproveWithdrawal, None, at)
                        .map(drop)
                }
                Kind::Manual => crate::manual_values::approve(conn, &actor, &item, now).map(drop),
            }
        })
        .await;
    let error = match signed {
        Ok(()) => return Ok(see_other(&format!("/desk/approvals?done={}", kind.slug()))),
        Err(e) => e,
    };
    let closed = match &error {
        ApiError::Conflict(_) => {
            state
                .db
                .run(move |conn| closed_period_of(conn, kind, &id))
                .await?
        }
        _ => None,
    };
    let Some(words) = refusal_words(kind, &error, closed.as_deref()) else {
        return Err(error.into());
    };
    render(&state, &staff, error.status_code(), None, Some(words)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_from_their_slugs() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.slug()), Some(kind));
        }
        assert_eq!(Kind::parse("record"), None);
    }

    #[test]
    fn points_and_values_in_words() {
        assert_eq!(points_words(200), "加分 +2 分");
        assert_eq!(points_words(-150), "扣分 -1.5 分");
        let row = |value: f64| ManualValueRow {
            id: "m".into(),
            user_id: "u".into(),
            period: "2026-11".into(),
            code: "dj".into(),
            value,
            reason: "r".into(),
            photo_ids: "[]".into(),
            entered_by: "s".into(),
            entered_at: NaiveDateTime::default(),
            approved_by: None,
            approved_at: None,
        };
        let scheme = crate::domain::scoring::Scheme::parse(&serde_json::json!({
            "name": "s", "cadre_category": "organ", "period": "month",
            "indicators": [
                {"code": "dj", "name": "党建考评", "metric": "manual", "rule": "rate", "points": 10},
                {"code": "zdgz", "name": "重点工作", "metric": "manual", "rule": "ratio_to_target",
                 "target": 100, "points": 10}]}))
        .expect("a scheme");
        assert_eq!(
            value_words(&row(0.85), scheme.manual_indicator("dj")),
            "党建考评：85.0%"
        );
        assert_eq!(
            value_words(&row(92.0), scheme.manual_indicator("zdgz")),
            "重点工作：92"
        );
        assert_eq!(value_words(&row(7.5), None), "dj：7.5");
        assert_eq!(period_words("2026-11"), "2026年11月");
    }

    #[test]
    fn refusals_read_in_words() {
        let own = ApiError::Forbidden("a veto needs a second supervisor's sign-off".into());
        assert!(refusal_words(Kind::Veto, &own, None)
            .is_some_and(|w| w.starts_with("需另一位督查员签批")));
        let closed = ApiError::Conflict("period 2026-11 is closed".into());
        assert_eq!(
            refusal_words(Kind::Adjustment, &closed, Some("2026-11")).as_deref(),
            Some("2026年11月已结算，得分已冻结，不能再签批。")
        );
        assert!(refusal_words(Kind::Veto, &closed, None)
            .is_some_and(|w| w.contains("已由其他督查员签批")));
        assert_eq!(
            refusal_words(Kind::Manual, &ApiError::Unavailable("x".into()), None),
            None
        );
    }
}
