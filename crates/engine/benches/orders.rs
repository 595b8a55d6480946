//! The engine applying order commands in-process, with 10,000 and then 1,000,000 orders
//! resting in the book: a mix of place, modify, cancel and a one-second clock tick, each
//! command timed on its own, against a baseline of ticks with nothing resting.
//!
//! `cargo bench -p engine` prints commands per second, the median and the 99th percentile of
//! each command's latency, and the throughput as a ratio to the baseline measured in the same run.
//! The three books are measured in turn, a round each, again and again: a machine whose speed
//! drifts while the bench runs slows every book alike, so the ratios hold. A book's throughput
//! is its median round's; its percentiles pool every round's commands.

// A benchmark stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use engine::fixtures;
use engine::orders::{Size, Ticket};
use engine::{Command, Engine, Event, Timestamp};
use jiff::SignedDuration;
use model::{Conid, Decimal, MarginKind, OrderId, OrderType, SessionId, Side, TimeInForce};

const AAPL: Conid = Conid::new(265_598);
/// Commands timed per round.
const COMMANDS: usize = 8_000;
/// Rounds measured per book: their ticks (a quarter of the commands, a second each) stay
/// within the regular session that opens at the bench's market start.
const ROUNDS: usize = 9;

struct Bench {
    engine: Engine,
    session: SessionId,
    wall: Timestamp,
}

impl Bench {
    fn new() -> Self {
        let world = fixtures::world(
            vec![fixtures::user("bench", &["DU1"])],
            vec![fixtures::account("DU1", MarginKind::Margin, Decimal::new(1_000_000_000_000, 0))],
        );
        let wall = Timestamp::from_second(1_772_000_000).unwrap();
        let market = "2026-03-03T14:30:00Z".parse().unwrap();
        let (engine, session) = fixtures::started(world, 42, wall, market, "bench");
        Self { engine, session, wall }
    }

    fn apply(&mut self, command: &Command) -> Vec<Event> {
        self.wall = self.wall.saturating_add(SignedDuration::from_micros(1)).unwrap();
        self.engine.apply(self.wall, command).unwrap()
    }

    fn place(&self, tickets: Vec<Ticket>) -> Command {
        Command::PlaceOrders {
            session: self.session.clone(),
            account: "DU1".parse().unwrap(),
            tickets,
            one_cancels_all: false,
        }
    }

    /// Fills the book with `count` buy limits between 100 and 150 dollars, far below AAPL.
    fn rest(&mut self, count: usize) {
        for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
            let tickets =
                chunk.iter().map(|n| resting(Decimal::new(10_000 + (*n % 5_000) as i64, 2))).collect();
            let command = self.place(tickets);
            self.apply(&command);
        }
    }
}

fn resting(limit: Decimal) -> Ticket {
    Ticket {
        conid: AAPL,
        side: Side::Buy,
        size: Size::Quantity(Decimal::ONE),
        order_type: OrderType::Limit { limit },
        tif: TimeInForce::GoodTillCancelled,
        outside_rth: false,
        client_order_id: None,
        parent_client_order_id: None,
    }
}

/// The median and 99th percentile of some latencies.
fn percentiles(latencies: &mut [Duration]) -> (Duration, Duration) {
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    (at(0.5), at(0.99))
}

/// Place, modify, cancel and tick in turn, so the book keeps its size: commands per second
/// over the whole run, and each kind's latencies.
fn mix(bench: &mut Bench) -> (f64, [Vec<Duration>; 4]) {
    let mut latest = OrderId::new(0);
    let account: model::AccountId = "DU1".parse().unwrap();
    let session = bench.session.clone();
    let mut latencies: [Vec<Duration>; 4] = Default::default();
    let started = Instant::now();
    for n in 0..COMMANDS {
        let command = match n % 4 {
            0 => bench.place(vec![resting(Decimal::new(12_000, 2))]),
            1 => Command::ModifyOrder {
                session: session.clone(),
                account: account.clone(),
                order: latest,
                ticket: resting(Decimal::new(12_100, 2)),
            },
            2 => Command::CancelOrder { session: session.clone(), account: account.clone(), order: latest },
            _ => Command::AdvanceClock { by: SignedDuration::from_secs(1) },
        };
        let before = Instant::now();
        let events = bench.apply(&command);
        latencies[n % 4].push(before.elapsed());
        if let Some(Event::OrderPlaced { order }) =
            events.iter().find(|e| matches!(e, Event::OrderPlaced { .. }))
        {
            latest = *order;
        }
    }
    (COMMANDS as f64 / started.elapsed().as_secs_f64(), latencies)
}

fn micros(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1e6)
}

/// The median of some rounds' throughputs.
fn median(mut rounds: Vec<f64>) -> f64 {
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// One book and what its rounds measured.
struct Book {
    resting_orders: usize,
    bench: Bench,
    throughputs: Vec<f64>,
    latencies: [Vec<Duration>; 4],
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`; only `cargo bench` measures.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let mut books: Vec<Book> = [0, 10_000, 1_000_000]
        .into_iter()
        .map(|resting_orders| {
            let mut bench = Bench::new();
            bench.rest(resting_orders);
            Book { resting_orders, bench, throughputs: Vec::new(), latencies: Default::default() }
        })
        .collect();
    for _ in 0..ROUNDS {
        for book in &mut books {
            let (per_second, round) = mix(&mut book.bench);
            book.throughputs.push(per_second);
            for (all, kind) in book.latencies.iter_mut().zip(round) {
                all.extend(kind);
            }
        }
    }
    println!(
        "| resting orders | commands/s | vs an empty book | place p50 / p99 µs | modify | cancel | 1 s tick |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut baseline = None;
    for mut book in books {
        let per_second = median(book.throughputs);
        let base = *baseline.get_or_insert(per_second);
        let kinds: Vec<String> = book
            .latencies
            .iter_mut()
            .map(|kind| {
                let (p50, p99) = percentiles(kind);
                format!("{} / {}", micros(p50), micros(p99))
            })
            .collect();
        println!(
            "| {} | {per_second:.0} | {:.2} | {} |",
            book.resting_orders,
            per_second / base,
            kinds.join(" | ")
        );
    }
}
