//! LocalBroker's domain vocabulary, shared by every other crate.
//!
//! # Layout
//! - [`ids`]: identifiers (`Conid`, `AccountId`, `Username`, `SessionId`), each a newtype that
//!   can only hold a valid value, so the engine never re-checks them.
//! - [`currency`]: ISO 4217 currency codes.
//! - [`account`]: the kinds of brokerage account LocalBroker keeps.
//! - [`instrument`]: tradable instruments, their asset classes and tick rules.
//! - [`order`]: orders' sides, types, times in force and states, and order and execution ids.
//!
//! Nothing here knows IBKR's wire spellings: those live at the server's edge.

pub mod account;
pub mod currency;
pub mod ids;
pub mod instrument;
pub mod order;

pub use account::{AccountKind, MarginKind};
pub use currency::Currency;
pub use ids::{AccountId, Conid, SessionId, Username};
pub use instrument::{AssetClass, Instrument, ShareKind, TickRule};
pub use order::{ExecutionId, OrderId, OrderStatus, OrderType, Side, TimeInForce, Trail};
pub use rust_decimal::Decimal;
