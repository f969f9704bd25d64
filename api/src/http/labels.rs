//! `GET /labels`: the label table of `domain::labels` for clients that render words
//! themselves (the cadre's PWA, outside systems).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use minqing_protocol::{Labels, Problem};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::labels::table;
use crate::error::{ApiError, ApiResult};

/// The only language so far.
const LANG: &str = "zh-CN";

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_labels);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LabelsQuery {
    /// `zh-CN` (the default and, so far, the only one).
    lang: Option<String>,
}

/// Every machine word a person reads (statuses, kinds, flags, grades, veto areas, rater
/// groups, request fields, error titles) in Chinese, by family: `labels[family][word]`.
#[utoipa::path(tag = "system", params(LabelsQuery), responses(
    (status = 200, body = Labels), (status = 422, body = Problem)))]
#[get("/labels")]
async fn get_labels(query: web::Query<LabelsQuery>) -> ApiResult<HttpResponse> {
    // Language tags are case-insensitive (RFC 5646).
    if query
        .lang
        .as_deref()
        .is_some_and(|lang| !lang.eq_ignore_ascii_case(LANG))
    {
        return Err(ApiError::invalid("lang", "only zh-CN is offered"));
    }
    let labels = table()
        .into_iter()
        .map(|(family, words)| {
            let words = words
                .into_iter()
                .map(|(word, label)| (word.to_string(), label.to_string()))
                .collect();
            (family.to_string(), words)
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(Labels {
            lang: LANG.into(),
            labels,
        }))
}
