//! Account Management (`/gw/api/v1/accounts…` and the rest of IBKR's ex-Digital Account
//! Management): what an introducing broker's back office does for the accounts it manages,
//! behind the `/gw/api/v1` door of [`crate::gateway`].

pub mod accounts;
pub mod applications;
pub mod banking;
pub mod reports;
pub mod utilities;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The Account Management routes built so far.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::status))
        .routes(routes!(accounts::statuses))
        .routes(routes!(applications::requests))
        .routes(routes!(accounts::details))
        .routes(routes!(applications::create, applications::update, applications::processed))
        .routes(routes!(applications::request_status))
        .routes(routes!(applications::validate_username))
        .routes(routes!(banking::external_cash_transfer))
        .routes(routes!(banking::external_cash_transfers))
        .routes(routes!(banking::external_cash_query))
        .routes(routes!(banking::external_asset_transfer))
        .routes(routes!(banking::external_asset_transfers))
        .routes(routes!(banking::internal_asset_transfer))
        .routes(routes!(banking::internal_asset_transfers))
        .routes(routes!(banking::internal_cash_transfer))
        .routes(routes!(banking::internal_cash_transfers))
        .routes(routes!(banking::bank_instruction))
        .routes(routes!(banking::bank_instructions))
        .routes(routes!(banking::bank_instructions_query))
        .routes(routes!(banking::cancel_instruction))
        .routes(routes!(banking::cancel_instructions))
        .routes(routes!(banking::instructions_query))
        .routes(routes!(banking::balances_query))
        .routes(routes!(banking::instruction_status))
        .routes(routes!(banking::client_instruction_status))
        .routes(routes!(banking::instruction_set_status))
        .routes(routes!(utilities::enumeration))
        .routes(routes!(reports::statements))
        .routes(routes!(reports::available_statements))
        .routes(routes!(reports::trade_confirmations))
        .routes(routes!(reports::available_trade_confirmations))
}
