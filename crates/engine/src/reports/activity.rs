//! An activity statement over New York days, as Flex writes it: the [`Statement`] of the
//! period, what the account held at each instant its sections value it at, and the figures of
//! the sections that value holdings: the equity summary, currency positions and conversion
//! rates. The other sections' figures are in [`super::mark_to_market`], [`super::income`],
//! [`super::nav`] and [`super::splits`].

use std::collections::BTreeMap;
use std::ops::Range;

use jiff::Timestamp;
use jiff::civil::Date;
use market::calendar::{new_york_date, new_york_midnight};
use model::{AccountId, Currency, Decimal};

use crate::portfolio::Rates;
use crate::portfolio::history::Holdings;
use crate::state::State;
use crate::statement::Statement;

/// A New York day a statement reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportDay {
    /// The date.
    pub date: Date,
    /// Its first instant.
    pub start: Timestamp,
    /// The instant it is valued at: its end, or now if it has not ended.
    pub at: Timestamp,
}

/// An account's activity over the New York days of a period, read at one market instant.
#[derive(Debug)]
pub struct Activity<'a> {
    pub(super) state: &'a State,
    /// Cash, transfers and positions over the period.
    pub statement: Statement,
    /// The days it reports on, from the account's opening.
    pub days: Vec<ReportDay>,
    /// Where the period's executions lie among every account's
    /// (`State::execution_span`): a statement reads its trades a part of this at a time.
    pub executions: Range<usize>,
    /// The period's start, no later than now.
    pub(super) start: Timestamp,
    /// The instant the period is valued at.
    pub(super) end: Timestamp,
    /// What the account held at each instant the statement values it at.
    held: BTreeMap<Timestamp, Holdings>,
}

/// Each day's cash, holdings and net asset value, in the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityDay {
    /// The day.
    pub date: Date,
    /// Cash, dividends receivable and interest accrued.
    pub cash: Decimal,
    /// Holdings at the day's prices.
    pub stock: Decimal,
    /// Both.
    pub total: Decimal,
}

/// A foreign currency's cash at the period's end, as IBKR reports a currency position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxLot {
    /// The currency.
    pub currency: Currency,
    /// Cash held in it.
    pub quantity: Decimal,
    /// Units of the base currency per unit of it.
    pub rate: Decimal,
    /// The cash in the base currency.
    pub value: Decimal,
}

/// The rate at the period's end of a currency the statement shows, to the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionRate {
    /// The currency.
    pub currency: Currency,
    /// Units of the base currency per unit of it.
    pub rate: Decimal,
}

impl State {
    /// `account`'s activity over the New York days `from` to `to`, read at market time `now`:
    /// a period that has not ended is valued now, and days before the account opened are
    /// left out. `None` for an unknown account.
    pub fn activity(
        &self,
        account: &AccountId,
        from: Date,
        to: Date,
        now: Timestamp,
    ) -> Option<Activity<'_>> {
        let first = new_york_midnight(from).unwrap_or(now);
        let after = to.tomorrow().ok().and_then(new_york_midnight).unwrap_or(now);
        let days = self.report_days(account, from, to, now);
        let (start, end) = (first.min(now), Statement::valued_at(first, after, now));
        let mut instants = vec![start, end];
        instants.extend(days.iter().flat_map(|day| [day.start, day.at]));
        instants.sort_unstable();
        instants.dedup();
        let (statement, held) = self.statement_and_holdings(account, first, after, now, &instants)?;
        let executions = self.execution_span(statement.from, statement.to);
        let held = instants.into_iter().zip(held).collect();
        Some(Activity { state: self, statement, days, executions, start, end, held })
    }

    /// The New York days from `from` to `to` that have ended or are today, from the account's
    /// opening: days before it hold nothing to report.
    fn report_days(&self, account: &AccountId, from: Date, to: Date, now: Timestamp) -> Vec<ReportDay> {
        let mut days = Vec::new();
        let opened = self.account(account).map(|account| new_york_date(account.opened_at));
        let mut day = opened.map_or(from, |opened| opened.max(from));
        while day <= to {
            let end = day.tomorrow().ok().and_then(new_york_midnight).unwrap_or(now);
            let at = end.min(now);
            let start = new_york_midnight(day).unwrap_or(now);
            if at < start {
                break;
            }
            days.push(ReportDay { date: day, start, at });
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        days
    }
}

impl Activity<'_> {
    /// The holdings at `at`, one of the statement's instants.
    pub(super) fn held(&self, at: Timestamp) -> &Holdings {
        static NOTHING: Holdings = Holdings { quantities: BTreeMap::new(), money: BTreeMap::new() };
        self.held.get(&at).unwrap_or(&NOTHING)
    }

    /// Each reported day's cash, holdings and total, in the base currency at the day's rates.
    pub fn equity_summary(&self) -> Vec<EquityDay> {
        let base = self.statement.base_currency;
        self.days
            .iter()
            .map(|&ReportDay { date, at, .. }| {
                let held = self.held(at);
                let rates = Rates::new(self.state, base, at);
                let cash: Decimal =
                    held.money.iter().map(|(&currency, &amount)| rates.convert(currency, amount)).sum();
                let total = held.value(self.state, base, at);
                EquityDay { date, cash, stock: total - cash, total }
            })
            .collect()
    }

    /// Each foreign currency's cash at the period's end, none of them zero.
    pub fn fx_lots(&self) -> Vec<FxLot> {
        let statement = &self.statement;
        let rates = Rates::new(self.state, statement.base_currency, statement.valued_at);
        statement
            .cash
            .iter()
            .filter(|line| line.currency != statement.base_currency && !line.ending_cash.is_zero())
            .map(|line| {
                let rate = rates.rate(line.currency);
                FxLot {
                    currency: line.currency,
                    quantity: line.ending_cash,
                    rate,
                    value: line.ending_cash * rate,
                }
            })
            .collect()
    }

    /// The rate of each currency of the statement's cash and positions to the base currency
    /// at the period's end, ordered by the currencies' codes.
    pub fn conversion_rates(&self) -> Vec<ConversionRate> {
        let statement = &self.statement;
        let rates = Rates::new(self.state, statement.base_currency, statement.valued_at);
        let mut currencies: Vec<_> = statement.cash.iter().map(|line| line.currency).collect();
        currencies.extend(statement.positions.iter().map(|position| position.currency));
        currencies.sort_unstable_by_key(ToString::to_string);
        currencies.dedup();
        currencies
            .into_iter()
            .map(|currency| ConversionRate { currency, rate: rates.rate(currency) })
            .collect()
    }
}
