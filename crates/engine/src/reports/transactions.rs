//! Portfolio Analyst's transactions: accounts' trades in some instruments over the last days,
//! each with the gain or loss it realized, converted into one currency at the rate of its
//! instant.

use std::collections::BTreeMap;

use jiff::{Timestamp, ToSpan};
use market::Catalogue;
use market::calendar::new_york;
use model::{AccountId, Conid, Currency, Decimal, ExecutionId, Instrument};

use crate::ledger::{Book, Cause};
use crate::orders::Execution;
use crate::portfolio::Rates;
use crate::state::State;

/// The trades of a period and what they realized.
#[derive(Debug, Clone, PartialEq)]
pub struct Transactions<'a> {
    /// The period's first instant: the start of its first New York day.
    pub from: Timestamp,
    /// The trades, account by account, each account's in order.
    pub trades: Vec<AnalystTrade<'a>>,
    /// What the trades realized, in the report's currency.
    pub realized: Decimal,
}

/// One trade.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalystTrade<'a> {
    /// Whose.
    pub account: &'a AccountId,
    /// The execution.
    pub execution: &'a Execution,
    /// Its instrument.
    pub instrument: &'static Instrument,
    /// Units of the report's currency per unit of the instrument's, when it traded.
    pub fx_rate: Decimal,
    /// Shares or units bought (positive) or sold.
    pub quantity: Decimal,
    /// Cash it moved before commission, in the instrument's currency: negative for a
    /// purchase.
    pub amount: Decimal,
    /// The gain (positive) or loss it realized, in the instrument's currency.
    pub realized: Decimal,
}

impl State {
    /// The trades of `accounts` in `conids` over the `days` before market time `now`'s New
    /// York day and that day, converted into `currency`.
    pub fn transactions<'a>(
        &'a self,
        accounts: &'a [AccountId],
        conids: &[Conid],
        currency: Currency,
        days: u64,
        now: Timestamp,
    ) -> Transactions<'a> {
        let zone = new_york();
        let today = now.to_zoned_datetime(zone.clone()).date();
        let first = today.checked_sub(i64::try_from(days).unwrap_or(90).days()).unwrap_or(today);
        let from = first.to_zoned_datetime(zone).map_or(now, |day| day.timestamp());
        let mut trades = Vec::new();
        let mut realized = Decimal::ZERO;
        for account in accounts {
            let gains = self.realized_by_execution(account, from);
            for execution in self.executions(account).filter(|e| e.at >= from && conids.contains(&e.conid)) {
                let Some(instrument) = Catalogue::standard().get(execution.conid) else { continue };
                let fx_rate = Rates::new(self, currency, execution.at).rate(instrument.currency);
                let quantity = execution.side.sign() * execution.quantity;
                let gain = gains.get(&execution.id).copied().unwrap_or_default();
                if !gain.is_zero() {
                    realized += gain * fx_rate;
                }
                trades.push(AnalystTrade {
                    account,
                    execution,
                    instrument,
                    fx_rate,
                    quantity,
                    amount: -quantity * execution.price,
                    realized: gain,
                });
            }
        }
        Transactions { from, trades, realized }
    }

    /// What each of `account`'s executions since `since` realized, by the ledger.
    fn realized_by_execution(&self, account: &AccountId, since: Timestamp) -> BTreeMap<ExecutionId, Decimal> {
        self.ledger
            .entries_since(account, since)
            .filter_map(|entry| match entry.cause {
                Cause::Execution { execution } => {
                    let gain =
                        entry.postings.iter().filter(|p| p.book == Book::RealizedPnl).map(|p| -p.amount);
                    Some((execution, gain.sum()))
                }
                _ => None,
            })
            .collect()
    }
}
