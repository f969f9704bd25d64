//! Request extractors: JSON bodies that name the bad field, and the signed-in actor.

use std::future::Future;
use std::net::IpAddr;
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
        let content_type_ok = is_json(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(not_json());
            }
            parse_json(&read_limited(payload, declared).await?).map(JsonBody)
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
}

fn not_json() -> ApiError {
    ApiError::UnsupportedMediaType("send the body as application/json".into())
}

/// The `Content-Length` a request declares, if any.
pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// A whole body of at most [`JSON_LIMIT`] bytes: 413 as soon as the declared length or the
/// bytes read so far pass it, 400 when the stream breaks.
pub async fn read_limited<S>(mut payload: S, declared: Option<usize>) -> ApiResult<Vec<u8>>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>>
        + Unpin,
{
    let too_large = || ApiError::PayloadTooLarge(format!("the body is over {JSON_LIMIT} bytes"));
    if declared.is_some_and(|n| n > JSON_LIMIT) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(1024).min(JSON_LIMIT));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > JSON_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An optional JSON body: a request with no body at all (no bytes), or the body `null`,
/// gives `None`; any other body is read as [`JsonBody`] reads it (JSON only, within the same
/// limit, errors naming the field).
pub struct MaybeJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for MaybeJsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            let body = read_limited(payload, declared).await?;
            if body.is_empty() {
                return Ok(MaybeJsonBody(None));
            }
            if !content_type_ok {
                return Err(not_json());
            }
            parse_json::<Option<T>>(&body).map(MaybeJsonBody)
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
    match serde_path_to_error::deserialize::<_, T>(objects_only::Strict(de)) {
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
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let Some(trusted) = req
        .app_data::<State>()
        .map(|s| &s.config.trusted_proxies)
        .filter(|t| t.allows_ip(peer))
    else {
        return peer.to_string();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    forwarded_client(&forwarded.join(","), |ip| trusted.allows_ip(ip))
        .unwrap_or(peer)
        .to_string()
}

/// The client behind trusted proxies: the rightmost address of `X-Forwarded-For` that is not
/// a trusted proxy (addresses left of it were written by the client and prove nothing).
fn forwarded_client(header: &str, trusted: impl Fn(IpAddr) -> bool) -> Option<IpAddr> {
    let mut hops = header.rsplit(',').map(str::trim).filter(|h| !h.is_empty());
    hops.find_map(|hop| match hop.parse::<IpAddr>() {
        Ok(ip) if trusted(ip) => None,
        Ok(ip) => Some(Some(ip)),
        // Garbage where an address should be: the chain cannot be followed past it.
        Err(_) => Some(None),
    })
    .flatten()
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

/// serde reads a struct from a JSON array too (`["t"]` for `{"refresh_token": "t"}`); this
/// API's bodies are objects, as its OpenAPI document says, so a deserializer wrapped in
/// [`Strict`] refuses an array wherever a struct is expected, at any depth.
mod objects_only {
    use std::fmt;

    use serde::de::{
        DeserializeSeed, Deserializer, EnumAccess, Error, MapAccess, SeqAccess, Unexpected,
        VariantAccess, Visitor,
    };

    pub struct Strict<D>(pub D);

    /// A visitor that refuses a sequence when `object` is set (a struct is expected), and
    /// passes the wrapping on to everything it reads.
    struct Wrap<V> {
        inner: V,
        object: bool,
    }

    fn wrap<V>(inner: V) -> Wrap<V> {
        Wrap {
            inner,
            object: false,
        }
    }

    macro_rules! forward {
        ($($method:ident),* $(,)?) => {$(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method(wrap(visitor))
            }
        )*};
    }

    impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
        type Error = D::Error;

        forward!(
            deserialize_any,
            deserialize_bool,
            deserialize_i8,
            deserialize_i16,
            deserialize_i32,
            deserialize_i64,
            deserialize_i128,
            deserialize_u8,
            deserialize_u16,
            deserialize_u32,
            deserialize_u64,
            deserialize_u128,
            deserialize_f32,
            deserialize_f64,
            deserialize_char,
            deserialize_str,
            deserialize_string,
            deserialize_bytes,
            deserialize_byte_buf,
            deserialize_option,
            deserialize_unit,
            deserialize_seq,
            deserialize_map,
            deserialize_identifier,
            deserialize_ignored_any,
        );

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.0.deserialize_unit_struct(name, wrap(visitor))
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.0.deserialize_newtype_struct(name, wrap(visitor))
        }

        fn deserialize_tuple<V: Visitor<'de>>(
            self,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.0.deserialize_tuple(len, wrap(visitor))
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.0.deserialize_tuple_struct(name, len, wrap(visitor))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            let visitor = Wrap {
                inner: visitor,
                object: true,
            };
            self.0.deserialize_struct(name, fields, visitor)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.0.deserialize_enum(name, variants, wrap(visitor))
        }

        fn is_human_readable(&self) -> bool {
            self.0.is_human_readable()
        }
    }

    macro_rules! pass {
        ($($method:ident($ty:ty)),* $(,)?) => {$(
            fn $method<E: Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.inner.$method(v)
            }
        )*};
    }

    impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
        type Value = V::Value;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            self.inner.expecting(f)
        }

        pass!(
            visit_bool(bool),
            visit_i8(i8),
            visit_i16(i16),
            visit_i32(i32),
            visit_i64(i64),
            visit_i128(i128),
            visit_u8(u8),
            visit_u16(u16),
            visit_u32(u32),
            visit_u64(u64),
            visit_u128(u128),
            visit_f32(f32),
            visit_f64(f64),
            visit_char(char),
            visit_str(&str),
            visit_borrowed_str(&'de str),
            visit_string(String),
            visit_bytes(&[u8]),
            visit_borrowed_bytes(&'de [u8]),
            visit_byte_buf(Vec<u8>),
        );

        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            self.inner.visit_none()
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            self.inner.visit_unit()
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            self.inner.visit_some(Strict(d))
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            self.inner.visit_newtype_struct(Strict(d))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            if self.object {
                return Err(A::Error::invalid_type(Unexpected::Seq, &self));
            }
            self.inner.visit_seq(Strict(seq))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            self.inner.visit_map(Strict(map))
        }

        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            self.inner.visit_enum(Strict(data))
        }
    }

    impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Strict<S> {
        type Value = S::Value;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            self.0.deserialize(Strict(d))
        }
    }

    impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Strict<A> {
        type Error = A::Error;

        fn next_element_seed<T: DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>, A::Error> {
            self.0.next_element_seed(Strict(seed))
        }

        fn size_hint(&self) -> Option<usize> {
            self.0.size_hint()
        }
    }

    impl<'de, A: MapAccess<'de>> MapAccess<'de> for Strict<A> {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, A::Error> {
            self.0.next_key_seed(Strict(seed))
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, A::Error> {
            self.0.next_value_seed(Strict(seed))
        }

        fn size_hint(&self) -> Option<usize> {
            self.0.size_hint()
        }
    }

    impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Strict<A> {
        type Error = A::Error;
        type Variant = Strict<A::Variant>;

        fn variant_seed<V: DeserializeSeed<'de>>(
            self,
            seed: V,
        ) -> Result<(V::Value, Self::Variant), A::Error> {
            let (value, variant) = self.0.variant_seed(Strict(seed))?;
            Ok((value, Strict(variant)))
        }
    }

    impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Strict<A> {
        type Error = A::Error;

        fn unit_variant(self) -> Result<(), A::Error> {
            self.0.unit_variant()
        }

        fn newtype_variant_seed<T: DeserializeSeed<'de>>(
            self,
            seed: T,
        ) -> Result<T::Value, A::Error> {
            self.0.newtype_variant_seed(Strict(seed))
        }

        fn tuple_variant<V: Visitor<'de>>(
            self,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, A::Error> {
            self.0.tuple_variant(len, wrap(visitor))
        }

        fn struct_variant<V: Visitor<'de>>(
            self,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, A::Error> {
            let visitor = Wrap {
                inner: visitor,
                object: true,
            };
            self.0.struct_variant(fields, visitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::AllowList;
    use minqing_protocol::NewOrgUnit;

    #[test]
    fn the_client_is_the_rightmost_address_no_trusted_proxy_wrote() {
        let trusted = AllowList::parse_networks("10.0.0.0/8").unwrap();
        let client = |header: &str| forwarded_client(header, |ip| trusted.allows_ip(ip));
        assert_eq!(client("203.0.113.7"), "203.0.113.7".parse().ok());
        // A client's own X-Forwarded-For is kept by the balancer, left of what it adds.
        assert_eq!(client("1.2.3.4, 203.0.113.7"), "203.0.113.7".parse().ok());
        assert_eq!(client("203.0.113.7, 10.0.0.5"), "203.0.113.7".parse().ok());
        assert_eq!(client("not-an-ip, 10.0.0.5"), None);
        assert_eq!(client(""), None);
        assert!(AllowList::parse_networks("balancer.local").is_err());
    }

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
    fn arrays_are_not_objects() {
        use minqing_protocol::{RefreshRequest, SessionUpdate};
        let err = parse_json::<RefreshRequest>(br#"["t"]"#).unwrap_err();
        assert_eq!(field_of(err), "body");
        assert!(parse_json::<RefreshRequest>(br#"{"refresh_token": "t"}"#).is_ok());
        let err = parse_json::<SessionUpdate>(br#"{"villagers_present": [3, ["a"]]}"#).unwrap_err();
        assert_eq!(field_of(err), "villagers_present");
        let ok = parse_json::<SessionUpdate>(
            br#"{"villagers_present": {"count": 3, "names": ["a"]}, "photo_ids": ["p"]}"#,
        );
        assert!(ok.is_ok());
        assert!(parse_json::<Vec<serde_json::Value>>(br#"[1, {"a": [2]}]"#).is_ok());
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
