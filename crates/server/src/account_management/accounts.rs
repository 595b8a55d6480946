//! Accounts as Account Management sees them: their status.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::PathParams;
use crate::gateway::GatewayClient;
use crate::gateway::problem::Problem;
use crate::state::AppState;

/// An account's status (IBKR's `AccountStatusResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    account_id: String,
    /// IBKR's status letter: `O` for an open account.
    status: String,
    /// The letter in words.
    description: String,
    /// When the account was opened, in market time (RFC 3339).
    date_opened: String,
    /// When it started trading: at opening, in LocalBroker.
    date_started: String,
}

/// The status of an account the client manages.
#[utoipa::path(
    get,
    path = "/gw/api/v1/accounts/{accountId}/status",
    operation_id = "getAccountStatus",
    tag = "Account Management Accounts",
    params(("accountId" = String, Path, description = "An account the client manages")),
    responses(
        (status = 200, description = "The account's status", body = AccountStatus),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.read, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(account): PathParams<String>,
) -> Result<Json<AccountStatus>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.read"]).await?;
    let id = client.managed(&account)?;
    let opened = app
        .broker
        .read(move |engine| engine.state().account(&id).map(|account| account.opened_at))
        .await
        .map_err(|_| Problem::unavailable())?
        .ok_or_else(|| Problem::forbidden(format!("account {account} is not one the client manages")))?;
    Ok(Json(AccountStatus {
        account_id: account,
        status: "O".into(),
        description: "Open".into(),
        date_opened: opened.to_string(),
        date_started: opened.to_string(),
    }))
}
