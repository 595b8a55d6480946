//! When trades settle: US shares one NYSE business day after the trade (T+1, since May 2024);
//! coins and currency conversions at once, as IBKR's PAXOS and IDEALPRO conversions show in
//! settled cash straight away.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use market::Catalogue;
use market::calendar::{Market, NEW_YORK};
use model::{AccountId, AssetClass, Currency, Decimal};

use crate::ledger::{Book, Cause};
use crate::state::State;

/// How far back an unsettled trade can lie: T+1 across the longest run of NYSE closures.
const SETTLEMENT_HORIZON_DAYS: i64 = 10;

/// The day a US share trade made on `trade_date` settles: the next NYSE business day.
pub fn settlement_date(trade_date: Date) -> Date {
    let mut day = trade_date;
    loop {
        day = day.tomorrow().unwrap_or(day);
        if !Market::UsEquity.hours_on(day).regular.is_empty() || day == Date::MAX {
            return day;
        }
    }
}

impl State {
    /// Per currency, the cash that trades made up to `at` moved but have not yet settled.
    pub(super) fn unsettled_cash(&self, account: &AccountId, at: Timestamp) -> BTreeMap<Currency, Decimal> {
        let new_york = TimeZone::get(NEW_YORK).unwrap_or(TimeZone::UTC);
        let today = at.to_zoned_datetime(new_york.clone()).date();
        let horizon =
            at.saturating_sub(SignedDuration::from_hours(24 * SETTLEMENT_HORIZON_DAYS)).unwrap_or(at);
        let mut unsettled = BTreeMap::new();
        for entry in self.ledger.entries_since(account, horizon).filter(|entry| entry.at <= at) {
            let Cause::Execution { execution } = entry.cause else { continue };
            let Some(fill) = self.execution(execution) else { continue };
            let is_share =
                Catalogue::standard().get(fill.conid).is_some_and(|i| i.asset_class == AssetClass::Stock);
            if !is_share || settlement_date(entry.at.to_zoned_datetime(new_york.clone()).date()) <= today {
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
        assert_eq!(settlement_date(date(2026, 3, 3)), date(2026, 3, 4), "Tuesday to Wednesday");
        assert_eq!(settlement_date(date(2026, 3, 6)), date(2026, 3, 9), "Friday to Monday");
        assert_eq!(settlement_date(date(2026, 4, 2)), date(2026, 4, 6), "across Good Friday");
    }
}
