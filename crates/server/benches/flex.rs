//! Flex statements of a year of trading: the demo world's margin account trades AAPL (a
//! share bought, then sold) on every trading day of 2025, and a statement of the whole year,
//! every section included, is written as `GetStatement` writes it: read in one engine read,
//! then written a part per engine read, each part's bytes appended to a file between reads. A
//! year of 100,000 trades is the baseline for one of 1,000,000.
//!
//!   cargo bench -p server --bench flex
//!
//! Each statement is written three times. Reports the median time to write it, the longest
//! single read of the engine in any run (how long the engine serves no one else: the first
//! read, or a part), the statement's size, and the most peak resident memory a run added to
//! what the engine's state already held (Linux: `/proc/self/clear_refs` resets the peak).

// A benchmark stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use engine::clock::{ClockMode, ClockSpec};
use engine::flex::{FlexQuery, FlexRequest};
use engine::orders::{Size, Ticket};
use engine::{Command, Engine, Event};
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use market::calendar::{Market, new_york};
use model::{Conid, Decimal, OrderType, SessionId, Side, TimeInForce};
use server::flex::statement::Generation;
use server::world::WorldFile;

const AAPL: Conid = Conid::new(265_598);

struct Year {
    engine: Engine,
    session: SessionId,
    wall: Timestamp,
}

impl Year {
    fn new() -> Self {
        let world = WorldFile::demo().into_world().unwrap();
        let wall: Timestamp = "2025-01-02T14:00:00Z".parse().unwrap();
        let clock = ClockSpec { mode: ClockMode::Manual, start: Some(wall) };
        let mut engine = Engine::new();
        engine.apply(wall, &Command::CreateWorld { seed: 42, world, clock }).unwrap();
        let events = engine.apply(wall, &Command::GatewayLogin { user: "demo".parse().unwrap() }).unwrap();
        let session = events.into_iter().find_map(|event| match event {
            Event::SessionOpened { session, .. } => Some(session),
            _ => None,
        });
        Self { engine, session: session.unwrap(), wall }
    }

    fn apply(&mut self, command: &Command) {
        self.wall = self.wall.saturating_add(SignedDuration::from_micros(1)).unwrap();
        self.engine.apply(self.wall, command).unwrap();
    }

    fn trade(&mut self, side: Side) {
        let ticket = Ticket {
            conid: AAPL,
            side,
            size: Size::Quantity(Decimal::ONE),
            order_type: OrderType::Market,
            tif: TimeInForce::Day,
            outside_rth: false,
            client_order_id: None,
            parent_client_order_id: None,
        };
        let account = "DU1234567".parse().unwrap();
        let session = self.session.clone();
        self.apply(&Command::PlaceOrders { session, account, tickets: vec![ticket], one_cancels_all: false });
    }

    /// `per_day` trades on every trading day of 2025, three market seconds apart from the
    /// open, then the clock at the first instant of 2026.
    fn trade_through_2025(&mut self, per_day: usize) {
        let mut day = date(2025, 1, 2);
        while day.year() == 2025 {
            if !Market::UsEquity.hours_on(day).regular.is_empty() {
                let open = day.at(9, 31, 0, 0).to_zoned_datetime(new_york()).unwrap().timestamp();
                self.apply(&Command::SetClock { to: open });
                for n in 0..per_day {
                    self.trade(if n % 2 == 0 { Side::Buy } else { Side::Sell });
                    self.apply(&Command::AdvanceClock { by: SignedDuration::from_secs(3) });
                }
            }
            day = day.tomorrow().unwrap();
        }
        let new_year = date(2026, 1, 2).at(8, 0, 0, 0).to_zoned_datetime(new_york()).unwrap().timestamp();
        self.apply(&Command::SetClock { to: new_year });
    }

    /// The demo world's Activity query (every section), for 2025.
    fn year_statement(&self) -> (FlexQuery, FlexRequest) {
        let query = self.engine.state().flex().queries[&1_000_001].clone();
        let request = FlexRequest {
            reference: "1".into(),
            token_hash: String::new(),
            query: query.id,
            accounts: vec!["DU1234567".parse().unwrap()],
            from: Date::constant(2025, 1, 1),
            to: Date::constant(2025, 12, 31),
            ready_at: self.wall,
        };
        (query, request)
    }
}

/// A line of `/proc/self/status`, in kilobytes.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix(field))?;
    line.split_whitespace().next()?.parse().ok()
}

struct Written {
    trades: usize,
    elapsed: Duration,
    longest_read: Duration,
    reads: usize,
    bytes: u64,
    state_kb: Option<u64>,
    added_kb: Option<u64>,
}

/// Times a statement is written for each year: the median is reported.
const RUNS: usize = 3;

fn write_year(per_day: usize) -> Written {
    let mut year = Year::new();
    year.trade_through_2025(per_day);
    let mut runs: Vec<Written> = (0..RUNS).map(|_| write_statement(&year)).collect();
    runs.sort_by_key(|run| run.elapsed);
    let mut median = runs.swap_remove(RUNS / 2);
    // The longest pause and the most memory of any run: later runs reuse what the first freed.
    median.longest_read = runs.iter().map(|run| run.longest_read).chain([median.longest_read]).max().unwrap();
    median.added_kb = runs.iter().map(|run| run.added_kb).chain([median.added_kb]).max().flatten();
    median
}

fn write_statement(year: &Year) -> Written {
    let state = year.engine.state();
    let now = state.market_time(year.wall);
    let (query, request) = year.year_statement();
    let trades = state.trades(&request.accounts[0], Timestamp::MIN, Timestamp::MAX).count();
    let before = status_kb("VmRSS:");
    let peak_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let file = tempfile::tempfile().unwrap();
    let mut sink = BufWriter::new(file);
    let started = Instant::now();
    let mut generation = Generation::start(state, query, &request, now);
    let (mut longest_read, mut reads) = (started.elapsed(), 1);
    loop {
        let read = Instant::now();
        let whole = generation.advance(state).unwrap();
        let bytes = generation.take().unwrap();
        longest_read = longest_read.max(read.elapsed());
        reads += 1;
        sink.write_all(&bytes).unwrap();
        if whole {
            break;
        }
    }
    sink.flush().unwrap();
    let elapsed = started.elapsed();
    let bytes = sink.get_ref().metadata().unwrap().len();
    let peak = status_kb("VmHWM:").filter(|_| peak_reset);
    Written {
        trades,
        elapsed,
        longest_read,
        reads,
        bytes,
        state_kb: before,
        added_kb: peak.zip(before).map(|(peak, before)| peak.saturating_sub(before)),
    }
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`; only `cargo bench` measures.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let kilobytes = |value: Option<u64>| value.map_or_else(|| "n/a".to_owned(), |kb| format!("{kb} KB"));
    println!(
        "| trades | written in | trades/s | vs 100,000 | longest engine read | reads | statement | peak memory added | engine state |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut baseline = None;
    for per_day in [400, 4_000] {
        let written = write_year(per_day);
        let per_second = written.trades as f64 / written.elapsed.as_secs_f64();
        let base = *baseline.get_or_insert(per_second);
        println!(
            "| {} | {:.2} s | {per_second:.0} | {:.2} | {:.1} ms | {} | {} MB | {} | {} |",
            written.trades,
            written.elapsed.as_secs_f64(),
            per_second / base,
            written.longest_read.as_secs_f64() * 1e3,
            written.reads,
            written.bytes / 1_000_000,
            kilobytes(written.added_kb),
            kilobytes(written.state_kb),
        );
    }
}
