//! When trades settle: US shares one NYSE business day after the trade (T+1, since May 2024),
//! German shares two Xetra business days after it (T+2); coins and currency conversions at
//! once, as IBKR's PAXOS and IDEALPRO conversions show in settled cash straight away.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use market::Catalogue;
use market::calendar::Market;
use model::{AccountId, AssetClass, Currency, Decimal};

use crate::ledger::{Book, Cause};
use crate::state::State;

/// How far back an unsettled trade can lie: T+2 across the longest run of closures.
const SETTLEMENT_HORIZON_DAYS: i64 = 10;

/// The day a trade of shares in `market` made on `trade_date` (in the market's time zone)
/// settles: one business day later in the US, two in Germany.
pub(crate) fn settlement_date(market: Market, trade_date: Date) -> Date {
    let cycle = if market == Market::Xetra { 2 } else { 1 };
    let mut day = trade_date;
    for _ in 0..cycle {
        loop {
            day = day.tomorrow().unwrap_or(day);
            if !market.hours_on(day).regular.is_empty() || day == Date::MAX {
                break;
            }
        }
    }
    day
}

impl State {
    /// Per currency, the cash that trades made up to `at` moved but have not yet settled.
    pub(super) fn unsettled_cash(&self, account: &AccountId, at: Timestamp) -> BTreeMap<Currency, Decimal> {
        let horizon =
            at.saturating_sub(SignedDuration::from_hours(24 * SETTLEMENT_HORIZON_DAYS)).unwrap_or(at);
        let mut unsettled = BTreeMap::new();
        for entry in self.ledger.entries_since(account, horizon).filter(|entry| entry.at <= at) {
            let Cause::Execution { execution } = entry.cause else { continue };
            let Some(fill) = self.execution(execution) else { continue };
            let Some(instrument) = Catalogue::standard().get(fill.conid) else { continue };
            if instrument.asset_class != AssetClass::Stock {
                continue;
            }
            let market = Market::of(instrument);
            let zone = TimeZone::get(market.timezone()).unwrap_or(TimeZone::UTC);
            let today = at.to_zoned_datetime(zone.clone()).date();
            if settlement_date(market, entry.at.to_zoned_datetime(zone).date()) <= today {
                continue;
            }
            for posting in entry.postings.iter().filter(|posting| posting.book == Book::Cash) {
                *unsettled.entry(posting.currency).or_default() += posting.amount;
            }
        }
        unsettled
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn shares_settle_the_next_business_day() {
        let us = Market::UsEquity;
        assert_eq!(settlement_date(us, date(2026, 3, 3)), date(2026, 3, 4), "Tuesday to Wednesday");
        assert_eq!(settlement_date(us, date(2026, 3, 6)), date(2026, 3, 9), "Friday to Monday");
        assert_eq!(settlement_date(us, date(2026, 4, 2)), date(2026, 4, 6), "across Good Friday");
    }

    #[test]
    fn german_shares_settle_two_xetra_business_days_later() {
        let xetra = Market::Xetra;
        assert_eq!(settlement_date(xetra, date(2026, 3, 3)), date(2026, 3, 5));
        assert_eq!(
            settlement_date(xetra, date(2026, 4, 2)),
            date(2026, 4, 8),
            "Good Friday and Easter Monday"
        );
    }
}
