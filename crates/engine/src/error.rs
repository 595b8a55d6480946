//! Why the engine refuses a command.

use jiff::{SignedDuration, Timestamp};
use model::{AccountId, Conid, SessionId, Username};

/// A command the engine refused. Refusals are deterministic: replaying a refused command
/// refuses it again and leaves the state as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A second `CreateWorld`.
    #[error("the world was already created")]
    WorldExists,
    /// Anything before the world exists.
    #[error("no world has been created yet")]
    NoWorld,
    /// The world's parts contradict each other, or the engine refuses one of them.
    #[error("invalid world: {0}")]
    InvalidWorld(crate::world::WorldProblem),
    /// No such user.
    #[error("unknown user {0}")]
    UnknownUser(Username),
    /// The session is not open (logged out, replaced, or never existed).
    #[error("session {0} is not open")]
    UnknownSession(SessionId),
    /// The user may not use the account.
    #[error("account {account} is not available to user {user}")]
    NotEntitled { user: Username, account: AccountId },
    /// Market time only moves forward.
    #[error("the clock cannot be set back: it is {now}, {requested} was asked")]
    ClockBackwards { now: Timestamp, requested: Timestamp },
    /// The clock may only start or move where the simulated market has prices.
    #[error("market time {requested} is outside the simulated market, which runs from {first} to {last}")]
    ClockOutsideMarket { requested: Timestamp, first: Timestamp, last: Timestamp },
    /// An advance must be positive.
    #[error("the clock can only be advanced by a positive duration, not {0}")]
    NonPositiveAdvance(SignedDuration),
    /// The market lists no such instrument.
    #[error("conid {0} is not listed")]
    UnknownInstrument(Conid),
    /// A ledger entry that does not balance: a bug in the engine, refused before it lands.
    #[error(transparent)]
    Unbalanced(#[from] crate::ledger::Unbalanced),
    /// An order the instrument or the account cannot take, in IBKR's words where IBKR has them.
    #[error(transparent)]
    OrderRejected(#[from] crate::orders::OrderRejection),
    /// No such order in the account.
    #[error("OrderID {0} doesn't exist")]
    UnknownOrder(model::OrderId),
    /// The order is filled, cancelled or inactive.
    #[error("OrderID {order} is {status:?} and can no longer be changed")]
    FinishedOrder { order: model::OrderId, status: model::OrderStatus },
    /// A status change the order state machine does not allow: a bug in the engine, refused
    /// before the order changes.
    #[error("OrderID {order}: {illegal}")]
    IllegalTransition { order: model::OrderId, illegal: crate::orders::lifecycle::IllegalTransition },
    /// A deposit or withdrawal the account cannot make.
    #[error("transfer refused: {0}")]
    TransferRefused(crate::funding::TransferRefusal),
    /// A corporate action the market cannot take.
    #[error("corporate action refused: {0}")]
    CorporateActionRefused(crate::corporate_actions::CorporateActionRefusal),
    /// An OAuth client change or token the registry cannot take.
    #[error(transparent)]
    OAuthRefused(#[from] crate::oauth::OAuthRefusal),
    /// A token asked for a scope its client does not have.
    #[error("scope {0:?} is not granted to the client")]
    ScopeNotGranted(String),
    /// A client asked for a session of a user it neither onboarded, nor manages every account
    /// of, nor has listed in its world-file entry; or of no user at all.
    #[error("client {client_id:?} may not open sessions for user {username}")]
    ClientMayNotActFor { client_id: String, username: Username },
    /// A signed request was used before, while it is still valid.
    #[error("the signed request was already used")]
    SignedRequestReplayed,
    /// Order questions a session cannot suppress.
    #[error(transparent)]
    QuestionsRefused(#[from] crate::QuestionRefusal),
    /// A client assertion's `jti` was used before, while it is still valid.
    #[error("the assertion {0:?} was already used")]
    AssertionReplayed(String),
    /// Another session of the user holds the brokerage session, and the caller did not ask to
    /// take it over (`compete: false`).
    #[error("the brokerage session of {0} is held by another session")]
    BrokerageHeld(Username),
    /// An Account Management request the engine cannot take.
    #[error(transparent)]
    RequestRefused(#[from] crate::applications::RequestRefusal),
    /// A set of banking instructions the engine cannot file.
    #[error(transparent)]
    InstructionRefused(#[from] crate::banking::InstructionRefusal),
    /// A Flex token or query that cannot be added.
    #[error(transparent)]
    FlexDefinition(#[from] crate::flex::FlexDefinitionRefusal),
    /// A Flex request IBKR would refuse, with its error code.
    #[error("Flex error {}: {}", .0.code(), .0.message())]
    Flex(crate::flex::FlexError),
    /// An override outside what the market allows.
    #[error("invalid market change: {0}")]
    InvalidMarketChange(crate::market::MarketChangeRefusal),
}

// The refusals wrapped with a prefix convert by hand: `#[from]` would also make the inner
// refusal the error's `source`, and a report of the error's chain would then say it twice.

impl From<crate::funding::TransferRefusal> for EngineError {
    fn from(refusal: crate::funding::TransferRefusal) -> Self {
        Self::TransferRefused(refusal)
    }
}

impl From<crate::corporate_actions::CorporateActionRefusal> for EngineError {
    fn from(refusal: crate::corporate_actions::CorporateActionRefusal) -> Self {
        Self::CorporateActionRefused(refusal)
    }
}

impl From<crate::market::MarketChangeRefusal> for EngineError {
    fn from(refusal: crate::market::MarketChangeRefusal) -> Self {
        Self::InvalidMarketChange(refusal)
    }
}

impl From<crate::world::WorldProblem> for EngineError {
    fn from(problem: crate::world::WorldProblem) -> Self {
        Self::InvalidWorld(problem)
    }
}
