//! Exchange rates: the one rule for what a currency is worth in another at a market instant,
//! and [`Rates`], which applies it at one instant so every figure of a valuation converts at
//! the same rate.
//!
//! The rule: the mid of the IDEALPRO pair that joins the two currencies (inverted when the pair
//! quotes them the other way round), or else the product of both currencies' rates with the
//! dollar. A quote ([`State::exchange_rate`]) reads the mids as the market prices them; a
//! valuation ([`Rates`]) reads them, and keeps its rates, to [`RATE_DECIMALS`], as IBKR's
//! ledger shows them.

use std::cell::RefCell;
use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use model::{Currency, Decimal};

use crate::state::State;

/// The decimals an exchange rate keeps, as IBKR's ledger shows them.
pub const RATE_DECIMALS: u32 = 8;

/// How precisely a rate reads the pairs' mids.
#[derive(Debug, Clone, Copy)]
enum Precision {
    /// Exactly as the market prices them.
    Market,
    /// To [`RATE_DECIMALS`].
    Ledger,
}

impl State {
    /// Units of `to` per unit of `from` at market instant `at`, at the market's mids; `None`
    /// when no pair prices them. Exact: a surface that quotes the rate rounds it as it shows
    /// it.
    pub fn exchange_rate(&self, from: Currency, to: Currency, at: Timestamp) -> Option<Decimal> {
        self.cross_rate(from, to, at, Precision::Market)
    }

    /// The rule of [`State::exchange_rate`], the mids read to `precision`: the pair that joins
    /// the currencies, or across the dollar.
    fn cross_rate(
        &self,
        from: Currency,
        to: Currency,
        at: Timestamp,
        precision: Precision,
    ) -> Option<Decimal> {
        let direct = |from, to| self.direct_rate(from, to, at, precision);
        direct(from, to).or_else(|| Some(direct(from, Currency::USD)? * direct(Currency::USD, to)?))
    }

    /// The rate from `from` to `to` given by the pair that joins them, if one does.
    fn direct_rate(
        &self,
        from: Currency,
        to: Currency,
        at: Timestamp,
        precision: Precision,
    ) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        // A mid too small to keep any of its decimals prices nothing (and cannot be inverted).
        let mid = |pair: String| {
            let price = self.venue(Catalogue::standard().pair(&pair)?.conid)?.path.price(at);
            let mid = match precision {
                Precision::Market => Decimal::from_f64_retain(price)?,
                Precision::Ledger => Decimal::try_from(price).ok()?.round_dp(RATE_DECIMALS),
            };
            (mid > Decimal::ZERO).then_some(mid)
        };
        mid(format!("{from}.{to}")).or_else(|| mid(format!("{to}.{from}")).map(|mid| Decimal::ONE / mid))
    }
}

/// What one unit of each currency is worth in a target currency, at one market instant, by
/// the rule of [`State::exchange_rate`] to [`RATE_DECIMALS`]. Rates are looked up once and
/// remembered, so a valuation converts each currency at one rate.
#[derive(Debug)]
pub struct Rates<'a> {
    state: &'a State,
    target: Currency,
    at: Timestamp,
    known: RefCell<BTreeMap<Currency, Decimal>>,
}

impl<'a> Rates<'a> {
    /// Rates into `target` at market instant `at`.
    pub fn new(state: &'a State, target: Currency, at: Timestamp) -> Self {
        Self { state, target, at, known: RefCell::new(BTreeMap::new()) }
    }

    /// The currency everything converts into.
    pub fn target(&self) -> Currency {
        self.target
    }

    /// Units of the target currency per unit of `currency`; 1 when no pair prices it, which
    /// cannot happen for the catalogue's currencies.
    pub fn rate(&self, currency: Currency) -> Decimal {
        if currency == self.target {
            return Decimal::ONE;
        }
        if let Some(known) = self.known.borrow().get(&currency) {
            return *known;
        }
        let rate = self
            .state
            .cross_rate(currency, self.target, self.at, Precision::Ledger)
            .map_or(Decimal::ONE, |rate| rate.round_dp(RATE_DECIMALS));
        self.known.borrow_mut().insert(currency, rate);
        rate
    }

    /// `amount` of `currency` in the target currency.
    pub fn convert(&self, currency: Currency, amount: Decimal) -> Decimal {
        amount * self.rate(currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Broker, d};

    #[test]
    fn a_quoted_rate_and_a_valuation_follow_one_rule() {
        let broker = Broker::at("2026-03-02 10:00");
        let state = broker.engine.state();
        let at = state.market_time(broker.wall);
        let (usd, eur) = (Currency::USD, Currency::EUR);
        let (gbp, chf): (Currency, Currency) = ("GBP".parse().unwrap(), "CHF".parse().unwrap());
        let quote = |from, to| state.exchange_rate(from, to, at).unwrap();
        assert_eq!(quote(eur, eur), Decimal::ONE);
        assert_eq!((quote(eur, usd) * quote(usd, eur)).round_dp(20), Decimal::ONE, "one pair, both ways");
        assert_eq!(quote(gbp, chf), quote(gbp, usd) * quote(usd, chf), "across the dollar");
        assert_eq!(state.exchange_rate(eur, "HKD".parse().unwrap(), at), None, "no pair prices it");
        for (from, to) in [(eur, usd), (usd, eur), (gbp, chf)] {
            let valued = Rates::new(state, to, at).rate(from);
            assert_eq!(valued.scale(), RATE_DECIMALS);
            assert!((valued - quote(from, to)).abs() < d("0.00000002"), "{from}.{to}: {valued}");
        }
    }
}
