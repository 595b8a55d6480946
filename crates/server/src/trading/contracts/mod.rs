//! Contracts: `trsrv/stocks`, `trsrv/secdef`, `iserver/secdef/search`,
//! `iserver/contract/{conid}/info`, `…/info-and-rules`, `iserver/contract/rules`,
//! `trsrv/secdef/schedule` and `iserver/currency/pairs` (IBKR's "Trading Contracts" tag).
//!
//! Everything here is read from the market's catalogue; conids are integers on the wire
//! except in `secdef/search`, where IBKR sends them as strings.

pub mod info;
pub mod pairs;
pub mod rules;
pub mod schedule;
pub mod search;
pub mod secdef;
pub mod stocks;

use model::{AssetClass, Conid, Instrument};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// IBKR's security type code for an instrument.
pub fn sec_type(instrument: &Instrument) -> &'static str {
    asset_class_type(instrument.asset_class)
}

/// IBKR's security type code for instruments of an asset class.
pub fn asset_class_type(asset_class: AssetClass) -> &'static str {
    match asset_class {
        AssetClass::Stock => "STK",
        AssetClass::Forex => "CASH",
        AssetClass::Crypto => "CRYPTO",
    }
}

/// The country a share is listed in, as IBKR's contract details name it; empty for anything
/// else.
pub(crate) fn country_code(instrument: &Instrument) -> &'static str {
    match market::calendar::Market::of(instrument) {
        market::calendar::Market::UsEquity => "US",
        market::calendar::Market::Xetra => "DE",
        market::calendar::Market::Forex | market::calendar::Market::Crypto => "",
    }
}

/// Parses a conid from a query, naming it when it is not one.
fn parse_conid(raw: &str) -> Result<Conid, ApiError> {
    raw.parse().map_err(|_| ApiError::bad_request(format!("Bad Request: invalid conid {raw:?}")))
}

/// Looks an instrument up, answering 400 as IBKR does for a conid it does not know.
fn instrument(app: &AppState, conid: Conid) -> Result<&'static Instrument, ApiError> {
    app.catalogue
        .get(conid)
        .ok_or_else(|| ApiError::bad_request(format!("Bad Request: conid {conid} not found")))
}

/// A price increment band, as numbers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncrementRule {
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    lower_edge: model::Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    increment: model::Decimal,
}

pub(crate) fn increment_rules(instrument: &Instrument) -> Vec<IncrementRule> {
    instrument
        .tick_rules
        .iter()
        .map(|rule| IncrementRule { lower_edge: rule.lower_edge, increment: rule.increment })
        .collect()
}

/// The routes of IBKR's "Trading Contracts" tag.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stocks::stocks))
        .routes(routes!(secdef::security_definitions, secdef::posted_security_definitions))
        .routes(routes!(search::search_get, search::search_post))
        .routes(routes!(info::contract_info))
        .routes(routes!(info::info_and_rules))
        .routes(routes!(rules::contract_rules))
        .routes(routes!(schedule::trading_schedule))
        .routes(routes!(pairs::currency_pairs))
}
