//! Money paid into and taken out of accounts, as a bank transfer would.

use axum::Json;
use axum::extract::State;
use engine::Command;
use model::{AccountId, Currency, Decimal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::state::AppState;

/// Money paid into or out of an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashTransfer {
    /// ISO currency code, such as `USD`.
    #[schema(value_type = String, example = "USD")]
    currency: Currency,
    /// A positive amount, in cents at most.
    #[schema(value_type = f64, example = 10000)]
    amount: Decimal,
}

/// An account's cash in one currency after a transfer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CashBalance {
    account_id: String,
    currency: String,
    #[schema(value_type = String)]
    cash: Decimal,
}

async fn transfer(
    app: &AppState,
    raw: &str,
    request: CashTransfer,
    command: impl FnOnce(AccountId, Currency, Decimal) -> Command,
) -> Result<Json<CashBalance>, ApiError> {
    let account: AccountId =
        raw.parse().map_err(|_| ApiError::bad_request(format!("invalid account id {raw:?}")))?;
    let CashTransfer { currency, amount } = request;
    if amount.normalize().scale() > 2 {
        return Err(ApiError::bad_request(format!("amount is in cents at most, not {amount}")));
    }
    app.broker.execute(command(account.clone(), currency, amount)).await?;
    let held = account.clone();
    let cash = app.broker.read(move |engine| engine.state().ledger().cash_balance(&held, currency)).await?;
    Ok(Json(CashBalance { account_id: account.to_string(), currency: currency.to_string(), cash }))
}

/// Pays money into an account, as a wire from the owner's bank would. It counts as capital
/// paid in, not as profit.
#[utoipa::path(
    post,
    path = "/_localbroker/accounts/{accountId}/deposits",
    operation_id = "deposit",
    tag = "Control plane",
    params(("accountId" = String, Path, description = "The account")),
    request_body = CashTransfer,
    responses(
        (status = 200, description = "The account's cash in that currency afterwards", body = CashBalance),
        (status = 400, description = "An unknown account or currency, or an amount that is not positive", body = ErrorBody),
    )
)]
pub async fn deposit(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    JsonBody(request): JsonBody<CashTransfer>,
) -> Result<Json<CashBalance>, ApiError> {
    transfer(&app, &raw, request, |account, currency, amount| Command::Deposit { account, currency, amount })
        .await
}

/// Pays money out of an account's settled cash, if the rest still covers its initial margin.
#[utoipa::path(
    post,
    path = "/_localbroker/accounts/{accountId}/withdrawals",
    operation_id = "withdraw",
    tag = "Control plane",
    params(("accountId" = String, Path, description = "The account")),
    request_body = CashTransfer,
    responses(
        (status = 200, description = "The account's cash in that currency afterwards", body = CashBalance),
        (status = 400, description = "An unknown account, more than is withdrawable, or an amount that is not positive", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    JsonBody(request): JsonBody<CashTransfer>,
) -> Result<Json<CashBalance>, ApiError> {
    transfer(&app, &raw, request, |account, currency, amount| Command::Withdraw { account, currency, amount })
        .await
}
