//! Allocation: what an account's value, or several accounts' together, is made of, by asset
//! class, sector and group, longs and shorts apart, in one currency.
//!
//! Several accounts consolidate into the first one's base currency: each account's figures,
//! already in its own base currency, convert at the rate between the two base currencies at the
//! instant the accounts were valued.

use std::collections::BTreeMap;

use model::{AssetClass, Decimal};

use super::{Portfolio, Rates};
use crate::state::State;

/// What a part of an allocation holds: instruments of one asset class, or cash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Holdings of the asset class.
    Assets(AssetClass),
    /// Cash in every currency.
    Cash,
}

/// Values by key, longs and shorts apart; a short's value is negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sides<K> {
    /// Values at or above zero.
    pub long: BTreeMap<K, Decimal>,
    /// Values below zero.
    pub short: BTreeMap<K, Decimal>,
}

impl<K: Ord> Sides<K> {
    fn new() -> Self {
        Self { long: BTreeMap::new(), short: BTreeMap::new() }
    }

    /// Adds `value` under `key`, on the side its sign decides.
    fn add(&mut self, key: K, value: Decimal) {
        let side = if value >= Decimal::ZERO { &mut self.long } else { &mut self.short };
        *side.entry(key).or_default() += value;
    }
}

/// An account's (or several accounts') value by asset class, sector and group. Cash counts
/// under [`Class::Cash`] only, and only when there is some; a holding without a sector or group
/// (a fund, a coin) counts under `None` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Holdings by asset class, and cash.
    pub class: Sides<Class>,
    /// Holdings by their instrument's industry.
    pub sector: Sides<Option<String>>,
    /// Holdings by their instrument's category.
    pub group: Sides<Option<String>>,
}

impl Allocation {
    fn new() -> Self {
        Self { class: Sides::new(), sector: Sides::new(), group: Sides::new() }
    }

    /// Adds `portfolio`, its base currency converted at `rate`.
    fn add(&mut self, portfolio: &Portfolio, rate: Decimal) {
        for holding in &portfolio.holdings {
            let value = holding.market_value() * portfolio.rate(holding) * rate;
            let instrument = holding.instrument;
            self.class.add(Class::Assets(instrument.asset_class), value);
            self.sector.add(instrument.industry.clone(), value);
            self.group.add(instrument.category.clone(), value);
        }
        let cash = portfolio.total_cash() * rate;
        if !cash.is_zero() {
            self.class.add(Class::Cash, cash);
        }
    }
}

impl Portfolio {
    /// The account's allocation, in its base currency.
    pub fn allocation(&self) -> Allocation {
        let mut allocation = Allocation::new();
        allocation.add(self, Decimal::ONE);
        allocation
    }
}

impl State {
    /// The allocation of `portfolios` together, in the first one's base currency (empty when
    /// there are none): the portfolios are valued alike, so they convert at the rates of the
    /// instant each was valued.
    pub fn consolidated_allocation(&self, portfolios: &[Portfolio]) -> Allocation {
        let mut allocation = Allocation::new();
        if let Some(first) = portfolios.first() {
            for portfolio in portfolios {
                let rate = Rates::new(self, first.base, portfolio.at).rate(portfolio.base);
                allocation.add(portfolio, rate);
            }
        }
        allocation
    }
}

#[cfg(test)]
mod tests {
    use model::{Conid, Currency, MarginKind, Side};

    use super::*;
    use crate::fixtures;
    use crate::testing::{AAPL, d, market_order, new_york};
    use crate::world::AccountSpec;
    use crate::{Command, Engine};

    const SAP: Conid = Conid::new(14_204);

    fn euro_account() -> AccountSpec {
        let mut account = fixtures::account("DU2222222", MarginKind::Margin, Decimal::ZERO);
        account.base_currency = Currency::EUR;
        account.cash = BTreeMap::from([(Currency::EUR, d("50000"))]);
        account
    }

    /// A dollar account long Apple and short SAP (a euro share), and a euro account holding
    /// only euros, valued at one instant.
    fn valued() -> (Engine, Vec<Portfolio>) {
        let world = fixtures::world(
            vec![fixtures::user("demo", &["DU1111111", "DU2222222"])],
            vec![fixtures::account("DU1111111", MarginKind::Margin, d("100000")), euro_account()],
        );
        let wall = jiff::Timestamp::from_second(1_772_000_000).unwrap();
        let (mut engine, session) = fixtures::started(world, 7, wall, new_york("2026-03-03T10:00"), "demo");
        let place = Command::PlaceOrders {
            session,
            account: "DU1111111".parse().unwrap(),
            tickets: vec![market_order(AAPL, Side::Buy, 100), market_order(SAP, Side::Sell, 10)],
            one_cancels_all: false,
        };
        engine.apply(wall, &place).unwrap();
        let state = engine.state();
        let at = state.market_time(wall);
        let portfolios = ["DU1111111", "DU2222222"]
            .iter()
            .map(|id| state.portfolio(&id.parse().unwrap(), at).unwrap())
            .collect();
        (engine, portfolios)
    }

    #[test]
    fn an_accounts_allocation_splits_longs_from_shorts_in_its_base_currency() {
        let (_engine, portfolios) = valued();
        let dollars = &portfolios[0];
        let allocation = dollars.allocation();
        let (aapl, sap) = (dollars.holding(AAPL).unwrap(), dollars.holding(SAP).unwrap());
        let eur = dollars.currencies[&Currency::EUR].rate;
        let stock = Class::Assets(AssetClass::Stock);
        assert_eq!(allocation.class.long[&stock], aapl.market_value());
        assert_eq!(allocation.class.short[&stock], sap.market_value() * eur, "the euro short in dollars");
        assert_eq!(allocation.class.long[&Class::Cash], dollars.total_cash());
        assert_eq!(allocation.sector.long.values().sum::<Decimal>(), aapl.market_value());
        assert_eq!(allocation.group.short.values().sum::<Decimal>(), sap.market_value() * eur);
    }

    #[test]
    fn several_accounts_consolidate_into_the_first_ones_base_currency() {
        let (engine, portfolios) = valued();
        let state = engine.state();
        let together = state.consolidated_allocation(&portfolios);
        let (dollars, euros) = (&portfolios[0], &portfolios[1]);
        let eur_usd = Rates::new(state, Currency::USD, euros.at).rate(Currency::EUR);
        assert!(
            (eur_usd - state.exchange_rate(Currency::EUR, Currency::USD, euros.at).unwrap()).abs()
                < d("0.00000001")
        );
        let cash = dollars.total_cash() + euros.total_cash() * eur_usd;
        assert_eq!(together.class.long[&Class::Cash], cash, "the euro account's cash in dollars");
        assert_eq!(together.class.short, dollars.allocation().class.short, "the euro account holds nothing");
        let reversed = state.consolidated_allocation(&[euros.clone(), dollars.clone()]);
        let usd_eur = Rates::new(state, Currency::EUR, dollars.at).rate(Currency::USD);
        assert_eq!(reversed.class.long[&Class::Cash], euros.total_cash() + dollars.total_cash() * usd_eur);
        assert_eq!(state.consolidated_allocation(&[]), Allocation::new());
    }
}
