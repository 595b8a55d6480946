//! Income: the dividends paid in a period, and the interest accrued and paid, read from the
//! ledger's dividend payments and its interest-accrued book.

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use model::{Currency, Decimal, Instrument};

use super::activity::Activity;
use crate::ledger::{Book, Cause};

/// A dividend paid into the account's cash (or, short, out of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DividendPaid {
    /// When, in market time.
    pub at: Timestamp,
    /// The shares.
    pub instrument: &'static Instrument,
    /// The cash's currency.
    pub currency: Currency,
    /// Paid in (positive) or out.
    pub amount: Decimal,
}

/// A currency's interest accrued and not yet paid over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestAccrual {
    /// The currency.
    pub currency: Currency,
    /// Accrued and unpaid at the period's start: owed to the account (positive) or by it.
    pub starting: Decimal,
    /// Accrued in the period.
    pub accrued: Decimal,
    /// Taken back out of the accruals by the payments of the period.
    pub reversed: Decimal,
    /// Accrued and unpaid at the period's end.
    pub ending: Decimal,
}

impl Activity<'_> {
    /// The dividends paid in the period, in order.
    pub fn dividends(&self) -> Vec<DividendPaid> {
        let statement = &self.statement;
        let entries = self.state.ledger.entries(&statement.account);
        let in_period = entries.filter(|entry| entry.at >= statement.from && entry.at < statement.to);
        in_period
            .filter_map(|entry| {
                let Cause::DividendPayment { conid } = entry.cause else { return None };
                let instrument = Catalogue::standard().get(conid)?;
                let cash = entry.postings.iter().find(|posting| posting.book == Book::Cash)?;
                Some(DividendPaid { at: entry.at, instrument, currency: cash.currency, amount: cash.amount })
            })
            .collect()
    }

    /// Each currency's interest accrued and not yet paid, in the order of the currencies.
    pub fn interest_accruals(&self) -> Vec<InterestAccrual> {
        let statement = &self.statement;
        let mut balances: BTreeMap<Currency, [Decimal; 3]> = BTreeMap::new();
        let entries = self.state.ledger.entries(&statement.account);
        for entry in entries.filter(|entry| entry.at < statement.to) {
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::InterestAccrued) {
                let [starting, accrued, reversed] = balances.entry(posting.currency).or_default();
                match entry.cause {
                    _ if entry.at < statement.from => *starting += posting.amount,
                    Cause::InterestPayment => *reversed += posting.amount,
                    _ => *accrued += posting.amount,
                }
            }
        }
        balances
            .into_iter()
            .map(|(currency, [starting, accrued, reversed])| InterestAccrual {
                currency,
                starting,
                accrued,
                reversed,
                ending: starting + accrued + reversed,
            })
            .collect()
    }

    /// How much `book` (dividends receivable, interest accrued) changed over the period, in
    /// the base currency's postings: part of the net asset value that is no cash flow yet.
    pub(super) fn accrual_change(&self, book: Book) -> Decimal {
        let statement = &self.statement;
        let entries = self.state.ledger.entries(&statement.account);
        let in_period = entries.filter(|entry| entry.at >= statement.from && entry.at <= statement.valued_at);
        in_period
            .flat_map(|entry| entry.postings.iter())
            .filter(|posting| posting.book == book && posting.currency == statement.base_currency)
            .map(|posting| posting.amount)
            .sum()
    }
}
