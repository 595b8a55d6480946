//! The search for the next instant something happens to working orders: a wake-up, an expiry,
//! or the price crossing the levels the book files orders under, looked for minute by minute
//! along the price path; and trailing stops following the price.

use jiff::Timestamp;
use model::{Conid, OrderId, OrderType, Side, Trail};
use rust_decimal::Decimal;

use crate::Engine;
use crate::orders::book::{Lane, LaneBook};
use crate::orders::hours;

/// Which orders of a lane a price crossing sets off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Crossing {
    /// The price fell through resting buy limits.
    BuyLimits,
    /// The price rose through resting sell limits.
    SellLimits,
    /// The price rose to buy stops.
    BuyStops,
    /// The price fell to sell stops.
    SellStops,
}

/// Something that happens to working orders at an instant.
#[derive(Debug, Clone)]
pub(super) enum Happening {
    /// Orders wake up: their session opens, or their auction comes.
    Wake(Vec<OrderId>),
    /// Day orders reach the end of their day.
    Expire(Vec<OrderId>),
    /// The price crosses the orders a lane files at `level`; `price` is where it went, which is
    /// beyond the level when it jumped there.
    Cross { lane: Lane, crossing: Crossing, level: Decimal, price: f64 },
    /// A trailing stop is reached, its best price having been `extreme`.
    Trail { order: OrderId, extreme: Decimal },
}

/// Which way a level is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Traded through upwards: from at or below it to strictly above.
    Above,
    /// Reached from below: at or above it.
    AtOrAbove,
    /// Traded through downwards: from at or above it to strictly below.
    Below,
    /// Reached from above: at or below it.
    AtOrBelow,
}

impl Direction {
    /// Whether crossing means coming from the other side: a resting limit fills only when the
    /// market trades through it after it began to rest, so one resting where the market
    /// already is beyond it (inside the spread, or after taking the book's depth) waits for the
    /// price to come back through it.
    fn through(self) -> bool {
        matches!(self, Self::Above | Self::Below)
    }

    fn beyond(self, price: f64, level: f64) -> bool {
        match self {
            Self::Above => price > level,
            Self::AtOrAbove => price >= level,
            Self::Below => price < level,
            Self::AtOrBelow => price <= level,
        }
    }
}

/// The first point of a minute's course (fractions and prices in time order) at which the
/// price crosses `level`, and the price there: the exact crossing when it moves there, or the
/// price after a jump over it.
fn first_beyond(course: &[(f64, f64)], level: f64, direction: Direction) -> Option<(f64, f64)> {
    let first = course.first()?;
    if !direction.through() && direction.beyond(first.1, level) {
        return Some(*first);
    }
    course.windows(2).find_map(|pair| {
        let ((f0, p0), (f1, p1)) = (pair[0], pair[1]);
        if !direction.beyond(p1, level) || (direction.through() && direction.beyond(p0, level)) {
            return None;
        }
        if f1 <= f0 || p1 == p0 {
            return Some((f1, p1));
        }
        // Log price moves linearly between the points.
        let share = ((libm::log(level) - libm::log(p0)) / (libm::log(p1) - libm::log(p0))).clamp(0.0, 1.0);
        Some((f0 + share * (f1 - f0), level))
    })
}

/// A price as the path's floating-point prices are: 0 if it cannot be one.
pub(super) fn to_f64(value: Decimal) -> f64 {
    f64::try_from(value).unwrap_or(0.0)
}

/// A trailing stop being followed through the minutes: its side, its trail and its best price.
#[derive(Debug, Clone, Copy)]
struct Trailer {
    id: OrderId,
    side: Side,
    trail: Trail,
    extreme: f64,
}

impl Trailer {
    fn stop(&self) -> f64 {
        let distance = match self.trail {
            Trail::Amount(amount) => to_f64(amount),
            Trail::Percent(percent) => self.extreme * to_f64(percent) / 100.0,
        };
        match self.side {
            Side::Buy => self.extreme + distance,
            Side::Sell => self.extreme - distance,
        }
    }

    fn follow(&mut self, price: f64) {
        self.extreme = match self.side {
            Side::Buy => self.extreme.min(price),
            Side::Sell => self.extreme.max(price),
        };
    }

    /// Follows the course; the first point the price reaches the moving stop, if any.
    fn run(&mut self, course: &[(f64, f64)]) -> Option<f64> {
        let reached = |trailer: &Self, price: f64| match trailer.side {
            Side::Buy => price >= trailer.stop(),
            Side::Sell => price <= trailer.stop(),
        };
        let first = course.first()?;
        self.follow(first.1);
        if reached(self, first.1) {
            return Some(first.0);
        }
        for pair in course.windows(2) {
            let ((f0, p0), (f1, p1)) = (pair[0], pair[1]);
            // The stop only moves while the price moves away from it; moving toward it, the
            // price may reach it.
            if reached(self, p1) {
                let stop = self.stop();
                let direction = match self.side {
                    Side::Buy => Direction::AtOrAbove,
                    Side::Sell => Direction::AtOrBelow,
                };
                return first_beyond(&[(f0, p0), (f1, p1)], stop, direction).map(|(f, _)| f);
            }
            self.follow(p1);
        }
        None
    }
}

impl Engine {
    /// The earliest happening in `[from, to]`: wake-ups first, then expiries, then crossings;
    /// counting a `jump` of its instrument's price to where it is at `from`.
    pub(super) fn next_happening(
        &self,
        from: Timestamp,
        to: Timestamp,
        jump: Option<(Conid, f64)>,
    ) -> Option<(Timestamp, Happening)> {
        let mut best: Option<(Timestamp, u8, Happening)> = None;
        let consider =
            |at: Timestamp, rank: u8, happening: Happening, best: &mut Option<(Timestamp, u8, Happening)>| {
                let at = at.max(from);
                if at <= to && best.as_ref().is_none_or(|(t, r, _)| (at, rank) < (*t, *r)) {
                    *best = Some((at, rank, happening));
                }
            };
        if let Some((at, ids)) = self.book.next_wake() {
            consider(at, 0, Happening::Wake(ids.iter().copied().collect()), &mut best);
        }
        if let Some((at, ids)) = self.book.next_expiry() {
            consider(at, 1, Happening::Expire(ids.iter().copied().collect()), &mut best);
        }
        for (lane, lane_book) in self.book.lanes() {
            let until = best.as_ref().map_or(to, |(at, _, _)| *at);
            let jumped = jump.filter(|(conid, _)| *conid == lane.conid).map(|(_, before)| before);
            if let Some((at, happening)) = self.lane_happening(lane, lane_book, (from, jumped), until) {
                consider(at, 2, happening, &mut best);
            }
        }
        best.map(|(at, _, happening)| (at, happening))
    }

    /// The trailing stops of a lane, as they stand.
    fn trailers(&self, lane_book: &LaneBook) -> Vec<Trailer> {
        lane_book
            .trailing
            .iter()
            .filter_map(|id| {
                let order = self.state.orders.get(id)?;
                let trail = match order.ticket.order_type {
                    OrderType::TrailingStop { trail } | OrderType::TrailingStopLimit { trail, .. } => trail,
                    _ => return None,
                };
                Some(Trailer {
                    id: *id,
                    side: order.ticket.side,
                    trail,
                    extreme: to_f64(order.trail_extreme?),
                })
            })
            .collect()
    }

    /// Visits each working minute of `lane` in `[from, until]` with the part of it to look at
    /// (`f0..f1`) and its whole bar, until `visit` finds something. An instant on a minute's
    /// boundary is the minute's start, looked at as a single point.
    fn scan_lane<T>(
        &self,
        lane: Lane,
        from: Timestamp,
        until: Timestamp,
        mut visit: impl FnMut(&market::path::Path, u32, (f64, f64), &market::path::MinuteBar) -> Option<T>,
    ) -> Option<T> {
        let venue = self.state.venue(lane.conid)?;
        let path = &venue.path;
        let timeline = path.timeline();
        let (start, end) = (timeline.position(from), timeline.position(until));
        for day in hours::days_from(timeline, from) {
            let minutes = hours::working_minutes(&day, lane.regular_only);
            if minutes.start > end.minute {
                break;
            }
            let first = minutes.start.max(start.minute);
            let last = minutes.end.min(end.minute + 1);
            if first >= last {
                continue;
            }
            for bar in path.minute_bars(first, last, Timestamp::MAX) {
                let f0 = if bar.minute == start.minute { start.fraction } else { 0.0 };
                let f1 = if bar.minute == end.minute { end.fraction } else { 1.0 };
                if f0 > f1 {
                    continue;
                }
                if let Some(found) = visit(path, bar.minute, (f0, f1), &bar) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// The first crossing in a lane in `[from, until]`, counting, when the price `jumped` to
    /// `from` from another, the jump.
    fn lane_happening(
        &self,
        lane: Lane,
        lane_book: &LaneBook,
        (from, jumped): (Timestamp, Option<f64>),
        until: Timestamp,
    ) -> Option<(Timestamp, Happening)> {
        let levels = [
            (Crossing::BuyLimits, lane_book.buy_limits.last_key_value(), Direction::Below),
            (Crossing::SellLimits, lane_book.sell_limits.first_key_value(), Direction::Above),
            (Crossing::BuyStops, lane_book.buy_stops.first_key_value(), Direction::AtOrAbove),
            (Crossing::SellStops, lane_book.sell_stops.last_key_value(), Direction::AtOrBelow),
        ];
        let levels: Vec<(Crossing, Decimal, f64, Direction)> = levels
            .into_iter()
            .filter_map(|(crossing, level, direction)| {
                level.map(|(price, _)| (crossing, *price, to_f64(*price), direction))
            })
            .collect();
        let mut trailers = self.trailers(lane_book);
        if levels.is_empty() && trailers.is_empty() {
            return None;
        }
        let timeline = self.state.venue(lane.conid)?.path.timeline();
        let start = timeline.position(from);
        self.scan_lane(lane, from, until, |path, minute, (f0, f1), bar| {
            let possible = levels.iter().any(|&(_, _, level, direction)| match direction {
                Direction::Below => bar.low < level,
                Direction::AtOrBelow => bar.low <= level,
                Direction::Above => bar.high > level,
                Direction::AtOrAbove => bar.high >= level,
            });
            if !possible && trailers.is_empty() {
                return None;
            }
            let mut course = path.course(minute, f0, f1);
            if let Some(before) = jumped.filter(|_| minute == start.minute && f0 == start.fraction) {
                course.insert(0, (f0, before));
            }
            let mut found: Option<(f64, Happening)> = None;
            for &(crossing, level, float, direction) in &levels {
                if let Some((f, price)) = first_beyond(&course, float, direction)
                    && found.as_ref().is_none_or(|(best, _)| f < *best)
                {
                    found = Some((f, Happening::Cross { lane, crossing, level, price }));
                }
            }
            for trailer in &mut trailers {
                let before = *trailer;
                if let Some(f) = trailer.run(&course)
                    && found.as_ref().is_none_or(|(best, _)| f < *best)
                {
                    let extreme = Decimal::try_from(trailer.extreme).unwrap_or_default();
                    found = Some((f, Happening::Trail { order: before.id, extreme }));
                }
            }
            // A halted market trades nothing: what a halt's price jumped over waits for the
            // resumption.
            found
                .map(|(f, happening)| (timeline.instant_at(minute, f), happening))
                .filter(|(at, _)| !path.halted(*at))
        })
    }

    /// Brings every trailing stop's best price up to `to`, from `from`.
    pub(super) fn follow_trails(&mut self, from: Timestamp, to: Timestamp) {
        if from > to {
            return;
        }
        let lanes: Vec<(Lane, Vec<Trailer>)> = self
            .book
            .lanes()
            .filter(|(_, lane_book)| !lane_book.trailing.is_empty())
            .map(|(lane, lane_book)| (lane, self.trailers(lane_book)))
            .collect();
        for (lane, mut trailers) in lanes {
            self.scan_lane::<()>(lane, from, to, |path, minute, (f0, f1), bar| {
                let (low, high) = if f0 > 0.0 || f1 < 1.0 {
                    let course = path.course(minute, f0, f1);
                    course.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, p)| (lo.min(*p), hi.max(*p)))
                } else {
                    (bar.low, bar.high)
                };
                for trailer in &mut trailers {
                    trailer.follow(low);
                    trailer.follow(high);
                }
                None
            });
            for trailer in trailers {
                if let (Some(order), Ok(extreme)) =
                    (self.state.orders.get_mut(&trailer.id), Decimal::try_from(trailer.extreme))
                {
                    order.trail_extreme = Some(extreme);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_crossed_where_the_course_passes_it_or_jumps_over_it() {
        let course = [(0.0, 100.0), (0.5, 90.0), (1.0, 95.0)];
        let (f, price) = first_beyond(&course, 95.0, Direction::Below).unwrap();
        assert!((f - 0.25).abs() < 0.01 && price == 95.0, "{f}");
        assert_eq!(first_beyond(&course, 80.0, Direction::Below), None);
        let jump = [(0.0, 100.0), (0.5, 100.0), (0.5, 80.0), (1.0, 82.0)];
        assert_eq!(first_beyond(&jump, 90.0, Direction::AtOrBelow), Some((0.5, 80.0)));
        assert_eq!(first_beyond(&course, 100.0, Direction::AtOrAbove), Some((0.0, 100.0)));
        assert_eq!(first_beyond(&course, 100.0, Direction::Above), None, "touching is not trading through");
        let already = [(0.0, 90.0), (0.3, 89.0), (0.6, 96.0), (1.0, 94.0)];
        let (f, _) = first_beyond(&already, 95.0, Direction::Below).unwrap();
        assert!(f > 0.6, "below it from the start: it fills when the price comes back through it, {f}");
    }

    #[test]
    fn a_trailing_stop_follows_a_rise_and_triggers_on_the_fall() {
        let mut trailer = Trailer {
            id: OrderId::new(1),
            side: Side::Sell,
            trail: Trail::Amount(Decimal::TWO),
            extreme: 100.0,
        };
        assert_eq!(trailer.run(&[(0.0, 100.0), (0.5, 105.0), (1.0, 104.0)]), None);
        assert_eq!(trailer.extreme, 105.0);
        let f = trailer.run(&[(0.0, 104.0), (1.0, 102.0)]).unwrap();
        assert!((f - 0.5).abs() < 0.01, "reaches 103 halfway: {f}");
    }
}
