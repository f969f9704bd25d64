//! The one zh-CN label table (DESIGN §5): every machine word a person reads — statuses,
//! kinds, flags, grades, veto areas, request fields, error titles — and the local-time
//! formats people see. Pages, exports and `GET /api/v1/labels` all read it from here.
//!
//! Words are grouped in families named after what they are (`role`, `flag`, …); a word is
//! the snake_case wire word of the protocol, or the string the server writes (timeline
//! kinds, score flags, HTTP statuses as `"404"`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::checkin::CheckinRules;
use super::scoring::{Period, PeriodKind};

type Words = &'static [(&'static str, &'static str)];

const FAMILIES: &[(&str, Words)] = &[
    (
        "role",
        &[
            ("admin", "管理员"),
            ("supervisor", "督查办"),
            ("cadre", "干部"),
            ("villager", "村民"),
        ],
    ),
    (
        "cadre_category",
        &[
            ("leadership", "班子成员"),
            ("organ", "机关干部"),
            ("village", "农村干部"),
        ],
    ),
    (
        "staff_type",
        &[
            ("established", "在编"),
            ("instructor", "社区指导员"),
            ("non_established", "不在编"),
        ],
    ),
    (
        "rater_group",
        &[
            ("leadership", "领导班子"),
            ("middle", "中层干部"),
            ("established", "其他在编人员"),
            ("non_established", "不在编人员"),
        ],
    ),
    (
        "org_unit_kind",
        &[
            ("county", "县"),
            ("town", "镇（乡）"),
            ("community", "社区"),
            ("village", "村"),
            ("department", "部门"),
        ],
    ),
    (
        "checkin_kind",
        &[
            ("night_study", "夜学"),
            ("night_visit", "夜访"),
            ("night_discussion", "夜议"),
            ("night_help", "夜帮"),
            ("stay_start", "住夜开始"),
            ("stay_end", "住夜结束"),
            ("work_log", "工作日志"),
        ],
    ),
    (
        "checkin_status",
        &[
            ("accepted", "有效"),
            ("flagged", "待审核"),
            ("approved", "审核通过"),
            ("rejected", "未通过"),
        ],
    ),
    (
        "flag",
        &[
            ("outside_geofence", "超出村界"),
            ("not_assigned_village", "非包联村"),
            ("outside_night_window", "非夜间时段"),
            ("low_accuracy", "定位精度低"),
            ("implausible_speed", "移动过快"),
            ("mock_location", "模拟定位"),
            ("unusual_device", "非常用设备"),
            ("late_sync", "补传过晚"),
            ("future_time", "时间超前"),
            ("photo_reused", "照片重复"),
            ("photo_exif_far", "照片位置不符"),
            ("photo_exif_time", "照片时间不符"),
            ("short_stay", "住夜时长不足"),
            ("repeated_position", "定位重复"),
            ("photo_missing", "缺少照片"),
            ("session_incomplete", "会议未按时补纪要"),
        ],
    ),
    (
        "session_kind",
        &[("night_study", "夜学"), ("night_discussion", "夜议")],
    ),
    (
        "session_status",
        &[
            ("awaiting_minutes", "待补纪要"),
            ("complete", "已完成"),
            ("incomplete", "纪要逾期"),
        ],
    ),
    (
        "stay_status",
        &[
            ("open", "进行中"),
            ("valid", "有效"),
            ("incomplete", "未完成"),
            ("flagged", "待审核"),
            ("rejected", "未通过"),
        ],
    ),
    (
        "work_order_status",
        &[
            ("submitted", "待派单"),
            ("assigned", "已派单"),
            ("in_progress", "办理中"),
            ("resolved", "已办结"),
            ("closed", "已关闭"),
            ("rejected", "不予受理"),
            ("reopened", "重新办理"),
        ],
    ),
    (
        "work_order_source",
        &[
            ("villager", "村民反映"),
            ("visit", "走访收集"),
            ("hotline", "热线"),
            ("open311", "平台转办"),
        ],
    ),
    (
        // The `kind` of every timeline event the server writes (http/work_orders.rs, jobs.rs).
        "timeline_event",
        &[
            ("submitted", "已提交"),
            ("resolved_on_spot", "当场解决"),
            ("assigned", "已派单"),
            ("accepted", "已受理"),
            ("progress", "办理进展"),
            ("resolved", "已办结"),
            // Also written when nobody rated in time, so it does not claim a rating.
            ("closed", "已关闭"),
            ("reopened", "不满意，重新办理"),
            ("rejected", "不予受理"),
            ("confirmed", "已核实"),
            ("extension_requested", "申请延期"),
            ("extension_approved", "同意延期"),
            ("extension_rejected", "不同意延期"),
            ("reminded", "临期提醒"),
            ("escalated", "超期督办"),
            ("internal_note", "内部备注"),
        ],
    ),
    (
        "timeline_actor",
        &[
            ("user", "工作人员"),
            ("reporter", "反映人"),
            ("system", "系统"),
        ],
    ),
    (
        "extension_status",
        &[
            ("pending", "待审批"),
            ("approved", "已同意"),
            ("rejected", "未同意"),
        ],
    ),
    (
        "grade",
        &[
            ("excellent", "优秀"),
            ("good", "良好"),
            ("pass", "合格"),
            ("fail", "不合格"),
        ],
    ),
    (
        // The areas the migration seeds (`domain::vetoes::SEEDED_AREAS`); the admin may add
        // others, which pages name by their stored name.
        "veto_area",
        &[
            ("family_planning", "计划生育"),
            ("public_security", "社会治安"),
            ("work_safety", "安全生产"),
            ("integrity", "党风廉政"),
        ],
    ),
    (
        "veto_status",
        &[
            ("pending", "待审批"),
            ("approved", "已生效"),
            ("withdrawal_requested", "撤销待审批"),
            ("withdrawn", "已撤销"),
        ],
    ),
    (
        "record_kind",
        &[("achievement", "实绩档案"), ("problem", "问题痕迹档案")],
    ),
    (
        "record_status",
        &[
            ("open", "待整改"),
            ("pending_verification", "待核实"),
            ("cleared", "已销号"),
            ("expired", "已逾期"),
        ],
    ),
    (
        "record_action",
        &[
            ("rectified", "提交整改材料"),
            ("approved", "通过销号"),
            ("sent_back", "退回整改"),
        ],
    ),
    (
        // `capped:<indicator code>` reads as `capped` (see `label_or_word`).
        "score_flag",
        &[
            ("veto", "一票否决"),
            ("no_ratings", "无民主测评"),
            ("capped", "封顶"),
            ("statement", "后进表态"),
            ("position_adjustment", "建议调整岗位"),
            ("suggested_excellent", "建议评优"),
            ("major_contribution", "重大贡献奖推荐"),
        ],
    ),
    (
        "metric",
        &[
            ("night_study", "夜学"),
            ("night_visit", "夜访"),
            ("night_discussion", "夜议"),
            ("night_help", "夜帮"),
            ("four_nights", "四夜合计"),
            ("stays", "住夜"),
            ("work_log_days", "工作日志天数"),
            ("work_orders_collected", "收集民情工单"),
            ("work_orders_resolved", "办结工单"),
            ("work_orders_on_time_rate", "工单按期办结率"),
            ("response_rate", "响应率"),
            ("work_orders_overdue", "超期工单"),
            ("avg_satisfaction", "群众满意度"),
            ("rejected_checkins", "打卡被驳回"),
            ("manual", "人工录入"),
        ],
    ),
    (
        "rule",
        &[
            ("ratio_to_target", "按目标比例"),
            ("rate", "按比率"),
            ("per_item", "按件计分"),
            ("deduct_per_item", "按件扣分"),
        ],
    ),
    (
        "when_empty",
        &[
            ("full", "计满分"),
            ("zero", "计零分"),
            ("exclude", "不计入"),
        ],
    ),
    (
        "manual_value_status",
        &[("pending", "待签核"), ("approved", "已签核")],
    ),
    (
        "period_kind",
        &[("month", "月度"), ("quarter", "季度"), ("year", "年度")],
    ),
    (
        "review_decision",
        &[("approve", "通过"), ("reject", "不通过")],
    ),
    (
        // Request fields a person may see named in an error (`errors[].field`).
        "field",
        &[
            ("phone", "手机号"),
            ("password", "密码"),
            ("name", "姓名"),
            ("refresh_token", "登录凭证"),
            ("role", "角色"),
            ("org_unit_id", "所属单位"),
            ("cadre_category", "干部类别"),
            ("staff_type", "编制类型"),
            ("rater_group", "测评组别"),
            ("active", "启用状态"),
            ("village_id", "村"),
            ("village_ids", "包联村"),
            ("parent_id", "上级单位"),
            ("boundary", "村界"),
            ("center", "中心点"),
            ("radius_m", "半径"),
            ("id", "编号"),
            ("kind", "类型"),
            ("lat", "位置"),
            ("lon", "位置"),
            ("crs", "坐标系"),
            ("accuracy_m", "定位精度"),
            ("recorded_at", "时间"),
            ("device_id", "设备"),
            ("mock_location", "模拟定位"),
            ("note", "备注"),
            ("household", "走访户"),
            ("photo_ids", "照片"),
            ("file", "照片"),
            ("decision", "审核结果"),
            ("reason", "理由"),
            ("category", "问题类别"),
            ("group", "分组"),
            ("default_due_working_days", "默认办理时限"),
            ("holidays", "节假日"),
            ("workdays", "调休工作日"),
            ("title", "标题"),
            ("description", "详细描述"),
            ("address", "地址"),
            ("reporter_name", "您的姓名"),
            ("reporter_phone", "手机号码"),
            ("source", "来源"),
            ("resolved_on_spot", "当场解决"),
            ("resolution_note", "办理结果"),
            ("unit_id", "责任单位"),
            ("assignee_id", "责任人"),
            ("due_at", "办结时限"),
            ("due_in_days", "办理天数"),
            ("due_in_working_days", "办理工作日数"),
            ("commitment", "承诺"),
            ("score", "满意度"),
            ("comment", "留言"),
            ("duplicate_of", "重复工单"),
            ("approve", "审批意见"),
            ("code", "工单编号"),
            ("query_code", "查询码"),
            ("token", "查询凭证"),
            ("url", "接收地址"),
            ("secret", "签名密钥"),
            ("events", "事件"),
            ("period", "考核期"),
            ("ratee_id", "被测评人"),
            ("rater_id", "测评人"),
            ("user_id", "干部"),
            ("points", "分值"),
            ("area", "否决事项"),
            ("evidence", "整改材料"),
            ("indicators", "考核指标"),
            ("metric", "统计项"),
            ("rule", "计分规则"),
            ("target", "目标值"),
            ("cap", "上限"),
            ("weight", "权重"),
            ("date", "日期"),
            ("content", "内容"),
            ("text", "批阅意见"),
            ("from", "开始日期"),
            ("to", "结束日期"),
            ("status", "状态"),
            ("format", "格式"),
            ("group_by", "统计方式"),
            ("limit", "每页条数"),
            ("cursor", "翻页位置"),
            ("lang", "语言"),
            ("body", "请求内容"),
            ("topic", "主题"),
            ("place_id", "地点"),
            ("starts_at", "开始时间"),
            ("minutes", "会议纪要"),
            ("villagers_present", "参会群众"),
            ("names", "姓名"),
            ("count", "人数"),
            ("session_id", "会议"),
            ("month", "月份"),
            ("value", "录入值"),
        ],
    ),
    (
        // Titles of error answers, by HTTP status.
        "problem",
        &[
            ("400", "请求无法读取"),
            ("401", "请先登录"),
            ("403", "无权操作"),
            ("404", "未找到"),
            ("405", "不支持此操作"),
            ("409", "与当前状态冲突"),
            ("413", "内容太大"),
            ("415", "不支持的文件类型"),
            ("422", "填写有误"),
            ("429", "操作太频繁，请稍后再试"),
            ("500", "出错了"),
            ("503", "服务暂不可用"),
            ("507", "存储空间已满"),
        ],
    ),
];

/// The label of `word` in `family`, if the table has one.
pub fn label(family: &str, word: &str) -> Option<&'static str> {
    FAMILIES
        .iter()
        .find(|(name, _)| *name == family)?
        .1
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, l)| *l)
}

/// The label of `word`, or the word itself when the table has none (a new word shows as
/// it is rather than as nothing). `capped:<code>` score flags read as `capped`; a field
/// path such as `photo_ids[2]` or `center.lat` reads as its last field.
pub fn label_or_word(family: &str, word: &str) -> String {
    let found = match family {
        "score_flag" if word.starts_with("capped:") => label(family, "capped"),
        "field" => label(family, word).or_else(|| label(family, last_field(word))),
        _ => label(family, word),
    };
    found.map_or_else(|| word.to_string(), str::to_string)
}

/// `indicators[0].metric` → `metric`, `photo_ids[2]` → `photo_ids`.
fn last_field(path: &str) -> &str {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    leaf.split('[').next().unwrap_or(leaf)
}

/// Every family and word.
pub fn table() -> BTreeMap<&'static str, BTreeMap<&'static str, &'static str>> {
    FAMILIES
        .iter()
        .map(|(family, words)| (*family, words.iter().copied().collect()))
        .collect()
}

/// The title of an error answer with this HTTP status.
pub fn problem_title(status: u16) -> &'static str {
    label("problem", &status.to_string()).unwrap_or("出错了")
}

/// `x` rounded to `places` decimals, without trailing zeros (`4.7`, `3`).
fn decimal(x: f64, places: i32) -> String {
    let scale = 10f64.powi(places);
    format!("{}", (x * scale).round() / scale)
}

/// Metres as people say them: `850 米`, from 1 km on `4.7 公里`.
fn distance(metres: f64) -> String {
    if metres.round() < 1000.0 {
        format!("{} 米", decimal(metres, 0))
    } else {
        format!("{} 公里", decimal(metres / 1000.0, 1))
    }
}

/// A flag in words with what was measured, e.g. `距村界 4.7 公里`. The values are those
/// `domain::checkin::assess` keeps: metres, km/h, hours (`late_sync`, `future_time`,
/// `photo_exif_time`, `short_stay`), the local time `HH:MM`, or an id that is not shown. A
/// value of another shape gives the flag's label alone.
pub fn flag_text(code: &str, value: &Value) -> String {
    flag_text_in(code, value, CheckinRules::default().timezone)
}

/// [`flag_text`], with the earlier check-in that `photo_reused` and `repeated_position`
/// name (`{checkin_id, recorded_at}`) shown at its local time in `tz`, e.g.
/// `照片与 12月3日 20:15 的打卡重复`.
pub fn flag_text_in(code: &str, value: &Value, tz: Tz) -> String {
    let earlier = value
        .get("recorded_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| local_time(t.with_timezone(&Utc), tz));
    let named = match (code, earlier) {
        ("photo_reused", Some(when)) => Some(format!("照片与 {when} 的打卡重复")),
        ("repeated_position", Some(when)) => Some(format!("与 {when} 的打卡定位完全相同")),
        _ => None,
    };
    let number = value.as_f64().filter(|x| x.is_finite() && *x >= 0.0);
    let time = value
        .as_str()
        .filter(|t| NaiveTime::parse_from_str(t, "%H:%M").is_ok());
    let measured = match (code, number, time) {
        ("outside_geofence", Some(m), _) => Some(format!("距村界 {}", distance(m))),
        ("outside_night_window", _, Some(t)) => Some(format!("不在夜间时段（{t}）")),
        ("low_accuracy", Some(m), _) => Some(format!("定位精度 {} 米", decimal(m, 0))),
        ("implausible_speed", Some(kmh), _) => {
            Some(format!("移动速度 {} 公里/小时", decimal(kmh, 0)))
        }
        ("late_sync", Some(h), _) if h >= 48.0 => {
            Some(format!("补传晚 {} 天", decimal(h / 24.0, 1)))
        }
        ("late_sync", Some(h), _) => Some(format!("补传晚 {} 小时", decimal(h, 0))),
        ("future_time", Some(h), _) if h < 1.0 => {
            Some(format!("时间超前 {} 分钟", decimal(h * 60.0, 0)))
        }
        ("future_time", Some(h), _) => Some(format!("时间超前 {} 小时", decimal(h, 1))),
        ("photo_exif_far", Some(m), _) => Some(format!("照片拍摄地距打卡点 {}", distance(m))),
        ("photo_exif_time", Some(h), _) => Some(format!("照片拍摄时间相差 {} 小时", decimal(h, 1))),
        ("short_stay", Some(h), _) => {
            let minimum = CheckinRules::default().min_stay.num_minutes() as f64 / 60.0;
            Some(format!(
                "住夜不足 {} 小时（实际 {} 小时）",
                decimal(minimum, 1),
                decimal(h, 1)
            ))
        }
        _ => None,
    };
    // Flags whose value is an id or a bare `true` read the same whatever it holds.
    let fixed = match code {
        "not_assigned_village" => Some("非本人包联村"),
        "photo_reused" => Some("照片与此前打卡重复"),
        "repeated_position" => Some("与此前打卡定位完全相同"),
        "session_incomplete" => Some("会议纪要未在次日内补录"),
        _ => None,
    };
    named
        .or(measured)
        .or_else(|| fixed.map(str::to_string))
        .unwrap_or_else(|| label_or_word("flag", code))
}

/// A time as people read it in the towns' zone: `12月4日 18:00`.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-m月%-d日 %H:%M").to_string()
}

/// A time with its year, for what may lie in another year: `2026年12月4日 18:00`.
pub fn local_date_time_with_year(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y年%-m月%-d日 %H:%M")
        .to_string()
}

/// A local date: `12月4日`.
pub fn local_date(d: NaiveDate) -> String {
    d.format("%-m月%-d日").to_string()
}

/// A period as people say it: `2026年11月`, `2026年第四季度`, `2026年`.
pub fn period_words(p: Period) -> String {
    const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];
    match p.kind() {
        PeriodKind::Month => format!("{}年{}月", p.year(), p.index()),
        PeriodKind::Quarter => {
            let q = QUARTERS
                .get(usize::try_from(p.index()).unwrap_or(0).saturating_sub(1))
                .unwrap_or(&"");
            format!("{}年第{q}季度", p.year())
        }
        PeriodKind::Year => format!("{}年", p.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scoring::{Grade, Metric, PeriodKind, Rule, WhenEmpty};
    use crate::domain::vetoes::SEEDED_AREAS;
    use minqing_protocol::{
        CadreCategory, CheckinKind, CheckinStatus, FlagCode, OrgUnitKind, RaterGroup, RecordAction,
        RecordStatus, ReviewDecision, Role, SessionKind, SessionStatus, StaffType, StayStatus,
        VetoStatus, WorkOrderSource, WorkOrderStatus,
    };
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// Every wire word of a protocol enum, read from its OpenAPI schema (which lists all
    /// variants, so a new one shows up here by itself) and checked through serde.
    fn wire_words<T: utoipa::PartialSchema + DeserializeOwned>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        let words: Vec<String> = schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("not a plain enum: {schema}"))
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect();
        for w in &words {
            serde_json::from_value::<T>(json!(w)).unwrap();
        }
        words
    }

    fn domain_words<T: serde::Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn every_enum_variant_has_a_label() {
        let families: Vec<(&str, Vec<String>)> = vec![
            ("role", wire_words::<Role>()),
            ("cadre_category", wire_words::<CadreCategory>()),
            ("staff_type", wire_words::<StaffType>()),
            ("rater_group", wire_words::<RaterGroup>()),
            ("org_unit_kind", wire_words::<OrgUnitKind>()),
            ("checkin_kind", wire_words::<CheckinKind>()),
            ("checkin_status", wire_words::<CheckinStatus>()),
            ("flag", wire_words::<FlagCode>()),
            ("stay_status", wire_words::<StayStatus>()),
            ("session_kind", wire_words::<SessionKind>()),
            ("session_status", wire_words::<SessionStatus>()),
            ("work_order_status", wire_words::<WorkOrderStatus>()),
            ("work_order_source", wire_words::<WorkOrderSource>()),
            ("review_decision", wire_words::<ReviewDecision>()),
            ("record_status", wire_words::<RecordStatus>()),
            ("record_action", wire_words::<RecordAction>()),
            ("metric", domain_words(Metric::ALL)),
            ("rule", domain_words(Rule::ALL)),
            ("grade", domain_words(Grade::ALL)),
            (
                "veto_area",
                SEEDED_AREAS
                    .iter()
                    .map(|(code, _)| code.to_string())
                    .collect(),
            ),
            ("veto_status", wire_words::<VetoStatus>()),
            ("when_empty", domain_words(WhenEmpty::ALL)),
            ("period_kind", domain_words(PeriodKind::ALL)),
        ];
        let mut missing = Vec::new();
        for (family, words) in &families {
            assert!(!words.is_empty(), "{family}");
            for word in words {
                if label(family, word).is_none() {
                    missing.push(format!("{family}.{word}"));
                }
            }
        }
        assert!(missing.is_empty(), "no label for {missing:?}");
        // The seeded areas read as the migration names them.
        for (code, name) in SEEDED_AREAS {
            assert_eq!(label("veto_area", code), Some(name));
        }
        let flags = wire_words::<FlagCode>();
        assert!(flags.contains(&"outside_geofence".to_string()), "{flags:?}");
        assert!(flags.contains(&"short_stay".to_string()), "{flags:?}");
    }

    #[test]
    fn flags_in_words_with_their_measure() {
        let text = |code: &str, value: Value| flag_text(code, &value);
        assert_eq!(text("outside_geofence", json!(4712.3)), "距村界 4.7 公里");
        assert_eq!(text("outside_geofence", json!(850.2)), "距村界 850 米");
        assert_eq!(text("outside_geofence", json!(999.7)), "距村界 1 公里");
        assert_eq!(text("late_sync", json!(72.5)), "补传晚 3 天");
        assert_eq!(text("late_sync", json!(60.0)), "补传晚 2.5 天");
        assert_eq!(text("late_sync", json!(30.0)), "补传晚 30 小时");
        assert_eq!(text("low_accuracy", json!(150.0)), "定位精度 150 米");
        assert_eq!(
            text("implausible_speed", json!(240.4)),
            "移动速度 240 公里/小时"
        );
        assert_eq!(
            text("outside_night_window", json!("15:20")),
            "不在夜间时段（15:20）"
        );
        // `future_time` is kept in hours to a tenth: 0.1 h is 6 minutes.
        assert_eq!(text("future_time", json!(0.1)), "时间超前 6 分钟");
        assert_eq!(text("future_time", json!(2.5)), "时间超前 2.5 小时");
        assert_eq!(text("photo_reused", json!("m1")), "照片与此前打卡重复");
        assert_eq!(
            text("photo_exif_far", json!(1834.0)),
            "照片拍摄地距打卡点 1.8 公里"
        );
        assert_eq!(
            text("photo_exif_far", json!(620.0)),
            "照片拍摄地距打卡点 620 米"
        );
        assert_eq!(
            text("photo_exif_time", json!(6.0)),
            "照片拍摄时间相差 6 小时"
        );
        assert_eq!(text("not_assigned_village", json!("v1")), "非本人包联村");
        assert_eq!(text("mock_location", json!(true)), "模拟定位");
        assert_eq!(text("unusual_device", json!("phone-2")), "非常用设备");
        assert_eq!(
            text("short_stay", json!(5.0)),
            "住夜不足 6 小时（实际 5 小时）"
        );
        assert_eq!(
            text("short_stay", json!(4.5)),
            "住夜不足 6 小时（实际 4.5 小时）"
        );
        assert_eq!(
            text("repeated_position", json!(null)),
            "与此前打卡定位完全相同"
        );
        assert_eq!(text("photo_missing", json!(true)), "缺少照片");
        // An earlier check-in is named by its local (Asia/Shanghai) time.
        let earlier =
            json!({"checkin_id": "c1", "recorded_at": "2026-12-03T12:15:00Z", "distance": 3});
        assert_eq!(
            text("photo_reused", earlier.clone()),
            "照片与 12月3日 20:15 的打卡重复"
        );
        assert_eq!(
            text("repeated_position", earlier.clone()),
            "与 12月3日 20:15 的打卡定位完全相同"
        );
        assert_eq!(
            flag_text_in("photo_reused", &earlier, chrono_tz::Asia::Urumqi),
            "照片与 12月3日 18:15 的打卡重复"
        );
        // Past midnight in Shanghai it is the next local day.
        let late = json!({"checkin_id": "c1", "recorded_at": "2026-12-03T16:30:00Z"});
        assert_eq!(
            text("repeated_position", late),
            "与 12月4日 00:30 的打卡定位完全相同"
        );
        assert_eq!(
            text("photo_reused", json!({"recorded_at": "yesterday"})),
            "照片与此前打卡重复"
        );
        // Values of an unexpected shape give the label alone; unknown codes themselves.
        assert_eq!(text("outside_geofence", json!("far")), "超出村界");
        assert_eq!(text("outside_geofence", json!(-3.0)), "超出村界");
        assert_eq!(text("outside_night_window", json!("<b>")), "非夜间时段");
        assert_eq!(text("late_sync", json!({"hours": 50})), "补传过晚");
        assert_eq!(text("something_new", json!(1)), "something_new");
    }

    #[test]
    fn every_flag_the_domain_raises_reads_with_its_value() {
        // The shapes `assess` produces (see its tests), each read with its measure.
        let shapes = [
            (FlagCode::OutsideGeofence, json!(1834.5)),
            (FlagCode::OutsideNightWindow, json!("15:20")),
            (FlagCode::LowAccuracy, json!(150.0)),
            (FlagCode::ImplausibleSpeed, json!(333.1)),
            (FlagCode::LateSync, json!(48.7)),
            (FlagCode::FutureTime, json!(0.2)),
            (FlagCode::PhotoExifFar, json!(8900.0)),
            (FlagCode::PhotoExifTime, json!(6.0)),
            (FlagCode::ShortStay, json!(5.0)),
            (
                FlagCode::PhotoReused,
                json!({"checkin_id": "c1", "recorded_at": "2026-12-03T12:15:00Z", "distance": 0}),
            ),
            (
                FlagCode::RepeatedPosition,
                json!({"checkin_id": "c1", "recorded_at": "2026-12-03T12:15:00Z"}),
            ),
        ];
        for (code, value) in shapes {
            let word = serde_json::to_value(code).unwrap();
            let word = word.as_str().unwrap();
            let text = flag_text(word, &value);
            assert!(
                text.chars().any(|c| c.is_ascii_digit()),
                "{word}: {text} shows no measure"
            );
        }
    }

    #[test]
    fn local_times_cross_midnight_into_the_towns_day() {
        let t = DateTime::parse_from_rfc3339("2026-12-03T18:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let shanghai = chrono_tz::Asia::Shanghai;
        assert_eq!(local_time(t, shanghai), "12月4日 02:30");
        assert_eq!(
            local_date_time_with_year(t, shanghai),
            "2026年12月4日 02:30"
        );
        let evening = DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_time(evening, shanghai), "12月4日 18:00");
        let d = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(local_date(d), "12月4日");
    }

    #[test]
    fn problem_titles() {
        assert_eq!(problem_title(422), "填写有误");
        assert_eq!(problem_title(429), "操作太频繁，请稍后再试");
        assert_eq!(problem_title(404), "未找到");
        assert_eq!(problem_title(500), "出错了");
        assert_eq!(problem_title(418), "出错了");
    }

    #[test]
    fn unknown_words_show_as_themselves() {
        assert_eq!(label_or_word("work_order_status", "in_progress"), "办理中");
        assert_eq!(label_or_word("work_order_status", "paused"), "paused");
        assert_eq!(label_or_word("no_such_family", "x"), "x");
        assert_eq!(label_or_word("score_flag", "capped:st"), "封顶");
        assert_eq!(label_or_word("score_flag", "veto"), "一票否决");
        assert_eq!(label_or_word("field", "photo_ids[2]"), "照片");
        assert_eq!(label_or_word("field", "center.lat"), "位置");
        assert_eq!(label_or_word("field", "indicators[0].metric"), "统计项");
        assert_eq!(label_or_word("field", ""), "");
        assert_eq!(
            label("timeline_event", "extension_rejected"),
            Some("不同意延期")
        );
    }

    #[test]
    fn labels_are_chinese() {
        let table = table();
        assert_eq!(table.len(), FAMILIES.len(), "family names are unique");
        for (family, words) in FAMILIES {
            assert_eq!(
                table[family].len(),
                words.len(),
                "{family}: words are unique"
            );
            for (word, text) in words.iter() {
                assert!(!text.is_empty(), "{family}.{word}");
                assert!(
                    !text.chars().any(|c| c.is_ascii_alphabetic()),
                    "{family}.{word}: {text}"
                );
            }
        }
    }
}
