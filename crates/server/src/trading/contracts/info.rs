//! `iserver/contract/{conid}/info` and `…/info-and-rules`.

use axum::Json;
use axum::extract::State;
use model::{AssetClass, Instrument};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::ContractRules;
use super::{instrument, sec_type};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ConidSegment, PathParams, QueryParams, only_bool};
use crate::state::AppState;

/// A contract's details (IBKR's `contractInfo`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractInfo {
    cfi_code: String,
    symbol: String,
    cusip: Option<String>,
    expiry_full: Option<String>,
    con_id: u32,
    maturity_date: Option<String>,
    /// IBKR puts the industry group here (`Computers` for AAPL).
    industry: Option<String>,
    instrument_type: String,
    trading_class: String,
    valid_exchanges: String,
    allow_sell_long: bool,
    is_zero_commission_security: bool,
    local_symbol: String,
    contract_clarification_type: Option<String>,
    classifier: Option<String>,
    currency: String,
    text: Option<String>,
    underlying_con_id: u32,
    r_t_h: bool,
    multiplier: Option<String>,
    underlying_issuer: Option<String>,
    contract_month: Option<String>,
    company_name: String,
    smart_available: bool,
    exchange: String,
    category: Option<String>,
    has_related_contracts: bool,
}

impl ContractInfo {
    fn of(instrument: &Instrument) -> Self {
        let stock = instrument.asset_class == AssetClass::Stock;
        // IBKR's trading class: NMS for Nasdaq-listed stocks, the pair for currencies, the
        // symbol otherwise.
        let trading_class = match (instrument.asset_class, instrument.listing_exchange.as_str()) {
            (AssetClass::Stock, "NASDAQ") => "NMS".to_owned(),
            (AssetClass::Forex, _) => instrument.local_symbol(),
            _ => instrument.symbol.clone(),
        };
        Self {
            cfi_code: String::new(),
            symbol: instrument.symbol.clone(),
            cusip: None,
            expiry_full: None,
            con_id: instrument.conid.get(),
            maturity_date: None,
            industry: instrument.category.clone(),
            instrument_type: sec_type(instrument).into(),
            trading_class,
            valid_exchanges: instrument.exchanges.join(","),
            allow_sell_long: false,
            is_zero_commission_security: false,
            local_symbol: instrument.local_symbol(),
            contract_clarification_type: None,
            classifier: None,
            currency: instrument.currency.to_string(),
            text: None,
            underlying_con_id: 0,
            r_t_h: stock,
            multiplier: None,
            underlying_issuer: None,
            contract_month: None,
            company_name: instrument.name.clone(),
            smart_available: stock,
            exchange: if stock { "SMART".into() } else { instrument.listing_exchange.clone() },
            category: instrument.category.clone(),
            has_related_contracts: false,
        }
    }
}

/// A contract's details.
#[utoipa::path(
    get,
    path = "/iserver/contract/{conid}/info",
    operation_id = "getInstrumentInfo",
    tag = "Contracts",
    params(("conid" = String, Path, description = "Contract id")),
    responses(
        (status = 200, description = "The contract", body = ContractInfo),
        (status = 400, description = "Not a conid the market lists", body = ErrorBody),
    )
)]
pub async fn contract_info(
    State(app): State<AppState>,
    PathParams(ConidSegment(conid)): PathParams<ConidSegment>,
) -> Result<Json<ContractInfo>, ApiError> {
    Ok(Json(ContractInfo::of(instrument(&app, conid)?)))
}

/// A contract's details with its order-entry rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfoAndRules {
    #[serde(flatten)]
    info: ContractInfo,
    rules: ContractRules,
}

/// `info-and-rules`' query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SideQuery {
    /// Whether the order would buy; the rules are the same either way, but a value that is not
    /// a boolean is refused rather than read as one.
    #[serde(rename = "isBuy", default, deserialize_with = "only_bool")]
    #[param(value_type = Option<bool>)]
    _is_buy: (),
}

/// A contract's details and the rules an order for it must follow. Clients send `isBuy`; the
/// rules are the same for both sides, so it changes nothing.
#[utoipa::path(
    get,
    path = "/iserver/contract/{conid}/info-and-rules",
    operation_id = "getInfoAndRules",
    tag = "Contracts",
    params(("conid" = String, Path, description = "Contract id"), SideQuery),
    responses(
        (status = 200, description = "The contract and its rules", body = InfoAndRules),
        (status = 400, description = "Not a conid the market lists", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn info_and_rules(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(_side): QueryParams<SideQuery>,
    PathParams(ConidSegment(conid)): PathParams<ConidSegment>,
) -> Result<Json<InfoAndRules>, ApiError> {
    let instrument = instrument(&app, conid)?;
    let rules = ContractRules::for_caller(&app, caller, instrument).await?;
    Ok(Json(InfoAndRules { info: ContractInfo::of(instrument), rules }))
}
