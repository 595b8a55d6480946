//! The messages of each topic, built from the same views as the REST endpoints so that a stream
//! and a poll never disagree.

use std::collections::{BTreeMap, BTreeSet};

use engine::Event;
use engine::portfolio::Portfolio;
use engine::state::{Session, State as EngineState};
use jiff::Timestamp;
use model::{AccountId, Conid, Decimal, OrderId};
use serde_json::{Map, Value, json};

use crate::market::MarketNow;
use crate::state::ServerIdentity;
use crate::trading::accounts::BrokerageAccounts;
use crate::trading::accounts::pnl::PnlRow;
use crate::trading::marketdata::fields;
use crate::trading::orders::views::{LiveOrder, Trade};
use crate::trading::portfolio::ledger::ledger;

/// Fields every market-data message carries besides those asked for, as IBKR's do.
const ALWAYS: [&str; 2] = ["6119", "6509"];

/// `sts`: the session is authenticated while it holds its user's brokerage session, and
/// competing while another session of the user holds it.
pub(super) fn status(username: &str, holds_brokerage: bool, competing: bool) -> Value {
    json!({"topic": "sts", "args": {
        "authenticated": holds_brokerage, "competing": competing, "connected": true,
        "established": holds_brokerage, "message": "", "fail": "", "username": username,
    }})
}

/// `system`: the greeting, with the user's name.
pub(super) fn greeting(username: &str, paper: bool) -> Value {
    json!({"topic": "system", "success": username, "isFT": false, "isPaper": paper})
}

/// `system`: the heartbeat, in epoch milliseconds of wall time.
pub(super) fn heartbeat(now: Timestamp) -> Value {
    json!({"topic": "system", "hb": now.as_millisecond()})
}

/// `act`: the session's accounts, as `iserver/accounts` lists them.
pub(super) fn accounts(state: &EngineState, session: &Session, identity: &ServerIdentity) -> Value {
    json!({"topic": "act", "args": BrokerageAccounts::of(state, session, identity)})
}

/// `tic`: the session is alive, last accessed now.
pub(super) fn tic(session: &str, now: Timestamp) -> Value {
    json!({"topic": "tic", "alive": true, "id": session, "lastAccessed": now.as_millisecond()})
}

/// What a market-data subscription has asked for and been sent.
#[derive(Debug, Default)]
pub(super) struct MarketStream {
    /// The snapshot field codes asked for (LocalBroker's supported ones).
    pub(super) fields: BTreeSet<String>,
    /// The value of each field last sent.
    pub(super) sent: BTreeMap<String, String>,
}

impl MarketStream {
    /// Adds `fields` to the stream; unsupported codes are ignored, as the snapshot ignores them.
    pub(super) fn ask(&mut self, fields: &[String]) {
        let supported = fields.iter().filter(|f| fields::SUPPORTED.contains(&f.as_str())).cloned();
        self.fields.extend(supported.chain(ALWAYS.iter().map(|f| (*f).to_owned())));
    }
}

/// The `smd+<conid>` message carrying the fields of `stream` whose value in `values` changed
/// since it was last sent (all of them the first time), or `None` when none did. Marks them
/// sent.
pub(super) fn market_update(
    conid: Conid,
    values: &BTreeMap<String, String>,
    updated: i64,
    stream: &mut MarketStream,
) -> Option<Value> {
    let mut message = Map::new();
    for code in &stream.fields {
        let Some(value) = values.get(code) else { continue };
        if stream.sent.get(code) != Some(value) {
            stream.sent.insert(code.clone(), value.clone());
            message.insert(code.clone(), Value::String(value.clone()));
        }
    }
    if message.is_empty() {
        return None;
    }
    message.insert("topic".into(), json!(format!("smd+{conid}")));
    message.insert("conid".into(), json!(conid.get()));
    message.insert("conidEx".into(), json!(conid.to_string()));
    message.insert("server_id".into(), json!("q0"));
    message.insert("_updated".into(), json!(updated));
    Some(Value::Object(message))
}

/// The orders and executions a batch of engine events touched.
#[derive(Debug, Default)]
pub(super) struct Touched {
    /// Orders placed or changed, or that executed.
    pub(super) orders: BTreeSet<OrderId>,
    /// Executions.
    pub(super) executions: BTreeSet<model::ExecutionId>,
}

impl Touched {
    /// What `events` touched.
    pub(super) fn of(events: &[Event]) -> Self {
        let mut touched = Self::default();
        for event in events {
            match event {
                Event::OrderPlaced { order } | Event::OrderChanged { order, .. } => {
                    touched.orders.insert(*order);
                }
                Event::Executed { execution, order } => {
                    touched.orders.insert(*order);
                    touched.executions.insert(*execution);
                }
                _ => {}
            }
        }
        touched
    }
}

/// The views of `orders` (as `iserver/account/orders` lists them), with their status, by
/// account.
pub(super) fn order_views(
    state: &EngineState,
    orders: impl IntoIterator<Item = OrderId>,
) -> BTreeMap<AccountId, Vec<(String, Value)>> {
    let mut views: BTreeMap<AccountId, Vec<(String, Value)>> = BTreeMap::new();
    for order in orders.into_iter().filter_map(|id| state.order(id)) {
        let Some(view) = LiveOrder::of(order).and_then(|view| serde_json::to_value(view).ok()) else {
            continue;
        };
        let status = view["status"].as_str().unwrap_or_default().to_owned();
        views.entry(order.account.clone()).or_default().push((status, view));
    }
    views
}

/// The views of `executions` (as `iserver/account/trades` lists them), by account.
pub(super) fn trade_views(
    state: &EngineState,
    executions: impl IntoIterator<Item = model::ExecutionId>,
) -> BTreeMap<AccountId, Vec<Value>> {
    let mut views: BTreeMap<AccountId, Vec<Value>> = BTreeMap::new();
    for execution in executions.into_iter().filter_map(|id| state.execution(id)) {
        let trade = Trade::of(state, execution, position_after(state, execution));
        if let Some(view) = trade.and_then(|trade| serde_json::to_value(trade).ok()) {
            views.entry(execution.account.clone()).or_default().push(view);
        }
    }
    views
}

/// The executions of the session's accounts in the last `days` days, oldest first.
pub(super) fn recent_executions(
    state: &EngineState,
    session: &Session,
    days: u32,
    now: Timestamp,
) -> Vec<model::ExecutionId> {
    let since = now.saturating_sub(jiff::SignedDuration::from_hours(24 * i64::from(days))).unwrap_or(now);
    state
        .entitled_accounts(session)
        .flat_map(|account| state.executions(&account.id))
        .filter(|execution| execution.at >= since)
        .map(|execution| execution.id)
        .collect()
}

/// The holding of an execution's instrument right after it: the holding now, less what later
/// executions of the account in it did.
fn position_after(state: &EngineState, execution: &engine::orders::Execution) -> Decimal {
    let now = state
        .positions(&execution.account)
        .find(|(conid, _)| *conid == execution.conid)
        .map_or(Decimal::ZERO, |(_, position)| position.quantity);
    let later: Decimal = state
        .executions(&execution.account)
        .filter(|later| later.id > execution.id && later.conid == execution.conid)
        .map(|later| later.side.sign() * later.quantity)
        .sum();
    now - later
}

/// `spl`: each account's P&L row, keyed `<acct>.Core`.
pub(super) fn pnl(portfolios: &[Portfolio]) -> Value {
    let rows: Map<String, Value> = (1..)
        .zip(portfolios)
        .map(|(row_type, portfolio)| {
            let mut row = serde_json::to_value(PnlRow::of(row_type, portfolio)).unwrap_or_default();
            // The stream carries excess liquidity twice, as `el` and `uel` (recorded messages).
            if let Some(map) = row.as_object_mut() {
                let excess = map.get("el").cloned().unwrap_or_default();
                map.insert("uel".into(), excess);
            }
            (format!("{}.Core", portfolio.account), row)
        })
        .collect();
    json!({"topic": "spl", "args": rows})
}

/// How the websocket spells the summary's keys (TWS's account-value names); the REST summary
/// keys them in lower case. Keys the stream does not carry are left out.
const SUMMARY_KEYS: &[&str] = &[
    "AccountCode",
    "AccountReady",
    "AccountType",
    "AccruedCash",
    "AccruedDividend",
    "AvailableFunds",
    "Billable",
    "BuyingPower",
    "ColumnPrio",
    "Cushion",
    "DayTradesRemaining",
    "DayTradesRemainingT+1",
    "DayTradesRemainingT+2",
    "DayTradesRemainingT+3",
    "DayTradesRemainingT+4",
    "EquityWithLoanValue",
    "ExcessLiquidity",
    "FullAvailableFunds",
    "FullExcessLiquidity",
    "FullInitMarginReq",
    "FullMaintMarginReq",
    "GrossPositionValue",
    "Guarantee",
    "IndianStockHaircut",
    "InitMarginReq",
    "Leverage",
    "LookAheadAvailableFunds",
    "LookAheadExcessLiquidity",
    "LookAheadInitMarginReq",
    "LookAheadMaintMarginReq",
    "LookAheadNextChange",
    "MaintMarginReq",
    "NetLiquidation",
    "NetLiquidationUncertainty",
    "NLVAndMarginInReview",
    "PASharesValue",
    "PhysicalCertificateValue",
    "PostExpirationExcess",
    "PostExpirationMargin",
    "PreviousDayEquityWithLoanValue",
    "RegTEquity",
    "RegTMargin",
    "SegmentTitle",
    "SMA",
    "TotalCashValue",
    "TotalDebitCardPendingCharges",
    "TradingType",
    "WhatIfPMEnabled",
];

/// The websocket's name of the REST summary key `key` (`netliquidation-s` is
/// `NetLiquidation-S`), if the stream carries it.
fn stream_key(key: &str) -> Option<String> {
    let (name, suffix) = match key.rsplit_once('-') {
        Some((name, suffix)) if suffix.len() == 1 => (name, Some(suffix)),
        _ => (key, None),
    };
    let spelled = SUMMARY_KEYS.iter().find(|known| known.eq_ignore_ascii_case(name))?;
    Some(match suffix {
        Some(segment) => format!("{spelled}-{}", segment.to_ascii_uppercase()),
        None => (*spelled).to_owned(),
    })
}

/// `ssd+<acct>`: the summary's values as entries with `key` and `timestamp` (epoch seconds):
/// money with `currency` and `monetaryValue`, the rest with a text `value`, `AccountCode` among
/// them, as IBKR streams them.
pub(super) fn summary(portfolio: &Portfolio, day_trades_left: Option<[usize; 5]>, kind: &str) -> Value {
    let timestamp = portfolio.at.as_second();
    let result: Vec<Value> = crate::trading::portfolio::summary::summary(portfolio, day_trades_left, kind)
        .into_iter()
        .filter_map(|(key, entry)| {
            let key = stream_key(&key)?;
            Some(match (&entry.currency, &entry.value) {
                (Some(currency), _) => json!({
                    "key": key, "currency": currency, "monetaryValue": entry.amount,
                    "severity": entry.severity, "timestamp": timestamp,
                }),
                (None, value) => json!({
                    "key": key, "value": value.clone().unwrap_or_default(),
                    "severity": entry.severity, "timestamp": timestamp,
                }),
            })
        })
        .collect();
    json!({"topic": format!("ssd+{}", portfolio.account), "result": result})
}

/// `sld+<acct>`: the ledger, one entry per currency and `BASE`, keyed `LedgerList<CCY>`.
pub(super) fn ledger_update(portfolio: &Portfolio) -> Value {
    let result: Vec<Value> = ledger(portfolio)
        .into_iter()
        .map(|(currency, row)| {
            let mut entry = match serde_json::to_value(row) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            let renamed = |entry: &mut Map<String, Value>, from: &str, to: &str| {
                if let Some(value) = entry.remove(from) {
                    entry.insert(to.to_owned(), value);
                }
            };
            renamed(&mut entry, "acctcode", "acctCode");
            renamed(&mut entry, "secondkey", "secondKey");
            renamed(&mut entry, "settledcash", "settledCash");
            renamed(&mut entry, "exchangerate", "exchangeRate");
            renamed(&mut entry, "netliquidationvalue", "netLiquidationValue");
            renamed(&mut entry, "unrealizedpnl", "unrealizedPnl");
            renamed(&mut entry, "realizedpnl", "realizedPnl");
            renamed(&mut entry, "stockmarketvalue", "stockMarketValue");
            entry.insert("key".into(), json!(format!("LedgerList{currency}")));
            entry.insert("timestamp".into(), json!(portfolio.at.as_second()));
            Value::Object(entry)
        })
        .collect();
    json!({"topic": format!("sld+{}", portfolio.account), "result": result})
}

/// The levels of the price ladder on each side.
const LADDER_LEVELS: usize = 5;

/// `sbd+<acct>+<conid>`: the price ladder of the synthetic book, asks from the highest down,
/// then bids from the highest; the touch rows are in focus.
pub(super) fn ladder(market: &MarketNow, account: &AccountId, conid: Conid) -> Option<Value> {
    let catalogue = market::Catalogue::standard();
    let (instrument, profile) = catalogue.get(conid).zip(catalogue.profile(conid))?;
    let path = market.path(instrument, profile);
    let activity = market::quote::Activity::new(market.seed, instrument, profile);
    let touch = activity.touch(&path, market.now);
    let minute = path.timeline().position(market.now).minute;
    let asks: Vec<_> = activity.depth(&touch, minute, model::Side::Buy).take(LADDER_LEVELS).collect();
    let bids: Vec<_> = activity.depth(&touch, minute, model::Side::Sell).take(LADDER_LEVELS).collect();
    let size = |level: &market::quote::Level| level.size.normalize().to_string();
    let rows = asks
        .iter()
        .rev()
        .map(|level| (level, "ask", level.price == touch.ask))
        .chain(bids.iter().map(|level| (level, "bid", level.price == touch.bid)))
        .enumerate()
        .map(|(row, (level, side, best))| {
            json!({"row": row, "focus": u8::from(best), "price": level.price.to_string(), side: size(level)})
        })
        .collect::<Vec<_>>();
    Some(json!({"topic": format!("sbd+{account}+{conid}"), "data": rows}))
}
