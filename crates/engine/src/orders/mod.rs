//! Orders: tickets in, executions out.
//!
//! An order is placed with a [`Ticket`], checked against the instrument and the account
//! (`placement`), and then either trades at once against the book the market shows
//! (`execution`) or works: resting at its limit, waiting for its stop, its session, its
//! parent or the closing auction. Working orders are indexed by price per instrument
//! (`book`), and as market time passes the engine finds, in time order, each instant the
//! price path crosses one of them or a session boundary concerns one of them (`timing`), and
//! acts there. Every execution moves cash and securities through the ledger. Every status change
//! goes through the state machine in [`lifecycle`]; a refused ticket says why with an
//! [`OrderRejection`].

pub(crate) mod book;
mod execution;
mod hours;
pub mod lifecycle;
pub mod liquidation;
mod placement;
pub mod preview;
mod rejection;
pub mod risk;
mod timing;

pub use rejection::OrderRejection;

use jiff::Timestamp;
use model::{
    AccountId, Conid, Currency, ExecutionId, OrderId, OrderStatus, OrderType, Side, TimeInForce, Username,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How much an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Shares, currency units or coins.
    Quantity(Decimal),
    /// An amount of the instrument's currency to spend or collect; the quantity follows from
    /// the price when the order is placed.
    Cash(Decimal),
}

/// What a client asks for: an order in domain terms, once the edge has read IBKR's ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The instrument.
    pub conid: Conid,
    /// Buy or sell.
    pub side: Side,
    /// How much.
    pub size: Size,
    /// How it prices.
    pub order_type: OrderType,
    /// How long it works.
    pub tif: TimeInForce,
    /// Whether it may work outside regular trading hours.
    pub outside_rth: bool,
    /// The client's own id for it (IBKR's `cOID`), unique per account.
    pub client_order_id: Option<String>,
    /// For a bracket's exit, the client id of its parent in the same request.
    pub parent_client_order_id: Option<String>,
}

/// What an order is waiting for while it is `PreSubmitted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// Its bracket parent to fill.
    Parent,
    /// Its stop price, or its trailing stop.
    Trigger,
    /// Its session to open.
    Session,
    /// The halt on its instrument to end.
    Halt,
    /// The opening auction.
    Open,
    /// The closing auction.
    Close,
}

/// An order and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// The account it trades for.
    pub account: AccountId,
    /// Who placed it.
    pub submitter: Username,
    /// The ticket as placed, or as last modified.
    pub ticket: Ticket,
    /// Its total size.
    pub quantity: Decimal,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// While `PreSubmitted`, what it waits for.
    pub waiting: Option<Waiting>,
    /// How much has filled.
    pub filled: Decimal,
    /// The value of what has filled, in the instrument's currency.
    pub filled_value: Decimal,
    /// The same value in the currency of its commission schedule, which commissions are
    /// computed on.
    #[serde(alias = "filled_value_usd")]
    pub commission_base: Decimal,
    /// Commissions charged so far, in the currency of its commission schedule.
    pub commission: Decimal,
    /// The price its risk was judged at when placed: its limit or stop, or the touch.
    pub reference: Decimal,
    /// When it last executed.
    pub last_execution_at: Option<Timestamp>,
    /// When it was placed, in market time.
    pub placed_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its bracket parent.
    pub parent: Option<OrderId>,
    /// Its one-cancels-all group, named by the group's first order.
    pub oca_group: Option<OrderId>,
    /// For a trailing stop, the best price seen since it started working.
    pub trail_extreme: Option<Decimal>,
    /// While it waits for a session or an auction, when that comes.
    pub wakes_at: Option<Timestamp>,
    /// When a day order expires: the end of the first session it works in.
    pub expires_at: Option<Timestamp>,
    /// Why it was cancelled or made inactive.
    pub reason: Option<lifecycle::Cancellation>,
}

impl Order {
    /// What is left to fill.
    pub fn remaining(&self) -> Decimal {
        (self.quantity - self.filled).max(Decimal::ZERO)
    }

    /// The average price of its fills.
    pub fn average_price(&self) -> Option<Decimal> {
        (!self.filled.is_zero()).then(|| self.filled_value / self.filled)
    }

    /// The stop price it waits for now: the ticket's, or for a trailing stop the one its trail
    /// sets from the best price seen.
    pub fn stop_price(&self) -> Option<Decimal> {
        match self.ticket.order_type {
            OrderType::Stop { stop } | OrderType::StopLimit { stop, .. } => Some(stop),
            OrderType::TrailingStop { trail } | OrderType::TrailingStopLimit { trail, .. } => {
                let extreme = self.trail_extreme?;
                let distance = trail.distance_at(extreme);
                let stop = match self.ticket.side {
                    Side::Buy => extreme + distance,
                    Side::Sell => extreme - distance,
                };
                // On the tick grid, as any price the order shows or trades at.
                let tick = market::Catalogue::standard().get(self.ticket.conid)?.tick_at(stop);
                Some(if tick.is_zero() { stop } else { (stop / tick).round() * tick })
            }
            _ => None,
        }
    }

    /// The limit it trades at, once it can trade: the ticket's, or a trailing stop limit's
    /// offset from its stop.
    pub fn limit_price(&self) -> Option<Decimal> {
        match self.ticket.order_type {
            OrderType::TrailingStopLimit { offset, .. } => {
                let stop = self.stop_price()?;
                Some(match self.ticket.side {
                    Side::Buy => stop + offset,
                    Side::Sell => stop - offset,
                })
            }
            other => other.limit(),
        }
    }

    /// The lane it works in.
    pub(crate) fn lane(&self) -> book::Lane {
        book::Lane { conid: self.ticket.conid, regular_only: !self.ticket.outside_rth }
    }

    /// Whether the order can still change: not filled, cancelled or inactive.
    pub fn is_live(&self) -> bool {
        !self.status.is_final()
    }
}

/// One fill of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// Its id.
    pub id: ExecutionId,
    /// The order it filled.
    pub order: OrderId,
    /// The account.
    pub account: AccountId,
    /// The instrument.
    pub conid: Conid,
    /// Bought or sold.
    pub side: Side,
    /// How much.
    pub quantity: Decimal,
    /// At what price.
    pub price: Decimal,
    /// Its commission, in `commission_currency`.
    pub commission: Decimal,
    /// The currency of its commission; US dollars for executions recorded before commissions
    /// came in other currencies.
    #[serde(default = "us_dollars")]
    pub commission_currency: Currency,
    /// When, in market time.
    pub at: Timestamp,
}

impl Execution {
    /// Quantity times price, in the instrument's currency.
    pub fn value(&self) -> Decimal {
        self.quantity * self.price
    }
}

fn us_dollars() -> Currency {
    Currency::USD
}

#[cfg(test)]
mod tests;
