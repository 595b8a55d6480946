//! Market time passing over working orders. Between two commands the engine finds, in time
//! order, each instant something happens to a working order (its session opens, its auction
//! comes, its day ends, the price trades through its limit or reaches its stop) and acts
//! there, then looks again from that instant. Only the orders the book files under a crossed
//! price are looked at; trailing stops, whose stops move, follow the price minute by minute.
//!
//! The search for the next such instant is in `search`; acting on it is here.

mod search;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use market::quote::{Grid, on_grid};
use model::{Conid, OrderId, Side};
use rust_decimal::Decimal;

use self::search::{Crossing, Happening, to_f64};
use super::Waiting;
use super::lifecycle::{Cancellation, OrderEvent};
use crate::{Engine, EngineError, Event};

/// The most happenings one catch-up acts on: a guard, far above what any span of time holds.
const MAX_HAPPENINGS: usize = 1_000_000;

impl Engine {
    /// Lets market time pass over the working orders up to `to`, acting at each instant
    /// something happens to one of them.
    pub(crate) fn catch_up(&mut self, to: Timestamp, events: &mut Vec<Event>) -> Result<(), EngineError> {
        if self.book.is_empty() {
            return Ok(());
        }
        match self.state.processed_until {
            Some(from) if from < to => self.run(from, to, events),
            _ => Ok(()),
        }
    }

    /// Acts, in time order, on everything that happens to working orders in `(from, to]`;
    /// `from` itself was looked at already.
    pub(crate) fn run(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        self.run_from(from, to, None, events)
    }

    /// Acts on what a change to the market of `conid` made at `at` does to working orders
    /// there: a price that jumped over them from `before` crosses them.
    pub(crate) fn run_change(
        &mut self,
        at: Timestamp,
        conid: Conid,
        before: f64,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        self.run_from(at, at, Some((conid, before)), events)
    }

    /// Acts, in time order, on everything that happens in `[from, to]`; with a `jump`, the
    /// price of its instrument came to where it is at `from` from the price given.
    fn run_from(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        jump: Option<(Conid, f64)>,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let mut now = from;
        for _ in 0..MAX_HAPPENINGS {
            let Some((at, happening)) = self.next_happening(now, to, jump.filter(|_| now == from)) else {
                break;
            };
            self.follow_trails(now, at);
            self.happen(at, happening, events)?;
            now = at;
        }
        self.follow_trails(now, to);
        Ok(())
    }

    /// Whether anything happens to working orders in `[from, to]`.
    pub(super) fn next_happening_in(&self, from: Timestamp, to: Timestamp) -> bool {
        self.next_happening(from, to, None).is_some()
    }

    /// Acts on one happening at `at`.
    fn happen(
        &mut self,
        at: Timestamp,
        happening: Happening,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        match happening {
            Happening::Wake(ids) => {
                for id in ids {
                    match self.state.orders.get(&id).and_then(|order| order.waiting) {
                        Some(Waiting::Open) | Some(Waiting::Close) => self.auction(id, at, events)?,
                        _ => self.trade_now(id, at, events)?,
                    }
                }
            }
            Happening::Expire(ids) => {
                for id in ids {
                    self.cancel(id, Cancellation::Expired, at, events)?;
                }
            }
            Happening::Cross { lane, crossing, level, price } => {
                let ids: Vec<OrderId> = self
                    .book
                    .lanes()
                    .find(|(other, _)| *other == lane)
                    .and_then(|(_, lane_book)| match crossing {
                        Crossing::BuyLimits => lane_book.buy_limits.get(&level),
                        Crossing::SellLimits => lane_book.sell_limits.get(&level),
                        Crossing::BuyStops => lane_book.buy_stops.get(&level),
                        Crossing::SellStops => lane_book.sell_stops.get(&level),
                    })
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                for id in ids {
                    match crossing {
                        Crossing::BuyLimits | Crossing::SellLimits => {
                            self.fill_through(id, level, price, at, events)?
                        }
                        Crossing::BuyStops | Crossing::SellStops => self.trigger(id, None, at, events)?,
                    }
                }
            }
            Happening::Trail { order, extreme } => self.trigger(order, Some(extreme), at, events)?,
        }
        Ok(())
    }

    /// A resting limit the price traded through fills in full at its limit, or at the better
    /// price the market jumped to.
    fn fill_through(
        &mut self,
        id: OrderId,
        limit: Decimal,
        price: f64,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        // An order its OCA group cancelled a moment ago is no longer there to fill.
        let Some(order) =
            self.state.orders.get(&id).filter(|order| order.is_live() && order.waiting.is_none())
        else {
            return Ok(());
        };
        let side = order.ticket.side;
        let remaining = order.remaining();
        let instrument = self.venue_of(order.ticket.conid)?.instrument;
        let jumped = on_grid(
            instrument,
            price,
            match side {
                Side::Buy => Grid::Ceil,
                Side::Sell => Grid::Floor,
            },
        );
        let fill = match side {
            Side::Buy => limit.min(jumped),
            Side::Sell => limit.max(jumped),
        };
        self.settle(id, remaining, fill, at, events)
    }

    /// The market of `conid` reopens after a halt at `at`: the resting limits its price is
    /// beyond fill there (at their limit or the better reopening price), and the stops it is
    /// beyond trigger.
    pub(crate) fn reopen(
        &mut self,
        conid: Conid,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let Some(price) = self.state.venue(conid).map(|venue| venue.path.price(at)) else {
            return Ok(());
        };
        let mut limits = Vec::new();
        let mut stops = Vec::new();
        for (_, book) in self.book.lanes().filter(|(lane, _)| lane.conid == conid) {
            let below = |level: &&Decimal| price < to_f64(**level);
            let above = |level: &&Decimal| price > to_f64(**level);
            let crossed = |levels: &BTreeMap<Decimal, BTreeSet<OrderId>>,
                           beyond: &dyn Fn(&&Decimal) -> bool| {
                levels
                    .iter()
                    .filter(|(level, _)| beyond(level))
                    .flat_map(|(level, ids)| ids.iter().map(|id| (*id, *level)))
                    .collect::<Vec<_>>()
            };
            limits.extend(crossed(&book.buy_limits, &below));
            limits.extend(crossed(&book.sell_limits, &above));
            stops.extend(
                crossed(&book.buy_stops, &|level| price >= to_f64(**level)).into_iter().map(|(id, _)| id),
            );
            stops.extend(
                crossed(&book.sell_stops, &|level| price <= to_f64(**level)).into_iter().map(|(id, _)| id),
            );
        }
        for (id, level) in limits {
            self.fill_through(id, level, price, at, events)?;
        }
        for id in stops {
            self.trigger(id, None, at, events)?;
        }
        Ok(())
    }

    /// A stop is reached: the order starts working as a market or limit order and trades.
    fn trigger(
        &mut self,
        id: OrderId,
        extreme: Option<Decimal>,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        if !self
            .state
            .orders
            .get(&id)
            .is_some_and(|order| order.is_live() && order.waiting == Some(Waiting::Trigger))
        {
            return Ok(());
        }
        self.transition(id, OrderEvent::Work, at, events, |order| {
            if extreme.is_some() {
                order.trail_extreme = extreme;
            }
            order.waiting = None;
        })?;
        self.trade_now(id, at, events)
    }

    /// An opening or closing auction: the order fills in full at the auction's price if that
    /// is within its limit, and is cancelled otherwise.
    fn auction(&mut self, id: OrderId, at: Timestamp, events: &mut Vec<Event>) -> Result<(), EngineError> {
        let Some(order) = self.state.orders.get(&id) else {
            return Ok(());
        };
        let (side, limit, remaining) = (order.ticket.side, order.limit_price(), order.remaining());
        let venue = self.venue_of(order.ticket.conid)?;
        if venue.path.halted(at) {
            return self.cancel(id, Cancellation::AuctionHalted, at, events);
        }
        let price = on_grid(venue.instrument, venue.path.price(at), Grid::Round);
        let within = limit.is_none_or(|limit| match side {
            Side::Buy => price <= limit,
            Side::Sell => price >= limit,
        });
        if within {
            self.settle(id, remaining, price, at, events)
        } else {
            self.cancel(id, Cancellation::AuctionBeyondLimit, at, events)
        }
    }
}
