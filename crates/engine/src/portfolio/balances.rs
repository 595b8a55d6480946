//! An account's figures in its base currency, as the positions and the ledger report them:
//! each holding's values converted at its currency's rate ([`HoldingInBase`]), and the money
//! per currency beside its total in the base currency ([`Balances`]).
//!
//! Every conversion uses the rates the [`Portfolio`] was valued at, so these figures agree with
//! its net liquidation and cash at the same instant.

use std::collections::BTreeMap;

use model::{AssetClass, Currency, Decimal};

use super::{CurrencyBalance, Holding, Portfolio};

/// A holding's figures in the account's base currency: each of the holding's own, in its
/// instrument's currency, times that currency's rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingInBase {
    /// Quantity times mark.
    pub market_value: Decimal,
    /// The price it is marked at.
    pub mark: Decimal,
    /// The average price paid per share or coin, commissions included.
    pub average_cost: Decimal,
    /// Gains less losses realized while it was held, net of commissions.
    pub realized: Decimal,
    /// What it gained since it was bought (or lost since it was sold short).
    pub unrealized: Decimal,
}

/// One row of [`Balances`]: a currency's money and holdings in that currency, or their total
/// in the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRow {
    /// Units of the base currency per unit of the row's currency; 1 for the total.
    pub rate: Decimal,
    /// Cash held; negative when borrowed.
    pub cash: Decimal,
    /// The part of `cash` whose trades have settled.
    pub settled_cash: Decimal,
    /// Shares at the market.
    pub stocks: Decimal,
    /// Coins at the market.
    pub crypto: Decimal,
    /// The holdings' unrealized gains.
    pub unrealized: Decimal,
    /// Gains realized since the account opened, net of commissions.
    pub realized: Decimal,
    /// Dividends accrued and not yet paid.
    pub dividends: Decimal,
    /// Interest accrued and not yet paid.
    pub interest: Decimal,
}

impl BalanceRow {
    /// The row of `line`'s currency, its holdings split by asset class.
    fn of(portfolio: &Portfolio, line: &CurrencyBalance) -> Self {
        Self {
            rate: line.rate,
            cash: line.cash,
            settled_cash: line.settled_cash,
            stocks: portfolio.market_value_in(line.currency, AssetClass::Stock),
            crypto: portfolio.market_value_in(line.currency, AssetClass::Crypto),
            unrealized: line.unrealized,
            realized: line.realized,
            dividends: line.dividends,
            interest: line.interest,
        }
    }

    /// The total of `rows` in the base currency: each figure the sum of every row's times its
    /// rate.
    fn total<'a>(rows: impl Iterator<Item = &'a Self> + Clone) -> Self {
        let sum = |pick: fn(&Self) -> Decimal| rows.clone().map(|row| pick(row) * row.rate).sum();
        Self {
            rate: Decimal::ONE,
            cash: sum(|row| row.cash),
            settled_cash: sum(|row| row.settled_cash),
            stocks: sum(|row| row.stocks),
            crypto: sum(|row| row.crypto),
            unrealized: sum(|row| row.unrealized),
            realized: sum(|row| row.realized),
            dividends: sum(|row| row.dividends),
            interest: sum(|row| row.interest),
        }
    }

    /// Cash, shares, coins, and the dividends and interest accrued.
    pub fn net_liquidation(&self) -> Decimal {
        self.cash + self.stocks + self.crypto + self.dividends + self.interest
    }
}

/// An account's money and holdings per currency, and their total in the base currency, as
/// IBKR's ledger reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balances {
    /// A row per currency the account holds money or positions in, the base currency among
    /// them, in that currency.
    pub currencies: BTreeMap<Currency, BalanceRow>,
    /// The rows' total in the base currency.
    pub total: BalanceRow,
}

impl Portfolio {
    /// The holding's figures in the base currency, converted at the rate of its currency.
    pub fn holding_in_base(&self, holding: &Holding) -> HoldingInBase {
        let rate = self.rate(holding);
        HoldingInBase {
            market_value: holding.market_value() * rate,
            mark: holding.mark * rate,
            average_cost: holding.average_cost() * rate,
            realized: holding.realized * rate,
            unrealized: holding.unrealized() * rate,
        }
    }

    /// Holdings of one asset class denominated in `currency`, at the market, in that currency.
    pub fn market_value_in(&self, currency: Currency, asset_class: AssetClass) -> Decimal {
        self.holdings
            .iter()
            .filter(|holding| {
                holding.instrument.currency == currency && holding.instrument.asset_class == asset_class
            })
            .map(Holding::market_value)
            .sum()
    }

    /// The money and holdings per currency, and their total in the base currency.
    pub fn balances(&self) -> Balances {
        let currencies: BTreeMap<Currency, BalanceRow> =
            self.currencies.values().map(|line| (line.currency, BalanceRow::of(self, line))).collect();
        let total = BalanceRow::total(currencies.values());
        Balances { currencies, total }
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use model::{Conid, Side};

    use super::*;
    use crate::testing::{AAPL, Broker, d, market_order};

    const SAP: Conid = Conid::new(14_204);

    /// A dollar account holding Apple and SAP (a euro share), valued half an hour later.
    fn valued() -> (Portfolio, Decimal) {
        let mut broker = Broker::at("2026-03-03T10:00");
        broker
            .place("DU1234567", vec![market_order(SAP, Side::Buy, 10), market_order(AAPL, Side::Buy, 100)])
            .unwrap();
        broker.advance(SignedDuration::from_mins(30));
        let state = broker.engine.state();
        let at = state.market_time(broker.wall);
        let portfolio = state.portfolio(&"DU1234567".parse().unwrap(), at).unwrap();
        let eur_usd = state.exchange_rate(Currency::EUR, Currency::USD, at).unwrap();
        (portfolio, eur_usd)
    }

    #[test]
    fn a_euro_position_in_a_dollar_account_is_its_euro_value_times_the_eur_usd_rate() {
        let (portfolio, eur_usd) = valued();
        let sap = portfolio.holding(SAP).unwrap();
        let rate = portfolio.currencies[&Currency::EUR].rate;
        assert!((rate - eur_usd).abs() < d("0.00000001"), "the rate the engine quotes, to 8 places");
        let in_base = portfolio.holding_in_base(sap);
        assert_eq!(in_base.market_value, sap.market_value() * rate);
        assert_eq!(in_base.mark, sap.mark * rate);
        assert_eq!(in_base.average_cost, sap.average_cost() * rate);
        assert_eq!(in_base.realized, sap.realized * rate);
        assert_eq!(in_base.unrealized, sap.unrealized() * rate);
        let aapl = portfolio.holding(AAPL).unwrap();
        assert_eq!(portfolio.holding_in_base(aapl).market_value, aapl.market_value(), "dollars stay dollars");
    }

    #[test]
    fn the_total_row_is_every_currencys_row_at_its_rate() {
        let (portfolio, _) = valued();
        let balances = portfolio.balances();
        let (usd, eur) = (&balances.currencies[&Currency::USD], &balances.currencies[&Currency::EUR]);
        assert_eq!(usd.rate, Decimal::ONE);
        assert_eq!(eur.stocks, portfolio.holding(SAP).unwrap().market_value(), "in euros");
        assert_eq!(usd.stocks, portfolio.holding(AAPL).unwrap().market_value());
        let total = &balances.total;
        assert_eq!(total.rate, Decimal::ONE);
        assert_eq!(total.stocks, usd.stocks + eur.stocks * eur.rate);
        assert_eq!(total.cash, portfolio.total_cash());
        assert_eq!(total.settled_cash, portfolio.settled_cash());
        assert_eq!(total.unrealized, portfolio.unrealized());
        assert_eq!(total.net_liquidation(), portfolio.net_liquidation());
        assert_eq!(eur.net_liquidation(), portfolio.currencies[&Currency::EUR].net_liquidation());
    }
}
