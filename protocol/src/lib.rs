//! The wire types of Minqing's HTTP API (`/api/v1`), shared by the server and its clients.
//!
//! Serde only: the server adds OpenAPI descriptions through the `openapi` feature.
//! Field names follow DESIGN.md §4 and are part of the contract.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An `application/problem+json` body (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// One invalid field of a request, named by its JSON path (`villages[2]`, `center.lat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// One page of a list; pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
    pub db: String,
}

/// Every machine word a person reads, in `lang`: `labels[family][word]`, e.g.
/// `labels.flag.outside_geofence` = 超出村界 (`GET /labels`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Labels {
    pub lang: String,
    pub labels: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Cadre,
    Villager,
}

/// 班子成员 / 机关干部 / 农村干部: each is scored and ranked separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CadreCategory {
    Leadership,
    Organ,
    Village,
}

/// 在编 / 社区指导员 / 不在编.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffType {
    Established,
    Instructor,
    NonEstablished,
}

/// The group a user's democratic-evaluation ratings count in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RaterGroup {
    Leadership,
    Middle,
    Established,
    NonEstablished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitKind {
    County,
    Town,
    Community,
    Village,
    Department,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub phone: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub phone: String,
    pub name: String,
    pub password: String,
    pub village_id: String,
}

/// The answer to every valid registration, whether it made an account or the phone number
/// already had one: it never tells which. Sign in next with `POST /auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegistrationReceived {
    /// Always `received`.
    pub status: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: User,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub role: Role,
    pub org_unit_id: Option<String>,
    pub cadre_category: Option<CadreCategory>,
    pub staff_type: Option<StaffType>,
    pub rater_group: Option<RaterGroup>,
    pub active: bool,
    /// Villages a cadre is responsible for (a villager's own village).
    pub village_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub phone: String,
    pub role: Role,
    pub org_unit_id: Option<String>,
    pub cadre_category: Option<CadreCategory>,
    pub staff_type: Option<StaffType>,
    pub rater_group: Option<RaterGroup>,
    pub password: String,
}

/// Only the fields present change. `rater_group: null` goes back to the default group.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub org_unit_id: Option<String>,
    pub cadre_category: Option<CadreCategory>,
    pub staff_type: Option<StaffType>,
    pub rater_group: Option<RaterGroup>,
    pub password: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VillageAssignment {
    pub village_ids: Vec<String>,
}

/// The signed-in user with their org unit and villages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    pub org_unit: Option<OrgUnit>,
    pub villages: Vec<OrgUnit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub kind: OrgUnitKind,
    pub parent_id: Option<String>,
    pub code: Option<String>,
    /// A village's boundary: a GeoJSON Polygon/MultiPolygon in WGS-84, or `{center, radius_m}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub boundary: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A town's check-in kinds that need a photo (`photo_missing` otherwise); `null`
    /// follows the server's setting.
    #[serde(default)]
    pub photo_required_kinds: Option<Vec<CheckinKind>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOrgUnit {
    pub name: String,
    pub kind: OrgUnitKind,
    pub parent_id: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgUnitPatch {
    pub name: Option<String>,
    pub parent_id: Option<String>,
    pub code: Option<String>,
    /// Towns only: the check-in kinds that need a photo (`[]`: none); `null` returns to the
    /// server's setting; absent leaves it as it is.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<CheckinKind>>))]
    pub photo_required_kinds: Option<Option<Vec<CheckinKind>>>,
}

/// Reads a field that is present, `null` included, as `Some`: in a patch `null` clears.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// `{center:{lat,lon}, radius_m}`: a village known only by its centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CircleBoundary {
    pub center: LatLon,
    pub radius_m: Option<f64>,
}

/// 四夜 (night study, visits, discussions, help), the two ends of a 住夜 stay, and a day's work log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckinKind {
    NightStudy,
    NightVisit,
    NightDiscussion,
    NightHelp,
    StayStart,
    StayEnd,
    WorkLog,
}

/// The coordinate system a phone reported in: GPS (`wgs84`), Amap/Tencent (`gcj02`), Baidu (`bd09`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Crs {
    Wgs84,
    Gcj02,
    Bd09,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckinStatus {
    Accepted,
    Flagged,
    Approved,
    Rejected,
}

/// Why a check-in needs a supervisor's look (DESIGN §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlagCode {
    OutsideGeofence,
    NotAssignedVillage,
    OutsideNightWindow,
    LowAccuracy,
    ImplausibleSpeed,
    MockLocation,
    UnusualDevice,
    LateSync,
    FutureTime,
    PhotoReused,
    PhotoExifFar,
    PhotoExifTime,
    /// A stay whose end came less than the minimum hours after its start.
    ShortStay,
    /// The same fix (position to 1e-6° and accuracy) as the cadre's check-in at least 30 min
    /// earlier: real phones never repeat a fix, location spoofers do.
    RepeatedPosition,
    /// A kind of check-in the town requires a photo for, without one.
    PhotoMissing,
    /// A 夜学 / 夜议 session whose minutes did not come by the end of the next day.
    SessionIncomplete,
}

/// A flag with what was measured: metres, km/h, hours, a local time, a device or photo id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Flag {
    pub code: FlagCode,
    /// Any JSON value: a number (metres, km/h, hours), a string (a local time, a device or
    /// photo id) or an object.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub value: serde_json::Value,
}

/// A check-in as the phone sends it. `id` is a UUID the phone makes, so a retry is harmless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCheckin {
    pub id: String,
    pub kind: CheckinKind,
    /// Where the work was done; not needed with `session_id` (the session's place counts).
    pub village_id: Option<String>,
    /// A 夜学 / 夜议 session the cadre attends: its place's boundary applies, and its kind
    /// must be the check-in's.
    pub session_id: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub crs: Option<Crs>,
    pub accuracy_m: f64,
    pub recorded_at: DateTime<Utc>,
    pub device_id: Option<String>,
    pub mock_location: Option<bool>,
    pub note: Option<String>,
    pub household: Option<String>,
    pub photo_ids: Option<Vec<String>>,
}

/// The answer to a check-in: 201 the first time, 200 with the same answer on a retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckinReceipt {
    pub id: String,
    pub status: CheckinStatus,
    pub flags: Vec<Flag>,
    pub stay_id: Option<String>,
}

/// One item of a batch answer: the HTTP status it would have had alone, and its receipt or problem.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BatchItem {
    pub index: usize,
    pub id: Option<String>,
    pub status: u16,
    pub receipt: Option<CheckinReceipt>,
    pub problem: Option<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Checkin {
    pub id: String,
    pub user_id: String,
    pub kind: CheckinKind,
    pub village_id: String,
    /// WGS-84.
    pub lat: f64,
    pub lon: f64,
    /// What the phone reported, before conversion to WGS-84.
    pub reported: ReportedPosition,
    pub accuracy_m: f64,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The local date the work counts for; after midnight it is the night before.
    pub night_date: chrono::NaiveDate,
    pub device_id: Option<String>,
    pub mock_location: bool,
    pub note: Option<String>,
    pub household: Option<String>,
    pub status: CheckinStatus,
    pub flags: Vec<Flag>,
    pub photo_ids: Vec<String>,
    pub stay_id: Option<String>,
    /// The 夜学 / 夜议 session this check-in is attendance at.
    pub session_id: Option<String>,
    pub review: Option<Review>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReportedPosition {
    pub lat: f64,
    pub lon: f64,
    pub crs: Crs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Review {
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approve,
    Reject,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    pub reason: String,
}

/// `open` until the morning check-in arrives or the deadline (noon) passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StayStatus {
    Open,
    Valid,
    Incomplete,
    Flagged,
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Stay {
    pub id: String,
    pub user_id: String,
    pub village_id: String,
    pub night_date: chrono::NaiveDate,
    pub start_id: String,
    pub end_id: Option<String>,
    /// When the evening and morning check-ins were recorded.
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub status: StayStatus,
}

/// What the photo's EXIF said before it was stripped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExifInfo {
    pub taken_at: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MediaInfo {
    pub id: String,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub exif: ExifInfo,
}

/// A 民情工单's place in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderStatus {
    Submitted,
    Assigned,
    InProgress,
    Resolved,
    Closed,
    Rejected,
    Reopened,
}

/// A kind of issue villagers raise; also an Open311 service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Category {
    pub code: String,
    pub name: String,
    pub group: String,
    /// The deadline an order gets when the supervisor gives none.
    pub default_due_working_days: u32,
    /// That deadline in words, as reporters see it.
    pub deadline_notice: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub code: String,
    pub name: String,
    pub group: String,
    pub default_due_working_days: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub group: Option<String>,
    pub default_due_working_days: Option<u32>,
    pub active: Option<bool>,
}

/// A year's official holidays and 调休 make-up workdays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    pub holidays: Vec<chrono::NaiveDate>,
    pub workdays: Vec<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CalendarYear {
    pub year: i32,
    pub holidays: Vec<chrono::NaiveDate>,
    pub workdays: Vec<chrono::NaiveDate>,
}

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderSource {
    /// A villager, signed in or anonymous with name and phone.
    Villager,
    /// A cadre during a visit or talk (民情走访 / 民情恳谈).
    Visit,
    Hotline,
    Open311,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWorkOrder {
    /// Optional client id (UUID): a retry with the same id and body gets the first answer.
    pub id: Option<String>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub village_id: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub photo_ids: Option<Vec<String>>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub source: WorkOrderSource,
    /// Solved during the visit: recorded and counted, with no deadline.
    pub resolved_on_spot: Option<bool>,
    pub resolution_note: Option<String>,
}

/// The answer to a new order; the tracking token and the 查询码 are shown only here (a
/// retry with the same client id gets both empty).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkOrderCreated {
    pub id: String,
    pub code: String,
    pub status: WorkOrderStatus,
    pub tracking_token: String,
    /// 6 digits: with the order's `code`, what a villager types to track and rate it.
    pub query_code: String,
    /// The category's default deadline in words.
    pub deadline_notice: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkOrder {
    pub id: String,
    pub code: String,
    pub category: String,
    pub title: String,
    pub description: String,
    pub village_id: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub source: WorkOrderSource,
    pub status: WorkOrderStatus,
    pub resolved_on_spot: bool,
    pub unit_id: Option<String>,
    pub assignee_id: Option<String>,
    pub commitment: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub original_due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub reporter_name: Option<String>,
    /// Masked (138****5678) except for supervisors of the order's subtree and its assignee.
    pub reporter_phone: Option<String>,
    pub photo_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub rating: Option<u8>,
}

/// One entry of an order's append-only timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    /// The user who acted; none for an anonymous reporter or the system.
    pub actor_id: Option<String>,
    pub actor_kind: String,
    pub note: Option<String>,
    pub photo_ids: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
}

/// An open order of the same category nearby, offered to supervisors as a likely duplicate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DuplicateCandidate {
    pub id: String,
    pub code: String,
    pub title: String,
    pub status: WorkOrderStatus,
    pub distance_m: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkOrderDetail {
    #[serde(flatten)]
    pub order: WorkOrder,
    pub timeline: Vec<TimelineEvent>,
    /// Only for supervisors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub possible_duplicates: Option<Vec<DuplicateCandidate>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub unit_id: String,
    pub assignee_id: Option<String>,
    /// One of `due_at`, `due_in_days`, `due_in_working_days`; none: the category's default.
    pub due_at: Option<DateTime<Utc>>,
    pub due_in_days: Option<u32>,
    pub due_in_working_days: Option<u32>,
    /// The unit's written commitment (承诺).
    pub commitment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    pub note: String,
    pub photo_ids: Option<Vec<String>>,
}

/// A staff member's internal note on an order: for colleagues, never shown to the reporter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InternalNoteRequest {
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub resolution_note: String,
    pub photo_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub score: i64,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub reason: String,
    pub duplicate_of: Option<String>,
}

/// Public progress of an order: no personal data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrackView {
    pub code: String,
    pub title: String,
    /// The village's name.
    pub village: String,
    pub category: String,
    pub status: WorkOrderStatus,
    pub created_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub deadline_notice: String,
    /// The reporter's rating (0–100), once rated.
    pub rating: Option<i32>,
    pub timeline: Vec<TrackEvent>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrackEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    /// Only answers meant for the reporter (assigned, progress, resolved, rejected).
    pub note: Option<String>,
    /// The photos of those same answers, e.g. of the resolution.
    pub photo_ids: Vec<String>,
}

/// A village as anyone sees it at `/v/{code}`, with no account: whom to call and what to report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicVillage {
    /// The `village_id` of an order filed here.
    pub id: String,
    pub code: String,
    pub name: String,
    /// The name of the town the village belongs to.
    pub town: Option<String>,
    /// The active work-order categories.
    pub categories: Vec<Category>,
    /// The active cadres responsible for the village, by name.
    pub cadres: Vec<PublicCadre>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicCadre {
    pub name: String,
    pub phone: String,
}

/// Deadline compliance of one unit, village or assignee over a period (DESIGN §2.4).
/// Rates are fractions 0..1; a rate with nothing to measure is null.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ComplianceRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    pub name: String,
    /// Orders assigned in the period.
    pub assigned: u64,
    /// Orders first resolved in the period.
    pub resolved: u64,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub avg_satisfaction: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub overdue_open: u64,
    pub overdue_resolved: u64,
    pub avg_resolution_hours: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// The deadline asked for; later than the current one.
    pub due_at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecision {
    pub approve: bool,
    pub note: Option<String>,
}

/// A request to move an order's deadline, and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Extension {
    pub id: String,
    pub work_order_id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub reason: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    /// Signs every delivery: `X-Minqing-Signature: sha256=<hex HMAC-SHA256 of the body>`.
    pub secret: String,
    /// Event names such as `work_order.overdue`, or `["*"]`.
    pub events: Vec<String>,
}

/// Pauses (`false`) or resumes (`true`) a webhook: a paused one gets no new events, and
/// deliveries already queued for it wait until it is resumed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub active: bool,
}

/// A webhook as listed; the secret is never shown again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

// ---- Performance scoring (DESIGN §2.5–2.6) ----

/// A scoring scheme as stored: the scheme JSON of DESIGN §2.6 in canonical form (defaults
/// filled in) and its version; a closed period keeps the version it was scored with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScoringScheme {
    pub id: String,
    pub version: i32,
    pub active: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub scheme: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

/// One rating of a colleague (民主测评), 0–100.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    pub ratee_id: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rating {
    pub period: String,
    pub rater_id: String,
    pub ratee_id: String,
    pub rater_group: RaterGroup,
    pub score: f64,
    pub updated_at: DateTime<Utc>,
}

/// One colleague the signed-in staff member is asked to rate in a period (民主测评 to do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RatingTask {
    pub user_id: String,
    pub name: String,
    /// `null` for a supervisor.
    pub cadre_category: Option<CadreCategory>,
    /// Whether the signed-in staff member has rated them in the period.
    pub rated: bool,
    /// The score they gave, once rated.
    pub score: Option<f64>,
}

/// The colleagues of one's town to rate in a period, by name, and how many are done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RatingTasks {
    pub period: String,
    /// How many colleagues there are to rate.
    pub total: u32,
    /// How many of them are rated.
    pub done: u32,
    pub items: Vec<RatingTask>,
}

/// A unit's (town's or department's) cadres of one category taken together for a period
/// (单位排名): their number, the mean and the sum of their totals, ranked by the mean among
/// the units listed (ties share a rank).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitScore {
    pub unit_id: String,
    pub name: String,
    pub cadres: u32,
    /// The mean of the cadres' totals, to the hundredth.
    pub mean: f64,
    /// The sum of the cadres' totals, to the hundredth.
    pub sum: f64,
    pub rank: u32,
    pub of: u32,
}

/// 回避: `rater_id` may not rate `ratee_id` (e.g. relatives).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Recusal {
    pub rater_id: String,
    pub ratee_id: String,
    pub reason: String,
}

/// 加分 (positive points) or 扣分 (negative), with a reason; counts once another supervisor
/// approves it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAdjustment {
    pub user_id: String,
    pub period: String,
    pub points: f64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Adjustment {
    pub id: String,
    pub user_id: String,
    pub period: String,
    pub points: f64,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// A value for a manual indicator (人工录入, `metric: "manual"`) of the cadre's active scheme,
/// entered by a supervisor of the cadre's town; entering it again replaces it and it waits
/// for a second supervisor's sign-off once more.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewManualValue {
    pub user_id: String,
    pub period: String,
    /// The code of a manual indicator.
    pub code: String,
    /// 0–100000; a share from 0 to 1 for a `rate` indicator.
    pub value: f64,
    pub reason: String,
    /// Photos the supervisor uploaded as evidence.
    #[serde(default)]
    pub photo_ids: Vec<String>,
}

/// Whether a manual value counts yet: only `approved` ones do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ManualValueStatus {
    Pending,
    Approved,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ManualValue {
    pub id: String,
    pub user_id: String,
    pub period: String,
    pub code: String,
    pub value: f64,
    pub reason: String,
    pub photo_ids: Vec<String>,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
    pub status: ManualValueStatus,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// What a CSV import of manual values stored: every row, waiting for sign-off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ManualImport {
    pub imported: u32,
}

/// 一票否决 in one area, the code of an active area of `GET /scoring/veto-areas` (e.g.
/// `work_safety`); it counts once a second supervisor approves it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVeto {
    pub user_id: String,
    pub period: String,
    pub area: String,
    pub reason: String,
}

/// Where a veto stands: proposed (`pending`, not counted), `approved` by a second supervisor
/// (counted), `withdrawal_requested` (still counted), `withdrawn` by a second supervisor's
/// approval of the request (no longer counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VetoStatus {
    Pending,
    #[default]
    Approved,
    WithdrawalRequested,
    Withdrawn,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Veto {
    pub id: String,
    pub user_id: String,
    pub period: String,
    /// The area's code, and its name (e.g. 安全生产).
    pub area: String,
    pub area_name: String,
    pub reason: String,
    pub status: VetoStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub withdrawal_reason: Option<String>,
    pub withdrawal_requested_by: Option<String>,
    pub withdrawal_requested_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// Asks to withdraw an approved veto; another supervisor approves the withdrawal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VetoWithdrawal {
    pub reason: String,
}

/// An area a veto may be made in (一票否决事项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VetoArea {
    pub code: String,
    pub name: String,
    /// Inactive areas take no new vetoes; those made keep their area.
    pub active: bool,
}

/// A new veto area (admin): `code` of 2–40 lower-case letters, digits and `_`, starting with
/// a letter; `name` of 1–50 characters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVetoArea {
    pub code: String,
    pub name: String,
}

/// Renames a veto area, or retires it (`active: false`) or brings it back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VetoAreaPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// The veto areas, in code order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VetoAreaList {
    pub items: Vec<VetoArea>,
}

/// One indicator of a score: the raw value, its target and rule, the points it earned, and
/// the records the value was counted from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScoreLine {
    pub code: String,
    pub name: String,
    pub metric: String,
    /// `null`: nothing to measure (the scheme's `when_empty` decided the points).
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub rule: String,
    /// After scaling up for excluded lines; a group's cap applies to the group's sum.
    pub points: f64,
    /// Left out (`when_empty: "exclude"` with nothing to measure): its points went to the
    /// other lines.
    #[serde(default)]
    pub excluded: bool,
    /// The 大项 it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Ids of the check-ins, stays or work orders behind `value` (only in a cadre's
    /// breakdown, `GET /scores/{user_id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_ids: Option<Vec<String>>,
}

/// A 大项's part of a score: its lines' points together, at most its cap.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScoreGroup {
    pub name: String,
    pub points: f64,
    pub cap: Option<f64>,
}

/// One cadre ranked within the top who got no achievement record: why.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PassedOver {
    pub user_id: String,
    pub rank: u32,
    pub of: u32,
    /// The grade that fell short of the scheme's `achievement_min_grade`.
    pub grade: String,
    pub why: String,
}

/// The democratic-evaluation part of a score.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemocraticPart {
    /// 0–100: the group-weighted mean rating.
    pub score: f64,
    /// What it adds to the total: the scheme's weight × `score`.
    pub points: f64,
    pub raters: u32,
}

/// A bonus (加分) or deduction (扣分) of a cadre's period as the cadre sees it: approved ones
/// count, the others wait for a second supervisor's sign-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AdjustmentItem {
    pub points: f64,
    pub reason: String,
    pub approved: bool,
}

/// A veto (一票否决) of a cadre's period with its reason: approved ones (and those whose
/// withdrawal waits) count, pending ones wait for a second supervisor; withdrawn ones are
/// not listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VetoItem {
    /// The area's code (`work_safety`) and name (安全生产).
    pub area: String,
    #[serde(default)]
    pub area_name: String,
    pub reason: String,
    #[serde(default)]
    pub status: VetoStatus,
}

/// A cadre's score for a period, ranked within their category.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScoreRow {
    pub user_id: String,
    pub name: String,
    pub category: CadreCategory,
    pub period: String,
    pub total: f64,
    pub rank: u32,
    pub of: u32,
    /// The rank among the category's cadres of the same town, its villages and departments
    /// included (ties share a rank); absent for a cadre outside any town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town_rank: Option<u32>,
    /// How many of the category's cadres that town has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town_of: Option<u32>,
    /// Points from democratic evaluation (see `democratic_detail`).
    pub democratic: f64,
    pub democratic_detail: DemocraticPart,
    /// Sum of the approved adjustments.
    pub adjustments: f64,
    /// Vetoed (一票否决): may not be graded excellent.
    pub veto: bool,
    pub veto_areas: Vec<String>,
    /// The period's adjustments with their reasons, approved or waiting (only in a cadre's
    /// breakdown, `GET /scores/{user_id}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustment_items: Vec<AdjustmentItem>,
    /// The period's vetoes with their reasons (only in a cadre's breakdown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub veto_items: Vec<VetoItem>,
    /// `excellent`, `good`, `pass` or `fail`.
    pub grade: String,
    /// E.g. `veto`, `no_ratings`, `capped:<code>`, `statement` (后进表态),
    /// `position_adjustment`, `suggested_excellent`, `major_contribution`.
    pub flags: Vec<String>,
    pub breakdown: Vec<ScoreLine>,
    /// The scheme's 大项, in order (empty when it has none).
    #[serde(default)]
    pub groups: Vec<ScoreGroup>,
    /// Yearly scores that are the mean of the quarters: each quarter's total (`null`: not scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarters: Option<Vec<Option<f64>>>,
    pub scheme_id: String,
    pub scheme_version: i32,
    /// The period is closed and this row frozen.
    pub frozen: bool,
    /// The share of the period's local days gone by (0–1, to the hundredth): below 1 the
    /// period is still running and a live score still moves with the records; 1 once it
    /// is over, and always for a frozen row (also for rows frozen before this field).
    #[serde(default = "whole")]
    pub elapsed: f64,
}

/// The default `elapsed` of rows frozen before it was kept: their period was over.
fn whole() -> f64 {
    1.0
}

/// The answer to closing a period: what was frozen and written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PeriodClosure {
    pub period: String,
    pub closed_at: DateTime<Utc>,
    pub scores: u32,
    pub achievement_records: u32,
    pub problem_records: u32,
    /// Cadres listed to make a 后进表态 statement.
    pub statements: Vec<String>,
    /// Cadres with a second consecutive problem record: position adjustment.
    pub position_adjustments: Vec<String>,
    /// Ranked within the top but graded below the scheme's `achievement_min_grade`: no
    /// achievement record, and why.
    pub passed_over: Vec<PassedOver>,
    /// The reason given with `force`, to close while check-ins of the period still awaited
    /// review; absent for an ordinary close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_reason: Option<String>,
    /// How many flagged check-ins of the period were left awaiting review (only a forced
    /// close leaves any).
    #[serde(default)]
    pub flagged_left: u32,
}

/// The optional body of `POST /scoring/periods/{period}/close`: without it (or with `force`
/// false) a period whose check-ins still await review is not closed (409); `force` closes
/// it anyway, and then needs the `reason`, which the audit log keeps.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClosePeriodRequest {
    #[serde(default)]
    pub force: bool,
    /// Why the period is closed with check-ins still awaiting review: 1–500 characters,
    /// required with `force`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Where a problem record stands in 销号: open (or sent back) until the cadre submits
/// evidence, pending verification until a supervisor of the town decides, cleared once
/// approved, expired once its rectify-by date passed while it was open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Open,
    PendingVerification,
    Cleared,
    Expired,
}

/// One step of a problem record's 销号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordAction {
    /// The cadre submitted rectification evidence.
    Rectified,
    /// A supervisor approved it: the record is cleared.
    Approved,
    /// A supervisor sent it back to the cadre, with a note.
    SentBack,
}

/// A step on a record's history, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordEvent {
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub action: RecordAction,
    pub note: Option<String>,
    /// Rectified only: the evidence submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Rectified only: the photos submitted with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_ids: Option<Vec<String>>,
}

/// An achievement (实绩档案) or problem-trace (问题痕迹档案) record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScoringRecord {
    pub id: String,
    pub user_id: String,
    /// `achievement` or `problem`.
    pub kind: String,
    pub period: String,
    pub reason: String,
    /// Problems only: the last local day to submit rectification evidence.
    pub rectify_by: Option<NaiveDate>,
    /// Problems only: the latest evidence submitted.
    pub evidence: Option<String>,
    /// Problems only (achievement records have no 销号).
    pub status: Option<RecordStatus>,
    /// 销号: when a supervisor approved the rectification.
    pub cleared_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every step of the 销号 exchange, oldest first.
    pub history: Vec<RecordEvent>,
}

/// Evidence that a problem was rectified (text, and photos the cadre uploaded).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    pub evidence: String,
    #[serde(default)]
    pub photo_ids: Vec<String>,
}

/// A supervisor's decision on submitted rectification evidence; `note` is required when
/// sending it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordVerification {
    pub approve: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// A group night session: 夜学 (`night_study`) or 夜议 (`night_discussion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    NightStudy,
    NightDiscussion,
}

/// Where a session stands: waiting for its minutes (纪要), complete with them, or
/// incomplete — no minutes by the end of the next day, so its attendance went to review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    AwaitingMinutes,
    Complete,
    Incomplete,
}

/// Opens a session at a place (a village, or any org unit of the town with a boundary).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub kind: SessionKind,
    pub place_id: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
}

/// The villagers who came to a 夜议: names where known, and how many in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VillagersPresent {
    #[serde(default)]
    pub names: Vec<String>,
    pub count: i32,
}

/// The organiser's minutes (纪要), their photos and, for a 夜议, the villagers present.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionUpdate {
    pub minutes: Option<String>,
    pub photo_ids: Option<Vec<String>>,
    pub villagers_present: Option<VillagersPresent>,
}

/// A cadre who checked in to a session, and how the check-in stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Attendee {
    pub user_id: String,
    pub name: String,
    pub checkin_id: String,
    pub recorded_at: DateTime<Utc>,
    pub status: CheckinStatus,
    pub flags: Vec<Flag>,
}

/// A 夜学 or 夜议 with its attendance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Session {
    pub id: String,
    pub kind: SessionKind,
    pub place_id: String,
    pub place_name: String,
    pub organiser_id: String,
    pub organiser_name: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    /// The local date the session counts for.
    pub night_date: NaiveDate,
    pub status: SessionStatus,
    /// When the minutes are due: the end of the day after the session (UTC).
    pub minutes_due_at: DateTime<Utc>,
    pub minutes: Option<String>,
    pub minutes_at: Option<DateTime<Utc>>,
    pub photo_ids: Vec<String>,
    pub villagers_present: Option<VillagersPresent>,
    pub attendees: Vec<Attendee>,
    pub created_at: DateTime<Utc>,
}

/// A day's 工作日志: at least 20 characters; one per cadre and day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWorkLog {
    pub date: NaiveDate,
    pub content: String,
    pub photo_ids: Option<Vec<String>>,
}

/// A leader's comment on a log (批阅).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkLogComment {
    pub id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// An earlier version of a log, kept when it was edited on its day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkLogRevision {
    pub content: String,
    pub photo_ids: Vec<String>,
    pub written_at: DateTime<Utc>,
    pub replaced_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkLog {
    pub id: String,
    pub user_id: String,
    pub date: NaiveDate,
    pub content: String,
    pub photo_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the writer may still edit it (only on its day).
    pub editable: bool,
    pub comments: Vec<WorkLogComment>,
    pub history: Vec<WorkLogRevision>,
}

/// One day of a month of logs: its log, or none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkLogDay {
    pub date: NaiveDate,
    pub log: Option<WorkLog>,
}

/// A cadre's month of logs: every day up to today, with or without a log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkLogMonth {
    pub user_id: String,
    pub name: String,
    /// `YYYY-MM`.
    pub month: String,
    pub days_with_log: i32,
    pub days_without_log: i32,
    pub days: Vec<WorkLogDay>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub text: String,
}

/// One line of the audit log: who read personal data or changed something, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// e.g. `user.read`, `user.update`, `adjustment.approve`, `period.close`.
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub detail: Option<serde_json::Value>,
}
