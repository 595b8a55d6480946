//! Banking instructions, as IBKR's Account Management takes them: an introducing broker sends
//! instructions (deposits, withdrawals, internal cash and position transfers, deliveries free
//! of payment, bank instructions, cancels, queries) for the accounts it manages, one at a time
//! or in bulk. Each set of them gets an id, each instruction an id and a status: processed at
//! once, rejected with a reason, or pending until it settles (a deposit, a withdrawal, a
//! delivery) after the world's settlement delay of market time. A client's own
//! `clientInstructionId` makes a resubmission harmless: the same instruction again answers the
//! one already filed, another instruction under the same id is refused.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, AssetClass, Conid, Currency, Decimal};
use serde::{Deserialize, Serialize};

use crate::applications::Lifecycle;
use crate::funding::{TransferRefusal, check_amount};
use crate::ledger::Cause;
use crate::{Engine, EngineError, Event};

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
    RecentInstructions { days: u32 },
}

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

/// A set of banking instructions refused whole: nothing of it is filed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstructionRefusal {
    /// A `clientInstructionId` names one instruction for good, so that sending it again is
    /// harmless; another instruction under it is a mistake that filing would hide.
    #[error("clientInstructionId {client_instruction_id} was already used for another instruction")]
    ClientInstructionIdReused { client_instruction_id: u64 },
}

/// Why one instruction of a set was rejected, when it was filed or when it fell due. Unlike an
/// [`InstructionRefusal`], the rest of the set is filed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstructionRejection {
    /// The money could not move: a deposit or withdrawal is refused for what a transfer is.
    #[error(transparent)]
    Transfer(#[from] TransferRefusal),
    /// The client lost its approval while the instruction was pending.
    #[error("client {client_id:?} is not approved for Account Management")]
    ClientNotApproved { client_id: String },
    /// A client instructs only for the accounts it manages.
    #[error("account {account} is not one the client manages")]
    NotManaged { account: AccountId },
    /// Only an open account moves money or shares.
    #[error("account {account} is not open")]
    NotOpen { account: AccountId },
    /// An ACH deposit is pulled from a saved bank account, which it must name.
    #[error("an ACH deposit names a bank instruction")]
    AchWithoutBank,
    /// Money moves only to and from bank accounts saved for that method and currency.
    #[error("account {account} has no {method:?} bank instruction in {currency} named {name:?}")]
    NoSuchBank { account: AccountId, method: BankMethod, currency: Currency, name: String },
    /// A transfer between accounts moves something from one to another.
    #[error("a transfer's source and target accounts differ")]
    SameAccount { account: AccountId },
    /// IBKR's limit on a bank instruction's name; `length` is the name's, in characters.
    #[error("a bank instruction's name has 1 to {MAX_NAME} characters")]
    BankNameLength { length: usize },
    /// Instructions name a saved bank account, so a name is saved once.
    #[error("account {account} already has a bank instruction named {name:?}")]
    BankExists { account: AccountId, name: String },
    /// A client cancels only its own instructions.
    #[error("the client has no instruction {instruction}")]
    NoSuchInstruction { instruction: u64 },
    /// Only a pending instruction can be stopped.
    #[error("instruction {instruction} is {status:?} and can no longer be cancelled")]
    NotCancellable { instruction: u64, status: InstructionStatus },
    /// The market lists no such instrument.
    #[error("conid {conid} is not listed")]
    UnlistedConid { conid: Conid },
    /// Position transfers are for shares.
    #[error("{symbol} is not a share: only shares transfer")]
    NotAShare { conid: Conid, symbol: String },
    /// Shares move whole, and no more than the largest order trades.
    #[error("a transfer moves a whole number of shares above 0 and at most {MAX_SHARES}, not {quantity}")]
    ShareCount { quantity: Decimal },
    /// Delivered shares would cover part of a short position, which a delivery does not do.
    #[error("account {account} is short {symbol}: shares cannot be delivered into it")]
    ShortInto { account: AccountId, conid: Conid, symbol: String },
    /// Only shares held long, and promised neither to working sell orders nor to pending
    /// deliveries, leave; `free` is never below zero.
    #[error("account {account} has {free} {symbol} free to deliver, not {quantity}")]
    NotFreeToDeliver { account: AccountId, conid: Conid, symbol: String, free: Decimal, quantity: Decimal },
    /// The delivered shares' value overflows what the ledger counts.
    #[error("the shares' value is beyond what LocalBroker counts")]
    ValueOverflow { conid: Conid, quantity: Decimal },
}

/// Why a filed instruction ended rejected: cancelled by its client, or refused. The record keeps
/// it as the text IBKR's `errorMessage` shows, which snapshots store and the state digest
/// hashes; the variant says which `errorCode` goes with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Rejection {
    /// Its client cancelled it while it was pending, giving `reason`.
    Cancelled { reason: String },
    /// LocalBroker refused it: the text of the [`InstructionRejection`] it was refused with.
    Refused(String),
}

/// How a cancellation's text begins.
const CANCELLED: &str = "cancelled: ";

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cancelled { reason } => write!(f, "{CANCELLED}{reason}"),
            Self::Refused(text) => f.write_str(text),
        }
    }
}

impl From<InstructionRejection> for Rejection {
    fn from(rejection: InstructionRejection) -> Self {
        Self::Refused(rejection.to_string())
    }
}

impl From<Rejection> for String {
    fn from(rejection: Rejection) -> Self {
        rejection.to_string()
    }
}

impl From<String> for Rejection {
    /// Reads the text a snapshot stored. Snapshots keep only the text, so that the state's
    /// serialised shape and digest stay what they were when the reason was a string; the
    /// prefix of a cancellation tells it apart, as no refusal's text begins with it.
    fn from(text: String) -> Self {
        match text.strip_prefix(CANCELLED) {
            Some(reason) => Self::Cancelled { reason: reason.to_owned() },
            None => Self::Refused(text),
        }
    }
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

/// The first instruction id, and the first set id.
const FIRST_ID: u64 = 100_000_001;

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

#[cfg(test)]
mod tests;

/// What an instruction came to when it was filed.
enum Outcome {
    Processed,
    Pending(Timestamp),
}

impl Engine {
    /// Files a set of `client_id`'s instructions, in order; answers
    /// [`Event::InstructionsFiled`] with the set's id.
    ///
    /// # Errors
    /// When the client may not use Account Management, or a `clientInstructionId` names
    /// another instruction than the one filed under it before: then nothing is filed.
    pub(crate) fn file_instructions(
        &mut self,
        now: Timestamp,
        client_id: &str,
        requests: &[InstructionRequest],
    ) -> Result<Vec<Event>, EngineError> {
        self.client_of(client_id)?;
        for (index, request) in requests.iter().enumerate() {
            let reused = requests[..index]
                .iter()
                .find(|earlier| earlier.client_instruction_id == request.client_instruction_id);
            let filed = self.state.banking.by_client_id(client_id, request.client_instruction_id);
            let conflict =
                reused.map(|earlier| &earlier.instruction).or(filed.map(|filed| &filed.instruction));
            if conflict.is_some_and(|earlier| earlier != &request.instruction) {
                let client_instruction_id = request.client_instruction_id;
                return Err(InstructionRefusal::ClientInstructionIdReused { client_instruction_id }.into());
            }
        }
        let set = FIRST_ID + self.state.banking.sets.len() as u64;
        let mut ids = Vec::with_capacity(requests.len());
        // Each instruction applies in turn, later ones seeing what earlier ones did. Nothing in
        // `carry_out` fails once its checks pass (its `?` only carries a ledger imbalance, a
        // bug), so a refused set is one refused above, before anything was filed.
        let mut events = Vec::new();
        for request in requests {
            if let Some(filed) = self.state.banking.by_client_id(client_id, request.client_instruction_id) {
                ids.push(filed.id);
                continue;
            }
            let id = FIRST_ID + self.state.banking.instructions.len() as u64;
            let outcome = self.carry_out(now, client_id, &request.instruction, &mut events)?;
            let (status, due_at, reason) = match outcome {
                Ok(Outcome::Processed) => (InstructionStatus::Processed, None, None),
                Ok(Outcome::Pending(due)) => (InstructionStatus::Pending, Some(due), None),
                Err(rejection) => (InstructionStatus::Rejected, None, Some(rejection.into())),
            };
            let filed = FiledInstruction {
                id,
                set,
                client_id: client_id.to_owned(),
                client_instruction_id: request.client_instruction_id,
                instruction: request.instruction.clone(),
                status,
                submitted_at: now,
                due_at,
                decided_at: (status != InstructionStatus::Pending).then_some(now),
                reason,
            };
            let banking = &mut self.state.banking;
            banking.instructions.insert(id, filed);
            banking
                .by_client
                .entry(client_id.to_owned())
                .or_default()
                .insert(request.client_instruction_id, id);
            ids.push(id);
        }
        self.state.banking.sets.insert(set, ids);
        events.push(Event::InstructionsFiled { set });
        Ok(events)
    }

    /// Does what `instruction` asks that can be done now; the inner result says how it came
    /// out, or why it was rejected.
    fn carry_out(
        &mut self,
        now: Timestamp,
        client_id: &str,
        instruction: &Instruction,
        events: &mut Vec<Event>,
    ) -> Result<Result<Outcome, InstructionRejection>, EngineError> {
        if let Some(rejection) = self.unusable_account(client_id, instruction) {
            return Ok(Err(rejection));
        }
        let settles = now + self.state.requests.timing.settlement;
        Ok(match instruction {
            Instruction::Deposit { account, currency, amount, method, bank } => self
                .check_amount(*currency, *amount)
                .and_then(|()| match (method, bank) {
                    (BankMethod::Ach, None) => Err(InstructionRejection::AchWithoutBank),
                    (BankMethod::Ach, Some(name)) => {
                        self.saved_bank(account, name, *method, *currency).map(drop)
                    }
                    _ => Ok(()),
                })
                .map(|()| Outcome::Pending(settles)),
            Instruction::Withdrawal { account, currency, amount, method, bank } => self
                .check_amount(*currency, *amount)
                .and_then(|()| self.saved_bank(account, bank, *method, *currency).map(drop))
                .and_then(|()| self.check_withdrawable(account, *currency, *amount, now))
                .map(|()| Outcome::Pending(settles)),
            Instruction::InternalCashTransfer { from, to, currency, amount } => {
                match self.check_internal(from, to, *currency, *amount, now) {
                    Ok(()) => {
                        events.extend(self.move_cash(
                            now,
                            from,
                            *currency,
                            -*amount,
                            Cause::InternalTransfer,
                        )?);
                        events.extend(self.move_cash(
                            now,
                            to,
                            *currency,
                            *amount,
                            Cause::InternalTransfer,
                        )?);
                        Ok(Outcome::Processed)
                    }
                    Err(reason) => Err(reason),
                }
            }
            Instruction::AddBankInstruction { account, name, currency, method, bank, predefined } => {
                let saved = BankInstruction {
                    name: name.clone(),
                    currency: *currency,
                    method: *method,
                    bank: bank.clone(),
                    predefined: *predefined,
                    saved_at: now,
                };
                self.save_bank(account, saved)
            }
            Instruction::DeleteBankInstruction { account, name, method, currency } => {
                match self.saved_bank(account, name, *method, *currency) {
                    Ok(_) => {
                        if let Some(banks) = self.state.banking.banks.get_mut(account) {
                            banks.remove(name);
                        }
                        Ok(Outcome::Processed)
                    }
                    Err(reason) => Err(reason),
                }
            }
            Instruction::Cancel { instruction, reason } => {
                self.cancel_instruction(now, client_id, *instruction, reason)
            }
            Instruction::FreeOfPayment { account, conid, quantity, direction, .. } => self
                .check_deliverable(account, *conid, *quantity, *direction)
                .map(|()| Outcome::Pending(settles)),
            Instruction::InternalPositionTransfer { from, to, conid, quantity } => {
                let check = if from == to {
                    Err(InstructionRejection::SameAccount { account: from.clone() })
                } else {
                    self.check_deliverable(from, *conid, *quantity, Direction::Out)
                        .and_then(|()| self.check_deliverable(to, *conid, *quantity, Direction::In))
                };
                match check {
                    Ok(()) => {
                        let cost = self.move_position(now, from, *conid, -*quantity, None, false)?;
                        self.move_position(now, to, *conid, *quantity, Some(cost), false)?;
                        events.push(Event::PositionsTransferred {
                            from: Some(from.clone()),
                            to: Some(to.clone()),
                            conid: *conid,
                        });
                        Ok(Outcome::Processed)
                    }
                    Err(reason) => Err(reason),
                }
            }
            Instruction::Query { .. } => Ok(Outcome::Processed),
        })
    }

    /// Why an account the instruction names cannot be used by the client, if one cannot.
    fn unusable_account(&self, client_id: &str, instruction: &Instruction) -> Option<InstructionRejection> {
        let managed = &self.state.oauth.clients.get(client_id)?.accounts;
        instruction.accounts().into_iter().find_map(|account| {
            if !managed.contains(account) {
                Some(InstructionRejection::NotManaged { account: account.clone() })
            } else if !matches!(self.state.lifecycle(account), Some(Lifecycle::Open { .. })) {
                Some(InstructionRejection::NotOpen { account: account.clone() })
            } else {
                None
            }
        })
    }

    fn check_amount(&self, currency: Currency, amount: Decimal) -> Result<(), InstructionRejection> {
        check_amount(amount)?;
        if !Catalogue::standard().prices_currency(currency) {
            return Err(TransferRefusal::UnpricedCurrency { currency }.into());
        }
        Ok(())
    }

    /// The saved bank account of `account` named `name`, if it moves money by `method` in
    /// `currency`.
    fn saved_bank(
        &self,
        account: &AccountId,
        name: &str,
        method: BankMethod,
        currency: Currency,
    ) -> Result<&BankInstruction, InstructionRejection> {
        self.state
            .banking
            .banks(account)
            .find(|bank| bank.name == name && bank.method == method && bank.currency == currency)
            .ok_or_else(|| InstructionRejection::NoSuchBank {
                account: account.clone(),
                method,
                currency,
                name: name.to_owned(),
            })
    }

    fn check_withdrawable(
        &self,
        account: &AccountId,
        currency: Currency,
        amount: Decimal,
        at: Timestamp,
    ) -> Result<(), InstructionRejection> {
        let withdrawable = self.withdrawable(account, currency, at);
        if amount > withdrawable {
            return Err(TransferRefusal::ExceedsWithdrawable { amount, currency, withdrawable }.into());
        }
        Ok(())
    }

    fn check_internal(
        &self,
        from: &AccountId,
        to: &AccountId,
        currency: Currency,
        amount: Decimal,
        at: Timestamp,
    ) -> Result<(), InstructionRejection> {
        if from == to {
            return Err(InstructionRejection::SameAccount { account: from.clone() });
        }
        self.check_amount(currency, amount)?;
        self.check_withdrawable(from, currency, amount, at)
    }

    fn save_bank(
        &mut self,
        account: &AccountId,
        saved: BankInstruction,
    ) -> Result<Outcome, InstructionRejection> {
        if saved.name.trim().is_empty() || saved.name.chars().count() > MAX_NAME {
            return Err(InstructionRejection::BankNameLength { length: saved.name.chars().count() });
        }
        let banks = self.state.banking.banks.entry(account.clone()).or_default();
        if banks.contains_key(&saved.name) {
            return Err(InstructionRejection::BankExists { account: account.clone(), name: saved.name });
        }
        banks.insert(saved.name.clone(), saved);
        Ok(Outcome::Processed)
    }

    fn cancel_instruction(
        &mut self,
        now: Timestamp,
        client_id: &str,
        target: u64,
        reason: &str,
    ) -> Result<Outcome, InstructionRejection> {
        let filed = self
            .state
            .banking
            .instructions
            .get_mut(&target)
            .filter(|filed| filed.client_id == client_id)
            .ok_or(InstructionRejection::NoSuchInstruction { instruction: target })?;
        if filed.status != InstructionStatus::Pending {
            return Err(InstructionRejection::NotCancellable { instruction: target, status: filed.status });
        }
        filed.status = InstructionStatus::Rejected;
        filed.decided_at = Some(now);
        filed.reason = Some(Rejection::Cancelled { reason: reason.to_owned() });
        Ok(Outcome::Processed)
    }

    /// What can be withdrawn from `account` in `currency` at `at`: its settled cash less what
    /// working orders and pending withdrawals hold, and no more than keeps the initial margin
    /// of its holdings covered.
    pub fn withdrawable(&self, account: &AccountId, currency: Currency, at: Timestamp) -> Decimal {
        let Some(portfolio) = self.state.portfolio(account, at) else { return Decimal::ZERO };
        let settled = portfolio.currencies.get(&currency).map_or(Decimal::ZERO, |line| line.settled_cash);
        let withdrawing = self.state.banking.held(account, currency);
        let held = self.book.reserved(account, currency) + withdrawing;
        let by_margin = self.available_equity(account, currency, at) - withdrawing;
        (settled - held).min(by_margin).max(Decimal::ZERO).round_dp(2)
    }

    /// The account's available funds (equity above the initial margin of its holdings), in
    /// `currency`, at `at`; never below zero.
    pub fn available_equity(&self, account: &AccountId, currency: Currency, at: Timestamp) -> Decimal {
        let Some(portfolio) = self.state.portfolio(account, at) else { return Decimal::ZERO };
        let rate = portfolio.currencies.get(&currency).map_or(Decimal::ONE, |line| line.rate);
        let funds = if rate > Decimal::ZERO { portfolio.available_funds() / rate } else { Decimal::ZERO };
        funds.max(Decimal::ZERO).round_dp(2)
    }

    /// Settles every pending deposit, withdrawal and delivery due by `now`, in the order they
    /// fall due. One whose client was revoked, or whose account closed, since is rejected.
    pub(crate) fn settle_instructions(
        &mut self,
        now: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), EngineError> {
        let mut due: Vec<(Timestamp, u64)> = self
            .state
            .banking
            .pending()
            .filter_map(|filed| filed.due_at.filter(|at| *at <= now).map(|at| (at, filed.id)))
            .collect();
        due.sort_unstable();
        for (at, id) in due {
            let Some(filed) = self.state.banking.instructions.get(&id).cloned() else { continue };
            let refusal = match self.client_of(&filed.client_id) {
                Ok(_) => self.unusable_account(&filed.client_id, &filed.instruction),
                Err(_) => {
                    Some(InstructionRejection::ClientNotApproved { client_id: filed.client_id.clone() })
                }
            };
            let outcome = match (refusal, &filed.instruction) {
                (Some(refusal), _) => Err(refusal),
                (None, Instruction::Deposit { account, currency, amount, .. }) => {
                    events.extend(self.move_cash(at, account, *currency, *amount, Cause::Deposit)?);
                    Ok(())
                }
                (None, Instruction::Withdrawal { account, currency, amount, .. }) => {
                    self.release(id);
                    let check = self.check_withdrawable(account, *currency, *amount, at);
                    if check.is_ok() {
                        events.extend(self.move_cash(at, account, *currency, -*amount, Cause::Withdrawal)?);
                    }
                    check
                }
                (None, Instruction::FreeOfPayment { account, conid, quantity, direction, .. }) => {
                    self.release(id);
                    let value = quantity.checked_mul(self.state.mark(*conid, at));
                    let check =
                        self.check_deliverable(account, *conid, *quantity, *direction).and_then(|()| {
                            value.map(drop).ok_or(InstructionRejection::ValueOverflow {
                                conid: *conid,
                                quantity: *quantity,
                            })
                        });
                    if let Ok(()) = check {
                        let (signed, cost) = match direction {
                            Direction::In => (*quantity, value),
                            Direction::Out => (-*quantity, None),
                        };
                        self.move_position(at, account, *conid, signed, cost, true)?;
                        let (from, to) = match direction {
                            Direction::In => (None, Some(account.clone())),
                            Direction::Out => (Some(account.clone()), None),
                        };
                        events.push(Event::PositionsTransferred { from, to, conid: *conid });
                    }
                    check
                }
                (None, _) => Ok(()),
            };
            if let Some(stored) = self.state.banking.instructions.get_mut(&id) {
                stored.decided_at = Some(at);
                match outcome {
                    Ok(()) => stored.status = InstructionStatus::Processed,
                    Err(rejection) => {
                        stored.status = InstructionStatus::Rejected;
                        stored.reason = Some(rejection.into());
                    }
                }
            }
            events.push(Event::InstructionSettled { instruction: id });
        }
        Ok(())
    }

    /// Why `quantity` of `conid` cannot move into or out of `account`, if it cannot: only
    /// shares LocalBroker lists move, and only shares held long and not promised to working
    /// sell orders (nor to pending deliveries) leave.
    fn check_deliverable(
        &self,
        account: &AccountId,
        conid: Conid,
        quantity: Decimal,
        direction: Direction,
    ) -> Result<(), InstructionRejection> {
        let instrument =
            Catalogue::standard().get(conid).ok_or(InstructionRejection::UnlistedConid { conid })?;
        if instrument.asset_class != AssetClass::Stock {
            return Err(InstructionRejection::NotAShare { conid, symbol: instrument.symbol.clone() });
        }
        if quantity <= Decimal::ZERO || quantity > MAX_SHARES || quantity != quantity.trunc() {
            return Err(InstructionRejection::ShareCount { quantity });
        }
        let held = self
            .state
            .positions(account)
            .find(|(held, _)| *held == conid)
            .map_or(Decimal::ZERO, |(_, p)| p.quantity);
        if direction == Direction::In && held < Decimal::ZERO {
            return Err(InstructionRejection::ShortInto {
                account: account.clone(),
                conid,
                symbol: instrument.symbol.clone(),
            });
        }
        if direction == Direction::Out {
            let free =
                held - self.book.selling(account, conid) - self.state.banking.delivering(account, conid);
            if quantity > free {
                return Err(InstructionRejection::NotFreeToDeliver {
                    account: account.clone(),
                    conid,
                    symbol: instrument.symbol.clone(),
                    free: free.max(Decimal::ZERO),
                    quantity,
                });
            }
        }
        Ok(())
    }

    /// Marks instruction `id` as no longer holding what it moves while it is checked once more.
    fn release(&mut self, id: u64) {
        if let Some(filed) = self.state.banking.instructions.get_mut(&id) {
            filed.status = InstructionStatus::Processed;
        }
    }
}
