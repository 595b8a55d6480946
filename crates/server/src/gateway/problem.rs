//! RFC 9457 problem details, the error shape of IBKR's `/gw/api/v1` endpoints
//! (`application/problem+json`, IBKR's `ProblemDetail` schema).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A field the request got wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvalidArgument {
    /// Where: the field's path.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An error answer of `/gw/api/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The problem type: IBKR's `/simple` for authorization, `/invalid-argument` for input.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The fields at fault, for a 400.
    #[serde(rename = "invalidArguments", skip_serializing_if = "Vec::is_empty")]
    pub invalid_arguments: Vec<InvalidArgument>,
}

impl Problem {
    fn new(kind: &str, status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            title: status.canonical_reason().unwrap_or_default().to_owned(),
            status: status.as_u16(),
            detail: Some(detail.into()),
            invalid_arguments: Vec::new(),
        }
    }

    /// Any status, for refusals made before the operation is known.
    pub fn with_status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new("/simple", status, detail)
    }

    /// 401: no access token, or one that is unknown, expired or its client's revoked.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new("/simple", StatusCode::UNAUTHORIZED, detail)
    }

    /// 403: the token lacks every scope the operation allows, as an unapproved client's token
    /// lacks the Account Management ones.
    pub fn insufficient_scope(allowed: &[&str]) -> Self {
        let detail = format!(
            "The access token fails to have sufficient scope: one of {} is needed",
            allowed.join(", ")
        );
        Self::new("/simple", StatusCode::FORBIDDEN, detail)
    }

    /// 403: the client may not act on what the request names.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new("/simple", StatusCode::FORBIDDEN, detail)
    }

    /// 400: the request is not valid; `invalid_arguments` names the fields.
    pub fn invalid(detail: impl Into<String>, invalid_arguments: Vec<InvalidArgument>) -> Self {
        Self { invalid_arguments, ..Self::new("/invalid-argument", StatusCode::BAD_REQUEST, detail) }
    }

    /// 400 naming one field at fault.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let argument = InvalidArgument { field: field.into(), message: message.clone() };
        Self::invalid(message, vec![argument])
    }

    /// 404: the request names nothing the client has.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("/simple", StatusCode::NOT_FOUND, detail)
    }

    /// 415: the body is not in a form the operation takes.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new("/simple", StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    /// 422: the request is well formed, but the broker's rules refuse it (IBKR's
    /// "Business Error").
    pub fn business(detail: impl Into<String>) -> Self {
        Self {
            title: "Business Error".into(),
            ..Self::new("/simple", StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// 501: a request LocalBroker does not model.
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new("/simple", StatusCode::NOT_IMPLEMENTED, detail)
    }

    /// 503: the broker is stopping.
    pub fn unavailable() -> Self {
        Self::new("/simple", StatusCode::SERVICE_UNAVAILABLE, "the broker is stopping")
    }
}

impl From<crate::extract::BodyError> for Problem {
    fn from(error: crate::extract::BodyError) -> Self {
        if error.status == StatusCode::BAD_REQUEST {
            return Self::field("body", error.message);
        }
        Self::with_status(error.status, error.message)
    }
}

impl From<crate::broker::BrokerError> for Problem {
    fn from(error: crate::broker::BrokerError) -> Self {
        match error {
            crate::broker::BrokerError::Unavailable => Self::unavailable(),
            crate::broker::BrokerError::Rejected(refusal @ engine::EngineError::SignedRequestReplayed) => {
                Self::field("body", refusal.to_string())
            }
            crate::broker::BrokerError::Rejected(refusal) => Self::business(refusal.to_string()),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}
