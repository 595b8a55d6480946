//! An account's past: its net liquidation value at the end of each business day, and the
//! money paid in on each, for Portfolio Analyst's performance figures.

use jiff::Timestamp;
use jiff::civil::Date;
use market::calendar::{Market, new_york, new_york_midnight};
use model::{AccountId, Currency, Decimal};

use super::Rates;
use crate::ledger::Book;
use crate::state::State;

/// One business day of an account's history, in its base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayValue {
    /// The New York date.
    pub date: Date,
    /// Net liquidation value at the day's end (or now, for today).
    pub net_liquidation: Decimal,
    /// Money paid in less money taken out since the previous business day ended.
    pub paid_in: Decimal,
}

/// The instant `date` ends in New York.
fn end_of(date: Date) -> Timestamp {
    date.tomorrow().ok().and_then(new_york_midnight).unwrap_or(Timestamp::MAX)
}

/// Whether US shares trade on `date`: Portfolio Analyst's days are business days.
pub fn is_business_day(date: Date) -> bool {
    !Market::UsEquity.hours_on(date).regular.is_empty()
}

impl State {
    /// The account's value at the end of each business day from `from` to the day of `now`
    /// (that day valued at `now`), in `base`; days before the account opened are left out.
    pub fn daily_values(
        &self,
        account: &AccountId,
        base: Currency,
        from: Date,
        now: Timestamp,
    ) -> Vec<DayValue> {
        let Some(opened) = self.accounts.get(account).map(|account| account.opened_at) else {
            return Vec::new();
        };
        let today = now.to_zoned_datetime(new_york()).date();
        let opened_on = opened.to_zoned_datetime(new_york()).date();
        let mut values = Vec::new();
        let mut day = from.max(opened_on);
        // Money paid in before the first day shown belongs to the days before it; the opening
        // balance belongs to the first day.
        let just_before_opening =
            opened.saturating_sub(jiff::SignedDuration::from_nanos(1)).unwrap_or(opened);
        let mut previous_end = match self.last_business_day_before(day) {
            Some(before) if day > opened_on => end_of(before).max(just_before_opening),
            _ => just_before_opening,
        };
        while day <= today {
            if is_business_day(day) || day == today {
                let end = if day == today { now } else { end_of(day) };
                values.push(DayValue {
                    date: day,
                    net_liquidation: self.net_liquidation_at(account, base, end),
                    paid_in: self.paid_in_between(account, base, previous_end, end),
                });
                previous_end = end;
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        values
    }

    /// The business day before `date`.
    pub fn last_business_day_before(&self, date: Date) -> Option<Date> {
        std::iter::successors(date.yesterday().ok(), |day| day.yesterday().ok())
            .take(30)
            .find(|d| is_business_day(*d))
    }

    /// Money paid in less money taken out in `(from, to]`, in `base` at the rates at `to`.
    fn paid_in_between(
        &self,
        account: &AccountId,
        base: Currency,
        from: Timestamp,
        to: Timestamp,
    ) -> Decimal {
        let rates = Rates::new(self, base, to);
        self.ledger
            .entries_since(account, from)
            .filter(|entry| entry.at > from && entry.at <= to)
            .flat_map(|entry| entry.postings.iter())
            .filter(|posting| posting.book == Book::Capital)
            .map(|posting| -rates.convert(posting.currency, posting.amount))
            .sum()
    }
}
