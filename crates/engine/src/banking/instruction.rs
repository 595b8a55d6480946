//! What a client instructs (deposits, withdrawals, transfers, deliveries, bank instructions,
//! cancels, queries), and the records the engine keeps of what it filed and of the bank
//! accounts instructions save.

use jiff::Timestamp;
use model::{AccountId, Conid, Currency, Decimal};
use serde::{Deserialize, Serialize};

use super::Rejection;

/// How a bank instruction moves money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BankMethod {
    /// US or Canadian automated clearing.
    Ach,
    /// A bank wire.
    Wire,
    /// A SEPA transfer.
    Sepa,
}

/// What a client instructs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Instruction {
    /// `DEPOSIT`: money coming in from the client's bank, through a saved ACH instruction
    /// or by wire.
    Deposit {
        account: AccountId,
        currency: Currency,
        amount: Decimal,
        method: BankMethod,
        bank: Option<String>,
    },
    /// `WITHDRAWAL`: money going out to a saved bank instruction.
    Withdrawal { account: AccountId, currency: Currency, amount: Decimal, method: BankMethod, bank: String },
    /// `INTERNAL_CASH_TRANSFER`: between two accounts the client manages.
    InternalCashTransfer { from: AccountId, to: AccountId, currency: Currency, amount: Decimal },
    /// `ACH_INSTRUCTION`, or `PREDEFINED_DESTINATION_INSTRUCTION` when `predefined`: saves a
    /// bank account under a name.
    AddBankInstruction {
        account: AccountId,
        name: String,
        currency: Currency,
        method: BankMethod,
        bank: BankAccount,
        predefined: bool,
    },
    /// `DELETE_BANK_INSTRUCTION`: forgets a saved bank account.
    DeleteBankInstruction { account: AccountId, name: String, currency: Currency, method: BankMethod },
    /// `FOP`: shares delivered free of payment from another broker (`In`) or to it (`Out`);
    /// pending until it settles.
    FreeOfPayment {
        account: AccountId,
        conid: Conid,
        quantity: Decimal,
        direction: Direction,
        contra_broker: String,
    },
    /// `INTERNAL_POSITION_TRANSFER`: shares moved between two accounts the client manages, at
    /// once, at the source's average cost.
    InternalPositionTransfer { from: AccountId, to: AccountId, conid: Conid, quantity: Decimal },
    /// `CANCEL_INSTRUCTION`: cancels a pending instruction.
    Cancel { instruction: u64, reason: String },
    /// A query about an account: answered from the state when it is read, filed like any
    /// instruction because IBKR gives queries instruction ids too.
    Query { account: AccountId, query: Query },
}

/// Which way a position transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// Into the account.
    In,
    /// Out of it.
    Out,
}

/// What a query instruction asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "query")]
pub enum Query {
    /// `QUERY_WITHDRAWABLE_FUNDS`.
    WithdrawableFunds { currency: Currency },
    /// `QUERY_WITHDRAWABLE_CASH_EQUITY`.
    WithdrawableCashEquity { currency: Currency },
    /// `QUERY_BANK_INSTRUCTION`.
    BankInstructions { method: BankMethod },
    /// `QUERY_RECENT_INSTRUCTIONS`: the account's instructions of the last `days`.
    RecentInstructions {
        days: u32,
        /// Answered once [`RECENT_INSTRUCTIONS_DELAY`] has passed, as IBKR answers it (pending,
        /// to poll). Queries journaled before LocalBroker did so were answered at once, and
        /// still are when replayed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        deferred: bool,
    },
}

impl Instruction {
    /// Whether `other` asks what this instruction does, so that it may come again under the
    /// same `clientInstructionId`: a query of recent instructions journaled before such queries
    /// were deferred asks what a deferred one does.
    pub fn asks_the_same(&self, other: &Self) -> bool {
        let recent = |instruction: &Self| match instruction {
            Self::Query { account, query: Query::RecentInstructions { days, .. } } => {
                Some((account.clone(), *days))
            }
            _ => None,
        };
        match (recent(self), recent(other)) {
            (Some(this), Some(that)) => this == that,
            _ => self == other,
        }
    }
}

/// How long IBKR takes to answer a query of recent instructions: it asks clients to poll a
/// minute later.
pub const RECENT_INSTRUCTIONS_DELAY: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// Where a saved bank account is: what IBKR shows of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    /// The bank's name.
    pub bank_name: Option<String>,
    /// Its routing number or other identifier.
    pub routing_number: Option<String>,
    /// The last four characters of the account number: no more is kept.
    pub account_number_tail: Option<String>,
}

impl Instruction {
    /// IBKR's `instructionType`.
    pub fn instruction_type(&self) -> &'static str {
        match self {
            Self::Deposit { .. } => "DEPOSIT",
            Self::Withdrawal { .. } => "WITHDRAWAL",
            Self::InternalCashTransfer { .. } => "INTERNAL_CASH_TRANSFER",
            Self::AddBankInstruction { predefined: false, .. } => "ACH_INSTRUCTION",
            Self::AddBankInstruction { predefined: true, .. } => "PREDEFINED_DESTINATION_INSTRUCTION",
            Self::DeleteBankInstruction { .. } => "DELETE_BANK_INSTRUCTION",
            Self::FreeOfPayment { .. } => "FOP",
            Self::InternalPositionTransfer { .. } => "INTERNAL_POSITION_TRANSFER",
            Self::Cancel { .. } => "CANCEL_INSTRUCTION",
            Self::Query { query: Query::WithdrawableFunds { .. }, .. } => "QUERY_WITHDRAWABLE_FUNDS",
            Self::Query { query: Query::WithdrawableCashEquity { .. }, .. } => {
                "QUERY_WITHDRAWABLE_CASH_EQUITY"
            }
            Self::Query { query: Query::BankInstructions { .. }, .. } => "QUERY_BANK_INSTRUCTION",
            Self::Query { query: Query::RecentInstructions { .. }, .. } => "QUERY_RECENT_INSTRUCTIONS",
        }
    }

    /// The accounts it acts on.
    pub fn accounts(&self) -> Vec<&AccountId> {
        match self {
            Self::Deposit { account, .. }
            | Self::Withdrawal { account, .. }
            | Self::AddBankInstruction { account, .. }
            | Self::DeleteBankInstruction { account, .. }
            | Self::Query { account, .. }
            | Self::FreeOfPayment { account, .. } => vec![account],
            Self::InternalCashTransfer { from, to, .. } | Self::InternalPositionTransfer { from, to, .. } => {
                vec![from, to]
            }
            Self::Cancel { .. } => Vec::new(),
        }
    }
}

/// An instruction as the client sent it: with its own id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstructionRequest {
    /// IBKR's `clientInstructionId`, unique per client.
    pub client_instruction_id: u64,
    /// What it instructs.
    pub instruction: Instruction,
}

/// Where an instruction stands (IBKR's `instructionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstructionStatus {
    /// Waiting to settle.
    Pending,
    /// Done.
    Processed,
    /// Refused or cancelled.
    Rejected,
}

/// One filed instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledInstruction {
    /// IBKR's `instructionId`.
    pub id: u64,
    /// The set it came in.
    pub set: u64,
    /// The client that sent it.
    pub client_id: String,
    /// The client's own id for it.
    pub client_instruction_id: u64,
    /// What it instructs.
    pub instruction: Instruction,
    /// Where it stands.
    pub status: InstructionStatus,
    /// When it was filed, in market time.
    pub submitted_at: Timestamp,
    /// When a pending one settles, in market time.
    pub due_at: Option<Timestamp>,
    /// When it was processed or rejected.
    pub decided_at: Option<Timestamp>,
    /// Why it was rejected.
    pub reason: Option<Rejection>,
}
/// A saved bank account of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankInstruction {
    /// The name instructions use for it.
    pub name: String,
    /// Its currency.
    pub currency: Currency,
    /// How it moves money.
    pub method: BankMethod,
    /// Where it is.
    pub bank: BankAccount,
    /// The instruction type that saved it.
    pub predefined: bool,
    /// When it was saved, in market time.
    pub saved_at: Timestamp,
}
