//! Bars of any size, aggregated from minute bars, so that every size agrees with every other:
//! a bar's open is its first minute's open, its close its last minute's close, its high and
//! low the extremes of its minutes, its volume their sum. Bars in seconds are parts of those
//! minutes, so a minute's parts together are exactly its bar.
//!
//! Intraday bars (minutes and hours) are cut at the same clock times every day (a 5-minute bar
//! starts at 09:30, 09:35, …; an hourly bar at 10:00, 11:00, …) and never span two trading days
//! (a currency's 4-hour bar from 16:00 ends at 17:00, where its next day begins); day bars cover
//! one trading day; week bars the trading days named after Monday to Sunday of one week; month
//! bars one calendar month.

use std::ops::Range;

use jiff::Timestamp;
use jiff::civil::Date;
use model::{Decimal, Instrument};

use crate::path::{MinuteBar, Path};
use crate::quote::{Activity, Grid, on_grid};
use crate::timeline::TradingDay;

/// A bar size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarSize {
    /// So many seconds (a divisor of 60), cut at multiples of that many seconds in a minute.
    Seconds(u8),
    /// So many minutes (1 to 480), cut at multiples of that many minutes after midnight.
    Minutes(u16),
    /// One trading day.
    Day,
    /// One week's trading days.
    Week,
    /// One calendar month's trading days.
    Month,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// When its first minute starts.
    pub start: Timestamp,
    /// First price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price.
    pub close: Decimal,
    /// Shares (or coins) traded; 0 where IBKR reports no volume.
    pub volume: Decimal,
}

/// What history to aggregate.
#[derive(Debug, Clone)]
pub struct BarQuery<'a> {
    /// The instrument's path.
    pub path: &'a Path,
    /// Its activity (volumes).
    pub activity: Activity<'a>,
    /// The instrument (for the tick grid).
    pub instrument: &'a Instrument,
    /// The bar size.
    pub size: BarSize,
    /// Include extended hours, or only regular ones.
    pub outside_rth: bool,
    /// The market's present: nothing after it is shown.
    pub now: Timestamp,
    /// The first active minute shown: a period shorter than a day starts inside one.
    pub from: u32,
}

/// A group key: bars end where it changes. Bars in seconds are parts of one minute each;
/// intraday bars are cut by the trading day `day` and the clock (`clock` is the local date and
/// minute a minute starts at); longer ones by the trading day alone.
fn group_of(size: BarSize, day: Date, part: &MinuteBar, clock: (Date, u16)) -> (i64, i64, i64) {
    match size {
        BarSize::Seconds(_) => (day_number(day), i64::from(part.minute), second_of(part)),
        BarSize::Minutes(n) => (day_number(day), day_number(clock.0), i64::from(clock.1 / n.max(1))),
        BarSize::Day | BarSize::Week | BarSize::Month => (day_group(size, day), 0, 0),
    }
}

/// The day, week or month bar trading day `day` belongs to.
fn day_group(size: BarSize, day: Date) -> i64 {
    match size {
        BarSize::Week => {
            let monday = day
                .checked_sub(jiff::Span::new().days(i64::from(day.weekday().to_monday_zero_offset())))
                .unwrap_or(day);
            day_number(monday)
        }
        BarSize::Month => i64::from(day.year()) * 12 + i64::from(day.month()),
        _ => day_number(day),
    }
}

fn day_number(day: Date) -> i64 {
    day.since(crate::timeline::EPOCH).map_or(0, |span| i64::from(span.get_days()))
}

/// The second of its minute a part of it starts at.
fn second_of(part: &MinuteBar) -> i64 {
    (part.from * 60.0).round() as i64
}

impl BarQuery<'_> {
    /// Bars over the trading days `days`, oldest first.
    pub fn bars(&self, days: &[TradingDay]) -> Vec<Bar> {
        let timeline = self.path.timeline();
        let mut bars: Vec<Bar> = Vec::new();
        let mut current: Option<((i64, i64, i64), Bar)> = None;
        for day in days {
            for part in self.parts(day) {
                let key = group_of(self.size, day.date, &part, timeline.clock_of(part.minute));
                let volume = self.activity.bar_volume(&part, day).unwrap_or_default();
                match &mut current {
                    Some((open_key, bar)) if *open_key == key => self.extend(bar, &part, volume),
                    _ => {
                        if let Some((_, done)) = current.take() {
                            bars.push(done);
                        }
                        current = Some((key, self.start(&part, volume)));
                    }
                }
            }
        }
        bars.extend(current.map(|(_, bar)| bar));
        bars
    }

    /// The most recent `limit` bars over the trading days `days`, oldest first. Only the days
    /// those bars cover are computed (see [`BarQuery::covering`]).
    pub fn recent(&self, days: &[TradingDay], limit: usize) -> Vec<Bar> {
        let mut bars = self.bars(self.covering(days, limit));
        let older = bars.len().saturating_sub(limit);
        bars.drain(..older);
        bars
    }

    /// The most recent of the trading days `days` that hold at least `limit` bars, counted
    /// from below: a day of `m` whole minutes before `now` holds at least `m` bars of a minute,
    /// `m / n` of `n` minutes, and `60 m / s` of `s` seconds. Day, week and month bars take whole
    /// bars' days, with one bar more in case the newest has nothing before `now` yet.
    pub fn covering<'d>(&self, days: &'d [TradingDay], limit: usize) -> &'d [TradingDay] {
        let stop = self.path.timeline().position(self.now).minute;
        let mut held = 0;
        let mut previous = None;
        for (index, day) in days.iter().enumerate().rev() {
            let shown = if self.outside_rth { &day.session } else { &day.regular };
            let whole = shown.end.min(stop).saturating_sub(shown.start) as usize;
            match self.size {
                BarSize::Seconds(n) => held += whole * (60 / usize::from(n.max(1))),
                BarSize::Minutes(n) => held += whole.div_ceil(usize::from(n.max(1))),
                BarSize::Day | BarSize::Week | BarSize::Month => {
                    let group = day_group(self.size, day.date);
                    if previous != Some(group) {
                        if held > limit {
                            return &days[index + 1..];
                        }
                        held += 1;
                        previous = Some(group);
                    }
                    continue;
                }
            }
            if held >= limit {
                return &days[index..];
            }
        }
        days
    }

    /// The minutes, or parts of minutes, of `day` the bars show.
    fn parts(&self, day: &TradingDay) -> Vec<MinuteBar> {
        let minutes: Range<u32> = if self.outside_rth { day.session.clone() } else { day.regular.clone() };
        let first = minutes.start.max(self.from);
        match self.size {
            BarSize::Seconds(n) => self.path.second_bars(first, minutes.end, self.now, n),
            _ => self.path.minute_bars(first, minutes.end, self.now),
        }
    }

    fn grid(&self, price: f64) -> Decimal {
        on_grid(self.instrument, price, Grid::Round)
    }

    fn start(&self, minute: &MinuteBar, volume: Decimal) -> Bar {
        Bar {
            start: self.path.timeline().start_of(minute.minute)
                + jiff::SignedDuration::from_secs(second_of(minute)),
            open: self.grid(minute.open),
            high: self.grid(minute.high),
            low: self.grid(minute.low),
            close: self.grid(minute.close),
            volume,
        }
    }

    fn extend(&self, bar: &mut Bar, minute: &MinuteBar, volume: Decimal) {
        bar.high = bar.high.max(self.grid(minute.high));
        bar.low = bar.low.min(self.grid(minute.low));
        bar.close = self.grid(minute.close);
        bar.volume += volume;
    }
}

#[cfg(test)]
mod tests {
    //! Invariants: bars of every size agree with the minutes they summarise; nothing after `now`
    //! appears; the same seed gives the same bars and another seed other ones.

    use jiff::ZonedDateTime;
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;
    use crate::Catalogue;

    fn new_york(text: &str) -> Timestamp {
        format!("{text}[America/New_York]").parse::<ZonedDateTime>().unwrap().timestamp()
    }

    fn history(
        seed: u64,
        symbol: &str,
        size: BarSize,
        outside_rth: bool,
        now: Timestamp,
        from: Date,
    ) -> Vec<Bar> {
        let catalogue = Catalogue::standard();
        let instrument = catalogue
            .stock(symbol)
            .or_else(|| catalogue.pair(symbol))
            .or_else(|| catalogue.coin(symbol))
            .unwrap();
        let profile = catalogue.profile(instrument.conid).unwrap();
        let path = Path::new(seed, instrument, profile, &[]);
        let activity = Activity::new(seed, instrument, profile);
        let timeline = path.timeline();
        let last = timeline.trading_day(now).map_or(from, |day| day.date);
        let days: Vec<TradingDay> = timeline.trading_days(from, last).collect();
        BarQuery { path: &path, activity, instrument, size, outside_rth, now, from: 0 }.bars(&days)
    }

    fn summary(bars: &[Bar]) -> (Decimal, Decimal, Decimal, Decimal, Decimal) {
        (
            bars[0].open,
            bars.iter().map(|b| b.high).max().unwrap(),
            bars.iter().map(|b| b.low).min().unwrap(),
            bars.last().unwrap().close,
            bars.iter().map(|b| b.volume).sum(),
        )
    }

    #[test]
    fn a_regular_day_has_390_minutes_and_its_day_bar_summarises_them() {
        let now = new_york("2026-03-04T03:00");
        let minutes = history(7, "AAPL", BarSize::Minutes(1), false, now, date(2026, 3, 3));
        assert_eq!(minutes.len(), 390);
        assert_eq!(minutes[0].start, new_york("2026-03-03T09:30"));
        let day = history(7, "AAPL", BarSize::Day, false, now, date(2026, 3, 3));
        assert_eq!(day.len(), 1);
        assert_eq!(summary(&minutes), summary(&day));
        let extended = history(7, "AAPL", BarSize::Minutes(1), true, now, date(2026, 3, 3));
        assert_eq!(extended.len(), 960);
    }

    #[test]
    fn intraday_bars_are_cut_at_clock_times() {
        let now = new_york("2026-03-04T08:00");
        let hours = history(7, "AAPL", BarSize::Minutes(60), false, now, date(2026, 3, 3));
        let starts: Vec<Timestamp> = hours.iter().map(|b| b.start).collect();
        assert_eq!(starts[0], new_york("2026-03-03T09:30"));
        assert_eq!(starts[1], new_york("2026-03-03T10:00"));
        assert_eq!(hours.len(), 7);
        let fives = history(7, "AAPL", BarSize::Minutes(5), false, now, date(2026, 3, 3));
        assert_eq!(fives.len(), 78);
    }

    #[test]
    fn a_currency_pair_trades_on_weekdays_only() {
        let now = new_york("2026-03-09T12:00");
        let days = history(7, "EUR.USD", BarSize::Day, true, now, date(2026, 3, 2));
        assert_eq!(days.len(), 6, "Monday 2 to Friday 6, and Monday 9 so far");
        assert_eq!(days[0].start, new_york("2026-03-01T17:00"), "a currency day starts the evening before");
        let weekdays: Vec<_> = days
            .iter()
            .map(|bar| {
                bar.start
                    .to_zoned_datetime(jiff::tz::TimeZone::get("America/New_York").unwrap())
                    .date()
                    .weekday()
            })
            .collect();
        assert!(!weekdays.contains(&jiff::civil::Weekday::Saturday), "{weekdays:?}");
        assert_eq!(
            days.iter().map(|b| b.volume).sum::<Decimal>(),
            Decimal::ZERO,
            "IBKR reports no volume for currencies"
        );
    }

    #[test]
    fn a_currency_bar_ends_where_its_trading_day_does() {
        let now = new_york("2026-03-04T12:00");
        let fours = history(7, "EUR.USD", BarSize::Minutes(240), true, now, date(2026, 3, 3));
        let starts: Vec<Timestamp> = fours.iter().map(|b| b.start).collect();
        let expected = ["2026-03-02T17:00", "2026-03-02T20:00", "2026-03-03T00:00", "2026-03-03T04:00"];
        assert_eq!(starts[..4], expected.map(new_york), "Tuesday's day begins on Monday at 17:00");
        let at_five = starts.iter().position(|&start| start == new_york("2026-03-03T17:00"));
        assert!(at_five.is_some(), "Wednesday's day starts a new bar at 17:00: {starts:?}");
        assert_eq!(starts[at_five.unwrap() - 1], new_york("2026-03-03T16:00"), "a one-hour bar before it");
    }

    #[test]
    fn a_coins_week_runs_from_monday_to_sunday() {
        let now: Timestamp = "2026-03-16T12:00:00Z".parse().unwrap();
        let weeks = history(7, "BTC", BarSize::Week, false, now, date(2026, 3, 2));
        let starts: Vec<Timestamp> = weeks.iter().map(|b| b.start).collect();
        let expected = ["2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"];
        assert_eq!(starts, expected.map(|t| t.parse::<Timestamp>().unwrap()));
        let days = history(7, "BTC", BarSize::Day, false, now, date(2026, 3, 2));
        assert_eq!(days.len(), 15, "every day, weekends included");
        assert_eq!(summary(&days[..7]), summary(&weeks[..1]));
    }

    #[test]
    fn seconds_are_parts_of_their_minute() {
        let now = new_york("2026-03-03T10:00:30.5");
        let minutes = history(7, "AAPL", BarSize::Minutes(1), false, now, date(2026, 3, 3));
        let seconds = history(7, "AAPL", BarSize::Seconds(1), false, now, date(2026, 3, 3));
        assert_eq!(seconds.len(), 30 * 60 + 31, "the second in progress included");
        assert_eq!(seconds[1].start, new_york("2026-03-03T09:30:01"));
        for (minute, parts) in minutes.iter().zip(seconds.chunks(60)) {
            assert_eq!(summary(parts), summary(std::slice::from_ref(minute)), "{}", minute.start);
        }
        let thirties = history(7, "AAPL", BarSize::Seconds(30), false, now, date(2026, 3, 3));
        assert_eq!(thirties.len(), 62);
        assert_eq!(thirties[61].start, new_york("2026-03-03T10:00:30"));
    }

    #[test]
    fn the_most_recent_bars_are_the_tail_of_all_of_them() {
        let catalogue = Catalogue::standard();
        let instrument = catalogue.stock("AAPL").unwrap();
        let profile = catalogue.profile(instrument.conid).unwrap();
        let path = Path::new(7, instrument, profile, &[]);
        let now = new_york("2026-03-06T11:17:20");
        let days: Vec<TradingDay> =
            path.timeline().trading_days(date(2025, 1, 2), date(2026, 3, 6)).collect();
        for size in [BarSize::Seconds(5), BarSize::Minutes(5), BarSize::Day, BarSize::Week, BarSize::Month] {
            let query = BarQuery {
                path: &path,
                activity: Activity::new(7, instrument, profile),
                instrument,
                size,
                outside_rth: false,
                now,
                from: 0,
            };
            let recent = query.recent(&days, 10);
            let window = match size {
                BarSize::Seconds(_) | BarSize::Minutes(_) => &days[days.len() - 3..],
                _ => &days[..],
            };
            let all = query.bars(window);
            assert_eq!(recent, all[all.len() - 10..], "{size:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn every_bar_size_agrees_with_the_minutes(seed in any::<u64>(), offset in 0i64..40, symbol in prop::sample::select(vec!["AAPL", "SPY", "EUR.USD", "BTC"])) {
            let day = date(2026, 1, 5).checked_add(jiff::Span::new().days(offset)).unwrap();
            let now = day.checked_add(jiff::Span::new().days(1)).unwrap().at(3, 0, 0, 0).to_zoned_datetime(jiff::tz::TimeZone::get("America/New_York").unwrap()).unwrap().timestamp();
            let minutes = history(seed, symbol, BarSize::Minutes(1), true, now, day);
            prop_assume!(!minutes.is_empty());
            for size in [BarSize::Seconds(15), BarSize::Minutes(5), BarSize::Minutes(60), BarSize::Day] {
                let bars = history(seed, symbol, size, true, now, day);
                prop_assert_eq!(summary(&bars), summary(&minutes), "{:?}", size);
                for bar in &bars {
                    prop_assert!(bar.low > Decimal::ZERO && bar.low <= bar.open && bar.open <= bar.high);
                    prop_assert!(bar.low <= bar.close && bar.close <= bar.high);
                }
            }
        }

        #[test]
        fn the_same_seed_gives_the_same_history_and_another_seed_another(seed in any::<u64>()) {
            let now = new_york("2026-03-06T12:00");
            let first = history(seed, "MSFT", BarSize::Minutes(5), false, now, date(2026, 3, 2));
            prop_assert_eq!(&first, &history(seed, "MSFT", BarSize::Minutes(5), false, now, date(2026, 3, 2)));
            prop_assert_ne!(&first, &history(seed.wrapping_add(1), "MSFT", BarSize::Minutes(5), false, now, date(2026, 3, 2)));
            prop_assert!(first.iter().all(|bar| bar.start < now), "no bar after now");
        }
    }
}
