//! The sections of money and shares moving: `ChangeInNAV`, `CashReport`, `CashTransactions`,
//! `Transfers`, `CorporateActions` and `InterestAccruals`, written from the engine's figures.

use engine::flex::FlexRequest;
use engine::reports::activity::Activity;
use engine::statement::{CashReport, Statement};
use market::Catalogue;
use market::calendar::new_york_date;

use super::{Context, number};
use crate::flex::output::Attributes;
use crate::trading::contracts::asset_class_type;

impl Context<'_> {
    /// How the net asset value changed over the period, and the flows that explain it.
    pub(super) fn change_in_nav(&self, request: &FlexRequest, activity: &Activity<'_>) -> Attributes {
        let change = activity.change_in_nav();
        vec![
            ("accountId", activity.statement.account.to_string()),
            ("fromDate", self.date(request.from)),
            ("toDate", self.date(request.to)),
            ("startingValue", number(change.starting_value.round_dp(2))),
            ("mtm", number(change.mtm.round_dp(2))),
            ("depositsWithdrawals", number(change.deposits_withdrawals)),
            ("internalCashTransfers", number(change.internal_transfers)),
            ("dividends", number(change.dividends)),
            ("interest", number(change.interest)),
            ("changeInDividendAccruals", number(change.dividend_accruals)),
            ("changeInInterestAccruals", number(change.interest_accruals)),
            ("commissions", number(change.commissions)),
            ("endingValue", number(change.ending_value.round_dp(2))),
            ("currency", activity.statement.base_currency.to_string()),
        ]
    }

    pub(super) fn cash_report(
        &self,
        request: &FlexRequest,
        statement: &Statement,
        line: &CashReport,
    ) -> Attributes {
        vec![
            ("accountId", statement.account.to_string()),
            ("currency", line.currency.to_string()),
            ("fromDate", self.date(request.from)),
            ("toDate", self.date(request.to)),
            ("startingCash", number(line.starting_cash)),
            ("commissions", number(line.commissions)),
            ("depositWithdrawals", number(line.deposits + line.withdrawals)),
            ("deposits", number(line.deposits)),
            ("withdrawals", number(line.withdrawals)),
            ("internalTransfers", number(line.internal_transfers)),
            ("dividends", number(line.dividends)),
            ("brokerInterest", number(line.interest)),
            ("netTradesSales", number(line.sales)),
            ("netTradesPurchases", number(line.purchases)),
            ("otherFees", number(line.other)),
            ("endingCash", number(line.ending_cash)),
        ]
    }

    /// Deposits, withdrawals and dividends.
    pub(super) fn cash_transactions(&self, activity: &Activity<'_>) -> Vec<Attributes> {
        let statement = &activity.statement;
        let mut lines: Vec<Attributes> = statement
            .transfers
            .iter()
            .filter(|transfer| matches!(transfer.kind, "DEPOSIT" | "WITHDRAWAL"))
            .map(|transfer| {
                vec![
                    ("type", "Deposits & Withdrawals".to_owned()),
                    ("assetCategory", "CASH".to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", transfer.currency.to_string()),
                    ("description", transfer.kind.to_owned()),
                    ("amount", number(transfer.amount)),
                    ("dateTime", self.date_time(transfer.at)),
                    ("reportDate", self.date(new_york_date(transfer.at))),
                    ("levelOfDetail", "DETAIL".to_owned()),
                ]
            })
            .collect();
        lines.extend(self.dividends(activity));
        lines
    }

    /// The dividends paid into (or, short, out of) the account's cash in the period.
    fn dividends(&self, activity: &Activity<'_>) -> Vec<Attributes> {
        let account = &activity.statement.account;
        activity
            .dividends()
            .into_iter()
            .map(|paid| {
                let instrument = paid.instrument;
                vec![
                    ("type", "Dividends".to_owned()),
                    ("assetCategory", asset_class_type(instrument.asset_class).to_owned()),
                    ("accountId", account.to_string()),
                    ("currency", paid.currency.to_string()),
                    ("description", format!("{} CASH DIVIDEND", instrument.symbol)),
                    ("conid", instrument.conid.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("amount", number(paid.amount)),
                    ("dateTime", self.date_time(paid.at)),
                    ("reportDate", self.date(new_york_date(paid.at))),
                    ("levelOfDetail", "DETAIL".to_owned()),
                ]
            })
            .collect()
    }

    /// Shares that came in or left without a trade.
    pub(super) fn transfers(&self, statement: &Statement) -> Vec<Attributes> {
        statement
            .transfers
            .iter()
            .filter_map(|transfer| {
                let (conid, quantity) = transfer.shares?;
                let instrument = Catalogue::standard().get(conid)?;
                Some(vec![
                    ("type", transfer.kind.to_owned()),
                    ("direction", if quantity.is_sign_negative() { "OUT" } else { "IN" }.to_owned()),
                    ("assetCategory", asset_class_type(instrument.asset_class).to_owned()),
                    ("accountId", statement.account.to_string()),
                    ("currency", transfer.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", instrument.name.clone()),
                    ("conid", conid.to_string()),
                    ("reportDate", self.date(new_york_date(transfer.at))),
                    ("date", self.date(new_york_date(transfer.at))),
                    ("dateTime", self.date_time(transfer.at)),
                    ("quantity", number(quantity)),
                    ("positionAmount", number(transfer.amount.round_dp(2))),
                    ("cashTransfer", "0".to_owned()),
                ])
            })
            .collect()
    }

    /// The splits of shares the account held, in the period: what each did to the holding,
    /// and the cash paid in lieu of a fraction.
    pub(super) fn corporate_actions(&self, activity: &Activity<'_>) -> Vec<Attributes> {
        let account = &activity.statement.account;
        activity
            .splits()
            .into_iter()
            .map(|split| {
                let instrument = split.instrument;
                let description = format!("{} SPLIT {} FOR {}", instrument.symbol, split.to, split.from);
                vec![
                    ("assetCategory", asset_class_type(instrument.asset_class).to_owned()),
                    ("accountId", account.to_string()),
                    ("currency", instrument.currency.to_string()),
                    ("symbol", instrument.symbol.clone()),
                    ("description", description.clone()),
                    ("conid", instrument.conid.to_string()),
                    ("actionDescription", description),
                    ("dateTime", self.date_time(split.at)),
                    ("reportDate", self.date(new_york_date(split.at))),
                    ("quantity", number(split.quantity)),
                    ("proceeds", number(split.cash_in_lieu)),
                    ("amount", number(split.cash_in_lieu)),
                    ("type", if split.is_forward() { "FS" } else { "RS" }.to_owned()),
                ]
            })
            .collect()
    }

    /// Each currency's interest accrued and not yet paid: at the start, accrued, reversed by
    /// payments, at the end.
    pub(super) fn interest_accruals(
        &self,
        request: &FlexRequest,
        activity: &Activity<'_>,
    ) -> Vec<Attributes> {
        let account = &activity.statement.account;
        activity
            .interest_accruals()
            .into_iter()
            .map(|line| {
                vec![
                    ("accountId", account.to_string()),
                    ("currency", line.currency.to_string()),
                    ("fromDate", self.date(request.from)),
                    ("toDate", self.date(request.to)),
                    ("startingAccrualBalance", number(line.starting)),
                    ("interestAccrued", number(line.accrued)),
                    ("accrualReversal", number(line.reversed)),
                    ("endingAccrualBalance", number(line.ending)),
                ]
            })
            .collect()
    }
}
