//! Forced liquidation, as IBKR does it when a margin account's equity falls below its
//! maintenance margin, if the world switches it on.
//!
//! Whenever market time moves (a realtime clock ticks at least once a market minute for it) or
//! the market is changed, each margin account in deficit is brought back: a market order placed
//! by `IBKR` (waiting for the regular session, as market orders do) closes enough of the
//! holding with the largest maintenance requirement to cover the deficit and a fifth more, for
//! the spread and the commission. One liquidation works per account at a time; if a deficit
//! remains when it is done, the next check places another.

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, Decimal, MarginKind, OrderType, Side, TimeInForce, Username};

use super::{Size, Ticket};
use crate::portfolio::{Portfolio, requirement};
use crate::{Engine, EngineError, Event};

/// Who places liquidation orders.
pub const LIQUIDATOR: &str = "IBKR";

impl Engine {
    /// Liquidates what margin accounts in deficit must sell, when the world asks for it.
    pub(crate) fn liquidate(&mut self, at: Timestamp, events: &mut Vec<Event>) -> Result<(), EngineError> {
        if !self.state.liquidation {
            return Ok(());
        }
        self.state.liquidation_checked = Some(at);
        let liquidator: Username = LIQUIDATOR.parse().map_err(|_| crate::world::WorldProblem::Liquidator)?;
        let accounts: Vec<AccountId> = self
            .state
            .accounts
            .values()
            .filter(|account| account.margin == MarginKind::Margin)
            .map(|account| account.id.clone())
            .filter(|id| self.state.positions(id).next().is_some())
            .collect();
        for account in accounts {
            let liquidating =
                self.state.orders(&account).any(|order| order.is_live() && order.submitter == liquidator);
            if liquidating {
                continue;
            }
            let Some(portfolio) = self.state.portfolio(&account, at) else { continue };
            if let Some(ticket) = closing_ticket(&portfolio) {
                self.place_liquidation(&account, &liquidator, &ticket, at, events)?;
            }
        }
        Ok(())
    }

    fn place_liquidation(
        &mut self,
        account: &AccountId,
        liquidator: &Username,
        ticket: &Ticket,
        at: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        // What the market cannot take now (a halt, say) is tried again at the next check.
        let Ok(checked) = self.check(ticket, at) else { return Ok(()) };
        let id = self.next_order_id();
        self.file_order(id, account, liquidator, &checked, None, at)?;
        events.push(Event::OrderPlaced { order: id });
        events.push(Event::Liquidating { account: account.clone(), order: id });
        self.begin_working(id, at, events)
    }
}

/// The market order that covers the deficit of `portfolio`, if it has one: closing the holding
/// that requires the most maintenance, enough of it to cover the deficit and a fifth more, all
/// of it if that is not enough.
fn closing_ticket(portfolio: &Portfolio) -> Option<Ticket> {
    let deficit = -portfolio.excess_liquidity();
    if deficit <= Decimal::ZERO {
        return None;
    }
    let requirement_of = |holding: &crate::portfolio::Holding| {
        let short = holding.quantity < Decimal::ZERO;
        let share = requirement(portfolio.margin, holding.instrument.asset_class, short).maintenance;
        share * holding.market_value().abs() * portfolio.rate(holding)
    };
    let largest =
        portfolio.holdings.iter().filter(|h| !h.mark.is_zero()).max_by_key(|h| requirement_of(h))?;
    let instrument = Catalogue::standard().get(largest.conid())?;
    let per_unit = requirement_of(largest) / largest.quantity.abs();
    let increment = instrument.size_increment();
    let margin_of_safety = Decimal::new(12, 1);
    let needed = if per_unit.is_zero() {
        largest.quantity.abs()
    } else {
        (deficit * margin_of_safety / per_unit / increment).ceil() * increment
    };
    let quantity = needed.min(largest.quantity.abs()).max(increment);
    Some(Ticket {
        conid: largest.conid(),
        side: if largest.quantity > Decimal::ZERO { Side::Sell } else { Side::Buy },
        size: Size::Quantity(quantity),
        order_type: OrderType::Market,
        tif: TimeInForce::GoodTillCancelled,
        outside_rth: false,
        client_order_id: None,
        parent_client_order_id: None,
    })
}

impl Engine {
    /// Whether a liquidation check is due by market instant `now`: once a market minute, while
    /// some margin account holds something.
    pub(crate) fn liquidation_due(&self, now: Timestamp) -> bool {
        let holding = || {
            self.state.accounts.values().any(|account| {
                account.margin == MarginKind::Margin && self.state.positions(&account.id).next().is_some()
            })
        };
        let minute_passed = self
            .state
            .liquidation_checked
            .is_none_or(|checked| now.duration_since(checked) >= jiff::SignedDuration::from_mins(1));
        self.state.liquidation && minute_passed && holding()
    }
}

#[cfg(test)]
mod tests {
    use model::{OrderStatus, OrderType, Side};

    use crate::interest::InterestRates;
    use crate::market::MarketChange;
    use crate::testing::{AAPL, Broker, d, ticket};

    fn portfolio(broker: &Broker) -> crate::portfolio::Portfolio {
        let state = broker.engine.state();
        state.portfolio(&"DU1234567".parse().unwrap(), state.market_time(broker.wall)).unwrap()
    }

    /// 1.5M of AAPL on 1M of equity, then the price falls by 60%: equity falls below maintenance.
    fn crash(liquidation: bool) -> Broker {
        let mut broker = Broker::with_world("2026-03-03T11:00", InterestRates::default(), liquidation);
        broker.place("DU1234567", vec![ticket(Side::Buy, 7000, OrderType::Market)]).unwrap();
        let mark = portfolio(&broker).holding(AAPL).unwrap().mark;
        broker.change(MarketChange::Price((mark * d("0.4")).round_dp(2)));
        broker
    }

    #[test]
    fn a_margin_deficit_is_liquidated_when_the_world_asks_for_it() {
        let broker = crash(true);
        let account = "DU1234567".parse().unwrap();
        let liquidations: Vec<_> = broker
            .engine
            .state()
            .orders(&account)
            .filter(|order| order.submitter.as_str() == super::LIQUIDATOR)
            .collect();
        assert_eq!(liquidations.len(), 1);
        let order = liquidations[0];
        assert_eq!((order.ticket.side, order.status), (Side::Sell, OrderStatus::Filled));
        assert!(order.quantity < d("7000"), "only what covers the deficit: {}", order.quantity);
        assert!(!portfolio(&broker).is_margin_deficient(), "excess liquidity restored");
    }

    #[test]
    fn without_the_switch_a_deficit_is_only_reported() {
        let broker = crash(false);
        assert!(portfolio(&broker).is_margin_deficient());
        assert_eq!(broker.engine.state().orders(&"DU1234567".parse().unwrap()).count(), 1, "no liquidation");
    }
}
