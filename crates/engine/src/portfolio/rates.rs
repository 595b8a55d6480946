//! Exchange rates at one market instant, so every figure of a valuation converts at the same
//! rate.

use std::cell::RefCell;
use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use model::{Currency, Decimal};

use crate::state::State;

/// The decimals an exchange rate keeps, as IBKR's ledger shows them.
pub const RATE_DECIMALS: u32 = 8;

/// What one unit of each currency is worth in a target currency, at one market instant: the
/// mid of the IDEALPRO pair that joins them, or of both currencies' pairs with the dollar.
/// Rates are looked up once and remembered, so a valuation converts each currency at one rate.
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
            .direct(currency, self.target)
            .or_else(|| {
                Some(self.direct(currency, Currency::USD)? * self.direct(Currency::USD, self.target)?)
            })
            .map_or(Decimal::ONE, |rate| rate.round_dp(RATE_DECIMALS));
        self.known.borrow_mut().insert(currency, rate);
        rate
    }

    /// `amount` of `currency` in the target currency.
    pub fn convert(&self, currency: Currency, amount: Decimal) -> Decimal {
        amount * self.rate(currency)
    }

    /// The rate from `from` to `to` given by the pair that joins them, if one does.
    fn direct(&self, from: Currency, to: Currency) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        // A mid too small to keep any of its decimals prices nothing (and cannot be inverted).
        let mid = |pair: String| {
            let venue = self.state.venue(Catalogue::standard().pair(&pair)?.conid)?;
            let mid = Decimal::try_from(venue.path.price(self.at)).ok()?.round_dp(RATE_DECIMALS);
            (mid > Decimal::ZERO).then_some(mid)
        };
        mid(format!("{from}.{to}")).or_else(|| mid(format!("{to}.{from}")).map(|mid| Decimal::ONE / mid))
    }
}
