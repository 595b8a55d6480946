//! Market overrides: the control plane's hand on the simulated market. Each is journaled with
//! the market instant it was made at, and the price path takes it into account from that
//! instant on, so it survives restarts and replays like everything else.

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::Catalogue;
use model::{Conid, Decimal};
use serde::{Deserialize, Serialize};

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
            return Err(EngineError::InvalidMarketChange("no change was given".into()));
        }
        changes.iter().try_for_each(MarketChange::validate)?;
        let at = self.state.clock.market_time(wall);
        let kept = self.state.overrides.entry(conid).or_default();
        kept.extend(changes.iter().map(|&change| (at, change)));
        Ok(changes.iter().map(|&change| Event::MarketChanged { conid, change, at }).collect())
    }
}

impl MarketChange {
    /// Refuses a price that is not positive and a volatility outside what the path can follow.
    fn validate(&self) -> Result<(), EngineError> {
        match *self {
            Self::Price(price) if price <= Decimal::ZERO => {
                Err(EngineError::InvalidMarketChange("a price must be positive".into()))
            }
            Self::Volatility(v) if v <= Decimal::ZERO || v > MAX_VOLATILITY => Err(
                EngineError::InvalidMarketChange("volatility must be above 0 and at most 10 (1000%)".into()),
            ),
            _ => Ok(()),
        }
    }
}
