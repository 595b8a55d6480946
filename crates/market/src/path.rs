//! The price path: where an instrument's price is at any moment, as a pure function of the
//! seed, the instrument and the time, plus the overrides the control plane journaled.
//!
//! # Model
//! Log price follows a Brownian motion in *trading* time (the active-minute axis of
//! [`crate::timeline`]), anchored at the instrument's reference price at [`REFERENCE`], with
//! its annual volatility spread over the year's trading minutes. The motion is built as a
//! Brownian bridge over a dyadic tree of minute boundaries: the value at any boundary takes 32
//! halvings to compute, a run of `n` boundaries about `n` — so history is never stored, and a
//! day is exactly the sum of its minutes. Inside a minute the log price runs straight from the
//! opening boundary to the minute's high and low (drawn from the exact distribution of a
//! Brownian bridge's extremes, in an order drawn too) and on to the closing boundary, so a
//! minute bar's high and low are reached within it and a price at any instant is defined.
//!
//! # Overrides
//! A journaled override changes the path from its instant on by an affine map of log price
//! (`a + b·x`): a price jump shifts it, a volatility change scales it, a halt freezes it
//! (`b = 0`) and a resume continues from the frozen price. Each map is increasing, so a bar's
//! extremes are still found at the path's corners.

use jiff::Timestamp;
use jiff::civil::date;
use model::Instrument;

use crate::calendar::Market;
use crate::catalogue::Profile;
use crate::noise::{Noise, Stream};
use crate::timeline::{Position, Timeline};

/// Where every path passes through its instrument's reference price: the start of the regular
/// hours of this trading day (09:30 New York for stocks, the 17:00 New York the evening before
/// for currency pairs, midnight UTC for coins).
pub const REFERENCE: (i16, i8, i8) = (2026, 1, 2);

/// Levels of the dyadic tree: boundaries `0 ..= 2^LEVELS`, thousands of years of minutes.
const LEVELS: u32 = 32;
const SPAN: u64 = 1 << LEVELS;

/// A control-plane override of the path, at a market instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Override {
    /// The price jumps to this level and moves on from there.
    Price(f64),
    /// Trading halts (`true`) or resumes (`false`).
    Halt(bool),
    /// The annual volatility becomes this from now on.
    Volatility(f64),
}

/// One piece of the path under overrides: from `start` on, log price is `a + b·x` of the base
/// path's `x`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: f64,
    a: f64,
    b: f64,
}

/// An instrument's price path.
#[derive(Debug, Clone)]
pub struct Path {
    noise: Noise,
    timeline: &'static Timeline,
    /// Log reference price, less the base motion at the reference boundary.
    offset: f64,
    /// Volatility per trading minute.
    sigma: f64,
    base_volatility: f64,
    pieces: Vec<Piece>,
}

/// A node of the bridge's tree: an interval of boundaries and the motion at its ends.
#[derive(Debug, Clone, Copy)]
struct Span {
    lo: u64,
    hi: u64,
    w_lo: f64,
    w_hi: f64,
}

/// A minute's open, high, low and close, in price, or those of a part of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinuteBar {
    /// The active minute.
    pub minute: u32,
    /// Where in the minute the bar starts: 0, or a second's fraction for a bar in seconds.
    pub from: f64,
    /// First price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price (at `now` for the minute in progress).
    pub close: f64,
    /// Where in the minute the bar ends: 1, or less for the minute in progress or a bar in
    /// seconds.
    pub to: f64,
}

/// Trading minutes a year: its trading days (252 for stocks, 260 weekdays for currencies, every
/// day for coins) times the market's daily trading minutes.
fn minutes_per_year(market: Market) -> f64 {
    match market {
        Market::UsEquity => 252.0 * 960.0,
        Market::Xetra => 252.0 * 510.0,
        Market::Forex => 260.0 * 1440.0,
        Market::Crypto => 365.25 * 1440.0,
    }
}

impl Path {
    /// The path of `instrument` in the world seeded `seed`, under `overrides` (in the order
    /// they were made, with their market instants).
    pub fn new(
        seed: u64,
        instrument: &Instrument,
        profile: &Profile,
        overrides: &[(Timestamp, Override)],
    ) -> Self {
        let market = Market::of(instrument);
        let timeline = Timeline::of(market);
        let noise = Noise::new(seed, instrument.conid.get());
        let sigma = profile.volatility / libm::sqrt(minutes_per_year(market));
        let (year, month, day) = REFERENCE;
        let reference = timeline.day(date(year, month, day)).regular.start;
        let mut path = Self {
            noise,
            timeline,
            offset: 0.0,
            sigma,
            base_volatility: profile.volatility,
            pieces: vec![Piece { start: f64::NEG_INFINITY, a: 0.0, b: 1.0 }],
        };
        path.offset = libm::log(profile.reference_price) - sigma * path.motion(u64::from(reference));
        path.apply(overrides);
        path
    }

    /// The axis the path runs on.
    pub fn timeline(&self) -> &'static Timeline {
        self.timeline
    }

    fn apply(&mut self, overrides: &[(Timestamp, Override)]) {
        let mut resume_b = 1.0;
        for &(at, change) in overrides {
            let position = self.timeline.position(at);
            let start = f64::from(position.minute) + position.fraction;
            let x = self.base_log(position);
            let current = *self.pieces.last().unwrap_or(&Piece { start, a: 0.0, b: 1.0 });
            let value = current.a + current.b * x;
            let b = match change {
                Override::Price(_) => current.b,
                Override::Halt(true) => {
                    if current.b != 0.0 {
                        resume_b = current.b;
                    }
                    0.0
                }
                Override::Halt(false) if current.b == 0.0 => resume_b,
                Override::Halt(false) => current.b,
                Override::Volatility(v) => {
                    let scale = v / self.base_volatility;
                    if current.b == 0.0 {
                        resume_b = scale;
                        0.0
                    } else {
                        scale
                    }
                }
            };
            let target = match change {
                Override::Price(price) => libm::log(price),
                _ => value,
            };
            self.pieces.push(Piece { start, a: target - b * x, b });
        }
    }

    /// The base motion (a standard Brownian motion in minutes) at boundary `k`.
    fn motion(&self, k: u64) -> f64 {
        let (mut lo, mut hi) = (0u64, SPAN);
        let (mut w_lo, mut w_hi) = (0.0, (SPAN as f64).sqrt() * self.noise.normal(Stream::Bridge, SPAN));
        if k == lo {
            return w_lo;
        }
        loop {
            let mid = (lo + hi) / 2;
            let w_mid = (w_lo + w_hi) / 2.0
                + ((hi - lo) as f64 / 4.0).sqrt() * self.noise.normal(Stream::Bridge, mid);
            if k == mid {
                return w_mid;
            }
            if k < mid {
                (hi, w_hi) = (mid, w_mid);
            } else {
                (lo, w_lo) = (mid, w_mid);
            }
        }
    }

    /// The base motion at every boundary `first ..= last`, in one pass down the tree.
    fn motion_range(&self, first: u64, last: u64) -> Vec<f64> {
        let mut out = vec![0.0; usize::try_from(last - first + 1).unwrap_or(0)];
        let w_top = (SPAN as f64).sqrt() * self.noise.normal(Stream::Bridge, SPAN);
        if first == 0 {
            out[0] = 0.0;
        }
        if last == SPAN
            && let Some(slot) = out.last_mut()
        {
            *slot = w_top;
        }
        self.fill(Span { lo: 0, hi: SPAN, w_lo: 0.0, w_hi: w_top }, first, last, &mut out);
        out
    }

    /// Writes the motion at every boundary strictly inside `span` that lies in `first..=last`.
    fn fill(&self, span: Span, first: u64, last: u64, out: &mut [f64]) {
        let Span { lo, hi, w_lo, w_hi } = span;
        if hi - lo < 2 || last <= lo || first >= hi {
            return;
        }
        let mid = (lo + hi) / 2;
        let w_mid =
            (w_lo + w_hi) / 2.0 + ((hi - lo) as f64 / 4.0).sqrt() * self.noise.normal(Stream::Bridge, mid);
        if (first..=last).contains(&mid) {
            out[usize::try_from(mid - first).unwrap_or(0)] = w_mid;
        }
        self.fill(Span { lo, hi: mid, w_lo, w_hi: w_mid }, first, last, out);
        self.fill(Span { lo: mid, hi, w_lo: w_mid, w_hi }, first, last, out);
    }

    /// The shape of minute `k` between its boundary values `x0` and `x1` (base log prices):
    /// the corners (fraction, value) the log price runs through.
    fn corners(&self, k: u32, x0: f64, x1: f64) -> [(f64, f64); 4] {
        let index = u64::from(k);
        let spread = self.sigma * self.sigma;
        // The exact law of a Brownian bridge's maximum: P(M > m) = exp(-2(m-x0)(m-x1)/σ²).
        let extreme = |u: f64, sign: f64| {
            let gap = x1 - x0;
            (x0 + x1 + sign * (gap * gap - 2.0 * spread * libm::log(u)).sqrt()) / 2.0
        };
        let high = extreme(self.noise.uniform(Stream::Minute, 4 * index), 1.0);
        let low = extreme(self.noise.uniform(Stream::Minute, 4 * index + 1), -1.0);
        let first = 0.05 + 0.45 * self.noise.uniform(Stream::Minute, 4 * index + 2);
        let second = 0.5 + 0.45 * self.noise.uniform(Stream::Minute, 4 * index + 3);
        let (a, b) =
            if self.noise.bits(Stream::Minute, 4 * index) & 1 == 0 { (high, low) } else { (low, high) };
        [(0.0, x0), (first, a), (second, b), (1.0, x1)]
    }

    /// Base log price at boundary `k`.
    fn boundary_log(&self, k: u32) -> f64 {
        self.offset + self.sigma * self.motion(u64::from(k))
    }

    fn base_log(&self, position: Position) -> f64 {
        let x0 = self.boundary_log(position.minute);
        if position.fraction == 0.0 {
            return x0;
        }
        let x1 = self.boundary_log(position.minute + 1);
        interpolate(&self.corners(position.minute, x0, x1), position.fraction)
    }

    /// The piece in force at `at`, an override made exactly there included.
    fn piece_at(&self, at: f64) -> Piece {
        let index = self.pieces.partition_point(|piece| piece.start <= at);
        self.pieces[index.saturating_sub(1)]
    }

    /// The piece in force just before `at`.
    fn piece_before(&self, at: f64) -> Piece {
        let index = self.pieces.partition_point(|piece| piece.start < at);
        self.pieces[index.saturating_sub(1)]
    }

    /// The price at market instant `t`.
    pub fn price(&self, t: Timestamp) -> f64 {
        let position = self.timeline.position(t);
        let piece = self.piece_at(f64::from(position.minute) + position.fraction);
        libm::exp(piece.a + piece.b * self.base_log(position))
    }

    /// Whether trading is halted at market instant `t`.
    pub fn halted(&self, t: Timestamp) -> bool {
        self.volatility(t) == 0.0
    }

    /// The annual volatility in force at market instant `t`, overrides included (0 while halted).
    pub fn volatility(&self, t: Timestamp) -> f64 {
        let position = self.timeline.position(t);
        self.piece_at(f64::from(position.minute) + position.fraction).b * self.base_volatility
    }

    /// The price at the boundary before active minute `k`: the close of minute `k - 1`.
    pub fn boundary_price(&self, k: u32) -> f64 {
        let piece = self.piece_before(f64::from(k));
        libm::exp(piece.a + piece.b * self.boundary_log(k))
    }

    /// The price's course through active minute `k` from fraction `from` to `to`
    /// (`0 ≤ from ≤ to ≤ 1`): the points `(fraction, price)` where it may turn or jump, in time
    /// order. Between two consecutive points the price moves monotonically, so a level is
    /// crossed between them exactly when it lies between their prices; an override shows as
    /// two points at the same fraction, the price before it and after; one made exactly at
    /// `from` has already happened.
    pub fn course(&self, k: u32, from: f64, to: f64) -> Vec<(f64, f64)> {
        let corners = self.corners(k, self.boundary_log(k), self.boundary_log(k + 1));
        let start = f64::from(k);
        let mut points: Vec<(f64, Piece)> = Vec::with_capacity(8);
        points.push((from, self.piece_at(start + from)));
        points.extend(
            corners.iter().filter(|(f, _)| *f > from && *f < to).map(|&(f, _)| (f, self.piece_at(start + f))),
        );
        for (index, piece) in self.pieces.iter().enumerate().skip(1) {
            let f = piece.start - start;
            if f > from && f <= to {
                points.push((f, self.pieces[index - 1]));
                points.push((f, *piece));
            }
        }
        points.push((to, self.piece_at(start + to)));
        // Stable: at an override's instant, the price before it stays ahead of the price after.
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
            .into_iter()
            .map(|(f, piece)| (f, libm::exp(piece.a + piece.b * interpolate(&corners, f))))
            .collect()
    }

    /// Bars for the active minutes `first..end`, cut at `now`: the minute in progress covers only
    /// its part before `now`, and later minutes are not returned.
    pub fn minute_bars(&self, first: u32, end: u32, now: Timestamp) -> Vec<MinuteBar> {
        let mut bars = Vec::new();
        self.each_minute(first, end, now, |k, x0, x1, covered| {
            bars.push(self.bar(k, &self.corners(k, x0, x1), 0.0, covered));
        });
        bars
    }

    /// Bars of `seconds` seconds (a divisor of 60) for the active minutes `first..end`, cut at
    /// `now` like [`Path::minute_bars`]. They are parts of the same minutes, so a minute's parts
    /// together have exactly its open, high, low and close.
    pub fn second_bars(&self, first: u32, end: u32, now: Timestamp, seconds: u8) -> Vec<MinuteBar> {
        let width = u32::from(seconds.clamp(1, 60));
        let mut bars = Vec::new();
        self.each_minute(first, end, now, |k, x0, x1, covered| {
            let corners = self.corners(k, x0, x1);
            for start in (0..60).step_by(width as usize) {
                let from = f64::from(start) / 60.0;
                if from >= covered {
                    break;
                }
                let to = (f64::from(start + width) / 60.0).min(covered);
                bars.push(self.bar(k, &corners, from, to));
            }
        });
        bars
    }

    /// Calls `visit` with each active minute of `first..end` before `now`, its boundary log
    /// prices and how much of it has passed.
    fn each_minute(&self, first: u32, end: u32, now: Timestamp, mut visit: impl FnMut(u32, f64, f64, f64)) {
        let position = self.timeline.position(now);
        let (stop, partial) = if position.fraction > 0.0 {
            (position.minute + 1, Some(position.minute))
        } else {
            (position.minute, None)
        };
        let end = end.min(stop);
        if first >= end {
            return;
        }
        let motion = self.motion_range(u64::from(first), u64::from(end));
        for k in first..end {
            let i = (k - first) as usize;
            let x0 = self.offset + self.sigma * motion[i];
            let x1 = self.offset + self.sigma * motion[i + 1];
            let covered = if partial == Some(k) { position.fraction } else { 1.0 };
            visit(k, x0, x1, covered);
        }
    }

    /// Minute `k`'s bar from fraction `from` to `to`, overrides applied; `corners` are the
    /// minute's (see [`Path::corners`]).
    fn bar(&self, k: u32, corners: &[(f64, f64); 4], from: f64, to: f64) -> MinuteBar {
        let start = f64::from(k);
        // Every point where the value may turn: the start, the corners and the overrides inside
        // the part (overrides from both sides), and its end.
        let mut points: Vec<(f64, Piece)> = Vec::with_capacity(8);
        points.push((from, self.piece_at(start + from)));
        points.extend(
            corners.iter().filter(|(f, _)| *f > from && *f < to).map(|&(f, _)| (f, self.piece_at(start + f))),
        );
        for (index, piece) in self.pieces.iter().enumerate() {
            let f = piece.start - start;
            if f > from && f < to {
                points.push((f, self.pieces[index - 1]));
                points.push((f, *piece));
            }
        }
        let end_piece = self.piece_before(start + to);
        points.push((to, end_piece));
        let value = |(f, piece): &(f64, Piece)| libm::exp(piece.a + piece.b * interpolate(corners, *f));
        let prices: Vec<f64> = points.iter().map(value).collect();
        MinuteBar {
            minute: k,
            from,
            open: prices[0],
            high: prices.iter().copied().fold(f64::MIN, f64::max),
            low: prices.iter().copied().fold(f64::MAX, f64::min),
            close: value(&(to, end_piece)),
            to,
        }
    }
}

/// The value at fraction `f` of a minute whose log price runs straight between `corners`.
fn interpolate(corners: &[(f64, f64); 4], f: f64) -> f64 {
    for pair in corners.windows(2) {
        let ((f0, v0), (f1, v1)) = (pair[0], pair[1]);
        if f <= f1 {
            return if f1 > f0 { v0 + (v1 - v0) * (f - f0) / (f1 - f0) } else { v1 };
        }
    }
    corners[3].1
}

#[cfg(test)]
mod tests {
    use jiff::ZonedDateTime;

    use super::*;
    use crate::Catalogue;

    fn new_york(text: &str) -> Timestamp {
        format!("{text}[America/New_York]").parse::<ZonedDateTime>().unwrap().timestamp()
    }

    fn aapl(overrides: &[(Timestamp, Override)]) -> Path {
        let catalogue = Catalogue::standard();
        let instrument = catalogue.stock("AAPL").unwrap();
        Path::new(42, instrument, catalogue.profile(instrument.conid).unwrap(), overrides)
    }

    #[test]
    fn a_minutes_course_runs_through_its_bar_and_its_overrides() {
        let jump = new_york("2026-03-03T11:00:30");
        let path = aapl(&[(jump, Override::Price(100.0))]);
        let timeline = path.timeline();
        let k = timeline.position(new_york("2026-03-03T11:00")).minute;
        let course = path.course(k, 0.0, 1.0);
        let bar = path.minute_bars(k, k + 1, new_york("2026-03-04T00:00"))[0];
        let low = course.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        let high = course.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        assert_eq!((low, high), (bar.low, bar.high));
        assert_eq!((course[0].1, course[course.len() - 1].1), (bar.open, bar.close));
        assert!(course.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
        let at_jump = course.windows(2).find(|w| w[0].0 == w[1].0).expect("the jump");
        assert!((at_jump[0].0 - 0.5).abs() < 1e-9 && (at_jump[1].1 - 100.0).abs() < 1e-9, "{course:?}");
        let part = path.course(k, 0.25, 0.75);
        for (fraction, price) in [part[0], part[part.len() - 1]] {
            let expected = path.price(timeline.instant_at(k, fraction));
            assert!((price - expected).abs() < 1e-9 * expected, "{fraction}: {price} {expected}");
        }
    }

    #[test]
    fn a_minutes_seconds_make_up_its_bar_across_an_override() {
        let path = aapl(&[(new_york("2026-03-03T11:00:30"), Override::Price(100.0))]);
        let later = new_york("2026-03-04T00:00");
        let k = path.timeline().position(new_york("2026-03-03T11:00")).minute;
        let minute = path.minute_bars(k, k + 1, later)[0];
        for width in [1, 5, 10, 15, 30] {
            let parts = path.second_bars(k, k + 1, later, width);
            assert_eq!(parts.len(), 60 / usize::from(width));
            let high = parts.iter().map(|p| p.high).fold(f64::MIN, f64::max);
            let low = parts.iter().map(|p| p.low).fold(f64::MAX, f64::min);
            assert_eq!(
                (parts[0].open, high, low, parts[parts.len() - 1].close),
                (minute.open, minute.high, minute.low, minute.close)
            );
            assert!(parts.windows(2).all(|w| w[0].to == w[1].from), "contiguous");
        }
    }

    #[test]
    fn the_path_passes_through_the_reference_price() {
        let price = aapl(&[]).price(new_york("2026-01-02T09:30"));
        assert!((price - 270.0).abs() < 1e-9, "{price}");
    }

    #[test]
    fn a_range_of_boundaries_equals_boundaries_one_by_one() {
        let path = aapl(&[]);
        let range = path.motion_range(1_000_000, 1_000_100);
        for (i, w) in range.iter().enumerate() {
            assert_eq!(w.to_bits(), path.motion(1_000_000 + i as u64).to_bits(), "boundary {i}");
        }
    }

    #[test]
    fn minutes_join_up_and_bars_hold_their_prices() {
        let path = aapl(&[]);
        let day = path.timeline().day(date(2026, 3, 3)).session;
        let bars = path.minute_bars(day.start, day.end, new_york("2026-03-04T00:00"));
        assert_eq!(bars.len(), 960);
        for pair in bars.windows(2) {
            assert_eq!(pair[0].close.to_bits(), pair[1].open.to_bits());
        }
        for bar in &bars {
            assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close), "{bar:?}");
            let mid = path.price(path.timeline().start_of(bar.minute) + jiff::SignedDuration::from_secs(30));
            assert!(bar.low <= mid && mid <= bar.high, "{mid} outside {bar:?}");
        }
    }

    #[test]
    fn nothing_after_now_is_shown() {
        let path = aapl(&[]);
        let day = path.timeline().day(date(2026, 3, 3)).regular;
        let now = new_york("2026-03-03T10:00:30");
        let bars = path.minute_bars(day.start, day.end, now);
        assert_eq!(bars.len(), 31);
        let last = bars.last().unwrap();
        assert!((last.to - 0.5).abs() < 1e-9);
        assert_eq!(last.close.to_bits(), path.price(now).to_bits());
    }

    #[test]
    fn prices_stand_still_while_the_market_is_closed() {
        let path = aapl(&[]);
        let friday_evening = path.price(new_york("2026-03-06T20:00"));
        assert_eq!(friday_evening, path.price(new_york("2026-03-07T12:00")));
        assert_eq!(friday_evening, path.price(new_york("2026-03-09T03:59")));
        assert_ne!(friday_evening, path.price(new_york("2026-03-09T04:30")));
    }

    #[test]
    fn overrides_jump_freeze_and_resume() {
        let jump_at = new_york("2026-03-03T10:00:10");
        let halt_at = new_york("2026-03-03T10:30");
        let resume_at = new_york("2026-03-03T11:00");
        let path = aapl(&[
            (jump_at, Override::Price(100.0)),
            (halt_at, Override::Halt(true)),
            (resume_at, Override::Halt(false)),
        ]);
        assert!((path.price(jump_at) - 100.0).abs() < 1e-9);
        let halted = path.price(halt_at);
        assert!(path.halted(new_york("2026-03-03T10:45")));
        assert_eq!(path.price(new_york("2026-03-03T10:45")), halted);
        assert!((path.price(resume_at) - halted).abs() < 1e-9, "resumes from the halted price");
        assert_ne!(path.price(new_york("2026-03-03T11:30")), halted);
        let untouched = aapl(&[]);
        assert_eq!(
            path.price(new_york("2026-03-03T09:59")),
            untouched.price(new_york("2026-03-03T09:59")),
            "no look back"
        );
        let minute = path.timeline().position(jump_at).minute;
        let bar = path.minute_bars(minute, minute + 1, new_york("2026-03-04T00:00"))[0];
        assert!(bar.low <= 100.0 + 1e-6, "the jump is inside the minute's range: {bar:?}");
    }

    #[test]
    fn an_override_at_a_boundary_leaves_the_minute_before_alone() {
        let at = new_york("2026-03-03T11:00");
        let untouched = aapl(&[]);
        let moved = aapl(&[(at, Override::Price(100.0))]);
        let minute = untouched.timeline().position(at).minute - 1;
        let later = new_york("2026-03-04T00:00");
        assert_eq!(
            moved.minute_bars(minute, minute + 1, later),
            untouched.minute_bars(minute, minute + 1, later)
        );
        let saturday = new_york("2026-03-07T12:00");
        let closed = aapl(&[(saturday, Override::Price(100.0))]);
        let friday = untouched.timeline().day(date(2026, 3, 6)).session;
        assert_eq!(
            closed.minute_bars(friday.start, friday.end, later),
            untouched.minute_bars(friday.start, friday.end, later)
        );
        assert!((closed.price(saturday) - 100.0).abs() < 1e-9, "while closed, the new price shows at once");
    }
}
