//! Errors of the trading surface (`/v1/api`), in IBKR's shape: `{"error": "...", "statusCode": N}`.
//!
//! The whole mapping from engine refusals to HTTP lives in [`From<BrokerError>`] below.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::EngineError;
use serde::Serialize;

use crate::broker::BrokerError;

/// An error answer of the trading API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

/// IBKR's error body. `statusCode` is a number on the wire, whatever the spec's schema says
/// (`reference/endpoints.md` §0.3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The HTTP status, repeated.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    /// What went wrong, as the body's `error` says it; a websocket message carries it too.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 400: the request is malformed or names something invalid.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: nobody is logged in. IBKR's text, which clients match on.
    pub fn not_authenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "not authenticated")
    }

    /// 404: no such resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 503: the broker cannot serve the request now.
    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.message, status_code: self.status.as_u16() };
        (self.status, Json(body)).into_response()
    }
}

/// How many characters of a client's text an error repeats: enough to recognise it.
const ECHOED: usize = 40;

/// The start of `text`, quoted and escaped, for an error to name what a client sent without
/// repeating all of it: a frame or field of control characters would otherwise come back six
/// times its size.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(ECHOED).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{head:?}{cut}")
}

/// A refusal answered before any handler, in the shape of the surface `path` belongs to:
/// problem details under `/gw/api`, an RFC 6749 error at `/oauth2`, IBKR's trading shape
/// elsewhere.
pub fn refusal(path: &str, status: StatusCode, message: &str) -> Response {
    if path.starts_with("/gw/api/") {
        return crate::gateway::problem::Problem::with_status(status, message).into_response();
    }
    if path.starts_with("/oauth2/") {
        return crate::oauth::Refusal::new(status, "invalid_request", message).into_response();
    }
    ApiError::new(status, message).into_response()
}

impl From<crate::extract::BodyError> for ApiError {
    fn from(error: crate::extract::BodyError) -> Self {
        Self::new(error.status, error.message)
    }
}

impl From<BrokerError> for ApiError {
    fn from(error: BrokerError) -> Self {
        match error {
            BrokerError::Unavailable => Self::unavailable(),
            BrokerError::Rejected(refusal) => match refusal {
                // IBKR's wording for an account the caller may not use.
                EngineError::NotEntitled { account, .. } => {
                    Self::bad_request(format!("Bad Request: accountId is not valid: {account}"))
                }
                EngineError::UnknownSession(_) => Self::not_authenticated(),
                EngineError::UnknownUser(user) => Self::bad_request(format!("unknown user {user}")),
                EngineError::ClockBackwards { .. }
                | EngineError::ClockOutsideMarket { .. }
                | EngineError::NonPositiveAdvance(_)
                | EngineError::UnknownInstrument(_)
                | EngineError::InvalidMarketChange(_)
                | EngineError::TransferRefused(_)
                | EngineError::CorporateActionRefused(_)
                | EngineError::OAuthRefused(_)
                | EngineError::ScopeNotGranted(_)
                | EngineError::AssertionReplayed(_)
                | EngineError::ClientMayNotActFor { .. }
                | EngineError::QuestionsRefused(_)
                | EngineError::SignedRequestReplayed
                | EngineError::BrokerageHeld(_)
                | EngineError::OrderRejected(_)
                | EngineError::UnknownOrder(_)
                | EngineError::FinishedOrder { .. }
                | EngineError::RequestRefused(_)
                | EngineError::InstructionRefused(_)
                | EngineError::Flex(_)
                | EngineError::FlexDefinition(_) => Self::bad_request(refusal.to_string()),
                // The world is created once at start-up; an unbalanced entry and an illegal order
                // transition are bugs: none of these can follow a request.
                EngineError::NoWorld
                | EngineError::WorldExists
                | EngineError::InvalidWorld(_)
                | EngineError::Unbalanced(_)
                | EngineError::IllegalTransition { .. } => {
                    tracing::error!(%refusal, "an internal refusal reached a request");
                    Self::unavailable()
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use engine::funding::TransferRefusal;
    use engine::orders::OrderRejection;
    use engine::world::WorldProblem;
    use model::Currency;

    use super::*;

    fn answer(refusal: impl Into<EngineError>) -> ApiError {
        ApiError::from(BrokerError::Rejected(refusal.into()))
    }

    /// A typed refusal reaches the client as the same status and text it did as a string.
    #[test]
    fn a_refusal_answers_its_text_with_its_status() {
        let rejected = answer(OrderRejection::NoOrders);
        assert_eq!(
            (rejected.status, rejected.message()),
            (StatusCode::BAD_REQUEST, "The request has no orders.")
        );
        let refused = answer(TransferRefusal::UnpricedCurrency { currency: Currency::USD });
        assert_eq!(
            (refused.status, refused.message()),
            (StatusCode::BAD_REQUEST, "transfer refused: USD is not a currency LocalBroker's pairs price")
        );
        let internal = answer(WorldProblem::NoUsers);
        assert_eq!(internal, ApiError::unavailable(), "a world problem cannot follow a request");
    }
}
