//! Contracts: `trsrv/stocks`, `trsrv/secdef`, `iserver/secdef/search`,
//! `iserver/contract/{conid}/info`, `…/info-and-rules`, `iserver/contract/rules`,
//! `trsrv/secdef/schedule` and `iserver/currency/pairs` (IBKR's "Trading Contracts" tag).
//!
//! Everything here is read from the market's catalogue; conids are integers on the wire
//! except in `secdef/search`, where IBKR sends them as strings.

pub mod info;
pub mod rules;
pub mod schedule;
pub mod search;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use model::{AssetClass, Conid, Instrument, ShareKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryParams;
use crate::state::AppState;

/// IBKR's limit on conids per `trsrv/secdef` request.
const MAX_SECDEF_CONIDS: usize = 200;

/// IBKR's security type code for an instrument.
fn sec_type(instrument: &Instrument) -> &'static str {
    match instrument.asset_class {
        AssetClass::Stock => "STK",
        AssetClass::Forex => "CASH",
    }
}

/// Parses a conid from a path or body, naming it when it is not one.
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

fn increment_rules(instrument: &Instrument) -> Vec<IncrementRule> {
    instrument
        .tick_rules
        .iter()
        .map(|rule| IncrementRule { lower_edge: rule.lower_edge, increment: rule.increment })
        .collect()
}

/// Decimal places of the finest tick: how many digits prices are shown with.
fn price_digits(instrument: &Instrument) -> u32 {
    instrument.tick_rules.iter().map(|rule| rule.increment.normalize().scale()).max().unwrap_or(2)
}

// --- trsrv/stocks -----------------------------------------------------------------------------

/// `trsrv/stocks`' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StocksQuery {
    /// Comma-separated symbols, such as `AAPL,MSFT`.
    symbols: Option<String>,
}

/// One stock and its listings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockEntry {
    name: String,
    chinese_name: Option<String>,
    asset_class: String,
    contracts: Vec<StockContract>,
}

/// One listing of a stock.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockContract {
    conid: u32,
    exchange: String,
    #[serde(rename = "isUS")]
    is_us: bool,
}

/// Stocks by symbol. Each listed US stock has exactly one instrument with one US contract, which
/// is what ibind's `stock_conid_by_symbol` requires; symbols not listed are left out, as IBKR
/// does.
#[utoipa::path(
    get,
    path = "/trsrv/stocks",
    operation_id = "getStockBySymbol",
    tag = "Contracts",
    params(StocksQuery),
    responses(
        (status = 200, description = "Stocks keyed by the requested symbol", body = BTreeMap<String, Vec<StockEntry>>),
        (status = 400, description = "No symbols given", body = ErrorBody),
    )
)]
pub async fn stocks(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<StocksQuery>,
) -> Result<Json<BTreeMap<String, Vec<StockEntry>>>, ApiError> {
    let symbols = query.symbols.unwrap_or_default();
    let requested: Vec<&str> = symbols.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if requested.is_empty() {
        return Err(ApiError::bad_request("Bad Request: symbols is required"));
    }
    let found = requested
        .into_iter()
        .filter_map(|symbol| {
            let stock = app.catalogue.stock(symbol)?;
            let entry = StockEntry {
                name: stock.name.clone(),
                chinese_name: None,
                asset_class: sec_type(stock).into(),
                contracts: vec![StockContract {
                    conid: stock.conid.get(),
                    exchange: stock.listing_exchange.clone(),
                    is_us: true,
                }],
            };
            Some((symbol.to_ascii_uppercase(), vec![entry]))
        })
        .collect();
    Ok(Json(found))
}

// --- trsrv/secdef -----------------------------------------------------------------------------

/// `trsrv/secdef`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecdefQuery {
    /// Comma-separated conids, at most 200.
    conids: Option<String>,
}

/// How prices are displayed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayRule {
    magnification: u32,
    display_rule_step: Vec<DisplayRuleStep>,
}

/// One band of the display rule.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayRuleStep {
    decimal_digits: u32,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    lower_edge: model::Decimal,
    whole_digits: u32,
}

/// A security definition (an item of IBKR's `trsrvSecDefResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityDefinition {
    conid: u32,
    currency: String,
    name: String,
    ticker: String,
    asset_class: String,
    listing_exchange: String,
    all_exchanges: String,
    country_code: String,
    expiry: Option<String>,
    last_trading_day: Option<String>,
    put_or_call: Option<String>,
    /// A string on IBKR's wire.
    strike: String,
    multiplier: f64,
    und_conid: u32,
    #[serde(rename = "type")]
    kind: Option<String>,
    group: Option<String>,
    sector: Option<String>,
    sector_group: Option<String>,
    has_options: bool,
    full_name: String,
    #[serde(rename = "isUS")]
    is_us: bool,
    is_event_contract: bool,
    increment_rules: Vec<IncrementRule>,
    display_rule: DisplayRule,
    time: u32,
    chinese_name: Option<String>,
}

impl SecurityDefinition {
    fn of(instrument: &Instrument) -> Self {
        let stock = instrument.asset_class == AssetClass::Stock;
        let kind = instrument.share_kind.map(|kind| match kind {
            ShareKind::Common => "COMMON".to_owned(),
            ShareKind::Etf => "ETF".to_owned(),
        });
        Self {
            conid: instrument.conid.get(),
            currency: instrument.currency.to_string(),
            name: instrument.name.clone(),
            ticker: instrument.local_symbol(),
            asset_class: sec_type(instrument).into(),
            listing_exchange: instrument.listing_exchange.clone(),
            all_exchanges: instrument
                .exchanges
                .iter()
                .filter(|e| *e != "SMART")
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            country_code: if stock { "US".into() } else { String::new() },
            expiry: None,
            last_trading_day: None,
            put_or_call: None,
            strike: "0".into(),
            multiplier: 0.0,
            und_conid: 0,
            kind,
            group: instrument.category.clone(),
            sector: instrument.industry.clone(),
            sector_group: instrument.category.clone(),
            has_options: false,
            full_name: instrument.local_symbol(),
            is_us: stock,
            is_event_contract: false,
            increment_rules: increment_rules(instrument),
            display_rule: DisplayRule {
                magnification: 0,
                display_rule_step: vec![DisplayRuleStep {
                    decimal_digits: price_digits(instrument),
                    lower_edge: model::Decimal::ZERO,
                    whole_digits: 4,
                }],
            },
            time: 0,
            chinese_name: None,
        }
    }
}

/// `trsrv/secdef`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecdefResponse {
    secdef: Vec<SecurityDefinition>,
}

/// Security definitions by conid; conids the market does not list are left out.
#[utoipa::path(
    get,
    path = "/trsrv/secdef",
    operation_id = "getInstrumentDefinition",
    tag = "Contracts",
    params(SecdefQuery),
    responses(
        (status = 200, description = "The definitions", body = SecdefResponse),
        (status = 400, description = "Missing, malformed or too many conids", body = ErrorBody),
    )
)]
pub async fn security_definitions(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<SecdefQuery>,
) -> Result<Json<SecdefResponse>, ApiError> {
    let raw = query.conids.unwrap_or_default();
    let conids = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_conid)
        .collect::<Result<Vec<_>, _>>()?;
    if conids.is_empty() {
        return Err(ApiError::bad_request("Bad Request: conids is required"));
    }
    if conids.len() > MAX_SECDEF_CONIDS {
        return Err(ApiError::bad_request(format!(
            "Bad Request: at most {MAX_SECDEF_CONIDS} conids per request, got {}",
            conids.len()
        )));
    }
    let secdef =
        conids.into_iter().filter_map(|conid| app.catalogue.get(conid)).map(SecurityDefinition::of).collect();
    Ok(Json(SecdefResponse { secdef }))
}

// --- iserver/currency/pairs -------------------------------------------------------------------

/// `iserver/currency/pairs`' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairsQuery {
    /// A currency code, such as `USD`.
    currency: Option<String>,
}

/// A currency pair that includes the requested currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyPair {
    symbol: String,
    conid: u32,
    /// The pair's other currency.
    ccy_pair: String,
}

/// The pairs in which a currency is bought or sold, keyed by that currency.
#[utoipa::path(
    get,
    path = "/iserver/currency/pairs",
    operation_id = "getCurrencyPairs",
    tag = "Contracts",
    params(PairsQuery),
    responses(
        (status = 200, description = "Pairs keyed by the requested currency", body = BTreeMap<String, Vec<CurrencyPair>>),
        (status = 400, description = "Missing or malformed currency", body = ErrorBody),
    )
)]
pub async fn currency_pairs(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<PairsQuery>,
) -> Result<Json<BTreeMap<String, Vec<CurrencyPair>>>, ApiError> {
    let raw = query.currency.unwrap_or_default();
    let currency: model::Currency = raw
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("Bad Request: invalid currency {raw:?}")))?;
    let pairs = app
        .catalogue
        .iter()
        .filter(|i| i.asset_class == AssetClass::Forex)
        .filter_map(|pair| {
            let base: model::Currency = pair.symbol.parse().ok()?;
            let other = if base == currency {
                pair.currency
            } else if pair.currency == currency {
                base
            } else {
                return None;
            };
            Some(CurrencyPair {
                symbol: pair.local_symbol(),
                conid: pair.conid.get(),
                ccy_pair: other.to_string(),
            })
        })
        .collect();
    Ok(Json(BTreeMap::from([(currency.to_string(), pairs)])))
}
