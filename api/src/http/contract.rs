//! What the OpenAPI document says beyond each handler's own annotation, kept in one place:
//! the `application/problem+json` errors an operation can answer, and the bounds the server
//! checks on parameters and body fields. `.ci/schemathesis` holds the document to the server
//! both ways (valid requests are served, invalid ones refused), so the numbers here must be
//! the server's own: where a check names its limit in a constant, that constant is used.

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ArrayItems, KnownFormat, Object, ObjectBuilder,
    OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    Components, Content, HeaderBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder,
};

use super::paging::MAX_LIMIT;
use crate::domain::category::MAX_DEFAULT_WORKING_DAYS;
use crate::domain::people::MIN_PASSWORD_CHARS;
use crate::domain::scoring::{default_schemes, MAX_RECTIFY_PHOTOS};
use crate::domain::vetoes::{AREA_CODE_PATTERN, MAX_AREA_NAME_CHARS};
use crate::domain::webhook::EVENTS;
use crate::domain::{checkin, intake, night_session, work_log};
use crate::error::PROBLEM_JSON;

/// Fills in what the handlers' annotations leave to the whole API.
pub fn complete(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in operations(item) {
            error_responses(path, op);
            parameter_bounds(op);
            upload_body(path, op);
            json_bodies(path, op);
        }
    }
    let components = doc.components.get_or_insert_with(Components::new);
    field_bounds(components);
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

// ---------------------------------------------------------------------------------------
// Errors

/// The errors any operation may answer, each with the condition under which it applies.
const STANDARD_ERRORS: &[(u16, &str, When)] = &[
    (400, "The body could not be read: malformed JSON, or a broken upload.", When::Body),
    (401, "No valid access token: none was sent, it expired, or the session ended (password, role or account changed).", When::Secured),
    (403, "The signed-in user may not do this: their role, or their part in the record, does not allow it.", When::Secured),
    (404, "No such record, or one the signed-in user may not see.", When::PathParams),
    (408, "The body did not arrive in time; the connection is closed.", When::Body),
    (413, "The body is too large.", When::Body),
    (415, "The body is not of a type this operation reads (JSON unless stated).", When::Body),
    (422, "A parameter or field is invalid; `errors` names each one and what is wrong.", When::Input),
    (500, "An internal error; it has been logged, and the details are not sent.", When::Always),
    (503, "The database is not available right now; retry after `Retry-After` seconds.", When::Database),
];

#[derive(Clone, Copy)]
enum When {
    Always,
    /// The operation reads a request body.
    Body,
    /// The operation takes a path parameter naming a record.
    PathParams,
    /// The operation takes parameters or a body.
    Input,
    /// The operation takes a bearer token.
    Secured,
    /// The operation reads or writes the database (all but the document and the labels).
    Database,
}

fn applies(when: When, path: &str, op: &Operation) -> bool {
    let params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    match when {
        When::Always => true,
        When::Body => op.request_body.is_some(),
        When::PathParams => path.contains('{'),
        When::Input => params || op.request_body.is_some(),
        When::Secured => op
            .security
            .as_ref()
            .is_some_and(|s| s.iter().any(|r| *r != SecurityRequirement::default())),
        When::Database => !path.ends_with("/openapi.json") && !path.ends_with("/labels"),
    }
}

/// Error answers are `application/problem+json` (RFC 9457) with the `Problem` schema: the
/// handlers' own error responses are moved to that type, and the standard ones added.
fn error_responses(path: &str, op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        let RefOr::T(response) = response else {
            continue;
        };
        if let Some(content) = response.content.shift_remove("application/json") {
            let key = if is_problem(&content) {
                PROBLEM_JSON
            } else {
                "application/json"
            };
            response.content.insert(key.to_string(), content);
        }
    }
    for &(status, description, when) in STANDARD_ERRORS {
        if applies(when, path, op) {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| problem(description).into());
        }
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            if let Some(&(_, description, _)) = STANDARD_ERRORS
                .iter()
                .find(|(code, _, _)| code.to_string() == *status)
            {
                response.description = description.to_string();
            }
        }
        document_headers(status, response);
    }
}

fn is_problem(content: &Content) -> bool {
    matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location == "#/components/schemas/Problem")
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

/// The headers the error mapping always sends with these statuses (see `error.rs`).
fn document_headers(status: &str, response: &mut Response) {
    let (name, description, schema) = match status {
        "401" => (
            "WWW-Authenticate",
            "`Bearer`: send an access token.",
            Type::String,
        ),
        "429" => (
            "Retry-After",
            "Seconds to wait before trying again.",
            Type::Integer,
        ),
        "503" => (
            "Retry-After",
            "Seconds to wait before trying again.",
            Type::Integer,
        ),
        _ => return,
    };
    response.headers.entry(name.to_string()).or_insert_with(|| {
        HeaderBuilder::new()
            .schema(Object::with_type(schema))
            .description(Some(description))
            .build()
    });
}

// ---------------------------------------------------------------------------------------
// Bounds

/// The characters `str::trim` removes (Unicode White_Space), spelled out rather than `\s`
/// because regex dialects disagree on what `\s` is.
macro_rules! spaces {
    () => {
        r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}
/// Some character that is not white space.
const NOT_SPACE: &str = concat!("[^", spaces!(), "]");

/// A mainland mobile number as `Phone::parse` reads it: 11 digits `1[3-9]…`, optionally
/// after `+86` or `0086`, with spaces and dashes anywhere.
const PHONE: &str =
    r"^[ -]*(\+[ -]*8[ -]*6[ -]*|0[ -]*0[ -]*8[ -]*6[ -]*)?1[ -]*[3-9]([ -]*[0-9]){9}[ -]*$";
/// A UUID in its 36-character text form, either case (`is_client_uuid`).
const UUID: &str = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";
/// `YYYY-MM`, `YYYY-Qn` or `YYYY`, years 2000–2100 (`Period::parse`).
const PERIOD: &str = r"^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$";
/// `YYYY-MM`, years 2000–2100 (`work_log::parse_month`).
const MONTH: &str = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$";
/// The `next_cursor` of an earlier page: URL-safe base64 without padding; empty is the first
/// page.
const CURSOR: &str = r"^[A-Za-z0-9_-]*$";
/// A code as `org::parse_code` takes it (trimmed): letters, digits, `-`, `_`.
const UNIT_CODE: &str = concat!("^[", spaces!(), "]*[A-Za-z0-9_-]{1,32}[", spaces!(), "]*$");
/// A category code as `parse_category_code` takes it (trimmed): lower-case letters, digits,
/// `-`, `_`.
const CATEGORY_CODE: &str = concat!("^[", spaces!(), "]*[a-z0-9_-]{1,32}[", spaces!(), "]*$");
/// A webhook address as `check_webhook` takes it (trimmed first): http(s), no white space.
const WEBHOOK_URL: &str = concat!(
    "^[",
    spaces!(),
    "]*https?://[^",
    spaces!(),
    "]*[",
    spaces!(),
    "]*$"
);

#[derive(Clone, Copy)]
enum Rule {
    /// Text that is trimmed and then must hold `min..=max` characters; `min` 0 means an
    /// empty (or all-space) value counts as absent.
    Text(usize, usize),
    /// Characters counted as sent, `min..=max`.
    Chars(usize, usize),
    Pattern(&'static str),
    Range(f64, f64),
    Integer(i64, i64),
    /// At most this many items.
    Items(usize),
    /// One of these values.
    Enum(fn() -> Vec<&'static str>),
    /// A list of `min..` items, each one of these values.
    ItemsOf(usize, fn() -> Vec<&'static str>),
}

/// Query and path parameters, by name, wherever they appear.
fn parameter_rule(location: &ParameterIn, name: &str) -> Option<(Rule, Option<&'static str>)> {
    Some(match (location, name) {
        (ParameterIn::Query, "limit") => (Rule::Integer(1, MAX_LIMIT), None),
        (ParameterIn::Query, "cursor") => (
            Rule::Pattern(CURSOR),
            Some("The `next_cursor` of the page before (empty: the first page); any other value is refused (422)."),
        ),
        (_, "period") => (Rule::Pattern(PERIOD), None),
        (ParameterIn::Query, "month") => (Rule::Pattern(MONTH), None),
        (ParameterIn::Path, "year") => (Rule::Integer(2000, 2100), None),
        (ParameterIn::Query, "lang") => (Rule::Pattern(r"^[Zz][Hh]-[Cc][Nn]$"), None),
        (ParameterIn::Query, "format") => (Rule::Enum(|| vec!["csv"]), None),
        _ => return None,
    })
}

fn parameter_bounds(op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        let Some((rule, description)) = parameter_rule(&param.parameter_in, &param.name) else {
            continue;
        };
        if let Some(RefOr::T(schema)) = param.schema.as_mut() {
            if matches!(rule, Rule::Integer(..)) {
                // Parsed from the text (`year`): documented as the number it must be.
                if let Schema::Object(object) = schema {
                    object.schema_type = SchemaType::new(Type::Integer);
                    object.pattern = None;
                }
            }
            apply(schema, rule);
        }
        if let Some(description) = description {
            param
                .description
                .get_or_insert_with(|| description.to_string());
        }
    }
}

/// 8 to 128 characters, no control characters; not a common password, not one character
/// repeated, not containing the phone (which no schema can say).
const PASSWORD: Rule = Rule::Chars(MIN_PASSWORD_CHARS, 128);
const DUE_DAYS: Rule = Rule::Integer(1, MAX_DEFAULT_WORKING_DAYS as i64);

/// Body fields, by schema and property.
const FIELDS: &[(&str, &str, Rule)] = &[
    ("LoginRequest", "phone", Rule::Pattern(PHONE)),
    ("RegisterRequest", "phone", Rule::Pattern(PHONE)),
    ("RegisterRequest", "name", Rule::Text(1, 50)),
    ("RegisterRequest", "password", PASSWORD),
    ("NewUser", "phone", Rule::Pattern(PHONE)),
    ("NewUser", "name", Rule::Text(1, 50)),
    ("NewUser", "password", PASSWORD),
    ("UserPatch", "phone", Rule::Pattern(PHONE)),
    ("UserPatch", "name", Rule::Text(1, 50)),
    ("UserPatch", "password", PASSWORD),
    ("NewOrgUnit", "name", Rule::Text(1, 100)),
    ("NewOrgUnit", "code", Rule::Pattern(UNIT_CODE)),
    ("OrgUnitPatch", "name", Rule::Text(1, 100)),
    ("OrgUnitPatch", "code", Rule::Pattern(UNIT_CODE)),
    ("NewCategory", "code", Rule::Pattern(CATEGORY_CODE)),
    ("NewCategory", "name", Rule::Text(1, 50)),
    ("NewCategory", "group", Rule::Text(1, 50)),
    ("NewCategory", "default_due_working_days", DUE_DAYS),
    ("CategoryPatch", "name", Rule::Text(1, 50)),
    ("CategoryPatch", "group", Rule::Text(1, 50)),
    ("CategoryPatch", "default_due_working_days", DUE_DAYS),
    ("CalendarInput", "holidays", Rule::Items(366)),
    ("CalendarInput", "workdays", Rule::Items(366)),
    ("NewCheckin", "id", Rule::Pattern(UUID)),
    ("NewCheckin", "lat", Rule::Range(-90.0, 90.0)),
    ("NewCheckin", "lon", Rule::Range(-180.0, 180.0)),
    ("NewCheckin", "accuracy_m", Rule::Range(0.0, 100_000.0)),
    ("NewCheckin", "note", Rule::Text(0, 2000)),
    ("NewCheckin", "household", Rule::Text(0, 200)),
    ("NewCheckin", "device_id", Rule::Text(0, 128)),
    ("NewCheckin", "photo_ids", Rule::Items(checkin::MAX_PHOTOS)),
    ("NewWorkOrder", "id", Rule::Pattern(UUID)),
    ("NewWorkOrder", "title", Rule::Text(1, 100)),
    ("NewWorkOrder", "description", Rule::Text(1, 2000)),
    ("NewWorkOrder", "lat", Rule::Range(-90.0, 90.0)),
    ("NewWorkOrder", "lon", Rule::Range(-180.0, 180.0)),
    ("NewWorkOrder", "address", Rule::Text(0, 200)),
    ("NewWorkOrder", "photo_ids", Rule::Items(intake::MAX_PHOTOS)),
    ("NewWorkOrder", "reporter_name", Rule::Text(1, 50)),
    ("NewWorkOrder", "reporter_phone", Rule::Pattern(PHONE)),
    ("NewWorkOrder", "resolution_note", Rule::Text(0, 2000)),
    ("ProgressRequest", "note", Rule::Text(1, 2000)),
    ("InternalNoteRequest", "note", Rule::Text(1, 2000)),
    ("ResolveRequest", "resolution_note", Rule::Text(1, 2000)),
    ("RejectRequest", "reason", Rule::Text(1, 2000)),
    ("ExtensionRequest", "reason", Rule::Text(1, 2000)),
    ("RateRequest", "score", Rule::Integer(0, 100)),
    (
        "ReviewRequest",
        "reason",
        Rule::Text(1, crate::checkins::MAX_REASON_CHARS),
    ),
    ("Rectification", "evidence", Rule::Text(1, 2000)),
    (
        "Rectification",
        "photo_ids",
        Rule::Items(MAX_RECTIFY_PHOTOS),
    ),
    (
        "NewComment",
        "text",
        Rule::Text(1, work_log::MAX_COMMENT_CHARS),
    ),
    // At least 20 characters besides white space, and not a few repeated: the length is
    // what a schema can say.
    (
        "NewWorkLog",
        "content",
        Rule::Chars(work_log::MIN_CONTENT_CHARS, work_log::MAX_CONTENT_CHARS),
    ),
    ("NewWorkLog", "photo_ids", Rule::Items(work_log::MAX_PHOTOS)),
    (
        "NewSession",
        "topic",
        Rule::Text(1, night_session::MAX_TOPIC_CHARS),
    ),
    (
        "SessionUpdate",
        "minutes",
        Rule::Text(1, night_session::MAX_MINUTES_CHARS),
    ),
    ("NewWebhook", "url", Rule::Pattern(WEBHOOK_URL)),
    ("NewWebhook", "secret", Rule::Chars(16, 256)),
    ("NewWebhook", "events", Rule::ItemsOf(1, webhook_events)),
    ("NewAdjustment", "period", Rule::Pattern(PERIOD)),
    ("NewAdjustment", "points", Rule::Range(-1000.0, 1000.0)),
    ("NewAdjustment", "reason", Rule::Text(1, 2000)),
    ("NewManualValue", "period", Rule::Pattern(PERIOD)),
    ("NewManualValue", "code", Rule::Text(1, 50)),
    (
        "NewManualValue",
        "value",
        Rule::Range(0.0, crate::domain::scoring::MAX_MANUAL_VALUE),
    ),
    (
        "NewManualValue",
        "reason",
        Rule::Text(1, crate::domain::scoring::MAX_MANUAL_REASON_CHARS),
    ),
    (
        "NewManualValue",
        "photo_ids",
        Rule::Items(crate::manual_values::MAX_PHOTOS),
    ),
    ("NewVeto", "period", Rule::Pattern(PERIOD)),
    // A code of the admin's list (`GET /scoring/veto-areas`), active: data, not an enum.
    ("NewVeto", "area", Rule::Pattern(AREA_CODE_PATTERN)),
    ("NewVeto", "reason", Rule::Text(1, 2000)),
    ("VetoWithdrawal", "reason", Rule::Text(1, 2000)),
    ("NewVetoArea", "code", Rule::Pattern(AREA_CODE_PATTERN)),
    ("NewVetoArea", "name", Rule::Text(1, MAX_AREA_NAME_CHARS)),
    ("VetoAreaPatch", "name", Rule::Text(1, MAX_AREA_NAME_CHARS)),
    ("NewRating", "period", Rule::Pattern(PERIOD)),
    ("NewRating", "score", Rule::Range(0.0, 100.0)),
    ("Recusal", "reason", Rule::Text(1, 2000)),
    // Needed (1–500 characters) only with `force`, which no schema here says.
    (
        "ClosePeriodRequest",
        "reason",
        Rule::Text(1, crate::scoring::MAX_FORCE_REASON_CHARS),
    ),
];

fn field_bounds(components: &mut Components) {
    for &(schema, property, rule) in FIELDS {
        if let Some(field) = property_mut(components, schema, property) {
            apply(field, rule);
        }
    }
}

fn property_mut<'a>(
    components: &'a mut Components,
    schema: &str,
    property: &str,
) -> Option<&'a mut Schema> {
    let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
        return None;
    };
    match object.properties.get_mut(property) {
        Some(RefOr::T(field)) => Some(field),
        _ => None,
    }
}

fn apply(schema: &mut Schema, rule: Rule) {
    match (schema, rule) {
        (Schema::Array(array), Rule::Items(max)) => array.max_items = Some(max),
        (Schema::Array(array), Rule::ItemsOf(min, values)) => {
            array.min_items = Some(min);
            if let ArrayItems::RefOrSchema(item) = &mut array.items {
                if let RefOr::T(Schema::Object(item)) = item.as_mut() {
                    item.enum_values = Some(values().into_iter().map(Into::into).collect());
                }
            }
        }
        (Schema::Object(object), rule) => match rule {
            Rule::Text(min, max) => {
                object.max_length = Some(max);
                if min > 0 {
                    object.min_length = Some(min);
                    object.pattern = Some(NOT_SPACE.to_string());
                }
            }
            Rule::Chars(min, max) => {
                object.min_length = Some(min);
                object.max_length = Some(max);
            }
            Rule::Pattern(pattern) => object.pattern = Some(pattern.to_string()),
            Rule::Range(min, max) => {
                object.minimum = Some(min.into());
                object.maximum = Some(max.into());
            }
            Rule::Integer(min, max) => {
                object.minimum = Some((min as isize).into());
                object.maximum = Some((max as isize).into());
            }
            Rule::Enum(values) => {
                let mut values: Vec<serde_json::Value> =
                    values().into_iter().map(Into::into).collect();
                // An optional field may also be null.
                if matches!(&object.schema_type, SchemaType::Array(types) if types.contains(&Type::Null))
                {
                    values.push(serde_json::Value::Null);
                }
                object.enum_values = Some(values);
            }
            Rule::Items(_) | Rule::ItemsOf(..) => {}
        },
        _ => {}
    }
}

fn webhook_events() -> Vec<&'static str> {
    std::iter::once("*").chain(EVENTS.iter().copied()).collect()
}

/// Bodies the handlers read as free JSON: a boundary has a shape worth stating, and a
/// scoring scheme is shown by a working example (DESIGN §2.6 has the rules).
fn json_bodies(path: &str, op: &mut Operation) {
    let Some(content) = op
        .request_body
        .as_mut()
        .and_then(|body| body.content.get_mut("application/json"))
    else {
        return;
    };
    if path.ends_with("/boundary") {
        content.schema = Some(boundary().into());
    } else if path.starts_with("/api/v1/scoring/schemes") {
        content.example = default_schemes().first().map(|scheme| scheme.to_json());
    }
}

/// What `domain::boundary::parse_boundary` takes: a circle, or a GeoJSON Polygon or
/// MultiPolygon (positions `[lon, lat]`, an optional altitude ignored). Rings must also be
/// closed and simple, which a schema cannot say.
fn boundary() -> Schema {
    let number = |min: f64, max: f64| {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(min))
            .maximum(Some(max))
    };
    let center = ObjectBuilder::new()
        .property("lat", number(-90.0, 90.0))
        .property("lon", number(-180.0, 180.0))
        .required("lat")
        .required("lon")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let circle = ObjectBuilder::new()
        .title(Some("Circle"))
        .property("center", center)
        .property(
            "radius_m",
            number(10.0, 50_000.0)
                .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                .description(Some("Metres; 1500 when absent or null.")),
        )
        .required("center")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let position = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::Number))
        .min_items(Some(2))
        .max_items(Some(3));
    let ring = ArrayBuilder::new().items(position).min_items(Some(4));
    let polygon: Schema = ArrayBuilder::new().items(ring).min_items(Some(1)).into();
    let geojson = |kind: &str, coordinates: Schema| {
        ObjectBuilder::new()
            .title(Some(kind))
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([kind])),
            )
            .property("coordinates", coordinates)
            .required("type")
            .required("coordinates")
    };
    OneOfBuilder::new()
        .item(circle)
        .item(geojson("Polygon", polygon.clone()))
        .item(geojson(
            "MultiPolygon",
            ArrayBuilder::new()
                .items(RefOr::T(polygon))
                .min_items(Some(1))
                .into(),
        ))
        .description(Some(
            "A circle `{center: {lat, lon}, radius_m}`, or a GeoJSON Polygon or MultiPolygon in WGS-84 whose rings are closed and do not cross.",
        ))
        .into()
}

/// The photo upload takes the image's bytes (or a form with them), not a JSON list of numbers.
fn upload_body(path: &str, op: &mut Operation) {
    if !path.ends_with("/media") {
        return;
    }
    let Some(body) = op.request_body.as_mut() else {
        return;
    };
    let bytes = || {
        Content::new(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
        ))
    };
    body.content.clear();
    for image in ["image/jpeg", "image/png", "image/webp"] {
        body.content.insert(image.to_string(), bytes());
    }
    let form = ObjectBuilder::new()
        .property(
            "file",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
        )
        .required("file");
    body.content
        .insert("multipart/form-data".to_string(), Content::new(Some(form)));
    op.responses.responses.insert(
        "507".to_string(),
        problem("The photo store is full: nothing was stored.").into(),
    );
}

/// The body fields given bounds here, as `(schema, property)`: a test checks that each is in
/// the served document, so a renamed field is noticed.
pub fn bounded_fields() -> impl Iterator<Item = (&'static str, &'static str)> {
    FIELDS
        .iter()
        .map(|&(schema, property, _)| (schema, property))
}
