//! How fast the market is computed: one price at a random instant (each a walk down the
//! bridge's tree), a day of minute bars at once (one pass over the tree), and a year of
//! 1-minute bars for one instrument through the bar aggregation history uses.
//!
//! `cargo bench -p market`

// A benchmark stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use divan::Bencher;
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use market::Catalogue;
use market::bars::{BarQuery, BarSize};
use market::path::Path;
use market::quote::Activity;
use market::timeline::TradingDay;

fn main() {
    divan::main();
}

fn aapl() -> Path {
    let catalogue = Catalogue::standard();
    let instrument = catalogue.stock("AAPL").unwrap();
    Path::new(42, instrument, catalogue.profile(instrument.conid).unwrap(), &[])
}

/// Prices at 1,000 instants spread over a year: the per-point cost of random access.
#[divan::bench]
fn price_at_an_instant(bencher: Bencher) {
    let path = aapl();
    let start: Timestamp = "2025-03-03T15:00:00Z".parse().unwrap();
    let instants: Vec<Timestamp> = (0..1_000).map(|i| start + SignedDuration::from_mins(i * 523)).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(instants.len()))
        .bench(|| instants.iter().map(|&t| path.price(t)).sum::<f64>());
}

/// A trading day's 960 minute bars in one pass: the per-point cost when history asks for runs.
#[divan::bench]
fn minute_bars_of_a_day(bencher: Bencher) {
    let path = aapl();
    let day = path.timeline().day(date(2026, 3, 3)).session;
    let now: Timestamp = "2026-03-04T12:00:00Z".parse().unwrap();
    bencher
        .counter(divan::counter::ItemsCount::new(day.len()))
        .bench(|| path.minute_bars(day.start, day.end, now));
}

/// One year of regular-hours 1-minute bars (about 98,000) for one conid, volumes included.
#[divan::bench(sample_count = 10)]
fn a_year_of_one_minute_bars(bencher: Bencher) {
    let catalogue = Catalogue::standard();
    let instrument = catalogue.stock("AAPL").unwrap();
    let profile = catalogue.profile(instrument.conid).unwrap();
    let path = Path::new(42, instrument, profile, &[]);
    let timeline = path.timeline();
    let days: Vec<TradingDay> = timeline.trading_days(date(2025, 3, 1), date(2026, 2, 28)).collect();
    let request = BarQuery {
        path: &path,
        activity: Activity::new(42, instrument, profile),
        instrument,
        size: BarSize::Minutes(1),
        outside_rth: false,
        now: "2026-03-01T00:00:00Z".parse().unwrap(),
        from: 0,
    };
    let bars = request.bars(&days).len();
    bencher.counter(divan::counter::ItemsCount::new(bars)).bench(|| request.bars(&days));
}
