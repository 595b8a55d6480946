//! Accounts as Account Management sees them: their status and details.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use engine::state::State as EngineState;
use jiff::Timestamp;
use model::{AccountId, MarginKind};

use crate::extract::PathParams;
use crate::gateway::GatewayClient;
use crate::gateway::problem::Problem;
use crate::state::AppState;
use crate::trading::numbers::float;
use crate::trading::portfolio::customer_type;

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
    let opened =
        client.read_managed(&app, &account, |state, id| state.account(id).map(|a| a.opened_at)).await?;
    Ok(Json(AccountStatus {
        account_id: account,
        status: "O".into(),
        description: "Open".into(),
        date_opened: opened.to_string(),
        date_started: opened.to_string(),
    }))
}

/// An account's details (IBKR's `AccountDetailsResponse`), as far as LocalBroker's accounts
/// have them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountDetails {
    /// Always false: errors are answered as problem details.
    has_error: bool,
    account: AccountData,
}

/// IBKR's `AccountData`: the fields an engine account has.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountData {
    account_id: String,
    /// The first user entitled to the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_user: Option<String>,
    /// `O`: open.
    clearing_status: String,
    clearing_status_description: String,
    base_currency: String,
    /// When the account was opened, in market time (RFC 3339).
    date_opened: String,
    date_begun: String,
    account_title: String,
    /// `Cash` or `Margin`.
    margin: String,
    /// `INDIVIDUAL`, `JOINT` or `ORG`.
    applicant_type: String,
    /// Net liquidation value in the base currency, now.
    equity: f64,
}

impl AccountData {
    fn of(state: &EngineState, id: &AccountId, now: Timestamp) -> Option<Self> {
        let account = state.account(id)?;
        let portfolio = state.portfolio(id, now)?;
        let primary_user =
            state.users().find(|user| user.accounts.contains(id)).map(|user| user.username.to_string());
        Some(Self {
            account_id: id.to_string(),
            primary_user,
            clearing_status: "O".into(),
            clearing_status_description: "Open".into(),
            base_currency: account.base_currency.to_string(),
            date_opened: account.opened_at.to_string(),
            date_begun: account.opened_at.to_string(),
            account_title: account.title.clone(),
            margin: match account.margin {
                MarginKind::Cash => "Cash",
                MarginKind::Margin => "Margin",
            }
            .into(),
            applicant_type: customer_type(account.kind).into(),
            equity: float(portfolio.net_liquidation().round_dp(2)),
        })
    }
}

/// The details of an account the client manages.
#[utoipa::path(
    get,
    path = "/gw/api/v1/accounts/{accountId}/details",
    operation_id = "getAccountDetails",
    tag = "Account Management Accounts",
    params(("accountId" = String, Path, description = "An account the client manages")),
    responses(
        (status = 200, description = "The account's details", body = AccountDetails),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.read, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn details(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(account): PathParams<String>,
) -> Result<Json<AccountDetails>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.read"]).await?;
    let data = client
        .read_managed(&app, &account, |state, id| {
            AccountData::of(state, id, state.market_time(Timestamp::now()))
        })
        .await?;
    Ok(Json(AccountDetails { has_error: false, account: data }))
}
