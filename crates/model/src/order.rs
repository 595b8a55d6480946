//! Orders: their sides, types, lifetimes and states, and the ids of orders and executions.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An order's id, unique across the broker. IBKR's order ids are positive integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(u64);

impl OrderId {
    /// Wraps a raw order id.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw integer.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An execution's id, unique across the broker; the engine numbers executions in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionId(u64);

impl ExecutionId {
    /// Wraps a raw execution number.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Which way an order trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buys: pays the ask.
    Buy,
    /// Sells: receives the bid.
    Sell,
}

impl Side {
    /// +1 for a buy, −1 for a sell: what a fill does to the position.
    pub fn sign(self) -> Decimal {
        match self {
            Self::Buy => Decimal::ONE,
            Self::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    /// The other side.
    pub fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// How far a trailing stop follows the market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trail {
    /// A fixed distance in price.
    Amount(Decimal),
    /// A percentage of the price (5 for 5%).
    Percent(Decimal),
}

impl Trail {
    /// The distance from `price`.
    pub fn distance_at(self, price: Decimal) -> Decimal {
        match self {
            Self::Amount(amount) => amount,
            Self::Percent(percent) => price * percent / Decimal::ONE_HUNDRED,
        }
    }
}

/// How an order prices its execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OrderType {
    /// At any price.
    Market,
    /// At `limit` or better.
    Limit { limit: Decimal },
    /// A market order once the market reaches `stop`.
    Stop { stop: Decimal },
    /// A limit order at `limit` once the market reaches `stop`.
    StopLimit { stop: Decimal, limit: Decimal },
    /// A stop that follows the market at `trail`'s distance and sells (or buys) at market.
    TrailingStop { trail: Trail },
    /// A trailing stop that becomes a limit order `offset` beyond its stop price.
    TrailingStopLimit { trail: Trail, offset: Decimal },
    /// At the midpoint of the bid and ask, capped at `limit` when given.
    MidPrice { limit: Option<Decimal> },
    /// At the closing price of the regular session.
    MarketOnClose,
    /// At the closing price, if it is at `limit` or better.
    LimitOnClose { limit: Decimal },
}

impl OrderType {
    /// The limit price the order never trades beyond, once it can trade at all.
    pub fn limit(&self) -> Option<Decimal> {
        match *self {
            Self::Limit { limit } | Self::StopLimit { limit, .. } | Self::LimitOnClose { limit } => {
                Some(limit)
            }
            Self::MidPrice { limit } => limit,
            Self::Market
            | Self::Stop { .. }
            | Self::TrailingStop { .. }
            | Self::TrailingStopLimit { .. }
            | Self::MarketOnClose => None,
        }
    }

    /// Whether the order waits for a trigger before it can trade.
    pub fn is_stop(&self) -> bool {
        matches!(
            self,
            Self::Stop { .. }
                | Self::StopLimit { .. }
                | Self::TrailingStop { .. }
                | Self::TrailingStopLimit { .. }
        )
    }

    /// Whether the order's stop follows the market.
    pub fn is_trailing(&self) -> bool {
        matches!(self, Self::TrailingStop { .. } | Self::TrailingStopLimit { .. })
    }

    /// Whether the order trades only in the closing auction.
    pub fn is_on_close(&self) -> bool {
        matches!(self, Self::MarketOnClose | Self::LimitOnClose { .. })
    }
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Until the end of the trading day.
    Day,
    /// Until cancelled.
    GoodTillCancelled,
    /// At once, as far as it can; the rest is cancelled.
    ImmediateOrCancel,
    /// Entirely at once, or not at all.
    FillOrKill,
    /// In the opening auction only.
    AtTheOpening,
}

/// Where an order is in its life, as IBKR reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted, waiting for something before it works: a stop for its trigger, a bracket
    /// child for its parent's fill, an order outside its session for the session.
    PreSubmitted,
    /// Working in the market.
    Submitted,
    /// Completely filled.
    Filled,
    /// Cancelled by its owner, by its OCA group, or by the end of its time in force.
    Cancelled,
    /// Rejected after acceptance, or never able to trade.
    Inactive,
}

impl OrderStatus {
    /// Whether the order is done: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Cancelled | Self::Inactive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_trail_scales_with_the_price() {
        assert_eq!(Trail::Percent(Decimal::new(5, 0)).distance_at(Decimal::new(200, 0)), Decimal::new(10, 0));
        assert_eq!(Trail::Amount(Decimal::new(3, 0)).distance_at(Decimal::new(200, 0)), Decimal::new(3, 0));
    }

    #[test]
    fn only_filled_cancelled_and_inactive_orders_are_final() {
        assert!(OrderStatus::Filled.is_final() && OrderStatus::Cancelled.is_final());
        assert!(!OrderStatus::PreSubmitted.is_final() && !OrderStatus::Submitted.is_final());
    }
}
