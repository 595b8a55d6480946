//! The change in net asset value over a period, split into the flows that explain it; what
//! they do not explain is the mark-to-market.

use model::Decimal;

use super::activity::Activity;
use crate::ledger::Book;
use crate::statement::CashReport;

/// How the net asset value changed over the period, in the base currency. Flows in other
/// currencies show in the mark-to-market remainder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeInNav {
    /// Net asset value at the start.
    pub starting_value: Decimal,
    /// What the flows do not explain: the market's doing.
    pub mtm: Decimal,
    /// Money paid in less money paid out.
    pub deposits_withdrawals: Decimal,
    /// Money moved from or to other accounts of the broker.
    pub internal_transfers: Decimal,
    /// Dividends paid.
    pub dividends: Decimal,
    /// Interest paid.
    pub interest: Decimal,
    /// Dividends accrued less those paid.
    pub dividend_accruals: Decimal,
    /// Interest accrued less that paid.
    pub interest_accruals: Decimal,
    /// Commissions (negative).
    pub commissions: Decimal,
    /// Net asset value when the period is valued.
    pub ending_value: Decimal,
}

impl Activity<'_> {
    /// The change in net asset value over the period, and the flows that explain it.
    pub fn change_in_nav(&self) -> ChangeInNav {
        let statement = &self.statement;
        let base = statement.cash.iter().find(|line| line.currency == statement.base_currency);
        let flow = |pick: fn(&CashReport) -> Decimal| base.map_or(Decimal::ZERO, pick);
        let deposits_withdrawals = flow(|line| line.deposits + line.withdrawals);
        let internal_transfers = flow(|line| line.internal_transfers);
        let dividends = flow(|line| line.dividends);
        let interest = flow(|line| line.interest);
        let commissions = flow(|line| line.commissions);
        let dividend_accruals = self.accrual_change(Book::DividendsReceivable);
        let interest_accruals = self.accrual_change(Book::InterestAccrued);
        let change = statement.ending_value - statement.starting_value;
        let flows = deposits_withdrawals
            + internal_transfers
            + dividends
            + interest
            + commissions
            + dividend_accruals
            + interest_accruals;
        ChangeInNav {
            starting_value: statement.starting_value,
            mtm: change - flows,
            deposits_withdrawals,
            internal_transfers,
            dividends,
            interest,
            dividend_accruals,
            interest_accruals,
            commissions,
            ending_value: statement.ending_value,
        }
    }
}
