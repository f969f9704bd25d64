//! What the order pages show, in words and local time: an order as a line of a table or a
//! row of the Excel download, the 派单 form with its choices, an extension request waiting
//! for a decision, and a refused step explained in Chinese.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use minqing_protocol::{AssignRequest, WorkOrderStatus};
use serde::Deserialize;

use crate::db::categories;
use crate::db::models::{parse_enum, utc};
use crate::db::org::{self, OrgUnitFilter};
use crate::db::work_orders::{self, ExtensionRow, OrderScope, WorkOrderRow};
use crate::db::DbConn;
use crate::domain::labels;
use crate::domain::work_order::{is_overdue, steps_from};
use crate::domain::workdays::start_of_local_day;
use crate::error::{ApiError, ApiResult};
use crate::export::Cell;

/// More categories and units than a county has; the selects list them all.
const CATEGORY_LIMIT: i64 = 1000;
const UNIT_LIMIT: i64 = 5000;

/// The path prefix a desk list is confined to: a supervisor's subtree, or none for an admin.
pub fn subtree(scope: &OrderScope) -> Option<String> {
    match scope {
        OrderScope::Subtree(path) => Some(path.clone()),
        _ => None,
    }
}

/// The page of one order; links carry its code, never its id.
pub fn order_href(code: &str) -> String {
    format!("/desk/orders/{}", percent_encode(code))
}

/// Percent-encodes everything but letters, digits and `-._~`: safe in a query value and in
/// an RFC 5987 `filename*`.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?a=1&b=2` of the pairs with a value (empty when none has one).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The names of what orders refer to by id or code.
pub struct Names {
    units: HashMap<String, String>,
    people: HashMap<String, String>,
    /// Code → (name, default working days).
    categories: HashMap<String, (String, i32)>,
}

impl Names {
    /// The names `rows` mention (villages, units, assignees, categories) and those of `people`.
    pub fn load(conn: &mut DbConn, rows: &[WorkOrderRow], people: Vec<String>) -> ApiResult<Self> {
        let mut unit_ids: Vec<String> = rows
            .iter()
            .flat_map(|r| [Some(r.village_id.clone()), r.unit_id.clone()])
            .flatten()
            .collect();
        unit_ids.sort();
        unit_ids.dedup();
        let mut person_ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.assignee_id.clone())
            .chain(people)
            .collect();
        person_ids.sort();
        person_ids.dedup();
        Ok(Names {
            units: org::find_many(conn, &unit_ids)?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect(),
            people: work_orders::people_names(conn, &person_ids)?,
            categories: categories::list(conn, None, CATEGORY_LIMIT)?
                .into_iter()
                .map(|c| (c.code, (c.name, c.default_due_working_days)))
                .collect(),
        })
    }

    /// A unit's or village's name; nothing rather than an id when it is unknown.
    pub fn unit(&self, id: Option<&str>) -> String {
        id.and_then(|id| self.units.get(id))
            .cloned()
            .unwrap_or_default()
    }

    pub fn person(&self, id: Option<&str>) -> String {
        id.and_then(|id| self.people.get(id))
            .cloned()
            .unwrap_or_default()
    }

    pub fn category(&self, code: &str) -> String {
        self.categories
            .get(code)
            .map_or_else(|| code.to_string(), |(name, _)| name.clone())
    }

    /// The working days a category's orders get when the supervisor names no deadline.
    pub fn default_days(&self, code: &str) -> i32 {
        self.categories
            .get(code)
            .map_or(3, |(_, days)| (*days).max(1))
    }

    /// Every category as a choice, in code order.
    pub fn category_choices(&self) -> Vec<Choice> {
        let mut all: Vec<Choice> = self
            .categories
            .iter()
            .map(|(code, (name, _))| Choice {
                value: code.clone(),
                name: name.clone(),
            })
            .collect();
        all.sort_by(|a, b| a.value.cmp(&b.value));
        all
    }
}

/// How long an order is past its deadline, in whole local days as people count them: due
/// by the end of Monday, it is `超期 1 天` all Tuesday. Late the same day reads
/// `超期不足 1 天`.
pub fn overdue_words(due: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    let days = now
        .with_timezone(&tz)
        .date_naive()
        .signed_duration_since(due.with_timezone(&tz).date_naive())
        .num_days();
    if days < 1 {
        "超期不足 1 天".to_string()
    } else {
        format!("超期 {days} 天")
    }
}

/// One order as a line of a table: every field in words, times local.
pub struct OrderLine {
    pub code: String,
    pub href: String,
    pub title: String,
    pub village: String,
    pub category: String,
    pub source: String,
    pub status: String,
    /// The wire word, for the status chip's style only.
    pub status_word: String,
    pub created_at: String,
    pub unit: String,
    pub assignee: String,
    pub due_at: String,
    /// `超期 3 天` while it is open past its deadline.
    pub overdue: Option<String>,
    pub resolved_at: String,
}

impl OrderLine {
    pub fn new(row: &WorkOrderRow, names: &Names, tz: Tz, now: DateTime<Utc>) -> ApiResult<Self> {
        let status: WorkOrderStatus = parse_enum(&row.status)?;
        let due = row.due_at.map(utc);
        Ok(OrderLine {
            code: row.code.clone(),
            href: order_href(&row.code),
            title: row.title.clone(),
            village: names.unit(Some(&row.village_id)),
            category: names.category(&row.category),
            source: labels::label_or_word("work_order_source", &row.source),
            status: labels::label_or_word("work_order_status", &row.status),
            status_word: row.status.clone(),
            created_at: labels::local_time(utc(row.created_at), tz),
            unit: names.unit(row.unit_id.as_deref()),
            assignee: names.person(row.assignee_id.as_deref()),
            due_at: due.map(|d| labels::local_time(d, tz)).unwrap_or_default(),
            overdue: due
                .filter(|_| is_overdue(status, due, now))
                .map(|d| overdue_words(d, now, tz)),
            resolved_at: row
                .resolved_at
                .map(|t| labels::local_time(utc(t), tz))
                .unwrap_or_default(),
        })
    }
}

/// The columns of the ledger's Excel download.
pub const EXPORT_HEADERS: [&str; 15] = [
    "工单编号",
    "标题",
    "类别",
    "村",
    "来源",
    "状态",
    "反映人",
    "联系电话",
    "提交时间",
    "责任单位",
    "责任人",
    "承诺办结时限",
    "办结时间",
    "是否超期",
    "满意度",
];

/// An order as a row of the download: times with their year (a ledger spans years), the
/// reporter's full phone (supervisors of the subtree may see it), numbers as numbers.
pub fn export_row(
    row: &WorkOrderRow,
    names: &Names,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Cell>> {
    let time = |t: Option<chrono::NaiveDateTime>| {
        Cell::from(t.map(|t| labels::local_date_time_with_year(utc(t), tz)))
    };
    let late = crate::work_orders::was_late(row, now)?;
    Ok(vec![
        Cell::from(row.code.as_str()),
        Cell::from(row.title.as_str()),
        Cell::from(names.category(&row.category)),
        Cell::from(names.unit(Some(&row.village_id))),
        Cell::from(labels::label_or_word("work_order_source", &row.source)),
        Cell::from(labels::label_or_word("work_order_status", &row.status)),
        Cell::from(row.reporter_name.clone()),
        Cell::from(row.reporter_phone.clone()),
        time(Some(row.created_at)),
        Cell::from(Some(names.unit(row.unit_id.as_deref())).filter(|n| !n.is_empty())),
        Cell::from(Some(names.person(row.assignee_id.as_deref())).filter(|n| !n.is_empty())),
        time(row.due_at),
        time(row.resolved_at),
        Cell::from(if late { "是" } else { "否" }),
        Cell::from(row.rating.map(f64::from)),
    ])
}

/// Rows read per query while building a download.
const EXPORT_BATCH: usize = 5_000;

/// The rows of `filter`'s whole list (every page, newest first) for the download, at most
/// `cap` of them, read a batch at a time; and whether the list went on beyond `cap`.
pub fn export_rows(
    conn: &mut DbConn,
    filter: &mut work_orders::OrderFilter,
    cap: usize,
    tz: Tz,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<Vec<Cell>>, bool)> {
    let mut cells: Vec<Vec<Cell>> = Vec::new();
    loop {
        // One row beyond the cap tells whether the list was cut.
        let want = EXPORT_BATCH.min(cap + 1 - cells.len());
        filter.limit = i64::try_from(want).unwrap_or(i64::MAX);
        let batch = work_orders::list(conn, filter)?;
        let names = Names::load(conn, &batch, Vec::new())?;
        for row in &batch {
            if cells.len() == cap {
                return Ok((cells, true));
            }
            cells.push(export_row(row, &names, tz, now)?);
        }
        match batch.last() {
            Some(last) if batch.len() == want => {
                filter.after = Some((last.created_at, last.id.clone()));
            }
            _ => return Ok((cells, false)),
        }
    }
}

/// One option of a select.
pub struct Choice {
    pub value: String,
    pub name: String,
}

/// The people of one unit, an `<optgroup>` of the 责任人 select.
pub struct PeopleGroup {
    pub unit: String,
    pub people: Vec<Choice>,
}

/// What the selects of the desk's forms offer: the units, villages and staff in reach.
pub struct Choices {
    /// Every unit in reach, the supervisor's own first, in tree order.
    pub units: Vec<Choice>,
    pub villages: Vec<Choice>,
    /// Active cadres and supervisors, by unit.
    pub people: Vec<PeopleGroup>,
}

impl Choices {
    pub fn load(conn: &mut DbConn, within: Option<&str>) -> ApiResult<Self> {
        let mut units = org::list(
            conn,
            &OrgUnitFilter {
                within: within.map(str::to_string),
                limit: UNIT_LIMIT,
                ..OrgUnitFilter::default()
            },
        )?;
        units.sort_by(|a, b| a.path.cmp(&b.path));
        let staff = work_orders::assignable_people(conn, within)?;
        let people = units
            .iter()
            .filter_map(|u| {
                let people: Vec<Choice> = staff
                    .iter()
                    .filter(|p| p.unit_id == u.id)
                    .map(|p| Choice {
                        value: p.user_id.clone(),
                        name: p.name.clone(),
                    })
                    .collect();
                (!people.is_empty()).then(|| PeopleGroup {
                    unit: u.name.clone(),
                    people,
                })
            })
            .collect();
        Ok(Choices {
            villages: units
                .iter()
                .filter(|u| u.kind == "village")
                .map(|u| Choice {
                    value: u.id.clone(),
                    name: u.name.clone(),
                })
                .collect(),
            units: units
                .into_iter()
                .map(|u| Choice {
                    value: u.id,
                    name: u.name,
                })
                .collect(),
            people,
        })
    }
}

/// Whether the state machine lets a supervisor take `step` on the order now.
pub fn may(row: &WorkOrderRow, step: &str) -> ApiResult<bool> {
    let status: WorkOrderStatus = parse_enum(&row.status)?;
    Ok(steps_from(status).contains(&step))
}

/// The 派单 form of one order, filled with what it holds or what was typed.
pub struct AssignForm {
    /// Makes the ids of this form's fields unique on a page of many forms.
    pub key: String,
    pub action: String,
    pub back: String,
    pub unit_id: String,
    pub assignee_id: String,
    pub working_days: String,
    pub due_date: String,
    pub commitment: String,
    /// The category's working days, used when no deadline is given.
    pub default_days: i32,
}

impl AssignForm {
    /// The form for `row` (with its current unit and person when it was assigned before),
    /// or none when it cannot be assigned now; a post goes back to `back`.
    pub fn for_order(row: &WorkOrderRow, names: &Names, back: &str) -> ApiResult<Option<Self>> {
        if !may(row, "assign")? {
            return Ok(None);
        }
        Ok(Some(AssignForm {
            key: row.code.clone(),
            action: format!("{}/assign", order_href(&row.code)),
            back: back.to_string(),
            unit_id: row.unit_id.clone().unwrap_or_default(),
            assignee_id: row.assignee_id.clone().unwrap_or_default(),
            working_days: String::new(),
            due_date: String::new(),
            commitment: String::new(),
            default_days: names.default_days(&row.category),
        }))
    }

    /// The same form showing what was typed into it.
    pub fn with_input(self, typed: &AssignInput) -> Self {
        AssignForm {
            unit_id: typed.unit_id.clone(),
            assignee_id: typed.assignee_id.clone(),
            working_days: typed.working_days.clone(),
            due_date: typed.due_date.clone(),
            commitment: typed.commitment.clone(),
            ..self
        }
    }
}

/// A posted 派单 form. Every field defaults to empty, so a form missing one is answered in
/// words rather than refused unread.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AssignInput {
    pub unit_id: String,
    pub assignee_id: String,
    /// 工作日: the deadline in working days.
    pub working_days: String,
    /// 截止日期: the deadline as a local date (the end of that day).
    pub due_date: String,
    pub commitment: String,
    pub back: String,
}

impl AssignInput {
    /// The assignment the service takes, or what is wrong with the form in words. Neither
    /// working days nor a date gives the category's default deadline.
    pub fn request(&self, tz: Tz) -> Result<AssignRequest, String> {
        let days = self.working_days.trim();
        let date = self.due_date.trim();
        let (due_at, due_in_working_days) = match (days.is_empty(), date.is_empty()) {
            (false, false) => return Err("工作日和截止日期只需填写一项。".into()),
            (true, true) => (None, None),
            (false, true) => {
                let n = days
                    .parse::<u32>()
                    .map_err(|_| "工作日：请填写 1 到 250 之间的整数。".to_string())?;
                (None, Some(n))
            }
            (true, false) => (Some(end_of_local_date(date, tz)?), None),
        };
        let assignee = self.assignee_id.trim();
        Ok(AssignRequest {
            unit_id: self.unit_id.trim().to_string(),
            assignee_id: (!assignee.is_empty()).then(|| assignee.to_string()),
            due_at,
            due_in_days: None,
            due_in_working_days,
            commitment: self.commitment.clone(),
        })
    }
}

/// The last second of a local date typed as `2026-12-04`: a deadline "by that day".
fn end_of_local_date(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.succ_opt())
        .and_then(|next| start_of_local_day(next, tz))
        .map(|start| start - TimeDelta::seconds(1))
        .ok_or_else(|| "截止日期：请选择一个日期。".to_string())
}

/// An extension request waiting for a supervisor, with the 同意延期 / 不同意延期 form.
pub struct ExtensionLine {
    pub action: String,
    pub back: String,
    pub requested_by: String,
    pub requested_at: String,
    pub due_at: String,
    pub reason: String,
}

impl ExtensionLine {
    pub fn new(ext: &ExtensionRow, code: &str, names: &Names, back: &str, tz: Tz) -> Self {
        ExtensionLine {
            action: format!(
                "{}/extensions/{}/decision",
                order_href(code),
                percent_encode(&ext.id)
            ),
            back: back.to_string(),
            requested_by: names.person(Some(&ext.requested_by)),
            requested_at: labels::local_time(utc(ext.requested_at), tz),
            due_at: labels::local_time(utc(ext.due_at), tz),
            reason: ext.reason.clone(),
        }
    }
}

/// A step the service refused, in words for the page (`step` says what was tried: 派单,
/// 驳回); `None` for what no form can fix, which shows as an error page.
pub fn refusal_words(err: &ApiError, row: &WorkOrderRow, step: &str) -> Option<String> {
    match err {
        ApiError::Invalid(list) => Some(
            list.iter()
                .map(|e| field_words(&e.field))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ApiError::Conflict(_) => Some(format!(
            "这个工单现在是“{}”，不能{step}。",
            labels::label_or_word("work_order_status", &row.status)
        )),
        ApiError::Forbidden(_) => Some("您无权进行这项操作。".to_string()),
        _ => None,
    }
}

/// A refused field: its name (as the 派单 form's controls say it, else from the label
/// table) and what it needs.
fn field_words(field: &str) -> String {
    let name = match field {
        "due_at" => "截止日期".to_string(),
        "due_in_working_days" => "工作日".to_string(),
        other => labels::label_or_word("field", other),
    };
    let needs = match field {
        "unit_id" => "请选择您辖区内的单位",
        "assignee_id" => "须是所选责任单位的在岗人员",
        "due_at" => "须晚于现在，且在一年之内",
        "due_in_working_days" => "须为 1 到 250 之间的整数",
        "commitment" | "reason" => "请填写，最多 2000 字",
        "duplicate_of" => "没有这个工单编号",
        _ => "填写有误，请检查",
    };
    format!("{name}：{needs}。")
}

/// The one-line notice after a form was posted (`?done=`), if the word is one of ours.
pub fn notice(done: &str) -> Option<String> {
    let words = match done {
        "assigned" => "已派单",
        "rejected" => "已驳回",
        "extension_approved" => "已同意延期",
        "extension_rejected" => "已不同意延期",
        _ => return None,
    };
    Some(words.to_string())
}

/// Where a posted form goes when it worked: the desk page it came from (its path only, and
/// only a desk page), else `fallback`, saying what was done.
pub fn back_to(back: &str, fallback: &str, done: &str) -> String {
    let path = crate::pages::desk::safe_next(back)
        .and_then(|b| b.split(['?', '#']).next())
        .unwrap_or(fallback);
    format!("{path}?done={done}")
}

/// What a timeline event's data says, in words: the unit, person and deadline of an
/// assignment, the date an extension asks for, the order it duplicates, the rating.
pub fn event_details(kind: &str, data: Option<&str>, names: &Names, tz: Tz) -> Option<String> {
    let data: serde_json::Value = serde_json::from_str(data?).ok()?;
    let text = |key: &str| data.get(key).and_then(|v| v.as_str());
    let due = data
        .get("due_at")
        .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok())
        .map(|t| labels::local_time(t, tz));
    let words = match kind {
        "assigned" => {
            let mut parts = vec![format!("责任单位：{}", names.unit(text("unit_id")))];
            let person = names.person(text("assignee_id"));
            if !person.is_empty() {
                parts.push(format!("责任人：{person}"));
            }
            if let Some(due) = due {
                parts.push(format!("办结时限：{due}"));
            }
            parts.join("；")
        }
        "extension_requested" => format!("申请延至 {}", due?),
        "extension_approved" => format!("办结时限延至 {}", due?),
        "extension_rejected" => format!("原申请延至 {}", due?),
        "reminded" | "escalated" => format!("办结时限：{}", due?),
        "rejected" => format!("与 {} 重复", text("duplicate_of")?),
        "closed" | "reopened" => match data.get("score").and_then(|s| s.as_i64()) {
            Some(score) => format!("满意度 {score} 分"),
            None => "逾期未评价，自动关闭".to_string(),
        },
        _ => return None,
    };
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_local_days_overdue() {
        let shanghai = chrono_tz::Asia::Shanghai;
        // 23:59:59 on 1 December in Shanghai.
        let due = DateTime::parse_from_rfc3339("2026-12-01T15:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let words = |hours: i64| overdue_words(due, due + TimeDelta::hours(hours), shanghai);
        assert_eq!(words(0), "超期不足 1 天");
        assert_eq!(words(5), "超期 1 天");
        assert_eq!(words(24), "超期 1 天");
        assert_eq!(words(25), "超期 2 天");
        assert_eq!(words(72), "超期 3 天");
        let midday = due - TimeDelta::hours(10);
        assert_eq!(
            overdue_words(midday, midday + TimeDelta::hours(3), shanghai),
            "超期不足 1 天"
        );
    }

    #[test]
    fn a_date_is_a_deadline_at_the_end_of_that_local_day() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let due = end_of_local_date("2026-12-04", shanghai).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-12-04T15:59:59+00:00");
        assert!(end_of_local_date("12/04", shanghai).is_err());
        let both = AssignInput {
            working_days: "3".into(),
            due_date: "2026-12-04".into(),
            ..AssignInput::default()
        };
        assert!(both.request(shanghai).is_err());
        let days = AssignInput {
            unit_id: " u1 ".into(),
            working_days: "5".into(),
            ..AssignInput::default()
        };
        let request = days.request(shanghai).unwrap();
        assert_eq!(
            (request.unit_id.as_str(), request.due_in_working_days),
            ("u1", Some(5))
        );
        assert_eq!(request.assignee_id, None);
    }

    #[test]
    fn links_and_queries_are_encoded() {
        assert_eq!(
            order_href("MQ-20261202-0001"),
            "/desk/orders/MQ-20261202-0001"
        );
        assert_eq!(
            query_string(&[("status", "assigned"), ("village_id", ""), ("q", "a b&c")]),
            "?status=assigned&q=a%20b%26c"
        );
        assert_eq!(query_string(&[("status", "")]), "");
        assert_eq!(percent_encode("工单"), "%E5%B7%A5%E5%8D%95");
    }

    #[test]
    fn posted_forms_go_back_only_to_desk_pages() {
        assert_eq!(
            back_to("/desk/overdue?cursor=x", "/desk/orders/A", "assigned"),
            "/desk/overdue?done=assigned"
        );
        assert_eq!(
            back_to("https://evil.example/", "/desk/orders/A", "assigned"),
            "/desk/orders/A?done=assigned"
        );
        assert_eq!(notice("assigned").as_deref(), Some("已派单"));
        assert_eq!(notice("<script>"), None);
    }
}
