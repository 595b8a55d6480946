//! Events: what a command changed.

use jiff::Timestamp;
use model::{AccountId, Conid, Currency, Decimal, ExecutionId, OrderId, OrderStatus, SessionId, Username};
use serde::{Deserialize, Serialize};

use crate::clock::ClockMode;
use crate::market::MarketChange;

/// One consequence of an applied command. Handlers build replies from them; streams fan them out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The world now exists.
    WorldCreated,
    /// A session was opened for `user`.
    SessionOpened { session: SessionId, user: Username },
    /// A session ended, by logout or because a new gateway login replaced it.
    SessionClosed { session: SessionId },
    /// `session` took its user's brokerage session, from `from` if another session held it.
    BrokerageTaken { session: SessionId, from: Option<SessionId> },
    /// The session now acts on `account` by default.
    AccountSelected { session: SessionId, account: AccountId },
    /// The clock's mode or market time changed; `now` is market time right after.
    ClockChanged { mode: ClockMode, now: Timestamp },
    /// An instrument's market was changed at market instant `at`.
    MarketChanged { conid: Conid, change: MarketChange, at: Timestamp },
    /// An order was accepted.
    OrderPlaced { order: OrderId },
    /// An order's status or terms changed.
    OrderChanged { order: OrderId, status: OrderStatus },
    /// The broker placed `order` to liquidate part of `account`, whose equity fell below its
    /// maintenance margin.
    Liquidating { account: AccountId, order: OrderId },
    /// An order filled, in part or in full.
    Executed { execution: ExecutionId, order: OrderId },
    /// A dividend was announced.
    DividendDeclared {
        conid: Conid,
        amount: Decimal,
        ex_date: jiff::civil::Date,
        pay_date: jiff::civil::Date,
    },
    /// A holder became owed a dividend (or owes it, when short) as the shares went ex.
    DividendAccrued { account: AccountId, conid: Conid, amount: Decimal },
    /// A dividend was paid into (or out of) an account's cash.
    DividendPaid { account: AccountId, conid: Conid, amount: Decimal },
    /// A split was announced for the New York day `on`.
    SplitScheduled { conid: Conid, to: u32, from: u32, on: jiff::civil::Date },
    /// Shares were split: `from` old ones became `to` new ones.
    SharesSplit { conid: Conid, to: u32, from: u32 },
    /// A day's interest accrued: earned (positive) or owed.
    InterestAccrued { account: AccountId, currency: Currency, amount: Decimal },
    /// A month's interest was paid into (positive) or out of an account's cash.
    InterestPaid { account: AccountId, currency: Currency, amount: Decimal },
    /// An OAuth client registered a key.
    ClientRegistered { client_id: String },
    /// An OAuth client was approved, or revoked.
    ClientReviewed { client_id: String, revoked: bool },
    /// A client was given the management of existing accounts.
    AccountsAssigned { client_id: String },
    /// An access token was issued.
    TokenIssued { client_id: String },
    /// Money was paid into (positive) or out of (negative) an account.
    CashMoved { account: AccountId, currency: Currency, amount: Decimal },
    /// An Account Management request was filed; `account` is the one it concerns or opens.
    RequestSubmitted { request: u64, account: AccountId },
    /// A pending application was decided.
    RequestDecided { request: u64 },
    /// An application opened an account.
    AccountOpened { account: AccountId },
    /// A set of banking instructions was filed.
    InstructionsFiled { set: u64 },
    /// Shares of `conid` moved out of `from` and into `to`; `None` is another broker.
    PositionsTransferred { from: Option<AccountId>, to: Option<AccountId>, conid: Conid },
    /// A Flex token or query was added.
    FlexDefined,
    /// A Flex statement was requested under `reference`.
    FlexRequested { reference: String },
    /// A pending instruction settled, or was rejected as it fell due.
    InstructionSettled { instruction: u64 },
}
