//! `portfolio/{accountId}/ledger`: the account's money per currency, and `BASE`, the total in
//! the base currency.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::portfolio::Portfolio;
use engine::portfolio::balances::BalanceRow;
use serde::Serialize;
use utoipa::ToSchema;

use super::valued;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{AccountSegment, PathParams};
use crate::state::AppState;
use crate::wire::{float, whole_or_double};

/// One currency's row of the ledger, in the order of recorded responses. Amounts are in the
/// row's currency; `BASE`'s are the totals in the base currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerRow {
    commoditymarketvalue: f64,
    futuremarketvalue: f64,
    settledcash: f64,
    /// Units of the base currency per unit of this one; an integer when whole, as IBKR's
    /// example sends the base currency's 1.
    #[schema(value_type = f64)]
    exchangerate: serde_json::Number,
    sessionid: u32,
    cashbalance: f64,
    corporatebondsmarketvalue: f64,
    warrantsmarketvalue: f64,
    netliquidationvalue: f64,
    /// Interest accrued and not yet paid.
    interest: f64,
    unrealizedpnl: f64,
    stockmarketvalue: f64,
    moneyfunds: f64,
    currency: String,
    realizedpnl: f64,
    funds: f64,
    acctcode: String,
    issueroptionsmarketvalue: f64,
    /// Always `LedgerList`.
    key: String,
    /// Market time of the valuation, epoch seconds.
    timestamp: i64,
    severity: u8,
    stockoptionmarketvalue: f64,
    futuresonlypnl: f64,
    tbondsmarketvalue: f64,
    futureoptionmarketvalue: f64,
    cashbalancefxsegment: f64,
    secondkey: String,
    tbillsmarketvalue: f64,
    /// 1 on the base currency's own row; absent elsewhere (recorded responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    endofbundle: Option<u8>,
    /// Dividends declared and not yet paid.
    dividends: f64,
    cryptocurrencyvalue: f64,
}

/// The wire row of `amounts`, named `name`.
fn row(portfolio: &Portfolio, name: &str, amounts: &BalanceRow, end_of_bundle: bool) -> LedgerRow {
    LedgerRow {
        commoditymarketvalue: 0.0,
        futuremarketvalue: 0.0,
        settledcash: float(amounts.settled_cash),
        exchangerate: whole_or_double(amounts.rate),
        sessionid: 1,
        cashbalance: float(amounts.cash),
        corporatebondsmarketvalue: 0.0,
        warrantsmarketvalue: 0.0,
        netliquidationvalue: float(amounts.net_liquidation()),
        interest: float(amounts.interest),
        unrealizedpnl: float(amounts.unrealized),
        stockmarketvalue: float(amounts.stocks),
        moneyfunds: 0.0,
        currency: name.into(),
        realizedpnl: float(amounts.realized),
        funds: 0.0,
        acctcode: portfolio.account.to_string(),
        issueroptionsmarketvalue: 0.0,
        key: "LedgerList".into(),
        timestamp: portfolio.at.as_second(),
        severity: 0,
        stockoptionmarketvalue: 0.0,
        futuresonlypnl: 0.0,
        tbondsmarketvalue: 0.0,
        futureoptionmarketvalue: 0.0,
        cashbalancefxsegment: 0.0,
        secondkey: name.into(),
        tbillsmarketvalue: 0.0,
        endofbundle: end_of_bundle.then_some(1),
        dividends: float(amounts.dividends),
        cryptocurrencyvalue: float(amounts.crypto),
    }
}

/// The ledger: a row per currency the account holds money or positions in, and `BASE`.
pub(crate) fn ledger(portfolio: &Portfolio) -> BTreeMap<String, LedgerRow> {
    let balances = portfolio.balances();
    let mut rows: BTreeMap<String, LedgerRow> = balances
        .currencies
        .iter()
        .map(|(&currency, amounts)| {
            let name = currency.to_string();
            let row = row(portfolio, &name, amounts, currency == portfolio.base);
            (name, row)
        })
        .collect();
    rows.insert("BASE".into(), row(portfolio, "BASE", &balances.total, false));
    rows
}

/// The account's cash and holdings per currency, and their total in the base currency under
/// `BASE`.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/ledger",
    operation_id = "getPortfolioLedger",
    tag = "Portfolio",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Rows by currency, and BASE", body = BTreeMap<String, LedgerRow>),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn portfolio_ledger(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<BTreeMap<String, LedgerRow>>, ApiError> {
    let portfolio = valued(&app, caller, &account).await?;
    Ok(Json(ledger(&portfolio)))
}
