//! How banking instructions are refused: a whole set ([`InstructionRefusal`]), one instruction
//! of it ([`InstructionRejection`]), and the reason a filed instruction keeps ([`Rejection`]),
//! stored as the text IBKR shows.

use std::fmt;

use model::{AccountId, Conid, Currency, Decimal};
use serde::{Deserialize, Serialize};

use super::{BankMethod, InstructionStatus, MAX_NAME, MAX_SHARES};
use crate::funding::TransferRefusal;

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
