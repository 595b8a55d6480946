//! Portfolio Analyst's performance: accounts' values at the end of each business day, added up
//! in one currency, and their time-weighted returns over IBKR's standard periods.
//!
//! A day's value is the accounts' net liquidation value when the New York day ends (today's:
//! now); only US business days are listed. Returns are time-weighted: each day's return is its
//! closing value over the previous close plus the money paid in that day, less one, so
//! deposits and withdrawals are not returns.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use market::calendar::{new_york, new_york_midnight};
use model::{AccountId, Currency, Decimal};

use crate::portfolio::Rates;
use crate::portfolio::history::DayValue;
use crate::state::{Account, State};

/// A period Portfolio Analyst reports on, ending today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Today.
    OneDay,
    /// Today and the six days before.
    SevenDays,
    /// Since the first of this month.
    MonthToDate,
    /// Since this day a month ago.
    OneMonth,
    /// Since this day three months ago.
    ThreeMonths,
    /// Since this day six months ago.
    SixMonths,
    /// Since the first of January.
    YearToDate,
    /// Since this day a year ago.
    TwelveMonths,
}

impl Period {
    /// The period's first day, when it ends `today`.
    pub fn start(self, today: Date) -> Date {
        let months = |n: i32| today.checked_sub(n.months()).unwrap_or(today);
        match self {
            Self::OneDay => today,
            Self::SevenDays => today.checked_sub(6.days()).unwrap_or(today),
            Self::MonthToDate => today.first_of_month(),
            Self::OneMonth => months(1),
            Self::ThreeMonths => months(3),
            Self::SixMonths => months(6),
            Self::YearToDate => today.first_of_year(),
            Self::TwelveMonths => months(12),
        }
    }
}

/// Accounts' history back to the first day of the longest period asked, their values added up
/// in the first account's base currency at today's rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performance {
    /// The currency the values are in.
    pub base: Currency,
    /// The market instant it was read at.
    pub at: Timestamp,
    /// The New York date then.
    pub today: Date,
    /// The day the first of the accounts opened.
    pub opened: Date,
    /// Values of every business day of the longest period, summed over the accounts.
    days: Vec<DayValue>,
    /// The value before the first of `days`, and that day.
    before: StartValue,
}

/// The value a period's returns start from: the close of the business day before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartValue {
    /// That day.
    pub date: Date,
    /// The accounts' value when it ended; 0 before they opened.
    pub value: Decimal,
}

/// The accounts' history over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The period's first day, not before the accounts opened.
    pub start: Date,
    /// The value its returns start from.
    pub start_value: StartValue,
    /// Its business days' values and money paid in, today's last.
    pub days: Vec<DayValue>,
}

/// The time-weighted return of a calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyReturn {
    /// The month's first day.
    pub month: Date,
    /// Growth over the month's days of the series, less one.
    pub value: Decimal,
}

impl State {
    /// The history of `accounts` back to the first day of the longest of `periods`, read at
    /// market time `now`, consolidated: their values added up in the first one's base
    /// currency. `None` when no account is given or one is unknown.
    pub fn performance(
        &self,
        accounts: &[AccountId],
        periods: &[Period],
        now: Timestamp,
    ) -> Option<Performance> {
        let accounts: Vec<&Account> = accounts.iter().map(|id| self.account(id)).collect::<Option<_>>()?;
        let base = accounts.first()?.base_currency;
        let today = now.to_zoned_datetime(new_york()).date();
        let opened = accounts.iter().map(|account| account.opened_at).min().unwrap_or(now);
        let opened = opened.to_zoned_datetime(new_york()).date();
        let start = periods.iter().map(|period| period.start(today)).min().unwrap_or(today);
        let before_date = self.last_business_day_before(start).unwrap_or(start);
        let mut days: Vec<DayValue> = Vec::new();
        let mut before = Decimal::ZERO;
        for account in &accounts {
            let rate = Rates::new(self, base, now).rate(account.base_currency);
            for day in self.daily_values(&account.id, account.base_currency, start, now) {
                let day = DayValue {
                    net_liquidation: day.net_liquidation * rate,
                    paid_in: day.paid_in * rate,
                    ..day
                };
                match days.iter_mut().find(|kept| kept.date == day.date) {
                    Some(kept) => {
                        kept.net_liquidation += day.net_liquidation;
                        kept.paid_in += day.paid_in;
                    }
                    None => days.push(day),
                }
            }
            before += self.closing_value(account, before_date).map_or(Decimal::ZERO, |value| value * rate);
        }
        days.sort_by_key(|day| day.date);
        let before = StartValue { date: before_date, value: before };
        Some(Performance { base, at: now, today, opened, days, before })
    }

    /// An account's value in its base currency when `date` ended; none before it opened.
    fn closing_value(&self, account: &Account, date: Date) -> Option<Decimal> {
        let end = date.tomorrow().ok().and_then(new_york_midnight)?;
        (end > account.opened_at).then(|| self.net_liquidation_at(&account.id, account.base_currency, end))
    }
}

impl Performance {
    /// The history over `period`, one of those it was read for.
    pub fn series(&self, period: Period) -> Series {
        let start = period.start(self.today).max(self.opened);
        let days: Vec<DayValue> = self.days.iter().filter(|day| day.date >= start).cloned().collect();
        let start_value = match self.days.iter().rev().find(|day| day.date < start) {
            Some(day) => StartValue { date: day.date, value: day.net_liquidation },
            None => self.before,
        };
        Series { start, start_value, days }
    }
}

impl Series {
    /// The cumulative time-weighted return at the end of each day: growth since the start,
    /// less one.
    pub fn cumulative_returns(&self) -> Vec<Decimal> {
        let mut previous = self.start_value.value;
        let mut growth = Decimal::ONE;
        self.days
            .iter()
            .map(|day| {
                let base = previous + day.paid_in;
                if !base.is_zero() {
                    growth *= day.net_liquidation / base;
                }
                previous = day.net_liquidation;
                growth - Decimal::ONE
            })
            .collect()
    }

    /// The time-weighted return of each calendar month the series' days fall in, in order.
    pub fn monthly_returns(&self) -> Vec<MonthlyReturn> {
        let mut months: Vec<(Date, Decimal)> = Vec::new();
        let mut previous = self.start_value.value;
        for day in &self.days {
            let base = previous + day.paid_in;
            let factor = if base.is_zero() { Decimal::ONE } else { day.net_liquidation / base };
            previous = day.net_liquidation;
            let month = day.date.first_of_month();
            match months.last_mut() {
                Some((last, growth)) if *last == month => *growth *= factor,
                _ => months.push((month, factor)),
            }
        }
        months
            .into_iter()
            .map(|(month, growth)| MonthlyReturn { month, value: growth - Decimal::ONE })
            .collect()
    }
}
