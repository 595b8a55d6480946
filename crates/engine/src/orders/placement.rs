//! Placing, modifying and cancelling orders: each ticket is checked against its instrument and
//! the account's money and holdings before anything is written, and a request is accepted
//! whole or refused whole.

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use market::quote::Touch;
use model::{
    AccountId, AssetClass, Instrument, OrderId, OrderStatus, OrderType, SessionId, Side, TimeInForce, Trail,
    Username,
};
use rust_decimal::Decimal;

use super::execution::MAX_LEVELS;
use super::lifecycle::{Cancellation, OrderEvent};
use super::{Order, OrderRejection, Size, Ticket, Waiting, hours};
use crate::{Engine, EngineError, Event};

/// The first order id handed out; IBKR's order ids are large positive integers.
const FIRST_ORDER_ID: u64 = 1_000_000_001;

/// The largest size an order may have: far beyond any real order, and small enough that its
/// value and margin never overflow.
pub(super) const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// The largest price (and cash quantity) an order may name.
pub(super) const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Whether `price` is a whole number of `instrument`'s ticks.
fn on_tick(instrument: &Instrument, price: Decimal) -> bool {
    let tick = instrument.tick_at(price);
    !tick.is_zero() && (price % tick).is_zero()
}

/// Checks a ticket against its instrument: sizes, prices, times in force and hours.
fn check_ticket(instrument: &Instrument, ticket: &Ticket) -> Result<(), EngineError> {
    let increment = instrument.size_increment();
    match ticket.size {
        Size::Quantity(quantity) if quantity <= Decimal::ZERO => {
            return Err(OrderRejection::NonPositiveSize { quantity }.into());
        }
        Size::Quantity(quantity) if !(quantity % increment).is_zero() => {
            return Err(OrderRejection::OffIncrement {
                quantity,
                increment,
                conid: instrument.conid,
                symbol: instrument.local_symbol(),
            }
            .into());
        }
        Size::Cash(amount) if amount <= Decimal::ZERO => {
            return Err(OrderRejection::NonPositiveCash { amount }.into());
        }
        Size::Quantity(quantity) if quantity > MAX_QUANTITY => {
            return Err(OrderRejection::SizeTooLarge { quantity }.into());
        }
        Size::Cash(amount) if amount > MAX_PRICE => {
            return Err(OrderRejection::CashTooLarge { amount }.into());
        }
        Size::Cash(_) if instrument.asset_class == AssetClass::Forex => {
            return Err(OrderRejection::CashForCurrencyPair { conid: instrument.conid }.into());
        }
        _ => {}
    }
    let prices: Vec<Decimal> = match ticket.order_type {
        OrderType::Limit { limit } | OrderType::LimitOnClose { limit } => vec![limit],
        OrderType::Stop { stop } => vec![stop],
        OrderType::StopLimit { stop, limit } => vec![stop, limit],
        OrderType::MidPrice { limit } => limit.into_iter().collect(),
        OrderType::TrailingStop { trail } | OrderType::TrailingStopLimit { trail, .. } => {
            check_trail(instrument, trail)?;
            Vec::new()
        }
        OrderType::Market | OrderType::MarketOnClose => Vec::new(),
    };
    if let Some(&price) = prices.iter().find(|price| **price > MAX_PRICE) {
        return Err(OrderRejection::PriceTooLarge { price }.into());
    }
    if let Some(&price) =
        prices.iter().find(|price| **price <= Decimal::ZERO || !on_tick(instrument, **price))
    {
        return Err(OrderRejection::OffTick {
            price,
            tick: instrument.tick_at(price),
            conid: instrument.conid,
            symbol: instrument.local_symbol(),
        }
        .into());
    }
    if let OrderType::TrailingStopLimit { offset, .. } = ticket.order_type
        && (offset.is_sign_negative()
            || offset > MAX_PRICE
            || !(offset % instrument.tick_at(offset.max(Decimal::ONE))).is_zero())
    {
        return Err(OrderRejection::LimitOffsetOffTick { offset }.into());
    }
    check_time_in_force(instrument, ticket)
}

fn check_trail(instrument: &Instrument, trail: Trail) -> Result<(), EngineError> {
    match trail {
        Trail::Amount(amount)
            if amount <= Decimal::ZERO || amount > MAX_PRICE || !on_tick(instrument, amount) =>
        {
            Err(OrderRejection::TrailingAmountOffTick { amount }.into())
        }
        Trail::Percent(percent) if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED => {
            Err(OrderRejection::TrailingPercentOutOfRange { percent }.into())
        }
        _ => Ok(()),
    }
}

fn check_time_in_force(instrument: &Instrument, ticket: &Ticket) -> Result<(), EngineError> {
    let stock = instrument.asset_class == AssetClass::Stock;
    let market_like = matches!(
        ticket.order_type,
        OrderType::Market
            | OrderType::Stop { .. }
            | OrderType::TrailingStop { .. }
            | OrderType::MarketOnClose
    );
    if ticket.order_type.is_on_close() && (!stock || ticket.tif != TimeInForce::Day) {
        return Err(OrderRejection::OnCloseTerms.into());
    }
    if ticket.tif == TimeInForce::AtTheOpening
        && (!stock || !matches!(ticket.order_type, OrderType::Market | OrderType::Limit { .. }))
    {
        return Err(OrderRejection::OpeningTerms.into());
    }
    if instrument.asset_class == AssetClass::Crypto && ticket.tif == TimeInForce::Day {
        return Err(OrderRejection::CryptoDay.into());
    }
    if stock && ticket.outside_rth && market_like {
        // IBKR lets only limit-priced orders work outside regular trading hours.
        return Err(OrderRejection::OutsideRegularHours.into());
    }
    Ok(())
}

/// A ticket once checked: its instrument, its quantity, and the price its risk is judged at.
pub(super) struct Checked<'t> {
    pub(super) ticket: &'t Ticket,
    pub(super) instrument: &'static Instrument,
    pub(super) quantity: Decimal,
    pub(super) reference: Decimal,
}

/// The price an order is expected to trade at: its limit, its stop, or the touch.
fn reference_price(ticket: &Ticket, touch: &Touch) -> Decimal {
    let touch = match ticket.side {
        Side::Buy => touch.ask,
        Side::Sell => touch.bid,
    };
    match ticket.order_type {
        OrderType::Limit { limit }
        | OrderType::StopLimit { limit, .. }
        | OrderType::LimitOnClose { limit }
        | OrderType::MidPrice { limit: Some(limit) } => limit,
        OrderType::Stop { stop } => stop,
        _ => touch,
    }
}

impl Engine {
    /// The user of an open session, entitled to `account`.
    pub(super) fn trader(&self, session: &SessionId, account: &AccountId) -> Result<Username, EngineError> {
        let user = self
            .state
            .sessions
            .get(session)
            .ok_or_else(|| EngineError::UnknownSession(session.clone()))?
            .user
            .clone();
        if !self.state.is_entitled(&user, account) {
            return Err(EngineError::NotEntitled { user, account: account.clone() });
        }
        if self.state.accounts.get(account).is_some_and(|open| open.closed_at.is_some()) {
            return Err(OrderRejection::AccountClosed { account: account.clone() }.into());
        }
        Ok(user)
    }

    /// Checks `ticket` and works out its quantity.
    pub(super) fn check<'t>(&self, ticket: &'t Ticket, at: Timestamp) -> Result<Checked<'t>, EngineError> {
        let instrument = Catalogue::standard()
            .get(ticket.conid)
            .ok_or(OrderRejection::NoSecurityDefinition { conid: ticket.conid })?;
        check_ticket(instrument, ticket)?;
        let venue = self.venue_of(ticket.conid)?;
        let touch = venue.activity.touch(&venue.path, at);
        let reference = reference_price(ticket, &touch);
        let quantity = match ticket.size {
            Size::Quantity(quantity) => quantity,
            Size::Cash(amount) => {
                let increment = instrument.size_increment();
                let quantity = (amount / reference / increment).floor() * increment;
                if quantity.is_zero() {
                    return Err(OrderRejection::CashBuysNothing {
                        amount,
                        currency: instrument.currency,
                        asset_class: instrument.asset_class,
                        price: reference,
                    }
                    .into());
                }
                quantity
            }
        };
        // A market order pays for its size: judge it at the average price of the book it
        // would take now.
        let reference = if ticket.order_type == OrderType::Market {
            let minute = venue.path.timeline().position(at).minute;
            let mut left = quantity;
            let mut paid = Decimal::ZERO;
            for level in venue.activity.depth(&touch, minute, ticket.side).take(MAX_LEVELS) {
                let take = left.min(level.size);
                paid += take * level.price;
                left -= take;
                if left.is_zero() {
                    break;
                }
            }
            if left.is_zero() { (paid / quantity).round_dp(8) } else { reference }
        } else {
            reference
        };
        Ok(Checked { ticket, instrument, quantity, reference })
    }

    /// Places `tickets` for `account` at `at`: all of them, or none when one is refused. With
    /// `one_cancels_all`, the first fill of any cancels the others.
    pub(crate) fn place_orders(
        &mut self,
        at: Timestamp,
        session: &SessionId,
        account: &AccountId,
        tickets: &[Ticket],
        one_cancels_all: bool,
    ) -> Result<Vec<Event>, EngineError> {
        let user = self.trader(session, account)?;
        if tickets.is_empty() {
            return Err(OrderRejection::NoOrders.into());
        }
        let checked = tickets.iter().map(|ticket| self.check(ticket, at)).collect::<Result<Vec<_>, _>>()?;
        self.check_client_ids(account, tickets)?;
        let parents = self.check_brackets(&checked)?;
        self.check_risk(account, &checked, None, false, at)?;
        let mut events = Vec::new();
        let mut ids = Vec::new();
        let mut by_client_id: BTreeMap<&str, OrderId> = BTreeMap::new();
        for (index, order) in checked.iter().enumerate() {
            let id = self.next_order_id();
            let parent = parents[index].and_then(|cid| by_client_id.get(cid).copied());
            if let Some(cid) = order.ticket.client_order_id.as_deref() {
                by_client_id.insert(cid, id);
            }
            self.file_order(id, account, &user, order, parent, at)?;
            events.push(Event::OrderPlaced { order: id });
            ids.push(id);
        }
        self.group(&ids, one_cancels_all);
        // Exits start when their parent fills, which may happen while the parents start here.
        let parents: Vec<OrderId> = ids
            .into_iter()
            .filter(|id| self.state.orders.get(id).is_some_and(|order| order.parent.is_none()))
            .collect();
        for id in parents {
            self.begin_working(id, at, &mut events)?;
        }
        Ok(events)
    }

    /// The id of the next order.
    pub(super) fn next_order_id(&mut self) -> OrderId {
        self.state.orders_placed += 1;
        OrderId::new(FIRST_ORDER_ID + self.state.orders_placed - 1)
    }

    /// Files a new order `id` for `account`, placed by `submitter`, as `PreSubmitted`: in the
    /// state, its client id and bracket registered, in the book.
    pub(super) fn file_order(
        &mut self,
        id: OrderId,
        account: &AccountId,
        submitter: &Username,
        order: &Checked<'_>,
        parent: Option<OrderId>,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let venue = self.venue_of(order.ticket.conid)?;
        let expires_at = (order.ticket.tif == TimeInForce::Day)
            .then(|| hours::next_end(venue.path.timeline(), !order.ticket.outside_rth, at))
            .flatten();
        let new = Order {
            id,
            account: account.clone(),
            submitter: submitter.clone(),
            ticket: order.ticket.clone(),
            quantity: order.quantity,
            status: OrderStatus::PreSubmitted,
            waiting: parent.map(|_| Waiting::Parent),
            filled: Decimal::ZERO,
            filled_value: Decimal::ZERO,
            commission_base: Decimal::ZERO,
            commission: Decimal::ZERO,
            reference: order.reference,
            last_execution_at: None,
            placed_at: at,
            updated_at: at,
            parent,
            oca_group: None,
            trail_extreme: None,
            wakes_at: None,
            expires_at,
            reason: None,
        };
        if let Some(cid) = &new.ticket.client_order_id {
            self.state.client_ids.entry(account.clone()).or_default().insert(cid.clone(), id);
        }
        if let Some(parent) = parent {
            self.state.children.entry(parent).or_default().push(id);
        }
        self.book.refile(&new);
        self.state.orders.insert(id, new);
        Ok(())
    }

    /// Puts the exits of each bracket, and with `one_cancels_all` every order, in OCA groups.
    fn group(&mut self, ids: &[OrderId], one_cancels_all: bool) {
        let mut groups: BTreeMap<OrderId, OrderId> = BTreeMap::new();
        for id in ids {
            let Some(order) = self.state.orders.get(id) else { continue };
            // A bracket's exits are a group of their own, whatever the request asks.
            let group = match order.parent {
                Some(parent) => Some(*groups.entry(parent).or_insert(*id)),
                None if one_cancels_all => Some(ids[0]),
                None => None,
            };
            if let Some(group) = group {
                self.state.oca_groups.entry(group).or_default().push(*id);
            }
            if let Some(order) = self.state.orders.get_mut(id) {
                order.oca_group = group;
            }
        }
    }

    /// Refuses a client order id the account already used, or used twice in the request.
    fn check_client_ids(&self, account: &AccountId, tickets: &[Ticket]) -> Result<(), EngineError> {
        let mut seen = std::collections::BTreeSet::new();
        let used = self.state.client_ids.get(account);
        for cid in tickets.iter().filter_map(|ticket| ticket.client_order_id.as_deref()) {
            if used.is_some_and(|ids| ids.contains_key(cid)) || !seen.insert(cid) {
                return Err(OrderRejection::ClientOrderIdUsed { client_order_id: cid.to_owned() }.into());
            }
        }
        Ok(())
    }

    /// Matches each bracket exit to its parent's client id in the same request.
    /// An exit closes what its parent opens: the same contract, the other side, no more than
    /// the parent's size.
    fn check_brackets<'t>(&self, checked: &[Checked<'t>]) -> Result<Vec<Option<&'t str>>, EngineError> {
        checked
            .iter()
            .enumerate()
            .map(|(index, exit)| {
                let Some(parent) = exit.ticket.parent_client_order_id.as_deref() else {
                    return Ok(None);
                };
                let found = checked[..index].iter().find(|other| {
                    other.ticket.client_order_id.as_deref() == Some(parent)
                        && other.ticket.parent_client_order_id.is_none()
                });
                match found {
                    None => Err(OrderRejection::ParentMissing { parent: parent.to_owned() }.into()),
                    Some(entry) if entry.ticket.conid != exit.ticket.conid => {
                        Err(OrderRejection::BracketContracts {
                            parent: entry.ticket.conid,
                            exit: exit.ticket.conid,
                        }
                        .into())
                    }
                    Some(entry) if entry.ticket.side == exit.ticket.side => {
                        Err(OrderRejection::BracketSides.into())
                    }
                    Some(entry) if exit.quantity > entry.quantity => {
                        Err(OrderRejection::ExitLargerThanParent {
                            exit: exit.quantity,
                            parent: entry.quantity,
                        }
                        .into())
                    }
                    Some(_) => Ok(Some(parent)),
                }
            })
            .collect()
    }

    /// Starts order `id` working at `at`: into its auction, onto its trigger, or into the
    /// market, where it may trade at once.
    pub(super) fn begin_working(
        &mut self,
        id: OrderId,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let Some(order) = self.state.orders.get(&id).filter(|order| order.is_live()) else {
            return Ok(());
        };
        let (order_type, tif, conid, side) =
            (order.ticket.order_type, order.ticket.tif, order.ticket.conid, order.ticket.side);
        let venue = self.venue_of(conid)?;
        let timeline = venue.path.timeline();
        if order_type.is_on_close() {
            return match hours::next_end(timeline, true, at) {
                Some(close) => self.wait(id, Waiting::Close, Some(close), at, events),
                None => self.deactivate(id, Cancellation::NoClosingAuction, at, events),
            };
        }
        if tif == TimeInForce::AtTheOpening {
            return match hours::next_start(timeline, true, at) {
                Some(open) => self.wait(id, Waiting::Open, Some(open), at, events),
                None => self.deactivate(id, Cancellation::NoOpeningAuction, at, events),
            };
        }
        if order_type.is_stop() {
            let last = venue.activity.touch(&venue.path, at).last;
            if order_type.is_trailing() {
                self.amend(id, at, events, |order| order.trail_extreme = Some(last));
            }
            let stop = self.state.orders.get(&id).and_then(super::Order::stop_price);
            let reached = stop.is_some_and(|stop| match side {
                Side::Buy => last >= stop,
                Side::Sell => last <= stop,
            });
            if !reached {
                return self.wait(id, Waiting::Trigger, None, at, events);
            }
        }
        self.trade_now(id, at, events)
    }
}

impl Engine {
    /// Changes working order `id` to `ticket`: its contract and side stay, its client id and
    /// bracket stay, and it may trade at once at its new terms.
    pub(crate) fn modify_order(
        &mut self,
        at: Timestamp,
        session: &SessionId,
        account: &AccountId,
        id: OrderId,
        ticket: &Ticket,
    ) -> Result<Vec<Event>, EngineError> {
        self.trader(session, account)?;
        let order = self.owned(account, id)?;
        if !order.is_live() {
            return Err(EngineError::FinishedOrder { order: id, status: order.status });
        }
        if ticket.conid != order.ticket.conid || ticket.side != order.ticket.side {
            return Err(OrderRejection::ModificationChangesContract.into());
        }
        let mut ticket = ticket.clone();
        ticket.client_order_id.clone_from(&order.ticket.client_order_id);
        ticket.parent_client_order_id.clone_from(&order.ticket.parent_client_order_id);
        let (filled, waiting, had_day, parent) =
            (order.filled, order.waiting, order.ticket.tif == TimeInForce::Day, order.parent);
        let checked = self.check(&ticket, at)?;
        if checked.quantity < filled {
            return Err(OrderRejection::BelowFilled { quantity: checked.quantity, filled }.into());
        }
        let parent_size =
            parent.and_then(|parent| self.state.orders.get(&parent)).map(|parent| parent.quantity);
        if let Some(parent) = parent_size.filter(|size| checked.quantity > *size) {
            return Err(OrderRejection::ExitLargerThanParent { exit: checked.quantity, parent }.into());
        }
        // An exit waiting for its parent sells nothing yet; a working one is a sale like any.
        if waiting != Some(Waiting::Parent) {
            self.check_risk(account, std::slice::from_ref(&checked), Some(id), parent.is_some(), at)?;
        }
        let (quantity, reference) = (checked.quantity, checked.reference);
        let expires_at = match (ticket.tif == TimeInForce::Day, had_day) {
            (true, true) => self.state.orders.get(&id).and_then(|order| order.expires_at),
            (true, false) => {
                let venue = self.venue_of(ticket.conid)?;
                hours::next_end(venue.path.timeline(), !ticket.outside_rth, at)
            }
            (false, _) => None,
        };
        let mut events = Vec::new();
        // Never below what has filled (refused above), so it is done when it is just that.
        let filled_now = quantity == filled;
        self.transition(id, OrderEvent::Modify { complete: filled_now }, at, &mut events, |order| {
            order.ticket = ticket;
            order.quantity = quantity;
            order.reference = reference;
            order.expires_at = expires_at;
            if filled_now {
                order.waiting = None;
                order.wakes_at = None;
            }
        })?;
        if filled_now {
            // Cut to what had filled: the order is done, as if its last fill completed it.
            self.after_fill(id, at, &mut events)?;
        } else if !matches!(waiting, Some(Waiting::Parent | Waiting::Halt)) {
            // Its new terms decide anew what it waits for: a trigger, an auction, its session.
            self.begin_working(id, at, &mut events)?;
        }
        Ok(events)
    }

    /// Cancels working order `id`.
    pub(crate) fn cancel_order(
        &mut self,
        at: Timestamp,
        session: &SessionId,
        account: &AccountId,
        id: OrderId,
    ) -> Result<Vec<Event>, EngineError> {
        self.trader(session, account)?;
        let order = self.owned(account, id)?;
        if !order.is_live() {
            return Err(EngineError::FinishedOrder { order: id, status: order.status });
        }
        let mut events = Vec::new();
        self.cancel(id, Cancellation::ByAccount, at, &mut events)?;
        Ok(events)
    }

    /// Cancels every working order of `account`.
    pub(crate) fn cancel_all_orders(
        &mut self,
        at: Timestamp,
        session: &SessionId,
        account: &AccountId,
    ) -> Result<Vec<Event>, EngineError> {
        self.trader(session, account)?;
        let live: Vec<OrderId> = self
            .state
            .orders
            .values()
            .filter(|order| &order.account == account && order.is_live())
            .map(|order| order.id)
            .collect();
        let mut events = Vec::new();
        for id in live {
            self.cancel(id, Cancellation::ByAccount, at, &mut events)?;
        }
        Ok(events)
    }

    /// Orders of `conid` waiting for a halt to end trade again, now that it has.
    pub(crate) fn resume_halted(
        &mut self,
        conid: model::Conid,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let halted: Vec<OrderId> = self
            .state
            .orders
            .values()
            .filter(|order| order.ticket.conid == conid && order.waiting == Some(Waiting::Halt))
            .map(|order| order.id)
            .collect();
        for id in halted {
            self.trade_now(id, at, events)?;
        }
        // The market reopens where the halt left it: resting limits it is beyond fill there, and
        // stops it is beyond trigger.
        self.reopen(conid, at, events)
    }

    /// Order `id` of `account`.
    fn owned(&self, account: &AccountId, id: OrderId) -> Result<&Order, EngineError> {
        self.state
            .orders
            .get(&id)
            .filter(|order| &order.account == account)
            .ok_or(EngineError::UnknownOrder(id))
    }
}
