//! Market overrides: the control plane's hand on the simulated market. Each is journaled with
//! the market instant it was made at, and the price path takes it into account from that
//! instant on, so it survives restarts and replays like everything else.

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use market::path::{Override, Path};
use market::quote::Activity;
use model::{Conid, Decimal, Instrument};
use serde::{Deserialize, Serialize};

use crate::state::State;
use crate::{Engine, EngineError, Event};

/// The most volatility an override may set: 1000% a year.
const MAX_VOLATILITY: Decimal = Decimal::from_parts(10, 0, 0, false, 0);

/// A change to one instrument's market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketChange {
    /// The price jumps here and moves on from it.
    Price(Decimal),
    /// Trading halts (`true`) or resumes (`false`).
    Halt(bool),
    /// Annual volatility from now on, as a fraction (0.3 for 30%).
    Volatility(Decimal),
}

/// Every override made so far, per instrument, in order, with its market instant.
pub type Overrides = BTreeMap<Conid, Vec<(Timestamp, MarketChange)>>;

impl MarketChange {
    /// The price path's override for this change.
    pub fn as_override(self) -> Override {
        let float = |d: Decimal| f64::try_from(d).unwrap_or(0.0);
        match self {
            Self::Price(price) => Override::Price(float(price)),
            Self::Halt(halted) => Override::Halt(halted),
            Self::Volatility(v) => Override::Volatility(float(v)),
        }
    }
}

/// One instrument's simulated market, as the state defines it: the catalogue's instrument,
/// its price path under the overrides made so far, and its activity (sizes and depth).
pub(crate) struct Venue {
    pub(crate) instrument: &'static Instrument,
    pub(crate) path: Path,
    pub(crate) activity: Activity<'static>,
}

impl State {
    /// The market of `conid`, if the catalogue lists it.
    pub(crate) fn venue(&self, conid: Conid) -> Option<Venue> {
        let catalogue = Catalogue::standard();
        let instrument = catalogue.get(conid)?;
        let profile = catalogue.profile(conid)?;
        let overrides: Vec<(Timestamp, Override)> =
            self.overrides(conid).iter().map(|&(at, change)| (at, change.as_override())).collect();
        Some(Venue {
            instrument,
            path: Path::new(self.seed, instrument, profile, &overrides),
            activity: Activity::new(self.seed, instrument, profile),
        })
    }
}

impl Engine {
    pub(crate) fn change_market(
        &mut self,
        wall: Timestamp,
        conid: Conid,
        changes: &[MarketChange],
    ) -> Result<Vec<Event>, EngineError> {
        if Catalogue::standard().get(conid).is_none() {
            return Err(EngineError::UnknownInstrument(conid));
        }
        if changes.is_empty() {
            return Err(MarketChangeRefusal::NoChange.into());
        }
        changes.iter().try_for_each(MarketChange::validate)?;
        let at = self.state.clock.market_time(wall);
        let before = self.state.venue(conid).map(|venue| venue.path.price(at));
        let kept = self.state.overrides.entry(conid).or_default();
        kept.extend(changes.iter().map(|&change| (at, change)));
        let mut events: Vec<Event> =
            changes.iter().map(|&change| Event::MarketChanged { conid, change, at }).collect();
        if changes.contains(&MarketChange::Halt(false)) {
            self.resume_halted(conid, at, &mut events)?;
        }
        // A jump may cross working orders at once.
        if let Some(before) = before.filter(|_| !self.book.is_empty()) {
            self.run_change(at, conid, before, &mut events)?;
        }
        self.liquidate(at, &mut events)?;
        Ok(events)
    }
}

/// An override of the simulated market the price path cannot follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketChangeRefusal {
    /// A change names what changes.
    #[error("no change was given")]
    NoChange,
    /// Prices are positive: the path works on their logarithm.
    #[error("a price must be positive")]
    NonPositivePrice { price: Decimal },
    /// A path with no volatility never moves, and one far beyond any market's overflows.
    #[error("volatility must be above 0 and at most 10 (1000%)")]
    VolatilityOutOfRange { volatility: Decimal },
}

impl MarketChange {
    /// Refuses a price that is not positive and a volatility outside what the path can follow.
    fn validate(&self) -> Result<(), MarketChangeRefusal> {
        match *self {
            Self::Price(price) if price <= Decimal::ZERO => {
                Err(MarketChangeRefusal::NonPositivePrice { price })
            }
            Self::Volatility(volatility) if volatility <= Decimal::ZERO || volatility > MAX_VOLATILITY => {
                Err(MarketChangeRefusal::VolatilityOutOfRange { volatility })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts a refused change answers with, written out in full, behind the prefix its
    /// engine error adds.
    #[test]
    fn refusals_keep_their_words() {
        let cases = [
            (MarketChangeRefusal::NoChange, "invalid market change: no change was given"),
            (
                MarketChangeRefusal::NonPositivePrice { price: Decimal::new(-1, 0) },
                "invalid market change: a price must be positive",
            ),
            (
                MarketChangeRefusal::VolatilityOutOfRange { volatility: Decimal::ZERO },
                "invalid market change: volatility must be above 0 and at most 10 (1000%)",
            ),
        ];
        for (refusal, text) in cases {
            assert_eq!(EngineError::from(refusal).to_string(), text);
        }
    }
}
