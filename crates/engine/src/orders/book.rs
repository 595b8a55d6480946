//! The index of working orders, so that as time passes only the orders something happens to
//! are looked at: per lane (an instrument, and whether its orders work in regular hours only)
//! by the price that sets each off, and across all instruments by the instant each wakes up or
//! expires. It also keeps what each account's working orders commit it to, so that a risk
//! check need not look at every order. It is derived from the orders, never serialised, and
//! rebuilt when a snapshot loads.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, AssetClass, Conid, Currency, OrderId, Side};
use rust_decimal::Decimal;

use super::{Order, Waiting};

/// An instrument's orders that share their trading hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Lane {
    /// The instrument.
    pub(crate) conid: Conid,
    /// Whether they work in regular trading hours only.
    pub(crate) regular_only: bool,
}

/// Where an order is filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    BuyLimit(Decimal),
    SellLimit(Decimal),
    BuyStop(Decimal),
    SellStop(Decimal),
    Trailing,
    Wake(Timestamp),
    Expiry(Timestamp),
}

/// The orders of one lane the price can set off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LaneBook {
    /// Resting buy limits by price: the highest is crossed first as the price falls.
    pub(crate) buy_limits: BTreeMap<Decimal, BTreeSet<OrderId>>,
    /// Resting sell limits by price: the lowest is crossed first as the price rises.
    pub(crate) sell_limits: BTreeMap<Decimal, BTreeSet<OrderId>>,
    /// Buy stops by stop price: the lowest triggers first as the price rises.
    pub(crate) buy_stops: BTreeMap<Decimal, BTreeSet<OrderId>>,
    /// Sell stops by stop price: the highest triggers first as the price falls.
    pub(crate) sell_stops: BTreeMap<Decimal, BTreeSet<OrderId>>,
    /// Trailing stops, whose stops move with the price.
    pub(crate) trailing: BTreeSet<OrderId>,
}

impl LaneBook {
    fn is_empty(&self) -> bool {
        self.buy_limits.is_empty()
            && self.sell_limits.is_empty()
            && self.buy_stops.is_empty()
            && self.sell_stops.is_empty()
            && self.trailing.is_empty()
    }

    fn levels(&mut self, slot: Slot) -> Option<(&mut BTreeMap<Decimal, BTreeSet<OrderId>>, Decimal)> {
        match slot {
            Slot::BuyLimit(price) => Some((&mut self.buy_limits, price)),
            Slot::SellLimit(price) => Some((&mut self.sell_limits, price)),
            Slot::BuyStop(price) => Some((&mut self.buy_stops, price)),
            Slot::SellStop(price) => Some((&mut self.sell_stops, price)),
            Slot::Trailing | Slot::Wake(_) | Slot::Expiry(_) => None,
        }
    }
}

fn add<K: Ord>(map: &mut BTreeMap<K, BTreeSet<OrderId>>, key: K, id: OrderId) {
    map.entry(key).or_default().insert(id);
}

fn take<K: Ord>(map: &mut BTreeMap<K, BTreeSet<OrderId>>, key: &K, id: OrderId) {
    if let Some(ids) = map.get_mut(key) {
        ids.remove(&id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}

/// What a working order commits its account to: its signed remaining quantity, what it may
/// sell, and the cash it may spend. A bracket exit closes what its parent opened: once it
/// works it may sell, but adds no exposure and spends nothing; before that it commits nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commitment {
    account: AccountId,
    conid: Conid,
    /// Bought (positive) or sold (negative), if it all fills.
    pub(crate) signed: Decimal,
    /// How much it may sell.
    pub(crate) selling: Decimal,
    /// The cash it may spend, and its currency.
    pub(crate) reserved: Option<(Currency, Decimal)>,
}

fn commitment(order: &Order) -> Option<Commitment> {
    if order.status.is_final() || order.waiting == Some(Waiting::Parent) {
        return None;
    }
    if order.parent.is_some() {
        let selling = if order.ticket.side == Side::Sell { order.remaining() } else { Decimal::ZERO };
        return Some(Commitment {
            account: order.account.clone(),
            conid: order.ticket.conid,
            signed: Decimal::ZERO,
            selling,
            reserved: None,
        });
    }
    let instrument = Catalogue::standard().get(order.ticket.conid)?;
    let remaining = order.remaining();
    // A trailing stop's prices move with the market: it is held to the price it was placed at.
    let price = if order.ticket.order_type.is_trailing() {
        order.reference
    } else {
        order.limit_price().or_else(|| order.stop_price()).unwrap_or(order.reference)
    };
    let side = order.ticket.side;
    let reserved = match (instrument.asset_class, side) {
        (AssetClass::Forex, Side::Sell) => instrument.symbol.parse().ok().map(|base| (base, remaining)),
        (_, Side::Buy) => Some((instrument.currency, remaining * price)),
        (_, Side::Sell) => None,
    };
    Some(Commitment {
        account: order.account.clone(),
        conid: order.ticket.conid,
        signed: side.sign() * remaining,
        selling: if side == Side::Sell { remaining } else { Decimal::ZERO },
        reserved,
    })
}

fn adjust<K: Ord>(map: &mut BTreeMap<K, Decimal>, key: K, change: Decimal) {
    match map.entry(key) {
        Entry::Occupied(mut sum) => {
            *sum.get_mut() += change;
            if sum.get().is_zero() {
                sum.remove();
            }
        }
        Entry::Vacant(slot) => {
            if !change.is_zero() {
                slot.insert(change);
            }
        }
    }
}

impl Commitment {
    /// The instrument.
    pub(crate) fn conid(&self) -> Conid {
        self.conid
    }
}

/// The sums of every account's commitments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Commitments {
    exposure: BTreeMap<(AccountId, Conid), Decimal>,
    selling: BTreeMap<(AccountId, Conid), Decimal>,
    reserved: BTreeMap<(AccountId, Currency), Decimal>,
}

impl Commitments {
    fn add(&mut self, commitment: &Commitment, sign: Decimal) {
        let key = (commitment.account.clone(), commitment.conid);
        adjust(&mut self.exposure, key.clone(), sign * commitment.signed);
        adjust(&mut self.selling, key, sign * commitment.selling);
        if let Some((currency, amount)) = commitment.reserved {
            adjust(&mut self.reserved, (commitment.account.clone(), currency), sign * amount);
        }
    }
}

/// Where an order is filed, and what it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filed {
    lane: Lane,
    slots: Vec<Slot>,
    commitment: Option<Commitment>,
}

/// Every working order, filed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OrderBook {
    lanes: BTreeMap<Lane, LaneBook>,
    wakes: BTreeMap<Timestamp, BTreeSet<OrderId>>,
    expiries: BTreeMap<Timestamp, BTreeSet<OrderId>>,
    commitments: Commitments,
    filed: BTreeMap<OrderId, Filed>,
}

/// Where `order` belongs while it works.
fn slots(order: &Order) -> Vec<Slot> {
    if order.status.is_final() {
        return Vec::new();
    }
    let mut slots = Vec::new();
    match (order.waiting, order.ticket.side) {
        // Activated by its parent's fill or the halt's end, not by time or price.
        (Some(Waiting::Parent | Waiting::Halt), _) => {}
        (Some(Waiting::Trigger), _) if order.ticket.order_type.is_trailing() => slots.push(Slot::Trailing),
        (Some(Waiting::Trigger), side) => slots.extend(order.stop_price().map(|stop| match side {
            Side::Buy => Slot::BuyStop(stop),
            Side::Sell => Slot::SellStop(stop),
        })),
        (Some(Waiting::Session | Waiting::Open | Waiting::Close), _) => {
            slots.extend(order.wakes_at.map(Slot::Wake))
        }
        (None, side) => slots.extend(order.limit_price().map(|limit| match side {
            Side::Buy => Slot::BuyLimit(limit),
            Side::Sell => Slot::SellLimit(limit),
        })),
    }
    slots.extend(order.expires_at.map(Slot::Expiry));
    slots
}

impl OrderBook {
    /// Files `order` where it now belongs, wherever it was filed before.
    pub(crate) fn refile(&mut self, order: &Order) {
        self.unfile(order.id);
        let slots = slots(order);
        let commitment = commitment(order);
        if slots.is_empty() && commitment.is_none() {
            return;
        }
        if let Some(commitment) = &commitment {
            self.commitments.add(commitment, Decimal::ONE);
        }
        let lane = order.lane();
        for &slot in &slots {
            match slot {
                Slot::Wake(at) => add(&mut self.wakes, at, order.id),
                Slot::Expiry(at) => add(&mut self.expiries, at, order.id),
                Slot::Trailing => {
                    self.lanes.entry(lane).or_default().trailing.insert(order.id);
                }
                priced => {
                    if let Some((levels, price)) = self.lanes.entry(lane).or_default().levels(priced) {
                        add(levels, price, order.id);
                    }
                }
            }
        }
        self.filed.insert(order.id, Filed { lane, slots, commitment });
    }

    fn unfile(&mut self, id: OrderId) {
        let Some(Filed { lane, slots, commitment }) = self.filed.remove(&id) else {
            return;
        };
        if let Some(commitment) = commitment {
            self.commitments.add(&commitment, Decimal::NEGATIVE_ONE);
        }
        for slot in slots {
            match slot {
                Slot::Wake(at) => take(&mut self.wakes, &at, id),
                Slot::Expiry(at) => take(&mut self.expiries, &at, id),
                Slot::Trailing => {
                    if let Some(book) = self.lanes.get_mut(&lane) {
                        book.trailing.remove(&id);
                    }
                }
                priced => {
                    if let Some((levels, price)) =
                        self.lanes.get_mut(&lane).and_then(|book| book.levels(priced))
                    {
                        take(levels, &price, id);
                    }
                }
            }
        }
        if self.lanes.get(&lane).is_some_and(LaneBook::is_empty) {
            self.lanes.remove(&lane);
        }
    }

    /// The lanes with orders the price can set off.
    pub(crate) fn lanes(&self) -> impl Iterator<Item = (Lane, &LaneBook)> {
        self.lanes.iter().map(|(lane, book)| (*lane, book))
    }

    /// The earliest instant an order wakes up, and which orders do.
    pub(crate) fn next_wake(&self) -> Option<(Timestamp, &BTreeSet<OrderId>)> {
        self.wakes.iter().next().map(|(at, ids)| (*at, ids))
    }

    /// The earliest instant an order expires, and which orders do.
    pub(crate) fn next_expiry(&self) -> Option<(Timestamp, &BTreeSet<OrderId>)> {
        self.expiries.iter().next().map(|(at, ids)| (*at, ids))
    }

    /// What order `id` commits its account to.
    pub(crate) fn commitment(&self, id: OrderId) -> Option<&Commitment> {
        self.filed.get(&id).and_then(|filed| filed.commitment.as_ref())
    }

    /// The signed quantity the account's working orders would add to each position.
    pub(crate) fn exposure<'a>(
        &'a self,
        account: &'a AccountId,
    ) -> impl Iterator<Item = (Conid, Decimal)> + 'a {
        self.commitments
            .exposure
            .range((account.clone(), Conid::new(0))..)
            .take_while(move |((owner, _), _)| owner == account)
            .map(|((_, conid), quantity)| (*conid, *quantity))
    }

    /// What the account's working orders may sell of `conid`.
    pub(crate) fn selling(&self, account: &AccountId, conid: Conid) -> Decimal {
        self.commitments.selling.get(&(account.clone(), conid)).copied().unwrap_or_default()
    }

    /// The cash of `currency` the account's working orders may spend.
    pub(crate) fn reserved(&self, account: &AccountId, currency: Currency) -> Decimal {
        self.commitments.reserved.get(&(account.clone(), currency)).copied().unwrap_or_default()
    }

    /// Whether no order works.
    pub(crate) fn is_empty(&self) -> bool {
        self.filed.is_empty()
    }

    /// An index of `orders`.
    pub(crate) fn of<'a>(orders: impl Iterator<Item = &'a Order>) -> Self {
        let mut book = Self::default();
        for order in orders {
            book.refile(order);
        }
        book
    }
}

#[cfg(test)]
mod tests {
    use model::{OrderStatus, OrderType, TimeInForce};

    use super::*;
    use crate::orders::{Size, Ticket};

    fn order(id: u64, side: Side, order_type: OrderType, waiting: Option<Waiting>) -> Order {
        Order {
            id: OrderId::new(id),
            account: "DU1".parse().unwrap(),
            submitter: "demo".parse().unwrap(),
            ticket: Ticket {
                conid: Conid::new(265_598),
                side,
                size: Size::Quantity(Decimal::TEN),
                order_type,
                tif: TimeInForce::Day,
                outside_rth: false,
                client_order_id: None,
                parent_client_order_id: None,
            },
            quantity: Decimal::TEN,
            status: if waiting.is_some() { OrderStatus::PreSubmitted } else { OrderStatus::Submitted },
            waiting,
            filled: Decimal::ZERO,
            filled_value: Decimal::ZERO,
            commission_base: Decimal::ZERO,
            commission: Decimal::ZERO,
            reference: Decimal::TEN,
            last_execution_at: None,
            placed_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            parent: None,
            oca_group: None,
            trail_extreme: None,
            wakes_at: None,
            expires_at: Some(Timestamp::UNIX_EPOCH),
            reason: None,
        }
    }

    #[test]
    fn orders_are_filed_by_what_sets_them_off_and_refiled_when_they_change() {
        let mut limit = order(1, Side::Buy, OrderType::Limit { limit: Decimal::ONE_HUNDRED }, None);
        let mut stop = order(2, Side::Sell, OrderType::Stop { stop: Decimal::TEN }, Some(Waiting::Trigger));
        let child = order(3, Side::Sell, OrderType::Limit { limit: Decimal::TEN }, Some(Waiting::Parent));
        let mut book = OrderBook::of([&limit, &stop, &child].into_iter());
        let (_, aapl) = book.lanes().next().unwrap();
        assert_eq!(aapl.buy_limits.keys().collect::<Vec<_>>(), [&Decimal::ONE_HUNDRED]);
        assert_eq!(aapl.sell_stops.keys().collect::<Vec<_>>(), [&Decimal::TEN]);
        assert_eq!(book.next_expiry().unwrap().1.len(), 3);
        limit.ticket.order_type = OrderType::Limit { limit: Decimal::TWO };
        book.refile(&limit);
        let (_, aapl) = book.lanes().next().unwrap();
        assert_eq!(aapl.buy_limits.keys().collect::<Vec<_>>(), [&Decimal::TWO]);
        for order in [&mut limit, &mut stop] {
            order.status = OrderStatus::Cancelled;
            book.refile(order);
        }
        assert_eq!(book.lanes().count(), 0);
        assert!(!book.is_empty(), "the child is still filed for its expiry");
    }
}
