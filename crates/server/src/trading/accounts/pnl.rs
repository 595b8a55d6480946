//! `iserver/account/pnl/partitioned`: each account's profit and loss today, net liquidation,
//! unrealized P&L, excess liquidity and market value, from the same valuation as the portfolio
//! endpoints.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::portfolio::Portfolio;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::trading::portfolio::valued_all;
use crate::wire::float;

/// One account's P&L row, in its base currency.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PnlRow {
    /// 1 for the first account, counting up.
    row_type: u32,
    /// Profit or loss since the day began (midnight, New York).
    dpl: f64,
    /// Net liquidation value.
    nl: f64,
    /// Unrealized P&L of the positions.
    upl: f64,
    /// Excess liquidity.
    el: f64,
    /// Market value of the positions.
    mv: f64,
}

/// Rows keyed `<accountId>.Core`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartitionedPnl {
    upnl: BTreeMap<String, PnlRow>,
}

impl PnlRow {
    pub(crate) fn of(row_type: u32, portfolio: &Portfolio) -> Self {
        Self {
            row_type,
            dpl: float(portfolio.daily_pnl()),
            nl: float(portfolio.net_liquidation()),
            upl: float(portfolio.unrealized()),
            el: float(portfolio.excess_liquidity()),
            mv: float(portfolio.market_value()),
        }
    }
}

/// Every account's P&L. IBKR answers `{"upnl":{}}` until the session has once subscribed to
/// the websocket's `spl` topic; LocalBroker answers with the figures at once, as ibind's `pnl`
/// expects them.
#[utoipa::path(
    get,
    path = "/iserver/account/pnl/partitioned",
    operation_id = "getPnl",
    tag = "Accounts",
    responses(
        (status = 200, description = "P&L by account", body = PartitionedPnl),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn partitioned_pnl(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<PartitionedPnl>, ApiError> {
    let portfolios = valued_all(&app, caller).await?;
    let upnl = (1..)
        .zip(&portfolios)
        .map(|(row_type, portfolio)| (format!("{}.Core", portfolio.account), PnlRow::of(row_type, portfolio)))
        .collect();
    Ok(Json(PartitionedPnl { upnl }))
}
