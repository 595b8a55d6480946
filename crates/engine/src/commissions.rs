//! Commissions, as IBKR Pro charges them. Each account has a plan; each plan has a schedule per
//! asset class. A schedule's minimum and maximum apply to the whole order, so an order filled
//! in parts pays what it would have paid filled at once: each execution is charged the order's
//! commission so far less what its earlier executions paid.

use model::{AssetClass, Currency, Instrument};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An account's commission plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommissionPlan {
    /// IBKR Pro Fixed: one rate per share or per value, all exchange and regulatory fees
    /// included.
    #[default]
    Fixed,
}

/// How one kind of instrument is charged, in the schedule's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The currency commissions are charged, and trade values counted, in.
    pub currency: Currency,
    /// Per share (or unit) traded.
    pub per_unit: Decimal,
    /// A fraction of the trade's value.
    pub of_value: Decimal,
    /// The least an order pays.
    pub minimum: Decimal,
    /// The most an order pays, as a fraction of its value, if capped.
    pub cap_of_value: Option<Decimal>,
}

impl CommissionPlan {
    /// The schedule `instrument` is charged on under this plan.
    pub fn schedule(self, instrument: &Instrument) -> Schedule {
        let usd = Currency::USD;
        match (self, instrument.asset_class, instrument.currency) {
            // German shares: 0.05% of the value, at least EUR 3.00.
            (Self::Fixed, AssetClass::Stock, currency) if currency == Currency::EUR => Schedule {
                currency,
                per_unit: Decimal::ZERO,
                of_value: Decimal::new(5, 4),
                minimum: Decimal::new(3, 0),
                cap_of_value: None,
            },
            // US shares: USD 0.005 a share, at least USD 1.00, at most 1% of the trade's value.
            (Self::Fixed, AssetClass::Stock, _) => Schedule {
                currency: usd,
                per_unit: Decimal::new(5, 3),
                of_value: Decimal::ZERO,
                minimum: Decimal::ONE,
                cap_of_value: Some(Decimal::new(1, 2)),
            },
            // 0.2 basis points of the value, at least USD 2.00.
            (Self::Fixed, AssetClass::Forex, _) => Schedule {
                currency: usd,
                per_unit: Decimal::ZERO,
                of_value: Decimal::new(2, 5),
                minimum: Decimal::TWO,
                cap_of_value: None,
            },
            // 0.18% of the value, at least USD 1.75, at most 1% of the value.
            (Self::Fixed, AssetClass::Crypto, _) => Schedule {
                currency: usd,
                per_unit: Decimal::ZERO,
                of_value: Decimal::new(18, 4),
                minimum: Decimal::new(175, 2),
                cap_of_value: Some(Decimal::new(1, 2)),
            },
        }
    }
}

impl Schedule {
    /// What an order that has filled `quantity` worth `value` (in the schedule's currency) pays
    /// in all, to the cent.
    pub(crate) fn order_total(&self, quantity: Decimal, value: Decimal) -> Decimal {
        if quantity.is_zero() {
            return Decimal::ZERO;
        }
        let charged = (self.per_unit * quantity + self.of_value * value).max(self.minimum);
        let capped = match self.cap_of_value {
            Some(cap) => charged.min(cap * value),
            None => charged,
        };
        capped.round_dp(2)
    }

    /// What an execution pays: the order's total after it less what the order paid before.
    pub fn execution(&self, filled_before: (Decimal, Decimal), filled_after: (Decimal, Decimal)) -> Decimal {
        let before = self.order_total(filled_before.0, filled_before.1);
        let after = self.order_total(filled_after.0, filled_after.1);
        (after - before).max(Decimal::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn schedule(conid: u32) -> Schedule {
        CommissionPlan::Fixed.schedule(market::Catalogue::standard().get(model::Conid::new(conid)).unwrap())
    }

    #[test]
    fn fixed_stock_commissions_have_a_floor_and_a_cap() {
        let stocks = schedule(265_598);
        assert_eq!(stocks.order_total(d("10"), d("2700")), d("1.00"), "the minimum");
        assert_eq!(stocks.order_total(d("1000"), d("270000")), d("5.00"), "half a cent a share");
        assert_eq!(stocks.order_total(d("1000"), d("50")), d("0.50"), "at most 1% of a cheap trade");
    }

    #[test]
    fn fixed_currency_commissions_are_basis_points_with_a_floor() {
        let fx = schedule(12_087_792);
        assert_eq!(fx.order_total(d("25000"), d("29000")), d("2.00"));
        assert_eq!(fx.order_total(d("2000000"), d("2320000")), d("46.40"));
    }

    #[test]
    fn german_shares_pay_a_share_of_the_value_in_euros() {
        let sap = schedule(14_204);
        assert_eq!(sap.currency, Currency::EUR);
        assert_eq!(sap.order_total(d("10"), d("2400")), d("3.00"), "the minimum");
        assert_eq!(sap.order_total(d("100"), d("24000")), d("12.00"), "0.05%");
    }

    #[test]
    fn an_order_filled_in_parts_pays_what_it_would_at_once() {
        let stocks = schedule(265_598);
        let first = stocks.execution((d("0"), d("0")), (d("300"), d("81000")));
        let second = stocks.execution((d("300"), d("81000")), (d("1000"), d("270000")));
        assert_eq!((first, second), (d("1.50"), d("3.50")));
        assert_eq!(first + second, stocks.order_total(d("1000"), d("270000")));
        let small = stocks.execution((d("0"), d("0")), (d("10"), d("2700")));
        let more = stocks.execution((d("10"), d("2700")), (d("20"), d("5400")));
        assert_eq!((small, more), (d("1.00"), d("0.00")), "the minimum is paid once");
    }
}
