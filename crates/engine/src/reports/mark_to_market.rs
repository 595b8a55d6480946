//! Mark-to-market: what each instrument gained or lost at the market over a period (on what
//! was held at its start, on what traded in it, and in commissions), and over each of its days.
//!
//! Marks before a split are of the shares before it, so a holding is valued across a split as
//! the shares it became.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use market::Catalogue;
use model::{Conid, Decimal, Instrument};

use super::activity::{Activity, ReportDay};
use crate::corporate_actions::SplitRecord;
use crate::portfolio::Rates;
use crate::state::State;

/// An instrument's mark-to-market over the period, in the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkToMarket {
    /// The instrument.
    pub instrument: &'static Instrument,
    /// Held at the period's start.
    pub prev_close_quantity: Decimal,
    /// Its mark at the period's start.
    pub prev_close_price: Decimal,
    /// Held when the period is valued.
    pub close_quantity: Decimal,
    /// Its mark then.
    pub close_price: Decimal,
    /// On what traded in the period: the shares bought less sold (as many as they became) at
    /// the closing mark, less what they cost.
    pub transaction: Decimal,
    /// On what was held at the start (as many shares as it became), from the opening mark to
    /// the closing one.
    pub prior_open: Decimal,
    /// Commissions paid (negative).
    pub commissions: Decimal,
    /// All three, converted at once.
    pub total: Decimal,
}

/// What was held at the end of a day, at that day's price, and its mark-to-market over the
/// day on what was held when the day began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorPosition {
    /// The day.
    pub date: Date,
    /// The instrument.
    pub instrument: &'static Instrument,
    /// Its mark at the day's end.
    pub price: Decimal,
    /// The day's mark-to-market, in the instrument's currency.
    pub mtm: Decimal,
}

impl Activity<'_> {
    /// Each instrument held at the period's start or end, or traded in it, with its
    /// mark-to-market in the base currency at the rates of the period's end.
    pub fn mark_to_market(&self) -> Vec<MarkToMarket> {
        let (start, end) = (self.start, self.end);
        let before = &self.held(start).quantities;
        let after = &self.held(end).quantities;
        let splits = self.splits_between(start, end);
        // Per instrument: the shares bought less sold (as many as they became by the period's
        // end), what they cost, and their commissions.
        let mut traded: BTreeMap<Conid, [Decimal; 3]> =
            before.keys().chain(after.keys()).map(|&conid| (conid, Default::default())).collect();
        for fill in self.state.executions_among(&self.statement.account, self.executions.clone()) {
            let [shares, cost, commissions] = traded.entry(fill.conid).or_default();
            let signed = fill.side.sign() * fill.quantity;
            let position = State::execution_position(fill.id).unwrap_or(usize::MAX);
            // A split recorded before splits counted executions is told apart by its instant.
            let later =
                splits.iter().filter(|split| split.executions_before > position || fill.at < split.at);
            *shares += signed * split_factor(later, fill.conid);
            *cost += signed * fill.price;
            *commissions -= fill.commission;
        }
        let rates = Rates::new(self.state, self.statement.base_currency, end);
        traded
            .into_iter()
            .filter_map(|(conid, [shares, cost, commissions])| {
                let instrument = Catalogue::standard().get(conid)?;
                let rate = rates.rate(instrument.currency);
                let held = before.get(&conid).copied().unwrap_or_default();
                let close_quantity = after.get(&conid).copied().unwrap_or_default();
                let (prev_close, close) = (self.state.mark(conid, start), self.state.mark(conid, end));
                let transaction = shares * close - cost;
                let prior = held * split_factor(splits.iter(), conid) * close - held * prev_close;
                Some(MarkToMarket {
                    instrument,
                    prev_close_quantity: held,
                    prev_close_price: prev_close,
                    close_quantity,
                    close_price: close,
                    transaction: transaction * rate,
                    prior_open: prior * rate,
                    commissions: commissions * rate,
                    total: (transaction + prior + commissions) * rate,
                })
            })
            .collect()
    }

    /// What was held at the end of each reported day, in the order of the days and the
    /// instruments' conids.
    pub fn prior_positions(&self) -> Vec<PriorPosition> {
        let mut lines = Vec::new();
        for &ReportDay { date, start, at } in &self.days {
            let opening = &self.held(start).quantities;
            let splits = self.splits_between(start, at);
            for &conid in self.held(at).quantities.keys() {
                let Some(instrument) = Catalogue::standard().get(conid) else { continue };
                let price = self.state.mark(conid, at);
                let held = opening.get(&conid).copied().unwrap_or_default();
                let mtm =
                    held * split_factor(splits.iter(), conid) * price - held * self.state.mark(conid, start);
                lines.push(PriorPosition { date, instrument, price, mtm });
            }
        }
        lines
    }

    /// The splits after `start` up to `end`: what a holding at `start` went through by `end`,
    /// as its quantities and marks there tell.
    fn splits_between(&self, start: Timestamp, end: Timestamp) -> Vec<&SplitRecord> {
        let splits = self.state.corporate_actions().splits.iter();
        splits.filter(|split| split.at > start && split.at <= end).collect()
    }
}

/// How many shares one share of `conid` became through `splits`.
fn split_factor<'a>(splits: impl Iterator<Item = &'a &'a SplitRecord>, conid: Conid) -> Decimal {
    splits
        .filter(|split| split.conid == conid)
        .fold(Decimal::ONE, |factor, split| factor * Decimal::from(split.to) / Decimal::from(split.from))
}
