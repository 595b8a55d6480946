//! Extractors that answer malformed input in IBKR's error shape instead of axum's plain text,
//! and that accept what real clients send: no body and no `Content-Type` on bodiless POSTs,
//! Python's capitalised `True`/`False` in query strings (`reference/clients.md` §2.2).

use std::fmt;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use model::{AccountId, Conid, OrderId};
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;
use crate::state::AppState;

/// Why a request's body could not be read, for each surface to answer in its own shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    /// 408 when it did not arrive in time, 413 when it is too large, 400 otherwise.
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub message: String,
}

impl BodyError {
    fn of(rejection: &BytesRejection) -> Self {
        let status = rejection.status();
        let reason = status.canonical_reason().unwrap_or("Bad Request");
        Self { status, message: format!("{reason}: {}", rejection.body_text()) }
    }
}

/// The request's body, whole, within the server's size limit and body timeout (counted from
/// when the handler asks for it, right after the head arrived). A body that does not arrive
/// in time is answered 408, and a client that sends nothing more is held no longer.
///
/// # Errors
/// [`BodyError`] when it is too large, does not arrive in time, or breaks off.
pub async fn body_bytes(request: Request, app: &AppState) -> Result<Bytes, BodyError> {
    match tokio::time::timeout(app.body_timeout, Bytes::from_request(request, app)).await {
        Ok(read) => read.map_err(|rejection| BodyError::of(&rejection)),
        Err(_) => Err(BodyError {
            status: StatusCode::REQUEST_TIMEOUT,
            message: format!("Request Timeout: the body did not arrive within {:?}", app.body_timeout),
        }),
    }
}

/// The request's body as text, as [`body_bytes`] reads it.
///
/// # Errors
/// [`BodyError`] as [`body_bytes`], and 400 when the body is not UTF-8.
pub async fn body_text(request: Request, app: &AppState) -> Result<String, BodyError> {
    let bytes = body_bytes(request, app).await?;
    String::from_utf8(bytes.into()).map_err(|_| BodyError {
        status: StatusCode::BAD_REQUEST,
        message: "Bad Request: the body is not UTF-8 text".into(),
    })
}

/// A JSON body. An empty body reads as `{}`, because IBKR's clients post nothing where there
/// is nothing to say; the content type is not checked, because some send none.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, app).await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        serde_json::from_slice(text)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("Bad Request: invalid JSON body: {e}")))
    }
}

/// Query parameters, rejected in IBKR's error shape.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| QueryParams(params))
            .map_err(|e: QueryRejection| ApiError::bad_request(format!("Bad Request: {}", e.body_text())))
    }
}

/// Path parameters, rejected in IBKR's error shape.
#[derive(Debug, Clone)]
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(params)| PathParams(params)).map_err(
            |rejection: PathRejection| match &rejection {
                // A typed segment's own words ([`ConidSegment`], [`OrderIdSegment`]).
                PathRejection::FailedToDeserializePathParams(failed) => match failed.kind() {
                    ErrorKind::Message(message) => ApiError::bad_request(format!("Bad Request: {message}")),
                    _ => ApiError::bad_request(format!("Bad Request: {}", rejection.body_text())),
                },
                _ => ApiError::bad_request(format!("Bad Request: {}", rejection.body_text())),
            },
        )
    }
}

/// A conid in a request's path; anything else is IBKR's 400, quoting what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConidSegment(pub Conid);

impl<'de> Deserialize<'de> for ConidSegment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map(Self).map_err(|_| de::Error::custom(format!("invalid conid {raw:?}")))
    }
}

/// An account id in a request's path, with the text as sent, which IBKR's refusals quote.
///
/// A malformed id is not refused here: each area answers it as it answers an account the
/// caller may not use (orders 400, portfolio 401, Account Management 403), so that nothing
/// tells the two apart. Surrounding blanks are not part of the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSegment {
    /// The segment as the client sent it.
    pub raw: String,
    /// The account it names, if it is an account id.
    pub id: Option<AccountId>,
}

impl AccountSegment {
    /// `raw` read as an account id, wherever a trading request names one.
    pub fn of(raw: &str) -> Self {
        Self { raw: raw.to_owned(), id: raw.trim().parse().ok() }
    }
}

impl<'de> Deserialize<'de> for AccountSegment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|raw| Self::of(&raw))
    }
}

/// An order id in a request's path; anything else is IBKR's 400, quoting what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderIdSegment(pub OrderId);

impl std::str::FromStr for OrderIdSegment {
    /// What is wrong, quoting `raw`.
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        raw.trim().parse().map(|id| Self(OrderId::new(id))).map_err(|_| format!("invalid order id {raw:?}"))
    }
}

impl<'de> Deserialize<'de> for OrderIdSegment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(de::Error::custom)
    }
}

/// `true` or `false` in any case, as Python clients write them in query strings.
pub fn lenient_bool_text(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Deserialises a boolean leniently: a JSON `true`/`false`, or the text `true`/`false` in any
/// case (`True` is what Python clients put in query strings).
///
/// # Errors
/// For any other value.
pub fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    struct LenientBool;

    impl<'de> Visitor<'de> for LenientBool {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false")
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
            Ok(Some(value))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            match lenient_bool_text(value) {
                Some(flag) => Ok(Some(flag)),
                None => Err(E::invalid_value(de::Unexpected::Str(value), &self)),
            }
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    deserializer.deserialize_any(LenientBool)
}

/// Reads a boolean only to refuse anything else, for fields whose value changes nothing in
/// LocalBroker's answer: `isBuy=maybe` is an error, not a `false`.
///
/// # Errors
/// For any value but a boolean, as [`lenient_bool`].
pub fn only_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    lenient_bool(deserializer).map(drop)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Flags {
        #[serde(default, deserialize_with = "lenient_bool")]
        flag: Option<bool>,
    }

    #[test]
    fn booleans_are_read_case_insensitively() {
        for (query, expected) in
            [("flag=True", Some(true)), ("flag=false", Some(false)), ("flag=TRUE", Some(true)), ("", None)]
        {
            let flags: Flags = serde_urlencoded_from(query);
            assert_eq!(flags.flag, expected, "{query}");
        }
        let uri: axum::http::Uri = "/x?flag=yes".parse().unwrap();
        assert!(Query::<Flags>::try_from_uri(&uri).is_err());
        let json: Flags = serde_json::from_str(r#"{"flag": false}"#).unwrap();
        assert_eq!(json.flag, Some(false));
        let null: Flags = serde_json::from_str(r#"{"flag": null}"#).unwrap();
        assert_eq!(null.flag, None);
    }

    fn serde_urlencoded_from(query: &str) -> Flags {
        let uri: axum::http::Uri = format!("/x?{query}").parse().unwrap();
        Query::<Flags>::try_from_uri(&uri).unwrap().0
    }
}
