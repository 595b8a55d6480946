//! The answers of IBKR's query instructions, in the shapes of its `Query…Result` schemas,
//! read from the engine when the query is answered.

use engine::Engine;
use engine::banking::{FiledInstruction, InstructionStatus, Query};
use jiff::Timestamp;
use model::{AccountId, Currency};
use serde::Serialize;

use super::fields::method_name;
use crate::wire::float;

/// A processed query's answer, beside the instruction's result.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum QueryAnswer {
    WithdrawableFunds(WithdrawableAmounts),
    WithdrawableCashEquity(WithdrawableCashEquity),
    BankInstructions(BankInstructions),
    RecentInstructions(RecentInstructions),
}

/// IBKR's `QueryWithdrawableAmountsInstructionResult`: LocalBroker lends nothing and has no
/// master account, so all four amounts are the same.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WithdrawableAmounts {
    account_id: AccountId,
    currency: Currency,
    withdrawable_amount: f64,
    withdrawable_amount_no_borrow: f64,
    allowed_transfer_amount_to_master: f64,
    allowed_transfer_amount_to_master_no_borrow: f64,
}

/// IBKR's `QueryWithdrawableCashEquityResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WithdrawableCashEquity {
    account_id: AccountId,
    currency: Currency,
    withdrawable_cash_amount: f64,
    available_equity_value: f64,
}

/// IBKR's `QueryBankInstructionResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BankInstructions {
    account_id: AccountId,
    bank_instruction_method: &'static str,
    bank_instruction_details: Vec<BankInstructionDetail>,
}

/// One saved bank account.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BankInstructionDetail {
    instruction_name: String,
    /// `PREDEFINED_DESTINATION` or `ACH`.
    #[serde(rename = "type")]
    kind: &'static str,
    currency: Currency,
    /// A saved bank account is always `PROCESSED`.
    instruction_status: InstructionStatus,
    bank_routing_number: String,
    /// The number's last four characters behind asterisks.
    bank_account_number: String,
}

/// IBKR's `QueryRecentInstructionResult`, with the account asked about.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RecentInstructions {
    account_id: AccountId,
    instruction_history: InstructionHistory,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InstructionHistory {
    history_max_depth_number_of_days: u32,
    history_max_depth_number_of_instruction: usize,
    result: Vec<RecentInstruction>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RecentInstruction {
    client_instruction_id: u64,
    ib_instruction_id: u64,
    instruction_set_id: u64,
    instruction_type: &'static str,
    request_date: String,
    status: InstructionStatus,
}

/// The answer of `query`, filed as `filed`, about `account`, read at `now`.
pub(super) fn answer(
    engine: &Engine,
    filed: &FiledInstruction,
    account: &AccountId,
    query: &Query,
    now: Timestamp,
) -> QueryAnswer {
    let account_id = account.clone();
    match *query {
        Query::WithdrawableFunds { currency } => {
            let amount = float(engine.withdrawable(account, currency, now));
            QueryAnswer::WithdrawableFunds(WithdrawableAmounts {
                account_id,
                currency,
                withdrawable_amount: amount,
                withdrawable_amount_no_borrow: amount,
                allowed_transfer_amount_to_master: amount,
                allowed_transfer_amount_to_master_no_borrow: amount,
            })
        }
        Query::WithdrawableCashEquity { currency } => {
            QueryAnswer::WithdrawableCashEquity(WithdrawableCashEquity {
                account_id,
                currency,
                withdrawable_cash_amount: float(engine.withdrawable(account, currency, now)),
                available_equity_value: float(engine.available_equity(account, currency, now)),
            })
        }
        Query::BankInstructions { method } => QueryAnswer::BankInstructions(BankInstructions {
            account_id,
            bank_instruction_method: method_name(&method),
            bank_instruction_details: engine
                .state()
                .banking()
                .banks(account)
                .filter(|bank| bank.method == method)
                .map(|bank| BankInstructionDetail {
                    instruction_name: bank.name.clone(),
                    kind: if bank.predefined { "PREDEFINED_DESTINATION" } else { "ACH" },
                    currency: bank.currency,
                    instruction_status: InstructionStatus::Processed,
                    bank_routing_number: bank.bank.routing_number.clone().unwrap_or_default(),
                    bank_account_number: bank
                        .bank
                        .account_number_tail
                        .as_ref()
                        .map(|tail| format!("*****{tail}"))
                        .unwrap_or_default(),
                })
                .collect(),
        }),
        Query::RecentInstructions { days, .. } => {
            let result: Vec<RecentInstruction> = engine
                .state()
                .banking()
                .recent(filed, account, days, now)
                .map(|other| RecentInstruction {
                    client_instruction_id: other.client_instruction_id,
                    ib_instruction_id: other.id,
                    instruction_set_id: other.set,
                    instruction_type: other.instruction.instruction_type(),
                    request_date: other.submitted_at.to_string(),
                    status: other.status,
                })
                .collect();
            QueryAnswer::RecentInstructions(RecentInstructions {
                account_id,
                instruction_history: InstructionHistory {
                    history_max_depth_number_of_days: days,
                    history_max_depth_number_of_instruction: result.len(),
                    result,
                },
            })
        }
    }
}
