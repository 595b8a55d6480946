//! IBKR's market-data field codes and how each value is written: strings, as IBKR sends them.
//!
//! | code | value | code | value |
//! |---|---|---|---|
//! | 31 | last price (`C` prefix while closed, `H` while halted) | 7051 | company name |
//! | 55 | symbol | 7059 | last size |
//! | 70 | day high | 7094 | conid and exchange |
//! | 71 | day low | 7184 | can be traded (`1`) |
//! | 82 | change since the prior close | 7219 | contract description |
//! | 83 | change since the prior close, % | 7221 | listing exchange |
//! | 84 | bid | 7295 | day open |
//! | 85 | ask size | 7296 | the regular session's close, once over |
//! | 86 | ask | 7633 | volatility, % (of the stock itself) |
//! | 87 | volume, abbreviated (`6.08M`) | 7635 | mark (the mid) |
//! | 88 | bid size | 7741 | prior close |
//! | 6004 | exchange | 7762 | volume, in full |
//! | 6008 | conid | 7768 | has trading permissions (`1`) |
//! | 6070 | security type | 6119, 6509 | server id and availability, always sent |

use market::catalogue::Profile;
use market::quote::{Activity, Grid, Quote, on_grid};
use model::{Decimal, Instrument};

use crate::market::MarketNow;
use crate::trading::contracts::sec_type;
use crate::wire::grouped;

/// Every code LocalBroker serves.
pub const SUPPORTED: &[&str] = &[
    "31", "55", "70", "71", "82", "83", "84", "85", "86", "87", "88", "6004", "6008", "6070", "6119", "6509",
    "7051", "7059", "7094", "7184", "7219", "7221", "7295", "7296", "7633", "7635", "7741", "7762", "7768",
];

/// The availability code: realtime (`R`) while trading, frozen (`Z`) while closed; consolidated
/// (`p`), with a book (`B`).
pub fn availability(quote: &Quote) -> &'static str {
    if quote.open { "RpB" } else { "ZpB" }
}

/// A size: whole shares with thousands separators (`1,200`), fractions of a coin with their
/// eight decimals (`0.27167244`), as IBKR shows them.
fn size(quantity: Decimal) -> String {
    match u64::try_from(quantity) {
        Ok(whole) if quantity.scale() == 0 => thousands(whole),
        _ => quantity.to_string(),
    }
}

fn thousands(n: u64) -> String {
    grouped(Decimal::from(n), 0)
}

/// IBKR's short volume: `950`, `35.2K`, `6.08M`, `1.2B`; whole units, so a coin's `78.4` is `78`.
fn abbreviated_volume(volume: Decimal) -> String {
    abbreviated(u64::try_from(volume.trunc()).unwrap_or(0))
}

fn abbreviated(n: u64) -> String {
    const UNITS: [(f64, &str); 3] = [(1e3, "K"), (1e6, "M"), (1e9, "B")];
    if n < 1_000 {
        return n.to_string();
    }
    let x = n as f64;
    let mut unit = UNITS.iter().rposition(|&(size, _)| x >= size).unwrap_or(0);
    loop {
        let (size, suffix) = UNITS[unit];
        let value = x / size;
        // Three significant digits after rounding, as IBKR shows them.
        let decimals = if value >= 99.95 {
            0
        } else if value >= 9.995 {
            1
        } else {
            2
        };
        let text = format!("{value:.decimals$}");
        // Rounding can carry into the next unit (999,999 is 1000K): show it there instead.
        if text == "1000" && unit + 1 < UNITS.len() {
            unit += 1;
            continue;
        }
        return format!("{text}{suffix}");
    }
}

/// What a field is computed from.
#[derive(Debug)]
pub struct Context<'a> {
    /// The instrument.
    pub instrument: &'a Instrument,
    /// The market now.
    pub quote: Quote,
    /// Today's regular-session close, once the regular session has ended.
    pub close_today: Option<Decimal>,
    /// The annual volatility in force, overrides included.
    pub volatility: f64,
}

impl<'a> Context<'a> {
    /// The market for `instrument` now.
    pub fn now(market: &MarketNow, instrument: &'a Instrument, profile: &Profile) -> Self {
        let path = market.path(instrument, profile);
        let quote = Activity::new(market.seed, instrument, profile).quote(&path, market.now);
        let minute = path.timeline().position(market.now).minute;
        let close_today = quote
            .day
            .as_ref()
            .filter(|day| minute >= day.regular.end)
            .map(|day| on_grid(instrument, path.boundary_price(day.regular.end), Grid::Round));
        Self { instrument, quote, close_today, volatility: path.volatility(market.now) }
    }
}

impl Context<'_> {
    fn change(&self) -> Option<Decimal> {
        self.quote.prior_close.map(|prior| self.quote.last - prior)
    }

    /// The value of field `code`, if LocalBroker has one now.
    pub fn value(&self, code: &str) -> Option<String> {
        let quote = &self.quote;
        let instrument = self.instrument;
        let price = |d: Decimal| d.to_string();
        Some(match code {
            "31" => {
                let prefix = if quote.halted {
                    "H"
                } else if quote.open {
                    ""
                } else {
                    "C"
                };
                format!("{prefix}{}", quote.last)
            }
            "55" => instrument.symbol.clone(),
            "70" => price(quote.day_high?),
            "71" => price(quote.day_low?),
            "82" => price(self.change()?),
            "83" => {
                let prior = quote.prior_close.filter(|p| !p.is_zero())?;
                format!("{:.2}", (self.change()? / prior * Decimal::ONE_HUNDRED).round_dp(2))
            }
            "84" => price(quote.bid),
            "85" => size(quote.ask_size),
            "86" => price(quote.ask),
            "87" => abbreviated_volume(quote.volume?),
            "88" => size(quote.bid_size),
            "6004" => instrument.listing_exchange.clone(),
            "6008" => instrument.conid.to_string(),
            "6070" => sec_type(instrument).into(),
            "6119" => "q0".into(),
            "6509" => availability(quote).into(),
            "7051" => instrument.name.clone(),
            "7059" => size(quote.last_size),
            "7094" => format!("{}@{}", instrument.conid, instrument.listing_exchange),
            "7184" | "7768" => "1".into(),
            "7219" => instrument.local_symbol(),
            "7221" => instrument.listing_exchange.clone(),
            "7295" => price(quote.day_open?),
            "7296" => price(self.close_today?),
            "7633" => format!("{:.1}%", self.volatility * 100.0),
            "7635" => price(
                ((quote.bid + quote.ask) / Decimal::TWO).round_dp(quote.bid.scale().max(quote.ask.scale())),
            ),
            "7741" => price(quote.prior_close?),
            "7762" => quote.volume?.normalize().to_string(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_ibkr_writes_them() {
        assert_eq!(thousands(1_300), "1,300");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(size(Decimal::new(1_200, 0)), "1,200");
        assert_eq!(size(Decimal::new(27_167_244, 8)), "0.27167244", "a coin's eight decimals");
        assert_eq!(abbreviated(950), "950");
        assert_eq!(abbreviated(35_200), "35.2K");
        assert_eq!(abbreviated(6_080_000), "6.08M");
        assert_eq!(abbreviated(123_400_000), "123M");
        assert_eq!(abbreviated(999_999), "1.00M");
        assert_eq!(abbreviated(999_999_000), "1.00B", "carries without recursing");
        assert_eq!(abbreviated(99_960), "100K");
        assert_eq!(abbreviated(9_999), "10.0K");
        assert_eq!(abbreviated(u64::MAX), "18446744074B");
    }
}
