//! Positions at average cost, and what a fill does to them and to the ledger.
//!
//! As IBKR reports them, a position's cost includes the commissions paid to open it (so its
//! average cost does), and a closing trade realizes its proceeds, less its commission, less the
//! cost it takes off the position.

use model::{AccountId, AssetClass, Conid, Currency, Instrument, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::{Book, Posting};

/// A holding of one instrument: long (positive) or short (negative).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Shares or coins held; negative when short.
    pub quantity: Decimal,
    /// What the holding cost, commissions included, signed like the quantity, in the
    /// instrument's currency (a short's is what selling it brought in, negated).
    pub cost: Decimal,
    /// Gains less losses realized by closing trades, net of their commissions, in the
    /// instrument's currency.
    pub realized: Decimal,
}

impl Position {
    /// The average price paid (or received, for a short), commissions included, when there is
    /// a holding.
    pub fn average_cost(&self) -> Option<Decimal> {
        (!self.quantity.is_zero()).then(|| self.cost / self.quantity)
    }
}

/// What one fill changed: the position's cost and the gain or loss it realized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillEffect {
    /// The change of the position's cost.
    pub cost_change: Decimal,
    /// Gain (positive) or loss realized by the part that closed, net of its commission.
    pub realized: Decimal,
}

impl Position {
    /// Applies a fill of `quantity` at `price` on `side` that paid `commission` (in the
    /// instrument's currency): the part against the holding closes it at its average cost,
    /// realizing the difference less its share of the commission; the rest opens or adds at
    /// `price`, its share of the commission added to the cost.
    ///
    /// The cost a partial close removes is rounded to [`COST_DECIMALS`], and the gain is what
    /// is left of the proceeds after it, so cost, gain and cash always balance exactly.
    pub fn fill(&mut self, side: Side, quantity: Decimal, price: Decimal, commission: Decimal) -> FillEffect {
        let signed = side.sign() * quantity;
        let before_cost = self.cost;
        let mut realized = Decimal::ZERO;
        let mut opening = signed;
        let mut opening_commission = commission;
        let closing =
            !self.quantity.is_zero() && self.quantity.is_sign_positive() != signed.is_sign_positive();
        if closing {
            let held = self.quantity.abs();
            let closed = quantity.min(held);
            let closed_signed = if self.quantity.is_sign_positive() { closed } else { -closed };
            let cost_removed =
                if closed == held { self.cost } else { (self.cost * closed / held).round_dp(COST_DECIMALS) };
            let closing_commission = if closed == quantity {
                commission
            } else {
                (commission * closed / quantity).round_dp(COST_DECIMALS)
            };
            opening_commission = commission - closing_commission;
            realized = closed_signed * price - cost_removed - closing_commission;
            self.cost -= cost_removed;
            self.quantity -= closed_signed;
            opening = signed + closed_signed;
        }
        if !opening.is_zero() {
            self.quantity += opening;
            self.cost += opening * price + opening_commission;
        }
        self.realized += realized;
        FillEffect { cost_change: self.cost - before_cost, realized }
    }
}

/// The decimals a partial close's share of the cost is rounded to.
pub const COST_DECIMALS: u32 = 10;

/// The postings of a fill of `quantity` of `instrument` at `price` on `side`, with its
/// `commission` in `commission_currency`. Shares and coins move through the position's cost
/// (which includes the commission, when it is paid in the instrument's currency) and realized
/// P&L; a currency pair exchanges its base currency against its quote currency, and its
/// commission goes to the commissions book.
pub(crate) fn fill_postings(
    instrument: &Instrument,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    effect: Option<FillEffect>,
    commission: Decimal,
    commission_currency: Currency,
) -> Vec<Posting> {
    let quote = instrument.currency;
    let value = quantity * price;
    let capitalized = effect.is_some() && commission_currency == quote;
    let mut postings = match (instrument.asset_class, effect) {
        (AssetClass::Forex, _) | (_, None) => {
            let base: Currency = instrument.symbol.parse().unwrap_or(quote);
            let bought = side.sign() * quantity;
            vec![
                Posting::new(Book::Cash, base, bought),
                Posting::new(Book::Exchange, base, -bought),
                Posting::new(Book::Cash, quote, -side.sign() * value),
                Posting::new(Book::Exchange, quote, side.sign() * value),
            ]
        }
        (AssetClass::Stock | AssetClass::Crypto, Some(effect)) => vec![
            Posting::new(Book::Securities(instrument.conid), quote, effect.cost_change),
            Posting::new(Book::RealizedPnl, quote, -effect.realized),
            Posting::new(Book::Cash, quote, -side.sign() * value),
        ],
    };
    if !commission.is_zero() {
        if !capitalized {
            postings.push(Posting::new(Book::Commissions, commission_currency, commission));
        }
        postings.push(Posting::new(Book::Cash, commission_currency, -commission));
    }
    postings.retain(|posting| !posting.amount.is_zero());
    postings
}

/// Every account's positions, by instrument.
pub type Positions = std::collections::BTreeMap<AccountId, std::collections::BTreeMap<Conid, Position>>;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(units: i64) -> Decimal {
        Decimal::new(units, 0)
    }

    #[test]
    fn a_round_trip_realizes_the_price_difference() {
        let mut position = Position::default();
        position.fill(Side::Buy, d(10), d(100), d(0));
        position.fill(Side::Buy, d(10), d(110), d(0));
        assert_eq!(position.average_cost(), Some(d(105)));
        let effect = position.fill(Side::Sell, d(5), d(120), d(0));
        assert_eq!(effect.realized, d(75));
        assert_eq!(effect.cost_change, d(-525));
        assert_eq!((position.quantity, position.cost), (d(15), d(1575)));
        let flip = position.fill(Side::Sell, d(20), d(100), d(0));
        assert_eq!(flip.realized, d(-75), "15 closed at 5 below their cost");
        assert_eq!((position.quantity, position.cost), (d(-5), d(-500)), "5 short at 100");
        assert_eq!(position.average_cost(), Some(d(100)));
        let cover = position.fill(Side::Buy, d(5), d(90), d(0));
        assert_eq!(cover.realized, d(50), "a short gains when the price falls");
        assert_eq!(position, Position { quantity: d(0), cost: d(0), realized: d(50) });
    }

    #[test]
    fn commissions_are_part_of_the_cost_and_come_off_the_gain() {
        let mut position = Position::default();
        position.fill(Side::Buy, d(10), d(100), d(1));
        assert_eq!(position.average_cost(), Some("100.1".parse().unwrap()), "IBKR's average cost");
        let sold = position.fill(Side::Sell, d(10), d(110), d(1));
        assert_eq!(sold.realized, d(98), "100 of price difference less two commissions");
    }

    proptest! {
        #[test]
        fn cost_plus_realized_tracks_the_cash_spent(
            fills in prop::collection::vec((any::<bool>(), 1i64..500, 1i64..100_000), 1..40)
        ) {
            let aapl = market::Catalogue::standard().get(Conid::new(265_598)).unwrap();
            let mut position = Position::default();
            let mut spent = Decimal::ZERO;
            for (buy, quantity, cents) in fills {
                let side = if buy { Side::Buy } else { Side::Sell };
                let price = Decimal::new(cents, 2);
                let effect = position.fill(side, d(quantity), price, Decimal::ONE);
                spent += side.sign() * d(quantity) * price + Decimal::ONE;
                let postings = fill_postings(aapl, side, d(quantity), price, Some(effect), Decimal::ONE, Currency::USD);
                let entry = crate::ledger::Entry {
                    account: "DU1".parse().unwrap(),
                    at: jiff::Timestamp::UNIX_EPOCH,
                    cause: crate::ledger::Cause::Opening,
                    postings,
                };
                prop_assert!(entry.check().is_ok(), "{:?}", entry);
            }
            // Cash paid out, commissions included, is the cost still held less the gains realized.
            prop_assert_eq!(spent, position.cost - position.realized);
            prop_assert!(position.quantity.is_zero() == position.cost.is_zero());
        }
    }
}
