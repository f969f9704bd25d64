//! Request extractors: JSON bodies that name the bad field, and the signed-in actor.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::State;
use crate::db::users;
use crate::domain::access::Actor;
use crate::error::{ApiError, ApiResult};

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 1 << 20;

/// A JSON body. Unlike `web::Json`, errors name the offending field by its path
/// (`org_unit_id`, `villages[2]`) and map to 400 (unreadable), 413 (too large),
/// 415 (not JSON) or 422 (wrong type, unknown value, missing field).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let too_large =
                || ApiError::PayloadTooLarge(format!("the body is over {JSON_LIMIT} bytes"));
            if declared_len.is_some_and(|n| n > JSON_LIMIT) {
                return Err(too_large());
            }
            let mut body = Vec::with_capacity(declared_len.unwrap_or(1024).min(JSON_LIMIT));
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
                if body.len() + chunk.len() > JSON_LIMIT {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(JsonBody)
        })
    }
}

/// Deserialises JSON, naming the path of the field that does not fit.
///
/// JSON has one kind of number: `5.0` is the integer 5 (so says JSON Schema, and this API's
/// OpenAPI document with it), but serde refuses it for an integer field. A body refused for
/// a field is read once more with such whole numbers written as integers.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let first = deserialize::<_, T>(&mut de).and_then(|value| {
        de.end()
            .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
        Ok(value)
    });
    let Err(ApiError::Invalid(_)) = first else {
        return first;
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return first;
    };
    if whole_numbers_as_integers(&mut value) {
        deserialize(value)
    } else {
        first
    }
}

/// Writes numbers such as `5.0` as `5`; says whether there was any.
fn whole_numbers_as_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            let Some(f) = n.as_f64().filter(|_| n.is_f64()) else {
                return false;
            };
            // Within ±2^53 every whole f64 is exactly an integer.
            if f.fract() != 0.0 || f.abs() > 9_007_199_254_740_992.0 {
                return false;
            }
            *n = serde_json::Number::from(f as i64);
            true
        }
        // Every element is visited (no short cut): each may need rewriting.
        Value::Array(items) => items
            .iter_mut()
            .map(whole_numbers_as_integers)
            .fold(false, |any, changed| any | changed),
        Value::Object(fields) => fields
            .values_mut()
            .map(whole_numbers_as_integers)
            .fold(false, |any, changed| any | changed),
        _ => false,
    }
}

fn deserialize<'de, D, T>(de: D) -> ApiResult<T>
where
    D: serde::Deserializer<'de, Error = serde_json::Error>,
    T: DeserializeOwned,
{
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_data() {
                let field = if path == "." {
                    missing_field(&inner.to_string()).unwrap_or_else(|| "body".into())
                } else {
                    path
                };
                Err(ApiError::invalid(field, strip_position(&inner.to_string())))
            } else {
                Err(ApiError::BadRequest(format!("malformed JSON: {inner}")))
            }
        }
    }
}

/// serde reports a missing field at the parent's path; name the field itself.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_string)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The signed-in user, from a valid `Authorization: Bearer` access token.
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<State>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("app state missing")))?;
            let token = token.ok_or_else(|| {
                ApiError::Unauthenticated(
                    "send an access token: Authorization: Bearer <token>".into(),
                )
            })?;
            let claims = state.keys.verify(&token)?;
            if let Some(actor) = state.actors.get(&claims.sub, claims.ep) {
                return Ok(Authenticated(actor));
            }
            let loading = state.actors.loading();
            let found = state
                .db
                .run(move |conn| users::find_with_epoch(conn, &claims.sub))
                .await?;
            let (user, org_path, epoch) = found.filter(|(u, _, _)| u.active).ok_or_else(|| {
                ApiError::Unauthenticated("the account no longer exists or is disabled".into())
            })?;
            if epoch != claims.ep {
                return Err(ApiError::Unauthenticated(
                    "this session has ended (password, role or account changed); sign in again"
                        .into(),
                ));
            }
            let actor = Actor {
                role: user.role()?,
                user_id: user.id,
                org_unit_id: user.org_unit_id,
                org_path,
            };
            state.actors.put(actor.clone(), epoch, loading);
            Ok(Authenticated(actor))
        })
    }
}

/// The signed-in user if a token is sent, `None` without one; a bad token is still refused.
pub struct MaybeAuthenticated(pub Option<Actor>);

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get(header::AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(MaybeAuthenticated(None)) });
        }
        let signed_in = Authenticated::from_request(req, payload);
        Box::pin(async move { Ok(MaybeAuthenticated(Some(signed_in.await?.0))) })
    }
}

/// The client's address as seen by this server (used to limit attempts per IP).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A required free-text field (a note, a reason, evidence): trimmed, 1–2000 characters.
pub fn required_note(field: &str, raw: &str) -> ApiResult<String> {
    let t = raw.trim();
    match t.chars().count() {
        0 => Err(ApiError::invalid(field, "must not be empty")),
        1..=2000 => Ok(t.to_string()),
        _ => Err(ApiError::invalid(field, "must be at most 2000 characters")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minqing_protocol::NewOrgUnit;

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Invalid(list) => list[0].field.clone(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_json::<NewOrgUnit>(br#"{"name":"x","kind":"planet"}"#).unwrap_err();
        assert_eq!(field_of(err), "kind");
        let err = parse_json::<NewOrgUnit>(br#"{"name":5,"kind":"town"}"#).unwrap_err();
        assert_eq!(field_of(err), "name");
        let err = parse_json::<NewOrgUnit>(br#"{"kind":"town"}"#).unwrap_err();
        assert_eq!(field_of(err), "name");
        assert!(matches!(
            parse_json::<NewOrgUnit>(br#"{"name":"#),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<NewOrgUnit>(br#"{"name":"x","kind":"town"} trailing"#),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn whole_numbers_written_with_a_point_are_integers() {
        use minqing_protocol::RateRequest;
        let rate = parse_json::<RateRequest>(br#"{"score": 5.0}"#).unwrap();
        assert_eq!(rate.score, 5);
        let err = parse_json::<RateRequest>(br#"{"score": 5.5}"#).unwrap_err();
        assert_eq!(field_of(err), "score");
        let err = parse_json::<RateRequest>(br#"{"score": 5.0, "comment": 1}"#).unwrap_err();
        assert_eq!(field_of(err), "comment");
    }
}
