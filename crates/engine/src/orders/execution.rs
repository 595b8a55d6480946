//! Executions: an order trading against the book the market shows, and what each fill does to
//! the order, the position, the ledger, and the order's bracket and one-cancels-all group.

use jiff::Timestamp;
use market::Catalogue;
use model::{
    AccountId, AssetClass, Currency, ExecutionId, Instrument, MarginKind, OrderId, OrderStatus, OrderType,
    Side, TimeInForce,
};
use rust_decimal::Decimal;

use super::lifecycle::{self, Cancellation, OrderEvent};
use super::{Execution, Waiting, hours};
use crate::commissions::Schedule;
use crate::ledger::{Book, Cause, Entry};
use crate::market::Venue;
use crate::portfolio::Rates;
use crate::positions::fill_postings;
use crate::{Engine, EngineError, Event};

/// The most book levels one order walks: far deeper than any order reaches.
pub(super) const MAX_LEVELS: usize = 100_000;

/// Whether `price` is at `limit` or better for a `side` order.
fn within(side: Side, price: Decimal, limit: Decimal) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

impl Engine {
    /// Lets order `id` trade at `at` as far as the book and its limit allow. What is left rests
    /// at its limit, is cancelled (immediate-or-cancel, or a market order the book could not
    /// fill), or waits: for its session if the market is closed to it, for the halt's end.
    pub(super) fn trade_now(
        &mut self,
        id: OrderId,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let Some(order) = self.state.orders.get(&id).filter(|order| order.is_live()) else {
            return Ok(());
        };
        let (side, tif, limit, order_type) =
            (order.ticket.side, order.ticket.tif, order.limit_price(), order.ticket.order_type);
        let lane = order.lane();
        let venue = self.venue_of(order.ticket.conid)?;
        let timeline = venue.path.timeline();
        if venue.path.halted(at) {
            return self.wait(id, Waiting::Halt, None, at, events);
        }
        if !hours::is_open(timeline, lane.regular_only, at) {
            // Never wake where it already is: a boundary instant counts as closed here.
            return match hours::next_open(timeline, lane.regular_only, at) {
                Some(opens) => {
                    let opens =
                        opens.max(at.saturating_add(jiff::SignedDuration::from_secs(1)).unwrap_or(at));
                    self.wait(id, Waiting::Session, Some(opens), at, events)
                }
                None => self.deactivate(id, Cancellation::MarketClosedForGood, at, events),
            };
        }
        let touch = venue.activity.touch(&venue.path, at);
        let minute = timeline.position(at).minute;
        let mut remaining = self.remaining(id);
        if let OrderType::MidPrice { limit: cap } = order_type {
            let mid = market::quote::on_grid(
                venue.instrument,
                f64::try_from((touch.bid + touch.ask) / Decimal::TWO).unwrap_or(0.0),
                match side {
                    Side::Buy => market::quote::Grid::Floor,
                    Side::Sell => market::quote::Grid::Ceil,
                },
            );
            if cap.is_none_or(|cap| within(side, mid, cap)) {
                return self.settle(id, remaining, mid, at, events);
            }
        } else {
            // The levels the order reaches: the book is computed level by level, as deep as the
            // order's size (or its limit) takes it, and no deeper.
            let mut reached = Decimal::ZERO;
            let levels: Vec<_> = venue
                .activity
                .depth(&touch, minute, side)
                .take(MAX_LEVELS)
                .take_while(|level| limit.is_none_or(|limit| within(side, level.price, limit)))
                .take_while(|level| {
                    let deeper = reached < remaining;
                    reached += level.size;
                    deeper
                })
                .collect();
            let available: Decimal = levels.iter().map(|level| level.size).sum();
            if tif == TimeInForce::FillOrKill && available < remaining {
                return self.cancel(id, Cancellation::NotFilledInFull, at, events);
            }
            for level in levels {
                if remaining.is_zero() {
                    break;
                }
                let wanted = remaining.min(level.size);
                let quantity = self.affordable(id, wanted, level.price, at);
                if !quantity.is_zero() {
                    self.settle(id, quantity, level.price, at, events)?;
                    remaining -= quantity;
                }
                if quantity < wanted {
                    return self.cancel(id, Cancellation::CashRanOut, at, events);
                }
            }
        }
        if remaining.is_zero() {
            return Ok(());
        }
        match (tif, limit) {
            (TimeInForce::ImmediateOrCancel, _) => {
                self.cancel(id, Cancellation::ImmediateRemainder, at, events)
            }
            (_, Some(_)) => self.rest(id, at, events),
            (_, None) => self.cancel(id, Cancellation::BookExhausted, at, events),
        }
    }

    /// How much of `quantity` at `price` order `id` can pay for, when it must be paid in full
    /// (a cash account's purchase, or a coin's): the cash its account holds now pays for the
    /// fill and its commission. Anything else is paid for as it is.
    fn affordable(&self, id: OrderId, quantity: Decimal, price: Decimal, at: Timestamp) -> Decimal {
        let Some(order) = self.state.orders.get(&id) else {
            return Decimal::ZERO;
        };
        let Some(instrument) = Catalogue::standard().get(order.ticket.conid) else {
            return Decimal::ZERO;
        };
        let cash_account =
            self.state.accounts.get(&order.account).is_some_and(|a| a.margin == MarginKind::Cash);
        if order.ticket.side == Side::Sell || !(cash_account || instrument.asset_class == AssetClass::Crypto)
        {
            return quantity;
        }
        let (schedule, value) = self.charging(&order.account, instrument, quantity, price, at);
        let commission = schedule.execution(
            (order.filled, order.commission_base),
            (order.filled + quantity, order.commission_base + value),
        );
        let commission = if schedule.currency == instrument.currency { commission } else { Decimal::ZERO };
        let cash = self.state.ledger.balance(&order.account, Book::Cash, instrument.currency);
        if cash >= quantity * price + commission {
            return quantity;
        }
        let increment = instrument.size_increment();
        (((cash - commission) / price / increment).floor() * increment).clamp(Decimal::ZERO, quantity)
    }

    /// What is left of order `id` to fill.
    pub(super) fn remaining(&self, id: OrderId) -> Decimal {
        self.state.orders.get(&id).map(super::Order::remaining).unwrap_or_default()
    }

    /// The market of `conid`; every order's instrument is listed, so a miss is a bug.
    pub(super) fn venue_of(&self, conid: model::Conid) -> Result<Venue, EngineError> {
        self.state.venue(conid).ok_or(EngineError::UnknownInstrument(conid))
    }

    /// Order `id` works at its limit from `at` on.
    pub(super) fn rest(
        &mut self,
        id: OrderId,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        self.transition(id, OrderEvent::Work, at, events, |order| {
            order.waiting = None;
            order.wakes_at = None;
        })
    }

    /// Order `id` waits for `what` (until `wakes_at`, when that is known).
    pub(super) fn wait(
        &mut self,
        id: OrderId,
        what: Waiting,
        wakes_at: Option<Timestamp>,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        self.transition(id, OrderEvent::Wait, at, events, |order| {
            order.waiting = Some(what);
            order.wakes_at = wakes_at;
        })
    }

    /// Makes order `id` inactive for `reason`: it can never trade.
    pub(super) fn deactivate(
        &mut self,
        id: OrderId,
        reason: Cancellation,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        self.cancel(id, reason, at, events)?;
        self.transition(id, OrderEvent::Deactivate, at, events, |_| {})
    }

    /// Cancels order `id` for `reason`, and its bracket exits that never started working.
    pub(crate) fn cancel(
        &mut self,
        id: OrderId,
        reason: Cancellation,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        if !self.state.orders.get(&id).is_some_and(super::Order::is_live) {
            return Ok(());
        }
        self.transition(id, OrderEvent::Cancel, at, events, |order| {
            order.waiting = None;
            order.wakes_at = None;
            order.reason = Some(reason);
        })?;
        for child in self.waiting_children(id) {
            self.cancel(child, Cancellation::ParentCancelled, at, events)?;
        }
        Ok(())
    }

    /// The bracket exits of `parent` still waiting for it.
    fn waiting_children(&self, parent: OrderId) -> Vec<OrderId> {
        self.state
            .children
            .get(&parent)
            .into_iter()
            .flatten()
            .filter(|child| self.state.orders.get(child).is_some_and(|c| c.waiting == Some(Waiting::Parent)))
            .copied()
            .collect()
    }

    /// Moves order `id` to the status the state machine gives for `event`, applies `update`
    /// to the rest of it, refiles it, and reports the change.
    ///
    /// # Errors
    /// [`EngineError::IllegalTransition`] when the order's status does not allow `event`: a
    /// bug, refused before the order changes.
    pub(super) fn transition(
        &mut self,
        id: OrderId,
        event: OrderEvent,
        at: Timestamp,
        events: &mut Vec<Event>,
        update: impl FnOnce(&mut super::Order),
    ) -> Result<(), EngineError> {
        let Some(order) = self.state.orders.get_mut(&id) else {
            return Ok(());
        };
        order.status = lifecycle::next(order.status, event)
            .map_err(|illegal| EngineError::IllegalTransition { order: id, illegal })?;
        update(order);
        order.updated_at = at;
        self.book.refile(order);
        events.push(Event::OrderChanged { order: id, status: order.status });
        Ok(())
    }

    /// Applies `update`, which leaves the status alone, to order `id` (a trailing stop's best
    /// price), refiles it, and reports the change.
    pub(super) fn amend(
        &mut self,
        id: OrderId,
        at: Timestamp,
        events: &mut Vec<Event>,
        update: impl FnOnce(&mut super::Order),
    ) {
        if let Some(order) = self.state.orders.get_mut(&id) {
            update(order);
            order.updated_at = at;
            self.book.refile(order);
            events.push(Event::OrderChanged { order: id, status: order.status });
        }
    }

    /// Fills `quantity` of order `id` at `price` at `at`: the execution, its commission, the
    /// position, the ledger entry, and then the order's bracket and OCA group.
    pub(super) fn settle(
        &mut self,
        id: OrderId,
        quantity: Decimal,
        price: Decimal,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let order = self.state.orders.get(&id).ok_or(EngineError::UnknownOrder(id))?;
        let (account, conid, side) = (order.account.clone(), order.ticket.conid, order.ticket.side);
        let complete = order.remaining() <= quantity;
        let instrument = Catalogue::standard().get(conid).ok_or(EngineError::UnknownInstrument(conid))?;
        let (schedule, value) = self.charging(&account, instrument, quantity, price, at);
        let commission = schedule.execution(
            (order.filled, order.commission_base),
            (order.filled + quantity, order.commission_base + value),
        );
        let mut position =
            self.state.positions.get(&account).and_then(|held| held.get(&conid)).cloned().unwrap_or_default();
        // A commission in the instrument's own currency is part of the position's cost.
        let capitalized = if instrument.currency == schedule.currency { commission } else { Decimal::ZERO };
        let effect = (instrument.asset_class != AssetClass::Forex)
            .then(|| position.fill(side, quantity, price, capitalized));
        let execution = ExecutionId::new(self.state.executions.len() as u64 + 1);
        let entry = Entry {
            account: account.clone(),
            at,
            cause: Cause::Execution { execution },
            postings: fill_postings(instrument, side, quantity, price, effect, commission, schedule.currency),
        };
        self.state.ledger.post(entry)?;
        if effect.is_some() {
            self.state.positions.entry(account.clone()).or_default().insert(conid, position);
        }
        self.state.executions.push(Execution {
            id: execution,
            order: id,
            account,
            conid,
            side,
            quantity,
            price,
            commission,
            commission_currency: schedule.currency,
            at,
        });
        events.push(Event::Executed { execution, order: id });
        self.transition(id, OrderEvent::Fill { complete }, at, events, |order| {
            order.filled += quantity;
            order.filled_value += quantity * price;
            order.commission_base += value;
            order.commission += commission;
            order.last_execution_at = Some(at);
            if complete {
                order.waiting = None;
                order.wakes_at = None;
            }
        })?;
        self.after_fill(id, at, events)
    }

    /// A fill's consequences: the other orders of its OCA group are cancelled, and once the
    /// order is filled its bracket exits start working.
    pub(super) fn after_fill(
        &mut self,
        id: OrderId,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let Some(order) = self.state.orders.get(&id) else {
            return Ok(());
        };
        let filled = order.status == OrderStatus::Filled;
        if let Some(group) = order.oca_group {
            let siblings: Vec<OrderId> = self
                .state
                .oca_groups
                .get(&group)
                .into_iter()
                .flatten()
                .filter(|other| {
                    **other != id && self.state.orders.get(other).is_some_and(super::Order::is_live)
                })
                .copied()
                .collect();
            for sibling in siblings {
                self.cancel(sibling, Cancellation::OneCancelsAll, at, events)?;
            }
        }
        if filled {
            for child in self.waiting_children(id) {
                self.begin_working(child, at, events)?;
            }
        }
        Ok(())
    }

    /// The value of `quantity` at `price` of `instrument` in US dollars, which commissions are
    /// charged on: a currency pair quoted in another currency is converted at the market.
    pub(super) fn usd_value(
        &self,
        instrument: &Instrument,
        quantity: Decimal,
        price: Decimal,
        at: Timestamp,
    ) -> Decimal {
        if instrument.asset_class == AssetClass::Forex && instrument.symbol == "USD" {
            return quantity;
        }
        self.to_usd(instrument.currency, quantity * price, at)
    }

    /// The schedule `instrument`'s orders in `account` are charged on, and the value of
    /// `quantity` at `price` in its currency.
    pub(super) fn charging(
        &self,
        account: &AccountId,
        instrument: &Instrument,
        quantity: Decimal,
        price: Decimal,
        at: Timestamp,
    ) -> (Schedule, Decimal) {
        let schedule = self.plan_of(account).schedule(instrument);
        let value = if schedule.currency == instrument.currency {
            quantity * price
        } else {
            Rates::new(&self.state, schedule.currency, at)
                .convert(Currency::USD, self.usd_value(instrument, quantity, price, at))
        };
        (schedule, value)
    }

    /// An amount of `currency` in US dollars, at the mid of its pair with the dollar.
    pub(super) fn to_usd(&self, currency: Currency, amount: Decimal, at: Timestamp) -> Decimal {
        Rates::new(&self.state, Currency::USD, at).convert(currency, amount)
    }
}
