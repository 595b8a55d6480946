//! The simulated market as handlers see it: the engine supplies the seed, market time and the
//! overrides; the price paths are computed here, off the engine thread, since they are pure
//! functions of those.

use std::collections::BTreeMap;

use jiff::Timestamp;
use market::catalogue::Profile;
use market::path::{Override, Path};
use market::quote::{Activity, Quote};
use model::{Conid, Instrument};

use crate::error::ApiError;
use crate::state::AppState;

/// What the market looks like at one market instant.
#[derive(Debug, Clone)]
pub struct MarketNow {
    /// The world's seed.
    pub seed: u64,
    /// Market time.
    pub now: Timestamp,
    overrides: BTreeMap<Conid, Vec<(Timestamp, Override)>>,
}

impl MarketNow {
    /// Reads the market's present and the overrides of `conids` from the engine.
    ///
    /// # Errors
    /// 503 when the broker is stopping.
    pub async fn read(app: &AppState, conids: Vec<Conid>) -> Result<Self, ApiError> {
        let wall = Timestamp::now();
        let market = app
            .broker
            .read(move |engine| {
                let state = engine.state();
                let overrides = conids
                    .into_iter()
                    .map(|conid| {
                        let changes =
                            state.overrides(conid).iter().map(|&(at, change)| (at, change.as_override()));
                        (conid, changes.collect())
                    })
                    .collect();
                Self { seed: state.seed(), now: state.market_time(wall), overrides }
            })
            .await?;
        Ok(market)
    }

    /// The instrument's price path.
    pub fn path(&self, instrument: &Instrument, profile: &Profile) -> Path {
        let overrides = self.overrides.get(&instrument.conid).map_or(&[][..], Vec::as_slice);
        Path::new(self.seed, instrument, profile, overrides)
    }

    /// The instrument's quote now.
    pub fn quote(&self, instrument: &Instrument, profile: &Profile) -> Quote {
        Activity::new(self.seed, instrument, profile).quote(&self.path(instrument, profile), self.now)
    }
}
