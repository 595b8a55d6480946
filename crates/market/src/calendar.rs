//! When each market trades.
//!
//! US equities follow the NYSE calendar: pre-market 04:00–09:30, the regular session
//! 09:30–16:00 and after-hours 16:00–20:00, New York time, on weekdays that are not NYSE
//! holidays; on early-close days the regular session ends at 13:00 and after-hours at 17:00.
//! German shares trade on Xetra from 09:00 to 17:30 Frankfurt time, on weekdays that are not
//! Xetra holidays. Currency pairs trade around the clock from Sunday 17:00 to Friday 17:00
//! New York time; cryptocurrencies around the clock every day, holidays included, in UTC days.
//!
//! Holiday and early-close dates come from the `exchange-hours` crate's NYSE and Xetra tables,
//! which are built from the exchanges' own published calendars; outside the years a table
//! covers, every weekday trades.

use chrono::NaiveDate;
use exchange_hours::{Exchange, ExchangeCalendar, HolidayKind};
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use model::{AssetClass, Instrument};

/// The time zone US stocks and currency pairs keep their hours in.
pub const NEW_YORK: &str = "America/New_York";

/// New York's time zone: US shares' hours, currency days, and the days LocalBroker's accounts
/// keep (daily P&L, interest, dividends, Portfolio Analyst).
pub fn new_york() -> TimeZone {
    TimeZone::get(NEW_YORK).unwrap_or(TimeZone::UTC)
}

/// The New York day instant `at` falls on.
pub fn new_york_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(new_york()).date()
}

/// The instant the New York day `date` begins, if it can be represented.
pub fn new_york_midnight(date: Date) -> Option<Timestamp> {
    date.to_zoned_datetime(new_york()).ok().map(|day| day.timestamp())
}

/// The time zone Xetra keeps its hours in.
pub const FRANKFURT: &str = "Europe/Berlin";

/// The time zone cryptocurrencies keep their days in. A market that never closes would live
/// through the hour clocks skip or repeat in a zone with daylight saving time; UTC has none.
pub const UTC: &str = "UTC";

/// Minutes after local midnight; `1440` is the next midnight.
pub type Minute = u16;

/// One open interval of a day, in local minutes, `open < close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    /// First minute of trading.
    pub open: Minute,
    /// The minute trading stops (exclusive).
    pub close: Minute,
}

/// A calendar day's trading: the liquid (regular) hours inside the extended envelope. Both are
/// empty on a day without trading.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayHours {
    /// Regular trading hours.
    pub regular: Vec<Hours>,
    /// Every hour orders can trade, regular hours included.
    pub extended: Vec<Hours>,
}

impl DayHours {
    /// Whether anything trades that day.
    pub fn is_closed(&self) -> bool {
        self.extended.is_empty()
    }
}

/// A family of instruments sharing one calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    /// US-listed stocks and ETFs.
    UsEquity,
    /// German shares on Xetra (IBKR's `IBIS`).
    Xetra,
    /// Currency pairs on IDEALPRO.
    Forex,
    /// Cryptocurrencies on PAXOS.
    Crypto,
}

const fn hours(open: Minute, close: Minute) -> Hours {
    Hours { open, close }
}

const PRE_MARKET_OPEN: Minute = 4 * 60;
const REGULAR_OPEN: Minute = 9 * 60 + 30;
const REGULAR_CLOSE: Minute = 16 * 60;
const AFTER_HOURS_CLOSE: Minute = 20 * 60;
/// After an early close, after-hours trading lasts until 17:00.
const AFTER_HOURS_AFTER_EARLY_CLOSE: Minute = 4 * 60;
const XETRA_OPEN: Minute = 9 * 60;
const XETRA_CLOSE: Minute = 17 * 60 + 30;
const FX_WEEK_BOUNDARY: Minute = 17 * 60;
const MIDNIGHT: Minute = 24 * 60;

impl Market {
    /// The market an instrument trades in.
    pub fn of(instrument: &Instrument) -> Self {
        match instrument.asset_class {
            AssetClass::Stock if instrument.listing_exchange == XETRA_EXCHANGE => Self::Xetra,
            AssetClass::Stock => Self::UsEquity,
            AssetClass::Forex => Self::Forex,
            AssetClass::Crypto => Self::Crypto,
        }
    }

    /// The IANA time zone of the market's hours.
    pub fn timezone(self) -> &'static str {
        match self {
            Self::UsEquity | Self::Forex => NEW_YORK,
            Self::Xetra => FRANKFURT,
            Self::Crypto => UTC,
        }
    }

    /// The hours of an ordinary (non-holiday) `weekday`.
    pub fn regular_hours(self, weekday: Weekday) -> DayHours {
        match (self, weekday) {
            (Self::UsEquity | Self::Xetra, Weekday::Saturday | Weekday::Sunday)
            | (Self::Forex, Weekday::Saturday) => DayHours::default(),
            (Self::Xetra, _) => {
                let day = hours(XETRA_OPEN, XETRA_CLOSE);
                DayHours { regular: vec![day], extended: vec![day] }
            }
            (Self::UsEquity, _) => DayHours {
                regular: vec![hours(REGULAR_OPEN, REGULAR_CLOSE)],
                extended: vec![hours(PRE_MARKET_OPEN, AFTER_HOURS_CLOSE)],
            },
            (Self::Forex, weekday) => {
                let day = match weekday {
                    Weekday::Sunday => hours(FX_WEEK_BOUNDARY, MIDNIGHT),
                    Weekday::Friday => hours(0, FX_WEEK_BOUNDARY),
                    _ => hours(0, MIDNIGHT),
                };
                DayHours { regular: vec![day], extended: vec![day] }
            }
            (Self::Crypto, _) => {
                let day = hours(0, MIDNIGHT);
                DayHours { regular: vec![day], extended: vec![day] }
            }
        }
    }

    /// The hours of `date`, holidays and early closes included.
    pub fn hours_on(self, date: Date) -> DayHours {
        let ordinary = self.regular_hours(date.weekday());
        let exchange = match self {
            Self::UsEquity => Exchange::Nyse,
            Self::Xetra => Exchange::Xetra,
            Self::Forex | Self::Crypto => return ordinary,
        };
        if ordinary.is_closed() {
            return ordinary;
        }
        let exception = exception(exchange, date);
        if self == Self::Xetra {
            return match exception {
                Some(HolidayKind::Closed) => DayHours::default(),
                Some(HolidayKind::EarlyClose { close_ssm }) => {
                    let day = hours(XETRA_OPEN, minute_of(close_ssm).max(XETRA_OPEN + 1));
                    DayHours { regular: vec![day], extended: vec![day] }
                }
                // Special sessions with their own phases keep the ordinary hours here.
                _ => ordinary,
            };
        }
        match exception {
            None => ordinary,
            Some(HolidayKind::EarlyClose { close_ssm }) => {
                let close = minute_of(close_ssm);
                DayHours {
                    regular: vec![hours(REGULAR_OPEN, close)],
                    extended: vec![hours(
                        PRE_MARKET_OPEN,
                        (close + AFTER_HOURS_AFTER_EARLY_CLOSE).min(MIDNIGHT),
                    )],
                }
            }
            // NYSE's table holds only closures and early closes; anything else it might carry
            // is treated as a closure rather than guessed at.
            Some(_) => DayHours::default(),
        }
    }

    /// The dates in `from..=to` whose hours differ from their weekday's ordinary hours, with
    /// their hours.
    pub fn exceptions(self, from: Date, to: Date) -> Vec<(Date, DayHours)> {
        let mut found = Vec::new();
        let mut date = from;
        while date <= to {
            let actual = self.hours_on(date);
            if actual != self.regular_hours(date.weekday()) {
                found.push((date, actual));
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        found
    }
}

fn minute_of(seconds_since_midnight: u32) -> Minute {
    Minute::try_from(seconds_since_midnight / 60).unwrap_or(MIDNIGHT).min(MIDNIGHT)
}

fn exception(exchange: Exchange, date: Date) -> Option<HolidayKind> {
    let month = u32::try_from(date.month()).ok()?;
    let day = u32::try_from(date.day()).ok()?;
    let naive = NaiveDate::from_ymd_opt(i32::from(date.year()), month, day)?;
    ExchangeCalendar::new(exchange).holiday_on(naive).map(|holiday| holiday.kind())
}

/// IBKR's name for Xetra, the listing exchange of German shares.
pub const XETRA_EXCHANGE: &str = "IBIS";

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn an_ordinary_weekday_has_pre_regular_and_post_sessions() {
        let day = Market::UsEquity.hours_on(date(2026, 3, 3));
        assert_eq!(day.regular, vec![hours(570, 960)]);
        assert_eq!(day.extended, vec![hours(240, 1200)]);
        assert!(Market::UsEquity.hours_on(date(2026, 3, 7)).is_closed(), "Saturday");
    }

    #[test]
    fn nyse_holidays_close_the_market() {
        for (y, m, d) in [
            (2024, 1, 1),
            (2024, 3, 29),
            (2025, 1, 9),
            (2025, 7, 4),
            (2026, 4, 3),
            (2026, 11, 26),
            (2027, 12, 24),
        ] {
            assert!(Market::UsEquity.hours_on(date(y, m, d)).is_closed(), "{y}-{m}-{d}");
        }
    }

    #[test]
    fn early_closes_end_regular_trading_at_one() {
        for (y, m, d) in [(2024, 7, 3), (2024, 11, 29), (2025, 12, 24), (2026, 11, 27)] {
            let day = Market::UsEquity.hours_on(date(y, m, d));
            assert_eq!(day.regular, vec![hours(570, 780)], "{y}-{m}-{d}");
            assert_eq!(day.extended, vec![hours(240, 1020)], "{y}-{m}-{d}");
        }
    }

    #[test]
    fn xetra_trades_nine_to_half_past_five_except_on_its_holidays() {
        let day = Market::Xetra.hours_on(date(2026, 3, 3));
        assert_eq!((day.regular.clone(), day.extended), (vec![hours(540, 1050)], vec![hours(540, 1050)]));
        for (y, m, d) in [(2026, 4, 3), (2026, 4, 6), (2026, 5, 1), (2026, 12, 24), (2026, 12, 31)] {
            assert!(Market::Xetra.hours_on(date(y, m, d)).is_closed(), "{y}-{m}-{d}");
        }
        assert!(!Market::Xetra.hours_on(date(2026, 7, 3)).is_closed(), "the day before July 4 trades");
        assert!(Market::Xetra.hours_on(date(2026, 3, 7)).is_closed(), "Saturday");
    }

    #[test]
    fn forex_trades_from_sunday_to_friday_evening() {
        assert_eq!(Market::Forex.hours_on(date(2026, 3, 1)).regular, vec![hours(1020, 1440)], "Sunday");
        assert_eq!(Market::Forex.hours_on(date(2026, 3, 4)).regular, vec![hours(0, 1440)], "Wednesday");
        assert_eq!(Market::Forex.hours_on(date(2026, 3, 6)).regular, vec![hours(0, 1020)], "Friday");
        assert!(Market::Forex.hours_on(date(2026, 3, 7)).is_closed(), "Saturday");
        assert!(!Market::Forex.hours_on(date(2026, 12, 25)).is_closed(), "no FX holidays");
    }

    #[test]
    fn crypto_trades_every_minute_of_every_day() {
        for day in [date(2026, 3, 7), date(2026, 3, 8), date(2026, 12, 25), date(2027, 1, 1)] {
            let hours_of_day = Market::Crypto.hours_on(day);
            assert_eq!(hours_of_day.regular, vec![hours(0, 1440)], "{day}");
            assert_eq!(hours_of_day.extended, hours_of_day.regular);
        }
        assert!(Market::Crypto.exceptions(date(2026, 1, 1), date(2026, 12, 31)).is_empty());
    }

    #[test]
    fn exceptions_list_only_the_unusual_days() {
        let found = Market::UsEquity.exceptions(date(2026, 11, 20), date(2026, 12, 31));
        let dates: Vec<Date> = found.iter().map(|(d, _)| *d).collect();
        assert_eq!(
            dates,
            vec![date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 24), date(2026, 12, 25)]
        );
        assert!(Market::Forex.exceptions(date(2026, 1, 1), date(2026, 12, 31)).is_empty());
    }
}
