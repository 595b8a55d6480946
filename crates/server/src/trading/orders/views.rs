//! How IBKR shows orders and executions: live orders, one order's status, and trades. The
//! field names and JSON types are those recorded from real gateways, which differ from the
//! spec's schemas: quantities are numbers in live orders and strings in an order's status,
//! prices are strings, conids and order ids numbers.

use engine::orders::{Execution, Order};
use engine::state::State;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use market::Catalogue;
use model::{Decimal, Instrument, OrderStatus, OrderType, Side, TimeInForce, Trail};
use serde::Serialize;
use utoipa::ToSchema;

use crate::trading::contracts::sec_type;
use crate::wire::float;

/// A price with the instrument's decimals.
pub(super) fn price(instrument: &Instrument, value: Decimal) -> String {
    format!("{:.*}", instrument.price_decimals() as usize, value)
}

/// A quantity as IBKR's status strings show it: `10.0`, `0.5`.
fn quantity_text(value: Decimal) -> String {
    let normal = value.normalize();
    if normal.scale() == 0 { format!("{normal}.0") } else { normal.to_string() }
}

/// `YYMMDDhhmmss`, UTC.
fn short_time(at: Timestamp) -> String {
    at.to_zoned_datetime(TimeZone::UTC).strftime("%y%m%d%H%M%S").to_string()
}

/// IBKR's status words.
pub(super) fn status_word(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::PreSubmitted => "PreSubmitted",
        OrderStatus::Submitted => "Submitted",
        OrderStatus::Filled => "Filled",
        OrderStatus::Cancelled => "Cancelled",
        OrderStatus::Inactive => "Inactive",
    }
}

/// The snake-case forms `live orders` filters by.
pub(super) fn filter_word(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::PreSubmitted => "pre_submitted",
        OrderStatus::Submitted => "submitted",
        OrderStatus::Filled => "filled",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Inactive => "inactive",
    }
}

/// The order type as a display name (`orderType`) and as IBKR's code (`origOrderType`).
fn type_names(order_type: &OrderType) -> (&'static str, &'static str) {
    match order_type {
        OrderType::Market => ("Market", "MARKET"),
        OrderType::Limit { .. } => ("Limit", "LIMIT"),
        OrderType::Stop { .. } => ("Stop", "STOP"),
        OrderType::StopLimit { .. } => ("Stop Limit", "STOP_LIMIT"),
        OrderType::TrailingStop { .. } => ("Trail", "TRAIL"),
        OrderType::TrailingStopLimit { .. } => ("Trail Limit", "TRAILLMT"),
        OrderType::MidPrice { .. } => ("MidPrice", "MIDPRICE"),
        OrderType::MarketOnClose => ("MOC", "MOC"),
        OrderType::LimitOnClose { .. } => ("LOC", "LOC"),
    }
}

fn tif_word(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Day => "DAY",
        TimeInForce::GoodTillCancelled => "GTC",
        TimeInForce::ImmediateOrCancel => "IOC",
        TimeInForce::FillOrKill => "FOK",
        TimeInForce::AtTheOpening => "OPG",
    }
}

/// The price an order shows: its limit, or for stops its stop.
fn shown_price(order: &Order) -> Option<Decimal> {
    match order.ticket.order_type {
        OrderType::Stop { stop } => Some(stop),
        OrderType::TrailingStop { .. } => order.stop_price(),
        other => other.limit().or_else(|| order.stop_price()),
    }
}

/// IBKR's one-line description: `Buy 10 Limit 150.00, GTC`; once done, `Bought 10 AAPL Market,
/// Day` or `Cancelled: Buy 10 AAPL Limit 150.00, Day`.
fn description(order: &Order, instrument: &Instrument) -> String {
    let (name, _) = type_names(&order.ticket.order_type);
    let tif = match order.ticket.tif {
        TimeInForce::Day => "Day".to_owned(),
        other => tif_word(other).to_owned(),
    };
    let priced = shown_price(order).map(|p| format!(" {}", price(instrument, p))).unwrap_or_default();
    let trail = match order.ticket.order_type {
        OrderType::TrailingStop { trail } | OrderType::TrailingStopLimit { trail, .. } => match trail {
            Trail::Amount(amount) => format!(" (trail {})", amount.normalize()),
            Trail::Percent(percent) => format!(" (trail {}%)", percent.normalize()),
        },
        _ => String::new(),
    };
    let quantity = order.quantity.normalize();
    let side = match (order.ticket.side, order.status == OrderStatus::Filled) {
        (Side::Buy, true) => "Bought",
        (Side::Sell, true) => "Sold",
        (Side::Buy, false) => "Buy",
        (Side::Sell, false) => "Sell",
    };
    let symbol = &instrument.symbol;
    match order.status {
        OrderStatus::Filled => format!("{side} {quantity} {symbol} {name}{priced}{trail}, {tif}"),
        OrderStatus::Cancelled | OrderStatus::Inactive => {
            format!("Cancelled: {side} {quantity} {symbol} {name}{priced}{trail}, {tif}")
        }
        OrderStatus::PreSubmitted | OrderStatus::Submitted => {
            format!("{side} {quantity} {name}{priced}{trail}, {tif}")
        }
    }
}

/// One order as `iserver/account/orders` lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveOrder {
    acct: String,
    account: String,
    conid: u32,
    conidex: String,
    #[serde(rename = "orderId")]
    order_id: u64,
    #[serde(rename = "cashCcy")]
    cash_ccy: String,
    #[serde(rename = "sizeAndFills")]
    size_and_fills: String,
    #[serde(rename = "orderDesc")]
    order_desc: String,
    description1: String,
    ticker: String,
    #[serde(rename = "secType")]
    sec_type: String,
    #[serde(rename = "listingExchange")]
    listing_exchange: String,
    /// Where the order is routed: the instrument's first venue (`SMART` for US shares).
    exchange: String,
    #[serde(rename = "remainingQuantity")]
    remaining_quantity: f64,
    #[serde(rename = "filledQuantity")]
    filled_quantity: f64,
    #[serde(rename = "totalSize")]
    total_size: f64,
    #[serde(rename = "companyName")]
    company_name: String,
    status: String,
    order_ccp_status: String,
    #[serde(rename = "avgPrice", skip_serializing_if = "Option::is_none")]
    avg_price: Option<String>,
    #[serde(rename = "origOrderType")]
    orig_order_type: String,
    #[serde(rename = "supportsTaxOpt")]
    supports_tax_opt: String,
    #[serde(rename = "lastExecutionTime")]
    last_execution_time: String,
    #[serde(rename = "lastExecutionTime_r")]
    last_execution_time_r: i64,
    #[serde(rename = "orderType")]
    order_type: String,
    #[serde(rename = "bgColor")]
    bg_color: String,
    #[serde(rename = "fgColor")]
    fg_color: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_ref: Option<String>,
    #[serde(rename = "timeInForce")]
    time_in_force: String,
    side: String,
    /// The limit (or stop) price; empty for a market order.
    price: String,
    #[serde(rename = "auxPrice", skip_serializing_if = "Option::is_none")]
    aux_price: Option<String>,
    #[serde(rename = "outsideRTH")]
    outside_rth: bool,
    #[serde(rename = "parentId", skip_serializing_if = "Option::is_none")]
    parent_id: Option<u64>,
    #[serde(rename = "ocaGroupId", skip_serializing_if = "Option::is_none")]
    oca_group_id: Option<String>,
    #[serde(rename = "isEventTrading")]
    is_event_trading: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_cancellation_by_system_reason: Option<String>,
}

/// When an order last executed, or else when it last changed.
fn last_activity(order: &Order) -> Timestamp {
    order.last_execution_at.unwrap_or(order.updated_at)
}

impl LiveOrder {
    /// The order as live orders show it.
    pub(crate) fn of(order: &Order) -> Option<Self> {
        let instrument = Catalogue::standard().get(order.ticket.conid)?;
        let (name, code) = type_names(&order.ticket.order_type);
        let last = last_activity(order);
        let filled = order.status == OrderStatus::Filled;
        Some(Self {
            acct: order.account.to_string(),
            account: order.account.to_string(),
            conid: instrument.conid.get(),
            conidex: instrument.conid.to_string(),
            order_id: order.id.get(),
            cash_ccy: instrument.currency.to_string(),
            size_and_fills: if filled {
                order.quantity.normalize().to_string()
            } else {
                format!("{}/{}", order.filled.normalize(), order.quantity.normalize())
            },
            order_desc: description(order, instrument),
            description1: instrument.local_symbol(),
            ticker: instrument.symbol.clone(),
            sec_type: sec_type(instrument).into(),
            listing_exchange: instrument.listing_exchange.clone(),
            exchange: instrument.exchanges.first().unwrap_or(&instrument.listing_exchange).clone(),
            remaining_quantity: float(order.remaining()),
            filled_quantity: float(order.filled),
            total_size: float(order.quantity),
            company_name: instrument.name.clone(),
            status: status_word(order.status).into(),
            order_ccp_status: status_word(order.status).into(),
            avg_price: order.average_price().map(|average| price(instrument, average)),
            orig_order_type: code.into(),
            supports_tax_opt: "1".into(),
            last_execution_time: short_time(last),
            last_execution_time_r: last.as_millisecond(),
            order_type: name.into(),
            bg_color: "#FFFFFF".into(),
            fg_color: "#000000".into(),
            order_ref: order.ticket.client_order_id.clone(),
            time_in_force: tif_word(order.ticket.tif).into(),
            side: match order.ticket.side {
                Side::Buy => "BUY".into(),
                Side::Sell => "SELL".into(),
            },
            price: shown_price(order).map(|p| price(instrument, p)).unwrap_or_default(),
            aux_price: match order.ticket.order_type {
                OrderType::StopLimit { stop, .. } => Some(price(instrument, stop)),
                _ => None,
            },
            outside_rth: order.ticket.outside_rth,
            parent_id: order.parent.map(model::OrderId::get),
            oca_group_id: order.oca_group.map(|group| group.to_string()),
            is_event_trading: "0".into(),
            order_cancellation_by_system_reason: (order.status == OrderStatus::Cancelled)
                .then_some(order.reason)
                .flatten()
                .filter(|reason| reason.is_by_system())
                .map(String::from),
        })
    }
}

/// `iserver/account/order/status/{orderId}`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderStatusView {
    /// The kind of a complex order (IBKR's `sub_type`); LocalBroker's orders are all plain.
    sub_type: Option<String>,
    /// The request that placed the order; each order is placed by a request of its own, so its
    /// id stands for it.
    request_id: String,
    order_id: u64,
    conid: u32,
    conidex: String,
    symbol: String,
    side: String,
    contract_description_1: String,
    listing_exchange: String,
    option_acct: String,
    company_name: String,
    /// What is left to fill.
    size: String,
    total_size: String,
    currency: String,
    account: String,
    order_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_price: Option<String>,
    cum_fill: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    average_price: Option<String>,
    order_status: String,
    /// IBKR's numeric code for the status, as a string.
    order_ccp_status: String,
    order_status_description: String,
    tif: String,
    fg_color: String,
    bg_color: String,
    order_not_editable: bool,
    editable_fields: String,
    cannot_cancel_order: bool,
    deactivate_order: bool,
    sec_type: String,
    available_chart_periods: String,
    order_description: String,
    order_description_with_contract: String,
    alert_active: u8,
    child_order_type: String,
    order_clearing_account: String,
    size_and_fills: String,
    exit_strategy_display_price: String,
    exit_strategy_chart_description: String,
    exit_strategy_tool_availability: String,
    allowed_duplicate_opposite: bool,
    order_time: String,
    outside_rth: bool,
    use_price_mgmt_algo: bool,
    server_id: String,
}

impl OrderStatusView {
    /// The order's status page.
    pub(super) fn of(order: &Order) -> Option<Self> {
        let instrument = Catalogue::standard().get(order.ticket.conid)?;
        let (_, code) = type_names(&order.ticket.order_type);
        let finished = order.status.is_final();
        let description = description(order, instrument);
        let shown = shown_price(order).map(|p| price(instrument, p));
        let (ccp, words) = match order.status {
            OrderStatus::PreSubmitted => ("0", "Order Submitted"),
            OrderStatus::Submitted => ("1", "Order Submitted"),
            OrderStatus::Filled => ("2", "Order Filled"),
            OrderStatus::Cancelled => ("4", "Order Cancelled"),
            OrderStatus::Inactive => ("5", "Order Inactive"),
        };
        Some(Self {
            sub_type: None,
            request_id: order.id.to_string(),
            order_id: order.id.get(),
            conid: instrument.conid.get(),
            conidex: instrument.conid.to_string(),
            symbol: instrument.symbol.clone(),
            side: match order.ticket.side {
                Side::Buy => "B".into(),
                Side::Sell => "S".into(),
            },
            contract_description_1: instrument.local_symbol(),
            listing_exchange: instrument.listing_exchange.clone(),
            option_acct: "c".into(),
            company_name: instrument.name.clone(),
            size: quantity_text(order.remaining()),
            total_size: quantity_text(order.quantity),
            currency: instrument.currency.to_string(),
            account: order.account.to_string(),
            order_type: code.into(),
            limit_price: order.limit_price().map(|p| price(instrument, p)),
            stop_price: order.stop_price().map(|p| price(instrument, p)),
            cum_fill: quantity_text(order.filled),
            average_price: order.average_price().map(|average| price(instrument, average)),
            order_status: status_word(order.status).into(),
            order_ccp_status: ccp.into(),
            order_status_description: words.into(),
            tif: tif_word(order.ticket.tif).into(),
            fg_color: "#FFFFFF".into(),
            bg_color: "#000000".into(),
            order_not_editable: finished,
            editable_fields: String::new(),
            cannot_cancel_order: finished,
            deactivate_order: false,
            sec_type: sec_type(instrument).into(),
            available_chart_periods: "#R|1".into(),
            order_description_with_contract: description.replacen(
                ' ',
                &format!(" {} ", instrument.symbol),
                1,
            ),
            order_description: description.clone(),
            alert_active: 1,
            child_order_type: if order.parent.is_some() { "A".into() } else { "0".into() },
            order_clearing_account: order.account.to_string(),
            size_and_fills: format!("{}/{}", order.filled.normalize(), order.quantity.normalize()),
            exit_strategy_display_price: shown.clone().unwrap_or_default(),
            exit_strategy_chart_description: description,
            exit_strategy_tool_availability: "1".into(),
            allowed_duplicate_opposite: true,
            order_time: short_time(order.placed_at),
            outside_rth: order.ticket.outside_rth,
            use_price_mgmt_algo: false,
            server_id: "0".into(),
        })
    }
}

/// Whether an order belongs in a session's live orders: working, or finished since the session
/// began.
pub(super) fn is_sessions(order: &Order, since: Timestamp) -> bool {
    order.is_live() || order.updated_at >= since
}

/// One execution as `iserver/account/trades` lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trade {
    execution_id: String,
    symbol: String,
    supports_tax_opt: String,
    side: String,
    order_description: String,
    trade_time: String,
    trade_time_r: i64,
    size: f64,
    price: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_ref: Option<String>,
    submitter: String,
    exchange: String,
    commission: String,
    net_amount: f64,
    account: String,
    #[serde(rename = "accountCode")]
    account_code: String,
    /// The account the execution was allocated to: an account's own trades stay in it.
    account_allocation_name: String,
    company_name: String,
    contract_description_1: String,
    sec_type: String,
    listing_exchange: String,
    conid: u32,
    #[serde(rename = "conidEx")]
    conid_ex: String,
    position: String,
    clearing_id: String,
    clearing_name: String,
    liquidation_trade: String,
    is_event_trading: String,
    order_id: u64,
}

/// IBKR's execution ids: two groups of eight hex digits and two of two (`0000e0d5.6576fd38.01.01`).
pub(crate) fn execution_id(seed: u64, id: model::ExecutionId) -> String {
    format!("{:08x}.{:08x}.01.01", seed & 0xffff_ffff, id.get())
}

impl Trade {
    /// The execution as trades show it; `position` is the holding right after it.
    pub(crate) fn of(state: &State, execution: &Execution, position: Decimal) -> Option<Self> {
        let instrument = Catalogue::standard().get(execution.conid)?;
        let order = state.order(execution.order)?;
        let (verb, side) = match execution.side {
            Side::Buy => ("Bot", "B"),
            Side::Sell => ("Sold", "S"),
        };
        let shown = price(instrument, execution.price);
        Some(Self {
            execution_id: execution_id(state.seed(), execution.id),
            symbol: instrument.symbol.clone(),
            supports_tax_opt: "1".into(),
            side: side.into(),
            order_description: format!(
                "{verb} {} @ {shown} on {}",
                execution.quantity.normalize(),
                instrument.listing_exchange
            ),
            trade_time: execution.at.to_zoned_datetime(TimeZone::UTC).strftime("%Y%m%d-%H:%M:%S").to_string(),
            trade_time_r: execution.at.as_millisecond(),
            size: float(execution.quantity),
            price: shown,
            order_ref: order.ticket.client_order_id.clone(),
            submitter: order.submitter.to_string(),
            exchange: instrument.listing_exchange.clone(),
            commission: quantity_text(execution.commission),
            net_amount: float(execution.value()),
            account: execution.account.to_string(),
            account_code: execution.account.to_string(),
            account_allocation_name: execution.account.to_string(),
            company_name: instrument.name.clone(),
            contract_description_1: instrument.local_symbol(),
            sec_type: sec_type(instrument).into(),
            listing_exchange: instrument.listing_exchange.clone(),
            conid: instrument.conid.get(),
            conid_ex: instrument.conid.to_string(),
            position: position.normalize().to_string(),
            clearing_id: "IB".into(),
            clearing_name: "IB".into(),
            liquidation_trade: "0".into(),
            is_event_trading: "0".into(),
            order_id: order.id.get(),
        })
    }
}
