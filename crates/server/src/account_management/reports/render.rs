//! A statement as IBKR's JSON or as an HTML page, and a trade as a confirmation's JSON.

use engine::statement::Trade;
use jiff::civil::Date;
use serde_json::{Value, json};

use crate::html::escape;
use crate::trading::orders::views::execution_id;
use crate::wire::float;

use super::Activity;

pub(super) fn trade_json(seed: u64, trade: &Trade) -> Value {
    json!({
        "executionId": execution_id(seed, trade.execution),
        "orderId": trade.order,
        "dateTime": trade.at.to_string(),
        "conid": trade.conid.get(),
        "symbol": trade.symbol,
        "currency": trade.currency.to_string(),
        "side": if trade.side == model::Side::Buy { "BUY" } else { "SELL" },
        "quantity": float(trade.quantity),
        "tradePrice": float(trade.price),
        "proceeds": float(trade.proceeds),
        "commission": float(trade.commission),
        "commissionCurrency": trade.commission_currency.to_string(),
    })
}

/// The statement as JSON: IBKR's Flex names where it has them.
pub(super) fn statement_json(activity: &Activity, start: Date, end: Date) -> Value {
    let Activity { statement, trades, seed } = activity;
    let cash: Vec<Value> = statement
        .cash
        .iter()
        .map(|line| {
            json!({
                "currency": line.currency.to_string(),
                "startingCash": float(line.starting_cash),
                "deposits": float(line.deposits),
                "withdrawals": float(line.withdrawals),
                "internalTransfers": float(line.internal_transfers),
                "trades": float(line.trades),
                "commissions": float(line.commissions),
                "dividends": float(line.dividends),
                "interest": float(line.interest),
                "other": float(line.other),
                "endingCash": float(line.ending_cash),
            })
        })
        .collect();
    let transfers: Vec<Value> = statement
        .transfers
        .iter()
        .map(|transfer| {
            let mut line = json!({
                "dateTime": transfer.at.to_string(),
                "type": transfer.kind,
                "currency": transfer.currency.to_string(),
                "amount": float(transfer.amount),
            });
            if let Some((conid, quantity)) = transfer.shares {
                line["conid"] = json!(conid.get());
                line["quantity"] = json!(float(quantity));
            }
            line
        })
        .collect();
    let positions: Vec<Value> = statement
        .positions
        .iter()
        .map(|position| {
            json!({
                "conid": position.conid.get(),
                "symbol": position.symbol,
                "currency": position.currency.to_string(),
                "position": float(position.quantity),
                "markPrice": float(position.mark_price),
                "positionValue": float(position.market_value),
            })
        })
        .collect();
    json!({
        "accountId": statement.account.to_string(),
        "accountTitle": statement.title,
        "baseCurrency": statement.base_currency.to_string(),
        "startDate": start.to_string(),
        "endDate": end.to_string(),
        "valuedAt": statement.valued_at.to_string(),
        "netAssetValue": {
            "starting": float(statement.starting_value.round_dp(2)),
            "ending": float(statement.ending_value.round_dp(2)),
        },
        "cashReport": cash,
        "trades": trades.iter().map(|trade| trade_json(*seed, trade)).collect::<Vec<_>>(),
        "transfers": transfers,
        "openPositions": positions,
    })
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
