//! The market-data hub: every subscribed instrument's snapshot fields computed once per tick for
//! all connections, however many stream it.
//!
//! Connections register the conids and fields they stream; twice a second the hub computes the
//! union of what is registered, from one market instant, and broadcasts it. A connection keeps
//! only the latest tick: one that falls behind skips to the newest values (market data is
//! coalesced, never queued), and sends each of its fields only when it changed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use model::Conid;
use tokio::sync::broadcast;

use crate::market::MarketNow;
use crate::state::AppState;
use crate::trading::marketdata::fields::Context;

/// How often the hub computes: IBKR streams its snapshots every 500 ms.
pub const TICK: Duration = Duration::from_millis(500);

/// The fields of every registered instrument at one market instant.
#[derive(Debug, Default)]
pub struct MarketTick {
    /// Market time of the values, epoch milliseconds.
    pub updated: i64,
    /// Each instrument's field values, by field code.
    pub values: BTreeMap<Conid, BTreeMap<String, String>>,
}

#[derive(Debug, Default)]
struct Interest {
    subscribers: usize,
    fields: BTreeSet<String>,
}

/// The hub; one per server.
#[derive(Debug)]
pub struct MarketHub {
    interest: Mutex<BTreeMap<Conid, Interest>>,
    ticks: broadcast::Sender<Arc<MarketTick>>,
}

impl Default for MarketHub {
    fn default() -> Self {
        // One tick of backlog: a connection behind by more just gets the newest.
        let (ticks, _) = broadcast::channel(1);
        Self { interest: Mutex::new(BTreeMap::new()), ticks }
    }
}

impl MarketHub {
    /// A connection streams `fields` of `conid`; [`MarketHub::release`] undoes it.
    pub fn register(&self, conid: Conid, fields: &BTreeSet<String>) {
        let mut interest = self.interest.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = interest.entry(conid).or_default();
        entry.subscribers += 1;
        entry.fields.extend(fields.iter().cloned());
    }

    /// A connection stopped streaming `conid`.
    pub fn release(&self, conid: Conid) {
        let mut interest = self.interest.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = interest.get_mut(&conid) {
            entry.subscribers = entry.subscribers.saturating_sub(1);
            if entry.subscribers == 0 {
                interest.remove(&conid);
            }
        }
    }

    /// The ticks from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<MarketTick>> {
        self.ticks.subscribe()
    }

    fn wanted(&self) -> BTreeMap<Conid, BTreeSet<String>> {
        let interest = self.interest.lock().unwrap_or_else(PoisonError::into_inner);
        interest.iter().map(|(conid, entry)| (*conid, entry.fields.clone())).collect()
    }

    /// Computes and broadcasts a tick every [`TICK`] while anything is registered.
    pub async fn run(self: Arc<Self>, app: AppState) {
        let mut timer = tokio::time::interval(TICK);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            let wanted = self.wanted();
            if wanted.is_empty() || self.ticks.receiver_count() == 0 {
                continue;
            }
            let Ok(market) = MarketNow::read(&app, wanted.keys().copied().collect()).await else { return };
            // Each quote recomputes its day from the minutes: off the async workers.
            let Ok(tick) = tokio::task::spawn_blocking(move || compute(&market, &wanted)).await else {
                return;
            };
            // No connection listening is no error.
            let _ = self.ticks.send(Arc::new(tick));
        }
    }
}

/// The values of `wanted` at the market's instant.
pub fn compute(market: &MarketNow, wanted: &BTreeMap<Conid, BTreeSet<String>>) -> MarketTick {
    let catalogue = market::Catalogue::standard();
    let values = wanted
        .iter()
        .filter_map(|(conid, fields)| {
            let (instrument, profile) = catalogue.get(*conid).zip(catalogue.profile(*conid))?;
            let context = Context::now(market, instrument, profile);
            let values =
                fields.iter().filter_map(|code| Some((code.clone(), context.value(code)?))).collect();
            Some((*conid, values))
        })
        .collect();
    MarketTick { updated: market.now.as_millisecond(), values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instrument_is_computed_while_anyone_streams_it() {
        let hub = MarketHub::default();
        let aapl = Conid::new(265_598);
        hub.register(aapl, &BTreeSet::from(["31".to_owned()]));
        hub.register(aapl, &BTreeSet::from(["84".to_owned()]));
        assert_eq!(hub.wanted()[&aapl], BTreeSet::from(["31".to_owned(), "84".to_owned()]), "the union");
        hub.release(aapl);
        assert!(hub.wanted().contains_key(&aapl), "one subscriber is left");
        hub.release(aapl);
        assert!(hub.wanted().is_empty());
    }
}
