//! The sections with a row per trade (`Trades`, `UnbundledCommissionDetails`,
//! `TradeConfirms`): written a few thousand executions at a time, as they are read.

use std::ops::Range;

use engine::statement::Trade;
use market::Catalogue;
use market::calendar::new_york_date;
use model::{AccountId, Side};

use super::{Context, number};
use crate::flex::output::{Attributes, Streamed};
use crate::trading::contracts::asset_class_type;
use crate::trading::orders::views::execution_id;

/// The sections with a row per trade.
#[derive(Debug, Clone, Copy)]
pub(super) enum TradeSection {
    Trades,
    Commissions,
    Confirms,
}

/// A trade-long section being written: the executions of its span yet to read.
#[derive(Debug)]
pub(super) struct TradeRun {
    pub(super) section: TradeSection,
    pub(super) account: AccountId,
    pub(super) left: Range<usize>,
    pub(super) streamed: Streamed,
}

impl TradeRun {
    pub(super) fn new(section: TradeSection, account: &AccountId, span: Range<usize>) -> Self {
        let (container, name) = match section {
            TradeSection::Trades => ("Trades", "Trade"),
            TradeSection::Commissions => ("UnbundledCommissionDetails", "UnbundledCommissionDetail"),
            TradeSection::Confirms => ("TradeConfirms", "TradeConfirm"),
        };
        Self { section, account: account.clone(), left: span, streamed: Streamed::new(container, name) }
    }
}

impl Context<'_> {
    /// A trade's row in `section`.
    pub(super) fn trade_row(&self, section: TradeSection, account: &AccountId, trade: &Trade) -> Attributes {
        match section {
            TradeSection::Trades => self.trade(account, trade),
            TradeSection::Commissions => self.commission_detail(account, trade),
            TradeSection::Confirms => confirmation(self.trade(account, trade)),
        }
    }

    /// A trade's commission: LocalBroker charges it whole, as the broker's execution charge.
    fn commission_detail(&self, account: &AccountId, trade: &Trade) -> Attributes {
        let instrument = Catalogue::standard().get(trade.conid);
        let paid = number(-trade.commission);
        vec![
            ("buySell", if trade.side == Side::Buy { "BUY" } else { "SELL" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| asset_class_type(instrument.asset_class)).to_owned(),
            ),
            ("accountId", account.to_string()),
            ("currency", trade.commission_currency.to_string()),
            ("symbol", trade.symbol.clone()),
            ("conid", trade.conid.to_string()),
            ("dateTime", self.date_time(trade.at)),
            ("quantity", number(trade.side.sign() * trade.quantity)),
            ("price", number(trade.price)),
            ("tradeID", trade.execution.get().to_string()),
            ("totalCommission", paid.clone()),
            ("brokerExecutionCharge", paid),
            ("brokerClearingCharge", "0".to_owned()),
            ("thirdPartyExecutionCharge", "0".to_owned()),
            ("thirdPartyClearingCharge", "0".to_owned()),
            ("thirdPartyRegulatoryCharge", "0".to_owned()),
            ("other", "0".to_owned()),
        ]
    }

    fn trade(&self, account: &AccountId, trade: &Trade) -> Attributes {
        let instrument = Catalogue::standard().get(trade.conid);
        let signed = trade.side.sign() * trade.quantity;
        let day = self.date(new_york_date(trade.at));
        vec![
            ("transactionType", "ExchTrade".to_owned()),
            ("openCloseIndicator", "-".to_owned()),
            ("buySell", if trade.side == Side::Buy { "BUY" } else { "SELL" }.to_owned()),
            (
                "assetCategory",
                instrument.map_or("STK", |instrument| asset_class_type(instrument.asset_class)).to_owned(),
            ),
            ("accountId", account.to_string()),
            ("currency", trade.currency.to_string()),
            ("symbol", trade.symbol.clone()),
            ("conid", trade.conid.to_string()),
            ("description", instrument.map(|instrument| instrument.name.clone()).unwrap_or_default()),
            (
                "listingExchange",
                instrument.map(|instrument| instrument.listing_exchange.clone()).unwrap_or_default(),
            ),
            ("multiplier", "1".to_owned()),
            ("tradeID", trade.execution.get().to_string()),
            ("reportDate", day.clone()),
            ("tradeDate", day),
            ("dateTime", self.date_time(trade.at)),
            ("quantity", number(signed)),
            ("tradePrice", number(trade.price)),
            ("tradeMoney", number(signed * trade.price)),
            ("proceeds", number(trade.proceeds)),
            ("netCash", number(trade.proceeds + trade.commission)),
            ("ibCommission", number(trade.commission)),
            ("ibCommissionCurrency", trade.commission_currency.to_string()),
            ("levelOfDetail", "EXECUTION".to_owned()),
            ("ibOrderID", trade.order.to_string()),
            ("ibExecID", execution_id(self.state.seed(), trade.execution)),
        ]
    }
}

/// A `Trade`'s attributes as a `TradeConfirm`'s: the ones IBKR's confirmations carry.
fn confirmation(trade: Attributes) -> Attributes {
    const CONFIRMED: [&str; 20] = [
        "transactionType",
        "buySell",
        "assetCategory",
        "accountId",
        "currency",
        "symbol",
        "description",
        "conid",
        "multiplier",
        "tradeID",
        "reportDate",
        "tradeDate",
        "quantity",
        "tradePrice",
        "tradeMoney",
        "proceeds",
        "netCash",
        "ibCommission",
        "ibCommissionCurrency",
        "levelOfDetail",
    ];
    trade.into_iter().filter(|(name, _)| CONFIRMED.contains(name)).collect()
}
