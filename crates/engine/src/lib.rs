//! LocalBroker's deterministic core.
//!
//! # Layout
//! - [`world`]: the users, accounts and entitlements a broker starts with.
//! - [`clock`]: market time: its modes, and how it follows the wall clock.
//! - [`market`]: the control plane's overrides of the simulated market.
//! - [`command`]: every state change, as the journal records it.
//! - [`event`]: what applying a command changed, for replies and subscribers.
//! - [`state`]: the canonical state: users, accounts, login sessions.
//! - [`portfolio`]: an account's cash and holdings valued at the simulated market, with its
//!   figures in the base currency ([`portfolio::balances`]) and the allocation of one or several
//!   accounts in one currency ([`portfolio::allocation`]).
//! - [`statement`]: an account's activity over a period: cash, transfers, positions, trades.
//! - [`reports`]: the figures of statements and analyses, for the surfaces to write out.
//! - [`reply`]: what a command answers its caller, beside its events.
//! - [`orders`]: tickets in, executions out: placement, risk, the book, fills, the order state
//!   machine and its timing.
//! - [`positions`]: positions at average cost, and what a fill does to them.
//! - [`ledger`]: the double-entry ledger; its postings are the engine's own, read through
//!   queries.
//! - [`commissions`]: IBKR Pro's commission plans.
//! - [`interest`]: interest accrued on cash and paid monthly.
//! - [`corporate_actions`]: dividends and splits.
//! - [`funding`]: deposits, withdrawals and transfers without a trade.
//! - [`applications`]: Account Management's applications and account changes.
//! - [`banking`]: Account Management's banking instructions, filed and settled.
//! - [`oauth`]: OAuth 2.0 clients and their access tokens.
//! - [`flex`]: Flex tokens, queries and statement requests.
//! - `fixtures` (for tests, and with the `test-support` feature): worlds and started engines
//!   for tests.
//! - [`Engine`]: applies commands to the state, one at a time, and answers reads.
//!
//! # Invariants
//! - The engine does no I/O, reads no wall clock and draws no unseeded randomness: the time of
//!   a command travels with it, and anything "random" (session ids) is derived from the seed.
//!   Replaying the same journal therefore reproduces the same state, byte for byte, and
//!   [`Engine::digest`] proves it.
//! - A command either applies whole or is rejected with an [`EngineError`] and changes nothing
//!   of its own; market time passing up to its instant acts on working orders either way.

pub mod applications;
pub mod banking;
pub mod clock;
pub mod command;
pub mod commissions;
pub mod corporate_actions;
pub mod event;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod flex;
pub mod funding;
pub mod interest;
pub mod ledger;
pub mod market;
pub mod oauth;
pub mod orders;
pub mod portfolio;
pub mod positions;
pub mod reply;
pub mod reports;
pub mod state;
pub mod statement;
pub mod world;

mod engine;
mod error;
#[cfg(test)]
mod testing;

pub use command::Command;
pub use engine::{Digest, Engine, QuestionRefusal, SNAPSHOT_FORMAT, SnapshotError};
pub use error::EngineError;
pub use event::Event;
pub use jiff::Timestamp;
pub use reply::{Executed, Reply};
