//! What the market shows at an instant: bid and ask on the tick grid, sizes, the last trade, the
//! day's open, high, low and volume, and the prior close, all derived from the price path.
//!
//! The mid is the path's price. The spread is a fraction of it, at least one tick, four times
//! wider outside regular hours; the last trade is the mid on the tick grid, between bid and ask.
//! A minute's volume follows the regular session's U shape (busy at the open and the close) with
//! noise, a thin trickle outside regular hours, and is flat for coins, whose market never opens
//! or closes; sizes are noise in round lots, or in fractions of a coin.

use jiff::Timestamp;
use model::{AssetClass, Decimal, Instrument, Side};

use crate::catalogue::Profile;
use crate::noise::{Noise, Stream};
use crate::path::{MinuteBar, Path};
use crate::timeline::TradingDay;

/// Extended hours trade this share of an average regular minute.
const EXTENDED_ACTIVITY: f64 = 0.03;
/// Extended hours quote this many times the regular spread.
const EXTENDED_SPREAD: f64 = 4.0;

/// The market for one instrument at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// Best bid.
    pub bid: Decimal,
    /// Best ask.
    pub ask: Decimal,
    /// Size bid, in shares (units of the base currency for a pair, coins for a cryptocurrency).
    pub bid_size: Decimal,
    /// Size offered.
    pub ask_size: Decimal,
    /// The last trade's price.
    pub last: Decimal,
    /// The last trade's size.
    pub last_size: Decimal,
    /// Whether the market is open now.
    pub open: bool,
    /// Whether trading is halted.
    pub halted: bool,
    /// The trading day the figures below belong to.
    pub day: Option<TradingDay>,
    /// The day's regular-session open, once it has opened.
    pub day_open: Option<Decimal>,
    /// The day's regular-session high so far.
    pub day_high: Option<Decimal>,
    /// The day's regular-session low so far.
    pub day_low: Option<Decimal>,
    /// Shares (or coins) traded in the day so far; `None` where IBKR reports no volume.
    pub volume: Option<Decimal>,
    /// The previous day's close.
    pub prior_close: Option<Decimal>,
}

/// A price on the tick grid: the largest multiple of the tick at or below `price` (`Floor`),
/// at or above (`Ceil`), or the nearest (`Round`); never below one tick.
#[derive(Debug, Clone, Copy)]
pub enum Grid {
    /// Down to the grid.
    Floor,
    /// Up to the grid.
    Ceil,
    /// To the nearest point of the grid.
    Round,
}

/// `price` on `instrument`'s tick grid.
pub fn on_grid(instrument: &Instrument, price: f64, grid: Grid) -> Decimal {
    let tick = instrument.tick_at(Decimal::try_from(price).unwrap_or(Decimal::ONE));
    let tick_f = f64::try_from(tick).unwrap_or(0.01);
    let ticks = price / tick_f;
    let ticks = match grid {
        Grid::Floor => (ticks + 1e-9).floor(),
        Grid::Ceil => (ticks - 1e-9).ceil(),
        Grid::Round => ticks.round(),
    };
    tick * Decimal::from(ticks.max(1.0) as i64)
}

/// How busy minute `i` of a regular session ending with minute `last` is: busy at the open
/// and the close, quiet at midday.
fn u_shape(i: f64, last: f64) -> f64 {
    0.55 + 2.0 * libm::exp(-i / 25.0) + 1.6 * libm::exp(-(last - i) / 20.0)
}

/// The mean of [`u_shape`] over a session of `minutes` minutes (the sums of its two geometric
/// series), so that a day trades the profile's daily volume, early closes included.
fn u_shape_mean(minutes: f64) -> f64 {
    let decay = |scale: f64| (1.0 - libm::exp(-minutes / scale)) / (1.0 - libm::exp(-1.0 / scale));
    0.55 + (2.0 * decay(25.0) + 1.6 * decay(20.0)) / minutes
}

/// The top of the book: best bid and ask, their sizes, and the last trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    /// Best bid.
    pub bid: Decimal,
    /// Best ask.
    pub ask: Decimal,
    /// Size bid.
    pub bid_size: Decimal,
    /// Size offered.
    pub ask_size: Decimal,
    /// The last trade's price.
    pub last: Decimal,
    /// The last trade's size.
    pub last_size: Decimal,
    /// Whether the market is open.
    pub open: bool,
    /// Whether trading is halted.
    pub halted: bool,
}

/// A price level of the book and the size shown there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// The price.
    pub price: Decimal,
    /// Shares (units, coins) offered or bid there.
    pub size: Decimal,
}

/// A day's regular-session open, high and low so far, and its volume.
#[derive(Debug, Clone, Default)]
struct DayStats {
    open: Option<Decimal>,
    high: Option<Decimal>,
    low: Option<Decimal>,
    volume: Option<Decimal>,
}

/// The market's activity.
#[derive(Debug, Clone, Copy)]
pub struct Activity<'a> {
    noise: Noise,
    instrument: &'a Instrument,
    profile: &'a Profile,
    /// The smallest quantity that trades: quantities are counted in these steps, as integers,
    /// and become decimals only when shown.
    increment: Decimal,
    increment_f64: f64,
}

impl<'a> Activity<'a> {
    /// Activity of `instrument` in the world seeded `seed`.
    pub fn new(seed: u64, instrument: &'a Instrument, profile: &'a Profile) -> Self {
        let increment = instrument.size_increment();
        Self {
            noise: Noise::new(seed, instrument.conid.get()),
            instrument,
            profile,
            increment,
            increment_f64: f64::try_from(increment).unwrap_or(1.0),
        }
    }

    /// Steps of the size increment traded in active minute `minute` of `day` (all of it; scale
    /// by coverage for the minute in progress). `None` for instruments without reported volume.
    fn minute_steps(&self, minute: u32, day: &TradingDay) -> Option<i64> {
        let daily = self.profile.daily_volume?;
        let regular_minutes = day.regular.len().max(1) as f64;
        let weight = if self.instrument.asset_class == AssetClass::Crypto {
            1.0
        } else if day.regular.contains(&minute) {
            let i = f64::from(minute - day.regular.start);
            let last = regular_minutes - 1.0;
            u_shape(i, last) / u_shape_mean(regular_minutes)
        } else {
            EXTENDED_ACTIVITY
        };
        let noise = libm::exp(0.5 * self.noise.normal(Stream::Volume, u64::from(minute)) - 0.125);
        Some(self.steps(daily / regular_minutes * weight * noise))
    }

    /// `amount` in the nearest whole number of size increments.
    fn steps(&self, amount: f64) -> i64 {
        libm::round((amount / self.increment_f64).max(0.0)) as i64
    }

    /// `steps` size increments as a quantity.
    fn quantity(&self, steps: i64) -> Decimal {
        self.increment * Decimal::from(steps)
    }

    /// The top of the book at market instant `now`, without the day's figures a full quote
    /// computes: what an order trades against.
    pub fn touch(&self, path: &Path, now: Timestamp) -> Touch {
        let timeline = path.timeline();
        let position = timeline.position(now);
        let mid = path.price(now);
        let regular_now =
            position.open && timeline.trading_day(now).is_some_and(|d| d.regular.contains(&position.minute));
        let width = self.profile.spread * mid * if regular_now { 1.0 } else { EXTENDED_SPREAD };
        let bid = on_grid(self.instrument, mid - width / 2.0, Grid::Floor);
        let mut ask = on_grid(self.instrument, mid + width / 2.0, Grid::Ceil);
        if ask <= bid {
            ask = bid + self.instrument.tick_at(bid);
        }
        let last = on_grid(self.instrument, mid, Grid::Round).clamp(bid, ask);
        let (bid_size, ask_size, last_size) = self.sizes(position.minute);
        Touch { bid, ask, bid_size, ask_size, last, last_size, open: position.open, halted: path.halted(now) }
    }

    /// A size of one quote: `most` round lots at most, or `most / 10` coins.
    fn quoted_size(&self, draw: f64, most: f64) -> Decimal {
        let lot = match self.instrument.asset_class {
            AssetClass::Stock => 100,
            AssetClass::Forex => 1_000_000,
            AssetClass::Crypto => return self.quantity(self.steps(draw * most / 10.0).max(1)),
        };
        Decimal::from(lot * (1 + (draw * most) as i64))
    }

    /// The book a `side` order takes from at active minute `minute`, best price first: the
    /// quote's touch (the ask for a buy, the bid for a sell), then a level a tick further for
    /// each step deeper, each larger than the last on average. A marketable order fills
    /// against it level by level, so a large one pays for its size.
    pub fn depth<'q>(&'q self, top: &Touch, minute: u32, side: Side) -> impl Iterator<Item = Level> + 'q {
        let (touch, size) = match side {
            Side::Buy => (top.ask, top.ask_size),
            Side::Sell => (top.bid, top.bid_size),
        };
        let tick = self.instrument.tick_at(touch);
        let deeper = (1..u32::MAX).map(move |level| {
            let index = (u64::from(minute) << 24) | (u64::from(level) << 1) | u64::from(side == Side::Sell);
            let draw = self.noise.uniform(Stream::Depth, index);
            let steps = Decimal::from(level);
            let price = match side {
                Side::Buy => touch + tick * steps,
                Side::Sell => touch - tick * steps,
            };
            let growth = 1.0 + f64::from(level) / 4.0;
            Level { price, size: self.quoted_size(draw, 30.0 * growth) }
        });
        std::iter::once(Level { price: touch, size })
            .chain(deeper)
            .take_while(|level| level.price > Decimal::ZERO)
    }

    /// Quote and trade sizes at active minute `minute`: bid, ask and last. Shares and currencies
    /// come in round lots (of 1 to 30 for quotes, 1 to 5 for a trade); coins in fractions of up
    /// to three coins quoted, half a coin traded.
    fn sizes(&self, minute: u32) -> (Decimal, Decimal, Decimal) {
        let draw = |index: u64| self.noise.uniform(Stream::Size, 3 * u64::from(minute) + index);
        let in_lots = |lot: i64| {
            let lots = |index: u64, most: f64| Decimal::from(lot * (1 + (draw(index) * most) as i64));
            (lots(0, 30.0), lots(1, 30.0), lots(2, 5.0))
        };
        match self.instrument.asset_class {
            AssetClass::Stock => in_lots(100),
            AssetClass::Forex => in_lots(1_000_000),
            AssetClass::Crypto => {
                let coins = |index: u64, most: f64| self.quantity(self.steps(draw(index) * most).max(1));
                (coins(0, 3.0), coins(1, 3.0), coins(2, 0.5))
            }
        }
    }

    /// The market at market instant `now`.
    pub fn quote(&self, path: &Path, now: Timestamp) -> Quote {
        let Touch { bid, ask, bid_size, ask_size, last, last_size, open, halted } = self.touch(path, now);
        let day = path.timeline().trading_day(now);
        let stats = day.as_ref().map(|day| self.day_stats(path, day, now)).unwrap_or_default();
        let prior_close = day.as_ref().and_then(|day| self.prior_close(path, day));
        Quote {
            bid,
            ask,
            bid_size,
            ask_size,
            last,
            last_size,
            open,
            halted,
            day,
            day_open: stats.open,
            day_high: stats.high,
            day_low: stats.low,
            volume: stats.volume,
            prior_close,
        }
    }

    fn day_stats(&self, path: &Path, day: &TradingDay, now: Timestamp) -> DayStats {
        let bars = path.minute_bars(day.session.start, day.session.end, now);
        let volume = self
            .profile
            .daily_volume
            .map(|_| self.quantity(bars.iter().map(|bar| self.bar_steps(bar, day).unwrap_or(0)).sum()));
        let regular: Vec<&MinuteBar> = bars.iter().filter(|bar| day.regular.contains(&bar.minute)).collect();
        let Some(first) = regular.first() else {
            return DayStats { volume, ..DayStats::default() };
        };
        let high = regular.iter().map(|bar| bar.high).fold(f64::MIN, f64::max);
        let low = regular.iter().map(|bar| bar.low).fold(f64::MAX, f64::min);
        let grid = |price| Some(on_grid(self.instrument, price, Grid::Round));
        DayStats { open: grid(first.open), high: grid(high), low: grid(low), volume }
    }

    /// The volume of a minute bar: the minute's, in proportion to how much of it the bar covers,
    /// rounded down to a quantity that trades. A minute's parts add up to exactly its volume:
    /// each part has what the minute traded by its end less what it traded by its start.
    pub fn bar_volume(&self, bar: &MinuteBar, day: &TradingDay) -> Option<Decimal> {
        self.bar_steps(bar, day).map(|steps| self.quantity(steps))
    }

    fn bar_steps(&self, bar: &MinuteBar, day: &TradingDay) -> Option<i64> {
        let full = self.minute_steps(bar.minute, day)?;
        let by = |fraction: f64| if fraction >= 1.0 { full } else { (full as f64 * fraction) as i64 };
        Some(by(bar.to) - by(bar.from))
    }

    fn prior_close(&self, path: &Path, day: &TradingDay) -> Option<Decimal> {
        let boundary = match self.instrument.asset_class {
            AssetClass::Stock => path.timeline().previous_trading_day(day.date)?.regular.end,
            AssetClass::Forex | AssetClass::Crypto => day.session.start,
        };
        Some(on_grid(self.instrument, path.boundary_price(boundary), Grid::Round))
    }
}

#[cfg(test)]
mod tests {
    use jiff::ZonedDateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::Catalogue;
    use crate::path::Override;

    fn new_york(text: &str) -> Timestamp {
        format!("{text}[America/New_York]").parse::<ZonedDateTime>().unwrap().timestamp()
    }

    fn quote_of(symbol: &str, seed: u64, at: Timestamp, overrides: &[(Timestamp, Override)]) -> Quote {
        let catalogue = Catalogue::standard();
        let instrument = catalogue
            .stock(symbol)
            .or_else(|| catalogue.pair(symbol))
            .or_else(|| catalogue.coin(symbol))
            .unwrap();
        let profile = catalogue.profile(instrument.conid).unwrap();
        let path = Path::new(seed, instrument, profile, overrides);
        Activity::new(seed, instrument, profile).quote(&path, at)
    }

    #[test]
    fn a_regular_session_quote_has_everything() {
        let quote = quote_of("AAPL", 42, new_york("2026-03-03T11:00:15"), &[]);
        assert!(quote.open && !quote.halted);
        assert!(quote.bid < quote.ask && quote.bid <= quote.last && quote.last <= quote.ask, "{quote:?}");
        assert!(
            quote.ask - quote.bid <= Decimal::new(5, 2),
            "a liquid stock's spread is a few cents: {quote:?}"
        );
        assert!(
            quote.day_open.is_some() && quote.day_high >= quote.day_open && quote.day_low <= quote.day_open
        );
        assert!(quote.volume.unwrap() > Decimal::ZERO && quote.prior_close.is_some());
        assert_eq!(quote.bid_size % Decimal::ONE_HUNDRED, Decimal::ZERO);
    }

    #[test]
    fn closed_days_do_not_move() {
        let christmas = quote_of("AAPL", 42, new_york("2026-12-25T11:00"), &[]);
        assert!(christmas.prior_close.is_some());
        let later = quote_of("AAPL", 42, new_york("2026-12-25T15:00"), &[]);
        assert!(!christmas.open);
        assert_eq!((christmas.last, christmas.bid), (later.last, later.bid));
        assert_eq!(christmas.day.unwrap().date, jiff::civil::date(2026, 12, 24), "the last day that traded");
        let saturday = quote_of("EUR.USD", 42, new_york("2026-03-07T10:00"), &[]);
        assert_eq!(saturday.last, quote_of("EUR.USD", 42, new_york("2026-03-07T16:00"), &[]).last);
        assert!(saturday.volume.is_none());
        let wednesday = quote_of("EUR.USD", 42, new_york("2026-03-04T10:00"), &[]);
        assert!(wednesday.open);
        assert_ne!(wednesday.last, quote_of("EUR.USD", 42, new_york("2026-03-04T16:00"), &[]).last);
    }

    #[test]
    fn the_book_starts_at_the_touch_and_worsens_a_tick_a_level() {
        let catalogue = Catalogue::standard();
        let aapl = catalogue.stock("AAPL").unwrap();
        let profile = catalogue.profile(aapl.conid).unwrap();
        let at = new_york("2026-03-03T11:00:15");
        let path = Path::new(42, aapl, profile, &[]);
        let activity = Activity::new(42, aapl, profile);
        let quote = activity.quote(&path, at);
        let minute = path.timeline().position(at).minute;
        let touch = activity.touch(&path, at);
        assert_eq!(
            (touch.bid, touch.ask, touch.last),
            (quote.bid, quote.ask, quote.last),
            "the quote's touch"
        );
        let asks: Vec<Level> = activity.depth(&touch, minute, Side::Buy).take(20).collect();
        assert_eq!((asks[0].price, asks[0].size), (quote.ask, quote.ask_size));
        assert!(asks.windows(2).all(|w| w[1].price - w[0].price == Decimal::new(1, 2)), "{asks:?}");
        assert!(asks.iter().all(|level| level.size > Decimal::ZERO && level.size % Decimal::ONE_HUNDRED == Decimal::ZERO));
        let bids: Vec<Level> = activity.depth(&touch, minute, Side::Sell).take(3).collect();
        assert_eq!(bids[0].price, quote.bid);
        assert!(bids[2].price < bids[1].price);
        assert_eq!(
            asks,
            activity.depth(&touch, minute, Side::Buy).take(20).collect::<Vec<_>>(),
            "the same book again"
        );
    }

    #[test]
    fn coins_trade_on_christmas_in_fractions() {
        let morning = quote_of("BTC", 42, new_york("2026-12-25T09:00"), &[]);
        let evening = quote_of("BTC", 42, new_york("2026-12-25T18:30"), &[]);
        assert!(morning.open && evening.open);
        assert_ne!(morning.last, evening.last);
        assert_eq!(
            morning.bid % Decimal::new(25, 2),
            Decimal::ZERO,
            "on the quarter-dollar grid: {morning:?}"
        );
        for size in [morning.bid_size, morning.ask_size, morning.last_size] {
            assert!(size > Decimal::ZERO && size < Decimal::new(3, 0) && size.scale() <= 8, "{size}");
        }
        let volume = evening.volume.unwrap();
        assert!(volume > Decimal::ZERO && volume.fract() != Decimal::ZERO, "fractions of a coin: {volume}");
        let day = evening.day.unwrap();
        assert_eq!(day.date, jiff::civil::date(2026, 12, 25), "a UTC day, 23:30 into it");
        let midnight = quote_of("BTC", 42, new_york("2026-12-25T19:00"), &[]);
        assert_eq!(midnight.day.unwrap().date, jiff::civil::date(2026, 12, 26));
        assert_eq!(midnight.volume, Some(Decimal::ZERO), "nothing traded yet in the new UTC day");
        assert!(evening.prior_close.is_some() && evening.day_open.is_some());
    }

    #[test]
    fn a_day_trades_about_its_daily_volume() {
        let catalogue = Catalogue::standard();
        let aapl = catalogue.stock("AAPL").unwrap();
        let profile = catalogue.profile(aapl.conid).unwrap();
        for evening in ["2026-03-03T23:00", "2026-11-27T23:00"] {
            let quote = quote_of("AAPL", 42, new_york(evening), &[]);
            let ratio = f64::try_from(quote.volume.unwrap()).unwrap() / profile.daily_volume.unwrap();
            assert!((0.85..1.2).contains(&ratio), "{evening}, an early close the second: {ratio}");
        }
        for minutes in [210.0, 390.0] {
            let total: f64 = (0..minutes as u32).map(|i| u_shape(f64::from(i), minutes - 1.0)).sum();
            assert!((total / minutes - u_shape_mean(minutes)).abs() < 1e-9, "{minutes}");
        }
    }

    #[test]
    fn a_price_override_shows_at_once() {
        let at = new_york("2026-03-03T11:00:15");
        let quote = quote_of("AAPL", 42, at, &[(at, Override::Price(100.0))]);
        assert!(quote.bid <= Decimal::new(100, 0) && Decimal::new(100, 0) <= quote.ask, "{quote:?}");
        let halted = quote_of("AAPL", 42, new_york("2026-03-03T12:00"), &[(at, Override::Halt(true))]);
        assert!(halted.halted);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn quotes_are_on_the_grid_with_bid_below_ask(seed in any::<u64>(), minutes in 0i64..20_000, symbol in prop::sample::select(vec!["AAPL", "F", "LLY", "EUR.USD", "USD.JPY"])) {
            let at = new_york("2026-02-02T00:00") + jiff::SignedDuration::from_mins(minutes);
            let quote = quote_of(symbol, seed, at, &[]);
            let catalogue = Catalogue::standard();
            let instrument = catalogue.stock(symbol).or_else(|| catalogue.pair(symbol)).unwrap();
            for price in [quote.bid, quote.ask, quote.last] {
                let tick = instrument.tick_at(price);
                prop_assert!(price > Decimal::ZERO);
                prop_assert_eq!(price % tick, Decimal::ZERO, "{} off the {} grid", price, tick);
            }
            prop_assert!(quote.bid < quote.ask);
            prop_assert!(quote.bid <= quote.last && quote.last <= quote.ask);
        }
    }
}
