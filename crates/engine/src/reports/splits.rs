//! The splits of shares an account held in a period, as a statement's corporate actions: what
//! each did to the holding, and the cash paid in lieu of a fraction.

use jiff::Timestamp;
use market::Catalogue;
use model::{Decimal, Instrument};

use super::activity::Activity;
use crate::corporate_actions::SplitShares;
use crate::ledger::{Book, Cause};

/// A split of shares the account held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitAction {
    /// When, in market time.
    pub at: Timestamp,
    /// The shares.
    pub instrument: &'static Instrument,
    /// New shares per `from` old ones.
    pub to: u32,
    /// Old shares per `to` new ones.
    pub from: u32,
    /// The shares it added to the holding (negative when it took some away).
    pub quantity: Decimal,
    /// The cash paid in lieu of a fraction of a share, in the shares' currency.
    pub cash_in_lieu: Decimal,
}

impl SplitAction {
    /// Whether it gave more shares than it took: a forward split, not a reverse one.
    pub fn is_forward(&self) -> bool {
        self.to >= self.from
    }
}

impl Activity<'_> {
    /// The splits of the period of shares the account held, in order.
    pub fn splits(&self) -> Vec<SplitAction> {
        let statement = &self.statement;
        let splits = self.state.corporate_actions().splits.iter();
        let in_period = splits.filter(|split| split.at >= statement.from && split.at < statement.to);
        in_period
            .filter_map(|split| {
                let held =
                    split.held_before.get(&statement.account).copied().filter(|held| !held.is_zero())?;
                let instrument = Catalogue::standard().get(split.conid)?;
                let after = SplitShares::of(held, split.to, split.from).whole;
                let cash_in_lieu: Decimal = self
                    .state
                    .ledger
                    .entries(&statement.account)
                    .filter(|entry| {
                        entry.at == split.at && entry.cause == Cause::CashInLieu { conid: split.conid }
                    })
                    .flat_map(|entry| entry.postings.iter().filter(|posting| posting.book == Book::Cash))
                    .map(|posting| posting.amount)
                    .sum();
                Some(SplitAction {
                    at: split.at,
                    instrument,
                    to: split.to,
                    from: split.from,
                    quantity: after - held,
                    cash_in_lieu,
                })
            })
            .collect()
    }
}
