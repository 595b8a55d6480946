//! Flex Web Service set-up: tokens and queries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use engine::Command;
use jiff::Timestamp;
use model::Username;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::world::FlexQueryEntry;

/// A Flex token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlexTokenRequest {
    /// Whose it is.
    #[schema(value_type = String)]
    user: Username,
    /// The token; 24 random digits are made up when absent.
    token: Option<String>,
    /// When it stops working (RFC 3339); never when absent.
    #[schema(value_type = Option<String>)]
    expires: Option<Timestamp>,
}

/// An issued Flex token: the only time its value is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlexTokenIssued {
    token: String,
    user: String,
}

/// Issues a Flex token to a user; journaled (its SHA-256 only).
#[utoipa::path(
    post,
    path = "/_localbroker/flex/tokens",
    operation_id = "issueFlexToken",
    tag = "Control plane",
    request_body = FlexTokenRequest,
    responses(
        (status = 200, description = "The token", body = FlexTokenIssued),
        (status = 400, description = "An unknown user, an empty token or one issued already", body = ErrorBody),
    )
)]
pub async fn issue_flex_token(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<FlexTokenRequest>,
) -> Result<Json<FlexTokenIssued>, ApiError> {
    let token = request.token.map(|token| token.trim().to_owned()).unwrap_or_else(crate::flex::new_token);
    if token.is_empty() {
        return Err(ApiError::bad_request("a Flex token is not empty"));
    }
    let token_hash = engine::flex::token_hash(&token);
    let command =
        Command::IssueFlexToken { user: request.user.clone(), token_hash, expires_at: request.expires };
    app.broker.execute(command).await?;
    Ok(Json(FlexTokenIssued { token, user: request.user.to_string() }))
}

/// Defines a Flex query, with the fields of a world file's `[[flex.queries]]`; journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/flex/queries",
    operation_id = "defineFlexQuery",
    tag = "Control plane",
    request_body = FlexQueryEntry,
    responses(
        (status = 200, description = "The query was defined"),
        (status = 400, description = "An unknown user, section or pattern, or an id in use", body = ErrorBody),
    )
)]
pub async fn define_flex_query(
    State(app): State<AppState>,
    JsonBody(entry): JsonBody<FlexQueryEntry>,
) -> Result<StatusCode, ApiError> {
    let query = entry.query().map_err(|error| ApiError::bad_request(error.to_string()))?;
    app.broker.execute(Command::DefineFlexQuery { query }).await?;
    Ok(StatusCode::OK)
}
