//! Banking instructions, as IBKR's Account Management takes them: an introducing broker sends
//! instructions (deposits, withdrawals, internal cash and position transfers, deliveries free
//! of payment, bank instructions, cancels, queries) for the accounts it manages, one at a time
//! or in bulk. Each set of them gets an id, each instruction an id and a status: processed at
//! once, rejected with a reason, or pending until it settles (a deposit, a withdrawal, a
//! delivery) after the world's settlement delay of market time. A client's own
//! `clientInstructionId` makes a resubmission harmless: the same instruction again answers the
//! one already filed, another instruction under the same id is refused.
//!
//! # Layout
//! - `instruction`: what a client instructs, and the records of what was filed.
//! - `refusal`: the typed refusals of a set and rejections of one instruction, and the text a
//!   record keeps.
//! - `filing`: filing a set and carrying out what each instruction asks at once.
//! - `settlement`: what pending instructions hold, and settling them when they fall due.

mod filing;
mod instruction;
mod refusal;
mod settlement;
#[cfg(test)]
mod tests;

pub use instruction::{
    BankAccount, BankInstruction, BankMethod, Direction, FiledInstruction, Instruction, InstructionRequest,
    InstructionStatus, Query, RECENT_INSTRUCTIONS_DELAY,
};
pub use refusal::{InstructionRefusal, InstructionRejection, Rejection};

use std::collections::BTreeMap;

use jiff::Timestamp;
use model::{AccountId, Conid, Currency, Decimal};
use serde::{Deserialize, Serialize};

/// Every instruction, set and saved bank account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banking {
    /// Instructions by id.
    pub instructions: BTreeMap<u64, FiledInstruction>,
    /// Each set's instructions, in the order they came.
    pub sets: BTreeMap<u64, Vec<u64>>,
    /// Each client's instruction ids by its own ids.
    pub by_client: BTreeMap<String, BTreeMap<u64, u64>>,
    /// Each account's saved bank accounts, by name.
    pub banks: BTreeMap<AccountId, BTreeMap<String, BankInstruction>>,
}

/// The most shares one transfer may move: as many as the largest order.
const MAX_SHARES: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// The longest a bank instruction's name may be, as IBKR's schema allows.
const MAX_NAME: usize = 100;

impl Banking {
    /// The instruction the client knows by `client_instruction_id`.
    pub fn by_client_id(&self, client_id: &str, client_instruction_id: u64) -> Option<&FiledInstruction> {
        let id = self.by_client.get(client_id)?.get(&client_instruction_id)?;
        self.instructions.get(id)
    }

    /// The instructions of set `set`.
    pub fn set(&self, set: u64) -> Option<impl Iterator<Item = &FiledInstruction>> {
        let ids = self.sets.get(&set)?;
        Some(ids.iter().filter_map(|id| self.instructions.get(id)))
    }

    /// What a recent-instructions query (`query`) reports of `account` over its last `days`:
    /// the same client's other instructions that touch the account, submitted since then.
    pub fn recent<'a>(
        &'a self,
        query: &'a FiledInstruction,
        account: &'a AccountId,
        days: u32,
        now: Timestamp,
    ) -> impl Iterator<Item = &'a FiledInstruction> {
        let since = now - jiff::SignedDuration::from_hours(24 * i64::from(days));
        self.instructions.values().filter(move |other| {
            other.id != query.id
                && other.client_id == query.client_id
                && other.submitted_at >= since
                && other.instruction.accounts().contains(&account)
        })
    }

    /// `account`'s saved bank accounts.
    pub fn banks(&self, account: &AccountId) -> impl Iterator<Item = &BankInstruction> {
        self.banks.get(account).into_iter().flat_map(BTreeMap::values)
    }

    /// When the next pending instruction settles.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.pending().filter_map(|filed| filed.due_at).min()
    }

    fn pending(&self) -> impl Iterator<Item = &FiledInstruction> {
        self.instructions.values().filter(|filed| filed.status == InstructionStatus::Pending)
    }

    /// What pending withdrawals hold of `account`'s `currency`.
    pub(crate) fn held(&self, account: &AccountId, currency: Currency) -> Decimal {
        self.pending()
            .filter_map(|filed| match &filed.instruction {
                Instruction::Withdrawal { account: from, currency: held, amount, .. }
                    if from == account && *held == currency =>
                {
                    Some(*amount)
                }
                _ => None,
            })
            .sum()
    }

    /// What pending deliveries out of `account` hold of `conid`.
    pub(crate) fn delivering(&self, account: &AccountId, conid: Conid) -> Decimal {
        self.pending()
            .filter_map(|filed| match &filed.instruction {
                Instruction::FreeOfPayment {
                    account: from,
                    conid: held,
                    quantity,
                    direction: Direction::Out,
                    ..
                } if from == account && *held == conid => Some(*quantity),
                _ => None,
            })
            .sum()
    }
}
