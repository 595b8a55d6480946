//! The active-minute axis: every minute in which a market trades, numbered from an epoch.
//!
//! Prices move only while a market is open, so the price path is a function of how much
//! trading time has passed, not of wall time. Minute `k` is the `k`-th minute the market was
//! open since [`EPOCH`]; a timestamp maps to a position on that axis (a minute and how far into
//! it), and a closed market sits still at the boundary after its last open minute. A table of
//! each day's first minute makes both directions a lookup.
//!
//! The axis covers [`EPOCH`] to [`LAST_DAY`]; instants outside it are clamped to its ends.

use std::ops::Range;
use std::sync::LazyLock;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::calendar::{DayHours, Hours, Market, Minute};

/// The first day of the axis.
pub const EPOCH: Date = date(2000, 1, 1);
/// The last day of the axis.
pub const LAST_DAY: Date = date(2100, 12, 31);

/// Where an instant falls on the axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// The active minute the instant is in, or, when the market is closed, the number of
    /// active minutes before it (the boundary the price rests at).
    pub minute: u32,
    /// How far into `minute` the instant is, in `[0, 1)`; always 0 while closed.
    pub fraction: f64,
    /// Whether the market is open at the instant.
    pub open: bool,
}

/// A market's trading day, in active minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradingDay {
    /// The day's date: for currency pairs, the date their day (17:00 to 17:00 New York) ends on.
    pub date: Date,
    /// Every minute the day trades.
    pub session: Range<u32>,
    /// Its regular hours.
    pub regular: Range<u32>,
}

impl TradingDay {
    /// Whether anything trades that day.
    pub fn trades(&self) -> bool {
        !self.session.is_empty()
    }
}

/// Where IBKR's currency day ends and the next begins: 17:00 New York time.
const FX_DAY_BOUNDARY: Minute = 17 * 60;

/// One day of the table.
#[derive(Debug, Clone, Copy)]
struct Day {
    /// Active minutes before the day begins.
    first: u32,
    /// The day's trading hours, if it trades: the extended envelope, then the regular hours.
    hours: Option<(Hours, Hours)>,
}

/// One market's axis.
#[derive(Debug)]
pub struct Timeline {
    market: Market,
    zone: TimeZone,
    days: Vec<Day>,
}

static US_EQUITY: LazyLock<Timeline> = LazyLock::new(|| Timeline::build(Market::UsEquity));
static XETRA: LazyLock<Timeline> = LazyLock::new(|| Timeline::build(Market::Xetra));
static FOREX: LazyLock<Timeline> = LazyLock::new(|| Timeline::build(Market::Forex));
static CRYPTO: LazyLock<Timeline> = LazyLock::new(|| Timeline::build(Market::Crypto));

fn single(hours: &[Hours]) -> Option<Hours> {
    match hours {
        [] => None,
        [only] => Some(*only),
        // A day with several intervals does not occur in LocalBroker's calendars; its envelope
        // stands in for it.
        [first, .., last] => Some(Hours { open: first.open, close: last.close }),
    }
}

impl Timeline {
    /// The axis of `market`.
    pub fn of(market: Market) -> &'static Timeline {
        match market {
            Market::UsEquity => &US_EQUITY,
            Market::Xetra => &XETRA,
            Market::Forex => &FOREX,
            Market::Crypto => &CRYPTO,
        }
    }

    fn build(market: Market) -> Self {
        let zone = TimeZone::get(market.timezone()).unwrap_or(TimeZone::UTC);
        let mut days = Vec::new();
        let mut first = 0u32;
        let mut day = EPOCH;
        while day <= LAST_DAY {
            let DayHours { regular, extended } = market.hours_on(day);
            let hours = single(&extended).zip(single(&regular).or(single(&extended)));
            days.push(Day { first, hours });
            if let Some((envelope, _)) = hours {
                first += u32::from(envelope.close - envelope.open);
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        Self { market, zone, days }
    }

    fn index_of(&self, day: Date) -> usize {
        let offset = day.since(EPOCH).map_or(0, |span| span.get_days());
        usize::try_from(offset).unwrap_or(0).min(self.days.len() - 1)
    }

    fn date_at(&self, index: usize) -> Date {
        EPOCH.checked_add(i32::try_from(index).unwrap_or(0).days()).unwrap_or(EPOCH)
    }

    /// The time zone the market's clock runs in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Where `t` falls.
    pub fn position(&self, t: Timestamp) -> Position {
        let local = t.to_zoned_datetime(self.zone.clone());
        let date = local.date();
        if date < EPOCH {
            return Position { minute: 0, fraction: 0.0, open: false };
        }
        if date > LAST_DAY {
            let end = self.days.last().map_or(0, |day| {
                day.first + day.hours.map_or(0, |(envelope, _)| u32::from(envelope.close - envelope.open))
            });
            return Position { minute: end, fraction: 0.0, open: false };
        }
        let day = self.days[self.index_of(date)];
        let Some((envelope, _)) = day.hours else {
            return Position { minute: day.first, fraction: 0.0, open: false };
        };
        let time = local.time();
        let minute_of_day =
            Minute::try_from(i32::from(time.hour()) * 60 + i32::from(time.minute())).unwrap_or(0);
        let seconds = f64::from(time.second()) + f64::from(time.subsec_nanosecond()) / 1e9;
        if minute_of_day < envelope.open {
            Position { minute: day.first, fraction: 0.0, open: false }
        } else if minute_of_day >= envelope.close {
            Position {
                minute: day.first + u32::from(envelope.close - envelope.open),
                fraction: 0.0,
                open: false,
            }
        } else {
            Position {
                minute: day.first + u32::from(minute_of_day - envelope.open),
                fraction: seconds / 60.0,
                open: true,
            }
        }
    }

    /// The day active minute `minute` belongs to, and the minute of that day it starts at.
    fn locate(&self, minute: u32) -> Option<(usize, Minute)> {
        let index = self.days.partition_point(|day| day.first <= minute).checked_sub(1)?;
        let day = self.days[index];
        let (envelope, _) = day.hours?;
        let offset = minute - day.first;
        (offset < u32::from(envelope.close - envelope.open))
            .then(|| (index, envelope.open + Minute::try_from(offset).unwrap_or(0)))
            .or_else(|| {
                // `minute` is past this day's trading: it is the first minute of a later day.
                let later = self.days[index + 1..].iter().position(|day| day.hours.is_some())? + index + 1;
                Some((later, self.days[later].hours?.0.open))
            })
    }

    /// The instant `fraction` of the way through active minute `minute`.
    pub fn instant_at(&self, minute: u32, fraction: f64) -> Timestamp {
        let start = self.start_of(minute);
        let nanos = (fraction.clamp(0.0, 1.0) * 60e9) as i64;
        start.saturating_add(SignedDuration::from_nanos(nanos)).unwrap_or(start)
    }

    /// When active minute `minute` starts.
    pub fn start_of(&self, minute: u32) -> Timestamp {
        match self.locate(minute) {
            Some((index, minute_of_day)) => self.instant(self.date_at(index), minute_of_day),
            None => self.instant(LAST_DAY, 0),
        }
    }

    fn instant(&self, day: Date, minute_of_day: Minute) -> Timestamp {
        let midnight =
            day.to_zoned_datetime(self.zone.clone()).map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp());
        // Sessions start after the night's DST change, so counting minutes from local
        // midnight would be off by the change; build the local wall time instead.
        let local = day.at(
            i8::try_from(minute_of_day / 60).unwrap_or(0),
            i8::try_from(minute_of_day % 60).unwrap_or(0),
            0,
            0,
        );
        local.to_zoned_datetime(self.zone.clone()).map_or_else(
            |_| {
                midnight
                    .saturating_add(SignedDuration::from_mins(i64::from(minute_of_day)))
                    .unwrap_or(midnight)
            },
            |z| z.timestamp(),
        )
    }

    /// The active minutes of calendar day `day`: its extended envelope, or its regular hours.
    fn civil_session(&self, day: Date, regular: bool) -> Range<u32> {
        if day < EPOCH || day > LAST_DAY {
            return 0..0;
        }
        let entry = self.days[self.index_of(day)];
        match entry.hours {
            None => entry.first..entry.first,
            Some((envelope, hours)) => {
                let hours = if regular { hours } else { envelope };
                let start = entry.first + u32::from(hours.open - envelope.open);
                start..start + u32::from(hours.close - hours.open)
            }
        }
    }

    /// The trading day named `date`. For shares it is that calendar day's sessions and
    /// for cryptocurrencies that UTC day; for currency pairs the 24 hours from 17:00 New York
    /// time the evening before to 17:00 on `date` (IBKR's FX day), so that Monday's day begins
    /// on Sunday evening.
    pub fn day(&self, date: Date) -> TradingDay {
        match self.market {
            Market::UsEquity | Market::Xetra | Market::Crypto => TradingDay {
                date,
                session: self.civil_session(date, false),
                regular: self.civil_session(date, true),
            },
            Market::Forex => {
                let boundary = |day: Date| self.position(self.instant(day, FX_DAY_BOUNDARY)).minute;
                let start = date.yesterday().map_or(0, boundary);
                let session = start..boundary(date).max(start);
                TradingDay { date, regular: session.clone(), session }
            }
        }
    }

    /// The local date and minute of the day at which active minute `minute` starts.
    pub fn clock_of(&self, minute: u32) -> (Date, Minute) {
        self.locate(minute)
            .map_or((LAST_DAY, 0), |(index, minute_of_day)| (self.date_at(index), minute_of_day))
    }

    /// The trading days from `from` to `to`, inclusive, oldest first.
    pub fn trading_days(&self, from: Date, to: Date) -> impl Iterator<Item = TradingDay> + '_ {
        let (from, to) = (from.max(EPOCH), to.min(LAST_DAY));
        let count = to.since(from).map_or(0, |span| span.get_days() + 1).max(0);
        (0..count)
            .filter_map(move |offset| from.checked_add(offset.days()).ok())
            .map(|date| self.day(date))
            .filter(TradingDay::trades)
    }

    /// The trading day `t` belongs to: the one in progress, or the last one that has begun.
    pub fn trading_day(&self, t: Timestamp) -> Option<TradingDay> {
        let local = t.to_zoned_datetime(self.zone.clone());
        let position = self.position(t);
        let named = match self.market {
            Market::UsEquity | Market::Xetra | Market::Crypto => local.date(),
            Market::Forex if local.time().hour() >= 17 => local.date().tomorrow().ok()?,
            Market::Forex => local.date(),
        };
        let day = self.day(named);
        let begun = day.trades()
            && (position.minute > day.session.start
                || (position.open && day.session.contains(&position.minute)));
        if begun { Some(day) } else { self.previous_trading_day(named) }
    }

    /// The last trading day strictly before `date`.
    pub fn previous_trading_day(&self, date: Date) -> Option<TradingDay> {
        let mut date = date;
        // The longest run of days without trading is far shorter than a month.
        for _ in 0..31 {
            date = date.yesterday().ok().filter(|d| *d >= EPOCH)?;
            let day = self.day(date);
            if day.trades() {
                return Some(day);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_york(text: &str) -> Timestamp {
        format!("{text}[America/New_York]").parse::<jiff::ZonedDateTime>().unwrap().timestamp()
    }

    #[test]
    fn a_trading_day_has_sixteen_hours_of_minutes() {
        let timeline = Timeline::of(Market::UsEquity);
        let day = date(2026, 3, 3);
        assert_eq!(timeline.day(day).session.len(), 960);
        assert_eq!(timeline.day(day).regular.len(), 390);
        let before = timeline.position(new_york("2026-03-03T03:00"));
        let at_open = timeline.position(new_york("2026-03-03T04:00"));
        assert_eq!((before.minute, before.open), (at_open.minute, false));
        assert!(at_open.open);
        let half = timeline.position(new_york("2026-03-03T09:30:30"));
        assert_eq!(half.minute, at_open.minute + 330);
        assert!((half.fraction - 0.5).abs() < 1e-9);
        assert_eq!(timeline.start_of(half.minute), new_york("2026-03-03T09:30"));
        assert_eq!(timeline.day(day).regular.start, half.minute);
    }

    #[test]
    fn nights_weekends_and_holidays_add_no_minutes() {
        let timeline = Timeline::of(Market::UsEquity);
        let friday_close = timeline.position(new_york("2026-12-24T18:00"));
        let monday_open = timeline.position(new_york("2026-12-28T04:00"));
        assert!(!friday_close.open);
        assert_eq!(
            friday_close.minute, monday_open.minute,
            "an early close, Christmas and a weekend pass without a minute"
        );
        assert_eq!(timeline.start_of(monday_open.minute), new_york("2026-12-28T04:00"));
        assert_eq!(
            timeline.clock_of(friday_close.minute).0,
            date(2026, 12, 28),
            "the next minute to trade is Monday's"
        );
    }

    #[test]
    fn forex_trades_through_the_night_but_not_on_saturday() {
        let timeline = Timeline::of(Market::Forex);
        let wednesday = timeline.position(new_york("2026-03-04T02:00"));
        assert!(wednesday.open);
        let saturday = timeline.position(new_york("2026-03-07T12:00"));
        let sunday_open = timeline.position(new_york("2026-03-08T17:00"));
        assert!(!saturday.open);
        assert_eq!(saturday.minute, sunday_open.minute);
        assert_eq!(
            timeline.start_of(sunday_open.minute),
            new_york("2026-03-08T17:00"),
            "the day clocks changed"
        );
    }

    #[test]
    fn a_currency_day_runs_from_five_in_the_evening() {
        let timeline = Timeline::of(Market::Forex);
        let monday = timeline.day(date(2026, 3, 9));
        assert_eq!(timeline.start_of(monday.session.start), new_york("2026-03-08T17:00"), "Sunday evening");
        assert_eq!(monday.session.len(), 1440);
        assert!(
            !timeline.day(date(2026, 3, 7)).trades() && !timeline.day(date(2026, 3, 8)).trades(),
            "the weekend"
        );
        assert_eq!(timeline.trading_day(new_york("2026-03-04T18:00")).unwrap().date, date(2026, 3, 5));
        assert_eq!(timeline.trading_day(new_york("2026-03-07T12:00")).unwrap().date, date(2026, 3, 6));
        let days: Vec<Date> =
            timeline.trading_days(date(2026, 3, 6), date(2026, 3, 10)).map(|d| d.date).collect();
        assert_eq!(days, [date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 10)]);
    }

    #[test]
    fn crypto_minutes_run_on_through_weekends_holidays_and_clock_changes() {
        let timeline = Timeline::of(Market::Crypto);
        let utc = |text: &str| text.parse::<Timestamp>().unwrap();
        let friday = timeline.position(utc("2026-12-25T12:00:00Z"));
        let monday = timeline.position(utc("2026-12-28T12:00:00Z"));
        assert!(friday.open && monday.open);
        assert_eq!(monday.minute - friday.minute, 3 * 1440, "Christmas and a weekend, minute by minute");
        let before_change = timeline.position(new_york("2026-11-01T00:30"));
        let after_change = timeline.position(new_york("2026-11-01T03:30"));
        assert_eq!(
            after_change.minute - before_change.minute,
            4 * 60,
            "New York's repeated hour counts once"
        );
        let day = timeline.trading_day(utc("2026-03-07T23:59:00Z")).unwrap();
        assert_eq!((day.date, day.session.len(), day.regular.len()), (date(2026, 3, 7), 1440, 1440));
        assert_eq!(timeline.start_of(day.session.start), utc("2026-03-07T00:00:00Z"));
    }

    #[test]
    fn a_stock_day_begins_at_the_pre_market_open() {
        let timeline = Timeline::of(Market::UsEquity);
        assert_eq!(timeline.trading_day(new_york("2026-03-04T03:00")).unwrap().date, date(2026, 3, 3));
        assert_eq!(timeline.trading_day(new_york("2026-03-04T04:00")).unwrap().date, date(2026, 3, 4));
        assert_eq!(timeline.trading_day(new_york("2026-03-04T22:00")).unwrap().date, date(2026, 3, 4));
        assert_eq!(timeline.previous_trading_day(date(2026, 12, 28)).unwrap().date, date(2026, 12, 24));
    }

    #[test]
    fn time_past_the_axis_rests_at_its_end() {
        let timeline = Timeline::of(Market::UsEquity);
        let end = timeline.position("2200-01-01T00:00:00Z".parse().unwrap());
        let last_evening = timeline.position(new_york("2100-12-31T21:00"));
        assert_eq!(end.minute, last_evening.minute);
    }

    #[test]
    fn every_minute_maps_back_to_where_it_starts() {
        let timeline = Timeline::of(Market::UsEquity);
        let start = timeline.position(new_york("2026-03-06T19:58")).minute;
        for minute in start..start + 5 {
            assert_eq!(timeline.position(timeline.start_of(minute)).minute, minute);
        }
    }
}
