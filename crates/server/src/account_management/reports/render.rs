//! A statement as IBKR's JSON or as an HTML page, and a trade as a confirmation's JSON.
//! Figures are doubles on the wire, as IBKR's amounts are.

use engine::statement::Trade;
use jiff::civil::Date;
use model::{AccountId, Conid, Currency, Side};
use serde::Serialize;

use crate::html::escape;
use crate::trading::orders::views::execution_id;
use crate::wire::float;

use super::Activity;

/// One execution, in a statement's trades and in trade confirmations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TradeLine {
    pub(super) execution_id: String,
    order_id: u64,
    pub(super) date_time: String,
    conid: Conid,
    pub(super) symbol: String,
    pub(super) currency: Currency,
    /// `BUY` or `SELL`.
    pub(super) side: &'static str,
    pub(super) quantity: f64,
    pub(super) trade_price: f64,
    pub(super) proceeds: f64,
    pub(super) commission: f64,
    commission_currency: Currency,
}

impl TradeLine {
    pub(super) fn of(seed: u64, trade: &Trade) -> Self {
        Self {
            execution_id: execution_id(seed, trade.execution),
            order_id: trade.order,
            date_time: trade.at.to_string(),
            conid: trade.conid,
            symbol: trade.symbol.clone(),
            currency: trade.currency,
            side: if trade.side == Side::Buy { "BUY" } else { "SELL" },
            quantity: float(trade.quantity),
            trade_price: float(trade.price),
            proceeds: float(trade.proceeds),
            commission: float(trade.commission),
            commission_currency: trade.commission_currency,
        }
    }
}

/// The statement as JSON: IBKR's Flex names where it has them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StatementJson {
    account_id: AccountId,
    account_title: String,
    base_currency: Currency,
    start_date: Date,
    end_date: Date,
    valued_at: String,
    net_asset_value: NetAssetValue,
    cash_report: Vec<CashLine>,
    trades: Vec<TradeLine>,
    transfers: Vec<TransferLine>,
    open_positions: Vec<PositionLine>,
}

/// The account's value at the start and at the end, to the cent.
#[derive(Debug, Serialize)]
struct NetAssetValue {
    starting: f64,
    ending: f64,
}

/// One currency's cash over the period.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CashLine {
    currency: Currency,
    starting_cash: f64,
    deposits: f64,
    withdrawals: f64,
    internal_transfers: f64,
    trades: f64,
    commissions: f64,
    dividends: f64,
    interest: f64,
    other: f64,
    ending_cash: f64,
}

/// A deposit, a withdrawal or a transfer; a position transfer names its shares.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TransferLine {
    date_time: String,
    #[serde(rename = "type")]
    kind: &'static str,
    currency: Currency,
    amount: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    conid: Option<Conid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<f64>,
}

/// A position held at the end.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PositionLine {
    conid: Conid,
    symbol: String,
    currency: Currency,
    position: f64,
    mark_price: f64,
    position_value: f64,
}

impl StatementJson {
    pub(super) fn of(activity: &Activity, start: Date, end: Date) -> Self {
        let Activity { statement, trades, seed } = activity;
        Self {
            account_id: statement.account.clone(),
            account_title: statement.title.clone(),
            base_currency: statement.base_currency,
            start_date: start,
            end_date: end,
            valued_at: statement.valued_at.to_string(),
            net_asset_value: NetAssetValue {
                starting: float(statement.starting_value.round_dp(2)),
                ending: float(statement.ending_value.round_dp(2)),
            },
            cash_report: statement
                .cash
                .iter()
                .map(|line| CashLine {
                    currency: line.currency,
                    starting_cash: float(line.starting_cash),
                    deposits: float(line.deposits),
                    withdrawals: float(line.withdrawals),
                    internal_transfers: float(line.internal_transfers),
                    trades: float(line.trades),
                    commissions: float(line.commissions),
                    dividends: float(line.dividends),
                    interest: float(line.interest),
                    other: float(line.other),
                    ending_cash: float(line.ending_cash),
                })
                .collect(),
            trades: trades.iter().map(|trade| TradeLine::of(*seed, trade)).collect(),
            transfers: statement
                .transfers
                .iter()
                .map(|transfer| TransferLine {
                    date_time: transfer.at.to_string(),
                    kind: transfer.kind,
                    currency: transfer.currency,
                    amount: float(transfer.amount),
                    conid: transfer.shares.map(|(conid, _)| conid),
                    quantity: transfer.shares.map(|(_, quantity)| float(quantity)),
                })
                .collect(),
            open_positions: statement
                .positions
                .iter()
                .map(|position| PositionLine {
                    conid: position.conid,
                    symbol: position.symbol.clone(),
                    currency: position.currency,
                    position: float(position.quantity),
                    mark_price: float(position.mark_price),
                    position_value: float(position.market_value),
                })
                .collect(),
        }
    }
}

/// One HTML table.
pub(super) fn table(title: &str, headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let head: String = headers.iter().map(|header| format!("<th>{}</th>", escape(header))).collect();
    let body: String = rows
        .into_iter()
        .map(|row| {
            format!(
                "<tr>{}</tr>",
                row.iter().map(|cell| format!("<td>{}</td>", escape(cell))).collect::<String>()
            )
        })
        .collect();
    format!(
        "<h2>{}</h2>\n<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n",
        escape(title)
    )
}

fn money(value: model::Decimal) -> String {
    format!("{:.2}", value)
}

/// The statement as a page a person reads.
pub(super) fn statement_html(activity: &Activity, start: Date, end: Date) -> String {
    let Activity { statement, trades, seed } = activity;
    let cash = statement
        .cash
        .iter()
        .map(|line| {
            vec![
                line.currency.to_string(),
                money(line.starting_cash),
                money(line.deposits),
                money(line.withdrawals),
                money(line.internal_transfers),
                money(line.trades),
                money(line.commissions),
                money(line.dividends),
                money(line.interest),
                money(line.other),
                money(line.ending_cash),
            ]
        })
        .collect();
    let trades = trades
        .iter()
        .map(|trade| {
            vec![
                trade.at.to_string(),
                execution_id(*seed, trade.execution),
                trade.symbol.clone(),
                format!("{:?}", trade.side).to_uppercase(),
                trade.quantity.normalize().to_string(),
                trade.price.normalize().to_string(),
                money(trade.proceeds),
                money(trade.commission),
                trade.currency.to_string(),
            ]
        })
        .collect();
    let transfers = statement
        .transfers
        .iter()
        .map(|transfer| {
            vec![
                transfer.at.to_string(),
                transfer.kind.to_owned(),
                transfer.currency.to_string(),
                money(transfer.amount),
            ]
        })
        .collect();
    let positions = statement
        .positions
        .iter()
        .map(|position| {
            vec![
                position.symbol.clone(),
                position.quantity.normalize().to_string(),
                position.mark_price.normalize().to_string(),
                money(position.market_value),
                position.currency.to_string(),
            ]
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Activity Statement {account}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}\
         th,td{{border:1px solid #bbb;padding:.25em .6em;text-align:right}}th{{background:#eee}}</style></head>\n<body>\n\
         <h1>Activity Statement</h1>\n<p>{title} — account {account} — {start} to {end} — base currency {base}</p>\n\
         <p>Net asset value: {starting} at the start, {ending} at {valued}</p>\n{cash}{trades}{transfers}{positions}</body>\n</html>\n",
        account = escape(&statement.account.to_string()),
        title = escape(&statement.title),
        base = statement.base_currency,
        starting = money(statement.starting_value),
        ending = money(statement.ending_value),
        valued = statement.valued_at,
        cash = table(
            "Cash Report",
            &[
                "Currency",
                "Starting cash",
                "Deposits",
                "Withdrawals",
                "Internal transfers",
                "Trades",
                "Commissions",
                "Dividends",
                "Interest",
                "Other",
                "Ending cash"
            ],
            cash
        ),
        trades = table(
            "Trades",
            &[
                "Date/time",
                "Execution",
                "Symbol",
                "Side",
                "Quantity",
                "Price",
                "Proceeds",
                "Commission",
                "Currency"
            ],
            trades
        ),
        transfers = table(
            "Deposits, Withdrawals and Transfers",
            &["Date/time", "Type", "Currency", "Amount"],
            transfers
        ),
        positions =
            table("Open Positions", &["Symbol", "Quantity", "Mark price", "Value", "Currency"], positions),
    )
}
