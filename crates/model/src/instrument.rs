//! Tradable instruments.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Conid, Currency};

/// The asset class, which decides sessions, settlement and how a position is valued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AssetClass {
    /// A listed share: a common stock or an exchange-traded fund.
    Stock,
    /// A currency pair, quoted as units of `currency` per unit of the base currency.
    Forex,
    /// A cryptocurrency, quoted in `currency` per coin and traded in fractions of a coin.
    Crypto,
}

/// What a listed share is; IBKR reports it as the security definition's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareKind {
    /// An operating company's common stock.
    Common,
    /// An exchange-traded fund.
    Etf,
}

/// One band of a price-dependent tick size: prices at or above `lower_edge` move in steps of
/// `increment`. Most instruments have a single band from zero; a sub-dollar stock can have a
/// finer band below one dollar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickRule {
    /// The lowest price this band applies to.
    pub lower_edge: Decimal,
    /// The minimum price step within the band.
    pub increment: Decimal,
}

/// A contract the simulated market lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// IBKR's contract id.
    pub conid: Conid,
    /// Ticker symbol; for a currency pair, its base currency (IBKR's convention: `EUR` for
    /// `EUR.USD`).
    pub symbol: String,
    /// The issuer's or fund's name as IBKR prints it.
    pub name: String,
    /// The asset class.
    pub asset_class: AssetClass,
    /// For shares, whether a common stock or an ETF.
    pub share_kind: Option<ShareKind>,
    /// The currency prices are quoted and trades settle in.
    pub currency: Currency,
    /// The primary listing exchange (`NASDAQ`, `NYSE`, `ARCA`, …; `IDEALPRO` for currency pairs).
    pub listing_exchange: String,
    /// Every venue the contract routes to, `SMART` first where smart routing applies.
    pub exchanges: Vec<String>,
    /// Tick-size bands, ascending by `lower_edge`.
    pub tick_rules: Vec<TickRule>,
    /// Industry, for shares of operating companies.
    pub industry: Option<String>,
    /// Category within the industry.
    pub category: Option<String>,
}

impl Instrument {
    /// IBKR's local symbol: `EUR.USD` for a pair, `BTC.USD` for a coin, the ticker otherwise.
    pub fn local_symbol(&self) -> String {
        match self.asset_class {
            AssetClass::Forex | AssetClass::Crypto => format!("{}.{}", self.symbol, self.currency),
            AssetClass::Stock => self.symbol.clone(),
        }
    }

    /// The smallest quantity that trades: a share, a unit of the base currency, or a hundred
    /// millionth of a coin (IBKR's crypto quantities carry eight decimals).
    pub fn size_increment(&self) -> Decimal {
        match self.asset_class {
            AssetClass::Stock | AssetClass::Forex => Decimal::ONE,
            AssetClass::Crypto => Decimal::new(1, 8),
        }
    }

    /// The decimal places prices are shown with: those of the finest tick.
    pub fn price_decimals(&self) -> u32 {
        self.tick_rules.iter().map(|rule| rule.increment.normalize().scale()).max().unwrap_or(2)
    }

    /// The minimum price step at `price`.
    pub fn tick_at(&self, price: Decimal) -> Decimal {
        self.tick_rules
            .iter()
            .rev()
            .find(|rule| price >= rule.lower_edge)
            .or(self.tick_rules.first())
            .map_or(Decimal::new(1, 2), |rule| rule.increment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn share(tick_rules: Vec<TickRule>) -> Instrument {
        Instrument {
            conid: Conid::new(265_598),
            symbol: "AAPL".into(),
            name: "APPLE INC".into(),
            asset_class: AssetClass::Stock,
            share_kind: Some(ShareKind::Common),
            currency: Currency::USD,
            listing_exchange: "NASDAQ".into(),
            exchanges: vec!["SMART".into(), "NASDAQ".into()],
            tick_rules,
            industry: None,
            category: None,
        }
    }

    #[test]
    fn tick_follows_the_price_band() {
        let aapl = share(vec![
            TickRule { lower_edge: Decimal::ZERO, increment: Decimal::new(1, 4) },
            TickRule { lower_edge: Decimal::ONE, increment: Decimal::new(1, 2) },
        ]);
        assert_eq!(aapl.tick_at(Decimal::new(5, 1)), Decimal::new(1, 4));
        assert_eq!(aapl.tick_at(Decimal::ONE), Decimal::new(1, 2));
        assert_eq!(aapl.tick_at(Decimal::new(250, 0)), Decimal::new(1, 2));
    }
}
