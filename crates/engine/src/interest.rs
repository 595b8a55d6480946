//! Interest on cash: accrued every day on the simulated clock, paid into cash monthly, as IBKR
//! does.
//!
//! When a New York day begins, each account accrues a day's interest on the cash it holds in
//! each currency: on a negative balance it pays the currency's benchmark rate plus 1.5%; on a
//! positive balance above the equivalent of 10,000 US dollars it earns the benchmark less
//! 0.5% (never less than zero) on the part above. Rates are annual, on a 360-day year, each
//! day's accrual rounded to the cent. When a month begins, the month's accruals are paid into
//! (or out of) cash. The benchmarks are the world's; a currency without one accrues nothing.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use market::calendar::{new_york, new_york_midnight};
use model::{AccountId, Currency, Decimal};
use serde::{Deserialize, Serialize};

use crate::ledger::{Book, Cause, Entry, Posting};
use crate::portfolio::Rates;
use crate::{Engine, EngineError, Event};

/// What a debit balance pays above the benchmark: 1.5%.
const DEBIT_SPREAD: Decimal = Decimal::from_parts(15, 0, 0, false, 3);

/// What a credit balance earns below the benchmark: 0.5%.
const CREDIT_SPREAD: Decimal = Decimal::from_parts(5, 0, 0, false, 3);

/// The credit balance, in US dollars, that earns nothing.
const CREDIT_THRESHOLD_USD: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Days in an interest year.
const DAYS_IN_YEAR: Decimal = Decimal::from_parts(360, 0, 0, false, 0);

/// The interest rates of a world: each currency's annual benchmark, as a fraction (0.0433 for
/// 4.33%).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestRates {
    /// Benchmark rate per currency.
    pub benchmarks: BTreeMap<Currency, Decimal>,
}

/// Where interest accrual stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accrual {
    /// The rates.
    pub rates: InterestRates,
    /// The last New York day interest was accrued for.
    pub through: Option<Date>,
}

fn start_of(date: Date) -> Timestamp {
    new_york_midnight(date).unwrap_or(Timestamp::MAX)
}

impl Accrual {
    /// Accrual starting with the day the world was created on.
    pub fn new(rates: InterestRates, created_at: Timestamp) -> Self {
        let day = created_at.to_zoned_datetime(new_york()).date();
        Self { rates, through: day.yesterday().ok() }
    }

    /// When the next day's interest is due: when the day after the last accrued one ends.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        if self.rates.benchmarks.is_empty() {
            return None;
        }
        let day = self.through?.tomorrow().ok()?;
        Some(start_of(day.tomorrow().ok()?))
    }

    /// The annual rate a balance of `balance` in `currency` pays (negative) or earns, on the
    /// part of it that bears interest, and that part.
    fn rate_on(
        &self,
        currency: Currency,
        balance: Decimal,
        threshold: Decimal,
    ) -> Option<(Decimal, Decimal)> {
        let benchmark = *self.rates.benchmarks.get(&currency)?;
        if balance < Decimal::ZERO {
            Some((benchmark + DEBIT_SPREAD, balance))
        } else if balance > threshold {
            Some(((benchmark - CREDIT_SPREAD).max(Decimal::ZERO), balance - threshold))
        } else {
            None
        }
    }
}

impl Engine {
    /// Accrues the interest of the day that ended at `at`, and pays the month's accruals when
    /// a month begins.
    pub(crate) fn run_interest(&mut self, at: Timestamp, events: &mut Vec<Event>) -> Result<(), EngineError> {
        let Some(day) = self.state.accrual.through.and_then(|day| day.tomorrow().ok()) else { return Ok(()) };
        let accounts: Vec<AccountId> = self.state.accounts.keys().cloned().collect();
        for account in &accounts {
            self.accrue_day(account, day, at, events)?;
        }
        self.state.accrual.through = Some(day);
        if day.tomorrow().is_ok_and(|next| next.day() == 1) {
            for account in &accounts {
                self.pay_interest(account, at, events)?;
            }
        }
        Ok(())
    }

    fn accrue_day(
        &mut self,
        account: &AccountId,
        day: Date,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let balances: Vec<(Currency, Decimal)> = self.state.ledger.cash(account).collect();
        let mut postings = Vec::new();
        for (currency, balance) in balances {
            let threshold =
                Rates::new(&self.state, currency, at).convert(Currency::USD, CREDIT_THRESHOLD_USD);
            let Some((rate, bearing)) = self.state.accrual.rate_on(currency, balance, threshold) else {
                continue;
            };
            let amount = (bearing * rate / DAYS_IN_YEAR).round_dp(2);
            if amount.is_zero() {
                continue;
            }
            postings.push(Posting::new(Book::InterestAccrued, currency, amount));
            postings.push(Posting::new(Book::Interest, currency, -amount));
            events.push(Event::InterestAccrued { account: account.clone(), currency, amount });
        }
        if postings.is_empty() {
            return Ok(());
        }
        let entry = Entry { account: account.clone(), at, cause: Cause::InterestAccrual { day }, postings };
        self.state.ledger.post(entry)?;
        Ok(())
    }

    fn pay_interest(
        &mut self,
        account: &AccountId,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let accrued: Vec<(Currency, Decimal)> = self
            .state
            .ledger
            .balances(account, Book::InterestAccrued)
            .filter(|(_, amount)| !amount.is_zero())
            .collect();
        if accrued.is_empty() {
            return Ok(());
        }
        let postings = accrued
            .iter()
            .flat_map(|&(currency, amount)| {
                [
                    Posting::new(Book::Cash, currency, amount),
                    Posting::new(Book::InterestAccrued, currency, -amount),
                ]
            })
            .collect();
        self.state.ledger.post(Entry {
            account: account.clone(),
            at,
            cause: Cause::InterestPayment,
            postings,
        })?;
        for (currency, amount) in accrued {
            events.push(Event::InterestPaid { account: account.clone(), currency, amount });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::testing::{Broker, d, new_york};

    fn usd_at(rate: &str) -> InterestRates {
        InterestRates { benchmarks: BTreeMap::from([(Currency::USD, d(rate))]) }
    }

    fn balance(broker: &Broker, account: &str, book: Book) -> Decimal {
        broker.engine.state().ledger().balance(&account.parse().unwrap(), book, Currency::USD)
    }

    #[test]
    fn credit_interest_accrues_nightly_above_the_threshold_and_is_paid_monthly() {
        let mut broker = Broker::with_interest("2026-03-30T11:00", usd_at("0.04"));
        broker.apply(Command::SetClock { to: new_york("2026-03-31T12:00") }).unwrap();
        // One night, on the 990,000 above 10,000, at 4% less 0.5%, a 360-day year.
        let night = (d("990000") * d("0.035") / d("360")).round_dp(2);
        assert_eq!(balance(&broker, "DU1234567", Book::InterestAccrued), night);
        let small = (d("90000") * d("0.035") / d("360")).round_dp(2);
        assert_eq!(balance(&broker, "DU7654321", Book::InterestAccrued), small);
        broker.apply(Command::SetClock { to: new_york("2026-04-01T00:00") }).unwrap();
        assert_eq!(
            balance(&broker, "DU1234567", Book::InterestAccrued),
            Decimal::ZERO,
            "paid when April begins"
        );
        assert_eq!(balance(&broker, "DU1234567", Book::Cash), d("1000000") + night + night);
        assert_eq!(balance(&broker, "DU1234567", Book::Interest), -(night + night), "income is a credit");
        assert!(broker.engine.state().ledger().is_balanced());
    }

    #[test]
    fn a_debit_balance_pays_the_benchmark_plus_the_spread() {
        let mut broker = Broker::with_interest("2026-03-03T11:00", usd_at("0.04"));
        let withdraw = Command::Withdraw {
            account: "DU1234567".parse().unwrap(),
            currency: Currency::USD,
            amount: d("1"),
        };
        broker.apply(withdraw).unwrap();
        let buy = crate::testing::ticket(model::Side::Buy, 6000, model::OrderType::Market);
        broker.place("DU1234567", vec![buy]).unwrap();
        let cash = balance(&broker, "DU1234567", Book::Cash);
        assert!(cash < Decimal::ZERO, "borrowing: {cash}");
        broker.apply(Command::SetClock { to: new_york("2026-03-04T00:00") }).unwrap();
        let night = (cash * d("0.055") / d("360")).round_dp(2);
        assert_eq!(balance(&broker, "DU1234567", Book::InterestAccrued), night);
    }

    #[test]
    fn without_benchmarks_nothing_accrues() {
        let mut broker = Broker::at("2026-03-03T11:00");
        broker.apply(Command::SetClock { to: new_york("2026-04-03T00:00") }).unwrap();
        assert_eq!(balance(&broker, "DU1234567", Book::Interest), Decimal::ZERO);
        assert_eq!(broker.engine.state().accrual.next_due(), None);
    }
}
