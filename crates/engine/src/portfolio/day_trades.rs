//! The pattern day trader rule: a margin account with less than 25,000 dollars of equity may
//! make three day trades (buying and selling the same shares on one day) in any five business
//! days.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use market::Catalogue;
use market::calendar::{Market, new_york};
use model::{AccountId, Conid, Currency, Decimal, MarginKind, Side};

use super::{Portfolio, Rates};
use crate::state::State;

/// Equity at or above which the rule does not apply.
const PATTERN_DAY_TRADER_EQUITY: Decimal = Decimal::from_parts(25_000, 0, 0, false, 0);

/// Day trades allowed in five business days.
const DAY_TRADES_ALLOWED: usize = 3;

/// The business days a day trade counts for.
const WINDOW: usize = 5;

/// The NYSE business days before `day`, newest first.
fn business_days_before(day: Date) -> impl Iterator<Item = Date> {
    std::iter::successors(day.yesterday().ok(), |day| day.yesterday().ok())
        .filter(|day| !Market::UsEquity.hours_on(*day).regular.is_empty())
}

/// The NYSE business days from `day` on, `day` first if it is one.
fn business_days_from(day: Date) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(day), |day| day.tomorrow().ok())
        .filter(|day| !Market::UsEquity.hours_on(*day).regular.is_empty())
}

impl State {
    /// Day trades left today and on each of the next four business days, or `None` when the
    /// rule does not apply to the account (a cash account, or equity of 25,000 or more).
    pub fn day_trades_left(&self, portfolio: &Portfolio) -> Option<[usize; WINDOW]> {
        let threshold =
            Rates::new(self, portfolio.base, portfolio.at).convert(Currency::USD, PATTERN_DAY_TRADER_EQUITY);
        let exempt = portfolio.margin == MarginKind::Cash || portfolio.equity_with_loan() >= threshold;
        if exempt {
            return None;
        }
        let new_york = new_york();
        let today = portfolio.at.to_zoned_datetime(new_york.clone()).date();
        let first = business_days_before(today).nth(WINDOW - 2).unwrap_or(today);
        let trades = self.day_trades(&portfolio.account, first, &new_york);
        let mut left = [0; WINDOW];
        for (slot, day) in left.iter_mut().zip(business_days_from(today)) {
            let since = business_days_before(day).nth(WINDOW - 2).unwrap_or(day);
            let counted = trades.iter().filter(|(date, _)| *date >= since && *date <= day).count();
            *slot = DAY_TRADES_ALLOWED.saturating_sub(counted);
        }
        Some(left)
    }

    /// The days from `first` on on which the account bought and sold the same shares, and
    /// which shares.
    fn day_trades(&self, account: &AccountId, first: Date, zone: &TimeZone) -> BTreeSet<(Date, Conid)> {
        let since = first.to_zoned_datetime(zone.clone()).map_or(Timestamp::MIN, |day| day.timestamp());
        let mut bought = BTreeSet::new();
        let mut sold = BTreeSet::new();
        for execution in self.executions.iter().rev().take_while(|execution| execution.at >= since) {
            // The rule is FINRA's: it counts US shares only.
            let is_share = Catalogue::standard()
                .get(execution.conid)
                .is_some_and(|instrument| Market::of(instrument) == Market::UsEquity);
            if &execution.account != account || !is_share {
                continue;
            }
            let key = (execution.at.to_zoned_datetime(zone.clone()).date(), execution.conid);
            match execution.side {
                Side::Buy => bought.insert(key),
                Side::Sell => sold.insert(key),
            };
        }
        bought.intersection(&sold).copied().collect()
    }
}
