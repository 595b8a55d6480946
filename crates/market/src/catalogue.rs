//! The instrument catalogue: US stocks and ETFs, German shares on Xetra, IDEALPRO currency pairs
//! and PAXOS coins, with
//! the conids, names and listing exchanges IBKR uses for them. These are facts about IBKR's contract
//! database; a client that hard-codes `265598` for AAPL finds it here.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use model::{AssetClass, Conid, Currency, Decimal, Instrument, ShareKind, TickRule};

mod data;

/// How the simulated market trades an instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// The price at the path's reference instant ([`crate::path::REFERENCE`]).
    pub reference_price: f64,
    /// Annual volatility, as a fraction (0.25 for 25%).
    pub volatility: f64,
    /// Shares (or coins) traded on an average day; `None` where IBKR reports no volume
    /// (currency pairs).
    pub daily_volume: Option<f64>,
    /// The quoted spread, as a fraction of the price, in regular hours.
    pub spread: f64,
}

/// Every instrument, indexed for the lookups the API makes.
#[derive(Debug)]
pub struct Catalogue {
    by_conid: BTreeMap<Conid, Instrument>,
    profiles: BTreeMap<Conid, Profile>,
    /// Upper-case symbol → conids listed under it, in catalogue order: stocks, currency pairs,
    /// coins.
    by_symbol: BTreeMap<String, Vec<Conid>>,
}

static STANDARD: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::new(data::instruments()));

impl Catalogue {
    /// The catalogue every LocalBroker lists.
    pub fn standard() -> &'static Self {
        &STANDARD
    }

    fn new(instruments: Vec<(Instrument, Profile)>) -> Self {
        let mut by_symbol: BTreeMap<String, Vec<Conid>> = BTreeMap::new();
        for (instrument, _) in &instruments {
            by_symbol.entry(instrument.symbol.to_ascii_uppercase()).or_default().push(instrument.conid);
        }
        let profiles = instruments.iter().map(|(i, profile)| (i.conid, *profile)).collect();
        let by_conid = instruments.into_iter().map(|(i, _)| (i.conid, i)).collect();
        Self { by_conid, profiles, by_symbol }
    }

    /// How the simulated market trades the instrument with this conid.
    pub fn profile(&self, conid: Conid) -> Option<&Profile> {
        self.profiles.get(&conid)
    }

    /// The instrument with this conid.
    pub fn get(&self, conid: Conid) -> Option<&Instrument> {
        self.by_conid.get(&conid)
    }

    /// All instruments, by conid.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.by_conid.values()
    }

    /// The instruments listed under `symbol` (case-insensitive). For a currency, these are the
    /// pairs with that base currency.
    pub fn by_symbol(&self, symbol: &str) -> impl Iterator<Item = &Instrument> {
        self.by_symbol
            .get(&symbol.trim().to_ascii_uppercase())
            .into_iter()
            .flatten()
            .filter_map(|conid| self.by_conid.get(conid))
    }

    /// The stock (or ETF) listed under `symbol`, if any.
    pub fn stock(&self, symbol: &str) -> Option<&Instrument> {
        self.by_symbol(symbol).find(|i| i.asset_class == AssetClass::Stock)
    }

    /// The coin listed under `symbol`, such as `BTC`, if any.
    pub fn coin(&self, symbol: &str) -> Option<&Instrument> {
        self.by_symbol(symbol).find(|i| i.asset_class == AssetClass::Crypto)
    }

    /// A currency pair by its local symbol, such as `EUR.USD`.
    pub fn pair(&self, local_symbol: &str) -> Option<&Instrument> {
        let (base, quote) = local_symbol.trim().split_once('.')?;
        self.by_symbol(base)
            .find(|i| i.asset_class == AssetClass::Forex && i.currency.as_str().eq_ignore_ascii_case(quote))
    }

    /// Instruments whose symbol starts with `prefix`, or, with `by_name`, whose name contains
    /// it; exact symbol matches first, then in symbol order.
    /// Whether some currency pair prices `currency`: only then can an account hold it, since
    /// every amount must convert into a base currency.
    pub fn prices_currency(&self, currency: Currency) -> bool {
        currency == Currency::USD
            || self.by_conid.values().any(|i| {
                i.asset_class == AssetClass::Forex
                    && (i.currency == currency || i.symbol == currency.as_str())
            })
    }

    pub fn search(&self, prefix: &str, by_name: bool) -> Vec<&Instrument> {
        let needle = prefix.trim().to_ascii_uppercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<&Instrument> = self
            .by_conid
            .values()
            .filter(|i| {
                if by_name {
                    i.name.to_ascii_uppercase().contains(&needle)
                } else {
                    i.symbol.to_ascii_uppercase().starts_with(&needle) || i.local_symbol() == needle
                }
            })
            .collect();
        found.sort_by_key(|i| {
            (i.symbol != needle && i.local_symbol() != needle, i.symbol.clone(), i.asset_class)
        });
        found
    }
}

/// IBKR's tick table for US stocks: one cent at every price, as its secdef reports it.
fn us_stock_ticks() -> Vec<TickRule> {
    vec![TickRule { lower_edge: Decimal::ZERO, increment: Decimal::new(1, 2) }]
}

/// IDEALPRO's tick: half a pip, 0.00005, or 0.005 for pairs quoted in yen.
fn fx_ticks(quote: Currency) -> Vec<TickRule> {
    let increment = if quote.as_str() == "JPY" { Decimal::new(5, 3) } else { Decimal::new(5, 5) };
    vec![TickRule { lower_edge: Decimal::ZERO, increment }]
}

/// The venues IBKR's smart router reaches for a US listing.
const US_VENUES: &[&str] = &[
    "SMART",
    "AMEX",
    "NYSE",
    "CBOE",
    "PHLX",
    "ISE",
    "CHX",
    "ARCA",
    "NASDAQ",
    "DRCTEDGE",
    "BEX",
    "BATS",
    "EDGEA",
    "BYX",
    "IEX",
    "EDGX",
    "FOXRIVER",
    "PEARL",
    "NYSENAT",
    "LTSE",
    "MEMX",
    "IBEOS",
    "OVERNIGHT",
    "TPLUS0",
    "PSX",
];

/// A day's traded value, which sets a share's daily volume: funds trade more than most stocks.
fn daily_value(kind: ShareKind) -> f64 {
    match kind {
        ShareKind::Common => 4.0e9,
        ShareKind::Etf => 8.0e9,
    }
}

fn share(row: &data::ShareRow, kind: ShareKind) -> (Instrument, Profile) {
    let profile = Profile {
        reference_price: row.price,
        volatility: row.volatility,
        daily_volume: Some(daily_value(kind) / row.price),
        spread: 0.000_04,
    };
    let instrument = Instrument {
        conid: Conid::new(row.conid),
        symbol: row.symbol.into(),
        name: row.name.into(),
        asset_class: AssetClass::Stock,
        share_kind: Some(kind),
        currency: Currency::USD,
        listing_exchange: row.exchange.into(),
        exchanges: US_VENUES.iter().map(|&venue| venue.into()).collect(),
        tick_rules: us_stock_ticks(),
        industry: row.industry.map(Into::into),
        category: row.category.map(Into::into),
    };
    (instrument, profile)
}

/// A day's traded value of a German share on Xetra, in euros.
const XETRA_DAILY_VALUE: f64 = 3.0e8;

/// Xetra's price steps for its most liquid shares (ESMA's tick-size table, highest liquidity
/// band), from each price up.
fn xetra_ticks() -> Vec<TickRule> {
    [
        (0, 0, 1, 4),
        (5, 0, 1, 3),
        (10, 0, 2, 3),
        (20, 0, 5, 3),
        (50, 0, 1, 2),
        (100, 0, 2, 2),
        (200, 0, 5, 2),
        (500, 0, 1, 1),
    ]
    .into_iter()
    .map(|(edge, edge_scale, increment, scale)| TickRule {
        lower_edge: Decimal::new(edge, edge_scale),
        increment: Decimal::new(increment, scale),
    })
    .collect()
}

fn german_share(row: &data::ShareRow) -> (Instrument, Profile) {
    let profile = Profile {
        reference_price: row.price,
        volatility: row.volatility,
        daily_volume: Some(XETRA_DAILY_VALUE / row.price),
        spread: 0.000_1,
    };
    let instrument = Instrument {
        conid: Conid::new(row.conid),
        symbol: row.symbol.into(),
        name: row.name.into(),
        asset_class: AssetClass::Stock,
        share_kind: Some(ShareKind::Common),
        currency: Currency::EUR,
        listing_exchange: row.exchange.into(),
        exchanges: vec!["SMART".into(), row.exchange.into()],
        tick_rules: xetra_ticks(),
        industry: row.industry.map(Into::into),
        category: row.category.map(Into::into),
    };
    (instrument, profile)
}

fn pair(row: &data::PairRow) -> (Instrument, Profile) {
    let (base, quote) = row.pair.split_once('.').unwrap_or((row.pair, "USD"));
    let quote: Currency = quote.parse().unwrap_or(Currency::USD);
    let profile = Profile {
        reference_price: row.price,
        volatility: row.volatility,
        daily_volume: None,
        spread: 0.000_08,
    };
    let instrument = Instrument {
        conid: Conid::new(row.conid),
        symbol: base.into(),
        name: row.name.into(),
        asset_class: AssetClass::Forex,
        share_kind: None,
        currency: quote,
        listing_exchange: "IDEALPRO".into(),
        exchanges: vec!["IDEALPRO".into()],
        tick_rules: fx_ticks(quote),
        industry: None,
        category: None,
    };
    (instrument, profile)
}

/// A day's traded value of a coin at PAXOS, in dollars.
const COIN_DAILY_VALUE: f64 = 1.0e7;

fn coin(row: &data::CoinRow) -> (Instrument, Profile) {
    let profile = Profile {
        reference_price: row.price,
        volatility: row.volatility,
        daily_volume: Some(COIN_DAILY_VALUE / row.price),
        spread: 0.000_1,
    };
    let instrument = Instrument {
        conid: Conid::new(row.conid),
        symbol: row.symbol.into(),
        name: row.name.into(),
        asset_class: AssetClass::Crypto,
        share_kind: None,
        currency: Currency::USD,
        listing_exchange: "PAXOS".into(),
        exchanges: vec!["PAXOS".into()],
        tick_rules: vec![TickRule {
            lower_edge: Decimal::ZERO,
            increment: Decimal::new(row.tick.0, row.tick.1),
        }],
        industry: None,
        category: None,
    };
    (instrument, profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_conids_are_real() {
        let catalogue = Catalogue::standard();
        for (symbol, conid) in [("AAPL", 265_598), ("MSFT", 272_093), ("IBM", 8314), ("SPY", 756_733)] {
            assert_eq!(catalogue.stock(symbol).unwrap().conid, Conid::new(conid), "{symbol}");
        }
        assert_eq!(catalogue.pair("EUR.USD").unwrap().conid, Conid::new(12_087_792));
        let btc = catalogue.coin("BTC").unwrap();
        assert_eq!((btc.conid, btc.local_symbol()), (Conid::new(479_624_278), "BTC.USD".to_owned()));
        assert_eq!(
            btc.tick_at(Decimal::new(90_000, 0)),
            Decimal::new(25, 2),
            "PAXOS quotes bitcoin in quarters"
        );
        assert_eq!(catalogue.coin("ETH").unwrap().conid, Conid::new(495_759_171));
    }

    #[test]
    fn the_catalogue_is_large_enough_and_unambiguous() {
        let catalogue = Catalogue::standard();
        let stocks = catalogue.iter().filter(|i| i.asset_class == AssetClass::Stock).count();
        let pairs = catalogue.iter().filter(|i| i.asset_class == AssetClass::Forex).count();
        assert!(stocks >= 40, "{stocks} stocks");
        assert!(pairs >= 8, "{pairs} pairs");
        assert_eq!(catalogue.iter().count(), data::instruments().len(), "conids are unique");
        for instrument in catalogue.iter().filter(|i| i.asset_class == AssetClass::Stock) {
            let same_symbol =
                catalogue.by_symbol(&instrument.symbol).filter(|i| i.asset_class == AssetClass::Stock);
            assert_eq!(same_symbol.count(), 1, "one stock per symbol: {}", instrument.symbol);
        }
    }

    #[test]
    fn currencies_list_their_pairs() {
        let catalogue = Catalogue::standard();
        let eur: Vec<String> = catalogue.by_symbol("eur").map(Instrument::local_symbol).collect();
        assert!(eur.contains(&"EUR.USD".to_owned()) && eur.contains(&"EUR.JPY".to_owned()), "{eur:?}");
        assert_eq!(catalogue.pair("USD.JPY").unwrap().tick_at(Decimal::new(150, 0)), Decimal::new(5, 3));
    }

    #[test]
    fn search_puts_the_exact_symbol_first() {
        let catalogue = Catalogue::standard();
        let found = catalogue.search("C", false);
        assert_eq!(found[0].symbol, "C");
        assert!(found.iter().any(|i| i.symbol == "CSCO"));
        assert!(catalogue.search("apple", true).iter().any(|i| i.symbol == "AAPL"));
        assert!(catalogue.search("", false).is_empty());
    }
}
