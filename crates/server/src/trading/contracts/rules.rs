//! Order-entry rules: `iserver/contract/rules` and the `rules` of `info-and-rules`.
//!
//! The rules advertise what LocalBroker's order entry accepts for the instrument: its order
//! types and time-in-force values, tick size and default size. The suggested prices
//! (`limitPrice`, `stopprice`, the default limit) are the simulated market's last price.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use model::{AssetClass, Conid, Decimal, Instrument};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{IncrementRule, increment_rules, instrument};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, only_bool};
use crate::market::MarketNow;
use crate::state::AppState;
use crate::wire::whole_or_double;

/// Default order values shown by IBKR's order ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitDefaults {
    /// The default limit price: the last price.
    #[serde(rename = "LP")]
    lp: String,
}

/// The time-in-force defaults.
#[derive(Debug, Serialize, ToSchema)]
pub struct TifDefaults {
    #[serde(rename = "TIF")]
    tif: String,
    /// The account an order goes to unless it names one: the session's selected account.
    #[serde(rename = "DEFAULT_ACCT")]
    default_account: String,
    /// A string on IBKR's wire.
    #[serde(rename = "SIZE")]
    size: String,
    #[serde(rename = "PMALGO")]
    pm_algo: bool,
}

/// An instrument's order-entry rules (IBKR's `contractRules`). Key spellings follow the wire:
/// `stopprice` is lower-case.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContractRules {
    algo_eligible: bool,
    all_or_none_eligible: bool,
    overnight_eligible: bool,
    cost_report: bool,
    can_trade_acct_ids: Vec<String>,
    error: Option<String>,
    order_types: Vec<String>,
    ib_algo_types: Vec<String>,
    fraq_types: Vec<String>,
    force_order_preview: bool,
    cqt_types: Vec<String>,
    order_defaults: BTreeMap<String, LimitDefaults>,
    order_types_outside: Vec<String>,
    #[schema(value_type = f64)]
    default_size: serde_json::Number,
    cash_size: f64,
    #[schema(value_type = f64)]
    size_increment: serde_json::Number,
    tif_types: Vec<String>,
    tif_defaults: TifDefaults,
    limit_price: Option<f64>,
    #[serde(rename = "stopprice")]
    stop_price: Option<f64>,
    order_origination: Option<String>,
    preview: bool,
    display_size: Option<u32>,
    fraq_int: u32,
    cash_ccy: String,
    cash_qty_incr: u32,
    price_magnifier: Option<u32>,
    negative_capable: bool,
    increment_type: u32,
    increment_rules: Vec<IncrementRule>,
    has_secondary: bool,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    increment: Decimal,
    increment_digits: u32,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|&item| item.to_owned()).collect()
}

impl ContractRules {
    /// The rules for `instrument`, tradable in the accounts of the caller's user.
    pub(super) async fn for_caller(
        app: &AppState,
        caller: Caller,
        instrument: &Instrument,
    ) -> Result<Self, ApiError> {
        let (accounts, selected) = caller
            .read(app, |state, session| {
                let accounts = state.entitled_accounts(session).map(|a| a.id.to_string()).collect();
                (accounts, session.selected_account.to_string())
            })
            .await?;
        let profile = app.catalogue.profile(instrument.conid).ok_or_else(|| {
            ApiError::bad_request(format!("Bad Request: conid {} not found", instrument.conid))
        })?;
        let last = MarketNow::read(app, vec![instrument.conid]).await?.quote(instrument, profile).last;
        Ok(Self::of(instrument, accounts, selected, last))
    }

    fn of(instrument: &Instrument, can_trade_acct_ids: Vec<String>, selected: String, last: Decimal) -> Self {
        let last_price = f64::try_from(last).ok();
        let stock = instrument.asset_class == AssetClass::Stock;
        // Shares default to a round lot; currencies to IDEALPRO's 25,000 units; coins (traded
        // in fractions, round the clock) to a hundredth of a coin.
        let (default_size, size_increment) = match instrument.asset_class {
            AssetClass::Stock => (Decimal::ONE_HUNDRED, Decimal::ONE_HUNDRED),
            AssetClass::Forex => (Decimal::from(25_000), Decimal::ONE),
            AssetClass::Crypto => (Decimal::new(1, 2), instrument.size_increment()),
        };
        let increment = instrument.tick_at(Decimal::ZERO);
        let order_types = match instrument.asset_class {
            AssetClass::Stock => strings(&[
                "limit",
                "midprice",
                "market",
                "stop",
                "stop_limit",
                "trailing_stop",
                "trailing_stop_limit",
                "marketonclose",
                "limitonclose",
            ]),
            AssetClass::Forex => {
                strings(&["limit", "market", "stop", "stop_limit", "trailing_stop", "trailing_stop_limit"])
            }
            AssetClass::Crypto => strings(&["limit", "market", "stop_limit"]),
        };
        // A coin's market has no day to end, so its orders are immediate or good till
        // cancelled.
        let (tif_types, default_tif) = match instrument.asset_class {
            AssetClass::Stock => {
                (strings(&["IOC/MARKET,LIMIT,MIDPRICE,a", "GTC/o,a", "OPG/LIMIT,MARKET,a", "DAY/o,a"]), "DAY")
            }
            AssetClass::Forex => (strings(&["IOC/MARKET,LIMIT,a", "GTC/o,a", "DAY/o,a"]), "DAY"),
            AssetClass::Crypto => (strings(&["IOC/MARKET,LIMIT,a", "GTC/o,a"]), "GTC"),
        };
        Self {
            algo_eligible: false,
            all_or_none_eligible: false,
            overnight_eligible: false,
            cost_report: false,
            can_trade_acct_ids,
            error: None,
            cqt_types: strings(&["market", "limit"]),
            order_types_outside: if stock {
                strings(&["limit", "stop_limit", "trailing_stop_limit"])
            } else {
                Vec::new()
            },
            order_types,
            ib_algo_types: Vec::new(),
            fraq_types: Vec::new(),
            force_order_preview: false,
            order_defaults: BTreeMap::from([("LMT".to_owned(), LimitDefaults { lp: last.to_string() })]),
            default_size: whole_or_double(default_size),
            cash_size: 0.0,
            size_increment: whole_or_double(size_increment),
            tif_types,
            tif_defaults: TifDefaults {
                tif: default_tif.into(),
                default_account: selected,
                size: format!("{default_size:.2}"),
                pm_algo: false,
            },
            limit_price: last_price,
            stop_price: last_price,
            order_origination: None,
            preview: true,
            display_size: None,
            fraq_int: 0,
            cash_ccy: instrument.currency.to_string(),
            cash_qty_incr: 500,
            price_magnifier: None,
            negative_capable: false,
            increment_type: 1,
            increment_rules: increment_rules(instrument),
            has_secondary: false,
            increment,
            increment_digits: instrument.price_decimals(),
        }
    }
}

/// `iserver/contract/rules`' body. Clients also send `isBuy`, `exchange` and `modifyOrder`;
/// LocalBroker's rules are the same for both sides and every venue, so those change nothing,
/// but an `isBuy` that is not a boolean is refused rather than read as one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RulesRequest {
    /// The contract, as a number or a string.
    #[schema(value_type = u32)]
    conid: Option<serde_json::Value>,
    /// Whether the order would buy; the rules are the same either way.
    #[serde(rename = "isBuy", default, deserialize_with = "only_bool")]
    #[schema(value_type = Option<bool>)]
    _is_buy: (),
}

/// The rules an order for a contract must follow.
#[utoipa::path(
    post,
    path = "/iserver/contract/rules",
    operation_id = "getContractRules",
    tag = "Contracts",
    request_body = RulesRequest,
    responses(
        (status = 200, description = "The rules", body = ContractRules),
        (status = 400, description = "Missing or unknown conid", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn contract_rules(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<RulesRequest>,
) -> Result<Json<ContractRules>, ApiError> {
    let conid: Conid = match request.conid {
        Some(serde_json::Value::Number(n)) => n.to_string().parse().ok(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::bad_request("Bad Request: conid must be a positive integer"))?;
    let instrument = instrument(&app, conid)?;
    let rules = ContractRules::for_caller(&app, caller, instrument).await?;
    Ok(Json(rules))
}
