//! The Trading API (`/v1/api`, also served as `/v1/portal`), one module per IBKR reference tag.

pub mod accounts;
pub mod analyst;
pub mod contracts;
pub mod marketdata;
pub mod numbers;
pub mod orders;
pub mod portfolio;
pub mod session;

use model::{AccountId, Decimal};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::{AppState, ServerIdentity};

/// `serverInfo`, as IBKR's gateway reports itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    server_name: String,
    server_version: String,
}

impl ServerInfo {
    fn of(identity: &ServerIdentity) -> Self {
        Self { server_name: identity.name.clone(), server_version: identity.version.clone() }
    }
}

/// A quantity as a JSON number: whole shares as an integer, fractions of a coin as a float, as
/// IBKR sends them.
pub(crate) fn quantity_number(quantity: Decimal) -> serde_json::Number {
    match u64::try_from(quantity) {
        Ok(whole) if quantity.fract().is_zero() => whole.into(),
        _ => f64::try_from(quantity).ok().and_then(serde_json::Number::from_f64).unwrap_or_else(|| 0.into()),
    }
}

/// IBKR's answer for an account the caller may not use, or that is not an account id.
pub(crate) fn invalid_account(raw: &str) -> crate::error::ApiError {
    crate::error::ApiError::bad_request(format!("Bad Request: accountId is not valid: {raw}"))
}

/// Whether an account is a paper account: IBKR's paper account ids start with `D`
/// (`DU…` individual, `DF…` advisor).
pub(crate) fn is_paper(account: &AccountId) -> bool {
    account.as_str().starts_with('D')
}

/// Every implemented trading route, documented.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::tickle, session::tickle_get))
        .routes(routes!(session::auth_status_handler, session::auth_status_get))
        .routes(routes!(session::init_brokerage))
        .routes(routes!(session::reauthenticate))
        .routes(routes!(session::logout))
        .routes(routes!(session::validate))
        .routes(routes!(accounts::brokerage_accounts))
        .routes(routes!(accounts::switch_account))
        .routes(routes!(accounts::search_accounts))
        .routes(routes!(accounts::summary::account_summary))
        .routes(routes!(accounts::summary::available_funds))
        .routes(routes!(accounts::summary::balances))
        .routes(routes!(accounts::summary::margins))
        .routes(routes!(accounts::summary::market_values))
        .routes(routes!(accounts::pnl::partitioned_pnl))
        .routes(routes!(portfolio::portfolio_accounts))
        .routes(routes!(portfolio::portfolio_subaccounts))
        .routes(routes!(portfolio::account_meta))
        .routes(routes!(portfolio::portfolio_subaccounts_paged))
        .routes(routes!(portfolio::combo_positions))
        .routes(routes!(portfolio::positions::positions_page))
        .routes(routes!(portfolio::positions::live_positions))
        .routes(routes!(portfolio::positions::position))
        .routes(routes!(portfolio::positions::positions_by_conid))
        .routes(routes!(portfolio::positions::invalidate_positions))
        .routes(routes!(portfolio::summary::portfolio_summary))
        .routes(routes!(portfolio::ledger::portfolio_ledger))
        .routes(routes!(portfolio::allocation::account_allocation))
        .routes(routes!(
            portfolio::allocation::consolidated_allocation_get,
            portfolio::allocation::consolidated_allocation_post
        ))
        .routes(routes!(analyst::performance))
        .routes(routes!(analyst::all_periods))
        .routes(routes!(analyst::transactions))
        .routes(routes!(contracts::stocks::stocks))
        .routes(routes!(contracts::secdef::security_definitions))
        .routes(routes!(contracts::search::search_get, contracts::search::search_post))
        .routes(routes!(contracts::info::contract_info))
        .routes(routes!(contracts::info::info_and_rules))
        .routes(routes!(contracts::rules::contract_rules))
        .routes(routes!(contracts::schedule::trading_schedule))
        .routes(routes!(contracts::pairs::currency_pairs))
        .routes(routes!(orders::entry::place_orders))
        .routes(routes!(orders::entry::reply))
        .routes(routes!(orders::entry::suppress))
        .routes(routes!(orders::entry::suppress_reset))
        .routes(routes!(orders::entry::modify_order, orders::entry::cancel_order))
        .routes(routes!(orders::entry::what_if))
        .routes(routes!(orders::listing::live_orders))
        .routes(routes!(orders::listing::order_status))
        .routes(routes!(orders::listing::trades))
        .routes(routes!(marketdata::snapshot))
        .routes(routes!(marketdata::history::market_history))
        .routes(routes!(marketdata::history::hmds_history))
        .routes(routes!(marketdata::unsubscribe))
        .routes(routes!(marketdata::unsubscribe_all))
        .routes(routes!(marketdata::regulatory_snapshot))
        .routes(routes!(marketdata::exchange_rate))
        .routes(routes!(crate::websocket::websocket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_accounts_are_recognised_by_their_prefix() {
        assert!(is_paper(&"DU1234567".parse().unwrap()));
        assert!(!is_paper(&"U1234567".parse().unwrap()));
    }
}
